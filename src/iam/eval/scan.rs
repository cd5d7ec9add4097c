//! Statement matching: whether one statement applies to the request (action, principal,
//! resource, conditions, in three-valued logic), and the per-layer summary ([`Scan`]) the
//! decision combines. Records every applying or possibly-applying statement as evidence.
//!
//! Must not: combine layers into a decision (that is `super::evaluate`), perform I/O,
//! reference AWS SDK types, or depend on the catalog module.

use super::super::condition::{evaluate_conditions, UnknownKey};
use super::super::context::{Knowledge, Tri};
use super::super::matching::{action_matches, resource_matches};
use super::super::policy::{ActionSpec, Effect, Policy, PrincipalSpec, ResourceSpec, Statement};
use super::keys::EvalContext;
use super::principal::{
    not_principal_match, principal_strength, NotPrincipalMatch, PrincipalKind, Strength,
};
use super::types::{Evaluation, Layer, Note, OrgLevel, Request, StatementRef, UnknownCondition};

/// Which NotPrincipal note a statement earns if the rest of it matches.
#[derive(Debug, Clone, Copy)]
enum NotPrincipalNote {
    Excepted,
    AccountNotListed,
    BoundaryQuirk,
}

/// How the principal element of a layer is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PrincipalMode {
    /// Identity, boundary, session, SCP: no principal element applies.
    Ignore,
    /// Resource policy: the element must name the principal (absent = matches nobody).
    Resource,
    /// RCP: `Principal` is always `"*"`; absent is treated as `"*"`.
    Rcp,
}

/// Outcome of scanning one layer (or one org level).
#[derive(Debug, Clone, Copy)]
pub(super) struct Scan {
    pub(super) allow: Tri,
    pub(super) deny: Tri,
    /// Resource layer only: allows by principal strength.
    pub(super) allow_direct: Tri,
    pub(super) allow_role: Tri,
    pub(super) allow_account: Tri,
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

pub(super) struct Evaluator<'a> {
    pub(super) req: &'a Request,
    pub(super) ctx: EvalContext<'a>,
    pub(super) has_boundary: bool,
    pub(super) out: Evaluation,
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
        if mode == PrincipalMode::Rcp && s.effect == Effect::Allow {
            // RCPs are deny-only: an RCP Allow neither grants nor is needed.
            return (Tri::False, Strength::Direct);
        }
        let action = &self.req.action;
        let action_hit = match &s.action {
            ActionSpec::Action(list) => list.iter().any(|p| action_matches(p, action)),
            ActionSpec::NotAction(list) => !list.iter().any(|p| action_matches(p, action)),
        };
        if !action_hit {
            return (Tri::False, Strength::Direct);
        }
        // A NotPrincipal exception, and what to say about it if the rest of the statement
        // matches (so that statements for other actions or resources stay silent).
        let mut excepted = false;
        let mut service_dependent = false;
        let mut not_principal_note = None;
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
                // Documented quirk ("AWS JSON policy elements: NotPrincipal"): a Deny with
                // NotPrincipal always denies an IAM principal that has a permissions boundary,
                // whatever NotPrincipal lists.
                let quirk = s.effect == Effect::Deny
                    && self.has_boundary
                    && self.req.principal.kind != PrincipalKind::Service;
                match not_principal_match(spec, &self.req.principal, s.effect) {
                    NotPrincipalMatch::Applies => {}
                    NotPrincipalMatch::AccountNotListed => {
                        // AWS: "Some services require the account ARN, although this is not required in all
                        // cases", and IAM does not say which. The simulator (exact knowledge) follows the common
                        // case, naming the role or session excepts the caller; an audit cannot know the service's
                        // rule, so the deny is only possible there: never a silent "no".
                        not_principal_note = Some(NotPrincipalNote::AccountNotListed);
                        if self.req.context.knowledge() == Knowledge::Audit {
                            service_dependent = true;
                        } else {
                            excepted = true;
                        }
                    }
                    NotPrincipalMatch::Excepted if quirk => {
                        not_principal_note = Some(NotPrincipalNote::BoundaryQuirk);
                    }
                    NotPrincipalMatch::Excepted => {
                        excepted = true;
                        if s.effect == Effect::Deny {
                            not_principal_note = Some(NotPrincipalNote::Excepted);
                        }
                    }
                }
                Strength::Direct
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
        let mut result = res_hit.and(cond);
        if service_dependent {
            result = result.and(Tri::Unknown);
        }
        let sref = Self::statement_ref(layer, policy, s);
        if let Some(kind) = not_principal_note {
            if result.possible() {
                self.out.notes.push(match kind {
                    NotPrincipalNote::Excepted => Note::NotPrincipalExcepts(sref.clone()),
                    NotPrincipalNote::AccountNotListed => {
                        Note::NotPrincipalNeedsAccount(sref.clone())
                    }
                    NotPrincipalNote::BoundaryQuirk => {
                        Note::NotPrincipalBoundaryQuirk(sref.clone())
                    }
                });
            }
        }
        if excepted {
            return (Tri::False, strength);
        }
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

    pub(super) fn scan<'p, I>(&mut self, layer: Layer, policies: I, mode: PrincipalMode) -> Scan
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
    pub(super) fn org(
        &mut self,
        layer: Layer,
        levels: &[OrgLevel],
        mode: PrincipalMode,
    ) -> (Tri, Tri) {
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
