//! The change population: one change per pipeline execution of the period that ran a deploy action into a
//! production account (the environments the rule set calls production). For each: the pipeline version it ran,
//! its source revisions, who started it, every approval of the gate before the production stage in *that*
//! version (the approver from CloudTrail and from `updatedBy`, two sources that must agree), the deployment's time
//! and result, and whether the change is compliant — and if not, why. This is the population an auditor samples
//! (SOC 2 CC8.1); gate-coverage judges it. Pure.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::approvals::ApprovalIndex;
use super::deployments::action_targets;
use super::execution_actors::{self, Act};
use super::identity::Directory;
use crate::model::{
    AccountSnapshot, ActionExecution, Pipeline, PipelineAction, PipelineExecution, Snapshot, Stage,
};
use crate::rules::{matches_any, RequiredAction, RuleSet};

/// One approval of a change's gate.
#[derive(Debug, Clone, Serialize)]
pub struct GateApproval {
    pub stage: String,
    pub action: String,
    /// `Approved`, `Rejected`, `not run` (the action has no execution in this run).
    pub status: String,
    /// The approver as CloudTrail recorded it (normalised person key), and its readable name.
    pub cloudtrail_person: Option<String>,
    pub cloudtrail_name: Option<String>,
    pub cloudtrail_event: Option<String>,
    /// The approver as the action execution's `updatedBy` says (normalised).
    pub updated_by_person: Option<String>,
    pub updated_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl GateApproval {
    /// The person who approved, from either source.
    pub fn person(&self) -> Option<&str> {
        self.cloudtrail_person
            .as_deref()
            .or(self.updated_by_person.as_deref())
    }
}

/// Why a change is not compliant, by kind (gate-coverage reports the gate kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Violation {
    /// The version the execution ran had no manual approval before the production stage.
    NoGate,
    /// The version had a gate, but its approval actions did not run (skipped, bypassed).
    GateSkipped,
    /// A two-person gate approved by fewer than two distinct people.
    TooFewApprovers,
    /// CloudTrail and `updatedBy` name different people for one approval.
    SourcesDisagree,
    /// The execution's starter (or who retried, rolled back or overrode it) approved it.
    SelfApproved,
    /// A stage condition was overridden in the execution.
    ConditionOverridden,
    /// What the execution ran cannot be known (its version, or that version's declaration, was not collected).
    Unverifiable,
    /// The version the execution ran had no action matching the rule set's `approvals.required_action` before
    /// the production stage.
    RequiredGateMissing,
    /// The version had the required action, but it did not succeed in this execution (failed, or not run).
    RequiredGateNotPassed,
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub account_id: String,
    pub pipeline: String,
    pub region: String,
    pub execution_id: String,
    pub pipeline_version: Option<i32>,
    pub status: String,
    pub started_at: Option<DateTime<Utc>>,
    pub trigger: String,
    /// The person who started it (for StartPipelineExecution), normalised.
    pub started_by: Option<String>,
    pub source_revisions: Vec<String>,
    pub deploy_stage: String,
    pub deployed_into: Vec<String>,
    pub deployed_at: Option<DateTime<Utc>>,
    pub deploy_result: String,
    pub approvals: Vec<GateApproval>,
    pub violations: Vec<(Violation, String)>,
}

impl Change {
    pub fn compliant(&self) -> bool {
        self.violations.is_empty()
    }
}

/// The production accounts: accounts whose environment the rule set calls production.
pub fn production_accounts<'a>(snapshot: &'a Snapshot, rules: &RuleSet) -> BTreeSet<&'a str> {
    snapshot
        .accounts
        .iter()
        .filter(|a| rules.approvals.is_production(&a.environment))
        .map(|a| a.account_id.as_str())
        .collect()
}

/// Every change of the period, in execution order.
pub fn changes(
    snapshot: &Snapshot,
    rules: &RuleSet,
    people: &Directory,
    approvals: &ApprovalIndex,
) -> Vec<Change> {
    let prod = production_accounts(snapshot, rules);
    let mut out = Vec::new();
    for account in &snapshot.accounts {
        for pipeline in &account.pipelines {
            for execution in &pipeline.executions {
                if let Some(change) = change(
                    snapshot, rules, people, approvals, &prod, account, pipeline, execution,
                ) {
                    out.push(change);
                }
            }
        }
    }
    out.sort_by(|a, b| {
        a.started_at
            .cmp(&b.started_at)
            .then_with(|| a.execution_id.cmp(&b.execution_id))
    });
    out
}

/// The production stages of a declaration: (index, stage, accounts it deploys into).
fn production_stages<'s>(
    pipeline: &Pipeline,
    stages: &'s [Stage],
    prod: &BTreeSet<&str>,
) -> Vec<(usize, &'s Stage, Vec<String>)> {
    let wanted = |a: &str| prod.contains(a);
    stages
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let mut accounts: Vec<String> = s
                .actions
                .iter()
                .flat_map(|a| action_targets(a, pipeline, &wanted))
                .map(|t| t.account)
                .collect();
            accounts.sort();
            accounts.dedup();
            (!accounts.is_empty()).then_some((i, s, accounts))
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn change(
    snapshot: &Snapshot,
    rules: &RuleSet,
    people: &Directory,
    approvals: &ApprovalIndex,
    prod: &BTreeSet<&str>,
    account: &AccountSnapshot,
    pipeline: &Pipeline,
    execution: &PipelineExecution,
) -> Option<Change> {
    let ran: Vec<_> = pipeline
        .action_executions
        .iter()
        .filter(|a| a.pipeline_execution_id == execution.id)
        .collect();
    let mut violations = Vec::new();
    let version = execution
        .pipeline_version
        .or_else(|| ran.iter().find_map(|a| a.pipeline_version));
    let stages = match version {
        Some(v) => pipeline.stages_of(v),
        None => None,
    };
    let declared_version = stages.is_some();
    let stages = match stages {
        Some(s) => s,
        None => {
            violations.push((
                Violation::Unverifiable,
                match version {
                    Some(v) => format!("the declaration of version {v} was not collected: its gates cannot be verified"),
                    None => "the pipeline version the execution ran is unknown: its gates cannot be verified".to_owned(),
                },
            ));
            // Judge against the current declaration so the deployment is still found.
            &pipeline.stages
        }
    };
    // The first production stage whose actions ran in this execution.
    let (index, stage, accounts) = production_stages(pipeline, stages, prod)
        .into_iter()
        .find(|(_, s, _)| ran.iter().any(|a| a.stage == s.name && !is_gate_action(a)))?;
    let deployed: Vec<_> = ran.iter().filter(|a| a.stage == stage.name).collect();
    let deployed_at = deployed
        .iter()
        .filter_map(|a| a.last_update_time.or(a.start_time))
        .max();
    let deploy_result = if deployed
        .iter()
        .any(|a| a.status.eq_ignore_ascii_case("Failed"))
    {
        "Failed".to_owned()
    } else if deployed
        .iter()
        .all(|a| a.status.eq_ignore_ascii_case("Succeeded"))
    {
        "Succeeded".to_owned()
    } else {
        deployed
            .iter()
            .map(|a| a.status.clone())
            .next()
            .unwrap_or_default()
    };
    if !snapshot.period.contains(
        deployed_at
            .or(execution.start_time)
            .unwrap_or(snapshot.period.since),
    ) {
        return None;
    }
    if let Some(required) = &rules.approvals.required_action {
        violations.extend(required_gate(
            required,
            pipeline,
            prod,
            stages,
            index,
            declared_version.then_some(version).flatten(),
            &ran,
        ));
    }
    // The gate: the nearest earlier stage (in that version) with manual approvals.
    let gate = stages[..index]
        .iter()
        .rev()
        .find(|s| s.approval_actions().next().is_some());
    let mut gate_approvals = Vec::new();
    match gate {
        None => violations.push((
            Violation::NoGate,
            format!(
                "version {} has no manual approval before stage {}",
                version.map(|v| v.to_string()).unwrap_or_else(|| "?".into()),
                stage.name
            ),
        )),
        Some(gate) => {
            let required = if rules.approvals.require_two_person_for_prod {
                2
            } else {
                1
            };
            let declared = gate.approval_actions().count();
            if declared < required {
                violations.push((
                    Violation::NoGate,
                    format!(
                        "in version {} the gate before stage {} is {} with {declared} approval action(s); the rule \
                         set requires {required} for production",
                        version.map(|v| v.to_string()).unwrap_or_else(|| "?".into()),
                        stage.name,
                        gate.name
                    ),
                ));
            }
            for action in gate.approval_actions() {
                let run = ran
                    .iter()
                    .filter(|a| a.stage == gate.name && a.action == action.name)
                    .max_by_key(|a| a.last_update_time);
                let recorded = approvals.approvals.iter().find(|a| {
                    a.account.account_id == account.account_id
                        && a.event.pipeline == pipeline.name
                        && a.event.stage == gate.name
                        && a.event.action == action.name
                        && a.event.succeeded()
                        && a.attribution.execution_id() == Some(execution.id.as_str())
                });
                let status = match (run, recorded) {
                    (Some(r), _) if r.status.eq_ignore_ascii_case("Succeeded") => {
                        "Approved".to_owned()
                    }
                    (Some(r), _) if r.status.eq_ignore_ascii_case("Failed") => {
                        "Rejected".to_owned()
                    }
                    (Some(r), _) => r.status.clone(),
                    (None, Some(a)) => a.event.status.clone(),
                    (None, None) => "not run".to_owned(),
                };
                let updated = run.and_then(|r| r.updated_by.clone());
                gate_approvals.push(GateApproval {
                    stage: gate.name.clone(),
                    action: action.name.clone(),
                    status,
                    cloudtrail_person: recorded.map(|a| a.person.key.clone()),
                    cloudtrail_name: recorded.map(|a| a.person.name.clone()),
                    cloudtrail_event: recorded.map(|a| a.event.event_id.clone()),
                    updated_by_person: updated.as_deref().map(|u| people.person_of_arn(u).key),
                    updated_by: updated,
                    decided_at: recorded
                        .map(|a| a.event.event_time)
                        .or(run.and_then(|r| r.last_update_time)),
                });
            }
            let approved: Vec<&GateApproval> = gate_approvals
                .iter()
                .filter(|a| a.status == "Approved")
                .collect();
            if approved.is_empty() {
                violations.push((
                    Violation::GateSkipped,
                    format!(
                        "stage {} deployed although no approval of gate {} was given in this execution",
                        stage.name, gate.name
                    ),
                ));
            }
            for a in &approved {
                if let (Some(c), Some(u)) = (&a.cloudtrail_person, &a.updated_by_person) {
                    if c != u {
                        violations.push((
                            Violation::SourcesDisagree,
                            format!(
                                "{}/{}: CloudTrail names {c}, updatedBy names {u}",
                                a.stage, a.action
                            ),
                        ));
                    }
                }
            }
            let two_person = rules.approvals.require_two_person_for_prod
                || gate.approval_actions().count() >= 2
                || matches_any(
                    &rules.approvals.two_person_stages,
                    &format!("{}/{}", pipeline.name, gate.name),
                );
            // An AWS service that approved is not a person: it never makes a gate two-person.
            let distinct: BTreeSet<&str> = approved
                .iter()
                .filter_map(|a| a.person())
                .filter(|p| !super::identity::is_service_key(p))
                .collect();
            if two_person && declared >= required && !approved.is_empty() && distinct.len() < 2 {
                violations.push((
                    Violation::TooFewApprovers,
                    format!(
                        "two-person gate {} approved by {} distinct person(s): {}",
                        gate.name,
                        distinct.len(),
                        distinct.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
    }
    let actors = execution_actors::actors(people, account, pipeline, execution);
    // Every approval of the execution counts for self-approval, not only the production gate's: a person who
    // started a change and approved any gate on its way to production approved their own change.
    let mut execution_approvers: BTreeSet<String> = approvals
        .approvals
        .iter()
        .filter(|a| {
            a.event.is_approval()
                && a.account.account_id == account.account_id
                && a.event.pipeline == pipeline.name
                && a.attribution.execution_id() == Some(execution.id.as_str())
        })
        .map(|a| a.person.key.clone())
        .collect();
    execution_approvers.extend(
        ran.iter()
            .filter(|a| is_gate_action(a) && a.status.eq_ignore_ascii_case("Succeeded"))
            .filter_map(|a| a.updated_by.as_deref())
            .map(|u| people.person_of_arn(u).key),
    );
    execution_approvers.extend(
        gate_approvals
            .iter()
            .filter(|g| g.status == "Approved")
            .filter_map(|g| g.person().map(str::to_owned)),
    );
    // One override by one person is seen twice (the CloudTrail call and the rule executions' updatedBy): one
    // violation per person, naming every piece of evidence.
    let mut overrides: Vec<(&str, Vec<&str>)> = Vec::new();
    for actor in actors.iter().filter(|a| a.act == Act::Overrode) {
        match overrides
            .iter_mut()
            .find(|(key, _)| *key == actor.person.key)
        {
            Some((_, details)) => details.push(&actor.evidence.detail),
            None => overrides.push((&actor.person.key, vec![&actor.evidence.detail])),
        }
    }
    for actor in &actors {
        if execution_approvers.contains(&actor.person.key) {
            violations.push((
                Violation::SelfApproved,
                format!(
                    "{} {} the execution and approved it",
                    actor.person.name,
                    actor.act.as_str()
                ),
            ));
        }
        if actor.act == Act::Overrode {
            if let Some(at) = overrides
                .iter()
                .position(|(key, _)| *key == actor.person.key)
            {
                let (_, details) = overrides.remove(at);
                violations.push((
                    Violation::ConditionOverridden,
                    format!(
                        "{} overrode a stage condition ({})",
                        actor.person.name,
                        details.join("; ")
                    ),
                ));
            }
        }
    }
    let mut seen = BTreeSet::new();
    violations.retain(|(_, message)| seen.insert(message.clone()));
    let started_by = actors
        .iter()
        .find(|a| a.act == Act::Started)
        .map(|a| a.person.key.clone());
    Some(Change {
        account_id: account.account_id.clone(),
        pipeline: pipeline.name.clone(),
        region: pipeline.region.clone(),
        execution_id: execution.id.clone(),
        pipeline_version: version,
        status: execution.status.clone(),
        started_at: execution.start_time,
        trigger: if execution.trigger_detail.is_empty() {
            execution.trigger_type.clone()
        } else {
            format!("{} by {}", execution.trigger_type, execution.trigger_detail)
        },
        started_by,
        source_revisions: execution
            .source_revisions
            .iter()
            .map(|r| {
                format!(
                    "{}: {}{}",
                    r.action_name,
                    r.revision_id.as_deref().unwrap_or("?"),
                    r.revision_summary
                        .as_deref()
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default()
                )
            })
            .collect(),
        deploy_stage: stage.name.clone(),
        deployed_into: accounts,
        deployed_at,
        deploy_result,
        approvals: gate_approvals,
        violations,
    })
}

/// The rule set's required action in the version the execution ran (`version`, `None` when that version's
/// declaration is unknown and `stages` are today's): declared before the production stage `index` (an earlier
/// stage, or a lower runOrder than the stage's first production deploy action), and succeeded in this execution.
fn required_gate(
    required: &RequiredAction,
    pipeline: &Pipeline,
    prod: &BTreeSet<&str>,
    stages: &[Stage],
    index: usize,
    version: Option<i32>,
    ran: &[&ActionExecution],
) -> Vec<(Violation, String)> {
    let Some(version) = version else {
        return vec![(
            Violation::Unverifiable,
            format!(
                "the declaration of the version the execution ran was not collected: whether it passed the \
                 required gate ({}) cannot be verified",
                required.describe()
            ),
        )];
    };
    let deploy = &stages[index];
    let wanted = |a: &str| prod.contains(a);
    let first_deploy = deploy
        .actions
        .iter()
        .filter(|a| !action_targets(a, pipeline, &wanted).is_empty())
        .map(|a| a.run_order)
        .min()
        .unwrap_or(i32::MIN);
    let matching = |a: &&PipelineAction| required.matches(&a.provider, &a.name, &a.configuration);
    let declared: Vec<(&Stage, &PipelineAction)> = stages[..index]
        .iter()
        .flat_map(|s| s.actions.iter().filter(matching).map(move |a| (s, a)))
        .chain(
            deploy
                .actions
                .iter()
                .filter(|a| a.run_order < first_deploy)
                .filter(matching)
                .map(|a| (deploy, a)),
        )
        .collect();
    if declared.is_empty() {
        return vec![(
            Violation::RequiredGateMissing,
            format!(
                "version {version} has no action matching the required gate ({}) before stage {}",
                required.describe(),
                deploy.name
            ),
        )];
    }
    let mut out = Vec::new();
    for (stage, action) in declared {
        let run = ran
            .iter()
            .filter(|r| r.stage == stage.name && r.action == action.name)
            .max_by_key(|r| r.last_update_time.or(r.start_time));
        match run {
            Some(r) if r.status.eq_ignore_ascii_case("Succeeded") => {}
            Some(r) => out.push((
                Violation::RequiredGateNotPassed,
                format!(
                    "the required gate {}/{} did not succeed in this execution (status {})",
                    stage.name, action.name, r.status
                ),
            )),
            None => out.push((
                Violation::RequiredGateNotPassed,
                format!(
                    "the required gate {}/{} of version {version} has no recorded action execution in this \
                     execution",
                    stage.name, action.name
                ),
            )),
        }
    }
    out
}

fn is_gate_action(a: &ActionExecution) -> bool {
    a.category
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case("Approval"))
}
