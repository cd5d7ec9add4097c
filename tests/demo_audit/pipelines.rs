//! The demo's pipelines as they ran: the change population, gates edited away and back, overridden conditions,
//! self-approval, deployment roles used by people.

use std::collections::BTreeMap;

use super::common::read_json;
use super::{demo, shared_audit};

fn rows(path: &std::path::Path) -> Vec<BTreeMap<String, String>> {
    let mut reader =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.expect("row");
            header
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

#[test]
fn changes_csv_lists_every_production_execution_with_its_verdict() {
    let demo = demo();
    let (_, dir, output, ()) = shared_audit();
    let changes = rows(&dir.join("changes.csv"));
    let found: BTreeMap<String, bool> = changes
        .iter()
        .map(|r| (r["execution_id"].clone(), r["compliant"] == "true"))
        .collect();
    let expected: BTreeMap<String, bool> = demo.expected["changes"]
        .as_object()
        .expect("changes")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_bool().unwrap_or(false)))
        .collect();
    assert_eq!(found, expected, "{output}");
    let executions = &demo.expected["executions"];
    let row = |key: &str| {
        let id = executions[key].as_str().expect("execution id");
        changes
            .iter()
            .find(|r| r["execution_id"] == id)
            .unwrap_or_else(|| panic!("{key}"))
    };
    // The execution that ran while the gate was removed ran version 2, started by victor.
    let removed = row("gate_removed");
    assert_eq!(removed["pipeline_version"], "2");
    assert!(removed["started_by"].ends_with(":user/victor"));
    assert!(removed["why_not"].contains("version 2"), "{removed:?}");
    // Both sources of every approval agree in the clean executions, and name the approvers.
    let clean = row("clean");
    assert!(
        clean["approvals"].contains("ApprovalA: Approved by alice"),
        "{clean:?}"
    );
    assert!(clean["approvals"].contains("updatedBy: arn:aws:iam::111111111111:user/alice"));
    assert!(row("self_approved")["why_not"].contains("carol started the execution and approved it"));
    let overridden = &row("api_overridden")["why_not"];
    assert_eq!(
        overridden.matches("leo overrode a stage condition").count(),
        1,
        "one override, one violation naming both pieces of evidence: {overridden}"
    );
    assert!(overridden.contains("OverrideStageCondition") && overridden.contains("ChangeTicket"));
    assert!(row("api_clean")["why_not"].is_empty());
    // The PDF has the section.
    assert!(crate::common::pdf_text(&dir.join("report.pdf")).contains("Production changes"));
}

#[test]
fn the_snapshot_keeps_versions_triggers_conditions_and_who_assumed_the_deployment_role() {
    let (_, dir, _, ()) = shared_audit();
    let snapshot = read_json(&dir.join("snapshot.json"));
    let cicd = snapshot["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["account_id"] == "111111111111"))
        .expect("cicd");
    let pipeline = |name: &str| {
        cicd["pipelines"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["name"] == name))
            .unwrap_or_else(|| panic!("{name}"))
            .clone()
    };
    let webapp = pipeline("webapp");
    assert_eq!(webapp["version"], 3, "removed and restored: two updates");
    let versions: Vec<i64> = webapp["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .filter_map(|v| v["version"].as_i64())
        .collect();
    assert_eq!(versions, vec![1, 2]);
    let api = pipeline("api");
    assert_eq!(api["pipeline_type"], "V2");
    let deploy = api["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "DeployProd"))
        .expect("DeployProd");
    assert_eq!(
        deploy["before_entry"]["conditions"][0]["rules"][0]["provider"],
        "VariableCheck"
    );
    assert!(api["rule_executions"]
        .as_array()
        .expect("rule executions")
        .iter()
        .any(|r| r["updated_by"]
            .as_str()
            .unwrap_or_default()
            .contains("AWSReservedSSO_ReleaseOps_")));
    // prod's AssumeRole events name only the caller's account and principal ID (as AWS writes them); the caller's
    // own account holds the same call with its ARN, joined by sharedEventID.
    let sessions = |id: &str| -> Vec<serde_json::Value> {
        snapshot["accounts"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["account_id"] == id))
            .and_then(|a| a["role_sessions"].as_array())
            .cloned()
            .unwrap_or_else(|| panic!("role sessions of {id}"))
    };
    let (prod, cicd_sessions) = (sessions("444444444444"), sessions("111111111111"));
    assert!(prod
        .iter()
        .all(|s| s["caller"]["kind"] == "AWSAccount" && s["caller"]["arn"].is_null()));
    let callers: Vec<&str> = prod
        .iter()
        .filter_map(|p| {
            cicd_sessions
                .iter()
                .find(|c| c["shared_event_id"] == p["shared_event_id"])
                .and_then(|c| c["caller"]["arn"].as_str())
        })
        .collect();
    assert_eq!(
        callers.len(),
        prod.len(),
        "every prod session joins its caller's event"
    );
    assert!(
        callers
            .iter()
            .any(|c| c.contains("assumed-role/CodeBuildServiceRole/")),
        "{callers:?}"
    );
    assert!(
        callers
            .iter()
            .any(|c| c.contains("AWSReservedSSO_ReleaseOps_")),
        "{callers:?}"
    );
}
