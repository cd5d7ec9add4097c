//! Hostile strings: names, messages and errors come from the audited accounts (an IAM user can be called
//! `alice\nFORGED ROW`), so every text output (CSV cells, PDF text, the console summary, JUnit) shows control
//! characters visibly instead of letting them act: a newline never starts a forged line or row, a NUL never reaches
//! a CSV file, a right-to-left override never reorders what an auditor reads. JSON outputs keep the exact value
//! (serde escapes controls there).
//!
//! Pure text functions; no I/O.

use std::borrow::Cow;

/// True for characters that change how text is laid out or read rather than printing: C0 and C1 controls, DEL,
/// and Unicode's invisible format controls (bidirectional overrides and isolates, zero-width characters, line
/// and paragraph separators, the byte-order mark, interlinear annotation).
pub fn is_hostile(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061C}'                  // Arabic letter mark
            | '\u{180E}'                // Mongolian vowel separator
            | '\u{200B}'..='\u{200F}'   // zero-width space/joiners, LRM, RLM
            | '\u{2028}' | '\u{2029}'   // line and paragraph separators
            | '\u{202A}'..='\u{202E}'   // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}'   // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}'   // bidi isolates
            | '\u{206A}'..='\u{206F}'   // deprecated format characters
            | '\u{FEFF}'                // byte-order mark / zero-width no-break space
            | '\u{FFF9}'..='\u{FFFB}') // interlinear annotation
}

/// `text` with every hostile character written as an escape: `\n`, `\r`, `\t`, `\0`, otherwise `\u{XXXX}`
/// (hex code point, as Rust and JSON readers know it). Borrowed when there is nothing to escape.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hostile) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if is_hostile(c) => out.push_str(&format!("\\u{{{:04X}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`visible`] of a path's display form.
pub fn visible_path(path: &std::path::Path) -> String {
    visible(&path.display().to_string()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_format_characters_are_escaped_visibly() {
        assert_eq!(visible("plain ARN / zoë 李"), "plain ARN / zoë 李");
        assert!(matches!(visible("plain"), Cow::Borrowed(_)));
        assert_eq!(visible("a\nb\rc\td\0e"), "a\\nb\\rc\\td\\0e");
        assert_eq!(visible("x\u{202E}gpj.exe"), "x\\u{202E}gpj.exe");
        assert_eq!(visible("\u{1b}[31mred"), "\\u{001B}[31mred");
        assert_eq!(visible("c1\u{85}\u{9b}"), "c1\\u{0085}\\u{009B}");
        assert_eq!(visible("del\u{7f}"), "del\\u{007F}");
        assert_eq!(
            visible("zw\u{200B}\u{2066}\u{FEFF}"),
            "zw\\u{200B}\\u{2066}\\u{FEFF}"
        );
        assert_eq!(visible("ls\u{2028}ps\u{2029}"), "ls\\u{2028}ps\\u{2029}");
        // Every C0 and C1 control, whichever: nothing invisible survives.
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            let shown = visible(&c.to_string()).into_owned();
            assert!(!shown.chars().any(is_hostile), "{c:?} -> {shown:?}");
            assert!(shown.starts_with('\\'), "{c:?} -> {shown:?}");
        }
    }
}
