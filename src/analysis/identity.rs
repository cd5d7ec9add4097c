//! Identity normalisation: one person must not become two.
//!
//! Maps a CloudTrail `userIdentity` to a *person key* and says why, so the ledger can show every decision.
//! Pure: reads the identity and the rule set, nothing else.

use crate::model::UserIdentity;
use crate::rules::{matches_any, IdentityRules};

/// The person behind an identity, and the rule that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub key: String,
    pub rule: String,
}

impl Person {
    fn new(key: impl Into<String>, rule: impl Into<String>) -> Person {
        Person {
            key: key.into(),
            rule: rule.into(),
        }
    }
}

/// Splits `arn:aws:sts::<acct>:assumed-role/<role>/<session>` into (account, role name, session name).
fn parse_assumed_role_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let _partition = parts.next()?;
    if parts.next()? != "sts" {
        return None;
    }
    let _region = parts.next()?;
    let account = parts.next()?;
    let resource = parts.next()?.strip_prefix("assumed-role/")?;
    let (role, session) = resource.split_once('/')?;
    Some((account, role, session))
}

fn is_sso_role(issuer_arn: &str, role_name: &str) -> bool {
    role_name.starts_with("AWSReservedSSO_")
        || issuer_arn.contains(":role/aws-reserved/sso.amazonaws.com/")
}

/// Normalises one identity. Aliases from the rule set are applied last, to the key or to the recorded ARN.
pub fn person_of(identity: &UserIdentity, rules: &IdentityRules) -> Person {
    let person = base_person(identity, rules);
    apply_aliases(person, identity.arn.as_deref(), rules)
}

/// Normalises an IAM principal ARN (a user or role that *could* act), consistently with [`person_of`].
pub fn person_of_principal(arn: &str, rules: &IdentityRules) -> Person {
    apply_aliases(Person::new(arn, "IAM principal ARN"), Some(arn), rules)
}

fn apply_aliases(person: Person, recorded_arn: Option<&str>, rules: &IdentityRules) -> Person {
    for alias in &rules.aliases {
        if matches_any(&alias.identities, &person.key)
            || recorded_arn.is_some_and(|a| matches_any(&alias.identities, a))
        {
            return Person::new(
                alias.person.clone(),
                format!("alias in rule set (was {}; {})", person.key, person.rule),
            );
        }
    }
    person
}

fn base_person(identity: &UserIdentity, rules: &IdentityRules) -> Person {
    let arn = identity.arn.clone().unwrap_or_default();
    match identity.kind.as_str() {
        "IAMUser" => Person::new(arn, "IAM user ARN"),
        "Root" => {
            let account = identity.account_id.clone().unwrap_or_default();
            Person::new(format!("arn:aws:iam::{account}:root"), "account root")
        }
        "AssumedRole" => assumed_role_person(identity, &arn, rules),
        "FederatedUser" => match identity.session_issuer.as_ref().and_then(|i| i.arn.clone()) {
            Some(issuer) => Person::new(
                issuer,
                "federated user: the IAM user that issued the federation token",
            ),
            None => Person::new(arn, "federated user ARN"),
        },
        "SAMLUser" | "WebIdentityUser" => {
            let provider = identity
                .raw
                .get("identityProvider")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("unknown-provider");
            let user = identity
                .user_name
                .clone()
                .unwrap_or_else(|| identity.principal_id.clone().unwrap_or_default());
            Person::new(
                format!("federated:{provider}/{user}"),
                "federated identity: provider and user name",
            )
        }
        "AWSService" => {
            let service = identity
                .invoked_by
                .clone()
                .unwrap_or_else(|| "unknown-service".to_owned());
            Person::new(format!("service:{service}"), "AWS service")
        }
        other => {
            let key = if arn.is_empty() {
                identity.principal_id.clone().unwrap_or_default()
            } else {
                arn
            };
            Person::new(key, format!("identity type {other:?} kept as recorded"))
        }
    }
}

fn assumed_role_person(identity: &UserIdentity, arn: &str, rules: &IdentityRules) -> Person {
    if let Some(source) = identity
        .source_identity
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        return Person::new(
            format!("source-identity:{source}"),
            "sourceIdentity set at role assumption (carried through chaining)",
        );
    }
    let parsed = parse_assumed_role_arn(arn);
    let issuer_arn = identity
        .session_issuer
        .as_ref()
        .and_then(|i| i.arn.clone())
        .or_else(|| parsed.map(|(account, role, _)| format!("arn:aws:iam::{account}:role/{role}")))
        .unwrap_or_else(|| arn.to_owned());
    let role_name = parsed.map(|(_, role, _)| role).unwrap_or_default();
    let session = parsed.map(|(_, _, session)| session).unwrap_or_default();
    if is_sso_role(&issuer_arn, role_name) {
        if let Some(user_id) = &identity.on_behalf_of_user_id {
            let store = identity
                .on_behalf_of_identity_store
                .as_deref()
                .unwrap_or("identity-store");
            return Person::new(
                format!("sso:{store}/{user_id}"),
                "IAM Identity Center user id (onBehalfOf)",
            );
        }
        return Person::new(
            format!("sso-user:{session}"),
            "IAM Identity Center session name (the user's login)",
        );
    }
    if matches_any(&rules.trusted_session_name_roles, &issuer_arn) {
        return Person::new(
            format!("{issuer_arn}/{session}"),
            "role with a trusted per-person session name",
        );
    }
    Person::new(
        issuer_arn,
        "role ARN: session names ignored (one role is one approver)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Alias;

    fn assumed(role: &str, session: &str, extra: serde_json::Value) -> UserIdentity {
        let mut raw = serde_json::json!({
            "type": "AssumedRole",
            "arn": format!("arn:aws:sts::111111111111:assumed-role/{role}/{session}"),
            "accountId": "111111111111",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::111111111111:role/{role}"),
                "accountId": "111111111111", "userName": role}}
        });
        if let (Some(obj), Some(more)) = (raw.as_object_mut(), extra.as_object()) {
            for (k, v) in more {
                obj.insert(k.clone(), v.clone());
            }
        }
        UserIdentity::from_cloudtrail(&raw)
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
    }

    #[test]
    fn trusted_session_roles_tell_people_apart() {
        let rules = IdentityRules {
            trusted_session_name_roles: vec!["arn:aws:iam::*:role/SAML*".into()],
            aliases: vec![],
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
    fn sso_user_in_two_accounts_is_one_person() {
        let rules = IdentityRules::default();
        let on_behalf = serde_json::json!({"onBehalfOf": {"userId": "u-123", "identityStoreArn": "arn:aws:identitystore::999999999999:identitystore/d-1"}});
        let mut a = assumed("AWSReservedSSO_Admin_abc", "alice", on_behalf.clone());
        let mut b = assumed("AWSReservedSSO_Admin_def", "alice", on_behalf);
        b.arn =
            Some("arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_Admin_def/alice".into());
        a.account_id = Some("111111111111".into());
        assert_eq!(person_of(&a, &rules).key, person_of(&b, &rules).key);
        // Without onBehalfOf, the session name (the login) still joins them.
        let c = assumed("AWSReservedSSO_Admin_abc", "alice", serde_json::json!({}));
        let d = assumed("AWSReservedSSO_ReadOnly_x", "alice", serde_json::json!({}));
        assert_eq!(person_of(&c, &rules).key, person_of(&d, &rules).key);
    }

    #[test]
    fn source_identity_survives_role_chaining() {
        let rules = IdentityRules::default();
        let chained = serde_json::json!({"sessionContext": {"sourceIdentity": "alice",
            "sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111111111111:role/Second"}}});
        let first = assumed(
            "First",
            "s1",
            serde_json::json!({"sessionContext": {"sourceIdentity": "alice",
            "sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111111111111:role/First"}}}),
        );
        let second = assumed("Second", "s2", chained);
        assert_eq!(person_of(&first, &rules), person_of(&second, &rules));
        assert_eq!(person_of(&first, &rules).key, "source-identity:alice");
    }

    #[test]
    fn aliases_join_two_users() {
        let rules = IdentityRules {
            trusted_session_name_roles: vec![],
            aliases: vec![Alias {
                person: "alice".into(),
                identities: vec!["arn:aws:iam::*:user/alice*".into()],
            }],
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
}
