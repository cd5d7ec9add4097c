//! Benchmark (not a test): time and peak memory to check and write every report format (snapshot.json, CSVs,
//! JSON, JUnit, PDF, manifest) for a snapshot of 100,000 approvals. Prints ratios against baselines measured in
//! the same run: serialising the snapshot to JSON (time) and the memory held by the snapshot itself.
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

fn main() {
    let approvals: usize = std::env::var("APPROVALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let (_, before) = memory_mb();
    let snapshot = snapshot(approvals);
    let (_, with_snapshot) = memory_mb();
    let snapshot_mb = (with_snapshot - before).max(1.0);

    let started = Instant::now();
    let json = serde_json::to_vec(&snapshot).unwrap_or_default();
    let baseline = started.elapsed().as_secs_f64();
    let json_mb = json.len() as f64 / 1e6;
    drop(json);

    let dir = std::env::temp_dir().join(format!("gateaudit-bench-reports-{}", std::process::id()));
    let rules = RuleSet::builtin_default();
    let waivers = Waivers::default();
    let options = RunOptions {
        fail_on: Severity::High,
        snapshot_source: SnapshotSource::Collected,
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
            eprintln!("bench failed: {e:#}");
            std::process::exit(1);
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    let (peak, _) = memory_mb();
    println!(
        "snapshot: {approvals} approvals, {json_mb:.0} MB as JSON, ~{snapshot_mb:.0} MB in memory"
    );
    println!("baseline: serialise the snapshot to JSON: {baseline:.2} s");
    println!(
        "check + write every format: {elapsed:.2} s ({:.1}x the baseline), {} ledger rows, {} findings",
        elapsed / baseline.max(1e-9),
        outcome.ledger_rows,
        outcome.findings.len()
    );
    for f in &outcome.files {
        let size = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
        println!(
            "  {:>8.1} MB  {}",
            size,
            f.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
    }
    println!(
        "peak resident memory: {peak:.0} MB ({:.1}x the snapshot's own memory)",
        peak / snapshot_mb
    );
    // BENCH_KEEP=1 keeps the report folder (to look at the PDF of a large organisation).
    if std::env::var_os("BENCH_KEEP").is_some() {
        println!("reports kept in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
