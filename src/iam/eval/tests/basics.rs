//! Identity policies alone: allow, implicit deny, wildcards, NotAction / NotResource, explicit deny.

use super::*;

#[test]
fn identity_allow_and_implicit_deny() {
    let ids = [pol("p", allow(APPROVE, GATE_A))];
    let e = evaluate(&req(user(), APPROVE, GATE_A), &identity_only(&ids));
    assert_eq!(e.decision, Decision::Allowed);
    assert_eq!(e.answer(), Answer::Yes);
    assert_eq!(e.deciding_layer, Some(Layer::Identity));
    assert_eq!(e.allowing.len(), 1);
    assert_eq!(e.allowing[0].sid.as_deref(), Some("A"));
    let e = evaluate(&req(user(), APPROVE, GATE_B), &identity_only(&ids));
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert_eq!(e.deciding_layer, Some(Layer::Identity));
    assert_eq!(e.answer(), Answer::No);
}

#[test]
fn wildcard_arn_segments_for_approval_gates() {
    let ids = [pol(
        "p",
        allow(
            APPROVE,
            "arn:aws:codepipeline:us-east-1:111111111111:*/*/ApprovalA",
        ),
    )];
    assert!(evaluate(&req(user(), APPROVE, GATE_A), &identity_only(&ids)).is_allowed());
    assert!(!evaluate(&req(user(), APPROVE, GATE_B), &identity_only(&ids)).is_allowed());
    let ids = [pol(
        "p",
        allow(APPROVE, "arn:aws:codepipeline:*:webapp/ProdGate/ApprovalA"),
    )];
    assert!(!evaluate(&req(user(), APPROVE, GATE_A), &identity_only(&ids)).is_allowed());
}

#[test]
fn all_identity_grants_listed() {
    let ids = [
        pol("p1", allow("codepipeline:*", "*")),
        pol(
            "p2",
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Sid": "Gate", "Effect": "Allow", "Action": APPROVE, "Resource": GATE_A}]}),
        ),
    ];
    let e = evaluate(&req(user(), APPROVE, GATE_A), &identity_only(&ids));
    let got: Vec<(String, usize)> = e
        .allowing_in(Layer::Identity)
        .map(|s| (s.policy_id.clone(), s.index))
        .collect();
    assert_eq!(got, vec![("p1".to_string(), 0), ("p2".to_string(), 1)]);
}

#[test]
fn not_action_with_allow_grants_everything_else() {
    let ids = [pol(
        "p",
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}),
    )];
    assert!(evaluate(&req(user(), APPROVE, GATE_A), &identity_only(&ids)).is_allowed());
    let e = evaluate(&req(user(), "iam:CreateUser", "*"), &identity_only(&ids));
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
}

#[test]
fn not_resource() {
    let ids = [pol(
        "p",
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": APPROVE, "NotResource": GATE_B}]}),
    )];
    assert!(evaluate(&req(user(), APPROVE, GATE_A), &identity_only(&ids)).is_allowed());
    assert!(!evaluate(&req(user(), APPROVE, GATE_B), &identity_only(&ids)).is_allowed());
}

#[test]
fn explicit_deny_wins_and_is_reported() {
    let ids = [
        pol("p1", allow("*", "*")),
        pol(
            "p2",
            json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "NoGateB", "Effect": "Deny", "Action": "codepipeline:Put*", "Resource": GATE_B}]}),
        ),
    ];
    let e = evaluate(&req(user(), APPROVE, GATE_B), &identity_only(&ids));
    assert_eq!(e.decision, Decision::ExplicitlyDenied);
    assert_eq!(e.deciding_layer, Some(Layer::Identity));
    assert_eq!(e.denying[0].sid.as_deref(), Some("NoGateB"));
    assert!(evaluate(&req(user(), APPROVE, GATE_A), &identity_only(&ids)).is_allowed());
}
