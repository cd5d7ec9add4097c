//! Evidence requests: the approval ledger for exactly the scope an auditor asks for ("every production approval
//! between January and March"), cut from a saved snapshot without re-collecting. Pure.
//!
//! An approval's environment is where it lets the change go: the environment labels of the accounts the gated
//! stages deploy into (`analysis::deployments::gated_targets`), not the label of the account the approval was
//! given in (usually the CI/CD account). A request that selects nothing, names an account, environment or
//! pipeline the snapshot does not have, or asks for an empty or reversed period, is an error, never an empty
//! ledger that looks like an answer.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use wildmatch::WildMatch;

use super::deployments::gated_targets;
use super::ledger::LedgerRow;
use crate::model::{Period, Snapshot};

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("the requested period {requested_since} .. {requested_until} is not inside the snapshot's period {since} .. {until}: collect a snapshot that covers it")]
    OutsideSnapshot {
        requested_since: DateTime<Utc>,
        requested_until: DateTime<Utc>,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    },
    #[error("--since ({since}) must be before --until ({until}): the period is empty")]
    EmptyPeriod {
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    },
    #[error("account {0} is not in the snapshot")]
    UnknownAccount(String),
    #[error("no pipeline of the snapshot deploys into an account labelled {asked:?} (environments deployed to: {known})")]
    UnknownEnvironment { asked: String, known: String },
    #[error("no pipeline of the snapshot matches {pattern:?} (pipelines: {known})")]
    UnknownPipeline { pattern: String, known: String },
    #[error("the request selects no approval: {scope} ({in_period} approval(s) in the period before the other filters; {undetermined} of them gate no stage whose environment is known)")]
    NothingSelected {
        scope: String,
        in_period: usize,
        undetermined: usize,
    },
}

impl EvidenceError {
    /// A request that cannot be what the auditor meant (exit 2), as opposed to one the snapshot cannot answer.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            EvidenceError::EmptyPeriod { .. }
                | EvidenceError::UnknownAccount(_)
                | EvidenceError::UnknownEnvironment { .. }
                | EvidenceError::UnknownPipeline { .. }
        )
    }
}

/// What the auditor asked for. Empty filters match everything.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceScope {
    pub period: Period,
    pub accounts: Vec<String>,
    /// Pipeline name patterns (`*`, `?`).
    pub pipelines: Vec<String>,
    /// Environment labels of the accounts the approved stages deploy into.
    pub environments: Vec<String>,
}

impl EvidenceScope {
    pub fn describe(&self) -> String {
        let list = |v: &[String]| {
            if v.is_empty() {
                "all".to_owned()
            } else {
                v.join(", ")
            }
        };
        format!(
            "approvals from {} to {} (exclusive); accounts: {}; pipelines: {}; environments deployed to: {}",
            self.period.since.format("%Y-%m-%dT%H:%M:%SZ"),
            self.period.until.format("%Y-%m-%dT%H:%M:%SZ"),
            list(&self.accounts),
            list(&self.pipelines),
            list(&self.environments)
        )
    }

    fn matches_account_and_pipeline(&self, row: &LedgerRow) -> bool {
        (self.accounts.is_empty()
            || self
                .accounts
                .iter()
                .any(|a| a == &row.account_id || a == &row.account_name))
            && (self.pipelines.is_empty()
                || self
                    .pipelines
                    .iter()
                    .any(|p| WildMatch::new(p).matches(&row.pipeline)))
    }

    fn matches_environment(&self, environments: &[String]) -> bool {
        self.environments.is_empty()
            || self
                .environments
                .iter()
                .any(|e| environments.iter().any(|d| e.eq_ignore_ascii_case(d)))
    }
}

/// What the evidence can and cannot prove, stated beside the rows.
#[derive(Debug, Clone, Serialize)]
pub struct Completeness {
    /// Accounts in scope whose collection failed somewhere: the ledger may miss approvals there.
    pub incomplete_accounts: Vec<String>,
    pub rows: usize,
    pub without_record: usize,
    pub unattributed: usize,
    /// Approvals in the period (and account and pipeline scope) whose gated environment could not be told (the
    /// pipeline or its gate is not in the snapshot, or nothing after the gate deploys into a known account):
    /// an environment filter cannot select them.
    pub undetermined_environment: usize,
}

/// The environment labels of the accounts the approval of `row` gates (sorted, once each).
pub fn deployed_environments(snapshot: &Snapshot, row: &LedgerRow) -> Vec<String> {
    let Some(pipeline) = snapshot.account(&row.account_id).and_then(|a| {
        a.pipelines
            .iter()
            .find(|p| p.name == row.pipeline && p.region == row.region)
    }) else {
        return Vec::new();
    };
    let known = |a: &str| snapshot.account(a).is_some();
    let environments: BTreeSet<String> = gated_targets(pipeline, &row.stage, &row.action, &known)
        .iter()
        .filter_map(|t| snapshot.account(&t.account))
        .map(|a| a.environment.clone())
        .filter(|e| !e.is_empty())
        .collect();
    environments.into_iter().collect()
}

/// Every environment some approval gate of the snapshot deploys into.
fn environments_deployed_to(snapshot: &Snapshot) -> BTreeSet<String> {
    let known = |a: &str| snapshot.account(a).is_some();
    let mut out = BTreeSet::new();
    for pipeline in snapshot.accounts.iter().flat_map(|a| a.pipelines.iter()) {
        for stage in &pipeline.stages {
            for action in stage.approval_actions() {
                for t in gated_targets(pipeline, &stage.name, &action.name, &known) {
                    if let Some(a) = snapshot.account(&t.account) {
                        out.insert(a.environment.to_lowercase());
                    }
                }
            }
        }
    }
    out
}

/// Cuts the ledger to the scope. Refuses a period the snapshot does not cover (the list could not be complete),
/// an empty period, filters that name nothing in the snapshot, and a request that selects nothing. The rows
/// returned carry, as their `environment`, the environments their approval deploys into (` | `-separated).
pub fn select(
    snapshot: &Snapshot,
    ledger: &[LedgerRow],
    scope: &EvidenceScope,
) -> Result<(Vec<LedgerRow>, Completeness), EvidenceError> {
    if scope.period.since >= scope.period.until {
        return Err(EvidenceError::EmptyPeriod {
            since: scope.period.since,
            until: scope.period.until,
        });
    }
    if scope.period.since < snapshot.period.since || scope.period.until > snapshot.period.until {
        return Err(EvidenceError::OutsideSnapshot {
            requested_since: scope.period.since,
            requested_until: scope.period.until,
            since: snapshot.period.since,
            until: snapshot.period.until,
        });
    }
    for account in &scope.accounts {
        if !snapshot
            .accounts
            .iter()
            .any(|a| &a.account_id == account || &a.name == account)
        {
            return Err(EvidenceError::UnknownAccount(account.clone()));
        }
    }
    let pipelines: BTreeSet<&str> = snapshot
        .accounts
        .iter()
        .flat_map(|a| a.pipelines.iter().map(|p| p.name.as_str()))
        .chain(ledger.iter().map(|r| r.pipeline.as_str()))
        .collect();
    for pattern in &scope.pipelines {
        if !pipelines.iter().any(|p| WildMatch::new(pattern).matches(p)) {
            return Err(EvidenceError::UnknownPipeline {
                pattern: pattern.clone(),
                known: pipelines.iter().copied().collect::<Vec<_>>().join(", "),
            });
        }
    }
    let deployed_to = environments_deployed_to(snapshot);
    for environment in &scope.environments {
        if !deployed_to.contains(&environment.to_lowercase()) {
            return Err(EvidenceError::UnknownEnvironment {
                asked: environment.clone(),
                known: deployed_to.iter().cloned().collect::<Vec<_>>().join(", "),
            });
        }
    }
    let mut in_period = 0;
    let mut undetermined = 0;
    let mut rows = Vec::new();
    for row in ledger.iter().filter(|r| scope.period.contains(r.time)) {
        in_period += 1;
        if !scope.matches_account_and_pipeline(row) {
            continue;
        }
        let environments = deployed_environments(snapshot, row);
        if environments.is_empty() {
            undetermined += 1;
        }
        if scope.matches_environment(&environments) {
            let mut row = row.clone();
            row.environment = environments.join(" | ");
            rows.push(row);
        }
    }
    if rows.is_empty() {
        return Err(EvidenceError::NothingSelected {
            scope: scope.describe(),
            in_period,
            undetermined,
        });
    }
    // Any incomplete account in the account scope may hide approvals of the environments asked for: a pipeline
    // that could not be read deploys who knows where.
    let incomplete_accounts = snapshot
        .accounts
        .iter()
        .filter(|a| !a.is_complete())
        .filter(|a| {
            scope.accounts.is_empty()
                || scope
                    .accounts
                    .iter()
                    .any(|s| s == &a.account_id || s == &a.name)
        })
        .map(|a| format!("{} ({})", a.account_id, a.name))
        .collect();
    let completeness = Completeness {
        incomplete_accounts,
        rows: rows.len(),
        without_record: rows
            .iter()
            .filter(|r| r.record_key.is_none() && !r.status.starts_with("failed"))
            .count(),
        unattributed: rows.iter().filter(|r| r.execution_id.is_none()).count(),
        undetermined_environment: undetermined,
    };
    Ok((rows, completeness))
}

/// The production changes in scope: deployed in the period, in the accounts and pipelines asked for, into the
/// environments asked for (environments are where the change was deployed).
pub fn select_changes(
    snapshot: &Snapshot,
    changes: &[crate::analysis::changes::Change],
    scope: &EvidenceScope,
) -> Vec<crate::analysis::changes::Change> {
    changes
        .iter()
        .filter(|c| {
            c.deployed_at
                .or(c.started_at)
                .is_some_and(|t| scope.period.contains(t))
        })
        .filter(|c| {
            scope.accounts.is_empty()
                || scope.accounts.iter().any(|a| {
                    a == &c.account_id
                        || snapshot
                            .account(&c.account_id)
                            .is_some_and(|s| &s.name == a)
                })
        })
        .filter(|c| {
            scope.pipelines.is_empty()
                || scope
                    .pipelines
                    .iter()
                    .any(|p| WildMatch::new(p).matches(&c.pipeline))
        })
        .filter(|c| {
            let deployed: Vec<String> = c
                .deployed_into
                .iter()
                .filter_map(|id| snapshot.account(id).map(|a| a.environment.clone()))
                .collect();
            scope.matches_environment(&deployed)
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0)
            .single()
            .unwrap_or_else(Utc::now)
    }

    fn row(day: u32, pipeline: &str, stage: &str, action: &str) -> LedgerRow {
        LedgerRow {
            account_id: "111111111111".into(),
            account_name: "cicd".into(),
            environment: "cicd".into(),
            region: "us-east-1".into(),
            pipeline: pipeline.into(),
            execution_id: Some("e".into()),
            stage: stage.into(),
            action: action.into(),
            approver_recorded: "arn".into(),
            person: "p".into(),
            person_name: "p".into(),
            normalisation: "r".into(),
            time: at(day),
            status: "Approved".into(),
            summary: "why".into(),
            event_id: format!("ev{day}"),
            record_key: None,
            execution_verdict: "compliant".into(),
        }
    }

    fn deploy_into(account: &str) -> serde_json::Value {
        let env = serde_json::json!([{"name": "ASSUME_ROLE_ARN", "type": "PLAINTEXT",
            "value": format!("arn:aws:iam::{account}:role/CICDCrossAccountRole")}]);
        serde_json::json!({"name": "Deploy", "category": "Build", "owner": "AWS", "provider": "CodeBuild",
            "run_order": 1, "configuration": {"EnvironmentVariables": env.to_string()}})
    }

    fn approval(name: &str) -> serde_json::Value {
        serde_json::json!({"name": name, "category": "Approval", "owner": "AWS", "provider": "Manual",
            "run_order": 1, "configuration": {}})
    }

    /// The CI/CD account's webapp pipeline gates test (TestGate) and prod (ProdGate); dev is incomplete.
    fn snapshot() -> Snapshot {
        let account = |id: &str, name: &str, failed: bool, pipelines: serde_json::Value| {
            serde_json::json!({"account_id": id, "name": name, "environment": name, "role_arn": null,
                "steps": [{"step": "sts:AssumeRole", "status": if failed {"failed"} else {"ok"}, "items": 0}],
                "iam": null, "trails": [], "pipelines": pipelines, "approval_events": [], "approval_records": []})
        };
        let webapp = serde_json::json!([{"name": "webapp", "region": "us-east-1", "account_id": "111111111111",
            "version": 1, "role_arn": "r", "executions": [], "action_executions": [], "stages": [
                {"name": "TestGate", "actions": [approval("TestApproval")]},
                {"name": "DeployTest", "actions": [deploy_into("333333333333")]},
                {"name": "ProdGate", "actions": [approval("ApprovalA"), approval("ApprovalB")]},
                {"name": "DeployProd", "actions": [deploy_into("444444444444")]}]}]);
        serde_json::from_value(serde_json::json!({
            "schema_version": crate::model::SCHEMA_VERSION, "tool_version": "t", "run_id": "r", "organisation": "o",
            "collected_at": "2026-04-01T00:00:00Z",
            "period": {"since": "2026-01-01T00:00:00Z", "until": "2026-04-01T00:00:00Z"},
            "cicd_account": "111111111111", "regions": [], "rule_set": "default",
            "accounts": [
                account("111111111111", "cicd", false, webapp),
                account("222222222222", "dev", true, serde_json::json!([])),
                account("333333333333", "test", false, serde_json::json!([])),
                account("444444444444", "prod", false, serde_json::json!([])),
            ]
        }))
        .expect("snapshot")
    }

    fn ledger() -> Vec<LedgerRow> {
        vec![
            row(2, "webapp", "ProdGate", "ApprovalA"),
            row(3, "webapp", "TestGate", "TestApproval"),
            row(20, "webapp", "ProdGate", "ApprovalB"),
            row(4, "gone", "ProdGate", "ApprovalA"),
        ]
    }

    fn scope(days: (u32, u32), environments: &[&str], pipelines: &[&str]) -> EvidenceScope {
        EvidenceScope {
            period: Period {
                since: at(days.0),
                until: at(days.1),
            },
            accounts: vec![],
            pipelines: pipelines.iter().map(|p| (*p).to_owned()).collect(),
            environments: environments.iter().map(|e| (*e).to_owned()).collect(),
        }
    }

    #[test]
    fn environments_are_where_the_approval_deploys_not_where_it_was_given() {
        let (rows, completeness) = select(
            &snapshot(),
            &ledger(),
            &scope((1, 10), &["PROD"], &["web*"]),
        )
        .expect("selected");
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(
            (rows[0].event_id.as_str(), rows[0].environment.as_str()),
            ("ev2", "prod")
        );
        assert_eq!(completeness.without_record, 1);
        assert_eq!(
            completeness.incomplete_accounts,
            vec!["222222222222 (dev)".to_owned()],
            "an incomplete account may hold pipelines deploying into prod"
        );
        let (rows, completeness) =
            select(&snapshot(), &ledger(), &scope((1, 10), &["test"], &[])).expect("selected");
        assert_eq!(
            rows.iter().map(|r| r.event_id.as_str()).collect::<Vec<_>>(),
            vec!["ev3"]
        );
        assert_eq!(
            completeness.undetermined_environment, 1,
            "the approval of a pipeline the snapshot lacks cannot be placed"
        );
        let (rows, _) = select(&snapshot(), &ledger(), &scope((1, 10), &[], &[])).expect("all");
        assert_eq!(rows.len(), 3);
    }

    #[test]
    fn a_request_that_selects_nothing_or_names_nothing_is_an_error() {
        // The approving account's own label is not where anything deploys.
        let err =
            select(&snapshot(), &ledger(), &scope((1, 10), &["cicd"], &[])).expect_err("cicd");
        assert!(
            err.is_usage() && err.to_string().contains("prod, test"),
            "{err}"
        );
        let err = select(&snapshot(), &ledger(), &scope((1, 10), &[], &["nomatch*"]))
            .expect_err("pipeline");
        assert!(err.is_usage(), "{err}");
        let err =
            select(&snapshot(), &ledger(), &scope((5, 10), &["prod"], &[])).expect_err("nothing");
        assert!(
            !err.is_usage() && err.to_string().contains("selects no approval"),
            "{err}"
        );
        let err = select(&snapshot(), &ledger(), &scope((10, 10), &[], &[])).expect_err("empty");
        assert!(err.is_usage() && err.to_string().contains("empty"), "{err}");
        let err = select(&snapshot(), &ledger(), &scope((10, 2), &[], &[])).expect_err("reversed");
        assert!(err.is_usage(), "{err}");
    }

    #[test]
    fn a_period_beyond_the_snapshot_is_refused() {
        let err = select(
            &snapshot(),
            &[],
            &EvidenceScope {
                period: Period {
                    since: at(1),
                    until: at(1) + chrono::Duration::days(60),
                },
                ..scope((1, 2), &[], &[])
            },
        )
        .expect_err("outside")
        .to_string();
        assert!(err.contains("not inside the snapshot's period"), "{err}");
        let unknown = EvidenceScope {
            accounts: vec!["999999999999".into()],
            ..scope((1, 2), &[], &[])
        };
        assert!(select(&snapshot(), &[], &unknown).is_err_and(|e| e.is_usage()));
    }
}
