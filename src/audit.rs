//! One audit run after collection: run the checks on a snapshot, build the ledger and the check summaries, write
//! every report, and decide the exit status. Shared by `gateaudit audit` and `gateaudit check`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::checks::{self, CheckContext};
use crate::model::{Finding, Severity, Snapshot};
use crate::report::{self, CheckStatus, CheckSummary, LedgerRow, ReportError, ReportInput};
use crate::rules::RuleSet;

/// The outcome of a run, for the console summary and the exit code.
pub struct Outcome {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    pub checks: Vec<CheckSummary>,
    pub findings: Vec<Finding>,
    pub ledger_rows: usize,
    pub incomplete_accounts: Vec<(String, String)>,
}

impl Outcome {
    /// Unwaived findings at or above the threshold.
    pub fn violations(&self, fail_on: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| !f.is_waived() && f.severity >= fail_on)
            .count()
    }
}

/// Runs the checks and summarises them. Pure: no I/O.
pub fn evaluate(
    snapshot: &Snapshot,
    rules: &RuleSet,
) -> (Vec<CheckSummary>, Vec<Finding>, Vec<LedgerRow>) {
    let ctx = CheckContext::new(snapshot, rules);
    let all = checks::all();
    let findings = checks::run_all(&ctx, &all);
    let summaries = all
        .iter()
        .map(|c| {
            let mine: Vec<&Finding> = findings.iter().filter(|f| f.check_id == c.id()).collect();
            let waived = mine.iter().filter(|f| f.is_waived()).count();
            let status = match (mine.len(), waived) {
                (0, _) => CheckStatus::Passed,
                (n, w) if n == w => CheckStatus::Waived,
                _ => CheckStatus::Failed,
            };
            CheckSummary {
                id: c.id().to_owned(),
                title: c.title().to_owned(),
                description: c.description().to_owned(),
                severity: c.severity(),
                references: c.references().iter().map(|r| (*r).to_owned()).collect(),
                findings: mine.len(),
                waived,
                status,
            }
        })
        .collect();
    let ledger = crate::ledger::rows(&ctx.approvals);
    (summaries, findings, ledger)
}

pub fn sha256_file(path: &Path) -> Result<String, ReportError> {
    let bytes = std::fs::read(path).map_err(|e| ReportError::io(path, e))?;
    Ok(hex(&Sha256::digest(&bytes)))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `snapshot.json` into `dir`, runs the checks, writes every report. Returns what was written.
pub fn run(snapshot: &Snapshot, rules: &RuleSet, dir: &Path) -> Result<Outcome, anyhow::Error> {
    std::fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, e))?;
    let snapshot_path = dir.join("snapshot.json");
    snapshot.save(&snapshot_path)?;
    let snapshot_sha256 = sha256_file(&snapshot_path)?;
    let (checks, findings, ledger) = evaluate(snapshot, rules);
    let input = ReportInput {
        snapshot,
        findings: &findings,
        checks: &checks,
        ledger: &ledger,
        snapshot_sha256,
        rule_set: rules.name.clone(),
    };
    let written = report::write_all(&input, dir)?;
    let mut files = vec![snapshot_path];
    files.extend(written.files);
    let incomplete_accounts = snapshot
        .accounts
        .iter()
        .filter(|a| !a.is_complete())
        .map(|a| {
            let errors: Vec<String> = a
                .failed_steps()
                .map(|s| format!("{}: {}", s.step, s.error.as_deref().unwrap_or("failed")))
                .collect();
            (format!("{} ({})", a.account_id, a.name), errors.join("; "))
        })
        .collect();
    Ok(Outcome {
        dir: dir.to_path_buf(),
        files,
        checks,
        ledger_rows: ledger.len(),
        findings,
        incomplete_accounts,
    })
}
