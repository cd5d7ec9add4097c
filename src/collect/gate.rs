//! What `gateaudit gate` reads about ONE pipeline execution, and nothing more, so that it answers in seconds:
//! the execution (`GetPipelineExecution`), the declaration of the version it runs (`GetPipeline --version`), its
//! action and rule executions, the CloudTrail `PutApprovalResult` events of its time window and the calls that
//! retry, override or roll back its stages (LookupEvents by event name, narrowed to that window), the IAM
//! policies of the pipeline's account (entitlement and identity normalisation need them), and, when the
//! configuration has `[organization]`, the organisation (production accounts, SCPs) and Identity Center (people).
//!
//! Collection only: it returns a [`Snapshot`] of that one account and never decides anything. Read-only calls
//! only (every client carries the read-only guard). A failure that leaves nothing to judge (the role cannot be
//! assumed, the execution does not exist or cannot be read) is an error; every other failure is a failed step in
//! the snapshot, which the gate's decision treats as "cannot decide".

use chrono::{Duration, Utc};

use super::codepipeline::ExecutionReadError;
use super::session::{self, SessionOptions};
use super::StepLog;
use crate::config::{AccountConfig, Config};
use crate::model::{AccountSnapshot, Period, Snapshot, SCHEMA_VERSION};

/// How far before the execution's first action and after now the CloudTrail window reaches.
const WINDOW_SLACK_MINUTES: i64 = 15;
/// When the execution has no action execution yet: the longest a manual approval can wait.
const NO_START_LOOKBACK_DAYS: i64 = 8;

/// The calls that, made by an approver on this execution, make it self-approved (`analysis::execution_actors`).
pub const ACTOR_CALLS: &[&str] = &[
    "RetryStageExecution",
    "OverrideStageCondition",
    "RollbackStage",
];

/// The one execution a gate asks about.
#[derive(Debug, Clone)]
pub struct GateTarget {
    pub pipeline: String,
    pub execution_id: String,
    pub account: String,
    pub region: String,
}

/// Nothing about the execution could be read.
#[derive(Debug, thiserror::Error)]
pub enum GateCollectError {
    #[error("execution not found: {0}")]
    NotFound(String),
    #[error("account {account} cannot be read: {error}")]
    Account { account: String, error: String },
    #[error("the execution cannot be read: {0}")]
    Execution(String),
}

/// Reads what the gate needs about `target`. `rule_set` is (name, source text), stored in the snapshot.
pub async fn collect(
    config: &Config,
    options: &SessionOptions,
    rule_set: (&str, &str),
    target: &GateTarget,
) -> Result<Snapshot, GateCollectError> {
    let identity_rules = crate::rules::RuleSet::parse(rule_set.1, rule_set.0)
        .map(|r| r.identity)
        .unwrap_or_default();
    let base = session::base_config(config, options).await;
    let (organization, identity_center) = organisation(&base, config, &target.account).await;
    let discovered = organization
        .as_ref()
        .and_then(|o| o.account(&target.account));
    let account = config
        .accounts
        .iter()
        .find(|a| a.id == target.account)
        .cloned()
        .unwrap_or_else(|| AccountConfig {
            id: target.account.clone(),
            name: discovered
                .map(|a| a.name.clone())
                .unwrap_or_else(|| target.account.clone()),
            environment: discovered
                .map(|a| a.environment.clone())
                .unwrap_or_default(),
            use_base_credentials: false,
            role_name: None,
        });
    let clients = session::account_clients(&base, config, &account)
        .await
        .map_err(|error| GateCollectError::Account {
            account: account.id.clone(),
            error,
        })?;
    let mut log = StepLog::default();
    log.ok(
        if config.role_arn(&account).is_some() {
            "sts:AssumeRole"
        } else {
            "sts:GetCallerIdentity"
        },
        None,
        1,
    );
    let pipeline = super::codepipeline::one_execution(
        &clients,
        &target.region,
        &target.pipeline,
        &target.execution_id,
    )
    .await
    .map_err(|e| match e {
        ExecutionReadError::NotFound(t) => GateCollectError::NotFound(t),
        ExecutionReadError::Failed(t) => GateCollectError::Execution(t),
    })?;
    log.ok(
        &format!(
            "codepipeline:GetPipelineExecution+Actions({})",
            target.pipeline
        ),
        Some(&target.region),
        pipeline.action_executions.len(),
    );
    let now = Utc::now();
    let start = pipeline
        .executions
        .first()
        .and_then(|e| e.start_time)
        .unwrap_or(now - Duration::days(NO_START_LOOKBACK_DAYS));
    let period = Period {
        since: start - Duration::minutes(WINDOW_SLACK_MINUTES),
        until: now + Duration::minutes(WINDOW_SLACK_MINUTES),
    };
    let iam = super::iam::collect_policies(&clients, &mut log).await;
    let approval_events =
        super::cloudtrail::approval_events(&clients, &target.region, &period, &mut log).await;
    let mut write_events = Vec::new();
    for name in ACTOR_CALLS {
        write_events.extend(
            super::cloudtrail::calls_named(
                &clients,
                &target.region,
                &period,
                name,
                &identity_rules,
                &mut log,
            )
            .await,
        );
    }
    let snapshot_account = AccountSnapshot {
        account_id: account.id.clone(),
        name: account.name.clone(),
        environment: account.environment.clone(),
        role_arn: config.role_arn(&account),
        ou_path: discovered.map(|a| a.ou_path.clone()),
        steps: log.into_steps(),
        iam,
        pipelines: vec![pipeline],
        approval_events,
        write_events,
        ..AccountSnapshot::default()
    };
    Ok(Snapshot {
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        run_id: format!("gate-{}", super::new_run_id(now)),
        organisation: config.organisation.clone(),
        collected_at: now,
        period,
        cicd_account: config.cicd_account.clone(),
        regions: vec![target.region.clone()],
        rule_set: rule_set.0.to_owned(),
        rule_set_source: rule_set.1.to_owned(),
        declared_deployment_roles: config.deployment_roles.clone(),
        approval_record_buckets: Vec::new(),
        trail_buckets: Vec::new(),
        accounts: vec![snapshot_account],
        organization,
        identity_center,
    })
}

/// The organisation and Identity Center, when configured (failures are steps of their own).
async fn organisation(
    base: &session::BaseSession,
    config: &Config,
    account: &str,
) -> (
    Option<crate::model::OrganizationSnapshot>,
    Option<crate::model::IdentityCenterSnapshot>,
) {
    let Some(org) = &config.organization else {
        return (None, None);
    };
    let step = if config.organization_role_arn().is_some() {
        "sts:AssumeRole"
    } else {
        "sts:GetCallerIdentity"
    };
    let clients = match session::clients_for(
        base,
        config,
        &org.account,
        config.organization_role_arn(),
    )
    .await
    {
        Ok(c) => c,
        Err(e) => {
            let mut log = StepLog::default();
            log.failed(step, None, e);
            let steps = log.into_steps();
            let ic = org
                .identity_center
                .then(|| crate::model::IdentityCenterSnapshot {
                    read_from: org.account.clone(),
                    steps: steps.clone(),
                    ..Default::default()
                });
            return (
                Some(crate::model::OrganizationSnapshot {
                    read_from: org.account.clone(),
                    steps,
                    ..Default::default()
                }),
                ic,
            );
        }
    };
    let organization = super::organizations::collect(&clients, config).await;
    let identity_center = if org.identity_center {
        let region = org
            .identity_center_region
            .clone()
            .or_else(|| config.regions.first().cloned())
            .unwrap_or_else(|| "us-east-1".to_owned());
        Some(super::identity_center::collect(&clients, &region, &[account.to_owned()]).await)
    } else {
        None
    };
    (Some(organization), identity_center)
}

/// Every call the gate makes with its own credentials in the pipeline's account (service as the SDK names it,
/// operation), each one listed in `operations::OPERATIONS`. The gate's CodeBuild role
/// (`ci/templates/gate/gate-stage.cfn.yaml`) grants exactly their IAM actions (a test checks), plus
/// `sts:AssumeRole` of the organisation reader role when `[organization]` is configured.
pub const ACCOUNT_OPERATIONS: &[(&str, &str)] = &[
    ("STS", "GetCallerIdentity"),
    ("CodePipeline", "GetPipelineExecution"),
    ("CodePipeline", "GetPipeline"),
    ("CodePipeline", "ListActionExecutions"),
    ("CodePipeline", "ListRuleExecutions"),
    ("IAM", "GetAccountAuthorizationDetails"),
    ("IAM", "GetPolicy"),
    ("IAM", "GetPolicyVersion"),
    ("IAM", "ListSAMLProviders"),
    ("IAM", "ListOpenIDConnectProviders"),
    ("CloudTrail", "LookupEvents"),
];

/// The calls made through the organisation reader role (`[organization]`): the same reads an audit makes there.
pub const ORGANIZATION_OPERATIONS: &[(&str, &str)] = &[
    ("STS", "AssumeRole"),
    ("STS", "GetCallerIdentity"),
    ("Organizations", "DescribeOrganization"),
    ("Organizations", "ListRoots"),
    ("Organizations", "ListAccounts"),
    ("Organizations", "ListParents"),
    ("Organizations", "DescribeOrganizationalUnit"),
    ("Organizations", "ListTagsForResource"),
    ("Organizations", "ListPoliciesForTarget"),
    ("Organizations", "DescribePolicy"),
    ("SSO Admin", "ListInstances"),
    ("SSO Admin", "ListPermissionSets"),
    ("SSO Admin", "DescribePermissionSet"),
    ("SSO Admin", "GetInlinePolicyForPermissionSet"),
    ("SSO Admin", "ListManagedPoliciesInPermissionSet"),
    (
        "SSO Admin",
        "ListCustomerManagedPolicyReferencesInPermissionSet",
    ),
    ("SSO Admin", "GetPermissionsBoundaryForPermissionSet"),
    ("SSO Admin", "ListPermissionSetsProvisionedToAccount"),
    ("SSO Admin", "ListAccountAssignments"),
    ("identitystore", "ListUsers"),
    ("identitystore", "ListGroups"),
    ("identitystore", "ListGroupMemberships"),
];

/// The IAM actions of [`ACCOUNT_OPERATIONS`], as the gate role's policy must grant them.
pub fn account_actions() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = ACCOUNT_OPERATIONS
        .iter()
        .filter_map(|(service, name)| {
            super::operations::listed(service, name).map(|o| o.iam_action)
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gate_operation_is_a_listed_read_only_operation() {
        for (service, name) in ACCOUNT_OPERATIONS.iter().chain(ORGANIZATION_OPERATIONS) {
            let op = super::super::operations::listed(service, name)
                .unwrap_or_else(|| panic!("{service}:{name} is not in operations.rs"));
            let catalog = crate::iam::catalog::Catalog::global();
            let level = catalog.access_level(op.iam_action);
            assert!(
                super::super::operations::SESSION_ONLY.contains(&op.iam_action)
                    || matches!(
                        level,
                        crate::iam::catalog::AccessLevel::Read
                            | crate::iam::catalog::AccessLevel::List
                    ),
                "{} is {}",
                op.iam_action,
                level.as_str()
            );
        }
        assert_eq!(account_actions().len(), ACCOUNT_OPERATIONS.len());
    }

    /// The gate role of the CloudFormation template grants exactly the gate's own calls (and the organisation
    /// reader's AssumeRole): its actions are the `- service:Action` lines of the role's policy.
    #[test]
    fn the_gate_role_grants_exactly_the_gate_calls() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/ci/templates/gate/gate-stage.cfn.yaml"
        );
        let text = std::fs::read_to_string(path).expect("ci/templates/gate/gate-stage.cfn.yaml");
        let begin = text.find("# gate-actions: begin").expect("begin marker");
        let end = text.find("# gate-actions: end").expect("end marker");
        let mut granted: Vec<&str> = text[begin..end]
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- "))
            .map(str::trim)
            .filter(|a| a.contains(':') && !a.contains(' '))
            .collect();
        granted.sort_unstable();
        let mut wanted = account_actions();
        wanted.sort_unstable();
        assert_eq!(
            granted, wanted,
            "the gate role must grant exactly the gate's calls"
        );
        assert!(
            text.contains("sts:AssumeRole") && text.contains("OrganizationsReaderRoleName"),
            "the organisation reader's AssumeRole is scoped to that role"
        );
    }
}
