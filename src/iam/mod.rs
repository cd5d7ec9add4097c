//! IAM policy evaluation for gateaudit: who may approve which manual approval gate, who holds
//! write access.
//!
//! Layout:
//! * [`policy`]: parse JSON policy documents (every form AWS accepts) into typed statements;
//! * [`matching`]: action, resource-ARN and policy-variable matching;
//! * [`condition`]: condition operators with AWS's rules for missing keys, `…IfExists`,
//!   `ForAllValues` / `ForAnyValue` and `Null`;
//! * [`context`]: request context, knowledge mode (exact / audit) and three-valued logic;
//! * [`eval`]: the decision (explicit deny, SCPs, RCPs, resource vs identity policies,
//!   permissions boundaries, session policies, cross-account) with evidence;
//! * [`simulate`]: a JSON / JSON Lines front end to [`eval::evaluate`] (one answer per line,
//!   bad lines answered in place).
//!
//! This module is pure: no I/O, no AWS SDK types, no dependency on the service catalog. It is
//! valid both as a crate root and as the module `gateaudit::iam`, so siblings are referred to
//! with `super::` only.

pub mod catalog;
pub mod condition;
pub mod context;
pub mod eval;
pub mod matching;
pub mod policy;
pub mod simulate;

pub use context::{Context, Knowledge, Lookup, Tri};
pub use eval::{
    evaluate, Answer, Certainty, Decision, Evaluation, Gatekeeper, Layer, Note, OrgLevel,
    PolicySet, PrincipalInfo, PrincipalKind, Request, StatementRef, UnknownCondition, Unmodifiable,
};
pub use policy::{Effect, Policy, PolicyError, Statement, Version};
pub use simulate::{simulate_json, simulate_jsonl, simulate_jsonl_line, LineAnswer, SimulateError};
