//! PDF evidence report: the document an auditor reads to see that change management is enforced.
//!
//! Sections: cover (organisation, accounts in scope, audit period, rule set, run), executive summary (checks,
//! totals, incomplete collection), one section per check with its findings and evidence, the approval ledger,
//! and appendices (what was collected from each account, unreadable evidence, waivers). Every page carries a
//! footer with "page X of Y", the run id and the SHA-256 of the snapshot the report was built from.
//!
//! Layout is done in `layout`, by hand, on top of printpdf's page operations: text is measured with the glyph
//! advances of the embedded DejaVu Sans and wrapped to its column in full (`wrap`: identifiers at their own
//! separators, never cut); rows grow, tables break across pages and repeat their header row, and the wide tables
//! (ledger, production changes) are set on landscape pages.
//!
//! This module only renders what it is given: it never calls AWS and never re-runs checks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use printpdf::{PdfDocument, PdfSaveOptions};

use super::{ReportError, ReportInput};
use crate::model::{AccountSnapshot, Snapshot};

mod appendices;
mod compress;
mod content;
mod evidence;
mod findings;
mod fonts;
mod layout;
mod ledger;
mod summary;
#[cfg(test)]
mod tests;
pub mod trend;
pub mod volumes;
mod wrap;

pub use evidence::{write_evidence_pdf, EvidenceDocument};
use layout::*;

// ---------------------------------------------------------------------------------------------------------
// The report

pub(super) struct Context<'a> {
    pub(super) input: &'a ReportInput<'a>,
    pub(super) account_names: HashMap<&'a str, &'a AccountSnapshot>,
}

impl Context<'_> {
    pub(super) fn account_label(&self, id: &str) -> String {
        match self.account_names.get(id) {
            Some(a) if !a.name.is_empty() => format!("{} ({id})", a.name),
            _ => id.to_owned(),
        }
    }
}

/// Renders the evidence report to `path` and returns the files written: the volumes of the ledger and of the
/// production changes when either has more than [`volumes::ROWS_PER_VOLUME`] rows, then report.pdf.
pub fn write_pdf(input: &ReportInput, path: &Path) -> Result<Vec<PathBuf>, ReportError> {
    write_pdf_in_volumes_of(input, path, volumes::ROWS_PER_VOLUME)
}

/// `write_pdf` with volumes of at most `per_volume` rows (tests use small ones).
pub(super) fn write_pdf_in_volumes_of(
    input: &ReportInput,
    path: &Path,
    per_volume: usize,
) -> Result<Vec<PathBuf>, ReportError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let ledger_volumes = volumes::write_volumes(
        input,
        dir,
        &volumes::Section {
            stem: "approvals-ledger",
            title: "Approval ledger",
            csv_name: "approvals.csv",
        },
        input.ledger,
        per_volume,
        |r| Some(r.time),
        ledger::ledger_table,
    )?;
    let change_volumes = volumes::write_volumes(
        input,
        dir,
        &volumes::Section {
            stem: "production-changes",
            title: "Production changes",
            csv_name: "changes.csv",
        },
        input.changes,
        per_volume,
        |c| c.deployed_at.or(c.started_at),
        ledger::changes_table,
    )?;
    let listed =
        |v: &[(PathBuf, volumes::Volume)]| v.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let bytes = render(
        input,
        &listed(&ledger_volumes),
        &listed(&change_volumes),
        path,
    )?;
    std::fs::write(path, bytes).map_err(|e| ReportError::io(path, e))?;
    let mut files: Vec<PathBuf> = ledger_volumes
        .into_iter()
        .chain(change_volumes)
        .map(|(p, _)| p)
        .collect();
    files.push(path.to_path_buf());
    Ok(files)
}

/// A document with the metadata every gateaudit PDF carries (dated at collection, not at rendering, so a
/// re-rendered report is identical) and the embedded fonts.
pub(super) fn new_document(
    title: &str,
    snapshot: &Snapshot,
    subject: String,
) -> (PdfDocument, printpdf::FontId, printpdf::FontId) {
    let mut doc = PdfDocument::new(title);
    let when = printpdf::OffsetDateTime::from_unix_timestamp(snapshot.collected_at.timestamp())
        .unwrap_or_else(|_| printpdf::OffsetDateTime::epoch());
    let info = &mut doc.metadata.info;
    info.creation_date = when;
    info.modification_date = when;
    info.metadata_date = when;
    info.author = snapshot.organisation.clone();
    info.creator = format!("gateaudit {}", snapshot.tool_version);
    info.producer = format!("gateaudit {} (printpdf)", env!("CARGO_PKG_VERSION"));
    info.subject = subject;
    info.identifier = snapshot.run_id.clone();
    let (regular, bold) = add_fonts(&mut doc);
    (doc, regular, bold)
}

/// Embeds the regular and bold faces under fixed names. printpdf names fonts (and bookmarks, and the document
/// ID) from one process-wide counter: names taken from it depend on what else the process rendered before, and
/// on thread timing when documents are laid out in parallel. Fixed names make a document's bytes depend on its
/// content only, so volumes can be laid out at the same time and a re-run still writes the same files.
pub(super) fn add_fonts(doc: &mut PdfDocument) -> (printpdf::FontId, printpdf::FontId) {
    let f = faces();
    let mut named = |font: &printpdf::ParsedFont, name: &str| {
        let counted = doc.add_font(font);
        let fixed = printpdf::FontId(name.to_owned());
        if let Some(embedded) = doc.resources.fonts.map.remove(&counted) {
            doc.resources.fonts.map.insert(fixed.clone(), embedded);
        }
        fixed
    };
    let regular = named(&f.regular.font, "F1");
    let bold = named(&f.bold.font, "F2");
    (regular, bold)
}

/// Builds report.pdf in memory (its volumes, if any, are written before and only listed here).
fn render(
    input: &ReportInput,
    ledger_volumes: &[volumes::Volume],
    change_volumes: &[volumes::Volume],
    path: &Path,
) -> Result<Vec<u8>, ReportError> {
    let snapshot = input.snapshot;
    let title = format!(
        "Change-management evidence report — {}",
        snapshot.organisation
    );
    let subject = format!(
        "run {}, snapshot sha256 {}",
        snapshot.run_id, input.snapshot_sha256
    );
    let (doc, regular, bold) = new_document(&title, snapshot, subject);

    let ctx = Context {
        input,
        account_names: snapshot
            .accounts
            .iter()
            .map(|a| (a.account_id.as_str(), a))
            .collect(),
    };
    let mut l = Layout::new(regular, bold, String::new());
    summary::cover(&mut l, &ctx);
    l.running_header = format!(
        "Change-management evidence report · {} · run {}",
        snapshot.organisation, snapshot.run_id
    );
    summary::summary(&mut l, &ctx);
    findings::check_sections(&mut l, &ctx);
    ledger::ledger(&mut l, input.ledger, "approvals.csv", ledger_volumes);
    ledger::changes(&mut l, input.changes, change_volumes);
    appendices::appendices(&mut l, &ctx);

    finish_document(doc, l, &snapshot.run_id, &input.snapshot_sha256, path)
}

/// Footers on every page, bookmarks, and the document's bytes: the last step of every gateaudit PDF, written to
/// `path` (named in errors).
///
/// The streams are compressed here, with libdeflate at its default level on every core, rather than by printpdf's
/// save (one core, zlib level 9 in miniz_oxide): in the 100,000-approval benchmark that compression was a third of
/// the report's time (check + write 19.9 s before, 12.5 s after, same machine), for files a few percent smaller.
fn finish_document(
    mut doc: PdfDocument,
    l: Layout,
    run_id: &str,
    sha256: &str,
    path: &Path,
) -> Result<Vec<u8>, ReportError> {
    let layout::FinishedPages {
        pages,
        contents,
        bookmarks,
    } = l.finish(run_id, sha256);
    // Bookmarks keyed in the order they were made (not by printpdf's counter: see `add_fonts`).
    for (n, (name, page)) in bookmarks.into_iter().enumerate() {
        doc.bookmarks.map.insert(
            printpdf::PageAnnotId(format!("B{n:08}")),
            printpdf::PageAnnotation { name, page },
        );
    }
    doc.with_pages(pages);
    let options = PdfSaveOptions {
        optimize: false,
        ..PdfSaveOptions::default()
    };
    let mut pdf = doc.to_lopdf_document(&options, &mut Vec::new());
    drop(doc);
    replace_page_contents(&mut pdf, contents).map_err(|e| ReportError::format(path, e))?;
    // The file identifier from what the document is (run, snapshot, file name), not from printpdf's counter.
    let id = {
        use sha2::{Digest, Sha256};
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let digest = Sha256::digest(format!("{run_id}\n{sha256}\n{}", name.unwrap_or_default()));
        hex::encode(&digest[..16]).into_bytes()
    };
    pdf.trailer.set(
        "ID",
        lopdf::Object::Array(vec![
            lopdf::Object::String(id.clone(), lopdf::StringFormat::Literal),
            lopdf::Object::String(id, lopdf::StringFormat::Literal),
        ]),
    );
    compress::compress_streams(&mut pdf);
    let mut bytes = Vec::new();
    pdf.save_to(&mut bytes)
        .map_err(|e| ReportError::format(path, e))?;
    Ok(bytes)
}

/// Puts each page's own content stream (written as it was laid out: see `content`) in place of the one printpdf
/// wrote from its page operations.
fn replace_page_contents(pdf: &mut lopdf::Document, contents: Vec<Vec<u8>>) -> Result<(), String> {
    let pages = pdf.get_pages();
    if pages.len() != contents.len() {
        return Err(format!(
            "printpdf wrote {} pages for {} laid out",
            pages.len(),
            contents.len()
        ));
    }
    for ((number, page), bytes) in pages.into_iter().zip(contents) {
        let stream = pdf
            .get_dictionary(page)
            .and_then(|dict| dict.get(b"Contents"))
            .and_then(lopdf::Object::as_reference)
            .and_then(|id| pdf.get_object_mut(id))
            .and_then(lopdf::Object::as_stream_mut)
            .map_err(|e| format!("page {number}: no content stream to write: {e}"))?;
        stream.set_content(bytes);
    }
    Ok(())
}
