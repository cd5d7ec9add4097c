//! Who-can's work avoidance, all of it exact:
//! - the prefilter: which principals could possibly be allowed an action on a resource, judged from their
//!   identity policies' Allow statements alone (action matched as the evaluator matches it, resource patterns
//!   without policy variables matched as ARNs, every pattern with a variable counted as possible). A principal
//!   with no such statement is implicitly denied by the evaluator for every request in which no resource policy
//!   takes part, so it need not be evaluated; everyone else is evaluated in full. It only ever skips true "No"
//!   answers: it must never decide a "yes" or a "possibly".
//! - sharing: principals of one account whose answers cannot differ (same kind, the same policy documents in the
//!   same places, and no policy that reads who the principal is: principal condition keys, policy variables,
//!   Principal elements other than `*`) form one [`SharingGroup`]; one member is evaluated for the whole group
//!   and the answer is carried over with each member's own policy names.
//!
//! Pure; no AWS. Must not decide an answer itself: it only chooses whom the evaluator has to look at.

use std::collections::HashMap;

use super::access::Principal;
use super::org_limits::OrgLimits;
use crate::iam::matching::{action_matches, arn_matches};
use crate::iam::policy::PrincipalSpec;
use crate::iam::policy::{ActionSpec, Effect, Policy, ResourceSpec};

/// Whether one of `identity` (a principal's identity policies, group policies included) has an Allow statement
/// that could grant `action` on `resource`.
pub fn could_be_allowed(identity: &[Policy], action: &str, resource: &str) -> bool {
    identity.iter().any(|policy| {
        policy.statements.iter().any(|s| {
            s.effect == Effect::Allow
                && action_possible(&s.action, action)
                && resource_possible(&s.resource, resource)
        })
    })
}

fn action_possible(spec: &ActionSpec, action: &str) -> bool {
    match spec {
        ActionSpec::Action(list) => list.iter().any(|p| action_matches(p, action)),
        ActionSpec::NotAction(list) => !list.iter().any(|p| action_matches(p, action)),
    }
}

/// A pattern with a policy variable (`${aws:username}`, or an escape such as `${*}`) may match anything.
fn definitely_matches(pattern: &str, resource: &str) -> Option<bool> {
    (!pattern.contains("${")).then(|| arn_matches(pattern, resource))
}

fn resource_possible(spec: &ResourceSpec, resource: &str) -> bool {
    match spec {
        ResourceSpec::Any => true,
        ResourceSpec::Resource(list) => list
            .iter()
            .any(|p| definitely_matches(p, resource) != Some(false)),
        ResourceSpec::NotResource(list) => !list
            .iter()
            .any(|p| definitely_matches(p, resource) == Some(true)),
    }
}

/// Principals that share one answer to every same-account question without a resource policy.
#[derive(Debug, Clone)]
pub struct SharingGroup {
    pub account_id: String,
    /// Something the members are subject to reads who the principal is (a principal condition key, a policy
    /// variable): the group is one principal, and its answers are never reused between resources either.
    pub reads_principal: bool,
    /// The member that is evaluated (the first in principal order).
    pub representative: usize,
    /// Indexes into the principals, in principal order (the representative included).
    pub members: Vec<usize>,
}

/// Every principal's group.
#[derive(Debug, Clone, Default)]
pub struct Sharing {
    pub groups: Vec<SharingGroup>,
    /// `group_of[principal index]` = index into `groups`.
    pub group_of: Vec<usize>,
    /// Groups of each account, in order of their representatives.
    pub by_account: HashMap<String, Vec<usize>>,
}

/// What two principals must have in common to share their answers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SharingKey {
    account_id: String,
    kind: super::access::PrincipalType,
    /// Content of each identity policy, then of each boundary, in order (interned documents).
    documents: Vec<usize>,
    /// For each of those positions, the first position with the same policy id: the evaluator names statements
    /// by policy id, so the id layout must match for names to carry over one to one.
    id_layout: Vec<usize>,
    /// The principal's own ARN when something it is subject to reads who it is (then it shares with nobody).
    personal: Option<String>,
}

/// Groups `principals` by what decides their answers (see the module documentation).
pub fn sharing(principals: &[Principal], org: &HashMap<String, OrgLimits>) -> Sharing {
    let mut documents: HashMap<String, usize> = HashMap::new();
    let mut keys: HashMap<SharingKey, usize> = HashMap::new();
    let mut out = Sharing::default();
    for (index, p) in principals.iter().enumerate() {
        let stack: Vec<&crate::iam::Policy> =
            p.stack.identity.iter().chain(&p.stack.boundaries).collect();
        let content: Vec<usize> = stack
            .iter()
            .map(|policy| {
                let text = format!(
                    "{:?}|{:?}|{:?}",
                    policy.version, policy.doc_id, policy.statements
                );
                let next = documents.len();
                *documents.entry(text).or_insert(next)
            })
            .collect();
        let id_layout = stack
            .iter()
            .map(|policy| stack.iter().position(|q| q.id == policy.id).unwrap_or(0))
            .collect();
        let limits = org.get(&p.account_id);
        let org_policies = limits
            .into_iter()
            .flat_map(|l| l.scp_levels.iter().chain(&l.rcp_levels))
            .flat_map(|level| &level.policies);
        // A principal's policy id equal to an organisation policy's id would make its statements' names
        // ambiguous: such a principal is evaluated on its own.
        let id_clash = org_policies
            .clone()
            .any(|o| stack.iter().any(|policy| policy.id == o.id));
        let personal = (id_clash
            || stack
                .iter()
                .copied()
                .chain(org_policies)
                .any(reads_principal))
        .then(|| p.arn.clone());
        let key = SharingKey {
            account_id: p.account_id.clone(),
            kind: p.kind,
            documents: content,
            id_layout,
            personal,
        };
        let reads = key.personal.is_some();
        let group = *keys.entry(key).or_insert_with(|| {
            out.groups.push(SharingGroup {
                account_id: p.account_id.clone(),
                reads_principal: reads,
                representative: index,
                members: Vec::new(),
            });
            let g = out.groups.len() - 1;
            out.by_account
                .entry(p.account_id.clone())
                .or_default()
                .push(g);
            g
        });
        out.groups[group].members.push(index);
        out.group_of.push(group);
    }
    out
}

/// Whether a policy's answer can depend on which principal asks: a condition on a key the evaluator derives from
/// the principal (`aws:PrincipalArn`, `aws:PrincipalTag/...`, `aws:username`, `aws:userid` ...), a policy
/// variable anywhere, or a `Principal`/`NotPrincipal` element that is not `"*"`.
pub fn reads_principal(policy: &crate::iam::Policy) -> bool {
    policy.statements.iter().any(|s| {
        let principal_element = match &s.principal {
            None => false,
            Some(PrincipalSpec::Principal(p)) => !p.any,
            Some(PrincipalSpec::NotPrincipal(_)) => true,
        };
        let variable = |v: &String| v.contains("${");
        let in_resources = match &s.resource {
            ResourceSpec::Any => false,
            ResourceSpec::Resource(list) | ResourceSpec::NotResource(list) => {
                list.iter().any(variable)
            }
        };
        principal_element
            || in_resources
            || s.conditions.iter().any(|c| {
                let key = c.key.to_ascii_lowercase();
                key.starts_with("aws:principal")
                    || key.starts_with("aws:username")
                    || key.starts_with("aws:userid")
                    || key.contains("${")
                    || c.values.iter().any(variable)
            })
    })
}

/// The statements that can take part in a request for one action, of one sharing group's identity policies and
/// boundary and of its account's SCP and RCP levels (action matched as the evaluator matches it, `NotAction`
/// included): the only statements whose resource element a request for that action reads.
#[derive(Debug, Clone, Default)]
pub struct ActionStatements {
    /// Per statement: whether it is an identity-policy Allow, and its resource element.
    statements: Vec<(bool, ResourceSpec)>,
}

impl ActionStatements {
    /// `principal`'s statements for `action`, with its account's organisation policies `org`.
    pub fn of(principal: &Principal, org: Option<&OrgLimits>, action: &str) -> ActionStatements {
        let identity = principal.stack.identity.iter().map(|p| (true, p));
        let others = principal
            .stack
            .boundaries
            .iter()
            .chain(
                org.into_iter()
                    .flat_map(|l| l.scp_levels.iter().chain(&l.rcp_levels))
                    .flat_map(|level| &level.policies),
            )
            .map(|p| (false, p));
        let statements = identity
            .chain(others)
            .flat_map(|(identity, policy)| {
                policy
                    .statements
                    .iter()
                    .filter(|s| action_possible(&s.action, action))
                    .map(move |s| (identity && s.effect == Effect::Allow, s.resource.clone()))
            })
            .collect();
        ActionStatements { statements }
    }

    /// Which of the statements' resource elements match `resource`, and whether an identity Allow is among them
    /// (if not, nobody in the group can be allowed: the prefilter's answer). Exact only for a group that does not
    /// read who the principal is ([`SharingGroup::reads_principal`]): its patterns hold no policy variables.
    /// Two resources with the same matches get the same evaluation from the group.
    pub fn matches(&self, resource: &str) -> (bool, Vec<bool>) {
        let mut possible = false;
        let hits = self
            .statements
            .iter()
            .map(|(identity_allow, spec)| {
                let hit = resource_possible(spec, resource);
                possible |= hit && *identity_allow;
                hit
            })
            .collect();
        (possible, hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(statements: serde_json::Value) -> Policy {
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": statements});
        crate::iam::policy::Policy::parse("p", &doc).expect("policy parses")
    }

    const ACTION: &str = "codepipeline:PutApprovalResult";
    const GATE: &str = "arn:aws:codepipeline:us-east-1:111111111111:webapp/ProdGate/ApprovalA";

    #[test]
    fn only_principals_without_any_possible_allow_are_skipped() {
        let cases = [
            (
                serde_json::json!([{"Effect": "Allow", "Action": "codepipeline:*", "Resource": "*"}]),
                true,
            ),
            (
                serde_json::json!([{"Effect": "Allow", "Action": "codepipeline:Get*", "Resource": "*"}]),
                false,
            ),
            (
                serde_json::json!([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]),
                true,
            ),
            (
                serde_json::json!([{"Effect": "Allow", "NotAction": "codepipeline:*", "Resource": "*"}]),
                false,
            ),
            (
                serde_json::json!([{"Effect": "Allow", "Action": ACTION,
                "Resource": "arn:aws:codepipeline:*:111111111111:webapp/*"}]),
                true,
            ),
            (
                serde_json::json!([{"Effect": "Allow", "Action": ACTION,
                "Resource": "arn:aws:codepipeline:*:111111111111:api/*"}]),
                false,
            ),
            (
                serde_json::json!([{"Effect": "Allow", "Action": ACTION,
                "NotResource": "arn:aws:codepipeline:*:111111111111:webapp/*"}]),
                false,
            ),
            (
                serde_json::json!([{"Effect": "Allow", "Action": ACTION,
                "NotResource": "arn:aws:codepipeline:*:111111111111:api/*"}]),
                true,
            ),
            // A variable may resolve to anything: evaluated, never skipped.
            (
                serde_json::json!([{"Effect": "Allow", "Action": ACTION,
                "Resource": "arn:aws:codepipeline:*:111111111111:${aws:PrincipalTag/app}/*"}]),
                true,
            ),
            (
                serde_json::json!([{"Effect": "Allow", "Action": ACTION,
                "NotResource": "arn:aws:codepipeline:*:111111111111:${aws:username}/*"}]),
                true,
            ),
            // A Deny never grants.
            (
                serde_json::json!([{"Effect": "Deny", "Action": "*", "Resource": "*"}]),
                false,
            ),
            // Conditions do not matter to the prefilter (the evaluator decides them).
            (
                serde_json::json!([{"Effect": "Allow", "Action": "*", "Resource": "*",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]),
                true,
            ),
        ];
        for (statements, expected) in cases {
            let p = policy(statements.clone());
            assert_eq!(
                could_be_allowed(&[p], ACTION, GATE),
                expected,
                "{statements}"
            );
        }
        assert!(!could_be_allowed(&[], ACTION, GATE), "no policy, no grant");
    }
}
