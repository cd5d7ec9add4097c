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
}
