//! Three-valued IAM authorization decision, following AWS's documented evaluation logic.
//!
//! Order of evaluation:
//! 1. any applicable explicit `Deny` in any layer (SCP, RCP, resource policy, identity policy,
//!    permissions boundary, session policy) -> `ExplicitlyDenied` (except for
//!    `sts:GetCallerIdentity`, below);
//! 2. organisation layers: every SCP level (root -> OU … -> account) must allow the action
//!    (SCPs skip the management account, service-linked roles and service principals). RCPs only
//!    ever deny: AWS keeps `RCPFullAWSAccess` attached at every level ("RCP evaluation", AWS
//!    Organizations User Guide), so an RCP `Allow` is never needed and never recorded; RCPs skip
//!    resources in the management account and service-linked roles;
//! 3. resource-based and identity-based policies: within one account either may grant (the
//!    identity grant being limited by the permissions boundary and session policy, and a resource
//!    policy naming the role ARN also being limited by them, while one naming the IAM user ARN or
//!    the role *session* ARN directly is not); across accounts both sides must grant.
//!
//! Requests AWS treats specially ([`aws_rules`]): `sts:GetCallerIdentity` is always allowed,
//! even against an explicit deny; a role's trust policy (for `sts:AssumeRole` and its kin on a
//! role) and a KMS key policy (for `kms:` actions on a key) must admit the caller even within
//! one account: naming the caller grants on its own, naming its account delegates to the
//! identity policies, and without such a policy the request is implicitly denied; a change to an
//! AWS-managed policy, or to a role under `/aws-reserved/` or `/aws-service-role/`, is denied
//! whatever the policies say (deciding layer [`Layer::Unmodifiable`]).
//!
//! A `Deny` with `NotPrincipal` does not apply to a caller it lists together with the caller's
//! account (a session is listed by its session ARN or its role's ARN); listing the caller without
//! its account does not except it, and a caller with a permissions boundary is always denied
//! ("AWS JSON policy elements: NotPrincipal", IAM User Guide).
//!
//! Every step is computed in Kleene logic: in audit mode a condition reading an unknown key is
//! `Unknown`, and an `Unknown` never becomes a "no". The result records every statement that
//! applied (all identity statements that grant, not just the first) and every unknown condition.
//!
//! Must not: perform I/O, reference AWS SDK types, or depend on the catalog module.
//!
//! Layout: [`types`] (request, policy set, evaluation), [`principal`] (who asks and how policy
//! principal elements name it), [`aws_rules`] (requests AWS treats specially), `keys`
//! (condition keys derived from the request), `scan` (statement matching per layer), and this
//! file: the decision that combines the layers.

pub mod aws_rules;
mod keys;
pub mod principal;
mod scan;
pub mod types;

#[cfg(test)]
mod tests;

pub use aws_rules::{Gatekeeper, Unmodifiable};
pub use principal::{PrincipalError, PrincipalInfo, PrincipalKind};
pub use types::{
    Answer, Certainty, Decision, Evaluation, Layer, Note, OrgLevel, PolicySet, Request,
    StatementRef, UnknownCondition,
};

use super::context::Tri;
use keys::EvalContext;
use scan::{Evaluator, PrincipalMode, Scan};

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
            notes: Vec::new(),
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
    // RCPs: deny-only (their Allow statements are not even scanned).
    let rcp_applies = !set.resource_in_management_account && !slr;
    let rcp_deny = if rcp_applies {
        ev.org(Layer::Rcp, set.rcp_levels, PrincipalMode::Rcp).0
    } else {
        Tri::False
    };
    if rcp_applies && !set.rcp_levels.is_empty() && !rcp_deny.is_true() {
        ev.out.notes.push(Note::RcpDenyOnly);
    }

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

    // A trust or key policy must admit the caller (see `aws_rules::Gatekeeper`).
    let gate = aws_rules::gatekeeper(&req.action, &req.resource);
    if let Some(g) = gate {
        if set.resource_policy.is_none() {
            ev.out.notes.push(Note::GatekeeperMissing(g));
        } else if res.allow.is_false() {
            ev.out.notes.push(Note::GatekeeperDoesNotAdmit(g));
        }
    }

    // Resource-side grant and whether it alone suffices.
    let (grant, resource_grant) = if is_service {
        (res.allow, res.allow)
    } else if cross_account {
        let rg = res.allow;
        (identity_side.and(rg), rg)
    } else if let Some(g) = gate {
        // Same account, trust or key policy: naming the caller grants on its own (a role ARN
        // still limited by boundary and session policy); naming the account delegates to the
        // identity side; identity policies alone grant nothing.
        let rg = res.allow_direct.or(res.allow_role.and(limits));
        let delegated = res.allow_account.and(identity_side);
        if rg.possible() {
            ev.out.notes.push(Note::GatekeeperNamesCaller(g));
        }
        if res.allow_account.possible() {
            ev.out.notes.push(Note::GatekeeperDelegatesToAccount(g));
        }
        (rg.or(delegated), rg)
    } else {
        // Same account: the resource policy grants on its own when it names the user or the
        // session (or everyone); naming the role ARN is still limited by boundary and session
        // policy; naming the account only delegates to identity policies.
        let rg = res.allow_direct.or(res.allow_role.and(limits));
        (identity_side.or(rg), rg)
    };
    let allowed = scp_allow.and(grant);

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
        if layers.is_empty() {
            if is_service || (gate.is_some() && res.allow.is_false()) {
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
            // With a trust or key policy the identity side counts only through the account.
            let identity_grants = match gate {
                Some(_) => identity_side.and(res.allow_account),
                None => identity_side,
            };
            if identity_grants.possible() && !is_root {
                layers.push(Layer::Identity);
            }
            if resource_grant.possible() || (gate.is_some() && identity_grants.possible()) {
                layers.push(Layer::ResourcePolicy);
            }
        }
        out.deciding_layers = layers;
    }
    let caller_is_service = is_service || slr;
    if let Some(what) = aws_rules::unmodifiable(&req.action, &req.resource, caller_is_service) {
        // Refused by AWS, not by a policy: no allow can override it. Matched statements stay in
        // the evidence.
        out.decision = Decision::ExplicitlyDenied;
        out.certainty = Certainty::Certain;
        out.deciding_layers = vec![Layer::Unmodifiable];
        out.notes.push(Note::UnmodifiableEntity(what));
    } else if aws_rules::is_caller_identity(&req.action) {
        // Needs no permission and cannot be denied; the statements that matched stay in the
        // evidence, but none of them decides.
        out.decision = Decision::Allowed;
        out.certainty = Certainty::Certain;
        out.deciding_layers = Vec::new();
        out.notes.push(Note::CallerIdentityAlwaysAllowed);
    }
    out.deciding_layer = out.deciding_layers.first().copied();
    out
}
