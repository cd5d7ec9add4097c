//! The compliance checks: one file per check, each with an id, a title, a severity, compliance references and its
//! own tests. Checks read the snapshot (through [`CheckContext`]) and return findings; they never do I/O, so an
//! audit re-run from a saved snapshot gives the same answer.

mod approval_evidence;
mod approver_reach;
mod approver_separation;
mod cross_account_trust;
mod distinct_approvers;
mod evidence_hygiene;
mod gate_bypass;
mod gate_coverage;
mod out_of_band_change;
mod self_approval;
#[cfg(test)]
pub(crate) mod testkit;
mod trail_integrity;
mod write_access;

use rayon::prelude::*;

use crate::analysis::access::AccessModel;
use crate::analysis::approvals::{self, ApprovalIndex};
use crate::analysis::identity::Directory;
use crate::analysis::reach::Reach;
use crate::model::{Finding, Severity, Snapshot};
use crate::rules::RuleSet;

/// What every check sees: the snapshot, the rule set, and views computed once and shared.
pub struct CheckContext<'a> {
    pub snapshot: &'a Snapshot,
    pub rules: &'a RuleSet,
    /// Who is one person: the identity store, role trust policies and the rule set's identity rules.
    pub people: Directory<'a>,
    pub approvals: ApprovalIndex<'a>,
    pub access: &'a AccessModel<'a>,
    /// Which people (and unattributed roles) can act as which principal, and how.
    pub reach: Reach<'a>,
}

impl<'a> CheckContext<'a> {
    /// The shared views; the access model is built by the caller (`AccessModel::new`) because the reach borrows it.
    pub fn new(
        snapshot: &'a Snapshot,
        rules: &'a RuleSet,
        access: &'a AccessModel<'a>,
    ) -> CheckContext<'a> {
        let people = Directory::new(snapshot, &rules.identity);
        CheckContext {
            snapshot,
            rules,
            approvals: approvals::index(snapshot, rules, &people),
            reach: Reach::new(access, &people),
            access,
            people,
        }
    }
}

pub trait Check: Sync + Send {
    fn id(&self) -> &'static str;
    fn title(&self) -> &'static str;
    /// What the check verifies, for the report.
    fn description(&self) -> &'static str;
    /// The severity of a typical violation (individual findings may differ).
    fn severity(&self) -> Severity;
    fn references(&self) -> &'static [&'static str];
    fn run(&self, ctx: &CheckContext) -> Vec<Finding>;
}

/// Every check, in report order.
pub fn all() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(distinct_approvers::DistinctApprovers),
        Box::new(approver_separation::ApproverSeparation),
        Box::new(approver_reach::ApproverReach),
        Box::new(write_access::WriteAccess),
        Box::new(gate_coverage::GateCoverage),
        Box::new(self_approval::SelfApproval),
        Box::new(gate_bypass::GateBypass),
        Box::new(cross_account_trust::CrossAccountTrust),
        Box::new(out_of_band_change::OutOfBandChange),
        Box::new(approval_evidence::ApprovalEvidence),
        Box::new(evidence_hygiene::EvidenceHygiene),
        Box::new(trail_integrity::TrailIntegrity),
    ]
}

/// Runs every check in parallel; findings come back in check order, then in each check's own order.
pub fn run_all(ctx: &CheckContext, checks: &[Box<dyn Check>]) -> Vec<Finding> {
    let per_check: Vec<Vec<Finding>> = checks.par_iter().map(|c| c.run(ctx)).collect();
    per_check.into_iter().flatten().collect()
}

/// A policy that cannot be parsed leaves `what` unproven for the check: one finding per such policy, never a
/// silent pass.
pub(crate) fn unevaluable_policies(check_id: &str, ctx: &CheckContext, what: &str) -> Vec<Finding> {
    ctx.access
        .problems
        .iter()
        .map(|problem| Finding {
            check_id: check_id.to_owned(),
            severity: Severity::High,
            account_id: problem.account_id.clone(),
            subject: problem.source.clone(),
            principal: None,
            message: format!(
                "policy cannot be evaluated, so {what} cannot be proven: {}",
                problem.error
            ),
            evidence: vec![crate::model::Evidence::new("policy", &problem.source, "")],
            waiver: None,
        })
        .collect()
}

pub(crate) const SOC2_CHANGE: &str = "SOC 2 CC8.1";
pub(crate) const SOC2_ACCESS: &str = "SOC 2 CC6.1";
pub(crate) const SOC2_ACCESS_REMOVAL: &str = "SOC 2 CC6.3";
pub(crate) const ISO_SEGREGATION: &str = "ISO/IEC 27001:2022 A.5.3";
pub(crate) const ISO_CHANGE: &str = "ISO/IEC 27001:2022 A.8.32";
pub(crate) const NIST_AC5: &str = "NIST SP 800-53 AC-5";
pub(crate) const NIST_CM3: &str = "NIST SP 800-53 CM-3";
pub(crate) const NIST_CM5: &str = "NIST SP 800-53 CM-5";
pub(crate) const PCI_CHANGE: &str = "PCI DSS 4.0 6.5";
