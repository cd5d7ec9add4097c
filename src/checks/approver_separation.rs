//! approver-separation: for every stage with two or more manual approval actions (or a stage the rule set marks
//! as two-person), no principal or group may be allowed to approve more than one of them. Uses the IAM evaluator
//! on `codepipeline:PutApprovalResult` with the action's ARN `arn:aws:codepipeline:<region>:<acct>:<p>/<s>/<a>`.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    unevaluable_policies, Check, CheckContext, InputKind, ISO_SEGREGATION, NIST_AC5, PCI_CHANGE,
    SOC2_ACCESS, SOC2_CHANGE,
};
use crate::analysis::access::{Grant, PrincipalType};
use crate::iam::Answer;
use crate::model::{Evidence, Finding, Severity};
use crate::rules::matches_any;

pub struct ApproverSeparation;

const APPROVE: &str = "codepipeline:PutApprovalResult";

impl Check for ApproverSeparation {
    fn id(&self) -> &'static str {
        "approver-separation"
    }
    fn title(&self) -> &'static str {
        "No one may approve both gates of a two-person stage"
    }
    fn description(&self) -> &'static str {
        "For every stage with two or more manual approval actions, the IAM policies of every user (with its \
         groups) and role are evaluated for codepipeline:PutApprovalResult on each action. A principal or group \
         allowed (or possibly allowed, depending on request conditions) to approve two actions of one stage \
         defeats the two-person rule."
    }
    fn severity(&self) -> Severity {
        Severity::High
    }
    fn references(&self) -> &'static [&'static str] {
        &[
            SOC2_CHANGE,
            SOC2_ACCESS,
            ISO_SEGREGATION,
            NIST_AC5,
            PCI_CHANGE,
        ]
    }
    fn inputs(&self) -> &'static [InputKind] {
        &[
            InputKind::Iam,
            InputKind::Pipelines,
            InputKind::OrganizationPolicies,
        ]
    }

    fn run(&self, ctx: &CheckContext) -> Vec<Finding> {
        let mut findings = unevaluable_policies(self.id(), ctx, "who may approve");
        for account in &ctx.snapshot.accounts {
            for pipeline in &account.pipelines {
                for stage in &pipeline.stages {
                    let actions: Vec<&str> =
                        stage.approval_actions().map(|a| a.name.as_str()).collect();
                    let marked = matches_any(
                        &ctx.rules.approvals.two_person_stages,
                        &format!("{}/{}", pipeline.name, stage.name),
                    );
                    if actions.len() < 2 {
                        if marked {
                            findings.push(Finding {
                                check_id: self.id().to_owned(),
                                severity: Severity::High,
                                account_id: account.account_id.clone(),
                                subject: format!("{}/{}", pipeline.name, stage.name),
                                principal: None,
                                message: format!(
                                    "the rule set requires a two-person gate, but the stage has {} manual approval action(s)",
                                    actions.len()
                                ),
                                evidence: vec![Evidence::new("pipeline", format!("{}@v{}", pipeline.name, pipeline.version), "")],
                                waiver: None,
                            });
                        }
                        continue;
                    }
                    // principal ARN -> action -> grant
                    let mut by_principal: BTreeMap<String, BTreeMap<&str, Grant>> = BTreeMap::new();
                    for action in &actions {
                        let arn = pipeline.action_arn(&stage.name, action);
                        for grant in ctx.access.who_can(&account.account_id, APPROVE, &arn) {
                            by_principal
                                .entry(grant.principal.arn.clone())
                                .or_default()
                                .insert(action, grant);
                        }
                    }
                    let subject = format!("{}/{}", pipeline.name, stage.name);
                    findings.extend(self.group_findings(
                        &by_principal,
                        &account.account_id,
                        &subject,
                    ));
                    for (arn, grants) in &by_principal {
                        if grants.len() < 2 {
                            continue;
                        }
                        findings.push(self.finding(&account.account_id, &subject, arn, grants));
                    }
                }
            }
        }
        findings
    }
}

impl ApproverSeparation {
    fn finding(
        &self,
        account: &str,
        subject: &str,
        arn: &str,
        grants: &BTreeMap<&str, Grant>,
    ) -> Finding {
        let certain = grants.values().all(|g| g.answer == Answer::Yes);
        let kind = match grants.values().next().map(|g| g.principal.kind) {
            Some(PrincipalType::Role) => "role",
            _ => "user",
        };
        let via: BTreeSet<&String> = grants.values().flat_map(|g| g.via_groups.iter()).collect();
        let via_text = if via.is_empty() {
            String::new()
        } else {
            format!(
                " (through group(s) {})",
                via.into_iter().cloned().collect::<Vec<_>>().join(", ")
            )
        };
        let names: Vec<&str> = grants.keys().copied().collect();
        let mut evidence = Vec::new();
        for (action, grant) in grants {
            for s in grant.statements.iter() {
                evidence.push(Evidence::new(
                    "policy-statement",
                    s,
                    format!("allows approving {action}"),
                ));
            }
            for u in grant.unknowns.iter() {
                evidence.push(Evidence::new("condition", u, "decided at request time"));
            }
        }
        Finding {
            check_id: self.id().to_owned(),
            severity: if certain {
                Severity::High
            } else {
                Severity::Medium
            },
            account_id: account.to_owned(),
            subject: subject.to_owned(),
            principal: Some(arn.to_owned()),
            message: format!(
                "{kind} {} approve {} of {subject}{via_text}",
                if certain {
                    "can"
                } else {
                    "can possibly (depending on request conditions)"
                },
                names.join(" and ")
            ),
            evidence,
            waiver: None,
        }
    }

    /// Groups whose own policies grant two actions of the stage: the root cause, reported once per group.
    fn group_findings(
        &self,
        by_principal: &BTreeMap<String, BTreeMap<&str, Grant>>,
        account: &str,
        subject: &str,
    ) -> Vec<Finding> {
        let mut per_group: BTreeMap<&str, BTreeMap<&str, BTreeSet<&String>>> = BTreeMap::new();
        for grants in by_principal.values() {
            for (action, grant) in grants {
                for group in grant.via_groups.iter() {
                    let statements: BTreeSet<&String> = grant
                        .statements
                        .iter()
                        .filter(|s| s.starts_with(&format!("group/{group} ")))
                        .collect();
                    let statements = if statements.is_empty() {
                        grant.statements.iter().collect()
                    } else {
                        statements
                    };
                    per_group
                        .entry(group)
                        .or_default()
                        .entry(action)
                        .or_default()
                        .extend(statements);
                }
            }
        }
        per_group
            .into_iter()
            .filter(|(_, actions)| actions.len() >= 2)
            .map(|(group, actions)| Finding {
                check_id: self.id().to_owned(),
                severity: Severity::High,
                account_id: account.to_owned(),
                subject: subject.to_owned(),
                principal: Some(format!("arn:aws:iam::{account}:group/{group}")),
                message: format!(
                    "every member of group {group} can approve {} of {subject}",
                    actions.keys().copied().collect::<Vec<_>>().join(" and ")
                ),
                evidence: actions
                    .iter()
                    .flat_map(|(action, statements)| {
                        statements.iter().map(move |s| {
                            Evidence::new(
                                "policy-statement",
                                *s,
                                format!("allows approving {action}"),
                            )
                        })
                    })
                    .collect(),
                waiver: None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{policy, trust_account, Org};

    fn approve_only(action: &str) -> serde_json::Value {
        policy(
            serde_json::json!([{"Effect": "Allow", "Action": "codepipeline:PutApprovalResult",
            "Resource": format!("arn:aws:codepipeline:us-east-1:111111111111:*/*/{action}")}]),
        )
    }

    fn separated_org() -> Org {
        let mut org = Org::two_person_pipeline();
        org.add_group("ApprovalA", approve_only("ApprovalA"));
        org.add_group("ApprovalB", approve_only("ApprovalB"));
        org.add_user("alice", &["ApprovalA"], None);
        org.add_user("bob", &["ApprovalB"], None);
        org
    }

    #[test]
    fn separated_groups_pass() {
        let findings = separated_org().run(&ApproverSeparation);
        assert!(findings.is_empty(), "{findings:#?}");
    }

    #[test]
    fn a_user_in_both_groups_is_a_violation_naming_the_statements() {
        let mut org = separated_org();
        org.add_user("dave", &["ApprovalA", "ApprovalB"], None);
        let findings = org.run(&ApproverSeparation);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        let f = &findings[0];
        assert_eq!(
            f.principal.as_deref(),
            Some("arn:aws:iam::111111111111:user/dave")
        );
        assert_eq!(f.subject, "webapp/ProdGate");
        assert_eq!(f.severity, Severity::High);
        assert!(f.evidence.iter().any(
            |e| e.reference.contains("group/ApprovalA") && e.reference.contains("Statement[0]")
        ));
        assert!(f
            .evidence
            .iter()
            .any(|e| e.reference.contains("group/ApprovalB")));
    }

    #[test]
    fn a_group_granting_both_is_reported_as_the_group() {
        let mut org = separated_org();
        org.add_group("Releasers", policy(serde_json::json!([{"Effect": "Allow",
            "Action": "codepipeline:PutApprovalResult", "Resource": "arn:aws:codepipeline:us-east-1:111111111111:webapp/ProdGate/*"}])));
        org.add_user("erin", &["Releasers"], None);
        let findings = org.run(&ApproverSeparation);
        assert!(
            findings.iter().any(
                |f| f.principal.as_deref() == Some("arn:aws:iam::111111111111:group/Releasers")
            ),
            "{findings:#?}"
        );
        assert!(findings
            .iter()
            .any(|f| f.principal.as_deref() == Some("arn:aws:iam::111111111111:user/erin")));
    }

    #[test]
    fn a_role_that_can_approve_both_is_a_violation_and_an_mfa_condition_makes_it_possible() {
        let mut org = separated_org();
        org.add_role(
            "ReleaseManager",
            trust_account(),
            policy(serde_json::json!([{"Effect": "Allow",
            "Action": "codepipeline:PutApprovalResult", "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}])),
        );
        let findings = org.run(&ApproverSeparation);
        let role: Vec<_> = findings
            .iter()
            .filter(|f| {
                f.principal.as_deref() == Some("arn:aws:iam::111111111111:role/ReleaseManager")
            })
            .collect();
        assert_eq!(role.len(), 1, "{findings:#?}");
        assert_eq!(role[0].severity, Severity::Medium);
        assert!(role[0]
            .evidence
            .iter()
            .any(|e| e.kind == "condition" && e.reference.contains("aws:MultiFactorAuthPresent")));
    }

    #[test]
    fn an_explicit_deny_restores_separation() {
        let mut org = separated_org();
        org.add_user("dave", &["ApprovalA", "ApprovalB"], Some(policy(serde_json::json!([{"Effect": "Deny",
            "Action": "codepipeline:PutApprovalResult", "Resource": "arn:aws:codepipeline:*:*:*/*/ApprovalB"}]))));
        assert!(org.run(&ApproverSeparation).is_empty());
    }

    #[test]
    fn a_malformed_policy_is_reported_not_skipped() {
        let mut org = separated_org();
        org.add_user("mal", &[], Some(serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]})));
        let findings = org.run(&ApproverSeparation);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(findings[0].message.contains("cannot be evaluated"));
        assert!(
            findings[0].message.contains("Statement[0]"),
            "{}",
            findings[0].message
        );
    }

    fn broad_operator() -> Org {
        let mut org = separated_org();
        org.add_role(
            "PipelineOperator",
            trust_account(),
            policy(serde_json::json!([{"Effect": "Allow", "Action": "codepipeline:*", "Resource": "*"}])),
        );
        org
    }

    fn approvers_only_scp() -> serde_json::Value {
        policy(
            serde_json::json!([{"Sid": "ApprovalsOnlyByApprovers", "Effect": "Deny",
            "Action": "codepipeline:PutApprovalResult", "Resource": "*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:user/*"]}}}]),
        )
    }

    #[test]
    fn an_scp_denying_approvals_outside_the_approvers_removes_a_broad_allow() {
        let operator = "arn:aws:iam::111111111111:role/PipelineOperator";
        let reported = |org: &Org| {
            org.run(&ApproverSeparation)
                .iter()
                .any(|f| f.principal.as_deref() == Some(operator))
        };
        // Without organisation policies the broad allow is a finding ...
        assert!(reported(&broad_operator()));
        // ... the SCP neutralises it ...
        let mut org = broad_operator();
        org.organisation_with_scp(Some(approvers_only_scp()));
        assert!(!reported(&org), "{:#?}", org.run(&ApproverSeparation));
        // ... and when the account's SCPs could not be read, the answer ignores them (it is reported again).
        let mut unknown = broad_operator();
        unknown.organisation_with_scp(None);
        assert!(reported(&unknown));
    }

    #[test]
    fn scps_do_not_limit_the_management_account() {
        let mut org = broad_operator();
        org.organisation_with_scp(Some(approvers_only_scp()));
        if let Some(o) = org.snapshot.organization.as_mut() {
            o.management_account = crate::checks::testkit::ACCOUNT.into();
        }
        assert!(org
            .run(&ApproverSeparation)
            .iter()
            .any(|f| f.principal.as_deref()
                == Some("arn:aws:iam::111111111111:role/PipelineOperator")));
    }
}
