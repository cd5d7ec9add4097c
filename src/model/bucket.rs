//! The protection settings of an evidence bucket (a CloudTrail log archive or an approval-record bucket): versioning,
//! default encryption, public access block, bucket policy and object lock, each as read by `collect::buckets`.
//!
//! Plain serde data: no AWS SDK types, no I/O, no judgement (the `evidence-hygiene` check decides what is wrong).
//! Every setting says whether it was present, absent (AWS answered "not configured") or unknown (the call failed),
//! so that a failed read is never mistaken for a missing protection, nor the other way round.

use serde::{Deserialize, Serialize};

/// One bucket setting as collected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", content = "value", rename_all = "snake_case")]
pub enum Setting<T> {
    /// The setting is configured; its value.
    Present(T),
    /// AWS answered that the setting is not configured (e.g. `NoSuchBucketPolicy`).
    Absent,
    /// The call failed; the error text. Nothing is known about the setting.
    Unknown(String),
}

impl<T> Setting<T> {
    pub fn present(&self) -> Option<&T> {
        match self {
            Setting::Present(value) => Some(value),
            _ => None,
        }
    }
}

/// `GetBucketVersioning`: `status` is None for a bucket that never had versioning.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versioning {
    pub status: Option<String>,
    pub mfa_delete: Option<String>,
}

impl Versioning {
    pub fn is_enabled(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("Enabled"))
    }
}

/// One rule of `GetBucketEncryption`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptionRule {
    /// `AES256`, `aws:kms` or `aws:kms:dsse`.
    pub algorithm: String,
    pub kms_key_id: Option<String>,
    pub bucket_key_enabled: Option<bool>,
}

/// `GetPublicAccessBlock` (bucket level). A flag AWS did not return is false.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    pub fn blocks_everything(&self) -> bool {
        self.block_public_acls
            && self.ignore_public_acls
            && self.block_public_policy
            && self.restrict_public_buckets
    }

    /// The names of the flags that are off.
    pub fn missing_flags(&self) -> Vec<&'static str> {
        [
            ("BlockPublicAcls", self.block_public_acls),
            ("IgnorePublicAcls", self.ignore_public_acls),
            ("BlockPublicPolicy", self.block_public_policy),
            ("RestrictPublicBuckets", self.restrict_public_buckets),
        ]
        .into_iter()
        .filter(|(_, on)| !on)
        .map(|(name, _)| name)
        .collect()
    }
}

/// `GetObjectLockConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectLock {
    pub enabled: bool,
    /// Default retention mode (`GOVERNANCE` or `COMPLIANCE`), if a default rule is set.
    pub mode: Option<String>,
    pub days: Option<i32>,
    pub years: Option<i32>,
}

/// Everything collected about one evidence bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketSettings {
    pub bucket: String,
    /// The account whose credentials read the bucket (the configured owner).
    pub account_id: String,
    pub versioning: Setting<Versioning>,
    pub encryption: Setting<Vec<EncryptionRule>>,
    pub public_access_block: Setting<PublicAccessBlock>,
    /// The bucket policy document, decoded.
    pub policy: Setting<serde_json::Value>,
    pub object_lock: Setting<ObjectLock>,
    /// The KMS keys the default encryption names (SSE-KMS), with their key policies.
    #[serde(default)]
    pub kms_keys: Vec<KmsKey>,
}

/// A KMS key an evidence bucket is encrypted with (`DescribeKey`, `GetKeyPolicy`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmsKey {
    /// As the bucket's encryption names it (an ARN, a key id or an alias).
    pub key_id: String,
    /// The key's ARN, when DescribeKey answered.
    pub arn: Option<String>,
    /// `AWS` (an AWS managed key, whose policy nobody can change) or `CUSTOMER`.
    pub manager: Option<String>,
    /// The key policy (`default`), decoded.
    pub policy: Setting<serde_json::Value>,
}

impl KmsKey {
    /// The account owning the key (from its ARN).
    pub fn account(&self) -> Option<&str> {
        self.arn.as_deref().and_then(|a| a.split(':').nth(4))
    }
}

impl BucketSettings {
    /// `arn:<partition>:s3:::<bucket>`: how findings name the bucket (the partition is the snapshot's).
    pub fn arn(&self, partition: &str) -> String {
        format!("arn:{partition}:s3:::{}", self.bucket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_json() {
        let settings = BucketSettings {
            bucket: "b".into(),
            account_id: "111111111111".into(),
            versioning: Setting::Present(Versioning {
                status: Some("Enabled".into()),
                mfa_delete: None,
            }),
            encryption: Setting::Absent,
            public_access_block: Setting::Unknown("AccessDenied".into()),
            policy: Setting::Present(serde_json::json!({"Statement": []})),
            object_lock: Setting::Absent,
            kms_keys: vec![],
        };
        let text = serde_json::to_string(&settings).expect("serialises");
        assert!(
            text.contains(r#""encryption":{"state":"absent"}"#),
            "{text}"
        );
        let back: BucketSettings = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, settings);
    }

    #[test]
    fn public_access_block_names_the_missing_flags() {
        let pab = PublicAccessBlock {
            block_public_acls: true,
            ignore_public_acls: true,
            ..PublicAccessBlock::default()
        };
        assert!(!pab.blocks_everything());
        assert_eq!(
            pab.missing_flags(),
            vec!["BlockPublicPolicy", "RestrictPublicBuckets"]
        );
    }
}
