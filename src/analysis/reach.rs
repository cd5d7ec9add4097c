//! Who can act as whom: every *actor* (an IAM user, an IAM Identity Center user, or a role no person in the snapshot
//! can enter) and every principal it can act as — itself, the permission-set roles its Identity Center assignments
//! (direct or through groups) give it, and the roles it can assume from there (within and across the audited
//! accounts, a few hops deep) — each with the route that gets it there, as evidence.
//!
//! Assuming a role needs both sides, as AWS requires: the trust policy admits the caller (its ARN, its account or
//! `*`) and the caller's own policies allow `sts:AssumeRole` on it (the access model's evaluator, with the trust
//! policy as the resource policy, and SCPs/RCPs). Pure: reads the access model and the people directory.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use super::access::{AccessModel, Principal, PrincipalType};
use super::identity::{is_sso_role, permission_set_of_role, Directory, Person};
use super::trust::{statement_ref, trust_admits};
use crate::iam::matching::action_matches;
use crate::iam::policy::{ActionSpec, Effect, PrincipalSpec};
use crate::iam::{Answer, Evaluation};
use crate::model::{Evidence, IdentityCenterSnapshot};

/// How many role assumptions a route may chain.
pub const MAX_ROLE_HOPS: usize = 3;

const ASSUME: &str = "sts:AssumeRole";

/// One step of a route, with the statements (or assignments) that allow it.
#[derive(Debug, Clone)]
pub struct Step {
    pub text: String,
    pub evidence: Vec<Evidence>,
    pub certain: bool,
}

/// How an actor comes to act as one principal.
#[derive(Debug, Clone)]
pub struct Route<'a> {
    pub principal: &'a Principal,
    /// Empty when the actor is the principal itself.
    pub steps: Vec<Step>,
}

impl Route<'_> {
    pub fn certain(&self) -> bool {
        self.steps.iter().all(|s| s.certain)
    }
    /// The route as one line: `group G -> permission set S -> role R -> role R2`.
    pub fn describe(&self) -> String {
        if self.steps.is_empty() {
            return format!("as {} itself", self.principal.name);
        }
        self.steps
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" -> ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    IamUser,
    IdentityCenterUser,
    /// A role no IAM user or Identity Center user of the snapshot can enter (trusted by a service or an outside
    /// account): whoever enters it is one actor.
    Role,
    /// A role entered through a SAML or OIDC provider (Okta, Entra...): the people are the provider's; by default
    /// the role is one actor (see the rule set's `identity.trusted_session_name_providers`).
    FederatedRole,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::IamUser => "iam-user",
            ActorKind::IdentityCenterUser => "identity-center-user",
            ActorKind::Role => "role",
            ActorKind::FederatedRole => "federated-role",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Actor<'a> {
    pub person: Person,
    pub kind: ActorKind,
    pub routes: Vec<Route<'a>>,
}

impl<'a> Actor<'a> {
    /// The route to a principal, if the actor reaches it.
    pub fn route_to(&self, arn: &str) -> Option<&Route<'a>> {
        self.routes.iter().find(|r| r.principal.arn == arn)
    }
}

pub struct Reach<'a> {
    pub actors: Vec<Actor<'a>>,
    /// What the snapshot could not tell about who reaches what (e.g. an assignment whose role is missing).
    pub gaps: Vec<String>,
    /// role ARN -> (entrant ARN, the step that lets it in)
    entries: HashMap<String, Vec<(usize, Step)>>,
}

impl<'a> Reach<'a> {
    pub fn new(access: &'a AccessModel<'a>, people: &Directory) -> Reach<'a> {
        let principals = &access.principals;
        let entries = role_entries(access);
        let mut gaps = Vec::new();
        let mut actors = Vec::new();
        let by_arn: HashMap<&str, usize> = principals
            .iter()
            .enumerate()
            .map(|(i, p)| (p.arn.as_str(), i))
            .collect();
        // Forward edges: principal index -> roles it can enter.
        let mut forward: HashMap<usize, Vec<(usize, Step)>> = HashMap::new();
        for (role_arn, entrants) in &entries {
            let Some(&role) = by_arn.get(role_arn.as_str()) else {
                continue;
            };
            for (who, step) in entrants {
                forward.entry(*who).or_default().push((role, step.clone()));
            }
        }
        for (i, user) in principals.iter().enumerate() {
            if user.kind != PrincipalType::User {
                continue;
            }
            actors.push(Actor {
                person: people.person_of_principal(&user.arn),
                kind: ActorKind::IamUser,
                routes: walk(principals, &forward, vec![(i, Vec::new())]),
            });
        }
        if let Some(ic) = people.identity_center() {
            let sso_roles: HashMap<(&str, &str), usize> = principals
                .iter()
                .enumerate()
                .filter(|(_, p)| p.kind == PrincipalType::Role && is_sso_role(&p.arn, &p.name))
                .filter_map(|(i, p)| {
                    permission_set_of_role(&p.name).map(|set| ((p.account_id.as_str(), set), i))
                })
                .collect();
            for user in &ic.users {
                let starts = identity_center_starts(ic, &user.id, &sso_roles, &mut gaps);
                actors.push(Actor {
                    person: people.identity_center_person(user),
                    kind: ActorKind::IdentityCenterUser,
                    routes: walk(principals, &forward, starts),
                });
            }
        } else if principals
            .iter()
            .any(|p| p.kind == PrincipalType::Role && is_sso_role(&p.arn, &p.name))
        {
            gaps.push(
                "IAM Identity Center was not read: the people behind the AWSReservedSSO_* roles are unknown, so \
                 each such role counts as one actor"
                    .to_owned(),
            );
        }
        let reached: HashSet<&str> = actors
            .iter()
            .flat_map(|a| a.routes.iter().map(|r| r.principal.arn.as_str()))
            .collect();
        let ic_known = people.identity_center().is_some();
        for (i, role) in principals.iter().enumerate() {
            if role.kind != PrincipalType::Role || reached.contains(role.arn.as_str()) {
                continue;
            }
            // Identity Center roles are entered only through assignments; with the assignments known, an unassigned
            // permission-set role is entered by nobody.
            if ic_known && is_sso_role(&role.arn, &role.name) {
                continue;
            }
            let providers: Vec<&str> = role
                .trust_policy
                .iter()
                .flat_map(|t| t.statements.iter())
                .filter(|s| s.effect == Effect::Allow)
                .filter_map(|s| match &s.principal {
                    Some(PrincipalSpec::Principal(p)) => Some(p.federated.iter()),
                    _ => None,
                })
                .flatten()
                .map(String::as_str)
                .filter(|p| !p.contains(":saml-provider/AWSSSO_"))
                .collect();
            let mut person = people.person_of_principal(&role.arn);
            let kind = if providers.is_empty() {
                ActorKind::Role
            } else {
                let trusted = providers.iter().any(|p| {
                    crate::rules::matches_any(&people.rules().trusted_session_name_providers, p)
                });
                person.name = format!(
                    "{} (federated through {}{})",
                    role.name,
                    providers.join(", "),
                    if trusted {
                        "; its session names identify people"
                    } else {
                        "; one approver"
                    }
                );
                ActorKind::FederatedRole
            };
            actors.push(Actor {
                person,
                kind,
                routes: walk(principals, &forward, vec![(i, Vec::new())]),
            });
        }
        gaps.sort();
        gaps.dedup();
        Reach {
            actors,
            gaps,
            entries,
        }
    }

    /// Who can enter a role directly (principal ARN and the step that lets it in).
    pub fn entrants<'s>(
        &'s self,
        access: &'a AccessModel<'a>,
        role_arn: &str,
    ) -> impl Iterator<Item = (&'a Principal, &'s Step)> + 's {
        let principals = &access.principals;
        self.entries
            .get(role_arn)
            .into_iter()
            .flatten()
            .filter_map(move |(i, step)| principals.get(*i).map(|p| (p, step)))
    }

    /// The actors that reach a principal, with their routes.
    pub fn actors_reaching<'s>(
        &'s self,
        arn: &'s str,
    ) -> impl Iterator<Item = (&'s Actor<'a>, &'s Route<'a>)> + 's {
        self.actors
            .iter()
            .filter_map(move |a| a.route_to(arn).map(|r| (a, r)))
    }
}

/// The SSO roles an Identity Center user is assigned, directly or through groups, each with its first step.
fn identity_center_starts(
    ic: &IdentityCenterSnapshot,
    user_id: &str,
    sso_roles: &HashMap<(&str, &str), usize>,
    gaps: &mut Vec<String>,
) -> Vec<(usize, Vec<Step>)> {
    let mut starts = Vec::new();
    for assignment in &ic.assignments {
        let via_group = match assignment.principal_type.as_str() {
            "USER" if assignment.principal_id == user_id => None,
            "GROUP" if ic.members(&assignment.principal_id).any(|m| m == user_id) => {
                Some(assignment.principal_id.as_str())
            }
            _ => continue,
        };
        let Some(set) = ic
            .permission_sets
            .iter()
            .find(|s| s.arn == assignment.permission_set_arn)
        else {
            gaps.push(format!(
                "assignment in {} names permission set {} that was not described",
                assignment.account_id, assignment.permission_set_arn
            ));
            continue;
        };
        let Some(&role) = sso_roles.get(&(assignment.account_id.as_str(), set.name.as_str()))
        else {
            gaps.push(format!(
                "permission set {} is assigned in {} but its AWSReservedSSO_{}_* role is not in that account's IAM \
                 snapshot",
                set.name, assignment.account_id, set.name
            ));
            continue;
        };
        let (text, mut evidence) = match via_group {
            Some(group) => {
                let name = ic
                    .group(group)
                    .map(|g| g.display_name.clone())
                    .unwrap_or_else(|| group.to_owned());
                let size = ic.members(group).count();
                (
                    format!(
                        "Identity Center group {name} ({size} member{}) -> permission set {} in {}",
                        if size == 1 { "" } else { "s" },
                        set.name,
                        assignment.account_id
                    ),
                    vec![Evidence::new(
                        "identity-center-membership",
                        format!("group {name} ({group})"),
                        format!("{size} member(s)"),
                    )],
                )
            }
            None => (
                format!(
                    "Identity Center assignment -> permission set {} in {}",
                    set.name, assignment.account_id
                ),
                Vec::new(),
            ),
        };
        evidence.push(Evidence::new(
            "identity-center-assignment",
            format!("{} in {}", set.arn, assignment.account_id),
            format!(
                "assigned to {} {}",
                assignment.principal_type.to_lowercase(),
                assignment.principal_id
            ),
        ));
        starts.push((
            role,
            vec![Step {
                text,
                evidence,
                certain: true,
            }],
        ));
    }
    starts
}

/// Breadth-first from the starting principals along role entries, keeping the first (shortest) route to each.
fn walk<'a>(
    principals: &'a [Principal],
    forward: &HashMap<usize, Vec<(usize, Step)>>,
    starts: Vec<(usize, Vec<Step>)>,
) -> Vec<Route<'a>> {
    let mut seen: HashMap<usize, Vec<Step>> = HashMap::new();
    let mut queue: VecDeque<(usize, Vec<Step>, usize)> = VecDeque::new();
    for (start, steps) in starts {
        if let std::collections::hash_map::Entry::Vacant(slot) = seen.entry(start) {
            slot.insert(steps.clone());
            queue.push_back((start, steps, 0));
        }
    }
    while let Some((at, steps, hops)) = queue.pop_front() {
        if hops >= MAX_ROLE_HOPS {
            continue;
        }
        for (role, step) in forward.get(&at).into_iter().flatten() {
            if seen.contains_key(role) {
                continue;
            }
            let mut next = steps.clone();
            next.push(step.clone());
            seen.insert(*role, next.clone());
            queue.push_back((*role, next, hops + 1));
        }
    }
    let mut routes: Vec<Route<'a>> = seen
        .into_iter()
        .filter_map(|(i, steps)| {
            principals
                .get(i)
                .map(|principal| Route { principal, steps })
        })
        .collect();
    routes.sort_by(|a, b| a.principal.arn.cmp(&b.principal.arn));
    routes
}

/// Every (role, principal) pair where the principal may assume the role, as a step. Trust policies are indexed
/// by what they admit (a principal ARN, an account, everyone) so that only admitted principals are evaluated.
fn role_entries(access: &AccessModel) -> HashMap<String, Vec<(usize, Step)>> {
    let principals = &access.principals;
    let mut by_arn: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_account: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, p) in principals.iter().enumerate() {
        by_arn.entry(p.arn.as_str()).or_default().push(i);
        by_account.entry(p.account_id.as_str()).or_default().push(i);
    }
    let mut out: HashMap<String, Vec<(usize, Step)>> = HashMap::new();
    for role in principals.iter().filter(|p| p.kind == PrincipalType::Role) {
        let Some(trust) = &role.trust_policy else {
            continue;
        };
        let mut candidates: BTreeMap<usize, ()> = BTreeMap::new();
        let mut everyone = false;
        for s in trust
            .statements
            .iter()
            .filter(|s| s.effect == Effect::Allow)
        {
            let assumes = match &s.action {
                ActionSpec::Action(list) => list.iter().any(|a| action_matches(a, ASSUME)),
                ActionSpec::NotAction(list) => !list.iter().any(|a| action_matches(a, ASSUME)),
            };
            if !assumes {
                continue;
            }
            match &s.principal {
                Some(PrincipalSpec::Principal(p)) => {
                    everyone |= p.any;
                    for named in &p.aws {
                        if named == "*" {
                            everyone = true;
                        } else if let Some(list) = by_arn.get(named.as_str()) {
                            candidates.extend(list.iter().map(|i| (*i, ())));
                        } else {
                            let account = named
                                .strip_prefix("arn:aws:iam::")
                                .and_then(|r| r.strip_suffix(":root"))
                                .unwrap_or(named);
                            if let Some(list) = by_account.get(account) {
                                candidates.extend(list.iter().map(|i| (*i, ())));
                            }
                        }
                    }
                }
                Some(PrincipalSpec::NotPrincipal(_)) => everyone = true,
                None => {}
            }
        }
        if everyone {
            candidates = (0..principals.len()).map(|i| (i, ())).collect();
        }
        let source = format!("role/{} trust policy", role.name);
        for (i, ()) in candidates {
            let Some(who) = principals.get(i) else {
                continue;
            };
            if who.arn == role.arn {
                continue;
            }
            let Some(admission) = trust_admits(trust, &source, &who.arn, &who.account_id) else {
                continue;
            };
            let evaluation =
                access.evaluate_in(who, ASSUME, &role.arn, &role.account_id, Some(trust));
            let answer = evaluation.answer();
            if answer == Answer::No {
                continue;
            }
            let mut evidence: Vec<Evidence> = identity_statements(who, &evaluation)
                .into_iter()
                .map(|s| {
                    Evidence::new(
                        "policy-statement",
                        s,
                        format!("allows sts:AssumeRole on {}", role.arn),
                    )
                })
                .collect();
            evidence.extend(
                admission
                    .statements
                    .iter()
                    .map(|s| Evidence::new("trust-statement", s, format!("admits {}", who.arn))),
            );
            out.entry(role.arn.clone()).or_default().push((
                i,
                Step {
                    text: format!(
                        "{} assumes role {}{}",
                        who.name,
                        role.name,
                        if role.account_id == who.account_id {
                            String::new()
                        } else {
                            format!(" in {}", role.account_id)
                        }
                    ),
                    evidence,
                    certain: answer == Answer::Yes && !admission.conditional,
                },
            ));
        }
    }
    out
}

/// The allowing identity statements of an evaluation, named as the access model names them.
pub fn identity_statements(who: &Principal, evaluation: &Evaluation) -> Vec<String> {
    evaluation
        .allowing
        .iter()
        .chain(&evaluation.possibly_allowing)
        .filter_map(|s| {
            let applied = who.identity.iter().find(|a| a.policy.id == s.policy_id)?;
            let statement = applied
                .policy
                .statements
                .iter()
                .find(|st| st.index == s.index)?;
            Some(statement_ref(&applied.source, statement))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{policy, Org};

    #[test]
    fn a_role_federated_through_an_identity_provider_is_listed_with_the_provider() {
        let mut org = Org::two_person_pipeline();
        org.add_role(
            "OktaApprovers",
            policy(serde_json::json!([{"Effect": "Allow", "Action": "sts:AssumeRoleWithSAML",
                "Principal": {"Federated": "arn:aws:iam::111111111111:saml-provider/Okta"}}])),
            policy(serde_json::json!([{"Effect": "Allow", "Action": "codepipeline:PutApprovalResult", "Resource": "*"}])),
        );
        let access = AccessModel::new(&org.snapshot, &org.rules);
        let people = Directory::new(&org.snapshot, &org.rules.identity);
        let reach = Reach::new(&access, &people);
        let actor = reach
            .actors
            .iter()
            .find(|a| a.person.key == "arn:aws:iam::111111111111:role/OktaApprovers")
            .expect("the federated role is an actor");
        assert_eq!(actor.kind, ActorKind::FederatedRole);
        assert!(
            actor.person.name.contains("saml-provider/Okta")
                && actor.person.name.contains("one approver")
        );
    }

    #[test]
    fn identity_center_users_reach_permission_set_roles_through_groups_and_nobody_enters_unassigned_ones(
    ) {
        let mut org = Org::two_person_pipeline();
        let set = org.add_permission_set("Deployer", policy(serde_json::json!([])));
        org.add_permission_set("Unused", policy(serde_json::json!([])));
        let user = org.add_identity_center_user("lee");
        let group = org.add_identity_center_group("Deployers", &[&user]);
        org.assign(&set, "GROUP", &group);
        let access = AccessModel::new(&org.snapshot, &org.rules);
        let people = Directory::new(&org.snapshot, &org.rules.identity);
        let reach = Reach::new(&access, &people);
        let lee = reach
            .actors
            .iter()
            .find(|a| a.person.name == "lee")
            .expect("lee is an actor");
        assert_eq!(lee.kind, ActorKind::IdentityCenterUser);
        assert_eq!(lee.routes.len(), 1);
        assert!(lee.routes[0]
            .principal
            .name
            .starts_with("AWSReservedSSO_Deployer_"));
        assert!(lee.routes[0]
            .describe()
            .contains("group Deployers (1 member) -> permission set Deployer"));
        assert!(
            !reach
                .actors
                .iter()
                .any(|a| a.person.key.contains("AWSReservedSSO_Unused")),
            "an unassigned permission-set role is entered by nobody"
        );
        assert!(reach.gaps.is_empty(), "{:?}", reach.gaps);
    }
}
