//! Audit mode: unknown keys make answers Possibly, never No.

use super::*;

#[test]
fn audit_mode_possibly_for_mfa() {
    let ids = [pol(
        "approvers",
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "ApproveWithMfa", "Effect": "Allow", "Action": APPROVE, "Resource": GATE_A,
             "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}),
    )];
    let mut r = req(user(), APPROVE, GATE_A);
    r.context = Context::audit();
    let e = evaluate(&r, &identity_only(&ids));
    assert_eq!(e.answer(), Answer::Possibly);
    assert_eq!(e.decision, Decision::Allowed);
    assert_eq!(e.certainty, Certainty::Possible);
    assert!(e.allowing.is_empty());
    assert_eq!(
        e.possibly_allowing[0].sid.as_deref(),
        Some("ApproveWithMfa")
    );
    assert_eq!(e.unknowns.len(), 1);
    assert_eq!(e.unknowns[0].operator, "Bool");
    assert_eq!(e.unknowns[0].key, "aws:MultiFactorAuthPresent");
    assert_eq!(
        e.unknowns[0].statement.sid.as_deref(),
        Some("ApproveWithMfa")
    );
    // Exact mode with the key absent: denied.
    r.context = Context::exact();
    assert_eq!(evaluate(&r, &identity_only(&ids)).answer(), Answer::No);
    // Audit mode with the key marked known-absent: denied.
    r.context = Context::audit().known_absent("aws:MultiFactorAuthPresent");
    assert_eq!(evaluate(&r, &identity_only(&ids)).answer(), Answer::No);
}

#[test]
fn audit_mode_possible_deny_makes_allow_possible() {
    let ids = [
        pol("p", allow(APPROVE, "*")),
        pol(
            "d",
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Deny", "Action": "*", "Resource": "*",
                 "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}),
        ),
    ];
    let mut r = req(user(), APPROVE, GATE_A);
    r.context = Context::audit();
    let e = evaluate(&r, &identity_only(&ids));
    assert_eq!(e.answer(), Answer::Possibly);
    assert_eq!(e.possibly_denying.len(), 1);
    assert_eq!(e.unknowns[0].key, "aws:SourceIp");
    r.context = Context::audit().with("aws:SourceIp", "10.1.1.1");
    assert_eq!(evaluate(&r, &identity_only(&ids)).answer(), Answer::Yes);
    r.context = Context::audit().with("aws:SourceIp", "8.8.8.8");
    let e = evaluate(&r, &identity_only(&ids));
    assert_eq!(e.decision, Decision::ExplicitlyDenied);
    assert_eq!(e.answer(), Answer::No);
    // A possible deny with no possible allow is a certain No.
    let only_deny = [ids[1].clone()];
    r.context = Context::audit();
    let e = evaluate(&r, &identity_only(&only_deny));
    assert_eq!(e.answer(), Answer::No);
}

#[test]
fn derived_principal_keys_are_known_in_audit_mode() {
    let ids = [pol(
        "p",
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": APPROVE, "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalTag/team": "release",
                                            "aws:PrincipalAccount": ACCT},
                           "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/a*"}}}]}),
    )];
    let mut r = req(user().with_tag("Team", "release"), APPROVE, GATE_A);
    r.context = Context::audit();
    assert_eq!(evaluate(&r, &identity_only(&ids)).answer(), Answer::Yes);
    r.principal = user().with_tag("team", "dev");
    assert_eq!(evaluate(&r, &identity_only(&ids)).answer(), Answer::No);
    // Roles may receive session tags at request time: a missing tag is unknown in audit.
    let mut r = req(session(), APPROVE, GATE_A);
    r.context = Context::audit();
    let ids = [pol(
        "p",
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": APPROVE, "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalTag/team": "release"}}}]}),
    )];
    assert_eq!(
        evaluate(&r, &identity_only(&ids)).answer(),
        Answer::Possibly
    );
}

#[test]
fn policy_variables_in_resources_and_2008_version() {
    let v12 = [pol(
        "p",
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::home/${aws:username}/*"}]}),
    )];
    let v08 = [pol(
        "p",
        json!({"Version": "2008-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::home/${aws:username}/*"}]}),
    )];
    let r = req(user(), "s3:GetObject", "arn:aws:s3:::home/alice/x");
    assert!(evaluate(&r, &identity_only(&v12)).is_allowed());
    assert!(!evaluate(&r, &identity_only(&v08)).is_allowed());
    let r = req(user(), "s3:GetObject", "arn:aws:s3:::home/bob/x");
    assert!(!evaluate(&r, &identity_only(&v12)).is_allowed());
    // A role has no aws:username: the element does not match.
    let r = req(session(), "s3:GetObject", "arn:aws:s3:::home/alice/x");
    assert!(!evaluate(&r, &identity_only(&v12)).is_allowed());
}

#[test]
fn audit_unknowns_in_scp_and_resource_variables() {
    let ids = [pol(
        "p",
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*",
             "Resource": "arn:aws:s3:::b/${aws:SourceIdentity}/*"}]}),
    )];
    let mut r = req(user(), "s3:GetObject", "arn:aws:s3:::b/alice/x");
    r.context = Context::audit();
    let e = evaluate(&r, &identity_only(&ids));
    assert_eq!(e.answer(), Answer::Possibly);
    assert_eq!(e.unknowns[0].operator, "Resource");
    assert_eq!(e.unknowns[0].key, "aws:SourceIdentity");
    r.context = Context::audit().with("aws:SourceIdentity", "bob");
    assert_eq!(evaluate(&r, &identity_only(&ids)).answer(), Answer::No);
    // An SCP allow conditioned on an unknown key makes the answer Possibly, not No.
    let ids = [pol("p", allow("*", "*"))];
    let levels = [level(
        "r-root",
        vec![json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*",
             "Condition": {"StringEqualsIfExists": {"aws:RequestedRegion": "eu-west-1"}}}]})],
    )];
    let set = PolicySet {
        identity: &ids,
        scp_levels: &levels,
        ..PolicySet::default()
    };
    let mut r = req(user(), APPROVE, GATE_A);
    r.context = Context::audit();
    let e = evaluate(&r, &set);
    assert_eq!(e.answer(), Answer::Possibly);
    assert_eq!(e.unknowns[0].statement.layer, Layer::Scp);
    assert_eq!(e.unknowns[0].operator, "StringEqualsIfExists");
}
