//! The gate's decision on one execution, from a snapshot that holds it: pure, no I/O.
//!
//! It reuses the audit's own views: people come from `analysis::identity::Directory` (the same normalisation as
//! the ledger and every check), CloudTrail approvals are tied to the execution by `analysis::approvals::index`,
//! who started, retried, overrode or rolled back the execution comes from `analysis::execution_actors`, the stages
//! deploying into production from `analysis::deployments`, and IAM answers from `analysis::access`. It must not
//! normalise identities itself, nor read anything but its inputs.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::analysis::access::AccessModel;
use crate::analysis::approvals;
use crate::analysis::deployments::action_targets;
use crate::analysis::execution_actors;
use crate::analysis::identity::{identity_center_key, is_service_key, Directory};
use crate::model::{AccountSnapshot, Pipeline, Snapshot, Stage, StepStatus};
use crate::rules::{matches_any, ApproverEntitlement, RuleSet};

const APPROVE: &str = "codepipeline:PutApprovalResult";

/// The one execution the gate judges, and what it knows beside the snapshot.
pub struct Question<'a> {
    pub snapshot: &'a Snapshot,
    pub rules: &'a RuleSet,
    pub account: &'a str,
    pub region: &'a str,
    pub pipeline: &'a str,
    pub execution_id: &'a str,
    /// The accounts whose environment the rule set calls production.
    pub production_accounts: &'a BTreeSet<String>,
}

/// One approval of the execution as the gate saw it.
#[derive(Debug, Clone, Serialize)]
pub struct SeenApproval {
    pub stage: String,
    pub action: String,
    /// `Approved`, `Rejected`, `waiting`, `not run yet`, or the action's status.
    pub status: String,
    /// The normalised person (updatedBy), when the action was decided.
    pub person: Option<String>,
    pub person_name: Option<String>,
    /// The ARN CodePipeline recorded (`updatedBy`).
    pub updated_by: Option<String>,
    /// Which sources named the approver: ListActionExecutions alone (CloudTrail not arrived yet), or both.
    pub source: String,
}

/// A reason the execution must not proceed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateViolation {
    /// The audit check the reason belongs to (`distinct-approvers`, `self-approval`, `gate-coverage`,
    /// `approver-entitlement`).
    pub check: &'static str,
    pub principal: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    /// Everything verified: the execution may proceed (exit 0).
    Proceed,
    /// At least one violation is proven (exit 3).
    Violations,
    /// Something could not be verified and nothing is proven wrong: fail closed (exit 1).
    CannotDecide,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Verdict {
    pub approvals: Vec<SeenApproval>,
    pub violations: Vec<GateViolation>,
    /// Why the gate cannot decide (each one alone fails closed).
    pub undecided: Vec<String>,
}

impl Verdict {
    pub fn decision(&self) -> Decision {
        if !self.violations.is_empty() {
            Decision::Violations
        } else if !self.undecided.is_empty() {
            Decision::CannotDecide
        } else {
            Decision::Proceed
        }
    }

    fn violation(&mut self, check: &'static str, principal: Option<&str>, reason: String) {
        let v = GateViolation {
            check,
            principal: principal.map(str::to_owned),
            reason,
        };
        if !self.violations.contains(&v) {
            self.violations.push(v);
        }
    }
}

/// Decides on the execution.
pub fn decide(q: &Question) -> Verdict {
    let mut verdict = Verdict::default();
    collection_gaps(q.snapshot, &mut verdict);
    let Some(account) = q.snapshot.account(q.account) else {
        verdict
            .undecided
            .push(format!("account {} was not collected", q.account));
        return verdict;
    };
    let Some(pipeline) = account
        .pipelines
        .iter()
        .find(|p| p.name == q.pipeline && p.region == q.region)
    else {
        verdict.undecided.push(format!(
            "pipeline {} in {} was not collected",
            q.pipeline, q.region
        ));
        return verdict;
    };
    let Some(execution) = pipeline.executions.iter().find(|e| e.id == q.execution_id) else {
        verdict.undecided.push(format!(
            "execution {} of {} was not collected",
            q.execution_id, q.pipeline
        ));
        return verdict;
    };
    let Some(version) = execution.pipeline_version else {
        verdict.undecided.push(format!(
            "the pipeline version execution {} runs is unknown",
            execution.id
        ));
        return verdict;
    };
    let Some(stages) = pipeline.stages_of(version) else {
        verdict.undecided.push(format!(
            "the declaration of version {version} of {} was not collected",
            pipeline.name
        ));
        return verdict;
    };
    let first_production = version_gates(q, pipeline, version, stages, &mut verdict);
    let people = Directory::new(q.snapshot, &q.rules.identity);
    let index = approvals::index(q.snapshot, q.rules, &people);
    let access = AccessModel::new(q.snapshot, q.rules);
    for problem in access
        .problems
        .iter()
        .filter(|p| p.account_id == account.account_id)
    {
        verdict.undecided.push(format!(
            "policy {} cannot be evaluated ({}): entitlement cannot be proven",
            problem.source, problem.error
        ));
    }
    // Every manual approval before the first production stage (all of them when none deploys into production).
    let considered = &stages[..first_production.unwrap_or(stages.len())];
    let mut approved: Vec<(SeenApproval, String)> = Vec::new();
    for stage in considered {
        for action in stage.approval_actions() {
            let run = pipeline
                .action_executions
                .iter()
                .filter(|a| {
                    a.pipeline_execution_id == execution.id
                        && a.stage == stage.name
                        && a.action == action.name
                })
                .max_by_key(|a| a.last_update_time);
            let what = format!("{}/{}", stage.name, action.name);
            let mut seen = SeenApproval {
                stage: stage.name.clone(),
                action: action.name.clone(),
                status: String::new(),
                person: None,
                person_name: None,
                updated_by: run.and_then(|r| r.updated_by.clone()),
                source: String::new(),
            };
            let Some(run) = run else {
                seen.status = "not run yet".to_owned();
                seen.source = "ListActionExecutions".to_owned();
                verdict.undecided.push(format!(
                    "{what}: has not run yet in this execution (pending approval)"
                ));
                verdict.approvals.push(seen);
                continue;
            };
            let status = run.status.as_str();
            let decided =
                status.eq_ignore_ascii_case("Succeeded") || status.eq_ignore_ascii_case("Failed");
            if !decided {
                seen.status = if status.eq_ignore_ascii_case("InProgress") {
                    "waiting".to_owned()
                } else {
                    status.to_owned()
                };
                seen.source = "ListActionExecutions".to_owned();
                verdict.undecided.push(format!(
                    "{what}: still {} (approval pending)",
                    if seen.status == "waiting" {
                        "waiting for approval"
                    } else {
                        status
                    }
                ));
                verdict.approvals.push(seen);
                continue;
            }
            let Some(updated_by) = run.updated_by.as_deref() else {
                seen.status = status.to_owned();
                seen.source = "ListActionExecutions (no updatedBy)".to_owned();
                verdict.undecided.push(format!(
                    "{what}: ListActionExecutions names no updatedBy: the approver cannot be known"
                ));
                verdict.approvals.push(seen);
                continue;
            };
            let person = people.person_of_arn(updated_by);
            seen.person = Some(person.key.clone());
            seen.person_name = Some(person.name.clone());
            // CloudTrail's PutApprovalResult events tied to this very action execution (by token, else updatedBy
            // and time, as the audit ties them).
            let events: Vec<&approvals::Approval> = index
                .approvals
                .iter()
                .filter(|a| {
                    a.account.account_id == account.account_id
                        && a.event.pipeline == pipeline.name
                        && a.event.stage == stage.name
                        && a.event.action == action.name
                        && a.event.succeeded()
                        && a.attribution.execution_id() == Some(execution.id.as_str())
                })
                .collect();
            seen.source = if events.is_empty() {
                "ListActionExecutions updatedBy only (the CloudTrail event has not arrived yet)"
                    .to_owned()
            } else {
                format!(
                    "ListActionExecutions updatedBy and CloudTrail event {}",
                    events
                        .iter()
                        .map(|e| e.event.event_id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            for e in &events {
                if e.person.key != person.key {
                    verdict.violation(
                        "gate-coverage",
                        Some(&person.key),
                        format!(
                            "{what}: the sources disagree: updatedBy names {} ({updated_by}), CloudTrail event {} \
                             names {} ({})",
                            person.key,
                            e.event.event_id,
                            e.person.key,
                            e.event.identity.arn.as_deref().unwrap_or("no ARN")
                        ),
                    );
                }
            }
            if status.eq_ignore_ascii_case("Failed") {
                seen.status = "Rejected".to_owned();
                verdict.violation(
                    "gate-coverage",
                    Some(&person.key),
                    format!("{what}: rejected by {} ({updated_by})", person.name),
                );
                verdict.approvals.push(seen);
                continue;
            }
            seen.status = "Approved".to_owned();
            entitlement(
                q,
                account,
                pipeline,
                &access,
                &people,
                &seen,
                updated_by,
                &mut verdict,
            );
            approved.push((seen.clone(), updated_by.to_owned()));
            verdict.approvals.push(seen);
        }
    }
    distinct_people(q, pipeline, considered, &approved, &mut verdict);
    // Nobody who started, retried, overrode or rolled back this execution approved it.
    let approvers: BTreeSet<&str> = approved
        .iter()
        .filter_map(|(s, _)| s.person.as_deref())
        .chain(
            index
                .approvals
                .iter()
                .filter(|a| {
                    a.event.is_approval()
                        && a.account.account_id == account.account_id
                        && a.event.pipeline == pipeline.name
                        && a.attribution.execution_id() == Some(execution.id.as_str())
                })
                .map(|a| a.person.key.as_str()),
        )
        .collect();
    for actor in execution_actors::actors(&people, account, pipeline, execution) {
        if approvers.contains(actor.person.key.as_str()) {
            verdict.violation(
                "self-approval",
                Some(&actor.person.key),
                format!(
                    "{} {} this execution and approved it ({})",
                    actor.person.name,
                    actor.act.as_str(),
                    actor.evidence.detail
                ),
            );
        }
    }
    verdict
}

/// Every collection step that did not fully succeed: the gate cannot decide on what it could not read.
fn collection_gaps(snapshot: &Snapshot, verdict: &mut Verdict) {
    let mut steps: Vec<(&str, &crate::model::CollectionStep)> = Vec::new();
    for a in &snapshot.accounts {
        steps.extend(a.steps.iter().map(|s| (a.account_id.as_str(), s)));
    }
    if let Some(org) = &snapshot.organization {
        steps.extend(org.steps.iter().map(|s| ("organization", s)));
    }
    if let Some(ic) = &snapshot.identity_center {
        steps.extend(ic.steps.iter().map(|s| ("identity-center", s)));
    }
    for (whose, step) in steps
        .into_iter()
        .filter(|(_, s)| s.status != StepStatus::Ok)
    {
        verdict.undecided.push(format!(
            "{whose}: {}{} could not be read completely: {}",
            step.step,
            step.region
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default(),
            step.error.as_deref().unwrap_or("no detail")
        ));
    }
}

/// The gates the rule set requires of the version the execution runs. Returns the index of the first stage that
/// deploys into production.
fn version_gates(
    q: &Question,
    pipeline: &Pipeline,
    version: i32,
    stages: &[Stage],
    verdict: &mut Verdict,
) -> Option<usize> {
    if q.production_accounts.is_empty() {
        verdict.undecided.push(format!(
            "no account is known to be production (environments {}): the gates the rule set requires cannot be \
             placed; list the accounts with their environment or configure [organization]",
            q.rules.approvals.production_environments.join(", ")
        ));
    }
    let is_prod = |a: &str| q.production_accounts.contains(a);
    let required = if q.rules.approvals.require_two_person_for_prod {
        2
    } else {
        1
    };
    let mut first = None;
    for (i, stage) in stages.iter().enumerate() {
        let mut accounts: Vec<String> = stage
            .actions
            .iter()
            .flat_map(|a| action_targets(a, pipeline, &is_prod))
            .map(|t| t.account)
            .collect();
        accounts.sort();
        accounts.dedup();
        if accounts.is_empty() {
            continue;
        }
        first.get_or_insert(i);
        let best = stages[..i]
            .iter()
            .map(|s| s.approval_actions().count())
            .max()
            .unwrap_or(0);
        if best < required {
            verdict.violation(
                "gate-coverage",
                None,
                format!(
                    "version {version} of {}: stage {} deploys into production {} after at most {best} approval \
                     action(s) in one earlier stage; the rule set requires {required}",
                    pipeline.name,
                    stage.name,
                    accounts.join(", ")
                ),
            );
        }
    }
    for stage in stages {
        if matches_any(
            &q.rules.approvals.two_person_stages,
            &format!("{}/{}", pipeline.name, stage.name),
        ) && stage.approval_actions().count() < 2
        {
            verdict.violation(
                "gate-coverage",
                None,
                format!(
                    "version {version} of {}: stage {} must be a two-person gate (approvals.two_person_stages) but \
                     has {} approval action(s)",
                    pipeline.name,
                    stage.name,
                    stage.approval_actions().count()
                ),
            );
        }
    }
    first
}

/// No person approves two approval actions of the execution, and every two-person stage has two people.
fn distinct_people(
    q: &Question,
    pipeline: &Pipeline,
    considered: &[Stage],
    approved: &[(SeenApproval, String)],
    verdict: &mut Verdict,
) {
    let mut by_person: BTreeMap<&str, Vec<&(SeenApproval, String)>> = BTreeMap::new();
    for a in approved {
        if let Some(p) = a.0.person.as_deref() {
            by_person.entry(p).or_default().push(a);
        }
    }
    for (person, list) in &by_person {
        if list.len() < 2 {
            continue;
        }
        let actions: Vec<String> = list
            .iter()
            .map(|(s, _)| format!("{}/{}", s.stage, s.action))
            .collect();
        let mut arns: Vec<&str> = list.iter().map(|(_, arn)| arn.as_str()).collect();
        arns.sort_unstable();
        arns.dedup();
        let name = list[0].0.person_name.as_deref().unwrap_or(person);
        verdict.violation(
            "distinct-approvers",
            Some(person),
            format!(
                "{name} approved {} approval actions of this execution ({}) as {}",
                list.len(),
                actions.join(", "),
                arns.join(" and ")
            ),
        );
    }
    for stage in considered {
        let actions = stage.approval_actions().count();
        let two_person = actions >= 2
            || matches_any(
                &q.rules.approvals.two_person_stages,
                &format!("{}/{}", pipeline.name, stage.name),
            );
        if !two_person {
            continue;
        }
        let here: Vec<&(SeenApproval, String)> = approved
            .iter()
            .filter(|(s, _)| s.stage == stage.name)
            .collect();
        if here.len() < actions {
            continue; // not all approved yet: already undecided
        }
        let people: BTreeSet<&str> = here
            .iter()
            .filter_map(|(s, _)| s.person.as_deref())
            .filter(|p| !is_service_key(p))
            .collect();
        let someone_twice = here
            .iter()
            .filter_map(|(s, _)| s.person.as_deref())
            .any(|p| by_person.get(p).is_some_and(|l| l.len() > 1));
        if people.len() < 2 && !someone_twice {
            verdict.violation(
                "distinct-approvers",
                None,
                format!(
                    "two-person stage {} approved by {} distinct person(s)",
                    stage.name,
                    people.len()
                ),
            );
        }
    }
}

/// The approver is entitled by the rule set (`approvals.approvers`) and IAM allows their principal to approve.
#[allow(clippy::too_many_arguments)]
fn entitlement(
    q: &Question,
    account: &AccountSnapshot,
    pipeline: &Pipeline,
    access: &AccessModel,
    people: &Directory,
    seen: &SeenApproval,
    updated_by: &str,
    verdict: &mut Verdict,
) {
    let what = format!("{}/{}/{}", pipeline.name, seen.stage, seen.action);
    let entries: Vec<&ApproverEntitlement> = q
        .rules
        .approvals
        .approvers
        .iter()
        .filter(|e| matches_any(&e.actions, &what))
        .collect();
    let person = seen.person.as_deref().unwrap_or_default();
    let name = seen.person_name.as_deref().unwrap_or(person);
    if entries.is_empty() {
        verdict.undecided.push(format!(
            "{what}: the rule set entitles nobody to approve it (approvals.approvers): {name}'s entitlement cannot \
             be proven"
        ));
        return;
    }
    let principal = principal_of(account, updated_by);
    let groups = groups_of(people, account, principal.as_deref(), person);
    let entitled = entries.iter().any(|e| {
        principal
            .as_deref()
            .is_some_and(|p| matches_any(&e.principals, p))
            || matches_any(&e.people, person)
            || groups.iter().any(|g| e.groups.iter().any(|w| w == g))
    });
    if !entitled {
        verdict.violation(
            "approver-entitlement",
            Some(person),
            format!(
                "{what}: {name} ({updated_by}) is not entitled to approve it by the rule set (approvals.approvers)"
            ),
        );
        return;
    }
    let Some(principal) = principal else {
        verdict.undecided.push(format!(
            "{what}: the principal behind {updated_by} is not in the collected IAM of {}: its permission cannot be \
             verified",
            account.account_id
        ));
        return;
    };
    let arn = pipeline.action_arn(&seen.stage, &seen.action);
    let allowed = access
        .who_can(&account.account_id, APPROVE, &arn)
        .iter()
        .any(|g| g.principal.arn == principal);
    if !allowed {
        verdict.violation(
            "approver-entitlement",
            Some(person),
            format!(
                "{what}: {name} is entitled by the rule set, but IAM does not allow {principal} \
                 codepipeline:PutApprovalResult on {arn}"
            ),
        );
    }
}

/// The IAM principal (as IAM lists it, path included) behind an ARN CodePipeline recorded: an IAM user, or the
/// role of an assumed-role session.
fn principal_of(account: &AccountSnapshot, recorded: &str) -> Option<String> {
    let iam = account.iam.as_ref()?;
    if recorded.contains(":user/") {
        return iam
            .users
            .iter()
            .find(|u| u.arn == recorded)
            .map(|u| u.arn.clone());
    }
    let (_, rest) = recorded.split_once(":assumed-role/")?;
    let role = rest.split('/').next()?;
    let account_id = recorded.split(':').nth(4)?;
    (account_id == account.account_id)
        .then(|| {
            iam.roles
                .iter()
                .find(|r| r.name == role)
                .map(|r| r.arn.clone())
        })
        .flatten()
}

/// The groups of an approver: the IAM groups of an IAM user, the Identity Center groups of an Identity Center
/// user.
fn groups_of(
    people: &Directory,
    account: &AccountSnapshot,
    principal: Option<&str>,
    person: &str,
) -> Vec<String> {
    let mut groups = Vec::new();
    if let (Some(p), Some(iam)) = (principal, account.iam.as_ref()) {
        if let Some(user) = iam.users.iter().find(|u| u.arn == p) {
            groups.extend(user.groups.iter().cloned());
        }
    }
    if let Some(ic) = people.identity_center() {
        for user in &ic.users {
            if identity_center_key(&ic.identity_store_id, &user.id) != person {
                continue;
            }
            for m in ic.memberships.iter().filter(|m| m.user_id == user.id) {
                if let Some(g) = ic.group(&m.group_id) {
                    groups.push(g.display_name.clone());
                }
            }
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{policy, role_session, trust_account, user, Org, ACCOUNT};
    use crate::model::{CollectionStep, PipelineVersion};
    use crate::rules::ApproverEntitlement;

    const PROD: &str = "444444444444";

    /// webapp with DeployProd deploying into the prod account; alice (group ApprovalA) and bob (group ApprovalB)
    /// entitled to one gate each, and the role ReleaseManager allowed to approve both.
    fn org() -> Org {
        let mut org = Org::two_person_pipeline();
        org.account().pipelines[0].stages[2].actions[0].role_arn =
            Some(format!("arn:aws:iam::{PROD}:role/CICDCrossAccountRole"));
        let approve = |gate: &str| {
            policy(
                serde_json::json!([{"Effect": "Allow", "Action": "codepipeline:PutApprovalResult",
                "Resource": format!("arn:aws:codepipeline:us-east-1:{ACCOUNT}:webapp/ProdGate/{gate}")}]),
            )
        };
        org.add_group("ApprovalA", approve("ApprovalA"));
        org.add_group("ApprovalB", approve("ApprovalB"));
        org.add_user("alice", &["ApprovalA"], None);
        org.add_user("bob", &["ApprovalB"], None);
        org.add_user(
            "root-ish",
            &[],
            Some(policy(
                serde_json::json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]),
            )),
        );
        org.add_role("ReleaseManager", trust_account(), approve("*"));
        for gate in ["ApprovalA", "ApprovalB"] {
            org.rules.approvals.approvers.push(ApproverEntitlement {
                actions: vec![format!("webapp/ProdGate/{gate}")],
                principals: vec![format!("arn:aws:iam::{ACCOUNT}:role/ReleaseManager")],
                groups: vec![gate.to_owned()],
                people: vec![],
            });
        }
        org.execution("ex-1");
        org
    }

    fn verdict_of(org: &Org, production: &[&str]) -> Verdict {
        let production: BTreeSet<String> = production.iter().map(|a| (*a).to_owned()).collect();
        decide(&Question {
            snapshot: &org.snapshot,
            rules: &org.rules,
            account: ACCOUNT,
            region: "us-east-1",
            pipeline: "webapp",
            execution_id: "ex-1",
            production_accounts: &production,
        })
    }

    fn verdict(org: &Org) -> Verdict {
        verdict_of(org, &[PROD])
    }

    fn checks(v: &Verdict) -> Vec<&'static str> {
        v.violations.iter().map(|x| x.check).collect()
    }

    #[test]
    fn two_entitled_people_let_the_execution_proceed_naming_their_sources() {
        let mut org = org();
        org.approve("ex-1", "ProdGate", "ApprovalA", user("alice"), "reviewed");
        org.approve("ex-1", "ProdGate", "ApprovalB", user("bob"), "reviewed");
        let v = verdict(&org);
        assert_eq!(v.decision(), Decision::Proceed, "{v:#?}");
        assert_eq!(v.approvals.len(), 2);
        assert!(
            v.approvals
                .iter()
                .all(|a| a.source.contains("CloudTrail event")),
            "{v:#?}"
        );
        // Before CloudTrail delivers the events, updatedBy alone decides, and says so.
        org.account().approval_events.clear();
        let v = verdict(&org);
        assert_eq!(v.decision(), Decision::Proceed, "{v:#?}");
        assert!(
            v.approvals
                .iter()
                .all(|a| a.source.contains("has not arrived yet")),
            "{v:#?}"
        );
    }

    #[test]
    fn one_role_under_two_session_names_is_one_person() {
        let mut org = org();
        org.approve(
            "ex-1",
            "ProdGate",
            "ApprovalA",
            role_session("ReleaseManager", "rm-alice"),
            "a",
        );
        org.approve(
            "ex-1",
            "ProdGate",
            "ApprovalB",
            role_session("ReleaseManager", "rm-alice-2"),
            "b",
        );
        let v = verdict(&org);
        assert_eq!(v.decision(), Decision::Violations);
        assert_eq!(checks(&v), vec!["distinct-approvers"], "{v:#?}");
        assert!(v.violations[0].reason.contains("rm-alice-2"), "{v:#?}");
    }

    #[test]
    fn a_pending_approval_fails_closed() {
        let mut org = org();
        org.approve("ex-1", "ProdGate", "ApprovalA", user("alice"), "reviewed");
        assert_eq!(
            verdict(&org).decision(),
            Decision::CannotDecide,
            "not run yet"
        );
        let pipeline = &mut org.account().pipelines[0];
        let mut waiting = pipeline.action_executions[0].clone();
        waiting.action = "ApprovalB".into();
        waiting.status = "InProgress".into();
        waiting.updated_by = None;
        pipeline.action_executions.push(waiting);
        let v = verdict(&org);
        assert_eq!(v.decision(), Decision::CannotDecide);
        assert!(
            v.undecided
                .iter()
                .any(|u| u.contains("ApprovalB: still waiting")),
            "{v:#?}"
        );
    }

    #[test]
    fn an_administrator_who_could_approve_is_not_entitled() {
        let mut org = org();
        org.approve("ex-1", "ProdGate", "ApprovalA", user("alice"), "reviewed");
        org.approve(
            "ex-1",
            "ProdGate",
            "ApprovalB",
            user("root-ish"),
            "reviewed",
        );
        let v = verdict(&org);
        assert_eq!(checks(&v), vec!["approver-entitlement"], "{v:#?}");
        // Entitled by the rule set but no longer allowed by IAM: a violation too.
        let mut org = self::org();
        org.rules.approvals.approvers[1]
            .principals
            .push(format!("arn:aws:iam::{ACCOUNT}:user/carol"));
        org.add_user("carol", &[], None);
        org.approve("ex-1", "ProdGate", "ApprovalA", user("alice"), "reviewed");
        org.approve("ex-1", "ProdGate", "ApprovalB", user("carol"), "reviewed");
        let v = verdict(&org);
        assert_eq!(checks(&v), vec!["approver-entitlement"], "{v:#?}");
        assert!(
            v.violations[0].reason.contains("IAM does not allow"),
            "{v:#?}"
        );
    }

    #[test]
    fn an_action_no_entitlement_covers_cannot_be_judged() {
        let mut org = org();
        org.rules.approvals.approvers.truncate(1);
        org.approve("ex-1", "ProdGate", "ApprovalA", user("alice"), "reviewed");
        org.approve("ex-1", "ProdGate", "ApprovalB", user("bob"), "reviewed");
        let v = verdict(&org);
        assert_eq!(v.decision(), Decision::CannotDecide, "{v:#?}");
        assert!(
            v.undecided.iter().any(|u| u.contains("entitles nobody")),
            "{v:#?}"
        );
    }

    #[test]
    fn sources_that_disagree_fail() {
        let mut org = org();
        org.approve("ex-1", "ProdGate", "ApprovalA", user("alice"), "reviewed");
        org.approve("ex-1", "ProdGate", "ApprovalB", user("bob"), "reviewed");
        org.account().pipelines[0].action_executions[1].updated_by =
            Some(format!("arn:aws:iam::{ACCOUNT}:user/alice"));
        let v = verdict(&org);
        assert_eq!(v.decision(), Decision::Violations);
        assert!(
            v.violations
                .iter()
                .any(|x| x.reason.contains("sources disagree")),
            "{v:#?}"
        );
    }

    #[test]
    fn the_starter_may_not_approve() {
        let mut org = org();
        org.account().pipelines[0].executions[0].trigger_detail =
            format!("arn:aws:iam::{ACCOUNT}:user/alice");
        org.approve("ex-1", "ProdGate", "ApprovalA", user("alice"), "reviewed");
        org.approve("ex-1", "ProdGate", "ApprovalB", user("bob"), "reviewed");
        let v = verdict(&org);
        assert_eq!(checks(&v), vec!["self-approval"], "{v:#?}");
        assert!(v.violations[0].reason.contains("started"), "{v:#?}");
    }

    #[test]
    fn the_version_the_execution_runs_must_have_the_gate() {
        let mut org = org();
        let pipeline = &mut org.account().pipelines[0];
        let mut ungated = pipeline.stages.clone();
        ungated.remove(1);
        pipeline.versions.push(PipelineVersion {
            version: 2,
            stages: ungated,
            ..PipelineVersion::default()
        });
        pipeline.executions[0].pipeline_version = Some(2);
        let v = verdict(&org);
        assert_eq!(v.decision(), Decision::Violations, "{v:#?}");
        assert_eq!(checks(&v), vec!["gate-coverage"], "{v:#?}");
        assert!(v.violations[0].reason.contains("version 2"), "{v:#?}");
        // A version that was not collected cannot be judged.
        org.account().pipelines[0].executions[0].pipeline_version = Some(3);
        assert_eq!(verdict(&org).decision(), Decision::CannotDecide);
    }

    #[test]
    fn what_was_not_read_or_not_known_fails_closed() {
        let mut org = org();
        org.approve("ex-1", "ProdGate", "ApprovalA", user("alice"), "reviewed");
        org.approve("ex-1", "ProdGate", "ApprovalB", user("bob"), "reviewed");
        assert_eq!(verdict_of(&org, &[]).decision(), Decision::CannotDecide);
        org.account().steps.push(CollectionStep {
            step: "cloudtrail:LookupEvents(PutApprovalResult)".into(),
            region: Some("us-east-1".into()),
            status: StepStatus::Failed,
            items: 0,
            error: Some("AccessDenied".into()),
            note: None,
        });
        let v = verdict(&org);
        assert_eq!(v.decision(), Decision::CannotDecide);
        assert!(
            v.undecided.iter().any(|u| u.contains("AccessDenied")),
            "{v:#?}"
        );
    }
}
