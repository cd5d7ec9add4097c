//! The top-level snapshot and the per-account record of what was collected and what failed.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ApprovalEvent, ApprovalRecord, BucketSettings, IamSnapshot, Pipeline, Trail};

/// Bumped whenever a field changes meaning or a new input changes the answers; readers refuse newer snapshots.
/// Version 2 added the organisation (SCPs, RCPs, accounts) and IAM Identity Center.
pub const SCHEMA_VERSION: u32 = 2;
/// The oldest schema this gateaudit still reads (older snapshots simply lack the newer inputs, which the reports
/// then say were not collected).
pub const OLDEST_READABLE_SCHEMA: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read snapshot {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("snapshot {path} is not valid: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error("snapshot {path} has schema version {found}, this gateaudit reads versions up to {expected}")]
    Schema {
        path: String,
        found: u32,
        expected: u32,
    },
    #[error("cannot write snapshot {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// The audit period: events and executions between `since` (inclusive) and `until` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl Period {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        t >= self.since && t < self.until
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub schema_version: u32,
    pub tool_version: String,
    /// Identifies this run in every report (UTC timestamp plus a short random suffix).
    pub run_id: String,
    pub organisation: String,
    pub collected_at: DateTime<Utc>,
    pub period: Period,
    pub cicd_account: String,
    pub regions: Vec<String>,
    /// Name of the rule set the collection was configured with (checks may be re-run with another).
    pub rule_set: String,
    /// The rule set's TOML text, so that an offline re-run applies exactly the same rules by default.
    #[serde(default)]
    pub rule_set_source: String,
    /// Roles declared in the configuration as deployment roles (besides pipeline service roles).
    #[serde(default)]
    pub declared_deployment_roles: Vec<String>,
    /// The approval-record buckets the configuration named (empty: approval evidence cannot be checked).
    #[serde(default)]
    pub approval_record_buckets: Vec<BucketRef>,
    /// The CloudTrail log-archive buckets the configuration named.
    #[serde(default)]
    pub trail_buckets: Vec<BucketRef>,
    pub accounts: Vec<AccountSnapshot>,
    /// AWS Organizations (accounts, OUs, SCPs, RCPs), when the configuration has `[organization]`.
    #[serde(default)]
    pub organization: Option<super::OrganizationSnapshot>,
    /// IAM Identity Center (permission sets, assignments, identity store), when it was read.
    #[serde(default)]
    pub identity_center: Option<super::IdentityCenterSnapshot>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketRef {
    pub account: String,
    pub bucket: String,
    pub prefix: String,
}

impl Snapshot {
    /// The partition of the audited regions (`aws`, `aws-cn`, `aws-us-gov`): the prefix of the ARNs checks build.
    pub fn partition(&self) -> &'static str {
        super::partition::partition_of(self.regions.first().map_or("us-east-1", String::as_str))
            .name
    }

    pub fn account(&self, id: &str) -> Option<&AccountSnapshot> {
        self.accounts.iter().find(|a| a.account_id == id)
    }

    /// True when every step of every account, of the organisation and of Identity Center succeeded (partial steps
    /// are reported but do not make the snapshot incomplete).
    pub fn is_complete(&self) -> bool {
        self.accounts.iter().all(AccountSnapshot::is_complete)
            && self.global_failed_steps().next().is_none()
    }

    /// Every part of the collection that failed: accounts, and the organisation and Identity Center reads.
    pub fn incomplete_parts(&self) -> Vec<(String, String)> {
        let snapshot = self;
        let mut parts: Vec<(String, String)> = snapshot
            .accounts
            .iter()
            .filter(|a| !a.is_complete())
            .map(|a| {
                let errors: Vec<String> = a
                    .failed_steps()
                    .map(|s| format!("{}: {}", s.step, s.error.as_deref().unwrap_or("failed")))
                    .collect();
                (
                    format!("account {} ({})", a.account_id, a.name),
                    errors.join("; "),
                )
            })
            .collect();
        let mut global: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
        for (part, step) in snapshot.global_failed_steps() {
            global.entry(part).or_default().push(format!(
                "{}: {}",
                step.step,
                step.error.as_deref().unwrap_or("failed")
            ));
        }
        for (part, errors) in global {
            let from = match part {
                "organization" => snapshot.organization.as_ref().map(|o| o.read_from.as_str()),
                _ => snapshot
                    .identity_center
                    .as_ref()
                    .map(|i| i.read_from.as_str()),
            };
            parts.push((
                format!("{part} (read from {})", from.unwrap_or("?")),
                errors.join("; "),
            ));
        }
        parts
    }

    /// Failed steps outside the accounts: Organizations and Identity Center reads, with what they were reading.
    pub fn global_failed_steps(&self) -> impl Iterator<Item = (&'static str, &CollectionStep)> {
        let org = self
            .organization
            .iter()
            .flat_map(|o| o.steps.iter().map(|s| ("organization", s)));
        let ic = self
            .identity_center
            .iter()
            .flat_map(|i| i.steps.iter().map(|s| ("identity-center", s)));
        org.chain(ic)
            .filter(|(_, s)| s.status == StepStatus::Failed)
    }

    pub fn load(path: &Path) -> Result<Snapshot, SnapshotError> {
        let shown = path.display().to_string();
        let text = std::fs::read(path).map_err(|source| SnapshotError::Read {
            path: shown.clone(),
            source,
        })?;
        Snapshot::from_bytes(&text, &shown)
    }

    /// Parses a snapshot read from `shown` (named in errors).
    pub fn from_bytes(text: &[u8], shown: &str) -> Result<Snapshot, SnapshotError> {
        let shown = shown.to_owned();
        // The schema version is read first (serde skips the rest), so another version gets a clear error rather
        // than a confusing field error; then the snapshot is parsed straight into its types.
        #[derive(Deserialize)]
        struct Probe {
            #[serde(default)]
            schema_version: u32,
        }
        let probe: Probe = serde_json::from_slice(text).map_err(|source| SnapshotError::Parse {
            path: shown.clone(),
            source,
        })?;
        if !(OLDEST_READABLE_SCHEMA..=SCHEMA_VERSION).contains(&probe.schema_version) {
            return Err(SnapshotError::Schema {
                path: shown,
                found: probe.schema_version,
                expected: SCHEMA_VERSION,
            });
        }
        serde_json::from_slice(text).map_err(|source| SnapshotError::Parse {
            path: shown,
            source,
        })
    }

    /// Streams the snapshot to `path` (never holding the whole JSON text in memory).
    pub fn save(&self, path: &Path) -> Result<(), SnapshotError> {
        use std::io::Write;
        let error = |source: std::io::Error| SnapshotError::Write {
            path: path.display().to_string(),
            source,
        };
        let file = std::fs::File::create(path).map_err(error)?;
        let mut writer = std::io::BufWriter::new(file);
        serde_json::to_writer_pretty(&mut writer, self)
            .map_err(|e| error(std::io::Error::other(e)))?;
        writer.flush().map_err(error)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Ok,
    Failed,
    /// The step ran but could not cover everything asked of it (e.g. LookupEvents reaches back only 90 days).
    Partial,
}

/// One collection call (or family of calls) for one account and region, with its outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CollectionStep {
    pub step: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub status: StepStatus,
    pub items: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What an `ok` step found that its item count cannot say, e.g. "not configured
    /// (ServerSideEncryptionConfigurationNotFoundError)" for a bucket setting that is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AccountSnapshot {
    pub account_id: String,
    pub name: String,
    pub environment: String,
    /// The role assumed to read the account, or None when the caller's own credentials were used.
    pub role_arn: Option<String>,
    /// The account's OU path in the organisation (e.g. `Root/Workloads/Prod`), when it was discovered there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ou_path: Option<String>,
    /// How the environment was assigned (a configuration entry, an account tag, an OU path or name rule).
    #[serde(default)]
    pub environment_rule: String,
    pub steps: Vec<CollectionStep>,
    pub iam: Option<IamSnapshot>,
    pub trails: Vec<Trail>,
    pub pipelines: Vec<Pipeline>,
    pub approval_events: Vec<ApprovalEvent>,
    pub approval_records: Vec<ApprovalRecord>,
    /// Mutating calls read from the CloudTrail log archive (`crate::trail`), failed attempts included.
    #[serde(default)]
    pub write_events: Vec<super::WriteEvent>,
    /// `sts:AssumeRole` calls recorded in this account (who took which role's session, with the key it got).
    #[serde(default)]
    pub role_sessions: Vec<super::RoleSession>,
    /// Scans of the trail archive buckets this account owns: counts, unreadable evidence, keys, integrity.
    #[serde(default)]
    pub trail_archives: Vec<super::TrailArchiveScan>,
    /// Protection settings of the evidence buckets (trail archive, approval records) this account owns.
    #[serde(default)]
    pub buckets: Vec<BucketSettings>,
    /// Every LookupEvents read: the window asked for and the coverage known (what incremental runs resume from).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lookup_windows: Vec<super::LookupWindow>,
}

impl AccountSnapshot {
    /// An account is complete when no step failed. Partial steps are reported but do not make it incomplete.
    pub fn is_complete(&self) -> bool {
        !self.steps.iter().any(|s| s.status == StepStatus::Failed)
    }

    pub fn failed_steps(&self) -> impl Iterator<Item = &CollectionStep> {
        self.steps.iter().filter(|s| s.status == StepStatus::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads_and_names_a_foreign_schema() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("snapshot.json");
        let now = Utc::now();
        let snapshot = Snapshot {
            schema_version: SCHEMA_VERSION,
            tool_version: "t".into(),
            run_id: "r".into(),
            organisation: "o".into(),
            collected_at: now,
            period: Period {
                since: now,
                until: now,
            },
            cicd_account: "111111111111".into(),
            regions: vec![],
            rule_set: "default".into(),
            rule_set_source: String::new(),
            declared_deployment_roles: vec![],
            approval_record_buckets: vec![],
            trail_buckets: vec![],
            organization: None,
            identity_center: None,
            accounts: vec![AccountSnapshot {
                account_id: "111111111111".into(),
                ..AccountSnapshot::default()
            }],
        };
        snapshot.save(&path).expect("saved");
        let loaded = Snapshot::load(&path).expect("loaded");
        assert_eq!(loaded.accounts[0].account_id, "111111111111");
        let text = std::fs::read_to_string(&path)
            .expect("text")
            .replace("\"schema_version\": 2", "\"schema_version\": 99");
        std::fs::write(&path, text).expect("write");
        let err = Snapshot::load(&path)
            .expect_err("foreign schema")
            .to_string();
        assert!(err.contains("schema version 99"), "{err}");
        std::fs::write(&path, "{\"schema_version\": 1, \"accounts\": 3}").expect("write");
        let err = Snapshot::load(&path).expect_err("damaged").to_string();
        assert!(err.contains("snapshot.json is not valid"), "{err}");
    }
}
