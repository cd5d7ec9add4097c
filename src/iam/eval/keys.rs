//! Condition keys the evaluator derives from the request itself (`aws:PrincipalArn`,
//! `aws:PrincipalAccount`, `aws:PrincipalTag/…`, `aws:username`, `aws:ResourceAccount` …),
//! layered over what the caller supplied in the [`Context`](super::super::context::Context).
//! Caller-supplied values win.
//!
//! Must not: evaluate conditions or policies, perform I/O, reference AWS SDK types, or depend
//! on the catalog module.

use super::super::context::{KeyLookup, Knowledge, Lookup};
use super::principal::{arn_name, PrincipalKind};
use super::types::Request;

/// Context view adding the keys derivable from the request itself (principal ARN, account,
/// tags, username …) to what the caller supplied. Caller-supplied values win.
pub(super) struct EvalContext<'a> {
    pub(super) req: &'a Request,
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
    pub(super) fn resource_account(&self) -> &str {
        self.req
            .resource_account
            .as_deref()
            .unwrap_or(&self.req.principal.account)
    }
}
