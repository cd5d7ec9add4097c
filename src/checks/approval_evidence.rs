//! approval-evidence: every CloudTrail approval has its record in the approval-record bucket and every record has
//! its CloudTrail approval; approvals whose summary explains nothing ("ok", "approve") are flagged, because
//! auditors ask *why*.

use super::{Check, CheckContext, InputKind, ISO_CHANGE, NIST_CM3, PCI_CHANGE, SOC2_CHANGE};
use crate::model::{Evidence, Finding, Severity};

pub struct ApprovalEvidence;

impl Check for ApprovalEvidence {
    fn id(&self) -> &'static str {
        "approval-evidence"
    }
    fn title(&self) -> &'static str {
        "Every approval is recorded, with a reason"
    }
    fn description(&self) -> &'static str {
        "Each successful PutApprovalResult in CloudTrail must have its record in the approval-record bucket \
         (PipelineApprovalGateActions/<pipeline>/YYYY/MM/DD/<gate>-<STATUS>-<time>.txt) and each record its \
         CloudTrail event; each approval must carry a summary that explains the decision."
    }
    fn severity(&self) -> Severity {
        Severity::High
    }
    fn references(&self) -> &'static [&'static str] {
        &[SOC2_CHANGE, ISO_CHANGE, NIST_CM3, PCI_CHANGE]
    }

    fn inputs(&self) -> &'static [InputKind] {
        &[
            InputKind::ApprovalEvents,
            InputKind::ApprovalRecords,
            InputKind::Pipelines,
        ]
    }

    fn run(&self, ctx: &CheckContext) -> Vec<Finding> {
        let mut findings = Vec::new();
        let have_buckets = !ctx.snapshot.approval_record_buckets.is_empty();
        if !have_buckets {
            findings.push(Finding {
                check_id: self.id().to_owned(),
                severity: Severity::Medium,
                account_id: ctx.snapshot.cicd_account.clone(),
                subject: "approval-record bucket".to_owned(),
                principal: None,
                message: "no approval-record bucket is configured, so approvals cannot be matched to their records"
                    .to_owned(),
                evidence: vec![],
                waiver: None,
            });
        }
        let trivial = &ctx.rules.approvals.trivial_summaries;
        for approval in ctx
            .approvals
            .approvals
            .iter()
            .filter(|a| a.event.succeeded())
        {
            let event = approval.event;
            let execution = approval
                .attribution
                .execution_id()
                .unwrap_or("unattributed");
            let subject = format!(
                "{}/{}/{}/{}",
                event.pipeline, execution, event.stage, event.action
            );
            if have_buckets && approval.record.is_none() {
                findings.push(Finding {
                    check_id: self.id().to_owned(),
                    severity: Severity::High,
                    account_id: approval.account.account_id.clone(),
                    subject: subject.clone(),
                    principal: Some(approval.person.key.clone()),
                    message: format!(
                        "{} at {} by {} has no record in the approval-record bucket",
                        event.status,
                        event.event_time.to_rfc3339(),
                        event.identity.arn.as_deref().unwrap_or("?")
                    ),
                    evidence: vec![Evidence::new(
                        "cloudtrail-event",
                        &event.event_id,
                        "PutApprovalResult",
                    )],
                    waiver: None,
                });
            }
            let summary = event.summary.trim().to_lowercase();
            if trivial
                .iter()
                .any(|t| t.trim().eq_ignore_ascii_case(&summary))
            {
                findings.push(Finding {
                    check_id: self.id().to_owned(),
                    severity: Severity::Low,
                    account_id: approval.account.account_id.clone(),
                    subject,
                    principal: Some(approval.person.key.clone()),
                    message: format!(
                        "{} with a summary that explains nothing: {:?}",
                        event.status, event.summary
                    ),
                    evidence: vec![Evidence::new(
                        "cloudtrail-event",
                        &event.event_id,
                        "PutApprovalResult",
                    )],
                    waiver: None,
                });
            }
        }
        for record in &ctx.approvals.orphan_records {
            let account = ctx
                .snapshot
                .approval_record_buckets
                .iter()
                .find(|b| b.bucket == record.bucket)
                .map(|b| b.account.clone())
                .unwrap_or_default();
            let (severity, message) = match &record.parsed {
                Some(k) => (
                    Severity::High,
                    format!(
                        "record of a {} of {}/{} at {} has no matching PutApprovalResult in CloudTrail",
                        k.status,
                        k.pipeline,
                        k.gate,
                        k.time.to_rfc3339()
                    ),
                ),
                None => (Severity::Low, "object in the approval-record bucket does not follow the record layout".to_owned()),
            };
            findings.push(Finding {
                check_id: self.id().to_owned(),
                severity,
                account_id: account,
                subject: format!("s3://{}/{}", record.bucket, record.key),
                principal: None,
                message,
                evidence: vec![Evidence::new(
                    "s3-object",
                    format!("s3://{}/{}", record.bucket, record.key),
                    "",
                )],
                waiver: None,
            });
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{user, Org, ACCOUNT};
    use crate::model::{ApprovalRecord, ApprovalRecordKey, BucketRef};

    fn with_bucket() -> Org {
        let mut org = Org::two_person_pipeline();
        org.snapshot.approval_record_buckets = vec![BucketRef {
            account: ACCOUNT.into(),
            bucket: "records".into(),
            prefix: "P/".into(),
        }];
        org
    }

    fn record_for(org: &mut Org, status: &str) {
        let e = org.last_event().clone();
        let key = format!(
            "P/{}/{}/{}-{}-{}.txt",
            e.pipeline,
            e.event_time.format("%Y/%m/%d"),
            e.action,
            status,
            e.event_time.format("%I:%M:%S-%p")
        );
        org.account().approval_records.push(ApprovalRecord {
            bucket: "records".into(),
            key,
            size: 10,
            last_modified: None,
            parsed: Some(ApprovalRecordKey {
                pipeline: e.pipeline.clone(),
                gate: e.action.clone(),
                status: status.into(),
                time: e.event_time,
            }),
        });
    }

    #[test]
    fn recorded_and_explained_approvals_pass() {
        let mut org = with_bucket();
        let exec = org.execution("e-1");
        org.approve(
            &exec,
            "ProdGate",
            "ApprovalA",
            user("alice"),
            "CHG-1 reviewed, tests green",
        );
        record_for(&mut org, "APPROVED");
        org.reject(
            &exec,
            "ProdGate",
            "ApprovalB",
            user("bob"),
            "load test failed",
        );
        record_for(&mut org, "REJECTED");
        assert!(org.run(&ApprovalEvidence).is_empty());
    }

    #[test]
    fn missing_record_and_orphan_record_and_trivial_summary_are_found() {
        let mut org = with_bucket();
        let exec = org.execution("e-1");
        org.approve(&exec, "ProdGate", "ApprovalA", user("alice"), "ok");
        record_for(&mut org, "APPROVED");
        org.approve(
            &exec,
            "ProdGate",
            "ApprovalB",
            user("bob"),
            "CHG-1 reviewed",
        );
        // bob's record is missing; an extra record claims a rejection nobody made.
        record_for(&mut org, "REJECTED");
        let findings = org.run(&ApprovalEvidence);
        let missing: Vec<_> = findings
            .iter()
            .filter(|f| f.message.contains("has no record"))
            .collect();
        assert_eq!(missing.len(), 1, "{findings:#?}");
        assert_eq!(missing[0].subject, "webapp/e-1/ProdGate/ApprovalB");
        assert_eq!(
            missing[0].principal.as_deref(),
            Some("arn:aws:iam::111111111111:user/bob")
        );
        assert!(findings
            .iter()
            .any(|f| f.message.contains("no matching PutApprovalResult")));
        let trivial: Vec<_> = findings
            .iter()
            .filter(|f| f.message.contains("explains nothing"))
            .collect();
        assert_eq!(trivial.len(), 1);
        assert_eq!(trivial[0].severity, Severity::Low);
    }

    #[test]
    fn without_a_bucket_the_gap_itself_is_reported() {
        let mut org = Org::two_person_pipeline();
        let exec = org.execution("e-1");
        org.approve(
            &exec,
            "ProdGate",
            "ApprovalA",
            user("alice"),
            "CHG-1 reviewed",
        );
        let findings = org.run(&ApprovalEvidence);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("no approval-record bucket"));
    }
}
