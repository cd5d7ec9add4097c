//! The embedded DejaVu Sans faces, their glyph advances (to measure text), text styles, and what may be drawn:
//! control characters made visible and characters the font lacks spelled as `[U+XXXX]`.
//!
//! Knows nothing of pages or reports; never calls AWS.

use std::sync::OnceLock;

use printpdf::ParsedFont;

use super::layout::{Rgb3, BLACK, BODY, CONDENSED, LEADING, SMALL};

const REGULAR_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// The font programs every document embeds (whole: printpdf subsets only with its text-layout feature).
pub(super) const PROGRAMS: [&[u8]; 2] = [REGULAR_TTF, BOLD_TTF];

/// Advance widths of one face, indexed by BMP code point (characters the font lacks get the .notdef width).
pub(super) struct Metrics {
    pub(super) widths: Vec<u16>,
    /// Whether the font has a glyph for the code point.
    pub(super) present: Vec<bool>,
    pub(super) notdef: u16,
    pub(super) units_per_em: f32,
    /// The glyph of each BMP code point in the character map.
    glyphs: Vec<Option<u16>>,
}

impl Metrics {
    pub(super) fn of(font: &ParsedFont) -> Metrics {
        let notdef = font.get_glyph_width(0).unwrap_or(0);
        let mut widths = vec![notdef; 0x1_0000];
        let mut present = vec![false; 0x1_0000];
        let mut glyphs = vec![None; 0x1_0000];
        for (&cp, &gid) in &font.codepoint_to_glyph {
            if let Some(slot) = glyphs.get_mut(cp as usize) {
                *slot = Some(gid);
            }
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
            glyphs,
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

impl Face {
    /// The glyph drawn for `c` (the font's character map, as printpdf reads it), if the face has one.
    pub(super) fn glyph(&self, c: char) -> Option<u16> {
        match self.metrics.glyphs.get(c as usize) {
            Some(&glyph) => glyph,
            None => self.font.lookup_glyph_index(c as u32),
        }
    }
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
