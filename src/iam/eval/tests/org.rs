//! Organisation layers: SCP and RCP levels.

use super::*;

#[test]
fn scp_levels_every_level_must_allow() {
    let ids = [pol("p", allow("*", "*"))];
    let levels = [
        level("r-root", vec![allow("*", "*")]),
        level("ou-prod", vec![allow("s3:*", "*")]),
        level(ACCT, vec![allow("*", "*")]),
    ];
    let set = PolicySet {
        identity: &ids,
        scp_levels: &levels,
        ..PolicySet::default()
    };
    assert!(evaluate(&req(user(), "s3:GetObject", "*"), &set).is_allowed());
    let e = evaluate(&req(user(), "ec2:RunInstances", "*"), &set);
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert_eq!(e.deciding_layer, Some(Layer::Scp));
    // Management account: SCPs do not apply.
    let mgmt = PolicySet {
        is_management_account: true,
        ..set
    };
    assert!(evaluate(&req(user(), "ec2:RunInstances", "*"), &mgmt).is_allowed());
    // Service-linked roles: SCPs do not apply.
    let slr = PrincipalInfo::from_arn(
        "arn:aws:iam::111111111111:role/aws-service-role/ec2.amazonaws.com/AWSServiceRoleForEC2",
    )
    .unwrap();
    assert!(slr.is_service_linked_role());
    assert!(evaluate(&req(slr, "ec2:RunInstances", "*"), &set).is_allowed());
    // An SCP deny applies even with every allow in place.
    let deny_levels = [level(
        "r-root",
        vec![
            allow("*", "*"),
            json!({"Statement": {"Effect": "Deny", "Action": "codepipeline:PutApprovalResult", "Resource": "*"}}),
        ],
    )];
    let set = PolicySet {
        identity: &ids,
        scp_levels: &deny_levels,
        ..PolicySet::default()
    };
    let e = evaluate(&req(user(), APPROVE, GATE_A), &set);
    assert_eq!(e.decision, Decision::ExplicitlyDenied);
    assert_eq!(e.deciding_layer, Some(Layer::Scp));
    // An SCP can't grant: no identity policy -> implicit deny.
    let none: [Policy; 0] = [];
    let set = PolicySet {
        identity: &none,
        scp_levels: &levels,
        ..PolicySet::default()
    };
    assert!(!evaluate(&req(user(), "s3:GetObject", "*"), &set).is_allowed());
}

#[test]
fn rcps() {
    let ids = [pol("p", allow("s3:*", "*"))];
    let rcp_full = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]});
    let rcp_perimeter = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "OrgOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
         "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}}}]});
    let levels = [level("r-root", vec![rcp_full.clone(), rcp_perimeter])];
    let set = PolicySet {
        identity: &ids,
        rcp_levels: &levels,
        ..PolicySet::default()
    };
    let mut r = req(user(), "s3:GetObject", "arn:aws:s3:::b/k");
    r.context = Context::exact().with("aws:PrincipalOrgID", "o-abc");
    assert!(evaluate(&r, &set).is_allowed());
    r.context = Context::exact().with("aws:PrincipalOrgID", "o-evil");
    let e = evaluate(&r, &set);
    assert_eq!(e.decision, Decision::ExplicitlyDenied);
    assert_eq!(e.deciding_layer, Some(Layer::Rcp));
    assert_eq!(e.denying[0].sid.as_deref(), Some("OrgOnly"));
    // The management-account exemption still applies to RCP denies.
    let mgmt = PolicySet {
        resource_in_management_account: true,
        ..set
    };
    assert!(evaluate(&r, &mgmt).is_allowed());
    // Service-linked roles are exempt from RCPs too.
    let slr = PrincipalInfo::from_arn(
        "arn:aws:iam::111111111111:role/aws-service-role/s3.amazonaws.com/AWSServiceRoleForS3",
    )
    .unwrap();
    let mut r_slr = req(slr, "s3:GetObject", "arn:aws:s3:::b/k");
    r_slr.context = r.context.clone();
    assert!(evaluate(&r_slr, &set).is_allowed());
}

#[test]
fn rcp_levels_only_deny() {
    // RCPFullAWSAccess is always attached, so a level whose statements do not allow the action
    // (or an empty level) leaves the request allowed: RCPs contribute denies only.
    let ids = [pol("p", allow("s3:*", "*"))];
    let levels = [
        level("r-root", vec![]),
        level(
            "ou-x",
            vec![json!({"Statement": [{"Effect": "Allow", "Principal": "*",
            "Action": "ec2:*", "Resource": "*"}]})],
        ),
    ];
    let set = PolicySet {
        identity: &ids,
        rcp_levels: &levels,
        ..PolicySet::default()
    };
    let e = evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &set);
    assert_eq!(e.decision, Decision::Allowed);
    assert_eq!(e.answer(), Answer::Yes);
    assert_eq!(e.deciding_layers, vec![Layer::Identity]);
    assert!(e.notes.contains(&Note::RcpDenyOnly), "{:?}", e.notes);
    // An RCP Allow is not evidence of anything: it is not recorded.
    let full = [level(
        "r-root",
        vec![
            json!({"Statement": [{"Sid": "Full", "Effect": "Allow", "Principal": "*",
            "Action": "*", "Resource": "*"}]}),
        ],
    )];
    let set = PolicySet {
        identity: &ids,
        rcp_levels: &full,
        ..PolicySet::default()
    };
    let e = evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &set);
    assert!(e.allowing.iter().all(|s| s.layer != Layer::Rcp), "{e:?}");
    // An RCP cannot grant either: without an identity grant the request stays denied.
    let none: [Policy; 0] = [];
    let set = PolicySet {
        identity: &none,
        rcp_levels: &full,
        ..PolicySet::default()
    };
    let e = evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &set);
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert_eq!(e.deciding_layers, vec![Layer::Identity]);
    // In audit mode a conditional RCP deny is a possible deny, never an implicit one.
    let conditional = [level(
        "r-root",
        vec![
            json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}}]}),
        ],
    )];
    let set = PolicySet {
        identity: &ids,
        rcp_levels: &conditional,
        ..PolicySet::default()
    };
    let mut r = req(user(), "s3:GetObject", "arn:aws:s3:::b/k");
    r.context = Context::audit();
    let e = evaluate(&r, &set);
    assert_eq!(e.answer(), Answer::Possibly);
    assert_eq!(e.possibly_denying.len(), 1);
    assert_eq!(e.possibly_denying[0].layer, Layer::Rcp);
}

#[test]
fn several_scps_at_one_level_are_ored() {
    let ids = [pol("p", allow("*", "*"))];
    let levels = [
        level("r-root", vec![allow("*", "*")]),
        level(
            "ou-1",
            vec![allow("s3:*", "*"), allow("codepipeline:*", "*")],
        ),
    ];
    let set = PolicySet {
        identity: &ids,
        scp_levels: &levels,
        ..PolicySet::default()
    };
    assert!(evaluate(&req(user(), APPROVE, GATE_A), &set).is_allowed());
    assert!(!evaluate(&req(user(), "ec2:RunInstances", "*"), &set).is_allowed());
    // An empty level (no SCP attached) allows nothing.
    let levels = [
        level("r-root", vec![allow("*", "*")]),
        level("ou-empty", vec![]),
    ];
    let set = PolicySet {
        identity: &ids,
        scp_levels: &levels,
        ..PolicySet::default()
    };
    assert_eq!(
        evaluate(&req(user(), APPROVE, GATE_A), &set).deciding_layer,
        Some(Layer::Scp)
    );
}
