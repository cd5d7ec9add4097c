//! findings.json: the machine-readable result of a run (checks with their status, and every finding).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{CheckSummary, ReportError, ReportInput};
use crate::model::{Finding, Period};

#[derive(Serialize)]
struct FindingsDocument<'a> {
    run_id: &'a str,
    tool_version: &'a str,
    organisation: &'a str,
    rule_set: &'a str,
    snapshot_sha256: &'a str,
    period: &'a Period,
    complete: bool,
    /// What the answers ignore (organisation policies not read, people behind roles unknown...).
    notes: &'a [String],
    checks: &'a [CheckSummary],
    findings: &'a [Finding],
}

pub fn write_findings(input: &ReportInput, path: &Path) -> Result<PathBuf, ReportError> {
    let doc = FindingsDocument {
        run_id: &input.snapshot.run_id,
        tool_version: env!("CARGO_PKG_VERSION"),
        organisation: &input.snapshot.organisation,
        rule_set: &input.rule_set,
        snapshot_sha256: &input.snapshot_sha256,
        period: &input.snapshot.period,
        complete: input.snapshot.is_complete(),
        notes: input.notes,
        checks: input.checks,
        findings: input.findings,
    };
    let bytes = serde_json::to_vec_pretty(&doc).map_err(|e| ReportError::format(path, e))?;
    std::fs::write(path, bytes).map_err(|e| ReportError::io(path, e))?;
    Ok(path.to_path_buf())
}
