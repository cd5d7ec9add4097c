//! The approval ledger (every PutApprovalResult, as recorded and as a person) and the production changes
//! (every execution that deployed into production, with its approvals and verdict). Renders only.

use super::layout::*;
use super::volumes::Volume;
use crate::report::LedgerRow;

/// The ledger, on landscape pages: every field of `csv_name` (approvals.csv, or evidence.csv for an evidence
/// request) is in the table, whole, so the PDF alone answers "who approved what, when, why, with what record".
/// With `volumes`, the rows are in those files (one PDF per volume) and the section lists them with their hashes.
pub(super) fn ledger(l: &mut Layout, rows: &[LedgerRow], csv_name: &str, volumes: &[Volume]) {
    l.new_page_in(Orientation::Landscape);
    l.bookmark("Approval ledger");
    l.heading1("3. Approval ledger");
    let without_record = rows.iter().filter(|r| r.record_key.is_none()).count();
    l.paragraph(
        &format!(
            "{} approval action(s) recorded by CloudTrail (PutApprovalResult), as recorded and as normalised to a \
             person; {without_record} without an approval record in S3. Times are UTC. Every field of {csv_name} \
             is shown here in full: the person column gives the person's name, the key the audit compares and the \
             rule that normalised the identity; the verdict is that of the execution in the production-changes \
             table (section 4).",
            rows.len()
        ),
        BODY_STYLE.colour(GREY),
    );
    l.gap(4.0);
    if rows.is_empty() {
        l.paragraph(
            "No approvals were recorded in the audit period.",
            BODY_STYLE,
        );
        return;
    }
    if !volumes.is_empty() {
        volume_list(l, volumes, "approval", csv_name);
        return;
    }
    ledger_table(l, rows);
}

/// The list of a section's volumes: file, rows, period and SHA-256 of each.
fn volume_list(l: &mut Layout, volumes: &[Volume], what: &str, csv_name: &str) {
    l.paragraph(
        &format!(
            "The {what} rows are too many for one document: they are in {} volumes beside this report, each a PDF of \
             at most {} rows in the same order and with the same columns. Each volume's SHA-256 is below and in \
             manifest.json; {csv_name} holds every row in one file.",
            volumes.len(),
            volumes.iter().map(|v| v.last - v.first + 1).max().unwrap_or(0)
        ),
        BODY_STYLE,
    );
    l.gap(4.0);
    let cols = Table::new(
        Orientation::Landscape,
        &[
            ("volume", 130.0),
            ("rows", 70.0),
            ("first / last time (UTC)", 120.0),
            ("size", 50.0),
            ("SHA-256", 392.0),
        ],
    );
    l.table_start(&cols);
    for (i, v) in volumes.iter().enumerate() {
        l.table_row(
            &cols,
            &[
                Cell::plain(v.file.clone()),
                Cell::plain(format!("{}–{}", v.first, v.last)),
                Cell::lines(vec![
                    v.from.map(iso).unwrap_or_else(|| "-".into()),
                    v.to.map(iso).unwrap_or_else(|| "-".into()),
                ]),
                Cell::plain(format!("{:.1} MB", v.size as f64 / 1e6)),
                Cell::plain(v.sha256.clone()),
            ],
            i,
        );
    }
    l.table_end(&cols);
}

/// The ledger's rows as a table (a whole section, or one volume of it).
pub(super) fn ledger_table(l: &mut Layout, rows: &[LedgerRow]) {
    let cols = Table::new(
        Orientation::Landscape,
        &[
            ("time (UTC)", 46.0),
            ("account", 64.0),
            ("pipeline / execution", 90.0),
            ("stage / action", 60.0),
            ("approver as recorded", 108.0),
            ("person (name, key, rule)", 96.0),
            ("status / event id", 62.0),
            ("summary", 84.0),
            ("S3 record", 80.0),
            ("execution verdict", 72.0),
        ],
    )
    .condensed();
    l.table_start(&cols);
    for (i, r) in rows.iter().enumerate() {
        let mut account = Vec::new();
        if !r.account_name.is_empty() {
            account.push(r.account_name.clone());
        }
        account.push(r.account_id.clone());
        account.extend([r.environment.clone(), r.region.clone()]);
        account.retain(|p| !p.is_empty());
        let status_style = if r.status.eq_ignore_ascii_case("Approved") {
            CELL_STYLE.colour(GREEN)
        } else if r.status.eq_ignore_ascii_case("Rejected") {
            CELL_STYLE.colour(AMBER)
        } else {
            CELL_STYLE.colour(RED)
        };
        let record = match &r.record_key {
            Some(key) => Cell::plain(key.clone()),
            None => Cell::styled("missing", CELL_STYLE.bold().colour(RED)),
        };
        let verdict_style = if r.execution_verdict == "compliant" {
            CELL_STYLE.colour(GREEN)
        } else if r.execution_verdict.starts_with("not compliant") {
            CELL_STYLE.colour(RED)
        } else {
            CELL_STYLE.colour(GREY)
        };
        let mut person = vec![r.person_name.clone()];
        if r.person != r.person_name {
            person.push(r.person.clone());
        }
        person.push(format!("({})", r.normalisation));
        l.table_row(
            &cols,
            &[
                Cell::lines(vec![
                    r.time.format("%Y-%m-%d").to_string(),
                    r.time.format("%H:%M:%SZ").to_string(),
                ]),
                Cell::lines(account),
                Cell::lines(vec![
                    r.pipeline.clone(),
                    r.execution_id
                        .clone()
                        .unwrap_or_else(|| "no execution".to_owned()),
                ]),
                Cell::lines(vec![r.stage.clone(), r.action.clone()]),
                Cell::plain(r.approver_recorded.clone()),
                Cell::lines(person),
                Cell {
                    parts: vec![r.status.clone(), r.event_id.clone()],
                    style: status_style,
                },
                Cell::plain(r.summary.clone()),
                record,
                Cell::styled(r.execution_verdict.clone(), verdict_style),
            ],
            i,
        );
    }
    l.table_end(&cols);
}

/// The change population: every production deployment of the period, its approvals and its verdict. With
/// `volumes`, the rows are in those files and the section lists them.
pub(super) fn changes(
    l: &mut Layout,
    changes: &[crate::analysis::changes::Change],
    volumes: &[Volume],
) {
    l.new_page_in(Orientation::Landscape);
    l.bookmark("Production changes");
    l.heading1("4. Production changes");
    let compliant = changes.iter().filter(|c| c.compliant()).count();
    l.paragraph(
        &format!(
            "{} execution(s) of the period ran a deploy action into a production account: {compliant} compliant, {} \
             not. Each row names the pipeline version the execution ran, who started it, every approval of the gate \
             before production in that version (CloudTrail and updatedBy must agree), and why a change is not \
             compliant. This is the population to sample (SOC 2 CC8.1); changes.csv has every field.",
            changes.len(),
            changes.len() - compliant
        ),
        BODY_STYLE.colour(GREY),
    );
    l.gap(4.0);
    if changes.is_empty() {
        l.paragraph(
            "No execution deployed into a production account in the audit period.",
            BODY_STYLE,
        );
        return;
    }
    if !volumes.is_empty() {
        volume_list(l, volumes, "production-change", "changes.csv");
        return;
    }
    changes_table(l, changes);
}

/// The production changes as a table (a whole section, or one volume of it).
pub(super) fn changes_table(l: &mut Layout, changes: &[crate::analysis::changes::Change]) {
    let cols = Table::new(
        Orientation::Landscape,
        &[
            ("pipeline / execution", 100.0),
            ("version / started by", 100.0),
            ("approvals", 200.0),
            ("deployed", 110.0),
            ("verdict", 200.0),
        ],
    )
    .condensed();
    l.table_start(&cols);
    for (i, c) in changes.iter().enumerate() {
        let approvals: Vec<String> = c
            .approvals
            .iter()
            .map(|a| {
                format!(
                    "{}: {} by {}",
                    a.action,
                    a.status,
                    a.cloudtrail_name
                        .as_deref()
                        .or(a.person())
                        .unwrap_or("nobody")
                )
            })
            .collect();
        let verdict = if c.compliant() {
            Cell::styled("compliant", CELL_STYLE.colour(GREEN))
        } else {
            Cell::styled(
                c.violations
                    .iter()
                    .map(|(_, why)| why.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
                CELL_STYLE.colour(RED),
            )
        };
        l.table_row(
            &cols,
            &[
                Cell::lines(vec![c.pipeline.clone(), c.execution_id.clone()]),
                Cell::lines(vec![
                    format!(
                        "v{}",
                        c.pipeline_version
                            .map(|v| v.to_string())
                            .unwrap_or_else(|| "?".into())
                    ),
                    c.started_by.clone().unwrap_or_else(|| c.trigger.clone()),
                ]),
                Cell::lines(if approvals.is_empty() {
                    vec!["none".to_owned()]
                } else {
                    approvals
                }),
                Cell::lines(vec![
                    c.deployed_into.join(", "),
                    c.deployed_at.map(iso).unwrap_or_default(),
                    c.deploy_result.clone(),
                ]),
                verdict,
            ],
            i,
        );
    }
    l.table_end(&cols);
}
