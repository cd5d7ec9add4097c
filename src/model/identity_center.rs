//! IAM Identity Center as collected: the instance, its permission sets (with their policies), the account
//! assignments of every audited account, and the identity store's users, groups and memberships.
//!
//! Plain serde data: no AWS SDK types, no I/O, no judgement. `analysis::people` maps the `AWSReservedSSO_*` roles
//! of each account to the people assigned to them.

use serde::{Deserialize, Serialize};

use super::CollectionStep;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdentityCenterSnapshot {
    pub instance_arn: String,
    pub identity_store_id: String,
    /// The region Identity Center lives in.
    pub region: String,
    /// The account it was read from (the management account or a delegated administrator).
    pub read_from: String,
    pub permission_sets: Vec<PermissionSet>,
    pub assignments: Vec<AccountAssignment>,
    pub users: Vec<IdentityStoreUser>,
    pub groups: Vec<IdentityStoreGroup>,
    pub memberships: Vec<GroupMembership>,
    /// The sso-admin and identitystore calls and their outcomes.
    pub steps: Vec<CollectionStep>,
}

impl IdentityCenterSnapshot {
    pub fn is_complete(&self) -> bool {
        !self.steps.iter().any(|s| s.status != super::StepStatus::Ok)
    }
    pub fn permission_set_named(&self, name: &str) -> Option<&PermissionSet> {
        self.permission_sets.iter().find(|p| p.name == name)
    }
    pub fn user(&self, id: &str) -> Option<&IdentityStoreUser> {
        self.users.iter().find(|u| u.id == id)
    }
    pub fn user_named(&self, user_name: &str) -> Option<&IdentityStoreUser> {
        self.users.iter().find(|u| u.user_name == user_name)
    }
    pub fn group(&self, id: &str) -> Option<&IdentityStoreGroup> {
        self.groups.iter().find(|g| g.id == id)
    }
    /// The users of a group (ids), as the collected memberships say.
    pub fn members<'a>(&'a self, group_id: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.memberships
            .iter()
            .filter(move |m| m.group_id == group_id)
            .map(|m| m.user_id.as_str())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PermissionSet {
    pub arn: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The inline policy (decoded JSON), if the set has one.
    pub inline_policy: Option<serde_json::Value>,
    /// AWS managed policy ARNs attached to the set.
    pub managed_policies: Vec<String>,
    /// Customer managed policies, referenced by name and path in each account the set is provisioned to.
    pub customer_managed_policies: Vec<CustomerPolicyReference>,
    pub permissions_boundary: Option<PermissionsBoundary>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerPolicyReference {
    pub name: String,
    pub path: String,
}

impl CustomerPolicyReference {
    /// The policy's ARN in one account.
    pub fn arn_in(&self, partition: &str, account: &str) -> String {
        let path = if self.path.is_empty() {
            "/"
        } else {
            self.path.as_str()
        };
        format!("arn:{partition}:iam::{account}:policy{path}{}", self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PermissionsBoundary {
    Managed(String),
    CustomerManaged(CustomerPolicyReference),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountAssignment {
    pub account_id: String,
    pub permission_set_arn: String,
    /// `USER` or `GROUP`.
    pub principal_type: String,
    pub principal_id: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdentityStoreUser {
    pub id: String,
    /// The login; Identity Center uses it as the role session name.
    pub user_name: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub emails: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdentityStoreGroup {
    pub id: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMembership {
    pub group_id: String,
    pub user_id: String,
}
