//! The trend page: findings per check per run, over the runs of an evidence store (`gateaudit history --pdf`),
//! so an auditor sees at a glance whether the controls are getting better or worse, and which runs were
//! incomplete.
//!
//! Renders only what it is given (the run summaries `crate::store::history` read); no I/O but writing the file.

use std::path::{Path, PathBuf};

use printpdf::PdfDocument;

use super::layout::*;
use crate::report::ReportError;
use crate::store::history::RunSummary;

/// Writes a PDF with the trend of `runs` (oldest first) of the store `store` to `path`.
pub fn write_trend_pdf(
    store: &str,
    runs: &[RunSummary],
    path: &Path,
) -> Result<PathBuf, ReportError> {
    let mut doc = PdfDocument::new("gateaudit trend");
    let (regular, bold) = super::add_fonts(&mut doc);
    let mut l = Layout::new(regular, bold, format!("gateaudit trend · {store}"));
    l.new_page();
    l.bookmark("Trend");
    l.heading1("Findings per check per run");
    l.paragraph(
        &format!(
            "{} run(s) of the evidence store {store}, oldest first. Each cell is the number of findings of the \
             check in that run and its status; an incomplete run or check could not read all its inputs and \
             proves nothing about what it could not read.",
            runs.len()
        ),
        BODY_STYLE.colour(GREY),
    );
    l.gap(4.0);
    let cols = Table::new(
        Orientation::Portrait,
        &[
            ("run", 40.0),
            ("period until (UTC)", 22.0),
            ("collection", 14.0),
            ("findings per check (status)", 70.0),
        ],
    )
    .condensed();
    l.table_start(&cols);
    for (i, r) in runs.iter().enumerate() {
        let checks: Vec<String> = r
            .checks
            .iter()
            .map(|c| format!("{}: {} ({})", c.id, c.findings, c.status))
            .collect();
        let (collection, colour) = if r.complete {
            ("complete", GREEN)
        } else {
            ("INCOMPLETE", RED)
        };
        l.table_row(
            &cols,
            &[
                Cell::plain(r.run_id.clone()),
                Cell::plain(iso(r.period_until)),
                Cell::styled(collection, CELL_STYLE.colour(colour)),
                Cell::lines(checks),
            ],
            i,
        );
    }
    l.table_end(&cols);
    let newest = runs.last().map_or("none", |r| r.run_id.as_str());
    let bytes = super::finish_document(doc, l, newest, "(trend over stored runs)", path)?;
    std::fs::write(path, bytes).map_err(|e| ReportError::io(path, e))?;
    Ok(path.to_path_buf())
}
