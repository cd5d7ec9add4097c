//! Section 2 of the report: one block per check (what it verifies, its references, its status) and each
//! finding with its subject, principal, message, waiver and evidence references. Renders only.

use std::collections::HashMap;

use super::layout::*;
use super::Context;
use crate::model::Finding;
use crate::report::CheckSummary;

pub(super) fn check_sections(l: &mut Layout, ctx: &Context) {
    let mut by_check: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for f in ctx.input.findings {
        by_check.entry(f.check_id.as_str()).or_default().push(f);
    }
    l.new_page();
    l.bookmark("Checks");
    l.heading1("2. Checks and findings");
    for (n, check) in ctx.input.checks.iter().enumerate() {
        let findings = by_check.remove(check.id.as_str()).unwrap_or_default();
        check_section(l, ctx, &format!("2.{}", n + 1), check, &findings);
    }
    // Findings of checks that have no summary: still evidence, never dropped.
    let mut rest: Vec<(&str, Vec<&Finding>)> = by_check.into_iter().collect();
    rest.sort_by(|a, b| a.0.cmp(b.0));
    for (id, findings) in rest {
        l.heading2(&format!("Other findings: {id}"), BLACK);
        for f in findings {
            finding_block(l, ctx, f);
        }
    }
}

pub(super) fn check_section(
    l: &mut Layout,
    ctx: &Context,
    number: &str,
    check: &CheckSummary,
    findings: &[&Finding],
) {
    l.gap(4.0);
    l.ensure(90.0);
    l.bookmark(format!("{number} {}", check.title));
    l.heading2(&format!("{number}  {}", check.title), ACCENT);
    let y = l.y;
    let status = format!(
        "{} · {} finding(s), {} waived",
        check.status.as_str(),
        check.findings,
        check.waived
    );
    l.key_values(
        &[
            ("Check id", check.id.clone()),
            ("Severity", check.severity.as_str().to_owned()),
        ],
        80.0,
        BODY_STYLE,
    );
    // Status on the right of the id line.
    let st = BODY_STYLE.bold().colour(status_colour(check.status));
    let w = metrics(true).width(&status, BODY);
    l.text_at(MARGIN_X + CONTENT_W - w, y, &status, st);
    let references = if check.references.is_empty() {
        "—".to_owned()
    } else {
        check.references.join("; ")
    };
    l.key_values(
        &[
            ("Verifies", check.description.clone()),
            ("References", references),
        ],
        80.0,
        BODY_STYLE,
    );
    if !check.incomplete.is_empty() {
        l.key_values(
            &[(
                "INCOMPLETE",
                format!(
                    "could not read everything in {}; see the executive summary",
                    check.incomplete_accounts().join(", ")
                ),
            )],
            80.0,
            BODY_STYLE.bold().colour(RED),
        );
    }
    l.gap(3.0);
    if findings.is_empty() {
        l.paragraph("No findings.", BODY_STYLE.colour(GREEN));
        l.gap(6.0);
        return;
    }
    for f in findings {
        finding_block(l, ctx, f);
    }
    l.gap(4.0);
}

pub(super) fn finding_block(l: &mut Layout, ctx: &Context, f: &Finding) {
    l.ensure(60.0);
    let y = l.y;
    l.rule(MARGIN_X, y, CONTENT_W, 0.4, RULE);
    l.gap(3.0);
    let sev = Style::new(BODY).bold().colour(severity_colour(f.severity));
    let y = l.y;
    let label = f.severity.as_str().to_uppercase();
    l.text_at(MARGIN_X, y, &label, sev);
    let mut head = ctx.account_label(&f.account_id);
    if f.is_waived() {
        head.push_str("  · WAIVED");
    }
    let head_x = 62.0;
    let lines = wrap(&head, BODY_STYLE.bold(), CONTENT_W - head_x);
    l.lines_at(MARGIN_X + head_x, &lines, BODY_STYLE.bold());
    l.y += 1.0;
    let mut rows = vec![("Subject", f.subject.clone())];
    if let Some(p) = &f.principal {
        rows.push(("Principal", p.clone()));
    }
    rows.push(("Message", f.message.clone()));
    let style = Style::new(8.5);
    let kv_indent = head_x;
    l.key_values_indented(&rows, kv_indent, 62.0, style.colour(GREY), style);
    if let Some(w) = &f.waiver {
        let waiver = format!(
            "{} (approved by {}, expires {})",
            w.reason, w.approver, w.expires
        );
        l.key_values_indented(
            &[("Waiver", waiver)],
            kv_indent,
            62.0,
            style.colour(GREY),
            style.colour(AMBER),
        );
    }
    if !f.evidence.is_empty() {
        l.gap(2.0);
        let cols = Table::indented(
            Orientation::Portrait,
            kv_indent,
            &[("evidence kind", 1.2), ("reference", 3.0), ("detail", 3.0)],
        );
        l.table_start(&cols);
        for (i, e) in f.evidence.iter().enumerate() {
            l.table_row(
                &cols,
                &[
                    Cell::plain(e.kind.clone()),
                    Cell::plain(e.reference.clone()),
                    Cell::plain(e.detail.clone()),
                ],
                i,
            );
        }
        l.table_end(&cols);
    } else {
        l.paragraph_indented(
            "No evidence references recorded.",
            style.colour(GREY),
            kv_indent,
        );
    }
    l.gap(5.0);
}
