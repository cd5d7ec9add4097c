//! The console summary: a compact table of checks with their status, incomplete accounts, the result and where
//! the reports are. Coloured on a terminal (unless NO_COLOR is set), plain text when piped. Renders only.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::text::{visible, visible_path};
use super::{CheckStatus, CheckSummary};
use crate::model::{Finding, Severity};

const RESET: &str = "\x1b[0m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";

/// Missing inputs listed per incomplete check (findings.json and the PDF list all of them).
const MISSING_SHOWN: usize = 5;

/// Everything the summary shows.
pub struct Summary<'a> {
    pub rule_set: &'a str,
    pub ledger_rows: usize,
    pub checks: &'a [CheckSummary],
    pub findings: &'a [Finding],
    pub incomplete_accounts: &'a [(String, String)],
    /// What the answers ignore.
    pub notes: &'a [String],
    pub dir: &'a std::path::Path,
    pub files: &'a [PathBuf],
    pub fail_on: Severity,
    /// The result line, decided by the caller (it owns the exit code).
    pub result: &'a str,
    pub failed: bool,
}

/// Whether to colour: a terminal, and NO_COLOR unset (https://no-color.org).
pub fn use_colour(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub fn render(s: &Summary, colour: bool) -> String {
    let paint = |code: &str, text: &str| {
        if colour {
            format!("{code}{text}{RESET}")
        } else {
            text.to_owned()
        }
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "gateaudit: rule set \"{}\", {} approvals in the ledger",
        visible(s.rule_set),
        s.ledger_rows
    );
    let _ = writeln!(
        out,
        "{}",
        paint(
            BOLD,
            &format!(
                "{:<22} {:<8} {:>8} {:>7} {:>9}  title",
                "check", "status", "findings", "waived", "≥ fail-on"
            )
        )
    );
    for c in s.checks {
        let at_threshold = s
            .findings
            .iter()
            .filter(|f| f.check_id == c.id && !f.is_waived() && f.severity >= s.fail_on)
            .count();
        let status = format!("{:<8}", c.status.as_str());
        let status = match c.status {
            CheckStatus::Passed => paint(GREEN, &status),
            CheckStatus::Incomplete => paint(RED, &paint(BOLD, &status)),
            CheckStatus::Failed if at_threshold > 0 => paint(RED, &status),
            CheckStatus::Failed | CheckStatus::Waived => paint(YELLOW, &status),
        };
        let _ = writeln!(
            out,
            "{:<22} {status} {:>8} {:>7} {:>9}  {}",
            visible(&c.id),
            c.findings,
            c.waived,
            at_threshold,
            visible(&c.title)
        );
    }
    for c in s.checks.iter().filter(|c| !c.incomplete.is_empty()) {
        let _ = writeln!(
            out,
            "{}",
            paint(
                RED,
                &format!(
                    "INCOMPLETE check {} in {}:",
                    visible(&c.id),
                    visible(&c.incomplete_accounts().join(", "))
                )
            )
        );
        for m in c.incomplete.iter().take(MISSING_SHOWN) {
            let _ = writeln!(out, "  {}", paint(RED, &visible(&m.describe())));
        }
        if c.incomplete.len() > MISSING_SHOWN {
            let _ = writeln!(
                out,
                "  {}",
                paint(
                    RED,
                    &format!(
                        "and {} more (findings.json lists them all)",
                        c.incomplete.len() - MISSING_SHOWN
                    )
                )
            );
        }
    }
    for (account, errors) in s.incomplete_accounts {
        let _ = writeln!(
            out,
            "{}",
            paint(
                RED,
                &format!("INCOMPLETE {}: {}", visible(account), visible(errors))
            )
        );
    }
    for note in s.notes {
        let _ = writeln!(
            out,
            "{}",
            paint(YELLOW, &format!("note: {}", visible(note)))
        );
    }
    let _ = writeln!(out, "reports in {}:", visible_path(s.dir));
    for f in s.files {
        let _ = writeln!(out, "  {}", paint(DIM, &visible_path(f)));
    }
    let _ = writeln!(
        out,
        "{}",
        paint(if s.failed { RED } else { GREEN }, s.result)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(id: &str, status: CheckStatus, findings: usize) -> CheckSummary {
        CheckSummary {
            id: id.into(),
            title: format!("title of {id}"),
            description: String::new(),
            severity: Severity::High,
            references: vec![],
            findings,
            waived: 0,
            status,
            incomplete: vec![],
        }
    }

    #[test]
    fn plain_when_piped_and_coloured_on_a_terminal() {
        let checks = vec![
            check("distinct-approvers", CheckStatus::Failed, 1),
            check("write-access", CheckStatus::Passed, 0),
        ];
        let findings = vec![Finding {
            check_id: "distinct-approvers".into(),
            severity: Severity::High,
            account_id: "1".into(),
            subject: "s".into(),
            principal: None,
            message: "m".into(),
            evidence: vec![],
            waiver: None,
        }];
        let incomplete = vec![(
            "account 555555555555 (sand\nbox)".to_owned(),
            "sts:AssumeRole: AccessDenied\u{1b}[2J\u{202E}".to_owned(),
        )];
        let files = vec![PathBuf::from("reports/r/report.pdf")];
        let s = Summary {
            rule_set: "default",
            ledger_rows: 7,
            checks: &checks,
            findings: &findings,
            incomplete_accounts: &incomplete,
            notes: &["AWS Organizations was not read".to_owned()],
            dir: std::path::Path::new("reports/r"),
            files: &files,
            fail_on: Severity::High,
            result: "result: FAILED",
            failed: true,
        };
        let plain = render(&s, false);
        assert!(!plain.contains('\x1b'), "{plain}");
        assert!(plain.contains("distinct-approvers     failed          1       0         1  title of distinct-approvers"), "{plain}");
        assert!(
            plain.contains(
                "INCOMPLETE account 555555555555 (sand\\nbox): sts:AssumeRole: AccessDenied\\u{001B}[2J\\u{202E}\n"
            ),
            "names from the accounts are shown, never acted on: {plain}"
        );
        assert!(!plain.contains('\u{202E}'));
        assert!(
            plain.contains("note: AWS Organizations was not read"),
            "{plain}"
        );
        assert!(plain.contains("reports/r/report.pdf"));
        let coloured = render(&s, true);
        assert!(
            coloured.contains(&format!("{RED}failed  {RESET}")),
            "{coloured:?}"
        );
        assert!(coloured.contains(&format!("{GREEN}passed  {RESET}")));
        assert!(coloured.contains(&format!("{RED}result: FAILED{RESET}")));
    }
}
