//! `gateaudit gate`: enforcement at run time. Judges ONE pipeline execution now, before it deploys: distinct
//! people for every two-person stage, no approver who started, retried, overrode or rolled back the execution,
//! every approver entitled by the rule set (`approvals.approvers`) and allowed by IAM, and the version the
//! execution runs has the gates the rule set requires. Exit 0 lets it proceed, 3 names each violation, 1 when it
//! cannot decide (fail closed).
//!
//! - [`decide`]: the decision, pure, on a snapshot of that one execution (the audit's analysis views, reused);
//! - [`output`]: the console lines, findings and the JSON/JUnit reports.
//!
//! The collection is `collect::gate` (the only part that talks to AWS). This module must not call AWS itself,
//! nor hold a second identity normaliser.

pub mod cli;
pub mod decide;
pub mod output;

use std::collections::BTreeSet;

use crate::config::Config;
use crate::model::Snapshot;
use crate::rules::RuleSet;

pub use decide::{decide, Decision, GateViolation, Question, SeenApproval, Verdict};

/// The accounts the rule set calls production: configured `[[accounts]]` with a production environment, and
/// organisation accounts whose environment rule gave them one (a configured entry overrides a discovered one).
pub fn production_accounts(
    config: &Config,
    snapshot: &Snapshot,
    rules: &RuleSet,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Some(org) = &snapshot.organization {
        for a in org.accounts.iter().filter(|a| a.is_active()) {
            let environment = config
                .accounts
                .iter()
                .find(|c| c.id == a.id)
                .map(|c| c.environment.as_str())
                .unwrap_or(&a.environment);
            if rules.approvals.is_production(environment) {
                out.insert(a.id.clone());
            }
        }
    }
    for a in &config.accounts {
        if rules.approvals.is_production(&a.environment) {
            out.insert(a.id.clone());
        }
    }
    out
}
