//! The cover page and the executive summary: what was audited, the result at a glance, every check's status,
//! and what could not be collected. Renders only what the report input says.

use super::layout::*;
use super::Context;
use crate::model::{AccountSnapshot, Snapshot, StepStatus};
use crate::report::{CheckStatus, CheckSummary};

pub(super) fn cover(l: &mut Layout, ctx: &Context) {
    let s = ctx.input.snapshot;
    l.bookmark("Cover");
    l.gap(70.0);
    let y = l.y;
    l.fill_rect(MARGIN_X, y - 14.0, 5.0, 58.0, ACCENT);
    l.paragraph_indented(
        "Change-management evidence report",
        Style::new(22.0).bold().colour(ACCENT),
        14.0,
        2,
    );
    l.gap(4.0);
    l.paragraph_indented(&s.organisation, Style::new(14.0), 14.0, 2);
    l.gap(40.0);

    let kv = BODY_STYLE;
    let period = format!(
        "{}  to  {} (UTC; since inclusive, until exclusive)",
        iso(s.period.since),
        iso(s.period.until)
    );
    let mut rule_set = ctx.input.rule_set.clone();
    if !s.rule_set.is_empty() && s.rule_set != ctx.input.rule_set {
        rule_set = format!("{rule_set} (collection configured with {})", s.rule_set);
    }
    let regions = if s.regions.is_empty() {
        "—".to_owned()
    } else {
        s.regions.join(", ")
    };
    l.key_values(
        &[
            ("Organisation", s.organisation.clone()),
            ("Audit period", period),
            ("Rule set", rule_set),
            ("Tool version", format!("gateaudit {}", s.tool_version)),
            ("Run id", s.run_id.clone()),
            ("Collected at", format!("{} (UTC)", iso(s.collected_at))),
            ("CI/CD account", ctx.account_label(&s.cicd_account)),
            ("Regions", regions),
            ("Snapshot sha256", ctx.input.snapshot_sha256.clone()),
        ],
        110.0,
        kv,
    );
    l.gap(10.0);

    // Result at a glance.
    let (verdict, ok) = verdict(ctx.input.checks, s);
    let c = if ok { GREEN } else { RED };
    l.key_values(&[("Result", verdict)], 110.0, kv.bold().colour(c));
    l.gap(14.0);

    l.paragraph(
        &format!("Accounts in scope ({})", s.accounts.len()),
        BODY_STYLE.bold(),
    );
    l.gap(3.0);
    let cols = Table::new(&[
        ("account id", 1.3, 1),
        ("name", 2.2, 2),
        ("environment", 1.4, 2),
        ("collection", 1.2, 1),
    ]);
    l.table_start(&cols);
    for (i, a) in s.accounts.iter().enumerate() {
        let complete = if a.is_complete() {
            Cell::styled("complete", CELL_STYLE.colour(GREEN))
        } else {
            Cell::styled("INCOMPLETE", CELL_STYLE.bold().colour(RED))
        };
        l.table_row(
            &cols,
            &[
                Cell::plain(a.account_id.clone()),
                Cell::plain(a.name.clone()),
                Cell::plain(a.environment.clone()),
                complete,
            ],
            i,
        );
    }
    l.table_end(&cols);
    l.gap(10.0);
    l.paragraph(
        "This report renders a saved snapshot of the accounts above; the snapshot's SHA-256, printed on every \
         page, identifies the exact data it was built from. The same snapshot re-audited offline yields the \
         same findings.",
        BODY_STYLE.colour(GREY),
    );
}

/// The one-line result on the cover, and whether it is good news: only when no check failed, none is
/// incomplete and every account was collected completely.
pub(super) fn verdict(checks: &[CheckSummary], snapshot: &Snapshot) -> (String, bool) {
    let count = |s: CheckStatus| checks.iter().filter(|c| c.status == s).count();
    let (failed, incomplete) = (count(CheckStatus::Failed), count(CheckStatus::Incomplete));
    let accounts = snapshot.incomplete_parts().len();
    if snapshot.accounts.is_empty() {
        return (
            "Nothing was audited: the snapshot holds no accounts.".to_owned(),
            false,
        );
    }
    let mut parts = Vec::new();
    if failed > 0 {
        parts.push(format!("{failed} of {} checks failed", checks.len()));
    }
    if incomplete > 0 {
        parts.push(format!(
            "{incomplete} of {} checks are INCOMPLETE (they could not read everything they check)",
            checks.len()
        ));
    }
    if accounts > 0 {
        parts.push(format!(
            "collection was incomplete for {accounts} account(s) or organisation-wide read(s)"
        ));
    }
    if parts.is_empty() {
        (
            "All checks passed and collection was complete.".to_owned(),
            true,
        )
    } else {
        let mut text = parts.join("; ");
        text.push_str(": see the summary.");
        (text, false)
    }
}

pub(super) fn summary(l: &mut Layout, ctx: &Context) {
    let checks = ctx.input.checks;
    l.new_page();
    l.bookmark("Executive summary");
    l.heading1("1. Executive summary");
    let cols = Table::new(&[
        ("check id", 2.0, 2),
        ("title", 3.6, 3),
        ("severity", 1.0, 1),
        ("findings", 0.9, 1),
        ("waived", 0.8, 1),
        ("status", 0.9, 1),
    ]);
    if checks.is_empty() {
        l.paragraph("No checks were run.", BODY_STYLE);
    } else {
        l.table_start(&cols);
        for (i, c) in checks.iter().enumerate() {
            l.table_row(
                &cols,
                &[
                    Cell::plain(c.id.clone()),
                    Cell::plain(c.title.clone()),
                    Cell::styled(
                        c.severity.as_str(),
                        CELL_STYLE.colour(severity_colour(c.severity)),
                    ),
                    Cell::plain(c.findings.to_string()),
                    Cell::plain(c.waived.to_string()),
                    Cell::styled(
                        c.status.as_str(),
                        CELL_STYLE.bold().colour(status_colour(c.status)),
                    ),
                ],
                i,
            );
        }
        let count = |s: CheckStatus| checks.iter().filter(|c| c.status == s).count();
        let findings: usize = checks.iter().map(|c| c.findings).sum();
        let waived: usize = checks.iter().map(|c| c.waived).sum();
        l.table_row(
            &cols,
            &[
                Cell::styled("Totals", CELL_STYLE.bold()),
                Cell::styled(
                    format!(
                        "{} checks: {} passed, {} failed, {} waived, {} incomplete",
                        checks.len(),
                        count(CheckStatus::Passed),
                        count(CheckStatus::Failed),
                        count(CheckStatus::Waived),
                        count(CheckStatus::Incomplete)
                    ),
                    CELL_STYLE.bold(),
                ),
                Cell::plain(""),
                Cell::styled(findings.to_string(), CELL_STYLE.bold()),
                Cell::styled(waived.to_string(), CELL_STYLE.bold()),
                Cell::plain(""),
            ],
            checks.len(),
        );
        l.table_end(&cols);
    }
    l.paragraph(
        "A check has passed when it produced no findings and read everything it checks, is waived when every \
         finding is covered by a waiver, is incomplete when some of what it reads could not be collected (it \
         cannot prove the rest, whatever it found), and has failed otherwise. Each check is detailed in section 2 \
         with its evidence.",
        BODY_STYLE.colour(GREY),
    );
    l.gap(6.0);
    incomplete_checks(l, checks);

    let incomplete: Vec<&AccountSnapshot> = ctx
        .input
        .snapshot
        .accounts
        .iter()
        .filter(|a| !a.is_complete())
        .collect();
    let global: Vec<(&str, &crate::model::CollectionStep)> =
        ctx.input.snapshot.global_failed_steps().collect();
    if incomplete.is_empty() && global.is_empty() {
        l.heading2("Collection complete", GREEN);
        l.paragraph(
            &format!(
                "Every collection step succeeded in all {} accounts.",
                ctx.input.snapshot.accounts.len()
            ),
            BODY_STYLE,
        );
    } else {
        l.heading2(
            &format!(
                "Collection INCOMPLETE for {} account(s){}",
                incomplete.len(),
                if global.is_empty() {
                    ""
                } else {
                    " and the organisation-wide reads"
                }
            ),
            RED,
        );
        l.paragraph(
            "Evidence from the steps below could not be read, so the checks could not see it: conclusions about \
             these accounts are not complete.",
            BODY_STYLE.colour(RED),
        );
        l.gap(3.0);
        let red = CELL_STYLE.colour(RED);
        let cols = Table::new(&[
            ("account", 2.0, 2),
            ("step", 1.6, 2),
            ("region", 0.9, 1),
            ("error (shortened)", 4.5, 2),
        ]);
        l.table_start(&cols);
        let mut i = 0;
        for a in incomplete {
            for step in a.failed_steps() {
                l.table_row(
                    &cols,
                    &[
                        Cell::styled(ctx.account_label(&a.account_id), red.bold()),
                        Cell::styled(step.step.clone(), red),
                        Cell::styled(step.region.clone().unwrap_or_default(), red),
                        Cell::styled(step.error.clone().unwrap_or_else(|| "failed".into()), red),
                    ],
                    i,
                );
                i += 1;
            }
        }
        for (part, step) in &global {
            l.table_row(
                &cols,
                &[
                    Cell::styled((*part).to_owned(), red.bold()),
                    Cell::styled(step.step.clone(), red),
                    Cell::styled(step.region.clone().unwrap_or_default(), red),
                    Cell::styled(step.error.clone().unwrap_or_else(|| "failed".into()), red),
                ],
                i,
            );
            i += 1;
        }
        l.table_end(&cols);
        l.paragraph(
            "Full errors are listed in appendix A.",
            BODY_STYLE.colour(GREY),
        );
    }
    if !ctx.input.notes.is_empty() {
        l.gap(6.0);
        l.heading2("What the answers do not cover", AMBER);
        for note in ctx.input.notes {
            l.paragraph(&format!("- {note}"), BODY_STYLE);
        }
    }
    let partial: usize = ctx
        .input
        .snapshot
        .accounts
        .iter()
        .flat_map(|a| &a.steps)
        .filter(|s| s.status == StepStatus::Partial)
        .count();
    if partial > 0 {
        l.gap(3.0);
        l.paragraph(
            &format!(
                "{partial} step(s) covered only part of what was asked (partial); see appendix B."
            ),
            BODY_STYLE.colour(AMBER),
        );
    }
}

/// The checks that could not read all their inputs: which account, which collection step, why.
pub(super) fn incomplete_checks(l: &mut Layout, checks: &[CheckSummary]) {
    let incomplete: Vec<&CheckSummary> =
        checks.iter().filter(|c| !c.incomplete.is_empty()).collect();
    if incomplete.is_empty() {
        return;
    }
    l.heading2(&format!("{} check(s) INCOMPLETE", incomplete.len()), RED);
    l.paragraph(
        "These checks could not read everything they check in the accounts below, so they cannot prove their \
         result there: a missing input is never counted as a pass.",
        BODY_STYLE.colour(RED),
    );
    l.gap(3.0);
    let red = CELL_STYLE.colour(RED);
    let cols = Table::new(&[
        ("check", 1.7, 2),
        ("account", 1.7, 2),
        ("input (collection step)", 2.2, 3),
        ("status", 0.8, 1),
        ("why", 3.6, 3),
    ]);
    l.table_start(&cols);
    let mut i = 0;
    for c in incomplete {
        for m in &c.incomplete {
            let account = if m.account_id.is_empty() {
                "the snapshot".to_owned()
            } else if m.account_name.is_empty() {
                m.account_id.clone()
            } else {
                format!("{} ({})", m.account_name, m.account_id)
            };
            let step = match &m.region {
                Some(r) => format!("{} {r}", m.step),
                None => m.step.clone(),
            };
            l.table_row(
                &cols,
                &[
                    Cell::styled(c.id.clone(), red.bold()),
                    Cell::styled(account, red),
                    Cell::styled(step, red),
                    Cell::styled(m.status.clone(), red.bold()),
                    Cell::styled(m.detail.clone(), red),
                ],
                i,
            );
            i += 1;
        }
    }
    l.table_end(&cols);
}
