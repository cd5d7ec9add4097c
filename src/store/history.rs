//! History and diffs, read from stored runs: approvals and findings over time (`gateaudit history`) and what
//! changed between two runs (`gateaudit diff`). Everything comes from each run's `findings.json` and
//! `approvals.csv`, checked against the run's manifest first; a run that fails the check is reported as a problem,
//! never read as if it were intact.
//!
//! Reads only; pure apart from reading the store or a report folder.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};
use crate::model::{Finding, Period, Severity};

/// The parts of `findings.json` history reads.
#[derive(Debug, Clone, Deserialize)]
pub struct FindingsDoc {
    pub run_id: String,
    pub period: Period,
    #[serde(default)]
    pub complete: bool,
    #[serde(default)]
    pub checks: Vec<CheckRow>,
    #[serde(default)]
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CheckRow {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub findings: usize,
    #[serde(default)]
    pub waived: usize,
}

/// One stored run as history reads it.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// The folder name (the run id, or the offline check's folder).
    pub name: String,
    pub findings: FindingsDoc,
    /// `approvals.csv`, each row by column name.
    pub approvals: Vec<BTreeMap<String, String>>,
}

fn corrupt(run: &str, store: &str, problem: String) -> StoreError {
    StoreError::Corrupt {
        run: run.to_owned(),
        store: store.to_owned(),
        problems: vec![problem],
    }
}

fn parse_run(
    name: &str,
    store: &str,
    findings: &[u8],
    approvals: &[u8],
) -> Result<RunRecord, StoreError> {
    let doc: FindingsDoc = serde_json::from_slice(findings)
        .map_err(|e| corrupt(name, store, format!("findings.json is not valid: {e}")))?;
    let mut reader = csv::Reader::from_reader(approvals);
    let headers = reader
        .headers()
        .map_err(|e| corrupt(name, store, format!("approvals.csv: {e}")))?
        .clone();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| corrupt(name, store, format!("approvals.csv: {e}")))?;
        rows.push(
            headers
                .iter()
                .zip(record.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect(),
        );
    }
    Ok(RunRecord {
        name: name.to_owned(),
        findings: doc,
        approvals: rows,
    })
}

/// A stored run's findings and ledger, each file checked against the run's manifest.
pub fn load_stored(store: &Store, run: &str) -> Result<RunRecord, StoreError> {
    let manifest = store.manifest(run)?;
    let findings = store.read_verified(run, &manifest, "findings.json")?;
    let approvals = store.read_verified(run, &manifest, "approvals.csv")?;
    parse_run(run, store.name(), &findings, &approvals)
}

/// A report folder's findings and ledger, after `verify-report`'s check of the whole folder.
pub fn load_folder(dir: &Path) -> Result<RunRecord, StoreError> {
    let shown = dir.display().to_string();
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| shown.clone());
    let verification =
        crate::report::manifest::verify(dir, None).map_err(|e| StoreError::Read {
            store: shown.clone(),
            key: String::new(),
            message: e.to_string(),
        })?;
    if !verification.problems.is_empty() {
        return Err(StoreError::Corrupt {
            run: name,
            store: shown,
            problems: verification.problems,
        });
    }
    let read = |file: &str| {
        std::fs::read(dir.join(file)).map_err(|e| StoreError::Read {
            store: shown.clone(),
            key: file.to_owned(),
            message: e.to_string(),
        })
    };
    parse_run(
        &name,
        &shown,
        &read("findings.json")?,
        &read("approvals.csv")?,
    )
}

/// What `history` selects.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    /// Runs whose period ends at or after this, approvals made at or after it.
    pub since: Option<DateTime<Utc>>,
    /// Pipeline name pattern (`*`, `?`).
    pub pipeline: Option<String>,
    /// Part of a person key, name or recorded approver (case-insensitive).
    pub person: Option<String>,
    /// Check id; with it, only findings are listed.
    pub check: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub run_id: String,
    pub period_until: DateTime<Utc>,
    pub complete: bool,
    pub checks: Vec<CheckRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingHistory {
    pub check_id: String,
    pub severity: Severity,
    pub account_id: String,
    pub subject: String,
    pub principal: String,
    pub message: String,
    pub first_seen: String,
    pub last_seen: String,
    /// In how many of the runs read it was reported.
    pub runs: usize,
    /// Reported by the newest run read.
    pub open: bool,
    pub waived: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApprovalHistory {
    pub time: String,
    pub account_id: String,
    pub pipeline: String,
    pub execution_id: String,
    pub stage: String,
    pub action: String,
    pub person: String,
    pub person_name: String,
    pub status: String,
    pub event_id: String,
    pub first_seen: String,
    pub last_seen: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct History {
    pub store: String,
    pub runs: Vec<RunSummary>,
    pub findings: Vec<FindingHistory>,
    pub approvals: Vec<ApprovalHistory>,
    /// Runs that could not be read or failed their manifest check (exit 1).
    pub problems: Vec<String>,
}

fn pipeline_matches(pattern: &Option<String>, pipeline: &str) -> bool {
    pattern
        .as_ref()
        .is_none_or(|p| wildmatch::WildMatch::new(p).matches(pipeline))
}

fn person_matches(query: &Option<String>, values: &[&str]) -> bool {
    query.as_ref().is_none_or(|q| {
        let q = q.to_lowercase();
        values.iter().any(|v| v.to_lowercase().contains(&q))
    })
}

/// The pipeline a finding is about: its subject's first `/`-separated part (`webapp/ProdGate` -> `webapp`).
fn finding_pipeline(f: &Finding) -> &str {
    f.subject.split('/').next().unwrap_or_default()
}

/// Approvals and findings over the store's runs (oldest first), as `query` selects.
pub fn history(store: &Store, query: &HistoryQuery) -> Result<History, StoreError> {
    let mut out = History {
        store: store.name().to_owned(),
        ..History::default()
    };
    let mut records = Vec::new();
    for run in store.runs()? {
        match load_stored(store, &run) {
            Ok(r) => records.push(r),
            Err(e) => out.problems.push(e.to_string()),
        }
    }
    records.retain(|r| {
        query
            .since
            .is_none_or(|since| r.findings.period.until >= since)
    });
    let newest = records.last().map(|r| r.name.clone());
    let mut findings: BTreeMap<(String, String, String, String), FindingHistory> = BTreeMap::new();
    let mut approvals: BTreeMap<String, ApprovalHistory> = BTreeMap::new();
    for record in &records {
        out.runs.push(RunSummary {
            run_id: record.name.clone(),
            period_until: record.findings.period.until,
            complete: record.findings.complete,
            checks: record
                .findings
                .checks
                .iter()
                .filter(|c| query.check.as_ref().is_none_or(|q| *q == c.id))
                .cloned()
                .collect(),
        });
        let mut seen = BTreeSet::new();
        for f in &record.findings.findings {
            let principal = f.principal.clone().unwrap_or_default();
            if query.check.as_ref().is_some_and(|c| *c != f.check_id)
                || !pipeline_matches(&query.pipeline, finding_pipeline(f))
                || !person_matches(&query.person, &[&principal])
            {
                continue;
            }
            let key = (
                f.check_id.clone(),
                f.account_id.clone(),
                f.subject.clone(),
                principal.clone(),
            );
            if !seen.insert(key.clone()) {
                continue;
            }
            let entry = findings.entry(key).or_insert_with(|| FindingHistory {
                check_id: f.check_id.clone(),
                severity: f.severity,
                account_id: f.account_id.clone(),
                subject: f.subject.clone(),
                principal,
                message: f.message.clone(),
                first_seen: record.name.clone(),
                last_seen: record.name.clone(),
                runs: 0,
                open: false,
                waived: false,
            });
            entry.runs += 1;
            entry.last_seen = record.name.clone();
            entry.severity = f.severity;
            entry.message = f.message.clone();
            entry.waived = f.is_waived();
            entry.open = Some(&record.name) == newest.as_ref();
        }
        if query.check.is_some() {
            continue;
        }
        for row in &record.approvals {
            let get = |k: &str| row.get(k).cloned().unwrap_or_default();
            let time = get("time");
            let at = DateTime::parse_from_rfc3339(&time).map(|t| t.with_timezone(&Utc));
            if query
                .since
                .is_some_and(|since| !at.as_ref().is_ok_and(|t| *t >= since))
                || !pipeline_matches(&query.pipeline, &get("pipeline"))
                || !person_matches(
                    &query.person,
                    &[
                        &get("person"),
                        &get("person_name"),
                        &get("approver_recorded"),
                    ],
                )
            {
                continue;
            }
            let key = match get("event_id") {
                id if !id.is_empty() => id,
                _ => format!(
                    "{}/{}/{}/{}/{time}",
                    get("pipeline"),
                    get("execution_id"),
                    get("stage"),
                    get("action")
                ),
            };
            approvals
                .entry(key)
                .and_modify(|a| a.last_seen = record.name.clone())
                .or_insert_with(|| ApprovalHistory {
                    time: time.clone(),
                    account_id: get("account_id"),
                    pipeline: get("pipeline"),
                    execution_id: get("execution_id"),
                    stage: get("stage"),
                    action: get("action"),
                    person: get("person"),
                    person_name: get("person_name"),
                    status: get("status"),
                    event_id: get("event_id"),
                    first_seen: record.name.clone(),
                    last_seen: record.name.clone(),
                });
        }
    }
    out.findings = findings.into_values().collect();
    let mut approvals: Vec<ApprovalHistory> = approvals.into_values().collect();
    approvals.sort_by(|a, b| a.time.cmp(&b.time).then(a.event_id.cmp(&b.event_id)));
    out.approvals = approvals;
    Ok(out)
}

/// How `history` and `diff` print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// History as text in `format`.
pub fn render_history(h: &History, format: Format) -> Result<String, serde_json::Error> {
    use crate::report::text::visible;
    match format {
        Format::Json => serde_json::to_string_pretty(h),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let cell = |s: &str| crate::report::csv_files::safe_cell(s);
            let _ = w.write_record([
                "kind",
                "first_seen",
                "last_seen",
                "time",
                "check_id",
                "severity",
                "account_id",
                "pipeline",
                "subject",
                "person",
                "status",
                "event_id",
            ]);
            for a in &h.approvals {
                let _ = w.write_record([
                    "approval",
                    &a.first_seen,
                    &a.last_seen,
                    &a.time,
                    "",
                    "",
                    &cell(&a.account_id),
                    &cell(&a.pipeline),
                    &cell(&format!("{}/{}/{}", a.execution_id, a.stage, a.action)),
                    &cell(&a.person),
                    &cell(&a.status),
                    &cell(&a.event_id),
                ]);
            }
            for f in &h.findings {
                let status = if f.open { "open" } else { "resolved" };
                let status = if f.waived {
                    format!("{status}, waived")
                } else {
                    status.to_owned()
                };
                let _ = w.write_record([
                    "finding",
                    &f.first_seen,
                    &f.last_seen,
                    "",
                    &f.check_id,
                    f.severity.as_str(),
                    &cell(&f.account_id),
                    &cell(f.subject.split('/').next().unwrap_or_default()),
                    &cell(&f.subject),
                    &cell(&f.principal),
                    &status,
                    "",
                ]);
            }
            Ok(String::from_utf8_lossy(&w.into_inner().unwrap_or_default()).into_owned())
        }
        Format::Table => {
            let mut s = format!("store {}: {} run(s)\n", visible(&h.store), h.runs.len());
            for r in &h.runs {
                let failed: Vec<String> = r
                    .checks
                    .iter()
                    .filter(|c| c.status != "passed")
                    .map(|c| format!("{} {} ({})", c.id, c.status, c.findings))
                    .collect();
                s.push_str(&format!(
                    "  {}  until {}  {}  {}\n",
                    r.run_id,
                    r.period_until.format("%Y-%m-%dT%H:%M:%SZ"),
                    if r.complete { "complete" } else { "INCOMPLETE" },
                    failed.join(", ")
                ));
            }
            s.push_str(&format!("approvals ({}):\n", h.approvals.len()));
            for a in &h.approvals {
                s.push_str(&format!(
                    "  {}  {}/{}/{}  {}  {}  {}  first seen {}\n",
                    visible(&a.time),
                    visible(&a.pipeline),
                    visible(&a.stage),
                    visible(&a.action),
                    visible(&a.status),
                    visible(if a.person_name.is_empty() {
                        &a.person
                    } else {
                        &a.person_name
                    }),
                    visible(&a.execution_id),
                    a.first_seen
                ));
            }
            s.push_str(&format!("findings ({}):\n", h.findings.len()));
            for f in &h.findings {
                s.push_str(&format!(
                    "  {:<8} {:<20} {} {} {}  {} .. {} ({} run(s)){}{}\n",
                    f.severity.as_str(),
                    f.check_id,
                    visible(&f.account_id),
                    visible(&f.subject),
                    visible(&f.principal),
                    f.first_seen,
                    f.last_seen,
                    f.runs,
                    if f.open { ", open" } else { ", resolved" },
                    if f.waived { ", waived" } else { "" }
                ));
            }
            for p in &h.problems {
                s.push_str(&format!("PROBLEM: {}\n", visible(p)));
            }
            Ok(s)
        }
    }
}

/// A finding's identity across runs.
type FindingKey = (String, String, String, String);

fn key(f: &Finding) -> FindingKey {
    (
        f.check_id.clone(),
        f.account_id.clone(),
        f.subject.clone(),
        f.principal.clone().unwrap_or_default(),
    )
}

/// What changed from run `a` to run `b`.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub a: String,
    pub b: String,
    pub appeared: Vec<Finding>,
    pub disappeared: Vec<Finding>,
    /// Same check, account, subject and principal; another severity or message: (in a, in b).
    pub changed: Vec<(Finding, Finding)>,
    /// Findings unwaived in `a` and waived in `b`.
    pub waivers_started: Vec<Finding>,
    /// Findings waived in `a` and no longer waived in `b` (the waiver expired or was removed).
    pub waivers_ended: Vec<Finding>,
    /// Checks whose status changed: (check, status in a, status in b).
    pub checks_changed: Vec<(String, String, String)>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.appeared.is_empty()
            && self.disappeared.is_empty()
            && self.changed.is_empty()
            && self.waivers_started.is_empty()
            && self.waivers_ended.is_empty()
            && self.checks_changed.is_empty()
    }
}

pub fn diff(a: &RunRecord, b: &RunRecord) -> Diff {
    let index = |r: &RunRecord| -> BTreeMap<FindingKey, Finding> {
        r.findings
            .findings
            .iter()
            .map(|f| (key(f), f.clone()))
            .collect()
    };
    let (in_a, in_b) = (index(a), index(b));
    let mut d = Diff {
        a: a.name.clone(),
        b: b.name.clone(),
        appeared: in_b
            .iter()
            .filter(|(k, _)| !in_a.contains_key(*k))
            .map(|(_, f)| f.clone())
            .collect(),
        disappeared: in_a
            .iter()
            .filter(|(k, _)| !in_b.contains_key(*k))
            .map(|(_, f)| f.clone())
            .collect(),
        changed: Vec::new(),
        waivers_started: Vec::new(),
        waivers_ended: Vec::new(),
        checks_changed: Vec::new(),
    };
    for (k, fa) in &in_a {
        let Some(fb) = in_b.get(k) else { continue };
        match (fa.is_waived(), fb.is_waived()) {
            (false, true) => d.waivers_started.push(fb.clone()),
            (true, false) => d.waivers_ended.push(fb.clone()),
            _ => {}
        }
        if fa.severity != fb.severity || fa.message != fb.message {
            d.changed.push((fa.clone(), fb.clone()));
        }
    }
    let status_a: BTreeMap<&str, &str> = a
        .findings
        .checks
        .iter()
        .map(|c| (c.id.as_str(), c.status.as_str()))
        .collect();
    for c in &b.findings.checks {
        let before = status_a.get(c.id.as_str()).copied().unwrap_or("absent");
        if before != c.status {
            d.checks_changed
                .push((c.id.clone(), before.to_owned(), c.status.clone()));
        }
    }
    d
}

pub fn render_diff(d: &Diff, format: Format) -> Result<String, serde_json::Error> {
    use crate::report::text::visible;
    let line = |f: &Finding| {
        format!(
            "{} {} {} {} {}: {}",
            f.severity.as_str(),
            f.check_id,
            visible(&f.account_id),
            visible(&f.subject),
            visible(f.principal.as_deref().unwrap_or("")),
            visible(&f.message)
        )
    };
    match format {
        Format::Json => serde_json::to_string_pretty(d),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let cell = |s: &str| crate::report::csv_files::safe_cell(s);
            let _ = w.write_record([
                "change",
                "check_id",
                "severity",
                "account_id",
                "subject",
                "principal",
                "message",
            ]);
            let mut row = |change: &str, f: &Finding| {
                let _ = w.write_record([
                    change,
                    &f.check_id,
                    f.severity.as_str(),
                    &cell(&f.account_id),
                    &cell(&f.subject),
                    &cell(f.principal.as_deref().unwrap_or("")),
                    &cell(&f.message),
                ]);
            };
            d.appeared.iter().for_each(|f| row("appeared", f));
            d.disappeared.iter().for_each(|f| row("disappeared", f));
            d.changed.iter().for_each(|(_, f)| row("changed", f));
            d.waivers_started
                .iter()
                .for_each(|f| row("waiver-started", f));
            d.waivers_ended.iter().for_each(|f| row("waiver-ended", f));
            Ok(String::from_utf8_lossy(&w.into_inner().unwrap_or_default()).into_owned())
        }
        Format::Table => {
            let mut s = format!("diff {} -> {}\n", d.a, d.b);
            let mut section = |title: &str, items: Vec<String>| {
                s.push_str(&format!("{title} ({}):\n", items.len()));
                for i in items {
                    s.push_str(&format!("  {i}\n"));
                }
            };
            section("appeared", d.appeared.iter().map(line).collect());
            section("disappeared", d.disappeared.iter().map(line).collect());
            section(
                "changed",
                d.changed
                    .iter()
                    .map(|(a, b)| {
                        format!("{}  (was: {} {})", line(b), a.severity, visible(&a.message))
                    })
                    .collect(),
            );
            section(
                "waivers started",
                d.waivers_started.iter().map(line).collect(),
            );
            section(
                "waivers ended (expired or removed)",
                d.waivers_ended.iter().map(line).collect(),
            );
            section(
                "check status changed",
                d.checks_changed
                    .iter()
                    .map(|(c, a, b)| format!("{c}: {a} -> {b}"))
                    .collect(),
            );
            Ok(s)
        }
    }
}

/// A run named on the command line: a folder path when it is one, else a run id of the store.
pub fn load_named(name: &str, store: Option<&Store>) -> Result<RunRecord, StoreError> {
    let path = Path::new(name);
    if path.is_dir() {
        return load_folder(path);
    }
    match store {
        Some(store) => load_stored(store, name),
        None => Err(StoreError::NoSuchRun {
            run: name.to_owned(),
            store: "(no --store given, and it is not a report folder)".to_owned(),
        }),
    }
}
