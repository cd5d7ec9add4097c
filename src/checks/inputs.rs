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
    /// Trail settings (`cloudtrail:DescribeTrails`, `GetTrailStatus`).
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
            if name.starts_with("DescribeTrails") || name.starts_with("GetTrailStatus") =>
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
            if covered_elsewhere(snapshot, account, step, kind) {
                continue;
            }
            out.push(missing(account, kind, step));
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

/// Whether what a partial step could not read was read another way: LookupEvents sees only 90 days, and a trail
/// archive that was read completely (no unreadable file, no integrity issue) and whose valid digests cover every
/// hour of the period for that account and region holds the rest of its events.
fn covered_elsewhere(
    snapshot: &Snapshot,
    account: &AccountSnapshot,
    step: &CollectionStep,
    kind: InputKind,
) -> bool {
    if step.status != StepStatus::Partial
        || !matches!(
            kind,
            InputKind::ApprovalEvents | InputKind::WriteEvents | InputKind::RoleSessions
        )
    {
        return false;
    }
    let Some(region) = &step.region else {
        return false;
    };
    let wanted: std::collections::BTreeSet<(String, String)> =
        [(account.account_id.clone(), region.clone())].into();
    snapshot.accounts.iter().any(|owner| {
        owner.trail_archives.iter().any(|scan| {
            let bucket = super::trail_integrity::scan_bucket(scan);
            let read_ok = owner.steps.iter().any(|s| {
                s.step == format!("s3:trail-archive({bucket})") && s.status == StepStatus::Ok
            });
            read_ok
                && scan.unreadable.is_empty()
                && scan.integrity.as_ref().is_some_and(|report| {
                    report.is_clean()
                        && crate::trail::integrity::coverage_gaps(
                            &report.chains,
                            &wanted,
                            &snapshot.period,
                            snapshot.collected_at,
                        )
                        .is_empty()
                })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
