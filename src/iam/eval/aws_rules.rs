//! Rules AWS applies to some requests besides matching policy statements: which requests need
//! no permission at all, which need the target's resource policy to admit the caller, and which
//! entities nobody can modify. Each rule names the AWS documentation it follows.
//!
//! Pure classification of an action (and resource): must not evaluate statements or decide a
//! request (that is `super::evaluate`), perform I/O, reference AWS SDK types, or depend on the
//! catalog module.

/// `sts:GetCallerIdentity` needs no permission, and an explicit deny does not stop it
/// ("GetCallerIdentity", AWS STS API Reference: "No permissions are required to perform this
/// operation. If an administrator attaches a policy to your identity that explicitly denies
/// access to the sts:GetCallerIdentity action, you can still perform this operation.").
pub fn is_caller_identity(action: &str) -> bool {
    action.eq_ignore_ascii_case("sts:GetCallerIdentity")
}

/// A resource policy that must admit the caller even within one account ("Policy evaluation
/// for requests within a single account", IAM User Guide: "Role trust policies and KMS key
/// policies are exceptions to this logic, because they must explicitly allow access for
/// principals").
///
/// Within one account the policy either names the caller (user, session, its role, or `*`) and
/// then grants on its own, or names the caller's account (`arn:aws:iam::<acct>:root` or the
/// bare id) and then delegates to the caller's identity policies, which must allow too. An
/// identity-policy allow without any admission grants nothing, and a request with no such
/// policy supplied is implicitly denied: every role has a trust policy and every KMS key a key
/// policy ("Key policies in AWS KMS": "Unless the key policy explicitly allows it, you cannot
/// use IAM policies to allow access to a KMS key"), so callers must pass it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gatekeeper {
    /// The trust policy of the role being assumed (or tagged, or given a source identity).
    RoleTrust,
    /// The key policy of a KMS key.
    KeyPolicy,
}

impl Gatekeeper {
    /// What the policy is called, for notes.
    pub fn as_str(self) -> &'static str {
        match self {
            Gatekeeper::RoleTrust => "role trust policy",
            Gatekeeper::KeyPolicy => "KMS key policy",
        }
    }
}

/// The STS actions authorized by the target role's trust policy.
pub const TRUST_ACTIONS: [&str; 5] = [
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
    "sts:SetSourceIdentity",
    "sts:TagSession",
];

/// `(partition, service, region, account, resource)` of an ARN.
fn arn_parts(arn: &str) -> Option<(&str, &str, &str, &str, &str)> {
    let mut it = arn.splitn(6, ':');
    if it.next()? != "arn" {
        return None;
    }
    Some((it.next()?, it.next()?, it.next()?, it.next()?, it.next()?))
}

/// Whether `resource` is an IAM role ARN (`arn:<partition>:iam::<acct>:role/<path/><name>`).
pub fn is_role_arn(resource: &str) -> bool {
    matches!(arn_parts(resource), Some((_, "iam", _, _, res)) if res.starts_with("role/"))
}

/// Whether `resource` is a KMS key ARN (`arn:<partition>:kms:<region>:<acct>:key/<id>`).
pub fn is_kms_key_arn(resource: &str) -> bool {
    matches!(arn_parts(resource), Some((_, "kms", _, _, res)) if res.starts_with("key/"))
}

/// The resource policy that must admit the caller of `action` on `resource`, if any: the role's
/// trust policy for [`TRUST_ACTIONS`] on a role ARN, the key policy for a `kms:` action on a key
/// ARN. Action names compare case-insensitively.
pub fn gatekeeper(action: &str, resource: &str) -> Option<Gatekeeper> {
    if TRUST_ACTIONS.iter().any(|a| a.eq_ignore_ascii_case(action)) && is_role_arn(resource) {
        return Some(Gatekeeper::RoleTrust);
    }
    let is_kms = action
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("kms:"));
    if is_kms && is_kms_key_arn(resource) {
        return Some(Gatekeeper::KeyPolicy);
    }
    None
}

/// An entity customers cannot modify, whatever their policies allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unmodifiable {
    /// An AWS-managed policy (`arn:<partition>:iam::aws:policy/…`): "You cannot change the
    /// permissions defined in AWS managed policies" ("AWS managed policies", IAM User Guide;
    /// "Edit IAM policies": "AWS managed policies cannot be edited").
    AwsManagedPolicy,
    /// A role under the reserved path `/aws-reserved/` (IAM Identity Center's `AWSReservedSSO_*`
    /// roles), which only the owning service manages (the Identity Center service-linked role's
    /// `AWSSSOServiceRolePolicy` is what grants these changes, on
    /// `arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*`).
    ReservedRole,
    /// A service-linked role (under `/aws-service-role/`): "service-linked roles are protected
    /// AWS resources. Only the service that depends on the service-linked role can modify or
    /// delete the role" (UnmodifiableEntity, IAM API Reference); its description may be edited
    /// and it may be created or deleted through the service-linked-role actions ("Update a
    /// service-linked role", IAM User Guide).
    ServiceLinkedRole,
}

impl Unmodifiable {
    /// What the entity is, for notes.
    pub fn as_str(self) -> &'static str {
        match self {
            Unmodifiable::AwsManagedPolicy => "an AWS-managed policy",
            Unmodifiable::ReservedRole => "a role under the reserved path /aws-reserved/",
            Unmodifiable::ServiceLinkedRole => "a service-linked role",
        }
    }
}

/// IAM actions that change a managed policy (its resource is the policy ARN).
pub const POLICY_MUTATIONS: [&str; 7] = [
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:TagPolicy",
    "iam:UntagPolicy",
];

/// IAM actions that change a role (its resource is the role ARN): its policies, boundary, trust
/// policy, tags, or its existence.
pub const ROLE_MUTATIONS: [&str; 11] = [
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
];

/// The service-linked-role lifecycle actions: how a service-linked role is created and deleted,
/// so they stay governed by policy on service-linked roles, but change a reserved role.
pub const SERVICE_LINKED_ROLE_LIFECYCLE: [&str; 2] =
    ["iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole"];

/// Mutating role actions (by the catalog's access level) that stay governed by policy on every
/// role, with the reason: they are not "modifying the entity" in the sense AWS refuses.
pub const ROLE_ACTIONS_GOVERNED_BY_POLICY: [(&str, &str); 3] = [
    (
        "iam:PassRole",
        "passes the role to a service; the role is unchanged",
    ),
    (
        "iam:UpdateRole",
        "edits the description (and session duration); \"You can edit the description of any \
         role\" (Update a service-linked role, IAM User Guide)",
    ),
    (
        "iam:UpdateRoleDescription",
        "edits the description, which any role's may be",
    ),
];

fn listed(list: &[&str], action: &str) -> bool {
    list.iter().any(|a| a.eq_ignore_ascii_case(action))
}

/// Whether `action` on `resource` would modify an entity AWS does not let `caller_is_service`
/// = false callers modify, and which. Read actions (`Get*`, `List*`, `Simulate*`,
/// `Generate*`…), and the actions in [`ROLE_ACTIONS_GOVERNED_BY_POLICY`], are never refused.
/// A service principal or service-linked role acting as the owning service may change reserved
/// and service-linked roles (pass `caller_is_service`), never an AWS-managed policy.
///
/// The mutating actions are listed here rather than taken from the catalog's access levels on
/// purpose: the catalog counts `iam:PassRole` and description edits as permissions management,
/// and an action newer than these lists must stay governed by policy (an audit must not hide
/// access on a guess). A unit test checks the lists against the catalog, so a new IAM action on
/// roles or policies fails the build until it is classified.
pub fn unmodifiable(action: &str, resource: &str, caller_is_service: bool) -> Option<Unmodifiable> {
    let (_, service, _, account, res) = arn_parts(resource)?;
    if service != "iam" {
        return None;
    }
    if account == "aws" && res.starts_with("policy/") {
        return listed(&POLICY_MUTATIONS, action).then_some(Unmodifiable::AwsManagedPolicy);
    }
    if caller_is_service {
        return None;
    }
    if res.starts_with("role/aws-reserved/") {
        let changes =
            listed(&ROLE_MUTATIONS, action) || listed(&SERVICE_LINKED_ROLE_LIFECYCLE, action);
        return changes.then_some(Unmodifiable::ReservedRole);
    }
    if res.starts_with("role/aws-service-role/") {
        return listed(&ROLE_MUTATIONS, action).then_some(Unmodifiable::ServiceLinkedRole);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gatekeepers_by_action_and_resource() {
        let role = "arn:aws:iam::111111111111:role/ci/Deployer";
        let key = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        for action in TRUST_ACTIONS {
            assert_eq!(gatekeeper(action, role), Some(Gatekeeper::RoleTrust));
        }
        assert_eq!(
            gatekeeper("STS:assumerole", role),
            Some(Gatekeeper::RoleTrust)
        );
        // TagSession on a user, AssumeRole on `*` or another resource: no trust policy involved.
        assert_eq!(
            gatekeeper("sts:TagSession", "arn:aws:iam::111111111111:user/a"),
            None
        );
        assert_eq!(gatekeeper("sts:AssumeRole", "*"), None);
        assert_eq!(gatekeeper("sts:GetSessionToken", role), None);
        assert_eq!(gatekeeper("iam:GetRole", role), None);
        assert_eq!(gatekeeper("kms:Decrypt", key), Some(Gatekeeper::KeyPolicy));
        assert_eq!(gatekeeper("KMS:Encrypt", key), Some(Gatekeeper::KeyPolicy));
        assert_eq!(
            gatekeeper(
                "kms:Decrypt",
                "arn:aws-cn:kms:cn-north-1:111111111111:key/x"
            ),
            Some(Gatekeeper::KeyPolicy)
        );
        // Aliases have no key policy of their own; `*` is not a key.
        assert_eq!(
            gatekeeper(
                "kms:CreateAlias",
                "arn:aws:kms:eu-west-1:111111111111:alias/a"
            ),
            None
        );
        assert_eq!(gatekeeper("kms:CreateKey", "*"), None);
        assert_eq!(gatekeeper("s3:GetObject", key), None);
        assert_eq!(gatekeeper("km", key), None);
    }

    const SSO_ROLE: &str = "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef";
    const SLR: &str = "arn:aws:iam::111111111111:role/aws-service-role/elasticbeanstalk.amazonaws.com/AWSServiceRoleForElasticBeanstalk";
    const MANAGED: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

    #[test]
    fn aws_managed_policies_cannot_be_changed_by_anyone() {
        for action in POLICY_MUTATIONS {
            assert_eq!(
                unmodifiable(action, MANAGED, false),
                Some(Unmodifiable::AwsManagedPolicy),
                "{action}"
            );
            assert_eq!(
                unmodifiable(action, MANAGED, true),
                Some(Unmodifiable::AwsManagedPolicy)
            );
        }
        assert_eq!(
            unmodifiable(
                "IAM:createpolicyversion",
                "arn:aws-us-gov:iam::aws:policy/job-function/ViewOnlyAccess",
                false
            ),
            Some(Unmodifiable::AwsManagedPolicy)
        );
        // Reading them, or changing a customer managed policy, is governed by policy.
        for action in [
            "iam:GetPolicy",
            "iam:GetPolicyVersion",
            "iam:ListPolicyVersions",
        ] {
            assert_eq!(unmodifiable(action, MANAGED, false), None);
        }
        let customer = "arn:aws:iam::111111111111:policy/AdministratorAccess";
        assert_eq!(
            unmodifiable("iam:CreatePolicyVersion", customer, false),
            None
        );
        // Attaching an AWS-managed policy changes the role, not the policy.
        assert_eq!(
            unmodifiable(
                "iam:AttachRolePolicy",
                "arn:aws:iam::111111111111:role/App",
                false
            ),
            None
        );
    }

    #[test]
    fn reserved_and_service_linked_roles_cannot_be_changed() {
        for action in ROLE_MUTATIONS {
            assert_eq!(
                unmodifiable(action, SSO_ROLE, false),
                Some(Unmodifiable::ReservedRole),
                "{action}"
            );
            assert_eq!(
                unmodifiable(action, SLR, false),
                Some(Unmodifiable::ServiceLinkedRole),
                "{action}"
            );
            // Ordinary roles: governed by policy.
            assert_eq!(
                unmodifiable(action, "arn:aws:iam::111111111111:role/ci/Deployer", false),
                None
            );
        }
        // Patterns under the reserved paths are protected too; `*` is not.
        assert_eq!(
            unmodifiable(
                "iam:PutRolePolicy",
                "arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*",
                false
            ),
            Some(Unmodifiable::ReservedRole)
        );
        assert_eq!(unmodifiable("iam:PutRolePolicy", "*", false), None);
        // The service-linked-role lifecycle: allowed by policy on service-linked roles only.
        for action in SERVICE_LINKED_ROLE_LIFECYCLE {
            assert_eq!(unmodifiable(action, SLR, false), None);
            assert_eq!(
                unmodifiable(action, SSO_ROLE, false),
                Some(Unmodifiable::ReservedRole)
            );
        }
        // Reading, passing and describing stay governed by policy.
        for action in [
            "iam:GetRole",
            "iam:ListRoleTags",
            "iam:PassRole",
            "iam:UpdateRoleDescription",
        ] {
            assert_eq!(unmodifiable(action, SSO_ROLE, false), None, "{action}");
            assert_eq!(unmodifiable(action, SLR, false), None, "{action}");
        }
        // The owning service (a service-linked role or service principal) may change them.
        assert_eq!(unmodifiable("iam:PutRolePolicy", SSO_ROLE, true), None);
        assert_eq!(unmodifiable("iam:DeleteRole", SLR, true), None);
    }

    #[test]
    fn the_lists_cover_every_mutating_catalog_action_on_roles_and_policies() {
        // The evaluator does not depend on the catalog; this test pins the lists to it, so that a
        // new IAM action on roles or policies is classified before it ships.
        use super::super::super::catalog::Catalog;
        let catalog = Catalog::global();
        let governed: Vec<&str> = ROLE_ACTIONS_GOVERNED_BY_POLICY
            .iter()
            .map(|(a, _)| *a)
            .collect();
        let known = |a: &str| {
            listed(&POLICY_MUTATIONS, a)
                || listed(&ROLE_MUTATIONS, a)
                || listed(&SERVICE_LINKED_ROLE_LIFECYCLE, a)
                || listed(&governed, a)
        };
        for info in catalog.service_actions("iam") {
            let on_roles_or_policies = info.resource_types().any(|t| t == "role" || t == "policy");
            if on_roles_or_policies && info.is_mutating() {
                assert!(
                    known(info.full_name()),
                    "unclassified: {}",
                    info.full_name()
                );
            }
        }
        for action in POLICY_MUTATIONS
            .iter()
            .chain(&ROLE_MUTATIONS)
            .chain(&SERVICE_LINKED_ROLE_LIFECYCLE)
            .chain(&governed)
        {
            let info = catalog.lookup(action).expect("in the catalog");
            assert!(info.is_mutating(), "{action}");
        }
    }
}
