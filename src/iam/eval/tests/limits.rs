//! Permissions boundaries and session policies limiting identity grants.

use super::*;

#[test]
fn boundary_intersection() {
    let ids = [pol("p", allow("*", "*"))];
    let b = [pol("boundary", allow("s3:*", "*"))];
    let set = PolicySet {
        identity: &ids,
        boundaries: &b,
        ..PolicySet::default()
    };
    assert!(evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &set).is_allowed());
    let e = evaluate(&req(user(), APPROVE, GATE_A), &set);
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert_eq!(e.deciding_layer, Some(Layer::PermissionsBoundary));
    // The boundary alone grants nothing.
    let none: [Policy; 0] = [];
    let set = PolicySet {
        identity: &none,
        boundaries: &b,
        ..PolicySet::default()
    };
    let e = evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &set);
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert_eq!(e.deciding_layer, Some(Layer::Identity));
}

#[test]
fn session_policy_intersection() {
    let ids = [pol("role-policy", allow("codepipeline:*", "*"))];
    let sp = pol("session", allow("codepipeline:Get*", "*"));
    let set = PolicySet {
        identity: &ids,
        session: Some(&sp),
        ..PolicySet::default()
    };
    assert!(evaluate(&req(session(), "codepipeline:GetPipeline", "*"), &set).is_allowed());
    let e = evaluate(&req(session(), APPROVE, GATE_A), &set);
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert_eq!(e.deciding_layer, Some(Layer::SessionPolicy));
    // The session policy cannot grant more than the role's policies.
    let sp_wide = pol("session", allow("*", "*"));
    let set = PolicySet {
        identity: &ids,
        session: Some(&sp_wide),
        ..PolicySet::default()
    };
    assert!(!evaluate(&req(session(), "s3:GetObject", "*"), &set).is_allowed());
}

#[test]
fn deny_in_boundary_or_session_policy_is_explicit() {
    let ids = [pol("p", allow("*", "*"))];
    let b = [pol(
        "boundary",
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "NoApprove", "Effect": "Deny", "Action": APPROVE, "Resource": "*"}]}),
    )];
    let set = PolicySet {
        identity: &ids,
        boundaries: &b,
        ..PolicySet::default()
    };
    let e = evaluate(&req(user(), APPROVE, GATE_A), &set);
    assert_eq!(e.decision, Decision::ExplicitlyDenied);
    assert_eq!(e.deciding_layer, Some(Layer::PermissionsBoundary));
    let sp = b[0].clone();
    let set = PolicySet {
        identity: &ids,
        session: Some(&sp),
        ..PolicySet::default()
    };
    let e = evaluate(&req(session(), APPROVE, GATE_A), &set);
    assert_eq!(e.deciding_layer, Some(Layer::SessionPolicy));
}
