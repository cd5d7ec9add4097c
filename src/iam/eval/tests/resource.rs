//! Resource-based policies within one account and across accounts.

use super::*;

#[test]
fn cross_account_needs_both_sides() {
    let ext = PrincipalInfo::from_arn("arn:aws:iam::222222222222:user/eve").unwrap();
    let ids = [pol("p", allow("s3:GetObject", "*"))];
    let rp = bucket_policy(json!({"Effect": "Allow", "Principal": {"AWS": OTHER},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}));
    let mut r = req(ext, "s3:GetObject", "arn:aws:s3:::b/k");
    r.resource_account = Some(ACCT.into());
    // Identity only.
    let e = evaluate(&r, &identity_only(&ids));
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert_eq!(e.deciding_layer, Some(Layer::ResourcePolicy));
    // Resource only.
    let none: [Policy; 0] = [];
    let set = PolicySet {
        identity: &none,
        resource_policy: Some(&rp),
        ..PolicySet::default()
    };
    let e = evaluate(&r, &set);
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert_eq!(e.deciding_layer, Some(Layer::Identity));
    // Both.
    let set = PolicySet {
        identity: &ids,
        resource_policy: Some(&rp),
        ..PolicySet::default()
    };
    let e = evaluate(&r, &set);
    assert!(e.is_allowed());
    assert_eq!(
        e.deciding_layers,
        vec![Layer::Identity, Layer::ResourcePolicy]
    );
    // The boundary still limits the identity side across accounts.
    let b = [pol("boundary", allow("ec2:*", "*"))];
    let set = PolicySet {
        identity: &ids,
        boundaries: &b,
        resource_policy: Some(&rp),
        ..PolicySet::default()
    };
    let e = evaluate(&r, &set);
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert_eq!(e.deciding_layer, Some(Layer::PermissionsBoundary));
}

#[test]
fn same_account_resource_policy_alone_grants() {
    let none: [Policy; 0] = [];
    let rp = bucket_policy(json!({"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:user/alice"},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}));
    let set = PolicySet {
        identity: &none,
        resource_policy: Some(&rp),
        ..PolicySet::default()
    };
    let e = evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &set);
    assert!(e.is_allowed());
    assert_eq!(e.deciding_layer, Some(Layer::ResourcePolicy));
    // Naming only the account delegates to identity policies: no grant on its own.
    let rp = bucket_policy(json!({"Effect": "Allow", "Principal": {"AWS": ACCT},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}));
    let set = PolicySet {
        identity: &none,
        resource_policy: Some(&rp),
        ..PolicySet::default()
    };
    let e = evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &set);
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
}

#[test]
fn resource_policy_naming_user_grants_beyond_boundary() {
    let ids = [pol("p", allow("*", "*"))];
    let b = [pol("boundary", allow("ec2:*", "*"))];
    let rp = bucket_policy(json!({"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:user/alice"},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}));
    let set = PolicySet {
        identity: &ids,
        boundaries: &b,
        resource_policy: Some(&rp),
        ..PolicySet::default()
    };
    let e = evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &set);
    assert!(e.is_allowed());
    assert_eq!(e.deciding_layers, vec![Layer::ResourcePolicy]);
    // Without the resource policy the boundary blocks it.
    let set2 = PolicySet {
        resource_policy: None,
        ..set
    };
    assert!(!evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &set2).is_allowed());
}

#[test]
fn resource_policy_naming_role_vs_session() {
    let none: [Policy; 0] = [];
    let b = [pol("boundary", allow("ec2:*", "*"))];
    let sp = pol("session", allow("ec2:*", "*"));
    let by_role = bucket_policy(json!({"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:role/Deployer"},
        "Action": "s3:GetObject", "Resource": "*"}));
    let by_session = bucket_policy(json!({"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:sts::111111111111:assumed-role/Deployer/run-42"},
        "Action": "s3:GetObject", "Resource": "*"}));
    let r = req(session(), "s3:GetObject", "arn:aws:s3:::b/k");
    // Role ARN without boundary: grants on its own (same account).
    let set = PolicySet {
        identity: &none,
        resource_policy: Some(&by_role),
        ..PolicySet::default()
    };
    assert!(evaluate(&r, &set).is_allowed());
    // Role ARN with boundary: limited by the boundary.
    let set = PolicySet {
        identity: &none,
        boundaries: &b,
        resource_policy: Some(&by_role),
        ..PolicySet::default()
    };
    let e = evaluate(&r, &set);
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    // Role ARN with session policy: limited by the session policy.
    let set = PolicySet {
        identity: &none,
        session: Some(&sp),
        resource_policy: Some(&by_role),
        ..PolicySet::default()
    };
    assert!(!evaluate(&r, &set).is_allowed());
    // Session ARN: granted directly, beyond boundary and session policy.
    let set = PolicySet {
        identity: &none,
        boundaries: &b,
        session: Some(&sp),
        resource_policy: Some(&by_session),
        ..PolicySet::default()
    };
    assert!(evaluate(&r, &set).is_allowed());
    // A role path in the policy's role ARN still names the same role.
    let by_path_role = bucket_policy(json!({"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:role/ci/Deployer"},
        "Action": "s3:GetObject", "Resource": "*"}));
    let set = PolicySet {
        identity: &none,
        resource_policy: Some(&by_path_role),
        ..PolicySet::default()
    };
    assert!(evaluate(&r, &set).is_allowed());
}
