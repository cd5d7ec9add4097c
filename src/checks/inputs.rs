//! What a check reads, and whether it could read all of it: the link between collection steps and check results
//! that keeps "could not prove" from ever showing as "passed".
//!
//! Every check declares the kinds of input it reads ([`Check::inputs`]); [`step_input_kind`] is the one place
//! that says which kind each collection step (`CollectionStep::step`) provides. A step that failed or was partial,
//! of a kind a check reads, in an account the check looks at, makes that check *incomplete* for that account
//! ([`missing_inputs`]); so does a policy the evaluator cannot read, for checks that read IAM. Pure.

use serde::Serialize;

use super::{Check, CheckContext};
use crate::model::{AccountSnapshot, CollectionStep, Snapshot, StepStatus};

/// The kinds of collected input a check can read. New collection steps map to a kind in [`step_input_kind`];
/// new kinds (Organizations policies, Identity Center) are added here, to [`InputKind::ALL`], and to the checks
/// that read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputKind {
    /// Reaching the account at all (`sts:AssumeRole`, `sts:GetCallerIdentity`). Without it nothing else of the
    /// account was read, so every check that looks at the account depends on it; so does any step this module
    /// does not know (never silently ignored).
    AccountAccess,
    /// Users, groups, roles and their policies (`iam:*`).
    Iam,
    /// `PutApprovalResult` events (LookupEvents; the trail archive adds older ones).
    ApprovalEvents,
    /// Mutating events (LookupEvents `ReadOnly=false`; the trail archive adds older ones).
    WriteEvents,
    /// Pipeline definitions, executions and action executions (`codepipeline:*`).
    Pipelines,
    /// The approval-record bucket's objects.
    ApprovalRecords,
    /// Trail settings (`cloudtrail:DescribeTrails`, `GetTrailStatus`, `GetEventSelectors`).
    Trails,
    /// The CloudTrail log archive: log files, digests, public keys.
    TrailArchive,
    /// Protection settings of the evidence buckets (and their KMS keys, and the pipelines' buckets).
    EvidenceBuckets,
    /// `sts:AssumeRole` events: who took which role session (LookupEvents; not read from the archive).
    RoleSessions,
    /// The organisation's SCPs and RCPs (global `organizations:*` steps; an account whose levels could not be
    /// read has answers that ignore them).
    OrganizationPolicies,
    /// IAM Identity Center: permission sets, assignments, the identity store (global steps).
    IdentityCenter,
}

impl InputKind {
    /// Every kind: the conservative declaration of a check that does not say what it reads.
    pub const ALL: &'static [InputKind] = &[
        InputKind::AccountAccess,
        InputKind::Iam,
        InputKind::ApprovalEvents,
        InputKind::WriteEvents,
        InputKind::Pipelines,
        InputKind::ApprovalRecords,
        InputKind::Trails,
        InputKind::TrailArchive,
        InputKind::EvidenceBuckets,
        InputKind::RoleSessions,
        InputKind::OrganizationPolicies,
        InputKind::IdentityCenter,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InputKind::AccountAccess => "account access",
            InputKind::Iam => "IAM",
            InputKind::ApprovalEvents => "approval events",
            InputKind::WriteEvents => "write events",
            InputKind::Pipelines => "pipelines",
            InputKind::ApprovalRecords => "approval records",
            InputKind::Trails => "trails",
            InputKind::TrailArchive => "trail archive",
            InputKind::EvidenceBuckets => "evidence buckets",
            InputKind::RoleSessions => "role sessions",
            InputKind::OrganizationPolicies => "organisation policies",
            InputKind::IdentityCenter => "Identity Center",
        }
    }
}

/// The kind of input a collection step provides, from its name as recorded in the snapshot
/// (`CollectionStep::step`, e.g. `cloudtrail:LookupEvents(PutApprovalResult)`, `iam:GetAccountAuthorizationDetails`,
/// `s3:ListObjectsV2(<bucket>)`). A step this function does not know maps to [`InputKind::AccountAccess`], which
/// every check depends on: an unknown failure makes checks incomplete rather than being ignored.
pub fn step_input_kind(step: &str) -> InputKind {
    let (service, operation) = step.split_once(':').unwrap_or(("", step));
    let name = operation.split('(').next().unwrap_or(operation);
    match service {
        "sts" => InputKind::AccountAccess,
        "iam" => InputKind::Iam,
        "codepipeline" => InputKind::Pipelines,
        "cloudtrail" if operation == "LookupEvents(PutApprovalResult)" => InputKind::ApprovalEvents,
        "cloudtrail" if operation == "LookupEvents(AssumeRole)" => InputKind::RoleSessions,
        "cloudtrail" if name == "LookupEvents" => InputKind::WriteEvents,
        "cloudtrail"
            if name.starts_with("DescribeTrails")
                || name.starts_with("GetTrailStatus")
                || name.starts_with("GetEventSelectors") =>
        {
            InputKind::Trails
        }
        "cloudtrail" if name == "digest-verification" || name == "ListPublicKeys" => {
            InputKind::TrailArchive
        }
        "s3" if name == "trail-archive" => InputKind::TrailArchive,
        "s3" if name == "ListObjectsV2" => InputKind::ApprovalRecords,
        "organizations" => InputKind::OrganizationPolicies,
        "sso-admin" | "identitystore" => InputKind::IdentityCenter,
        "kms" => InputKind::EvidenceBuckets,
        "s3" if matches!(
            name,
            "GetBucketVersioning"
                | "GetBucketEncryption"
                | "GetPublicAccessBlock"
                | "GetBucketPolicy"
                | "GetObjectLockConfiguration"
        ) =>
        {
            InputKind::EvidenceBuckets
        }
        _ => InputKind::AccountAccess,
    }
}

/// One input a check needed and could not (fully) read in one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingInput {
    /// Empty when the gap is not one account's (a snapshot without accounts).
    pub account_id: String,
    pub account_name: String,
    pub kind: InputKind,
    /// The collection step (as recorded), or `policy <source>` for a policy the evaluator cannot read.
    pub step: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `failed`, `partial`, `unevaluable` or `not collected`.
    pub status: String,
    pub detail: String,
}

impl MissingInput {
    /// "444444444444 (prod): cloudtrail:LookupEvents(ReadOnly=false) us-east-1 partial: ...".
    pub fn describe(&self) -> String {
        let account = match (self.account_id.is_empty(), self.account_name.is_empty()) {
            (true, _) => "the snapshot".to_owned(),
            (false, true) => self.account_id.clone(),
            (false, false) => format!("{} ({})", self.account_id, self.account_name),
        };
        let region = self
            .region
            .as_deref()
            .map(|r| format!(" {r}"))
            .unwrap_or_default();
        format!(
            "{account}: {}{region} {}: {}",
            self.step, self.status, self.detail
        )
    }
}

fn step_status(status: StepStatus) -> &'static str {
    match status {
        StepStatus::Ok => "ok",
        StepStatus::Failed => "failed",
        StepStatus::Partial => "partial",
    }
}

fn missing(account: &AccountSnapshot, kind: InputKind, step: &CollectionStep) -> MissingInput {
    MissingInput {
        account_id: account.account_id.clone(),
        account_name: account.name.clone(),
        kind,
        step: step.step.clone(),
        region: step.region.clone(),
        status: step_status(step.status).to_owned(),
        detail: step
            .error
            .clone()
            .unwrap_or_else(|| "did not fully succeed".to_owned()),
    }
}

/// Everything `check` needed and could not fully read, account by account, in the order of the snapshot.
/// Empty means the check saw all its inputs.
pub fn missing_inputs(check: &dyn Check, ctx: &CheckContext) -> Vec<MissingInput> {
    let snapshot = ctx.snapshot;
    let reads = check.inputs();
    let mut out = Vec::new();
    if snapshot.accounts.is_empty() {
        out.push(MissingInput {
            account_id: String::new(),
            account_name: String::new(),
            kind: InputKind::AccountAccess,
            step: "accounts".to_owned(),
            region: None,
            status: "not collected".to_owned(),
            detail: "the snapshot holds no accounts: nothing was audited".to_owned(),
        });
        return out;
    }
    // The pipelines and their approvals live in the CI/CD account: without it, every pipeline check would pass
    // over an empty list.
    let pipeline_inputs = [
        InputKind::Pipelines,
        InputKind::ApprovalEvents,
        InputKind::ApprovalRecords,
    ];
    if !snapshot
        .accounts
        .iter()
        .any(|a| a.account_id == snapshot.cicd_account)
    {
        if let Some(kind) = pipeline_inputs.into_iter().find(|k| reads.contains(k)) {
            out.push(MissingInput {
                account_id: snapshot.cicd_account.clone(),
                account_name: String::new(),
                kind,
                step: "accounts".to_owned(),
                region: None,
                status: "not collected".to_owned(),
                detail: format!(
                    "the CI/CD account {} is not among the audited accounts: its pipelines and approvals were \
                     not read",
                    snapshot.cicd_account
                ),
            });
        }
    }
    for account in snapshot
        .accounts
        .iter()
        .filter(|a| check.looks_at(a, snapshot))
    {
        if account.steps.is_empty() {
            out.push(MissingInput {
                account_id: account.account_id.clone(),
                account_name: account.name.clone(),
                kind: InputKind::AccountAccess,
                step: "collection".to_owned(),
                region: None,
                status: "not collected".to_owned(),
                detail: "no collection step is recorded for this account".to_owned(),
            });
        }
        for step in account.steps.iter().filter(|s| s.status != StepStatus::Ok) {
            let kind = step_input_kind(&step.step);
            if kind != InputKind::AccountAccess && !reads.contains(&kind) {
                continue;
            }
            match covered_elsewhere(snapshot, account, step, kind) {
                Cover::Covered => continue,
                Cover::NotCovered => out.push(missing(account, kind, step)),
                Cover::Excluded(why) => {
                    let mut gap = missing(account, kind, step);
                    gap.detail = format!("{}; {why}", gap.detail);
                    out.push(gap);
                }
            }
        }
        if reads.contains(&InputKind::OrganizationPolicies) {
            for (gap_account, why) in ctx.access.org_policy_gaps() {
                if gap_account == account.account_id {
                    out.push(MissingInput {
                        account_id: account.account_id.clone(),
                        account_name: account.name.clone(),
                        kind: InputKind::OrganizationPolicies,
                        step: "organizations:ListPoliciesForTarget".to_owned(),
                        region: None,
                        status: "failed".to_owned(),
                        detail: format!("the answers ignore organisation policies: {why}"),
                    });
                }
            }
        }
        if reads.contains(&InputKind::IdentityCenter) {
            for (part, step) in snapshot.global_failed_steps() {
                if part == "identity-center" {
                    out.push(missing(account, InputKind::IdentityCenter, step));
                }
            }
        }
        if reads.contains(&InputKind::Iam) {
            for problem in ctx
                .access
                .problems
                .iter()
                .filter(|p| p.account_id == account.account_id)
            {
                out.push(MissingInput {
                    account_id: account.account_id.clone(),
                    account_name: account.name.clone(),
                    kind: InputKind::Iam,
                    step: format!("policy {}", problem.source),
                    region: None,
                    status: "unevaluable".to_owned(),
                    detail: problem.error.clone(),
                });
            }
        }
    }
    out
}

/// Whether what a partial step could not read was read another way.
enum Cover {
    Covered,
    NotCovered,
    /// The archive covers the period in time, but the trails delivering it do not record these events (or
    /// cannot be shown to): why.
    Excluded(String),
}

/// The management events a kind of input is made of: (event source, None for every source; read-only).
fn events_of(kind: InputKind) -> Option<(Option<&'static str>, bool)> {
    match kind {
        InputKind::ApprovalEvents => Some((Some("codepipeline.amazonaws.com"), false)),
        InputKind::WriteEvents => Some((None, false)),
        InputKind::RoleSessions => Some((Some("sts.amazonaws.com"), true)),
        _ => None,
    }
}

/// Why the trails that wrote `chain` into `bucket` do not (provably) record the events, or None when they do.
/// A trail is known by its name (the digest files name it) and bucket; one not among the collected trails, or
/// whose selectors were not read, cannot be shown to record anything.
fn not_recorded_by(
    snapshot: &Snapshot,
    bucket: &str,
    chain: &crate::model::DigestChain,
    (source, read_only): (Option<&str>, bool),
) -> Option<String> {
    use crate::analysis::trail_selectors::{records, Recorded};
    let mut trails: Vec<&crate::model::Trail> = snapshot
        .accounts
        .iter()
        .flat_map(|a| &a.trails)
        .filter(|t| t.name == chain.trail && t.s3_bucket.as_deref() == Some(bucket))
        .collect();
    trails.sort_by(|a, b| a.arn.cmp(&b.arn));
    trails.dedup_by(|a, b| a.arn == b.arn);
    let what = format!(
        "{} management events{}",
        if read_only { "read" } else { "write" },
        source.map(|s| format!(" from {s}")).unwrap_or_default()
    );
    if trails.is_empty() {
        return Some(format!(
            "trail {} delivering to {bucket} is not among the collected trails, so it cannot be shown to record \
             {what}",
            chain.trail
        ));
    }
    let reasons: Vec<String> = trails
        .iter()
        .filter_map(|t| match &t.event_selectors {
            None => Some(format!(
                "the event selectors of trail {} were not read, so it cannot be shown to record {what}",
                t.arn
            )),
            Some(selectors) => match records(selectors, source, read_only) {
                Recorded::Yes => None,
                Recorded::No => Some(format!(
                    "trail {}'s event selectors exclude {what}",
                    t.arn
                )),
                Recorded::CannotTell => Some(format!(
                    "trail {}'s event selectors cannot be shown to record {what}",
                    t.arn
                )),
            },
        })
        .collect();
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

/// LookupEvents sees only 90 days; a trail archive that was read completely (no unreadable file, no integrity
/// issue) and whose valid digests cover every hour of the period for that account and region holds the rest of
/// its events, provided the trails that delivered those digests record these events (their event selectors).
fn covered_elsewhere(
    snapshot: &Snapshot,
    account: &AccountSnapshot,
    step: &CollectionStep,
    kind: InputKind,
) -> Cover {
    if step.status != StepStatus::Partial {
        return Cover::NotCovered;
    }
    let Some(events) = events_of(kind) else {
        return Cover::NotCovered;
    };
    let Some(region) = &step.region else {
        return Cover::NotCovered;
    };
    let wanted: std::collections::BTreeSet<(String, String)> =
        [(account.account_id.clone(), region.clone())].into();
    let mut excluded = Vec::new();
    for owner in &snapshot.accounts {
        for scan in &owner.trail_archives {
            let bucket = super::trail_integrity::scan_bucket(scan);
            let read_ok = owner.steps.iter().any(|s| {
                s.step == format!("s3:trail-archive({bucket})") && s.status == StepStatus::Ok
            });
            let Some(report) = scan.integrity.as_ref() else {
                continue;
            };
            if !read_ok || !scan.unreadable.is_empty() || !report.is_clean() {
                continue;
            }
            let gaps = |chains: &[crate::model::DigestChain]| {
                crate::trail::integrity::coverage_gaps(
                    chains,
                    &wanted,
                    &snapshot.period,
                    snapshot.collected_at,
                )
            };
            if !gaps(&report.chains).is_empty() {
                continue;
            }
            let mut recording = Vec::new();
            for chain in &report.chains {
                if chain.account_id != account.account_id || chain.region != *region {
                    continue;
                }
                match not_recorded_by(snapshot, bucket, chain, events) {
                    None => recording.push(chain.clone()),
                    Some(why) => excluded.push(format!("archive {bucket}: {why}")),
                }
            }
            if gaps(&recording).is_empty() {
                return Cover::Covered;
            }
        }
    }
    if excluded.is_empty() {
        Cover::NotCovered
    } else {
        excluded.sort();
        excluded.dedup();
        Cover::Excluded(format!(
            "the trail archive does not hold them: {}",
            excluded.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_read_of_the_global_services_events_counts_as_missing_write_events() {
        assert_eq!(
            step_input_kind("cloudtrail:LookupEvents(ReadOnly=false, global services)"),
            InputKind::WriteEvents
        );
        assert_eq!(
            step_input_kind("cloudtrail:LookupEvents(AssumeRole)"),
            InputKind::RoleSessions
        );
        assert_eq!(
            step_input_kind("cloudtrail:GetEventSelectors"),
            InputKind::Trails
        );
    }

    #[test]
    fn a_snapshot_without_the_cicd_account_leaves_every_pipeline_check_incomplete() {
        let mut org = crate::checks::testkit::Org::two_person_pipeline();
        let complete = |org: &crate::checks::testkit::Org| {
            let access = crate::analysis::access::AccessModel::new(&org.snapshot, &org.rules);
            let ctx = CheckContext::new(&org.snapshot, &org.rules, &access);
            crate::checks::all()
                .iter()
                .filter(|c| missing_inputs(c.as_ref(), &ctx).is_empty())
                .map(|c| c.id())
                .collect::<Vec<_>>()
        };
        org.account().steps.push(CollectionStep {
            step: "sts:AssumeRole".into(),
            region: None,
            status: StepStatus::Ok,
            items: 1,
            error: None,
            note: None,
        });
        let before = complete(&org);
        assert!(before.contains(&"gate-coverage"), "{before:?}");
        org.snapshot.cicd_account = "999999999999".into();
        let after = complete(&org);
        for check in crate::checks::all() {
            let reads_pipelines = check.inputs().iter().any(|k| {
                matches!(
                    k,
                    InputKind::Pipelines | InputKind::ApprovalEvents | InputKind::ApprovalRecords
                )
            });
            assert_eq!(
                after.contains(&check.id()),
                !reads_pipelines && before.contains(&check.id()),
                "{}",
                check.id()
            );
        }
    }

    /// An account whose LookupEvents reads were partial (the period is older than 90 days) and whose trail `t`
    /// delivers a clean archive covering the whole period, with `selectors` as the trail's event selectors.
    fn archived(selectors: Option<crate::model::EventSelectors>) -> crate::checks::testkit::Org {
        use crate::checks::testkit::ACCOUNT;
        use crate::model::{DigestChain, IntegrityReport, TimeSpan, Trail, TrailArchiveScan};
        use chrono::TimeZone;
        let at = |d: u32| {
            chrono::Utc
                .with_ymd_and_hms(2026, 3, d, 0, 0, 0)
                .single()
                .expect("time")
        };
        let mut org = crate::checks::testkit::Org::two_person_pipeline();
        org.snapshot.period = crate::model::Period {
            since: at(1),
            until: at(3),
        };
        org.snapshot.collected_at = at(5);
        let account = org.account();
        account.trails.push(Trail {
            name: "t".into(),
            arn: format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/t"),
            home_region: "us-east-1".into(),
            s3_bucket: Some("archive".into()),
            is_multi_region: true,
            log_file_validation: true,
            is_logging: Some(true),
            event_selectors: selectors,
            ..Trail::default()
        });
        for (step, status) in [
            ("sts:AssumeRole", StepStatus::Ok),
            ("s3:trail-archive(archive)", StepStatus::Ok),
            (
                "cloudtrail:LookupEvents(ReadOnly=false)",
                StepStatus::Partial,
            ),
            (
                "cloudtrail:LookupEvents(PutApprovalResult)",
                StepStatus::Partial,
            ),
            ("cloudtrail:LookupEvents(AssumeRole)", StepStatus::Partial),
        ] {
            account.steps.push(CollectionStep {
                step: step.into(),
                region: step
                    .contains("LookupEvents")
                    .then(|| "us-east-1".to_owned()),
                status,
                items: 0,
                note: None,
                error: (status == StepStatus::Partial)
                    .then(|| "LookupEvents covers only the last 90 days".to_owned()),
            });
        }
        account.trail_archives.push(TrailArchiveScan {
            source: "s3://archive/".into(),
            integrity: Some(IntegrityReport {
                chains: vec![DigestChain {
                    root: format!("AWSLogs/{ACCOUNT}/"),
                    account_id: ACCOUNT.into(),
                    region: "us-east-1".into(),
                    trail: "t".into(),
                    digests: 48,
                    spans: vec![TimeSpan {
                        from: at(1) - chrono::Duration::hours(1),
                        until: at(4),
                    }],
                }],
                ..IntegrityReport::default()
            }),
            ..TrailArchiveScan::default()
        });
        org
    }

    /// The kinds of event input (approval, write, role-session events) missing for the testkit's account.
    fn missing_event_kinds(org: &crate::checks::testkit::Org) -> Vec<(InputKind, String)> {
        let access = crate::analysis::access::AccessModel::new(&org.snapshot, &org.rules);
        let ctx = CheckContext::new(&org.snapshot, &org.rules, &access);
        let mut out: Vec<(InputKind, String)> = crate::checks::all()
            .iter()
            .flat_map(|c| missing_inputs(c.as_ref(), &ctx))
            .filter(|m| {
                matches!(
                    m.kind,
                    InputKind::ApprovalEvents | InputKind::WriteEvents | InputKind::RoleSessions
                )
            })
            .map(|m| (m.kind, m.detail))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    #[test]
    fn an_archive_covers_lookup_events_only_for_the_events_its_trail_records() {
        use crate::model::{BasicEventSelector, EventSelectors};
        let all = archived(Some(EventSelectors::all_management_events()));
        assert_eq!(missing_event_kinds(&all), vec![]);

        let selector = |rw: &str, include: bool| EventSelectors {
            basic: vec![BasicEventSelector {
                read_write_type: rw.into(),
                include_management_events: include,
                exclude_management_event_sources: vec![],
                data_resources: 0,
            }],
            advanced: vec![],
        };
        // WriteOnly: approvals and writes are in the archive, AssumeRole (a read event) is not.
        let writes = missing_event_kinds(&archived(Some(selector("WriteOnly", true))));
        assert_eq!(writes.len(), 1, "{writes:?}");
        assert_eq!(writes[0].0, InputKind::RoleSessions);
        assert!(
            writes[0].1.contains(
                "trail/t's event selectors exclude read management events from sts.amazonaws.com"
            ),
            "{writes:?}"
        );
        // ReadOnly: the writes and approvals are missing.
        let reads = missing_event_kinds(&archived(Some(selector("ReadOnly", true))));
        let kinds: Vec<InputKind> = reads.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            kinds,
            vec![InputKind::ApprovalEvents, InputKind::WriteEvents],
            "{reads:?}"
        );
        assert!(reads[0].1.contains("from codepipeline.amazonaws.com"));
        // No management events at all, or selectors that were not read: nothing is covered.
        assert_eq!(
            missing_event_kinds(&archived(Some(selector("All", false)))).len(),
            3
        );
        let unread = missing_event_kinds(&archived(None));
        assert_eq!(unread.len(), 3, "{unread:?}");
        assert!(unread[0].1.contains("were not read"), "{unread:?}");
    }

    #[test]
    fn every_collection_step_maps_to_its_kind_and_unknown_steps_to_every_check() {
        for (step, kind) in [
            ("sts:AssumeRole", InputKind::AccountAccess),
            ("sts:GetCallerIdentity", InputKind::AccountAccess),
            ("iam:GetAccountAuthorizationDetails", InputKind::Iam),
            ("iam:GetPolicyVersion", InputKind::Iam),
            ("iam:GetLoginProfile+ListAccessKeys", InputKind::Iam),
            (
                "cloudtrail:LookupEvents(PutApprovalResult)",
                InputKind::ApprovalEvents,
            ),
            (
                "cloudtrail:LookupEvents(ReadOnly=false)",
                InputKind::WriteEvents,
            ),
            ("cloudtrail:DescribeTrails", InputKind::Trails),
            ("cloudtrail:GetEventSelectors", InputKind::Trails),
            (
                "cloudtrail:DescribeTrails+GetTrailStatus",
                InputKind::Trails,
            ),
            ("cloudtrail:digest-verification(b)", InputKind::TrailArchive),
            ("s3:trail-archive(b)", InputKind::TrailArchive),
            ("codepipeline:ListPipelines", InputKind::Pipelines),
            (
                "codepipeline:GetPipeline+Executions(webapp)",
                InputKind::Pipelines,
            ),
            ("s3:ListObjectsV2(records)", InputKind::ApprovalRecords),
            ("s3:GetBucketVersioning(b)", InputKind::EvidenceBuckets),
            ("s3:GetBucketEncryption(b)", InputKind::EvidenceBuckets),
            ("s3:GetPublicAccessBlock(b)", InputKind::EvidenceBuckets),
            ("s3:GetBucketPolicy(b)", InputKind::EvidenceBuckets),
            (
                "s3:GetObjectLockConfiguration(b)",
                InputKind::EvidenceBuckets,
            ),
            (
                "organizations:ListPolicies",
                InputKind::OrganizationPolicies,
            ),
            ("sso-admin:ListInstances", InputKind::IdentityCenter),
            ("identitystore:ListUsers", InputKind::IdentityCenter),
            (
                "cloudtrail:LookupEvents(AssumeRole)",
                InputKind::RoleSessions,
            ),
            (
                "kms:DescribeKey+GetKeyPolicy(k)",
                InputKind::EvidenceBuckets,
            ),
            ("something new", InputKind::AccountAccess),
        ] {
            assert_eq!(step_input_kind(step), kind, "{step}");
        }
    }
}
