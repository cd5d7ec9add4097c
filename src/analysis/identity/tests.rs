//! Unit tests of identity normalisation: one rule each.

use super::*;
use crate::model::{
    AccountSnapshot, IamRole, IamSnapshot, IdentityCenterSnapshot, IdentityStoreUser, Period,
    Snapshot, SCHEMA_VERSION,
};
use crate::rules::Alias;

fn assumed(role: &str, session: &str, extra: serde_json::Value) -> UserIdentity {
    assumed_in("111111111111", role, "/", session, extra)
}

fn assumed_in(
    account: &str,
    role: &str,
    path: &str,
    session: &str,
    extra: serde_json::Value,
) -> UserIdentity {
    let mut raw = serde_json::json!({
        "type": "AssumedRole",
        "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
        "accountId": account,
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{account}:role{path}{role}"),
            "accountId": account, "userName": role}}
    });
    if let (Some(obj), Some(more)) = (raw.as_object_mut(), extra.as_object()) {
        for (k, v) in more {
            if k == "sessionContext" {
                if let (Some(ctx), Some(add)) =
                    (obj["sessionContext"].as_object_mut(), v.as_object())
                {
                    for (ck, cv) in add {
                        ctx.insert(ck.clone(), cv.clone());
                    }
                }
            } else {
                obj.insert(k.clone(), v.clone());
            }
        }
    }
    UserIdentity::from_cloudtrail(&raw)
}

fn snapshot(roles: Vec<IamRole>, ic: Option<IdentityCenterSnapshot>) -> Snapshot {
    let now = chrono::Utc::now();
    Snapshot {
        schema_version: SCHEMA_VERSION,
        tool_version: "t".into(),
        run_id: "r".into(),
        organisation: "o".into(),
        collected_at: now,
        period: Period {
            since: now,
            until: now,
        },
        cicd_account: "111111111111".into(),
        regions: vec![],
        rule_set: "t".into(),
        rule_set_source: String::new(),
        declared_deployment_roles: vec![],
        approval_record_buckets: vec![],
        trail_buckets: vec![],
        organization: None,
        identity_center: ic,
        accounts: vec![AccountSnapshot {
            account_id: "111111111111".into(),
            iam: Some(IamSnapshot {
                roles,
                ..IamSnapshot::default()
            }),
            ..AccountSnapshot::default()
        }],
    }
}

fn role(name: &str, trust: serde_json::Value) -> IamRole {
    IamRole {
        name: name.into(),
        arn: format!("arn:aws:iam::111111111111:role/{name}"),
        path: "/".into(),
        trust_policy: trust,
        ..IamRole::default()
    }
}

fn trust(statements: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"Version": "2012-10-17", "Statement": statements})
}

fn store() -> IdentityCenterSnapshot {
    IdentityCenterSnapshot {
        instance_arn: "arn:aws:sso:::instance/ssoins-1".into(),
        identity_store_id: "d-1".into(),
        users: vec![IdentityStoreUser {
            id: "u-kim".into(),
            user_name: "kim".into(),
            ..IdentityStoreUser::default()
        }],
        ..IdentityCenterSnapshot::default()
    }
}

#[test]
fn one_role_under_two_session_names_is_one_person() {
    let rules = IdentityRules::default();
    let a = person_of(
        &assumed("ReleaseManager", "rm-alice", serde_json::json!({})),
        &rules,
    );
    let b = person_of(
        &assumed("ReleaseManager", "rm-alice-2", serde_json::json!({})),
        &rules,
    );
    assert_eq!(a.key, b.key);
    assert_eq!(a.key, "arn:aws:iam::111111111111:role/ReleaseManager");
    assert_eq!(a.name, "ReleaseManager");
}

#[test]
fn trusted_session_roles_tell_people_apart() {
    let rules = IdentityRules {
        trusted_session_name_roles: vec!["arn:aws:iam::*:role/SAML*".into()],
        ..IdentityRules::default()
    };
    let a = person_of(
        &assumed("SAMLDeployers", "alice@example.com", serde_json::json!({})),
        &rules,
    );
    let b = person_of(
        &assumed("SAMLDeployers", "bob@example.com", serde_json::json!({})),
        &rules,
    );
    assert_ne!(a.key, b.key);
}

#[test]
fn an_identity_center_user_is_one_person_with_or_without_on_behalf_of_and_across_accounts() {
    let rules = IdentityRules::default();
    let snap = snapshot(vec![], Some(store()));
    let directory = Directory::new(&snap, &rules);
    let sso = "/aws-reserved/sso.amazonaws.com/";
    let with = assumed_in(
        "111111111111",
        "AWSReservedSSO_ProdApproverA_0123456789abcdef",
        sso,
        "kim",
        serde_json::json!({"onBehalfOf": {"userId": "u-kim",
            "identityStoreArn": "arn:aws:identitystore::100000000000:identitystore/d-1"}}),
    );
    let without = assumed_in(
        "222222222222",
        "AWSReservedSSO_ProdApproverB_fedcba9876543210",
        sso,
        "kim",
        serde_json::json!({}),
    );
    let a = directory.person_of(&with);
    let b = directory.person_of(&without);
    assert_eq!(a.key, "identity-center:d-1/u-kim");
    assert_eq!(a.key, b.key, "{a:?} {b:?}");
    assert_eq!(b.name, "kim");
    assert!(b.rule.contains("session name"), "{}", b.rule);
    // The portal's own events name the user only through onBehalfOf.
    let portal = UserIdentity::from_cloudtrail(&serde_json::json!({"type": "IdentityCenterUser",
        "accountId": "100000000000", "onBehalfOf": {"userId": "u-kim",
        "identityStoreArn": "arn:aws:identitystore::100000000000:identitystore/d-1"}}));
    assert_eq!(directory.person_of(&portal).key, a.key);
}

#[test]
fn without_the_identity_store_a_session_name_is_still_one_login() {
    let rules = IdentityRules::default();
    let a = person_of(
        &assumed("AWSReservedSSO_Admin_abc", "alice", serde_json::json!({})),
        &rules,
    );
    let b = person_of(
        &assumed("AWSReservedSSO_ReadOnly_x", "alice", serde_json::json!({})),
        &rules,
    );
    assert_eq!(a.key, b.key);
    assert_eq!(a.key, "identity-center-login:alice");
}

#[test]
fn source_identity_counts_only_where_the_trust_policy_pins_it() {
    let rules = IdentityRules::default();
    let pinned = role(
        "Pinned",
        trust(
            serde_json::json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
            "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
            "Condition": {"StringEquals": {"sts:SourceIdentity": "${aws:username}"}}}]),
        ),
    );
    let open = role(
        "Open",
        trust(
            serde_json::json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
            "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"]}]),
        ),
    );
    let snap = snapshot(vec![pinned, open], None);
    let directory = Directory::new(&snap, &rules);
    let with_source = |role: &str, who: &str| {
        assumed(
            role,
            "s",
            serde_json::json!({"sessionContext": {"sourceIdentity": who}}),
        )
    };
    let alice = directory.person_of(&with_source("Pinned", "alice"));
    let bob = directory.person_of(&with_source("Pinned", "bob"));
    assert_eq!(alice.key, "source-identity:alice");
    assert_ne!(alice.key, bob.key);
    assert!(alice.rule.contains("enforced"), "{}", alice.rule);
    // Self-chosen: two values, one role, one approver.
    let a = directory.person_of(&with_source("Open", "alice"));
    let b = directory.person_of(&with_source("Open", "bob"));
    assert_eq!(a.key, "arn:aws:iam::111111111111:role/Open");
    assert_eq!(a.key, b.key);
    assert!(a.rule.contains("chosen by the caller"), "{}", a.rule);
    // A role the snapshot does not know cannot vouch for its sourceIdentity either.
    let unknown = directory.person_of(&with_source("Elsewhere", "alice"));
    assert_eq!(unknown.key, "arn:aws:iam::111111111111:role/Elsewhere");
    assert!(
        unknown.rule.contains("cannot be verified"),
        "{}",
        unknown.rule
    );
}

#[test]
fn role_trust_classifies_source_identity_pins() {
    let of = |s: serde_json::Value| RoleTrust::of("r", &trust(s)).source_identity;
    assert!(matches!(
        of(
            serde_json::json!([{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:*",
            "Condition": {"StringLike": {"sts:SourceIdentity": "${saml:sub}"}}}])
        ),
        SourceIdentityTrust::Pinned(_)
    ));
    assert_eq!(
        of(
            serde_json::json!([{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}])
        ),
        SourceIdentityTrust::NotSettable
    );
    // A literal value is chosen by whoever may pass it; a second, unconditioned statement reopens the door.
    assert_eq!(
        of(
            serde_json::json!([{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:SetSourceIdentity",
            "Condition": {"StringEquals": {"sts:SourceIdentity": "alice"}}}])
        ),
        SourceIdentityTrust::CallerChosen
    );
    assert_eq!(
        of(serde_json::json!([
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:SetSourceIdentity",
             "Condition": {"StringEquals": {"sts:SourceIdentity": "${aws:username}"}}},
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*"}])),
        SourceIdentityTrust::CallerChosen
    );
    assert_eq!(
        RoleTrust::of("r", &serde_json::json!("garbage")).source_identity,
        SourceIdentityTrust::CallerChosen
    );
}

#[test]
fn federated_roles_are_one_approver_unless_the_provider_is_trusted() {
    let okta = role(
        "OktaDeployers",
        trust(serde_json::json!([{"Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::111111111111:saml-provider/Okta"},
            "Action": "sts:AssumeRoleWithSAML"}])),
    );
    let snap = snapshot(vec![okta], None);
    let default_rules = IdentityRules::default();
    let directory = Directory::new(&snap, &default_rules);
    let alice = assumed("OktaDeployers", "alice@example.com", serde_json::json!({}));
    let bob = assumed("OktaDeployers", "bob@example.com", serde_json::json!({}));
    let a = directory.person_of(&alice);
    assert_eq!(a.key, directory.person_of(&bob).key);
    assert!(a.rule.contains("saml-provider/Okta"), "{}", a.rule);
    let trusting = IdentityRules {
        trusted_session_name_providers: vec!["arn:aws:iam::*:saml-provider/Okta".into()],
        ..IdentityRules::default()
    };
    let directory = Directory::new(&snap, &trusting);
    let a = directory.person_of(&alice);
    assert_eq!(a.key, "federated:Okta/alice@example.com");
    assert_ne!(a.key, directory.person_of(&bob).key);
    assert!(
        a.rule.contains("trusted_session_name_providers"),
        "{}",
        a.rule
    );
}

#[test]
fn aliases_join_two_users() {
    let rules = IdentityRules {
        aliases: vec![Alias {
            person: "alice".into(),
            identities: vec!["arn:aws:iam::*:user/alice*".into()],
        }],
        ..IdentityRules::default()
    };
    let user = |name: &str| {
        UserIdentity::from_cloudtrail(&serde_json::json!({"type": "IAMUser",
            "arn": format!("arn:aws:iam::111111111111:user/{name}"), "accountId": "111111111111"}))
    };
    assert_eq!(person_of(&user("alice"), &rules).key, "alice");
    assert_eq!(person_of(&user("alice.admin"), &rules).key, "alice");
    assert_eq!(
        person_of(&user("bob"), &rules).key,
        "arn:aws:iam::111111111111:user/bob"
    );
    assert!(person_of(&user("alice"), &rules).rule.contains("alias"));
}

#[test]
fn root_is_the_account_root() {
    let root = UserIdentity::from_cloudtrail(
        &serde_json::json!({"type": "Root", "accountId": "111111111111",
        "arn": "arn:aws:iam::111111111111:root"}),
    );
    assert_eq!(
        person_of(&root, &IdentityRules::default()).key,
        "arn:aws:iam::111111111111:root"
    );
}

#[test]
fn govcloud_people_keep_their_partition() {
    let root = UserIdentity::from_cloudtrail(
        &serde_json::json!({"type": "Root", "accountId": "111111111111",
        "arn": "arn:aws-us-gov:iam::111111111111:root"}),
    );
    assert_eq!(
        person_of(&root, &IdentityRules::default()).key,
        "arn:aws-us-gov:iam::111111111111:root"
    );
    let session = UserIdentity::from_cloudtrail(&serde_json::json!({"type": "AssumedRole",
        "accountId": "111111111111",
        "arn": "arn:aws-us-gov:sts::111111111111:assumed-role/Approver/alice"}));
    let person = person_of(&session, &IdentityRules::default());
    assert!(
        person
            .key
            .starts_with("arn:aws-us-gov:iam::111111111111:role/Approver"),
        "{}",
        person.key
    );
}

#[test]
fn permission_sets_are_read_from_role_names() {
    assert_eq!(
        permission_set_of_role("AWSReservedSSO_ProdApproverA_0123456789abcdef"),
        Some("ProdApproverA")
    );
    assert_eq!(
        permission_set_of_role("AWSReservedSSO_Admin_Access_0123456789abcdef"),
        Some("Admin_Access")
    );
    assert_eq!(permission_set_of_role("ReleaseManager"), None);
}

#[test]
fn arns_recorded_by_codepipeline_are_people_too() {
    let rules = IdentityRules::default();
    let snap = snapshot(vec![], Some(store()));
    let directory = Directory::new(&snap, &rules);
    assert_eq!(
        directory
            .person_of_arn(
                "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_Ops_0123456789abcdef/kim"
            )
            .key,
        "identity-center:d-1/u-kim"
    );
    assert_eq!(
        directory
            .person_of_arn("arn:aws:iam::111111111111:user/carol")
            .key,
        "arn:aws:iam::111111111111:user/carol"
    );
    assert_eq!(
        directory
            .person_of_arn("arn:aws:sts::111111111111:assumed-role/Deployer/s1")
            .key,
        "arn:aws:iam::111111111111:role/Deployer"
    );
}

#[test]
fn service_events_and_service_linked_role_sessions_are_aws_services_not_people() {
    let rules = IdentityRules::default();
    let directory = Directory::rules_only(&rules);
    // AWS's documented AwsServiceEvent identity (KMS automatic rotation): accountId and invokedBy only.
    let event = UserIdentity::from_cloudtrail(
        &serde_json::json!({"accountId": "111111111111", "invokedBy": "AWS Internal"}),
    );
    let person = directory.person_of(&event);
    assert_eq!(person.key, "service:AWS Internal");
    assert_eq!(person.service.as_deref(), Some("AWS Internal"));
    // A session of a service-linked role, as the service's own call.
    let slr = assumed_in(
        "111111111111",
        "AWSServiceRoleForAutoScaling",
        "/aws-service-role/autoscaling.amazonaws.com/",
        "AutoScaling",
        serde_json::json!({"invokedBy": "autoscaling.amazonaws.com"}),
    );
    let person = directory.person_of(&slr);
    assert_eq!(person.key, "service:autoscaling.amazonaws.com");
    assert!(person.is_service());
    assert_eq!(
        aws_service(&slr).as_deref(),
        Some("autoscaling.amazonaws.com")
    );
    // Without invokedBy the role's path names the service.
    let slr = assumed_in(
        "111111111111",
        "AWSServiceRoleForECS",
        "/aws-service-role/ecs.amazonaws.com/",
        "ecs",
        serde_json::json!({}),
    );
    assert_eq!(directory.person_of(&slr).key, "service:ecs.amazonaws.com");
    // A role of the same name elsewhere is a customer role, and invokedBy on an ordinary role session (a call a
    // service forwarded) does not make it a service.
    let lookalike = assumed(
        "AWSServiceRoleForAutoScaling",
        "s",
        serde_json::json!({"invokedBy": "cloudformation.amazonaws.com"}),
    );
    assert!(aws_service(&lookalike).is_none());
    assert!(!directory.person_of(&lookalike).is_service());
}

#[test]
fn an_identity_that_names_nobody_is_never_an_empty_named_person() {
    let rules = IdentityRules::default();
    let directory = Directory::rules_only(&rules);
    let person = directory.person_of(&UserIdentity::from_cloudtrail(
        &serde_json::json!({"accountId": "111111111111"}),
    ));
    assert!(
        !person.key.is_empty() && !person.name.is_empty(),
        "{person:?}"
    );
    assert!(!person.is_service());
}
