//! The approval ledger (every PutApprovalResult, as recorded and as a person) and the production changes
//! (every execution that deployed into production, with its approvals and verdict). Renders only.

use super::layout::*;
use crate::report::LedgerRow;

pub(super) fn ledger(l: &mut Layout, rows: &[LedgerRow]) {
    l.new_page();
    l.bookmark("Approval ledger");
    l.heading1("3. Approval ledger");
    l.paragraph(
        &format!(
            "{} approval action(s) recorded by CloudTrail (PutApprovalResult), as recorded and as normalised to a \
             person. Times are UTC. Execution ids are shortened; the full values are in approvals.csv.",
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
    // Weights are about the widths in points of a 505 pt wide page body.
    let cols = Table::new(&[
        ("time (UTC)", 44.0, 2),
        ("account", 57.0, 4),
        ("pipeline", 56.0, 3),
        ("execution", 45.0, 1),
        ("stage / action", 56.0, 3),
        ("approver as recorded", 88.0, 4),
        ("person", 54.0, 3),
        ("status", 44.0, 2),
        ("summary", 61.0, 4),
    ])
    .condensed();
    l.table_start(&cols);
    for (i, r) in rows.iter().enumerate() {
        let account = if r.account_name.is_empty() {
            vec![r.account_id.clone()]
        } else {
            vec![r.account_name.clone(), r.account_id.clone()]
        };
        let status_style = if r.status.eq_ignore_ascii_case("Approved") {
            CELL_STYLE.colour(GREEN)
        } else if r.status.eq_ignore_ascii_case("Rejected") {
            CELL_STYLE.colour(AMBER)
        } else {
            CELL_STYLE.colour(RED)
        };
        l.table_row(
            &cols,
            &[
                Cell::lines(vec![
                    r.time.format("%Y-%m-%d").to_string(),
                    r.time.format("%H:%M:%SZ").to_string(),
                ]),
                Cell::lines(account),
                Cell::plain(r.pipeline.clone()),
                Cell::plain(
                    r.execution_id
                        .as_deref()
                        .map_or_else(|| "—".to_owned(), |e| shorten(e, 8)),
                ),
                Cell::plain(format!("{} / {}", r.stage, r.action)),
                Cell::keep_end(r.approver_recorded.clone()),
                Cell::plain(r.person.clone()),
                Cell::styled(r.status.clone(), status_style),
                Cell::plain(r.summary.clone()),
            ],
            i,
        );
    }
    l.table_end(&cols);
}

/// The change population: every production deployment of the period, its approvals and its verdict.
pub(super) fn changes(l: &mut Layout, changes: &[crate::analysis::changes::Change]) {
    l.new_page();
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
    let cols = Table::new(&[
        ("execution", 60.0, 3),
        ("version / started by", 70.0, 4),
        ("approvals", 140.0, 8),
        ("deployed", 70.0, 4),
        ("verdict", 125.0, 8),
    ])
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
                Cell::lines(vec![c.pipeline.clone(), shorten(&c.execution_id, 8)]),
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
