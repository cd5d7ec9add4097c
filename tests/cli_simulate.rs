//! `gateaudit simulate`: the offline policy simulator's command line (exit 0 whatever the decision, 2 on bad input;
//! with `--jsonl`, answers streamed line by line and bad lines answered in place).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn simulate(args: &[&str], input: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gateaudit"))
        .arg("simulate")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start gateaudit");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write input");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const REQUEST: &str = r#"{"request": {"action": "s3:GetObject",
  "resource": {"resource": "arn:aws:s3:::bucket/key", "accountId": "111111111111"},
  "principal": "arn:aws:iam::111111111111:user/alice",
  "context": {"aws:MultiFactorAuthPresent": "true"}},
 "identityPolicies": [{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*",
   "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}}]"#;

#[test]
fn allowed_request() {
    let (code, out, err) = simulate(&[], &format!("{REQUEST}}}"));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json answer");
    assert_eq!(v["result"], "Allowed", "{out}");
}

#[test]
fn scp_level_without_allow_denies_and_exits_zero() {
    let input = format!(
        r#"{REQUEST}, "serviceControlPolicies": [
            {{"orgIdentifier": "r-root", "policies": [{{"Version": "2012-10-17", "Statement": {{"Effect": "Allow", "Action": "*", "Resource": "*"}}}}]}},
            {{"orgIdentifier": "ou-1", "policies": [{{"Version": "2012-10-17", "Statement": {{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}}}}]}}]}}"#
    );
    let (code, out, err) = simulate(&[], &input);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json answer");
    assert_eq!(v["result"], "ImplicitlyDenied", "{out}");
}

#[test]
fn json_lines_answer_line_by_line_and_bad_lines_in_place() {
    let allowed = format!("{REQUEST}}}").replace('\n', " ");
    let denied = allowed.replacen("\"true\"}}", "\"false\"}}", 1);
    let (code, out, err) = simulate(&["--jsonl"], &format!("{allowed}\n{denied}\n"));
    assert_eq!(code, 0, "{err}");
    let answers: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("answer line"))
        .collect();
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0]["result"], "Allowed");
    assert_eq!(answers[0]["line"], 1);
    assert_eq!(answers[1]["result"], "ImplicitlyDenied");
    assert_eq!(answers[1]["line"], 2);

    // A bad policy, a blank line, invalid JSON and an empty action: each answered in its place,
    // the good lines after them still answered, exit 2 at the end, every problem on stderr.
    let bad = allowed.replace("\"Effect\": \"Allow\"", "\"Effect\": \"Permit\"");
    let empty_action = allowed.replace("\"s3:GetObject\"", "\"\"");
    let input = format!("{allowed}\n{bad}\n\n{{oops\n{empty_action}\n{denied}\n");
    let (code, out, err) = simulate(&["--jsonl"], &input);
    assert_eq!(code, 2, "{out}");
    let answers: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("answer line"))
        .collect();
    assert_eq!(answers.len(), 6, "{out}");
    let lines: Vec<u64> = answers
        .iter()
        .map(|a| a["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(lines, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(answers[0]["result"], "Allowed");
    assert_eq!(answers[1]["path"], "identityPolicies[0]", "{}", answers[1]);
    assert!(answers[1]["error"]
        .as_str()
        .expect("error")
        .contains("Effect"));
    assert!(answers[2]["error"]
        .as_str()
        .expect("error")
        .starts_with("blank line"));
    assert!(answers[3]["error"]
        .as_str()
        .expect("error")
        .starts_with("invalid JSON"));
    assert_eq!(answers[4]["path"], "request.action", "{}", answers[4]);
    assert!(answers[4].get("result").is_none());
    assert_eq!(answers[5]["result"], "ImplicitlyDenied");
    assert!(
        err.contains("line 2") && err.contains("identityPolicies[0]") && err.contains("Effect"),
        "{err}"
    );
    assert!(err.contains("line 5: request.action"), "{err}");
    assert!(err.contains("4 of 6 input lines"), "{err}");
}

#[test]
fn json_lines_stream_one_answer_before_the_next_line_is_written() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gateaudit"))
        .args(["simulate", "--jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start gateaudit");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    // Answers are read on a thread, so a simulator that waits for end of input makes the test
    // time out instead of hanging.
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.expect("answer line")).is_err() {
                break;
            }
        }
    });
    let next = |what: &str| -> serde_json::Value {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("no answer to the {what} line while stdin is still open"));
        serde_json::from_str(&line).expect("json answer")
    };
    let allowed = format!("{REQUEST}}}").replace('\n', " ");
    writeln!(stdin, "{allowed}").expect("write line 1");
    stdin.flush().expect("flush");
    let first = next("first");
    assert_eq!(first["line"], 1);
    assert_eq!(first["result"], "Allowed");
    // A bad line is answered in place, and the simulator keeps going.
    writeln!(stdin).expect("write line 2");
    stdin.flush().expect("flush");
    let second = next("blank");
    assert_eq!(second["line"], 2);
    assert!(second["error"]
        .as_str()
        .expect("error")
        .starts_with("blank line"));
    writeln!(
        stdin,
        "{}",
        allowed.replacen("\"true\"}}", "\"false\"}}", 1)
    )
    .expect("line 3");
    stdin.flush().expect("flush");
    let third = next("third");
    assert_eq!(third["line"], 3);
    assert_eq!(third["result"], "ImplicitlyDenied");
    drop(stdin);
    let status = child.wait().expect("wait");
    reader.join().expect("reader");
    assert_eq!(
        status.code(),
        Some(2),
        "a bad line makes the run fail at the end"
    );
}

#[test]
fn single_request_with_an_empty_action_exits_2_naming_the_path() {
    let input = format!("{REQUEST}}}").replace("\"s3:GetObject\"", "\"\"");
    let (code, out, err) = simulate(&[], &input);
    assert_eq!(code, 2, "{out}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("request.action: empty"), "{err}");
}

#[test]
fn json_lines_from_a_file_and_no_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("requests.jsonl");
    let allowed = format!("{REQUEST}}}").replace('\n', " ");
    std::fs::write(&path, format!("{allowed}\r\n{allowed}")).expect("write");
    let (code, out, err) = simulate(&["--jsonl", path.to_str().expect("path")], "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    let (code, out, err) = simulate(&["--jsonl"], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty());
}

/// Runs one (non-JSON-Lines) request and returns its parsed answer, asserting exit 0.
fn answer(input: &serde_json::Value) -> serde_json::Value {
    let (code, out, err) = simulate(&[], &input.to_string());
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("json answer")
}

fn note_codes(v: &serde_json::Value) -> Vec<String> {
    v["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .map(|n| n["code"].as_str().expect("code").to_owned())
        .collect()
}

#[test]
fn rcp_level_without_allow_does_not_deny() {
    let allow_s3 = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
    let v = answer(&serde_json::json!({
        "request": {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
                    "principal": "arn:aws:iam::111111111111:user/alice"},
        "identityPolicies": [allow_s3],
        "resourceControlPolicies": [
            {"orgIdentifier": "r-root", "policies": []},
            {"orgIdentifier": "ou-1", "policies": [{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "ec2:*", "Resource": "*"}]}]}]
    }));
    assert_eq!(v["result"], "Allowed", "{v}");
    assert_eq!(v["decidingLayers"], serde_json::json!(["IdentityPolicy"]));
    assert!(note_codes(&v).contains(&"RcpDenyOnly".to_owned()), "{v}");
}

#[test]
fn deny_with_not_principal_naming_the_role_and_account_excepts_its_session() {
    let input = |listed: serde_json::Value| {
        serde_json::json!({
            "request": {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
                        "principal": "arn:aws:sts::111111111111:assumed-role/Ops/s1"},
            "identityPolicies": [{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}],
            "resourcePolicy": {"Version": "2012-10-17", "Statement": [
                {"Sid": "OnlyOps", "Effect": "Deny", "NotPrincipal": {"AWS": listed},
                 "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}]}
        })
    };
    let v = answer(&input(serde_json::json!([
        "arn:aws:iam::111111111111:role/Ops",
        "arn:aws:iam::111111111111:root"
    ])));
    assert_eq!(v["result"], "Allowed", "{v}");
    assert!(
        note_codes(&v).contains(&"NotPrincipalExcepts".to_owned()),
        "{v}"
    );
    let v = answer(&input(serde_json::json!([
        "arn:aws:sts::111111111111:assumed-role/Ops/s1",
        "111111111111"
    ])));
    assert_eq!(v["result"], "Allowed", "{v}");
    // Naming only the role excepts its session too (the common case); the note warns that some services also
    // want the account ARN.
    let v = answer(&input(serde_json::json!([
        "arn:aws:iam::111111111111:role/Ops"
    ])));
    assert_eq!(v["result"], "Allowed", "{v}");
    assert!(
        note_codes(&v).contains(&"NotPrincipalNeedsAccount".to_owned()),
        "{v}"
    );
}

#[test]
fn get_caller_identity_is_allowed_against_an_explicit_deny() {
    let v = answer(&serde_json::json!({
        "request": {"action": "sts:GetCallerIdentity",
                    "principal": "arn:aws:iam::111111111111:user/alice"},
        "identityPolicies": [{"Version": "2012-10-17", "Statement": [
            {"Sid": "NoSts", "Effect": "Deny", "Action": "sts:*", "Resource": "*"}]}]
    }));
    assert_eq!(v["result"], "Allowed", "{v}");
    assert_eq!(v["decidingLayers"], serde_json::json!([]));
    assert_eq!(
        note_codes(&v),
        vec!["CallerIdentityAlwaysAllowed".to_owned()]
    );
}

#[test]
fn assume_role_needs_the_trust_policy_within_one_account() {
    let request = serde_json::json!({"action": "sts:AssumeRole",
        "resource": "arn:aws:iam::111111111111:role/Deployer",
        "principal": "arn:aws:iam::111111111111:user/alice"});
    let may_assume = serde_json::json!([{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}]);
    let trust = |principal: &str| {
        serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]})
    };
    // Identity allow, no trust policy: denied, and the note says a trust policy is needed.
    let v = answer(&serde_json::json!({"request": request, "identityPolicies": may_assume}));
    assert_eq!(v["result"], "ImplicitlyDenied", "{v}");
    assert_eq!(v["decidingLayers"], serde_json::json!(["ResourcePolicy"]));
    assert!(
        note_codes(&v).contains(&"TrustPolicyMissing".to_owned()),
        "{v}"
    );
    // Trust naming the account: the identity policy must allow too.
    let v = answer(&serde_json::json!({"request": request,
        "resourcePolicy": trust("arn:aws:iam::111111111111:root")}));
    assert_eq!(v["result"], "ImplicitlyDenied", "{v}");
    assert_eq!(v["decidingLayers"], serde_json::json!(["IdentityPolicy"]));
    let v = answer(
        &serde_json::json!({"request": request, "identityPolicies": may_assume,
        "resourcePolicy": trust("111111111111")}),
    );
    assert_eq!(v["result"], "Allowed", "{v}");
    assert!(note_codes(&v).contains(&"TrustPolicyDelegatesToAccount".to_owned()));
    // Trust naming alice: allowed without any identity policy.
    let v = answer(&serde_json::json!({"request": request,
        "resourcePolicy": trust("arn:aws:iam::111111111111:user/alice")}));
    assert_eq!(v["result"], "Allowed", "{v}");
    assert!(note_codes(&v).contains(&"TrustPolicyNamesCaller".to_owned()));
}

#[test]
fn kms_key_needs_the_key_policy() {
    let request = serde_json::json!({"action": "kms:Decrypt",
        "resource": "arn:aws:kms:us-east-1:111111111111:key/1234abcd",
        "principal": "arn:aws:iam::111111111111:user/alice"});
    let may_decrypt = serde_json::json!([{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}]);
    let v = answer(&serde_json::json!({"request": request, "identityPolicies": may_decrypt}));
    assert_eq!(v["result"], "ImplicitlyDenied", "{v}");
    assert!(
        note_codes(&v).contains(&"KeyPolicyMissing".to_owned()),
        "{v}"
    );
    let v = answer(
        &serde_json::json!({"request": request, "identityPolicies": may_decrypt,
        "resourcePolicy": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:user/bob"},
             "Action": "kms:*", "Resource": "*"}]}}),
    );
    assert_eq!(v["result"], "ImplicitlyDenied", "{v}");
    assert!(
        note_codes(&v).contains(&"KeyPolicyDoesNotAdmit".to_owned()),
        "{v}"
    );
    let v = answer(
        &serde_json::json!({"request": request, "identityPolicies": may_decrypt,
        "resourcePolicy": {"Version": "2012-10-17", "Statement": [
            {"Sid": "EnableIamPolicies", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
             "Action": "kms:*", "Resource": "*"}]}}),
    );
    assert_eq!(v["result"], "Allowed", "{v}");
    assert_eq!(
        v["decidingLayers"],
        serde_json::json!(["IdentityPolicy", "ResourcePolicy"])
    );
}

#[test]
fn nobody_modifies_an_aws_managed_policy_or_an_identity_center_role() {
    let admin = serde_json::json!([{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}]);
    for (action, resource) in [
        ("iam:CreatePolicyVersion", "arn:aws:iam::aws:policy/AdministratorAccess"),
        (
            "iam:PutRolePolicy",
            "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123abcd",
        ),
    ] {
        let v = answer(&serde_json::json!({
            "request": {"action": action, "resource": resource,
                        "principal": "arn:aws:iam::111111111111:user/alice"},
            "identityPolicies": admin}));
        assert_eq!(v["result"], "ExplicitlyDenied", "{v}");
        assert_eq!(v["decidingLayers"], serde_json::json!(["UnmodifiableEntity"]));
        assert_eq!(note_codes(&v), vec!["UnmodifiableEntity".to_owned()]);
    }
    let v = answer(&serde_json::json!({
        "request": {"action": "iam:GetPolicyVersion",
                    "resource": "arn:aws:iam::aws:policy/AdministratorAccess",
                    "principal": "arn:aws:iam::111111111111:user/alice"},
        "identityPolicies": admin}));
    assert_eq!(v["result"], "Allowed", "{v}");
}
