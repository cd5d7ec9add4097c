//! Requests AWS treats specially: GetCallerIdentity, role trust, KMS key policies, unmodifiable
//! AWS entities.

use super::*;

fn has_note(e: &Evaluation, code: &str) -> bool {
    e.notes.iter().any(|n| n.code() == code)
}

#[test]
fn get_caller_identity_is_allowed_without_policies_and_against_a_deny() {
    let none: [Policy; 0] = [];
    let e = evaluate(
        &req(user(), "sts:GetCallerIdentity", "*"),
        &identity_only(&none),
    );
    assert_eq!(e.decision, Decision::Allowed);
    assert_eq!(e.answer(), Answer::Yes);
    assert!(e.deciding_layers.is_empty());
    assert_eq!(e.deciding_layer, None);
    assert!(has_note(&e, "CallerIdentityAlwaysAllowed"), "{:?}", e.notes);
    // An explicit deny in the identity policy, an SCP and a boundary: still allowed; the Deny
    // statements stay visible as evidence.
    let deny = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "NoSts", "Effect": "Deny", "Action": "sts:*", "Resource": "*"}]});
    let ids = [pol("d", deny.clone())];
    let levels = [level("r-root", vec![deny.clone()])];
    let b = [pol("b", deny)];
    let set = PolicySet {
        identity: &ids,
        boundaries: &b,
        scp_levels: &levels,
        ..PolicySet::default()
    };
    let mut r = req(session(), "STS:getcalleridentity", "*");
    r.context = Context::audit();
    let e = evaluate(&r, &set);
    assert_eq!(e.answer(), Answer::Yes);
    assert_eq!(e.denying.len(), 3);
    // Other STS actions are governed by policy as usual.
    let e = evaluate(&req(session(), "sts:GetSessionToken", "*"), &set);
    assert_eq!(e.decision, Decision::ExplicitlyDenied);
    assert!(e.notes.is_empty());
}
