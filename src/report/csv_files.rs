//! CSV reports: findings.csv, approvals.csv (the ledger) and accounts.csv (what was collected from each account).
//!
//! RFC 4180, UTF-8, ISO 8601 UTC times, fixed column order (documented in the README). Control and invisible
//! format characters in any cell are written as visible escapes (`\n`, `\0`, `\u{202E}`: see `report::text`), so
//! a name can neither add a row for line-based readers nor hide; cells that a spreadsheet would run as a formula
//! (starting with `=`, `+`, `-`, `@`) are prefixed with `'`.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use super::{ApproverRow, LedgerRow, ReportError, ReportInput, WriteGrantRow};
use crate::model::Snapshot;

pub const FINDINGS_COLUMNS: &[&str] = &[
    "check_id",
    "severity",
    "account_id",
    "subject",
    "principal",
    "message",
    "evidence",
    "waived",
    "waiver_reason",
    "waiver_expires",
];
pub const LEDGER_COLUMNS: &[&str] = &[
    "account_id",
    "account_name",
    "environment",
    "region",
    "pipeline",
    "execution_id",
    "stage",
    "action",
    "approver_recorded",
    "person",
    "person_name",
    "normalisation",
    "time",
    "status",
    "summary",
    "event_id",
    "record",
    "execution_verdict",
];
pub const ACCOUNTS_COLUMNS: &[&str] = &[
    "account_id",
    "name",
    "environment",
    "environment_rule",
    "ou_path",
    "org_status",
    "audited",
    "role_arn",
    "complete",
    "step",
    "region",
    "status",
    "items",
    "error",
];

pub const APPROVERS_COLUMNS: &[&str] = &[
    "account_id",
    "pipeline",
    "stage",
    "action",
    "action_arn",
    "row_kind",
    "principal",
    "principal_type",
    "name",
    "acts_as",
    "route",
    "answer",
    "via_groups",
    "statements",
    "conditions",
];
pub const WRITE_GRANTS_COLUMNS: &[&str] = &[
    "account_id",
    "principal",
    "principal_type",
    "action",
    "access_level",
    "answer",
    "exemption",
    "statements",
    "grants",
];

/// Shows control characters visibly and neutralises spreadsheet formula injection.
pub fn safe_cell(value: &str) -> String {
    safe(value).into_owned()
}

/// `safe_cell` without copying a value that needs no change (most of them).
fn safe(value: &str) -> Cow<'_, str> {
    let value = super::text::visible(value);
    match value.chars().next() {
        Some('=' | '+' | '-' | '@') => Cow::Owned(format!("'{value}")),
        _ => value,
    }
}

/// Writes `rows` one at a time (never all rows' cells at once); a row's cells are borrowed where they can be.
fn write_rows<I, R>(path: &Path, header: &[&str], rows: I) -> Result<PathBuf, ReportError>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator,
    R::Item: AsRef<str>,
{
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_path(path)
        .map_err(|e| ReportError::format(path, e))?;
    writer
        .write_record(header)
        .map_err(|e| ReportError::format(path, e))?;
    for row in rows {
        for cell in row {
            writer
                .write_field(safe(cell.as_ref()).as_bytes())
                .map_err(|e| ReportError::format(path, e))?;
        }
        writer
            .write_record(std::iter::empty::<&[u8]>())
            .map_err(|e| ReportError::format(path, e))?;
    }
    writer.flush().map_err(|e| ReportError::io(path, e))?;
    Ok(path.to_path_buf())
}

pub fn write_findings(input: &ReportInput, path: &Path) -> Result<PathBuf, ReportError> {
    let rows = input.findings.iter().map(|f| {
        let evidence = f
            .evidence
            .iter()
            .map(|e| {
                if e.detail.is_empty() {
                    format!("{}:{}", e.kind, e.reference)
                } else {
                    format!("{}:{} ({})", e.kind, e.reference, e.detail)
                }
            })
            .collect::<Vec<_>>()
            .join(" | ");
        vec![
            f.check_id.clone(),
            f.severity.to_string(),
            f.account_id.clone(),
            f.subject.clone(),
            f.principal.clone().unwrap_or_default(),
            f.message.clone(),
            evidence,
            f.is_waived().to_string(),
            f.waiver
                .as_ref()
                .map(|w| w.reason.clone())
                .unwrap_or_default(),
            f.waiver
                .as_ref()
                .map(|w| w.expires.clone())
                .unwrap_or_default(),
        ]
    });
    write_rows(path, FINDINGS_COLUMNS, rows)
}

pub fn write_ledger(ledger: &[LedgerRow], path: &Path) -> Result<PathBuf, ReportError> {
    let rows = ledger.iter().map(|r| -> [Cow<'_, str>; 18] {
        [
            r.account_id.as_str().into(),
            r.account_name.as_str().into(),
            r.environment.as_str().into(),
            r.region.as_str().into(),
            r.pipeline.as_str().into(),
            r.execution_id.as_deref().unwrap_or_default().into(),
            r.stage.as_str().into(),
            r.action.as_str().into(),
            r.approver_recorded.as_str().into(),
            r.person.as_str().into(),
            r.person_name.as_str().into(),
            r.normalisation.as_str().into(),
            r.time.format("%Y-%m-%dT%H:%M:%SZ").to_string().into(),
            r.status.as_str().into(),
            r.summary.as_str().into(),
            r.event_id.as_str().into(),
            r.record_key.as_deref().unwrap_or_default().into(),
            r.execution_verdict.as_str().into(),
        ]
    });
    write_rows(path, LEDGER_COLUMNS, rows)
}

pub const CHANGES_COLUMNS: &[&str] = &[
    "account_id",
    "pipeline",
    "region",
    "execution_id",
    "pipeline_version",
    "execution_status",
    "started_at",
    "trigger",
    "started_by",
    "source_revisions",
    "deploy_stage",
    "deployed_into",
    "deployed_at",
    "deploy_result",
    "approvals",
    "compliant",
    "why_not",
];

/// changes.csv: the change population, one row per production deployment of the period.
pub fn write_changes(
    changes: &[crate::analysis::changes::Change],
    path: &Path,
) -> Result<PathBuf, ReportError> {
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    };
    let rows = changes.iter().map(|c| {
        let approvals: Vec<String> = c
            .approvals
            .iter()
            .map(|a| {
                format!(
                    "{}/{}: {} by {} (CloudTrail: {}; updatedBy: {}) at {}",
                    a.stage,
                    a.action,
                    a.status,
                    a.cloudtrail_name
                        .as_deref()
                        .or(a.person())
                        .unwrap_or("nobody"),
                    a.cloudtrail_person.as_deref().unwrap_or("none"),
                    a.updated_by.as_deref().unwrap_or("none"),
                    time(a.decided_at)
                )
            })
            .collect();
        vec![
            c.account_id.clone(),
            c.pipeline.clone(),
            c.region.clone(),
            c.execution_id.clone(),
            c.pipeline_version
                .map(|v| v.to_string())
                .unwrap_or_default(),
            c.status.clone(),
            time(c.started_at),
            c.trigger.clone(),
            c.started_by.clone().unwrap_or_default(),
            c.source_revisions.join(" | "),
            c.deploy_stage.clone(),
            c.deployed_into.join(" | "),
            time(c.deployed_at),
            c.deploy_result.clone(),
            approvals.join(" | "),
            c.compliant().to_string(),
            c.violations
                .iter()
                .map(|(_, why)| why.as_str())
                .collect::<Vec<_>>()
                .join(" | "),
        ]
    });
    write_rows(path, CHANGES_COLUMNS, rows)
}

pub fn write_approvers(rows: &[ApproverRow], path: &Path) -> Result<PathBuf, ReportError> {
    let rows = rows.iter().map(|r| {
        vec![
            r.account_id.clone(),
            r.pipeline.clone(),
            r.stage.clone(),
            r.action.clone(),
            r.action_arn.clone(),
            r.row_kind.clone(),
            r.principal.clone(),
            r.principal_type.clone(),
            r.name.clone(),
            r.acts_as.clone(),
            r.route.clone(),
            r.answer.clone(),
            r.via_groups.join(" | "),
            r.statements.join(" | "),
            r.conditions.join(" | "),
        ]
    });
    write_rows(path, APPROVERS_COLUMNS, rows)
}

pub fn write_write_grants(rows: &[WriteGrantRow], path: &Path) -> Result<PathBuf, ReportError> {
    let rows = rows.iter().map(|r| {
        vec![
            r.account_id.clone(),
            r.principal.clone(),
            r.principal_type.clone(),
            r.action.clone(),
            r.access_level.clone(),
            r.answer.clone(),
            r.exemption.clone(),
            r.statements.join(" | "),
            r.grants.to_string(),
        ]
    });
    write_rows(path, WRITE_GRANTS_COLUMNS, rows)
}

pub fn write_accounts(snapshot: &Snapshot, path: &Path) -> Result<PathBuf, ReportError> {
    let org = snapshot.organization.as_ref();
    let org_status = |id: &str| {
        org.and_then(|o| o.account(id))
            .map(|a| a.status.clone())
            .unwrap_or_else(|| {
                if org.is_some() {
                    "not in the organisation".to_owned()
                } else {
                    String::new()
                }
            })
    };
    let audited = snapshot.accounts.iter().flat_map(|a| {
        a.steps.iter().map(move |s| {
            vec![
                a.account_id.clone(),
                a.name.clone(),
                a.environment.clone(),
                a.environment_rule.clone(),
                a.ou_path.clone().unwrap_or_default(),
                org_status(&a.account_id),
                "true".to_owned(),
                a.role_arn.clone().unwrap_or_default(),
                a.is_complete().to_string(),
                s.step.clone(),
                s.region.clone().unwrap_or_default(),
                format!("{:?}", s.status).to_lowercase(),
                s.items.to_string(),
                s.error.clone().unwrap_or_default(),
            ]
        })
    });
    // Accounts of the organisation that were not audited (suspended, closed): listed, with why.
    let skipped = org
        .into_iter()
        .flat_map(|o| o.accounts.iter())
        .filter(|a| !snapshot.accounts.iter().any(|s| s.account_id == a.id))
        .map(|a| {
            vec![
                a.id.clone(),
                a.name.clone(),
                a.environment.clone(),
                a.environment_rule.clone(),
                a.ou_path.clone(),
                a.status.clone(),
                "false".to_owned(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                format!("not audited: the account is {}", a.status.to_lowercase()),
            ]
        });
    // The organisation-wide reads (Organizations, Identity Center) are steps too.
    let global = org
        .into_iter()
        .flat_map(|o| {
            o.steps
                .iter()
                .map(move |s| ("organization", o.read_from.as_str(), s))
        })
        .chain(snapshot.identity_center.iter().flat_map(|i| {
            i.steps
                .iter()
                .map(move |s| ("identity-center", i.read_from.as_str(), s))
        }))
        .map(|(part, account, s)| {
            vec![
                account.to_owned(),
                part.to_owned(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                (s.status != crate::model::StepStatus::Failed).to_string(),
                s.step.clone(),
                s.region.clone().unwrap_or_default(),
                format!("{:?}", s.status).to_lowercase(),
                s.items.to_string(),
                s.error.clone().unwrap_or_default(),
            ]
        });
    let rows = audited.chain(skipped).chain(global);
    write_rows(path, ACCOUNTS_COLUMNS, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(safe_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe_cell("+1"), "'+1");
        assert_eq!(safe_cell("-2"), "'-2");
        assert_eq!(safe_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe_cell("arn:aws:iam::1:user/a"), "arn:aws:iam::1:user/a");
    }

    #[test]
    fn hostile_names_cannot_add_rows_or_hide_in_any_csv() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("write-access.csv");
        let hostile = "mal\0lory\nFORGED,row\r\n\tx\u{202E}txt.exe\u{1}\u{9b}";
        let row = WriteGrantRow {
            account_id: "444444444444".into(),
            principal: format!("arn:aws:iam::444444444444:user/{hostile}"),
            principal_type: "user".into(),
            action: "s3:PutObject".into(),
            access_level: "Write".into(),
            answer: "yes".into(),
            exemption: String::new(),
            statements: vec![hostile.into()],
            grants: 1,
        };
        write_write_grants(&[row], &path).expect("written");
        let bytes = std::fs::read(&path).expect("read");
        assert!(!bytes.contains(&0), "no NUL byte reaches the file");
        let text = String::from_utf8(bytes).expect("utf-8");
        assert_eq!(text.lines().count(), 2, "header and one row: {text:?}");
        assert!(!text.contains('\u{202E}') && !text.contains('\u{1}') && !text.contains('\u{9b}'));
        assert!(
            text.contains("mal\\0lory\\nFORGED,row\\r\\n\\tx\\u{202E}txt.exe\\u{0001}\\u{009B}"),
            "{text}"
        );
    }

    #[test]
    fn ledger_round_trips_through_a_csv_reader() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("approvals.csv");
        let row = LedgerRow {
            account_id: "111111111111".into(),
            account_name: "cicd".into(),
            environment: "cicd".into(),
            region: "us-east-1".into(),
            pipeline: "webapp".into(),
            execution_id: Some("e-1".into()),
            stage: "ProdGate".into(),
            action: "ApprovalA".into(),
            approver_recorded: "arn:aws:iam::111111111111:user/zoë".into(),
            person: "arn:aws:iam::111111111111:user/zoë".into(),
            person_name: "zoë".into(),
            normalisation: "IAM user ARN".into(),
            time: chrono::DateTime::parse_from_rfc3339("2026-11-02T10:05:00Z")
                .expect("time")
                .with_timezone(&chrono::Utc),
            status: "Approved".into(),
            summary: "=cmd|' /C calc'!A0, and \"quotes\"\nnew line".into(),
            event_id: "ev-1".into(),
            record_key: None,
            execution_verdict: "compliant".into(),
        };
        write_ledger(&[row], &path).expect("written");
        let mut reader = csv::Reader::from_path(&path).expect("readable");
        let header: Vec<String> = reader
            .headers()
            .expect("header")
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(header, LEDGER_COLUMNS);
        let records: Vec<csv::StringRecord> =
            reader.records().collect::<Result<_, _>>().expect("rows");
        assert_eq!(records.len(), 1);
        assert_eq!(&records[0][8], "arn:aws:iam::111111111111:user/zoë");
        let col = |name: &str| {
            LEDGER_COLUMNS
                .iter()
                .position(|c| *c == name)
                .expect("column")
        };
        assert_eq!(&records[0][col("person_name")], "zoë");
        assert_eq!(&records[0][col("time")], "2026-11-02T10:05:00Z");
        let summary = &records[0][col("summary")];
        assert!(summary.starts_with("'=cmd"), "{summary}");
        assert!(
            summary.contains("\"quotes\"\\nnew line"),
            "a newline in a value is shown, not written: {summary}"
        );
    }
}
