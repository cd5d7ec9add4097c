//! Who acted on a pipeline execution besides its approvers: who started it (its trigger), who retried one of its
//! stages (`RetryStageExecution`), who overrode one of its stage conditions (`OverrideStageCondition`, and the rule
//! executions' `updatedBy`), who rolled back into it (`RollbackStage`). Each is a person, normalised like the
//! approvers, with the evidence that names them. Pure.

use super::identity::{Directory, Person};
use crate::model::{AccountSnapshot, Evidence, Pipeline, PipelineExecution, WriteEvent};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Act {
    Started,
    Retried,
    Overrode,
    RolledBack,
}

impl Act {
    pub fn as_str(self) -> &'static str {
        match self {
            Act::Started => "started",
            Act::Retried => "retried a stage of",
            Act::Overrode => "overrode a stage condition of",
            Act::RolledBack => "rolled back into",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Actor {
    pub person: Person,
    pub act: Act,
    pub evidence: Evidence,
}

/// How many seconds after a RollbackStage call its rollback execution may start.
const ROLLBACK_SLACK_SECONDS: i64 = 300;

fn param<'a>(event: &'a WriteEvent, key: &str) -> Option<&'a str> {
    event
        .request_parameters
        .as_ref()
        .and_then(|p| p.get(key))
        .and_then(serde_json::Value::as_str)
}

fn calls<'a>(
    account: &'a AccountSnapshot,
    pipeline: &'a Pipeline,
    name: &'a str,
) -> impl Iterator<Item = &'a WriteEvent> + 'a {
    account.write_events.iter().filter(move |e| {
        e.source == "codepipeline.amazonaws.com"
            && e.name == name
            && e.error_code.is_none()
            && e.region == pipeline.region
            && param(e, "pipelineName") == Some(pipeline.name.as_str())
    })
}

/// Everyone who started, retried, overrode or rolled back `execution`.
pub fn actors(
    people: &Directory,
    account: &AccountSnapshot,
    pipeline: &Pipeline,
    execution: &PipelineExecution,
) -> Vec<Actor> {
    let mut out = Vec::new();
    if execution.trigger_type == "StartPipelineExecution" && !execution.trigger_detail.is_empty() {
        out.push(Actor {
            person: people.person_of_arn(&execution.trigger_detail),
            act: Act::Started,
            evidence: Evidence::new(
                "pipeline-execution",
                format!("{}/{}", pipeline.name, execution.id),
                format!(
                    "trigger StartPipelineExecution by {}",
                    execution.trigger_detail
                ),
            ),
        });
    }
    for (name, act) in [
        ("RetryStageExecution", Act::Retried),
        ("OverrideStageCondition", Act::Overrode),
    ] {
        for event in calls(account, pipeline, name)
            .filter(|e| param(e, "pipelineExecutionId") == Some(execution.id.as_str()))
        {
            out.push(Actor {
                person: people.person_of(&event.identity),
                act,
                evidence: Evidence::new(
                    "cloudtrail-event",
                    &event.event_id,
                    format!("{name} {}", param(event, "stageName").unwrap_or_default()),
                ),
            });
        }
    }
    // An overridden condition leaves its rules Abandoned (or Failed) with the overrider as their updatedBy.
    for rule in pipeline
        .rule_executions
        .iter()
        .filter(|r| r.pipeline_execution_id == execution.id)
        .filter(|r| {
            ["Overridden", "Abandoned", "Failed"]
                .iter()
                .any(|s| r.status.eq_ignore_ascii_case(s))
        })
    {
        if let Some(by) = &rule.updated_by {
            out.push(Actor {
                person: people.person_of_arn(by),
                act: Act::Overrode,
                evidence: Evidence::new(
                    "rule-execution",
                    &rule.rule_execution_id,
                    format!(
                        "rule {} of stage {} overridden by {by}",
                        rule.rule, rule.stage
                    ),
                ),
            });
        }
    }
    if execution.execution_type.eq_ignore_ascii_case("ROLLBACK") {
        let started = execution.start_time;
        for event in calls(account, pipeline, "RollbackStage").filter(|e| {
            param(e, "targetPipelineExecutionId") == execution.rollback_target.as_deref()
                && started.is_some_and(|s| {
                    let after = (s - e.event_time).num_seconds();
                    (0..=ROLLBACK_SLACK_SECONDS).contains(&after)
                })
        }) {
            out.push(Actor {
                person: people.person_of(&event.identity),
                act: Act::RolledBack,
                evidence: Evidence::new("cloudtrail-event", &event.event_id, "RollbackStage"),
            });
        }
    }
    out
}
