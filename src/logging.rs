//! Logging on standard error without secrets. The SDK redacts credentials in what it logs itself, but at
//! `trace` it logs response bodies, and the evidence gateaudit reads carries other people's secrets: CloudTrail
//! records the `sessionToken` of every `AssumeRole` in its `responseElements`. Every log line (and every
//! collection error kept in the snapshot) goes through [`redact`], which blanks the value after any
//! `sessionToken`, `SecretAccessKey`, `X-Amz-Security-Token`-like name, however it is quoted or escaped.

use std::borrow::Cow;
use std::io::Write;

/// Names whose values are secrets, lower case without separators (matched ignoring case, `_` and `-`).
const SECRET_NAMES: &[&str] = &["sessiontoken", "secretaccesskey", "securitytoken"];

/// The longest run of quoting between a name and its value (`\\\": \\\"` of a JSON string escaped twice).
const MAX_GAP: usize = 16;

/// A value shorter than this is not a credential (an empty or `null` field, a length).
const MIN_SECRET: usize = 16;

fn is_secret_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b'=')
}

/// `text` with the value of every secret-named field replaced by `** redacted **`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    // Letters of the text without `_` and `-`, lower-cased, with their positions in `text`.
    let (letters, positions): (Vec<u8>, Vec<usize>) = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b != b'_' && **b != b'-')
        .map(|(i, b)| (b.to_ascii_lowercase(), i))
        .unzip();
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    for name in SECRET_NAMES {
        let mut from = 0;
        while let Some(found) = memchr::memmem::find(&letters[from..], name.as_bytes()) {
            let end_letter = from + found + name.len() - 1;
            from = end_letter + 1;
            let mut i = positions[end_letter] + 1;
            let gap_start = i;
            while i < bytes.len() && !is_secret_char(bytes[i]) && i - gap_start <= MAX_GAP {
                i += 1;
            }
            let start = i;
            while i < bytes.len() && is_secret_char(bytes[i]) {
                i += 1;
            }
            if i - start >= MIN_SECRET {
                cuts.push((start, i));
            }
        }
    }
    if cuts.is_empty() {
        return Cow::Borrowed(text);
    }
    cuts.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in cuts {
        if start < at {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str("** redacted **");
        at = end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// Standard error, through [`redact`]. The log formatter writes each event in one call.
#[derive(Debug, Default, Clone, Copy)]
pub struct RedactingStderr;

impl Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for RedactingStderr {
    type Writer = RedactingStderr;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingStderr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "FQoGZXIvYXdzEBYaDN64KAT5NOrwpDm2GaDa7htL7WRzKOKxQ45ViUDM";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    #[test]
    fn secret_values_are_blanked_however_they_are_quoted() {
        for (text, gone) in [
            (format!(r#"{{"sessionToken": "{TOKEN}"}}"#), TOKEN),
            (
                format!(r#"\\\"sessionToken\\\": \\\"{TOKEN}\\\", \\\"expiration\\\""#),
                TOKEN,
            ),
            (format!("<SessionToken>{TOKEN}</SessionToken>"), TOKEN),
            (
                format!("<SecretAccessKey>{SECRET}</SecretAccessKey>"),
                SECRET,
            ),
            (format!("aws_secret_access_key={SECRET}"), SECRET),
            (format!("X-Amz-Security-Token: {TOKEN}"), TOKEN),
        ] {
            let shown = redact(&text);
            assert!(!shown.contains(gone), "{shown}");
            assert!(shown.contains("** redacted **"), "{shown}");
        }
        let harmless = r#"{"sessionToken": null, "accessKeyId": "ASIAXXXXXXXXXXXXXXXX", "x-amz-security-token": ** redacted (length=356) **}"#;
        assert_eq!(redact(harmless), harmless);
        assert!(matches!(redact("plain text"), Cow::Borrowed(_)));
    }
}
