//! The approval ledger: one row per PutApprovalResult (approved, rejected or failed), with the identity as
//! recorded and as normalised, the execution and its verdict, and the S3 record. Pure.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::approvals::ApprovalIndex;
use super::changes::Change;

/// One row of the approval ledger: who approved (or rejected) what, when, and why.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerRow {
    pub account_id: String,
    pub account_name: String,
    pub environment: String,
    pub region: String,
    pub pipeline: String,
    /// None when the approval could not be tied to an execution.
    pub execution_id: Option<String>,
    pub stage: String,
    pub action: String,
    /// The identity as CloudTrail recorded it (an ARN).
    pub approver_recorded: String,
    /// The person the identity was normalised to (a stable key).
    pub person: String,
    /// The person's readable name (a user name, a role name).
    pub person_name: String,
    /// Why the identity was normalised that way (e.g. "role ARN: session names ignored").
    pub normalisation: String,
    pub time: DateTime<Utc>,
    /// Approved, Rejected, or the error code of a failed attempt.
    pub status: String,
    pub summary: String,
    pub event_id: String,
    /// The approval record found in S3 for this approval, if any.
    pub record_key: Option<String>,
    /// The verdict on the execution the approval belongs to, as the production-changes table gives it:
    /// "compliant", "not compliant: <why>", "not a production deployment" or "not tied to an execution".
    pub execution_verdict: String,
}

/// One row per approval action, each with the verdict on its execution from `changes` (the production changes
/// of the period).
pub fn rows(index: &ApprovalIndex, changes: &[Change]) -> Vec<LedgerRow> {
    index
        .approvals
        .iter()
        .map(|a| {
            let event = a.event;
            LedgerRow {
                account_id: a.account.account_id.clone(),
                account_name: a.account.name.clone(),
                environment: a.account.environment.clone(),
                region: event.region.clone(),
                pipeline: event.pipeline.clone(),
                execution_id: a.attribution.execution_id().map(str::to_owned),
                stage: event.stage.clone(),
                action: event.action.clone(),
                approver_recorded: event
                    .identity
                    .arn
                    .clone()
                    .or_else(|| event.identity.principal_id.clone())
                    .unwrap_or_default(),
                person: a.person.key.clone(),
                person_name: a.person.name.clone(),
                normalisation: a.person.rule.clone(),
                time: event.event_time,
                status: match &event.error_code {
                    Some(code) => format!("failed: {code}"),
                    None => event.status.clone(),
                },
                summary: event.summary.clone(),
                event_id: event.event_id.clone(),
                record_key: a.record.map(|r| format!("s3://{}/{}", r.bucket, r.key)),
                execution_verdict: execution_verdict(
                    changes,
                    &a.account.account_id,
                    &event.pipeline,
                    a.attribution.execution_id(),
                ),
            }
        })
        .collect()
}

/// What the production-changes table says of the execution `execution_id` of `pipeline` in `account_id`.
fn execution_verdict(
    changes: &[Change],
    account_id: &str,
    pipeline: &str,
    execution_id: Option<&str>,
) -> String {
    let Some(execution_id) = execution_id else {
        return "not tied to an execution".to_owned();
    };
    match changes.iter().find(|c| {
        c.execution_id == execution_id && c.account_id == account_id && c.pipeline == pipeline
    }) {
        None => "not a production deployment".to_owned(),
        Some(c) if c.compliant() => "compliant".to_owned(),
        Some(c) => format!(
            "not compliant: {}",
            c.violations
                .iter()
                .map(|(_, why)| why.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}
