//! PDF evidence report: the document an auditor reads to see that change management is enforced.
//!
//! Sections: cover (organisation, accounts in scope, audit period, rule set, run), executive summary (checks,
//! totals, incomplete collection), one section per check with its findings and evidence, the approval ledger,
//! and appendices (what was collected from each account, unreadable evidence, waivers). Every page carries a
//! footer with "page X of Y", the run id and the SHA-256 of the snapshot the report was built from.
//!
//! Layout is done here, by hand, on top of printpdf's page operations: text is measured with the glyph
//! advances of the embedded DejaVu Sans, wrapped to its column, and shortened visibly with "…" when it would
//! need more than a few lines. Tables break across pages and repeat their header row.
//!
//! This module only renders what it is given: it never calls AWS and never re-runs checks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use printpdf::{PdfDocument, PdfSaveOptions};

use super::{CheckStatus, CheckSummary, LedgerRow, ReportError, ReportInput};
use crate::model::{AccountSnapshot, Finding, Snapshot, StepStatus};

mod layout;
pub mod trend;

use layout::*;

// ---------------------------------------------------------------------------------------------------------
// The report

struct Context<'a> {
    input: &'a ReportInput<'a>,
    account_names: HashMap<&'a str, &'a AccountSnapshot>,
}

impl Context<'_> {
    fn account_label(&self, id: &str) -> String {
        match self.account_names.get(id) {
            Some(a) if !a.name.is_empty() => format!("{} ({id})", a.name),
            _ => id.to_owned(),
        }
    }
}

/// Renders the evidence report to `path` and returns the path written.
pub fn write_pdf(input: &ReportInput, path: &Path) -> Result<PathBuf, ReportError> {
    let bytes = render(input);
    std::fs::write(path, bytes).map_err(|e| ReportError::io(path, e))?;
    Ok(path.to_path_buf())
}

/// Builds the whole document in memory.
/// A document with the metadata every gateaudit PDF carries (dated at collection, not at rendering, so a
/// re-rendered report is identical) and the embedded fonts.
fn new_document(
    title: &str,
    snapshot: &Snapshot,
    subject: String,
) -> (PdfDocument, printpdf::FontId, printpdf::FontId) {
    let mut doc = PdfDocument::new(title);
    let when = printpdf::OffsetDateTime::from_unix_timestamp(snapshot.collected_at.timestamp())
        .unwrap_or_else(|_| printpdf::OffsetDateTime::epoch());
    let info = &mut doc.metadata.info;
    info.creation_date = when;
    info.modification_date = when;
    info.metadata_date = when;
    info.author = snapshot.organisation.clone();
    info.creator = format!("gateaudit {}", snapshot.tool_version);
    info.producer = format!("gateaudit {} (printpdf)", env!("CARGO_PKG_VERSION"));
    info.subject = subject;
    info.identifier = snapshot.run_id.clone();
    let f = faces();
    let regular = doc.add_font(&f.regular.font);
    let bold = doc.add_font(&f.bold.font);
    (doc, regular, bold)
}

fn render(input: &ReportInput) -> Vec<u8> {
    let snapshot = input.snapshot;
    let title = format!(
        "Change-management evidence report — {}",
        snapshot.organisation
    );
    let subject = format!(
        "run {}, snapshot sha256 {}",
        snapshot.run_id, input.snapshot_sha256
    );
    let (mut doc, regular, bold) = new_document(&title, snapshot, subject);

    let ctx = Context {
        input,
        account_names: snapshot
            .accounts
            .iter()
            .map(|a| (a.account_id.as_str(), a))
            .collect(),
    };
    let mut l = Layout::new(regular, bold, String::new());
    cover(&mut l, &ctx);
    l.running_header = format!(
        "Change-management evidence report · {} · run {}",
        snapshot.organisation, snapshot.run_id
    );
    summary(&mut l, &ctx);
    check_sections(&mut l, &ctx);
    ledger(&mut l, input.ledger);
    changes(&mut l, input.changes);
    appendices(&mut l, &ctx);

    let (pages, bookmarks) = l.finish(&snapshot.run_id, &input.snapshot_sha256);
    for (name, page) in bookmarks {
        doc.add_bookmark(&name, page);
    }
    doc.with_pages(pages);
    doc.save(&PdfSaveOptions::default(), &mut Vec::new())
}

/// An evidence request: the ledger cut to the scope an auditor asked for (`gateaudit evidence`).
pub struct EvidenceDocument<'a> {
    pub snapshot: &'a Snapshot,
    /// The scope in words ("approvals from ... to ...; accounts: ...").
    pub scope: &'a str,
    pub completeness: &'a crate::analysis::evidence::Completeness,
    pub rows: &'a [LedgerRow],
    /// The production changes in scope.
    pub changes: &'a [crate::analysis::changes::Change],
    pub snapshot_sha256: &'a str,
}

/// Renders an evidence request: a cover stating scope, source and completeness, then the ledger table.
pub fn write_evidence_pdf(
    evidence: &EvidenceDocument,
    path: &Path,
) -> Result<PathBuf, ReportError> {
    let snapshot = evidence.snapshot;
    let subject = format!(
        "evidence request; snapshot sha256 {}",
        evidence.snapshot_sha256
    );
    let title = format!("Approval evidence — {}", snapshot.organisation);
    let (mut doc, regular, bold) = new_document(&title, snapshot, subject);
    let mut l = Layout::new(regular, bold, String::new());
    l.bookmark("Scope");
    l.gap(40.0);
    l.paragraph("Approval evidence", Style::new(20.0).bold().colour(ACCENT));
    l.gap(4.0);
    l.paragraph(&snapshot.organisation, Style::new(13.0));
    l.gap(20.0);
    let c = evidence.completeness;
    let incomplete = if c.incomplete_accounts.is_empty() {
        "none: every account in scope was collected completely".to_owned()
    } else {
        c.incomplete_accounts.join(", ")
    };
    l.key_values(
        &[
            ("Scope", evidence.scope.to_owned()),
            ("Approvals", c.rows.to_string()),
            (
                "Production changes",
                format!(
                    "{} ({} not compliant)",
                    evidence.changes.len(),
                    evidence.changes.iter().filter(|c| !c.compliant()).count()
                ),
            ),
            ("Without S3 record", c.without_record.to_string()),
            ("Not tied to an execution", c.unattributed.to_string()),
            ("Incomplete accounts", incomplete),
            ("Snapshot run id", snapshot.run_id.clone()),
            (
                "Collected at",
                format!("{} (UTC)", iso(snapshot.collected_at)),
            ),
            (
                "Snapshot period",
                format!(
                    "{}  to  {}",
                    iso(snapshot.period.since),
                    iso(snapshot.period.until)
                ),
            ),
            ("Snapshot sha256", evidence.snapshot_sha256.to_owned()),
        ],
        120.0,
        BODY_STYLE,
    );
    l.gap(10.0);
    l.paragraph(
        "Every PutApprovalResult that CloudTrail recorded in the snapshot and that falls in the scope is listed \
         below: approvals, rejections and failed attempts. The snapshot's SHA-256, printed on every page, \
         identifies the data; manifest.json beside this file lists the hashes of every file of the request.",
        BODY_STYLE.colour(GREY),
    );
    l.running_header = format!(
        "Approval evidence · {} · run {}",
        snapshot.organisation, snapshot.run_id
    );
    ledger(&mut l, evidence.rows);
    changes(&mut l, evidence.changes);
    let (pages, bookmarks) = l.finish(&snapshot.run_id, evidence.snapshot_sha256);
    for (name, page) in bookmarks {
        doc.add_bookmark(&name, page);
    }
    doc.with_pages(pages);
    let bytes = doc.save(&PdfSaveOptions::default(), &mut Vec::new());
    std::fs::write(path, bytes).map_err(|e| ReportError::io(path, e))?;
    Ok(path.to_path_buf())
}

fn cover(l: &mut Layout, ctx: &Context) {
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
fn verdict(checks: &[CheckSummary], snapshot: &Snapshot) -> (String, bool) {
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

fn summary(l: &mut Layout, ctx: &Context) {
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
fn incomplete_checks(l: &mut Layout, checks: &[CheckSummary]) {
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

fn check_sections(l: &mut Layout, ctx: &Context) {
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

fn check_section(
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

fn finding_block(l: &mut Layout, ctx: &Context, f: &Finding) {
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
    let lines = wrap(&head, BODY_STYLE.bold(), CONTENT_W - head_x, 2);
    let lh = BODY_STYLE.line_height();
    for (i, line) in lines.iter().enumerate() {
        l.text_at(
            MARGIN_X + head_x,
            y + i as f32 * lh,
            line,
            BODY_STYLE.bold(),
        );
    }
    l.y += lines.len() as f32 * lh + 1.0;
    let mut rows = vec![("Subject", f.subject.clone())];
    if let Some(p) = &f.principal {
        rows.push(("Principal", p.clone()));
    }
    rows.push(("Message", f.message.clone()));
    if let Some(w) = &f.waiver {
        rows.push((
            "Waiver",
            format!(
                "{} (approved by {}, expires {})",
                w.reason, w.approver, w.expires
            ),
        ));
    }
    let style = Style::new(8.5);
    let kv_indent = head_x;
    for (label, value) in rows {
        let lines = wrap(&value, style, CONTENT_W - kv_indent - 62.0, 8);
        let lh = style.line_height();
        l.ensure(lh * lines.len() as f32);
        let y = l.y;
        l.text_at(MARGIN_X + kv_indent, y, label, style.colour(GREY));
        let c = if label == "Waiver" { AMBER } else { BLACK };
        for (i, line) in lines.iter().enumerate() {
            l.text_at(
                MARGIN_X + kv_indent + 62.0,
                y + i as f32 * lh,
                line,
                style.colour(c),
            );
        }
        l.y += lh * lines.len() as f32 + 1.0;
    }
    if !f.evidence.is_empty() {
        l.gap(2.0);
        let cols = Table::indented(
            kv_indent,
            &[
                ("evidence kind", 1.2, 2),
                ("reference", 3.0, 3),
                ("detail", 3.0, 4),
            ],
        );
        l.table_start(&cols);
        for (i, e) in f.evidence.iter().enumerate() {
            l.table_row(
                &cols,
                &[
                    Cell::plain(e.kind.clone()),
                    Cell::keep_end(e.reference.clone()),
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
            1,
        );
    }
    l.gap(5.0);
}

fn ledger(l: &mut Layout, rows: &[LedgerRow]) {
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
fn changes(l: &mut Layout, changes: &[crate::analysis::changes::Change]) {
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

fn appendices(l: &mut Layout, ctx: &Context) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        AccountSnapshot, CollectionStep, Evidence, Finding, Period, Severity, Snapshot, StepStatus,
        WaiverNote, SCHEMA_VERSION,
    };
    use crate::report::{CheckStatus, CheckSummary, LedgerRow, ReportInput};
    use chrono::TimeZone;
    use chrono::{DateTime, Utc};
    use std::process::Command;

    const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 14, h, m, 7)
            .single()
            .unwrap_or_default()
    }

    fn step(
        step: &str,
        region: Option<&str>,
        status: StepStatus,
        items: usize,
        error: Option<&str>,
    ) -> CollectionStep {
        CollectionStep {
            step: step.into(),
            region: region.map(str::to_owned),
            status,
            items,
            error: error.map(str::to_owned),
        }
    }

    fn snapshot() -> Snapshot {
        let prod =
            AccountSnapshot {
                account_id: "111122223333".into(),
                name: "prod-payments".into(),
                environment: "production".into(),
                role_arn: Some("arn:aws:iam::111122223333:role/gateaudit-reader".into()),
                steps: vec![
                step("iam:GetAccountAuthorizationDetails", None, StepStatus::Ok, 42, None),
                step("codepipeline:ListPipelines", Some("eu-west-1"), StepStatus::Ok, 3, None),
                step(
                    "cloudtrail:LookupEvents",
                    Some("eu-west-1"),
                    StepStatus::Partial,
                    17,
                    Some("LookupEvents reaches back only 90 days; the period starts 120 days ago"),
                ),
            ],
                ..AccountSnapshot::default()
            };
        let staging = AccountSnapshot {
            account_id: "444455556666".into(),
            name: "staging-Ångström".into(),
            environment: "staging".into(),
            role_arn: None,
            steps: vec![
                step("iam:GetAccountAuthorizationDetails", None, StepStatus::Ok, 12, None),
                step(
                    "s3:ListObjectsV2 approval-records",
                    Some("eu-west-1"),
                    StepStatus::Failed,
                    0,
                    Some(
                        "AccessDenied: User: arn:aws:sts::444455556666:assumed-role/gateaudit-reader/gateaudit-run \
                         is not authorized to perform: s3:ListBucket on resource: \
                         arn:aws:s3:::org-approval-records-444455556666-eu-west-1 because no identity-based policy \
                         allows the s3:ListBucket action (Service: S3, Status Code: 403, Request ID: 8XQ2Y7ZV)",
                    ),
                ),
            ],
            ..AccountSnapshot::default()
        };
        Snapshot {
            schema_version: SCHEMA_VERSION,
            tool_version: "0.1.0".into(),
            run_id: "20240514T120000Z-k3x9".into(),
            organisation: "Zoë Ångström Payments GmbH".into(),
            collected_at: t(12, 0),
            period: Period {
                since: Utc
                    .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
                    .single()
                    .unwrap_or_default(),
                until: Utc
                    .with_ymd_and_hms(2024, 4, 1, 0, 0, 0)
                    .single()
                    .unwrap_or_default(),
            },
            cicd_account: "999988887777".into(),
            regions: vec!["eu-west-1".into(), "us-east-1".into()],
            rule_set: "soc2-default".into(),
            rule_set_source: String::new(),
            declared_deployment_roles: Vec::new(),
            approval_record_buckets: Vec::new(),
            trail_buckets: Vec::new(),
            organization: None,
            identity_center: None,
            accounts: vec![prod, staging],
        }
    }

    fn checks() -> Vec<CheckSummary> {
        vec![
            CheckSummary {
                id: "approver-separation".into(),
                title: "Approvers are not the authors of the change".into(),
                description: "Every production approval was given by a person other than the one who started the \
                              pipeline execution or committed the change."
                    .into(),
                severity: Severity::High,
                references: vec!["SOC 2 CC8.1".into(), "ISO 27001 A.8.32".into()],
                findings: 2,
                waived: 1,
                status: CheckStatus::Failed,
                incomplete: vec![],
            },
            CheckSummary {
                id: "distinct-approvers".into(),
                title: "Two distinct approvers per production deployment".into(),
                description: "Production gates are approved by at least two different people.".into(),
                severity: Severity::Medium,
                references: vec!["SOC 2 CC8.1".into()],
                findings: 0,
                waived: 0,
                status: CheckStatus::Passed,
                incomplete: vec![],
            },
        ]
    }

    fn findings() -> Vec<Finding> {
        vec![
            Finding {
                check_id: "approver-separation".into(),
                severity: Severity::High,
                account_id: "111122223333".into(),
                subject: "payments-api execution 3f2a9c1e-7b4d-4e8a-9c0f-1d2e3f4a5b6c".into(),
                principal: Some("arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Deployer_0123456789abcdef/李雷".into()),
                message: "The execution was started and approved by the same person (李雷).".into(),
                evidence: vec![
                    Evidence::new(
                        "cloudtrail-event",
                        "5e3c1a2b-0000-4bbb-8ccc-123456789012",
                        "StartPipelineExecution by arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Deployer_0123456789abcdef/li.lei@example.com",
                    ),
                    Evidence::new("action-execution", "arn:aws:codepipeline:eu-west-1:111122223333:payments-api/Approve/ProdGate", ""),
                ],
                waiver: None,
            },
            Finding {
                check_id: "approver-separation".into(),
                severity: Severity::High,
                account_id: "111122223333".into(),
                subject: "ledger-batch execution 0a1b2c3d".into(),
                principal: Some("zoe.angstrom".into()),
                message: "Self-approval by Zoë Ångström during the incident of 2024-02-03.".into(),
                evidence: vec![Evidence::new("cloudtrail-event", "ab12cd34-5678-90ef-1234-567890abcdef", "")],
                waiver: Some(WaiverNote {
                    reason: "Emergency change INC-4711, reviewed after the fact by the CAB.".into(),
                    approver: "ciso@example.com".into(),
                    expires: "2024-12-31".into(),
                }),
            },
        ]
    }

    fn ledger_rows(n: usize) -> Vec<LedgerRow> {
        (0..n)
            .map(|i| {
                let person = match i % 4 {
                    0 => "Zoë Ångström",
                    1 => "李雷",
                    2 => "jürgen.müller@example.com",
                    _ => "release-bot",
                };
                LedgerRow {
                    account_id: "111122223333".into(),
                    account_name: "prod-payments".into(),
                    environment: "production".into(),
                    region: "eu-west-1".into(),
                    pipeline: if i % 3 == 0 { "payments-api".into() } else { "ledger-batch-nightly-reconciliation".into() },
                    execution_id: if i % 7 == 6 { None } else { Some(format!("3f2a9c1e-7b4d-4e8a-9c0f-{i:012}")) },
                    stage: "Approve".into(),
                    action: "ProdGate".into(),
                    approver_recorded: format!(
                        "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Deployer_0123456789abcdef/user{i}@example.com"
                    ),
                    person: person.into(),
                    person_name: person.into(),
                    normalisation: "role ARN: session names ignored".into(),
                    time: t(8 + (i % 10) as u32, (i % 60) as u32),
                    status: match i % 5 {
                        0 => "Rejected".into(),
                        4 => "AccessDenied".into(),
                        _ => "Approved".into(),
                    },
                    summary: if i % 2 == 0 {
                        "LGTM".into()
                    } else {
                        "Reviewed the change set, the migration plan and the rollback runbook; approved for the \
                         09:00 window."
                            .into()
                    },
                    event_id: format!("evt-{i}"),
                    record_key: None,
                }
            })
            .collect()
    }

    /// Writes the report and returns its path (inside `dir`).
    fn write(dir: &Path, name: &str, ledger: &[LedgerRow]) -> PathBuf {
        let snapshot = snapshot();
        let checks = checks();
        let findings = findings();
        let input = ReportInput {
            snapshot: &snapshot,
            findings: &findings,
            checks: &checks,
            ledger,
            approvers: &[],
            write_grants: &[],
            fail_on: crate::model::Severity::High,
            snapshot_sha256: SHA.into(),
            rule_set: "soc2-default".into(),
            notes: &["AWS Organizations was not read: SCPs and RCPs are not applied.".to_owned()],
            changes: &[],
        };
        let path = dir.join(name);
        let written = write_pdf(&input, &path).expect("the report is written");
        assert_eq!(written, path);
        written
    }

    /// Page objects (`/Type /Page`, not `/Pages`), however lopdf spaced them.
    fn page_objects(bytes: &[u8]) -> usize {
        let text = String::from_utf8_lossy(bytes);
        let mut n = 0;
        let mut rest: &str = &text;
        while let Some(i) = rest.find("/Type") {
            rest = &rest[i + 5..];
            let after = rest.trim_start();
            if let Some(tail) = after.strip_prefix("/Page") {
                if !tail.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                    n += 1;
                }
            }
        }
        n
    }

    /// Text of each page per `pdftotext -layout`. Fails the test when poppler-utils is missing: a PDF test that
    /// cannot read the PDF proves nothing (ci/test installs poppler-utils).
    pub(crate) fn pdftotext_pages(path: &Path) -> Vec<String> {
        pages_with("pdftotext", path)
    }

    fn pages_with(program: &str, path: &Path) -> Vec<String> {
        let out = Command::new(program)
            .arg("-layout")
            .arg(path)
            .arg("-")
            .output()
            .unwrap_or_else(|e| {
                panic!("pdftotext (poppler-utils) is needed to read the PDF back: {e}; install poppler-utils")
            });
        assert!(
            out.status.success(),
            "pdftotext failed on {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut pages: Vec<String> = text.split('\u{c}').map(str::to_owned).collect();
        if pages.last().is_some_and(|p| p.trim().is_empty()) {
            pages.pop();
        }
        pages
    }

    #[test]
    #[should_panic(expected = "install poppler-utils")]
    fn a_missing_pdftotext_fails_instead_of_skipping() {
        pages_with("pdftotext-not-installed", Path::new("report.pdf"));
    }

    #[test]
    fn wrapping_breaks_words_and_long_arns_and_shortens_visibly() {
        let arn = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Deployer_0123456789abcdef/someone@example.com";
        let lines = wrap(arn, CELL_STYLE, 80.0, 3);
        assert_eq!(lines.len(), 3);
        assert!(
            lines
                .iter()
                .all(|l| metrics(false).width(l, SMALL) <= 80.0 + 0.01),
            "{lines:?}"
        );
        assert!(lines[2].ends_with(ELLIPSIS), "{lines:?}");
        let short = wrap("two words", CELL_STYLE, 200.0, 2);
        assert_eq!(short, vec!["two words".to_owned()]);
        let words = wrap("alpha beta gamma delta", BODY_STYLE, 60.0, 5);
        assert!(
            words.len() >= 2 && words.iter().all(|l| !l.ends_with(ELLIPSIS)),
            "{words:?}"
        );
        assert_eq!(wrap("", CELL_STYLE, 50.0, 2), vec![String::new()]);
        assert_eq!(shorten("3f2a9c1e-7b4d-4e8a", 8), "3f2a9c1e…");
        let kept = wrap_keep_end(arn, CELL_STYLE, 80.0, 3);
        assert_eq!(kept.len(), 3);
        assert!(
            kept[2].starts_with(ELLIPSIS) && kept[2].ends_with("example.com"),
            "{kept:?}"
        );
        assert!(
            kept.iter()
                .all(|l| metrics(false).width(l, SMALL) <= 80.0 + 0.01),
            "{kept:?}"
        );
        // Characters the font lacks are spelled out rather than drawn as empty boxes.
        assert_eq!(printable("李雷 (Zoë)"), "[U+674E U+96F7] (Zoë)");
        assert_eq!(shorten("abc", 8), "abc");
        // Non-ASCII is measured with real glyph widths; characters outside the font still take room.
        assert!(metrics(false).width("Zoë Ångström", BODY) > 40.0);
        assert!(metrics(false).width("李雷", BODY) > 5.0);
    }

    #[test]
    fn demo_report_has_cover_summary_footer_and_non_ascii_names() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = write(dir.path(), "report.pdf", &ledger_rows(12));
        let bytes = std::fs::read(&path).expect("read back");
        assert!(bytes.starts_with(b"%PDF-"));
        let pages = page_objects(&bytes);
        // Cover, executive summary, checks, ledger, production changes, appendix A, appendices B and C.
        assert_eq!(pages, 7, "got {pages} pages");
        let text = pdftotext_pages(&path);
        assert_eq!(text.len(), pages);
        let all = text.join("\n");
        for needle in [
            "Change-management evidence report",
            "Zoë Ångström Payments GmbH",
            "111122223333",
            "prod-payments",
            "production",
            "2024-01-01T00:00:00Z",
            "2024-04-01T00:00:00Z",
            "soc2-default",
            "gateaudit 0.1.0",
            "20240514T120000Z-k3x9",
            "2024-05-14T12:00:07Z",
            "approver-separation",
            "No findings.",
            "INCOMPLETE",
            "jürgen.müller",
            "staging-Ångström",
            "Emergency change INC-4711",
        ] {
            assert!(all.contains(needle), "missing {needle:?}");
        }
        assert!(
            text[0].contains(&format!("page 1 of {pages}")),
            "{}",
            text[0]
        );
        for (i, page) in text.iter().enumerate() {
            assert!(
                page.contains(&format!("page {} of {pages}", i + 1)),
                "page {}",
                i + 1
            );
            assert!(
                page.contains(&format!("snapshot sha256 {SHA}")),
                "page {}",
                i + 1
            );
            assert!(page.contains("20240514T120000Z-k3x9"), "page {}", i + 1);
        }
    }

    #[test]
    fn long_ledger_breaks_across_pages_with_the_header_repeated() {
        let dir = tempfile::tempdir().expect("temp dir");
        let rows = ledger_rows(3_000);
        let path = write(dir.path(), "ledger.pdf", &rows);
        let bytes = std::fs::read(&path).expect("read back");
        assert!(bytes.starts_with(b"%PDF-"));
        let pages = page_objects(&bytes);
        assert!(pages > 60, "3,000 ledger rows on {pages} pages");
        let text = pdftotext_pages(&path);
        assert_eq!(text.len(), pages);
        let ledger_pages: Vec<usize> = (0..text.len())
            .filter(|&i| text[i].contains("approver as recorded"))
            .collect();
        assert!(
            ledger_pages.len() > 50,
            "ledger on {} pages",
            ledger_pages.len()
        );
        let (first, last) = (ledger_pages[0], ledger_pages[ledger_pages.len() - 1]);
        assert_eq!(
            ledger_pages.len(),
            last - first + 1,
            "the header is repeated on every ledger page"
        );
        for &i in &ledger_pages {
            for header in [
                "time (UTC)",
                "pipeline",
                "execution",
                "stage / action",
                "person",
                "status",
                "summary",
            ] {
                assert!(
                    text[i].contains(header),
                    "page {} lacks header {header:?}",
                    i + 1
                );
            }
        }
        assert!(text[last].contains(&format!("page {} of {pages}", last + 1)));
    }

    #[test]
    fn hostile_names_cannot_forge_lines_or_hide_in_the_pdf() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut rows = ledger_rows(2);
        rows[0].person = "a\nFORGED".into();
        rows[0].summary = "ok\r\n2024-05-14 10:00:00Z FORGED Approved".into();
        let snapshot = snapshot();
        let checks = checks();
        let mut findings = findings();
        findings[0].subject = "mallory\n2024-05-14T10:00:00Z-forged-finding".into();
        findings[0].message = "tab\there and a\u{202E}override and bell\u{7}".into();
        findings[0].principal = Some("x\u{202E}txt.exe\0\t\u{1}\u{9b}".into());
        let input = ReportInput {
            snapshot: &snapshot,
            findings: &findings,
            checks: &checks,
            ledger: &rows,
            approvers: &[],
            write_grants: &[],
            fail_on: Severity::High,
            snapshot_sha256: SHA.into(),
            rule_set: "soc2-default".into(),
            notes: &[],
            changes: &[],
        };
        let path = dir.path().join("hostile.pdf");
        write_pdf(&input, &path).expect("written");
        let all = pdftotext_pages(&path).join("\n");
        for line in all.lines() {
            let t = line.trim_start();
            assert!(
                !t.starts_with("FORGED") && !t.starts_with("2024-05-14 10:00:00Z FORGED"),
                "a name started a line of its own: {line:?}"
            );
        }
        for shown in [
            "a\\nFORGED",
            "ok\\r\\n2024-05-",
            "mallory\\n2024-05-14T10:00:00Z",
            "\\u{202E}txt.exe\\0\\t\\u{0001}\\u{009B}",
            "tab\\there",
            "a\\u{202E}override",
            "bell\\u{0007}",
        ] {
            assert!(all.contains(shown), "{shown:?} not shown in:\n{all}");
        }
        for raw in ['\u{202E}', '\u{0}', '\u{1}', '\u{7}', '\u{9b}', '\t'] {
            assert!(!all.contains(raw), "raw {raw:?} reached the PDF text");
        }
    }

    /// Ad-hoc: `GATEAUDIT_PDF_OUT=/tmp/x GATEAUDIT_PDF_ROWS=100000 cargo test --release --lib render_for_inspection
    /// -- --ignored --nocapture` writes a report there and prints how long it took.
    #[test]
    #[ignore = "writes files for a human to look at; run on demand"]
    fn render_for_inspection() {
        let Some(out) = std::env::var_os("GATEAUDIT_PDF_OUT") else {
            return;
        };
        let out = PathBuf::from(out);
        std::fs::create_dir_all(&out).expect("output dir");
        let n: usize = std::env::var("GATEAUDIT_PDF_ROWS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(12);
        let rows = ledger_rows(n);
        let started = std::time::Instant::now();
        let path = write(&out, &format!("report-{n}.pdf"), &rows);
        let bytes = std::fs::read(&path).expect("read back");
        eprintln!(
            "{n} ledger rows: {} pages, {} bytes, {:.2?}",
            page_objects(&bytes),
            bytes.len(),
            started.elapsed()
        );
    }
}
