//! The cover page and the executive summary: what was audited, the result at a glance, every check's status,
//! and what could not be collected. Renders only what the report input says.

use super::layout::*;
use super::Context;
use crate::model::{AccountSnapshot, Finding, Severity, Snapshot, StepStatus};
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
    );
    l.gap(4.0);
    l.paragraph_indented(&s.organisation, Style::new(14.0), 14.0);
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
    let cols = Table::new(
        Orientation::Portrait,
        &[
            ("account id", 1.3),
            ("name", 2.2),
            ("environment", 1.4),
            ("collection", 1.2),
        ],
    );
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
    let fail_on = ctx.input.fail_on;
    let fail_on_title: &'static str = match fail_on {
        Severity::Critical => "≥ critical (fail-on)",
        Severity::High => "≥ high (fail-on)",
        Severity::Medium => "≥ medium (fail-on)",
        Severity::Low => "≥ low (fail-on)",
        Severity::Info => "≥ info (fail-on)",
    };
    let cols = Table::new(
        Orientation::Portrait,
        &[
            ("check id", 1.9),
            ("title", 3.0),
            ("findings by severity", 1.9),
            (fail_on_title, 1.0),
            ("waived", 0.8),
            ("status", 0.9),
        ],
    );
    // Unwaived findings of `check` at or above --fail-on: what the exit code counts.
    let counts = |check: &str| -> (String, usize) {
        let of_check: Vec<&Finding> = ctx
            .input
            .findings
            .iter()
            .filter(|f| f.check_id == check)
            .collect();
        let by_severity: Vec<String> = [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Info,
        ]
        .iter()
        .filter_map(|&s| {
            let n = of_check.iter().filter(|f| f.severity == s).count();
            (n > 0).then(|| format!("{n} {}", s.as_str()))
        })
        .collect();
        let at_threshold = of_check
            .iter()
            .filter(|f| !f.is_waived() && f.severity >= fail_on)
            .count();
        let text = if by_severity.is_empty() {
            "0".to_owned()
        } else {
            by_severity.join(", ")
        };
        (text, at_threshold)
    };
    if checks.is_empty() {
        l.paragraph("No checks were run.", BODY_STYLE);
    } else {
        l.table_start(&cols);
        let mut total_at_threshold = 0;
        for (i, c) in checks.iter().enumerate() {
            let (by_severity, at_threshold) = counts(&c.id);
            total_at_threshold += at_threshold;
            let threshold_style = if at_threshold > 0 {
                CELL_STYLE.bold().colour(RED)
            } else {
                CELL_STYLE
            };
            l.table_row(
                &cols,
                &[
                    Cell::plain(c.id.clone()),
                    Cell::plain(c.title.clone()),
                    Cell::plain(by_severity),
                    Cell::styled(at_threshold.to_string(), threshold_style),
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
                Cell::styled(format!("{findings} finding(s)"), CELL_STYLE.bold()),
                Cell::styled(total_at_threshold.to_string(), CELL_STYLE.bold()),
                Cell::styled(waived.to_string(), CELL_STYLE.bold()),
                Cell::plain(""),
            ],
            checks.len(),
        );
        l.table_end(&cols);
    }
    l.paragraph(
        &format!(
            "A check has passed when it produced no findings and read everything it checks, is waived when every \
             finding is covered by a waiver, is incomplete when some of what it reads could not be collected (it \
             cannot prove the rest, whatever it found), and has failed otherwise. Findings are counted by their own \
             severity; only unwaived findings at or above the run's --fail-on severity ({}) make the run fail \
             (exit code 3), and an incomplete check makes it exit 1 unless --allow-incomplete. Each check is \
             detailed in section 2 with its evidence.",
            fail_on.as_str()
        ),
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
        let cols = Table::new(
            Orientation::Portrait,
            &[
                ("account", 2.0),
                ("step", 1.6),
                ("region", 0.9),
                ("error", 4.5),
            ],
        );
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
            "Every collection step of every account is listed in appendix A.",
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
    let cols = Table::new(
        Orientation::Portrait,
        &[
            ("check", 1.7),
            ("account", 1.7),
            ("input (collection step)", 2.2),
            ("status", 0.8),
            ("why", 3.6),
        ],
    );
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
