//! gate-coverage: every pipeline stage that deploys into an account labelled `prod` must be preceded, in an earlier
//! stage of the same pipeline, by a manual approval (two approval actions in one stage when the rule set's
//! `approvals.require_two_person_for_prod` says so).
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

/// The environment label of production accounts (`AccountSnapshot.environment`, compared case-insensitively).
const PROD_ENVIRONMENT: &str = "prod";

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
        &[InputKind::Pipelines]
    }

    fn run(&self, ctx: &CheckContext) -> Vec<Finding> {
        let prod_accounts = prod_accounts(ctx.snapshot);
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

/// Account id -> name of every account labelled prod.
fn prod_accounts(snapshot: &Snapshot) -> BTreeMap<&str, &str> {
    snapshot
        .accounts
        .iter()
        .filter(|a| a.environment.eq_ignore_ascii_case(PROD_ENVIRONMENT))
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
}
