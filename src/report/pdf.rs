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
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use printpdf::{
    Color, FontId, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFontHandle, PdfPage,
    PdfSaveOptions, Pt, Rect, Rgb, TextItem, TextMatrix,
};

use super::{CheckStatus, CheckSummary, LedgerRow, ReportError, ReportInput};
use crate::model::{AccountSnapshot, Finding, Severity, Snapshot, StepStatus};

const REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

// A4 portrait, in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN_X: f32 = 45.0;
const MARGIN_TOP: f32 = 50.0;
/// Content stops here (measured from the top); the footer lives below.
const CONTENT_BOTTOM: f32 = PAGE_H - 58.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;

const BODY: f32 = 9.0;
const SMALL: f32 = 7.5;
const FOOTER: f32 = 6.5;
const H1: f32 = 15.0;
const H2: f32 = 11.5;
const LEADING: f32 = 1.25;
/// Cell padding in tables.
const PAD: f32 = 2.5;

const ELLIPSIS: char = '…';
/// Horizontal scaling of condensed table text (the ledger has nine columns on a portrait page).
const CONDENSED: f32 = 0.86;

// ---------------------------------------------------------------------------------------------------------
// Colours

#[derive(Clone, Copy, PartialEq)]
struct Rgb3(f32, f32, f32);

const BLACK: Rgb3 = Rgb3(0.0, 0.0, 0.0);
const GREY: Rgb3 = Rgb3(0.38, 0.38, 0.38);
const RULE: Rgb3 = Rgb3(0.72, 0.72, 0.72);
const HEADER_BG: Rgb3 = Rgb3(0.87, 0.89, 0.92);
const ZEBRA_BG: Rgb3 = Rgb3(0.96, 0.965, 0.975);
const ACCENT: Rgb3 = Rgb3(0.12, 0.23, 0.40);
const RED: Rgb3 = Rgb3(0.72, 0.08, 0.08);
const GREEN: Rgb3 = Rgb3(0.08, 0.45, 0.18);
const AMBER: Rgb3 = Rgb3(0.68, 0.42, 0.0);

fn severity_colour(s: Severity) -> Rgb3 {
    match s {
        Severity::Critical => Rgb3(0.55, 0.0, 0.0),
        Severity::High => RED,
        Severity::Medium => AMBER,
        Severity::Low => Rgb3(0.16, 0.35, 0.58),
        Severity::Info => GREY,
    }
}

fn status_colour(s: CheckStatus) -> Rgb3 {
    match s {
        CheckStatus::Passed => GREEN,
        CheckStatus::Failed => RED,
        CheckStatus::Waived => AMBER,
    }
}

fn step_status_str(s: StepStatus) -> &'static str {
    match s {
        StepStatus::Ok => "ok",
        StepStatus::Failed => "failed",
        StepStatus::Partial => "partial",
    }
}

fn step_status_colour(s: StepStatus) -> Rgb3 {
    match s {
        StepStatus::Ok => GREEN,
        StepStatus::Failed => RED,
        StepStatus::Partial => AMBER,
    }
}

fn colour(c: Rgb3) -> Color {
    Color::Rgb(Rgb {
        r: c.0,
        g: c.1,
        b: c.2,
        icc_profile: None,
    })
}

// ---------------------------------------------------------------------------------------------------------
// Fonts and measuring

/// Advance widths of one face, indexed by BMP code point (characters the font lacks get the .notdef width).
struct Metrics {
    widths: Vec<u16>,
    /// Whether the font has a glyph for the code point.
    present: Vec<bool>,
    notdef: u16,
    units_per_em: f32,
}

impl Metrics {
    fn of(font: &ParsedFont) -> Metrics {
        let notdef = font.get_glyph_width(0).unwrap_or(0);
        let mut widths = vec![notdef; 0x1_0000];
        let mut present = vec![false; 0x1_0000];
        for (&cp, &gid) in &font.codepoint_to_glyph {
            if let Some(slot) = widths.get_mut(cp as usize) {
                *slot = font.get_glyph_width(gid).unwrap_or(notdef);
                present[cp as usize] = gid != 0;
            }
        }
        Metrics {
            widths,
            present,
            notdef,
            units_per_em: f32::from(font.units_per_em.max(1)),
        }
    }

    /// Width of `c` at 1 pt.
    fn char_em(&self, c: char) -> f32 {
        let w = self.widths.get(c as usize).copied().unwrap_or(self.notdef);
        f32::from(w) / self.units_per_em
    }

    fn has(&self, c: char) -> bool {
        self.present.get(c as usize).copied().unwrap_or(false)
    }

    fn width(&self, s: &str, size: f32) -> f32 {
        s.chars().map(|c| self.char_em(c)).sum::<f32>() * size
    }
}

struct Face {
    font: ParsedFont,
    metrics: Metrics,
}

struct Faces {
    regular: Face,
    bold: Face,
}

/// The shipped fonts, parsed once per process.
fn faces() -> &'static Faces {
    static FACES: OnceLock<Faces> = OnceLock::new();
    FACES.get_or_init(|| {
        let parse = |bytes: &[u8], name: &str| {
            let font = ParsedFont::from_bytes(bytes, 0, &mut Vec::new())
                .unwrap_or_else(|| panic!("the shipped font {name} (assets/fonts) must parse"));
            let metrics = Metrics::of(&font);
            Face { font, metrics }
        };
        Faces {
            regular: parse(REGULAR_TTF, "DejaVuSans.ttf"),
            bold: parse(BOLD_TTF, "DejaVuSans-Bold.ttf"),
        }
    })
}

#[derive(Clone, Copy)]
struct Style {
    size: f32,
    bold: bool,
    colour: Rgb3,
    /// Horizontal scaling of the glyphs (1.0 = as designed); dense tables are set slightly condensed.
    stretch: f32,
}

impl Style {
    const fn new(size: f32) -> Style {
        Style {
            size,
            bold: false,
            colour: BLACK,
            stretch: 1.0,
        }
    }
    const fn condensed(self) -> Style {
        Style {
            stretch: CONDENSED,
            ..self
        }
    }
    const fn bold(self) -> Style {
        Style { bold: true, ..self }
    }
    const fn colour(self, colour: Rgb3) -> Style {
        Style { colour, ..self }
    }
    fn line_height(self) -> f32 {
        self.size * LEADING
    }
}

const BODY_STYLE: Style = Style::new(BODY);
const CELL_STYLE: Style = Style::new(SMALL);

fn metrics(bold: bool) -> &'static Metrics {
    let f = faces();
    if bold {
        &f.bold.metrics
    } else {
        &f.regular.metrics
    }
}

/// `text` with every character the embedded font cannot draw (CJK, emoji...) spelled as `[U+XXXX]`, so that
/// it stays visible and identifiable instead of printing as an empty box. Control characters become spaces,
/// except newlines.
fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let (regular, bold) = (metrics(false), metrics(true));
    let m = Both(regular, bold);
    if text.chars().all(|c| m.has(c) || c == '\n' || c == ' ') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_run = false;
    for c in text.chars() {
        if c == '\n' || (c.is_whitespace() && !m.has(c)) || c.is_control() {
            if in_run {
                out.push(']');
                in_run = false;
            }
            out.push(if c == '\n' { '\n' } else { ' ' });
        } else if m.has(c) {
            if in_run {
                out.push(']');
                in_run = false;
            }
            out.push(c);
        } else {
            out.push_str(if in_run { " " } else { "[" });
            out.push_str(&format!("U+{:04X}", c as u32));
            in_run = true;
        }
    }
    if in_run {
        out.push(']');
    }
    std::borrow::Cow::Owned(out)
}

/// Glyph coverage of both faces: a character is printable when regular and bold both have it.
struct Both(&'static Metrics, &'static Metrics);

impl Both {
    fn has(&self, c: char) -> bool {
        self.0.has(c) && self.1.has(c)
    }
}

/// Characters after which a word too wide for its column is preferably broken (ARNs, paths, e-mail).
fn is_break_after(c: char) -> bool {
    matches!(
        c,
        '/' | ':' | '-' | '_' | '.' | '@' | ',' | ';' | '=' | '&' | '?'
    )
}

/// Wraps `text` to `width` points: at spaces where possible; a word wider than the line (an ARN) is broken
/// after `/`, `:`, `-`... when that leaves a reasonably full line, otherwise anywhere. Explicit newlines are
/// kept. More than `max_lines` lines are cut and the last one ends with "…".
fn wrap(text: &str, style: Style, width: f32, max_lines: usize) -> Vec<String> {
    let text = printable(text);
    let m = metrics(style.bold);
    let scale = style.size * style.stretch;
    let em = |c: char| m.char_em(c) * scale;
    let space = em(' ');
    let max_lines = max_lines.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut overflow = false;

    'paragraphs: for para in text.split('\n') {
        if lines.len() >= max_lines {
            if !para.trim().is_empty() {
                overflow = true;
                break;
            }
            continue;
        }
        let mut line = String::new();
        let mut lw = 0.0f32;
        for word in para.split(' ').filter(|w| !w.is_empty()) {
            if lines.len() >= max_lines {
                overflow = true;
                break 'paragraphs;
            }
            let ww: f32 = word.chars().map(em).sum();
            let sep = if line.is_empty() { 0.0 } else { space };
            if lw + sep + ww <= width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                lw += sep + ww;
                continue;
            }
            if ww <= width {
                lines.push(std::mem::take(&mut line));
                line.push_str(word);
                lw = ww;
                continue;
            }
            // Wider than a whole line: continue on the current line if it has room left, then break.
            if !line.is_empty() {
                if width - lw - sep > width * 0.3 {
                    line.push(' ');
                    lw += sep;
                } else {
                    lines.push(std::mem::take(&mut line));
                    lw = 0.0;
                }
            }
            // (byte offset in `line` just after a break character, width of `line` up to there)
            let mut last_break: Option<(usize, f32)> = None;
            let mut prev = ' ';
            for c in word.chars() {
                let cw = em(c);
                // camelCase: "AccessDenied" breaks before the "D".
                if c.is_uppercase() && prev.is_lowercase() {
                    last_break = Some((line.len(), lw));
                }
                prev = c;
                if lw + cw > width && !line.is_empty() {
                    match last_break {
                        Some((at, w_at)) if w_at >= width * 0.5 && at < line.len() => {
                            let tail = line.split_off(at);
                            lines.push(std::mem::replace(&mut line, tail));
                            lw -= w_at;
                        }
                        _ => {
                            lines.push(std::mem::take(&mut line));
                            lw = 0.0;
                        }
                    }
                    last_break = None;
                    if lines.len() >= max_lines {
                        overflow = true;
                        break 'paragraphs;
                    }
                }
                line.push(c);
                lw += cw;
                if is_break_after(c) {
                    last_break = Some((line.len(), lw));
                }
            }
        }
        lines.push(line);
    }
    // Trailing empty lines (from a trailing newline) carry nothing.
    while lines.len() > 1 && lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    if overflow || lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            *last = with_ellipsis(last, style, width);
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// Like `wrap`, but when the text needs more than `max_lines` lines its end is kept, not its middle: the last
/// line becomes "…" and the tail of the text. For identities, where the session name at the end matters most.
fn wrap_keep_end(text: &str, style: Style, width: f32, max_lines: usize) -> Vec<String> {
    let max_lines = max_lines.max(2);
    let mut lines = wrap(text, style, width, max_lines + 1);
    if lines.len() <= max_lines {
        return lines;
    }
    lines.truncate(max_lines - 1);
    let text = printable(text);
    let m = metrics(style.bold);
    let scale = style.size * style.stretch;
    let budget = width - m.char_em(ELLIPSIS) * scale;
    let mut w = 0.0;
    let mut start = text.len();
    for (i, c) in text.char_indices().rev() {
        let cw = m.char_em(c) * scale;
        if w + cw > budget || c == '\n' {
            break;
        }
        w += cw;
        start = i;
    }
    lines.push(format!("{ELLIPSIS}{}", text[start..].trim_start()));
    lines
}

/// `s` shortened (if needed) so that `s…` fits in `width`.
fn with_ellipsis(s: &str, style: Style, width: f32) -> String {
    let m = metrics(style.bold);
    let scale = style.size * style.stretch;
    let budget = width - m.char_em(ELLIPSIS) * scale;
    let mut out = String::new();
    let mut w = 0.0;
    for c in s.chars() {
        let cw = m.char_em(c) * scale;
        if w + cw > budget {
            break;
        }
        out.push(c);
        w += cw;
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push(ELLIPSIS);
    out
}

/// First `keep` characters of `s`, with "…" when something was cut.
fn shorten(s: &str, keep: usize) -> String {
    match s.char_indices().nth(keep) {
        Some((i, _)) if s.chars().count() > keep + 1 => format!("{}{ELLIPSIS}", &s[..i]),
        _ => s.to_owned(),
    }
}

fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

// ---------------------------------------------------------------------------------------------------------
// Pages

/// One page under construction: graphics (backgrounds, rules) are painted first, text on top.
#[derive(Default)]
struct PageBuf {
    gfx: Vec<Op>,
    text: Vec<Op>,
    /// Font, scaling and colour currently set in the text section, to avoid repeating them for every run.
    font: Option<(bool, u32)>,
    stretch: Option<u32>,
    fill: Option<(u32, u32, u32)>,
}

struct Layout {
    regular: FontId,
    bold: FontId,
    pages: Vec<PageBuf>,
    /// Distance of the next free line from the top of the page.
    y: f32,
    /// Text of the running header on pages after the cover.
    running_header: String,
    bookmarks: Vec<(String, usize)>,
}

/// A table column: header text, width in points, and how many lines a cell may take before "…".
struct Column {
    title: &'static str,
    width: f32,
    max_lines: usize,
}

/// A cell: its text and style.
struct Cell {
    text: String,
    style: Style,
    /// When the text is too long, keep its end (see `wrap_keep_end`).
    keep_end: bool,
}

impl Cell {
    fn plain(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            style: CELL_STYLE,
            keep_end: false,
        }
    }
    fn styled(text: impl Into<String>, style: Style) -> Cell {
        Cell {
            text: text.into(),
            style,
            keep_end: false,
        }
    }
    fn keep_end(text: impl Into<String>) -> Cell {
        Cell {
            keep_end: true,
            ..Cell::plain(text)
        }
    }
}

/// A table: where it starts and its columns.
struct Table {
    x: f32,
    width: f32,
    cols: Vec<Column>,
    /// Text style of the body cells (plain cells use it as given).
    style: Style,
}

impl Table {
    /// Column widths from relative weights, filling the content width.
    fn new(spec: &[(&'static str, f32, usize)]) -> Table {
        Table::indented(0.0, spec)
    }

    /// Like `new`, starting `indent` points right of the margin.
    fn indented(indent: f32, spec: &[(&'static str, f32, usize)]) -> Table {
        let width = CONTENT_W - indent;
        let total: f32 = spec.iter().map(|c| c.1).sum();
        let cols = spec
            .iter()
            .map(|&(title, weight, max_lines)| Column {
                title,
                width: width * weight / total,
                max_lines,
            })
            .collect();
        Table {
            x: MARGIN_X + indent,
            width,
            cols,
            style: CELL_STYLE,
        }
    }

    fn condensed(mut self) -> Table {
        self.style = self.style.condensed();
        self
    }
}

impl Layout {
    fn new(regular: FontId, bold: FontId, running_header: String) -> Layout {
        Layout {
            regular,
            bold,
            pages: vec![PageBuf::default()],
            y: MARGIN_TOP,
            running_header,
            bookmarks: Vec::new(),
        }
    }

    fn page(&mut self) -> &mut PageBuf {
        if self.pages.is_empty() {
            self.pages.push(PageBuf::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(PageBuf::default());
        self.y = MARGIN_TOP;
        if !self.running_header.is_empty() {
            let header = self.running_header.clone();
            let style = Style::new(FOOTER).colour(GREY);
            let text = wrap(&header, style, CONTENT_W, 1).remove(0);
            self.text_at(MARGIN_X, MARGIN_TOP - 22.0, &text, style);
            self.rule(MARGIN_X, MARGIN_TOP - 18.0, CONTENT_W, 0.4, RULE);
        }
    }

    /// Starts a new page unless `height` more points fit on this one.
    fn ensure(&mut self, height: f32) {
        if self.y + height > CONTENT_BOTTOM {
            self.new_page();
        }
    }

    fn bookmark(&mut self, name: impl Into<String>) {
        self.bookmarks.push((name.into(), self.pages.len()));
    }

    /// Draws one line of text with its baseline `size * 0.8` below `top` (both from the top of the page).
    fn text_at(&mut self, x: f32, top: f32, text: &str, style: Style) {
        if text.is_empty() {
            return;
        }
        let font = if style.bold {
            self.bold.clone()
        } else {
            self.regular.clone()
        };
        let text = printable(text);
        let page = self.page();
        let key = (style.bold, style.size.to_bits());
        if page.font != Some(key) {
            page.text.push(Op::SetFont {
                font: PdfFontHandle::External(font),
                size: Pt(style.size),
            });
            page.font = Some(key);
        }
        let skey = style.stretch.to_bits();
        if page.stretch != Some(skey) {
            page.text.push(Op::SetHorizontalScaling {
                percent: style.stretch * 100.0,
            });
            page.stretch = Some(skey);
        }
        let c = style.colour;
        let ckey = (c.0.to_bits(), c.1.to_bits(), c.2.to_bits());
        if page.fill != Some(ckey) {
            page.text.push(Op::SetFillColor { col: colour(c) });
            page.fill = Some(ckey);
        }
        let baseline = PAGE_H - top - style.size * 0.8;
        page.text.push(Op::SetTextMatrix {
            matrix: TextMatrix::Translate(Pt(x), Pt(baseline)),
        });
        page.text.push(Op::ShowText {
            items: vec![TextItem::Text(text.into_owned())],
        });
    }

    /// A filled rectangle; `top` from the top of the page.
    fn fill_rect(&mut self, x: f32, top: f32, w: f32, h: f32, c: Rgb3) {
        let page = self.page();
        page.gfx.push(Op::SetFillColor { col: colour(c) });
        page.gfx.push(Op::DrawRectangle {
            rectangle: Rect {
                x: Pt(x),
                y: Pt(PAGE_H - top - h),
                width: Pt(w),
                height: Pt(h),
                mode: Some(PaintMode::Fill),
                winding_order: None,
            },
        });
    }

    fn rule(&mut self, x: f32, top: f32, w: f32, thickness: f32, c: Rgb3) {
        self.fill_rect(x, top, w, thickness, c);
    }

    // ----- flowing text

    /// A wrapped paragraph at the cursor, indented by `indent`.
    fn paragraph_indented(&mut self, text: &str, style: Style, indent: f32, max_lines: usize) {
        let lh = style.line_height();
        for line in wrap(text, style, CONTENT_W - indent, max_lines) {
            self.ensure(lh);
            let y = self.y;
            self.text_at(MARGIN_X + indent, y, &line, style);
            self.y += lh;
        }
    }

    fn paragraph(&mut self, text: &str, style: Style) {
        self.paragraph_indented(text, style, 0.0, 40);
    }

    fn gap(&mut self, h: f32) {
        self.y += h;
    }

    fn heading1(&mut self, text: &str) {
        self.ensure(H1 * 3.0 + 40.0);
        let style = Style::new(H1).bold().colour(ACCENT);
        let y = self.y;
        self.text_at(MARGIN_X, y, text, style);
        self.y += H1 * 1.3;
        let y = self.y;
        self.rule(MARGIN_X, y, CONTENT_W, 0.8, ACCENT);
        self.y += 8.0;
    }

    fn heading2(&mut self, text: &str, colour: Rgb3) {
        self.ensure(H2 * 1.4 + 50.0);
        self.gap(4.0);
        let style = Style::new(H2).bold().colour(colour);
        self.paragraph_indented(text, style, 0.0, 3);
        self.gap(2.0);
    }

    /// "label: value" lines with the label in a fixed-width column.
    fn key_values(&mut self, rows: &[(&str, String)], label_w: f32, style: Style) {
        let lh = style.line_height();
        for (label, value) in rows {
            let lines = wrap(value, style, CONTENT_W - label_w, 6);
            self.ensure(lh * lines.len() as f32);
            let y = self.y;
            self.text_at(MARGIN_X, y, label, style.bold().colour(GREY));
            for (i, line) in lines.iter().enumerate() {
                self.text_at(MARGIN_X + label_w, y + i as f32 * lh, line, style);
            }
            self.y += lh * lines.len() as f32 + 1.5;
        }
    }

    // ----- tables

    fn table_header(&mut self, t: &Table) {
        let style = t.style.bold();
        let lh = style.line_height();
        let wrapped: Vec<Vec<String>> = t
            .cols
            .iter()
            .map(|c| wrap(c.title, style, c.width - 2.0 * PAD, 2))
            .collect();
        let n = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        let h = n as f32 * lh + 2.0 * PAD;
        let y = self.y;
        self.fill_rect(t.x, y, t.width, h, HEADER_BG);
        let mut x = t.x;
        for (col, lines) in t.cols.iter().zip(&wrapped) {
            for (i, line) in lines.iter().enumerate() {
                self.text_at(x + PAD, y + PAD + i as f32 * lh, line, style);
            }
            x += col.width;
        }
        self.y += h;
        let y = self.y;
        self.rule(t.x, y - 0.6, t.width, 0.6, RULE);
    }

    /// Starts a table: a header row, on a new page unless the header and a couple of rows fit here.
    fn table_start(&mut self, t: &Table) {
        self.ensure(60.0);
        self.table_header(t);
    }

    /// One row; breaks to a new page (repeating the header) when it does not fit. Cells styled with
    /// `Cell::styled` keep their style but take the table's stretch.
    fn table_row(&mut self, t: &Table, cells: &[Cell], index: usize) {
        let wrapped: Vec<(Vec<String>, Style)> = t
            .cols
            .iter()
            .zip(cells)
            .map(|(col, cell)| {
                let style = Style {
                    stretch: t.style.stretch,
                    ..cell.style
                };
                let width = col.width - 2.0 * PAD;
                let lines = if cell.keep_end {
                    wrap_keep_end(&cell.text, style, width, col.max_lines)
                } else {
                    wrap(&cell.text, style, width, col.max_lines)
                };
                (lines, style)
            })
            .collect();
        let lh = t.style.line_height();
        let n = wrapped.iter().map(|(l, _)| l.len()).max().unwrap_or(1);
        let h = n as f32 * lh + 2.0 * PAD;
        if self.y + h > CONTENT_BOTTOM {
            self.new_page();
            self.table_header(t);
        }
        let y = self.y;
        if index % 2 == 1 {
            self.fill_rect(t.x, y, t.width, h, ZEBRA_BG);
        }
        let mut x = t.x;
        for (col, (lines, style)) in t.cols.iter().zip(&wrapped) {
            for (i, line) in lines.iter().enumerate() {
                self.text_at(x + PAD, y + PAD + i as f32 * lh, line, *style);
            }
            x += col.width;
        }
        self.y += h;
    }

    fn table_end(&mut self, t: &Table) {
        let y = self.y;
        self.rule(t.x, y, t.width, 0.5, RULE);
        self.gap(8.0);
    }

    // ----- finishing

    /// Adds the footer to every page (now that the total is known) and returns printpdf pages.
    fn finish(mut self, run_id: &str, sha256: &str) -> (Vec<PdfPage>, Vec<(String, usize)>) {
        let total = self.pages.len();
        let pages = std::mem::take(&mut self.pages);
        let style = Style::new(FOOTER).colour(GREY);
        let m = metrics(false);
        let mut out = Vec::with_capacity(total);
        for (i, page) in pages.into_iter().enumerate() {
            let number = format!("page {} of {}", i + 1, total);
            let run = format!("gateaudit change-management evidence report · run {run_id}");
            let hash = format!("snapshot sha256 {sha256}");
            let top = CONTENT_BOTTOM + 14.0;
            let lh = style.line_height();
            self.pages.push(page);
            self.rule(MARGIN_X, top - 4.0, CONTENT_W, 0.4, RULE);
            let number_w = m.width(&number, FOOTER);
            let run = wrap(&run, style, CONTENT_W - number_w - 12.0, 1).remove(0);
            self.text_at(MARGIN_X, top, &run, style);
            self.text_at(MARGIN_X + CONTENT_W - number_w, top, &number, style.bold());
            let hash = wrap(&hash, style, CONTENT_W, 1).remove(0);
            self.text_at(MARGIN_X, top + lh, &hash, style);
            let done = self.pages.pop().unwrap_or_default();
            let mut ops = done.gfx;
            ops.reserve(done.text.len() + 2);
            ops.push(Op::StartTextSection);
            ops.extend(done.text);
            ops.push(Op::EndTextSection);
            out.push(PdfPage::new(Mm(210.0), Mm(297.0), ops));
        }
        (out, self.bookmarks)
    }
}

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
fn render(input: &ReportInput) -> Vec<u8> {
    let snapshot = input.snapshot;
    let title = format!(
        "Change-management evidence report — {}",
        snapshot.organisation
    );
    let mut doc = PdfDocument::new(&title);
    let when = printpdf::OffsetDateTime::from_unix_timestamp(snapshot.collected_at.timestamp())
        .unwrap_or_else(|_| printpdf::OffsetDateTime::epoch());
    let info = &mut doc.metadata.info;
    info.creation_date = when;
    info.modification_date = when;
    info.metadata_date = when;
    info.author = snapshot.organisation.clone();
    info.creator = format!("gateaudit {}", snapshot.tool_version);
    info.producer = format!("gateaudit {} (printpdf)", env!("CARGO_PKG_VERSION"));
    info.subject = format!(
        "run {}, snapshot sha256 {}",
        snapshot.run_id, input.snapshot_sha256
    );
    info.identifier = snapshot.run_id.clone();

    let f = faces();
    let regular = doc.add_font(&f.regular.font);
    let bold = doc.add_font(&f.bold.font);

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
    pub completeness: &'a crate::evidence::Completeness,
    pub rows: &'a [LedgerRow],
    pub snapshot_sha256: &'a str,
}

/// Renders an evidence request: a cover stating scope, source and completeness, then the ledger table.
pub fn write_evidence_pdf(
    evidence: &EvidenceDocument,
    path: &Path,
) -> Result<PathBuf, ReportError> {
    let snapshot = evidence.snapshot;
    let mut doc = PdfDocument::new(&format!("Approval evidence — {}", snapshot.organisation));
    let when = printpdf::OffsetDateTime::from_unix_timestamp(snapshot.collected_at.timestamp())
        .unwrap_or_else(|_| printpdf::OffsetDateTime::epoch());
    let info = &mut doc.metadata.info;
    info.creation_date = when;
    info.modification_date = when;
    info.metadata_date = when;
    info.author = snapshot.organisation.clone();
    info.creator = format!("gateaudit {}", snapshot.tool_version);
    info.producer = format!("gateaudit {} (printpdf)", env!("CARGO_PKG_VERSION"));
    info.subject = format!(
        "evidence request; snapshot sha256 {}",
        evidence.snapshot_sha256
    );
    let f = faces();
    let regular = doc.add_font(&f.regular.font);
    let bold = doc.add_font(&f.bold.font);
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
    let failed = ctx
        .input
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::Failed)
        .count();
    let incomplete = s.accounts.iter().filter(|a| !a.is_complete()).count();
    let (verdict, c) = match (failed, incomplete) {
        (0, 0) => ("All checks passed and collection was complete.".to_owned(), GREEN),
        (0, n) => (format!("All checks passed, but collection was incomplete for {n} account(s): see the summary."), RED),
        (f, 0) => (format!("{f} of {} checks failed.", ctx.input.checks.len()), RED),
        (f, n) => (
            format!("{f} of {} checks failed, and collection was incomplete for {n} account(s).", ctx.input.checks.len()),
            RED,
        ),
    };
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
                        "{} checks: {} passed, {} failed, {} waived",
                        checks.len(),
                        count(CheckStatus::Passed),
                        count(CheckStatus::Failed),
                        count(CheckStatus::Waived)
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
        "A check has passed when it produced no findings, is waived when every finding is covered by a waiver, \
         and has failed otherwise. Each check is detailed in section 2 with its evidence.",
        BODY_STYLE.colour(GREY),
    );
    l.gap(6.0);

    let incomplete: Vec<&AccountSnapshot> = ctx
        .input
        .snapshot
        .accounts
        .iter()
        .filter(|a| !a.is_complete())
        .collect();
    if incomplete.is_empty() {
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
            &format!("Collection INCOMPLETE for {} account(s)", incomplete.len()),
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
        l.table_end(&cols);
        l.paragraph(
            "Full errors are listed in appendix A.",
            BODY_STYLE.colour(GREY),
        );
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
            r.account_id.clone()
        } else {
            format!("{}\n{}", r.account_name, r.account_id)
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
                Cell::plain(r.time.format("%Y-%m-%d\n%H:%M:%SZ").to_string()),
                Cell::plain(account),
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

    /// Text of each page per `pdftotext`, or None (with a note) when poppler-utils is not installed.
    fn pdftotext_pages(path: &Path) -> Option<Vec<String>> {
        match Command::new("pdftotext")
            .arg("-layout")
            .arg(path)
            .arg("-")
            .output()
        {
            Ok(out) if out.status.success() => {
                let text = String::from_utf8_lossy(&out.stdout).into_owned();
                let mut pages: Vec<String> = text.split('\u{c}').map(str::to_owned).collect();
                if pages.last().is_some_and(|p| p.trim().is_empty()) {
                    pages.pop();
                }
                Some(pages)
            }
            _ => {
                eprintln!(
                    "note: pdftotext (poppler-utils) not available; skipping the PDF text checks"
                );
                None
            }
        }
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
        // Cover, executive summary, checks, ledger, appendix A, appendices B and C.
        assert_eq!(pages, 6, "got {pages} pages");
        let Some(text) = pdftotext_pages(&path) else {
            return;
        };
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
        let Some(text) = pdftotext_pages(&path) else {
            return;
        };
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
