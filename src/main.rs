//! The `gateaudit` command line: parses arguments, wires configuration, collection, checks and reports, and maps
//! the outcome to exit codes (0 clean, 3 violations, 1 error or incomplete collection, 2 usage).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use clap::{Args, CommandFactory, Parser, Subcommand};

use gateaudit::audit::{self, Outcome, RunOptions, SnapshotSource};
use gateaudit::collect::{self, SessionOptions};
use gateaudit::config::Config;
use gateaudit::model::{Period, Severity, Snapshot};
use gateaudit::report::text::visible;
use gateaudit::rules::RuleSet;

const EXIT_OK: u8 = 0;
const EXIT_ERROR: u8 = 1;
const EXIT_VIOLATIONS: u8 = 3;
const EXIT_USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "gateaudit",
    version,
    about = "Proves that AWS CodePipeline change management is enforced"
)]
struct Cli {
    /// Log detail on stderr: error, warn, info, debug, trace (default warn, or what -q/-v say; RUST_LOG overrides).
    #[arg(long, global = true)]
    log_level: Option<String>,
    /// More log detail on stderr: -v info, -vv debug.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    verbose: u8,
    /// Nothing on stderr but errors: no progress, no totals line.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Log, progress and totals lines on stderr as text or as one JSON object per line (for schedulers).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Collect a snapshot of every configured account (read-only calls) and write it to a file.
    Collect {
        #[command(flatten)]
        source: CollectArgs,
        /// Where to write the snapshot.
        #[arg(long, default_value = "snapshot.json")]
        out: PathBuf,
    },
    /// Run the checks offline on a saved snapshot and write the reports.
    Check {
        #[arg(long)]
        snapshot: PathBuf,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Collect, check and report in one go.
    Audit {
        #[command(flatten)]
        source: CollectArgs,
        #[command(flatten)]
        run: RunArgs,
        /// Continue the newest complete run of --store: read only CloudTrail events since it (less an hour of
        /// overlap) and carry its events and coverage over.
        #[arg(long, requires = "store")]
        incremental: bool,
    },
    /// Approvals and findings over time, from the runs of an evidence store.
    History(gateaudit::store::cli::HistoryArgs),
    /// Findings that appeared, disappeared or changed, and waivers that started or ended, between two runs.
    Diff(gateaudit::store::cli::DiffArgs),
    /// Which principals are allowed (or possibly allowed) an action on a resource, per a saved snapshot.
    WhoCan {
        #[arg(long)]
        snapshot: PathBuf,
        /// e.g. codepipeline:PutApprovalResult
        #[arg(long)]
        action: String,
        /// e.g. arn:aws:codepipeline:us-east-1:111111111111:webapp/ProdGate/ApprovalA
        #[arg(long)]
        resource: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The approval ledger (CSV and PDF) for exactly the scope an auditor asks for, from a saved snapshot.
    Evidence {
        #[arg(long)]
        snapshot: PathBuf,
        /// Start of the scope (YYYY-MM-DD or RFC 3339, UTC).
        #[arg(long)]
        since: String,
        /// End of the scope (exclusive).
        #[arg(long)]
        until: String,
        /// Account id or name (repeatable).
        #[arg(long)]
        account: Vec<String>,
        /// Pipeline name pattern with * and ? (repeatable).
        #[arg(long)]
        pipeline: Vec<String>,
        /// Environment label, e.g. prod (repeatable).
        #[arg(long)]
        environment: Vec<String>,
        /// Rule set for identity normalisation; default: the one stored in the snapshot.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Parent directory; the evidence goes into <out>/evidence-<time>/.
        #[arg(long, default_value = "reports")]
        out: PathBuf,
        /// Sign the evidence manifest with this Ed25519 key.
        #[arg(long)]
        signing_key: Option<PathBuf>,
    },
    /// Enforce now: judge ONE pipeline execution before it deploys (exit 0 proceed, 3 violations, 1 cannot decide).
    Gate(gateaudit::gate::cli::GateArgs),
    /// Read the CloudTrail log archive (s3://bucket[/prefix] or a local copy): scan events, verify digests.
    #[command(subcommand)]
    Trail(TrailCommand),
    /// Recompute the SHA-256 of every file in a report directory against its manifest (and check the signature).
    VerifyReport {
        dir: PathBuf,
        /// The Ed25519 public key the manifest must be signed with (PEM or 64 hex characters).
        #[arg(long)]
        public_key: Option<PathBuf>,
    },
    /// Offline IAM policy simulator: reads one JSON request (or JSON Lines with --jsonl) from FILE or stdin.
    Simulate {
        /// Input file, or - for standard input.
        #[arg(default_value = "-")]
        input: String,
        /// One request per line, one answer per line.
        #[arg(long)]
        jsonl: bool,
    },
    /// Print a shell completion script, e.g. `gateaudit completions bash > /etc/bash_completion.d/gateaudit`.
    Completions {
        #[arg(value_enum)]
        shell: gateaudit::cli_docs::CompletionShell,
    },
    /// Print the man page (roff), e.g. `gateaudit man > gateaudit.1`.
    Man,
}

#[derive(Subcommand)]
enum TrailCommand {
    /// Extract approvals and mutating events from the archive (only the day folders of the period are read).
    Scan(gateaudit::trail::cli::ScanArgs),
    /// Check digest signatures, the digest chain and every log file's hash.
    Verify(gateaudit::trail::cli::VerifyArgs),
    /// Print the Amazon Athena table DDL (partition projection over the archive layout) for a bucket.
    AthenaDdl(gateaudit::trail::cli::AthenaDdlArgs),
}

#[derive(Args)]
struct CollectArgs {
    /// The configuration file.
    #[arg(long, default_value = "gateaudit.toml")]
    config: PathBuf,
    /// Start of the audit period (YYYY-MM-DD or RFC 3339, UTC); default: `lookback_days` before --until.
    #[arg(long)]
    since: Option<String>,
    /// End of the audit period (exclusive); default: now.
    #[arg(long)]
    until: Option<String>,
    /// AWS profile for the base credentials (else the standard chain: env, AWS_PROFILE, SSO, instance role).
    #[arg(long, env = "AWS_PROFILE")]
    profile: Option<String>,
    /// Attempts per AWS call, including the first (adaptive retries: backoff with jitter).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=20))]
    max_attempts: u32,
    /// AWS requests in flight at once, all accounts together.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=1024))]
    max_requests: u32,
    /// AWS requests in flight at once for one account.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    max_requests_per_account: u32,
}

#[derive(Args)]
struct RunArgs {
    /// Rule set (TOML); default: the one named in the configuration, or for `check` the one stored in the snapshot.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Parent directory of the reports; each run writes into <out>/<run-id>/.
    #[arg(long, default_value = "reports")]
    out: PathBuf,
    /// Exit with 3 when an unwaived finding at or above this severity exists.
    #[arg(long, value_enum, default_value_t = Severity::High)]
    fail_on: Severity,
    /// Do not fail (exit 1) when an account could not be collected completely.
    #[arg(long)]
    allow_incomplete: bool,
    /// Waivers file (default: the configuration's `waivers`, else policies/waivers.toml when it exists).
    #[arg(long)]
    waivers: Option<PathBuf>,
    /// Sign manifest.json with this Ed25519 key (PKCS#8 PEM from `openssl genpkey -algorithm ed25519`, or a
    /// 32-byte seed in hex); verify with `gateaudit verify-report DIR --public-key KEY.pub`.
    #[arg(long)]
    signing_key: Option<PathBuf>,
    /// write-access.csv lists every grant of the exempt principals (deployment roles, break-glass) one by one;
    /// by default each exempt principal is one row with the count and its widest grant.
    #[arg(long)]
    full: bool,
    /// Publish the run's report folder into this evidence store (a directory or s3://bucket/prefix), write-once.
    #[arg(long)]
    store: Option<String>,
}

/// A request that cannot be what was meant (bad dates, an empty period, filters naming nothing): exit 2.
#[derive(Debug)]
struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

fn is_usage(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause.downcast_ref::<Usage>().is_some()
            || cause
                .downcast_ref::<gateaudit::config::ConfigError>()
                .is_some()
            || cause
                .downcast_ref::<gateaudit::store::cli::UsageError>()
                .is_some()
            || cause
                .downcast_ref::<gateaudit::analysis::evidence::EvidenceError>()
                .is_some_and(|e| e.is_usage())
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.log_format == LogFormat::Json;
    let level = cli.log_level.clone().unwrap_or_else(|| {
        match (cli.quiet, cli.verbose) {
            (true, _) => "error",
            (false, 0) => "warn",
            (false, 1) => "info",
            _ => "debug",
        }
        .to_owned()
    });
    init_logging(&level, if cli.quiet { "error" } else { "warn" }, json);
    gateaudit::progress::init(cli.quiet, json);
    let (code, what) = match run(cli) {
        Ok(code) => return ExitCode::from(code),
        Err(e) if is_usage(&e) => (EXIT_USAGE, format!("usage: {}", shown(&e))),
        Err(e) => (EXIT_ERROR, format!("error: {}", shown(&e))),
    };
    if json {
        eprintln!(
            "{}",
            serde_json::json!({"timestamp": Utc::now().to_rfc3339(), "level": "ERROR", "message": what})
        );
    } else {
        eprintln!("gateaudit: {what}");
    }
    ExitCode::from(code)
}

/// An error as printed: its chain, control characters shown, secrets blanked.
fn shown(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    visible(&gateaudit::logging::redact(&text)).into_owned()
}

/// `level` for gateaudit's own events, `others` for the libraries' (the SDK's warnings); RUST_LOG overrides both.
fn init_logging(level: &str, others: &str, json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("gateaudit={level},{others}"))
    });
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(gateaudit::logging::RedactingStderr);
    if json {
        log.json().init();
    } else {
        log.with_ansi(std::io::stderr().is_terminal()).init();
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let started = std::time::Instant::now();
    match cli.command {
        Command::Collect { source, out } => {
            let (snapshot, _, _) = collect_snapshot(&source, None, None)?;
            totals(&snapshot, None, started);
            snapshot.save(&out)?;
            println!("snapshot written to {}", out.display());
            for a in snapshot.accounts.iter().filter(|a| !a.is_complete()) {
                eprintln!(
                    "incomplete: account {} ({})",
                    visible(&a.account_id),
                    visible(&a.name)
                );
            }
            Ok(if snapshot.is_complete() {
                EXIT_OK
            } else {
                EXIT_ERROR
            })
        }
        Command::Audit {
            source,
            run,
            incremental,
        } => {
            let store = open_store(&run, Some(&source.config), source.profile.clone())?;
            let previous = match (&store, incremental) {
                (Some(store), true) => gateaudit::store::cli::newest_run(store)?,
                _ => None,
            };
            let (snapshot, rules, policy_path) =
                collect_snapshot(&source, run.policy.as_deref(), previous.as_ref())?;
            let dir = run.out.join(&snapshot.run_id);
            let key = signing_key(&run)?;
            let (waivers, waivers_path) =
                load_waivers(&run, Config::load(&source.config)?.waivers_path())?;
            let options = RunOptions {
                fail_on: run.fail_on,
                snapshot_source: SnapshotSource::Collected,
                inputs: vec![source.config.clone(), policy_path],
                signing_key: key.as_ref(),
                waivers: &waivers,
                waivers_file: waivers_path,
                full_write_access: run.full,
            };
            let outcome = checked(|| audit::run(&snapshot, &rules, &dir, &options))?;
            gateaudit::store::cli::publish(store.as_ref(), &outcome.dir)?;
            let code = finish(&outcome, &run, &rules);
            totals(&snapshot, Some((&outcome, run.fail_on)), started);
            Ok(code)
        }
        Command::History(args) => gateaudit::store::cli::history(&args),
        Command::Diff(args) => gateaudit::store::cli::diff(&args),
        Command::Evidence {
            snapshot,
            since,
            until,
            account,
            pipeline,
            environment,
            policy,
            out,
            signing_key,
        } => {
            let scope = gateaudit::analysis::evidence::EvidenceScope {
                period: Period {
                    since: parse_time(&since, "--since")?,
                    until: parse_time(&until, "--until")?,
                },
                accounts: account,
                pipelines: pipeline,
                environments: environment,
            };
            evidence(
                &snapshot,
                scope,
                policy.as_deref(),
                &out,
                signing_key.as_deref(),
            )
        }
        Command::Gate(args) => gateaudit::gate::cli::run(&args),
        Command::Trail(TrailCommand::Scan(args)) => gateaudit::trail::cli::run_scan(&args),
        Command::Trail(TrailCommand::Verify(args)) => gateaudit::trail::cli::run_verify(&args),
        Command::Trail(TrailCommand::AthenaDdl(args)) => {
            gateaudit::trail::cli::run_athena_ddl(&args)
        }
        Command::VerifyReport { dir, public_key } => verify_report(&dir, public_key.as_deref()),
        Command::WhoCan {
            snapshot,
            action,
            resource,
            json,
        } => who_can(&snapshot, &action, &resource, json),
        Command::Simulate { input, jsonl } => simulate(&input, jsonl),
        Command::Completions { shell } => {
            let out = &mut std::io::stdout().lock();
            gateaudit::cli_docs::completions(&mut Cli::command(), shell, out)?;
            Ok(EXIT_OK)
        }
        Command::Man => {
            gateaudit::cli_docs::man_page(Cli::command(), &mut std::io::stdout().lock())?;
            Ok(EXIT_OK)
        }
        Command::Check { snapshot, run } => {
            let snap = Snapshot::load(&snapshot)?;
            let rules = snapshot_rules(&snap, run.policy.as_deref())?;
            let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
            let dir = run.out.join(format!(
                "{}-offline-{stamp}-{}",
                snap.run_id,
                gateaudit::report::staging::random_suffix()
            ));
            let key = signing_key(&run)?;
            let from_folder = run
                .waivers
                .is_none()
                .then(|| run_folder_waivers(&snapshot))
                .flatten();
            let (waivers, waivers_path) = load_waivers(&run, from_folder)?;
            let options = RunOptions {
                fail_on: run.fail_on,
                snapshot_source: SnapshotSource::File(&snapshot),
                inputs: run.policy.iter().cloned().collect(),
                signing_key: key.as_ref(),
                waivers: &waivers,
                waivers_file: waivers_path,
                full_write_access: run.full,
            };
            let store = open_store(&run, None, None)?;
            let outcome = checked(|| audit::run(&snap, &rules, &dir, &options))?;
            gateaudit::store::cli::publish(store.as_ref(), &outcome.dir)?;
            let code = finish(&outcome, &run, &rules);
            totals(&snap, Some((&outcome, run.fail_on)), started);
            Ok(code)
        }
    }
}

/// Runs the checks and writes the reports as one progress phase.
fn checked<T>(work: impl FnOnce() -> T) -> T {
    let phase = gateaudit::progress::Phase::start("checks", 0);
    let result = work();
    phase.finish();
    result
}

/// The run's last line on stderr: accounts, findings, elapsed time and AWS requests made.
fn totals(snapshot: &Snapshot, outcome: Option<(&Outcome, Severity)>, started: std::time::Instant) {
    let accounts = snapshot.accounts.len();
    let complete = snapshot.accounts.iter().filter(|a| a.is_complete()).count();
    let seconds = started.elapsed().as_secs_f64();
    let api_calls = collect::limits::requests_sent();
    let mut fields = serde_json::json!({"accounts": accounts, "complete_accounts": complete,
        "seconds": (seconds * 10.0).round() / 10.0, "api_calls": api_calls,
        "api_calls_by_account": collect::call_counts::by_account()});
    let mut text = format!("totals: {accounts} account(s) ({complete} complete)");
    if let Some((outcome, fail_on)) = outcome {
        let (findings, violations) = (outcome.findings.len(), outcome.violations(fail_on));
        text.push_str(&format!(
            ", {findings} finding(s) ({violations} unwaived at or above {fail_on})"
        ));
        fields["findings"] = findings.into();
        fields["violations"] = violations.into();
    }
    text.push_str(&format!(", {seconds:.1}s, {api_calls} API call(s)"));
    gateaudit::progress::event("totals", &text, fields);
}

fn who_can(snapshot: &Path, action: &str, resource: &str, json: bool) -> anyhow::Result<u8> {
    let snapshot = Snapshot::load(snapshot)?;
    let rules = RuleSet::builtin_default();
    let access = gateaudit::analysis::access::AccessModel::new(&snapshot, &rules);
    // The resource's account is the fifth ARN segment; a resource without one (`*`) is asked of every account.
    let resource_account = resource.split(':').nth(4).filter(|a| !a.is_empty());
    let mut rows = Vec::new();
    for account in snapshot
        .accounts
        .iter()
        .filter(|a| resource_account.is_none_or(|r| r == a.account_id))
    {
        for grant in access.who_can(&account.account_id, action, resource) {
            rows.push(serde_json::json!({
                "account": account.account_id,
                "principal": grant.principal.arn,
                "type": format!("{:?}", grant.principal.kind).to_lowercase(),
                "answer": format!("{:?}", grant.answer).to_lowercase(),
                "via_groups": &*grant.via_groups,
                "statements": &*grant.statements,
                "unknown_conditions": &*grant.unknowns,
            }));
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        println!(
            "{:<10} {:<8} {:<60} statements",
            "answer", "type", "principal"
        );
        for r in &rows {
            let text = |v: &serde_json::Value| {
                gateaudit::report::text::visible(v.as_str().unwrap_or_default()).into_owned()
            };
            let statements: Vec<String> = r["statements"]
                .as_array()
                .map(|a| a.iter().map(text).collect())
                .unwrap_or_default();
            println!(
                "{:<10} {:<8} {:<60} {}",
                text(&r["answer"]),
                text(&r["type"]),
                text(&r["principal"]),
                statements.join("; ")
            );
            if let Some(unknowns) = r["unknown_conditions"].as_array().filter(|u| !u.is_empty()) {
                let list: Vec<String> = unknowns.iter().map(text).collect();
                println!("{:<10} depends on: {}", "", list.join("; "));
            }
        }
        for problem in &access.problems {
            println!(
                "WARNING: {} in {} could not be evaluated: {}",
                visible(&problem.source),
                visible(&problem.account_id),
                visible(&problem.error)
            );
        }
    }
    Ok(EXIT_OK)
}

/// `gateaudit simulate`. One request: its answer, pretty-printed; bad input exits 2 with a message naming the JSON
/// path. `--jsonl`: answers stream, one compact JSON line per input line, each written and flushed before the next
/// line is read, so a caller can drive it through a pipe; a blank or bad line gets `{"line": N, "error": ...}` in its
/// place (and `line N: ...` on stderr) and processing goes on. Exit 0 when every line was a valid request, 2 at the
/// end of input when any line was bad, so a CI job feeding it requests fails on malformed ones.
fn simulate(input: &str, jsonl: bool) -> anyhow::Result<u8> {
    use std::io::{BufRead, Write};
    if jsonl {
        let mut reader: Box<dyn BufRead> = if input == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            let file =
                std::fs::File::open(input).with_context(|| format!("cannot read {input}"))?;
            Box::new(std::io::BufReader::new(file))
        };
        let mut out = std::io::stdout().lock();
        let (mut lines, mut bad) = (0usize, 0usize);
        let mut line = Vec::new();
        loop {
            line.clear();
            let read = reader
                .read_until(b'\n', &mut line)
                .with_context(|| format!("cannot read {input}"))?;
            if read == 0 {
                break;
            }
            lines += 1;
            let answer = gateaudit::iam::simulate_jsonl_line(lines, &line);
            if let Some(e) = answer.error() {
                bad += 1;
                eprintln!("gateaudit: bad simulator input: {e}");
            }
            writeln!(out, "{}", answer.to_json()).context("cannot write the answer")?;
            out.flush().context("cannot write the answer")?;
        }
        if bad > 0 {
            eprintln!("gateaudit: {bad} of {lines} input lines were not valid requests");
            return Ok(EXIT_USAGE);
        }
        return Ok(EXIT_OK);
    }
    let text = if input == "-" {
        std::io::read_to_string(std::io::stdin()).context("cannot read standard input")?
    } else {
        std::fs::read_to_string(input).with_context(|| format!("cannot read {input}"))?
    };
    let answer = gateaudit::iam::simulate_json(&text).and_then(|v| {
        serde_json::to_string_pretty(&v)
            .map_err(|e| gateaudit::iam::SimulateError::Json(e.to_string()))
    });
    match answer {
        Ok(out) => {
            println!("{out}");
            Ok(EXIT_OK)
        }
        Err(e) => {
            eprintln!("gateaudit: bad simulator input: {e}");
            Ok(EXIT_USAGE)
        }
    }
}

fn snapshot_rules(snapshot: &Snapshot, policy: Option<&Path>) -> anyhow::Result<RuleSet> {
    Ok(match policy {
        Some(path) => RuleSet::load(path)?,
        None if !snapshot.rule_set_source.is_empty() => {
            RuleSet::parse(&snapshot.rule_set_source, "snapshot rule set")?
        }
        None => RuleSet::builtin_default(),
    })
}

fn evidence(
    snapshot_path: &Path,
    scope: gateaudit::analysis::evidence::EvidenceScope,
    policy: Option<&Path>,
    out: &Path,
    signing_key: Option<&Path>,
) -> anyhow::Result<u8> {
    let snapshot = Snapshot::load(snapshot_path)?;
    let rules = snapshot_rules(&snapshot, policy)?;
    let people = gateaudit::analysis::identity::Directory::new(&snapshot, &rules.identity);
    let index = gateaudit::analysis::approvals::index(&snapshot, &rules, &people);
    let all_changes = gateaudit::analysis::changes::changes(&snapshot, &rules, &people, &index);
    let ledger = gateaudit::analysis::ledger::rows(&index, &all_changes);
    let (rows, completeness) = gateaudit::analysis::evidence::select(&snapshot, &ledger, &scope)?;
    let changes = gateaudit::analysis::evidence::select_changes(&snapshot, &all_changes, &scope);
    let staged = gateaudit::report::staging::StagedDir::create(&out.join(format!(
        "evidence-{}-{}",
        Utc::now().format("%Y%m%dT%H%M%SZ"),
        gateaudit::report::staging::random_suffix()
    )))?;
    let dir = staged.path().to_path_buf();
    let snapshot_copy = dir.join("snapshot.json");
    std::fs::copy(snapshot_path, &snapshot_copy).with_context(|| {
        format!(
            "cannot copy {} to {}",
            snapshot_path.display(),
            snapshot_copy.display()
        )
    })?;
    let snapshot_sha256 = audit::sha256_file(&snapshot_copy)?;
    let scope_path = dir.join("scope.json");
    let scope_doc = serde_json::json!({
        "scope": scope, "description": scope.describe(), "completeness": completeness,
        "snapshot": {"run_id": snapshot.run_id, "collected_at": snapshot.collected_at, "period": snapshot.period, "sha256": snapshot_sha256},
    });
    std::fs::write(&scope_path, serde_json::to_vec_pretty(&scope_doc)?)
        .with_context(|| format!("cannot write {}", scope_path.display()))?;
    let csv = gateaudit::report::csv_files::write_ledger(&rows, &dir.join("evidence.csv"))?;
    let changes_csv =
        gateaudit::report::csv_files::write_changes(&changes, &dir.join("changes.csv"))?;
    let pdf = gateaudit::report::pdf::write_evidence_pdf(
        &gateaudit::report::pdf::EvidenceDocument {
            snapshot: &snapshot,
            scope: &scope.describe(),
            completeness: &completeness,
            rows: &rows,
            changes: &changes,
            snapshot_sha256: &snapshot_sha256,
        },
        &dir.join("evidence.pdf"),
    )?;
    let key = signing_key
        .map(gateaudit::report::manifest::load_signing_key)
        .transpose()?;
    let outputs = vec![scope_path, csv, changes_csv, pdf];
    let manifest = gateaudit::report::manifest::write_manifest(
        &dir,
        &snapshot.run_id,
        &[snapshot_copy],
        &outputs,
        key.as_ref(),
    )?;
    let written: Vec<PathBuf> = outputs
        .iter()
        .chain(&manifest)
        .map(|f| staged.final_path(f))
        .collect();
    staged.commit()?;
    println!("evidence: {}", visible(&scope.describe()));
    println!(
        "{} approval(s); {} without an S3 record; {} not tied to an execution",
        completeness.rows, completeness.without_record, completeness.unattributed
    );
    println!(
        "{} production change(s) in scope, {} not compliant",
        changes.len(),
        changes.iter().filter(|c| !c.compliant()).count()
    );
    if !scope.environments.is_empty() && completeness.undetermined_environment > 0 {
        println!(
            "WARNING: {} approval(s) in the period gate no stage whose environment is known; an environment \
             filter cannot select them",
            completeness.undetermined_environment
        );
    }
    for account in &completeness.incomplete_accounts {
        println!(
            "INCOMPLETE account in scope: {} (the list may miss approvals there)",
            visible(account)
        );
    }
    for f in &written {
        println!("  {}", gateaudit::report::text::visible_path(f));
    }
    Ok(if completeness.incomplete_accounts.is_empty() {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}

/// The waivers to apply, and the file they came from (an input of the run): `--waivers`, else the
/// configuration's `waivers`, else `policies/waivers.toml` when it exists.
/// The waivers a report folder's run used (`<folder>/inputs/waivers.toml` beside its `snapshot.json` and
/// `manifest.json`): `check` on a snapshot inside a report folder re-checks it with the same waivers unless
/// `--waivers` says otherwise, and says so on standard error.
fn run_folder_waivers(snapshot: &Path) -> Option<PathBuf> {
    let folder = snapshot.parent()?;
    let waivers = folder.join("inputs").join("waivers.toml");
    if folder.join("manifest.json").is_file() && waivers.is_file() {
        eprintln!(
            "using the waivers of the report folder's run: {} (--waivers FILE to use others)",
            visible(&waivers.display().to_string())
        );
        Some(waivers)
    } else {
        None
    }
}

fn load_waivers(
    run: &RunArgs,
    from_config: Option<PathBuf>,
) -> anyhow::Result<(gateaudit::waivers::Waivers, Option<PathBuf>)> {
    let default = Path::new("policies/waivers.toml");
    let path = match (&run.waivers, from_config) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(p)) => Some(p),
        (None, None) if default.exists() => Some(default.to_path_buf()),
        (None, None) => None,
    };
    Ok(match path {
        Some(p) => (gateaudit::waivers::Waivers::load(&p)?, Some(p)),
        None => (gateaudit::waivers::Waivers::default(), None),
    })
}

fn signing_key(run: &RunArgs) -> anyhow::Result<Option<aws_lc_rs::signature::Ed25519KeyPair>> {
    Ok(match &run.signing_key {
        Some(path) => Some(gateaudit::report::manifest::load_signing_key(path)?),
        None => None,
    })
}

fn verify_report(dir: &Path, public_key: Option<&Path>) -> anyhow::Result<u8> {
    let key = public_key
        .map(gateaudit::report::manifest::load_public_key)
        .transpose()?;
    let result = gateaudit::report::manifest::verify(dir, key.as_deref())?;
    for problem in &result.problems {
        println!("ALTERED: {}", visible(problem));
    }
    if let Some(signature) = &result.signature {
        println!("signature: {signature}");
    }
    if result.problems.is_empty() {
        println!(
            "verified: {} files match manifest.json in {}",
            result.files_checked,
            dir.display()
        );
        Ok(EXIT_OK)
    } else {
        println!("verification FAILED: {} problem(s)", result.problems.len());
        Ok(EXIT_VIOLATIONS)
    }
}

/// The evidence store of `--store`, opened with the configuration's endpoint (an emulator) when there is one.
fn open_store(
    run: &RunArgs,
    config: Option<&Path>,
    profile: Option<String>,
) -> anyhow::Result<Option<gateaudit::store::Store>> {
    let Some(text) = &run.store else {
        return Ok(None);
    };
    let location = gateaudit::store::Location::parse(text).map_err(|e| Usage(e.to_string()))?;
    let endpoint_url = match config {
        Some(path) => Config::load(path)?.endpoint_url,
        None => None,
    };
    let options = gateaudit::store::StoreOptions {
        profile,
        endpoint_url,
    };
    Ok(Some(gateaudit::store::Store::open(&location, &options)?))
}

fn collect_snapshot(
    args: &CollectArgs,
    policy: Option<&Path>,
    previous: Option<&gateaudit::store::incremental::Previous>,
) -> anyhow::Result<(Snapshot, RuleSet, PathBuf)> {
    // Everything the user gave is checked before the first AWS call: a mistake there is a usage error (exit 2).
    let config = Config::load(&args.config)?;
    let mut period = period(args, &config)?;
    if let (Some(previous), None) = (previous, &args.since) {
        // An incremental run keeps the history the earlier runs covered.
        period.since = period.since.min(previous.snapshot.period.since);
    }
    let policy_path = policy
        .map(Path::to_path_buf)
        .unwrap_or_else(|| config.policy_path());
    let policy_text = std::fs::read_to_string(&policy_path).map_err(|e| {
        Usage(format!(
            "cannot read rule set {}: {e}",
            policy_path.display()
        ))
    })?;
    let rules = RuleSet::parse(&policy_text, &policy_path.display().to_string())
        .map_err(|e| Usage(e.to_string()))?;
    let options = SessionOptions {
        profile: args.profile.clone(),
        max_attempts: args.max_attempts,
        endpoint_url: None,
        max_requests: args.max_requests as usize,
        max_requests_per_account: args.max_requests_per_account as usize,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let resume = previous
        .map(|p| gateaudit::store::incremental::resume(&p.snapshot))
        .unwrap_or_default();
    let mut snapshot = runtime.block_on(collect::collect_resuming(
        &config,
        period,
        &options,
        (&rules.name, &policy_text),
        &resume,
    ));
    if let Some(previous) = previous {
        gateaudit::store::incremental::merge(&mut snapshot, &previous.snapshot, &previous.run_id);
    }
    Ok((snapshot, rules, policy_path))
}

fn parse_time(text: &str, what: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        if let Some(t) = d.and_hms_opt(0, 0, 0) {
            return Ok(t.and_utc());
        }
    }
    Err(Usage(format!(
        "{what}: {text:?} is neither YYYY-MM-DD nor an RFC 3339 time"
    ))
    .into())
}

fn period(args: &CollectArgs, config: &Config) -> anyhow::Result<Period> {
    let until = match &args.until {
        Some(t) => parse_time(t, "--until")?,
        None => Utc::now(),
    };
    let since = match &args.since {
        Some(t) => parse_time(t, "--since")?,
        None => until - Duration::days(config.lookback_days),
    };
    if since >= until {
        return Err(Usage(format!(
            "--since ({since}) must be before --until ({until}): the period is empty"
        ))
        .into());
    }
    Ok(Period { since, until })
}

/// Prints the console summary and returns the exit code.
fn finish(outcome: &Outcome, run: &RunArgs, rules: &RuleSet) -> u8 {
    let violations = outcome.violations(run.fail_on);
    let incomplete_checks = outcome.incomplete_checks().count();
    let (code, result) = if let Some(why) = &outcome.nothing_audited {
        // Even --allow-incomplete cannot accept an audit of nothing.
        (EXIT_ERROR, format!("result: FAILED, {why}"))
    } else if outcome.is_incomplete() && !run.allow_incomplete {
        (
            EXIT_ERROR,
            format!(
                "result: FAILED, incomplete: {} account(s) not collected completely, {incomplete_checks} check(s) \
                 could not read all their inputs (use --allow-incomplete to accept)",
                outcome.incomplete_accounts.len()
            ),
        )
    } else if violations > 0 {
        (
            EXIT_VIOLATIONS,
            format!(
                "result: FAILED, {violations} violation(s) at or above {}",
                run.fail_on
            ),
        )
    } else if outcome.is_incomplete() {
        (
            EXIT_OK,
            format!(
                "result: accepted as incomplete (--allow-incomplete): no unwaived finding at or above {}, but \
                 {incomplete_checks} check(s) are incomplete",
                run.fail_on
            ),
        )
    } else {
        (
            EXIT_OK,
            format!(
                "result: passed (no unwaived finding at or above {})",
                run.fail_on
            ),
        )
    };
    let summary = gateaudit::report::console::Summary {
        rule_set: &rules.name,
        ledger_rows: outcome.ledger_rows,
        checks: &outcome.checks,
        findings: &outcome.findings,
        incomplete_accounts: &outcome.incomplete_accounts,
        notes: &outcome.notes,
        dir: &outcome.dir,
        files: &outcome.files,
        fail_on: run.fail_on,
        result: &result,
        failed: code != EXIT_OK,
    };
    // --quiet: the exit code and the report folder say it all.
    if gateaudit::progress::display() != gateaudit::progress::Display::Off {
        let colour = gateaudit::report::console::use_colour(std::io::stdout().is_terminal());
        print!("{}", gateaudit::report::console::render(&summary, colour));
    }
    code
}
