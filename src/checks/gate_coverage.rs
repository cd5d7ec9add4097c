//! gate-coverage: every pipeline stage that deploys into a production account (an account whose environment the
//! rule set's `approvals.production_environments` lists) must be preceded, in an earlier stage of the same
//! pipeline, by a manual approval (two approval actions in one stage when the rule set's
//! `approvals.require_two_person_for_prod` says so). And judged per execution (`analysis::changes`): every
//! production deployment of the period passed the approvals of *the version it ran* in that very execution; a
//! version without the gate, a gate whose approvals did not run, an execution whose version cannot be known, and
//! approvers that CloudTrail and `updatedBy` disagree on are findings even if today's definition is fine. When the
//! rule set declares `approvals.required_action` (e.g. the `gateaudit gate` action), a version without it before the
//! production stage, and an execution in which it did not succeed, are findings too.
//!
//! A stage deploys into prod when one of its actions deploys into a prod account, as `analysis::deployments`
//! finds it (action role, ARNs in the configuration, CodeBuild `ASSUME_ROLE_ARN`, a Deploy action in a pipeline
//! of the prod account itself). Reads the snapshot only; must not do I/O.

use std::collections::BTreeMap;

use super::{
    Check, CheckContext, InputKind, ISO_CHANGE, NIST_CM3, NIST_CM5, PCI_CHANGE, SOC2_CHANGE,
};
use crate::analysis::deployments::{action_targets, DeployTarget};
use crate::model::{Evidence, Finding, PipelineAction, Severity, Snapshot};

pub struct GateCoverage;

impl Check for GateCoverage {
    fn id(&self) -> &'static str {
        "gate-coverage"
    }
    fn title(&self) -> &'static str {
        "Every production deployment is preceded by a manual approval"
    }
    fn description(&self) -> &'static str {
        "Every pipeline stage whose actions deploy into an account labelled prod (through the action's role, an ARN \
         in its configuration, or a role ARN in a CodeBuild action's environment variables) must be preceded by a \
         stage with a manual approval action in the same pipeline; by two approval actions in one stage when the \
         rule set requires the two-person rule for production."
    }
    fn severity(&self) -> Severity {
        Severity::High
    }
    fn references(&self) -> &'static [&'static str] {
        &[SOC2_CHANGE, ISO_CHANGE, NIST_CM3, NIST_CM5, PCI_CHANGE]
    }

    fn inputs(&self) -> &'static [InputKind] {
        // Per execution, the approvals (CloudTrail and updatedBy) are counted as people.
        &[
            InputKind::Pipelines,
            InputKind::ApprovalEvents,
            InputKind::IdentityCenter,
        ]
    }

    fn run(&self, ctx: &CheckContext) -> Vec<Finding> {
        let mut findings = self.definitions(ctx);
        findings.extend(self.executions(ctx));
        findings
    }
}

impl GateCoverage {
    /// Each change of the period that did not pass its gate.
    fn executions(&self, ctx: &CheckContext) -> Vec<Finding> {
        use crate::analysis::changes::Violation;
        let mut findings = Vec::new();
        for change in &ctx.changes {
            let gate_kinds: Vec<&(Violation, String)> = change
                .violations
                .iter()
                .filter(|(v, _)| {
                    matches!(
                        v,
                        Violation::NoGate
                            | Violation::GateSkipped
                            | Violation::Unverifiable
                            | Violation::SourcesDisagree
                            | Violation::RequiredGateMissing
                            | Violation::RequiredGateNotPassed
                    )
                })
                .collect();
            if gate_kinds.is_empty() {
                continue;
            }
            // A version without the gate while today's definition has one: the gate was edited away and back.
            let edited_away = gate_kinds.iter().any(|(v, _)| *v == Violation::NoGate)
                && ctx
                    .snapshot
                    .account(&change.account_id)
                    .and_then(|a| {
                        a.pipelines
                            .iter()
                            .find(|p| p.name == change.pipeline && p.region == change.region)
                    })
                    .is_some_and(|p| {
                        p.stages
                            .iter()
                            .any(|s| s.approval_actions().next().is_some())
                    });
            let severity = if edited_away {
                Severity::Critical
            } else if gate_kinds
                .iter()
                .all(|(v, _)| matches!(v, Violation::SourcesDisagree | Violation::Unverifiable))
            {
                Severity::Medium
            } else {
                Severity::High
            };
            let mut evidence = vec![Evidence::new(
                "pipeline-execution",
                format!("{}/{}", change.pipeline, change.execution_id),
                format!(
                    "version {}, {}, deployed {} into {} ({})",
                    change
                        .pipeline_version
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "?".into()),
                    change.trigger,
                    change.deploy_stage,
                    change.deployed_into.join(", "),
                    change.deploy_result
                ),
            )];
            evidence.extend(change.approvals.iter().map(|a| {
                Evidence::new(
                    "approval",
                    format!("{}/{}", a.stage, a.action),
                    format!(
                        "{} by {}",
                        a.status,
                        a.cloudtrail_name
                            .as_deref()
                            .or(a.updated_by.as_deref())
                            .unwrap_or("nobody")
                    ),
                )
            }));
            findings.push(Finding {
                check_id: self.id().to_owned(),
                severity,
                account_id: change.account_id.clone(),
                subject: format!("{}/{}", change.pipeline, change.execution_id),
                principal: None,
                message: format!(
                    "execution {} deployed {} into production {}{}: {}",
                    change.execution_id,
                    change.deploy_stage,
                    change.deployed_into.join(", "),
                    if edited_away {
                        " running a version without the gate that today's definition has"
                    } else {
                        ""
                    },
                    gate_kinds
                        .iter()
                        .map(|(_, why)| why.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                evidence,
                waiver: None,
            });
        }
        findings
    }

    /// Every stage of today's definitions that deploys into production without the required gate.
    fn definitions(&self, ctx: &CheckContext) -> Vec<Finding> {
        let prod_accounts = prod_accounts(ctx.snapshot, ctx.rules);
        let two_person = ctx.rules.approvals.require_two_person_for_prod;
        let mut findings = Vec::new();
        for account in &ctx.snapshot.accounts {
            for pipeline in &account.pipelines {
                let is_prod = |a: &str| prod_accounts.contains_key(a);
                for (index, stage) in pipeline.stages.iter().enumerate() {
                    let targets: Vec<(&PipelineAction, DeployTarget)> = stage
                        .actions
                        .iter()
                        .filter_map(|a| {
                            action_targets(a, pipeline, &is_prod)
                                .into_iter()
                                .next()
                                .map(|t| (a, t))
                        })
                        .collect();
                    if targets.is_empty() {
                        continue;
                    }
                    let earlier = &pipeline.stages[..index];
                    let best_gate = earlier
                        .iter()
                        .map(|s| (s, s.approval_actions().count()))
                        .max_by_key(|(_, n)| *n);
                    let required = if two_person { 2 } else { 1 };
                    let found = best_gate.map(|(_, n)| n).unwrap_or(0);
                    if found >= required {
                        continue;
                    }
                    let subject = format!("{}/{}", pipeline.name, stage.name);
                    let mut evidence = vec![Evidence::new(
                        "pipeline",
                        format!("{}@v{}", pipeline.name, pipeline.version),
                        format!("{} in {}", pipeline.region, pipeline.account_id),
                    )];
                    for (action, target) in &targets {
                        evidence.push(Evidence::new(
                            "pipeline-action",
                            format!("{}/{}/{}", pipeline.name, stage.name, action.name),
                            format!(
                                "{} {} deploys into prod account {} ({})",
                                action.category, action.provider, target.account, target.how
                            ),
                        ));
                    }
                    let accounts: Vec<&str> = {
                        let mut a: Vec<&str> =
                            targets.iter().map(|(_, t)| t.account.as_str()).collect();
                        a.sort_unstable();
                        a.dedup();
                        a
                    };
                    let message = match best_gate {
                        Some((gate, n)) if n > 0 => {
                            evidence.push(Evidence::new(
                                "pipeline-stage",
                                format!("{}/{}", pipeline.name, gate.name),
                                format!("{n} manual approval action(s)"),
                            ));
                            format!(
                                "stage {} deploys into prod account {} after a single-approver gate ({}); the rule set \
                                 requires two approval actions in one earlier stage",
                                stage.name,
                                accounts.join(", "),
                                gate.name
                            )
                        }
                        _ => format!(
                            "stage {} deploys into prod account {} without any manual approval in an earlier stage",
                            stage.name,
                            accounts.join(", ")
                        ),
                    };
                    findings.push(Finding {
                        check_id: self.id().to_owned(),
                        severity: Severity::High,
                        account_id: account.account_id.clone(),
                        subject,
                        principal: None,
                        message,
                        evidence,
                        waiver: None,
                    });
                }
            }
        }
        findings
    }
}

/// Account id -> name of every production account (the rule set's production environments).
fn prod_accounts<'a>(
    snapshot: &'a Snapshot,
    rules: &crate::rules::RuleSet,
) -> BTreeMap<&'a str, &'a str> {
    snapshot
        .accounts
        .iter()
        .filter(|a| rules.approvals.is_production(&a.environment))
        .map(|a| (a.account_id.as_str(), a.name.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{Org, ACCOUNT};
    use crate::model::{AccountSnapshot, Stage};

    const PROD: &str = "444444444444";

    fn with_prod_account(mut org: Org) -> Org {
        org.snapshot.accounts.push(AccountSnapshot {
            account_id: PROD.into(),
            name: "prod".into(),
            environment: "prod".into(),
            role_arn: Some(format!("arn:aws:iam::{PROD}:role/CICDCrossAccountRole")),
            ..AccountSnapshot::default()
        });
        org
    }

    fn codebuild_into(account: &str) -> PipelineAction {
        let env = serde_json::json!([
            {"name": "ASSUME_ROLE_ARN", "type": "PLAINTEXT", "value": format!("arn:aws:iam::{account}:role/CICDCrossAccountRole")},
            {"name": "ENVIRONMENT", "type": "PLAINTEXT", "value": "prod"}
        ]);
        PipelineAction {
            name: "DeployProd".into(),
            category: "Build".into(),
            owner: "AWS".into(),
            provider: "CodeBuild".into(),
            run_order: 1,
            configuration: [
                ("ProjectName".to_owned(), "deploy".to_owned()),
                ("EnvironmentVariables".to_owned(), env.to_string()),
            ]
            .into_iter()
            .collect(),
            ..PipelineAction::default()
        }
    }

    fn cloudformation_into(account: &str) -> PipelineAction {
        PipelineAction {
            name: "Deploy".into(),
            category: "Deploy".into(),
            owner: "AWS".into(),
            provider: "CloudFormation".into(),
            run_order: 1,
            role_arn: Some(format!("arn:aws:iam::{account}:role/CICDCrossAccountRole")),
            configuration: [("StackName".to_owned(), "infra".to_owned())]
                .into_iter()
                .collect(),
            ..PipelineAction::default()
        }
    }

    /// The testkit pipeline with its last stage replaced by `deploy`.
    fn org_deploying(deploy: PipelineAction) -> Org {
        let mut org = with_prod_account(Org::two_person_pipeline());
        let stages = &mut org.account().pipelines[0].stages;
        if let Some(last) = stages.last_mut() {
            *last = Stage {
                name: "DeployProd".into(),
                actions: vec![deploy],
                ..Stage::default()
            };
        }
        org
    }

    #[test]
    fn codebuild_into_prod_via_assume_role_arn_after_a_two_person_gate_passes() {
        let org = org_deploying(codebuild_into(PROD));
        assert!(org.run(&GateCoverage).is_empty());
    }

    #[test]
    fn prod_deploy_without_an_approval_stage_is_reported_with_the_account_and_how() {
        let mut org = org_deploying(cloudformation_into(PROD));
        org.account().pipelines[0]
            .stages
            .retain(|s| s.name != "ProdGate");
        let findings = org.run(&GateCoverage);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        let f = &findings[0];
        assert_eq!(f.subject, "webapp/DeployProd");
        assert_eq!(f.account_id, ACCOUNT);
        assert_eq!(f.severity, Severity::High);
        assert!(
            f.message.contains("without any manual approval"),
            "{}",
            f.message
        );
        assert!(f.evidence.iter().any(|e| e.reference == "webapp@v1"));
        assert!(f
            .evidence
            .iter()
            .any(|e| e.reference == "webapp/DeployProd/Deploy"
                && e.detail.contains(PROD)
                && e.detail.contains("role_arn")));
    }

    #[test]
    fn an_approval_after_the_deploy_does_not_count() {
        let mut org = org_deploying(codebuild_into(PROD));
        let stages = &mut org.account().pipelines[0].stages;
        stages.swap(1, 2);
        let findings = org.run(&GateCoverage);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(findings[0]
            .evidence
            .iter()
            .any(|e| e.detail.contains("ASSUME_ROLE_ARN")));
    }

    #[test]
    fn deploys_into_non_prod_accounts_need_no_gate() {
        let mut org = org_deploying(cloudformation_into("222222222222"));
        org.account().pipelines[0]
            .stages
            .retain(|s| s.name != "ProdGate");
        assert!(org.run(&GateCoverage).is_empty());
    }

    #[test]
    fn a_single_approval_fails_only_when_the_rule_set_demands_two_persons() {
        let mut org = org_deploying(codebuild_into(PROD));
        org.account().pipelines[0].stages[1].actions.truncate(1);
        org.rules.approvals.require_two_person_for_prod = true;
        let findings = org.run(&GateCoverage);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(
            findings[0]
                .message
                .contains("single-approver gate (ProdGate)"),
            "{}",
            findings[0].message
        );
        org.rules.approvals.require_two_person_for_prod = false;
        assert!(org.run(&GateCoverage).is_empty());
    }

    #[test]
    fn a_deploy_action_in_a_prod_pipeline_deploys_into_prod() {
        let mut org = Org::two_person_pipeline();
        org.account().environment = "prod".into();
        let stages = &mut org.account().pipelines[0].stages;
        stages.retain(|s| s.name != "ProdGate");
        stages.push(Stage {
            name: "DeployS3".into(),
            actions: vec![PipelineAction {
                name: "Upload".into(),
                category: "Deploy".into(),
                provider: "S3".into(),
                ..PipelineAction::default()
            }],
            ..Stage::default()
        });
        let findings = org.run(&GateCoverage);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].subject, "webapp/DeployS3");
    }

    /// A deployment into prod ran in execution `id` (its DeployProd action executed).
    fn deployed(org: &mut Org, id: &str, version: i32) {
        let pipeline = &mut org.account().pipelines[0];
        if let Some(e) = pipeline.executions.iter_mut().find(|e| e.id == id) {
            e.pipeline_version = Some(version);
        }
        let at = pipeline
            .executions
            .iter()
            .find(|e| e.id == id)
            .and_then(|e| e.start_time);
        pipeline
            .action_executions
            .push(crate::model::ActionExecution {
                pipeline_execution_id: id.into(),
                action_execution_id: format!("deploy-{id}"),
                stage: "DeployProd".into(),
                action: "DeployProd".into(),
                status: "Succeeded".into(),
                start_time: at.map(|t| t + chrono::Duration::minutes(30)),
                last_update_time: at.map(|t| t + chrono::Duration::minutes(31)),
                category: Some("Build".into()),
                provider: Some("CodeBuild".into()),
                pipeline_version: Some(version),
                ..Default::default()
            });
    }

    fn executed(org: &mut Org) -> String {
        let id = org.execution("ex-1");
        org.approve(
            &id,
            "ProdGate",
            "ApprovalA",
            crate::checks::testkit::user("alice"),
            "CHG-1 reviewed",
        );
        org.approve(
            &id,
            "ProdGate",
            "ApprovalB",
            crate::checks::testkit::user("bob"),
            "CHG-1 second review",
        );
        id
    }

    #[test]
    fn an_execution_that_passed_its_gate_is_compliant() {
        let mut org = org_deploying(codebuild_into(PROD));
        let id = executed(&mut org);
        deployed(&mut org, &id, 1);
        let findings = org.run(&GateCoverage);
        assert!(findings.is_empty(), "{findings:#?}");
        let access = crate::analysis::access::AccessModel::new(&org.snapshot, &org.rules);
        let ctx = CheckContext::new(&org.snapshot, &org.rules, &access);
        assert_eq!(ctx.changes.len(), 1);
        assert!(
            ctx.changes[0].compliant(),
            "{:?}",
            ctx.changes[0].violations
        );
        assert_eq!(ctx.changes[0].approvals.len(), 2);
    }

    #[test]
    fn an_execution_of_a_version_without_the_gate_is_critical_even_if_today_it_has_one() {
        let mut org = org_deploying(codebuild_into(PROD));
        let id = org.execution("ex-1");
        let pipeline = &mut org.account().pipelines[0];
        let mut v2 = crate::model::PipelineVersion {
            version: 2,
            stages: pipeline.stages.clone(),
            ..Default::default()
        };
        v2.stages.retain(|s| s.name != "ProdGate");
        pipeline.versions.push(v2);
        pipeline.version = 3;
        deployed(&mut org, &id, 2);
        let findings = org.run(&GateCoverage);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].severity, Severity::Critical);
        assert_eq!(findings[0].subject, "webapp/ex-1");
        assert!(
            findings[0]
                .message
                .contains("version 2 has no manual approval"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn a_version_whose_gate_lost_an_approval_action_is_critical_not_a_lone_approver() {
        let mut org = org_deploying(codebuild_into(PROD));
        assert!(org.rules.approvals.require_two_person_for_prod);
        let id = org.execution("ex-1");
        org.approve(
            &id,
            "ProdGate",
            "ApprovalA",
            crate::checks::testkit::user("alice"),
            "CHG-1 reviewed",
        );
        let pipeline = &mut org.account().pipelines[0];
        let mut v2 = crate::model::PipelineVersion {
            version: 2,
            stages: pipeline.stages.clone(),
            ..Default::default()
        };
        for stage in v2.stages.iter_mut().filter(|s| s.name == "ProdGate") {
            stage.actions.retain(|a| a.name != "ApprovalB");
        }
        pipeline.versions.push(v2);
        pipeline.version = 3;
        deployed(&mut org, &id, 2);
        let findings = org.run(&GateCoverage);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].severity, Severity::Critical);
        assert!(
            findings[0]
                .message
                .contains("is ProdGate with 1 approval action(s); the rule set requires 2")
                && !findings[0].message.contains("distinct person"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn a_gate_whose_approvals_did_not_run_is_skipped_and_an_unknown_version_unverifiable() {
        let mut org = org_deploying(codebuild_into(PROD));
        let id = org.execution("ex-1");
        deployed(&mut org, &id, 1);
        let findings = org.run(&GateCoverage);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].severity, Severity::High);
        assert!(
            findings[0].message.contains("no approval of gate ProdGate"),
            "{}",
            findings[0].message
        );
        let mut org = org_deploying(codebuild_into(PROD));
        let id = executed(&mut org);
        deployed(&mut org, &id, 7);
        let findings = org.run(&GateCoverage);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].severity, Severity::Medium);
        assert!(findings[0].message.contains("version 7 was not collected"));
    }

    #[test]
    fn cloudtrail_and_updated_by_must_name_the_same_approver() {
        let mut org = org_deploying(codebuild_into(PROD));
        let id = executed(&mut org);
        deployed(&mut org, &id, 1);
        if let Some(a) = org.account().pipelines[0]
            .action_executions
            .iter_mut()
            .find(|a| a.action == "ApprovalB")
        {
            a.updated_by = Some("arn:aws:iam::111111111111:user/mallory".into());
        }
        let findings = org.run(&GateCoverage);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(
            findings[0]
                .message
                .contains("updatedBy names arn:aws:iam::111111111111:user/mallory"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn an_aws_service_is_not_the_second_person_of_a_two_person_gate() {
        let mut org = org_deploying(codebuild_into(PROD));
        let id = org.execution("ex-1");
        org.approve(
            &id,
            "ProdGate",
            "ApprovalA",
            crate::checks::testkit::user("alice"),
            "CHG-1 reviewed",
        );
        // A service-linked role's own call (invokedBy), as CloudTrail records it.
        let slr = serde_json::json!({"type": "AssumedRole", "accountId": "111111111111",
            "arn": "arn:aws:sts::111111111111:assumed-role/AWSServiceRoleForAutomation/auto",
            "sessionContext": {"sessionIssuer": {"type": "Role", "accountId": "111111111111",
                "arn": "arn:aws:iam::111111111111:role/aws-service-role/automation.amazonaws.com/AWSServiceRoleForAutomation"}},
            "invokedBy": "automation.amazonaws.com"});
        org.approve(&id, "ProdGate", "ApprovalB", slr, "auto");
        if let Some(a) = org.account().pipelines[0]
            .action_executions
            .iter_mut()
            .find(|a| a.action == "ApprovalB")
        {
            a.updated_by = None;
        }
        deployed(&mut org, &id, 1);
        let access = crate::analysis::access::AccessModel::new(&org.snapshot, &org.rules);
        let ctx = CheckContext::new(&org.snapshot, &org.rules, &access);
        assert_eq!(ctx.changes.len(), 1);
        let violations = &ctx.changes[0].violations;
        assert!(
            violations.iter().any(|(v, text)| {
                *v == crate::analysis::changes::Violation::TooFewApprovers
                    && text.contains("approved by 1 distinct person(s)")
            }),
            "{violations:?}"
        );
    }

    #[test]
    fn production_is_what_the_rule_set_says() {
        let mut org = org_deploying(codebuild_into(PROD));
        org.account().pipelines[0]
            .stages
            .retain(|s| s.name != "ProdGate");
        assert_eq!(org.run(&GateCoverage).len(), 1);
        org.rules.approvals.production_environments = vec!["live".into()];
        assert!(
            org.run(&GateCoverage).is_empty(),
            "prod is not production under this rule set"
        );
    }

    /// The rule set's `[approvals.required_action]`: a CodeBuild GateCheck* action of the gateaudit gate project.
    fn require_gate(org: &mut Org) {
        org.rules.approvals.required_action = Some(crate::rules::RequiredAction {
            provider: "CodeBuild".into(),
            name: Some("GateCheck*".into()),
            configuration: [("ProjectName".to_owned(), "*-gateaudit-gate".to_owned())].into(),
        });
    }

    /// Version 1 gets a GateCheck stage (the gateaudit gate's CodeBuild action) right before DeployProd; when
    /// `status` is given, execution `id` ran it with that status.
    fn with_gate_stage(org: &mut Org, id: &str, status: Option<&str>) {
        let pipeline = &mut org.account().pipelines[0];
        let at = pipeline.stages.len() - 1;
        pipeline.stages.insert(
            at,
            Stage {
                name: "GateCheck".into(),
                actions: vec![PipelineAction {
                    name: "GateCheck".into(),
                    category: "Build".into(),
                    owner: "AWS".into(),
                    provider: "CodeBuild".into(),
                    run_order: 1,
                    configuration: [("ProjectName".to_owned(), "webapp-gateaudit-gate".to_owned())]
                        .into_iter()
                        .collect(),
                    ..PipelineAction::default()
                }],
                ..Stage::default()
            },
        );
        if let Some(status) = status {
            pipeline
                .action_executions
                .push(crate::model::ActionExecution {
                    pipeline_execution_id: id.into(),
                    action_execution_id: format!("gate-{id}"),
                    stage: "GateCheck".into(),
                    action: "GateCheck".into(),
                    status: status.into(),
                    category: Some("Build".into()),
                    provider: Some("CodeBuild".into()),
                    pipeline_version: Some(1),
                    ..Default::default()
                });
        }
    }

    fn violations(org: &Org) -> Vec<(crate::analysis::changes::Violation, String)> {
        let access = crate::analysis::access::AccessModel::new(&org.snapshot, &org.rules);
        let ctx = CheckContext::new(&org.snapshot, &org.rules, &access);
        assert_eq!(ctx.changes.len(), 1);
        ctx.changes[0].violations.clone()
    }

    #[test]
    fn without_a_required_action_a_version_without_the_gate_stage_is_compliant() {
        let mut org = org_deploying(codebuild_into(PROD));
        let id = executed(&mut org);
        deployed(&mut org, &id, 1);
        assert!(org.rules.approvals.required_action.is_none());
        let findings = org.run(&GateCoverage);
        assert!(findings.is_empty(), "{findings:#?}");
        require_gate(&mut org);
        assert_eq!(
            org.run(&GateCoverage).len(),
            1,
            "the same execution fails once required"
        );
    }

    #[test]
    fn a_version_without_the_required_action_is_a_finding_naming_version_and_gate() {
        let mut org = org_deploying(codebuild_into(PROD));
        require_gate(&mut org);
        let id = executed(&mut org);
        deployed(&mut org, &id, 1);
        // A GateCheck action of another project is not the required gate.
        with_gate_stage(&mut org, &id, Some("Succeeded"));
        org.account().pipelines[0].stages[2].actions[0]
            .configuration
            .insert("ProjectName".into(), "unit-tests".into());
        let findings = org.run(&GateCoverage);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        let f = &findings[0];
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.subject, "webapp/ex-1");
        assert!(
            f.message.contains(
                "version 1 has no action matching the required gate (provider CodeBuild, name GateCheck*, \
                 ProjectName = *-gateaudit-gate) before stage DeployProd"
            ),
            "{}",
            f.message
        );
        assert!(violations(&org)
            .iter()
            .any(|(v, _)| *v == crate::analysis::changes::Violation::RequiredGateMissing));
    }

    #[test]
    fn the_required_action_after_the_deploy_does_not_count() {
        let mut org = org_deploying(codebuild_into(PROD));
        require_gate(&mut org);
        let id = executed(&mut org);
        deployed(&mut org, &id, 1);
        with_gate_stage(&mut org, &id, Some("Succeeded"));
        let pipeline = &mut org.account().pipelines[0];
        let gate = pipeline.stages.remove(2);
        // In the production stage itself, but at the deploy's runOrder: not before it.
        let mut check = gate.actions[0].clone();
        check.run_order = 1;
        pipeline.stages[2].actions.push(check.clone());
        let findings = org.run(&GateCoverage);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(findings[0].message.contains("has no action matching"));
        // At a lower runOrder than the deploy, it is before it.
        let stage = &mut org.account().pipelines[0].stages[2];
        for a in stage.actions.iter_mut() {
            a.run_order = if a.name == "GateCheck" { 1 } else { 2 };
        }
        org.account().pipelines[0].action_executions[3].stage = "DeployProd".into();
        let findings = org.run(&GateCoverage);
        assert!(findings.is_empty(), "{findings:#?}");
    }

    #[test]
    fn a_required_action_that_failed_or_did_not_run_is_a_finding() {
        let mut org = org_deploying(codebuild_into(PROD));
        require_gate(&mut org);
        let id = executed(&mut org);
        deployed(&mut org, &id, 1);
        with_gate_stage(&mut org, &id, Some("Failed"));
        let findings = org.run(&GateCoverage);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].severity, Severity::High);
        assert!(
            findings[0].message.contains(
                "the required gate GateCheck/GateCheck did not succeed in this execution (status Failed)"
            ),
            "{}",
            findings[0].message
        );
        assert!(violations(&org)
            .iter()
            .any(|(v, _)| *v == crate::analysis::changes::Violation::RequiredGateNotPassed));

        let mut org = org_deploying(codebuild_into(PROD));
        require_gate(&mut org);
        let id = executed(&mut org);
        deployed(&mut org, &id, 1);
        with_gate_stage(&mut org, &id, None);
        let findings = org.run(&GateCoverage);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(
            findings[0].message.contains(
                "the required gate GateCheck/GateCheck of version 1 has no recorded action execution"
            ),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn a_required_action_that_succeeded_in_the_execution_passes() {
        let mut org = org_deploying(codebuild_into(PROD));
        require_gate(&mut org);
        let id = executed(&mut org);
        deployed(&mut org, &id, 1);
        with_gate_stage(&mut org, &id, Some("Succeeded"));
        let findings = org.run(&GateCoverage);
        assert!(findings.is_empty(), "{findings:#?}");
        assert!(violations(&org).is_empty());
    }

    #[test]
    fn required_action_unseen_is_incomplete_or_unverifiable_never_passed() {
        // The action executions could not be listed: the check is incomplete for the account.
        let mut org = org_deploying(codebuild_into(PROD));
        require_gate(&mut org);
        let id = executed(&mut org);
        deployed(&mut org, &id, 1);
        with_gate_stage(&mut org, &id, Some("Succeeded"));
        org.account().steps.push(crate::model::CollectionStep {
            step: "codepipeline:GetPipeline+Executions(webapp)".into(),
            region: Some("us-east-1".into()),
            status: crate::model::StepStatus::Failed,
            items: 0,
            error: Some("ListActionExecutions(ex-2): AccessDeniedException".into()),
            note: None,
        });
        let access = crate::analysis::access::AccessModel::new(&org.snapshot, &org.rules);
        let ctx = CheckContext::new(&org.snapshot, &org.rules, &access);
        let missing = crate::checks::missing_inputs(&GateCoverage, &ctx);
        assert!(
            missing.iter().any(|m| m.account_id == ACCOUNT
                && m.kind == InputKind::Pipelines
                && m.detail.contains("ListActionExecutions")),
            "{missing:#?}"
        );
        // The version the execution ran was not collected: the required gate is unverifiable, not passed.
        let mut org = org_deploying(codebuild_into(PROD));
        require_gate(&mut org);
        let id = executed(&mut org);
        with_gate_stage(&mut org, &id, Some("Succeeded"));
        deployed(&mut org, &id, 7);
        let findings = org.run(&GateCoverage);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(
            findings[0]
                .message
                .contains("whether it passed the required gate (provider CodeBuild"),
            "{}",
            findings[0].message
        );
    }
}
