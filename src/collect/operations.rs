//! Every AWS operation gateaudit can call, in one place, and the guard that holds the collector to it.
//!
//! [`OPERATIONS`] lists each operation with the IAM action that authorises it. Unit tests check the list
//! against the IAM action catalog (no Write, Permissions management or Tagging access level) and against
//! `policies/auditor-iam-policy.json` (the policy grants exactly these actions). [`ReadOnlyGuard`], an SDK
//! interceptor on every client the collector builds, refuses any other operation before it is sent, so code that
//! calls something new fails loudly until the operation is listed here (and in the published policy).
//!
//! New collection adds its operations here.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// One AWS operation the collector calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The service as the SDK names it in its operation metadata (`IAM`, `S3`, `CloudTrail`...).
    pub service: &'static str,
    /// The API operation (`GetAccountAuthorizationDetails`).
    pub name: &'static str,
    /// The IAM action that authorises it (`s3:ListBucket` for `ListObjectsV2`).
    pub iam_action: &'static str,
    /// What it is read for.
    pub purpose: &'static str,
}

const fn op(
    service: &'static str,
    name: &'static str,
    iam_action: &'static str,
    purpose: &'static str,
) -> Operation {
    Operation {
        service,
        name,
        iam_action,
        purpose,
    }
}

/// Every operation the code can call. Keep `policies/auditor-iam-policy.json` in step (a test checks).
pub const OPERATIONS: &[Operation] = &[
    op(
        "STS",
        "AssumeRole",
        "sts:AssumeRole",
        "enter each audited account with its audit role",
    ),
    op(
        "STS",
        "GetCallerIdentity",
        "sts:GetCallerIdentity",
        "check that the credentials are the account's",
    ),
    op(
        "IAM",
        "GetAccountAuthorizationDetails",
        "iam:GetAccountAuthorizationDetails",
        "users, groups, roles, policies",
    ),
    op(
        "IAM",
        "GetPolicy",
        "iam:GetPolicy",
        "attached policies the details omit",
    ),
    op(
        "IAM",
        "GetPolicyVersion",
        "iam:GetPolicyVersion",
        "their documents",
    ),
    op(
        "IAM",
        "GetCredentialReport",
        "iam:GetCredentialReport",
        "console passwords and access keys of every user in one read (when a recent report exists)",
    ),
    op(
        "IAM",
        "GetLoginProfile",
        "iam:GetLoginProfile",
        "console access of users",
    ),
    op(
        "IAM",
        "ListAccessKeys",
        "iam:ListAccessKeys",
        "long-lived keys of users",
    ),
    op(
        "IAM",
        "ListSAMLProviders",
        "iam:ListSAMLProviders",
        "SAML providers that federate people into roles",
    ),
    op(
        "IAM",
        "ListOpenIDConnectProviders",
        "iam:ListOpenIDConnectProviders",
        "OIDC providers that federate people into roles",
    ),
    op(
        "CloudTrail",
        "DescribeTrails",
        "cloudtrail:DescribeTrails",
        "trail settings",
    ),
    op(
        "CloudTrail",
        "GetTrailStatus",
        "cloudtrail:GetTrailStatus",
        "whether trails log",
    ),
    op(
        "CloudTrail",
        "GetEventSelectors",
        "cloudtrail:GetEventSelectors",
        "which management events each trail records",
    ),
    op(
        "CloudTrail",
        "LookupEvents",
        "cloudtrail:LookupEvents",
        "approvals, mutating events and AssumeRole calls of 90 days",
    ),
    op(
        "CloudTrail",
        "ListPublicKeys",
        "cloudtrail:ListPublicKeys",
        "keys that verify digest signatures",
    ),
    op(
        "CodePipeline",
        "ListPipelines",
        "codepipeline:ListPipelines",
        "pipelines",
    ),
    op(
        "CodePipeline",
        "GetPipeline",
        "codepipeline:GetPipeline",
        "their stages and actions",
    ),
    op(
        "CodePipeline",
        "ListPipelineExecutions",
        "codepipeline:ListPipelineExecutions",
        "executions of the period",
    ),
    op(
        "CodePipeline",
        "ListActionExecutions",
        "codepipeline:ListActionExecutions",
        "who completed each approval",
    ),
    op(
        "CodePipeline",
        "GetPipelineExecution",
        "codepipeline:GetPipelineExecution",
        "an execution's version, trigger and source revisions",
    ),
    op(
        "CodePipeline",
        "ListRuleExecutions",
        "codepipeline:ListRuleExecutions",
        "stage-condition rules and who overrode them",
    ),
    op(
        "S3",
        "ListObjectsV2",
        "s3:ListBucket",
        "approval records and the trail archive's day folders",
    ),
    op(
        "S3",
        "GetObject",
        "s3:GetObject",
        "trail log and digest files",
    ),
    op(
        "S3",
        "GetBucketVersioning",
        "s3:GetBucketVersioning",
        "evidence bucket protection",
    ),
    op(
        "S3",
        "GetBucketEncryption",
        "s3:GetEncryptionConfiguration",
        "evidence bucket protection",
    ),
    op(
        "S3",
        "GetPublicAccessBlock",
        "s3:GetBucketPublicAccessBlock",
        "evidence bucket protection",
    ),
    op(
        "S3",
        "GetBucketPolicy",
        "s3:GetBucketPolicy",
        "evidence bucket protection",
    ),
    op(
        "S3",
        "GetObjectLockConfiguration",
        "s3:GetBucketObjectLockConfiguration",
        "evidence bucket protection",
    ),
    op(
        "KMS",
        "DescribeKey",
        "kms:DescribeKey",
        "the key that encrypts an evidence bucket",
    ),
    op(
        "KMS",
        "GetKeyPolicy",
        "kms:GetKeyPolicy",
        "who can disable, delete or re-key it",
    ),
    op(
        "Organizations",
        "DescribeOrganization",
        "organizations:DescribeOrganization",
        "the organisation and its management account",
    ),
    op(
        "Organizations",
        "ListRoots",
        "organizations:ListRoots",
        "the root, and the policy types enabled there",
    ),
    op(
        "Organizations",
        "ListAccounts",
        "organizations:ListAccounts",
        "the accounts to audit and their status",
    ),
    op(
        "Organizations",
        "ListParents",
        "organizations:ListParents",
        "each account's OU path",
    ),
    op(
        "Organizations",
        "DescribeOrganizationalUnit",
        "organizations:DescribeOrganizationalUnit",
        "OU names",
    ),
    op(
        "Organizations",
        "ListTagsForResource",
        "organizations:ListTagsForResource",
        "account tags that assign environments",
    ),
    op(
        "Organizations",
        "ListPoliciesForTarget",
        "organizations:ListPoliciesForTarget",
        "SCPs and RCPs at every level",
    ),
    op(
        "Organizations",
        "DescribePolicy",
        "organizations:DescribePolicy",
        "their documents",
    ),
    op(
        "SSO Admin",
        "ListInstances",
        "sso:ListInstances",
        "the Identity Center instance",
    ),
    op(
        "SSO Admin",
        "ListPermissionSets",
        "sso:ListPermissionSets",
        "permission sets",
    ),
    op(
        "SSO Admin",
        "DescribePermissionSet",
        "sso:DescribePermissionSet",
        "their names",
    ),
    op(
        "SSO Admin",
        "GetInlinePolicyForPermissionSet",
        "sso:GetInlinePolicyForPermissionSet",
        "their inline policies",
    ),
    op(
        "SSO Admin",
        "ListManagedPoliciesInPermissionSet",
        "sso:ListManagedPoliciesInPermissionSet",
        "their AWS-managed policies",
    ),
    op(
        "SSO Admin",
        "ListCustomerManagedPolicyReferencesInPermissionSet",
        "sso:ListCustomerManagedPolicyReferencesInPermissionSet",
        "their customer-managed policies",
    ),
    op(
        "SSO Admin",
        "GetPermissionsBoundaryForPermissionSet",
        "sso:GetPermissionsBoundaryForPermissionSet",
        "their permissions boundaries",
    ),
    op(
        "SSO Admin",
        "ListPermissionSetsProvisionedToAccount",
        "sso:ListPermissionSetsProvisionedToAccount",
        "which sets reach each audited account",
    ),
    op(
        "SSO Admin",
        "ListAccountAssignments",
        "sso:ListAccountAssignments",
        "who is assigned each set there",
    ),
    op(
        "identitystore",
        "ListUsers",
        "identitystore:ListUsers",
        "the people",
    ),
    op(
        "identitystore",
        "ListGroups",
        "identitystore:ListGroups",
        "their groups",
    ),
    op(
        "identitystore",
        "ListGroupMemberships",
        "identitystore:ListGroupMemberships",
        "who is in each group",
    ),
];

/// Listed actions the IAM catalog classes as Write that change nothing in an audited account: `sts:AssumeRole`
/// only issues temporary credentials of the audit role (AWS classes it Write because it creates a session). The
/// published policy scopes it to the audit role; a test checks that nothing else mutating is listed.
pub const SESSION_ONLY: &[&str] = &["sts:AssumeRole"];

/// The listed operation, if `service`/`name` is one.
pub fn listed(service: &str, name: &str) -> Option<&'static Operation> {
    OPERATIONS
        .iter()
        .find(|o| o.service.eq_ignore_ascii_case(service) && o.name == name)
}

/// The listed operation a CloudTrail record names: `eventSource` (`sso.amazonaws.com`) and `eventName`.
/// CloudTrail names a service by its IAM prefix, not by the SDK's service name (`SSO Admin`).
pub fn listed_for_event(event_source: &str, event_name: &str) -> Option<&'static Operation> {
    let prefix = event_source.split('.').next().unwrap_or_default();
    OPERATIONS.iter().find(|o| {
        o.name == event_name
            && o.iam_action
                .split_once(':')
                .is_some_and(|(service, _)| service.eq_ignore_ascii_case(prefix))
    })
}

/// Refuses, before anything is sent, every operation that is not in [`OPERATIONS`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOnlyGuard;

impl Intercept for ReadOnlyGuard {
    fn name(&self) -> &'static str {
        "gateaudit read-only guard"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(metadata) = cfg.load::<Metadata>() else {
            return Err("gateaudit read-only guard: the SDK did not name the operation".into());
        };
        match listed(metadata.service(), metadata.name()) {
            Some(_) => Ok(()),
            None => Err(format!(
                "gateaudit read-only guard: {}:{} is not in the read-only operations list \
                 (src/collect/operations.rs); refused",
                metadata.service(),
                metadata.name()
            )
            .into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::catalog::{AccessLevel, Catalog};
    use std::collections::BTreeSet;

    #[test]
    fn a_cloudtrail_record_finds_its_operation_by_the_iam_prefix() {
        let found =
            listed_for_event("sso.amazonaws.com", "ListAccountAssignments").expect("listed");
        assert_eq!(found.service, "SSO Admin");
        assert!(listed_for_event("organizations.amazonaws.com", "ListAccounts").is_some());
        assert!(listed_for_event("sso.amazonaws.com", "CreateAccountAssignment").is_none());
        assert!(listed_for_event("iam.amazonaws.com", "ListAccountAssignments").is_none());
    }

    #[test]
    fn every_listed_operation_is_read_only_by_the_iam_catalog() {
        let catalog = Catalog::global();
        for o in OPERATIONS {
            let info = catalog
                .lookup(o.iam_action)
                .unwrap_or_else(|| panic!("{} is not in the IAM action catalog", o.iam_action));
            let level = catalog.access_level(o.iam_action);
            if SESSION_ONLY.contains(&o.iam_action) {
                assert_eq!(level, AccessLevel::Write, "{} changed level", o.iam_action);
                continue;
            }
            assert!(
                matches!(level, AccessLevel::Read | AccessLevel::List) && !info.is_mutating(),
                "{} ({}:{}) has access level {}: not read-only",
                o.iam_action,
                o.service,
                o.name,
                level.as_str()
            );
        }
    }

    #[test]
    fn the_published_auditor_policy_grants_exactly_the_listed_operations() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/policies/auditor-iam-policy.json"
        );
        let text = std::fs::read_to_string(path).expect("policies/auditor-iam-policy.json");
        let policy: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        let mut granted = BTreeSet::new();
        for statement in policy["Statement"].as_array().expect("statements") {
            assert_eq!(statement["Effect"], "Allow");
            let actions = match &statement["Action"] {
                serde_json::Value::String(a) => vec![a.clone()],
                serde_json::Value::Array(a) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                other => panic!("unexpected Action {other}"),
            };
            for a in actions {
                assert!(
                    !a.contains('*'),
                    "{a}: the policy names actions, no wildcards"
                );
                if SESSION_ONLY.iter().any(|s| s.eq_ignore_ascii_case(&a)) {
                    // Scoped to named roles: the audit role in each account and the organisation reader.
                    let resources: Vec<&str> = match &statement["Resource"] {
                        serde_json::Value::String(r) => vec![r.as_str()],
                        serde_json::Value::Array(r) => {
                            r.iter().filter_map(serde_json::Value::as_str).collect()
                        }
                        other => panic!("unexpected Resource {other}"),
                    };
                    assert!(resources.contains(&"arn:aws:iam::*:role/CICDCrossAccountRole"));
                    for r in resources {
                        let role = r.strip_prefix("arn:aws:iam::*:role/").unwrap_or("");
                        assert!(
                            !role.is_empty() && !role.contains('*'),
                            "{a} is scoped to named roles, not {r}"
                        );
                    }
                }
                granted.insert(a.to_lowercase());
            }
        }
        let listed: BTreeSet<String> = OPERATIONS
            .iter()
            .map(|o| o.iam_action.to_lowercase())
            .collect();
        assert_eq!(
            granted, listed,
            "policies/auditor-iam-policy.json and src/collect/operations.rs differ"
        );
    }

    #[test]
    fn the_guard_refuses_what_is_not_listed_before_sending() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let config = aws_sdk_iam::Config::builder()
                .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
                .region(aws_sdk_iam::config::Region::new("us-east-1"))
                .credentials_provider(aws_credential_types::Credentials::for_tests())
                // Nothing listens there: a request that got out would fail differently.
                .endpoint_url("http://127.0.0.1:9")
                .interceptor(ReadOnlyGuard)
                .build();
            let iam = aws_sdk_iam::Client::from_conf(config);
            let err = iam
                .create_user()
                .user_name("x")
                .send()
                .await
                .expect_err("refused");
            let text = format!(
                "{}",
                aws_smithy_types::error::display::DisplayErrorContext(&err)
            );
            assert!(
                text.contains("IAM:CreateUser is not in the read-only operations list"),
                "{text}"
            );
        });
        assert!(listed("iam", "GetAccountAuthorizationDetails").is_some());
        assert!(listed("IAM", "CreateUser").is_none());
    }
}
