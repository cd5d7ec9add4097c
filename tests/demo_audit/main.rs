//! End-to-end: the real binary audits the seeded, emulated demo organisation through the AWS SDK.

#[path = "../common/mod.rs"]
mod common;
mod organization;
mod pipelines;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use common::{read_json, run_dir, text, Demo};

fn demo() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(|| Demo::seed(false))
}

/// Runs `gateaudit audit` into a fresh directory; returns (exit code, run directory, output text).
fn audit(
    config: &std::path::Path,
    extra: &[&str],
) -> (i32, std::path::PathBuf, String, tempfile::TempDir) {
    let out = tempfile::tempdir().expect("tempdir");
    let mut args = vec![
        "audit",
        "--config",
        config.to_str().expect("utf-8 path"),
        "--out",
        out.path().to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    let output = demo().gateaudit(&args);
    let code = output.status.code().unwrap_or(-1);
    let dir = run_dir(out.path());
    (code, dir, text(&output), out)
}

/// One audit of the demo as configured, shared by the tests that only read its reports (each of the others runs
/// its own): (exit code, run directory, output).
fn shared_audit() -> (i32, std::path::PathBuf, String, ()) {
    struct Run {
        code: i32,
        dir: std::path::PathBuf,
        output: String,
        _keep: tempfile::TempDir,
    }
    static RUN: OnceLock<Run> = OnceLock::new();
    let run = RUN.get_or_init(|| {
        let (code, dir, output, keep) = audit(&demo().config(), &[]);
        Run {
            code,
            dir,
            output,
            _keep: keep,
        }
    });
    (run.code, run.dir.clone(), run.output.clone(), ())
}

fn finding_keys(findings: &serde_json::Value) -> BTreeSet<(String, String, String, String)> {
    findings
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["check_id"].as_str().unwrap_or_default().to_owned(),
                f["account_id"].as_str().unwrap_or_default().to_owned(),
                f["subject"].as_str().unwrap_or_default().to_owned(),
                f["principal"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn audit_reports_every_planted_violation_and_nothing_else() {
    let demo = demo();
    let (code, dir, output, _keep) = shared_audit();
    assert_eq!(code, 3, "violations must exit 3\n{output}");
    let findings = read_json(&dir.join("findings.json"));
    let found = finding_keys(&findings["findings"]);
    let expected: BTreeSet<(String, String, String, String)> = demo.expected["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .map(|v| {
            (
                v["check"].as_str().unwrap_or_default().to_owned(),
                v["account"].as_str().unwrap_or_default().to_owned(),
                v["subject"].as_str().unwrap_or_default().to_owned(),
                v["principal"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        found, expected,
        "findings differ from the planted violations\n{output}"
    );
    for name in [
        "snapshot.json",
        "findings.json",
        "findings.csv",
        "approvals.csv",
        "accounts.csv",
        "report.pdf",
    ] {
        assert!(
            dir.join(name).exists(),
            "{name} missing in {}",
            dir.display()
        );
    }
    assert!(
        output.contains("distinct-approvers") && output.contains("result: FAILED"),
        "{output}"
    );
}

#[test]
fn waivers_mark_findings_and_an_expired_waiver_is_reported() {
    let (_, dir, output, _keep) = shared_audit();
    let findings = read_json(&dir.join("findings.json"));
    let findings = findings["findings"].as_array().expect("findings");
    let waived: Vec<&serde_json::Value> =
        findings.iter().filter(|f| !f["waiver"].is_null()).collect();
    assert_eq!(waived.len(), 1, "{output}");
    assert_eq!(waived[0]["check_id"], "evidence-hygiene");
    assert!(waived[0]["waiver"]["reason"]
        .as_str()
        .unwrap_or_default()
        .starts_with("CHG-1101"));
    let mallory = findings
        .iter()
        .find(|f| {
            f["check_id"] == "write-access"
                && f["principal"] == "arn:aws:iam::444444444444:user/mallory"
        })
        .expect("mallory's write access");
    assert!(
        mallory["waiver"].is_null(),
        "an expired waiver no longer applies"
    );
    let stale = findings
        .iter()
        .find(|f| f["check_id"] == "waivers")
        .expect("the expired waiver is reported");
    assert!(
        stale["message"]
            .as_str()
            .unwrap_or_default()
            .contains("expired"),
        "{stale}"
    );
    let mut csv = csv::Reader::from_path(dir.join("findings.csv")).expect("findings.csv");
    let rows: Vec<csv::StringRecord> = csv.records().collect::<Result<_, _>>().expect("rows");
    assert!(rows
        .iter()
        .any(|r| &r[0] == "evidence-hygiene" && &r[7] == "true" && r[8].starts_with("CHG-1101")));
    let listed = read_json(&dir.join("manifest.json"));
    assert!(listed["files"]
        .as_array()
        .expect("files")
        .iter()
        .any(|f| f["path"] == "inputs/waivers.toml"));
}

#[test]
fn an_iam_change_recorded_only_in_us_east_1_is_found_though_the_audit_lists_other_regions() {
    // The demo audits eu-west-1 and eu-central-1; CloudTrail records mallory's CreatePolicy (an IAM call) in
    // us-east-1 only. The collector reads the global services' events there and says so in accounts.csv.
    let (_, dir, output, _keep) = shared_audit();
    let findings = read_json(&dir.join("findings.json"));
    let mallory = findings["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| {
            f["check_id"] == "out-of-band-change"
                && f["principal"] == "arn:aws:iam::444444444444:user/mallory"
        })
        .expect("mallory's out-of-band change");
    let details: Vec<&str> = mallory["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter_map(|e| e["detail"].as_str())
        .collect();
    assert!(
        details
            .iter()
            .any(|d| d.starts_with("iam:CreatePolicy at ")),
        "the IAM change is evidence: {details:?}\n{output}"
    );
    assert!(
        details.iter().any(|d| d.starts_with("s3:CreateBucket at ")),
        "the bucket made in eu-west-1 too: {details:?}"
    );
    let snapshot = read_json(&dir.join("snapshot.json"));
    let prod = snapshot["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["account_id"] == "444444444444")
        .expect("prod");
    let iam_event = prod["write_events"]
        .as_array()
        .expect("write events")
        .iter()
        .find(|e| e["name"] == "CreatePolicy")
        .expect("CreatePolicy collected");
    assert_eq!(iam_event["region"], "us-east-1");
    let mut csv = csv::Reader::from_path(dir.join("accounts.csv")).expect("accounts.csv");
    let headers = csv.headers().expect("headers").clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("accounts.csv has no {name} column"))
    };
    let (account, step, region, status) = (
        column("account_id"),
        column("step"),
        column("region"),
        column("status"),
    );
    let rows: Vec<csv::StringRecord> = csv.records().collect::<Result<_, _>>().expect("rows");
    for id in ["222222222222", "333333333333", "444444444444"] {
        assert!(
            rows.iter().any(|r| &r[account] == id
                && &r[step] == "cloudtrail:LookupEvents(ReadOnly=false, global services)"
                && &r[region] == "us-east-1"
                && &r[status] == "ok"),
            "accounts.csv names the us-east-1 read of the global services for {id}"
        );
    }
}

#[test]
fn roles_are_assumed_in_the_three_environment_accounts() {
    let (_, dir, output, _keep) = shared_audit();
    let snapshot = read_json(&dir.join("snapshot.json"));
    for (id, user) in [
        ("222222222222", "erin"),
        ("333333333333", "oscar"),
        ("444444444444", "mallory"),
    ] {
        let account = snapshot["accounts"]
            .as_array()
            .expect("accounts")
            .iter()
            .find(|a| a["account_id"] == id)
            .unwrap_or_else(|| panic!("account {id} missing\n{output}"));
        assert_eq!(
            account["role_arn"],
            format!("arn:aws:iam::{id}:role/CICDCrossAccountRole")
        );
        let steps = account["steps"].as_array().expect("steps");
        assert!(
            steps
                .iter()
                .any(|s| s["step"] == "sts:AssumeRole" && s["status"] == "ok"),
            "{steps:?}"
        );
        assert!(steps.iter().all(|s| s["status"] != "failed"), "{steps:?}");
        let users = account["iam"]["users"].as_array().expect("users");
        assert!(users.iter().any(|u| u["name"] == user), "{id} lacks {user}");
    }
}

#[test]
fn the_ledger_lists_every_approval_with_normalised_approvers() {
    let demo = demo();
    let (_, dir, _, _keep) = shared_audit();
    let mut reader = csv::Reader::from_path(dir.join("approvals.csv")).expect("approvals.csv");
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("rows");
    assert_eq!(
        rows.len() as u64,
        demo.expected["approvals"]
            .as_u64()
            .expect("approvals count")
    );
    let headers = reader.headers().expect("headers").clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let rm: Vec<&csv::StringRecord> = rows
        .iter()
        .filter(|r| r[col("approver_recorded")].contains("assumed-role/ReleaseManager/"))
        .collect();
    assert_eq!(rm.len(), 2);
    assert!(rm
        .iter()
        .all(|r| &r[col("person")] == "arn:aws:iam::111111111111:role/ReleaseManager"));
    assert!(rows.iter().any(|r| &r[col("status")] == "Rejected"));
    assert!(
        rows.iter().all(|r| !r[col("execution_id")].is_empty()),
        "every demo approval is tied to its execution"
    );
    let with_record = rows.iter().filter(|r| !r[col("record")].is_empty()).count() as u64;
    assert_eq!(
        with_record,
        demo.expected["approval_records"].as_u64().expect("records")
    );
}

#[test]
fn offline_check_of_the_saved_snapshot_gives_the_same_findings() {
    let (_, dir, _, _keep) = shared_audit();
    let out = tempfile::tempdir().expect("tempdir");
    let snapshot = dir.join("snapshot.json");
    // The report directory is self-contained: the run's waivers are in inputs/ (the rule set is in the snapshot).
    let waivers = dir.join("inputs/waivers.toml");
    // No AWS at all: the check must not need the emulator or credentials.
    let output = common::gateaudit_with_env(
        &[
            "check",
            "--snapshot",
            snapshot.to_str().expect("utf-8"),
            "--waivers",
            waivers.to_str().expect("utf-8"),
            "--out",
            out.path().to_str().expect("utf-8"),
        ],
        &[("AWS_ENDPOINT_URL".into(), "http://127.0.0.1:9".into())],
        out.path(),
    );
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    let offline = read_json(&run_dir(out.path()).join("findings.json"));
    let online = read_json(&dir.join("findings.json"));
    assert_eq!(
        finding_keys(&offline["findings"]),
        finding_keys(&online["findings"])
    );
    let waived = |doc: &serde_json::Value| {
        doc["findings"]
            .as_array()
            .map(|f| f.iter().filter(|f| !f["waiver"].is_null()).count())
            .unwrap_or(0)
    };
    assert_eq!(
        waived(&offline),
        waived(&online),
        "waivers are judged as of collection, so offline agrees"
    );
}

#[test]
fn a_denied_role_assumption_makes_the_account_incomplete_and_the_run_fail() {
    let demo = demo();
    let config = demo.dir.path().join("with-unreachable.toml");
    let base = std::fs::read_to_string(demo.config()).expect("config");
    std::fs::write(&config, format!("{base}\n[[accounts]]\nid = \"555555555555\"\nname = \"sandbox\"\nenvironment = \"dev\"\n"))
        .expect("write config");
    let (code, dir, output, _keep) = audit(&config, &[]);
    assert_eq!(code, 1, "an incomplete collection must exit 1\n{output}");
    assert!(
        output.contains("INCOMPLETE account 555555555555"),
        "{output}"
    );
    let snapshot = read_json(&dir.join("snapshot.json"));
    let sandbox = snapshot["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["account_id"] == "555555555555")
        .expect("sandbox kept");
    let step = &sandbox["steps"][0];
    assert_eq!(step["step"], "sts:AssumeRole");
    assert_eq!(step["status"], "failed");
    assert!(
        step["error"]
            .as_str()
            .unwrap_or_default()
            .contains("AccessDenied"),
        "{step}"
    );
    // The other accounts were still collected and checked, and reports were written.
    assert!(dir.join("report.pdf").exists() && dir.join("accounts.csv").exists());
    let (code, _, output, _keep2) = audit(&config, &["--allow-incomplete"]);
    assert_eq!(
        code, 3,
        "--allow-incomplete leaves the violations to decide\n{output}"
    );
}

#[test]
fn the_threshold_decides_the_exit_code() {
    let demo = demo();
    let (code, dir, output, _keep) = audit(&demo.config(), &["--fail-on", "critical"]);
    let findings = read_json(&dir.join("findings.json"));
    let critical: Vec<&serde_json::Value> = findings["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["severity"] == "critical" && f["waiver"].is_null())
        .collect();
    // The demo plants critical findings (a gate edited away, a production role assumed by hand): the threshold
    // counts exactly those, and the high ones below it do not appear in the verdict.
    assert!(!critical.is_empty(), "{output}");
    assert_eq!(code, 3, "{output}");
    assert!(
        output.contains(&format!(
            "{} violation(s) at or above critical",
            critical.len()
        )),
        "{output}"
    );
}

#[test]
fn the_auditor_only_reads() {
    // The emulator records every call as CloudTrail would; read back what the auditor's identities did.
    let demo = demo();
    let (_, _, output, _keep) = shared_audit();
    let script = r#"
import json, sys, boto3
endpoint = sys.argv[1]
events = []
for account in ["100000000000", "111111111111", "222222222222", "333333333333", "444444444444"]:
  for region in ["us-east-1", "eu-west-1", "eu-central-1"]:
    client = boto3.client("cloudtrail", endpoint_url=endpoint, region_name=region,
                          aws_access_key_id="test", aws_secret_access_key="test")
    client.meta.events.register("before-sign.*.*", lambda request, **kw: request.headers.__setitem__("x-moto-account-id", account))
    for page in client.get_paginator("lookup_events").paginate():
        for e in page["Events"]:
            events.append(json.loads(e["CloudTrailEvent"]))
print(json.dumps(events))
"#;
    let out = common::run_python(script, &[&demo.emulator.endpoint]);
    let events: Vec<serde_json::Value> = serde_json::from_slice(&out).expect("events json");
    let by_auditor: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| {
            let arn = e["userIdentity"]["arn"].as_str().unwrap_or_default();
            arn.ends_with(":user/gateaudit-auditor")
                || arn.contains(":assumed-role/CICDCrossAccountRole/gateaudit")
                || arn.contains(":assumed-role/GateAuditOrganizationsReader/gateaudit")
        })
        .collect();
    assert!(
        by_auditor.len() > 20,
        "the audit's own calls must be recorded ({} found)\n{output}",
        by_auditor.len()
    );
    let organisation_calls = by_auditor
        .iter()
        .filter(|e| {
            matches!(
                e["eventSource"].as_str(),
                Some(
                    "organizations.amazonaws.com"
                        | "sso.amazonaws.com"
                        | "identitystore.amazonaws.com"
                )
            )
        })
        .count();
    assert!(
        organisation_calls > 5,
        "Organizations and Identity Center are read ({organisation_calls} calls)"
    );
    let read_prefixes = ["Get", "List", "Describe", "Lookup", "Head"];
    let writes: Vec<String> = by_auditor
        .iter()
        .map(|e| e["eventName"].as_str().unwrap_or_default().to_owned())
        .filter(|name| name != "AssumeRole" && !read_prefixes.iter().any(|p| name.starts_with(p)))
        .collect();
    assert!(
        writes.is_empty(),
        "the auditor called mutating APIs: {writes:?}"
    );
    // Every call is one of the listed read-only operations (src/collect/operations.rs, which a unit test checks
    // against the IAM action catalog and policies/auditor-iam-policy.json).
    for e in &by_auditor {
        let source = e["eventSource"].as_str().unwrap_or_default();
        let name = e["eventName"].as_str().unwrap_or_default();
        assert!(
            gateaudit::collect::operations::listed_for_event(source, name).is_some(),
            "{source} {name} is not in src/collect/operations.rs"
        );
    }
}

#[test]
fn who_can_names_the_approvers_of_a_gate_with_their_statements() {
    let demo = demo();
    let (_, dir, _, _keep) = shared_audit();
    let snapshot = dir.join("snapshot.json");
    let output = demo.gateaudit(&[
        "who-can",
        "--snapshot",
        snapshot.to_str().expect("utf-8"),
        "--action",
        "codepipeline:PutApprovalResult",
        "--resource",
        "arn:aws:codepipeline:eu-west-1:111111111111:webapp/ProdGate/ApprovalB",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).expect("json");
    let principals: BTreeSet<&str> = rows
        .iter()
        .filter_map(|r| r["principal"].as_str())
        .collect();
    for expected in [
        "arn:aws:iam::111111111111:user/bob",
        "arn:aws:iam::111111111111:user/dave",
        "arn:aws:iam::111111111111:role/ReleaseManager",
    ] {
        assert!(
            principals.contains(expected),
            "{expected} missing from {principals:?}"
        );
    }
    assert!(
        !principals.contains("arn:aws:iam::111111111111:user/alice"),
        "alice may approve only ApprovalA"
    );
    let bob = rows
        .iter()
        .find(|r| r["principal"] == "arn:aws:iam::111111111111:user/bob")
        .expect("bob");
    assert_eq!(bob["via_groups"][0], "ApprovalB");
    assert!(
        bob["statements"][0]
            .as_str()
            .unwrap_or_default()
            .contains("Statement[0]"),
        "{bob}"
    );
}

#[test]
fn junit_and_csv_reports_parse_back_with_the_findings() {
    let demo = demo();
    let (_, dir, _, _keep) = shared_audit();
    let xml = std::fs::read_to_string(dir.join("junit.xml")).expect("junit.xml");
    let doc = roxmltree::Document::parse(&xml).expect("junit.xml is well-formed XML");
    let cases: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let failing: BTreeSet<&str> = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .filter_map(|c| c.attribute("name"))
        .collect();
    assert!(
        failing.contains("distinct-approvers [111111111111 cicd]"),
        "{failing:?}"
    );
    assert!(
        failing.contains("write-access [444444444444 prod]"),
        "{failing:?}"
    );
    assert!(
        !failing.contains("write-access [222222222222 dev]"),
        "{failing:?}"
    );
    let root = doc.root_element();
    assert_eq!(
        root.attribute("failures")
            .and_then(|f| f.parse::<usize>().ok()),
        Some(failing.len())
    );

    let mut findings = csv::Reader::from_path(dir.join("findings.csv")).expect("findings.csv");
    let rows: Vec<csv::StringRecord> = findings.records().collect::<Result<_, _>>().expect("rows");
    assert_eq!(
        rows.len(),
        demo.expected["violations"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0)
    );
    assert!(rows
        .iter()
        .any(|r| &r[0] == "write-access" && r[6].contains("PowerUserPolicy#Statement[0]")));

    let mut matrix =
        csv::Reader::from_path(dir.join("who-can-approve.csv")).expect("who-can-approve.csv");
    let header = matrix.headers().expect("header").clone();
    let col = |name: &str| header.iter().position(|h| h == name).expect("column");
    let cells: Vec<csv::StringRecord> = matrix.records().collect::<Result<_, _>>().expect("rows");
    let approvers_of = |action: &str| -> BTreeSet<String> {
        cells
            .iter()
            .filter(|r| &r[col("action")] == action && &r[col("stage")] == "ProdGate")
            .map(|r| r[col("principal")].to_owned())
            .collect()
    };
    assert!(approvers_of("ApprovalA").contains("arn:aws:iam::111111111111:user/alice"));
    assert!(!approvers_of("ApprovalA").contains("arn:aws:iam::111111111111:user/bob"));
    assert!(approvers_of("ApprovalB").contains("arn:aws:iam::111111111111:user/dave"));

    let mut grants =
        csv::Reader::from_path(dir.join("write-access.csv")).expect("write-access.csv");
    let grants: Vec<csv::StringRecord> = grants.records().collect::<Result<_, _>>().expect("rows");
    assert!(grants.iter().any(|r| r[1].ends_with(":user/mallory")
        && &r[3] == "ec2:RunInstances"
        && r[6].is_empty()));
    assert!(grants
        .iter()
        .any(|r| r[1].ends_with(":role/CICDCrossAccountRole") && &r[6] == "deployment role"));
    assert!(
        !grants.iter().any(|r| r[1].ends_with(":user/erin")),
        "the read-only engineer holds no write action"
    );
}

#[test]
fn a_signed_report_verifies_and_any_edit_is_detected() {
    let demo = demo();
    let keys = tempfile::tempdir().expect("tempdir");
    let private = keys.path().join("report.key");
    let public = keys.path().join("report.pub");
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "genpkey",
        "-algorithm",
        "ed25519",
        "-out",
        private.to_str().expect("utf-8"),
    ]);
    openssl(&[
        "pkey",
        "-in",
        private.to_str().expect("utf-8"),
        "-pubout",
        "-out",
        public.to_str().expect("utf-8"),
    ]);
    let (_, dir, output, _keep) = audit(
        &demo.config(),
        &["--signing-key", private.to_str().expect("utf-8")],
    );
    assert!(dir.join("manifest.sig").exists(), "{output}");
    let manifest = read_json(&dir.join("manifest.json"));
    let listed: BTreeSet<&str> = manifest["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    for name in [
        "snapshot.json",
        "inputs/gateaudit.toml",
        "inputs/default.toml",
        "report.pdf",
        "junit.xml",
        "approvals.csv",
    ] {
        assert!(
            listed.contains(name),
            "{name} not in the manifest: {listed:?}"
        );
    }
    let verify = |dir: &std::path::Path| {
        demo.gateaudit(&[
            "verify-report",
            dir.to_str().expect("utf-8"),
            "--public-key",
            public.to_str().expect("utf-8"),
        ])
    };
    let ok = verify(&dir);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    // An auditor's worst case: someone removes an inconvenient approval from the ledger.
    let ledger = dir.join("approvals.csv");
    let edited: String = std::fs::read_to_string(&ledger)
        .expect("ledger")
        .lines()
        .filter(|l| !l.contains("rm-alice-2"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    std::fs::write(&ledger, edited).expect("edit");
    let bad = verify(&dir);
    assert_eq!(bad.status.code(), Some(3), "{}", text(&bad));
    assert!(
        String::from_utf8_lossy(&bad.stdout).contains("approvals.csv"),
        "{}",
        text(&bad)
    );
}

#[test]
fn an_evidence_request_lists_exactly_the_scope_from_the_saved_snapshot() {
    let demo = demo();
    let (_, dir, _, _keep) = shared_audit();
    let snapshot = read_json(&dir.join("snapshot.json"));
    let until = snapshot["period"]["until"]
        .as_str()
        .expect("until")
        .to_owned();
    let since = (chrono::Utc::now() - chrono::Duration::days(17)).to_rfc3339();
    let out = tempfile::tempdir().expect("tempdir");
    let snapshot_path = dir.join("snapshot.json");
    let args = |extra: &[&str]| {
        let mut a = vec![
            "evidence",
            "--snapshot",
            snapshot_path.to_str().expect("utf-8"),
            "--since",
            &since,
            "--until",
            &until,
            "--out",
            out.path().to_str().expect("utf-8"),
        ];
        a.extend_from_slice(extra);
        a.into_iter().map(str::to_owned).collect::<Vec<String>>()
    };
    // No AWS: the request is cut from the snapshot.
    let run = |a: Vec<String>| {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        common::gateaudit_with_env(
            &refs,
            &[("AWS_ENDPOINT_URL".into(), "http://127.0.0.1:9".into())],
            out.path(),
        )
    };
    let output = run(args(&["--pipeline", "web*", "--account", "cicd"]));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let evidence_dir = run_dir(out.path());
    let mut reader =
        csv::Reader::from_path(evidence_dir.join("evidence.csv")).expect("evidence.csv");
    let header = reader.headers().expect("header").clone();
    let col = |name: &str| header.iter().position(|h| h == name).expect("column");
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("rows");
    // Executions 2 (14 days ago: three approvals), 3 (7 days ago: one rejection), 4 to 7 (12, 9, 5 and 4 days
    // ago: three approvals each) and 8 (3 days ago, gate removed: one approval) are in scope; 1 (21 days ago) and
    // the api pipeline are not.
    assert_eq!(rows.len(), 17, "{}", text(&output));
    assert!(rows.iter().any(|r| &r[col("status")] == "Rejected"));
    let executions = &demo.expected["executions"];
    let in_scope: BTreeSet<&str> = rows
        .iter()
        .map(|r| r.get(col("execution_id")).unwrap_or(""))
        .collect();
    assert!(!in_scope.contains(executions["clean"].as_str().expect("clean")));
    assert!(in_scope.contains(executions["gate_removed"].as_str().expect("gate removed")));
    assert!(rows.iter().all(|r| &r[col("pipeline")] == "webapp"));
    for name in [
        "evidence.pdf",
        "scope.json",
        "manifest.json",
        "snapshot.json",
    ] {
        assert!(evidence_dir.join(name).exists(), "{name} missing");
    }
    // Every fact of evidence.csv is in evidence.pdf, whole (identifiers wrap, nothing is cut), and the PDF names
    // the file it is the companion of.
    let pdf = common::pdf_text_raw(&evidence_dir.join("evidence.pdf"));
    let flat: String = pdf.split_whitespace().collect();
    assert!(pdf.contains("evidence.csv") && !pdf.contains("approvals.csv"));
    assert!(!pdf.contains('…'), "something was cut in evidence.pdf");
    for r in &rows {
        for name in [
            "execution_id",
            "event_id",
            "approver_recorded",
            "person",
            "record",
        ] {
            let value: String = r[col(name)].split_whitespace().collect();
            if !value.is_empty() {
                assert!(
                    flat.contains(&value),
                    "{name} {value:?} is not in evidence.pdf whole"
                );
            }
        }
    }
    let verify = demo.gateaudit(&["verify-report", evidence_dir.to_str().expect("utf-8")]);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
    // A period the snapshot does not cover cannot be proven complete: refused.
    let refused = run(vec![
        "evidence".into(),
        "--snapshot".into(),
        snapshot_path.to_str().expect("utf-8").into(),
        "--since".into(),
        "2020-01-01".into(),
        "--until".into(),
        "2020-03-01".into(),
    ]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not inside the snapshot's period"),
        "{}",
        text(&refused)
    );
}

/// The configuration without its trail archive (the durable evidence beyond LookupEvents' 90 days).
fn config_without_archive(demo: &Demo) -> std::path::PathBuf {
    let text = std::fs::read_to_string(demo.config()).expect("config");
    let (head, rest) = text
        .split_once("[[trail_buckets]]")
        .expect("a trail bucket");
    // The trail bucket block is last but one table; keep whatever follows it.
    let tail = rest
        .split_once("\n[[")
        .map(|(_, t)| format!("\n[[{t}"))
        .unwrap_or_default();
    let path = demo.dir.path().join("without-archive.toml");
    std::fs::write(&path, format!("{head}{tail}")).expect("write config");
    path
}

fn check_of<'a>(findings: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    findings["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

#[test]
fn a_period_beyond_lookup_events_without_an_archive_is_incomplete_in_every_report() {
    let demo = demo();
    let config = config_without_archive(demo);
    assert!(!std::fs::read_to_string(&config)
        .expect("config")
        .contains("trail_buckets"));
    let since = (chrono::Utc::now() - chrono::Duration::days(180))
        .format("%Y-%m-%d")
        .to_string();
    let (code, dir, output, _keep) = audit(&config, &["--since", &since]);
    assert_eq!(code, 1, "incomplete checks exit 1\n{output}");
    let findings = read_json(&dir.join("findings.json"));
    // gate-coverage counts each execution's approvers from CloudTrail as well as updatedBy: incomplete too.
    for id in ["out-of-band-change", "distinct-approvers", "gate-coverage"] {
        let check = check_of(&findings, id);
        assert_eq!(check["status"], "incomplete", "{id}: {check}");
        let steps: Vec<&str> = check["incomplete"]
            .as_array()
            .expect("incomplete list")
            .iter()
            .filter_map(|m| m["step"].as_str())
            .collect();
        assert!(
            steps
                .iter()
                .all(|s| s.starts_with("cloudtrail:LookupEvents(")),
            "{id}: {steps:?}"
        );
        assert!(!steps.is_empty(), "{id}");
        assert!(
            output.contains(&format!("INCOMPLETE check {id} in ")),
            "{output}"
        );
    }
    assert_eq!(
        check_of(&findings, "cross-account-trust")["status"],
        "failed",
        "a check that reads no events is not affected"
    );
    // JUnit: an error case naming the account and the step.
    let xml = std::fs::read_to_string(dir.join("junit.xml")).expect("junit.xml");
    let doc = roxmltree::Document::parse(&xml).expect("junit.xml parses");
    let prod = doc
        .descendants()
        .find(|n| n.attribute("name") == Some("out-of-band-change [444444444444 prod]"))
        .expect("the prod case");
    let error = prod
        .children()
        .find(|n| n.has_tag_name("error"))
        .expect("an error, not a pass");
    let message = error.attribute("message").unwrap_or_default();
    assert!(
        message.contains(
            "444444444444 (prod): cloudtrail:LookupEvents(ReadOnly=false) eu-west-1 partial"
        ),
        "{message}"
    );
    // The PDF's executive summary says so.
    let pdf = common::pdf_text(&dir.join("report.pdf"));
    assert!(pdf.contains("check(s) INCOMPLETE"), "{pdf}");
    assert!(pdf.contains("incomplete"), "{pdf}");
    // Accepting the gap changes the exit code, never the status.
    let (code, dir, output, _keep) = audit(&config, &["--since", &since, "--allow-incomplete"]);
    assert_eq!(code, 3, "the violations decide\n{output}");
    let findings = read_json(&dir.join("findings.json"));
    assert_eq!(
        check_of(&findings, "out-of-band-change")["status"],
        "incomplete"
    );
    assert!(
        output.contains("INCOMPLETE check out-of-band-change"),
        "{output}"
    );
}

#[test]
fn an_archive_whose_digests_cover_the_period_completes_what_lookup_events_cannot_see() {
    let demo = demo();
    // The organisation's trails started logging 120 days ago; LookupEvents sees 90 of these 100 days.
    let since = (chrono::Utc::now() - chrono::Duration::days(100))
        .format("%Y-%m-%d")
        .to_string();
    let (code, dir, output, _keep) = audit(&demo.config(), &["--since", &since]);
    let findings = read_json(&dir.join("findings.json"));
    let snapshot = read_json(&dir.join("snapshot.json"));
    let partial = snapshot["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .flat_map(|a| a["steps"].as_array().cloned().unwrap_or_default())
        .filter(|s| {
            s["status"] == "partial"
                && s["step"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("cloudtrail:LookupEvents"))
        })
        .count();
    assert!(
        partial >= 8,
        "LookupEvents is partial in every account\n{output}"
    );
    for id in [
        "out-of-band-change",
        "distinct-approvers",
        "approval-evidence",
    ] {
        assert_ne!(
            check_of(&findings, id)["status"],
            "incomplete",
            "{id}: the archive covers the rest\n{output}"
        );
    }
    assert_eq!(
        check_of(&findings, "trail-integrity")["status"],
        "passed",
        "{output}"
    );
    assert_eq!(code, 3, "{output}");
}

#[test]
fn an_evidence_request_by_environment_selects_where_approvals_deploy_and_refuses_empty_answers() {
    let demo = demo();
    let (_, dir, _, _keep) = audit(&demo.config(), &[]);
    let snapshot_path = dir.join("snapshot.json");
    let snapshot = read_json(&snapshot_path);
    let until = snapshot["period"]["until"]
        .as_str()
        .expect("until")
        .to_owned();
    let days_ago = |d: i64| (chrono::Utc::now() - chrono::Duration::days(d)).to_rfc3339();
    let out = tempfile::tempdir().expect("tempdir");
    let run = |since: &str, until: &str, extra: &[&str]| {
        let mut args = vec![
            "evidence",
            "--snapshot",
            snapshot_path.to_str().expect("utf-8"),
            "--since",
            since,
            "--until",
            until,
            "--out",
            out.path().to_str().expect("utf-8"),
        ];
        args.extend_from_slice(extra);
        common::gateaudit_with_env(&args, &[], out.path())
    };
    // The prod gate's approvals are given in the CI/CD account but deploy into prod.
    let prod = run(&days_ago(17), &until, &["--environment", "prod"]);
    assert_eq!(prod.status.code(), Some(0), "{}", text(&prod));
    let evidence_dir = run_dir(out.path());
    let mut reader = csv::Reader::from_path(evidence_dir.join("evidence.csv")).expect("csv");
    let headers = reader.headers().expect("headers").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect("column");
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("rows");
    // Executions 2 and 4 to 7 of webapp and both api executions: two prod approvals each.
    assert_eq!(
        rows.len(),
        14,
        "seven executions' two prod approvals\n{}",
        text(&prod)
    );
    assert!(rows
        .iter()
        .all(|r| &r[col("stage")] == "ProdGate" && &r[col("environment")] == "prod"));
    // The approving account's own label selects nothing: a usage error, not an empty ledger.
    let cicd = run(&days_ago(17), &until, &["--environment", "cicd"]);
    assert_eq!(cicd.status.code(), Some(2), "{}", text(&cicd));
    assert!(
        String::from_utf8_lossy(&cicd.stderr)
            .contains("no pipeline of the snapshot deploys into an account labelled \"cicd\""),
        "{}",
        text(&cicd)
    );
    // A valid scope without approvals says so and fails.
    let nothing = run(&days_ago(20), &days_ago(15), &["--environment", "prod"]);
    assert_eq!(nothing.status.code(), Some(1), "{}", text(&nothing));
    assert!(
        String::from_utf8_lossy(&nothing.stderr).contains("the request selects no approval"),
        "{}",
        text(&nothing)
    );
    // An empty or reversed period is a usage error.
    let t = days_ago(3);
    let empty = run(&t, &t, &[]);
    assert_eq!(empty.status.code(), Some(2), "{}", text(&empty));
    let reversed = run(&until, &days_ago(10), &[]);
    assert_eq!(reversed.status.code(), Some(2), "{}", text(&reversed));
    assert_eq!(
        std::fs::read_dir(out.path()).expect("out").count(),
        1,
        "refused requests write nothing"
    );
}

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn no_secret_reaches_a_report_or_the_most_verbose_log() {
    let demo = demo();
    let out = tempfile::tempdir().expect("tempdir");
    let config = demo.config();
    let mut env = demo.env.clone();
    env.push(("RUST_LOG".into(), "trace".into()));
    let output = common::gateaudit_with_env(
        &[
            "--log-level",
            "trace",
            "audit",
            "--config",
            config.to_str().expect("utf-8"),
            "--out",
            out.path().to_str().expect("utf-8"),
        ],
        &env,
        demo.dir.path(),
    );
    assert!(
        output.stderr.len() > 100_000,
        "the SDK's trace logging is on ({} bytes)",
        output.stderr.len()
    );
    let secrets = demo.emulator.secrets();
    let auditor_secret = demo
        .env
        .iter()
        .find(|(k, _)| k == "AWS_SECRET_ACCESS_KEY")
        .map(|(_, v)| v.clone())
        .expect("the auditor's secret");
    assert!(
        secrets.contains(&auditor_secret),
        "the emulator lists the auditor's key"
    );
    assert!(
        secrets.iter().filter(|s| s.starts_with("FQoG")).count() >= 4,
        "session tokens of the audit's and the seed's sessions are listed: {}",
        secrets.len()
    );
    let mut places: Vec<(String, Vec<u8>)> = vec![
        ("stderr".into(), output.stderr.clone()),
        ("stdout".into(), output.stdout.clone()),
    ];
    for file in files_under(&run_dir(out.path())) {
        places.push((
            file.display().to_string(),
            std::fs::read(&file).expect("read"),
        ));
    }
    assert!(places.len() > 10, "every report file is scanned");
    for (place, bytes) in &places {
        for secret in &secrets {
            assert!(
                memchr::memmem::find(bytes, secret.as_bytes()).is_none(),
                "a secret ({}…) is in {place}",
                &secret[..8]
            );
        }
    }
}
