//! The access model of a snapshot: for every IAM user and role, the policies that apply to it (its own, its
//! groups', its boundary), parsed once, and the questions the checks ask of the evaluator: who can do action A on
//! resource R, and which mutating actions can principal P perform.
//!
//! Bridges snapshot data to `crate::iam` (which knows nothing of snapshots). Pure; no AWS SDK types.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use super::org_limits::{org_limits, OrgLimits, OrgPolicyState};
use crate::iam::catalog::{AccessLevel, Catalog};
use crate::iam::eval::Gatekeeper;
use crate::iam::policy::{ActionSpec, Effect, ResourceSpec};
use crate::iam::{
    evaluate, Answer, Context, Evaluation, Policy, PolicySet, PrincipalInfo, PrincipalKind, Request,
};
use crate::model::{AccountSnapshot, IamSnapshot, InlinePolicy, Snapshot};
use crate::rules::{action_matches_any, RuleSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PrincipalType {
    User,
    Role,
}

/// A policy as it applies to a principal: where it came from (for evidence) and its parsed form.
#[derive(Debug, Clone)]
pub struct AppliedPolicy {
    /// e.g. `arn:aws:iam::1:policy/Foo` or `user/alice inline "bar"`.
    pub source: String,
    /// The group it came through, if any.
    pub via_group: Option<String>,
    pub policy: Policy,
}

/// The parsed policies of one principal, laid out for the evaluator (which borrows slices of policies).
#[derive(Debug, Clone, Default)]
pub struct PolicyStack {
    pub identity: Vec<Policy>,
    pub boundaries: Vec<Policy>,
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub account_id: String,
    pub arn: String,
    pub name: String,
    pub kind: PrincipalType,
    pub groups: Vec<String>,
    pub identity: Vec<AppliedPolicy>,
    pub boundary: Option<AppliedPolicy>,
    /// Console password (users).
    pub has_login_profile: bool,
    /// Active long-lived access keys (users).
    pub has_access_keys: bool,
    pub trust_policy: Option<Policy>,
    pub service_linked: bool,
    /// `identity` and `boundary` as plain policies, built once.
    pub stack: PolicyStack,
    /// IAM tags of the user or role (`aws:PrincipalTag/...` in conditions).
    pub tags: BTreeMap<String, String>,
}

impl Principal {
    fn with_stack(mut self) -> Principal {
        self.stack = PolicyStack {
            identity: self.identity.iter().map(|a| a.policy.clone()).collect(),
            boundaries: self.boundary.iter().map(|b| b.policy.clone()).collect(),
        };
        self
    }
}

/// A policy that could not be parsed: never skipped silently, the checks report it.
#[derive(Debug, Clone)]
pub struct PolicyProblem {
    pub account_id: String,
    pub source: String,
    pub error: String,
}

/// One principal's answer to "can it do this?", with the statements responsible.
#[derive(Debug, Clone)]
pub struct Grant<'a> {
    pub principal: &'a Principal,
    pub answer: Answer,
    /// `policy-source#Statement[i] (Sid)` of every allowing identity statement.
    pub statements: Arc<[String]>,
    /// Groups whose policies supplied an allowing statement.
    pub via_groups: Arc<[String]>,
    /// Conditions that made the answer only "possibly".
    pub unknowns: Arc<[String]>,
}

/// A grant without its principal: what `who_can` keeps to hand out again (the lists are shared, not copied).
#[derive(Debug, Clone)]
struct GrantParts {
    answer: Answer,
    statements: Arc<[String]>,
    via_groups: Arc<[String]>,
    unknowns: Arc<[String]>,
}

impl GrantParts {
    fn of(grant: Grant<'_>) -> GrantParts {
        GrantParts {
            answer: grant.answer,
            statements: grant.statements,
            via_groups: grant.via_groups,
            unknowns: grant.unknowns,
        }
    }

    fn to<'p>(&self, principal: &'p Principal) -> Grant<'p> {
        Grant {
            principal,
            answer: self.answer,
            statements: Arc::clone(&self.statements),
            via_groups: Arc::clone(&self.via_groups),
            unknowns: Arc::clone(&self.unknowns),
        }
    }
}

/// What `who_can` learnt about one action: each sharing group's statements for it, and the grants of each group
/// for each pattern of statement matches seen so far (resources the group's statements match alike get the same
/// answer). Grows at most as the answers handed out.
#[derive(Default)]
struct ActionMemo {
    /// Per sharing group; `None` for a group that reads who the principal is (never reused).
    statements: Vec<Option<super::candidates::ActionStatements>>,
    answers: Mutex<HashMap<AnswerKey, Arc<Vec<Option<GrantParts>>>>>,
}

/// A sharing group, which of its statements match the resource, and whether AWS refuses to modify the resource.
type AnswerKey = (usize, Vec<bool>, Option<crate::iam::Unmodifiable>);

pub struct AccessModel<'a> {
    pub snapshot: &'a Snapshot,
    pub principals: Vec<Principal>,
    /// Permission policies that could not be parsed (they affect every access question).
    pub problems: Vec<PolicyProblem>,
    /// Role trust policies that could not be parsed (they affect who can assume a role).
    pub trust_problems: Vec<PolicyProblem>,
    /// SCP and RCP levels of every audited account, and how well they are known.
    pub org: HashMap<String, OrgLimits>,
    write_cache: Mutex<BTreeMap<String, Vec<MutatingGrant>>>,
    who_can_stats: WhoCanStats,
    /// Principals grouped by what decides their answers (built on the first `who_can`).
    sharing: std::sync::OnceLock<super::candidates::Sharing>,
    /// Per action asked of `who_can`.
    who_can_memo: Mutex<HashMap<String, Arc<ActionMemo>>>,
    allowlist: Vec<String>,
    deployment_roles: Vec<String>,
}

/// Principal evaluations `who_can` made, skipped by its prefilter, and carried over within a sharing group.
#[derive(Default)]
struct WhoCanStats {
    evaluated: std::sync::atomic::AtomicUsize,
    avoided: std::sync::atomic::AtomicUsize,
    shared: std::sync::atomic::AtomicUsize,
    reused: std::sync::atomic::AtomicUsize,
}

/// What `who_can` did so far: evaluations made, avoided because no Allow statement could match, answers
/// carried over from a sharing group's representative, and answers reused from an earlier resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WhoCanCounts {
    pub evaluated: usize,
    pub avoided_no_allow: usize,
    pub shared: usize,
    /// Answers reused from an earlier resource of the same action whose statements the group matched alike.
    pub reused: usize,
}

/// Role ARN patterns that deploy: pipeline service roles and action roles found in the snapshot, and the
/// patterns declared in the configuration and the rule set.
fn deployment_role_patterns(snapshot: &Snapshot, rules: &RuleSet) -> Vec<String> {
    let mut roles: Vec<String> = rules.write_access.deployment_roles.clone();
    roles.extend(snapshot.declared_deployment_roles.iter().cloned());
    for account in &snapshot.accounts {
        for pipeline in &account.pipelines {
            roles.push(pipeline.role_arn.clone());
            for stage in &pipeline.stages {
                roles.extend(stage.actions.iter().filter_map(|a| a.role_arn.clone()));
            }
        }
    }
    roles.sort();
    roles.dedup();
    roles
}

/// A mutating action a principal can perform, and how.
#[derive(Debug, Clone)]
pub struct MutatingGrant {
    pub action: String,
    pub level: AccessLevel,
    pub answer: Answer,
    pub statements: Vec<String>,
    pub unknowns: Vec<String>,
}

fn parse_inline(
    account: &str,
    owner: &str,
    inline: &InlinePolicy,
    via_group: Option<&str>,
    problems: &mut Vec<PolicyProblem>,
) -> Option<AppliedPolicy> {
    let source = format!("{owner} inline {:?}", inline.name);
    match Policy::parse(&source, &inline.document) {
        Ok(policy) => Some(AppliedPolicy {
            source,
            via_group: via_group.map(str::to_owned),
            policy,
        }),
        Err(e) => {
            problems.push(PolicyProblem {
                account_id: account.to_owned(),
                source,
                error: e.to_string(),
            });
            None
        }
    }
}

fn parse_managed(
    account: &str,
    iam: &IamSnapshot,
    arn: &str,
    via_group: Option<&str>,
    problems: &mut Vec<PolicyProblem>,
) -> Option<AppliedPolicy> {
    let Some(document) = iam.policy(arn).and_then(|p| p.default_document()) else {
        problems.push(PolicyProblem {
            account_id: account.to_owned(),
            source: arn.to_owned(),
            error: "attached policy missing from the snapshot: its grants cannot be evaluated"
                .to_owned(),
        });
        return None;
    };
    match Policy::parse(arn, document) {
        Ok(policy) => Some(AppliedPolicy {
            source: arn.to_owned(),
            via_group: via_group.map(str::to_owned),
            policy,
        }),
        Err(e) => {
            problems.push(PolicyProblem {
                account_id: account.to_owned(),
                source: arn.to_owned(),
                error: e.to_string(),
            });
            None
        }
    }
}

fn principals_of(
    account: &AccountSnapshot,
    problems: &mut Vec<PolicyProblem>,
    trust_problems: &mut Vec<PolicyProblem>,
) -> Vec<Principal> {
    let Some(iam) = &account.iam else {
        return Vec::new();
    };
    let id = account.account_id.as_str();
    let mut out = Vec::new();
    for user in &iam.users {
        let owner = format!("user/{}", user.name);
        let mut identity: Vec<AppliedPolicy> = Vec::new();
        identity.extend(
            user.inline_policies
                .iter()
                .filter_map(|p| parse_inline(id, &owner, p, None, problems)),
        );
        identity.extend(
            user.attached_policies
                .iter()
                .filter_map(|arn| parse_managed(id, iam, arn, None, problems)),
        );
        for group_name in &user.groups {
            let Some(group) = iam.group(group_name) else {
                problems.push(PolicyProblem {
                    account_id: id.to_owned(),
                    source: format!("group/{group_name}"),
                    error: format!(
                        "user {} is in group {group_name}, which is missing from the snapshot",
                        user.name
                    ),
                });
                continue;
            };
            let group_owner = format!("group/{}", group.name);
            identity.extend(
                group
                    .inline_policies
                    .iter()
                    .filter_map(|p| parse_inline(id, &group_owner, p, Some(&group.name), problems)),
            );
            identity.extend(
                group
                    .attached_policies
                    .iter()
                    .filter_map(|arn| parse_managed(id, iam, arn, Some(&group.name), problems)),
            );
        }
        out.push(
            Principal {
                account_id: id.to_owned(),
                arn: user.arn.clone(),
                name: user.name.clone(),
                kind: PrincipalType::User,
                groups: user.groups.clone(),
                identity,
                boundary: user
                    .permissions_boundary
                    .as_deref()
                    .and_then(|arn| parse_managed(id, iam, arn, None, problems)),
                has_login_profile: user.has_login_profile,
                has_access_keys: user.has_active_access_key(),
                trust_policy: None,
                service_linked: false,
                stack: PolicyStack::default(),
                tags: user.tags.iter().cloned().collect(),
            }
            .with_stack(),
        );
    }
    for role in &iam.roles {
        let owner = format!("role/{}", role.name);
        let mut identity: Vec<AppliedPolicy> = Vec::new();
        identity.extend(
            role.inline_policies
                .iter()
                .filter_map(|p| parse_inline(id, &owner, p, None, problems)),
        );
        identity.extend(
            role.attached_policies
                .iter()
                .filter_map(|arn| parse_managed(id, iam, arn, None, problems)),
        );
        let trust_source = format!("{owner} trust policy");
        let trust_policy = match Policy::parse(&trust_source, &role.trust_policy) {
            Ok(p) => Some(p),
            Err(e) => {
                trust_problems.push(PolicyProblem {
                    account_id: id.to_owned(),
                    source: trust_source,
                    error: e.to_string(),
                });
                None
            }
        };
        out.push(
            Principal {
                account_id: id.to_owned(),
                arn: role.arn.clone(),
                name: role.name.clone(),
                kind: PrincipalType::Role,
                groups: Vec::new(),
                identity,
                boundary: role
                    .permissions_boundary
                    .as_deref()
                    .and_then(|arn| parse_managed(id, iam, arn, None, problems)),
                has_login_profile: false,
                has_access_keys: false,
                trust_policy,
                service_linked: role.is_service_linked(),
                stack: PolicyStack::default(),
                tags: role.tags.iter().cloned().collect(),
            }
            .with_stack(),
        );
    }
    out
}

/// The condition key of the stand-in for a trust or key policy missing from the snapshot: never supplied, so unknown in
/// audit mode.
pub const UNKNOWN_GATEKEEPER_KEY: &str = "gateaudit:PolicyNotInSnapshot";

/// A stand-in for a trust or key policy the snapshot does not hold: it names the caller's account (delegating to the
/// identity policies) under a condition nobody can know, so that an identity grant becomes "possibly".
fn unknown_gatekeeper(gate: Gatekeeper, resource: &str, account: &str) -> Option<Policy> {
    let id = format!("{} of {resource} (not in the snapshot)", gate.as_str());
    let document = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
        "Action": "*",
        "Resource": "*",
        "Condition": {"Bool": {UNKNOWN_GATEKEEPER_KEY: "true"}},
    }]});
    Policy::parse(&id, &document).ok()
}

fn statement_ref(applied: &AppliedPolicy, index: usize) -> String {
    let sid = applied
        .policy
        .statements
        .iter()
        .find(|s| s.index == index)
        .and_then(|s| s.sid.clone())
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    format!("{}#Statement[{index}]{sid}", applied.source)
}

impl<'a> AccessModel<'a> {
    pub fn new(snapshot: &'a Snapshot, rules: &RuleSet) -> AccessModel<'a> {
        let mut problems = Vec::new();
        let mut trust_problems = Vec::new();
        let principals = snapshot
            .accounts
            .iter()
            .flat_map(|a| principals_of(a, &mut problems, &mut trust_problems))
            .collect();
        let (org, org_problems) = org_limits(snapshot);
        problems.extend(org_problems);
        AccessModel {
            snapshot,
            principals,
            problems,
            trust_problems,
            org,
            write_cache: Mutex::new(BTreeMap::new()),
            who_can_stats: WhoCanStats::default(),
            sharing: std::sync::OnceLock::new(),
            who_can_memo: Mutex::new(HashMap::new()),
            allowlist: rules.write_access.operational_allowlist.clone(),
            deployment_roles: deployment_role_patterns(snapshot, rules),
        }
    }

    /// Whether a role ARN is a pipeline service or action role, or declared as deploying.
    pub fn is_deployment_role_arn(&self, role_arn: &str) -> bool {
        role_arn.contains(":role/aws-service-role/")
            || crate::rules::matches_any(&self.deployment_roles, role_arn)
    }

    /// Service-linked roles, pipeline service and action roles, and roles declared as deploying.
    pub fn is_deployment_role(&self, principal: &Principal) -> bool {
        principal.kind == PrincipalType::Role
            && (principal.service_linked
                || crate::rules::matches_any(&self.deployment_roles, &principal.arn))
    }

    pub fn principal(&self, arn: &str) -> Option<&Principal> {
        self.principals.iter().find(|p| p.arn == arn)
    }

    fn request(
        principal: &Principal,
        action: &str,
        resource: &str,
        resource_account: &str,
    ) -> Request {
        let kind = match principal.kind {
            PrincipalType::User => PrincipalKind::User,
            PrincipalType::Role => PrincipalKind::Role,
        };
        Request {
            action: action.to_owned(),
            resource: resource.to_owned(),
            resource_account: Some(resource_account.to_owned()),
            principal: PrincipalInfo {
                arn: principal.arn.clone(),
                account: principal.account_id.clone(),
                kind,
                username: (principal.kind == PrincipalType::User).then(|| principal.name.clone()),
                userid: None,
                tags: principal.tags.clone(),
            },
            context: Context::audit(),
        }
    }

    /// Evaluates one principal for one action on a resource of its own account: identity policies, boundary, and
    /// the organisation's SCPs and RCPs of the account.
    ///
    /// AWS requires a role's trust policy (for `sts:AssumeRole` and its kin) and a KMS key's key policy to admit the
    /// caller even within one account (`iam::eval::Gatekeeper`), so such requests carry the role's trust policy as
    /// the resource policy. When that policy is not in the snapshot (a key policy, a role of another account, a role
    /// pattern, or a trust policy that could not be parsed), a stand-in is passed that delegates to the account only
    /// under a condition on a key nobody supplies: in audit mode the answer is then "possibly" when the identity
    /// policies allow, never a certain yes or a silent no.
    pub fn evaluate(&self, principal: &Principal, action: &str, resource: &str) -> Evaluation {
        let stand_in;
        let resource_policy = match crate::iam::eval::aws_rules::gatekeeper(action, resource) {
            None => None,
            Some(gate) => {
                let known = match gate {
                    Gatekeeper::RoleTrust => self
                        .principals
                        .iter()
                        .find(|p| p.kind == PrincipalType::Role && p.arn == resource)
                        .and_then(|role| role.trust_policy.as_ref()),
                    Gatekeeper::KeyPolicy => None,
                };
                match known {
                    Some(policy) => Some(policy),
                    None => {
                        stand_in = unknown_gatekeeper(gate, resource, &principal.account_id);
                        stand_in.as_ref()
                    }
                }
            }
        };
        self.evaluate_in(
            principal,
            action,
            resource,
            &principal.account_id,
            resource_policy,
        )
    }

    /// Evaluates one principal for one action on a resource of `resource_account` (perhaps another account),
    /// with the resource's own policy (a trust policy, a bucket or key policy) when it has one: the caller passes
    /// it (for a role's trust or a key policy, None means "admits nobody", as on AWS). SCPs of the principal's
    /// account and RCPs of the resource's account apply.
    pub fn evaluate_in(
        &self,
        principal: &Principal,
        action: &str,
        resource: &str,
        resource_account: &str,
        resource_policy: Option<&Policy>,
    ) -> Evaluation {
        let own = self.org.get(&principal.account_id);
        let target = self.org.get(resource_account);
        let set = PolicySet {
            identity: &principal.stack.identity,
            boundaries: &principal.stack.boundaries,
            scp_levels: own.map(|o| o.scp_levels.as_slice()).unwrap_or_default(),
            rcp_levels: target.map(|o| o.rcp_levels.as_slice()).unwrap_or_default(),
            is_management_account: own.is_some_and(|o| o.is_management),
            resource_in_management_account: target.is_some_and(|o| o.is_management),
            resource_policy,
            ..PolicySet::default()
        };
        evaluate(
            &Self::request(principal, action, resource, resource_account),
            &set,
        )
    }

    /// Accounts whose organisation policies are not known (the answers there ignore SCPs and RCPs), with why.
    pub fn org_policy_gaps(&self) -> Vec<(String, String)> {
        let mut gaps: Vec<(String, String)> = self
            .org
            .iter()
            .filter_map(|(account, limits)| match &limits.state {
                OrgPolicyState::Unknown(why) => Some((account.clone(), why.clone())),
                _ => None,
            })
            .collect();
        gaps.sort();
        gaps
    }

    /// True when no organisation policies were collected at all (no `[organization]`).
    pub fn org_policies_not_collected(&self) -> bool {
        self.snapshot.organization.is_none()
    }

    fn grant<'p>(&self, principal: &'p Principal, evaluation: &Evaluation) -> Option<Grant<'p>> {
        Self::grant_as(principal, evaluation, None)
    }

    /// The grant `evaluation` makes to `principal`. With `evaluated_for`, the evaluation is that of the
    /// principal's sharing group representative (`candidates`: the same documents in the same places): its
    /// statements are named by the principal's own policy at the same place.
    fn grant_as<'p>(
        principal: &'p Principal,
        evaluation: &Evaluation,
        evaluated_for: Option<&Principal>,
    ) -> Option<Grant<'p>> {
        let answer = evaluation.answer();
        if answer == Answer::No {
            return None;
        }
        let identity_policy = |policy_id: &str| -> Option<&'p AppliedPolicy> {
            let on = evaluated_for.unwrap_or(principal);
            let place = on.identity.iter().position(|a| a.policy.id == policy_id)?;
            principal.identity.get(place)
        };
        let policy_name = |policy_id: &'_ str| -> String {
            let Some(on) = evaluated_for else {
                return policy_id.to_owned();
            };
            let place = on
                .stack
                .identity
                .iter()
                .chain(&on.stack.boundaries)
                .position(|p| p.id == policy_id);
            place
                .and_then(|i| {
                    principal
                        .stack
                        .identity
                        .iter()
                        .chain(&principal.stack.boundaries)
                        .nth(i)
                })
                .map_or_else(|| policy_id.to_owned(), |p| p.id.clone())
        };
        let mut statements = Vec::new();
        let mut via_groups = BTreeSet::new();
        for s in evaluation
            .allowing
            .iter()
            .chain(&evaluation.possibly_allowing)
        {
            if let Some(applied) = identity_policy(&s.policy_id) {
                statements.push(statement_ref(applied, s.index));
                via_groups.extend(applied.via_group.clone());
            }
        }
        let unknowns = evaluation
            .unknowns
            .iter()
            .map(|u| {
                format!(
                    "{} {} in {}#Statement[{}]",
                    u.operator,
                    u.key,
                    policy_name(&u.statement.policy_id),
                    u.statement.index
                )
            })
            .collect();
        Some(Grant {
            principal,
            answer,
            statements: statements.into(),
            via_groups: via_groups.into_iter().collect(),
            unknowns,
        })
    }

    /// Every user and role of `account_id` that is allowed (or possibly allowed) `action` on `resource`, in
    /// principal order.
    ///
    /// Without a resource policy in play (a role's trust, a key policy) and for an action that needs a permission
    /// at all, the work is cut three ways, all exact (`candidates`): each sharing group is evaluated once, for its
    /// representative; a group none of whose Allow statements could match is not evaluated at all; and a group
    /// whose statements for the action match this resource as they matched an earlier one gets that answer again.
    pub fn who_can(&self, account_id: &str, action: &str, resource: &str) -> Vec<Grant<'_>> {
        use std::sync::atomic::Ordering::Relaxed;
        let shortcuts = crate::iam::eval::aws_rules::gatekeeper(action, resource).is_none()
            && !crate::iam::eval::aws_rules::is_caller_identity(action);
        if !shortcuts {
            let grants = self.who_can_exhaustive(account_id, action, resource);
            let n = self
                .principals
                .iter()
                .filter(|p| p.account_id == account_id)
                .count();
            self.who_can_stats.evaluated.fetch_add(n, Relaxed);
            return grants;
        }
        let sharing = self
            .sharing
            .get_or_init(|| super::candidates::sharing(&self.principals, &self.org));
        let Some(groups) = sharing.by_account.get(account_id) else {
            return Vec::new();
        };
        let memo = self.action_memo(sharing, action);
        let unmodifiable = crate::iam::eval::aws_rules::unmodifiable(action, resource, false);
        let mut grants: Vec<(usize, Grant<'_>)> = groups
            .par_iter()
            .flat_map_iter(|&g| {
                let group = &sharing.groups[g];
                let members = group.members.len();
                let representative = &self.principals[group.representative];
                let answers = match &memo.statements[g] {
                    None => {
                        if !super::candidates::could_be_allowed(
                            &representative.stack.identity,
                            action,
                            resource,
                        ) {
                            self.who_can_stats.avoided.fetch_add(members, Relaxed);
                            return Vec::new();
                        }
                        Arc::new(self.group_answers(group, action, resource))
                    }
                    Some(statements) => {
                        let (possible, hits) = statements.matches(resource);
                        if !possible {
                            self.who_can_stats.avoided.fetch_add(members, Relaxed);
                            return Vec::new();
                        }
                        let key = (g, hits, unmodifiable);
                        let known = memo.answers.lock().ok().and_then(|m| m.get(&key).cloned());
                        match known {
                            Some(answers) => {
                                self.who_can_stats.reused.fetch_add(members, Relaxed);
                                answers
                            }
                            None => {
                                let answers = Arc::new(self.group_answers(group, action, resource));
                                if let Ok(mut m) = memo.answers.lock() {
                                    m.insert(key, Arc::clone(&answers));
                                }
                                answers
                            }
                        }
                    }
                };
                group
                    .members
                    .iter()
                    .zip(answers.iter())
                    .filter_map(|(&i, parts)| Some((i, parts.as_ref()?.to(&self.principals[i]))))
                    .collect::<Vec<_>>()
            })
            .collect();
        grants.sort_unstable_by_key(|(i, _)| *i);
        grants.into_iter().map(|(_, g)| g).collect()
    }

    /// The grants to each member of `group` (in member order): its representative evaluated, the answer named by
    /// each member's own policies.
    fn group_answers(
        &self,
        group: &super::candidates::SharingGroup,
        action: &str,
        resource: &str,
    ) -> Vec<Option<GrantParts>> {
        use std::sync::atomic::Ordering::Relaxed;
        self.who_can_stats.evaluated.fetch_add(1, Relaxed);
        self.who_can_stats
            .shared
            .fetch_add(group.members.len() - 1, Relaxed);
        let representative = &self.principals[group.representative];
        let evaluation = self.evaluate(representative, action, resource);
        group
            .members
            .iter()
            .map(|&i| {
                let evaluated_for = (i != group.representative).then_some(representative);
                Self::grant_as(&self.principals[i], &evaluation, evaluated_for).map(GrantParts::of)
            })
            .collect()
    }

    /// `who_can`'s memo for `action`, built on first use: each sharing group's statements for the action.
    fn action_memo(&self, sharing: &super::candidates::Sharing, action: &str) -> Arc<ActionMemo> {
        if let Some(memo) = self
            .who_can_memo
            .lock()
            .ok()
            .and_then(|m| m.get(action).cloned())
        {
            return memo;
        }
        let statements = sharing
            .groups
            .par_iter()
            .map(|group| {
                (!group.reads_principal).then(|| {
                    let representative = &self.principals[group.representative];
                    super::candidates::ActionStatements::of(
                        representative,
                        self.org.get(&group.account_id),
                        action,
                    )
                })
            })
            .collect();
        let memo = Arc::new(ActionMemo {
            statements,
            answers: Mutex::new(HashMap::new()),
        });
        if let Ok(mut m) = self.who_can_memo.lock() {
            m.entry(action.to_owned())
                .or_insert_with(|| Arc::clone(&memo));
        }
        memo
    }

    /// `who_can` evaluating every principal of the account, without the prefilter: the reference the benchmark
    /// and the tests compare it with.
    pub fn who_can_exhaustive(
        &self,
        account_id: &str,
        action: &str,
        resource: &str,
    ) -> Vec<Grant<'_>> {
        self.principals
            .par_iter()
            .filter(|p| p.account_id == account_id)
            .filter_map(|p| self.grant(p, &self.evaluate(p, action, resource)))
            .collect()
    }

    /// What `who_can` did so far (see [`WhoCanCounts`]).
    pub fn who_can_counts(&self) -> WhoCanCounts {
        use std::sync::atomic::Ordering::Relaxed;
        WhoCanCounts {
            evaluated: self.who_can_stats.evaluated.load(Relaxed),
            avoided_no_allow: self.who_can_stats.avoided.load(Relaxed),
            shared: self.who_can_stats.shared.load(Relaxed),
            reused: self.who_can_stats.reused.load(Relaxed),
        }
    }

    /// The mutating actions (Write, Permissions management, Tagging) outside the operational allowlist that the
    /// principal can perform on some resource. Exact over the action catalog: wildcards and NotAction are expanded.
    pub fn mutating_grants(&self, principal: &Principal) -> Vec<MutatingGrant> {
        let mut ids: Vec<&str> = principal
            .identity
            .iter()
            .map(|a| a.source.as_str())
            .collect();
        ids.sort_unstable();
        let boundary = principal
            .boundary
            .as_ref()
            .map(|b| b.source.as_str())
            .unwrap_or("");
        // Policy variables (`${aws:username}`) make the answer depend on the principal itself.
        let personal = if self.uses_variables(principal) {
            principal.arn.as_str()
        } else {
            ""
        };
        let cache_key = format!(
            "{}|{}|{boundary}|{personal}",
            principal.account_id,
            ids.join(",")
        );
        // Principals with the same policies (members of the same groups) share the answer; the checks and the
        // write-access report ask for the same principal twice.
        if let Ok(cache) = self.write_cache.lock() {
            if let Some(hit) = cache.get(&cache_key) {
                return hit.clone();
            }
        }
        let computed = self.compute_mutating_grants(principal);
        if let Ok(mut cache) = self.write_cache.lock() {
            cache.insert(cache_key, computed.clone());
        }
        computed
    }

    fn uses_variables(&self, principal: &Principal) -> bool {
        principal
            .stack
            .identity
            .iter()
            .chain(&principal.stack.boundaries)
            .any(|p| {
                p.statements.iter().any(|s| match &s.resource {
                    ResourceSpec::Resource(list) | ResourceSpec::NotResource(list) => {
                        list.iter().any(|r| r.contains("${"))
                    }
                    ResourceSpec::Any => false,
                })
            })
    }

    /// A resource pattern from a statement, as a concrete-enough resource to ask the evaluator about: variables
    /// the snapshot knows (user name, principal tags) are filled in, the others become `*`.
    fn candidate_resource(principal: &Principal, pattern: &str) -> String {
        if !pattern.contains("${") {
            return pattern.to_owned();
        }
        let mut out = String::new();
        let mut rest = pattern;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let Some(end) = rest[start..].find('}') else {
                out.push_str(&rest[start..]);
                return out;
            };
            let key = rest[start + 2..start + end]
                .split(',')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            let value = match key.as_str() {
                "aws:username" if principal.kind == PrincipalType::User => {
                    Some(principal.name.clone())
                }
                k => k.strip_prefix("aws:principaltag/").and_then(|tag| {
                    principal
                        .tags
                        .iter()
                        .find(|(t, _)| t.eq_ignore_ascii_case(tag))
                        .map(|(_, v)| v.clone())
                }),
            };
            out.push_str(value.as_deref().unwrap_or("*"));
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        out
    }

    fn compute_mutating_grants(&self, principal: &Principal) -> Vec<MutatingGrant> {
        let catalog = Catalog::global();
        // Candidate (action, resource pattern) pairs from every Allow statement.
        let mut candidates: BTreeMap<String, (AccessLevel, BTreeSet<String>)> = BTreeMap::new();
        for applied in &principal.identity {
            for statement in applied
                .policy
                .statements
                .iter()
                .filter(|s| s.effect == Effect::Allow)
            {
                let resources: Vec<String> = match &statement.resource {
                    ResourceSpec::Resource(list) => list
                        .iter()
                        .map(|r| Self::candidate_resource(principal, r))
                        .collect(),
                    ResourceSpec::NotResource(_) | ResourceSpec::Any => vec!["*".to_owned()],
                };
                let mut add = |service: &str, name: &str, level: AccessLevel| {
                    if !level.is_mutating() {
                        return;
                    }
                    let action = format!("{service}:{name}");
                    if action_matches_any(&self.allowlist, &action) {
                        return;
                    }
                    let entry = candidates
                        .entry(action)
                        .or_insert_with(|| (level, BTreeSet::new()));
                    entry.1.extend(resources.iter().cloned());
                };
                match &statement.action {
                    ActionSpec::Action(patterns) => {
                        for pattern in patterns {
                            let mut known = false;
                            for info in catalog.expand(pattern) {
                                known = true;
                                add(info.service, info.name, info.access_level);
                            }
                            if !known && !pattern.contains(['*', '?']) {
                                // Newer than the catalog: classified by its verb, never ignored.
                                if let Some((service, name)) = pattern.split_once(':') {
                                    add(
                                        service,
                                        name,
                                        crate::iam::catalog::classify_unknown(pattern),
                                    );
                                }
                            }
                        }
                    }
                    ActionSpec::NotAction(patterns) => {
                        let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
                        for info in catalog.expand_not_action(&refs) {
                            add(info.service, info.name, info.access_level);
                        }
                    }
                }
            }
        }
        let mut grants = Vec::new();
        for (action, (level, resources)) in candidates {
            let mut best: Option<(Answer, Evaluation)> = None;
            for resource in &resources {
                let evaluation = self.evaluate(principal, &action, resource);
                let answer = evaluation.answer();
                let better = match &best {
                    None => answer != Answer::No,
                    Some((current, _)) => answer == Answer::Yes && *current != Answer::Yes,
                };
                if better {
                    best = Some((answer, evaluation));
                }
                if matches!(best, Some((Answer::Yes, _))) {
                    break;
                }
            }
            if let Some((answer, evaluation)) = best {
                if let Some(grant) = self.grant(principal, &evaluation) {
                    grants.push(MutatingGrant {
                        action,
                        level,
                        answer,
                        statements: grant.statements.to_vec(),
                        unknowns: grant.unknowns.to_vec(),
                    });
                }
            }
        }
        grants
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{policy, trust_account, Org, ACCOUNT};

    fn assume(role: &str) -> serde_json::Value {
        policy(
            serde_json::json!([{"Effect": "Allow", "Action": "sts:AssumeRole",
            "Resource": format!("arn:aws:iam::{ACCOUNT}:role/{role}")}]),
        )
    }

    fn answer(org: &Org, who: &str, action: &str, resource: &str) -> Answer {
        let model = AccessModel::new(&org.snapshot, &org.rules);
        let principal = model
            .principal(&format!("arn:aws:iam::{ACCOUNT}:{who}"))
            .expect("principal");
        model.evaluate(principal, action, resource).answer()
    }

    #[test]
    fn who_can_with_its_prefilter_answers_exactly_as_evaluating_everyone() {
        let mut org = Org::two_person_pipeline();
        org.add_user(
            "wild",
            &[],
            Some(policy(
                serde_json::json!([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]),
            )),
        );
        org.add_user(
            "tagged",
            &[],
            Some(policy(
                serde_json::json!([{"Effect": "Allow", "Action": "codepipeline:PutApprovalResult",
                "Resource": "arn:aws:codepipeline:*:*:${aws:username}/*"}]),
            )),
        );
        org.add_user(
            "denied",
            &[],
            Some(policy(serde_json::json!([
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": "codepipeline:PutApprovalResult", "Resource": "*"}]))),
        );
        org.add_role(
            "Reader",
            trust_account(),
            policy(serde_json::json!([
            {"Effect": "Allow", "Action": "codepipeline:Get*", "Resource": "*"}])),
        );
        let model = AccessModel::new(&org.snapshot, &org.rules);
        let key = |grants: Vec<Grant<'_>>| {
            let mut keys: Vec<String> = grants
                .iter()
                .map(|g| {
                    format!(
                        "{} {:?} {:?} {:?}",
                        g.principal.arn, g.answer, g.statements, g.unknowns
                    )
                })
                .collect();
            keys.sort();
            keys
        };
        let requests = [
            (
                "codepipeline:PutApprovalResult",
                format!("arn:aws:codepipeline:us-east-1:{ACCOUNT}:webapp/ProdGate/ApprovalA"),
            ),
            (
                "codepipeline:PutApprovalResult",
                format!("arn:aws:codepipeline:us-east-1:{ACCOUNT}:tagged/Gate/A"),
            ),
            (
                "codepipeline:GetPipeline",
                format!("arn:aws:codepipeline:us-east-1:{ACCOUNT}:webapp"),
            ),
            ("s3:PutObject", "arn:aws:s3:::evidence/key".to_owned()),
            (
                "sts:AssumeRole",
                format!("arn:aws:iam::{ACCOUNT}:role/Reader"),
            ),
            ("sts:GetCallerIdentity", "*".to_owned()),
        ];
        for (action, resource) in &requests {
            let fast = key(model.who_can(ACCOUNT, action, resource));
            let reference = key(model.who_can_exhaustive(ACCOUNT, action, resource));
            assert_eq!(fast, reference, "{action} on {resource}");
        }
        let counts = model.who_can_counts();
        assert!(
            counts.avoided_no_allow > 0,
            "the prefilter skipped principals ({counts:?})"
        );
    }

    /// Principals with the same documents share one evaluation, each answer named by the member's own policies;
    /// anyone subject to a policy that reads who the principal is (a principal condition key, a policy variable)
    /// is evaluated alone. The answers, in order, are exactly those of evaluating everyone.
    #[test]
    fn who_can_shares_evaluations_only_where_the_answer_cannot_differ() {
        let mut org = Org::two_person_pipeline();
        let approve = |condition: serde_json::Value| {
            policy(
                serde_json::json!([{"Effect": "Allow", "Action": "codepipeline:PutApprovalResult",
                "Resource": "*", "Condition": condition}]),
            )
        };
        org.add_group(
            "mfa-approvers",
            approve(serde_json::json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}})),
        );
        for name in ["ann", "ben", "cat"] {
            // Same group, and an inline policy of the same content under each user's own name.
            org.add_user(
                name,
                &["mfa-approvers"],
                Some(policy(serde_json::json!([{"Sid": "Own", "Effect": "Allow",
                    "Action": "codepipeline:PutApprovalResult", "Resource": "arn:aws:codepipeline:*:*:webapp/*",
                    "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]))),
            );
        }
        let by_tag =
            approve(serde_json::json!({"StringEquals": {"aws:PrincipalTag/team": "release"}}));
        org.add_user("tag-yes", &[], Some(by_tag.clone()))
            .tags
            .push(("team".into(), "release".into()));
        org.add_user("tag-no", &[], Some(by_tag.clone()))
            .tags
            .push(("team".into(), "dev".into()));
        org.add_role("tag-role", trust_account(), by_tag);
        let by_name = policy(
            serde_json::json!([{"Effect": "Allow", "Action": "codepipeline:PutApprovalResult",
            "Resource": "*", "Condition": {"StringEquals": {"aws:username": "var-yes"}}}]),
        );
        org.add_user("var-yes", &[], Some(by_name.clone()));
        org.add_user("var-no", &[], Some(by_name));
        let model = AccessModel::new(&org.snapshot, &org.rules);
        let text = |grants: Vec<Grant<'_>>| -> Vec<String> {
            grants
                .iter()
                .map(|g| {
                    format!(
                        "{} {:?} {:?} {:?} {:?}",
                        g.principal.arn, g.answer, g.statements, g.via_groups, g.unknowns
                    )
                })
                .collect()
        };
        let gate = format!("arn:aws:codepipeline:us-east-1:{ACCOUNT}:webapp/ProdGate/ApprovalA");
        let fast = text(model.who_can(ACCOUNT, "codepipeline:PutApprovalResult", &gate));
        let reference =
            text(model.who_can_exhaustive(ACCOUNT, "codepipeline:PutApprovalResult", &gate));
        assert_eq!(fast, reference, "same grants, same order");
        for name in ["ann", "ben", "cat"] {
            assert!(
                fast.iter().any(|g| g.contains(&format!("user/{name} "))
                    && g.contains("Possibly")
                    && g.contains("mfa-approvers")),
                "{name} possibly approves through the group: {fast:#?}"
            );
            let own = fast
                .iter()
                .find(|g| g.contains(&format!("user/{name} ")))
                .expect("grant");
            let inline = format!("user/{name} inline \\\"{name}-inline\\\"#Statement[0]");
            assert_eq!(
                own.matches(&inline).count(),
                2,
                "{name}'s own inline policy is named in its statements and unknowns: {own}"
            );
            assert_eq!(
                own.matches(" inline ").count(),
                4,
                "and no other user's: {own}"
            );
        }
        // Who is granted where a policy reads the principal (a tag, the user name): decided per principal.
        for (who, granted) in [
            ("user/tag-yes ", true),
            ("user/tag-no ", false),
            ("role/tag-role ", true), // a role may get the tag at session time
            ("user/var-yes ", true),
            ("user/var-no ", false),
        ] {
            assert_eq!(
                fast.iter().any(|g| g.contains(who)),
                granted,
                "{who}: {fast:#?}"
            );
        }

        let sharing = model
            .sharing
            .get()
            .expect("who_can built the sharing groups");
        let group_of = |who: &str| {
            let arn = format!("arn:aws:iam::{ACCOUNT}:{who}");
            let i = model
                .principals
                .iter()
                .position(|p| p.arn == arn)
                .expect("principal");
            sharing.group_of[i]
        };
        assert_eq!(group_of("user/ann"), group_of("user/ben"));
        assert_eq!(group_of("user/ann"), group_of("user/cat"));
        assert_ne!(group_of("user/tag-yes"), group_of("user/tag-no"));
        assert_ne!(group_of("user/var-yes"), group_of("user/var-no"));
        assert!(
            model.who_can_counts().shared >= 2,
            "{:?}",
            model.who_can_counts()
        );

        // A second gate the statements match alike reuses the answers; a gate the users' own statements do not
        // match gets its own answer (only the group's statement), never the reused one.
        for resource in [
            format!("arn:aws:codepipeline:us-east-1:{ACCOUNT}:webapp/ProdGate/ApprovalB"),
            format!("arn:aws:codepipeline:us-east-1:{ACCOUNT}:other/Gate/A"),
        ] {
            let fast = text(model.who_can(ACCOUNT, "codepipeline:PutApprovalResult", &resource));
            let reference = text(model.who_can_exhaustive(
                ACCOUNT,
                "codepipeline:PutApprovalResult",
                &resource,
            ));
            assert_eq!(fast, reference, "{resource}");
            let ann = fast.iter().find(|g| g.contains("user/ann ")).expect("ann");
            assert_eq!(
                ann.contains("ann-inline"),
                resource.contains(":webapp/"),
                "{ann}"
            );
        }
        assert!(
            model.who_can_counts().reused >= 3,
            "{:?}",
            model.who_can_counts()
        );
    }

    #[test]
    fn assume_role_is_evaluated_against_the_role_trust_policy() {
        let mut org = Org::two_person_pipeline();
        org.add_role("ByAccount", trust_account(), policy(serde_json::json!([])));
        org.add_role(
            "ByBob",
            policy(
                serde_json::json!([{"Effect": "Allow", "Action": "sts:AssumeRole",
                "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/bob")}}]),
            ),
            policy(serde_json::json!([])),
        );
        org.add_user("alice", &[], Some(assume("*")));
        org.add_user("bob", &[], None);
        let role = |name: &str| format!("arn:aws:iam::{ACCOUNT}:role/{name}");
        // Trust naming the account: the identity policy decides.
        assert_eq!(
            answer(&org, "user/alice", "sts:AssumeRole", &role("ByAccount")),
            Answer::Yes
        );
        assert_eq!(
            answer(&org, "user/bob", "sts:AssumeRole", &role("ByAccount")),
            Answer::No
        );
        // Trust naming bob: he needs no identity policy; alice's identity allow is not enough.
        assert_eq!(
            answer(&org, "user/bob", "sts:AssumeRole", &role("ByBob")),
            Answer::Yes
        );
        assert_eq!(
            answer(&org, "user/alice", "sts:AssumeRole", &role("ByBob")),
            Answer::No
        );
        // A role the snapshot does not hold: its trust policy is unknown, so only "possibly".
        assert_eq!(
            answer(&org, "user/alice", "sts:AssumeRole", &role("NotCollected")),
            Answer::Possibly
        );
        assert_eq!(
            answer(&org, "user/bob", "sts:AssumeRole", &role("NotCollected")),
            Answer::No
        );
    }

    #[test]
    fn kms_key_grants_are_possible_without_the_key_policy() {
        let mut org = Org::two_person_pipeline();
        let key = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/1234");
        org.add_user(
            "alice",
            &[],
            Some(policy(
                serde_json::json!([{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key}]),
            )),
        );
        let model = AccessModel::new(&org.snapshot, &org.rules);
        let alice = model
            .principal(&format!("arn:aws:iam::{ACCOUNT}:user/alice"))
            .expect("alice");
        let evaluation = model.evaluate(alice, "kms:Decrypt", &key);
        assert_eq!(evaluation.answer(), Answer::Possibly);
        assert!(evaluation
            .unknowns
            .iter()
            .any(|u| u.key == UNKNOWN_GATEKEEPER_KEY
                && u.statement.policy_id.contains("not in the snapshot")));
        // The grant shows the missing key policy among its conditions.
        let grants = model.who_can(ACCOUNT, "kms:Decrypt", &key);
        assert_eq!(grants.len(), 1);
        assert!(grants[0]
            .unknowns
            .iter()
            .any(|u| u.contains("KMS key policy of")));
    }

    #[test]
    fn changing_aws_managed_policies_or_reserved_roles_is_not_write_access() {
        let mut org = Org::two_person_pipeline();
        org.add_user(
            "alice",
            &[],
            Some(policy(serde_json::json!([
                {"Effect": "Allow", "Action": ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"],
                 "Resource": "arn:aws:iam::aws:policy/*"},
                {"Effect": "Allow", "Action": "iam:PutRolePolicy",
                 "Resource": "arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*"},
                {"Effect": "Allow", "Action": "iam:TagRole",
                 "Resource": format!("arn:aws:iam::{ACCOUNT}:role/App")}
            ]))),
        );
        let model = AccessModel::new(&org.snapshot, &org.rules);
        let alice = model
            .principal(&format!("arn:aws:iam::{ACCOUNT}:user/alice"))
            .expect("alice");
        let actions: Vec<String> = model
            .mutating_grants(alice)
            .into_iter()
            .map(|g| g.action)
            .collect();
        assert_eq!(actions, vec!["iam:TagRole".to_owned()]);
    }
}
