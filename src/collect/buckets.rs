//! Evidence buckets (the CloudTrail archive and the approval-record buckets): their protection settings, read with
//! GetBucketVersioning, GetBucketEncryption, GetPublicAccessBlock, GetBucketPolicy and GetObjectLockConfiguration.
//!
//! Read-only calls only; never reads or lists objects (that is `records` and the trail archive's job). AWS's "not
//! configured" errors (`ServerSideEncryptionConfigurationNotFoundError`, `NoSuchPublicAccessBlockConfiguration`,
//! `NoSuchBucketPolicy`, `ObjectLockConfigurationNotFoundError`) mean the setting is absent, which is a fact for the
//! `evidence-hygiene` check, not a collection failure; any other error is a failed step and an unknown setting.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use super::session::{error_text, AccountClients};
use super::StepLog;
use crate::config::BucketConfig;
use crate::model::{
    BucketSettings, EncryptionRule, KmsKey, ObjectLock, PublicAccessBlock, Setting, Versioning,
};

/// Reads every protection setting of one bucket with the credentials of the account that owns it.
pub async fn collect(
    clients: &AccountClients,
    bucket: &BucketConfig,
    region: &str,
    log: &mut StepLog,
) -> BucketSettings {
    let s3 = clients.s3();
    let name = bucket.bucket.as_str();

    let versioning = outcome(
        s3.get_bucket_versioning().bucket(name).send().await,
        &[],
        &format!("s3:GetBucketVersioning({name})"),
        log,
    )
    .map(|out| Versioning {
        status: out.status().map(|s| s.as_str().to_owned()),
        mfa_delete: out.mfa_delete().map(|m| m.as_str().to_owned()),
    });

    let encryption = outcome(
        s3.get_bucket_encryption().bucket(name).send().await,
        &["ServerSideEncryptionConfigurationNotFoundError"],
        &format!("s3:GetBucketEncryption({name})"),
        log,
    )
    .map(|out| {
        out.server_side_encryption_configuration()
            .map(|c| {
                c.rules()
                    .iter()
                    .filter_map(|rule| {
                        rule.apply_server_side_encryption_by_default()
                            .map(|d| EncryptionRule {
                                algorithm: d.sse_algorithm().as_str().to_owned(),
                                kms_key_id: d.kms_master_key_id().map(str::to_owned),
                                bucket_key_enabled: rule.bucket_key_enabled(),
                            })
                    })
                    .collect::<Vec<EncryptionRule>>()
            })
            .unwrap_or_default()
    });

    let public_access_block = outcome(
        s3.get_public_access_block().bucket(name).send().await,
        &["NoSuchPublicAccessBlockConfiguration"],
        &format!("s3:GetPublicAccessBlock({name})"),
        log,
    )
    .map(|out| {
        let c = out.public_access_block_configuration();
        PublicAccessBlock {
            block_public_acls: c.and_then(|c| c.block_public_acls()).unwrap_or(false),
            ignore_public_acls: c.and_then(|c| c.ignore_public_acls()).unwrap_or(false),
            block_public_policy: c.and_then(|c| c.block_public_policy()).unwrap_or(false),
            restrict_public_buckets: c.and_then(|c| c.restrict_public_buckets()).unwrap_or(false),
        }
    });

    let policy = match outcome(
        s3.get_bucket_policy().bucket(name).send().await,
        &["NoSuchBucketPolicy"],
        &format!("s3:GetBucketPolicy({name})"),
        log,
    ) {
        Setting::Present(out) => match out.policy() {
            // A document that is not JSON is kept as text: the check reports it as unparseable.
            Some(text) => Setting::Present(
                serde_json::from_str(text)
                    .unwrap_or_else(|_| serde_json::Value::String(text.to_owned())),
            ),
            None => Setting::Absent,
        },
        Setting::Absent => Setting::Absent,
        Setting::Unknown(e) => Setting::Unknown(e),
    };

    let object_lock = outcome(
        s3.get_object_lock_configuration().bucket(name).send().await,
        &["ObjectLockConfigurationNotFoundError"],
        &format!("s3:GetObjectLockConfiguration({name})"),
        log,
    )
    .map(|out| {
        let config = out.object_lock_configuration();
        let retention = config
            .and_then(|c| c.rule())
            .and_then(|r| r.default_retention());
        ObjectLock {
            enabled: config
                .and_then(|c| c.object_lock_enabled())
                .is_some_and(|e| e.as_str().eq_ignore_ascii_case("Enabled")),
            mode: retention
                .and_then(|r| r.mode())
                .map(|m| m.as_str().to_owned()),
            days: retention.and_then(|r| r.days()).filter(|d| *d > 0),
            years: retention.and_then(|r| r.years()).filter(|y| *y > 0),
        }
    });

    let mut kms_keys = Vec::new();
    if let Setting::Present(rules) = &encryption {
        for key_id in rules.iter().filter_map(|r| r.kms_key_id.as_deref()) {
            if !kms_keys.iter().any(|k: &KmsKey| k.key_id == key_id) {
                kms_keys.push(kms_key(clients, key_id, region, log).await);
            }
        }
    }

    BucketSettings {
        bucket: bucket.bucket.clone(),
        account_id: bucket.account.clone(),
        versioning,
        encryption,
        public_access_block,
        policy,
        object_lock,
        kms_keys,
    }
}

/// DescribeKey and GetKeyPolicy of a key named by the bucket's encryption (in the key ARN's region, else the
/// bucket's default region).
async fn kms_key(
    clients: &AccountClients,
    key_id: &str,
    region: &str,
    log: &mut StepLog,
) -> KmsKey {
    let key_region = key_id
        .strip_prefix("arn:")
        .and_then(|rest| rest.split(':').nth(2))
        .filter(|r| !r.is_empty())
        .unwrap_or(region);
    let kms = clients.kms(key_region);
    let step = format!("kms:DescribeKey+GetKeyPolicy({key_id})");
    let described = match kms.describe_key().key_id(key_id).send().await {
        Ok(out) => out.key_metadata().cloned(),
        Err(e) => {
            let text = error_text(&e);
            log.failed(&step, Some(key_region), text.clone());
            return KmsKey {
                key_id: key_id.to_owned(),
                arn: None,
                manager: None,
                policy: Setting::Unknown(text),
            };
        }
    };
    let arn = described.as_ref().and_then(|m| m.arn().map(str::to_owned));
    let manager = described
        .as_ref()
        .and_then(|m| m.key_manager().map(|k| k.as_str().to_owned()));
    let policy = match kms
        .get_key_policy()
        .key_id(arn.as_deref().unwrap_or(key_id))
        .policy_name("default")
        .send()
        .await
    {
        Ok(out) => {
            log.ok(&step, Some(key_region), 1);
            Setting::Present(super::decode_policy_document(out.policy().unwrap_or("{}")))
        }
        Err(e) => {
            let text = error_text(&e);
            log.failed(&step, Some(key_region), text.clone());
            Setting::Unknown(text)
        }
    };
    KmsKey {
        key_id: key_id.to_owned(),
        arn,
        manager,
        policy,
    }
}

/// One call's outcome as a setting, logged as one step: an error whose code is in `absent` means "not configured".
fn outcome<O, E, R>(
    result: Result<O, SdkError<E, R>>,
    absent: &[&str],
    step: &str,
    log: &mut StepLog,
) -> Setting<O>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(out) => {
            log.ok(step, None, 1);
            Setting::Present(out)
        }
        Err(e) if e.code().is_some_and(|code| absent.contains(&code)) => {
            let code = e.code().unwrap_or_default();
            log.ok_with_note(step, None, 0, format!("not configured ({code})"));
            Setting::Absent
        }
        Err(e) => {
            let text = error_text(&e);
            log.failed(step, None, text.clone());
            Setting::Unknown(text)
        }
    }
}

trait MapSetting<T> {
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Setting<U>;
}

impl<T> MapSetting<T> for Setting<T> {
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Setting<U> {
        match self {
            Setting::Present(value) => Setting::Present(f(value)),
            Setting::Absent => Setting::Absent,
            Setting::Unknown(e) => Setting::Unknown(e),
        }
    }
}
