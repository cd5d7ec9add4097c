//! Ledger volumes: when the approval ledger or the production changes have more rows than one readable document
//! holds, their rows go into PDFs of their own (`approvals-ledger-001.pdf`, `production-changes-001.pdf`, ...),
//! each rendered, written and dropped on its own (one per thread at a time), so a report of 100,000 approvals
//! never holds every row's layout at once. report.pdf lists each volume with its rows, period and SHA-256; the
//! manifest lists them too.
//!
//! Renders and writes files only; what the rows say is decided before (analysis).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rayon::prelude::*;

use super::layout::*;
use super::new_document;
use crate::report::{ReportError, ReportInput};

/// At most this many rows in one document (a volume, or the section itself when it fits).
pub const ROWS_PER_VOLUME: usize = 2_500;

/// One volume written: its file name (beside report.pdf), the rows it holds (1-based, inclusive), the times of
/// its first and last rows, its size and SHA-256.
#[derive(Debug, Clone)]
pub struct Volume {
    pub file: String,
    pub first: usize,
    pub last: usize,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub size: u64,
    pub sha256: String,
}

/// What a section's volumes hold, for their cover and running header.
pub(super) struct Section<'a> {
    /// File name stem: `approvals-ledger` gives `approvals-ledger-001.pdf`.
    pub stem: &'a str,
    /// The section's title, as in report.pdf ("Approval ledger").
    pub title: &'a str,
    /// The CSV with every row.
    pub csv_name: &'a str,
}

/// Writes `rows` as volumes of at most `per_volume` rows into `dir` when there are more than `per_volume`;
/// nothing (an empty list) when they fit in report.pdf itself. `time` gives a row's time for the volume list;
/// `table` renders a slice of rows.
///
/// Volumes are laid out in parallel, one per rayon thread at a time (each compresses its own streams on its
/// thread, see `compress_streams`), so at most as many layouts as threads are held at once. Their bytes do not
/// depend on scheduling: fonts, bookmarks and document IDs get fixed names (`add_fonts`), tested by
/// `the_same_input_writes_the_same_bytes_whatever_ran_before`.
pub(super) fn write_volumes<T>(
    input: &ReportInput,
    dir: &Path,
    section: &Section,
    rows: &[T],
    per_volume: usize,
    time: impl Fn(&T) -> Option<DateTime<Utc>> + Sync,
    table: impl Fn(&mut Layout, &[T]) + Sync,
) -> Result<Vec<(PathBuf, Volume)>, ReportError>
where
    T: Sync,
{
    let per_volume = per_volume.max(1);
    if rows.len() <= per_volume {
        return Ok(Vec::new());
    }
    let snapshot = input.snapshot;
    let count = rows.len().div_ceil(per_volume);
    let write_volume = |(n, chunk): (usize, &[T])| -> Result<(PathBuf, Volume), ReportError> {
        let first = n * per_volume + 1;
        let last = first + chunk.len() - 1;
        let file = format!("{}-{:03}.pdf", section.stem, n + 1);
        let path = dir.join(&file);
        let title = format!(
            "{}, volume {} of {count} — {}",
            section.title,
            n + 1,
            snapshot.organisation
        );
        let subject = format!(
            "run {}, snapshot sha256 {}",
            snapshot.run_id, input.snapshot_sha256
        );
        let (doc, regular, bold) = new_document(&title, snapshot, subject);
        let mut l = Layout::new(regular, bold, String::new());
        l.new_page_in(Orientation::Landscape);
        l.running_header = format!(
            "{} · volume {} of {count} · {} · run {}",
            section.title,
            n + 1,
            snapshot.organisation,
            snapshot.run_id
        );
        l.bookmark(format!("{}, volume {} of {count}", section.title, n + 1));
        l.heading1(&format!(
            "{}, volume {} of {count}: rows {first}–{last} of {}",
            section.title,
            n + 1,
            rows.len()
        ));
        l.paragraph(
            &format!(
                "A volume of report.pdf of run {} (snapshot sha256 {}): the rows are those of {} in the same order, \
                 with the same columns; report.pdf and manifest.json list every volume with its SHA-256.",
                snapshot.run_id, input.snapshot_sha256, section.csv_name
            ),
            BODY_STYLE.colour(GREY),
        );
        l.gap(4.0);
        table(&mut l, chunk);
        let bytes =
            super::finish_document(doc, l, &snapshot.run_id, &input.snapshot_sha256, &path)?;
        std::fs::write(&path, &bytes).map_err(|e| ReportError::io(&path, e))?;
        let sha256 = {
            use sha2::{Digest, Sha256};
            hex::encode(Sha256::digest(&bytes))
        };
        let volume = Volume {
            file,
            first,
            last,
            from: chunk.first().and_then(&time),
            to: chunk.last().and_then(&time),
            size: bytes.len() as u64,
            sha256,
        };
        Ok((path, volume))
    };
    rows.par_chunks(per_volume)
        .enumerate()
        .map(write_volume)
        .collect()
}
