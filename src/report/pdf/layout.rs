//! Page layout for the PDF reports, by hand, written as each page's content stream (`content`): A4 geometry
//! (portrait, and landscape for wide tables), colours, pages with running header and "page X of Y" footer,
//! flowing text, and tables whose rows grow to hold every line of every cell and break across pages with the
//! header repeated.
//! Nothing in a table or paragraph is ever cut (see `wrap`).
//!
//! Knows nothing of snapshots or findings; renders only, never calls AWS.

use chrono::{DateTime, Utc};
use printpdf::{FontId, Mm, Op, PdfFontHandle, PdfPage, Pt, TextItem};

use super::super::CheckStatus;
use super::content::{GlyphUsage, Stream};
pub(super) use super::fonts::*;
pub(super) use super::wrap::{fit_line, wrap};
use crate::model::{Severity, StepStatus};

// A4, in points (portrait; landscape pages swap the two).
pub(super) const PAGE_W: f32 = 595.28;
pub(super) const PAGE_H: f32 = 841.89;
pub(super) const MARGIN_X: f32 = 45.0;
pub(super) const MARGIN_TOP: f32 = 50.0;
/// Height of the footer area below the content.
const FOOTER_H: f32 = 58.0;

pub(super) const BODY: f32 = 9.0;
pub(super) const SMALL: f32 = 7.5;
pub(super) const FOOTER: f32 = 6.5;
pub(super) const H1: f32 = 15.0;
pub(super) const H2: f32 = 11.5;
pub(super) const LEADING: f32 = 1.25;
/// Cell padding in tables.
pub(super) const PAD: f32 = 2.5;

pub(super) const ELLIPSIS: char = '…';
/// Horizontal scaling of condensed table text (wide tables such as the ledger).
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

pub(super) fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

// ---------------------------------------------------------------------------------------------------------
// Pages

#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub(super) enum Orientation {
    #[default]
    Portrait,
    /// For tables too wide for a portrait page (the ledger, the production changes).
    Landscape,
}

impl Orientation {
    pub(super) fn page_w(self) -> f32 {
        match self {
            Orientation::Portrait => PAGE_W,
            Orientation::Landscape => PAGE_H,
        }
    }
    pub(super) fn page_h(self) -> f32 {
        match self {
            Orientation::Portrait => PAGE_H,
            Orientation::Landscape => PAGE_W,
        }
    }
    /// Width of the text area.
    pub(super) fn content_w(self) -> f32 {
        self.page_w() - 2.0 * MARGIN_X
    }
    /// Where content stops (from the top); the footer lives below.
    pub(super) fn content_bottom(self) -> f32 {
        self.page_h() - FOOTER_H
    }
}

/// Width of the text area of a portrait page.
pub(super) const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;

/// One page under construction: graphics (backgrounds, rules) are painted first, text on top.
#[derive(Default)]
pub(super) struct PageBuf {
    pub(super) orientation: Orientation,
    pub(super) gfx: Stream,
    pub(super) text: Stream,
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
    /// The glyphs drawn with the regular and the bold face.
    usage: [GlyphUsage; 2],
    /// Orientation of the pages `new_page` starts.
    orientation: Orientation,
}

/// A table column: header text and width in points.
pub(super) struct Column {
    pub(super) title: &'static str,
    pub(super) width: f32,
}

/// A cell: its text (one or more parts, each starting on a line of its own) and style.
pub(super) struct Cell {
    pub(super) parts: Vec<String>,
    pub(super) style: Style,
}

impl Cell {
    pub(super) fn plain(text: impl Into<String>) -> Cell {
        Cell {
            parts: vec![text.into()],
            style: CELL_STYLE,
        }
    }
    pub(super) fn styled(text: impl Into<String>, style: Style) -> Cell {
        Cell {
            style,
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

/// Wraps each part on lines of its own; every line of every part is kept.
pub(super) fn wrap_parts(parts: &[String], style: Style, width: f32) -> Vec<String> {
    let mut lines: Vec<String> = parts
        .iter()
        .flat_map(|part| wrap(part, style, width))
        .collect();
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
    /// Column widths from relative weights, filling the text area of a page of `orientation`.
    pub(super) fn new(orientation: Orientation, spec: &[(&'static str, f32)]) -> Table {
        Table::indented(orientation, 0.0, spec)
    }

    /// Like `new`, starting `indent` points right of the margin.
    pub(super) fn indented(
        orientation: Orientation,
        indent: f32,
        spec: &[(&'static str, f32)],
    ) -> Table {
        let width = orientation.content_w() - indent;
        let total: f32 = spec.iter().map(|c| c.1).sum();
        let cols = spec
            .iter()
            .map(|&(title, weight)| Column {
                title,
                width: width * weight / total,
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
            orientation: Orientation::Portrait,
            usage: Default::default(),
        }
    }

    pub(super) fn page(&mut self) -> &mut PageBuf {
        if self.pages.is_empty() {
            self.pages.push(PageBuf::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Orientation of the page being written.
    pub(super) fn orientation(&self) -> Orientation {
        self.pages.last().map(|p| p.orientation).unwrap_or_default()
    }

    pub(super) fn content_w(&self) -> f32 {
        self.orientation().content_w()
    }

    fn content_bottom(&self) -> f32 {
        self.orientation().content_bottom()
    }

    pub(super) fn new_page(&mut self) {
        self.pages.push(PageBuf {
            orientation: self.orientation,
            ..PageBuf::default()
        });
        self.y = MARGIN_TOP;
        if !self.running_header.is_empty() {
            let header = self.running_header.clone();
            let style = Style::new(FOOTER).colour(GREY);
            let width = self.content_w();
            let text = fit_line(&header, style, width);
            self.text_at(MARGIN_X, MARGIN_TOP - 22.0, &text, style);
            self.rule(MARGIN_X, MARGIN_TOP - 18.0, width, 0.4, RULE);
        }
    }

    /// Starts a new page of `orientation`; the pages after it keep that orientation.
    pub(super) fn new_page_in(&mut self, orientation: Orientation) {
        self.orientation = orientation;
        self.new_page();
    }

    /// Starts a new page unless `height` more points fit on this one.
    pub(super) fn ensure(&mut self, height: f32) {
        if self.y + height > self.content_bottom() {
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
        let face = if style.bold {
            &faces().bold
        } else {
            &faces().regular
        };
        let name = if style.bold {
            &self.bold.0
        } else {
            &self.regular.0
        };
        let text = printable(text);
        if self.pages.is_empty() {
            self.pages.push(PageBuf::default());
        }
        let usage = &mut self.usage[usize::from(style.bold)];
        let Some(page) = self.pages.last_mut() else {
            return;
        };
        let page_h = page.orientation.page_h();
        let key = (style.bold, style.size.to_bits());
        if page.font != Some(key) {
            page.text.font(name, style.size);
            page.font = Some(key);
        }
        let skey = style.stretch.to_bits();
        if page.stretch != Some(skey) {
            page.text.horizontal_scaling(style.stretch * 100.0);
            page.stretch = Some(skey);
        }
        let c = style.colour;
        let ckey = (c.0.to_bits(), c.1.to_bits(), c.2.to_bits());
        if page.fill != Some(ckey) {
            page.text.fill_colour(c.0, c.1, c.2);
            page.fill = Some(ckey);
        }
        let baseline = page_h - top - style.size * 0.8;
        page.text.text_position(x, baseline);
        page.text
            .show_glyphs(text.chars().map(|c| match face.glyph(c) {
                Some(glyph) => {
                    usage.drew(glyph, c);
                    glyph
                }
                None => 0,
            }));
    }

    /// A filled rectangle; `top` from the top of the page.
    pub(super) fn fill_rect(&mut self, x: f32, top: f32, w: f32, h: f32, c: Rgb3) {
        let page = self.page();
        let page_h = page.orientation.page_h();
        page.gfx.fill_colour(c.0, c.1, c.2);
        page.gfx.filled_rectangle(x, page_h - top - h, w, h);
    }

    pub(super) fn rule(&mut self, x: f32, top: f32, w: f32, thickness: f32, c: Rgb3) {
        self.fill_rect(x, top, w, thickness, c);
    }

    // ----- flowing text

    /// Lines of text at `x`, each on the next line, breaking to a new page where the page is full.
    pub(super) fn lines_at(&mut self, x: f32, lines: &[String], style: Style) {
        let lh = style.line_height();
        for line in lines {
            self.ensure(lh);
            let y = self.y;
            self.text_at(x, y, line, style);
            self.y += lh;
        }
    }

    /// A wrapped paragraph at the cursor, indented by `indent`; every line of it.
    pub(super) fn paragraph_indented(&mut self, text: &str, style: Style, indent: f32) {
        let lines = wrap(text, style, self.content_w() - indent);
        self.lines_at(MARGIN_X + indent, &lines, style);
    }

    pub(super) fn paragraph(&mut self, text: &str, style: Style) {
        self.paragraph_indented(text, style, 0.0);
    }

    pub(super) fn gap(&mut self, h: f32) {
        self.y += h;
    }

    pub(super) fn heading1(&mut self, text: &str) {
        self.ensure(H1 * 3.0 + 40.0);
        let style = Style::new(H1).bold().colour(ACCENT);
        self.paragraph(text, style);
        self.y += H1 * 0.05;
        let (y, w) = (self.y, self.content_w());
        self.rule(MARGIN_X, y, w, 0.8, ACCENT);
        self.y += 8.0;
    }

    pub(super) fn heading2(&mut self, text: &str, colour: Rgb3) {
        self.ensure(H2 * 1.4 + 50.0);
        self.gap(4.0);
        let style = Style::new(H2).bold().colour(colour);
        self.paragraph(text, style);
        self.gap(2.0);
    }

    /// "label: value" lines with the label in a fixed-width column; values wrap in full and continue on the
    /// next page when they must.
    pub(super) fn key_values(&mut self, rows: &[(&str, String)], label_w: f32, style: Style) {
        self.key_values_indented(rows, 0.0, label_w, style, style);
    }

    /// Like `key_values`, `indent` points right of the margin, with the labels in `label_style`.
    pub(super) fn key_values_indented(
        &mut self,
        rows: &[(&str, String)],
        indent: f32,
        label_w: f32,
        label_style: Style,
        style: Style,
    ) {
        let lh = style.line_height();
        let label_lh = label_style.line_height();
        for (label, value) in rows {
            let lines = wrap(value, style, self.content_w() - indent - label_w);
            // A label wider than its column wraps inside it rather than running into the value.
            let labels = wrap(label, label_style, label_w - 6.0);
            let label_h = labels.len() as f32 * label_lh;
            // Keep a short value with its label; a long one starts here if a few lines fit.
            self.ensure((lh * lines.len().min(3) as f32).max(label_h));
            let (y, page) = (self.y, self.pages.len());
            for (i, line) in labels.iter().enumerate() {
                self.text_at(
                    MARGIN_X + indent,
                    y + i as f32 * label_lh,
                    line,
                    label_style,
                );
            }
            self.lines_at(MARGIN_X + indent + label_w, &lines, style);
            if self.pages.len() == page && self.y < y + label_h {
                self.y = y + label_h;
            }
            self.y += 1.5;
        }
    }

    // ----- tables

    /// The header row's lines per column and its height.
    fn header_lines(t: &Table) -> (Vec<Vec<String>>, f32) {
        let style = t.style.bold();
        let wrapped: Vec<Vec<String>> = t
            .cols
            .iter()
            .map(|c| wrap(c.title, style, c.width - 2.0 * PAD))
            .collect();
        let n = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        (wrapped, n as f32 * style.line_height() + 2.0 * PAD)
    }

    pub(super) fn table_header(&mut self, t: &Table) {
        let style = t.style.bold();
        let lh = style.line_height();
        let (wrapped, h) = Layout::header_lines(t);
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

    /// One row, as tall as its fullest cell: every line of every cell is drawn. A row that does not fit starts
    /// on a new page (the header repeated); a row taller than a whole page continues over as many pages as it
    /// needs, each with the header. Cells styled with `Cell::styled` keep their style but take the table's
    /// stretch.
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
                (wrap_parts(&cell.parts, style, col.width - 2.0 * PAD), style)
            })
            .collect();
        let lh = t.style.line_height();
        let total = wrapped.iter().map(|(l, _)| l.len()).max().unwrap_or(1);
        let fits = |l: &Layout| {
            ((l.content_bottom() - l.y - 2.0 * PAD) / lh)
                .floor()
                .max(0.0) as usize
        };
        // Lines a row can have on a page of its own, below the header.
        let page_lines =
            ((self.content_bottom() - MARGIN_TOP - Layout::header_lines(t).1 - 2.0 * PAD) / lh)
                .floor()
                .max(1.0) as usize;
        // A row that does not fit here moves whole to the next page; only a row taller than a page is split.
        let room_here = fits(self);
        if total > room_here && (total <= page_lines || room_here < 4) {
            self.new_page();
            self.table_header(t);
        }
        let mut from = 0;
        while from < total {
            let mut room = fits(self);
            if room == 0 {
                self.new_page();
                self.table_header(t);
                room = fits(self).max(1);
            }
            let to = total.min(from + room);
            let h = (to - from) as f32 * lh + 2.0 * PAD;
            let y = self.y;
            if index % 2 == 1 {
                self.fill_rect(t.x, y, t.width, h, ZEBRA_BG);
            }
            let mut x = t.x;
            for (col, (lines, style)) in t.cols.iter().zip(&wrapped) {
                let shown = lines.get(from..to.min(lines.len())).unwrap_or_default();
                for (i, line) in shown.iter().enumerate() {
                    self.text_at(x + PAD, y + PAD + i as f32 * lh, line, *style);
                }
                x += col.width;
            }
            self.y += h;
            from = to;
        }
    }

    pub(super) fn table_end(&mut self, t: &Table) {
        let y = self.y;
        self.rule(t.x, y, t.width, 0.5, RULE);
        self.gap(8.0);
    }

    // ----- finishing

    /// Adds the footer to every page (now that the total is known) and returns the pages: printpdf pages (empty but
    /// for the first, which shows printpdf the glyphs every page drew, so it embeds the fonts for them), the
    /// content stream of each page, to replace printpdf's, and the bookmarks.
    pub(super) fn finish(mut self, run_id: &str, sha256: &str) -> FinishedPages {
        let total = self.pages.len();
        let pages = std::mem::take(&mut self.pages);
        let style = Style::new(FOOTER).colour(GREY);
        let m = metrics(false);
        let mut printpdf_pages = Vec::with_capacity(total);
        let mut contents = Vec::with_capacity(total);
        for (i, page) in pages.into_iter().enumerate() {
            let orientation = page.orientation;
            let width = orientation.content_w();
            let number = format!("page {} of {}", i + 1, total);
            let run = format!("gateaudit change-management evidence report · run {run_id}");
            let hash = format!("snapshot sha256 {sha256}");
            let top = orientation.content_bottom() + 14.0;
            let lh = style.line_height();
            self.pages.push(page);
            self.rule(MARGIN_X, top - 4.0, width, 0.4, RULE);
            let number_w = m.width(&number, FOOTER);
            let run = fit_line(&run, style, width - number_w - 12.0);
            self.text_at(MARGIN_X, top, &run, style);
            self.text_at(MARGIN_X + width - number_w, top, &number, style.bold());
            let hash = fit_line(&hash, style, width);
            self.text_at(MARGIN_X, top + lh, &hash, style);
            let done = self.pages.pop().unwrap_or_default();
            contents.push(Stream::page(done.gfx, done.text));
            let (w, h) = match orientation {
                Orientation::Portrait => (Mm(210.0), Mm(297.0)),
                Orientation::Landscape => (Mm(297.0), Mm(210.0)),
            };
            printpdf_pages.push(PdfPage::new(w, h, Vec::new()));
        }
        if let Some(first) = printpdf_pages.first_mut() {
            first.ops = self.glyph_usage_ops();
        }
        FinishedPages {
            pages: printpdf_pages,
            contents,
            bookmarks: self.bookmarks,
        }
    }

    /// Text showing each glyph drawn once, in each face: what printpdf reads to choose the glyphs it embeds widths
    /// and ToUnicode entries for. Never written to the file (the page's own stream replaces it).
    fn glyph_usage_ops(&self) -> Vec<Op> {
        let mut ops = vec![Op::StartTextSection];
        for (font, usage) in [&self.regular, &self.bold].into_iter().zip(&self.usage) {
            let text = usage.as_text();
            if text.is_empty() {
                continue;
            }
            ops.push(Op::SetFont {
                font: PdfFontHandle::External(font.clone()),
                size: Pt(1.0),
            });
            ops.push(Op::ShowText {
                items: vec![TextItem::Text(text)],
            });
        }
        ops.push(Op::EndTextSection);
        ops
    }
}

/// What [`Layout::finish`] returns.
pub(super) struct FinishedPages {
    pub(super) pages: Vec<PdfPage>,
    /// The content stream of each page, in page order.
    pub(super) contents: Vec<Vec<u8>>,
    pub(super) bookmarks: Vec<(String, usize)>,
}
