//! `gateaudit trail scan DIR` over a hostile local copy of an archive: a named pipe, a gzip bomb, links out of
//! the tree. The scan must finish (the harness kills it and fails after a deadline rather than hang), name every
//! file it did not read as unreadable evidence (exit 1), and still read the good files.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DAY: &str = "AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/01";

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gz");
    e.finish().expect("gz")
}

fn log_file(event_id: &str) -> Vec<u8> {
    gz(serde_json::json!({"Records": [{
        "eventVersion": "1.08", "eventID": event_id, "eventTime": "2026-03-01T10:00:00Z",
        "eventSource": "s3.amazonaws.com", "eventName": "CreateBucket", "awsRegion": "us-east-1",
        "recipientAccountId": "111111111111", "readOnly": false,
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111111111111:user/mallory",
                         "accountId": "111111111111", "userName": "mallory"}}]})
    .to_string()
    .as_bytes())
}

/// Runs gateaudit, failing the test (and killing it) if it has not finished within `deadline`.
fn run_with_deadline(args: &[&str], cwd: &Path, deadline: Duration) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gateaudit"))
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start gateaudit");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let out = child.wait_with_output().expect("output");
            return (
                status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("gateaudit {args:?} hung for {deadline:?} and was killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn special_files_bombs_and_links_out_of_the_tree_are_named_never_read_and_never_hang() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let archive = tmp.path().join("archive");
    let day = archive.join(DAY);
    std::fs::create_dir_all(&day).expect("mkdir");
    std::fs::write(
        day.join("111111111111_CloudTrail_us-east-1_20260301T1000Z_good.json.gz"),
        log_file("good-1"),
    )
    .expect("write");
    // A named pipe with no writer: reading it would block forever.
    let fifo = day.join("111111111111_CloudTrail_us-east-1_20260301T1005Z_fifo.json.gz");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success(), "mkfifo failed");
    // 16 MiB of zeros in 16 KiB: over the 4 MiB cap given below.
    std::fs::write(
        day.join("111111111111_CloudTrail_us-east-1_20260301T1010Z_bomb.json.gz"),
        gz(&vec![0u8; 16 << 20]),
    )
    .expect("write");
    // A link out of the tree, and one inside it (followed).
    let outside = tmp.path().join("outside.json.gz");
    std::fs::write(&outside, log_file("outside-1")).expect("write");
    std::os::unix::fs::symlink(
        &outside,
        day.join("111111111111_CloudTrail_us-east-1_20260301T1015Z_escape.json.gz"),
    )
    .expect("symlink");
    let kept = archive.join("kept.json.gz");
    std::fs::write(&kept, log_file("inside-1")).expect("write");
    std::os::unix::fs::symlink(
        &kept,
        day.join("111111111111_CloudTrail_us-east-1_20260301T1020Z_inside.json.gz"),
    )
    .expect("symlink");
    // A day folder that is a link out of the tree.
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("mkdir");
    std::fs::write(
        elsewhere.join("111111111111_CloudTrail_us-east-1_20260302T1000Z_x.json.gz"),
        log_file("far-1"),
    )
    .expect("write");
    std::os::unix::fs::symlink(
        &elsewhere,
        archive.join("AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/02"),
    )
    .expect("symlink");

    let jsonl = tmp.path().join("events.jsonl");
    let (code, _, stderr) = run_with_deadline(
        &[
            "trail",
            "scan",
            archive.to_str().expect("utf-8"),
            "--since",
            "2026-03-01",
            "--until",
            "2026-03-03",
            "--format",
            "jsonl",
            "--out",
            jsonl.to_str().expect("utf-8"),
            "--max-file-mb",
            "4",
            "--quiet",
        ],
        tmp.path(),
        Duration::from_secs(60),
    );
    assert_eq!(code, 1, "unreadable evidence fails the scan\n{stderr}");
    for (marker, why) in [
        (
            "_fifo.json.gz",
            "a named pipe, not a regular file: not read",
        ),
        ("_bomb.json.gz", "more than the cap of 4 MiB"),
        ("_escape.json.gz", "a symbolic link outside the archive"),
        ("2026/03/02", "resolves outside the archive"),
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("UNREADABLE") && l.contains(marker) && l.contains(why)),
            "{marker}: {why}\n{stderr}"
        );
    }
    let events = std::fs::read_to_string(&jsonl).expect("events");
    let ids: Vec<String> = events
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["eventID"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        ids,
        vec!["good-1", "inside-1"],
        "only what is inside the tree and sane"
    );
}
