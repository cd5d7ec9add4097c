//! Role trust policies: whether a trust policy admits a principal to `sts:AssumeRole`, with the statements that
//! do. Shared by the access model's reach (who can act as whom) and the checks that judge trust.
//!
//! Pure: reads parsed policies only.

use crate::iam::matching::action_matches;
use crate::iam::policy::{ActionSpec, Effect, PrincipalSpec, Principals, Statement};
use crate::iam::Policy;

/// `source#Statement[i] (Sid)`, the form the access model uses for evidence.
pub fn statement_ref(source: &str, statement: &Statement) -> String {
    let sid = statement
        .sid
        .as_deref()
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    format!("{source}#Statement[{}]{sid}", statement.index)
}

/// How a role's trust policy admits a principal: the admitting statements, and whether conditions decide it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustAdmission {
    pub statements: Vec<String>,
    pub conditional: bool,
}

/// Whether the trust policy lets `principal_arn` (of `principal_account`) call `sts:AssumeRole`: an `Allow`
/// naming it, its account root, its account id or `*` (or a `NotPrincipal` not listing it), and no unconditional
/// `Deny` naming it. None when it is not admitted.
pub fn trust_admits(
    trust: &Policy,
    source: &str,
    principal_arn: &str,
    principal_account: &str,
) -> Option<TrustAdmission> {
    let root = format!("arn:aws:iam::{principal_account}:root");
    let names = |p: &Principals| {
        p.any
            || p.aws
                .iter()
                .any(|a| a == "*" || a == principal_arn || a == &root || a == principal_account)
    };
    let applies = |s: &Statement| {
        let action = match &s.action {
            ActionSpec::Action(patterns) => {
                patterns.iter().any(|p| action_matches(p, "sts:AssumeRole"))
            }
            ActionSpec::NotAction(patterns) => {
                !patterns.iter().any(|p| action_matches(p, "sts:AssumeRole"))
            }
        };
        action
            && match &s.principal {
                Some(PrincipalSpec::Principal(p)) => names(p),
                Some(PrincipalSpec::NotPrincipal(p)) => !names(p),
                None => false,
            }
    };
    if trust
        .statements
        .iter()
        .any(|s| s.effect == Effect::Deny && s.conditions.is_empty() && applies(s))
    {
        return None;
    }
    let allowing: Vec<&Statement> = trust
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow && applies(s))
        .collect();
    if allowing.is_empty() {
        return None;
    }
    Some(TrustAdmission {
        statements: allowing.iter().map(|s| statement_ref(source, s)).collect(),
        conditional: allowing.iter().all(|s| !s.conditions.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trust(principal: serde_json::Value) -> Policy {
        Policy::parse(
            "t",
            &serde_json::json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}),
        )
        .expect("parses")
    }

    #[test]
    fn trust_admission_names_root_arn_or_star() {
        let doc = trust(serde_json::json!({"AWS": "arn:aws:iam::111111111111:root"}));
        let user = "arn:aws:iam::111111111111:user/frank";
        assert!(trust_admits(&doc, "t", user, "111111111111").is_some());
        assert!(trust_admits(
            &doc,
            "t",
            "arn:aws:iam::999999999999:user/x",
            "999999999999"
        )
        .is_none());
        let only_bob = trust(serde_json::json!({"AWS": "arn:aws:iam::111111111111:user/bob"}));
        assert!(trust_admits(&only_bob, "t", user, "111111111111").is_none());
        let anyone = trust(serde_json::json!("*"));
        assert!(trust_admits(&anyone, "t", user, "111111111111").is_some());
    }
}
