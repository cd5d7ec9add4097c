//! What `gateaudit gate` prints and writes: one line per approval (with the source that named its approver), one
//! line per violation or reason it cannot decide, the result; and, with `--out`, the audit's own `findings.json`
//! and `junit.xml` writers fed with the gate's findings (one check summary per audit check the gate applies, and
//! a `gate-decision` summary that is incomplete when the gate could not decide).
//!
//! Formatting only; it must not decide anything (that is `decide`).

use std::path::{Path, PathBuf};

use super::decide::{Decision, Verdict};
use crate::checks::{InputKind, MissingInput};
use crate::model::{Evidence, Finding, Severity, Snapshot};
use crate::report::text::visible;
use crate::report::{CheckStatus, CheckSummary, ReportError, ReportInput};

/// The audit checks whose rules the gate applies, with a title each.
const CHECKS: &[(&str, &str)] = &[
    (
        "distinct-approvers",
        "Each pipeline execution is approved by distinct people",
    ),
    (
        "self-approval",
        "Nobody approves an execution they started, retried or overrode",
    ),
    (
        "gate-coverage",
        "The version the execution runs has the required gates, and they were passed",
    ),
    (
        "approver-entitlement",
        "Every approver is entitled by the rule set and allowed by IAM",
    ),
];
const DECISION_CHECK: &str = "gate-decision";

/// The lines printed on standard output, ending with the result.
pub fn lines(verdict: &Verdict, pipeline: &str, execution: &str) -> Vec<String> {
    let mut out = Vec::new();
    for a in &verdict.approvals {
        out.push(format!(
            "approval {}/{}: {}{} [source: {}]",
            visible(&a.stage),
            visible(&a.action),
            visible(&a.status),
            match (&a.person, &a.updated_by) {
                (Some(p), Some(u)) => format!(" by {} ({})", visible(p), visible(u)),
                _ => String::new(),
            },
            visible(&a.source)
        ));
    }
    for v in &verdict.violations {
        out.push(format!("VIOLATION [{}]: {}", v.check, visible(&v.reason)));
    }
    for u in &verdict.undecided {
        out.push(format!("CANNOT VERIFY: {}", visible(u)));
    }
    out.push(match verdict.decision() {
        Decision::Proceed => format!(
            "gate: PASS: {} execution {} may proceed",
            visible(pipeline),
            visible(execution)
        ),
        Decision::Violations => format!(
            "gate: FAIL: {} violation(s); {} execution {} must not deploy",
            verdict.violations.len(),
            visible(pipeline),
            visible(execution)
        ),
        Decision::CannotDecide => format!(
            "gate: CANNOT DECIDE ({} item(s) unverified): failing closed, {} execution {} must not deploy",
            verdict.undecided.len(),
            visible(pipeline),
            visible(execution)
        ),
    });
    out
}

/// The violations as findings of the audit's checks, about the execution.
pub fn findings(verdict: &Verdict, account: &str, pipeline: &str, execution: &str) -> Vec<Finding> {
    verdict
        .violations
        .iter()
        .map(|v| Finding {
            check_id: v.check.to_owned(),
            severity: Severity::High,
            account_id: account.to_owned(),
            subject: format!("{pipeline}/{execution}"),
            principal: v.principal.clone(),
            message: v.reason.clone(),
            evidence: verdict
                .approvals
                .iter()
                .map(|a| {
                    Evidence::new(
                        "approval",
                        format!("{}/{}", a.stage, a.action),
                        format!(
                            "{} by {} [source: {}]",
                            a.status,
                            a.updated_by.as_deref().unwrap_or("nobody yet"),
                            a.source
                        ),
                    )
                })
                .collect(),
            waiver: None,
        })
        .collect()
}

/// One summary per check the gate applies, and the decision's own (incomplete when it could not decide).
pub fn summaries(verdict: &Verdict, findings: &[Finding], account: &str) -> Vec<CheckSummary> {
    let undecided = !verdict.undecided.is_empty();
    let mut out: Vec<CheckSummary> = CHECKS
        .iter()
        .map(|(id, title)| {
            let n = findings.iter().filter(|f| f.check_id == *id).count();
            CheckSummary {
                id: (*id).to_owned(),
                title: (*title).to_owned(),
                description: format!(
                    "gateaudit gate: {title}, judged on one execution before it deploys."
                ),
                severity: Severity::High,
                references: vec!["SOC 2 CC8.1".to_owned()],
                findings: n,
                waived: 0,
                // What could not be verified may hide a violation of any of them.
                status: CheckStatus::decide(n, 0, undecided),
                incomplete: Vec::new(),
            }
        })
        .collect();
    out.push(CheckSummary {
        id: DECISION_CHECK.to_owned(),
        title: "The gate could verify everything it needs".to_owned(),
        description:
            "Every approval decided, every read complete, every approver's entitlement evaluable; \
                      anything else fails closed."
                .to_owned(),
        severity: Severity::High,
        references: vec!["SOC 2 CC8.1".to_owned()],
        findings: 0,
        waived: 0,
        status: CheckStatus::decide(0, 0, undecided),
        incomplete: verdict
            .undecided
            .iter()
            .map(|u| MissingInput {
                account_id: account.to_owned(),
                account_name: String::new(),
                kind: InputKind::Pipelines,
                step: "gate".to_owned(),
                region: None,
                status: "not verified".to_owned(),
                detail: u.clone(),
            })
            .collect(),
    });
    out
}

/// Writes `findings.json` and `junit.xml` into `dir` with the audit's writers.
pub fn write_reports(
    snapshot: &Snapshot,
    rule_set: &str,
    checks: &[CheckSummary],
    findings: &[Finding],
    dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, e))?;
    let input = ReportInput {
        snapshot,
        findings,
        checks,
        ledger: &[],
        approvers: &[],
        write_grants: &[],
        fail_on: Severity::High,
        snapshot_sha256: String::new(),
        rule_set: rule_set.to_owned(),
        notes: &[],
        changes: &[],
    };
    Ok(vec![
        crate::report::json::write_findings(&input, &dir.join("findings.json"))?,
        crate::report::junit::write_junit(
            snapshot,
            checks,
            findings,
            Severity::High,
            &dir.join("junit.xml"),
        )?,
    ])
}
