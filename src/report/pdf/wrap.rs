//! Line breaking for the PDF reports. The rule every table and paragraph follows: nothing an auditor reads is
//! ever cut. Free text wraps at spaces; an identifier wider than its column (an ARN, an S3 key, an execution id)
//! wraps at its own separators (`:`, `/`, `-`, ...), so an account id or a role name is never split, unless a
//! single segment is itself wider than the column; the text then takes as many lines as it needs and the row
//! grows. Only page chrome (running header, footer) is fitted to one line ([`fit_line`]).
//!
//! Knows nothing of pages or reports; never calls AWS.

use super::fonts::{metrics, printable, Style};
use super::layout::ELLIPSIS;

/// Characters after which an identifier too wide for its column is broken (ARNs, paths, keys, e-mail).
pub(super) fn is_break_after(c: char) -> bool {
    matches!(
        c,
        '/' | ':' | '-' | '_' | '.' | '@' | ',' | ';' | '=' | '&' | '?'
    )
}

/// Wraps `text` to `width` points and returns every line: at spaces where possible; a word wider than the line
/// is broken after its last separator that fits (see [`is_break_after`]), else before a capital inside a
/// camelCase word when that leaves a reasonably full line, else where the line is full. A newline in `text` is
/// data and is shown as `\n` (see [`printable`]); lines the report itself wants are separate parts of a cell.
pub(super) fn wrap(text: &str, style: Style, width: f32) -> Vec<String> {
    let text = printable(text);
    let m = metrics(style.bold);
    let scale = style.size * style.stretch;
    let em = |c: char| m.char_em(c) * scale;
    let space = em(' ');
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut lw = 0.0f32;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
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
        // Wider than a whole line: start it on the current line if that has a fair amount of room left.
        if !line.is_empty() {
            if width - lw - sep > width * 0.3 {
                line.push(' ');
                lw += sep;
            } else {
                lines.push(std::mem::take(&mut line));
                lw = 0.0;
            }
        }
        break_word(word, &em, width, &mut lines, &mut line, &mut lw);
    }
    lines.push(line);
    if lines.len() > 1 && lines[0].is_empty() {
        lines.remove(0);
    }
    lines
}

/// Appends `word` to `line`, pushing full lines to `lines` at the best break points (see [`wrap`]).
fn break_word(
    word: &str,
    em: &impl Fn(char) -> f32,
    width: f32,
    lines: &mut Vec<String>,
    line: &mut String,
    lw: &mut f32,
) {
    // (byte offset in `line` just after the break, width of `line` up to there)
    let mut after_separator: Option<(usize, f32)> = None;
    let mut before_capital: Option<(usize, f32)> = None;
    let mut prev = ' ';
    for c in word.chars() {
        let cw = em(c);
        if c.is_uppercase() && prev.is_lowercase() {
            before_capital = Some((line.len(), *lw));
        }
        prev = c;
        if *lw + cw > width && !line.is_empty() {
            let at = after_separator
                .filter(|&(at, _)| at > 0 && at < line.len())
                .or(before_capital.filter(|&(at, w)| w >= width * 0.5 && at < line.len()));
            match at {
                Some((at, w_at)) => {
                    let tail = line.split_off(at);
                    lines.push(std::mem::replace(line, tail));
                    *lw -= w_at;
                }
                None => {
                    lines.push(std::mem::take(line));
                    *lw = 0.0;
                }
            }
            after_separator = None;
            before_capital = None;
        }
        line.push(c);
        *lw += cw;
        if is_break_after(c) {
            after_separator = Some((line.len(), *lw));
        }
    }
}

/// `text` on one line of `width` points, ending with "…" when it does not fit. Only for page chrome (the
/// running header and the footer), which repeat what the cover states in full.
pub(super) fn fit_line(text: &str, style: Style, width: f32) -> String {
    let text = printable(text);
    let m = metrics(style.bold);
    let scale = style.size * style.stretch;
    if m.width(&text, 1.0) * scale <= width {
        return text.into_owned();
    }
    let budget = width - m.char_em(ELLIPSIS) * scale;
    let mut out = String::new();
    let mut w = 0.0;
    for c in text.chars() {
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

#[cfg(test)]
mod tests {
    use super::super::fonts::{BODY_STYLE, CELL_STYLE};
    use super::*;

    fn width(line: &str) -> f32 {
        metrics(false).width(line, CELL_STYLE.size)
    }

    #[test]
    fn an_arn_wraps_whole_at_its_separators_and_never_inside_the_account_id() {
        let arn = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Deployer_0123456789abcdef/someone@example.com";
        for w in [60.0, 80.0, 120.0, 200.0] {
            let lines = wrap(arn, CELL_STYLE, w);
            assert_eq!(lines.concat(), arn, "width {w}: {lines:?}");
            assert!(lines.iter().all(|l| width(l) <= w + 0.01), "{lines:?}");
            assert!(
                lines.iter().any(|l| l.contains("111122223333")),
                "width {w}: the account id is split: {lines:?}"
            );
            assert!(lines.iter().all(|l| !l.contains(ELLIPSIS)));
        }
    }

    #[test]
    fn free_text_wraps_in_full_and_a_segment_wider_than_the_column_breaks_where_full() {
        let text = "CAB ticket CAB-7781 approved by the change board after the emergency review of INC-4711 ".repeat(20);
        let lines = wrap(&text, BODY_STYLE, 90.0);
        assert!(lines.len() > 40);
        assert_eq!(lines.join(" "), text.trim_end());
        let hex = "0123456789abcdef".repeat(8);
        let lines = wrap(&hex, CELL_STYLE, 50.0);
        assert_eq!(lines.concat(), hex);
        assert!(lines.iter().all(|l| width(l) <= 50.0 + 0.01));
        assert_eq!(wrap("", CELL_STYLE, 50.0), vec![String::new()]);
        assert_eq!(wrap("two words", CELL_STYLE, 200.0), vec!["two words"]);
    }

    #[test]
    fn chrome_is_fitted_to_one_line_visibly() {
        let long = "Change-management evidence report · ".repeat(10);
        let line = fit_line(&long, CELL_STYLE, 100.0);
        assert!(line.ends_with(ELLIPSIS) && width(&line) <= 100.0 + 0.01);
        assert_eq!(fit_line("short", CELL_STYLE, 100.0), "short");
    }
}
