//! IAM entities as collected from `GetAccountAuthorizationDetails` plus login profiles and access keys.
//!
//! Policy documents are stored decoded (JSON values); the evaluator in `crate::iam` parses them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IamSnapshot {
    pub users: Vec<IamUser>,
    pub groups: Vec<IamGroup>,
    pub roles: Vec<IamRole>,
    pub policies: Vec<ManagedPolicy>,
    /// SAML identity providers of the account (ListSAMLProviders): roles they are trusted by admit federated people.
    #[serde(default)]
    pub saml_providers: Vec<IdentityProvider>,
    /// OpenID Connect identity providers of the account (ListOpenIDConnectProviders).
    #[serde(default)]
    pub oidc_providers: Vec<IdentityProvider>,
}

/// A SAML or OIDC identity provider registered in IAM.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdentityProvider {
    pub arn: String,
}

impl IdentityProvider {
    /// The provider's name: the last part of its ARN (`saml-provider/Okta` -> `Okta`).
    pub fn name(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or(&self.arn)
    }
}

impl IamSnapshot {
    pub fn policy(&self, arn: &str) -> Option<&ManagedPolicy> {
        self.policies.iter().find(|p| p.arn == arn)
    }
    pub fn group(&self, name: &str) -> Option<&IamGroup> {
        self.groups.iter().find(|g| g.name == name)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InlinePolicy {
    pub name: String,
    pub document: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessKey {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub created: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IamUser {
    pub name: String,
    pub arn: String,
    pub id: String,
    pub path: String,
    pub groups: Vec<String>,
    pub attached_policies: Vec<String>,
    pub inline_policies: Vec<InlinePolicy>,
    pub permissions_boundary: Option<String>,
    /// True when the user can sign in to the console.
    pub has_login_profile: bool,
    pub access_keys: Vec<AccessKey>,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
}

impl IamUser {
    pub fn has_active_access_key(&self) -> bool {
        self.access_keys
            .iter()
            .any(|k| k.status.eq_ignore_ascii_case("Active"))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IamGroup {
    pub name: String,
    pub arn: String,
    pub attached_policies: Vec<String>,
    pub inline_policies: Vec<InlinePolicy>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IamRole {
    pub name: String,
    pub arn: String,
    pub id: String,
    pub path: String,
    pub trust_policy: serde_json::Value,
    pub attached_policies: Vec<String>,
    pub inline_policies: Vec<InlinePolicy>,
    pub permissions_boundary: Option<String>,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
}

impl IamRole {
    /// Roles created by IAM Identity Center for permission sets.
    pub fn is_sso_role(&self) -> bool {
        self.name.starts_with("AWSReservedSSO_")
            || self.path.starts_with("/aws-reserved/sso.amazonaws.com/")
    }
    pub fn is_service_linked(&self) -> bool {
        self.path.starts_with("/aws-service-role/")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub version_id: String,
    pub is_default: bool,
    pub document: serde_json::Value,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub arn: String,
    pub name: String,
    pub default_version_id: String,
    pub versions: Vec<PolicyVersion>,
}

impl ManagedPolicy {
    pub fn default_document(&self) -> Option<&serde_json::Value> {
        self.versions
            .iter()
            .find(|v| v.is_default || v.version_id == self.default_version_id)
            .map(|v| &v.document)
    }
}
