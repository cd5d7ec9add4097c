//! The scan pipeline shared by the S3 and local sources: batches of files are decoded and parsed in parallel
//! with rayon, then folded in key order into running totals, deduplicated, and handed to a sink one event at a
//! time (so that JSON Lines output streams and memory does not grow with the archive).
//!
//! No network here: the S3 side (`crate::collect::trail_archive`) feeds downloaded bytes in; local files are
//! read by the workers themselves.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use rayon::prelude::*;

use super::dedupe::Dedupe;
use super::extract::{
    extract_file, ExtractOptions, Extracted, FileOutcome, Kept, Render, Selection,
};
use super::progress::Counters;
use crate::model::{
    ApprovalEvent, Period, RoleSession, UnreadableEvidence, UnreadableKind, WriteEvent,
};
use crate::rules::IdentityRules;

/// Owned scan settings (moved into worker threads).
#[derive(Debug, Clone)]
pub struct ScanSettings {
    pub selection: Selection,
    pub period: Period,
    pub hash: bool,
    pub rules: IdentityRules,
    /// Largest decompressed file read (`decode::DEFAULT_MAX_UNCOMPRESSED` by default); a larger one, or a
    /// compressed file larger than this, is unreadable evidence.
    pub max_file_bytes: usize,
    /// The sink's renderer ([`EventSink::renderer`]): workers then hand over lines, not events.
    pub render: Option<Render>,
}

impl ScanSettings {
    /// The settings with the default file cap.
    pub fn new(selection: Selection, period: Period, hash: bool, rules: IdentityRules) -> Self {
        ScanSettings {
            selection,
            period,
            hash,
            rules,
            max_file_bytes: super::decode::DEFAULT_MAX_UNCOMPRESSED,
            render: None,
        }
    }

    fn options(&self) -> ExtractOptions<'_> {
        ExtractOptions {
            selection: self.selection,
            period: self.period,
            hash: self.hash,
            rules: &self.rules,
            max_uncompressed: self.max_file_bytes,
            render: self.render,
        }
    }
}

/// Where one file's bytes come from.
#[derive(Debug)]
pub enum InputData {
    Bytes(Vec<u8>),
    Path(PathBuf),
    /// The download or read failed.
    Failed(String),
}

#[derive(Debug)]
pub struct ScanInput {
    pub location: String,
    pub key: String,
    pub day: NaiveDate,
    pub data: InputData,
}

/// Decodes and extracts a batch in parallel; outcomes keep the batch's order.
pub fn process_batch(
    inputs: Vec<ScanInput>,
    settings: &ScanSettings,
) -> Vec<(NaiveDate, FileOutcome)> {
    let opts = settings.options();
    inputs
        .into_par_iter()
        .map(|input| {
            let outcome = match input.data {
                InputData::Bytes(bytes) => extract_file(&input.location, &input.key, &bytes, &opts),
                InputData::Path(path) => {
                    match super::local::read_regular(&path, settings.max_file_bytes) {
                        Ok(bytes) => extract_file(&input.location, &input.key, &bytes, &opts),
                        Err(e) => failed(&input.location, &input.key, e),
                    }
                }
                InputData::Failed(e) => failed(&input.location, &input.key, e),
            };
            (input.day, outcome)
        })
        .collect()
}

fn failed(location: &str, key: &str, error: String) -> FileOutcome {
    let mut out = FileOutcome::new(location, key);
    out.damaged(UnreadableKind::Io, error);
    out
}

/// Receives the deduplicated events in archive order.
pub trait EventSink {
    fn emit(&mut self, event: Extracted) -> std::io::Result<()>;

    /// How this sink writes an event, if it writes each as bytes that do not depend on the events before it:
    /// workers then render them in parallel and the sink gets the bytes through [`EventSink::emit_line`].
    fn renderer(&self) -> Option<Render> {
        None
    }

    /// Writes one event rendered by [`EventSink::renderer`].
    fn emit_line(&mut self, _line: &[u8]) -> std::io::Result<()> {
        Err(std::io::Error::other(
            "this sink takes events, not rendered lines (a scan rendered lines for a sink without a renderer)",
        ))
    }
}

/// Keeps events in memory, in snapshot form.
#[derive(Debug, Default)]
pub struct CollectingSink {
    pub approvals: Vec<ApprovalEvent>,
    pub writes: Vec<WriteEvent>,
    pub sessions: Vec<RoleSession>,
}

impl EventSink for CollectingSink {
    fn emit(&mut self, event: Extracted) -> std::io::Result<()> {
        if let Some(w) = event.to_write_event() {
            self.writes.push(w);
        } else if let Some(a) = event.approval {
            self.approvals.push(a);
        } else if let Some(s) = event.session {
            self.sessions.push(s);
        }
        Ok(())
    }
}

/// Running totals of a scan.
#[derive(Debug, Default)]
pub struct ScanTotals {
    pub files: usize,
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
    pub records: u64,
    pub events: u64,
    pub duplicates: u64,
    pub unreadable: Vec<UnreadableEvidence>,
    /// Archive key -> hex SHA-256 of the uncompressed content (None: unreadable), when hashing.
    pub hashes: BTreeMap<String, Option<String>>,
}

/// Folds batch outcomes into totals and the sink.
pub struct Scanner<'s> {
    pub totals: ScanTotals,
    dedupe: Dedupe,
    sink: &'s mut (dyn EventSink + Send),
    counters: Option<Arc<Counters>>,
    hash: bool,
}

impl<'s> Scanner<'s> {
    pub fn new(
        sink: &'s mut (dyn EventSink + Send),
        counters: Option<Arc<Counters>>,
        hash: bool,
    ) -> Scanner<'s> {
        Scanner {
            totals: ScanTotals::default(),
            dedupe: Dedupe::default(),
            sink,
            counters,
            hash,
        }
    }

    /// Hands `event` to the sink unless it was seen before; 1 if it was handed over.
    fn emit_new(&mut self, event: Extracted) -> std::io::Result<u64> {
        if !self.dedupe.first_time(&event.event_id, event.event_time) {
            return Ok(0);
        }
        self.sink.emit(event)?;
        Ok(1)
    }

    /// Absorbs outcomes; batches must come in day order for deduplication to stay bounded.
    pub fn absorb(&mut self, outcomes: Vec<(NaiveDate, FileOutcome)>) -> std::io::Result<()> {
        for (day, outcome) in outcomes {
            self.dedupe.advance_to(day);
            let t = &mut self.totals;
            t.files += 1;
            t.compressed_bytes += outcome.compressed;
            t.uncompressed_bytes += outcome.uncompressed;
            t.records += outcome.records;
            if self.hash {
                t.hashes.insert(outcome.key.clone(), outcome.sha256.clone());
            }
            t.unreadable.extend(outcome.unreadable);
            let mut emitted = 0;
            let mut events = outcome.events.into_iter();
            for kept in outcome.rendered.iter() {
                match kept {
                    Kept::Line {
                        event_id,
                        time,
                        line,
                    } => {
                        if self.dedupe.first_time(event_id, time) {
                            emitted += 1;
                            self.sink.emit_line(line)?;
                        }
                    }
                    Kept::Unrendered => {
                        if let Some(event) = events.next() {
                            emitted += self.emit_new(event)?;
                        }
                    }
                }
            }
            // Without a renderer every event is here (with one, `keep` gave each its place above).
            for event in events {
                emitted += self.emit_new(event)?;
            }
            self.totals.events += emitted;
            if let Some(c) = &self.counters {
                c.file(outcome.uncompressed);
                c.events(emitted);
            }
        }
        self.totals.duplicates = self.dedupe.duplicates;
        Ok(())
    }
}

/// How many files a batch holds: enough to keep every core busy, few enough to bound memory.
pub fn batch_size() -> usize {
    (rayon::current_num_threads() * 8).clamp(8, 128)
}

/// Compressed bytes a batch may hold (downloaded batches are in memory while the previous one is decoded).
pub const BATCH_BYTES: u64 = 256 << 20;

/// Splits `sizes` (compressed file sizes, in order) into consecutive batches of at most [`batch_size`] files
/// and at most `max_bytes` bytes (a single larger file is a batch of its own): the bytes in flight stay bounded
/// whatever the archive holds. Returns the index ranges.
pub fn batches(sizes: &[u64], max_bytes: u64) -> Vec<std::ops::Range<usize>> {
    let max_files = batch_size();
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0u64;
    for (i, size) in sizes.iter().enumerate() {
        if i > start && (i - start >= max_files || bytes.saturating_add(*size) > max_bytes) {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes = bytes.saturating_add(*size);
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_bound_files_and_bytes() {
        let sizes = [10, 10, 10, 500, 10, 10];
        assert_eq!(batches(&sizes, 25), vec![0..2, 2..3, 3..4, 4..6]);
        assert_eq!(batches(&sizes, 10_000), vec![0..6]);
        let many = vec![1u64; 1000];
        let b = batches(&many, u64::MAX);
        assert!(b.iter().all(|r| r.len() <= batch_size()));
        assert_eq!(b.iter().map(|r| r.len()).sum::<usize>(), 1000);
        assert!(batches(&[], 10).is_empty());
    }
}
