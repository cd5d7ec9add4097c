//! junit.xml: one test case per check and account, so CodeBuild and GitHub test reporters show the audit.
//!
//! A case is an *error* when the check could not read all its inputs in that account (naming the collection
//! steps), a *failure* when the check has an unwaived finding at or above the failure threshold there; lower
//! findings and waived ones are listed in the case's output. Findings that belong to no account of the snapshot
//! (organisation-wide ones, or an account id the snapshot does not hold) get a case of their own, never dropped.
//! A `collection` suite has an error case for each incomplete account. Written with `quick-junit`; every text is
//! shown with control characters escaped (`report::text`). Renders only; never calls AWS.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::text::visible;
use super::{CheckSummary, ReportError};
use crate::model::{Finding, Severity, Snapshot, StepStatus};

/// A finding as lines of text: its fields shown with control characters escaped, so only the lines this
/// function makes are lines.
fn describe(f: &Finding) -> String {
    let v = |s: &str| visible(s).into_owned();
    let mut line = format!("[{}] {}: {}", f.severity, v(&f.subject), v(&f.message));
    if let Some(p) = &f.principal {
        let _ = write!(line, " (principal {})", v(p));
    }
    for e in &f.evidence {
        let _ = write!(line, "\n    evidence {}: {}", v(&e.kind), v(&e.reference));
    }
    if let Some(w) = &f.waiver {
        let _ = write!(
            line,
            "\n    waived until {} by {}: {}",
            v(&w.expires),
            v(&w.approver),
            v(&w.reason)
        );
    }
    line
}

/// An XML body from lines already shown safely.
fn body(lines: &[String]) -> String {
    lines.join("\n")
}

/// Where a case's findings and gaps belong: an account of the snapshot, or none of them.
enum Scope<'a> {
    Account {
        id: &'a str,
        name: &'a str,
    },
    /// Findings and gaps with this account id (empty: organisation-wide) that the snapshot does not hold.
    Other(&'a str),
}

impl Scope<'_> {
    fn id(&self) -> &str {
        match self {
            Scope::Account { id, .. } => id,
            Scope::Other(id) => id,
        }
    }
    fn label(&self) -> String {
        match self {
            Scope::Account { id, name } => format!("{id} {name}"),
            Scope::Other("") => "organisation-wide".to_owned(),
            Scope::Other(id) => format!("{id} not in the snapshot"),
        }
    }
}

fn case(check: &CheckSummary, scope: &Scope, findings: &[Finding], fail_on: Severity) -> TestCase {
    let id = scope.id();
    let mine: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.check_id == check.id && f.account_id == id)
        .collect();
    let missing: Vec<String> = check
        .incomplete
        .iter()
        .filter(|m| m.account_id == id)
        .map(|m| visible(&m.describe()).into_owned())
        .collect();
    let failing: Vec<String> = mine
        .iter()
        .filter(|f| !f.is_waived() && f.severity >= fail_on)
        .map(|f| describe(f))
        .collect();
    let mut others: Vec<String> = mine
        .iter()
        .filter(|f| f.is_waived() || f.severity < fail_on)
        .map(|f| describe(f))
        .collect();
    let status = if !missing.is_empty() {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status
            .set_type("incomplete")
            .set_message(format!(
                "{} could not read all its inputs in {}: {}",
                visible(&check.id),
                visible(&scope.label()),
                missing.join("; ")
            ))
            .set_description(body(&missing));
        // Findings made from what could be read still count: listed with the gaps.
        others.splice(0..0, failing);
        status
    } else if !failing.is_empty() {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status
            .set_type(visible(&check.id))
            .set_message(format!(
                "{} finding(s) at or above {fail_on}",
                failing.len()
            ))
            .set_description(body(&failing));
        status
    } else {
        TestCaseStatus::success()
    };
    let mut case = TestCase::new(
        visible(&format!("{} [{}]", check.id, scope.label())),
        status,
    );
    case.set_classname(visible(&format!("gateaudit.{}", check.id)));
    if !others.is_empty() {
        case.set_system_out(body(&others));
    }
    case
}

/// The account ids findings or gaps of `check` name that are not accounts of the snapshot, in order.
fn other_scopes<'a>(
    snapshot: &Snapshot,
    check: &'a CheckSummary,
    findings: &'a [Finding],
) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    let ids = findings
        .iter()
        .filter(|f| f.check_id == check.id)
        .map(|f| f.account_id.as_str())
        .chain(check.incomplete.iter().map(|m| m.account_id.as_str()));
    for id in ids {
        if snapshot.account(id).is_none() && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

pub fn render(
    snapshot: &Snapshot,
    checks: &[CheckSummary],
    findings: &[Finding],
    fail_on: Severity,
) -> Result<String, quick_junit::SerializeError> {
    let mut report = Report::new(visible(&format!("gateaudit {}", snapshot.run_id)));
    for check in checks {
        let mut suite = TestSuite::new(visible(&check.id));
        suite.add_properties([
            Property::new("title", visible(&check.title)),
            Property::new("severity", check.severity.as_str()),
            Property::new("references", visible(&check.references.join("; "))),
            Property::new("status", check.status.as_str()),
        ]);
        for account in &snapshot.accounts {
            let scope = Scope::Account {
                id: &account.account_id,
                name: &account.name,
            };
            suite.add_test_case(case(check, &scope, findings, fail_on));
        }
        for id in other_scopes(snapshot, check, findings) {
            suite.add_test_case(case(check, &Scope::Other(id), findings, fail_on));
        }
        report.add_test_suite(suite);
    }
    let mut collection = TestSuite::new("collection");
    if snapshot.accounts.is_empty() {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status
            .set_type("incomplete")
            .set_message("the snapshot holds no accounts: nothing was audited");
        collection.add_test_case(TestCase::new("collection [no accounts]", status));
    }
    for account in &snapshot.accounts {
        let name = visible(&format!(
            "collection [{} {}]",
            account.account_id, account.name
        ))
        .into_owned();
        let detail = |s: &crate::model::CollectionStep| {
            visible(&format!(
                "{} {}: {}",
                s.step,
                s.region.as_deref().unwrap_or(""),
                s.error.as_deref().unwrap_or("")
            ))
            .into_owned()
        };
        let status = if account.is_complete() {
            TestCaseStatus::success()
        } else {
            let lines: Vec<String> = account.failed_steps().map(detail).collect();
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status
                .set_type("incomplete")
                .set_message("account could not be collected completely")
                .set_description(body(&lines));
            status
        };
        let mut case = TestCase::new(name, status);
        case.set_classname("gateaudit.collection");
        let partial: Vec<String> = account
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::Partial)
            .map(|s| format!("partial: {}", detail(s)))
            .collect();
        if !partial.is_empty() {
            case.set_system_out(body(&partial));
        }
        collection.add_test_case(case);
    }
    // The organisation-wide reads (Organizations, Identity Center) are collection cases too.
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
        let failed: Vec<String> = steps
            .iter()
            .filter(|s| s.status == StepStatus::Failed)
            .map(|s| {
                visible(&format!("{}: {}", s.step, s.error.as_deref().unwrap_or(""))).into_owned()
            })
            .collect();
        let status = if failed.is_empty() {
            TestCaseStatus::success()
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status
                .set_type("incomplete")
                .set_message(format!("{part} could not be read completely"))
                .set_description(body(&failed));
            status
        };
        let mut case = TestCase::new(
            visible(&format!("collection [{part} read from {from}]")).into_owned(),
            status,
        );
        case.set_classname("gateaudit.collection");
        collection.add_test_case(case);
    }
    report.add_test_suite(collection);
    report.to_string()
}

pub fn write_junit(
    snapshot: &Snapshot,
    checks: &[CheckSummary],
    findings: &[Finding],
    fail_on: Severity,
    path: &Path,
) -> Result<PathBuf, ReportError> {
    let xml =
        render(snapshot, checks, findings, fail_on).map_err(|e| ReportError::format(path, e))?;
    std::fs::write(path, xml).map_err(|e| ReportError::io(path, e))?;
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
                note: None,
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
            incomplete: vec![],
        }
    }

    fn summary_with(incomplete: Vec<crate::checks::MissingInput>) -> CheckSummary {
        CheckSummary {
            status: CheckStatus::Incomplete,
            incomplete,
            ..summary()
        }
    }

    /// (name, kind of non-success or "ok", message, body) of every test case, as a CI reporter reads them.
    fn parsed(xml: &str) -> Vec<(String, String, String, String)> {
        let doc = roxmltree::Document::parse(xml).expect("junit.xml is well-formed XML");
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .map(|c| {
                let outcome = c
                    .children()
                    .find(|n| n.has_tag_name("failure") || n.has_tag_name("error"));
                let out = c
                    .children()
                    .find(|n| n.has_tag_name("system-out"))
                    .and_then(|n| n.text())
                    .unwrap_or_default();
                (
                    c.attribute("name").unwrap_or_default().to_owned(),
                    outcome.map_or("ok".to_owned(), |n| n.tag_name().name().to_owned()),
                    outcome
                        .and_then(|n| n.attribute("message"))
                        .unwrap_or_default()
                        .to_owned(),
                    format!(
                        "{}{out}",
                        outcome.and_then(|n| n.text()).unwrap_or_default()
                    ),
                )
            })
            .collect()
    }

    fn root_counts(xml: &str) -> (String, String, String) {
        let doc = roxmltree::Document::parse(xml).expect("xml");
        let root = doc.root_element();
        let get = |a: &str| root.attribute(a).unwrap_or_default().to_owned();
        (get("tests"), get("failures"), get("errors"))
    }

    #[test]
    fn cases_per_check_and_account_fail_only_at_the_threshold() {
        let findings = vec![
            finding("111111111111", Severity::High, false),
            finding("111111111111", Severity::Critical, true),
            finding("222222222222", Severity::Low, false),
        ];
        let xml = render(&snapshot(), &[summary()], &findings, Severity::High).expect("xml");
        let cases = parsed(&xml);
        // Two accounts for the check, two in the collection suite.
        assert_eq!(cases.len(), 4, "{xml}");
        let cicd = cases
            .iter()
            .find(|c| c.0 == "write-access [111111111111 cicd]")
            .expect("case of cicd");
        assert_eq!(cicd.1, "failure");
        assert_eq!(cicd.2, "1 finding(s) at or above high");
        assert!(cicd.3.contains("arn:aws:iam::1:user/<m&m>"), "{}", cicd.3);
        assert!(cicd.3.contains("waived until 2099-01-01"), "{}", cicd.3);
        let dev = cases
            .iter()
            .find(|c| c.0 == "write-access [222222222222 dev]")
            .expect("case of dev");
        assert_eq!(dev.1, "ok", "a low finding does not fail the case");
        let collection = cases
            .iter()
            .find(|c| c.0 == "collection [222222222222 dev]")
            .expect("collection case");
        assert_eq!(collection.1, "error");
        assert!(collection
            .3
            .contains("AccessDenied: not <trusted> & \"denied\""));
        assert_eq!(
            root_counts(&xml),
            ("4".to_owned(), "1".to_owned(), "1".to_owned())
        );
    }

    #[test]
    fn findings_of_no_account_of_the_snapshot_get_a_case_of_their_own() {
        let findings = vec![
            finding("", Severity::High, false),
            finding("999999999999", Severity::Critical, false),
        ];
        let cases =
            parsed(&render(&snapshot(), &[summary()], &findings, Severity::High).expect("xml"));
        let org = cases
            .iter()
            .find(|c| c.0 == "write-access [organisation-wide]")
            .expect("organisation-wide case");
        assert_eq!(org.1, "failure");
        let foreign = cases
            .iter()
            .find(|c| c.0 == "write-access [999999999999 not in the snapshot]")
            .expect("foreign account case");
        assert_eq!(foreign.1, "failure");
    }

    #[test]
    fn an_incomplete_check_is_an_error_naming_the_account_and_the_step() {
        let missing = crate::checks::MissingInput {
            account_id: "222222222222".into(),
            account_name: "dev".into(),
            kind: crate::checks::InputKind::WriteEvents,
            step: "cloudtrail:LookupEvents(ReadOnly=false)".into(),
            region: Some("us-east-1".into()),
            status: "partial".into(),
            detail: "LookupEvents covers only the last 90 days".into(),
        };
        let findings = vec![finding("222222222222", Severity::High, false)];
        let xml = render(
            &snapshot(),
            &[summary_with(vec![missing])],
            &findings,
            Severity::High,
        )
        .expect("xml");
        let cases = parsed(&xml);
        let dev = cases
            .iter()
            .find(|c| c.0 == "write-access [222222222222 dev]")
            .expect("case");
        assert_eq!(dev.1, "error");
        assert!(
            dev.2.contains(
                "222222222222 (dev): cloudtrail:LookupEvents(ReadOnly=false) us-east-1 partial"
            ),
            "{}",
            dev.2
        );
        assert!(
            dev.3.contains("can write"),
            "the finding is still listed: {}",
            dev.3
        );
        let cicd = cases
            .iter()
            .find(|c| c.0 == "write-access [111111111111 cicd]")
            .expect("case");
        assert_eq!(cicd.1, "ok", "complete in cicd");
    }

    #[test]
    fn control_characters_are_shown_and_the_xml_stays_valid() {
        let mut f = finding("111111111111", Severity::High, false);
        f.subject = "evil\u{1}\u{1b}[2J\nFORGED\u{202E}".into();
        let xml = render(&snapshot(), &[summary()], &[f], Severity::High).expect("xml");
        let cases = parsed(&xml);
        let cicd = cases
            .iter()
            .find(|c| c.0 == "write-access [111111111111 cicd]")
            .expect("case");
        assert!(
            cicd.3
                .contains("evil\\u{0001}\\u{001B}[2J\\nFORGED\\u{202E}"),
            "{}",
            cicd.3
        );
        assert!(!xml.contains('\u{202E}'));
    }
}
