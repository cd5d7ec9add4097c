//! distinct-approvers: within one pipeline execution, no person approves more than one approval action, and no
//! one approves the same action twice. Rejections are evidence, not violations. Approvals that cannot be tied to
//! an execution are reported as unattributed.

use std::collections::BTreeMap;

use super::{
    Check, CheckContext, InputKind, ISO_SEGREGATION, NIST_AC5, NIST_CM3, PCI_CHANGE, SOC2_CHANGE,
};
use crate::analysis::approvals::{Approval, Attribution};
use crate::model::{Evidence, Finding, Severity};

pub struct DistinctApprovers;

/// (account, region, pipeline, execution id)
type ExecutionKey<'a> = (&'a str, &'a str, &'a str, &'a str);
/// person key -> that person's approvals
type ApprovalsByPerson<'a> = BTreeMap<&'a str, Vec<&'a Approval<'a>>>;

impl Check for DistinctApprovers {
    fn id(&self) -> &'static str {
        "distinct-approvers"
    }
    fn title(&self) -> &'static str {
        "Each pipeline execution is approved by distinct people"
    }
    fn description(&self) -> &'static str {
        "Every PutApprovalResult in CloudTrail is tied to its pipeline execution and normalised to a person \
         (session names, IAM Identity Center and sourceIdentity cannot make one person look like two). \
         No person may approve more than one approval action of an execution, nor the same action twice."
    }
    fn severity(&self) -> Severity {
        Severity::High
    }
    fn references(&self) -> &'static [&'static str] {
        &[SOC2_CHANGE, ISO_SEGREGATION, NIST_AC5, NIST_CM3, PCI_CHANGE]
    }
    fn inputs(&self) -> &'static [InputKind] {
        &[
            InputKind::ApprovalEvents,
            InputKind::Pipelines,
            InputKind::IdentityCenter,
        ]
    }

    fn run(&self, ctx: &CheckContext) -> Vec<Finding> {
        let mut findings = Vec::new();
        let mut by_execution: BTreeMap<ExecutionKey, ApprovalsByPerson> = BTreeMap::new();
        for approval in ctx
            .approvals
            .approvals
            .iter()
            .filter(|a| a.event.is_approval())
        {
            let event = approval.event;
            match &approval.attribution {
                Attribution::Unattributed => findings.push(Finding {
                    check_id: self.id().to_owned(),
                    severity: Severity::Medium,
                    account_id: approval.account.account_id.clone(),
                    subject: format!("{}/{}/{}", event.pipeline, event.stage, event.action),
                    principal: Some(approval.person.key.clone()),
                    message: format!(
                        "approval at {} cannot be tied to a pipeline execution (no matching action execution \
                         history), so distinct approvers cannot be proven for it",
                        event.event_time.to_rfc3339()
                    ),
                    evidence: vec![Evidence::new("cloudtrail-event", &event.event_id, "PutApprovalResult")],
                    waiver: None,
                }),
                attributed => {
                    let execution = attributed.execution_id().unwrap_or_default();
                    by_execution
                        .entry((&approval.account.account_id, &event.region, &event.pipeline, execution))
                        .or_default()
                        .entry(&approval.person.key)
                        .or_default()
                        .push(approval);
                }
            }
        }
        for ((account, _region, pipeline, execution), people) in by_execution {
            for (person, approvals) in people {
                if approvals.len() < 2 {
                    continue;
                }
                let mut actions: Vec<String> = approvals
                    .iter()
                    .map(|a| format!("{}/{}", a.event.stage, a.event.action))
                    .collect();
                actions.sort();
                let repeated = actions.windows(2).any(|w| w[0] == w[1]);
                actions.dedup();
                let identities: Vec<String> = {
                    let mut ids: Vec<String> = approvals
                        .iter()
                        .filter_map(|a| a.event.identity.arn.clone())
                        .collect();
                    ids.sort();
                    ids.dedup();
                    ids
                };
                let what = if repeated && actions.len() == 1 {
                    format!(
                        "approved the same action {} {} times",
                        actions[0],
                        approvals.len()
                    )
                } else {
                    format!(
                        "approved {} approval actions ({})",
                        actions.len(),
                        actions.join(", ")
                    )
                };
                findings.push(Finding {
                    check_id: self.id().to_owned(),
                    severity: Severity::High,
                    account_id: account.to_owned(),
                    subject: format!("{pipeline}/{execution}"),
                    principal: Some(person.to_owned()),
                    message: format!(
                        "one person {what} of execution {execution}; recorded as {} ({})",
                        identities.join(" and "),
                        approvals[0].person.rule
                    ),
                    evidence: approvals
                        .iter()
                        .map(|a| {
                            Evidence::new(
                                "cloudtrail-event",
                                &a.event.event_id,
                                format!(
                                    "{}/{} {} by {} at {}",
                                    a.event.stage,
                                    a.event.action,
                                    a.event.status,
                                    a.event.identity.arn.as_deref().unwrap_or("?"),
                                    a.event.event_time.to_rfc3339()
                                ),
                            )
                        })
                        .collect(),
                    waiver: None,
                });
            }
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{approval_event, role_session, user, Org};

    #[test]
    fn one_role_under_two_session_names_approving_both_gates_is_a_violation() {
        let mut org = Org::two_person_pipeline();
        let exec = org.execution("e-1");
        org.approve(
            &exec,
            "ProdGate",
            "ApprovalA",
            role_session("ReleaseManager", "rm-alice"),
            "CHG-1 reviewed",
        );
        org.approve(
            &exec,
            "ProdGate",
            "ApprovalB",
            role_session("ReleaseManager", "rm-alice-2"),
            "CHG-1 reviewed",
        );
        let findings = org.run(&DistinctApprovers);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(
            findings[0].principal.as_deref(),
            Some("arn:aws:iam::111111111111:role/ReleaseManager")
        );
        assert_eq!(findings[0].subject, "webapp/e-1");
        assert_eq!(findings[0].evidence.len(), 2);
    }

    #[test]
    fn two_people_pass_and_rejections_are_not_violations() {
        let mut org = Org::two_person_pipeline();
        let exec = org.execution("e-1");
        org.approve(
            &exec,
            "ProdGate",
            "ApprovalA",
            user("alice"),
            "CHG-1 reviewed",
        );
        org.approve(
            &exec,
            "ProdGate",
            "ApprovalB",
            user("bob"),
            "CHG-1 reviewed",
        );
        let exec2 = org.execution("e-2");
        org.reject(&exec2, "ProdGate", "ApprovalA", user("alice"), "tests red");
        org.reject(&exec2, "ProdGate", "ApprovalB", user("alice"), "tests red");
        assert!(org.run(&DistinctApprovers).is_empty());
    }

    #[test]
    fn same_action_approved_twice_after_a_retry_is_a_violation() {
        let mut org = Org::two_person_pipeline();
        let exec = org.execution("e-1");
        org.approve(&exec, "ProdGate", "ApprovalA", user("alice"), "first");
        org.approve(&exec, "ProdGate", "ApprovalA", user("alice"), "after retry");
        let findings = org.run(&DistinctApprovers);
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0].message.contains("same action"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn approvals_without_execution_history_are_unattributed() {
        let mut org = Org::two_person_pipeline();
        org.push_event(approval_event(
            "ProdGate",
            "ApprovalA",
            user("alice"),
            "Approved",
            "x",
            "2026-01-01T10:00:00Z",
        ));
        let findings = org.run(&DistinctApprovers);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Medium);
        assert!(findings[0].message.contains("cannot be tied"));
    }
}
