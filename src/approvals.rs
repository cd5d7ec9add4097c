//! The approvals of a snapshot, joined up: each CloudTrail `PutApprovalResult` with the person behind it, the
//! pipeline execution it belongs to, and its record in the approval-record bucket.
//!
//! Shared by the checks and the ledger so that both tell the same story. Pure.

use chrono::Duration;

use crate::identity::{person_of, Person};
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

pub fn index<'a>(snapshot: &'a Snapshot, rules: &RuleSet) -> ApprovalIndex<'a> {
    let mut approvals: Vec<Approval<'a>> = Vec::new();
    for account in &snapshot.accounts {
        for event in &account.approval_events {
            let pipeline = account
                .pipelines
                .iter()
                .find(|p| p.name == event.pipeline && p.region == event.region);
            let attribution = match (pipeline, event.succeeded()) {
                (Some(p), true) => attribute(p, event),
                _ => Attribution::Unattributed,
            };
            approvals.push(Approval {
                account,
                event,
                person: person_of(&event.identity, &rules.identity),
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
    let records: Vec<&ApprovalRecord> = snapshot
        .accounts
        .iter()
        .flat_map(|a| a.approval_records.iter())
        .collect();
    let mut used = vec![false; records.len()];
    let tolerance = rules.approvals.record_time_tolerance_seconds;
    for approval in approvals.iter_mut().filter(|a| a.event.succeeded()) {
        let best = records
            .iter()
            .enumerate()
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
            approval.record = Some(records[i]);
        }
    }
    let orphan_records = records
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(r, _)| *r)
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

fn attribute(pipeline: &Pipeline, event: &ApprovalEvent) -> Attribution {
    let candidates: Vec<&ActionExecution> = pipeline
        .action_executions
        .iter()
        .filter(|a| {
            a.stage == event.stage && a.action == event.action && within(a, event.event_time)
        })
        .collect();
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
