use super::volumes::ROWS_PER_VOLUME;
use super::*;
use crate::model::{
    AccountSnapshot, CollectionStep, Evidence, Finding, Period, Severity, Snapshot, StepStatus,
    WaiverNote, SCHEMA_VERSION,
};
use crate::report::{CheckStatus, CheckSummary, LedgerRow, ReportInput};
use chrono::TimeZone;
use chrono::{DateTime, Utc};
use std::process::Command;

const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 14, h, m, 7)
        .single()
        .unwrap_or_default()
}

fn step(
    step: &str,
    region: Option<&str>,
    status: StepStatus,
    items: usize,
    error: Option<&str>,
) -> CollectionStep {
    CollectionStep {
        step: step.into(),
        region: region.map(str::to_owned),
        status,
        items,
        error: error.map(str::to_owned),
        note: None,
    }
}

fn snapshot() -> Snapshot {
    let prod = AccountSnapshot {
        account_id: "111122223333".into(),
        name: "prod-payments".into(),
        environment: "production".into(),
        role_arn: Some("arn:aws:iam::111122223333:role/gateaudit-reader".into()),
        steps: vec![
            step(
                "iam:GetAccountAuthorizationDetails",
                None,
                StepStatus::Ok,
                42,
                None,
            ),
            step(
                "codepipeline:ListPipelines",
                Some("eu-west-1"),
                StepStatus::Ok,
                3,
                None,
            ),
            step(
                "cloudtrail:LookupEvents",
                Some("eu-west-1"),
                StepStatus::Partial,
                17,
                Some("LookupEvents reaches back only 90 days; the period starts 120 days ago"),
            ),
        ],
        ..AccountSnapshot::default()
    };
    let staging = AccountSnapshot {
        account_id: "444455556666".into(),
        name: "staging-Ångström".into(),
        environment: "staging".into(),
        role_arn: None,
        steps: vec![
            step("iam:GetAccountAuthorizationDetails", None, StepStatus::Ok, 12, None),
            step(
                "s3:ListObjectsV2 approval-records",
                Some("eu-west-1"),
                StepStatus::Failed,
                0,
                Some(
                    "AccessDenied: User: arn:aws:sts::444455556666:assumed-role/gateaudit-reader/gateaudit-run \
                     is not authorized to perform: s3:ListBucket on resource: \
                     arn:aws:s3:::org-approval-records-444455556666-eu-west-1 because no identity-based policy \
                     allows the s3:ListBucket action (Service: S3, Status Code: 403, Request ID: 8XQ2Y7ZV)",
                ),
            ),
        ],
        ..AccountSnapshot::default()
    };
    Snapshot {
        schema_version: SCHEMA_VERSION,
        tool_version: "0.1.0".into(),
        run_id: "20240514T120000Z-k3x9".into(),
        organisation: "Zoë Ångström Payments GmbH".into(),
        collected_at: t(12, 0),
        period: Period {
            since: Utc
                .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
                .single()
                .unwrap_or_default(),
            until: Utc
                .with_ymd_and_hms(2024, 4, 1, 0, 0, 0)
                .single()
                .unwrap_or_default(),
        },
        cicd_account: "999988887777".into(),
        regions: vec!["eu-west-1".into(), "us-east-1".into()],
        rule_set: "soc2-default".into(),
        rule_set_source: String::new(),
        declared_deployment_roles: Vec::new(),
        approval_record_buckets: Vec::new(),
        trail_buckets: Vec::new(),
        organization: None,
        identity_center: None,
        accounts: vec![prod, staging],
    }
}

fn checks() -> Vec<CheckSummary> {
    vec![
        CheckSummary {
            id: "approver-separation".into(),
            title: "Approvers are not the authors of the change".into(),
            description: "Every production approval was given by a person other than the one who started the \
                          pipeline execution or committed the change."
                .into(),
            severity: Severity::High,
            references: vec!["SOC 2 CC8.1".into(), "ISO 27001 A.8.32".into()],
            findings: 2,
            waived: 1,
            status: CheckStatus::Failed,
            incomplete: vec![],
        },
        CheckSummary {
            id: "distinct-approvers".into(),
            title: "Two distinct approvers per production deployment".into(),
            description: "Production gates are approved by at least two different people.".into(),
            severity: Severity::Medium,
            references: vec!["SOC 2 CC8.1".into()],
            findings: 0,
            waived: 0,
            status: CheckStatus::Passed,
            incomplete: vec![],
        },
    ]
}

fn findings() -> Vec<Finding> {
    vec![
        Finding {
            check_id: "approver-separation".into(),
            severity: Severity::High,
            account_id: "111122223333".into(),
            subject: "payments-api execution 3f2a9c1e-7b4d-4e8a-9c0f-1d2e3f4a5b6c".into(),
            principal: Some("arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Deployer_0123456789abcdef/李雷".into()),
            message: "The execution was started and approved by the same person (李雷).".into(),
            evidence: vec![
                Evidence::new(
                    "cloudtrail-event",
                    "5e3c1a2b-0000-4bbb-8ccc-123456789012",
                    "StartPipelineExecution by arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Deployer_0123456789abcdef/li.lei@example.com",
                ),
                Evidence::new("action-execution", "arn:aws:codepipeline:eu-west-1:111122223333:payments-api/Approve/ProdGate", ""),
            ],
            waiver: None,
        },
        Finding {
            check_id: "approver-separation".into(),
            severity: Severity::High,
            account_id: "111122223333".into(),
            subject: "ledger-batch execution 0a1b2c3d".into(),
            principal: Some("zoe.angstrom".into()),
            message: "Self-approval by Zoë Ångström during the incident of 2024-02-03.".into(),
            evidence: vec![Evidence::new("cloudtrail-event", "ab12cd34-5678-90ef-1234-567890abcdef", "")],
            waiver: Some(WaiverNote {
                reason: "Emergency change INC-4711, reviewed after the fact by the CAB.".into(),
                approver: "ciso@example.com".into(),
                expires: "2024-12-31".into(),
            }),
        },
    ]
}

fn ledger_rows(n: usize) -> Vec<LedgerRow> {
    (0..n)
        .map(|i| {
            let person = match i % 4 {
                0 => "Zoë Ångström",
                1 => "李雷",
                2 => "jürgen.müller@example.com",
                _ => "release-bot",
            };
            LedgerRow {
                account_id: "111122223333".into(),
                account_name: "prod-payments".into(),
                environment: "production".into(),
                region: "eu-west-1".into(),
                pipeline: if i % 3 == 0 { "payments-api".into() } else { "ledger-batch-nightly-reconciliation".into() },
                execution_id: if i % 7 == 6 { None } else { Some(format!("3f2a9c1e-7b4d-4e8a-9c0f-{i:012}")) },
                stage: "Approve".into(),
                action: "ProdGate".into(),
                approver_recorded: format!(
                    "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Deployer_0123456789abcdef/user{i}@example.com"
                ),
                person: person.into(),
                person_name: person.into(),
                normalisation: "role ARN: session names ignored".into(),
                time: t(8 + (i % 10) as u32, (i % 60) as u32),
                status: match i % 5 {
                    0 => "Rejected".into(),
                    4 => "AccessDenied".into(),
                    _ => "Approved".into(),
                },
                summary: if i % 2 == 0 {
                    "LGTM".into()
                } else {
                    "Reviewed the change set, the migration plan and the rollback runbook; approved for the \
                     09:00 window."
                        .into()
                },
                event_id: format!("evt-{i}"),
                record_key: None,
                execution_verdict: "compliant".into(),
            }
        })
        .collect()
}

/// The input of a report with `rows` in its ledger and nothing else beyond the fixtures.
fn ledger_input<'a>(
    snapshot: &'a Snapshot,
    checks: &'a [CheckSummary],
    findings: &'a [Finding],
    rows: &'a [LedgerRow],
) -> ReportInput<'a> {
    ReportInput {
        snapshot,
        findings,
        checks,
        ledger: rows,
        approvers: &[],
        write_grants: &[],
        fail_on: crate::model::Severity::High,
        snapshot_sha256: SHA.into(),
        rule_set: "soc2-default".into(),
        notes: &[],
        changes: &[],
    }
}

/// Writes the report and returns its path (inside `dir`).
fn write(dir: &Path, name: &str, ledger: &[LedgerRow]) -> PathBuf {
    let snapshot = snapshot();
    let checks = checks();
    let findings = findings();
    let input = ReportInput {
        snapshot: &snapshot,
        findings: &findings,
        checks: &checks,
        ledger,
        approvers: &[],
        write_grants: &[],
        fail_on: crate::model::Severity::High,
        snapshot_sha256: SHA.into(),
        rule_set: "soc2-default".into(),
        notes: &["AWS Organizations was not read: SCPs and RCPs are not applied.".to_owned()],
        changes: &[],
    };
    let path = dir.join(name);
    let written = write_pdf(&input, &path).expect("the report is written");
    assert_eq!(
        written,
        vec![path.clone()],
        "no volumes below {ROWS_PER_VOLUME} rows"
    );
    path
}

/// Page objects (`/Type /Page`, not `/Pages`), however lopdf spaced them.
fn page_objects(bytes: &[u8]) -> usize {
    let text = String::from_utf8_lossy(bytes);
    let mut n = 0;
    let mut rest: &str = &text;
    while let Some(i) = rest.find("/Type") {
        rest = &rest[i + 5..];
        let after = rest.trim_start();
        if let Some(tail) = after.strip_prefix("/Page") {
            if !tail.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                n += 1;
            }
        }
    }
    n
}

/// Text of each page per `pdftotext -layout`. Fails the test when poppler-utils is missing: a PDF test that
/// cannot read the PDF proves nothing (ci/test installs poppler-utils).
pub(crate) fn pdftotext_pages(path: &Path) -> Vec<String> {
    pages_with("pdftotext", path)
}

fn pages_with(program: &str, path: &Path) -> Vec<String> {
    let out = Command::new(program)
        .arg("-layout")
        .arg(path)
        .arg("-")
        .output()
        .unwrap_or_else(|e| {
            panic!("pdftotext (poppler-utils) is needed to read the PDF back: {e}; install poppler-utils")
        });
    assert!(
        out.status.success(),
        "pdftotext failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_owned).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

#[test]
#[should_panic(expected = "install poppler-utils")]
fn a_missing_pdftotext_fails_instead_of_skipping() {
    pages_with("pdftotext-not-installed", Path::new("report.pdf"));
}

#[test]
fn characters_the_font_lacks_are_spelled_out_and_measured() {
    // Characters the font lacks are spelled out rather than drawn as empty boxes.
    assert_eq!(printable("李雷 (Zoë)"), "[U+674E U+96F7] (Zoë)");
    // Non-ASCII is measured with real glyph widths; characters outside the font still take room.
    assert!(metrics(false).width("Zoë Ångström", BODY) > 40.0);
    assert!(metrics(false).width("李雷", BODY) > 5.0);
}

#[test]
fn demo_report_has_cover_summary_footer_and_non_ascii_names() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write(dir.path(), "report.pdf", &ledger_rows(12));
    let bytes = std::fs::read(&path).expect("read back");
    assert!(bytes.starts_with(b"%PDF-"));
    let pages = page_objects(&bytes);
    // Cover, executive summary, checks, ledger (two landscape pages for its 12 rows), production changes,
    // appendix A, appendices B and C.
    assert_eq!(pages, 8, "got {pages} pages");
    let text = pdftotext_pages(&path);
    assert_eq!(text.len(), pages);
    let all = text.join("\n");
    for needle in [
        "Change-management evidence report",
        "Zoë Ångström Payments GmbH",
        "111122223333",
        "prod-payments",
        "production",
        "2024-01-01T00:00:00Z",
        "2024-04-01T00:00:00Z",
        "soc2-default",
        "gateaudit 0.1.0",
        "20240514T120000Z-k3x9",
        "2024-05-14T12:00:07Z",
        "approver-separation",
        "No findings.",
        "INCOMPLETE",
        "jürgen.müller",
        "staging-Ångström",
        "Emergency change INC-4711",
    ] {
        assert!(all.contains(needle), "missing {needle:?}");
    }
    assert!(
        text[0].contains(&format!("page 1 of {pages}")),
        "{}",
        text[0]
    );
    for (i, page) in text.iter().enumerate() {
        assert!(
            page.contains(&format!("page {} of {pages}", i + 1)),
            "page {}",
            i + 1
        );
        assert!(
            page.contains(&format!("snapshot sha256 {SHA}")),
            "page {}",
            i + 1
        );
        assert!(page.contains("20240514T120000Z-k3x9"), "page {}", i + 1);
    }
}

#[test]
fn long_ledger_breaks_across_pages_with_the_header_repeated() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rows = ledger_rows(ROWS_PER_VOLUME - 100); // one document: below the volume size
    let path = write(dir.path(), "ledger.pdf", &rows);
    let bytes = std::fs::read(&path).expect("read back");
    assert!(bytes.starts_with(b"%PDF-"));
    let pages = page_objects(&bytes);
    assert!(pages > 60, "{} ledger rows on {pages} pages", rows.len());
    let text = pdftotext_pages(&path);
    assert_eq!(text.len(), pages);
    let ledger_pages: Vec<usize> = (0..text.len())
        .filter(|&i| text[i].contains("approver as recorded"))
        .collect();
    assert!(
        ledger_pages.len() > 50,
        "ledger on {} pages",
        ledger_pages.len()
    );
    let (first, last) = (ledger_pages[0], ledger_pages[ledger_pages.len() - 1]);
    assert_eq!(
        ledger_pages.len(),
        last - first + 1,
        "the header is repeated on every ledger page"
    );
    for &i in &ledger_pages {
        for header in [
            "time (UTC)",
            "pipeline",
            "execution",
            "stage / action",
            "person",
            "status",
            "summary",
        ] {
            assert!(
                text[i].contains(header),
                "page {} lacks header {header:?}",
                i + 1
            );
        }
    }
    assert!(text[last].contains(&format!("page {} of {pages}", last + 1)));
}

#[test]
fn hostile_names_cannot_forge_lines_or_hide_in_the_pdf() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rows = ledger_rows(2);
    rows[0].person = "a\nFORGED".into();
    rows[0].summary = "ok\r\n2024-05-14 10:00:00Z FORGED Approved".into();
    let snapshot = snapshot();
    let checks = checks();
    let mut findings = findings();
    findings[0].subject = "mallory\n2024-05-14T10:00:00Z-forged-finding".into();
    findings[0].message = "tab\there and a\u{202E}override and bell\u{7}".into();
    findings[0].principal = Some("x\u{202E}txt.exe\0\t\u{1}\u{9b}".into());
    let input = ReportInput {
        snapshot: &snapshot,
        findings: &findings,
        checks: &checks,
        ledger: &rows,
        approvers: &[],
        write_grants: &[],
        fail_on: Severity::High,
        snapshot_sha256: SHA.into(),
        rule_set: "soc2-default".into(),
        notes: &[],
        changes: &[],
    };
    let path = dir.path().join("hostile.pdf");
    write_pdf(&input, &path).expect("written");
    let all = pdftotext_pages(&path).join("\n");
    for line in all.lines() {
        let t = line.trim_start();
        assert!(
            !t.starts_with("FORGED") && !t.starts_with("2024-05-14 10:00:00Z FORGED"),
            "a name started a line of its own: {line:?}"
        );
    }
    for shown in [
        "a\\nFORGED",
        "ok\\r\\n2024-05-",
        "mallory\\n2024-05-14T10:00:00Z",
        "\\u{202E}txt.exe\\0\\t\\u{0001}\\u{009B}",
        "tab\\there",
        "a\\u{202E}override",
        "bell\\u{0007}",
    ] {
        assert!(all.contains(shown), "{shown:?} not shown in:\n{all}");
    }
    for raw in ['\u{202E}', '\u{0}', '\u{1}', '\u{7}', '\u{9b}', '\t'] {
        assert!(!all.contains(raw), "raw {raw:?} reached the PDF text");
    }
}

/// Ad-hoc: `GATEAUDIT_PDF_OUT=/tmp/x GATEAUDIT_PDF_ROWS=100000 cargo test --release --lib render_for_inspection
/// -- --ignored --nocapture` writes a report there and prints how long it took.
#[test]
#[ignore = "writes files for a human to look at; run on demand"]
fn render_for_inspection() {
    let Some(out) = std::env::var_os("GATEAUDIT_PDF_OUT") else {
        return;
    };
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out).expect("output dir");
    let n: usize = std::env::var("GATEAUDIT_PDF_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let rows = ledger_rows(n);
    let started = std::time::Instant::now();
    let path = write(&out, &format!("report-{n}.pdf"), &rows);
    let bytes = std::fs::read(&path).expect("read back");
    eprintln!(
        "{n} ledger rows: {} pages, {} bytes, {:.2?}",
        page_objects(&bytes),
        bytes.len(),
        started.elapsed()
    );
}

/// Text of the whole PDF per `pdftotext -raw` (content-stream order: each cell's lines in sequence).
fn raw_text(path: &Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-raw", "-enc", "UTF-8"])
        .arg(path)
        .arg("-")
        .output()
        .unwrap_or_else(|e| {
            panic!("pdftotext (poppler-utils) is needed: {e}; install poppler-utils")
        });
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn without_whitespace(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn every_ledger_value_appears_whole_however_long_hostile_or_non_ascii() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rows = ledger_rows(6);
    let long_role = format!(
        "arn:aws:sts::999988887777:assumed-role/{}/Chang.Wei-Ling@example.com",
        "ChangeApproverRoleForProductionDeploymentsOfThePaymentsPlatform".repeat(2)
    );
    rows[0].approver_recorded = long_role.clone();
    rows[0].person =
        "arn:aws:iam::999988887777:role/ChangeApproverRoleForProductionDeployments".into();
    rows[0].person_name = "Chang Wei-Ling (張偉玲)".into();
    rows[0].summary = "CAB ticket CAB-7781: ".to_owned()
        + &"approved after the emergency review; rollback tested in staging. ".repeat(12);
    rows[0].record_key = Some(format!(
        "s3://evidence-approvals-prod-eu-west-1-999988887777/approvals/{}/2024/05/14/{}.json",
        "payments-ledger-batch-nightly-reconciliation", "3f2a9c1e-7b4d-4e8a-9c0f-000000000000"
    ));
    rows[0].execution_verdict =
        "not compliant: ProdGate was approved twice by one person (Chang Wei-Ling) under two session names".into();
    rows[1].summary = "Ünïcødé ✓ — naïve café; 中文摘要 and emoji 🚀 stay visible".into();
    rows[1].account_name = "prod-Ångström-payments-eu".into();
    rows[2].summary = "line one\nFORGED line\u{202E}reversed\u{0}".into();
    rows[2].event_id = "a1b2c3d4-e5f6-7890-abcd-ef1234567890".into();
    // A value taller than a whole page: its row continues over pages, every word in order.
    let tall: Vec<String> = (0..400).map(|i| format!("w{i:04}")).collect();
    rows[3].summary = tall.join(" ");
    let path = write(dir.path(), "hostile-ledger.pdf", &rows);
    let text = raw_text(&path);
    let flat = without_whitespace(&text);
    let mut checked = 0;
    for r in &rows[..3] {
        let mut values = vec![
            r.account_id.clone(),
            r.account_name.clone(),
            r.pipeline.clone(),
            r.stage.clone(),
            r.action.clone(),
            r.approver_recorded.clone(),
            r.person.clone(),
            r.person_name.clone(),
            r.normalisation.clone(),
            r.status.clone(),
            r.summary.clone(),
            r.event_id.clone(),
            r.execution_verdict.clone(),
            r.record_key.clone().unwrap_or_else(|| "missing".into()),
        ];
        values.extend(r.execution_id.clone());
        for v in values {
            let shown = without_whitespace(&printable(&v));
            assert!(
                flat.contains(&shown),
                "{v:?} does not appear whole (as {shown:?}) in the PDF"
            );
            checked += 1;
        }
    }
    assert!(checked >= 40);
    assert!(!text.contains('…'), "something was cut in:\n{text}");
    assert!(!text.contains('\u{202E}'), "a raw override reached the PDF");
    let mut at = 0;
    for word in &tall {
        let found = text[at..]
            .find(word.as_str())
            .unwrap_or_else(|| panic!("{word} missing or out of order"));
        at += found + word.len();
    }
    let pages = pdftotext_pages(&path);
    let with_tall: Vec<usize> = (0..pages.len())
        .filter(|&i| pages[i].contains("w0") || pages[i].contains("w03"))
        .collect();
    assert!(
        with_tall.len() >= 2,
        "the tall row spans pages: {with_tall:?}"
    );
    for &i in &with_tall {
        assert!(
            pages[i].contains("approver as recorded"),
            "page {} repeats the header",
            i + 1
        );
    }
}

#[test]
fn a_ledger_too_long_for_one_document_goes_into_volumes_each_listed_with_its_hash() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rows = ledger_rows(25);
    let (snapshot, checks, findings) = (snapshot(), checks(), findings());
    let input = ledger_input(&snapshot, &checks, &findings, &rows);
    let path = dir.path().join("report.pdf");
    let written = super::write_pdf_in_volumes_of(&input, &path, 10).expect("written");
    let names: Vec<String> = written
        .iter()
        .map(|p| {
            p.file_name()
                .expect("a file")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        names,
        [
            "approvals-ledger-001.pdf",
            "approvals-ledger-002.pdf",
            "approvals-ledger-003.pdf",
            "report.pdf"
        ]
    );
    // Every row is in exactly one volume, in order, and in none of report.pdf's pages.
    let report = without_whitespace(&raw_text(&path));
    let volumes: Vec<String> = written[..3]
        .iter()
        .map(|p| without_whitespace(&raw_text(p)))
        .collect();
    for (i, row) in rows.iter().enumerate() {
        // The status / event id cell, then the start of the summary: unique per row (evt-1 is not evt-12).
        let summary: String = without_whitespace(&row.summary).chars().take(4).collect();
        let cell = format!("{}{}{summary}", row.status, row.event_id);
        let holders: Vec<usize> = (0..3).filter(|&v| volumes[v].contains(&cell)).collect();
        assert_eq!(
            holders,
            vec![i / 10],
            "row {i} ({}) is in volume {}",
            row.event_id,
            i / 10 + 1
        );
        assert!(
            !report.contains(&row.approver_recorded),
            "report.pdf lists rows instead of volumes"
        );
    }
    assert!(
        volumes[2].contains("rows21–25of25"),
        "the last volume says which rows it holds"
    );
    // report.pdf names every volume with the SHA-256 of the file as written.
    for volume in &written[..3] {
        let (sha256, _) = crate::report::manifest::sha256_and_size(volume).expect("hashed");
        let name = volume
            .file_name()
            .expect("a file")
            .to_string_lossy()
            .into_owned();
        assert!(report.contains(&name), "report.pdf lists {name}");
        assert!(
            report.contains(&sha256),
            "report.pdf gives {name}'s SHA-256 {sha256}"
        );
    }
}

/// The same input gives the same bytes whatever the process rendered before (printpdf's name counter is
/// process-wide) and however volumes are scheduled: volumes are laid out in parallel.
#[test]
fn the_same_input_writes_the_same_bytes_whatever_ran_before() {
    let rows = ledger_rows(25);
    let (snapshot, checks, findings) = (snapshot(), checks(), findings());
    let input = ledger_input(&snapshot, &checks, &findings, &rows);
    let render = |advance_counter: usize| {
        for _ in 0..advance_counter {
            let _ = printpdf::FontId::new();
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("report.pdf");
        let written = super::write_pdf_in_volumes_of(&input, &path, 10).expect("written");
        let files: Vec<Vec<u8>> = written
            .iter()
            .map(|p| std::fs::read(p).expect("read"))
            .collect();
        files
    };
    let first = render(0);
    let second = render(7);
    assert_eq!(first.len(), 4, "three volumes and report.pdf");
    for (n, (a, b)) in first.iter().zip(&second).enumerate() {
        assert!(a == b, "file {n} differs between two renderings");
    }
    // Distinct documents still carry distinct identifiers.
    let id = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes);
        let at = text.find("/ID").expect("a trailer ID");
        text[at..at + 40].to_owned()
    };
    assert_ne!(id(&first[0]), id(&first[1]));
}
