//! The approval ledger: one row per PutApprovalResult (approved, rejected or failed), with the identity as
//! recorded and as normalised, the execution and the S3 record. Pure.

use crate::approvals::ApprovalIndex;
use crate::report::LedgerRow;

pub fn rows(index: &ApprovalIndex) -> Vec<LedgerRow> {
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
                normalisation: a.person.rule.clone(),
                time: event.event_time,
                status: match &event.error_code {
                    Some(code) => format!("failed: {code}"),
                    None => event.status.clone(),
                },
                summary: event.summary.clone(),
                event_id: event.event_id.clone(),
                record_key: a.record.map(|r| format!("s3://{}/{}", r.bucket, r.key)),
            }
        })
        .collect()
}
