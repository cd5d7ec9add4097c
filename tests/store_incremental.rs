//! The evidence store and incremental runs against the emulator: two audits of the demo organisation into an
//! `s3://` store (Object Lock, compliance mode) with a new approval made in between; the second reads only the
//! new events, the store holds both runs write-once, `history` and `diff` answer, and a publish that fails before
//! its manifest leaves no run that looks complete.

mod common;

use std::path::{Path, PathBuf};

use common::{read_json, run_python, text, Demo};

const BUCKET: &str = "gateaudit-evidence";
const APPROVALS: &str = "cloudtrail:LookupEvents(PutApprovalResult)";

/// Creates the store bucket with Object Lock enabled, as the auditor (the store is the user's own bucket).
fn create_bucket(demo: &Demo) {
    let env: std::collections::HashMap<_, _> = demo.env.iter().cloned().collect();
    run_python(
        r#"
import sys, boto3
endpoint, key, secret = sys.argv[1:4]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=key, aws_secret_access_key=secret)
s3.create_bucket(Bucket="gateaudit-evidence", ObjectLockEnabledForBucket=True)
"#,
        &[
            &demo.emulator.endpoint,
            &env["AWS_ACCESS_KEY_ID"],
            &env["AWS_SECRET_ACCESS_KEY"],
        ],
    );
}

/// A new execution of `webapp` whose test gate is approved now (PutApprovalResult through the API, recorded in
/// CloudTrail by the emulator); returns its execution id.
fn approve_now(demo: &Demo) -> String {
    let out = run_python(
        r#"
import sys, time
sys.path.insert(0, "tests/emulator")
import seed_demo
s = seed_demo.Seeder(sys.argv[1])
cp = s.client("codepipeline", seed_demo.CICD)
ex = cp.start_pipeline_execution(name=seed_demo.PIPELINE)["pipelineExecutionId"]
token = None
for _ in range(50):
    s.control("clock", {"reset": True})
    try:
        token = s.token("TestGate", "TestApproval")
        break
    except RuntimeError:
        time.sleep(0.1)
cp.put_approval_result(pipelineName=seed_demo.PIPELINE, stageName="TestGate", actionName="TestApproval",
                       result={"summary": "CHG-2001 approved between the runs", "status": "Approved"}, token=token)
print(ex)
"#,
        &[&demo.emulator.endpoint],
    );
    String::from_utf8_lossy(&out).trim().to_owned()
}

fn runs_in(out: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(out)
        .expect("reports")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_dir()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    dirs.sort();
    dirs
}

fn name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The PutApprovalResult window of the CI/CD account in the first region (the demo's eu-west-1).
fn approvals_window(snapshot: &serde_json::Value) -> serde_json::Value {
    let account = snapshot["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["account_id"] == "111111111111"))
        .expect("cicd account");
    account["lookup_windows"]
        .as_array()
        .and_then(|w| {
            w.iter()
                .find(|w| w["step"] == APPROVALS && w["region"] == "eu-west-1")
        })
        .cloned()
        .unwrap_or_else(|| panic!("no window: {}", account["lookup_windows"]))
}

fn step_items(snapshot: &serde_json::Value, step: &str) -> (String, u64) {
    let account = snapshot["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["account_id"] == "111111111111"))
        .expect("cicd account");
    let s = account["steps"]
        .as_array()
        .and_then(|s| {
            s.iter()
                .find(|s| s["step"] == step && s["region"] == "eu-west-1")
        })
        .expect("step");
    (
        s["status"].as_str().unwrap_or_default().to_owned(),
        s["items"].as_u64().unwrap_or_default(),
    )
}

fn time(v: &serde_json::Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
        .expect("time")
        .with_timezone(&chrono::Utc)
}

#[test]
fn two_audits_into_an_s3_store_the_second_incremental() {
    let demo = Demo::seed(false);
    create_bucket(&demo);
    let store = format!("s3://{BUCKET}/runs");
    let config = demo.config().display().to_string();
    let out = demo.dir.path().join("reports");
    let out_arg = out.display().to_string();
    let audit = |extra: &[&str]| {
        let mut args = vec![
            "audit", "--config", &config, "--out", &out_arg, "--store", &store,
        ];
        args.extend_from_slice(extra);
        let o = demo.gateaudit(&args);
        assert!(
            matches!(o.status.code(), Some(0) | Some(1) | Some(3)),
            "{}",
            text(&o)
        );
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("stored: run"),
            "{}",
            text(&o)
        );
        o
    };

    // Run 1: a plain audit, published.
    let first_out = audit(&[]);
    assert!(
        String::from_utf8_lossy(&first_out.stdout).contains("Object Lock COMPLIANCE until"),
        "{}",
        text(&first_out)
    );
    let first = runs_in(&out).pop().expect("run 1");
    let snapshot1 = read_json(&first.join("snapshot.json"));
    let window1 = approvals_window(&snapshot1);
    let approvals1 = snapshot1["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| a["approval_events"].as_array().map_or(0, Vec::len))
        .sum::<usize>();

    // A new approval between the runs.
    let execution = approve_now(&demo);

    // Run 2: incremental.
    let second_out = audit(&["--incremental"]);
    assert!(
        String::from_utf8_lossy(&second_out.stderr)
            .contains(&format!("continuing run {}", name(&first))),
        "{}",
        text(&second_out)
    );
    let runs = runs_in(&out);
    assert_eq!(runs.len(), 2, "{runs:?}");
    let second = runs[1].clone();
    let snapshot2 = read_json(&second.join("snapshot.json"));
    let window2 = approvals_window(&snapshot2);
    // It asked LookupEvents only from run 1's end less the hour of overlap...
    assert_eq!(
        time(&window2["start_time"]),
        time(&window1["end_time"]) - chrono::Duration::hours(1),
        "{window2}"
    );
    // ... and so read only the new approval, and inherited run 1's events and coverage.
    assert_eq!(step_items(&snapshot2, APPROVALS), ("ok".to_owned(), 1));
    assert_eq!(window2["inherited"]["run_id"], name(&first).as_str());
    assert_eq!(
        time(&window2["covered_since"]),
        time(&window1["covered_since"])
    );
    assert_eq!(
        time(&snapshot2["period"]["since"]),
        time(&snapshot1["period"]["since"])
    );
    let approvals2 = snapshot2["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| a["approval_events"].as_array().map_or(0, Vec::len))
        .sum::<usize>();
    assert_eq!(
        approvals2,
        approvals1 + 1,
        "run 1's events plus the new one, once each"
    );
    let ledger2 = std::fs::read_to_string(second.join("approvals.csv")).expect("ledger");
    assert!(
        ledger2.contains(&execution),
        "the new approval is in the ledger"
    );

    // The store holds both runs, each with its manifest under Object Lock in compliance mode.
    let env: std::collections::HashMap<_, _> = demo.env.iter().cloned().collect();
    let listing = run_python(
        r#"
import sys, json, boto3
endpoint, key, secret = sys.argv[1:4]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=key, aws_secret_access_key=secret)
keys = [o["Key"] for o in s3.list_objects_v2(Bucket="gateaudit-evidence", Prefix="runs/")["Contents"]]
manifests = sorted(k for k in keys if k.endswith("/manifest.json"))
modes = [s3.head_object(Bucket="gateaudit-evidence", Key=k).get("ObjectLockMode") for k in manifests]
print(json.dumps({"manifests": manifests, "modes": modes}))
"#,
        &[
            &demo.emulator.endpoint,
            &env["AWS_ACCESS_KEY_ID"],
            &env["AWS_SECRET_ACCESS_KEY"],
        ],
    );
    let listing: serde_json::Value = serde_json::from_slice(&listing).expect("listing");
    assert_eq!(
        listing["manifests"],
        serde_json::json!([
            format!("runs/{}/manifest.json", name(&first)),
            format!("runs/{}/manifest.json", name(&second))
        ])
    );
    assert_eq!(
        listing["modes"],
        serde_json::json!(["COMPLIANCE", "COMPLIANCE"])
    );

    // history: the new approval first seen in run 2, the older ones since run 1.
    let history = demo.gateaudit(&[
        "history",
        "--store",
        &store,
        "--format",
        "json",
        "--endpoint-url",
        &demo.emulator.endpoint,
    ]);
    assert_eq!(history.status.code(), Some(0), "{}", text(&history));
    let h: serde_json::Value = serde_json::from_slice(&history.stdout).expect("history json");
    assert_eq!(h["runs"].as_array().map(Vec::len), Some(2));
    let approvals = h["approvals"].as_array().expect("approvals");
    let new: Vec<_> = approvals
        .iter()
        .filter(|a| a["execution_id"] == execution.as_str())
        .collect();
    assert_eq!(new.len(), 1, "{approvals:?}");
    assert_eq!(new[0]["first_seen"], name(&second).as_str());
    assert!(approvals
        .iter()
        .any(|a| a["first_seen"] == name(&first).as_str()
            && a["last_seen"] == name(&second).as_str()));

    // The trend page: findings per check per run.
    let trend = demo.dir.path().join("trend.pdf");
    let table = demo.gateaudit(&[
        "history",
        "--store",
        &store,
        "--endpoint-url",
        &demo.emulator.endpoint,
        "--pdf",
        &trend.display().to_string(),
    ]);
    assert_eq!(table.status.code(), Some(0), "{}", text(&table));
    let pdf = common::pdf_text(&trend);
    assert!(pdf.contains("Findings per check per run"), "{pdf}");
    for run in [name(&first), name(&second)] {
        assert!(pdf.contains(&run[..16]), "{run} in {pdf}");
        assert!(
            String::from_utf8_lossy(&table.stdout).contains(&run),
            "{}",
            text(&table)
        );
    }

    // diff by run id in the store, and by folder: the same answer; the root's self-approval appeared.
    let by_id = demo.gateaudit(&[
        "diff",
        &name(&first),
        &name(&second),
        "--store",
        &store,
        "--format",
        "json",
        "--endpoint-url",
        &demo.emulator.endpoint,
    ]);
    assert_eq!(by_id.status.code(), Some(0), "{}", text(&by_id));
    let by_path = demo.gateaudit(&[
        "diff",
        &first.display().to_string(),
        &second.display().to_string(),
        "--format",
        "json",
    ]);
    let d1: serde_json::Value = serde_json::from_slice(&by_id.stdout).expect("diff");
    let d2: serde_json::Value = serde_json::from_slice(&by_path.stdout).expect("diff");
    assert_eq!(d1["appeared"], d2["appeared"]);
    let f1 = read_json(&first.join("findings.json"));
    let f2 = read_json(&second.join("findings.json"));
    let count = |f: &serde_json::Value| f["findings"].as_array().map_or(0, Vec::len) as i64;
    let appeared = d1["appeared"].as_array().map_or(0, Vec::len) as i64;
    let disappeared = d1["disappeared"].as_array().map_or(0, Vec::len) as i64;
    assert_eq!(count(&f2) - count(&f1), appeared - disappeared, "{d1}");
    assert!(
        d1["appeared"]
            .as_array()
            .expect("appeared")
            .iter()
            .any(|f| f["subject"]
                .as_str()
                .is_some_and(|s| s.contains(&execution))),
        "a finding about the new execution appeared: {d1}"
    );

    // A second publish of a stored run is refused; a publish that fails before its manifest leaves no run.
    for (k, v) in &demo.env {
        std::env::set_var(k, v);
    }
    let s3 = gateaudit::store::Store::open(
        &gateaudit::store::Location::parse(&store).expect("location"),
        &gateaudit::store::StoreOptions {
            profile: None,
            endpoint_url: Some(demo.emulator.endpoint.clone()),
        },
    )
    .expect("store");
    let again = s3.publish(&first).expect_err("write-once");
    assert!(
        matches!(again, gateaudit::store::StoreError::AlreadyPublished { .. }),
        "{again}"
    );
    // A copy of run 2 under a new run id, whose manifest PUT the emulator refuses (as if the job died there).
    let third = out.join("20991231T000000Z-interrupted");
    copy_dir(&second, &third);
    let files = read_json(&third.join("manifest.json"))["files"]
        .as_array()
        .map_or(0, Vec::len);
    demo.emulator.faults(Some(&serde_json::json!({"reset": true, "rules": [
        {"service": "s3", "operation": "PutObject", "after": files, "count": 1, "mode": "deny"}]})));
    let err = s3.publish(&third).expect_err("the manifest PUT is denied");
    assert!(err.to_string().contains("manifest.json"), "{err}");
    demo.emulator
        .faults(Some(&serde_json::json!({"reset": true})));
    assert_eq!(
        s3.runs().expect("runs"),
        vec![name(&first), name(&second)],
        "the interrupted run is not listed"
    );
    let newest = gateaudit::store::incremental::newest_complete(&s3)
        .expect("newest")
        .expect("a run");
    assert_eq!(newest.run_id, name(&second));
    let history = demo.gateaudit(&[
        "history",
        "--store",
        &store,
        "--format",
        "json",
        "--endpoint-url",
        &demo.emulator.endpoint,
    ]);
    let h: serde_json::Value = serde_json::from_slice(&history.stdout).expect("history json");
    assert_eq!(h["runs"].as_array().map(Vec::len), Some(2));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
