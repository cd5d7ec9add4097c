//! Three-valued IAM authorization decision, following AWS's documented evaluation logic.
//!
//! Order of evaluation:
//! 1. any applicable explicit `Deny` in any layer (SCP, RCP, resource policy, identity policy,
//!    permissions boundary, session policy) -> `ExplicitlyDenied`;
//! 2. organisation layers: every SCP level (root -> OU … -> account) must allow the action, and
//!    every RCP level must allow it (SCPs skip the management account, service-linked roles and
//!    service principals; RCPs skip resources in the management account, service-linked roles);
//! 3. resource-based and identity-based policies: within one account either may grant (the
//!    identity grant being limited by the permissions boundary and session policy, and a resource
//!    policy naming the role ARN also being limited by them, while one naming the IAM user ARN or
//!    the role *session* ARN directly is not); across accounts both sides must grant.
//!
//! Every step is computed in Kleene logic: in audit mode a condition reading an unknown key is
//! `Unknown`, and an `Unknown` never becomes a "no". The result records every statement that
//! applied (all identity statements that grant, not just the first) and every unknown condition.
//!
//! Must not: perform I/O, reference AWS SDK types, or depend on the catalog module.

use super::condition::{evaluate_conditions, UnknownKey};
use super::context::{Context, KeyLookup, Knowledge, Lookup, Tri};
use super::matching::{action_matches, resource_matches};
use super::policy::{
    ActionSpec, Effect, Policy, PrincipalSpec, Principals, ResourceSpec, Statement,
};
use std::collections::BTreeMap;
use std::fmt;

/// The policy layer a statement belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// AWS Organizations service control policy.
    Scp,
    /// AWS Organizations resource control policy.
    Rcp,
    /// Resource-based policy (bucket policy, key policy …).
    ResourcePolicy,
    /// Identity-based policy of the principal.
    Identity,
    /// Permissions boundary of the principal.
    PermissionsBoundary,
    /// Session policy passed at AssumeRole / GetFederationToken.
    SessionPolicy,
}

impl Layer {
    /// Stable name used in simulator output.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Scp => "SCP",
            Layer::Rcp => "RCP",
            Layer::ResourcePolicy => "ResourcePolicy",
            Layer::Identity => "IdentityPolicy",
            Layer::PermissionsBoundary => "PermissionsBoundary",
            Layer::SessionPolicy => "SessionPolicy",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Points at one statement, for evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRef {
    /// Layer of the policy.
    pub layer: Layer,
    /// [`Policy::id`].
    pub policy_id: String,
    /// Index of the statement in the document.
    pub index: usize,
    /// `Sid`, if any.
    pub sid: Option<String>,
    /// The statement's effect.
    pub effect: Effect,
}

/// What kind of principal makes the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// An IAM user.
    User,
    /// An IAM role, evaluated for any of its sessions.
    Role,
    /// One assumed-role session.
    AssumedRoleSession {
        /// ARN of the role (`arn:aws:iam::<acct>:role/<path/><name>`).
        role_arn: String,
        /// Session name.
        session_name: String,
    },
    /// The account root user.
    Root,
    /// An AWS service principal (`arn` holds e.g. `codepipeline.amazonaws.com`).
    Service,
    /// A federated user session or identity-provider principal.
    Federated,
}

/// The principal making the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalInfo {
    /// ARN (user, role, session, root), or service name for service principals.
    pub arn: String,
    /// Account id of the principal (empty for service principals).
    pub account: String,
    /// Kind of principal.
    pub kind: PrincipalKind,
    /// `aws:username` (users only).
    pub username: Option<String>,
    /// `aws:userid`, if known.
    pub userid: Option<String>,
    /// Principal tags (`aws:PrincipalTag/<key>`), treated as authoritative.
    pub tags: BTreeMap<String, String>,
}

/// An unparseable principal ARN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unrecognised principal {0:?} (expected an IAM user, role, assumed-role session or root ARN, an account id or a service principal)")]
pub struct PrincipalError(pub String);

fn arn_name(resource: &str) -> &str {
    resource.rsplit('/').next().unwrap_or(resource)
}

impl PrincipalInfo {
    /// Builds principal information from an ARN, a 12-digit account id (root) or a service
    /// principal name such as `codepipeline.amazonaws.com`.
    pub fn from_arn(arn: &str) -> Result<PrincipalInfo, PrincipalError> {
        let bad = || PrincipalError(arn.to_string());
        let mk = |arn: String, account: &str, kind, username| PrincipalInfo {
            arn,
            account: account.to_string(),
            kind,
            username,
            userid: None,
            tags: BTreeMap::new(),
        };
        if arn.len() == 12 && arn.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(mk(
                format!("arn:aws:iam::{arn}:root"),
                arn,
                PrincipalKind::Root,
                None,
            ));
        }
        if !arn.starts_with("arn:") {
            if arn.ends_with(".amazonaws.com") || arn.ends_with(".amazonaws.com.cn") {
                return Ok(mk(arn.to_string(), "", PrincipalKind::Service, None));
            }
            return Err(bad());
        }
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() != 6 {
            return Err(bad());
        }
        let (partition, service, account, res) = (parts[1], parts[2], parts[4], parts[5]);
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        match service {
            "iam" if res == "root" => Ok(mk(arn.to_string(), account, PrincipalKind::Root, None)),
            "iam" if res.starts_with("user/") => Ok(mk(
                arn.to_string(),
                account,
                PrincipalKind::User,
                Some(arn_name(res).to_string()),
            )),
            "iam" if res.starts_with("role/") => {
                Ok(mk(arn.to_string(), account, PrincipalKind::Role, None))
            }
            "sts" if res.starts_with("assumed-role/") => {
                let mut it = res["assumed-role/".len()..].splitn(2, '/');
                let role = it.next().filter(|s| !s.is_empty()).ok_or_else(bad)?;
                let session = it.next().filter(|s| !s.is_empty()).ok_or_else(bad)?;
                Ok(mk(
                    arn.to_string(),
                    account,
                    PrincipalKind::AssumedRoleSession {
                        role_arn: format!("arn:{partition}:iam::{account}:role/{role}"),
                        session_name: session.to_string(),
                    },
                    None,
                ))
            }
            "sts" if res.starts_with("federated-user/") => {
                Ok(mk(arn.to_string(), account, PrincipalKind::Federated, None))
            }
            _ => Err(bad()),
        }
    }

    /// Adds a principal tag (builder).
    pub fn with_tag(mut self, key: &str, value: &str) -> PrincipalInfo {
        self.tags.insert(key.to_string(), value.to_string());
        self
    }

    /// Whether this is a service-linked role (or one of its sessions): SCPs and RCPs skip it.
    pub fn is_service_linked_role(&self) -> bool {
        let role_arn = match &self.kind {
            PrincipalKind::Role => self.arn.as_str(),
            PrincipalKind::AssumedRoleSession { role_arn, .. } => role_arn.as_str(),
            _ => return false,
        };
        role_arn.contains(":role/aws-service-role/")
            || (matches!(self.kind, PrincipalKind::AssumedRoleSession { .. })
                && arn_name(role_arn).starts_with("AWSServiceRoleFor"))
    }

    fn principal_arn_value(&self) -> Option<String> {
        match &self.kind {
            PrincipalKind::AssumedRoleSession { role_arn, .. } => Some(role_arn.clone()),
            PrincipalKind::Service => None,
            _ => Some(self.arn.clone()),
        }
    }

    fn principal_type(&self) -> &'static str {
        match self.kind {
            PrincipalKind::User => "User",
            PrincipalKind::Role | PrincipalKind::AssumedRoleSession { .. } => "AssumedRole",
            PrincipalKind::Root => "Account",
            PrincipalKind::Service => "Service",
            PrincipalKind::Federated => "FederatedUser",
        }
    }
}

/// One request to authorize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `service:Action`.
    pub action: String,
    /// Resource ARN (or `*`).
    pub resource: String,
    /// Account owning the resource; `None` = same account as the principal.
    pub resource_account: Option<String>,
    /// Who asks.
    pub principal: PrincipalInfo,
    /// Request context keys and knowledge mode.
    pub context: Context,
}

/// One level of the organisation hierarchy (root, an OU, or the account) with its policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgLevel {
    /// Root / OU / account id.
    pub id: String,
    /// Policies attached at this level.
    pub policies: Vec<Policy>,
}

/// All policies that take part in one decision.
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicySet<'a> {
    /// Identity-based policies of the principal (for a session: of its role).
    pub identity: &'a [Policy],
    /// Permissions boundary (an entity has at most one; several are treated as one document).
    pub boundaries: &'a [Policy],
    /// Session policy, if the session was created with one.
    pub session: Option<&'a Policy>,
    /// SCP levels of the principal's account, root first. Empty = no SCPs apply.
    pub scp_levels: &'a [OrgLevel],
    /// RCP levels of the resource's account, root first. Empty = no RCPs apply.
    pub rcp_levels: &'a [OrgLevel],
    /// Resource-based policy of the target resource.
    pub resource_policy: Option<&'a Policy>,
    /// The principal's account is the organisation management account (SCPs do not apply).
    pub is_management_account: bool,
    /// The resource's account is the organisation management account (RCPs do not apply).
    pub resource_in_management_account: bool,
}

/// Final decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Allowed (possibly only if unknown conditions resolve favourably; see [`Certainty`]).
    Allowed,
    /// An applicable `Deny` statement.
    ExplicitlyDenied,
    /// No applicable `Allow` where one was needed.
    ImplicitlyDenied,
}

impl Decision {
    /// Name used in simulator output.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "Allowed",
            Decision::ExplicitlyDenied => "ExplicitlyDenied",
            Decision::ImplicitlyDenied => "ImplicitlyDenied",
        }
    }
}

/// Whether unknown conditions could change the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Certainty {
    /// The decision holds whatever the unknown keys are.
    Certain,
    /// Allowed only for some values of the unknown keys (only ever paired with `Allowed`).
    Possible,
}

/// Audit answer to "may this principal do this?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Certainly allowed.
    Yes,
    /// Allowed for some request-time values (MFA, source IP …).
    Possibly,
    /// Certainly not allowed.
    No,
}

/// A condition that could not be decided in audit mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCondition {
    /// The statement holding it.
    pub statement: StatementRef,
    /// Operator as written (or `Resource` for a policy variable in the resource element).
    pub operator: String,
    /// The unknown key.
    pub key: String,
}

/// Result of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// The decision (for `Possible`, the decision if unknowns resolve in favour of access).
    pub decision: Decision,
    /// Certain or Possible.
    pub certainty: Certainty,
    /// The layer that decided (first of `deciding_layers`); `None` when no policy was needed
    /// (e.g. the account root user acting in its own account).
    pub deciding_layer: Option<Layer>,
    /// All layers that decided: denying layers, granting layers, or layers lacking an allow.
    pub deciding_layers: Vec<Layer>,
    /// Every `Allow` statement that applies (all layers, every matching identity statement).
    pub allowing: Vec<StatementRef>,
    /// Every `Deny` statement that applies.
    pub denying: Vec<StatementRef>,
    /// `Allow` statements that apply only if unknown conditions hold.
    pub possibly_allowing: Vec<StatementRef>,
    /// `Deny` statements that apply only if unknown conditions hold.
    pub possibly_denying: Vec<StatementRef>,
    /// Conditions that read unknown keys, in statements whose applicability is unknown.
    pub unknowns: Vec<UnknownCondition>,
}

impl Evaluation {
    /// Three-valued answer; never turns an unknown into `No`.
    pub fn answer(&self) -> Answer {
        match (self.decision, self.certainty) {
            (Decision::Allowed, Certainty::Certain) => Answer::Yes,
            (Decision::Allowed, Certainty::Possible) => Answer::Possibly,
            (_, Certainty::Possible) => Answer::Possibly,
            _ => Answer::No,
        }
    }

    /// Whether the request is certainly allowed.
    pub fn is_allowed(&self) -> bool {
        self.answer() == Answer::Yes
    }

    /// `allowing` statements of one layer.
    pub fn allowing_in(&self, layer: Layer) -> impl Iterator<Item = &StatementRef> {
        self.allowing.iter().filter(move |s| s.layer == layer)
    }
}

/// Context view adding the keys derivable from the request itself (principal ARN, account,
/// tags, username …) to what the caller supplied. Caller-supplied values win.
struct EvalContext<'a> {
    req: &'a Request,
}

impl KeyLookup for EvalContext<'_> {
    fn lookup(&self, key: &str) -> Lookup {
        let ctx = &self.req.context;
        if let Some(l) = ctx.explicit(key) {
            return l;
        }
        let p = &self.req.principal;
        let k = key.to_ascii_lowercase();
        let one = |v: &str| Lookup::Present(vec![v.to_string()]);
        let is_iam = p.kind != PrincipalKind::Service;
        match k.as_str() {
            "aws:principalarn" => match p.principal_arn_value() {
                Some(v) => one(&v),
                None => Lookup::Absent,
            },
            "aws:principalaccount" if is_iam => one(&p.account),
            "aws:principalaccount" => Lookup::Absent,
            "aws:principaltype" => one(p.principal_type()),
            "aws:principalisawsservice" => one(if is_iam { "false" } else { "true" }),
            "aws:principalservicename" if !is_iam => one(&p.arn),
            "aws:principalservicename" => Lookup::Absent,
            "aws:username" => match (&p.kind, &p.username) {
                (PrincipalKind::User, Some(u)) => one(u),
                (PrincipalKind::User, None) => one(arn_name(&p.arn)),
                _ => Lookup::Absent,
            },
            "aws:userid" => match &p.userid {
                Some(u) => one(u),
                None => ctx.default_lookup(),
            },
            "aws:resourceaccount" => one(self.resource_account()),
            _ => {
                if let Some(tag) = k.strip_prefix("aws:principaltag/") {
                    let found = p
                        .tags
                        .iter()
                        .find(|(tk, _)| tk.eq_ignore_ascii_case(tag))
                        .map(|(_, v)| v.clone());
                    return match found {
                        Some(v) => Lookup::Present(vec![v]),
                        // Session tags may add principal tags at request time for roles.
                        None if ctx.knowledge() == Knowledge::Audit
                            && matches!(
                                p.kind,
                                PrincipalKind::Role
                                    | PrincipalKind::AssumedRoleSession { .. }
                                    | PrincipalKind::Federated
                            ) =>
                        {
                            Lookup::Unknown
                        }
                        None => Lookup::Absent,
                    };
                }
                ctx.default_lookup()
            }
        }
    }
}

impl EvalContext<'_> {
    fn resource_account(&self) -> &str {
        self.req
            .resource_account
            .as_deref()
            .unwrap_or(&self.req.principal.account)
    }
}

/// How a resource-policy principal element matched the request principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Strength {
    /// Via the account (`arn:aws:iam::<acct>:root`): delegates to the account's IAM policies.
    Account,
    /// Via the role ARN: limited by the permissions boundary and session policy.
    Role,
    /// The principal itself (user ARN, session ARN, `*`, service).
    Direct,
}

/// A normalised principal identifier.
#[derive(Debug, PartialEq, Eq)]
enum PrincipalId {
    Account(String),
    User(String, String),
    Role(String, String),
    Session(String, String, String),
    Other(String),
}

fn normalise(arn: &str) -> PrincipalId {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() == 6 && parts[0] == "arn" {
        let (svc, acct, res) = (parts[2], parts[4].to_string(), parts[5]);
        match svc {
            "iam" if res == "root" => return PrincipalId::Account(acct),
            "iam" if res.starts_with("user/") => {
                return PrincipalId::User(acct, arn_name(res).to_ascii_lowercase())
            }
            "iam" if res.starts_with("role/") => {
                return PrincipalId::Role(acct, arn_name(res).to_ascii_lowercase())
            }
            "sts" if res.starts_with("assumed-role/") => {
                let mut it = res["assumed-role/".len()..].splitn(2, '/');
                if let (Some(r), Some(s)) = (it.next(), it.next()) {
                    return PrincipalId::Session(acct, r.to_ascii_lowercase(), s.to_string());
                }
            }
            _ => {}
        }
    }
    PrincipalId::Other(arn.to_string())
}

/// The identities a principal presents: its own, its role (sessions), its account.
fn identities(p: &PrincipalInfo) -> Vec<(PrincipalId, Strength)> {
    let mut out = Vec::new();
    match &p.kind {
        PrincipalKind::Service => return out,
        PrincipalKind::Root => {
            out.push((PrincipalId::Account(p.account.clone()), Strength::Direct));
            return out;
        }
        PrincipalKind::Role => {
            let id = normalise(&p.arn);
            out.push((id, Strength::Role));
        }
        PrincipalKind::AssumedRoleSession { role_arn, .. } => {
            out.push((normalise(&p.arn), Strength::Direct));
            out.push((normalise(role_arn), Strength::Role));
        }
        PrincipalKind::User | PrincipalKind::Federated => {
            out.push((normalise(&p.arn), Strength::Direct));
        }
    }
    out.push((PrincipalId::Account(p.account.clone()), Strength::Account));
    out
}

/// The strongest way `spec` names the principal, if it does.
fn principal_strength(spec: &Principals, p: &PrincipalInfo) -> Option<Strength> {
    if spec.any {
        return Some(Strength::Direct);
    }
    let mut best = None;
    if p.kind == PrincipalKind::Service {
        if spec.service.iter().any(|s| s.eq_ignore_ascii_case(&p.arn)) {
            best = Some(Strength::Direct);
        }
        return best;
    }
    let listed: Vec<PrincipalId> = spec.aws.iter().map(|a| normalise(a)).collect();
    for (id, strength) in identities(p) {
        if listed.contains(&id) {
            best = best.max(Some(strength));
        }
    }
    if spec
        .federated
        .iter()
        .chain(spec.canonical_user.iter())
        .any(|f| *f == p.arn)
    {
        best = Some(Strength::Direct);
    }
    best
}

/// Whether a `NotPrincipal` element lets the statement apply to `p`.
fn not_principal_applies(spec: &Principals, p: &PrincipalInfo, effect: Effect) -> bool {
    if spec.any {
        return false;
    }
    if p.kind == PrincipalKind::Service {
        return !spec.service.iter().any(|s| s.eq_ignore_ascii_case(&p.arn));
    }
    let listed: Vec<PrincipalId> = spec.aws.iter().map(|a| normalise(a)).collect();
    let ids = identities(p);
    let is_listed = |id: &PrincipalId| listed.contains(id);
    match effect {
        // AWS evaluates the Deny against every identity of the caller (session, role, account):
        // it is excluded only if all of them are listed.
        Effect::Deny => !ids.iter().all(|(id, _)| is_listed(id)),
        // Allow: applies unless the caller itself (its first identity) is listed.
        Effect::Allow => ids.first().is_none_or(|(id, _)| !is_listed(id)),
    }
}

/// How the principal element of a layer is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PrincipalMode {
    /// Identity, boundary, session, SCP: no principal element applies.
    Ignore,
    /// Resource policy: the element must name the principal (absent = matches nobody).
    Resource,
    /// RCP: `Principal` is always `"*"`; absent is treated as `"*"`.
    Rcp,
}

/// Outcome of scanning one layer (or one org level).
#[derive(Debug, Clone, Copy)]
struct Scan {
    allow: Tri,
    deny: Tri,
    /// Resource layer only: allows by principal strength.
    allow_direct: Tri,
    allow_role: Tri,
    allow_account: Tri,
}

impl Default for Scan {
    fn default() -> Scan {
        Scan {
            allow: Tri::False,
            deny: Tri::False,
            allow_direct: Tri::False,
            allow_role: Tri::False,
            allow_account: Tri::False,
        }
    }
}

struct Evaluator<'a> {
    req: &'a Request,
    ctx: EvalContext<'a>,
    has_boundary: bool,
    out: Evaluation,
}

impl Evaluator<'_> {
    fn statement_ref(layer: Layer, policy: &Policy, s: &Statement) -> StatementRef {
        StatementRef {
            layer,
            policy_id: policy.id.clone(),
            index: s.index,
            sid: s.sid.clone(),
            effect: s.effect,
        }
    }

    /// Evaluates one statement: (applies?, principal strength).
    fn statement(
        &mut self,
        layer: Layer,
        policy: &Policy,
        s: &Statement,
        mode: PrincipalMode,
    ) -> (Tri, Strength) {
        let action = &self.req.action;
        let action_hit = match &s.action {
            ActionSpec::Action(list) => list.iter().any(|p| action_matches(p, action)),
            ActionSpec::NotAction(list) => !list.iter().any(|p| action_matches(p, action)),
        };
        if !action_hit {
            return (Tri::False, Strength::Direct);
        }
        let strength = match (mode, &s.principal) {
            (PrincipalMode::Ignore, _) => Strength::Direct,
            (PrincipalMode::Rcp, None) => Strength::Direct,
            (_, Some(PrincipalSpec::Principal(spec))) => {
                match principal_strength(spec, &self.req.principal) {
                    Some(st) => st,
                    None => return (Tri::False, Strength::Direct),
                }
            }
            (_, Some(PrincipalSpec::NotPrincipal(spec))) => {
                // Documented quirk: a Deny with NotPrincipal always denies a principal that has
                // a permissions boundary, whatever NotPrincipal lists.
                let quirk = s.effect == Effect::Deny && self.has_boundary;
                if quirk || not_principal_applies(spec, &self.req.principal, s.effect) {
                    Strength::Direct
                } else {
                    return (Tri::False, Strength::Direct);
                }
            }
            (PrincipalMode::Resource, None) => return (Tri::False, Strength::Direct),
        };
        let subst = policy.version.substitutes_variables();
        let mut unknown_keys = Vec::new();
        let resource = &self.req.resource;
        let res_hit = match &s.resource {
            ResourceSpec::Any => Tri::True,
            ResourceSpec::Resource(list) => Tri::any(
                list.iter()
                    .map(|p| resource_matches(p, resource, &self.ctx, subst, &mut unknown_keys)),
            ),
            ResourceSpec::NotResource(list) => Tri::any(
                list.iter()
                    .map(|p| resource_matches(p, resource, &self.ctx, subst, &mut unknown_keys)),
            )
            .not(),
        };
        if res_hit.is_false() {
            return (Tri::False, strength);
        }
        let mut unknown_conds: Vec<UnknownKey> = unknown_keys
            .into_iter()
            .map(|key| UnknownKey {
                operator: match s.resource {
                    ResourceSpec::NotResource(_) => "NotResource".to_string(),
                    _ => "Resource".to_string(),
                },
                key,
            })
            .collect();
        let cond = evaluate_conditions(&s.conditions, &self.ctx, subst, &mut unknown_conds);
        let result = res_hit.and(cond);
        let sref = Self::statement_ref(layer, policy, s);
        match (result, s.effect) {
            (Tri::True, Effect::Allow) => self.out.allowing.push(sref),
            (Tri::True, Effect::Deny) => self.out.denying.push(sref),
            (Tri::Unknown, eff) => {
                for u in unknown_conds {
                    self.out.unknowns.push(UnknownCondition {
                        statement: sref.clone(),
                        operator: u.operator,
                        key: u.key,
                    });
                }
                match eff {
                    Effect::Allow => self.out.possibly_allowing.push(sref),
                    Effect::Deny => self.out.possibly_denying.push(sref),
                }
            }
            (Tri::False, _) => {}
        }
        (result, strength)
    }

    fn scan<'p, I>(&mut self, layer: Layer, policies: I, mode: PrincipalMode) -> Scan
    where
        I: IntoIterator<Item = &'p Policy>,
    {
        let mut sc = Scan::default();
        for policy in policies {
            for s in &policy.statements {
                let (t, strength) = self.statement(layer, policy, s, mode);
                match s.effect {
                    Effect::Deny => sc.deny = sc.deny.or(t),
                    Effect::Allow => {
                        sc.allow = sc.allow.or(t);
                        let slot = match strength {
                            Strength::Direct => &mut sc.allow_direct,
                            Strength::Role => &mut sc.allow_role,
                            Strength::Account => &mut sc.allow_account,
                        };
                        *slot = slot.or(t);
                    }
                }
            }
        }
        sc
    }

    /// Org layer: deny anywhere, and every level must allow.
    fn org(&mut self, layer: Layer, levels: &[OrgLevel], mode: PrincipalMode) -> (Tri, Tri) {
        let mut deny = Tri::False;
        let mut allow = Tri::True;
        for level in levels {
            let sc = self.scan(layer, level.policies.iter(), mode);
            deny = deny.or(sc.deny);
            allow = allow.and(sc.allow);
        }
        (deny, allow)
    }
}

/// Evaluates one request against a set of policies.
pub fn evaluate(req: &Request, set: &PolicySet<'_>) -> Evaluation {
    let p = &req.principal;
    let mut ev = Evaluator {
        req,
        ctx: EvalContext { req },
        has_boundary: !set.boundaries.is_empty(),
        out: Evaluation {
            decision: Decision::ImplicitlyDenied,
            certainty: Certainty::Certain,
            deciding_layer: None,
            deciding_layers: Vec::new(),
            allowing: Vec::new(),
            denying: Vec::new(),
            possibly_allowing: Vec::new(),
            possibly_denying: Vec::new(),
            unknowns: Vec::new(),
        },
    };
    let is_service = p.kind == PrincipalKind::Service;
    let slr = p.is_service_linked_role();

    // Organisation layers.
    let scp_applies = !set.is_management_account && !slr && !is_service;
    let (scp_deny, scp_allow) = if scp_applies {
        ev.org(Layer::Scp, set.scp_levels, PrincipalMode::Ignore)
    } else {
        (Tri::False, Tri::True)
    };
    let rcp_applies = !set.resource_in_management_account && !slr;
    let (rcp_deny, rcp_allow) = if rcp_applies {
        ev.org(Layer::Rcp, set.rcp_levels, PrincipalMode::Rcp)
    } else {
        (Tri::False, Tri::True)
    };

    // Resource policy.
    let res = match set.resource_policy {
        Some(pol) => ev.scan(Layer::ResourcePolicy, [pol], PrincipalMode::Resource),
        None => Scan::default(),
    };

    // Identity side (not for service principals).
    let (ident, bound, sess) = if is_service {
        (Scan::default(), Scan::default(), Scan::default())
    } else {
        let ident = ev.scan(Layer::Identity, set.identity.iter(), PrincipalMode::Ignore);
        let bound = ev.scan(
            Layer::PermissionsBoundary,
            set.boundaries.iter(),
            PrincipalMode::Ignore,
        );
        let sess = ev.scan(Layer::SessionPolicy, set.session, PrincipalMode::Ignore);
        (ident, bound, sess)
    };

    let deny_by_layer = [
        (Layer::Scp, scp_deny),
        (Layer::Rcp, rcp_deny),
        (Layer::ResourcePolicy, res.deny),
        (Layer::Identity, ident.deny),
        (Layer::PermissionsBoundary, bound.deny),
        (Layer::SessionPolicy, sess.deny),
    ];
    let deny = Tri::any(deny_by_layer.iter().map(|(_, t)| *t));

    let resource_account = ev.ctx.resource_account().to_string();
    let cross_account = !is_service && resource_account != p.account;
    let is_root = p.kind == PrincipalKind::Root;

    let boundary_ok = if set.boundaries.is_empty() || is_root {
        Tri::True
    } else {
        bound.allow
    };
    let session_ok = if set.session.is_none() {
        Tri::True
    } else {
        sess.allow
    };
    let identity_allow = if is_root { Tri::True } else { ident.allow };
    let identity_side = identity_allow.and(boundary_ok).and(session_ok);
    let limits = boundary_ok.and(session_ok);

    // Resource-side grant and whether it alone suffices.
    let (grant, resource_grant) = if is_service {
        (res.allow, res.allow)
    } else if cross_account {
        let rg = res.allow;
        (identity_side.and(rg), rg)
    } else {
        // Same account: the resource policy grants on its own when it names the user or the
        // session (or everyone); naming the role ARN is still limited by boundary and session
        // policy; naming the account only delegates to identity policies.
        let rg = res.allow_direct.or(res.allow_role.and(limits));
        (identity_side.or(rg), rg)
    };
    let allowed = scp_allow.and(rcp_allow).and(grant);

    let mut out = ev.out;
    if deny.is_true() {
        out.decision = Decision::ExplicitlyDenied;
        out.certainty = Certainty::Certain;
        out.deciding_layers = deny_by_layer
            .iter()
            .filter(|(_, t)| t.is_true())
            .map(|(l, _)| *l)
            .collect();
    } else if allowed.is_false() {
        out.decision = Decision::ImplicitlyDenied;
        out.certainty = Certainty::Certain;
        let mut layers = Vec::new();
        if scp_allow.is_false() {
            layers.push(Layer::Scp);
        }
        if rcp_allow.is_false() {
            layers.push(Layer::Rcp);
        }
        if layers.is_empty() {
            if is_service {
                layers.push(Layer::ResourcePolicy);
            } else {
                if identity_allow.is_false() {
                    layers.push(Layer::Identity);
                } else {
                    if boundary_ok.is_false() {
                        layers.push(Layer::PermissionsBoundary);
                    }
                    if session_ok.is_false() {
                        layers.push(Layer::SessionPolicy);
                    }
                }
                if cross_account && resource_grant.is_false() {
                    layers.push(Layer::ResourcePolicy);
                }
            }
        }
        out.deciding_layers = layers;
    } else {
        out.decision = Decision::Allowed;
        out.certainty = if deny.is_false() && allowed.is_true() {
            Certainty::Certain
        } else {
            Certainty::Possible
        };
        let mut layers = Vec::new();
        if is_service {
            layers.push(Layer::ResourcePolicy);
        } else if cross_account {
            if !is_root {
                layers.push(Layer::Identity);
            }
            layers.push(Layer::ResourcePolicy);
        } else {
            if identity_side.possible() && !is_root {
                layers.push(Layer::Identity);
            }
            if resource_grant.possible() {
                layers.push(Layer::ResourcePolicy);
            }
        }
        out.deciding_layers = layers;
    }
    out.deciding_layer = out.deciding_layers.first().copied();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    const ACCT: &str = "111111111111";
    const OTHER: &str = "222222222222";
    const GATE_A: &str = "arn:aws:codepipeline:us-east-1:111111111111:webapp/ProdGate/ApprovalA";
    const GATE_B: &str = "arn:aws:codepipeline:us-east-1:111111111111:webapp/ProdGate/ApprovalB";
    const APPROVE: &str = "codepipeline:PutApprovalResult";

    fn pol(id: &str, doc: Value) -> Policy {
        Policy::parse(id, &doc).unwrap()
    }

    fn allow(action: &str, resource: &str) -> Value {
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "A", "Effect": "Allow", "Action": action, "Resource": resource}]})
    }

    fn user() -> PrincipalInfo {
        PrincipalInfo::from_arn("arn:aws:iam::111111111111:user/alice").unwrap()
    }

    fn req(principal: PrincipalInfo, action: &str, resource: &str) -> Request {
        Request {
            action: action.into(),
            resource: resource.into(),
            resource_account: None,
            principal,
            context: Context::exact(),
        }
    }

    fn identity_only(policies: &[Policy]) -> PolicySet<'_> {
        PolicySet {
            identity: policies,
            ..PolicySet::default()
        }
    }

    #[test]
    fn identity_allow_and_implicit_deny() {
        let ids = [pol("p", allow(APPROVE, GATE_A))];
        let e = evaluate(&req(user(), APPROVE, GATE_A), &identity_only(&ids));
        assert_eq!(e.decision, Decision::Allowed);
        assert_eq!(e.answer(), Answer::Yes);
        assert_eq!(e.deciding_layer, Some(Layer::Identity));
        assert_eq!(e.allowing.len(), 1);
        assert_eq!(e.allowing[0].sid.as_deref(), Some("A"));
        let e = evaluate(&req(user(), APPROVE, GATE_B), &identity_only(&ids));
        assert_eq!(e.decision, Decision::ImplicitlyDenied);
        assert_eq!(e.deciding_layer, Some(Layer::Identity));
        assert_eq!(e.answer(), Answer::No);
    }

    #[test]
    fn wildcard_arn_segments_for_approval_gates() {
        let ids = [pol(
            "p",
            allow(
                APPROVE,
                "arn:aws:codepipeline:us-east-1:111111111111:*/*/ApprovalA",
            ),
        )];
        assert!(evaluate(&req(user(), APPROVE, GATE_A), &identity_only(&ids)).is_allowed());
        assert!(!evaluate(&req(user(), APPROVE, GATE_B), &identity_only(&ids)).is_allowed());
        let ids = [pol(
            "p",
            allow(APPROVE, "arn:aws:codepipeline:*:webapp/ProdGate/ApprovalA"),
        )];
        assert!(!evaluate(&req(user(), APPROVE, GATE_A), &identity_only(&ids)).is_allowed());
    }

    #[test]
    fn all_identity_grants_listed() {
        let ids = [
            pol("p1", allow("codepipeline:*", "*")),
            pol(
                "p2",
                json!({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                    {"Sid": "Gate", "Effect": "Allow", "Action": APPROVE, "Resource": GATE_A}]}),
            ),
        ];
        let e = evaluate(&req(user(), APPROVE, GATE_A), &identity_only(&ids));
        let got: Vec<(String, usize)> = e
            .allowing_in(Layer::Identity)
            .map(|s| (s.policy_id.clone(), s.index))
            .collect();
        assert_eq!(got, vec![("p1".to_string(), 0), ("p2".to_string(), 1)]);
    }

    #[test]
    fn not_action_with_allow_grants_everything_else() {
        let ids = [pol(
            "p",
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}),
        )];
        assert!(evaluate(&req(user(), APPROVE, GATE_A), &identity_only(&ids)).is_allowed());
        let e = evaluate(&req(user(), "iam:CreateUser", "*"), &identity_only(&ids));
        assert_eq!(e.decision, Decision::ImplicitlyDenied);
    }

    #[test]
    fn not_resource() {
        let ids = [pol(
            "p",
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": APPROVE, "NotResource": GATE_B}]}),
        )];
        assert!(evaluate(&req(user(), APPROVE, GATE_A), &identity_only(&ids)).is_allowed());
        assert!(!evaluate(&req(user(), APPROVE, GATE_B), &identity_only(&ids)).is_allowed());
    }

    #[test]
    fn explicit_deny_wins_and_is_reported() {
        let ids = [
            pol("p1", allow("*", "*")),
            pol(
                "p2",
                json!({"Version": "2012-10-17", "Statement": [
                    {"Sid": "NoGateB", "Effect": "Deny", "Action": "codepipeline:Put*", "Resource": GATE_B}]}),
            ),
        ];
        let e = evaluate(&req(user(), APPROVE, GATE_B), &identity_only(&ids));
        assert_eq!(e.decision, Decision::ExplicitlyDenied);
        assert_eq!(e.deciding_layer, Some(Layer::Identity));
        assert_eq!(e.denying[0].sid.as_deref(), Some("NoGateB"));
        assert!(evaluate(&req(user(), APPROVE, GATE_A), &identity_only(&ids)).is_allowed());
    }

    fn bucket_policy(statement: Value) -> Policy {
        pol(
            "bucket",
            json!({"Version": "2012-10-17", "Statement": [statement]}),
        )
    }

    #[test]
    fn deny_with_not_principal() {
        let ids = [pol("p", allow("s3:*", "*"))];
        let rp = bucket_policy(json!({"Effect": "Deny",
            "NotPrincipal": {"AWS": ["arn:aws:iam::111111111111:user/alice", "111111111111"]},
            "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}));
        let set = PolicySet {
            identity: &ids,
            resource_policy: Some(&rp),
            ..PolicySet::default()
        };
        // alice (and her account) are listed: the deny does not apply to her.
        assert!(evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &set).is_allowed());
        // bob is not listed: denied.
        let bob = PrincipalInfo::from_arn("arn:aws:iam::111111111111:user/bob").unwrap();
        let e = evaluate(&req(bob, "s3:GetObject", "arn:aws:s3:::b/k"), &set);
        assert_eq!(e.decision, Decision::ExplicitlyDenied);
        assert_eq!(e.deciding_layer, Some(Layer::ResourcePolicy));
        // A session is excluded only if session, role and account are all listed.
        let sess =
            PrincipalInfo::from_arn("arn:aws:sts::111111111111:assumed-role/Ops/s1").unwrap();
        let rp2 = bucket_policy(json!({"Effect": "Deny",
            "NotPrincipal": {"AWS": ["arn:aws:iam::111111111111:role/Ops", "111111111111"]},
            "Action": "s3:*", "Resource": "*"}));
        let set2 = PolicySet {
            identity: &ids,
            resource_policy: Some(&rp2),
            ..PolicySet::default()
        };
        let e = evaluate(
            &req(sess.clone(), "s3:GetObject", "arn:aws:s3:::b/k"),
            &set2,
        );
        assert_eq!(e.decision, Decision::ExplicitlyDenied);
        let rp3 = bucket_policy(json!({"Effect": "Deny",
            "NotPrincipal": {"AWS": ["arn:aws:iam::111111111111:role/Ops",
                                     "arn:aws:sts::111111111111:assumed-role/Ops/s1", "111111111111"]},
            "Action": "s3:*", "Resource": "*"}));
        let set3 = PolicySet {
            identity: &ids,
            resource_policy: Some(&rp3),
            ..PolicySet::default()
        };
        assert!(evaluate(&req(sess, "s3:GetObject", "arn:aws:s3:::b/k"), &set3).is_allowed());
        // Documented quirk: with a permissions boundary, Deny+NotPrincipal always denies.
        let b = [pol("boundary", allow("*", "*"))];
        let set4 = PolicySet {
            identity: &ids,
            boundaries: &b,
            resource_policy: Some(&rp),
            ..PolicySet::default()
        };
        let e = evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &set4);
        assert_eq!(e.decision, Decision::ExplicitlyDenied);
    }

    #[test]
    fn boundary_intersection() {
        let ids = [pol("p", allow("*", "*"))];
        let b = [pol("boundary", allow("s3:*", "*"))];
        let set = PolicySet {
            identity: &ids,
            boundaries: &b,
            ..PolicySet::default()
        };
        assert!(evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &set).is_allowed());
        let e = evaluate(&req(user(), APPROVE, GATE_A), &set);
        assert_eq!(e.decision, Decision::ImplicitlyDenied);
        assert_eq!(e.deciding_layer, Some(Layer::PermissionsBoundary));
        // The boundary alone grants nothing.
        let none: [Policy; 0] = [];
        let set = PolicySet {
            identity: &none,
            boundaries: &b,
            ..PolicySet::default()
        };
        let e = evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &set);
        assert_eq!(e.decision, Decision::ImplicitlyDenied);
        assert_eq!(e.deciding_layer, Some(Layer::Identity));
    }

    fn session() -> PrincipalInfo {
        PrincipalInfo::from_arn("arn:aws:sts::111111111111:assumed-role/Deployer/run-42").unwrap()
    }

    #[test]
    fn session_policy_intersection() {
        let ids = [pol("role-policy", allow("codepipeline:*", "*"))];
        let sp = pol("session", allow("codepipeline:Get*", "*"));
        let set = PolicySet {
            identity: &ids,
            session: Some(&sp),
            ..PolicySet::default()
        };
        assert!(evaluate(&req(session(), "codepipeline:GetPipeline", "*"), &set).is_allowed());
        let e = evaluate(&req(session(), APPROVE, GATE_A), &set);
        assert_eq!(e.decision, Decision::ImplicitlyDenied);
        assert_eq!(e.deciding_layer, Some(Layer::SessionPolicy));
        // The session policy cannot grant more than the role's policies.
        let sp_wide = pol("session", allow("*", "*"));
        let set = PolicySet {
            identity: &ids,
            session: Some(&sp_wide),
            ..PolicySet::default()
        };
        assert!(!evaluate(&req(session(), "s3:GetObject", "*"), &set).is_allowed());
    }

    fn level(id: &str, docs: Vec<Value>) -> OrgLevel {
        OrgLevel {
            id: id.into(),
            policies: docs
                .into_iter()
                .enumerate()
                .map(|(i, d)| pol(&format!("{id}-{i}"), d))
                .collect(),
        }
    }

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
        // A level without an allowing RCP implicitly denies.
        let levels = [
            level("r-root", vec![rcp_full]),
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
        assert_eq!(e.decision, Decision::ImplicitlyDenied);
        assert_eq!(e.deciding_layer, Some(Layer::Rcp));
        let mgmt = PolicySet {
            resource_in_management_account: true,
            ..set
        };
        assert!(evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &mgmt).is_allowed());
    }

    #[test]
    fn cross_account_needs_both_sides() {
        let ext = PrincipalInfo::from_arn("arn:aws:iam::222222222222:user/eve").unwrap();
        let ids = [pol("p", allow("s3:GetObject", "*"))];
        let rp = bucket_policy(json!({"Effect": "Allow", "Principal": {"AWS": OTHER},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}));
        let mut r = req(ext, "s3:GetObject", "arn:aws:s3:::b/k");
        r.resource_account = Some(ACCT.into());
        // Identity only.
        let e = evaluate(&r, &identity_only(&ids));
        assert_eq!(e.decision, Decision::ImplicitlyDenied);
        assert_eq!(e.deciding_layer, Some(Layer::ResourcePolicy));
        // Resource only.
        let none: [Policy; 0] = [];
        let set = PolicySet {
            identity: &none,
            resource_policy: Some(&rp),
            ..PolicySet::default()
        };
        let e = evaluate(&r, &set);
        assert_eq!(e.decision, Decision::ImplicitlyDenied);
        assert_eq!(e.deciding_layer, Some(Layer::Identity));
        // Both.
        let set = PolicySet {
            identity: &ids,
            resource_policy: Some(&rp),
            ..PolicySet::default()
        };
        let e = evaluate(&r, &set);
        assert!(e.is_allowed());
        assert_eq!(
            e.deciding_layers,
            vec![Layer::Identity, Layer::ResourcePolicy]
        );
        // The boundary still limits the identity side across accounts.
        let b = [pol("boundary", allow("ec2:*", "*"))];
        let set = PolicySet {
            identity: &ids,
            boundaries: &b,
            resource_policy: Some(&rp),
            ..PolicySet::default()
        };
        let e = evaluate(&r, &set);
        assert_eq!(e.decision, Decision::ImplicitlyDenied);
        assert_eq!(e.deciding_layer, Some(Layer::PermissionsBoundary));
    }

    #[test]
    fn same_account_resource_policy_alone_grants() {
        let none: [Policy; 0] = [];
        let rp = bucket_policy(json!({"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:user/alice"},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}));
        let set = PolicySet {
            identity: &none,
            resource_policy: Some(&rp),
            ..PolicySet::default()
        };
        let e = evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &set);
        assert!(e.is_allowed());
        assert_eq!(e.deciding_layer, Some(Layer::ResourcePolicy));
        // Naming only the account delegates to identity policies: no grant on its own.
        let rp = bucket_policy(json!({"Effect": "Allow", "Principal": {"AWS": ACCT},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}));
        let set = PolicySet {
            identity: &none,
            resource_policy: Some(&rp),
            ..PolicySet::default()
        };
        let e = evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &set);
        assert_eq!(e.decision, Decision::ImplicitlyDenied);
    }

    #[test]
    fn resource_policy_naming_user_grants_beyond_boundary() {
        let ids = [pol("p", allow("*", "*"))];
        let b = [pol("boundary", allow("ec2:*", "*"))];
        let rp = bucket_policy(json!({"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:user/alice"},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}));
        let set = PolicySet {
            identity: &ids,
            boundaries: &b,
            resource_policy: Some(&rp),
            ..PolicySet::default()
        };
        let e = evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &set);
        assert!(e.is_allowed());
        assert_eq!(e.deciding_layers, vec![Layer::ResourcePolicy]);
        // Without the resource policy the boundary blocks it.
        let set2 = PolicySet {
            resource_policy: None,
            ..set
        };
        assert!(!evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &set2).is_allowed());
    }

    #[test]
    fn resource_policy_naming_role_vs_session() {
        let none: [Policy; 0] = [];
        let b = [pol("boundary", allow("ec2:*", "*"))];
        let sp = pol("session", allow("ec2:*", "*"));
        let by_role = bucket_policy(json!({"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:role/Deployer"},
            "Action": "s3:GetObject", "Resource": "*"}));
        let by_session = bucket_policy(json!({"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:sts::111111111111:assumed-role/Deployer/run-42"},
            "Action": "s3:GetObject", "Resource": "*"}));
        let r = req(session(), "s3:GetObject", "arn:aws:s3:::b/k");
        // Role ARN without boundary: grants on its own (same account).
        let set = PolicySet {
            identity: &none,
            resource_policy: Some(&by_role),
            ..PolicySet::default()
        };
        assert!(evaluate(&r, &set).is_allowed());
        // Role ARN with boundary: limited by the boundary.
        let set = PolicySet {
            identity: &none,
            boundaries: &b,
            resource_policy: Some(&by_role),
            ..PolicySet::default()
        };
        let e = evaluate(&r, &set);
        assert_eq!(e.decision, Decision::ImplicitlyDenied);
        // Role ARN with session policy: limited by the session policy.
        let set = PolicySet {
            identity: &none,
            session: Some(&sp),
            resource_policy: Some(&by_role),
            ..PolicySet::default()
        };
        assert!(!evaluate(&r, &set).is_allowed());
        // Session ARN: granted directly, beyond boundary and session policy.
        let set = PolicySet {
            identity: &none,
            boundaries: &b,
            session: Some(&sp),
            resource_policy: Some(&by_session),
            ..PolicySet::default()
        };
        assert!(evaluate(&r, &set).is_allowed());
        // A role path in the policy's role ARN still names the same role.
        let by_path_role = bucket_policy(json!({"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:role/ci/Deployer"},
            "Action": "s3:GetObject", "Resource": "*"}));
        let set = PolicySet {
            identity: &none,
            resource_policy: Some(&by_path_role),
            ..PolicySet::default()
        };
        assert!(evaluate(&r, &set).is_allowed());
    }

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
    fn root_and_service_principals() {
        let root = PrincipalInfo::from_arn(ACCT).unwrap();
        assert_eq!(root.kind, PrincipalKind::Root);
        let none: [Policy; 0] = [];
        // The root user needs no identity policy in its own account…
        let e = evaluate(&req(root.clone(), APPROVE, GATE_A), &identity_only(&none));
        assert!(e.is_allowed());
        // …but SCPs still apply to it.
        let levels = [level("r-root", vec![allow("s3:*", "*")])];
        let set = PolicySet {
            identity: &none,
            scp_levels: &levels,
            ..PolicySet::default()
        };
        assert!(!evaluate(&req(root, APPROVE, GATE_A), &set).is_allowed());
        // A service principal needs the resource policy; SCPs don't apply to it.
        let svc = PrincipalInfo::from_arn("codepipeline.amazonaws.com").unwrap();
        let rp = bucket_policy(json!({"Effect": "Allow",
            "Principal": {"Service": "codepipeline.amazonaws.com"},
            "Action": "s3:PutObject", "Resource": "arn:aws:s3:::artifacts/*"}));
        let set = PolicySet {
            identity: &none,
            resource_policy: Some(&rp),
            scp_levels: &levels,
            ..PolicySet::default()
        };
        let e = evaluate(
            &req(svc.clone(), "s3:PutObject", "arn:aws:s3:::artifacts/x"),
            &set,
        );
        assert!(e.is_allowed());
        let e = evaluate(
            &req(svc, "s3:PutObject", "arn:aws:s3:::artifacts/x"),
            &identity_only(&none),
        );
        assert_eq!(e.decision, Decision::ImplicitlyDenied);
        assert_eq!(e.deciding_layer, Some(Layer::ResourcePolicy));
    }

    #[test]
    fn principal_parsing() {
        let s = session();
        assert_eq!(
            s.kind,
            PrincipalKind::AssumedRoleSession {
                role_arn: "arn:aws:iam::111111111111:role/Deployer".into(),
                session_name: "run-42".into()
            }
        );
        assert_eq!(s.account, ACCT);
        assert_eq!(user().username.as_deref(), Some("alice"));
        assert_eq!(
            PrincipalInfo::from_arn("arn:aws:iam::111111111111:root")
                .unwrap()
                .kind,
            PrincipalKind::Root
        );
        assert!(PrincipalInfo::from_arn("arn:aws:s3:::bucket").is_err());
        assert!(PrincipalInfo::from_arn("alice").is_err());
        assert!(
            PrincipalInfo::from_arn("arn:aws:sts::111111111111:assumed-role/OnlyRole").is_err()
        );
    }

    #[test]
    fn resource_policy_without_principal_matches_nobody() {
        let none: [Policy; 0] = [];
        let rp = bucket_policy(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}));
        let set = PolicySet {
            identity: &none,
            resource_policy: Some(&rp),
            ..PolicySet::default()
        };
        assert!(!evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/k"), &set).is_allowed());
    }

    #[test]
    fn resource_policy_star_principal_and_allow_not_principal() {
        let none: [Policy; 0] = [];
        let public = bucket_policy(json!({"Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pub/*"}));
        let set = PolicySet {
            identity: &none,
            resource_policy: Some(&public),
            ..PolicySet::default()
        };
        assert!(evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::pub/x"), &set).is_allowed());
        // Allow + NotPrincipal: everyone except the listed principal.
        let np = bucket_policy(json!({"Effect": "Allow",
            "NotPrincipal": {"AWS": "arn:aws:iam::111111111111:user/alice"},
            "Action": "s3:GetObject", "Resource": "*"}));
        let set = PolicySet {
            identity: &none,
            resource_policy: Some(&np),
            ..PolicySet::default()
        };
        assert!(!evaluate(&req(user(), "s3:GetObject", "arn:aws:s3:::b/x"), &set).is_allowed());
        let bob = PrincipalInfo::from_arn("arn:aws:iam::111111111111:user/bob").unwrap();
        assert!(evaluate(&req(bob, "s3:GetObject", "arn:aws:s3:::b/x"), &set).is_allowed());
    }

    #[test]
    fn deny_in_boundary_or_session_policy_is_explicit() {
        let ids = [pol("p", allow("*", "*"))];
        let b = [pol(
            "boundary",
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Sid": "NoApprove", "Effect": "Deny", "Action": APPROVE, "Resource": "*"}]}),
        )];
        let set = PolicySet {
            identity: &ids,
            boundaries: &b,
            ..PolicySet::default()
        };
        let e = evaluate(&req(user(), APPROVE, GATE_A), &set);
        assert_eq!(e.decision, Decision::ExplicitlyDenied);
        assert_eq!(e.deciding_layer, Some(Layer::PermissionsBoundary));
        let sp = b[0].clone();
        let set = PolicySet {
            identity: &ids,
            session: Some(&sp),
            ..PolicySet::default()
        };
        let e = evaluate(&req(session(), APPROVE, GATE_A), &set);
        assert_eq!(e.deciding_layer, Some(Layer::SessionPolicy));
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
}
