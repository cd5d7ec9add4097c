//! Pipelines, their executions, approval action executions, and approval records found in S3.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Pipeline {
    pub name: String,
    pub region: String,
    pub account_id: String,
    /// The current version (the declaration below).
    pub version: i32,
    pub role_arn: String,
    pub stages: Vec<Stage>,
    /// `V1` or `V2` (empty: not returned, read as V1).
    #[serde(default)]
    pub pipeline_type: String,
    /// `SUPERSEDED`, `QUEUED` or `PARALLEL`.
    #[serde(default)]
    pub execution_mode: String,
    #[serde(default)]
    pub triggers: Vec<PipelineTrigger>,
    #[serde(default)]
    pub variables: Vec<PipelineVariable>,
    /// The artifact store(s): one, or one per region for cross-region actions.
    #[serde(default)]
    pub artifact_stores: Vec<ArtifactStore>,
    /// Earlier versions that ran (or were replaced) in the period, as GetPipeline --version returned them.
    #[serde(default)]
    pub versions: Vec<PipelineVersion>,
    pub executions: Vec<PipelineExecution>,
    pub action_executions: Vec<ActionExecution>,
    /// Stage-condition rule executions (V2), with who overrode them.
    #[serde(default)]
    pub rule_executions: Vec<RuleExecution>,
}

/// One earlier declaration of a pipeline.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PipelineVersion {
    pub version: i32,
    pub role_arn: String,
    pub stages: Vec<Stage>,
    #[serde(default)]
    pub pipeline_type: String,
    #[serde(default)]
    pub execution_mode: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PipelineTrigger {
    /// e.g. `CodeStarSourceConnection`.
    pub provider_type: String,
    pub source_action_name: Option<String>,
    /// Branches / tags / file paths the trigger filters on, as declared.
    #[serde(default)]
    pub git_configuration: serde_json::Value,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PipelineVariable {
    pub name: String,
    pub default_value: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ArtifactStore {
    /// The region, for a pipeline with one store per region.
    pub region: Option<String>,
    pub kind: String,
    /// The S3 bucket.
    pub location: String,
    pub encryption_key: Option<String>,
}

impl Pipeline {
    /// The stages of a version: the current declaration, or an earlier one collected; None when unknown.
    pub fn stages_of(&self, version: i32) -> Option<&[Stage]> {
        if version == self.version {
            return Some(&self.stages);
        }
        self.versions
            .iter()
            .find(|v| v.version == version)
            .map(|v| v.stages.as_slice())
    }

    /// `arn:<partition>:codepipeline:<region>:<account>:<pipeline>`, the partition taken from the region.
    pub fn arn(&self) -> String {
        format!(
            "arn:{}:codepipeline:{}:{}:{}",
            super::partition::partition_of(&self.region).name,
            self.region,
            self.account_id,
            self.name
        )
    }

    /// `arn:<partition>:codepipeline:<region>:<account>:<pipeline>/<stage>/<action>`: the resource of
    /// PutApprovalResult.
    pub fn action_arn(&self, stage: &str, action: &str) -> String {
        format!("{}/{stage}/{action}", self.arn())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Stage {
    pub name: String,
    pub actions: Vec<PipelineAction>,
    /// V2 stage conditions: checked before the stage runs, after it succeeds, after it fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_entry: Option<StageConditions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_success: Option<StageConditions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<StageConditions>,
}

/// The conditions of one stage hook (`beforeEntry`, `onSuccess`, `onFailure`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StageConditions {
    /// onFailure's result (`ROLLBACK`, `RETRY`, ...).
    pub result: Option<String>,
    /// onFailure's retry mode (`FAILED_ACTIONS`, `ALL_ACTIONS`).
    pub retry_mode: Option<String>,
    pub conditions: Vec<StageCondition>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StageCondition {
    /// `FAIL`, `SKIP`, `ROLLBACK`, `RETRY`...
    pub result: Option<String>,
    pub rules: Vec<ConditionRule>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConditionRule {
    pub name: String,
    /// `DeploymentWindow`, `VariableCheck`, `CloudWatchAlarm`, `LambdaInvoke`, `Commands`, `CodeBuild`.
    pub provider: String,
    pub configuration: BTreeMap<String, String>,
    pub role_arn: Option<String>,
    pub region: Option<String>,
}

impl Stage {
    pub fn approval_actions(&self) -> impl Iterator<Item = &PipelineAction> {
        self.actions.iter().filter(|a| a.is_manual_approval())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PipelineAction {
    pub name: String,
    pub category: String,
    pub owner: String,
    pub provider: String,
    pub run_order: i32,
    pub configuration: BTreeMap<String, String>,
    pub role_arn: Option<String>,
    pub region: Option<String>,
    /// Manual approvals: how long the approval may wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_in_minutes: Option<i32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_artifacts: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_artifacts: Vec<String>,
}

impl PipelineAction {
    pub fn is_source(&self) -> bool {
        self.category.eq_ignore_ascii_case("Source")
    }
    pub fn is_manual_approval(&self) -> bool {
        self.category.eq_ignore_ascii_case("Approval")
            && self.provider.eq_ignore_ascii_case("Manual")
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PipelineExecution {
    pub id: String,
    pub status: String,
    pub start_time: Option<DateTime<Utc>>,
    pub last_update_time: Option<DateTime<Utc>>,
    /// The pipeline version the execution ran (GetPipelineExecution); None when it could not be read.
    #[serde(default)]
    pub pipeline_version: Option<i32>,
    /// `StartPipelineExecution`, `Webhook`, `CloudWatchEvent`, `PutActionRevision`, `AutomatedRollback`...
    #[serde(default)]
    pub trigger_type: String,
    /// Who or what started it: for StartPipelineExecution the caller's ARN.
    #[serde(default)]
    pub trigger_detail: String,
    /// `STANDARD` or `ROLLBACK`.
    #[serde(default)]
    pub execution_type: String,
    #[serde(default)]
    pub execution_mode: String,
    #[serde(default)]
    pub status_summary: Option<String>,
    /// The execution a rollback redeploys.
    #[serde(default)]
    pub rollback_target: Option<String>,
    #[serde(default)]
    pub source_revisions: Vec<SourceRevision>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRevision {
    pub action_name: String,
    pub revision_id: Option<String>,
    pub revision_summary: Option<String>,
    pub revision_url: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ActionExecution {
    pub pipeline_execution_id: String,
    pub action_execution_id: String,
    pub stage: String,
    pub action: String,
    pub status: String,
    pub start_time: Option<DateTime<Utc>>,
    pub last_update_time: Option<DateTime<Utc>>,
    /// The ARN that last updated the action: for a manual approval, who approved or rejected it.
    pub updated_by: Option<String>,
    /// For a manual approval, the approver's summary.
    pub summary: Option<String>,
    pub category: Option<String>,
    pub provider: Option<String>,
    /// The version of the pipeline the action ran in.
    #[serde(default)]
    pub pipeline_version: Option<i32>,
    /// For a manual approval, its token (the approval's external execution id).
    #[serde(default)]
    pub external_execution_id: Option<String>,
    /// The action's role and (resolved) configuration as it ran.
    #[serde(default)]
    pub role_arn: Option<String>,
    #[serde(default)]
    pub configuration: BTreeMap<String, String>,
}

/// One evaluation of a stage-condition rule (`ListRuleExecutions`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RuleExecution {
    pub pipeline_execution_id: String,
    pub rule_execution_id: String,
    pub pipeline_version: Option<i32>,
    pub stage: String,
    pub rule: String,
    pub provider: Option<String>,
    pub status: String,
    pub start_time: Option<DateTime<Utc>>,
    pub last_update_time: Option<DateTime<Utc>>,
    /// Who changed it last: for an overridden condition, who overrode it.
    pub updated_by: Option<String>,
    pub summary: Option<String>,
}

/// An object in an approval-record bucket, in the layout of the approval-gate-tracking article:
/// `PipelineApprovalGateActions/<pipeline>/YYYY/MM/DD/<gate>-<APPROVED|REJECTED>-HH:MM:SS-AM|PM.txt`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApprovalRecord {
    pub bucket: String,
    pub key: String,
    pub size: i64,
    pub last_modified: Option<DateTime<Utc>>,
    /// Parsed from the key; None when the key does not follow the layout.
    pub parsed: Option<ApprovalRecordKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRecordKey {
    pub pipeline: String,
    pub gate: String,
    pub status: String,
    pub time: DateTime<Utc>,
}
