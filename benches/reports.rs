//! Benchmark (not a test): time and peak memory of the offline audit of a snapshot of 100,000 approvals: read and
//! parse snapshot.json, check, write every format (CSVs, JSON, JUnit, PDF and its volumes, manifest). Prints
//! ratios against a baseline measured in the same run (serialising the snapshot to JSON), peak memory against
//! snapshot.json's size, and the targets (< 10 s, < 512 MB).
//!
//! Run: `cargo bench --bench reports` (APPROVALS=N to change the size, BENCH_KEEP=1 to keep the reports).

use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use gateaudit::audit::{self, RunOptions, SnapshotSource};
use gateaudit::model::*;
use gateaudit::rules::RuleSet;
use gateaudit::waivers::Waivers;

const ACCOUNT: &str = "111111111111";
const PIPELINES: usize = 50;
const GATES: [(&str, &str); 3] = [
    ("TestGate", "TestApproval"),
    ("ProdGate", "ApprovalA"),
    ("ProdGate", "ApprovalB"),
];

/// Peak and current resident memory of this process, in MB (Linux /proc; 0 elsewhere).
fn memory_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn identity(n: usize) -> serde_json::Value {
    if n % 3 == 0 {
        serde_json::json!({"type": "AssumedRole", "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/Approvers/person{n}@example.com"),
            "accountId": ACCOUNT, "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{ACCOUNT}:role/Approvers")}}})
    } else {
        serde_json::json!({"type": "IAMUser", "arn": format!("arn:aws:iam::{ACCOUNT}:user/approver{}", n % 400), "accountId": ACCOUNT})
    }
}

fn snapshot(approvals: usize) -> Snapshot {
    let start = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_else(Utc::now);
    let executions = approvals / GATES.len();
    let mut pipelines: Vec<Pipeline> = (0..PIPELINES)
        .map(|p| Pipeline {
            name: format!("service-{p}"),
            region: "us-east-1".into(),
            account_id: ACCOUNT.into(),
            version: 3,
            role_arn: format!("arn:aws:iam::{ACCOUNT}:role/pipeline"),
            stages: ["TestGate", "ProdGate"]
                .iter()
                .map(|s| Stage {
                    name: (*s).into(),
                    actions: GATES
                        .iter()
                        .filter(|(stage, _)| stage == s)
                        .map(|(_, a)| PipelineAction {
                            name: (*a).into(),
                            category: "Approval".into(),
                            owner: "AWS".into(),
                            provider: "Manual".into(),
                            run_order: 1,
                            ..PipelineAction::default()
                        })
                        .collect(),
                    ..Stage::default()
                })
                .collect(),
            ..Pipeline::default()
        })
        .collect();
    let mut events = Vec::with_capacity(approvals);
    let mut records = Vec::with_capacity(approvals);
    for e in 0..executions {
        let pipeline = &mut pipelines[e % PIPELINES];
        let t0 = start + Duration::minutes(5 * e as i64);
        let id = format!("{e:08x}-0000-4000-8000-{:012x}", e * 7919);
        pipeline.executions.push(PipelineExecution {
            id: id.clone(),
            status: "Succeeded".into(),
            start_time: Some(t0),
            last_update_time: Some(t0 + Duration::minutes(4)),
            pipeline_version: Some(3),
            ..PipelineExecution::default()
        });
        for (g, (stage, action)) in GATES.iter().enumerate() {
            let n = e * GATES.len() + g;
            let when = t0 + Duration::minutes(g as i64 + 1);
            let who = identity(n);
            let arn = who["arn"].as_str().unwrap_or_default().to_owned();
            pipeline.action_executions.push(ActionExecution {
                pipeline_execution_id: id.clone(),
                action_execution_id: format!("ae-{n}"),
                stage: (*stage).into(),
                action: (*action).into(),
                status: "Succeeded".into(),
                start_time: Some(t0),
                last_update_time: Some(when),
                updated_by: Some(arn),
                summary: Some(format!("CHG-{n}: reviewed, tests green")),
                category: Some("Approval".into()),
                provider: Some("Manual".into()),
                ..ActionExecution::default()
            });
            events.push(ApprovalEvent {
                event_id: format!("{n:08x}-1111-4000-8000-000000000000"),
                event_time: when,
                account_id: ACCOUNT.into(),
                region: "us-east-1".into(),
                pipeline: pipeline.name.clone(),
                stage: (*stage).into(),
                action: (*action).into(),
                status: "Approved".into(),
                summary: format!("CHG-{n}: reviewed, tests green"),
                token: None,
                error_code: None,
                identity: UserIdentity::from_cloudtrail(&who),
                origin: EventOrigin::LookupEvents,
            });
            if n % 50 != 0 {
                records.push(ApprovalRecord {
                    bucket: "records".into(),
                    key: format!(
                        "P/{}/{}/{action}-APPROVED-{}.txt",
                        pipeline.name,
                        when.format("%Y/%m/%d"),
                        when.format("%I:%M:%S-%p")
                    ),
                    size: 200,
                    last_modified: Some(when),
                    parsed: Some(ApprovalRecordKey {
                        pipeline: pipeline.name.clone(),
                        gate: (*action).into(),
                        status: "APPROVED".into(),
                        time: when,
                    }),
                });
            }
        }
    }
    Snapshot {
        schema_version: SCHEMA_VERSION,
        tool_version: "bench".into(),
        run_id: "bench-reports".into(),
        organisation: "Bench Corp".into(),
        collected_at: start + Duration::days(400),
        period: Period {
            since: start,
            until: start + Duration::days(400),
        },
        cicd_account: ACCOUNT.into(),
        regions: vec!["us-east-1".into()],
        rule_set: "default".into(),
        rule_set_source: String::new(),
        declared_deployment_roles: vec![],
        approval_record_buckets: vec![BucketRef {
            account: ACCOUNT.into(),
            bucket: "records".into(),
            prefix: "P/".into(),
        }],
        trail_buckets: vec![],
        organization: None,
        identity_center: None,
        accounts: vec![AccountSnapshot {
            account_id: ACCOUNT.into(),
            name: "cicd".into(),
            environment: "cicd".into(),
            iam: Some(IamSnapshot::default()),
            pipelines,
            approval_events: events,
            approval_records: records,
            ..AccountSnapshot::default()
        }],
    }
}

/// Targets of issue 15 for 100,000 approvals.
const TARGET_SECONDS: f64 = 10.0;
const TARGET_PEAK_MB: f64 = 512.0;

fn main() {
    // The measured run happens in a child process (this benchmark run again with BENCH_SNAPSHOT set), so its
    // peak memory is that of the offline audit alone: read snapshot.json, check, write every format.
    if let Some(path) = std::env::var_os("BENCH_SNAPSHOT") {
        measured_run(std::path::Path::new(&path));
        return;
    }
    let approvals: usize = std::env::var("APPROVALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let snapshot = snapshot(approvals);

    // Baseline: serialise the snapshot to JSON (what any tool writing the data once pays).
    let started = Instant::now();
    let json = serde_json::to_vec(&snapshot).unwrap_or_default();
    let baseline = started.elapsed().as_secs_f64();
    let json_mb = json.len() as f64 / 1e6;
    drop(snapshot);
    let work = std::env::temp_dir().join(format!("gateaudit-bench-reports-{}", std::process::id()));
    let snapshot_path = work.join("snapshot.json");
    if let Err(e) =
        std::fs::create_dir_all(&work).and_then(|()| std::fs::write(&snapshot_path, &json))
    {
        eprintln!(
            "bench failed: cannot write {}: {e}",
            snapshot_path.display()
        );
        std::process::exit(1);
    }
    drop(json);

    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("bench failed: no path to this benchmark: {e}");
            std::process::exit(1);
        }
    };
    let started = Instant::now();
    let child = std::process::Command::new(exe)
        .env("BENCH_SNAPSHOT", &snapshot_path)
        .output();
    let wall = started.elapsed().as_secs_f64();
    let output = match child {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => {
            eprintln!("bench failed: {}", String::from_utf8_lossy(&o.stderr));
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("bench failed: cannot run the measured process: {e}");
            std::process::exit(1);
        }
    };
    let field = |name: &str| -> f64 {
        output
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(f64::NAN)
    };
    let (parse, audit, peak) = (field("parse="), field("audit="), field("peak_mb="));
    let parse_peak = field("parse_peak_mb=");
    let total = parse + audit;
    println!("snapshot: {approvals} approvals, snapshot.json {json_mb:.0} MB");
    println!("baseline: serialise the snapshot to JSON: {baseline:.2} s");
    println!("offline audit of snapshot.json (one process, {wall:.2} s wall including start-up):");
    println!(
        "  read + parse snapshot.json: {parse:.2} s ({:.1}x the baseline), peak memory so far {parse_peak:.0} MB",
        parse / baseline.max(1e-9)
    );
    println!(
        "  check + write every format: {audit:.2} s ({:.1}x the baseline)",
        audit / baseline.max(1e-9)
    );
    for line in output.lines().filter(|l| l.starts_with("  ")) {
        println!("{line}");
    }
    println!(
        "total {total:.2} s: {:.1}x the baseline; target < {TARGET_SECONDS:.0} s: {}",
        total / baseline.max(1e-9),
        if total < TARGET_SECONDS {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "peak resident memory: {peak:.0} MB, {:.1}x snapshot.json's size; target < {TARGET_PEAK_MB:.0} MB: {}",
        peak / json_mb.max(1e-9),
        if peak < TARGET_PEAK_MB { "met" } else { "NOT met" }
    );
    // BENCH_KEEP=1 keeps the report folder (to look at the PDF of a large organisation).
    if std::env::var_os("BENCH_KEEP").is_some() {
        println!("reports kept in {}", work.display());
    } else {
        let _ = std::fs::remove_dir_all(&work);
    }
}

/// The measured process: `check` as an auditor runs it offline, on the snapshot file.
fn measured_run(snapshot_path: &std::path::Path) {
    let started = Instant::now();
    let snapshot = match Snapshot::load(snapshot_path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let parse = started.elapsed().as_secs_f64();
    let (parse_peak, _) = memory_mb();
    let dir = snapshot_path.with_file_name("report");
    let rules = RuleSet::builtin_default();
    let waivers = Waivers::default();
    let options = RunOptions {
        fail_on: Severity::High,
        snapshot_source: SnapshotSource::File(snapshot_path),
        inputs: vec![],
        signing_key: None,
        waivers: &waivers,
        waivers_file: None,
        full_write_access: false,
    };
    let started = Instant::now();
    let outcome = match audit::run(&snapshot, &rules, &dir, &options) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e:#}");
            std::process::exit(1);
        }
    };
    let audit = started.elapsed().as_secs_f64();
    let (peak, _) = memory_mb();
    println!("parse={parse}");
    println!("audit={audit}");
    println!("peak_mb={peak}");
    println!("parse_peak_mb={parse_peak}");
    println!(
        "  {} ledger rows, {} findings, {} files:",
        outcome.ledger_rows,
        outcome.findings.len(),
        outcome.files.len()
    );
    for f in &outcome.files {
        let size = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        println!("  {size:>8.1} MB  {name}");
    }
}
