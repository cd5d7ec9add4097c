//! `gateaudit trail scan --engine athena` against the emulator's Athena (tests/emulator/ext/athena.py), which
//! runs the query over the bucket's objects: the table is made from `gateaudit trail athena-ddl`'s statement,
//! the scan's events and unreadable evidence must equal the native scan's of the same files, results come in
//! several pages, a table whose projection does not cover the archive (a second trail root, an unprojected
//! region) or a missing table is refused before any query, a damaged gzip fails the query and the scan (never an
//! empty pass), and Ctrl-C stops the running query. Requires `.venv` (run `ci/setup-python`).

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{repo, Emulator};
use serde_json::{json, Value};

const TABLE: &str = "audit.member_trail";
const WORKGROUP: &str = "audit";

struct Archive {
    emulator: Emulator,
    dir: tempfile::TempDir,
    expected: Value,
    env: Vec<(String, String)>,
}

impl Archive {
    /// The trail archive test's organisation (tests/emulator/seed_trail_archive.py, with damage), an Athena
    /// workgroup and the table of the member account's trail, created from `gateaudit trail athena-ddl`.
    fn seed() -> Archive {
        let emulator = Emulator::start();
        let dir = tempfile::tempdir().expect("tmp");
        let out = dir.path().display().to_string();
        let a = Archive {
            env: Vec::new(),
            expected: Value::Null,
            emulator,
            dir,
        };
        a.seeder(&["seed", "--out", &out, "--damage"]);
        let env = common::seeded_credentials(a.dir.path());
        let expected = common::read_json(&a.dir.path().join("expected.json"));
        let mut a = Archive { env, expected, ..a };
        a.env.retain(|(k, _)| k.starts_with("AWS_"));
        std::fs::write(a.dir.path().join("db.sql"), "CREATE DATABASE audit").expect("db");
        let results = format!(
            "athena-results-{}",
            a.expected["management"].as_str().expect("m")
        );
        a.athena_sql("db.sql", Some(&results))
            .expect("create the database");
        let member = a.member();
        a.create_table(TABLE, &["--account", &member]);
        a
    }

    /// Creates `table` from `gateaudit trail athena-ddl`'s statement for the bucket, both regions and days from
    /// 2026-02-01, with `scope` (`--account`, `--org-id`) added.
    fn create_table(&self, table: &str, scope: &[&str]) {
        let bucket = format!("s3://{}", self.bucket());
        let config = self.path("gateaudit.toml");
        let mut args = vec!["trail", "athena-ddl", &bucket, "--athena-table", table];
        args.extend(scope);
        args.extend([
            "--region",
            "us-east-1",
            "--region",
            "eu-west-1",
            "--first-day",
            "2026-02-01",
            "--config",
            &config,
        ]);
        let ddl = self.gateaudit(&args);
        assert!(ddl.status.success(), "athena-ddl: {}", common::text(&ddl));
        let file = format!("{table}.sql");
        std::fs::write(self.dir.path().join(&file), &ddl.stdout).expect("ddl");
        self.athena_sql(&file, None)
            .expect("create the table from athena-ddl's statement");
    }

    fn seeder_output(&self, args: &[&str]) -> Output {
        Command::new(common::python())
            .arg(repo().join("tests/emulator/seed_trail_archive.py"))
            .args(args)
            .args(["--endpoint", &self.emulator.endpoint])
            .output()
            .expect("run the seeder")
    }

    fn seeder(&self, args: &[&str]) {
        let out = self.seeder_output(args);
        assert!(
            out.status.success(),
            "seed_trail_archive.py {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn athena_sql(&self, file: &str, results_bucket: Option<&str>) -> Result<(), String> {
        let path = self.path(file);
        let mut args = vec!["athena-sql", "--workgroup", WORKGROUP, "--file", &path];
        if let Some(b) = results_bucket {
            args.extend(["--results-bucket", b]);
        }
        let out = self.seeder_output(&args);
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    fn bucket(&self) -> String {
        self.expected["bucket"].as_str().expect("bucket").to_owned()
    }

    fn member(&self) -> String {
        self.expected["member"].as_str().expect("member").to_owned()
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn gateaudit(&self, args: &[&str]) -> Output {
        common::gateaudit_with_env(args, &self.env, self.dir.path())
    }

    /// `trail scan` of the member's events over 2026-02-10 .. 2026-02-13 into `out` (a snapshot), with `extra`.
    fn scan_args(&self, out: &str, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = [
            "trail",
            "scan",
            &format!("s3://{}", self.bucket()),
            "--config",
            &self.path("gateaudit.toml"),
            "--since",
            "2026-02-10",
            "--until",
            "2026-02-13",
            "--account",
            &self.member(),
            "--out",
            out,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    }

    fn scan(&self, out: &str, extra: &[&str]) -> Output {
        let args = self.scan_args(out, extra);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.gateaudit(&refs)
    }

    fn put(&self, key: &str, body: &[u8]) {
        let file = self.dir.path().join("upload.bin");
        std::fs::write(&file, body).expect("write");
        let bucket = self.bucket();
        let file = file.display().to_string();
        self.seeder(&["put", "--bucket", &bucket, "--key", key, "--file", &file]);
    }

    fn delete(&self, key: &str) {
        let bucket = self.bucket();
        self.seeder(&["delete", "--bucket", &bucket, "--key", key]);
    }

    /// Deletes the organisation trail's copy of the archive (`AWSLogs/o-.../`), leaving the member trail's: one
    /// table reads one trail root.
    fn delete_org_root(&self) {
        let bucket = self.bucket();
        let org = self.expected["org_id"].as_str().expect("org_id");
        self.seeder(&[
            "delete",
            "--bucket",
            &bucket,
            "--prefix",
            &format!("AWSLogs/{org}/"),
        ]);
    }

    fn athena_state(&self) -> Value {
        let response = self.emulator.control("/_emulator/athena", "{}");
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or("");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {response}"))
    }

    fn set_min_running_ms(&self, ms: u64) {
        let response = self.emulator.control(
            "/_emulator/athena",
            &json!({"min_running_ms": ms}).to_string(),
        );
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }
}

const ATHENA: [&str; 6] = [
    "--engine",
    "athena",
    "--athena-table",
    TABLE,
    "--athena-workgroup",
    WORKGROUP,
];

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gz");
    e.finish().expect("gz")
}

/// `n` approvals of the member in one log file, shaped as CloudTrail writes PutApprovalResult.
fn approvals_file(member: &str, n: usize) -> Vec<u8> {
    let records: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "eventVersion": "1.08",
                "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLEAPPROVER",
                    "arn": format!("arn:aws:iam::{member}:user/approver"), "accountId": member,
                    "accessKeyId": "AKIAEXAMPLEAPPROVER", "userName": "approver"},
                "eventTime": format!("2026-02-11T12:{:02}:{:02}Z", (i / 60) % 60, i % 60),
                "eventSource": "codepipeline.amazonaws.com",
                "eventName": "PutApprovalResult",
                "awsRegion": "us-east-1",
                "sourceIPAddress": "203.0.113.7",
                "userAgent": "aws-cli/2.15.0",
                "requestParameters": {"pipelineName": "web", "stageName": "Prod",
                    "actionName": "Approve", "result": {"summary": format!("change {i}"),
                    "status": "Approved"}, "token": format!("{i:08}-0000-0000-0000-000000000000")},
                "responseElements": {"approvedAt": "Feb 11, 2026, 12:00:00 PM"},
                "requestID": format!("{i:08}-1111-1111-1111-111111111111"),
                "eventID": format!("{i:08}-2222-2222-2222-222222222222"),
                "readOnly": false,
                "eventType": "AwsApiCall",
                "managementEvent": true,
                "recipientAccountId": member,
                "eventCategory": "Management"
            })
        })
        .collect();
    gz(json!({ "Records": records }).to_string().as_bytes())
}

/// What a scan found, without where it came from: events, sessions, and unreadable evidence by place and kind.
fn found(path: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let v = common::read_json(path);
    let mut events = BTreeSet::new();
    for list in ["approval_events", "write_events", "role_sessions"] {
        for e in v[list]
            .as_array()
            .unwrap_or_else(|| panic!("{list} in {v}"))
        {
            events.insert(format!("{list}:{e}"));
        }
    }
    let unreadable = v["unreadable"]
        .as_array()
        .expect("unreadable")
        .iter()
        .map(|u| {
            format!(
                "{} {} {} {}",
                u["location"], u["record_index"], u["event_id"], u["kind"]
            )
        })
        .collect();
    (events, unreadable)
}

fn operation_count(emulator: &Emulator, operation: &str) -> u64 {
    let stats = emulator.faults(None);
    assert!(stats["stats"]["by_operation"].is_object(), "{stats}");
    stats["stats"]["by_operation"][operation]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn athena_scan_equals_the_native_scan_pages_its_results_and_fails_on_a_failed_query() {
    let a = Archive::seed();
    let member = a.member();
    let truncated = a.expected["damaged"]
        .as_array()
        .expect("damaged")
        .iter()
        .filter_map(Value::as_str)
        .find(|k| k.contains("truncated"))
        .expect("a truncated gzip")
        .to_owned();

    // The organisation trail delivers the member's events too, under AWSLogs/o-.../: the member trail's table
    // does not read that root, so Athena would return fewer events than the archive holds. The scan refuses.
    let out = a.path("athena-two-roots.json");
    let refused = a.scan(&out, &ATHENA);
    let text = common::text(&refused);
    assert_eq!(refused.status.code(), Some(1), "{text}");
    assert!(
        text.contains("does not cover") && text.contains("2 trail roots"),
        "{text}"
    );
    assert!(text.contains("incomplete"), "{text}");
    assert!(
        !Path::new(&out).exists(),
        "no output for a table that does not cover the archive"
    );
    a.delete_org_root();

    // A gzip that ends early cannot be read by Athena either: the query fails (HIVE_CURSOR_ERROR), and so does
    // the scan, with Athena's reason; nothing is written as if the archive had been read.
    let out = a.path("athena-damaged.json");
    let failed = a.scan(&out, &ATHENA);
    let text = common::text(&failed);
    assert_eq!(failed.status.code(), Some(1), "{text}");
    assert!(
        text.contains("FAILED") && text.contains("HIVE_CURSOR_ERROR"),
        "{text}"
    );
    assert!(text.contains("incomplete"), "{text}");
    assert!(!Path::new(&out).exists(), "no output for a failed query");

    // Without it, and with a file of 1,200 approvals (more than one page of 1,000 rows), both engines agree.
    a.delete(&truncated);
    a.put(
        &format!("AWSLogs/{member}/CloudTrail/us-east-1/2026/02/11/{member}_CloudTrail_us-east-1_20260211T1200Z_paging000000000.json.gz"),
        &approvals_file(&member, 1200),
    );
    let native_out = a.path("native.json");
    let native = a.scan(&native_out, &[]);
    a.set_min_running_ms(1500);
    let pages_before = operation_count(&a.emulator, "athena:GetQueryResults");
    let polls_before = operation_count(&a.emulator, "athena:GetQueryExecution");
    let athena_out = a.path("athena.json");
    let athena = a.scan(&athena_out, &ATHENA);
    a.set_min_running_ms(0);
    assert_eq!(
        native.status.code(),
        athena.status.code(),
        "native: {}\nathena: {}",
        common::text(&native),
        common::text(&athena)
    );
    assert_eq!(
        athena.status.code(),
        Some(1),
        "the damage left is unreadable evidence: {}",
        common::text(&athena)
    );
    for (name, out, output) in [
        ("native", &native_out, &native),
        ("athena", &athena_out, &athena),
    ] {
        assert!(
            Path::new(out).exists(),
            "{name} wrote no snapshot: {}",
            common::text(output)
        );
    }
    let (native_events, native_unreadable) = found(Path::new(&native_out));
    let (athena_events, athena_unreadable) = found(Path::new(&athena_out));
    assert!(
        native_events.len() > 1200,
        "the paging file and the seeded events: {}",
        native_events.len()
    );
    assert_eq!(
        native_events.len(),
        athena_events.len(),
        "same number of events"
    );
    assert!(native_events == athena_events, "identical events");
    assert_eq!(native_unreadable, athena_unreadable);
    assert_eq!(
        athena_unreadable.len(),
        2,
        "the not-JSON file and the record without eventTime: {athena_unreadable:?}"
    );
    let pages = operation_count(&a.emulator, "athena:GetQueryResults") - pages_before;
    assert!(pages >= 2, "more than 1,000 rows come in pages: {pages}");
    let polls = operation_count(&a.emulator, "athena:GetQueryExecution") - polls_before;
    assert!(
        polls >= 3,
        "a query running 1.5 s is polled until it ends: {polls}"
    );
    let snapshot = common::read_json(Path::new(&athena_out));
    assert!(
        snapshot["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("athena:audit.member_trail")),
        "{}",
        snapshot["source"]
    );

    // A region the projection does not enumerate: Athena would never read its folder. The scan refuses and
    // names it; without it the same table is accepted again (the equality above).
    let unprojected =
        format!("AWSLogs/{member}/CloudTrail/ap-south-1/2026/02/11/{member}_CloudTrail_ap-south-1_x.json.gz");
    a.put(&unprojected, &approvals_file(&member, 1));
    let refused = a.scan(&a.path("unprojected.json"), &ATHENA);
    let text = common::text(&refused);
    assert_eq!(refused.status.code(), Some(1), "{text}");
    assert!(
        text.contains("projection.region.values leaves out regions the archive holds: ap-south-1"),
        "{text}"
    );
    // The region filter narrows what the table must cover, as it narrows the native scan.
    let narrowed = a.scan(
        &a.path("narrowed.json"),
        &[&ATHENA[..], &["--region", "us-east-1"]].concat(),
    );
    assert!(
        !common::text(&narrowed).contains("does not cover"),
        "{}",
        common::text(&narrowed)
    );
    a.delete(&unprojected);

    // A table that does not exist, or a workgroup that does not: a clear error, never an empty result.
    let missing = a.scan(
        &a.path("missing.json"),
        &[
            "--engine",
            "athena",
            "--athena-table",
            "audit.nosuch",
            "--athena-workgroup",
            WORKGROUP,
        ],
    );
    let text = common::text(&missing);
    assert_eq!(missing.status.code(), Some(1), "{text}");
    assert!(
        text.contains("cannot read table audit.nosuch") && text.contains("EntityNotFoundException"),
        "{text}"
    );
    let no_workgroup = a.scan(
        &a.path("nowg.json"),
        &[
            "--engine",
            "athena",
            "--athena-table",
            TABLE,
            "--athena-workgroup",
            "nosuch",
        ],
    );
    let text = common::text(&no_workgroup);
    assert_eq!(no_workgroup.status.code(), Some(1), "{text}");
    assert!(
        text.contains("cannot start the query in workgroup nosuch"),
        "{text}"
    );
}

fn spawn(a: &Archive, args: &[String]) -> std::process::Child {
    common::gateaudit_command(args, &a.env, a.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start gateaudit")
}

fn running_select(a: &Archive) -> Option<String> {
    a.athena_state()["executions"]
        .as_array()?
        .iter()
        .find(|e| {
            e["state"] == "RUNNING" && e["query"].as_str().is_some_and(|q| q.contains("UNNEST"))
        })
        .and_then(|e| e["id"].as_str().map(str::to_owned))
}

#[test]
fn ctrl_c_stops_the_running_query_and_fails_the_scan() {
    let a = Archive::seed();
    a.delete_org_root();
    a.set_min_running_ms(120_000);
    let out = a.path("interrupted.json");
    let polls_before = operation_count(&a.emulator, "athena:GetQueryExecution");
    let child = spawn(&a, &a.scan_args(&out, &ATHENA));
    let deadline = Instant::now() + Duration::from_secs(60);
    let id = loop {
        if let Some(id) = running_select(&a) {
            break id;
        }
        assert!(Instant::now() < deadline, "the query never ran");
        std::thread::sleep(Duration::from_millis(100));
    };
    // Wait until the scan polls the query (so it knows the id), then interrupt it as a terminal's Ctrl-C does.
    while operation_count(&a.emulator, "athena:GetQueryExecution") == polls_before {
        assert!(Instant::now() < deadline, "the scan never polled the query");
        std::thread::sleep(Duration::from_millis(50));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let output = wait_with_timeout(child, Duration::from_secs(30));
    let text = common::text(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("interrupted") && text.contains(&id), "{text}");
    assert!(
        !Path::new(&out).exists(),
        "no output for an interrupted scan"
    );
    let state = a.athena_state();
    let execution = state["executions"]
        .as_array()
        .expect("executions")
        .iter()
        .find(|e| e["id"] == id.as_str())
        .expect("the execution")
        .clone();
    assert_eq!(
        execution["state"], "CANCELLED",
        "StopQueryExecution was called"
    );
    a.set_min_running_ms(0);
}

fn wait_with_timeout(mut child: std::process::Child, timeout: Duration) -> Output {
    let deadline = Instant::now() + timeout;
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("gateaudit did not stop within {timeout:?} of Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The events, moved counts and unreadable evidence that `collect` took from the trail archive, and the
/// archive step's status.
fn archive_part(snapshot: &Value, bucket: &str) -> (BTreeSet<String>, String, String, String) {
    let account = &snapshot["accounts"][0];
    let mut events = BTreeSet::new();
    for list in ["approval_events", "write_events", "role_sessions"] {
        for e in account[list].as_array().into_iter().flatten() {
            events.insert(format!("{list}:{e}"));
        }
    }
    let scan = &snapshot["accounts"][0]["trail_archives"][0];
    let step = account["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["step"] == format!("s3:trail-archive({bucket})").as_str())
        .unwrap_or_else(|| panic!("no archive step in {}", account["steps"]))
        .clone();
    (
        events,
        scan["moved"].to_string(),
        scan["unreadable"].to_string(),
        format!("{} {}", step["status"], step["error"]),
    )
}

/// `gateaudit collect` (and so `audit`) of a `[[trail_buckets]]` entry set to `engine = "athena"` reads the
/// archive through the table and takes in the same events as the native read; the archive is marked as read
/// through Athena (so trail-integrity says its digests were not verified, rather than that validation is off).
#[test]
fn the_audit_reads_a_bucket_set_to_athena_through_its_table() {
    let a = Archive::seed();
    let management = a.expected["management"].as_str().expect("m").to_owned();
    let org = a.expected["org_id"].as_str().expect("org").to_owned();
    // The audit reads the configured (management) account's folders: the organisation trail's root.
    a.create_table(
        "audit.org_trail",
        &["--org-id", &org, "--account", &management],
    );
    let collect = |out: &str| {
        let out = a.path(out);
        let run = a.gateaudit(&[
            "collect",
            "--config",
            &a.path("gateaudit.toml"),
            "--since",
            "2026-02-10",
            "--until",
            "2026-02-13",
            "--out",
            &out,
        ]);
        assert!(
            Path::new(&out).exists(),
            "collect wrote no snapshot: {}",
            common::text(&run)
        );
        common::read_json(Path::new(&out))
    };
    let native = collect("native-collect.json");
    let config = a.path("gateaudit.toml");
    let mut text = std::fs::read_to_string(&config).expect("config");
    assert!(
        text.trim_end()
            .ends_with(&format!("bucket = \"{}\"", a.bucket())),
        "{text}"
    );
    text.push_str(
        "engine = \"athena\"\nathena_table = \"audit.org_trail\"\nathena_workgroup = \"audit\"\n",
    );
    std::fs::write(&config, text).expect("config");
    let athena = collect("athena-collect.json");

    let (native_events, native_moved, native_unreadable, native_step) =
        archive_part(&native, &a.bucket());
    let (athena_events, athena_moved, athena_unreadable, athena_step) =
        archive_part(&athena, &a.bucket());
    assert!(native_step.starts_with("\"ok\""), "{native_step}");
    assert!(athena_step.starts_with("\"ok\""), "{athena_step}");
    assert_eq!(native_moved, athena_moved);
    let moved: Value = serde_json::from_str(&athena_moved).expect("moved");
    let total: u64 = [
        "approval_events",
        "write_events",
        "role_sessions",
        "already_known",
    ]
    .iter()
    .filter_map(|k| moved[k].as_u64())
    .sum();
    assert!(total > 0, "the archive's events were taken in: {moved}");
    assert!(native_events == athena_events, "identical events");
    assert_eq!(native_unreadable, athena_unreadable);
    let scan = &athena["accounts"][0]["trail_archives"][0];
    assert_eq!(scan["athena_table"], "audit.org_trail");
    assert!(scan["integrity"].is_null(), "{}", scan["integrity"]);
    assert!(native["accounts"][0]["trail_archives"][0]["integrity"].is_object());

    // A table over the management account's own trail root, not the organisation trail's: Athena would read
    // none of the archive's files and answer with no rows. The audit refuses it as a failed step that names the
    // gap, never an empty, passing read.
    a.create_table("audit.account_root", &["--account", &management]);
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace("audit.org_trail", "audit.account_root"),
    )
    .expect("config");
    let refused = collect("refused-collect.json");
    let (refused_events, _, _, refused_step) = archive_part(&refused, &a.bucket());
    assert!(refused_step.starts_with("\"failed\""), "{refused_step}");
    assert!(
        refused_step.contains("athena table audit.account_root does not cover"),
        "{refused_step}"
    );
    assert!(refused_events.is_empty(), "no events from a refused table");
}
