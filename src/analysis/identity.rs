//! Identity normalisation: one person must not become two, and two people must not become one.
//!
//! Maps a CloudTrail `userIdentity` (or an IAM principal) to a *person key* and says why, so the ledger can show
//! every decision. The [`Directory`] knows what the snapshot knows about people: the IAM Identity Center users
//! (so a session is the same person with or without `onBehalfOf`, in every account), the trust policy of every
//! role (so a `sourceIdentity` is believed only where the trust policy pins it, and a federated role's session
//! names only where the rule set trusts the provider), and the rule set's aliases.
//!
//! Pure: reads the snapshot and the rule set, nothing else.

use std::collections::HashMap;

use crate::iam::matching::action_matches;
use crate::iam::policy::{ActionSpec, Effect, PrincipalSpec};
use crate::iam::Policy;
use crate::model::{IdentityCenterSnapshot, IdentityStoreUser, Snapshot, UserIdentity};
use crate::rules::{matches_any, IdentityRules};

/// The person behind an identity, and the rule that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Stable key: equal keys are one person.
    pub key: String,
    /// Readable name for reports (a user name, a role name).
    pub name: String,
    pub rule: String,
    /// Set when the actor is an AWS service (its `invokedBy`), not a person: a service event, a service's own
    /// call, a session of a service-linked role.
    pub service: Option<String>,
}

impl Person {
    fn new(key: impl Into<String>, rule: impl Into<String>) -> Person {
        let key = key.into();
        Person {
            name: readable(&key),
            key,
            rule: rule.into(),
            service: None,
        }
    }
    fn named(key: impl Into<String>, name: impl Into<String>, rule: impl Into<String>) -> Person {
        Person {
            key: key.into(),
            name: name.into(),
            rule: rule.into(),
            service: None,
        }
    }
    fn service(service: String, rule: impl Into<String>) -> Person {
        Person {
            key: format!("service:{service}"),
            name: service.clone(),
            rule: rule.into(),
            service: Some(service),
        }
    }
    pub fn is_service(&self) -> bool {
        self.service.is_some()
    }
}

/// The AWS service behind an identity, when an AWS service acted rather than a person: `AWSService` (a
/// service's call, or an AWS service event, whose `userIdentity` has only `accountId` and `invokedBy`), or a
/// session of a service-linked role (`sessionIssuer` under `/aws-service-role/`, a path only AWS can create
/// roles in, whose trust policy only the service can use). Named by `invokedBy`, else by the role's path.
/// A person's call that a service forwarded (an `IAMUser` or `AssumedRole` with `invokedBy`, e.g. through
/// CloudFormation with the caller's credentials) stays the person's.
pub fn aws_service(identity: &UserIdentity) -> Option<String> {
    match identity.kind.as_str() {
        "AWSService" => Some(
            identity
                .invoked_by
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "unknown-service".to_owned()),
        ),
        "AssumedRole" => {
            let issuer = identity.session_issuer.as_ref()?.arn.as_deref()?;
            let path_service = service_linked_role_service(issuer)?;
            Some(
                identity
                    .invoked_by
                    .clone()
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| path_service.to_owned()),
            )
        }
        _ => None,
    }
}

/// Whether a person key is an AWS service's ([`Person::is_service`]): a service is never one of a gate's
/// distinct approvers.
pub fn is_service_key(key: &str) -> bool {
    key.starts_with("service:")
}

/// The service of a service-linked role ARN (`arn:aws:iam::<acct>:role/aws-service-role/<service>/<name>`).
pub fn service_linked_role_service(role_arn: &str) -> Option<&str> {
    let (_, path) = role_arn.split_once(":role/aws-service-role/")?;
    let (service, name) = path.split_once('/')?;
    (!service.is_empty() && !name.is_empty()).then_some(service)
}

/// A short name for a key: the last path segment of an ARN, the value after a prefix.
fn readable(key: &str) -> String {
    if key.starts_with("arn:") {
        return key.rsplit(['/', ':']).next().unwrap_or(key).to_owned();
    }
    key.split_once(':')
        .map(|(_, rest)| rest.to_owned())
        .unwrap_or_else(|| key.to_owned())
}

/// The person key of an Identity Center user.
pub fn identity_center_key(identity_store_id: &str, user_id: &str) -> String {
    format!("identity-center:{identity_store_id}/{user_id}")
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

/// Whether a role is an Identity Center permission-set role (by name or path).
pub fn is_sso_role(role_arn: &str, role_name: &str) -> bool {
    role_name.starts_with("AWSReservedSSO_")
        || role_arn.contains(":role/aws-reserved/sso.amazonaws.com/")
}

/// The permission set of an `AWSReservedSSO_<set>_<suffix>` role name.
pub fn permission_set_of_role(role_name: &str) -> Option<&str> {
    let rest = role_name.strip_prefix("AWSReservedSSO_")?;
    let (set, suffix) = rest.rsplit_once('_')?;
    (!set.is_empty() && !suffix.is_empty()).then_some(set)
}

/// What a role's trust policy says about who its sessions are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleTrust {
    /// SAML / OIDC providers the trust policy admits (`Principal.Federated`).
    pub providers: Vec<String>,
    /// How `sts:SourceIdentity` is constrained when a caller sets it.
    pub source_identity: SourceIdentityTrust,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SourceIdentityTrust {
    /// Every statement that allows `sts:SetSourceIdentity` pins the value to something the caller cannot choose
    /// (a policy variable such as `${aws:username}` or a SAML attribute); the text names the pin.
    Pinned(String),
    /// Some statement lets the caller choose any value (or the trust policy could not be read).
    #[default]
    CallerChosen,
    /// No statement allows `sts:SetSourceIdentity`.
    NotSettable,
}

impl RoleTrust {
    /// Reads a trust policy; a policy that cannot be parsed pins nothing (never trusted).
    pub fn of(role_arn: &str, trust_policy: &serde_json::Value) -> RoleTrust {
        let Ok(policy) = Policy::parse(&format!("{role_arn} trust policy"), trust_policy) else {
            return RoleTrust::default();
        };
        let mut providers = Vec::new();
        let mut pins = Vec::new();
        let mut unpinned = false;
        for s in policy
            .statements
            .iter()
            .filter(|s| s.effect == Effect::Allow)
        {
            if let Some(PrincipalSpec::Principal(p)) = &s.principal {
                providers.extend(p.federated.iter().cloned());
            }
            let sets_source = match &s.action {
                ActionSpec::Action(list) => list
                    .iter()
                    .any(|a| action_matches(a, "sts:SetSourceIdentity")),
                ActionSpec::NotAction(list) => !list
                    .iter()
                    .any(|a| action_matches(a, "sts:SetSourceIdentity")),
            };
            if !sets_source {
                continue;
            }
            let pin = s.conditions.iter().find(|c| {
                c.key.eq_ignore_ascii_case("sts:SourceIdentity")
                    && !c.operator.base.is_negated()
                    && !c.values.is_empty()
                    && c.values.iter().all(|v| v.contains("${"))
            });
            match pin {
                Some(c) => pins.push(format!(
                    "{} sts:SourceIdentity {}",
                    c.operator_text,
                    c.values.join(",")
                )),
                None => unpinned = true,
            }
        }
        providers.sort();
        providers.dedup();
        let source_identity = match (unpinned, pins.is_empty()) {
            (true, _) => SourceIdentityTrust::CallerChosen,
            (false, true) => SourceIdentityTrust::NotSettable,
            (false, false) => SourceIdentityTrust::Pinned(pins.join("; ")),
        };
        RoleTrust {
            providers,
            source_identity,
        }
    }
}

/// What the snapshot knows about people, indexed once.
pub struct Directory<'a> {
    rules: &'a IdentityRules,
    identity_center: Option<&'a IdentityCenterSnapshot>,
    users_by_name: HashMap<&'a str, &'a IdentityStoreUser>,
    /// Role ARN (with and without its path) -> what its trust policy says.
    roles: HashMap<String, RoleTrust>,
}

impl<'a> Directory<'a> {
    /// A directory that knows only the rule set (no identity store, no trust policies).
    pub fn rules_only(rules: &'a IdentityRules) -> Directory<'a> {
        Directory {
            rules,
            identity_center: None,
            users_by_name: HashMap::new(),
            roles: HashMap::new(),
        }
    }

    pub fn new(snapshot: &'a Snapshot, rules: &'a IdentityRules) -> Directory<'a> {
        let mut directory = Directory::rules_only(rules);
        directory.identity_center = snapshot
            .identity_center
            .as_ref()
            .filter(|ic| !ic.identity_store_id.is_empty());
        if let Some(ic) = directory.identity_center {
            directory.users_by_name = ic.users.iter().map(|u| (u.user_name.as_str(), u)).collect();
        }
        for account in &snapshot.accounts {
            for role in account.iam.iter().flat_map(|iam| iam.roles.iter()) {
                let trust = RoleTrust::of(&role.arn, &role.trust_policy);
                // The role's ARN without its path, as session issuers and assumed-role ARNs name it.
                let partition = role.arn.split(':').nth(1).unwrap_or("aws");
                directory.roles.insert(
                    format!(
                        "arn:{partition}:iam::{}:role/{}",
                        account.account_id, role.name
                    ),
                    trust.clone(),
                );
                directory.roles.insert(role.arn.clone(), trust);
            }
        }
        directory
    }

    pub fn rules(&self) -> &IdentityRules {
        self.rules
    }

    pub fn identity_center(&self) -> Option<&'a IdentityCenterSnapshot> {
        self.identity_center
    }

    /// What a role's trust policy says, when the role is in the snapshot.
    pub fn role_trust(&self, role_arn: &str) -> Option<&RoleTrust> {
        self.roles.get(role_arn)
    }

    /// The person of an Identity Center user id.
    pub fn identity_center_person(&self, user: &IdentityStoreUser) -> Person {
        let store = self
            .identity_center
            .map(|ic| ic.identity_store_id.as_str())
            .unwrap_or("identity-store");
        self.aliased(
            Person::named(
                identity_center_key(store, &user.id),
                user.user_name.clone(),
                format!("IAM Identity Center user {} ({})", user.user_name, user.id),
            ),
            None,
        )
    }

    /// Normalises one CloudTrail identity. Aliases from the rule set are applied last.
    pub fn person_of(&self, identity: &UserIdentity) -> Person {
        let person = self.base_person(identity);
        self.aliased(person, identity.arn.as_deref())
    }

    /// Normalises an ARN as CodePipeline records callers (`trigger.triggerDetail`, `updatedBy`): an IAM user, an
    /// assumed-role session (an Identity Center session is its user), the root, or a role.
    pub fn person_of_arn(&self, arn: &str) -> Person {
        let account = arn.split(':').nth(4).unwrap_or_default();
        let kind = if arn.contains(":assumed-role/") {
            "AssumedRole"
        } else if arn.ends_with(":root") {
            "Root"
        } else if arn.contains(":user/") {
            "IAMUser"
        } else {
            return self.person_of_principal(arn);
        };
        self.person_of(&UserIdentity::from_cloudtrail(&serde_json::json!({
            "type": kind, "arn": arn, "accountId": account,
        })))
    }

    /// Normalises an IAM principal ARN (a user or role that *could* act), consistently with [`Self::person_of`].
    pub fn person_of_principal(&self, arn: &str) -> Person {
        self.aliased(Person::new(arn, "IAM principal ARN"), Some(arn))
    }

    fn aliased(&self, person: Person, recorded_arn: Option<&str>) -> Person {
        for alias in &self.rules.aliases {
            if matches_any(&alias.identities, &person.key)
                || recorded_arn.is_some_and(|a| matches_any(&alias.identities, a))
            {
                return Person::named(
                    alias.person.clone(),
                    alias.person.clone(),
                    format!("alias in rule set (was {}; {})", person.key, person.rule),
                );
            }
        }
        person
    }

    fn base_person(&self, identity: &UserIdentity) -> Person {
        if let Some(service) = aws_service(identity) {
            let rule = if identity.kind == "AWSService" {
                "AWS service (invokedBy)".to_owned()
            } else {
                format!(
                    "AWS service: session of service-linked role {}",
                    identity
                        .session_issuer
                        .as_ref()
                        .and_then(|i| i.arn.as_deref())
                        .unwrap_or_default()
                )
            };
            return Person::service(service, rule);
        }
        let arn = identity.arn.clone().unwrap_or_default();
        match identity.kind.as_str() {
            "IAMUser" => Person::new(arn, "IAM user ARN"),
            "Root" => {
                // CloudTrail's own ARN carries the partition; without one, the commercial partition's form.
                let key = identity
                    .arn
                    .clone()
                    .filter(|a| a.ends_with(":root"))
                    .unwrap_or_else(|| {
                        let account = identity.account_id.clone().unwrap_or_default();
                        format!("arn:aws:iam::{account}:root")
                    });
                Person::new(key, "account root")
            }
            "AssumedRole" => self.assumed_role_person(identity, &arn),
            "IdentityCenterUser" => match &identity.on_behalf_of_user_id {
                Some(user_id) => self.identity_center_user(
                    user_id,
                    identity.on_behalf_of_identity_store.as_deref(),
                    "onBehalfOf of an Identity Center event",
                ),
                None => Person::new(
                    arn,
                    "Identity Center event without onBehalfOf, kept as recorded",
                ),
            },
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
                    .str_field("identityProvider")
                    .unwrap_or_else(|| "unknown-provider".to_owned());
                let user = identity
                    .user_name
                    .clone()
                    .unwrap_or_else(|| identity.principal_id.clone().unwrap_or_default());
                Person::new(
                    format!("federated:{provider}/{user}"),
                    "federated identity: provider and user name",
                )
            }
            other => {
                let key = if arn.is_empty() {
                    identity.principal_id.clone().unwrap_or_default()
                } else {
                    arn
                };
                if key.is_empty() {
                    // Nothing names the caller: never a person with an empty name.
                    let account = identity.account_id.as_deref().unwrap_or("unknown-account");
                    return Person::named(
                        format!("unidentified:{account}"),
                        format!("unidentified caller in {account}"),
                        format!("identity type {other:?} without arn, principalId or invokedBy"),
                    );
                }
                Person::new(key, format!("identity type {other:?} kept as recorded"))
            }
        }
    }

    /// An Identity Center user by id (from `onBehalfOf`), named from the identity store when it is known.
    fn identity_center_user(&self, user_id: &str, store_arn: Option<&str>, how: &str) -> Person {
        if let Some(user) = self.identity_center.and_then(|ic| ic.user(user_id)) {
            let mut person = self.identity_center_person(user);
            person.rule = format!("{} ({how})", person.rule);
            return person;
        }
        let store = store_arn
            .and_then(|a| a.rsplit('/').next())
            .or(self.identity_center.map(|ic| ic.identity_store_id.as_str()))
            .unwrap_or("identity-store");
        Person::named(
            identity_center_key(store, user_id),
            user_id,
            format!("IAM Identity Center user id {user_id} ({how}; not in the collected identity store)"),
        )
    }

    fn assumed_role_person(&self, identity: &UserIdentity, arn: &str) -> Person {
        let parsed = parse_assumed_role_arn(arn);
        let issuer_arn = identity
            .session_issuer
            .as_ref()
            .and_then(|i| i.arn.clone())
            .or_else(|| {
                let partition = arn.split(':').nth(1).unwrap_or("aws");
                parsed
                    .map(|(account, role, _)| format!("arn:{partition}:iam::{account}:role/{role}"))
            })
            .unwrap_or_else(|| arn.to_owned());
        let role_name = parsed
            .map(|(_, role, _)| role)
            .or_else(|| issuer_arn.rsplit('/').next())
            .unwrap_or_default();
        let session = parsed.map(|(_, _, session)| session).unwrap_or_default();
        if is_sso_role(&issuer_arn, role_name) {
            // The same person whether or not the event carries onBehalfOf: the session name is the user name,
            // and the identity store gives the user id.
            if let Some(user_id) = &identity.on_behalf_of_user_id {
                return self.identity_center_user(
                    user_id,
                    identity.on_behalf_of_identity_store.as_deref(),
                    "onBehalfOf",
                );
            }
            if let Some(user) = self.users_by_name.get(session) {
                let mut person = self.identity_center_person(user);
                person.rule = format!(
                    "{} (session name of permission-set role {role_name})",
                    person.rule
                );
                return person;
            }
            return Person::named(
                format!("identity-center-login:{session}"),
                session,
                format!(
                    "IAM Identity Center session name {session:?} (the user's login; the identity store was not \
                     collected or does not list it)"
                ),
            );
        }
        let trust = self.roles.get(&issuer_arn);
        if let Some(source) = identity
            .source_identity
            .as_deref()
            .filter(|s| !s.is_empty())
        {
            match trust.map(|t| &t.source_identity) {
                Some(SourceIdentityTrust::Pinned(pin)) => {
                    return Person::named(
                        format!("source-identity:{source}"),
                        source,
                        format!(
                            "sourceIdentity {source:?}, enforced by the trust policy of {issuer_arn} ({pin})"
                        ),
                    );
                }
                Some(_) => {
                    return Person::new(
                        issuer_arn.clone(),
                        format!(
                            "role ARN: sourceIdentity {source:?} is chosen by the caller (the trust policy of the \
                             role does not pin sts:SourceIdentity), so one role is one approver"
                        ),
                    );
                }
                None => {
                    return Person::new(
                        issuer_arn.clone(),
                        format!(
                            "role ARN: sourceIdentity {source:?} cannot be verified (the role's trust policy is not \
                             in the snapshot), so one role is one approver"
                        ),
                    );
                }
            }
        }
        if matches_any(&self.rules.trusted_session_name_roles, &issuer_arn) {
            return Person::named(
                format!("{issuer_arn}/{session}"),
                session,
                "role with a trusted per-person session name (rule set identity.trusted_session_name_roles)",
            );
        }
        if let Some(trust) = trust.filter(|t| !t.providers.is_empty()) {
            let trusted = trust
                .providers
                .iter()
                .find(|p| matches_any(&self.rules.trusted_session_name_providers, p));
            return match trusted {
                Some(provider) => {
                    let name = provider.rsplit('/').next().unwrap_or(provider);
                    Person::named(
                        format!("federated:{name}/{session}"),
                        session,
                        format!(
                            "session name of a role federated through {provider}, whose session names identify \
                             people (rule set identity.trusted_session_name_providers)"
                        ),
                    )
                }
                None => Person::new(
                    issuer_arn.clone(),
                    format!(
                        "role ARN: federated role ({}), session names not trusted by the rule set, so one role is \
                         one approver",
                        trust.providers.join(", ")
                    ),
                ),
            };
        }
        Person::new(
            issuer_arn,
            "role ARN: session names ignored (one role is one approver)",
        )
    }
}

/// Normalises one identity with the rule set alone (no identity store, no trust policies): used where no snapshot
/// is at hand (the archive scanner); checks use a [`Directory`] built from the snapshot.
pub fn person_of(identity: &UserIdentity, rules: &IdentityRules) -> Person {
    Directory::rules_only(rules).person_of(identity)
}

#[cfg(test)]
mod tests;
