//! Page layout for the PDF reports, by hand on top of printpdf's page operations: A4 geometry, colours, the
//! embedded DejaVu Sans faces and their glyph widths, measuring, wrapping and visible shortening of text, pages
//! with running header and "page X of Y" footer, and tables that break across pages with repeated headers.
//!
//! Knows nothing of snapshots or findings; renders only, never calls AWS.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use printpdf::{
    Color, FontId, Mm, Op, PaintMode, ParsedFont, PdfFontHandle, PdfPage, Pt, Rect, Rgb, TextItem,
    TextMatrix,
};

use super::super::CheckStatus;
use crate::model::{Severity, StepStatus};

const REGULAR_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

// A4 portrait, in points.
pub(super) const PAGE_W: f32 = 595.28;
pub(super) const PAGE_H: f32 = 841.89;
pub(super) const MARGIN_X: f32 = 45.0;
pub(super) const MARGIN_TOP: f32 = 50.0;
/// Content stops here (measured from the top); the footer lives below.
pub(super) const CONTENT_BOTTOM: f32 = PAGE_H - 58.0;
pub(super) const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;

pub(super) const BODY: f32 = 9.0;
pub(super) const SMALL: f32 = 7.5;
pub(super) const FOOTER: f32 = 6.5;
pub(super) const H1: f32 = 15.0;
pub(super) const H2: f32 = 11.5;
pub(super) const LEADING: f32 = 1.25;
/// Cell padding in tables.
pub(super) const PAD: f32 = 2.5;

pub(super) const ELLIPSIS: char = '…';
/// Horizontal scaling of condensed table text (the ledger has nine columns on a portrait page).
pub(super) const CONDENSED: f32 = 0.86;

// ---------------------------------------------------------------------------------------------------------
// Colours

#[derive(Clone, Copy, PartialEq)]
pub(super) struct Rgb3(f32, f32, f32);

pub(super) const BLACK: Rgb3 = Rgb3(0.0, 0.0, 0.0);
pub(super) const GREY: Rgb3 = Rgb3(0.38, 0.38, 0.38);
pub(super) const RULE: Rgb3 = Rgb3(0.72, 0.72, 0.72);
pub(super) const HEADER_BG: Rgb3 = Rgb3(0.87, 0.89, 0.92);
pub(super) const ZEBRA_BG: Rgb3 = Rgb3(0.96, 0.965, 0.975);
pub(super) const ACCENT: Rgb3 = Rgb3(0.12, 0.23, 0.40);
pub(super) const RED: Rgb3 = Rgb3(0.72, 0.08, 0.08);
pub(super) const GREEN: Rgb3 = Rgb3(0.08, 0.45, 0.18);
pub(super) const AMBER: Rgb3 = Rgb3(0.68, 0.42, 0.0);

pub(super) fn severity_colour(s: Severity) -> Rgb3 {
    match s {
        Severity::Critical => Rgb3(0.55, 0.0, 0.0),
        Severity::High => RED,
        Severity::Medium => AMBER,
        Severity::Low => Rgb3(0.16, 0.35, 0.58),
        Severity::Info => GREY,
    }
}

pub(super) fn status_colour(s: CheckStatus) -> Rgb3 {
    match s {
        CheckStatus::Passed => GREEN,
        CheckStatus::Failed | CheckStatus::Incomplete => RED,
        CheckStatus::Waived => AMBER,
    }
}

pub(super) fn step_status_str(s: StepStatus) -> &'static str {
    match s {
        StepStatus::Ok => "ok",
        StepStatus::Failed => "failed",
        StepStatus::Partial => "partial",
    }
}

pub(super) fn step_status_colour(s: StepStatus) -> Rgb3 {
    match s {
        StepStatus::Ok => GREEN,
        StepStatus::Failed => RED,
        StepStatus::Partial => AMBER,
    }
}

pub(super) fn colour(c: Rgb3) -> Color {
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
pub(super) struct Metrics {
    pub(super) widths: Vec<u16>,
    /// Whether the font has a glyph for the code point.
    pub(super) present: Vec<bool>,
    pub(super) notdef: u16,
    pub(super) units_per_em: f32,
}

impl Metrics {
    pub(super) fn of(font: &ParsedFont) -> Metrics {
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
    pub(super) fn char_em(&self, c: char) -> f32 {
        let w = self.widths.get(c as usize).copied().unwrap_or(self.notdef);
        f32::from(w) / self.units_per_em
    }

    pub(super) fn has(&self, c: char) -> bool {
        self.present.get(c as usize).copied().unwrap_or(false)
    }

    pub(super) fn width(&self, s: &str, size: f32) -> f32 {
        s.chars().map(|c| self.char_em(c)).sum::<f32>() * size
    }
}

pub(super) struct Face {
    pub(super) font: ParsedFont,
    pub(super) metrics: Metrics,
}

pub(super) struct Faces {
    pub(super) regular: Face,
    pub(super) bold: Face,
}

/// The shipped fonts, parsed once per process.
pub(super) fn faces() -> &'static Faces {
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
pub(super) struct Style {
    pub(super) size: f32,
    pub(super) bold: bool,
    pub(super) colour: Rgb3,
    /// Horizontal scaling of the glyphs (1.0 = as designed); dense tables are set slightly condensed.
    pub(super) stretch: f32,
}

impl Style {
    pub(super) const fn new(size: f32) -> Style {
        Style {
            size,
            bold: false,
            colour: BLACK,
            stretch: 1.0,
        }
    }
    pub(super) const fn condensed(self) -> Style {
        Style {
            stretch: CONDENSED,
            ..self
        }
    }
    pub(super) const fn bold(self) -> Style {
        Style { bold: true, ..self }
    }
    pub(super) const fn colour(self, colour: Rgb3) -> Style {
        Style { colour, ..self }
    }
    pub(super) fn line_height(self) -> f32 {
        self.size * LEADING
    }
}

pub(super) const BODY_STYLE: Style = Style::new(BODY);
pub(super) const CELL_STYLE: Style = Style::new(SMALL);

pub(super) fn metrics(bold: bool) -> &'static Metrics {
    let f = faces();
    if bold {
        &f.bold.metrics
    } else {
        &f.regular.metrics
    }
}

/// `text` as it may be drawn: control and invisible format characters (newlines included) written as visible
/// escapes first (`report::text::visible`: text from the audited accounts must never start a line of its own or
/// reorder what is read), then every character the embedded font cannot draw (CJK, emoji...) spelled as
/// `[U+XXXX]`, so that it stays visible and identifiable instead of printing as an empty box.
pub(super) fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let text = crate::report::text::visible(text);
    let (regular, bold) = (metrics(false), metrics(true));
    let m = Both(regular, bold);
    if text.chars().all(|c| m.has(c) || c == ' ') {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_run = false;
    for c in text.chars() {
        if c.is_whitespace() && !m.has(c) {
            if in_run {
                out.push(']');
                in_run = false;
            }
            out.push(' ');
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
pub(super) struct Both(&'static Metrics, &'static Metrics);

impl Both {
    pub(super) fn has(&self, c: char) -> bool {
        self.0.has(c) && self.1.has(c)
    }
}

/// Characters after which a word too wide for its column is preferably broken (ARNs, paths, e-mail).
pub(super) fn is_break_after(c: char) -> bool {
    matches!(
        c,
        '/' | ':' | '-' | '_' | '.' | '@' | ',' | ';' | '=' | '&' | '?'
    )
}

/// Wraps `text` to `width` points: at spaces where possible; a word wider than the line (an ARN) is broken
/// after `/`, `:`, `-`... when that leaves a reasonably full line, otherwise anywhere. A newline in `text` is data
/// and is shown as `\n` (see [`printable`]); lines the report itself wants are separate parts of a cell
/// ([`Cell::lines`]). More than `max_lines` lines are cut and the last one ends with "…".
pub(super) fn wrap(text: &str, style: Style, width: f32, max_lines: usize) -> Vec<String> {
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
pub(super) fn wrap_keep_end(text: &str, style: Style, width: f32, max_lines: usize) -> Vec<String> {
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
pub(super) fn with_ellipsis(s: &str, style: Style, width: f32) -> String {
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
pub(super) fn shorten(s: &str, keep: usize) -> String {
    match s.char_indices().nth(keep) {
        Some((i, _)) if s.chars().count() > keep + 1 => format!("{}{ELLIPSIS}", &s[..i]),
        _ => s.to_owned(),
    }
}

pub(super) fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

// ---------------------------------------------------------------------------------------------------------
// Pages

/// One page under construction: graphics (backgrounds, rules) are painted first, text on top.
#[derive(Default)]
pub(super) struct PageBuf {
    pub(super) gfx: Vec<Op>,
    pub(super) text: Vec<Op>,
    /// Font, scaling and colour currently set in the text section, to avoid repeating them for every run.
    pub(super) font: Option<(bool, u32)>,
    pub(super) stretch: Option<u32>,
    pub(super) fill: Option<(u32, u32, u32)>,
}

pub(super) struct Layout {
    pub(super) regular: FontId,
    pub(super) bold: FontId,
    pub(super) pages: Vec<PageBuf>,
    /// Distance of the next free line from the top of the page.
    pub(super) y: f32,
    /// Text of the running header on pages after the cover.
    pub(super) running_header: String,
    pub(super) bookmarks: Vec<(String, usize)>,
}

/// A table column: header text, width in points, and how many lines a cell may take before "…".
pub(super) struct Column {
    pub(super) title: &'static str,
    pub(super) width: f32,
    pub(super) max_lines: usize,
}

/// A cell: its text (one or more parts, each starting on a line of its own) and style.
pub(super) struct Cell {
    pub(super) parts: Vec<String>,
    pub(super) style: Style,
    /// When the text is too long, keep its end (see `wrap_keep_end`).
    pub(super) keep_end: bool,
}

impl Cell {
    pub(super) fn plain(text: impl Into<String>) -> Cell {
        Cell {
            parts: vec![text.into()],
            style: CELL_STYLE,
            keep_end: false,
        }
    }
    pub(super) fn styled(text: impl Into<String>, style: Style) -> Cell {
        Cell {
            style,
            ..Cell::plain(text)
        }
    }
    pub(super) fn keep_end(text: impl Into<String>) -> Cell {
        Cell {
            keep_end: true,
            ..Cell::plain(text)
        }
    }
    /// Several parts, each starting a new line (e.g. an account's name above its id). The only way to break a
    /// line inside a cell: newlines inside the parts are data and are shown.
    pub(super) fn lines(parts: Vec<String>) -> Cell {
        Cell {
            parts,
            ..Cell::plain(String::new())
        }
    }
}

/// Wraps each part on lines of its own, at most `max_lines` in all (the last ends with "…" when cut).
pub(super) fn wrap_parts(
    parts: &[String],
    style: Style,
    width: f32,
    max_lines: usize,
) -> Vec<String> {
    let max_lines = max_lines.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut cut = false;
    for part in parts {
        if lines.len() >= max_lines {
            cut = true;
            break;
        }
        let wrapped = wrap(part, style, width, max_lines - lines.len());
        cut |= wrapped.last().is_some_and(|l| l.ends_with(ELLIPSIS));
        lines.extend(wrapped);
    }
    if cut {
        if let Some(last) = lines.last_mut() {
            if !last.ends_with(ELLIPSIS) {
                *last = with_ellipsis(last, style, width);
            }
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// A table: where it starts and its columns.
pub(super) struct Table {
    pub(super) x: f32,
    pub(super) width: f32,
    pub(super) cols: Vec<Column>,
    /// Text style of the body cells (plain cells use it as given).
    pub(super) style: Style,
}

impl Table {
    /// Column widths from relative weights, filling the content width.
    pub(super) fn new(spec: &[(&'static str, f32, usize)]) -> Table {
        Table::indented(0.0, spec)
    }

    /// Like `new`, starting `indent` points right of the margin.
    pub(super) fn indented(indent: f32, spec: &[(&'static str, f32, usize)]) -> Table {
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

    pub(super) fn condensed(mut self) -> Table {
        self.style = self.style.condensed();
        self
    }
}

impl Layout {
    pub(super) fn new(regular: FontId, bold: FontId, running_header: String) -> Layout {
        Layout {
            regular,
            bold,
            pages: vec![PageBuf::default()],
            y: MARGIN_TOP,
            running_header,
            bookmarks: Vec::new(),
        }
    }

    pub(super) fn page(&mut self) -> &mut PageBuf {
        if self.pages.is_empty() {
            self.pages.push(PageBuf::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    pub(super) fn new_page(&mut self) {
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
    pub(super) fn ensure(&mut self, height: f32) {
        if self.y + height > CONTENT_BOTTOM {
            self.new_page();
        }
    }

    pub(super) fn bookmark(&mut self, name: impl Into<String>) {
        self.bookmarks.push((name.into(), self.pages.len()));
    }

    /// Draws one line of text with its baseline `size * 0.8` below `top` (both from the top of the page).
    pub(super) fn text_at(&mut self, x: f32, top: f32, text: &str, style: Style) {
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
    pub(super) fn fill_rect(&mut self, x: f32, top: f32, w: f32, h: f32, c: Rgb3) {
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

    pub(super) fn rule(&mut self, x: f32, top: f32, w: f32, thickness: f32, c: Rgb3) {
        self.fill_rect(x, top, w, thickness, c);
    }

    // ----- flowing text

    /// A wrapped paragraph at the cursor, indented by `indent`.
    pub(super) fn paragraph_indented(
        &mut self,
        text: &str,
        style: Style,
        indent: f32,
        max_lines: usize,
    ) {
        let lh = style.line_height();
        for line in wrap(text, style, CONTENT_W - indent, max_lines) {
            self.ensure(lh);
            let y = self.y;
            self.text_at(MARGIN_X + indent, y, &line, style);
            self.y += lh;
        }
    }

    pub(super) fn paragraph(&mut self, text: &str, style: Style) {
        self.paragraph_indented(text, style, 0.0, 40);
    }

    pub(super) fn gap(&mut self, h: f32) {
        self.y += h;
    }

    pub(super) fn heading1(&mut self, text: &str) {
        self.ensure(H1 * 3.0 + 40.0);
        let style = Style::new(H1).bold().colour(ACCENT);
        let y = self.y;
        self.text_at(MARGIN_X, y, text, style);
        self.y += H1 * 1.3;
        let y = self.y;
        self.rule(MARGIN_X, y, CONTENT_W, 0.8, ACCENT);
        self.y += 8.0;
    }

    pub(super) fn heading2(&mut self, text: &str, colour: Rgb3) {
        self.ensure(H2 * 1.4 + 50.0);
        self.gap(4.0);
        let style = Style::new(H2).bold().colour(colour);
        self.paragraph_indented(text, style, 0.0, 3);
        self.gap(2.0);
    }

    /// "label: value" lines with the label in a fixed-width column.
    pub(super) fn key_values(&mut self, rows: &[(&str, String)], label_w: f32, style: Style) {
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

    pub(super) fn table_header(&mut self, t: &Table) {
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
    pub(super) fn table_start(&mut self, t: &Table) {
        self.ensure(60.0);
        self.table_header(t);
    }

    /// One row; breaks to a new page (repeating the header) when it does not fit. Cells styled with
    /// `Cell::styled` keep their style but take the table's stretch.
    pub(super) fn table_row(&mut self, t: &Table, cells: &[Cell], index: usize) {
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
                    wrap_keep_end(&cell.parts.join(" "), style, width, col.max_lines)
                } else {
                    wrap_parts(&cell.parts, style, width, col.max_lines)
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

    pub(super) fn table_end(&mut self, t: &Table) {
        let y = self.y;
        self.rule(t.x, y, t.width, 0.5, RULE);
        self.gap(8.0);
    }

    // ----- finishing

    /// Adds the footer to every page (now that the total is known) and returns printpdf pages.
    pub(super) fn finish(
        mut self,
        run_id: &str,
        sha256: &str,
    ) -> (Vec<PdfPage>, Vec<(String, usize)>) {
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
