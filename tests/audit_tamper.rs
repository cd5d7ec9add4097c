//! End-to-end: someone edits the CloudTrail log archive after the fact to hide a change. The audit reads the
//! archive, verifies the digests and reports the modified file (critical), while LookupEvents still shows the change.

mod common;

use common::{read_json, run_dir, text, Demo};

const HIDE_MALLORYS_CHANGE: &str = r#"
import gzip, json, sys, boto3
endpoint, bucket = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
s3.meta.events.register("before-send.*.*", lambda request, **kw: request.headers.__setitem__("x-moto-account-id", "111111111111"))
edited = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="AWSLogs/444444444444/CloudTrail/"):
    for obj in page.get("Contents", []):
        body = json.loads(gzip.decompress(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()))
        kept = [r for r in body["Records"] if r.get("eventName") != "CreateBucket" or "hotfix" not in json.dumps(r)]
        if len(kept) != len(body["Records"]):
            body["Records"] = kept
            s3.put_object(Bucket=bucket, Key=obj["Key"], Body=gzip.compress(json.dumps(body).encode()))
            edited.append(obj["Key"])
print(json.dumps(edited))
"#;

#[test]
fn an_edited_log_file_is_reported_and_the_hidden_change_is_still_found() {
    let demo = Demo::seed(false);
    let python = common::repo().join(".venv/bin/python");
    let out = std::process::Command::new(python)
        .args([
            "-c",
            HIDE_MALLORYS_CHANGE,
            &demo.emulator.endpoint,
            "cloudtrail-logs-111111111111",
        ])
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let edited: Vec<String> = serde_json::from_slice(&out.stdout).expect("edited keys");
    assert_eq!(
        edited.len(),
        1,
        "the planted change must be in exactly one log file: {edited:?}"
    );

    let reports = tempfile::tempdir().expect("tempdir");
    let output = demo.gateaudit(&[
        "audit",
        "--config",
        demo.config().to_str().expect("utf-8"),
        "--out",
        reports.path().to_str().expect("utf-8"),
        "--allow-incomplete",
    ]);
    let dir = run_dir(reports.path());
    let findings = read_json(&dir.join("findings.json"));
    let findings = findings["findings"].as_array().expect("findings");
    let tampered: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| {
            f["check_id"] == "trail-integrity"
                && f["message"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("log file modified")
        })
        .collect();
    assert_eq!(tampered.len(), 1, "{}", text(&output));
    assert_eq!(tampered[0]["severity"], "critical");
    assert!(
        tampered[0]["subject"]
            .as_str()
            .unwrap_or_default()
            .ends_with(&edited[0]),
        "{}",
        tampered[0]
    );
    assert!(
        findings
            .iter()
            .any(|f| f["check_id"] == "out-of-band-change"
                && f["principal"] == "arn:aws:iam::444444444444:user/mallory"),
        "LookupEvents still shows the change the archive no longer has"
    );
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
}
