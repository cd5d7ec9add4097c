//! The evaluator's vocabulary: the request ([`Request`]), the policies that take part
//! ([`PolicySet`], [`OrgLevel`]), and the answer with its evidence ([`Evaluation`], [`Layer`],
//! [`StatementRef`], [`UnknownCondition`], [`Note`]).
//!
//! Plain data and small accessors only. Must not: decide anything (that is `super::evaluate`),
//! perform I/O, reference AWS SDK types, or depend on the catalog module.

use super::super::context::Context;
use super::super::policy::{Effect, Policy};
use super::aws_rules::{Gatekeeper, Unmodifiable};
use super::principal::PrincipalInfo;
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
    /// Not a policy: AWS refuses to modify the entity (an AWS-managed policy, a reserved or
    /// service-linked role) whatever the policies say (AWS's `UnmodifiableEntity`).
    Unmodifiable,
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
            Layer::Unmodifiable => "UnmodifiableEntity",
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

impl fmt::Display for StatementRef {
    /// `Layer policy-id#Statement[i] (Sid)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}#Statement[{}]",
            self.layer, self.policy_id, self.index
        )?;
        if let Some(sid) = &self.sid {
            write!(f, " ({sid})")?;
        }
        Ok(())
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

/// Result of [`evaluate`](super::evaluate).
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
    /// Rules outside the policy statements that decided or shaped the answer (RCPs being
    /// deny-only, trust and key policies that must admit the caller, …), in the order met.
    pub notes: Vec<Note>,
}

/// A rule of AWS's evaluation logic, beyond matching statements, that decided or shaped an
/// answer: recorded so that a reader of the evidence can see why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// RCP levels only ever deny: `RCPFullAWSAccess` is attached at every level and cannot be
    /// detached, so a level without an applying `Allow` does not deny.
    RcpDenyOnly,
    /// `sts:GetCallerIdentity` needs no permission and no deny stops it.
    CallerIdentityAlwaysAllowed,
    /// The request would modify an entity nobody can modify: denied whatever the policies say.
    UnmodifiableEntity(Unmodifiable),
    /// The request needs this resource policy (a role's trust policy, a key policy) to admit
    /// the caller, and none was supplied: denied.
    GatekeeperMissing(Gatekeeper),
    /// The trust or key policy names the caller: it grants on its own within the account.
    GatekeeperNamesCaller(Gatekeeper),
    /// The trust or key policy names the caller's account: the caller's identity policies must
    /// allow too.
    GatekeeperDelegatesToAccount(Gatekeeper),
    /// The trust or key policy names neither the caller nor its account: no identity policy can
    /// grant the request.
    GatekeeperDoesNotAdmit(Gatekeeper),
    /// A `Deny` with `NotPrincipal` lists the caller (user, session or its role) and its account:
    /// the statement does not apply to it.
    NotPrincipalExcepts(StatementRef),
    /// A `Deny` with `NotPrincipal` lists the caller but not its account: AWS requires the
    /// account too, so the statement applies.
    NotPrincipalNeedsAccount(StatementRef),
    /// A `Deny` with `NotPrincipal` lists the caller, but the caller has a permissions boundary:
    /// such a statement always denies it (documented behaviour).
    NotPrincipalBoundaryQuirk(StatementRef),
}

impl Note {
    /// Stable identifier used in simulator output.
    pub fn code(&self) -> &'static str {
        match self {
            Note::RcpDenyOnly => "RcpDenyOnly",
            Note::CallerIdentityAlwaysAllowed => "CallerIdentityAlwaysAllowed",
            Note::UnmodifiableEntity(_) => "UnmodifiableEntity",
            Note::GatekeeperMissing(Gatekeeper::RoleTrust) => "TrustPolicyMissing",
            Note::GatekeeperMissing(Gatekeeper::KeyPolicy) => "KeyPolicyMissing",
            Note::GatekeeperNamesCaller(Gatekeeper::RoleTrust) => "TrustPolicyNamesCaller",
            Note::GatekeeperNamesCaller(Gatekeeper::KeyPolicy) => "KeyPolicyNamesCaller",
            Note::GatekeeperDelegatesToAccount(Gatekeeper::RoleTrust) => {
                "TrustPolicyDelegatesToAccount"
            }
            Note::GatekeeperDelegatesToAccount(Gatekeeper::KeyPolicy) => {
                "KeyPolicyDelegatesToAccount"
            }
            Note::GatekeeperDoesNotAdmit(Gatekeeper::RoleTrust) => "TrustPolicyDoesNotAdmit",
            Note::GatekeeperDoesNotAdmit(Gatekeeper::KeyPolicy) => "KeyPolicyDoesNotAdmit",
            Note::NotPrincipalExcepts(_) => "NotPrincipalExcepts",
            Note::NotPrincipalNeedsAccount(_) => "NotPrincipalNeedsAccount",
            Note::NotPrincipalBoundaryQuirk(_) => "NotPrincipalBoundaryQuirk",
        }
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::RcpDenyOnly => f.write_str(
                "RCPs only deny: RCPFullAWSAccess is attached at every level, so no RCP level \
                 needs an Allow",
            ),
            Note::CallerIdentityAlwaysAllowed => f.write_str(
                "sts:GetCallerIdentity needs no permission and is allowed even against an \
                 explicit deny",
            ),
            Note::UnmodifiableEntity(u) => write!(
                f,
                "the resource is {}, which AWS does not let anyone modify: denied whatever the \
                 policies say",
                u.as_str()
            ),
            Note::GatekeeperMissing(g) => write!(
                f,
                "the request needs the {} to admit the caller, and none was supplied",
                g.as_str()
            ),
            Note::GatekeeperNamesCaller(g) => write!(
                f,
                "the {} names the caller: it grants on its own within the account",
                g.as_str()
            ),
            Note::GatekeeperDelegatesToAccount(g) => write!(
                f,
                "the {} names the caller's account: the identity policies must allow too",
                g.as_str()
            ),
            Note::GatekeeperDoesNotAdmit(g) => write!(
                f,
                "the {} names neither the caller nor its account: identity policies alone \
                 cannot grant this",
                g.as_str()
            ),
            Note::NotPrincipalExcepts(s) => write!(
                f,
                "{s}: Deny with NotPrincipal lists the caller and its account, so it does not \
                 apply"
            ),
            Note::NotPrincipalNeedsAccount(s) => write!(
                f,
                "{s}: Deny with NotPrincipal lists the caller (its role or session) but not its \
                 account; most services then except the caller, some require the account ARN too \
                 (AWS does not say which): excepted in the simulator, only possibly denied in an \
                 audit"
            ),
            Note::NotPrincipalBoundaryQuirk(s) => write!(
                f,
                "{s}: Deny with NotPrincipal always denies a principal with a permissions \
                 boundary, whatever it lists"
            ),
        }
    }
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
