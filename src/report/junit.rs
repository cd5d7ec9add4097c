//! junit.xml: one test case per check and account, so CodeBuild and GitHub test reporters show the audit.
//!
//! A case fails when the check has an unwaived finding at or above the failure threshold in that account; lower
//! findings and waived ones are listed in the case's output. An incomplete account adds a failing
//! `collection` case. Renders only; never calls AWS.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{CheckSummary, ReportError};
use crate::model::{Finding, Severity, Snapshot};

/// Escapes text for XML attribute values and character data.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters even when escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn describe(f: &Finding) -> String {
    let mut line = format!("[{}] {}: {}", f.severity, f.subject, f.message);
    if let Some(p) = &f.principal {
        let _ = write!(line, " (principal {p})");
    }
    for e in &f.evidence {
        let _ = write!(line, "\n    evidence {}: {}", e.kind, e.reference);
    }
    if let Some(w) = &f.waiver {
        let _ = write!(
            line,
            "\n    waived until {} by {}: {}",
            w.expires, w.approver, w.reason
        );
    }
    line
}

pub fn render(
    snapshot: &Snapshot,
    checks: &[CheckSummary],
    findings: &[Finding],
    fail_on: Severity,
) -> String {
    let mut suites = String::new();
    let (mut total_tests, mut total_failures) = (0usize, 0usize);
    for check in checks {
        let mut cases = String::new();
        let (mut tests, mut failures) = (0usize, 0usize);
        for account in &snapshot.accounts {
            tests += 1;
            let mine: Vec<&Finding> = findings
                .iter()
                .filter(|f| f.check_id == check.id && f.account_id == account.account_id)
                .collect();
            let failing: Vec<&&Finding> = mine
                .iter()
                .filter(|f| !f.is_waived() && f.severity >= fail_on)
                .collect();
            let name = xml_escape(&format!(
                "{} [{} {}]",
                check.id, account.account_id, account.name
            ));
            let _ = writeln!(
                cases,
                "    <testcase classname=\"gateaudit.{}\" name=\"{name}\">",
                xml_escape(&check.id)
            );
            if !failing.is_empty() {
                failures += 1;
                let body: Vec<String> = failing.iter().map(|f| describe(f)).collect();
                let _ = writeln!(
                    cases,
                    "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                    xml_escape(&format!(
                        "{} finding(s) at or above {fail_on}",
                        failing.len()
                    )),
                    xml_escape(&check.id),
                    xml_escape(&body.join("\n"))
                );
            }
            let others: Vec<String> = mine
                .iter()
                .filter(|f| f.is_waived() || f.severity < fail_on)
                .map(|f| describe(f))
                .collect();
            if !others.is_empty() {
                let _ = writeln!(
                    cases,
                    "      <system-out>{}</system-out>",
                    xml_escape(&others.join("\n"))
                );
            }
            cases.push_str("    </testcase>\n");
        }
        total_tests += tests;
        total_failures += failures;
        let _ = writeln!(suites, "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n    <properties>\n      <property name=\"title\" value=\"{}\"/>\n      <property name=\"severity\" value=\"{}\"/>\n      <property name=\"references\" value=\"{}\"/>\n    </properties>\n{cases}  </testsuite>",
            xml_escape(&check.id),
            xml_escape(&check.title),
            check.severity,
            xml_escape(&check.references.join("; "))
        );
    }
    let mut collection = String::new();
    let mut errors = 0usize;
    for account in &snapshot.accounts {
        let name = xml_escape(&format!(
            "collection [{} {}]",
            account.account_id, account.name
        ));
        let _ = writeln!(
            collection,
            "    <testcase classname=\"gateaudit.collection\" name=\"{name}\">"
        );
        if !account.is_complete() {
            errors += 1;
            let detail: Vec<String> = account
                .failed_steps()
                .map(|s| {
                    format!(
                        "{} {}: {}",
                        s.step,
                        s.region.as_deref().unwrap_or(""),
                        s.error.as_deref().unwrap_or("")
                    )
                })
                .collect();
            let _ = writeln!(collection, "      <error message=\"account could not be collected completely\" type=\"incomplete\">{}</error>",
                xml_escape(&detail.join("\n"))
            );
        }
        collection.push_str("    </testcase>\n");
    }
    // The organisation-wide reads (Organizations, Identity Center) are collection cases too.
    let mut global = 0;
    for (part, read) in [
        (
            "organization",
            snapshot
                .organization
                .as_ref()
                .map(|o| (&o.steps, &o.read_from)),
        ),
        (
            "identity-center",
            snapshot
                .identity_center
                .as_ref()
                .map(|i| (&i.steps, &i.read_from)),
        ),
    ] {
        let Some((steps, from)) = read else { continue };
        global += 1;
        let _ = writeln!(
            collection,
            "    <testcase classname=\"gateaudit.collection\" name=\"{}\">",
            xml_escape(&format!("collection [{part} read from {from}]"))
        );
        let failed: Vec<String> = steps
            .iter()
            .filter(|s| s.status == crate::model::StepStatus::Failed)
            .map(|s| format!("{}: {}", s.step, s.error.as_deref().unwrap_or("")))
            .collect();
        if !failed.is_empty() {
            errors += 1;
            let _ = writeln!(
                collection,
                "      <error message=\"{part} could not be read completely\" type=\"incomplete\">{}</error>",
                xml_escape(&failed.join("\n"))
            );
        }
        collection.push_str("    </testcase>\n");
    }
    let accounts = snapshot.accounts.len() + global;
    total_tests += accounts;
    let _ = writeln!(suites, "  <testsuite name=\"collection\" tests=\"{accounts}\" failures=\"0\" errors=\"{errors}\" skipped=\"0\">\n{collection}  </testsuite>"
    );
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"gateaudit {}\" tests=\"{total_tests}\" failures=\"{total_failures}\" errors=\"{errors}\">\n{suites}</testsuites>\n",
        xml_escape(&snapshot.run_id)
    )
}

pub fn write_junit(
    snapshot: &Snapshot,
    checks: &[CheckSummary],
    findings: &[Finding],
    fail_on: Severity,
    path: &Path,
) -> Result<PathBuf, ReportError> {
    std::fs::write(path, render(snapshot, checks, findings, fail_on))
        .map_err(|e| ReportError::io(path, e))?;
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        AccountSnapshot, CollectionStep, Evidence, Period, StepStatus, WaiverNote, SCHEMA_VERSION,
    };
    use crate::report::CheckStatus;

    fn snapshot() -> Snapshot {
        let now = chrono::Utc::now();
        let account = |id: &str, name: &str, failed: bool| AccountSnapshot {
            account_id: id.into(),
            name: name.into(),
            environment: "prod".into(),
            steps: vec![CollectionStep {
                step: "sts:AssumeRole".into(),
                region: None,
                status: if failed {
                    StepStatus::Failed
                } else {
                    StepStatus::Ok
                },
                items: 0,
                error: failed.then(|| "AccessDenied: not <trusted> & \"denied\"".into()),
            }],
            ..AccountSnapshot::default()
        };
        Snapshot {
            schema_version: SCHEMA_VERSION,
            tool_version: "t".into(),
            run_id: "run-1".into(),
            organisation: "Org".into(),
            collected_at: now,
            period: Period {
                since: now,
                until: now,
            },
            cicd_account: "111111111111".into(),
            regions: vec![],
            rule_set: "default".into(),
            rule_set_source: String::new(),
            declared_deployment_roles: vec![],
            approval_record_buckets: vec![],
            trail_buckets: vec![],
            organization: None,
            identity_center: None,
            accounts: vec![
                account("111111111111", "cicd", false),
                account("222222222222", "dev", true),
            ],
        }
    }

    fn finding(account: &str, severity: Severity, waived: bool) -> Finding {
        Finding {
            check_id: "write-access".into(),
            severity,
            account_id: account.into(),
            subject: "arn:aws:iam::1:user/<m&m>".into(),
            principal: Some("arn:aws:iam::1:user/<m&m>".into()),
            message: "can write".into(),
            evidence: vec![Evidence::new("policy-statement", "p#Statement[0]", "")],
            waiver: waived.then(|| WaiverNote {
                reason: "r".into(),
                approver: "a".into(),
                expires: "2099-01-01".into(),
            }),
        }
    }

    fn summary() -> CheckSummary {
        CheckSummary {
            id: "write-access".into(),
            title: "Only deployment roles write".into(),
            description: String::new(),
            severity: Severity::High,
            references: vec!["SOC 2 CC8.1".into()],
            findings: 2,
            waived: 1,
            status: CheckStatus::Failed,
        }
    }

    #[test]
    fn cases_per_check_and_account_fail_only_at_the_threshold() {
        let findings = vec![
            finding("111111111111", Severity::High, false),
            finding("111111111111", Severity::Critical, true),
            finding("222222222222", Severity::Low, false),
        ];
        let xml = render(&snapshot(), &[summary()], &findings, Severity::High);
        // One failing case for cicd (the high finding), the waived critical and the low one only in system-out.
        assert_eq!(xml.matches("<testcase ").count(), 4, "{xml}");
        assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
        assert!(xml.contains("name=\"write-access [111111111111 cicd]\""));
        assert!(xml.contains("waived until 2099-01-01"));
        assert!(xml.contains("&lt;m&amp;m&gt;"), "names are escaped: {xml}");
        assert_eq!(
            xml.matches("<error ").count(),
            1,
            "the incomplete account is an error: {xml}"
        );
        assert!(xml.contains("&quot;denied&quot;"));
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"gateaudit run-1\" tests=\"4\" failures=\"1\" errors=\"1\">"), "{xml}");
    }

    #[test]
    fn control_characters_do_not_break_the_xml() {
        assert_eq!(xml_escape("a\u{1}b\tc"), "a\u{FFFD}b\tc");
    }
}
