//! Collection under faults, against the emulator's fault injection (tests/emulator/ext/faults.py): throttling
//! (IAM, S3, and LookupEvents at AWS's 2 requests per second per account and region), a 5xx burst, a connection
//! reset and a slow response in the middle of LookupEvents pagination, and a session that expires half-way.
//! The collector must survive all of them with nothing lost or duplicated, within its concurrency bounds; and
//! where a step still fails (a denied AssumeRole, a 5xx burst longer than the retries), the account is
//! incomplete, named in every report, and the run exits 1.

mod common;

use std::collections::BTreeMap;

use common::{read_json, run_dir, text, Demo};

/// 130 mutating calls in prod by the pipeline's deployment role (so LookupEvents(ReadOnly=false) there spans
/// three pages of 50), before any audit.
const DEPLOY_TOPICS: &str = r#"
import sys, boto3, urllib.request, json
endpoint = sys.argv[1]
def client(service, **creds):
    c = boto3.client(service, endpoint_url=endpoint, region_name="eu-west-1",
                     **(creds or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}))
    if not creds:
        c.meta.events.register("before-send.*.*", lambda request, **kw: request.headers.__setitem__("x-moto-account-id", "111111111111"))
    return c
c = client("sts").assume_role(RoleArn="arn:aws:iam::444444444444:role/CICDCrossAccountRole", RoleSessionName="codebuild-deploy")["Credentials"]
sns = client("sns", aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
for i in range(130):
    sns.create_topic(Name=f"release-{i}")
urllib.request.urlopen(urllib.request.Request(endpoint + "/_emulator/flush-trails", data=b"{}", method="POST"))
"#;

/// What must come out of a collection the same, faults or not: evidence per account.
fn evidence_counts(snapshot: &serde_json::Value) -> BTreeMap<String, Vec<usize>> {
    let len = |v: &serde_json::Value| v.as_array().map_or(0, Vec::len);
    snapshot["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| {
            let pipelines = a["pipelines"].as_array().cloned().unwrap_or_default();
            let executions: usize = pipelines.iter().map(|p| len(&p["executions"])).sum();
            let action_executions: usize =
                pipelines.iter().map(|p| len(&p["action_executions"])).sum();
            let id = a["account_id"].as_str().unwrap_or_default().to_owned();
            // The CI/CD account's own write events grow with every audit (the auditor's AssumeRole calls).
            let writes = if id == "111111111111" {
                0
            } else {
                len(&a["write_events"])
            };
            let ids: std::collections::BTreeSet<&str> = a["approval_events"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(a["write_events"].as_array().into_iter().flatten())
                .filter_map(|e| e["event_id"].as_str())
                .collect();
            let events = len(&a["approval_events"]) + len(&a["write_events"]);
            assert_eq!(ids.len(), events, "{id}: an event id twice");
            (
                id,
                vec![
                    len(&a["approval_events"]),
                    writes,
                    len(&a["iam"]["users"]),
                    len(&a["iam"]["roles"]),
                    len(&a["iam"]["groups"]),
                    len(&a["iam"]["policies"]),
                    pipelines.len(),
                    executions,
                    action_executions,
                    len(&a["approval_records"]),
                    len(&a["trails"]),
                ],
            )
        })
        .collect()
}

/// Audits the last 25 days (every planted event is inside; fewer archive day folders than the default 90).
fn audit(demo: &Demo, extra: &[&str]) -> (i32, std::path::PathBuf, String, tempfile::TempDir) {
    let out = tempfile::tempdir().expect("tempdir");
    let config = demo.config();
    let since = (chrono::Utc::now() - chrono::Duration::days(25))
        .format("%Y-%m-%d")
        .to_string();
    let mut args = vec![
        "audit",
        "--config",
        config.to_str().expect("utf-8"),
        "--out",
        out.path().to_str().expect("utf-8"),
        "--since",
        &since,
    ];
    args.extend_from_slice(extra);
    let output = demo.gateaudit(&args);
    let dir = run_dir(out.path());
    (output.status.code().unwrap_or(-1), dir, text(&output), out)
}

fn injected(stats: &serde_json::Value, mode: &str) -> u64 {
    stats["injected"][mode].as_u64().unwrap_or(0)
}

#[test]
fn collection_survives_throttling_resets_slow_responses_5xx_and_expiry_and_names_what_it_cannot() {
    let demo = Demo::seed(false);
    common::run_python(DEPLOY_TOPICS, &[&demo.emulator.endpoint]);

    // Baseline: no faults.
    let (clean_code, clean_dir, clean_out, _k1) = audit(&demo, &[]);
    assert_eq!(clean_code, 3, "{clean_out}");
    let clean = evidence_counts(&read_json(&clean_dir.join("snapshot.json")));
    assert!(
        clean["444444444444"][1] > 100,
        "prod's writes span pages: {clean:?}"
    );

    // Survivable faults, all at once, within tight concurrency bounds.
    let rules = serde_json::json!({"reset": true, "rules": [
        {"service": "iam", "operation": "GetAccountAuthorizationDetails", "account": "222222222222",
         "mode": "throttle", "count": 2},
        {"service": "s3", "operation": "GetObject", "account": "111111111111", "mode": "throttle", "count": 2},
        {"service": "codepipeline", "operation": "ListActionExecutions", "account": "111111111111",
         "mode": "5xx", "status": 503, "count": 3},
        {"service": "cloudtrail", "operation": "LookupEvents", "account": "444444444444",
         "mode": "reset", "after": 2, "count": 1},
        {"service": "cloudtrail", "operation": "LookupEvents", "account": "444444444444",
         "mode": "slow", "delay_ms": 1500, "after": 3, "count": 1},
        {"account": "333333333333", "mode": "expire", "after": 5, "count": 1},
        {"service": "cloudtrail", "operation": "LookupEvents", "account": "222222222222",
         "mode": "throttle", "count": 2},
        {"service": "cloudtrail", "operation": "LookupEvents", "mode": "rate", "rate": 2, "burst": 2}
    ]});
    demo.emulator.faults(Some(&rules));
    let (code, dir, output, _k2) = audit(
        &demo,
        &["--max-requests", "3", "--max-requests-per-account", "2"],
    );
    let state = demo.emulator.faults(None);
    let stats = &state["stats"];
    assert_eq!(
        code, clean_code,
        "the same verdict as without faults\n{output}\n{state:#}"
    );
    let findings = read_json(&dir.join("findings.json"));
    assert_eq!(findings["complete"], true, "{output}");
    assert!(
        findings["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .all(|c| c["status"] != "incomplete"),
        "{output}"
    );
    assert_eq!(
        evidence_counts(&read_json(&dir.join("snapshot.json"))),
        clean,
        "nothing lost or duplicated\n{state:#}"
    );
    for (mode, at_least) in [
        ("throttle", 6),
        ("5xx", 3),
        ("reset", 1),
        ("slow", 1),
        ("expire", 1),
    ] {
        assert!(
            injected(stats, mode) >= at_least,
            "{mode} was not injected: {state:#}"
        );
    }
    assert_eq!(stats["expired_sessions"], 1, "{state:#}");
    assert!(
        stats["by_operation"]["sts:AssumeRole->333333333333"]
            .as_u64()
            .unwrap_or(0)
            >= 2,
        "the expired session was assumed again: {state:#}"
    );
    let max_total = stats["max_concurrent"].as_u64().unwrap_or(0);
    assert!(
        (2..=3).contains(&max_total),
        "at most 3 requests in flight: {state:#}"
    );
    for (account, n) in stats["max_concurrent_per_account"]
        .as_object()
        .expect("per account")
    {
        assert!(
            n.as_u64().unwrap_or(0) <= 2,
            "{account}: {n} in flight: {state:#}"
        );
    }
    eprintln!(
        "faults injected: {}; LookupEvents throttled by the 2/s quota: {}",
        stats["injected"],
        injected(stats, "rate")
    );

    // What no retry can fix: one account's role cannot be assumed, another's IAM keeps failing.
    demo.emulator.faults(Some(&serde_json::json!({"reset": true, "rules": [
        {"service": "sts", "operation": "AssumeRole", "target_account": "222222222222", "mode": "deny"},
        {"service": "iam", "operation": "GetAccountAuthorizationDetails", "account": "444444444444",
         "mode": "5xx", "status": 500}
    ]})));
    let (code, dir, output, _k3) = audit(&demo, &[]);
    demo.emulator
        .faults(Some(&serde_json::json!({"reset": true})));
    assert_eq!(code, 1, "{output}");
    for (account, step) in [
        ("222222222222", "sts:AssumeRole"),
        ("444444444444", "iam:GetAccountAuthorizationDetails"),
    ] {
        assert!(
            output.contains(&format!("INCOMPLETE account {account}")),
            "console: {account}\n{output}"
        );
        let mut accounts = csv::Reader::from_path(dir.join("accounts.csv")).expect("accounts.csv");
        let header = accounts.headers().expect("header").clone();
        let col = |name: &str| header.iter().position(|h| h == name).expect("column");
        let (id, complete, failed_step, status) = (
            col("account_id"),
            col("complete"),
            col("step"),
            col("status"),
        );
        assert!(
            accounts
                .records()
                .filter_map(Result::ok)
                .any(|r| &r[id] == account
                    && &r[complete] == "false"
                    && &r[failed_step] == step
                    && &r[status] == "failed"),
            "accounts.csv: {account} {step}"
        );
        let junit = std::fs::read_to_string(dir.join("junit.xml")).expect("junit.xml");
        let doc = roxmltree::Document::parse(&junit).expect("junit parses");
        let case = doc
            .descendants()
            .find(|n| {
                n.attribute("name")
                    .is_some_and(|name| name.starts_with(&format!("collection [{account} ")))
            })
            .expect("collection case");
        assert!(
            case.children().any(|n| n.has_tag_name("error")),
            "junit: {account}"
        );
        let pdf = common::pdf_text(&dir.join("report.pdf"));
        assert!(
            pdf.contains(account) && pdf.contains("INCOMPLETE"),
            "pdf: {account}"
        );
    }
    let findings = read_json(&dir.join("findings.json"));
    let write_access = findings["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["id"] == "write-access")
        .expect("write-access");
    assert_eq!(write_access["status"], "incomplete");
    let named: Vec<&str> = write_access["incomplete"]
        .as_array()
        .expect("incomplete")
        .iter()
        .filter_map(|m| m["account_id"].as_str())
        .collect();
    assert!(
        named.contains(&"222222222222") && named.contains(&"444444444444"),
        "{named:?}"
    );
}
