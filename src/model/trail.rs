//! Snapshot types of the CloudTrail log archive: mutating events, unreadable evidence, the public keys the
//! digests were checked with, and the integrity verdict.
//!
//! Plain serde data only: no parsing of archive files and no I/O here (that is `crate::trail`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ApprovalEvent, EventOrigin, RoleSession, UserIdentity};

/// One mutating call (`readOnly: false`, or a write action by the catalog when `readOnly` is absent), failed
/// attempts included.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WriteEvent {
    pub event_id: String,
    pub event_time: DateTime<Utc>,
    pub account_id: String,
    pub region: String,
    /// `eventSource`, e.g. `iam.amazonaws.com`.
    pub source: String,
    /// `eventName`, e.g. `AttachUserPolicy`.
    pub name: String,
    /// CloudTrail's `readOnly`; None when the record did not say (then the catalog classed the action).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    pub identity: UserIdentity,
    /// The person key (`crate::analysis::identity::person_of`) under the rule set used at scan time.
    pub person: String,
    pub origin: EventOrigin,
    /// What the call names (a pipeline, a build project, a bucket, a role or policy), from its requestParameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// The request parameters of calls a check compares (CodePipeline's: an UpdatePipeline's declaration, an
    /// override's stage); None for the others, to keep the snapshot small.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_parameters: Option<serde_json::Value>,
}

/// Whether a CloudTrail record is a data event (`managementEvent: false`, `eventCategory: Data`): an operation
/// on the data in a resource (an S3 object written, a function invoked), not a change to the infrastructure.
/// A record that says neither is a management event (LookupEvents returns only those).
pub fn is_data_event(management_event: Option<bool>, category: Option<&str>) -> bool {
    management_event == Some(false) || category.is_some_and(|c| c.eq_ignore_ascii_case("Data"))
}

/// The resources a mutating call names, and its request parameters when a check needs them whole (CodePipeline
/// calls). Pure: reads CloudTrail's `requestParameters` only.
pub fn call_details(
    source: &str,
    request_parameters: Option<&serde_json::Value>,
) -> (Vec<String>, Option<serde_json::Value>) {
    let Some(params) = request_parameters.filter(|p| p.is_object()) else {
        return (Vec::new(), None);
    };
    let text = |key: &str| {
        params
            .get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let mut resources: Vec<String> = match source {
        "codepipeline.amazonaws.com" => [text("pipelineName"), text("name")]
            .into_iter()
            .flatten()
            .chain(
                params
                    .get("pipeline")
                    .and_then(|p| p.get("name"))
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned),
            )
            .collect(),
        "codebuild.amazonaws.com" => [text("projectName"), text("name")]
            .into_iter()
            .flatten()
            .collect(),
        "s3.amazonaws.com" => [text("bucketName")].into_iter().flatten().collect(),
        "iam.amazonaws.com" => [
            text("roleName"),
            text("policyArn"),
            text("userName"),
            text("groupName"),
        ]
        .into_iter()
        .flatten()
        .collect(),
        "kms.amazonaws.com" => [text("keyId")].into_iter().flatten().collect(),
        _ => Vec::new(),
    };
    resources.sort();
    resources.dedup();
    let keep = (source == "codepipeline.amazonaws.com").then(|| params.clone());
    (resources, keep)
}

/// Evidence that exists but could not be read: a corrupt or truncated file, a file that is not JSON, a record
/// without the expected fields. Never dropped silently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadableEvidence {
    /// `s3://bucket/key` or a local path.
    pub location: String,
    /// The record's `eventID` when the damage is inside one record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Index of the record inside the file's `Records` array, when the damage is inside one record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_index: Option<usize>,
    pub kind: UnreadableKind,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnreadableKind {
    /// Could not be downloaded or read.
    Io,
    /// Truncated or corrupt gzip.
    Gzip,
    /// Decompressed, but not a CloudTrail JSON document (`{"Records": [...]}`).
    Json,
    /// A record without the fields the checks need.
    Record,
}

/// A CloudTrail public key (from `ListPublicKeys`), kept so that a saved archive can be re-verified offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailPublicKey {
    pub region: String,
    /// Hex fingerprint as CloudTrail gives it (digests name their key by it).
    pub fingerprint: String,
    /// DER (PKCS#1 RSAPublicKey), base64.
    pub value_base64: String,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
}

/// The outcome of digest verification over a part of the archive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrityReport {
    pub digests_checked: usize,
    pub digests_valid: usize,
    pub log_files_checked: usize,
    pub log_files_verified: usize,
    pub issues: Vec<IntegrityIssue>,
    /// What the valid digests cover, per chain: the time an auditor can prove nothing was deleted. Gaps (at the
    /// period's edges too) are judged against the period where it is known (`trail::integrity::coverage_gaps`).
    #[serde(default)]
    pub chains: Vec<DigestChain>,
}

/// One trail's digest chain for one account and region, as read: the spans of time its valid digests cover.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestChain {
    /// `[prefix/]AWSLogs/[o-orgid/]<account>/`: where the chain's files are.
    pub root: String,
    pub account_id: String,
    pub region: String,
    /// The trail, from the digest files' names.
    pub trail: String,
    /// Valid digests read.
    pub digests: usize,
    /// `digestStartTime`..`digestEndTime` of the valid digests, merged where they touch, oldest first.
    pub spans: Vec<TimeSpan>,
}

/// A half-open span of time `[from, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeSpan {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl IntegrityReport {
    pub fn is_clean(&self) -> bool {
        self.issues.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrityIssue {
    pub kind: IntegrityIssueKind,
    /// `s3://bucket/key` (or local path) of the file concerned.
    pub location: String,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntegrityIssueKind {
    /// The digest file cannot be read (bad gzip or JSON, missing fields).
    DigestUnreadable,
    /// The digest names another bucket/key than where it was found.
    DigestMoved,
    /// No public key with the digest's fingerprint.
    DigestKeyUnknown,
    /// The RSA-SHA256 signature does not verify (or is missing).
    DigestSignatureInvalid,
    /// A digest's `previousDigest*` does not lead to an intact digest: deleted or altered.
    ChainBroken,
    /// A log file a valid digest lists is not in the archive.
    LogFileMissing,
    /// A log file's SHA-256 differs from the value its digest records.
    LogFileModified,
    /// A log file used as evidence is listed by no digest.
    LogFileNotInDigest,
    /// Part of the period (at its start, its end, or between) is covered by no valid digest: digests and log
    /// files deleted, or the trail not logging.
    CoverageGap,
}

/// How many events of a scan were moved into the snapshot's accounts, and how many of those the accounts already
/// had (the same event id from LookupEvents or another archive: kept once).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedEvents {
    pub approval_events: u64,
    pub write_events: u64,
    pub role_sessions: u64,
    pub already_known: u64,
}

/// What one scan of a trail archive (one bucket, or a local directory) produced, before its events are moved into
/// the accounts they belong to (`crate::trail::distribute`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TrailArchiveScan {
    /// `s3://bucket/prefix` or a local directory.
    pub source: String,
    pub files: usize,
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
    pub records: u64,
    /// Records dropped because another trail delivered the same `eventID`.
    pub duplicates: u64,
    /// What `distribute` moved out of this scan into the snapshot's accounts: after a run the event lists below
    /// hold only events of accounts not in the snapshot, so an empty list there means "moved", not "none found".
    #[serde(default)]
    pub moved: MovedEvents,
    /// Events not yet moved into an account of the snapshot (all of them until `distribute`).
    #[serde(default)]
    pub approval_events: Vec<ApprovalEvent>,
    #[serde(default)]
    pub write_events: Vec<WriteEvent>,
    /// `sts:AssumeRole` calls (who entered which role), moved like the events above.
    #[serde(default)]
    pub role_sessions: Vec<RoleSession>,
    #[serde(default)]
    pub unreadable: Vec<UnreadableEvidence>,
    #[serde(default)]
    pub public_keys: Vec<TrailPublicKey>,
    /// None when no digest files were found (log-file validation off), verification was not asked for, or the
    /// archive was read through Athena (`athena_table`).
    #[serde(default)]
    pub integrity: Option<IntegrityReport>,
    /// `DB.TABLE` when the archive was read through this Athena table: no log file reached this machine, so
    /// no digest could be verified (`integrity` is None without meaning that log-file validation is off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub athena_table: Option<String>,
}
