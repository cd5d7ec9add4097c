//! The evidence-request PDF (`gateaudit evidence`): a cover stating the scope an auditor asked for, its source
//! and completeness, then the approval ledger and the production changes of that scope. Renders only.

use std::path::{Path, PathBuf};

use super::layout::*;
use super::ledger::{changes, ledger};
use super::new_document;
use crate::model::Snapshot;
use crate::report::{LedgerRow, ReportError};

/// An evidence request: the ledger cut to the scope an auditor asked for (`gateaudit evidence`).
pub struct EvidenceDocument<'a> {
    pub snapshot: &'a Snapshot,
    /// The scope in words ("approvals from ... to ...; accounts: ...").
    pub scope: &'a str,
    pub completeness: &'a crate::analysis::evidence::Completeness,
    pub rows: &'a [LedgerRow],
    /// The production changes in scope.
    pub changes: &'a [crate::analysis::changes::Change],
    pub snapshot_sha256: &'a str,
}

/// Renders an evidence request: a cover stating scope, source and completeness, then the ledger table.
pub fn write_evidence_pdf(
    evidence: &EvidenceDocument,
    path: &Path,
) -> Result<PathBuf, ReportError> {
    let snapshot = evidence.snapshot;
    let subject = format!(
        "evidence request; snapshot sha256 {}",
        evidence.snapshot_sha256
    );
    let title = format!("Approval evidence — {}", snapshot.organisation);
    let (doc, regular, bold) = new_document(&title, snapshot, subject);
    let mut l = Layout::new(regular, bold, String::new());
    l.bookmark("Scope");
    l.gap(40.0);
    l.paragraph("Approval evidence", Style::new(20.0).bold().colour(ACCENT));
    l.gap(4.0);
    l.paragraph(&snapshot.organisation, Style::new(13.0));
    l.gap(20.0);
    let c = evidence.completeness;
    let incomplete = if c.incomplete_accounts.is_empty() {
        "none: every account in scope was collected completely".to_owned()
    } else {
        c.incomplete_accounts.join(", ")
    };
    l.key_values(
        &[
            ("Scope", evidence.scope.to_owned()),
            ("Approvals", c.rows.to_string()),
            (
                "Production changes",
                format!(
                    "{} ({} not compliant)",
                    evidence.changes.len(),
                    evidence.changes.iter().filter(|c| !c.compliant()).count()
                ),
            ),
            ("Without S3 record", c.without_record.to_string()),
            ("Not tied to an execution", c.unattributed.to_string()),
            ("Incomplete accounts", incomplete),
            ("Snapshot run id", snapshot.run_id.clone()),
            (
                "Collected at",
                format!("{} (UTC)", iso(snapshot.collected_at)),
            ),
            (
                "Snapshot period",
                format!(
                    "{}  to  {}",
                    iso(snapshot.period.since),
                    iso(snapshot.period.until)
                ),
            ),
            ("Snapshot sha256", evidence.snapshot_sha256.to_owned()),
        ],
        140.0,
        BODY_STYLE,
    );
    l.gap(10.0);
    l.paragraph(
        "Every PutApprovalResult that CloudTrail recorded in the snapshot and that falls in the scope is listed \
         below: approvals, rejections and failed attempts. The snapshot's SHA-256, printed on every page, \
         identifies the data; manifest.json beside this file lists the hashes of every file of the request.",
        BODY_STYLE.colour(GREY),
    );
    l.running_header = format!(
        "Approval evidence · {} · run {}",
        snapshot.organisation, snapshot.run_id
    );
    ledger(&mut l, evidence.rows, "evidence.csv", &[]);
    changes(&mut l, evidence.changes, &[]);
    let bytes = super::finish_document(doc, l, &snapshot.run_id, evidence.snapshot_sha256, path)?;
    std::fs::write(path, bytes).map_err(|e| ReportError::io(path, e))?;
    Ok(path.to_path_buf())
}
