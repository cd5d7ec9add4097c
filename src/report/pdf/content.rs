//! A page's content stream, written as PDF operators while the page is laid out, and the glyphs each face drew.
//!
//! The bytes are those printpdf and lopdf write for the same operations (operators joined by a newline, every
//! operand followed by a space, numbers in Rust's shortest form, strings of the Identity-H glyph ids in
//! upper-case hex), without building an operation list first and translating it, which was half the time of a
//! 100,000-approval report. printpdf still assembles the document and embeds the fonts: it learns which glyphs
//! were drawn from [`GlyphUsage::as_text`], exactly as it would have from the pages themselves.
//!
//! Knows nothing of layout, snapshots or findings.

use std::io::Write;

/// The operators of one page, in the order they are drawn.
#[derive(Default)]
pub(super) struct Stream {
    bytes: Vec<u8>,
}

impl Stream {
    fn operator(&mut self) {
        if !self.bytes.is_empty() {
            self.bytes.push(b'\n');
        }
    }

    fn number(&mut self, value: f32) {
        // Writing to a Vec cannot fail.
        let _ = write!(self.bytes, "{value} ");
    }

    /// `r g b rg`: the colour of what is filled next (text or shapes).
    pub(super) fn fill_colour(&mut self, r: f32, g: f32, b: f32) {
        self.operator();
        self.number(r);
        self.number(g);
        self.number(b);
        self.bytes.extend_from_slice(b"rg");
    }

    /// `x y w h re` then `f`: a filled rectangle (non-zero winding).
    pub(super) fn filled_rectangle(&mut self, x: f32, y: f32, w: f32, h: f32) {
        self.operator();
        for v in [x, y, w, h] {
            self.number(v);
        }
        self.bytes.extend_from_slice(b"re\nf");
    }

    /// `/NAME size Tf`.
    pub(super) fn font(&mut self, name: &str, size: f32) {
        self.operator();
        self.bytes.push(b'/');
        self.bytes.extend_from_slice(name.as_bytes());
        self.bytes.push(b' ');
        self.number(size);
        self.bytes.extend_from_slice(b"Tf");
    }

    /// `percent Tz`: horizontal scaling of the glyphs.
    pub(super) fn horizontal_scaling(&mut self, percent: f32) {
        self.operator();
        self.number(percent);
        self.bytes.extend_from_slice(b"Tz");
    }

    /// `1 0 0 1 x y Tm`: the next text starts at (x, y).
    pub(super) fn text_position(&mut self, x: f32, y: f32) {
        self.operator();
        for v in [1.0, 0.0, 0.0, 1.0, x, y] {
            self.number(v);
        }
        self.bytes.extend_from_slice(b"Tm");
    }

    /// `<glyph ids> Tj`.
    pub(super) fn show_glyphs(&mut self, glyphs: impl Iterator<Item = u16>) {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        self.operator();
        self.bytes.push(b'<');
        for g in glyphs {
            let [hi, lo] = g.to_be_bytes();
            self.bytes.extend_from_slice(&[
                HEX[usize::from(hi >> 4)],
                HEX[usize::from(hi & 15)],
                HEX[usize::from(lo >> 4)],
                HEX[usize::from(lo & 15)],
            ]);
        }
        self.bytes.extend_from_slice(b"> Tj");
    }

    /// The page's stream: `graphics`, then `text` in one text object (`BT` .. `ET`).
    pub(super) fn page(graphics: Stream, text: Stream) -> Vec<u8> {
        let mut bytes = graphics.bytes;
        bytes.reserve(text.bytes.len() + 8);
        if !bytes.is_empty() {
            bytes.push(b'\n');
        }
        bytes.extend_from_slice(b"BT");
        if !text.bytes.is_empty() {
            bytes.push(b'\n');
            bytes.extend_from_slice(&text.bytes);
        }
        bytes.extend_from_slice(b"\nET");
        bytes
    }
}

/// Which glyphs of one face a document drew, each with the character it was last drawn for (printpdf keeps the
/// last one too: it becomes the glyph's entry in the font's ToUnicode map).
pub(super) struct GlyphUsage {
    last_char: Vec<u32>,
}

const UNUSED: u32 = u32::MAX;

impl Default for GlyphUsage {
    fn default() -> GlyphUsage {
        GlyphUsage {
            last_char: vec![UNUSED; 1 << 16],
        }
    }
}

impl GlyphUsage {
    pub(super) fn drew(&mut self, glyph: u16, c: char) {
        self.last_char[usize::from(glyph)] = c as u32;
    }

    /// One character per glyph drawn, in glyph order: shown once to printpdf, it gives the same glyph usage as
    /// every page of the document (the text itself is never written: the pages' own streams replace it).
    pub(super) fn as_text(&self) -> String {
        self.last_char
            .iter()
            .filter(|&&c| c != UNUSED)
            .filter_map(|&c| char::from_u32(c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same operations through lopdf's own encoder (what printpdf uses), over numbers of every shape.
    #[test]
    fn operators_are_written_as_lopdf_writes_them() {
        use lopdf::content::{Content, Operation};
        use lopdf::Object::{Name, Real, String as Text};
        let numbers = [
            0.0,
            -0.0,
            1.0,
            45.0,
            47.6,
            505.28003,
            0.4,
            30.675,
            1e-7,
            123456789.0,
            -12.5,
            0.1 + 0.2,
        ];
        let mut graphics = Stream::default();
        let mut text = Stream::default();
        let mut expected_graphics = Vec::new();
        let mut expected_text = Vec::new();
        for (i, &v) in numbers.iter().enumerate() {
            let w = numbers[(i + 3) % numbers.len()];
            graphics.fill_colour(v, w, 0.5);
            expected_graphics.push(Operation::new("rg", vec![Real(v), Real(w), Real(0.5)]));
            graphics.filled_rectangle(v, w, 1.5, v);
            expected_graphics.push(Operation::new(
                "re",
                vec![Real(v), Real(w), Real(1.5), Real(v)],
            ));
            expected_graphics.push(Operation::new("f", vec![]));
            text.font(if i % 2 == 0 { "F1" } else { "F2" }, v);
            expected_text.push(Operation::new(
                "Tf",
                vec![
                    Name(if i % 2 == 0 {
                        b"F1".to_vec()
                    } else {
                        b"F2".to_vec()
                    }),
                    Real(v),
                ],
            ));
            text.horizontal_scaling(v * 100.0);
            expected_text.push(Operation::new("Tz", vec![Real(v * 100.0)]));
            text.text_position(v, w);
            expected_text.push(Operation::new(
                "Tm",
                [1.0, 0.0, 0.0, 1.0, v, w].into_iter().map(Real).collect(),
            ));
            let glyphs = [0x0000, 0x004a, 0xabcd, 0xffff, i as u16];
            text.show_glyphs(glyphs.into_iter());
            let bytes = glyphs.iter().flat_map(|g| g.to_be_bytes()).collect();
            expected_text.push(Operation::new(
                "Tj",
                vec![Text(bytes, lopdf::StringFormat::Hexadecimal)],
            ));
        }
        let mut expected = expected_graphics;
        expected.push(Operation::new("BT", vec![]));
        expected.extend(expected_text);
        expected.push(Operation::new("ET", vec![]));
        let lopdf_bytes = Content {
            operations: expected,
        }
        .encode()
        .expect("encode");
        assert_eq!(
            String::from_utf8(Stream::page(graphics, text)).expect("ascii"),
            String::from_utf8(lopdf_bytes).expect("ascii")
        );
        let empty = Content {
            operations: vec![Operation::new("BT", vec![]), Operation::new("ET", vec![])],
        };
        assert_eq!(
            Stream::page(Stream::default(), Stream::default()),
            empty.encode().expect("encode")
        );
    }

    #[test]
    fn usage_keeps_the_last_character_of_each_glyph_in_glyph_order() {
        let mut usage = GlyphUsage::default();
        assert_eq!(usage.as_text(), "");
        usage.drew(40, 'b');
        usage.drew(3, ' ');
        usage.drew(40, 'B');
        assert_eq!(usage.as_text(), " B");
    }
}
