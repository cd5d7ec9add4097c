//! Trails as AWS has them, through a real `gateaudit audit` against the emulator: an organisation whose only
//! trail is the management account's organisation trail (the member has none of its own), delivering an
//! archive over 2026-02-10..12, more than 90 days ago, so that LookupEvents cannot see the period and the
//! archive must stand in for it.
//!
//! - The member sees the organisation trail (a shadow trail) and gets no "no trail" finding; the trail is
//!   recorded once per account although it shows in both regions.
//! - With event selectors that record only read events, the archive holds no write events: evidence-hygiene
//!   names the trail and what it leaves out, and the checks reading write events are incomplete instead of
//!   passing over an empty archive.
//!
//! Requires `.venv` (run `ci/setup-python`).

mod common;

use std::process::Command;

use common::{gateaudit_with_env, read_json, repo, run_dir, text, Emulator};

struct Org {
    _emulator: Emulator,
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    expected: serde_json::Value,
}

impl Org {
    fn seed(selectors: &str) -> Org {
        let emulator = Emulator::start();
        let dir = tempfile::tempdir().expect("tempdir");
        let out = Command::new(common::python())
            .arg(repo().join("tests/emulator/seed_trail_selectors.py"))
            .args([
                "--endpoint",
                &emulator.endpoint,
                "--selectors",
                selectors,
                "--out",
            ])
            .arg(dir.path())
            .output()
            .expect("run the seeder");
        assert!(
            out.status.success(),
            "seeding failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let env = common::seeded_credentials(dir.path());
        let expected = read_json(&dir.path().join("expected.json"));
        Org {
            _emulator: emulator,
            dir,
            env,
            expected,
        }
    }

    /// Audits 2026-02-10T10:30Z .. 2026-02-12T10:00Z (the seeder's activity and digests are at 10:00 each day);
    /// returns (snapshot, findings.json, output).
    fn audit(&self) -> (serde_json::Value, serde_json::Value, String) {
        let out = tempfile::tempdir().expect("tempdir");
        let config = self.dir.path().join("gateaudit.toml");
        let output = gateaudit_with_env(
            &[
                "audit",
                "--config",
                config.to_str().expect("utf-8"),
                "--out",
                out.path().to_str().expect("utf-8"),
                "--since",
                "2026-02-10T10:30:00Z",
                "--until",
                "2026-02-12T10:00:00Z",
            ],
            &self.env,
            self.dir.path(),
        );
        let dir = run_dir(out.path());
        (
            read_json(&dir.join("snapshot.json")),
            read_json(&dir.join("findings.json")),
            text(&output),
        )
    }

    fn id(&self, key: &str) -> String {
        self.expected[key].as_str().expect(key).to_owned()
    }
}

fn account<'a>(snapshot: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    snapshot["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["account_id"] == id)
        .unwrap_or_else(|| panic!("account {id} in the snapshot"))
}

fn hygiene_findings<'a>(findings: &'a serde_json::Value, id: &str) -> Vec<&'a serde_json::Value> {
    findings["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["check_id"] == "evidence-hygiene" && f["account_id"] == id)
        .collect()
}

/// Every (check, account, detail) made incomplete by a missing write-events input.
fn write_event_gaps(findings: &serde_json::Value) -> Vec<(String, String, String)> {
    findings["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .flat_map(|c| {
            c["incomplete"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|m| m["kind"] == "write-events")
                .map(move |m| {
                    (
                        c["id"].as_str().unwrap_or_default().to_owned(),
                        m["account_id"].as_str().unwrap_or_default().to_owned(),
                        m["detail"].as_str().unwrap_or_default().to_owned(),
                    )
                })
        })
        .collect()
}

fn failed_steps(account: &serde_json::Value) -> Vec<String> {
    account["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["status"] == "failed")
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn a_member_account_sees_the_organisation_trail_once_and_its_archive_covers_the_period() {
    let org = Org::seed("all");
    let (snapshot, findings, output) = org.audit();
    let trail_arn = org.id("trail_arn");
    for id in [org.id("member"), org.id("management")] {
        let account = account(&snapshot, &id);
        assert_eq!(
            failed_steps(account),
            Vec::<String>::new(),
            "{id}\n{output}"
        );
        let trails = account["trails"].as_array().expect("trails");
        assert_eq!(
            trails.len(),
            1,
            "{id}: the trail once, though both regions show it: {trails:#?}"
        );
        assert_eq!(trails[0]["arn"], trail_arn.as_str(), "{id}");
        assert_eq!(trails[0]["is_organization"], true, "{id}");
        assert_eq!(trails[0]["home_region"], "us-east-1", "{id}");
        assert_eq!(trails[0]["is_logging"], true, "{id}");
        assert_eq!(
            trails[0]["event_selectors"]["basic"][0]["read_write_type"], "All",
            "{id}"
        );
        let hygiene = hygiene_findings(&findings, &id);
        assert!(
            hygiene.iter().all(|f| {
                let message = f["message"].as_str().unwrap_or_default();
                !message.contains("no CloudTrail trail") && !message.contains("does not record")
            }),
            "{id}: {hygiene:#?}"
        );
    }
    // The archive records every write, so it stands in for LookupEvents' missing days.
    assert_eq!(write_event_gaps(&findings), vec![], "{output}");
}

#[test]
fn an_archive_whose_trail_records_no_writes_leaves_the_write_event_checks_incomplete() {
    let org = Org::seed("read-only");
    let (snapshot, findings, output) = org.audit();
    let (member, management) = (org.id("member"), org.id("management"));
    let trail_arn = org.id("trail_arn");
    assert_eq!(
        account(&snapshot, &member)["trails"][0]["event_selectors"]["basic"][0]["read_write_type"],
        "ReadOnly"
    );
    for id in [&member, &management] {
        let named: Vec<&serde_json::Value> = hygiene_findings(&findings, id)
            .into_iter()
            .filter(|f| f["subject"] == trail_arn.as_str())
            .filter(|f| {
                f["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("leaves out write management events"))
            })
            .collect();
        assert_eq!(
            named.len(),
            1,
            "{id}: {:#?}",
            hygiene_findings(&findings, id)
        );
        assert_eq!(named[0]["severity"], "high");
    }
    let gaps = write_event_gaps(&findings);
    for id in [&member, &management] {
        assert!(
            gaps.iter().any(|(_, account, detail)| account == id
                && detail.contains(&format!(
                    "{trail_arn}'s event selectors exclude write management events"
                ))),
            "{id}: {gaps:#?}\n{output}"
        );
    }
    for (check, _, _) in &gaps {
        let status = findings["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["id"] == check.as_str())
            .map(|c| c["status"].clone());
        assert_eq!(status, Some("incomplete".into()), "{check}");
    }
}
