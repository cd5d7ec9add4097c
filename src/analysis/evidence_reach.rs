//! Who can destroy the evidence: the principals of every audited account that the IAM evaluator allows to delete
//! objects from an evidence bucket or to weaken it (policy, versioning, lifecycle), across accounts through its
//! bucket policy, and to disable, delete or re-key the KMS key it is encrypted with (a key grants nothing its key
//! policy does not allow, directly or by delegating to the account). SCPs of the caller's account and RCPs of the
//! bucket's or key's account apply. Deployment roles and break-glass identities are left out.
//!
//! Pure: reads the snapshot's bucket settings through the access model.

use super::access::{AccessModel, Principal};
use crate::iam::{Answer, Policy};
use crate::model::{BucketSettings, KmsKey, Setting};
use crate::rules::{matches_any, RuleSet};

/// Actions on a bucket that delete or expose evidence to deletion: (action, object-level).
pub const BUCKET_ACTIONS: &[(&str, bool)] = &[
    ("s3:DeleteObject", true),
    ("s3:DeleteObjectVersion", true),
    ("s3:PutBucketPolicy", false),
    ("s3:DeleteBucketPolicy", false),
    ("s3:PutBucketVersioning", false),
    ("s3:PutLifecycleConfiguration", false),
    ("s3:DeleteBucket", false),
];

/// Actions on a key that make the evidence unreadable or hand the key to someone else.
pub const KEY_ACTIONS: &[&str] = &[
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "kms:PutKeyPolicy",
];

/// One principal that can destroy evidence, and how surely.
#[derive(Debug, Clone)]
pub struct Destroyer<'a> {
    pub principal: &'a Principal,
    pub actions: Vec<String>,
    pub certain: bool,
}

/// Principals of *other* accounts that can delete or weaken the bucket (the bucket's own account is
/// `write-access`'s to report), through the bucket policy. None when the bucket policy could not be read or parsed
/// (the check reports that itself).
pub fn bucket_destroyers<'a>(
    access: &'a AccessModel<'a>,
    rules: &RuleSet,
    settings: &BucketSettings,
) -> Option<Vec<Destroyer<'a>>> {
    let bucket = settings.arn(access.snapshot.partition());
    let policy = match &settings.policy {
        Setting::Present(document) => {
            Some(Policy::parse(&format!("{bucket} bucket policy"), document).ok()?)
        }
        Setting::Absent => None,
        Setting::Unknown(_) => return None,
    };
    let object = format!("{bucket}/*");
    Some(destroyers(access, rules, |p| {
        if p.account_id == settings.account_id {
            return Vec::new();
        }
        BUCKET_ACTIONS
            .iter()
            .map(|(action, object_level)| {
                let resource = if *object_level { &object } else { &bucket };
                (
                    *action,
                    access
                        .evaluate_in(p, action, resource, &settings.account_id, policy.as_ref())
                        .answer(),
                )
            })
            .collect()
    }))
}

/// Principals of any audited account that can disable, delete or re-key a customer managed key. None when the
/// key policy is unknown, the key's account is not known, or the key is AWS managed (nobody can).
pub fn key_destroyers<'a>(
    access: &'a AccessModel<'a>,
    rules: &RuleSet,
    key: &KmsKey,
) -> Option<Vec<Destroyer<'a>>> {
    if key.manager.as_deref() == Some("AWS") {
        return Some(Vec::new());
    }
    let (Setting::Present(document), Some(arn), Some(account)) =
        (&key.policy, key.arn.as_deref(), key.account())
    else {
        return None;
    };
    let policy = Policy::parse(&format!("{arn} key policy"), document).ok()?;
    Some(destroyers(access, rules, |p| {
        KEY_ACTIONS
            .iter()
            .map(|action| {
                (
                    *action,
                    access
                        .evaluate_in(p, action, arn, account, Some(&policy))
                        .answer(),
                )
            })
            .collect()
    }))
}

fn destroyers<'a>(
    access: &'a AccessModel<'a>,
    rules: &RuleSet,
    answers: impl Fn(&Principal) -> Vec<(&'static str, Answer)>,
) -> Vec<Destroyer<'a>> {
    access
        .principals
        .iter()
        .filter(|p| {
            !access.is_deployment_role(p) && !matches_any(&rules.write_access.break_glass, &p.arn)
        })
        .filter_map(|p| {
            let allowed: Vec<(&str, Answer)> = answers(p)
                .into_iter()
                .filter(|(_, a)| *a != Answer::No)
                .collect();
            if allowed.is_empty() {
                return None;
            }
            Some(Destroyer {
                principal: p,
                certain: allowed.iter().any(|(_, a)| *a == Answer::Yes),
                actions: allowed.iter().map(|(a, _)| (*a).to_owned()).collect(),
            })
        })
        .collect()
}
