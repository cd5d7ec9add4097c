//! The demo as a modern AWS organisation: accounts discovered from Organizations, SCPs applied, Identity Center
//! people, and what happens when the organisation or Identity Center cannot be read.

use std::collections::BTreeSet;

use super::common::{self, read_json, run_dir, text};
use super::{audit, demo, finding_keys, shared_audit};

const MGMT: &str = "100000000000";
const CICD: &str = "111111111111";
const LEGACY: &str = "666666666666";

fn csv_rows(path: &std::path::Path) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut reader =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = reader.headers().expect("header").clone();
    let rows = reader.records().collect::<Result<_, _>>().expect("rows");
    (header, rows)
}

fn col(header: &csv::StringRecord, name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn accounts_are_discovered_from_the_organisation_with_ou_paths_and_environments() {
    let (_, dir, output, _keep) = shared_audit();
    let snapshot = read_json(&dir.join("snapshot.json"));
    let audited: BTreeSet<&str> = snapshot["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .filter_map(|a| a["account_id"].as_str())
        .collect();
    assert_eq!(
        audited,
        BTreeSet::from([MGMT, CICD, "222222222222", "333333333333", "444444444444"]),
        "only the CI/CD account is listed in the configuration; the rest is discovered\n{output}"
    );
    let account = |id: &str| {
        snapshot["accounts"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["account_id"] == id))
            .unwrap_or_else(|| panic!("account {id}"))
            .clone()
    };
    let prod = account("444444444444");
    assert_eq!(prod["environment"], "prod");
    assert_eq!(prod["ou_path"], "Root/Workloads/Prod");
    assert_eq!(prod["environment_rule"], "OU path Root/Workloads/Prod");
    let dev = account("222222222222");
    assert_eq!(dev["environment"], "dev");
    assert_eq!(dev["environment_rule"], "account tag Environment");
    assert_eq!(account(MGMT)["environment"], "management");
    assert!(account(CICD)["environment_rule"]
        .as_str()
        .unwrap_or_default()
        .starts_with("[[accounts]] entry"));
    let org = &snapshot["organization"];
    assert_eq!(org["management_account"], MGMT);
    let legacy = org["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["id"] == LEGACY))
        .expect("the closed account is listed");
    assert_eq!(legacy["audited"], false);
    // Every level of every audited account's path had its SCPs and RCPs read.
    for attachment in org["attachments"].as_array().expect("attachments") {
        assert!(attachment["scps"].is_array(), "{attachment}");
        assert!(attachment["rcps"].is_array(), "{attachment}");
    }
    let names: BTreeSet<&str> = org["policies"]
        .as_array()
        .expect("policies")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(
        names.contains("ApprovalsOnlyByApprovers") && names.contains("EvidencePoliciesStay"),
        "{names:?}"
    );
    // accounts.csv lists the closed account as not audited, with why.
    let (header, rows) = csv_rows(&dir.join("accounts.csv"));
    let row = rows
        .iter()
        .find(|r| &r[col(&header, "account_id")] == LEGACY)
        .expect("the closed account is in accounts.csv");
    assert_eq!(&row[col(&header, "audited")], "false");
    assert!(
        row[col(&header, "error")].starts_with("not audited"),
        "{row:?}"
    );
    assert!(rows
        .iter()
        .any(|r| &r[col(&header, "name")] == "organization"
            && r[col(&header, "step")].starts_with("organizations:ListPoliciesForTarget")));
    assert!(output.contains("666666666666 (legacy"), "{output}");
    // The archive's KMS key policy is collected: who could make the evidence unreadable is answerable.
    let cicd = account(CICD);
    let archive = cicd["buckets"]
        .as_array()
        .and_then(|b| {
            b.iter()
                .find(|b| b["bucket"] == "cloudtrail-logs-111111111111")
        })
        .expect("the archive bucket's settings");
    assert_eq!(
        archive["kms_keys"][0]["policy"]["state"], "present",
        "{archive}"
    );
}

#[test]
fn identity_center_people_are_one_person_in_the_ledger_and_named_in_who_can_approve() {
    let demo = demo();
    let (_, dir, _, _keep) = shared_audit();
    let users = &demo.expected["identity_center"]["users"];
    let store = demo.expected["identity_center"]["identity_store_id"]
        .as_str()
        .expect("store");
    let key = |name: &str| {
        format!(
            "identity-center:{store}/{}",
            users[name].as_str().expect("user id")
        )
    };
    let (header, rows) = csv_rows(&dir.join("approvals.csv"));
    let kim: Vec<&csv::StringRecord> = rows
        .iter()
        .filter(|r| r[col(&header, "approver_recorded")].ends_with("/kim"))
        .collect();
    assert_eq!(kim.len(), 2, "kim approved both gates of one execution");
    assert!(kim.iter().all(|r| r[col(&header, "person")] == key("kim")));
    assert!(kim.iter().all(|r| &r[col(&header, "person_name")] == "kim"));
    assert_ne!(
        kim[0][col(&header, "approver_recorded")],
        kim[1][col(&header, "approver_recorded")],
        "two permission-set roles, one person"
    );
    for name in ["ines", "jon"] {
        assert!(
            rows.iter().any(|r| r[col(&header, "person")] == key(name)),
            "{name}"
        );
    }
    let hotfix: Vec<&csv::StringRecord> = rows
        .iter()
        .filter(|r| r[col(&header, "approver_recorded")].contains("assumed-role/HotfixApprover/"))
        .collect();
    assert_eq!(hotfix.len(), 2);
    assert!(hotfix
        .iter()
        .all(|r| r[col(&header, "normalisation")].contains("chosen by the caller")));
    // who-can-approve.csv: people, with the group and permission set that bring them there.
    let (header, cells) = csv_rows(&dir.join("who-can-approve.csv"));
    let kim_rows: Vec<&csv::StringRecord> = cells
        .iter()
        .filter(|r| {
            &r[col(&header, "row_kind")] == "person" && r[col(&header, "principal")] == key("kim")
        })
        .collect();
    let actions: BTreeSet<&str> = kim_rows
        .iter()
        .map(|r| &r[col(&header, "action")])
        .collect();
    assert_eq!(actions, BTreeSet::from(["ApprovalA", "ApprovalB"]));
    assert!(kim_rows.iter().any(|r| r[col(&header, "route")]
        .contains("Identity Center group ApproversB (2 members) -> permission set ProdApproverB")));
    assert!(kim_rows
        .iter()
        .all(|r| &r[col(&header, "principal_type")] == "identity-center-user"));
}

/// Edits the saved snapshot and checks it offline; returns the findings' keys.
fn check_edited(
    edit: impl FnOnce(&mut serde_json::Value),
) -> BTreeSet<(String, String, String, String)> {
    let (_, dir, _, _keep) = shared_audit();
    let mut snapshot = read_json(&dir.join("snapshot.json"));
    edit(&mut snapshot);
    let work = tempfile::tempdir().expect("tempdir");
    let edited = work.path().join("snapshot.json");
    std::fs::write(&edited, serde_json::to_vec(&snapshot).expect("json")).expect("write");
    let out = work.path().join("out");
    let output = common::gateaudit_with_env(
        &[
            "check",
            "--snapshot",
            edited.to_str().expect("utf-8"),
            "--waivers",
            dir.join("inputs/waivers.toml").to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
            "--allow-incomplete",
        ],
        &[],
        work.path(),
    );
    assert!(
        matches!(output.status.code(), Some(0 | 3)),
        "{}",
        text(&output)
    );
    let findings = read_json(&run_dir(&out).join("findings.json"));
    finding_keys(&findings["findings"])
}

#[test]
fn the_scp_neutralises_a_broad_allow_and_without_it_the_principal_is_reported() {
    let operator = demo().expected["organization"]["neutralised_by_scp"]
        .as_str()
        .expect("operator")
        .to_owned();
    let reported = |keys: &BTreeSet<(String, String, String, String)>| {
        keys.iter().any(|(check, _, _, principal)| {
            check == "approver-separation" && *principal == operator
        })
    };
    assert!(
        !reported(&check_edited(|_| {})),
        "the SCP removes the broad allow"
    );
    // The same snapshot with the SCP taken off the CI/CD account's OU reports it.
    let without_scp = check_edited(|s| {
        let ids: Vec<String> = s["organization"]["policies"]
            .as_array()
            .expect("policies")
            .iter()
            .filter(|p| p["name"] == "ApprovalsOnlyByApprovers")
            .filter_map(|p| p["id"].as_str().map(str::to_owned))
            .collect();
        for attachment in s["organization"]["attachments"]
            .as_array_mut()
            .expect("attachments")
        {
            if let Some(scps) = attachment["scps"].as_array_mut() {
                scps.retain(|p| !ids.iter().any(|id| p == id));
            }
        }
    });
    assert!(reported(&without_scp), "{without_scp:#?}");
    // And so does a snapshot taken without the organisation (the answers then ignore SCPs, as the notes say).
    assert!(reported(&check_edited(
        |s| s["organization"] = serde_json::Value::Null
    )));
}

/// Audits with an edited configuration; returns (exit code, run dir, output).
fn audit_with(
    edit: impl FnOnce(String) -> String,
) -> (i32, std::path::PathBuf, String, tempfile::TempDir) {
    let demo = demo();
    let work = tempfile::tempdir().expect("tempdir");
    let config = work.path().join("gateaudit.toml");
    let text = std::fs::read_to_string(demo.config()).expect("config");
    std::fs::write(&config, edit(text)).expect("write config");
    let (code, dir, output, keep) = audit(&config, &[]);
    drop(work);
    (code, dir, output, keep)
}

#[test]
fn a_denied_organizations_read_is_incomplete_in_every_report_and_exits_1() {
    let (code, dir, output, _keep) = audit_with(|c| {
        c.replace(
            "role_name = \"GateAuditOrganizationsReader\"",
            "role_name = \"NoSuchOrganizationsRole\"",
        )
    });
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("INCOMPLETE organization"), "{output}");
    assert!(output.contains("note: Organizations:"), "{output}");
    let findings = read_json(&dir.join("findings.json"));
    assert_eq!(findings["complete"], false);
    assert!(findings["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .any(|n| n.as_str().unwrap_or_default().contains("Organizations")));
    let pdf = crate::common::pdf_text(&dir.join("report.pdf"));
    assert!(
        pdf.contains("organization"),
        "the PDF names the failed read"
    );
    assert!(pdf.contains("What the answers do not cover"));
    let xml = std::fs::read_to_string(dir.join("junit.xml")).expect("junit.xml");
    assert!(xml.contains("organization"), "{xml}");
    // Only the listed account is audited when the organisation cannot be read, and it says so.
    let snapshot = read_json(&dir.join("snapshot.json"));
    let ids: Vec<&str> = snapshot["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .filter_map(|a| a["account_id"].as_str())
        .collect();
    assert_eq!(ids, vec![CICD]);
}

#[test]
fn a_denied_identity_center_read_is_incomplete_and_noted() {
    // The CI/CD account may read the organisation (a delegated administrator) but not Identity Center.
    let (code, dir, output, _keep) = audit_with(|c| {
        c.replace(
            &format!("account = \"{MGMT}\"\nrole_name = \"GateAuditOrganizationsReader\""),
            &format!("account = \"{CICD}\"\nuse_base_credentials = true"),
        )
    });
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("INCOMPLETE identity-center"), "{output}");
    let findings = read_json(&dir.join("findings.json"));
    assert_eq!(findings["complete"], false);
    assert!(findings["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .any(|n| n
            .as_str()
            .unwrap_or_default()
            .contains("IAM Identity Center")));
    // The organisation itself was read: the accounts are still discovered.
    let snapshot = read_json(&dir.join("snapshot.json"));
    assert!(snapshot["accounts"].as_array().expect("accounts").len() >= 5);
}
