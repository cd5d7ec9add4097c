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
pub mod inputs;
mod out_of_band_change;
mod policy_evaluation;
mod self_approval;
mod source_provenance;
#[cfg(test)]
pub(crate) mod testkit;
mod trail_integrity;
mod write_access;

use rayon::prelude::*;

use crate::analysis::access::AccessModel;
use crate::analysis::approvals::{self, ApprovalIndex};
use crate::analysis::identity::Directory;
use crate::analysis::reach::Reach;
use crate::model::{AccountSnapshot, Finding, Severity, Snapshot};
use crate::rules::RuleSet;

pub use inputs::{missing_inputs, step_input_kind, InputKind, MissingInput};

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
    /// Every production deployment of the period, with its approvals and verdict.
    pub changes: Vec<crate::analysis::changes::Change>,
}

impl<'a> CheckContext<'a> {
    /// The shared views; the access model is built by the caller (`AccessModel::new`) because the reach borrows it.
    pub fn new(
        snapshot: &'a Snapshot,
        rules: &'a RuleSet,
        access: &'a AccessModel<'a>,
    ) -> CheckContext<'a> {
        let people = Directory::new(snapshot, &rules.identity);
        let approvals = approvals::index(snapshot, rules, &people);
        CheckContext {
            snapshot,
            rules,
            changes: crate::analysis::changes::changes(snapshot, rules, &people, &approvals),
            approvals,
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
    /// The kinds of collected input the check reads: a failed or partial step of one of these kinds, in an account
    /// the check looks at, makes the check *incomplete* there (see [`inputs`]). The default, every kind, is the
    /// conservative answer for a check that does not say.
    fn inputs(&self) -> &'static [InputKind] {
        InputKind::ALL
    }
    /// Whether the check looks at this account at all (default: every account).
    fn looks_at(&self, _account: &AccountSnapshot, _snapshot: &Snapshot) -> bool {
        true
    }
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
        Box::new(source_provenance::SourceProvenance),
        Box::new(cross_account_trust::CrossAccountTrust),
        Box::new(out_of_band_change::OutOfBandChange),
        Box::new(approval_evidence::ApprovalEvidence),
        Box::new(evidence_hygiene::EvidenceHygiene),
        Box::new(trail_integrity::TrailIntegrity),
        Box::new(policy_evaluation::PolicyEvaluation),
    ]
}

/// Runs every check in parallel; findings come back in check order, then in each check's own order.
///
/// An unparseable policy is one fact, reported once: by `policy-evaluation`, with the checks it leaves unproven
/// named in its message (each of them is *incomplete* in that account, see [`inputs::missing_inputs`]). The copies
/// other checks report through [`unevaluable_policies`] (so that each check alone still never passes silently)
/// are dropped here when `policy-evaluation` runs, so totals do not count one policy twice.
pub fn run_all(ctx: &CheckContext, checks: &[Box<dyn Check>]) -> Vec<Finding> {
    let per_check: Vec<Vec<Finding>> = checks.par_iter().map(|c| c.run(ctx)).collect();
    let reported_once = checks
        .iter()
        .any(|c| c.id() == policy_evaluation::POLICY_EVALUATION_ID);
    per_check
        .into_iter()
        .flatten()
        .filter(|f| {
            !reported_once
                || f.check_id == policy_evaluation::POLICY_EVALUATION_ID
                || !is_unevaluable_policy(f)
        })
        .collect()
}

/// Evidence kind that marks "this policy cannot be evaluated" findings.
pub(crate) const UNEVALUABLE_POLICY: &str = "unevaluable-policy";

fn is_unevaluable_policy(f: &Finding) -> bool {
    f.evidence
        .first()
        .is_some_and(|e| e.kind == UNEVALUABLE_POLICY)
}

/// A policy that cannot be parsed leaves `what` unproven for the check: one finding per such policy, never a
/// silent pass. In a full run these are reported once, by `policy-evaluation` (see [`run_all`]).
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
            evidence: vec![crate::model::Evidence::new(
                UNEVALUABLE_POLICY,
                &problem.source,
                "",
            )],
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
