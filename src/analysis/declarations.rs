//! Pipeline declarations compared: what an `UpdatePipeline` took away. Reads a declaration as CloudTrail records
//! it (`requestParameters.pipeline`, AWS's JSON member names) into the snapshot's stages, and lists the manual
//! approvals and stage conditions the new declaration lost or weakened against the previous one. Pure.

use crate::model::{PipelineAction, Stage, StageCondition, StageConditions};

/// Stages of a declaration as CloudTrail records it (`{"stages": [{"name", "actions": [{"name",
/// "actionTypeId": {"category", "provider"}}], "beforeEntry": {"conditions": [...]}}]}`).
pub fn stages_from_json(declaration: &serde_json::Value) -> Option<Vec<Stage>> {
    let text = |v: &serde_json::Value, key: &str| {
        v.get(key)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let conditions = |v: Option<&serde_json::Value>| -> Option<StageConditions> {
        let v = v?;
        Some(StageConditions {
            result: v
                .get("result")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            retry_mode: None,
            conditions: v
                .get("conditions")
                .and_then(serde_json::Value::as_array)
                .map(|list| {
                    list.iter()
                        .map(|c| StageCondition {
                            result: c
                                .get("result")
                                .and_then(serde_json::Value::as_str)
                                .map(str::to_owned),
                            rules: c
                                .get("rules")
                                .and_then(serde_json::Value::as_array)
                                .map(|rules| {
                                    rules
                                        .iter()
                                        .map(|r| crate::model::ConditionRule {
                                            name: text(r, "name"),
                                            provider: r
                                                .get("ruleTypeId")
                                                .map(|t| text(t, "provider"))
                                                .unwrap_or_default(),
                                            ..Default::default()
                                        })
                                        .collect()
                                })
                                .unwrap_or_default(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
    };
    let stages = declaration.get("stages")?.as_array()?;
    Some(
        stages
            .iter()
            .map(|s| Stage {
                name: text(s, "name"),
                actions: s
                    .get("actions")
                    .and_then(serde_json::Value::as_array)
                    .map(|actions| {
                        actions
                            .iter()
                            .map(|a| {
                                let type_id = a.get("actionTypeId");
                                PipelineAction {
                                    name: text(a, "name"),
                                    category: type_id
                                        .map(|t| text(t, "category"))
                                        .unwrap_or_default(),
                                    provider: type_id
                                        .map(|t| text(t, "provider"))
                                        .unwrap_or_default(),
                                    ..PipelineAction::default()
                                }
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                before_entry: conditions(s.get("beforeEntry")),
                on_success: conditions(s.get("onSuccess")),
                on_failure: conditions(s.get("onFailure")),
            })
            .collect(),
    )
}

/// What `new` lost against `previous`: removed manual approvals, stages that went from two-person to fewer
/// approvals, removed stage conditions (rule by rule). Empty when nothing was weakened.
pub fn weakening(previous: &[Stage], new: &[Stage]) -> Vec<String> {
    let mut lost = Vec::new();
    for old in previous {
        let now = new.iter().find(|s| s.name == old.name);
        let old_approvals: Vec<&str> = old.approval_actions().map(|a| a.name.as_str()).collect();
        let new_approvals: Vec<&str> = now
            .map(|s| s.approval_actions().map(|a| a.name.as_str()).collect())
            .unwrap_or_default();
        for a in &old_approvals {
            if !new_approvals.contains(a) {
                lost.push(format!("removed manual approval {}/{a}", old.name));
            }
        }
        if old_approvals.len() >= 2 && new_approvals.len() < 2 && !new_approvals.is_empty() {
            lost.push(format!(
                "stage {} went from {} approvals to {}",
                old.name,
                old_approvals.len(),
                new_approvals.len()
            ));
        }
        for (hook, old_c, new_c) in [
            (
                "beforeEntry",
                &old.before_entry,
                now.and_then(|s| s.before_entry.as_ref()),
            ),
            (
                "onSuccess",
                &old.on_success,
                now.and_then(|s| s.on_success.as_ref()),
            ),
            (
                "onFailure",
                &old.on_failure,
                now.and_then(|s| s.on_failure.as_ref()),
            ),
        ] {
            let Some(old_c) = old_c else { continue };
            let rules = |c: &StageConditions| -> Vec<(String, String)> {
                c.conditions
                    .iter()
                    .flat_map(|c| c.rules.iter().map(|r| (r.name.clone(), r.provider.clone())))
                    .collect()
            };
            let kept = new_c.map(rules).unwrap_or_default();
            for (name, provider) in rules(old_c) {
                if !kept.contains(&(name.clone(), provider.clone())) {
                    lost.push(format!(
                        "removed {hook} rule {name} ({provider}) of stage {}",
                        old.name
                    ));
                }
            }
        }
    }
    lost
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declaration(with_gate: bool, with_window: bool) -> serde_json::Value {
        let mut gate = serde_json::json!({"name": "ProdGate", "actions": []});
        if with_gate {
            gate["actions"] = serde_json::json!([
                {"name": "ApprovalA", "actionTypeId": {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}},
                {"name": "ApprovalB", "actionTypeId": {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}}]);
        }
        let mut deploy = serde_json::json!({"name": "DeployProd", "actions": [
            {"name": "Deploy", "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"}}]});
        if with_window {
            deploy["beforeEntry"] = serde_json::json!({"conditions": [{"result": "FAIL", "rules": [
                {"name": "ChangeWindow", "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": "DeploymentWindow", "version": "1"},
                 "configuration": {"Cron": "0 0 9 ? * MON-FRI *"}}]}]});
        }
        serde_json::json!({"name": "webapp", "version": 3, "stages": [gate, deploy]})
    }

    #[test]
    fn removing_the_approvals_or_the_window_is_weakening_and_adding_them_back_is_not() {
        let full = stages_from_json(&declaration(true, true)).expect("stages");
        let no_gate = stages_from_json(&declaration(false, true)).expect("stages");
        let no_window = stages_from_json(&declaration(true, false)).expect("stages");
        let lost = weakening(&full, &no_gate);
        assert_eq!(lost.len(), 2, "{lost:?}");
        assert!(lost[0].contains("ProdGate/ApprovalA"));
        let lost = weakening(&full, &no_window);
        assert_eq!(
            lost,
            vec!["removed beforeEntry rule ChangeWindow (DeploymentWindow) of stage DeployProd"]
        );
        assert!(weakening(&no_gate, &full).is_empty());
        assert!(weakening(&full, &full).is_empty());
    }

    #[test]
    fn a_two_person_stage_reduced_to_one_approval_is_weakening() {
        let full = stages_from_json(&declaration(true, false)).expect("stages");
        let mut one = declaration(true, false);
        if let Some(actions) = one["stages"][0]["actions"].as_array_mut() {
            actions.pop();
        }
        let lost = weakening(&full, &stages_from_json(&one).expect("stages"));
        assert!(
            lost.iter()
                .any(|l| l.contains("went from 2 approvals to 1")),
            "{lost:?}"
        );
    }
}
