//! Unit tests of the evaluator, by topic. Helpers shared by every topic live here.
//!
//! Must not: reach outside `crate::iam` or touch the file system.

mod audit;
mod aws_rules;
mod basics;
mod limits;
mod org;
mod principals;
mod resource;

pub(super) use super::super::context::Context;
pub(super) use super::super::policy::Policy;
pub(super) use super::*;
pub(super) use serde_json::{json, Value};

pub(super) const ACCT: &str = "111111111111";
pub(super) const OTHER: &str = "222222222222";
pub(super) const GATE_A: &str =
    "arn:aws:codepipeline:us-east-1:111111111111:webapp/ProdGate/ApprovalA";
pub(super) const GATE_B: &str =
    "arn:aws:codepipeline:us-east-1:111111111111:webapp/ProdGate/ApprovalB";
pub(super) const APPROVE: &str = "codepipeline:PutApprovalResult";

pub(super) fn pol(id: &str, doc: Value) -> Policy {
    Policy::parse(id, &doc).unwrap()
}

pub(super) fn allow(action: &str, resource: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": action, "Resource": resource}]})
}

pub(super) fn user() -> PrincipalInfo {
    PrincipalInfo::from_arn("arn:aws:iam::111111111111:user/alice").unwrap()
}

pub(super) fn req(principal: PrincipalInfo, action: &str, resource: &str) -> Request {
    Request {
        action: action.into(),
        resource: resource.into(),
        resource_account: None,
        principal,
        context: Context::exact(),
    }
}

pub(super) fn identity_only(policies: &[Policy]) -> PolicySet<'_> {
    PolicySet {
        identity: policies,
        ..PolicySet::default()
    }
}

pub(super) fn bucket_policy(statement: Value) -> Policy {
    pol(
        "bucket",
        json!({"Version": "2012-10-17", "Statement": [statement]}),
    )
}

pub(super) fn session() -> PrincipalInfo {
    PrincipalInfo::from_arn("arn:aws:sts::111111111111:assumed-role/Deployer/run-42").unwrap()
}

pub(super) fn level(id: &str, docs: Vec<Value>) -> OrgLevel {
    OrgLevel {
        id: id.into(),
        policies: docs
            .into_iter()
            .enumerate()
            .map(|(i, d)| pol(&format!("{id}-{i}"), d))
            .collect(),
    }
}
