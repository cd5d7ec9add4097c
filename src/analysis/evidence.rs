//! Evidence requests: the approval ledger for exactly the scope an auditor asks for ("every production approval
//! between January and March"), cut from a saved snapshot without re-collecting. Pure.

use chrono::{DateTime, Utc};
use serde::Serialize;
use wildmatch::WildMatch;

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
    #[error("account {0} is not in the snapshot")]
    UnknownAccount(String),
}

/// What the auditor asked for. Empty filters match everything.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceScope {
    pub period: Period,
    pub accounts: Vec<String>,
    /// Pipeline name patterns (`*`, `?`).
    pub pipelines: Vec<String>,
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
            "approvals from {} to {} (exclusive); accounts: {}; pipelines: {}; environments: {}",
            self.period.since.format("%Y-%m-%dT%H:%M:%SZ"),
            self.period.until.format("%Y-%m-%dT%H:%M:%SZ"),
            list(&self.accounts),
            list(&self.pipelines),
            list(&self.environments)
        )
    }

    fn matches(&self, row: &LedgerRow) -> bool {
        self.period.contains(row.time)
            && (self.accounts.is_empty()
                || self
                    .accounts
                    .iter()
                    .any(|a| a == &row.account_id || a == &row.account_name))
            && (self.pipelines.is_empty()
                || self
                    .pipelines
                    .iter()
                    .any(|p| WildMatch::new(p).matches(&row.pipeline)))
            && (self.environments.is_empty()
                || self
                    .environments
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(&row.environment)))
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
}

/// Cuts the ledger to the scope. Refuses a period the snapshot does not cover, since the list could not be complete.
pub fn select(
    snapshot: &Snapshot,
    ledger: &[LedgerRow],
    scope: &EvidenceScope,
) -> Result<(Vec<LedgerRow>, Completeness), EvidenceError> {
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
    let rows: Vec<LedgerRow> = ledger
        .iter()
        .filter(|r| scope.matches(r))
        .cloned()
        .collect();
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
        .filter(|a| {
            scope.environments.is_empty()
                || scope
                    .environments
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(&a.environment))
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
    };
    Ok((rows, completeness))
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

    fn row(day: u32, account: &str, environment: &str, pipeline: &str) -> LedgerRow {
        LedgerRow {
            account_id: account.into(),
            account_name: format!("n{account}"),
            environment: environment.into(),
            region: "us-east-1".into(),
            pipeline: pipeline.into(),
            execution_id: Some("e".into()),
            stage: "ProdGate".into(),
            action: "ApprovalA".into(),
            approver_recorded: "arn".into(),
            person: "p".into(),
            person_name: "p".into(),
            normalisation: "r".into(),
            time: at(day),
            status: "Approved".into(),
            summary: "why".into(),
            event_id: format!("ev{day}"),
            record_key: None,
        }
    }

    fn snapshot() -> Snapshot {
        serde_json::from_value(serde_json::json!({
            "schema_version": crate::model::SCHEMA_VERSION, "tool_version": "t", "run_id": "r", "organisation": "o",
            "collected_at": "2026-04-01T00:00:00Z",
            "period": {"since": "2026-01-01T00:00:00Z", "until": "2026-04-01T00:00:00Z"},
            "cicd_account": "111111111111", "regions": [], "rule_set": "default",
            "accounts": [
                {"account_id": "111111111111", "name": "cicd", "environment": "prod", "role_arn": null, "steps": [],
                 "iam": null, "trails": [], "pipelines": [], "approval_events": [], "approval_records": []},
                {"account_id": "222222222222", "name": "dev", "environment": "dev", "role_arn": null,
                 "steps": [{"step": "sts:AssumeRole", "status": "failed", "items": 0, "error": "denied"}],
                 "iam": null, "trails": [], "pipelines": [], "approval_events": [], "approval_records": []}
            ]
        }))
        .expect("snapshot")
    }

    #[test]
    fn selects_exactly_the_scope_and_states_completeness() {
        let ledger = vec![
            row(2, "111111111111", "prod", "webapp"),
            row(20, "111111111111", "prod", "infra"),
            row(5, "222222222222", "dev", "webapp"),
        ];
        let scope = EvidenceScope {
            period: Period {
                since: at(1),
                until: at(10),
            },
            accounts: vec![],
            pipelines: vec!["web*".into()],
            environments: vec!["PROD".into()],
        };
        let (rows, completeness) = select(&snapshot(), &ledger, &scope).expect("in scope");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].event_id, "ev2");
        assert_eq!(completeness.without_record, 1);
        assert!(
            completeness.incomplete_accounts.is_empty(),
            "the incomplete dev account is outside the scope"
        );
        let all = EvidenceScope {
            environments: vec![],
            pipelines: vec![],
            ..scope
        };
        let (_, completeness) = select(&snapshot(), &ledger, &all).expect("in scope");
        assert_eq!(
            completeness.incomplete_accounts,
            vec!["222222222222 (dev)".to_owned()]
        );
    }

    #[test]
    fn a_period_beyond_the_snapshot_is_refused() {
        let scope = EvidenceScope {
            period: Period {
                since: at(1),
                until: at(1) + chrono::Duration::days(60),
            },
            accounts: vec![],
            pipelines: vec![],
            environments: vec![],
        };
        let err = select(&snapshot(), &[], &scope)
            .expect_err("outside")
            .to_string();
        assert!(err.contains("not inside the snapshot's period"), "{err}");
        let unknown = EvidenceScope {
            period: Period {
                since: at(1),
                until: at(2),
            },
            accounts: vec!["999999999999".into()],
            pipelines: vec![],
            environments: vec![],
        };
        assert!(select(&snapshot(), &[], &unknown).is_err());
    }
}
