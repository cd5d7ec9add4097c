//! Read-only, proven: the emulator enforces IAM authentication and authorisation (moto's own, switched on with
//! `POST /moto-api/reset-auth 0`), the auditor and every account's audit role hold exactly
//! `policies/auditor-iam-policy.json`, and a full audit still collects everything. A write by the same identity
//! is refused, so the enforcement is real.

mod common;

use common::{read_json, run_dir, text, Demo};

/// Gives the auditor user (CI/CD account) and each CICDCrossAccountRole exactly the published policy, then
/// switches authentication on.
const EXACT_POLICY: &str = r#"
import sys, boto3, urllib.request
endpoint, policy_path = sys.argv[1], sys.argv[2]
policy = open(policy_path).read()
def iam(account):
    c = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                     aws_access_key_id="testing", aws_secret_access_key="testing")
    c.meta.events.register("before-send.*.*", lambda request, **kw: request.headers.__setitem__("x-moto-account-id", account))
    return c
cicd = iam("111111111111")
for p in cicd.list_attached_user_policies(UserName="gateaudit-auditor")["AttachedPolicies"]:
    cicd.detach_user_policy(UserName="gateaudit-auditor", PolicyArn=p["PolicyArn"])
for name in cicd.list_user_policies(UserName="gateaudit-auditor")["PolicyNames"]:
    cicd.delete_user_policy(UserName="gateaudit-auditor", PolicyName=name)
cicd.put_user_policy(UserName="gateaudit-auditor", PolicyName="gateaudit", PolicyDocument=policy)
for account in ["222222222222", "333333333333", "444444444444"]:
    c = iam(account)
    for name in c.list_role_policies(RoleName="CICDCrossAccountRole")["PolicyNames"]:
        c.delete_role_policy(RoleName="CICDCrossAccountRole", PolicyName=name)
    for p in c.list_attached_role_policies(RoleName="CICDCrossAccountRole")["AttachedPolicies"]:
        c.detach_role_policy(RoleName="CICDCrossAccountRole", PolicyArn=p["PolicyArn"])
    c.put_role_policy(RoleName="CICDCrossAccountRole", PolicyName="gateaudit", PolicyDocument=policy)
urllib.request.urlopen(urllib.request.Request(endpoint + "/_emulator/flush-trails", data=b"{}", method="POST"))
urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}))
"#;

/// With the auditor's own keys: a read passes, writes are refused (prints the error codes).
const TRY_WRITES: &str = r#"
import sys, json, boto3
from botocore.exceptions import ClientError
endpoint, key, secret = sys.argv[1:4]
session = boto3.session.Session(region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret)
iam = session.client("iam", endpoint_url=endpoint)
s3 = session.client("s3", endpoint_url=endpoint)
out = {"read": len(iam.get_account_authorization_details()["UserDetailList"])}
for name, call in [("iam:CreateUser", lambda: iam.create_user(UserName="intruder")),
                   ("s3:PutObject", lambda: s3.put_object(Bucket="approval-records-111111111111", Key="x", Body=b"x")),
                   ("iam:ListUsers", lambda: iam.list_users())]:
    try:
        call()
        out[name] = "allowed"
    except ClientError as e:
        out[name] = e.response["Error"]["Code"]
print(json.dumps(out))
"#;

#[test]
fn a_full_audit_succeeds_with_exactly_the_published_policy_under_enforced_iam() {
    let demo = Demo::seed(false);
    let policy = common::repo().join("policies/auditor-iam-policy.json");
    common::run_python(
        EXACT_POLICY,
        &[
            &demo.emulator.endpoint,
            policy.to_str().expect("utf-8 path"),
        ],
    );

    let out = tempfile::tempdir().expect("tempdir");
    let config = demo.config();
    let output = demo.gateaudit(&[
        "audit",
        "--config",
        config.to_str().expect("utf-8"),
        "--out",
        out.path().to_str().expect("utf-8"),
    ]);
    let report = text(&output);
    let dir = run_dir(out.path());
    let snapshot = read_json(&dir.join("snapshot.json"));
    for account in snapshot["accounts"].as_array().expect("accounts") {
        for step in account["steps"].as_array().expect("steps") {
            assert_eq!(
                step["status"], "ok",
                "{}: {step}\n{report}",
                account["account_id"]
            );
        }
    }
    let findings = read_json(&dir.join("findings.json"));
    assert_eq!(findings["complete"], true, "{report}");
    assert!(
        findings["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .all(|c| c["status"] != "incomplete"),
        "{report}"
    );
    assert_eq!(
        output.status.code(),
        Some(3),
        "the planted violations decide\n{report}"
    );

    // The enforcement is real: the same identity cannot write, nor call what the policy does not list.
    let key = |name: &str| {
        demo.env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .expect("credential")
    };
    let tried = std::process::Command::new(common::python())
        .args([
            "-c",
            TRY_WRITES,
            &demo.emulator.endpoint,
            &key("AWS_ACCESS_KEY_ID"),
            &key("AWS_SECRET_ACCESS_KEY"),
        ])
        .output()
        .expect("python");
    assert!(
        tried.status.success(),
        "{}",
        String::from_utf8_lossy(&tried.stderr)
    );
    let tried: serde_json::Value = serde_json::from_slice(&tried.stdout).expect("json");
    assert!(tried["read"].as_u64().unwrap_or(0) > 0, "{tried}");
    for denied in ["iam:CreateUser", "s3:PutObject", "iam:ListUsers"] {
        assert_eq!(tried[denied], "AccessDenied", "{denied}: {tried}");
    }
}
