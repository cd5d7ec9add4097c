//! Principal parsing and Principal / NotPrincipal matching, root and service principals.

use super::*;

#[test]
fn deny_with_not_principal() {
    let ids = [pol("p", allow("s3:*", "*"))];
    let rp = bucket_policy(json!({"Effect": "Deny",
        "NotPrincipal": {"AWS": ["arn:aws:iam::111111111111:user/alice", "111111111111"]},
        "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}));
    let set = PolicySet {
        identity: &ids,
        resource_policy: Some(&rp),
        ..PolicySet::default()
    };
    // alice (and her account) are listed: the deny does not apply to her.
    assert!(evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &set).is_allowed());
    // bob is not listed: denied.
    let bob = PrincipalInfo::from_arn("arn:aws:iam::111111111111:user/bob").unwrap();
    let e = evaluate(&req(bob, "s3:GetObject", "arn:aws:s3:::b/k"), &set);
    assert_eq!(e.decision, Decision::ExplicitlyDenied);
    assert_eq!(e.deciding_layer, Some(Layer::ResourcePolicy));
    // A session is excluded only if session, role and account are all listed.
    let sess = PrincipalInfo::from_arn("arn:aws:sts::111111111111:assumed-role/Ops/s1").unwrap();
    let rp2 = bucket_policy(json!({"Effect": "Deny",
        "NotPrincipal": {"AWS": ["arn:aws:iam::111111111111:role/Ops", "111111111111"]},
        "Action": "s3:*", "Resource": "*"}));
    let set2 = PolicySet {
        identity: &ids,
        resource_policy: Some(&rp2),
        ..PolicySet::default()
    };
    let e = evaluate(
        &req(sess.clone(), "s3:GetObject", "arn:aws:s3:::b/k"),
        &set2,
    );
    assert_eq!(e.decision, Decision::ExplicitlyDenied);
    let rp3 = bucket_policy(json!({"Effect": "Deny",
        "NotPrincipal": {"AWS": ["arn:aws:iam::111111111111:role/Ops",
                                 "arn:aws:sts::111111111111:assumed-role/Ops/s1", "111111111111"]},
        "Action": "s3:*", "Resource": "*"}));
    let set3 = PolicySet {
        identity: &ids,
        resource_policy: Some(&rp3),
        ..PolicySet::default()
    };
    assert!(evaluate(&req(sess, "s3:GetObject", "arn:aws:s3:::b/k"), &set3).is_allowed());
    // Documented quirk: with a permissions boundary, Deny+NotPrincipal always denies.
    let b = [pol("boundary", allow("*", "*"))];
    let set4 = PolicySet {
        identity: &ids,
        boundaries: &b,
        resource_policy: Some(&rp),
        ..PolicySet::default()
    };
    let e = evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &set4);
    assert_eq!(e.decision, Decision::ExplicitlyDenied);
}

#[test]
fn root_and_service_principals() {
    let root = PrincipalInfo::from_arn(ACCT).unwrap();
    assert_eq!(root.kind, PrincipalKind::Root);
    let none: [Policy; 0] = [];
    // The root user needs no identity policy in its own account…
    let e = evaluate(&req(root.clone(), APPROVE, GATE_A), &identity_only(&none));
    assert!(e.is_allowed());
    // …but SCPs still apply to it.
    let levels = [level("r-root", vec![allow("s3:*", "*")])];
    let set = PolicySet {
        identity: &none,
        scp_levels: &levels,
        ..PolicySet::default()
    };
    assert!(!evaluate(&req(root, APPROVE, GATE_A), &set).is_allowed());
    // A service principal needs the resource policy; SCPs don't apply to it.
    let svc = PrincipalInfo::from_arn("codepipeline.amazonaws.com").unwrap();
    let rp = bucket_policy(json!({"Effect": "Allow",
        "Principal": {"Service": "codepipeline.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": "arn:aws:s3:::artifacts/*"}));
    let set = PolicySet {
        identity: &none,
        resource_policy: Some(&rp),
        scp_levels: &levels,
        ..PolicySet::default()
    };
    let e = evaluate(
        &req(svc.clone(), "s3:PutObject", "arn:aws:s3:::artifacts/x"),
        &set,
    );
    assert!(e.is_allowed());
    let e = evaluate(
        &req(svc, "s3:PutObject", "arn:aws:s3:::artifacts/x"),
        &identity_only(&none),
    );
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert_eq!(e.deciding_layer, Some(Layer::ResourcePolicy));
}

#[test]
fn principal_parsing() {
    let s = session();
    assert_eq!(
        s.kind,
        PrincipalKind::AssumedRoleSession {
            role_arn: "arn:aws:iam::111111111111:role/Deployer".into(),
            session_name: "run-42".into()
        }
    );
    assert_eq!(s.account, ACCT);
    assert_eq!(user().username.as_deref(), Some("alice"));
    assert_eq!(
        PrincipalInfo::from_arn("arn:aws:iam::111111111111:root")
            .unwrap()
            .kind,
        PrincipalKind::Root
    );
    assert!(PrincipalInfo::from_arn("arn:aws:s3:::bucket").is_err());
    assert!(PrincipalInfo::from_arn("alice").is_err());
    assert!(PrincipalInfo::from_arn("arn:aws:sts::111111111111:assumed-role/OnlyRole").is_err());
}

#[test]
fn resource_policy_without_principal_matches_nobody() {
    let none: [Policy; 0] = [];
    let rp = bucket_policy(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}));
    let set = PolicySet {
        identity: &none,
        resource_policy: Some(&rp),
        ..PolicySet::default()
    };
    assert!(!evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &set).is_allowed());
}

#[test]
fn resource_policy_star_principal_and_allow_not_principal() {
    let none: [Policy; 0] = [];
    let public = bucket_policy(json!({"Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pub/*"}));
    let set = PolicySet {
        identity: &none,
        resource_policy: Some(&public),
        ..PolicySet::default()
    };
    assert!(evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::pub/x"), &set).is_allowed());
    // Allow + NotPrincipal: everyone except the listed principal.
    let np = bucket_policy(json!({"Effect": "Allow",
        "NotPrincipal": {"AWS": "arn:aws:iam::111111111111:user/alice"},
        "Action": "s3:GetObject", "Resource": "*"}));
    let set = PolicySet {
        identity: &none,
        resource_policy: Some(&np),
        ..PolicySet::default()
    };
    assert!(!evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/x"), &set).is_allowed());
    let bob = PrincipalInfo::from_arn("arn:aws:iam::111111111111:user/bob").unwrap();
    assert!(evaluate(&req(bob, "s3:GetObject", "arn:aws:s3:::b/x"), &set).is_allowed());
}
