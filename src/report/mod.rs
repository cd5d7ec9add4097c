//! Reports: turn a snapshot and its findings into files for auditors (PDF, CSV), machines (JSON) and CI (JUnit).
//!
//! One file per format. Reports never call AWS and never re-run checks: they render what they are given.

pub mod console;
pub mod csv_files;
pub mod json;
pub mod junit;
pub mod manifest;
pub mod pdf;
pub mod staging;
pub mod text;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use crate::analysis::exposure::{ApproverRow, WriteGrantRow};
pub use crate::analysis::ledger::LedgerRow;
use crate::model::{Finding, Severity, Snapshot};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {message}")]
    Format { path: String, message: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not valid: {message}")]
    Invalid { path: String, message: String },
    #[error("cannot copy {from} to {to}: {source}")]
    Copy {
        from: String,
        to: String,
        source: std::io::Error,
    },
    #[error("{path} already exists: a report folder is never reused (another run has that name)")]
    Exists { path: String },
}

impl ReportError {
    /// Writing `path` failed.
    pub fn io(path: &Path, source: std::io::Error) -> ReportError {
        ReportError::Io {
            path: path.display().to_string(),
            source,
        }
    }
    /// Rendering `path` failed.
    pub fn format(path: &Path, message: impl std::fmt::Display) -> ReportError {
        ReportError::Format {
            path: path.display().to_string(),
            message: message.to_string(),
        }
    }
    /// Reading `path` failed.
    pub fn read(path: &Path, source: std::io::Error) -> ReportError {
        ReportError::Read {
            path: path.display().to_string(),
            source,
        }
    }
    /// `path` was read but its content is not what it must be.
    pub fn invalid(path: &Path, message: impl std::fmt::Display) -> ReportError {
        ReportError::Invalid {
            path: path.display().to_string(),
            message: message.to_string(),
        }
    }
    pub fn copy(from: &Path, to: &Path, source: std::io::Error) -> ReportError {
        ReportError::Copy {
            from: from.display().to_string(),
            to: to.display().to_string(),
            source,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Passed,
    Failed,
    /// Every finding of the check is waived.
    Waived,
    /// Some input the check reads could not be (fully) collected in an account it looks at: whatever it found,
    /// it cannot prove the rest. Never shown as passed, whatever `--allow-incomplete` says about the exit code.
    Incomplete,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Passed => "passed",
            CheckStatus::Failed => "failed",
            CheckStatus::Waived => "waived",
            CheckStatus::Incomplete => "incomplete",
        }
    }

    /// The status of a check from its findings and what it could not read: incomplete wins (the check could not
    /// look at everything), then failed (an unwaived finding), waived (every finding waived), passed.
    pub fn decide(findings: usize, waived: usize, incomplete: bool) -> CheckStatus {
        match (incomplete, findings, waived) {
            (true, _, _) => CheckStatus::Incomplete,
            (false, 0, _) => CheckStatus::Passed,
            (false, n, w) if n == w => CheckStatus::Waived,
            _ => CheckStatus::Failed,
        }
    }
}

/// What a check is and how it fared in this run.
#[derive(Debug, Clone, Serialize)]
pub struct CheckSummary {
    pub id: String,
    pub title: String,
    /// What the check verifies, in a sentence or two an auditor can read.
    pub description: String,
    pub severity: Severity,
    pub references: Vec<String>,
    pub findings: usize,
    pub waived: usize,
    pub status: CheckStatus,
    /// What the check needed and could not fully read (accounts and collection steps); empty when complete.
    #[serde(default)]
    pub incomplete: Vec<crate::checks::MissingInput>,
}

impl CheckSummary {
    /// The accounts this check is incomplete in, each once ("444444444444 (prod)"; "the snapshot" for gaps not
    /// in one account).
    pub fn incomplete_accounts(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for m in &self.incomplete {
            let label = match (m.account_id.is_empty(), m.account_name.is_empty()) {
                (true, _) => "the snapshot".to_owned(),
                (false, true) => m.account_id.clone(),
                (false, false) => format!("{} ({})", m.account_id, m.account_name),
            };
            if !out.contains(&label) {
                out.push(label);
            }
        }
        out
    }
}

/// Everything a report renders.
pub struct ReportInput<'a> {
    pub snapshot: &'a Snapshot,
    pub findings: &'a [Finding],
    pub checks: &'a [CheckSummary],
    pub ledger: &'a [LedgerRow],
    pub approvers: &'a [ApproverRow],
    pub write_grants: &'a [WriteGrantRow],
    /// Findings at or above this severity fail the run (JUnit failures, console result).
    pub fail_on: Severity,
    /// Hex SHA-256 of the snapshot.json the report was built from, printed on every PDF page.
    pub snapshot_sha256: String,
    pub rule_set: String,
    /// What the answers ignore (organisation policies not read, people behind roles unknown...).
    pub notes: &'a [String],
    /// The change population: every production deployment of the period.
    pub changes: &'a [crate::analysis::changes::Change],
}

/// The files a full report run writes, in a fixed order.
pub struct WrittenReport {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
}

/// Writes every format into `dir` (created if needed): findings.csv, approvals.csv, accounts.csv,
/// who-can-approve.csv, write-access.csv, findings.json, junit.xml, report.pdf. The snapshot itself is written by the caller before, so its hash is known.
pub fn write_all(input: &ReportInput, dir: &Path) -> Result<WrittenReport, ReportError> {
    std::fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, e))?;
    let mut files = vec![
        csv_files::write_findings(input, &dir.join("findings.csv"))?,
        csv_files::write_ledger(input.ledger, &dir.join("approvals.csv"))?,
        csv_files::write_changes(input.changes, &dir.join("changes.csv"))?,
        csv_files::write_accounts(input.snapshot, &dir.join("accounts.csv"))?,
        csv_files::write_approvers(input.approvers, &dir.join("who-can-approve.csv"))?,
        csv_files::write_write_grants(input.write_grants, &dir.join("write-access.csv"))?,
        json::write_findings(input, &dir.join("findings.json"))?,
        junit::write_junit(
            input.snapshot,
            input.checks,
            input.findings,
            input.fail_on,
            &dir.join("junit.xml"),
        )?,
    ];
    files.extend(pdf::write_pdf(input, &dir.join("report.pdf"))?);
    Ok(WrittenReport {
        dir: dir.to_path_buf(),
        files,
    })
}
