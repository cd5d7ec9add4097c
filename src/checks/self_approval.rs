//! self-approval: the person who started or re-ran an execution (StartPipelineExecution, RetryStageExecution,
//! RollbackStage, OverrideStageCondition) must not approve it. Approvers are taken from CloudTrail (the approval
//! index) and from the action executions' `updatedBy`, both normalised to people like every other check.
//!
//! Reads the snapshot through the shared views; must not do I/O.

use std::collections::BTreeMap;

use super::{
    Check, CheckContext, InputKind, ISO_SEGREGATION, NIST_AC5, NIST_CM3, PCI_CHANGE, SOC2_CHANGE,
};
use crate::analysis::execution_actors::{self, Actor};
use crate::model::{Evidence, Finding, Severity};

pub struct SelfApproval;

impl Check for SelfApproval {
    fn id(&self) -> &'static str {
        "self-approval"
    }
    fn title(&self) -> &'static str {
        "Nobody approves an execution they started, retried, rolled back or let through"
    }
    fn description(&self) -> &'static str {
        "For every execution of the period, the people who started it (its trigger), retried one of its stages, \
         rolled back into it or overrode one of its stage conditions are compared with its approvers (from \
         CloudTrail and from the action executions' updatedBy), all normalised to people. A person on both sides \
         approved their own change."
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
            InputKind::WriteEvents,
            InputKind::IdentityCenter,
        ]
    }

    fn run(&self, ctx: &CheckContext) -> Vec<Finding> {
        let mut findings = Vec::new();
        for account in &ctx.snapshot.accounts {
            for pipeline in &account.pipelines {
                for execution in &pipeline.executions {
                    let actors =
                        execution_actors::actors(&ctx.people, account, pipeline, execution);
                    if actors.is_empty() {
                        continue;
                    }
                    // person key -> (approved actions, evidence)
                    let mut approvers: BTreeMap<String, Vec<(String, Evidence)>> = BTreeMap::new();
                    for approval in ctx.approvals.approvals.iter().filter(|a| {
                        a.event.is_approval()
                            && a.account.account_id == account.account_id
                            && a.event.pipeline == pipeline.name
                            && a.attribution.execution_id() == Some(execution.id.as_str())
                    }) {
                        approvers
                            .entry(approval.person.key.clone())
                            .or_default()
                            .push((
                                format!("{}/{}", approval.event.stage, approval.event.action),
                                Evidence::new(
                                    "cloudtrail-event",
                                    &approval.event.event_id,
                                    "PutApprovalResult",
                                ),
                            ));
                    }
                    for action in pipeline.action_executions.iter().filter(|a| {
                        a.pipeline_execution_id == execution.id
                            && a.category.as_deref() == Some("Approval")
                            && a.status.eq_ignore_ascii_case("Succeeded")
                    }) {
                        if let Some(by) = &action.updated_by {
                            approvers
                                .entry(ctx.people.person_of_arn(by).key)
                                .or_default()
                                .push((
                                    format!("{}/{}", action.stage, action.action),
                                    Evidence::new(
                                        "action-execution",
                                        &action.action_execution_id,
                                        format!("updatedBy {by}"),
                                    ),
                                ));
                        }
                    }
                    let mut by_person: BTreeMap<&str, Vec<&Actor>> = BTreeMap::new();
                    for actor in &actors {
                        by_person
                            .entry(actor.person.key.as_str())
                            .or_default()
                            .push(actor);
                    }
                    for (person, acts) in by_person {
                        let Some(approved) = approvers.get(person) else {
                            continue;
                        };
                        let mut gates: Vec<&str> =
                            approved.iter().map(|(g, _)| g.as_str()).collect();
                        gates.sort_unstable();
                        gates.dedup();
                        let mut did: Vec<&str> = acts.iter().map(|a| a.act.as_str()).collect();
                        did.sort_unstable();
                        did.dedup();
                        let mut evidence: Vec<Evidence> =
                            acts.iter().map(|a| a.evidence.clone()).collect();
                        evidence.extend(approved.iter().map(|(_, e)| e.clone()));
                        findings.push(Finding {
                            check_id: self.id().to_owned(),
                            severity: Severity::High,
                            account_id: account.account_id.clone(),
                            subject: format!("{}/{}", pipeline.name, execution.id),
                            principal: Some(person.to_owned()),
                            message: format!(
                                "{} {} execution {} of {} and approved it ({})",
                                acts[0].person.name,
                                did.join(" and "),
                                execution.id,
                                pipeline.name,
                                gates.join(", ")
                            ),
                            evidence,
                            waiver: None,
                        });
                    }
                }
            }
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{user, Org};

    fn org_started_by(starter: &str) -> Org {
        let mut org = Org::two_person_pipeline();
        let id = org.execution("ex-1");
        if let Some(e) = org.account().pipelines[0]
            .executions
            .iter_mut()
            .find(|e| e.id == id)
        {
            e.trigger_detail = format!("arn:aws:iam::111111111111:user/{starter}");
        }
        org.approve(
            &id,
            "ProdGate",
            "ApprovalA",
            user("alice"),
            "CHG-1 reviewed",
        );
        org.approve(
            &id,
            "ProdGate",
            "ApprovalB",
            user("bob"),
            "CHG-1 second review",
        );
        org
    }

    #[test]
    fn the_starter_approving_is_reported_and_another_starter_passes() {
        let findings = org_started_by("alice").run(&SelfApproval);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(
            findings[0].principal.as_deref(),
            Some("arn:aws:iam::111111111111:user/alice")
        );
        assert!(
            findings[0].message.contains("started execution ex-1"),
            "{}",
            findings[0].message
        );
        assert!(findings[0].message.contains("ProdGate/ApprovalA"));
        assert!(org_started_by("carol").run(&SelfApproval).is_empty());
    }

    #[test]
    fn an_override_by_an_approver_is_reported() {
        let mut org = org_started_by("carol");
        org.account().pipelines[0]
            .rule_executions
            .push(crate::model::RuleExecution {
                pipeline_execution_id: "ex-1".into(),
                rule_execution_id: "re-1".into(),
                stage: "DeployProd".into(),
                rule: "ChangeWindow".into(),
                status: "Overridden".into(),
                updated_by: Some("arn:aws:iam::111111111111:user/bob".into()),
                ..crate::model::RuleExecution::default()
            });
        let findings = org.run(&SelfApproval);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(
            findings[0].principal.as_deref(),
            Some("arn:aws:iam::111111111111:user/bob")
        );
        assert!(findings[0].message.contains("overrode a stage condition"));
    }
}
