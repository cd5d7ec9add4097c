//! The report folder on the command line, without AWS: runs started together get folders of their own that are
//! complete when they appear, and `verify-report` calls a missing or damaged manifest tampering (exit 3).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gateaudit::model::{
    AccountSnapshot, CollectionStep, Period, Snapshot, StepStatus, SCHEMA_VERSION,
};

fn gateaudit(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gateaudit"))
        .args(args)
        .current_dir(cwd)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .expect("run gateaudit")
}

fn snapshot(dir: &Path) -> PathBuf {
    let now = chrono::Utc::now();
    let snapshot = Snapshot {
        schema_version: SCHEMA_VERSION,
        tool_version: "t".into(),
        run_id: "20260101T000000Z-same".into(),
        organisation: "Org".into(),
        collected_at: now,
        period: Period {
            since: now - chrono::Duration::days(30),
            until: now,
        },
        cicd_account: "111111111111".into(),
        regions: vec!["us-east-1".into()],
        rule_set: "default".into(),
        rule_set_source: String::new(),
        declared_deployment_roles: vec![],
        approval_record_buckets: vec![],
        trail_buckets: vec![],
        organization: None,
        identity_center: None,
        accounts: vec![AccountSnapshot {
            account_id: "111111111111".into(),
            name: "cicd".into(),
            environment: "cicd".into(),
            steps: vec![CollectionStep {
                step: "sts:GetCallerIdentity".into(),
                region: None,
                status: StepStatus::Ok,
                items: 1,
                error: None,
                note: None,
            }],
            iam: Some(Default::default()),
            ..AccountSnapshot::default()
        }],
    };
    let path = dir.join("snapshot.json");
    snapshot.save(&path).expect("save");
    path
}

fn folders(out: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(out)
        .expect("out")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names
}

#[test]
fn runs_started_together_write_folders_of_their_own() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let snap = snapshot(tmp.path());
    let out = tmp.path().join("reports");
    let args = [
        "check",
        "--snapshot",
        snap.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ];
    // Four runs of the same snapshot (the same run id) at once, in the same second.
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_gateaudit"))
                .args(args)
                .current_dir(tmp.path())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start gateaudit")
        })
        .collect();
    for c in children {
        let c = c.wait_with_output().expect("run");
        assert!(c.status.code().is_some(), "{c:?}");
    }
    let names = folders(&out);
    assert_eq!(
        names.len(),
        4,
        "one folder per run, none left half-written: {names:?}"
    );
    for name in &names {
        assert!(
            name.starts_with("20260101T000000Z-same-offline-") && !name.starts_with('.'),
            "{name}"
        );
        let verified = gateaudit(
            &["verify-report", out.join(name).to_str().expect("utf-8")],
            tmp.path(),
        );
        assert_eq!(
            verified.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&verified.stdout)
        );
    }
}

#[test]
fn a_missing_or_damaged_manifest_is_tampering() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let snap = snapshot(tmp.path());
    let out = tmp.path().join("reports");
    let run = gateaudit(
        &[
            "check",
            "--snapshot",
            snap.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
        ],
        tmp.path(),
    );
    assert!(run.status.code().is_some());
    let dir = out.join(&folders(&out)[0]);
    let manifest = dir.join("manifest.json");
    let original = std::fs::read(&manifest).expect("manifest");
    let verify = || gateaudit(&["verify-report", dir.to_str().expect("utf-8")], tmp.path());
    std::fs::write(&manifest, b"{\"manifest_version\": 1, \"files\": [").expect("damage");
    let damaged = verify();
    assert_eq!(damaged.status.code(), Some(3), "{damaged:?}");
    assert!(String::from_utf8_lossy(&damaged.stdout)
        .contains("ALTERED: manifest.json: not a gateaudit manifest"));
    std::fs::remove_file(&manifest).expect("delete");
    let missing = verify();
    assert_eq!(missing.status.code(), Some(3), "{missing:?}");
    assert!(
        String::from_utf8_lossy(&missing.stdout).contains("ALTERED: manifest.json: cannot be read")
    );
    std::fs::write(&manifest, original).expect("restore");
    assert_eq!(verify().status.code(), Some(0));
    let stderr = String::from_utf8_lossy(
        &gateaudit(
            &[
                "verify-report",
                dir.to_str().expect("utf-8"),
                "--public-key",
                "/nonexistent.pub",
            ],
            tmp.path(),
        )
        .stderr,
    )
    .into_owned();
    assert!(
        stderr.contains("cannot read /nonexistent.pub") && !stderr.contains("write"),
        "{stderr}"
    );
}

/// The findings.json of the only report folder in `out`.
fn only_findings(out: &Path) -> serde_json::Value {
    let names = folders(out);
    assert_eq!(names.len(), 1, "{names:?}");
    let text =
        std::fs::read_to_string(out.join(&names[0]).join("findings.json")).expect("findings.json");
    serde_json::from_str(&text).expect("findings.json is JSON")
}

fn waived_count(findings: &serde_json::Value) -> usize {
    findings["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| !f["waiver"].is_null())
        .count()
}

#[test]
fn check_on_a_report_folders_snapshot_uses_that_runs_waivers_and_says_so() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let snap = snapshot(tmp.path());
    let waivers = tmp.path().join("accepted.toml");
    std::fs::write(
        &waivers,
        "[[waivers]]\ncheck = \"*\"\nresource = \"*\"\nreason = \"CHG-1 accepted for the test\"\n\
         approver = \"auditor@example.com\"\nexpires = \"2999-12-31\"\n",
    )
    .expect("waivers");
    let first_out = tmp.path().join("first");
    let first = gateaudit(
        &[
            "check",
            "--snapshot",
            snap.to_str().expect("utf-8"),
            "--waivers",
            waivers.to_str().expect("utf-8"),
            "--out",
            first_out.to_str().expect("utf-8"),
        ],
        tmp.path(),
    );
    assert!(first.status.code().is_some(), "{first:?}");
    let first_findings = only_findings(&first_out);
    let waived = waived_count(&first_findings);
    assert!(
        waived > 0,
        "the test needs a waived finding: {first_findings}"
    );
    let folder = first_out.join(&folders(&first_out)[0]);
    // The run copied its waivers as inputs/waivers.toml whatever the file was called.
    assert!(folder.join("inputs/waivers.toml").is_file());

    let second_out = tmp.path().join("second");
    let again = folder.join("snapshot.json");
    let second = gateaudit(
        &[
            "check",
            "--snapshot",
            again.to_str().expect("utf-8"),
            "--out",
            second_out.to_str().expect("utf-8"),
        ],
        tmp.path(),
    );
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("using the waivers of the report folder's run"),
        "{stderr}"
    );
    assert_eq!(waived_count(&only_findings(&second_out)), waived);
    assert_eq!(second.status.code(), first.status.code());
}
