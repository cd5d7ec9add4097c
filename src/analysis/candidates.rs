//! The who-can prefilter: which principals could possibly be allowed an action on a resource, judged from their
//! identity policies' Allow statements alone (action matched as the evaluator matches it, resource patterns
//! without policy variables matched as ARNs, every pattern with a variable counted as possible). A principal
//! with no such statement is implicitly denied by the evaluator for every request in which no resource policy
//! takes part, so it need not be evaluated; everyone else is evaluated in full. It only ever skips true "No"
//! answers: it must never decide a "yes" or a "possibly". Pure; no AWS.

use crate::iam::matching::{action_matches, arn_matches};
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
