//! Pipelines, their executions, approval action executions, and approval records found in S3.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Pipeline {
    pub name: String,
    pub region: String,
    pub account_id: String,
    pub version: i32,
    pub role_arn: String,
    pub stages: Vec<Stage>,
    pub executions: Vec<PipelineExecution>,
    pub action_executions: Vec<ActionExecution>,
}

impl Pipeline {
    /// `arn:aws:codepipeline:<region>:<account>:<pipeline>/<stage>/<action>`: the resource of PutApprovalResult.
    pub fn action_arn(&self, stage: &str, action: &str) -> String {
        format!(
            "arn:aws:codepipeline:{}:{}:{}/{}/{}",
            self.region, self.account_id, self.name, stage, action
        )
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Stage {
    pub name: String,
    pub actions: Vec<PipelineAction>,
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
}

impl PipelineAction {
    pub fn is_manual_approval(&self) -> bool {
        self.category.eq_ignore_ascii_case("Approval")
            && self.provider.eq_ignore_ascii_case("Manual")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PipelineExecution {
    pub id: String,
    pub status: String,
    pub start_time: Option<DateTime<Utc>>,
    pub last_update_time: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
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
