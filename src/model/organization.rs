//! AWS Organizations as collected: every account with its status, OU path and tags, the organisational units, and
//! the service and resource control policies attached at each level (root, every OU, every account).
//!
//! Plain serde data: no AWS SDK types, no I/O, no judgement. What could not be read is recorded as such (a target
//! whose policies could not be listed has `None`, never an empty list), so that "no SCPs" is never assumed.

use serde::{Deserialize, Serialize};

use super::CollectionStep;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OrganizationSnapshot {
    /// `o-...`; empty when DescribeOrganization failed.
    pub id: String,
    pub management_account: String,
    /// The account the organisation was read from (the management account or a delegated administrator).
    pub read_from: String,
    /// `r-...`; empty when ListRoots failed.
    pub root_id: String,
    /// Every account ListAccounts returned, audited or not.
    pub accounts: Vec<OrgAccount>,
    pub units: Vec<OrgUnit>,
    /// Every SCP and RCP attached somewhere on an audited account's path, with its document.
    pub policies: Vec<OrgPolicy>,
    /// What is attached to each target (root, OU, account) on the path of an audited account.
    pub attachments: Vec<PolicyAttachment>,
    /// The Organizations calls and their outcomes.
    pub steps: Vec<CollectionStep>,
}

impl OrganizationSnapshot {
    pub fn account(&self, id: &str) -> Option<&OrgAccount> {
        self.accounts.iter().find(|a| a.id == id)
    }
    pub fn unit(&self, id: &str) -> Option<&OrgUnit> {
        self.units.iter().find(|u| u.id == id)
    }
    pub fn policy(&self, id: &str) -> Option<&OrgPolicy> {
        self.policies.iter().find(|p| p.id == id)
    }
    pub fn attachment(&self, target: &str) -> Option<&PolicyAttachment> {
        self.attachments.iter().find(|a| a.target_id == target)
    }
    /// True when every Organizations call succeeded.
    pub fn is_complete(&self) -> bool {
        !self.steps.iter().any(|s| s.status != super::StepStatus::Ok)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OrgAccount {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub email: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE` (as ListAccounts says).
    pub status: String,
    /// Parent ids from the root down to the account's own OU (ListParents walked up to the root).
    pub parents: Vec<String>,
    /// The OU path by name, e.g. `Root/Workloads/Prod`.
    pub ou_path: String,
    pub tags: Vec<(String, String)>,
    /// Whether gateaudit audits this account (active accounts are audited; suspended or closed ones are not).
    pub audited: bool,
    /// The environment assigned to the account, and the rule that assigned it.
    pub environment: String,
    pub environment_rule: String,
}

impl OrgAccount {
    pub fn is_active(&self) -> bool {
        self.status.eq_ignore_ascii_case("ACTIVE")
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OrgUnit {
    pub id: String,
    pub name: String,
    /// The parent (an OU id or the root id).
    pub parent_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrgPolicyKind {
    ServiceControlPolicy,
    ResourceControlPolicy,
}

impl OrgPolicyKind {
    /// The `Filter` of ListPoliciesForTarget.
    pub fn as_filter(self) -> &'static str {
        match self {
            OrgPolicyKind::ServiceControlPolicy => "SERVICE_CONTROL_POLICY",
            OrgPolicyKind::ResourceControlPolicy => "RESOURCE_CONTROL_POLICY",
        }
    }
    pub fn short(self) -> &'static str {
        match self {
            OrgPolicyKind::ServiceControlPolicy => "SCP",
            OrgPolicyKind::ResourceControlPolicy => "RCP",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrgPolicy {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub kind: OrgPolicyKind,
    pub aws_managed: bool,
    /// The policy document (decoded JSON; a JSON string when it could not be decoded, so the evaluator reports it).
    pub document: serde_json::Value,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PolicyAttachment {
    pub target_id: String,
    /// `ROOT`, `ORGANIZATIONAL_UNIT` or `ACCOUNT`.
    pub target_kind: String,
    /// Policy ids of the SCPs attached directly to the target; None when they could not be listed.
    pub scps: Option<Vec<String>>,
    /// Policy ids of the RCPs attached directly to the target; None when they could not be listed.
    pub rcps: Option<Vec<String>>,
}
