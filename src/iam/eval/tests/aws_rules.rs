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

const DEPLOYER: &str = "arn:aws:iam::111111111111:role/Deployer";
const KEY: &str = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn trust(principal: Value) -> Policy {
    pol(
        "trust",
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Trust", "Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}),
    )
}

fn key_policy(principal: Value) -> Policy {
    pol(
        "key",
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Key", "Effect": "Allow", "Principal": principal, "Action": "kms:*",
             "Resource": "*"}]}),
    )
}

fn with(identity: &[Policy], resource_policy: Option<&Policy>) -> Evaluation {
    with_req(
        req(user(), "sts:AssumeRole", DEPLOYER),
        identity,
        resource_policy,
    )
}

fn with_req(r: Request, identity: &[Policy], resource_policy: Option<&Policy>) -> Evaluation {
    let set = PolicySet {
        identity,
        resource_policy,
        ..PolicySet::default()
    };
    evaluate(&r, &set)
}

#[test]
fn assume_role_needs_the_trust_policy_even_in_one_account() {
    let may_assume = [pol("p", allow("sts:AssumeRole", DEPLOYER))];
    let none: [Policy; 0] = [];
    // No trust policy supplied: no trust, denied whatever the identity policy says.
    let e = with(&may_assume, None);
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert_eq!(e.deciding_layers, vec![Layer::ResourcePolicy]);
    assert!(has_note(&e, "TrustPolicyMissing"), "{:?}", e.notes);
    // A trust policy naming someone else: the identity allow alone is not enough.
    let bob = trust(json!({"AWS": "arn:aws:iam::111111111111:user/bob"}));
    let e = with(&may_assume, Some(&bob));
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert_eq!(e.deciding_layers, vec![Layer::ResourcePolicy]);
    assert!(has_note(&e, "TrustPolicyDoesNotAdmit"), "{:?}", e.notes);
    // Trust naming the user: allowed on its own, without any identity policy.
    let alice = trust(json!({"AWS": "arn:aws:iam::111111111111:user/alice"}));
    let e = with(&none, Some(&alice));
    assert!(e.is_allowed(), "{e:?}");
    assert_eq!(e.deciding_layers, vec![Layer::ResourcePolicy]);
    assert!(has_note(&e, "TrustPolicyNamesCaller"), "{:?}", e.notes);
    assert_eq!(e.allowing[0].sid.as_deref(), Some("Trust"));
    // Trust naming the account: delegates to the identity policy, which must allow.
    for account in [
        json!({"AWS": "arn:aws:iam::111111111111:root"}),
        json!({"AWS": ACCT}),
    ] {
        let acct = trust(account);
        let e = with(&none, Some(&acct));
        assert_eq!(e.decision, Decision::ImplicitlyDenied);
        assert_eq!(e.deciding_layers, vec![Layer::Identity]);
        assert!(
            has_note(&e, "TrustPolicyDelegatesToAccount"),
            "{:?}",
            e.notes
        );
        let e = with(&may_assume, Some(&acct));
        assert!(e.is_allowed(), "{e:?}");
        assert_eq!(
            e.deciding_layers,
            vec![Layer::Identity, Layer::ResourcePolicy]
        );
    }
}

#[test]
fn trust_policy_rules_for_sessions_roles_and_limits() {
    let none: [Policy; 0] = [];
    let may_assume = [pol("p", allow("sts:AssumeRole", "*"))];
    // A session is named by its session ARN or through its role's ARN.
    for named in [
        "arn:aws:sts::111111111111:assumed-role/Deployer/run-42",
        "arn:aws:iam::111111111111:role/Deployer",
    ] {
        let t = trust(json!({"AWS": named}));
        let target = "arn:aws:iam::111111111111:role/Target";
        let e = with_req(req(session(), "sts:AssumeRole", target), &none, Some(&t));
        assert!(e.is_allowed(), "{named}: {e:?}");
    }
    // Trust naming the role ARN is still limited by the session's boundary.
    let t = trust(json!({"AWS": "arn:aws:iam::111111111111:role/Deployer"}));
    let b = [pol("boundary", allow("s3:*", "*"))];
    let set = PolicySet {
        identity: &none,
        boundaries: &b,
        resource_policy: Some(&t),
        ..PolicySet::default()
    };
    let target = "arn:aws:iam::111111111111:role/Target";
    let e = evaluate(&req(session(), "sts:AssumeRole", target), &set);
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    // The account delegation goes through the boundary too.
    let t = trust(json!({"AWS": ACCT}));
    let set = PolicySet {
        identity: &may_assume,
        boundaries: &b,
        resource_policy: Some(&t),
        ..PolicySet::default()
    };
    let e = evaluate(&req(user(), "sts:AssumeRole", DEPLOYER), &set);
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert_eq!(e.deciding_layers, vec![Layer::PermissionsBoundary]);
    // A Deny in the trust policy wins.
    let deny = pol(
        "trust",
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ACCT}, "Action": "sts:AssumeRole"},
            {"Sid": "NoAlice", "Effect": "Deny",
             "Principal": {"AWS": "arn:aws:iam::111111111111:user/alice"}, "Action": "sts:*"}]}),
    );
    let e = with(&may_assume, Some(&deny));
    assert_eq!(e.decision, Decision::ExplicitlyDenied);
    // The other trust actions follow the same rule.
    for action in ["sts:TagSession", "sts:SetSourceIdentity"] {
        let e = with_req(req(user(), action, DEPLOYER), &may_assume, None);
        assert_eq!(e.decision, Decision::ImplicitlyDenied, "{action}");
    }
    // A trust condition on an unknown key makes the answer Possibly in audit mode.
    let ext = pol(
        "trust",
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ACCT}, "Action": "sts:AssumeRole",
             "Condition": {"StringEquals": {"sts:ExternalId": "x"}}}]}),
    );
    let mut r = req(user(), "sts:AssumeRole", DEPLOYER);
    r.context = Context::audit();
    let e = with_req(r, &may_assume, Some(&ext));
    assert_eq!(e.answer(), Answer::Possibly);
    assert_eq!(e.unknowns[0].key, "sts:ExternalId");
}

#[test]
fn assume_role_across_accounts_needs_both_sides() {
    let ext = PrincipalInfo::from_arn("arn:aws:iam::222222222222:user/eve").unwrap();
    let may_assume = [pol("p", allow("sts:AssumeRole", DEPLOYER))];
    let none: [Policy; 0] = [];
    let mut r = req(ext, "sts:AssumeRole", DEPLOYER);
    r.resource_account = Some(ACCT.into());
    // Trust naming eve directly does not suffice across accounts: her identity policy must too.
    let t = trust(json!({"AWS": "arn:aws:iam::222222222222:user/eve"}));
    let e = with_req(r.clone(), &none, Some(&t));
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert_eq!(e.deciding_layers, vec![Layer::Identity]);
    assert!(with_req(r.clone(), &may_assume, Some(&t)).is_allowed());
    let t = trust(json!({"AWS": OTHER}));
    assert!(with_req(r.clone(), &may_assume, Some(&t)).is_allowed());
    let e = with_req(r, &may_assume, None);
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert_eq!(e.deciding_layers, vec![Layer::ResourcePolicy]);
    assert!(has_note(&e, "TrustPolicyMissing"));
}

#[test]
fn a_service_needs_the_trust_policy_to_name_it() {
    let svc = PrincipalInfo::from_arn("codepipeline.amazonaws.com").unwrap();
    let none: [Policy; 0] = [];
    let t = trust(json!({"Service": "codepipeline.amazonaws.com"}));
    let r = req(svc, "sts:AssumeRole", DEPLOYER);
    assert!(with_req(r.clone(), &none, Some(&t)).is_allowed());
    let e = with_req(r, &none, None);
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert!(has_note(&e, "TrustPolicyMissing"));
}

#[test]
fn kms_keys_grant_nothing_unless_the_key_policy_allows() {
    let may_decrypt = [pol("p", allow("kms:Decrypt", "*"))];
    let none: [Policy; 0] = [];
    let decrypt = || req(user(), "kms:Decrypt", KEY);
    // No key policy: the identity allow has no effect.
    let e = with_req(decrypt(), &may_decrypt, None);
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert_eq!(e.deciding_layers, vec![Layer::ResourcePolicy]);
    assert!(has_note(&e, "KeyPolicyMissing"), "{:?}", e.notes);
    // A key policy for someone else: still no effect.
    let bob = key_policy(json!({"AWS": "arn:aws:iam::111111111111:user/bob"}));
    let e = with_req(decrypt(), &may_decrypt, Some(&bob));
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert!(has_note(&e, "KeyPolicyDoesNotAdmit"));
    // The key policy naming alice grants on its own.
    let alice = key_policy(json!({"AWS": "arn:aws:iam::111111111111:user/alice"}));
    let e = with_req(decrypt(), &none, Some(&alice));
    assert!(e.is_allowed());
    assert!(has_note(&e, "KeyPolicyNamesCaller"));
    // The default key policy (the account) enables IAM policies: the identity policy decides.
    let default = key_policy(json!({"AWS": "arn:aws:iam::111111111111:root"}));
    let e = with_req(decrypt(), &none, Some(&default));
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert_eq!(e.deciding_layers, vec![Layer::Identity]);
    let e = with_req(decrypt(), &may_decrypt, Some(&default));
    assert!(e.is_allowed());
    assert!(has_note(&e, "KeyPolicyDelegatesToAccount"));
    // An identity Deny works without the key policy's permission.
    let deny = [
        pol("p", allow("kms:*", "*")),
        pol(
            "d",
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}]}),
        ),
    ];
    let e = with_req(decrypt(), &deny, Some(&default));
    assert_eq!(e.decision, Decision::ExplicitlyDenied);
    // The root user too needs the key policy.
    let root = PrincipalInfo::from_arn(ACCT).unwrap();
    let e = with_req(req(root.clone(), "kms:Decrypt", KEY), &none, None);
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert!(with_req(req(root, "kms:Decrypt", KEY), &none, Some(&default)).is_allowed());
    // Not a key ARN (an alias, or `*`): ordinary IAM evaluation.
    let alias = "arn:aws:kms:us-east-1:111111111111:alias/app";
    assert!(with_req(req(user(), "kms:Decrypt", alias), &may_decrypt, None).is_allowed());
    assert!(with_req(req(user(), "kms:Decrypt", "*"), &may_decrypt, None).is_allowed());
}

const SSO_ADMIN: &str =
    "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123abcd";

#[test]
fn nobody_modifies_aws_managed_policies_or_reserved_roles() {
    let admin = [pol("admin", allow("*", "*"))];
    let managed = "arn:aws:iam::aws:policy/AdministratorAccess";
    // Full admin: still denied, certainly, by the Unmodifiable rule, even in audit mode.
    for (action, resource, code) in [
        ("iam:CreatePolicyVersion", managed, "an AWS-managed policy"),
        ("iam:SetDefaultPolicyVersion", managed, "an AWS-managed policy"),
        ("iam:PutRolePolicy", SSO_ADMIN, "/aws-reserved/"),
        ("iam:UpdateAssumeRolePolicy", SSO_ADMIN, "/aws-reserved/"),
        (
            "iam:AttachRolePolicy",
            "arn:aws:iam::111111111111:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
            "service-linked",
        ),
    ] {
        let mut r = req(user(), action, resource);
        r.context = Context::audit();
        let e = evaluate(&r, &identity_only(&admin));
        assert_eq!(e.decision, Decision::ExplicitlyDenied, "{action} {resource}");
        assert_eq!(e.answer(), Answer::No);
        assert_eq!(e.deciding_layers, vec![Layer::Unmodifiable]);
        assert!(has_note(&e, "UnmodifiableEntity"), "{:?}", e.notes);
        assert!(
            e.notes.iter().any(|n| n.to_string().contains(code)),
            "{:?}",
            e.notes
        );
        // The allowing statement is still shown: the policy does grant it, AWS refuses it.
        assert_eq!(e.allowing.len(), 1);
    }
    // Reading them stays governed by policy.
    let e = evaluate(
        &req(user(), "iam:GetPolicy", managed),
        &identity_only(&admin),
    );
    assert!(e.is_allowed());
    let e = evaluate(
        &req(user(), "iam:GetRole", SSO_ADMIN),
        &identity_only(&admin),
    );
    assert!(e.is_allowed());
    let none: [Policy; 0] = [];
    let e = evaluate(
        &req(user(), "iam:GetRole", SSO_ADMIN),
        &identity_only(&none),
    );
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert_eq!(e.deciding_layers, vec![Layer::Identity]);
    // An ordinary role or a customer managed policy: governed by policy.
    let ordinary = "arn:aws:iam::111111111111:role/Deployer";
    assert!(evaluate(
        &req(user(), "iam:PutRolePolicy", ordinary),
        &identity_only(&admin)
    )
    .is_allowed());
    // The owning service's service-linked role may change Identity Center's reserved roles.
    let sso_slr = PrincipalInfo::from_arn(
        "arn:aws:iam::111111111111:role/aws-service-role/sso.amazonaws.com/AWSServiceRoleForSSO",
    )
    .unwrap();
    let e = evaluate(
        &req(sso_slr.clone(), "iam:PutRolePolicy", SSO_ADMIN),
        &identity_only(&admin),
    );
    assert!(e.is_allowed(), "{e:?}");
    // …but not an AWS-managed policy.
    let e = evaluate(
        &req(sso_slr, "iam:DeletePolicy", managed),
        &identity_only(&admin),
    );
    assert_eq!(e.deciding_layers, vec![Layer::Unmodifiable]);
}
