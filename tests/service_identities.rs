//! AWS services acting as themselves are not people (issue 12): in the seeded demo's prod account, KMS rotates a
//! key by itself (CloudTrail's `AwsServiceEvent`, whose `userIdentity` has only `accountId` and `invokedBy`), and
//! Auto Scaling writes with its service-linked role (an `AssumedRole` session with `invokedBy`, issued from a role
//! under `/aws-service-role/`). Neither is an out-of-band change by a person (least of all by one with an empty
//! name), while a human write next to them still is.

mod common;

use common::{read_json, run_dir, text, Demo};

/// In prod: a key whose automatic rotation (every 90 days) came due 10 days ago, a service-linked role's own
/// write, and root creating a topic by hand.
const PLANT: &str = r#"
import sys, json, datetime, boto3, urllib.request
endpoint, prod = sys.argv[1], "444444444444"
def control(path, body):
    req = urllib.request.Request(endpoint + "/_emulator/" + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req).read())
def client(service, **creds):
    c = boto3.client(service, endpoint_url=endpoint, region_name="eu-west-1",
                     **(creds or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}))
    if not creds:
        c.meta.events.register("before-send.*.*", lambda request, **kw: request.headers.__setitem__("x-moto-account-id", prod))
    return c
now = datetime.datetime.now(datetime.timezone.utc)
control("clock", {"now": (now - datetime.timedelta(days=100)).strftime("%Y-%m-%dT%H:%M:%SZ")})
kms = client("kms")
key = kms.create_key(Description="prod data")["KeyMetadata"]["KeyId"]
kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=90)
control("clock", {"reset": True})
slr = client("iam").create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")["Role"]["Arn"]
c = control("service-session", {"service": "autoscaling.amazonaws.com", "roleArn": slr,
                                "sessionName": "AutoScaling", "asService": True})["credentials"]
client("sns", aws_access_key_id=c["accessKeyId"], aws_secret_access_key=c["secretAccessKey"],
       aws_session_token=c["sessionToken"]).create_topic(Name="scaling-events")
client("sns").create_topic(Name="by-hand")
control("flush-trails", {})
print(key)
"#;

#[test]
fn service_events_and_service_linked_role_writes_are_not_human_out_of_band_changes() {
    let demo = Demo::seed(false);
    common::run_python(PLANT, &[&demo.emulator.endpoint]);
    let out_dir = tempfile::tempdir().expect("tempdir");
    let since = (chrono::Utc::now() - chrono::Duration::days(25))
        .format("%Y-%m-%d")
        .to_string();
    let config = demo.config();
    let output = demo.gateaudit(&[
        "audit",
        "--config",
        config.to_str().expect("utf-8"),
        "--out",
        out_dir.path().to_str().expect("utf-8"),
        "--since",
        &since,
    ]);
    let log = text(&output);
    let dir = run_dir(out_dir.path());
    let snapshot = read_json(&dir.join("snapshot.json"));
    let prod = snapshot["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["account_id"] == "444444444444")
        .expect("prod");
    let writes = prod["write_events"].as_array().expect("write events");
    // The planted events were collected: the rotation (typeless identity) and the service-linked role's write.
    let rotation = writes
        .iter()
        .find(|e| e["name"] == "RotateKey")
        .unwrap_or_else(|| panic!("RotateKey collected\n{log}"));
    assert_eq!(rotation["identity"]["kind"], "AWSService", "{rotation}");
    assert_eq!(rotation["person"], "service:AWS Internal");
    let scaling = writes
        .iter()
        .find(|e| {
            e["name"] == "CreateTopic" && e["identity"]["invoked_by"] == "autoscaling.amazonaws.com"
        })
        .unwrap_or_else(|| panic!("the service-linked role's CreateTopic collected\n{log}"));
    assert_eq!(scaling["person"], "service:autoscaling.amazonaws.com");
    assert!(
        writes.iter().all(|e| e["person"] != ""),
        "no empty-named person"
    );

    let findings = read_json(&dir.join("findings.json"));
    let out_of_band: Vec<&serde_json::Value> = findings["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["check_id"] == "out-of-band-change" && f["account_id"] == "444444444444")
        .collect();
    for f in &out_of_band {
        let subject = f["subject"].as_str().unwrap_or_default();
        assert!(!subject.is_empty(), "an empty-named person: {f}");
        assert!(
            !subject.starts_with("service:"),
            "a service as a person: {f}"
        );
        let message = f["message"].as_str().unwrap_or_default();
        assert!(
            !message.contains("kms:RotateKey") && !message.contains("AWSServiceRoleForAutoScaling"),
            "{f}"
        );
    }
    let by_hand = out_of_band
        .iter()
        .find(|f| f["subject"] == "arn:aws:iam::444444444444:root")
        .unwrap_or_else(|| {
            panic!("root's CreateTopic is still an out-of-band change: {out_of_band:#?}")
        });
    assert!(
        by_hand["message"]
            .as_str()
            .is_some_and(|m| m.contains("sns:CreateTopic")),
        "{by_hand}"
    );
}
