//! Where a pipeline deploys: the accounts a pipeline action deploys into, and the accounts a manual approval
//! gates (what the stages after it deploy into, up to the next approval). Shared by the `gate-coverage` check
//! (stages that deploy into prod) and evidence requests (an approval's environment is where it lets the change
//! go, not the account it was given in).
//!
//! An action deploys into an account when (Source and Approval actions never do) its `role_arn` is in that
//! account, an ARN in its configuration is (CloudFormation `RoleArn`, ECS/CodeDeploy/S3 settings...), a role ARN
//! in a CodeBuild action's `EnvironmentVariables` JSON is (`ASSUME_ROLE_ARN=arn:aws:iam::<account>:role/...`,
//! the cross-account pattern), or, for a Deploy action without a cross-account role, the pipeline itself lives
//! there. Pure.

use crate::model::{Pipeline, PipelineAction};

/// An account an action deploys into, and how that was found (for evidence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployTarget {
    pub account: String,
    pub how: String,
}

/// Every account among those `wanted` accepts that `action` (of `pipeline`) deploys into, in the order the
/// evidence was found: action role, configuration (environment variables first), then the pipeline's own
/// account for a Deploy action without a role.
pub fn action_targets(
    action: &PipelineAction,
    pipeline: &Pipeline,
    wanted: &dyn Fn(&str) -> bool,
) -> Vec<DeployTarget> {
    let mut out: Vec<DeployTarget> = Vec::new();
    if action.is_manual_approval()
        || action.category.eq_ignore_ascii_case("Approval")
        || action.category.eq_ignore_ascii_case("Source")
    {
        return out;
    }
    let mut push = |account: &str, how: String| {
        if wanted(account) && !out.iter().any(|t| t.account == account) {
            out.push(DeployTarget {
                account: account.to_owned(),
                how,
            });
        }
    };
    if let Some(role) = &action.role_arn {
        if let Some(account) = arn_account(role) {
            push(account, format!("action role_arn {role}"));
        }
    }
    for (key, value) in &action.configuration {
        if key == "EnvironmentVariables" {
            for (name, arn, account) in environment_variable_arns(value) {
                push(
                    &account,
                    format!("CodeBuild environment variable {name}={arn}"),
                );
            }
        }
        for (arn, account) in arns_in(value) {
            push(account, format!("configuration {key} names {arn}"));
        }
    }
    if action.category.eq_ignore_ascii_case("Deploy") && action.role_arn.is_none() {
        push(
            &pipeline.account_id,
            format!(
                "{} deploy action in a pipeline of the account itself",
                action.provider
            ),
        );
    }
    out
}

/// The accounts (among those `wanted` accepts) the approval action `stage`/`action` of `pipeline` gates: what
/// the actions after it in its stage and the stages after it deploy into, up to the next stage with a manual
/// approval. Empty when the pipeline has no such stage or action.
pub fn gated_targets(
    pipeline: &Pipeline,
    stage: &str,
    action: &str,
    wanted: &dyn Fn(&str) -> bool,
) -> Vec<DeployTarget> {
    let Some(index) = pipeline.stages.iter().position(|s| s.name == stage) else {
        return Vec::new();
    };
    let gate = &pipeline.stages[index];
    let run_order = gate
        .actions
        .iter()
        .find(|a| a.name == action)
        .map(|a| a.run_order);
    let Some(run_order) = run_order else {
        return Vec::new();
    };
    let mut actions: Vec<&PipelineAction> = gate
        .actions
        .iter()
        .filter(|a| a.run_order > run_order)
        .collect();
    for later in &pipeline.stages[index + 1..] {
        if later.approval_actions().next().is_some() {
            break;
        }
        actions.extend(later.actions.iter());
    }
    let mut out: Vec<DeployTarget> = Vec::new();
    for a in actions {
        for t in action_targets(a, pipeline, wanted) {
            if !out.iter().any(|o| o.account == t.account) {
                out.push(t);
            }
        }
    }
    out
}

/// CodeBuild's `EnvironmentVariables` configuration, a JSON array of `{name, value, type}`: (name, ARN,
/// account) of every value that is an ARN with an account.
fn environment_variable_arns(json: &str) -> Vec<(String, String, String)> {
    let Ok(variables) = serde_json::from_str::<Vec<serde_json::Value>>(json) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for v in &variables {
        let name = v
            .get("name")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("?");
        let Some(value) = v.get("value").and_then(serde_json::Value::as_str) else {
            continue;
        };
        for (arn, account) in arns_in(value) {
            out.push((name.to_owned(), arn.to_owned(), account.to_owned()));
        }
    }
    out
}

/// The account of an ARN `arn:<partition>:<service>:<region>:<account>:<resource>`.
pub fn arn_account(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    (parts.next()? == "arn").then_some(())?;
    let account = parts.nth(3)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

/// Every ARN with an account id in free text (configuration values may be JSON, parameter lists, plain ARNs).
pub fn arns_in(text: &str) -> Vec<(&str, &str)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("arn:") {
        let candidate = &rest[start..];
        let end = candidate
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';' | ']' | '}' | ')')
            })
            .unwrap_or(candidate.len());
        let arn = &candidate[..end];
        if let Some(account) = arn_account(arn) {
            found.push((arn, account));
        }
        rest = &candidate[4..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Stage;

    fn action(name: &str, category: &str, provider: &str) -> PipelineAction {
        PipelineAction {
            name: name.into(),
            category: category.into(),
            owner: "AWS".into(),
            provider: provider.into(),
            run_order: 1,
            ..PipelineAction::default()
        }
    }

    fn codebuild_into(name: &str, account: &str) -> PipelineAction {
        let env = serde_json::json!([{"name": "ASSUME_ROLE_ARN", "type": "PLAINTEXT",
            "value": format!("arn:aws:iam::{account}:role/CICDCrossAccountRole")}]);
        PipelineAction {
            configuration: [("EnvironmentVariables".to_owned(), env.to_string())]
                .into_iter()
                .collect(),
            ..action(name, "Build", "CodeBuild")
        }
    }

    /// The demo's pipeline: dev, a test gate, test, a two-person prod gate, prod.
    fn pipeline() -> Pipeline {
        let stage = |name: &str, actions: Vec<PipelineAction>| Stage {
            name: name.into(),
            actions,
            ..Stage::default()
        };
        Pipeline {
            name: "webapp".into(),
            region: "us-east-1".into(),
            account_id: "111111111111".into(),
            stages: vec![
                stage("Source", vec![action("Source", "Source", "S3")]),
                stage(
                    "DeployDev",
                    vec![codebuild_into("DeployDev", "222222222222")],
                ),
                stage(
                    "TestGate",
                    vec![action("TestApproval", "Approval", "Manual")],
                ),
                stage(
                    "DeployTest",
                    vec![codebuild_into("DeployTest", "333333333333")],
                ),
                stage(
                    "ProdGate",
                    vec![
                        action("ApprovalA", "Approval", "Manual"),
                        action("ApprovalB", "Approval", "Manual"),
                    ],
                ),
                stage(
                    "DeployProd",
                    vec![codebuild_into("DeployProd", "444444444444")],
                ),
            ],
            ..Pipeline::default()
        }
    }

    fn accounts(targets: &[DeployTarget]) -> Vec<&str> {
        targets.iter().map(|t| t.account.as_str()).collect()
    }

    #[test]
    fn an_approval_gates_what_deploys_after_it_up_to_the_next_gate() {
        let p = pipeline();
        let any = |_: &str| true;
        assert_eq!(
            accounts(&gated_targets(&p, "TestGate", "TestApproval", &any)),
            vec!["333333333333"]
        );
        assert_eq!(
            accounts(&gated_targets(&p, "ProdGate", "ApprovalB", &any)),
            vec!["444444444444"]
        );
        assert!(gated_targets(&p, "ProdGate", "NoSuchAction", &any).is_empty());
        assert!(gated_targets(&p, "NoSuchStage", "ApprovalA", &any).is_empty());
        let t = &gated_targets(&p, "ProdGate", "ApprovalA", &any)[0];
        assert!(t.how.contains("ASSUME_ROLE_ARN"), "{}", t.how);
    }

    #[test]
    fn action_targets_find_roles_configuration_and_own_account_deploys() {
        let p = pipeline();
        let any = |_: &str| true;
        let cfn = PipelineAction {
            role_arn: Some("arn:aws:iam::444444444444:role/Deployer".into()),
            configuration: [(
                "RoleArn".to_owned(),
                "arn:aws:iam::555555555555:role/CfnExec".to_owned(),
            )]
            .into_iter()
            .collect(),
            ..action("Deploy", "Deploy", "CloudFormation")
        };
        assert_eq!(
            accounts(&action_targets(&cfn, &p, &any)),
            vec!["444444444444", "555555555555"]
        );
        let only_555 = |a: &str| a == "555555555555";
        assert_eq!(
            accounts(&action_targets(&cfn, &p, &only_555)),
            vec!["555555555555"]
        );
        let s3 = action("Upload", "Deploy", "S3");
        assert_eq!(
            accounts(&action_targets(&s3, &p, &any)),
            vec!["111111111111"]
        );
        assert!(action_targets(&action("A", "Approval", "Manual"), &p, &any).is_empty());
    }

    #[test]
    fn arns_are_found_in_free_text() {
        let text =
            r#"{"RoleArn":"arn:aws:iam::444444444444:role/X", "Other": "arn:aws:s3:::bucket"}"#;
        assert_eq!(
            arns_in(text),
            vec![("arn:aws:iam::444444444444:role/X", "444444444444")]
        );
        assert_eq!(arn_account("arn:aws:iam::12:role/x"), None);
    }
}
