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
