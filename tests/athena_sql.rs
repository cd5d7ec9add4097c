//! Proves the Athena engine's SQL right, not just well-formed: the generated query (Trino dialect) is
//! transpiled with sqlglot to duckdb and run over a synthetic archive (tests/athena/run_query.py), its rows go
//! through `trail::athena::rows`, and the events, duplicates and unreadable evidence must equal the native
//! scan's over the same files. Needs `.venv` with sqlglot and duckdb (`bash ci/setup-python`): a missing
//! interpreter fails the test.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use chrono::{NaiveDate, TimeZone, Utc};
use gateaudit::model::Period;
use gateaudit::rules::IdentityRules;
use gateaudit::trail::athena::{query, rows, TableName};
use gateaudit::trail::layout::FileKind;
use gateaudit::trail::local::{self, Filters};
use gateaudit::trail::scan::{CollectingSink, ScanSettings, ScanTotals, Scanner};
use gateaudit::trail::Selection;
use serde_json::{json, Value};

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gz");
    e.finish().expect("gz")
}

fn rec(id: &str, day: u32, source: &str, name: &str, read_only: Option<bool>) -> Value {
    let mut r = json!({
        "eventVersion": "1.08", "eventID": id, "eventTime": format!("2026-03-{day:02}T10:00:00Z"),
        "eventSource": source, "eventName": name, "awsRegion": "us-east-1",
        "recipientAccountId": "111111111111",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111111111111:user/alice",
                         "accountId": "111111111111", "userName": "alice"}});
    if let Some(ro) = read_only {
        r["readOnly"] = ro.into();
    }
    r
}

fn put(dir: &Path, key: &str, content: &[u8]) {
    let path = dir.join(key);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, gz(content)).expect("write");
}

/// An account trail and an organisation trail delivering overlapping events over three days, with damage.
fn archive(dir: &Path) {
    let mut approval = rec(
        "a1",
        2,
        "codepipeline.amazonaws.com",
        "PutApprovalResult",
        Some(false),
    );
    approval["requestParameters"] = json!({"pipelineName": "web", "stageName": "Prod",
        "actionName": "Approve", "result": {"status": "Approved", "summary": "ok"}, "token": "t"});
    let mut assume = rec("s1", 2, "sts.amazonaws.com", "AssumeRole", Some(true));
    assume["requestParameters"] =
        json!({"roleArn": "arn:aws:iam::111111111111:role/Deploy", "roleSessionName": "alice"});
    assume["responseElements"] = json!({"credentials": {"accessKeyId": "ASIAEXAMPLE"}});
    let mut pipeline = rec(
        "w3",
        2,
        "codepipeline.amazonaws.com",
        "UpdatePipeline",
        Some(false),
    );
    pipeline["requestParameters"] = json!({"pipeline": {"name": "web"}});
    let mut nested = rec("w4", 3, "ec2.amazonaws.com", "AttachVolume", Some(false));
    nested["requestParameters"] = json!({"readOnly": true});
    let mut string_ro = rec("x1", 3, "iam.amazonaws.com", "GetUser", None);
    string_ro["readOnly"] = "true".into();
    let mut no_identity = rec("x2", 3, "iam.amazonaws.com", "DeleteRole", Some(false));
    no_identity
        .as_object_mut()
        .map(|o| o.remove("userIdentity"));
    let mut data_event = rec("d1", 3, "s3.amazonaws.com", "PutObject", Some(false));
    data_event["eventCategory"] = "Data".into();
    let mut outside = rec("o1", 4, "iam.amazonaws.com", "CreateUser", Some(false));
    outside["eventTime"] = "2026-03-04T00:00:01Z".into();
    let day = |d: u32| format!("us-east-1/2026/03/{d:02}");
    let acct = |d: u32, f: &str| format!("AWSLogs/111111111111/CloudTrail/{}/{f}.json.gz", day(d));
    let org = |d: u32, f: &str| {
        format!(
            "AWSLogs/o-abc123/111111111111/CloudTrail/{}/{f}.json.gz",
            day(d)
        )
    };
    let doc = |records: Vec<Value>| json!({"Records": records}).to_string().into_bytes();
    put(
        dir,
        &acct(1, "a"),
        &doc(vec![
            rec("w1", 1, "iam.amazonaws.com", "CreateUser", Some(false)),
            rec("r1", 1, "iam.amazonaws.com", "GetUser", Some(true)),
            rec("w2", 1, "iam.amazonaws.com", "CreateRole", None),
            rec("r2", 1, "iam.amazonaws.com", "ListRoles", None),
        ]),
    );
    put(
        dir,
        &acct(2, "b"),
        &doc(vec![approval.clone(), assume.clone(), pipeline.clone()]),
    );
    // The organisation trail delivers the same events again: duplicates.
    put(
        dir,
        &org(2, "c"),
        &doc(vec![approval, assume, pipeline, Value::Null]),
    );
    put(
        dir,
        &acct(3, "d"),
        &doc(vec![
            nested,
            string_ro,
            no_identity,
            data_event,
            json!("text"),
        ]),
    );
    put(dir, &acct(3, "e"), b"<html>not json</html>");
    put(dir, &acct(3, "f"), br#"{"configurationItems": []}"#);
    put(dir, &acct(4, "g"), &doc(vec![outside]));
    // A digest file is outside the table's location template and outside the native scan.
    put(
        dir,
        "AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2026/03/02/x.json.gz",
        b"{}",
    );
}

fn period() -> Period {
    Period {
        since: Utc
            .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
            .single()
            .expect("t"),
        until: Utc
            .with_ymd_and_hms(2026, 3, 4, 0, 0, 0)
            .single()
            .expect("t"),
    }
}

type Result3 = (BTreeSet<String>, BTreeSet<String>, u64);

fn summary(sink: &CollectingSink, totals: &ScanTotals) -> Result3 {
    let mut events = BTreeSet::new();
    for w in &sink.writes {
        events.insert(serde_json::to_string(w).expect("json"));
    }
    for a in &sink.approvals {
        events.insert(serde_json::to_string(a).expect("json"));
    }
    for s in &sink.sessions {
        events.insert(serde_json::to_string(s).expect("json"));
    }
    let unreadable = totals
        .unreadable
        .iter()
        .map(|u| {
            format!(
                "{} {:?} {:?} {:?}",
                u.location, u.kind, u.record_index, u.event_id
            )
        })
        .collect();
    (events, unreadable, totals.duplicates)
}

fn native(dir: &Path, selection: Selection) -> Result3 {
    let listing = local::list_files(dir, &Filters::default(), &period(), FileKind::Log, 1);
    let settings = ScanSettings::new(selection, period(), false, IdentityRules::default());
    let mut sink = CollectingSink::default();
    let totals = {
        let mut scanner = Scanner::new(&mut sink, None, false);
        local::scan_files(&listing.files, &settings, &mut scanner).expect("native scan");
        scanner.totals
    };
    summary(&sink, &totals)
}

fn athena(dir: &Path, selection: Selection) -> Result3 {
    let table = TableName::parse("audit.trail").expect("table");
    let sql = query::query(
        &table,
        selection,
        &period(),
        &query::QueryFilters::default(),
    );
    let query_file = dir.join("query.sql");
    std::fs::write(&query_file, &sql).expect("write query");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `bash ci/setup-python`",
        python.display()
    );
    let out = Command::new(&python)
        .arg(root.join("tests/athena/run_query.py"))
        .arg(dir)
        .arg(&query_file)
        .args(["audit", "trail"])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "query failed: {}\n{sql}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<rows::ResultRow> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let values: Vec<Option<String>> = serde_json::from_str(l).expect("row json");
            rows::ResultRow::from_values(values).expect("row width")
        })
        .collect();
    assert!(!rows.is_empty());
    let settings = ScanSettings::new(selection, period(), false, IdentityRules::default());
    let first = NaiveDate::from_ymd_opt(2026, 3, 1).expect("day");
    let mut sink = CollectingSink::default();
    let totals = {
        let mut scanner = Scanner::new(&mut sink, None, false);
        scanner
            .absorb(rows::outcomes(rows, &settings, first))
            .expect("absorb");
        scanner.totals
    };
    summary(&sink, &totals)
}

#[test]
fn the_athena_query_selects_exactly_what_the_native_scan_selects() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("archive");
    archive(&dir);
    for selection in [Selection::All, Selection::Approvals, Selection::Writes] {
        let n = native(&dir, selection);
        let a = athena(&dir, selection);
        assert_eq!(a.0, n.0, "events differ for {selection:?}");
        assert_eq!(a.1, n.1, "unreadable evidence differs for {selection:?}");
        assert_eq!(a.2, n.2, "duplicates differ for {selection:?}");
        if selection == Selection::All {
            // The fixture exercises what it claims to: events, duplicates, damaged records and files.
            assert_eq!(n.0.len(), 6, "{:#?}", n.0);
            assert_eq!(n.2, 3);
            assert_eq!(n.1.len(), 6, "{:#?}", n.1);
        }
    }
}
