//! Who is behind a role session: each `sts:AssumeRole` recorded in the audited accounts is indexed by the access
//! key id it issued, so a change made with a deployment role (CICDCrossAccountRole, say) can be traced to who
//! assumed it — the pipeline's build service (an AWS service, possibly through its service role), or a person.
//! Chains are followed a few hops (a build role's session assuming the cross-account role). Pure.

use std::collections::HashMap;

use super::access::AccessModel;
use super::identity::{Directory, Person};
use crate::model::{RoleSession, Snapshot, UserIdentity};

/// How many AssumeRole hops a trace follows.
const MAX_HOPS: usize = 4;

/// Where a session came from.
#[derive(Debug, Clone)]
pub enum Origin<'a> {
    /// An AWS service (the pipeline, its build service, CloudFormation...) started the chain.
    Service {
        service: String,
        chain: Vec<&'a RoleSession>,
    },
    /// A person started it.
    Person {
        person: Person,
        chain: Vec<&'a RoleSession>,
    },
    /// The chain could not be followed to its start: the reason.
    Untraced {
        reason: String,
        chain: Vec<&'a RoleSession>,
    },
}

pub struct SessionIndex<'a> {
    by_key: HashMap<&'a str, &'a RoleSession>,
}

impl<'a> SessionIndex<'a> {
    pub fn new(snapshot: &'a Snapshot) -> SessionIndex<'a> {
        let mut by_key = HashMap::new();
        for account in &snapshot.accounts {
            for session in account
                .role_sessions
                .iter()
                .filter(|s| s.error_code.is_none())
            {
                if let Some(key) = session.access_key_id.as_deref() {
                    by_key.entry(key).or_insert(session);
                }
            }
        }
        SessionIndex { by_key }
    }

    /// Follows the session of `identity` (an assumed-role caller) back to who started it.
    pub fn origin(
        &self,
        identity: &UserIdentity,
        people: &Directory,
        access: &AccessModel,
    ) -> Origin<'a> {
        let mut chain: Vec<&'a RoleSession> = Vec::new();
        let mut current = identity.clone();
        for _ in 0..MAX_HOPS {
            if let Some(service) = super::identity::aws_service(&current) {
                return Origin::Service { service, chain };
            }
            if current.invoked_by.is_some() && current.kind != "AssumedRole" {
                return Origin::Service {
                    service: current
                        .invoked_by
                        .clone()
                        .unwrap_or_else(|| "an AWS service".to_owned()),
                    chain,
                };
            }
            if current.kind != "AssumedRole" {
                return Origin::Person {
                    person: people.person_of(&current),
                    chain,
                };
            }
            let role = current
                .session_issuer
                .as_ref()
                .and_then(|i| i.arn.clone())
                .unwrap_or_default();
            if super::identity::is_sso_role(&role, role.rsplit('/').next().unwrap_or_default()) {
                return Origin::Person {
                    person: people.person_of(&current),
                    chain,
                };
            }
            let Some(key) = current.access_key_id.as_deref() else {
                return Origin::Untraced {
                    reason: "the event carries no access key id".to_owned(),
                    chain,
                };
            };
            let Some(session) = self.by_key.get(key).copied() else {
                // A role only services may assume was assumed by a service, whether or not its AssumeRole event
                // was collected.
                if access
                    .principal(&role)
                    .is_some_and(|r| trusted_by_services_only(r.trust_policy.as_ref()))
                {
                    return Origin::Service {
                        service: format!("the service trusted by {role}"),
                        chain,
                    };
                }
                return Origin::Untraced {
                    reason: format!(
                        "no AssumeRole event issued access key {key} of {role} in the collected events"
                    ),
                    chain,
                };
            };
            chain.push(session);
            current = session.caller.clone();
        }
        Origin::Untraced {
            reason: format!("the chain is longer than {MAX_HOPS} role assumptions"),
            chain,
        }
    }
}

/// A trust policy whose every statement admits only service principals.
pub fn trusted_by_services_only(trust: Option<&crate::iam::Policy>) -> bool {
    trust.is_some_and(|t| {
        !t.statements.is_empty()
            && t.statements.iter().all(|s| match &s.principal {
                Some(crate::iam::policy::PrincipalSpec::Principal(who)) => {
                    !who.any
                        && who.aws.is_empty()
                        && who.federated.is_empty()
                        && !who.service.is_empty()
                }
                _ => false,
            })
    })
}

/// The chain as text: `carol -> CICDCrossAccountRole in 444444444444`.
pub fn describe(chain: &[&RoleSession]) -> String {
    chain
        .iter()
        .rev()
        .map(|s| {
            format!(
                "{} assumed {} (session {}, event {})",
                s.caller.arn.as_deref().unwrap_or(&s.caller.kind),
                s.role_arn,
                s.session_name,
                s.event_id
            )
        })
        .collect::<Vec<_>>()
        .join(", then ")
}
