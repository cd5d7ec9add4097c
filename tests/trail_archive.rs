//! `gateaudit trail scan|verify` against the emulator: an organisation trail and an account trail delivering the
//! same member events into one bucket, over several days and two regions, with digests signed by the emulator.
//!
//! The commands run in-process through `gateaudit::trail::cli` (credentials through the environment, so the
//! tests hold a lock while they run). Requires `.venv` (run `ci/setup-python`).

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use common::{repo, Emulator};

use clap::Parser;
use gateaudit::model::{IntegrityIssueKind, IntegrityReport, TrailArchiveScan, UnreadableKind};
use gateaudit::trail::cli::{run_scan, run_verify, ScanArgs, VerifyArgs};

static ENV_LOCK: Mutex<()> = Mutex::new(());

/// Runs `tests/emulator/seed_trail_archive.py` against the emulator.
fn helper(emulator: &Emulator, args: &[&str]) {
    let out = Command::new(common::python())
        .arg(repo().join("tests/emulator/seed_trail_archive.py"))
        .args(args)
        .args(["--endpoint", &emulator.endpoint])
        .output()
        .expect("run the seeder");
    assert!(
        out.status.success(),
        "seed_trail_archive.py {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Archive {
    emulator: Emulator,
    dir: tempfile::TempDir,
    expected: serde_json::Value,
    env: Vec<(String, String)>,
}

impl Archive {
    fn seed(damage: bool) -> Archive {
        let emulator = Emulator::start();
        let dir = tempfile::tempdir().expect("tmp");
        let out = dir.path().display().to_string();
        let mut args = vec!["seed", "--out", out.as_str()];
        if damage {
            args.push("--damage");
        }
        helper(&emulator, &args);
        let env = std::fs::read_to_string(dir.path().join("credentials.env"))
            .expect("credentials.env")
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect();
        let expected = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("expected.json")).expect("expected"),
        )
        .expect("json");
        Archive {
            emulator,
            dir,
            expected,
            env,
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn common(&self) -> Vec<String> {
        let bucket = self.expected["bucket"].as_str().expect("bucket");
        [
            "x",
            &format!("s3://{bucket}"),
            "--config",
            &self.path("gateaudit.toml"),
            "--since",
            "2026-02-10",
            "--until",
            "2026-02-13",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    }

    fn with_env<T>(&self, f: impl FnOnce() -> T) -> T {
        let _guard = ENV_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("AWS_")) {
            std::env::remove_var(k);
        }
        std::env::set_var("AWS_CONFIG_FILE", "/nonexistent");
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        for (k, v) in &self.env {
            std::env::set_var(k, v);
        }
        f()
    }

    fn scan(&self, extra: &[&str]) -> u8 {
        let mut args = self.common();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let parsed = ScanCli::try_parse_from(&args).expect("scan arguments");
        self.with_env(|| run_scan(&parsed.args)).expect("scan runs")
    }

    /// `trail verify` over 2026-02-10T10:30Z .. 2026-02-12T10:00Z: the seeder's activity (and its digests) is at
    /// 10:00 each day, so the period starts after the trails started logging and ends where a digest does.
    fn verify(&self) -> (u8, IntegrityReport) {
        let mut args = self.common();
        args[5] = "2026-02-10T10:30:00Z".into();
        args[7] = "2026-02-12T10:00:00Z".into();
        let report = self.path("integrity.json");
        args.extend(["--out".to_owned(), report.clone()]);
        let parsed = VerifyCli::try_parse_from(&args).expect("verify arguments");
        let code = self
            .with_env(|| run_verify(&parsed.args))
            .expect("verify runs");
        let report = serde_json::from_str(&std::fs::read_to_string(&report).expect("report"))
            .expect("report json");
        (code, report)
    }

    fn keys(&self, contains: &[&str]) -> Vec<String> {
        let all = self.expected["keys"].as_array().expect("keys");
        all.iter()
            .filter_map(|k| k.as_str())
            .filter(|k| contains.iter().all(|c| k.contains(c)))
            .map(str::to_owned)
            .collect()
    }
}

#[derive(Parser)]
struct ScanCli {
    #[command(flatten)]
    args: ScanArgs,
}

#[derive(Parser)]
struct VerifyCli {
    #[command(flatten)]
    args: VerifyArgs,
}

fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .expect("jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn scans_an_overlapping_multi_region_archive_and_reports_damage() {
    let a = Archive::seed(true);
    let member = a.expected["member"].as_str().expect("member").to_owned();
    let management = a.expected["management"]
        .as_str()
        .expect("management")
        .to_owned();

    // JSON Lines: CloudTrail's field names, one line per event id although two trails delivered the member's.
    let jsonl = a.path("events.jsonl");
    assert_eq!(
        a.scan(&["--format", "jsonl", "--out", &jsonl]),
        1,
        "damaged evidence makes the scan fail"
    );
    let events = read_jsonl(Path::new(&jsonl));
    let ids: std::collections::BTreeSet<&str> = events
        .iter()
        .filter_map(|e| e["eventID"].as_str())
        .collect();
    assert_eq!(ids.len(), events.len(), "deduplicated by eventID");
    let approvals: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["eventName"] == "PutApprovalResult")
        .collect();
    assert_eq!(
        approvals.len() as u64,
        a.expected["approvals_in_period"].as_u64().expect("n")
    );
    assert!(approvals
        .iter()
        .all(|e| e["requestParameters"]["stageName"] == "Prod" && e["errorCode"].is_string()));
    for field in [
        "eventTime",
        "eventSource",
        "awsRegion",
        "recipientAccountId",
        "userIdentity",
        "person",
    ] {
        assert!(
            events.iter().all(|e| !e[field].is_null()),
            "{field} on every line"
        );
    }
    let regions: std::collections::BTreeSet<&str> = events
        .iter()
        .filter_map(|e| e["awsRegion"].as_str())
        .collect();
    assert_eq!(
        regions.into_iter().collect::<Vec<_>>(),
        vec!["eu-west-1", "us-east-1"]
    );
    for account in [&member, &management] {
        assert!(
            events
                .iter()
                .any(|e| e["recipientAccountId"] == account.as_str()),
            "events of {account}"
        );
    }
    assert!(
        events.iter().any(|e| e["eventName"] == "CreateUser")
            && !events.iter().any(|e| e["eventName"] == "ListUsers")
    );
    assert!(events.iter().all(|e| e["eventTime"]
        .as_str()
        .is_some_and(|t| t.starts_with("2026-02-1"))));

    // Snapshot form: duplicates counted, damage listed, out-of-range files never read.
    let snap_path = a.path("scan.json");
    assert_eq!(a.scan(&["--out", &snap_path]), 1);
    let scan: TrailArchiveScan =
        serde_json::from_str(&std::fs::read_to_string(&snap_path).expect("scan"))
            .expect("scan json");
    assert!(
        scan.duplicates > 0,
        "the organisation and account trails overlap"
    );
    let in_range = a
        .keys(&["/CloudTrail/"])
        .into_iter()
        .filter(|k| {
            ["/2026/02/10/", "/2026/02/11/", "/2026/02/12/"]
                .iter()
                .any(|d| k.contains(d))
        })
        .count();
    assert_eq!(
        scan.files, in_range,
        "only the day folders of the period are read"
    );
    let kinds: Vec<UnreadableKind> = scan.unreadable.iter().map(|u| u.kind).collect();
    assert_eq!(kinds.len(), 3, "{:?}", scan.unreadable);
    for (kind, marker) in [
        (UnreadableKind::Gzip, "truncated"),
        (UnreadableKind::Json, "notjson"),
        (UnreadableKind::Record, "missingfield"),
    ] {
        assert!(
            scan.unreadable
                .iter()
                .any(|u| u.kind == kind && u.location.contains(marker)),
            "{kind:?}: {:?}",
            scan.unreadable
        );
    }
    assert!(
        !scan
            .unreadable
            .iter()
            .any(|u| u.location.contains("outsiderange")),
        "2026-02-25 is never downloaded"
    );
    assert_eq!(scan.approval_events.len(), approvals.len());
    assert!(scan.write_events.iter().all(|w| !w.person.is_empty()));

    // Filters and selection.
    let eu = a.path("eu.jsonl");
    a.scan(&[
        "--format",
        "jsonl",
        "--out",
        &eu,
        "--region",
        "eu-west-1",
        "--events",
        "approvals",
    ]);
    let eu_events = read_jsonl(Path::new(&eu));
    assert!(
        !eu_events.is_empty()
            && eu_events
                .iter()
                .all(|e| e["awsRegion"] == "eu-west-1" && e["eventName"] == "PutApprovalResult")
    );
    // A period without damaged days passes.
    let mut narrow = a.common();
    narrow[5] = "2026-02-12".into();
    let parsed = ScanCli::try_parse_from(
        narrow.iter().chain(
            ["--format", "csv", "--out", &a.path("x.csv")]
                .map(String::from)
                .iter(),
        ),
    )
    .expect("args");
    assert_eq!(a.with_env(|| run_scan(&parsed.args)).expect("scan"), 0);
}

#[test]
fn verifies_digests_and_catches_tampering() {
    let a = Archive::seed(false);
    let (code, report) = a.verify();
    assert_eq!(code, 0, "{:?}", report.issues);
    assert!(report.digests_valid > 0 && report.digests_valid == report.digests_checked);
    assert_eq!(report.log_files_verified, report.log_files_checked);
    let member = a.expected["member"].as_str().expect("member").to_owned();
    let account_trail = format!("AWSLogs/{member}/");
    let logs = a.keys(&[&account_trail, "/CloudTrail/us-east-1/2026/02/11/"]);
    let log = logs.first().expect("a log file of 2026-02-11").clone();
    let saved = a.path("saved.json.gz");
    helper(&a.emulator, &["get", "--key", &log, "--file", &saved]);
    let kinds = |r: &IntegrityReport| r.issues.iter().map(|i| i.kind).collect::<Vec<_>>();

    // A modified log file.
    let forged = a.path("forged.json.gz");
    let body = flate2_gz(b"{\"Records\":[]}");
    std::fs::write(&forged, body).expect("write");
    helper(&a.emulator, &["put", "--key", &log, "--file", &forged]);
    let (code, report) = a.verify();
    assert_eq!(code, 3);
    assert_eq!(
        kinds(&report),
        vec![IntegrityIssueKind::LogFileModified],
        "{:?}",
        report.issues
    );
    assert_eq!(report.issues[0].location, log);

    // A deleted log file.
    helper(&a.emulator, &["delete", "--key", &log]);
    let (code, report) = a.verify();
    assert_eq!(
        (code, kinds(&report)),
        (3, vec![IntegrityIssueKind::LogFileMissing]),
        "{:?}",
        report.issues
    );
    helper(&a.emulator, &["put", "--key", &log, "--file", &saved]);
    assert_eq!(a.verify().0, 0, "restored");

    // A deleted digest breaks the chain (and its log files are then in no digest).
    let digest = a.keys(&[&account_trail, "/CloudTrail-Digest/us-east-1/2026/02/11/"]);
    helper(
        &a.emulator,
        &["delete", "--key", digest.first().expect("digest")],
    );
    let (code, report) = a.verify();
    assert_eq!(code, 3);
    let k = kinds(&report);
    assert!(
        k.contains(&IntegrityIssueKind::ChainBroken)
            && k.contains(&IntegrityIssueKind::LogFileNotInDigest),
        "{:?}",
        report.issues
    );
}

/// Deletes a day's digests and log files of the member's own trail in us-east-1.
fn delete_day(a: &Archive, day: &str) -> usize {
    let member = a.expected["member"].as_str().expect("member").to_owned();
    let root = format!("AWSLogs/{member}/");
    let mut deleted = 0;
    for folder in ["CloudTrail-Digest", "CloudTrail"] {
        for key in a.keys(&[&root, &format!("/{folder}/us-east-1/{day}/")]) {
            helper(&a.emulator, &["delete", "--key", &key]);
            deleted += 1;
        }
    }
    deleted
}

#[test]
fn deleting_the_first_or_last_digest_and_logs_of_the_period_is_caught() {
    let a = Archive::seed(false);
    assert_eq!(a.verify().0, 0, "the untouched archive verifies");
    let member = a.expected["member"].as_str().expect("member").to_owned();
    // The last digest of the period and its log files: nothing names the digest any more and nothing lists the
    // logs, so only the coverage of the period's end can tell (the organisation trail still covers the events).
    assert!(delete_day(&a, "2026/02/12") >= 2);
    let (code, report) = a.verify();
    assert_eq!(code, 3, "{:?}", report.issues);
    let gaps: Vec<&gateaudit::model::IntegrityIssue> = report
        .issues
        .iter()
        .filter(|i| i.kind == IntegrityIssueKind::CoverageGap)
        .collect();
    assert_eq!(gaps.len(), 1, "{:?}", report.issues);
    assert!(
        gaps[0].detail.contains("(the end of the period)")
            && gaps[0].detail.contains(&member)
            && gaps[0].detail.contains("member-trail"),
        "{}",
        gaps[0].detail
    );
    assert_eq!(
        report.issues.len(),
        1,
        "nothing else points at the deletion: {:?}",
        report.issues
    );

    // The first digest of the period (the one covering its start) and its log files.
    let b = Archive::seed(false);
    assert!(delete_day(&b, "2026/02/11") >= 2);
    let (code, report) = b.verify();
    assert_eq!(code, 3);
    assert!(
        report
            .issues
            .iter()
            .any(|i| i.kind == IntegrityIssueKind::CoverageGap
                && i.detail.contains("(the start of the period)")
                && i.detail.contains("2026-02-10T10:30:00Z")),
        "{:?}",
        report.issues
    );
    assert!(
        report
            .issues
            .iter()
            .any(|i| i.kind == IntegrityIssueKind::ChainBroken),
        "{:?}",
        report.issues
    );
}

fn flate2_gz(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gz");
    e.finish().expect("gz")
}
