//! The approvals of a snapshot, joined up: each CloudTrail `PutApprovalResult` with the person behind it, the
//! pipeline execution it belongs to, and its record in the approval-record bucket.
//!
//! Shared by the checks and the ledger so that both tell the same story. Pure.

use std::collections::HashMap;

use chrono::Duration;

use crate::analysis::action_history::ActionHistory;
use crate::analysis::identity::{Directory, Person};
use crate::model::{
    AccountSnapshot, ActionExecution, ApprovalEvent, ApprovalRecord, Pipeline, Snapshot,
};
use crate::rules::RuleSet;

/// Slack allowed between an action execution's recorded times and the CloudTrail event time.
const EXECUTION_SLACK_SECONDS: i64 = 120;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribution {
    /// `ListActionExecutions` shows this identity completing this action in this execution.
    ActionExecution {
        execution_id: String,
        action_execution_id: String,
    },
    /// No action execution names the approver, but exactly one execution of the action was waiting at that time.
    TimeWindow { execution_id: String },
    /// The execution history is gone (or never matched): the approval cannot be tied to an execution.
    Unattributed,
}

impl Attribution {
    pub fn execution_id(&self) -> Option<&str> {
        match self {
            Attribution::ActionExecution { execution_id, .. }
            | Attribution::TimeWindow { execution_id } => Some(execution_id),
            Attribution::Unattributed => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Approval<'a> {
    pub account: &'a AccountSnapshot,
    pub event: &'a ApprovalEvent,
    pub person: Person,
    pub attribution: Attribution,
    pub record: Option<&'a ApprovalRecord>,
}

/// The joined-up approvals, ordered by time, and the approval records no approval claimed.
pub struct ApprovalIndex<'a> {
    pub approvals: Vec<Approval<'a>>,
    pub orphan_records: Vec<&'a ApprovalRecord>,
}

/// The action executions of one pipeline, grouped by (stage, action) and indexed.
type ActionIndex<'a> = HashMap<(&'a str, &'a str), ActionHistory<'a>>;

fn action_index(pipeline: &Pipeline) -> ActionIndex<'_> {
    let mut grouped: HashMap<(&str, &str), Vec<&ActionExecution>> = HashMap::new();
    for a in &pipeline.action_executions {
        grouped
            .entry((a.stage.as_str(), a.action.as_str()))
            .or_default()
            .push(a);
    }
    grouped
        .into_iter()
        .map(|(key, executions)| (key, ActionHistory::new(executions)))
        .collect()
}

pub fn index<'a>(snapshot: &'a Snapshot, rules: &RuleSet, people: &Directory) -> ApprovalIndex<'a> {
    let mut approvals: Vec<Approval<'a>> = Vec::new();
    for account in &snapshot.accounts {
        let pipelines: HashMap<(&str, &str), (&Pipeline, ActionIndex)> = account
            .pipelines
            .iter()
            .map(|p| ((p.name.as_str(), p.region.as_str()), (p, action_index(p))))
            .collect();
        for event in &account.approval_events {
            let pipeline = pipelines.get(&(event.pipeline.as_str(), event.region.as_str()));
            let attribution = match (pipeline, event.succeeded()) {
                (Some((p, actions)), true) => {
                    let none = ActionHistory::default();
                    let history = actions
                        .get(&(event.stage.as_str(), event.action.as_str()))
                        .unwrap_or(&none);
                    attribute(p, history, event)
                }
                _ => Attribution::Unattributed,
            };
            approvals.push(Approval {
                account,
                event,
                person: people.person_of(&event.identity),
                attribution,
                record: None,
            });
        }
    }
    approvals.sort_by(|a, b| {
        a.event
            .event_time
            .cmp(&b.event.event_time)
            .then(a.event.event_id.cmp(&b.event.event_id))
    });
    // Each record belongs to the account whose bucket holds it: it can only record that account's approvals
    // (two accounts running the same pipeline and gates minutes apart must not claim each other's records).
    let records: Vec<(&str, &ApprovalRecord)> = snapshot
        .accounts
        .iter()
        .flat_map(|a| {
            a.approval_records
                .iter()
                .map(|r| (a.account_id.as_str(), r))
        })
        .collect();
    let mut used = vec![false; records.len()];
    let tolerance = rules.approvals.record_time_tolerance_seconds;
    // Records by account and pipeline, so matching stays linear in the number of approvals of each pipeline.
    let mut by_pipeline: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, (account, r)) in records.iter().enumerate() {
        if let Some(key) = &r.parsed {
            by_pipeline
                .entry((account, key.pipeline.as_str()))
                .or_default()
                .push(i);
        }
    }
    let record_time = |i: usize| records[i].1.parsed.as_ref().map(|k| k.time);
    for list in by_pipeline.values_mut() {
        list.sort_by_key(|&i| record_time(i));
    }
    for approval in approvals.iter_mut().filter(|a| a.event.succeeded()) {
        let candidates = by_pipeline
            .get(&(
                approval.account.account_id.as_str(),
                approval.event.pipeline.as_str(),
            ))
            .map(Vec::as_slice)
            .unwrap_or_default();
        // Only records within the tolerance window of the event can match.
        let earliest = approval.event.event_time - Duration::seconds(tolerance);
        let first = candidates.partition_point(|&i| record_time(i).is_some_and(|t| t < earliest));
        let latest = approval.event.event_time + Duration::seconds(tolerance);
        let best = candidates[first..]
            .iter()
            .take_while(|&&i| record_time(i).is_some_and(|t| t <= latest))
            .map(|&i| (i, records[i].1))
            .filter(|(i, _)| !used[*i])
            .filter_map(|(i, r)| {
                let key = r.parsed.as_ref()?;
                let gate_matches =
                    key.gate == approval.event.action || key.gate == approval.event.stage;
                let status_matches = key.status.eq_ignore_ascii_case(&approval.event.status);
                let distance = (key.time - approval.event.event_time).num_seconds().abs();
                (key.pipeline == approval.event.pipeline
                    && gate_matches
                    && status_matches
                    && distance <= tolerance)
                    .then_some((i, distance))
            })
            .min_by_key(|(_, distance)| *distance);
        if let Some((i, _)) = best {
            used[i] = true;
            approval.record = Some(records[i].1);
        }
    }
    let orphan_records = records
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|((_, r), _)| *r)
        .collect();
    ApprovalIndex {
        approvals,
        orphan_records,
    }
}

fn within(action: &ActionExecution, t: chrono::DateTime<chrono::Utc>) -> bool {
    let slack = Duration::seconds(EXECUTION_SLACK_SECONDS);
    let starts_before = action.start_time.is_none_or(|s| s - slack <= t);
    let ends_after = action.last_update_time.is_none_or(|e| t <= e + slack);
    starts_before && ends_after
}

/// `actions`: the executions of the event's stage and action in this pipeline.
fn attribute(
    pipeline: &Pipeline,
    actions: &ActionHistory<'_>,
    event: &ApprovalEvent,
) -> Attribution {
    // The approval token is the action execution's externalExecutionId: an exact join, and the only one that
    // holds in PARALLEL mode, where several executions wait at the same approval at once.
    if let Some(token) = event.token.as_deref().filter(|t| !t.is_empty()) {
        if let Some(a) = actions.with_token(token) {
            return Attribution::ActionExecution {
                execution_id: a.pipeline_execution_id.clone(),
                action_execution_id: a.action_execution_id.clone(),
            };
        }
    }
    // Without a token that matches (older action history, or an event without one): by updatedBy and time.
    let candidates: Vec<&ActionExecution> = actions.around(
        event.event_time,
        Duration::seconds(EXECUTION_SLACK_SECONDS),
        |a| within(a, event.event_time),
    );
    let by_updater: Vec<&&ActionExecution> = candidates
        .iter()
        .filter(|a| a.updated_by.is_some() && a.updated_by == event.identity.arn)
        .collect();
    if let Some(a) = by_updater.iter().min_by_key(|a| {
        a.last_update_time
            .map(|t| (t - event.event_time).num_seconds().abs())
            .unwrap_or(i64::MAX)
    }) {
        return Attribution::ActionExecution {
            execution_id: a.pipeline_execution_id.clone(),
            action_execution_id: a.action_execution_id.clone(),
        };
    }
    let mut executions: Vec<&str> = candidates
        .iter()
        .map(|a| a.pipeline_execution_id.as_str())
        .collect();
    executions.sort_unstable();
    executions.dedup();
    if let [only] = executions.as_slice() {
        return Attribution::TimeWindow {
            execution_id: (*only).to_owned(),
        };
    }
    if executions.is_empty() {
        // Older than the action history: fall back to the pipeline execution windows.
        let slack = Duration::seconds(EXECUTION_SLACK_SECONDS);
        let windows: Vec<&str> = pipeline
            .executions
            .iter()
            .filter(|e| {
                e.start_time.is_some_and(|s| s - slack <= event.event_time)
                    && e.last_update_time
                        .is_some_and(|l| event.event_time <= l + slack)
            })
            .map(|e| e.id.as_str())
            .collect();
        if let [only] = windows.as_slice() {
            return Attribution::TimeWindow {
                execution_id: (*only).to_owned(),
            };
        }
    }
    Attribution::Unattributed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{user, Org};

    /// Two executions wait at ProdGate/ApprovalA at once (PARALLEL mode); alice approves both, the first one's
    /// action execution is updated later than the second's.
    fn parallel(with_tokens: bool) -> Org {
        let mut org = Org::two_person_pipeline();
        let first = org.execution("ex-1");
        let second = org.execution("ex-2");
        org.approve(&first, "ProdGate", "ApprovalA", user("alice"), "first");
        org.approve(&second, "ProdGate", "ApprovalA", user("alice"), "second");
        let pipeline = &mut org.snapshot.accounts[0].pipelines[0];
        let second_update = pipeline.action_executions[1].last_update_time;
        // The first execution's action shows its completion after the second approval (close to it in time).
        pipeline.action_executions[0].last_update_time =
            second_update.map(|t| t + Duration::seconds(5));
        for (i, a) in pipeline.action_executions.iter_mut().enumerate() {
            a.start_time = a.start_time.map(|t| t - Duration::hours(2));
            a.external_execution_id = Some(format!("token-{i}"));
        }
        let events = &mut org.snapshot.accounts[0].approval_events;
        for (i, e) in events.iter_mut().enumerate() {
            e.token = with_tokens.then(|| format!("token-{i}"));
        }
        org
    }

    fn execution_of(org: &Org, summary: &str) -> Option<String> {
        let people = crate::analysis::identity::Directory::new(&org.snapshot, &org.rules.identity);
        let index = index(&org.snapshot, &org.rules, &people);
        index
            .approvals
            .iter()
            .find(|a| a.event.summary == summary)
            .and_then(|a| a.attribution.execution_id().map(str::to_owned))
    }

    #[test]
    fn the_approval_token_joins_an_approval_to_its_action_execution_exactly() {
        let org = parallel(true);
        assert_eq!(execution_of(&org, "first").as_deref(), Some("ex-1"));
        assert_eq!(execution_of(&org, "second").as_deref(), Some("ex-2"));
        // Without tokens only updatedBy and time are left, and they claim the wrong execution here.
        let org = parallel(false);
        assert_eq!(execution_of(&org, "first").as_deref(), Some("ex-2"));
    }
}
