//! `gateaudit trail scan SOURCE` and `gateaudit trail verify SOURCE`: the command-line front end of the trail
//! archive reader, for an S3 bucket (`s3://bucket[/prefix]`, read through the configured account's role) or a
//! local copy of the archive.
//!
//! Argument parsing, wiring and console summaries only; the work is in the sibling modules and in
//! `crate::collect::trail_archive`. Exit codes: 0 clean, 1 unreadable evidence or error, 3 integrity issues.

use std::collections::BTreeSet;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use clap::{Args, ValueEnum};

use super::integrity::{self, DigestInput, LogEvidence};
use super::layout::{days, normalise_prefix, FileKind};
use super::local::{self, Filters};
use super::output::{CsvSink, JsonlSink};
use super::progress::{Counters, Progress};
use super::scan::{CollectingSink, EventSink, ScanSettings, ScanTotals, Scanner};
use super::Selection;
use crate::collect::trail_archive::{self, ArchiveOptions};
use crate::collect::trail_athena::AthenaTarget;
use crate::collect::SessionOptions;
use crate::config::Config;
use crate::model::{IntegrityReport, Period, TrailArchiveScan, TrailPublicKey};
use crate::report::text::visible;
use crate::rules::{IdentityRules, RuleSet};

const EXIT_OK: u8 = 0;
const EXIT_ERROR: u8 = 1;
const EXIT_INTEGRITY: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventsArg {
    /// `PutApprovalResult` calls.
    Approvals,
    /// Mutating calls, and `sts:AssumeRole` calls (who entered which role).
    Writes,
    /// Both.
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// A JSON file in the snapshot's form (`TrailArchiveScan`), to `--out` (default trail-scan.json).
    Snapshot,
    Jsonl,
    Csv,
}

/// Options shared by `scan` and `verify`.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// `s3://bucket[/prefix]`, or a local directory holding an exported archive (the folder containing AWSLogs/).
    pub source: String,
    /// Configuration file (for S3: accounts, role, endpoint).
    #[arg(long, default_value = "gateaudit.toml")]
    pub config: PathBuf,
    /// Start (YYYY-MM-DD or RFC 3339, UTC); default: 90 days before --until.
    #[arg(long)]
    pub since: Option<String>,
    /// End, exclusive; default: now.
    #[arg(long)]
    pub until: Option<String>,
    /// Only these accounts (repeatable); default: every account in the archive.
    #[arg(long = "account")]
    pub accounts: Vec<String>,
    /// Only these regions (repeatable).
    #[arg(long = "region")]
    pub regions: Vec<String>,
    /// Account whose credentials read the bucket; default: its `trail_buckets` entry, else `cicd_account`.
    #[arg(long)]
    pub bucket_account: Option<String>,
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// AWS endpoint (an emulator); AWS_ENDPOINT_URL and the configuration's endpoint_url work too.
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// Rule set for identity normalisation (the `person` key); default: the built-in rules.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// GetObject calls in flight.
    #[arg(long, default_value_t = 32)]
    pub max_in_flight: usize,
    /// Public keys for a local archive: a saved snapshot, a `TrailPublicKey` list, or `aws cloudtrail
    /// list-public-keys` output. (S3 sources call ListPublicKeys.)
    #[arg(long)]
    pub public_keys: Option<PathBuf>,
    /// Largest archive file read, compressed or decompressed, in MiB; a larger one is unreadable evidence
    /// (a gzip bomb cannot exhaust memory).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=16384))]
    pub max_file_mb: u32,
}

impl SourceArgs {
    fn max_file_bytes(&self) -> usize {
        (self.max_file_mb as usize) << 20
    }
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[arg(long, value_enum, default_value_t = EventsArg::All)]
    pub events: EventsArg,
    #[arg(long, value_enum, default_value_t = FormatArg::Snapshot)]
    pub format: FormatArg,
    /// Output file; default: standard output for jsonl/csv, trail-scan.json for snapshot.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also verify the digests of the files read.
    #[arg(long)]
    pub verify: bool,
    /// `native` downloads and reads the files here; `athena` runs the selection where the data lives (needs
    /// --athena-table and --athena-workgroup, or a `[[trail_buckets]]` entry with them). Default: the bucket's
    /// `engine` in the configuration, else native.
    #[arg(long, value_enum)]
    pub engine: Option<EngineArg>,
    /// For --engine athena: the table (DB.TABLE) made from `gateaudit trail athena-ddl`.
    #[arg(long)]
    pub athena_table: Option<String>,
    /// For --engine athena: the workgroup the query runs in.
    #[arg(long)]
    pub athena_workgroup: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    Native,
    Athena,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Write the integrity report (JSON) here.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

struct Outcome {
    source: String,
    totals: ScanTotals,
    integrity: Option<IntegrityReport>,
    public_keys: Vec<TrailPublicKey>,
    /// The archive's prefix inside its bucket (empty for a local copy).
    prefix: String,
    /// `DB.TABLE` when read through Athena.
    athena_table: Option<String>,
}

/// Adds to the integrity report every part of the period that no valid digest covers, for each account and
/// region the archive has digests or log files of (up to now, less CloudTrail's delivery delay).
fn add_coverage_gaps(outcome: &mut Outcome, period: &Period) {
    let Some(report) = &mut outcome.integrity else {
        return;
    };
    let expected = integrity::seen_in_archive(
        &report.chains,
        outcome.totals.hashes.keys().cloned(),
        &outcome.prefix,
    );
    for gap in integrity::coverage_gaps(&report.chains, &expected, period, Utc::now()) {
        let root = report
            .chains
            .iter()
            .find(|c| {
                c.account_id == gap.account_id
                    && c.region == gap.region
                    && gap.trail.as_ref().is_none_or(|t| *t == c.trail)
            })
            .map(|c| format!("{}CloudTrail-Digest/{}/", c.root, c.region))
            .unwrap_or_else(|| {
                format!(
                    "AWSLogs/{}/CloudTrail-Digest/{}/",
                    gap.account_id, gap.region
                )
            });
        report.issues.push(crate::model::IntegrityIssue {
            kind: crate::model::IntegrityIssueKind::CoverageGap,
            location: root,
            detail: gap.describe(),
        });
    }
}

pub fn run_scan(args: &ScanArgs) -> anyhow::Result<u8> {
    let selection = match args.events {
        EventsArg::Approvals => Selection::Approvals,
        EventsArg::Writes => Selection::Writes,
        EventsArg::All => Selection::All,
    };
    let started = Instant::now();
    let to_file = |path: &Path| -> anyhow::Result<Box<dyn Write + Send>> {
        let f = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Box::new(f))
    };
    let writer: Box<dyn Write + Send> = match (&args.out, args.format) {
        (Some(p), FormatArg::Jsonl | FormatArg::Csv) => to_file(p)?,
        _ => Box::new(std::io::stdout()),
    };
    let writer = BufWriter::with_capacity(1 << 20, writer);
    let (outcome, collected) = match args.format {
        FormatArg::Snapshot => {
            let mut sink = CollectingSink::default();
            let o = scan_source(args, selection, args.verify, &mut sink)?;
            (o, Some(sink))
        }
        FormatArg::Jsonl => {
            let mut sink = JsonlSink::new(writer);
            let o = scan_source(args, selection, args.verify, &mut sink)?;
            sink.into_inner().flush()?;
            (o, None)
        }
        FormatArg::Csv => {
            let mut sink = CsvSink::new(writer)?;
            let o = scan_source(args, selection, args.verify, &mut sink)?;
            sink.flush()?;
            (o, None)
        }
    };
    if let Some(sink) = collected {
        let path = args
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("trail-scan.json"));
        let t = &outcome.totals;
        let scan = TrailArchiveScan {
            source: outcome.source.clone(),
            moved: Default::default(),
            files: t.files,
            compressed_bytes: t.compressed_bytes,
            uncompressed_bytes: t.uncompressed_bytes,
            records: t.records,
            duplicates: t.duplicates,
            approval_events: sink.approvals,
            write_events: sink.writes,
            role_sessions: sink.sessions,
            unreadable: t.unreadable.clone(),
            public_keys: outcome.public_keys.clone(),
            integrity: outcome.integrity.clone(),
            athena_table: outcome.athena_table.clone(),
        };
        let file = std::fs::File::create(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        serde_json::to_writer_pretty(BufWriter::new(file), &scan)?;
        eprintln!("trail scan written to {}", path.display());
    }
    Ok(summarise(&outcome, started))
}

pub fn run_verify(args: &VerifyArgs) -> anyhow::Result<u8> {
    let started = Instant::now();
    let mut sink = CollectingSink::default();
    let outcome = scan_source_with(&args.source, None, Selection::Nothing, true, &mut sink)?;
    if let (Some(path), Some(report)) = (&args.out, &outcome.integrity) {
        std::fs::write(path, serde_json::to_vec_pretty(report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if outcome.integrity.is_none() {
        eprintln!("gateaudit: no digest files found in the period: log-file validation is off or the digests are gone");
        return Ok(EXIT_INTEGRITY);
    }
    Ok(summarise(&outcome, started))
}

fn summarise(o: &Outcome, started: Instant) -> u8 {
    let t = &o.totals;
    let secs = started.elapsed().as_secs_f64().max(1e-6);
    eprintln!(
        "{}: {} files, {:.1} MB compressed, {:.1} MB uncompressed ({:.0} MB/s), {} records, {} events, {} duplicates",
        o.source,
        t.files,
        t.compressed_bytes as f64 / 1e6,
        t.uncompressed_bytes as f64 / 1e6,
        t.uncompressed_bytes as f64 / 1e6 / secs,
        t.records,
        t.events,
        t.duplicates
    );
    for u in &t.unreadable {
        let id = u
            .event_id
            .as_deref()
            .map(|i| format!(" event {i}"))
            .unwrap_or_default();
        eprintln!(
            "UNREADABLE {:?} {}{}: {}",
            u.kind,
            visible(&u.location),
            visible(&id),
            visible(&u.detail)
        );
    }
    let mut code = if t.unreadable.is_empty() {
        EXIT_OK
    } else {
        EXIT_ERROR
    };
    if let Some(r) = &o.integrity {
        eprintln!(
            "integrity: {}/{} digests valid, {}/{} log files verified, {} issue(s)",
            r.digests_valid,
            r.digests_checked,
            r.log_files_verified,
            r.log_files_checked,
            r.issues.len()
        );
        for i in &r.issues {
            eprintln!(
                "INTEGRITY {:?} {}: {}",
                i.kind,
                visible(&i.location),
                visible(&i.detail)
            );
        }
        if !r.is_clean() {
            code = EXIT_INTEGRITY;
        }
    }
    code
}

fn parse_time(text: &str, what: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    match NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
    {
        Some(t) => Ok(t.and_utc()),
        None => bail!("{what}: {text:?} is neither YYYY-MM-DD nor an RFC 3339 time"),
    }
}

fn period(args: &SourceArgs) -> anyhow::Result<Period> {
    let until = args
        .until
        .as_deref()
        .map(|t| parse_time(t, "--until"))
        .transpose()?
        .unwrap_or_else(Utc::now);
    let since = args
        .since
        .as_deref()
        .map(|t| parse_time(t, "--since"))
        .transpose()?
        .unwrap_or(until - Duration::days(90));
    if since >= until {
        bail!("--since ({since}) must be before --until ({until})");
    }
    Ok(Period { since, until })
}

fn identity_rules(args: &SourceArgs) -> anyhow::Result<IdentityRules> {
    Ok(match &args.policy {
        Some(p) => RuleSet::load(p)?.identity,
        None => RuleSet::builtin_default().identity,
    })
}

fn scan_source(
    scan: &ScanArgs,
    selection: Selection,
    verify: bool,
    sink: &mut (dyn EventSink + Send),
) -> anyhow::Result<Outcome> {
    scan_source_with(&scan.source, Some(scan), selection, verify, sink)
}

/// The Athena target of a scan, if it runs on Athena: the flags first, then the bucket's configuration entry.
fn athena_target(scan: &ScanArgs, bucket: &str) -> anyhow::Result<Option<AthenaTarget>> {
    let args = &scan.source;
    let entry = || -> anyhow::Result<Option<crate::config::BucketConfig>> {
        if !args.config.exists() {
            return Ok(None);
        }
        let config = Config::load(&args.config)?;
        Ok(config
            .trail_buckets
            .into_iter()
            .find(|b| b.bucket == bucket))
    };
    let from_config = match (scan.engine, &scan.athena_table, &scan.athena_workgroup) {
        (Some(EngineArg::Native), ..) => return Ok(None),
        (Some(EngineArg::Athena), Some(_), Some(_)) => None,
        _ => entry()?,
    };
    let configured = from_config
        .as_ref()
        .is_some_and(|b| b.engine == crate::config::TrailEngine::Athena);
    if scan.engine != Some(EngineArg::Athena) && !configured {
        return Ok(None);
    }
    let table = scan
        .athena_table
        .clone()
        .or_else(|| from_config.as_ref().and_then(|b| b.athena_table.clone()));
    let workgroup = scan.athena_workgroup.clone().or_else(|| {
        from_config
            .as_ref()
            .and_then(|b| b.athena_workgroup.clone())
    });
    let (Some(table), Some(workgroup)) = (table, workgroup) else {
        bail!("--engine athena needs --athena-table DB.TABLE and --athena-workgroup W (or both in the bucket's [[trail_buckets]] entry)");
    };
    if scan.verify {
        bail!("--verify reads every log file to hash it: use the native engine (or `gateaudit trail verify`) for digests");
    }
    Ok(Some(AthenaTarget {
        table: super::athena::TableName::parse(&table).context("--athena-table")?,
        workgroup,
    }))
}

fn scan_source_with(
    args: &SourceArgs,
    scan: Option<&ScanArgs>,
    selection: Selection,
    verify: bool,
    sink: &mut (dyn EventSink + Send),
) -> anyhow::Result<Outcome> {
    let period = period(args)?;
    let rules = identity_rules(args)?;
    let filters = Filters {
        accounts: args.accounts.clone(),
        regions: args.regions.clone(),
    };
    let mut progress = Progress::start(matches!(
        crate::progress::display(),
        crate::progress::Display::Bars | crate::progress::Display::Lines
    ));
    let counters = Some(Arc::clone(&progress.counters));
    let outcome = match args.source.strip_prefix("s3://") {
        Some(rest) => {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let options = ArchiveOptions {
                filters,
                selection,
                verify,
                rules,
                max_in_flight: args.max_in_flight,
                max_file_bytes: args.max_file_bytes(),
            };
            let athena = match scan {
                Some(scan) => athena_target(scan, bucket)?,
                None => None,
            };
            match athena {
                Some(target) => scan_athena(args, bucket, prefix, &period, &options, &target, sink),
                None => scan_s3(args, bucket, prefix, &period, &options, sink, counters),
            }
        }
        None => scan_local(
            args,
            Path::new(&args.source),
            &period,
            filters,
            selection,
            verify,
            rules,
            sink,
            counters,
        ),
    };
    progress.finish();
    let mut outcome = outcome?;
    add_coverage_gaps(&mut outcome, &period);
    Ok(outcome)
}

fn scan_s3(
    args: &SourceArgs,
    bucket: &str,
    prefix: &str,
    period: &Period,
    options: &ArchiveOptions,
    sink: &mut (dyn EventSink + Send),
    counters: Option<Arc<Counters>>,
) -> anyhow::Result<Outcome> {
    let config = Config::load(&args.config)?;
    let owner = args
        .bucket_account
        .clone()
        .or_else(|| {
            config
                .trail_buckets
                .iter()
                .find(|b| b.bucket == bucket)
                .map(|b| b.account.clone())
        })
        .unwrap_or_else(|| config.cicd_account.clone());
    let Some(account) = config.accounts.iter().find(|a| a.id == owner) else {
        bail!(
            "account {owner} (reading s3://{bucket}) is not in {}",
            args.config.display()
        );
    };
    let session = SessionOptions {
        profile: args.profile.clone(),
        endpoint_url: args.endpoint_url.clone(),
        // Downloads are what this command does: as many in flight for the bucket's account as asked for.
        max_requests_per_account: args.max_in_flight.max(1),
        max_requests: args.max_in_flight.max(1),
        ..SessionOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let base = crate::collect::session::base_config(&config, &session).await;
        let clients = crate::collect::session::account_clients(&base, &config, account)
            .await
            .map_err(|e| anyhow::anyhow!("cannot read account {owner}: {e}"))?;
        let scan =
            trail_archive::scan_bucket(&clients, bucket, prefix, period, options, sink, counters)
                .await
                .map_err(|e| anyhow::anyhow!(e))?;
        Ok(Outcome {
            source: format!("s3://{bucket}/{}", normalise_prefix(prefix)),
            totals: scan.totals,
            integrity: scan.integrity,
            public_keys: scan.public_keys,
            prefix: normalise_prefix(prefix),
            athena_table: None,
        })
    })
}

/// The bucket's account clients, on a runtime of their own (for the S3 and Athena sources).
fn with_bucket_clients<T>(
    args: &SourceArgs,
    bucket: &str,
    requests: usize,
    work: impl AsyncFnOnce(crate::collect::session::AccountClients) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let config = Config::load(&args.config)?;
    let owner = args
        .bucket_account
        .clone()
        .or_else(|| {
            config
                .trail_buckets
                .iter()
                .find(|b| b.bucket == bucket)
                .map(|b| b.account.clone())
        })
        .unwrap_or_else(|| config.cicd_account.clone());
    let Some(account) = config.accounts.iter().find(|a| a.id == owner) else {
        bail!(
            "account {owner} (reading s3://{bucket}) is not in {}",
            args.config.display()
        );
    };
    let session = SessionOptions {
        profile: args.profile.clone(),
        endpoint_url: args.endpoint_url.clone(),
        max_requests_per_account: requests,
        max_requests: requests,
        ..SessionOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let base = crate::collect::session::base_config(&config, &session).await;
        let clients = crate::collect::session::account_clients(&base, &config, account)
            .await
            .map_err(|e| anyhow::anyhow!("cannot read account {owner}: {e}"))?;
        work(clients).await
    })
}

/// `--engine athena`: the selection runs in Athena over the table (`crate::collect::trail_athena`); its rows go
/// through the native extractor and deduplication. A table that does not cover the archive, or a query that
/// fails, is cancelled or interrupted, is an error: the scan is not done.
fn scan_athena(
    args: &SourceArgs,
    bucket: &str,
    prefix: &str,
    period: &Period,
    options: &ArchiveOptions,
    target: &AthenaTarget,
    sink: &mut (dyn EventSink + Send),
) -> anyhow::Result<Outcome> {
    let options = ArchiveOptions {
        max_file_bytes: args.max_file_bytes(),
        ..options.clone()
    };
    let scan = with_bucket_clients(args, bucket, 4, async |clients| {
        crate::collect::trail_athena::scan_bucket_athena(
            &clients, bucket, prefix, period, &options, target, sink,
        )
        .await
        .map_err(|e| anyhow::anyhow!("s3://{bucket}: {e}; the scan of this archive is incomplete"))
    })?;
    Ok(Outcome {
        source: format!(
            "athena:{}.{} (s3://{bucket}/{})",
            target.table.database,
            target.table.table,
            normalise_prefix(prefix)
        ),
        totals: scan.totals,
        integrity: None,
        public_keys: Vec::new(),
        prefix: normalise_prefix(prefix),
        athena_table: Some(format!("{}.{}", target.table.database, target.table.table)),
    })
}

#[allow(clippy::too_many_arguments)]
fn scan_local(
    args: &SourceArgs,
    dir: &Path,
    period: &Period,
    filters: Filters,
    selection: Selection,
    verify: bool,
    rules: IdentityRules,
    sink: &mut (dyn EventSink + Send),
    counters: Option<Arc<Counters>>,
) -> anyhow::Result<Outcome> {
    if !dir.join("AWSLogs").is_dir() {
        bail!("{} holds no AWSLogs/ folder (give the folder the archive was exported into, or s3://bucket/prefix)", dir.display());
    }
    let listing = local::list_files(dir, &filters, period, FileKind::Log, 1);
    if let Some(c) = &counters {
        c.files_total.store(
            listing.files.len() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
    }
    let settings = ScanSettings {
        max_file_bytes: args.max_file_bytes(),
        render: sink.renderer(),
        ..ScanSettings::new(selection, *period, verify, rules)
    };
    let mut scanner = Scanner::new(sink, counters, verify);
    local::scan_files(&listing.files, &settings, &mut scanner)?;
    let mut totals = scanner.totals;
    // What the walk would not read (special files, links out of the tree) is unreadable evidence too.
    totals.unreadable.extend(listing.not_read);
    let mut outcome = Outcome {
        source: dir.display().to_string(),
        totals,
        integrity: None,
        public_keys: Vec::new(),
        prefix: String::new(),
        athena_table: None,
    };
    if verify {
        let listing = local::list_files(dir, &filters, period, FileKind::Digest, 1);
        outcome.totals.unreadable.extend(listing.not_read);
        let digest_files = listing.files;
        if !digest_files.is_empty() {
            outcome.public_keys = match &args.public_keys {
                Some(p) => load_public_keys(p)?,
                None => bail!("verifying a local archive needs --public-keys (a snapshot or a list-public-keys output)"),
            };
            let digests: Vec<DigestInput> = digest_files
                .iter()
                .map(|f| {
                    // A signature is 512 hex characters; only a small regular file is read.
                    let sidecar = |ext: &str| {
                        local::read_regular(
                            Path::new(&format!("{}.{ext}", f.path.display())),
                            64 << 10,
                        )
                        .ok()
                        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
                    };
                    DigestInput {
                        location: f.path.display().to_string(),
                        bucket: None,
                        key: f.key.clone(),
                        data: local::read_regular(&f.path, args.max_file_bytes()),
                        signature: sidecar("signature"),
                        algorithm: sidecar("signature-algorithm"),
                    }
                })
                .collect();
            let day_set: BTreeSet<NaiveDate> = days(period, 1).into_iter().collect();
            let evidence = LogEvidence {
                hashes: &outcome.totals.hashes,
                log_days: &day_set,
                digest_days: &day_set,
                prefix: "",
            };
            outcome.integrity = Some(integrity::verify(&digests, &outcome.public_keys, &evidence));
        }
    }
    Ok(outcome)
}

/// Public keys from a snapshot, a `TrailPublicKey` list, or `aws cloudtrail list-public-keys` output.
pub fn load_public_keys(path: &Path) -> anyhow::Result<Vec<TrailPublicKey>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    if let Some(list) = v.get("PublicKeyList").and_then(serde_json::Value::as_array) {
        let s = |k: &serde_json::Value, f: &str| {
            k.get(f)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        return Ok(list
            .iter()
            .map(|k| TrailPublicKey {
                region: String::new(),
                fingerprint: s(k, "Fingerprint"),
                value_base64: s(k, "Value"),
                valid_from: None,
                valid_until: None,
            })
            .collect());
    }
    if let Some(accounts) = v.get("accounts").and_then(serde_json::Value::as_array) {
        let mut keys = Vec::new();
        for a in accounts {
            for scan in a
                .get("trail_archives")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(k) = scan.get("public_keys") {
                    keys.extend(serde_json::from_value::<Vec<TrailPublicKey>>(k.clone())?);
                }
            }
        }
        return Ok(keys);
    }
    if let Some(k) = v.get("public_keys") {
        return Ok(serde_json::from_value(k.clone())?);
    }
    Ok(serde_json::from_value(v)?)
}

#[derive(Debug, Args)]
pub struct AthenaDdlArgs {
    /// `s3://bucket[/prefix]`: where the archive is.
    pub source: String,
    /// The table to create, DB.TABLE.
    #[arg(long)]
    pub athena_table: String,
    /// For an organisation trail: its organisation id (`o-...`).
    #[arg(long)]
    pub org_id: Option<String>,
    /// Accounts the projection enumerates (repeatable); default: the configuration's accounts.
    #[arg(long = "account")]
    pub accounts: Vec<String>,
    /// Regions the projection enumerates (repeatable); default: every commercial region.
    #[arg(long = "region")]
    pub regions: Vec<String>,
    /// Configuration file (for the default account list).
    #[arg(long, default_value = "gateaudit.toml")]
    pub config: PathBuf,
    /// First day of the projected range (YYYY-MM-DD).
    #[arg(long, default_value = "2013-11-01")]
    pub first_day: String,
}

/// `gateaudit trail athena-ddl`: prints the `CREATE EXTERNAL TABLE` of the Athena engine's table for a bucket.
pub fn run_athena_ddl(args: &AthenaDdlArgs) -> anyhow::Result<u8> {
    use super::athena::{ddl, TableName};
    let Some(rest) = args.source.strip_prefix("s3://") else {
        bail!(
            "{:?}: the Athena table reads an S3 archive, give s3://bucket[/prefix]",
            args.source
        );
    };
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let table = TableName::parse(&args.athena_table).context("--athena-table")?;
    if let Some(org) = &args.org_id {
        if !super::layout::is_org_id(org) {
            bail!("--org-id {org:?} is not an organisation id (o-...)");
        }
    }
    let accounts = if args.accounts.is_empty() {
        Config::load(&args.config)
            .with_context(|| {
                format!(
                    "no --account given, and {} gives none",
                    args.config.display()
                )
            })?
            .accounts
            .iter()
            .map(|a| a.id.clone())
            .collect()
    } else {
        args.accounts.clone()
    };
    for a in &accounts {
        if !super::layout::is_account_id(a) {
            bail!("account {a:?} is not a 12-digit account id");
        }
    }
    let first = NaiveDate::parse_from_str(&args.first_day, "%Y-%m-%d")
        .with_context(|| format!("--first-day {:?} is not YYYY-MM-DD", args.first_day))?;
    let text = ddl::ddl(&ddl::DdlInput {
        table: &table,
        bucket,
        prefix,
        org_id: args.org_id.as_deref(),
        accounts: &accounts,
        regions: &args.regions,
        first_day: &first.format("%Y/%m/%d").to_string(),
    });
    print!("{text}");
    Ok(EXIT_OK)
}
