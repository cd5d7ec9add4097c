//! `gateaudit history`, `gateaudit diff`, and the store steps of `audit`/`check` (`--store`, `--incremental`):
//! argument parsing, wiring and console output only; the work is in the sibling modules.
//! Exit codes: 0 answered, 1 a run that could not be read or verified (or another error), 2 usage.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;

use super::history::{self, Format, HistoryQuery};
use super::incremental::Previous;
use super::{Location, Store, StoreOptions};
use crate::report::text::visible;

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// The evidence store: a directory or s3://bucket/prefix.
    #[arg(long)]
    pub store: String,
    /// Only runs whose period ends at or after this, and approvals made since (YYYY-MM-DD or RFC 3339, UTC).
    #[arg(long)]
    pub since: Option<String>,
    /// Pipeline name pattern (`*`, `?`).
    #[arg(long)]
    pub pipeline: Option<String>,
    /// Part of a person key or name (case-insensitive).
    #[arg(long)]
    pub person: Option<String>,
    /// Only this check's findings.
    #[arg(long)]
    pub check: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Also write the trend (findings per check per run) as a PDF to this file.
    #[arg(long)]
    pub pdf: Option<std::path::PathBuf>,
    /// AWS profile for an s3:// store (else the standard chain).
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// S3 endpoint of the store (an emulator); AWS_ENDPOINT_URL works too.
    #[arg(long)]
    pub endpoint_url: Option<String>,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The earlier run: a run id of --store, or a report folder.
    pub run_a: String,
    /// The later run: a run id of --store, or a report folder.
    pub run_b: String,
    /// The evidence store the run ids are in.
    #[arg(long)]
    pub store: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// S3 endpoint of the store (an emulator); AWS_ENDPOINT_URL works too.
    #[arg(long)]
    pub endpoint_url: Option<String>,
}

/// A usage error of these commands (bad store location or date): `main` exits 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn parse_time(text: &str) -> Result<DateTime<Utc>, UsageError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            UsageError(format!(
                "--since: {text:?} is neither YYYY-MM-DD nor RFC 3339"
            ))
        })
}

fn open(
    text: &str,
    profile: Option<String>,
    endpoint_url: Option<String>,
) -> anyhow::Result<Store> {
    let location = Location::parse(text).map_err(|e| UsageError(e.to_string()))?;
    Ok(Store::open(
        &location,
        &StoreOptions {
            profile,
            endpoint_url,
        },
    )?)
}

/// The run `--incremental` continues (None: the store has none yet, and the run collects everything).
pub fn newest_run(store: &Store) -> anyhow::Result<Option<Previous>> {
    let previous = super::incremental::newest_complete(store)
        .with_context(|| "--incremental: the newest run of the store cannot be continued")?;
    match &previous {
        Some(p) => eprintln!(
            "incremental: continuing run {} of {} (collected {})",
            p.run_id,
            visible(store.name()),
            p.snapshot.collected_at.format("%Y-%m-%dT%H:%M:%SZ")
        ),
        None => eprintln!(
            "incremental: {} holds no complete run yet; collecting the whole period",
            visible(store.name())
        ),
    }
    Ok(previous)
}

/// Publishes a finished report folder into the store, when there is one.
pub fn publish(store: Option<&Store>, dir: &std::path::Path) -> anyhow::Result<()> {
    let Some(store) = store else { return Ok(()) };
    let published = store.publish(dir).with_context(|| {
        format!(
            "the reports are in {}, but could not be published",
            dir.display()
        )
    })?;
    println!(
        "stored: run {} in {} ({} files, manifest last{})",
        published.run,
        visible(store.name()),
        published.keys.len(),
        published
            .retention
            .map(|r| format!("; Object Lock {r}"))
            .unwrap_or_default()
    );
    Ok(())
}

pub fn history(args: &HistoryArgs) -> anyhow::Result<u8> {
    let query = HistoryQuery {
        since: args.since.as_deref().map(parse_time).transpose()?,
        pipeline: args.pipeline.clone(),
        person: args.person.clone(),
        check: args.check.clone(),
    };
    let store = open(&args.store, args.profile.clone(), args.endpoint_url.clone())?;
    let h = history::history(&store, &query)?;
    print!("{}", history::render_history(&h, args.format)?);
    if args.format == Format::Json {
        println!();
    }
    if let Some(path) = &args.pdf {
        crate::report::pdf::trend::write_trend_pdf(store.name(), &h.runs, path)?;
        eprintln!("trend: {}", path.display());
    }
    for p in &h.problems {
        eprintln!("gateaudit: history: {}", visible(p));
    }
    Ok(if h.problems.is_empty() { 0 } else { 1 })
}

pub fn diff(args: &DiffArgs) -> anyhow::Result<u8> {
    let store = args
        .store
        .as_deref()
        .map(|s| open(s, args.profile.clone(), args.endpoint_url.clone()))
        .transpose()?;
    let a = history::load_named(&args.run_a, store.as_ref())?;
    let b = history::load_named(&args.run_b, store.as_ref())?;
    let d = history::diff(&a, &b);
    print!("{}", history::render_diff(&d, args.format)?);
    if args.format == Format::Json {
        println!();
    }
    Ok(0)
}
