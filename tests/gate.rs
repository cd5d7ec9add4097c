//! `gateaudit gate` against the emulated demo organisation: the demo's clean executions proceed (0), one approved
//! twice by one role under two session names fails (3), one approved twice by one Identity Center user fails (3),
//! one approved by its own starter fails (3), one still waiting for its second approval fails closed (1), an
//! unknown execution fails closed (1); every call the gate made is a listed read-only call of the gate (the
//! emulator's per-operation request statistics), and the gate still decides under enforced IAM with exactly the
//! template's gate role policy.

mod common;

use std::collections::BTreeSet;

use common::{read_json, text, Demo};

/// The demo's rule set with approver entitlements for webapp's gates.
fn rule_set(dir: &std::path::Path) -> std::path::PathBuf {
    let mut rules =
        std::fs::read_to_string(common::repo().join("policies/default.toml")).expect("rule set");
    rules.push_str(
        r#"
[[approvals.approvers]]
actions = ["webapp/TestGate/TestApproval"]
groups = ["TestApprovers"]
[[approvals.approvers]]
actions = ["webapp/ProdGate/ApprovalA"]
groups = ["ApprovalA", "ApproversA"]
principals = ["arn:aws:iam::111111111111:role/ReleaseManager"]
[[approvals.approvers]]
actions = ["webapp/ProdGate/ApprovalB"]
groups = ["ApprovalB", "ApproversB"]
principals = ["arn:aws:iam::111111111111:role/ReleaseManager"]
"#,
    );
    let path = dir.join("gate-rules.toml");
    std::fs::write(&path, rules).expect("write rule set");
    path
}

/// Starts a webapp execution through the emulator's APIs, has new user tina (TestApprovers) approve the test gate
/// and new user uma (ApprovalA) the first production gate, and leaves ApprovalB waiting. Prints the execution id.
const PENDING: &str = r#"
import sys, time, boto3
endpoint = sys.argv[1]
def client(service, account=None, creds=None):
    kw = creds or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    c = boto3.client(service, endpoint_url=endpoint, region_name="eu-west-1", **kw)
    if account:
        c.meta.events.register("before-send.*.*",
                               lambda request, **_: request.headers.__setitem__("x-moto-account-id", account))
    return c
iam = client("iam", "111111111111")
creds = {}
for name, group in (("tina", "TestApprovers"), ("uma", "ApprovalA")):
    iam.create_user(UserName=name)
    iam.add_user_to_group(GroupName=group, UserName=name)
    k = iam.create_access_key(UserName=name)["AccessKey"]
    creds[name] = {"aws_access_key_id": k["AccessKeyId"], "aws_secret_access_key": k["SecretAccessKey"]}
cp = client("codepipeline", "111111111111")
ex = cp.start_pipeline_execution(name="webapp")["pipelineExecutionId"]
def approve(who, stage, action):
    for _ in range(100):
        for s in cp.get_pipeline_state(name="webapp")["stageStates"]:
            for a in s.get("actionStates", []):
                latest = a.get("latestExecution") or {}
                if s["stageName"] == stage and a["actionName"] == action and latest.get("status") == "InProgress":
                    client("codepipeline", creds=creds[who]).put_approval_result(
                        pipelineName="webapp", stageName=stage, actionName=action,
                        result={"summary": f"{who} reviewed", "status": "Approved"}, token=latest["token"])
                    return
        time.sleep(0.1)
    raise SystemExit(f"{stage}/{action} never waited for approval")
approve("tina", "TestGate", "TestApproval")
approve("uma", "ProdGate", "ApprovalA")
print(ex)
"#;

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_gate_decides_each_demo_execution_with_read_only_calls() {
    let demo = Demo::seed(false);
    let rules = rule_set(demo.dir.path());
    let config = demo.config();
    let executions = demo.expected["executions"].clone();
    let gate = |execution: &str, out: Option<&std::path::Path>| {
        let mut args = vec![
            "gate".to_owned(),
            "--config".to_owned(),
            config.display().to_string(),
            "--policy".to_owned(),
            rules.display().to_string(),
            "--pipeline".to_owned(),
            "webapp".to_owned(),
            "--execution".to_owned(),
            execution.to_owned(),
        ];
        if let Some(o) = out {
            args.extend(["--out".to_owned(), o.display().to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        demo.gateaudit(&args)
    };
    let id = |key: &str| executions[key].as_str().expect("execution id").to_owned();

    // The clean execution proceeds, with only read-only calls of the gate.
    demo.emulator
        .faults(Some(&serde_json::json!({"reset": true, "rules": []})));
    let reports = tempfile::tempdir().expect("tempdir");
    let started = std::time::Instant::now();
    let clean = gate(&id("clean"), Some(reports.path()));
    let took = started.elapsed();
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));
    let out = stdout(&clean);
    assert!(out.contains("gate: PASS"), "{out}");
    assert!(
        out.contains("approval ProdGate/ApprovalB: Approved by arn:aws:iam::111111111111:user/bob"),
        "{out}"
    );
    assert!(
        out.contains("[source: ListActionExecutions updatedBy and CloudTrail event"),
        "{out}"
    );
    eprintln!("gate on the clean execution took {took:?}");
    let stats = demo.emulator.faults(None);
    let called: BTreeSet<String> = stats["stats"]["by_operation"]
        .as_object()
        .expect("by_operation")
        .keys()
        .filter(|k| !k.contains("->"))
        .cloned()
        .collect();
    let gate_ops: BTreeSet<String> = gateaudit::collect::gate::ACCOUNT_OPERATIONS
        .iter()
        .chain(gateaudit::collect::gate::ORGANIZATION_OPERATIONS)
        .filter_map(|(s, n)| gateaudit::collect::operations::listed(s, n))
        .map(|o| o.iam_action.to_lowercase())
        .collect();
    assert!(
        called
            .iter()
            .any(|c| c == "codepipeline:GetPipelineExecution"),
        "{called:?}"
    );
    for call in &called {
        let (service, name) = call.split_once(':').expect("service:operation");
        let listed = gateaudit::collect::operations::listed_for_event(
            &format!("{service}.amazonaws.com"),
            name,
        )
        .unwrap_or_else(|| panic!("{call} is not a listed read-only operation"));
        assert!(
            gate_ops.contains(&listed.iam_action.to_lowercase()),
            "{call} is not one of the gate's calls"
        );
    }
    eprintln!("calls the gate made: {called:?}");
    let findings = read_json(&reports.path().join("findings.json"));
    assert_eq!(
        findings["findings"].as_array().map(Vec::len),
        Some(0),
        "{findings}"
    );
    assert!(reports.path().join("junit.xml").exists());

    // One role approving both production gates under two session names.
    let twice = gate(&id("violation"), None);
    assert_eq!(twice.status.code(), Some(3), "{}", text(&twice));
    let out = stdout(&twice);
    assert!(
        out.lines()
            .any(|l| l.starts_with("VIOLATION [distinct-approvers]")
                && l.contains("ReleaseManager")
                && l.contains("rm-alice")
                && l.contains("rm-alice-2")),
        "{out}"
    );

    // People, not ARNs: Identity Center users through their permission sets (entitled by their groups).
    let people = gate(&id("identity_center_clean"), None);
    assert_eq!(people.status.code(), Some(0), "{}", text(&people));
    let kim = gate(&id("identity_center_violation"), None);
    assert_eq!(kim.status.code(), Some(3), "{}", text(&kim));
    assert!(
        stdout(&kim)
            .lines()
            .any(|l| l.starts_with("VIOLATION [distinct-approvers]") && l.contains("kim")),
        "{}",
        text(&kim)
    );

    // Approved by its own starter (carol started it and approved its test gate).
    let reports = tempfile::tempdir().expect("tempdir");
    let own = gate(&id("self_approved"), Some(reports.path()));
    assert_eq!(own.status.code(), Some(3), "{}", text(&own));
    let out = stdout(&own);
    assert!(
        out.lines()
            .any(|l| l.starts_with("VIOLATION [self-approval]")
                && l.contains("carol")
                && l.contains("started")),
        "{out}"
    );
    let findings = read_json(&reports.path().join("findings.json"));
    assert!(
        findings["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["check_id"] == "self-approval"
                && f["principal"] == "arn:aws:iam::111111111111:user/carol"),
        "{findings}"
    );
    let junit = std::fs::read_to_string(reports.path().join("junit.xml")).expect("junit.xml");
    assert!(
        junit.contains("self-approval") && junit.contains("<failure"),
        "{junit}"
    );

    // Still waiting for its second approval: fail closed.
    let pending = String::from_utf8(common::run_python(PENDING, &[&demo.emulator.endpoint]))
        .expect("utf-8")
        .trim()
        .to_owned();
    let waiting = gate(&pending, None);
    assert_eq!(waiting.status.code(), Some(1), "{}", text(&waiting));
    let out = stdout(&waiting);
    assert!(
        out.contains("CANNOT VERIFY: ProdGate/ApprovalB: still waiting for approval"),
        "{out}"
    );
    assert!(
        out.contains("approval ProdGate/ApprovalA: Approved by arn:aws:iam::111111111111:user/uma"),
        "{out}"
    );
    assert!(!out.contains("VIOLATION"), "{out}");

    // An execution that does not exist cannot be verified.
    let missing = gate("00000000-0000-0000-0000-000000000000", None);
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing));
    assert!(
        stdout(&missing).contains("execution not found"),
        "{}",
        text(&missing)
    );

    // Least privilege: with exactly the gate role's policy of the CloudFormation template (under enforced IAM),
    // the gate still decides; a read it was not granted would leave it unable to (exit 1).
    let template = common::repo().join("ci/templates/gate/gate-stage.cfn.yaml");
    common::run_python(
        GATE_ROLE_ONLY,
        &[&demo.emulator.endpoint, template.to_str().expect("utf-8")],
    );
    let enforced = gate(&id("clean"), None);
    assert_eq!(enforced.status.code(), Some(0), "{}", text(&enforced));
    let enforced = gate(&id("violation"), None);
    assert_eq!(enforced.status.code(), Some(3), "{}", text(&enforced));
    // The enforcement is real: an audit, which needs more than the gate, is refused reads under the same policy.
    let snapshot = demo.dir.path().join("enforced-snapshot.json");
    let collect = demo.gateaudit(&[
        "collect",
        "--config",
        config.to_str().expect("utf-8"),
        "--out",
        snapshot.to_str().expect("utf-8"),
    ]);
    assert_eq!(collect.status.code(), Some(1), "{}", text(&collect));
}

/// Gives the auditor user exactly the gate role's policy (GateReads of the template, and the organisation
/// reader's AssumeRole), then switches moto's IAM enforcement on.
const GATE_ROLE_ONLY: &str = r#"
import json, sys, urllib.request, boto3, yaml
endpoint, template = sys.argv[1], sys.argv[2]
class Loader(yaml.SafeLoader):
    pass
Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
doc = yaml.load(open(template), Loader=Loader)
statements = doc["Resources"]["GateRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
reads = next(s for s in statements if s["Sid"] == "GateReads")
policy = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": reads["Action"], "Resource": "*"},
    {"Effect": "Allow", "Action": "sts:AssumeRole",
     "Resource": "arn:aws:iam::100000000000:role/GateAuditOrganizationsReader"}]}
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
iam.meta.events.register("before-send.*.*",
                         lambda request, **_: request.headers.__setitem__("x-moto-account-id", "111111111111"))
for p in iam.list_attached_user_policies(UserName="gateaudit-auditor")["AttachedPolicies"]:
    iam.detach_user_policy(UserName="gateaudit-auditor", PolicyArn=p["PolicyArn"])
for name in iam.list_user_policies(UserName="gateaudit-auditor")["PolicyNames"]:
    iam.delete_user_policy(UserName="gateaudit-auditor", PolicyName=name)
iam.put_user_policy(UserName="gateaudit-auditor", PolicyName="gate", PolicyDocument=json.dumps(policy))
urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
                                              headers={"Content-Type": "text/plain"}))
"#;
