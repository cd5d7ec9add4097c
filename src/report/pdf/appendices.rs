//! The appendices: what was collected from each account (A), what could not be read (B), and the waivers
//! applied (C). Renders only.

use super::layout::*;
use super::Context;
use crate::model::{AccountSnapshot, Finding, StepStatus};

pub(super) fn appendices(l: &mut Layout, ctx: &Context) {
    let s = ctx.input.snapshot;
    l.new_page();
    l.bookmark("Appendix A: accounts and collection");
    l.heading1("Appendix A. Accounts and what was collected");
    let step_cols = Table::new(&[
        ("step", 2.0, 2),
        ("region", 1.0, 1),
        ("status", 0.8, 1),
        ("items", 0.7, 1),
        ("error", 4.5, 4),
    ]);
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
                    Cell::styled(
                        st.error.clone().unwrap_or_default(),
                        CELL_STYLE.colour(if st.error.is_some() { c } else { BLACK }),
                    ),
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
        let cols = Table::new(&[
            ("account", 1.8, 2),
            ("step", 1.6, 2),
            ("region", 0.9, 1),
            ("status", 0.7, 1),
            ("error", 4.0, 5),
        ]);
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
    let cols = Table::new(&[
        ("check", 1.5, 2),
        ("account", 1.4, 2),
        ("subject", 1.8, 3),
        ("reason", 2.4, 4),
        ("approved by", 1.2, 2),
        ("expires", 0.9, 1),
    ]);
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
