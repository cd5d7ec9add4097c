use std::path::{Path, PathBuf};

use chrono::{Duration, TimeZone, Utc};

use super::incremental::{merge, newest_complete, resume};
use super::*;
use crate::checks::testkit::{approval_event, user, Org};
use crate::model::{CollectionStep, LookupWindow, Snapshot, StepStatus};

/// A report folder `<parent>/<run>` with a snapshot, findings.json, approvals.csv and a manifest.
fn report(parent: &Path, run: &str, findings: serde_json::Value, approvals: &str) -> PathBuf {
    let dir = parent.join(run);
    std::fs::create_dir_all(&dir).expect("dir");
    let mut org = Org::two_person_pipeline();
    org.snapshot.run_id = run.to_owned();
    let snapshot = dir.join("snapshot.json");
    org.snapshot.save(&snapshot).expect("snapshot");
    let f = dir.join("findings.json");
    std::fs::write(&f, serde_json::to_vec(&findings).expect("json")).expect("findings");
    let a = dir.join("approvals.csv");
    std::fs::write(&a, approvals).expect("approvals");
    crate::report::manifest::write_manifest(&dir, run, &[snapshot], &[f, a], None)
        .expect("manifest");
    dir
}

fn findings(run: &str, list: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "run_id": run, "period": {"since": "2026-09-01T00:00:00Z", "until": "2026-12-01T00:00:00Z"},
        "complete": true,
        "checks": [{"id": "distinct-approvers", "status": if list.as_array().is_some_and(|l| l.is_empty()) {"passed"} else {"failed"}, "findings": list.as_array().map_or(0, |l| l.len()), "waived": 0}],
        "findings": list,
    })
}

fn finding(subject: &str, waived: bool) -> serde_json::Value {
    let mut f = serde_json::json!({"check_id": "distinct-approvers", "severity": "high", "account_id": "111111111111",
        "subject": subject, "principal": "arn:aws:iam::111111111111:role/ReleaseManager", "message": "one approver",
        "evidence": []});
    if waived {
        f["waiver"] =
            serde_json::json!({"reason": "accepted", "approver": "cab", "expires": "2027-01-01"});
    }
    f
}

const LEDGER: &str = "account_id,pipeline,stage,action,person,person_name,time,status,event_id\n\
111111111111,webapp,ProdGate,ApprovalA,arn:aws:iam::111111111111:user/alice,alice,2026-11-20T10:00:00Z,Approved,ev-1\n";

fn dir_store(root: &Path) -> Store {
    Store::open(&Location::Dir(root.to_path_buf()), &StoreOptions::default()).expect("store")
}

#[test]
fn locations_parse() {
    assert_eq!(
        Location::parse("s3://b/p/q/").expect("s3"),
        Location::S3 {
            bucket: "b".into(),
            prefix: "p/q".into()
        }
    );
    assert!(Location::parse("s3:///x").is_err());
    assert!(Location::parse("gs://x").is_err());
    assert_eq!(
        Location::parse("runs").expect("dir"),
        Location::Dir("runs".into())
    );
}

#[test]
fn a_directory_store_is_write_once_and_lists_only_complete_runs() {
    let work = tempfile::tempdir().expect("tmp");
    let root = work.path().join("store");
    let store = dir_store(&root);
    let run = "20261201T000000Z-aaaa";
    let dir = report(
        work.path(),
        run,
        findings(run, serde_json::json!([])),
        LEDGER,
    );
    let published = store.publish(&dir).expect("publish");
    assert_eq!(
        published.keys.last().map(String::as_str),
        Some(&*format!("{run}/manifest.json")),
        "manifest last"
    );
    assert_eq!(store.runs().expect("runs"), vec![run.to_owned()]);
    assert!(store.verify_run(run).expect("verify").is_empty());
    // A second publish of the same run id is refused, and changes nothing.
    let again = store.publish(&dir).expect_err("write-once");
    assert!(
        matches!(again, StoreError::AlreadyPublished { .. }),
        "{again}"
    );
    // Stored files are read-only.
    let stored = root.join(run).join("findings.json");
    assert!(std::fs::metadata(&stored)
        .expect("meta")
        .permissions()
        .readonly());
    // Even without the manifest check, a file is never replaced (create-new).
    let err = store
        .put_new(&format!("{run}/findings.json"), b"x".to_vec(), false)
        .expect_err("exists");
    assert!(matches!(err, StoreError::Exists { .. }), "{err}");
}

#[test]
fn an_interrupted_publish_leaves_no_run_and_a_damaged_newest_run_is_an_error() {
    let work = tempfile::tempdir().expect("tmp");
    let root = work.path().join("store");
    let store = dir_store(&root);
    let first = "20261201T000000Z-aaaa";
    let second = "20261202T000000Z-bbbb";
    store
        .publish(&report(
            work.path(),
            first,
            findings(first, serde_json::json!([])),
            LEDGER,
        ))
        .expect("first");
    let dir = report(
        work.path(),
        second,
        findings(second, serde_json::json!([])),
        LEDGER,
    );
    let err = store
        .publish_with(&dir, |key| {
            if key.ends_with("manifest.json") {
                Err(StoreError::Local {
                    path: key.to_owned(),
                    message: "interrupted".into(),
                })
            } else {
                Ok(())
            }
        })
        .expect_err("interrupted");
    assert!(err.to_string().contains("interrupted"), "{err}");
    // Every other file of the second run is there, but without its manifest it is not a run.
    assert!(root.join(second).join("snapshot.json").is_file());
    assert_eq!(store.runs().expect("runs"), vec![first.to_owned()]);
    let newest = newest_complete(&store).expect("newest").expect("a run");
    assert_eq!(newest.run_id, first);
    // A damaged newest run is never used.
    let snapshot = root.join(first).join("snapshot.json");
    let mut permissions = std::fs::metadata(&snapshot).expect("meta").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&snapshot, permissions).expect("chmod");
    std::fs::write(&snapshot, b"{}").expect("tamper");
    let err = newest_complete(&store).err().expect("damaged");
    assert!(
        matches!(&err, StoreError::Corrupt { problems, .. } if problems.iter().any(|p| p.contains("snapshot.json"))),
        "{err}"
    );
}

fn window(step: &str, start: chrono::DateTime<Utc>, end: chrono::DateTime<Utc>) -> LookupWindow {
    LookupWindow {
        step: step.into(),
        region: "us-east-1".into(),
        start_time: Some(start),
        end_time: end,
        covered_since: Some(start),
        inherited: None,
    }
}

const APPROVALS: &str = "cloudtrail:LookupEvents(PutApprovalResult)";

fn step(status: StepStatus, error: Option<&str>) -> CollectionStep {
    CollectionStep {
        step: APPROVALS.into(),
        region: Some("us-east-1".into()),
        status,
        items: 0,
        error: error.map(str::to_owned),
        note: None,
    }
}

/// An earlier run covering `[since, until)` with one approval at `at`, and the run continuing it at `now`.
fn two_runs(
    since: chrono::DateTime<Utc>,
    until: chrono::DateTime<Utc>,
    now: chrono::DateTime<Utc>,
) -> (Snapshot, Snapshot) {
    let mut before = Org::two_person_pipeline().snapshot;
    before.period = crate::model::Period { since, until };
    let old = approval_event(
        "ProdGate",
        "ApprovalA",
        user("alice"),
        "Approved",
        "ok",
        &(since + Duration::days(1)).to_rfc3339(),
    );
    let recent = approval_event(
        "ProdGate",
        "ApprovalB",
        user("bob"),
        "Approved",
        "ok",
        &(until - Duration::minutes(30)).to_rfc3339(),
    );
    before.accounts[0].approval_events = vec![old, recent.clone()];
    before.accounts[0].lookup_windows = vec![window(APPROVALS, since, until)];
    before.accounts[0].steps = vec![step(StepStatus::Ok, None)];
    let mut after = before.clone();
    after.period = crate::model::Period { since, until: now };
    let start =
        resume(&before).period_for(&after.accounts[0].account_id, "us-east-1", &after.period);
    // The new read returns the overlap's event again, and a new one.
    let new = approval_event(
        "TestGate",
        "TestApproval",
        user("carol"),
        "Approved",
        "ok",
        &(now - Duration::minutes(5)).to_rfc3339(),
    );
    after.accounts[0].approval_events = vec![recent, new];
    after.accounts[0].lookup_windows = vec![window(APPROVALS, start.since, now)];
    (before, after)
}

#[test]
fn an_incremental_run_resumes_an_hour_before_the_last_window_and_keeps_the_history() {
    let until = Utc
        .with_ymd_and_hms(2026, 12, 1, 6, 0, 0)
        .single()
        .expect("t");
    let since = until - Duration::days(120);
    let now = until + Duration::days(1);
    let (before, mut after) = two_runs(since, until, now);
    assert_eq!(
        after.accounts[0].lookup_windows[0].start_time,
        Some(until - Duration::hours(1))
    );
    after.accounts[0].steps = vec![step(StepStatus::Ok, None)];
    merge(&mut after, &before, "run-1");
    let a = &after.accounts[0];
    assert_eq!(a.approval_events.len(), 3, "one event id is one event");
    let w = &a.lookup_windows[0];
    assert_eq!(
        w.covered_since,
        Some(since),
        "120 days: more than LookupEvents keeps"
    );
    let inherited = w.inherited.as_ref().expect("inherited");
    assert_eq!((inherited.run_id.as_str(), inherited.events), ("run-1", 1));
    assert_eq!(inherited.gap, None);
    assert_eq!(a.steps[0].status, StepStatus::Ok, "{:?}", a.steps[0].error);
}

#[test]
fn a_gap_between_runs_is_incomplete_coverage_never_covered() {
    let until = Utc
        .with_ymd_and_hms(2026, 6, 1, 6, 0, 0)
        .single()
        .expect("t");
    let since = until - Duration::days(30);
    let now = until + Duration::days(100);
    let (before, mut after) = two_runs(since, until, now);
    // The earlier run ended 100 days ago: LookupEvents starts 90 days back, so ten days are seen by nobody.
    let horizon = now - Duration::days(90);
    after.accounts[0].lookup_windows = vec![window(APPROVALS, horizon, now)];
    after.accounts[0].steps = vec![step(
        StepStatus::Partial,
        Some("LookupEvents covers only the last 90 days"),
    )];
    merge(&mut after, &before, "run-1");
    let a = &after.accounts[0];
    let w = &a.lookup_windows[0];
    assert_eq!(w.covered_since, Some(horizon));
    assert_eq!(
        w.inherited.as_ref().and_then(|i| i.gap),
        Some((until, horizon))
    );
    assert_eq!(a.steps[0].status, StepStatus::Partial);
    let note = a.steps[0].error.as_deref().unwrap_or_default();
    assert!(
        note.contains("gap between runs") && note.contains("run-1"),
        "{note}"
    );
    // The events both runs saw are kept all the same.
    assert_eq!(a.approval_events.len(), 3);

    // An earlier run whose read failed gives nothing to resume from: its account is read over the whole period.
    let (mut before, _) = two_runs(since, until, now);
    before.accounts[0].lookup_windows[0].covered_since = None;
    assert!(resume(&before).starts.is_empty());
}

#[test]
fn history_and_diff_read_the_stored_runs() {
    let work = tempfile::tempdir().expect("tmp");
    let root = work.path().join("store");
    let store = dir_store(&root);
    let (first, second) = ("20261201T000000Z-aaaa", "20261202T000000Z-bbbb");
    store
        .publish(&report(
            work.path(),
            first,
            findings(
                first,
                serde_json::json!([finding("webapp/ex1", false), finding("webapp/ex2", true)]),
            ),
            LEDGER,
        ))
        .expect("first");
    let ledger2 = format!(
        "{LEDGER}111111111111,webapp,TestGate,TestApproval,arn:aws:iam::111111111111:user/carol,carol,2026-12-01T10:00:00Z,Approved,ev-2\n"
    );
    store
        .publish(&report(
            work.path(),
            second,
            findings(
                second,
                serde_json::json!([finding("webapp/ex2", false), finding("webapp/ex3", false)]),
            ),
            &ledger2,
        ))
        .expect("second");
    let h = history::history(&store, &history::HistoryQuery::default()).expect("history");
    assert!(h.problems.is_empty(), "{:?}", h.problems);
    assert_eq!(h.runs.len(), 2);
    assert_eq!(
        h.approvals.len(),
        2,
        "one approval per event id across runs"
    );
    assert_eq!(h.approvals[0].first_seen, first);
    assert_eq!(h.approvals[0].last_seen, second);
    assert_eq!(h.approvals[1].first_seen, second);
    let ex1 = h
        .findings
        .iter()
        .find(|f| f.subject == "webapp/ex1")
        .expect("ex1");
    assert!(!ex1.open && ex1.last_seen == first);
    let carol = history::history(
        &store,
        &history::HistoryQuery {
            person: Some("CAROL".into()),
            ..Default::default()
        },
    )
    .expect("history");
    assert_eq!(carol.approvals.len(), 1);
    assert!(carol.findings.is_empty());

    let a = history::load_stored(&store, first).expect("a");
    let b = history::load_named(second, Some(&store)).expect("b");
    let d = history::diff(&a, &b);
    let subjects =
        |l: &[crate::model::Finding]| l.iter().map(|f| f.subject.clone()).collect::<Vec<_>>();
    assert_eq!(subjects(&d.appeared), vec!["webapp/ex3"]);
    assert_eq!(subjects(&d.disappeared), vec!["webapp/ex1"]);
    assert_eq!(subjects(&d.waivers_ended), vec!["webapp/ex2"]);
    assert!(d.waivers_started.is_empty() && d.changed.is_empty());
    // A report folder can be named by path, and is verified first.
    let folder = work.path().join(first);
    let from_folder = history::load_named(&folder.display().to_string(), None).expect("folder");
    assert_eq!(from_folder.findings.findings.len(), 2);
    std::fs::write(folder.join("findings.json"), b"{}").expect("tamper");
    assert!(history::load_named(&folder.display().to_string(), None).is_err());
}
