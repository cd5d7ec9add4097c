//! The appendices: what was collected from each account (A), what could not be read (B), and the waivers
//! applied (C). Renders only.

use super::layout::*;
use super::Context;
use crate::model::{AccountSnapshot, Finding, StepStatus};

pub(super) fn appendices(l: &mut Layout, ctx: &Context) {
    let s = ctx.input.snapshot;
    l.new_page_in(Orientation::Portrait);
    l.bookmark("Appendix A: accounts and collection");
    l.heading1("Appendix A. Accounts and what was collected");
    let step_cols = Table::new(
        Orientation::Portrait,
        &[
            ("step", 2.4),
            ("region", 0.9),
            ("status", 0.7),
            ("items", 0.6),
            ("error or note", 4.2),
        ],
    );
    for a in &s.accounts {
        let colour = if a.is_complete() { ACCENT } else { RED };
        let title = format!(
            "{} ({}) — {}{}",
            a.name,
            a.account_id,
            a.environment,
            if a.is_complete() {
                ""
            } else {
                " — INCOMPLETE"
            }
        );
        l.heading2(&title, colour);
        let role = a
            .role_arn
            .clone()
            .unwrap_or_else(|| "the caller's own credentials".to_owned());
        l.key_values(&[("Read with", role)], 70.0, Style::new(8.5));
        l.gap(2.0);
        if a.steps.is_empty() {
            l.paragraph("No collection steps recorded.", BODY_STYLE.colour(RED));
            continue;
        }
        l.table_start(&step_cols);
        for (i, st) in a.steps.iter().enumerate() {
            let c = step_status_colour(st.status);
            l.table_row(
                &step_cols,
                &[
                    Cell::plain(st.step.clone()),
                    Cell::plain(st.region.clone().unwrap_or_else(|| "—".into())),
                    Cell::styled(step_status_str(st.status), CELL_STYLE.bold().colour(c)),
                    Cell::plain(st.items.to_string()),
                    match (&st.error, &st.note) {
                        (Some(error), _) => Cell::styled(error.clone(), CELL_STYLE.colour(c)),
                        (None, Some(note)) => Cell::styled(note.clone(), CELL_STYLE.colour(AMBER)),
                        (None, None) => Cell::plain(""),
                    },
                ],
                i,
            );
        }
        l.table_end(&step_cols);
    }

    l.new_page();
    l.bookmark("Appendix B: unreadable evidence");
    l.heading1("Appendix B. Unreadable evidence");
    let unreadable: Vec<(&AccountSnapshot, &crate::model::CollectionStep)> = s
        .accounts
        .iter()
        .flat_map(|a| {
            a.steps
                .iter()
                .filter(|st| st.status != StepStatus::Ok)
                .map(move |st| (a, st))
        })
        .collect();
    if unreadable.is_empty() {
        l.paragraph(
            "None: every collection step succeeded completely.",
            BODY_STYLE.colour(GREEN),
        );
    } else {
        l.paragraph(
            "Steps that failed (nothing could be read) or were partial (only part of what was asked could be read).",
            BODY_STYLE.colour(GREY),
        );
        l.gap(3.0);
        let cols = Table::new(
            Orientation::Portrait,
            &[
                ("account", 1.8),
                ("step", 1.6),
                ("region", 0.9),
                ("status", 0.7),
                ("error", 4.0),
            ],
        );
        l.table_start(&cols);
        for (i, (a, st)) in unreadable.iter().enumerate() {
            let c = CELL_STYLE.colour(step_status_colour(st.status));
            l.table_row(
                &cols,
                &[
                    Cell::plain(ctx.account_label(&a.account_id)),
                    Cell::plain(st.step.clone()),
                    Cell::plain(st.region.clone().unwrap_or_else(|| "—".into())),
                    Cell::styled(step_status_str(st.status), c.bold()),
                    Cell::styled(st.error.clone().unwrap_or_default(), c),
                ],
                i,
            );
        }
        l.table_end(&cols);
    }

    l.gap(10.0);
    l.bookmark("Appendix C: waivers");
    l.heading1("Appendix C. Waivers");
    let waived: Vec<&Finding> = ctx
        .input
        .findings
        .iter()
        .filter(|f| f.is_waived())
        .collect();
    if waived.is_empty() {
        l.paragraph("No findings were waived.", BODY_STYLE);
        return;
    }
    let cols = Table::new(
        Orientation::Portrait,
        &[
            ("check", 1.5),
            ("account", 1.4),
            ("subject", 1.8),
            ("reason", 2.4),
            ("approved by", 1.2),
            ("expires", 0.9),
        ],
    );
    l.table_start(&cols);
    for (i, f) in waived.iter().enumerate() {
        let Some(w) = &f.waiver else { continue };
        l.table_row(
            &cols,
            &[
                Cell::plain(f.check_id.clone()),
                Cell::plain(ctx.account_label(&f.account_id)),
                Cell::plain(f.subject.clone()),
                Cell::plain(w.reason.clone()),
                Cell::plain(w.approver.clone()),
                Cell::plain(w.expires.clone()),
            ],
            i,
        );
    }
    l.table_end(&cols);
}
