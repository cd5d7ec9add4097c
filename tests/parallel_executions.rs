//! PARALLEL execution mode against the emulator: two executions wait at the same approval at once and one person
//! approves both within the same second (CloudTrail's eventTime has whole seconds). Only the approval token, the
//! action execution's externalExecutionId, tells which approval belongs to which execution; the ledger must join
//! each PutApprovalResult to its own execution.

mod common;

use common::{gateaudit_with_env, read_json, run_dir, text, Emulator};

const ACCOUNT: &str = "123456789012";

/// Seeds a V2 PARALLEL pipeline (Build -> Gate/Check -> Deploy) with two executions waiting at Gate, which pat
/// approves in the opposite order to the start order; prints the execution ids, the auditor's keys and which
/// summary went to which execution.
const SEED: &str = r#"
import json, sys, datetime as dt
sys.path.insert(0, "tests/emulator")
import test_pipelines as tp
tp.ENDPOINT = sys.argv[1]
acct = sys.argv[2]
now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(days=2)
tp.control("clock", {"now": now.strftime("%Y-%m-%dT%H:%M:%SZ")})
tp.gate_pipeline(acct, pipelineType="V2", executionMode="PARALLEL")
cp = tp.client("codepipeline", acct)
first = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
second = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
waiting = [d for d in cp.list_action_executions(pipelineName="app")["actionExecutionDetails"]
           if d["actionName"] == "Check" and d["status"] == "InProgress"]
tokens = {d["pipelineExecutionId"]: d["output"]["executionResult"]["externalExecutionId"] for d in waiting}
assert set(tokens) == {first, second}, tokens
pat = tp.make_user(acct, "pat")
# both approvals inside one clock second: time cannot tell them apart
tp.control("clock", {"now": (now + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")})
tp.approve(pat, "Gate", "Check", tokens[second], summary="for the second execution")
tp.approve(pat, "Gate", "Check", tokens[first], summary="for the first execution")
auditor = tp.make_user(acct, "auditor")
print(json.dumps({"first": first, "second": second, "auditor": auditor}))
"#;

#[test]
fn parallel_executions_waiting_at_one_gate_get_their_own_approvals() {
    let emulator = Emulator::start();
    let seeded = common::run_python(SEED, &[&emulator.endpoint, ACCOUNT]);
    let seeded: serde_json::Value = serde_json::from_slice(&seeded).expect("seed output");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("gateaudit.toml");
    std::fs::write(
        &config,
        format!(
            r#"organisation = "Parallel"
cicd_account = "{ACCOUNT}"
regions = ["us-east-1"]
endpoint_url = "{}"
policy = "{}"
[[accounts]]
id = "{ACCOUNT}"
name = "cicd"
environment = "cicd"
use_base_credentials = true
"#,
            emulator.endpoint,
            common::repo().join("policies/default.toml").display()
        ),
    )
    .expect("write config");
    let out = dir.path().join("reports");
    let keys = &seeded["auditor"];
    let env = vec![
        (
            "AWS_ACCESS_KEY_ID".to_owned(),
            keys["aws_access_key_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY".to_owned(),
            keys["aws_secret_access_key"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ),
        ("AWS_REGION".to_owned(), "us-east-1".to_owned()),
    ];
    let output = gateaudit_with_env(
        &[
            "audit",
            "--config",
            config.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
            "--since",
            &(chrono::Utc::now() - chrono::Duration::days(5))
                .format("%Y-%m-%d")
                .to_string(),
        ],
        &env,
        dir.path(),
    );
    assert!(
        out.is_dir(),
        "the audit wrote no reports\n{}",
        text(&output)
    );
    let run = run_dir(&out);
    let mut ledger = csv::Reader::from_path(run.join("approvals.csv")).expect("approvals.csv");
    let headers = ledger.headers().expect("headers").clone();
    let column = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (execution, summary, person) =
        (column("execution_id"), column("summary"), column("person"));
    let rows: Vec<csv::StringRecord> = ledger
        .records()
        .collect::<Result<_, _>>()
        .expect("ledger rows");
    assert_eq!(
        rows.len(),
        2,
        "two approvals in the ledger\n{}",
        text(&output)
    );
    for (which, expected) in [("first", &seeded["first"]), ("second", &seeded["second"])] {
        let row = rows
            .iter()
            .find(|r| r[summary] == *format!("for the {which} execution"))
            .unwrap_or_else(|| panic!("the {which} approval is in the ledger"));
        assert_eq!(
            &row[execution],
            expected.as_str().unwrap_or_default(),
            "the {which} approval belongs to the {which} execution"
        );
        assert!(row[person].ends_with(":user/pat"), "{:?}", row);
    }
    // The snapshot keeps the token each approval carried.
    let snapshot = read_json(&run.join("snapshot.json"));
    let events = snapshot["accounts"][0]["approval_events"]
        .as_array()
        .expect("approval events");
    assert!(events
        .iter()
        .all(|e| e["token"].as_str().is_some_and(|t| !t.is_empty())));
}
