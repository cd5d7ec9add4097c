//! trail-integrity: the CloudTrail log archive used as evidence is complete and untampered. Reports every
//! integrity issue found by digest verification (modified, missing or undigested log files, invalid signatures,
//! broken digest chains) and every piece of unreadable evidence (corrupt gzip, non-JSON files, damaged records),
//! and archives without digests (log-file validation off) when the archive was read.

use super::{Check, CheckContext, InputKind, ISO_CHANGE, NIST_CM3, PCI_CHANGE, SOC2_CHANGE};
use crate::model::{Evidence, Finding, IntegrityIssueKind, Severity, TrailArchiveScan};

pub struct TrailIntegrity;

fn severity(kind: IntegrityIssueKind) -> Severity {
    match kind {
        IntegrityIssueKind::LogFileModified
        | IntegrityIssueKind::LogFileMissing
        | IntegrityIssueKind::DigestSignatureInvalid
        | IntegrityIssueKind::ChainBroken => Severity::Critical,
        IntegrityIssueKind::DigestUnreadable
        | IntegrityIssueKind::DigestMoved
        | IntegrityIssueKind::DigestKeyUnknown
        | IntegrityIssueKind::LogFileNotInDigest => Severity::High,
    }
}

fn kind_text(kind: IntegrityIssueKind) -> &'static str {
    match kind {
        IntegrityIssueKind::DigestUnreadable => "digest file unreadable",
        IntegrityIssueKind::DigestMoved => "digest file not where it says it belongs",
        IntegrityIssueKind::DigestKeyUnknown => "digest signed with an unknown key",
        IntegrityIssueKind::DigestSignatureInvalid => "digest signature invalid",
        IntegrityIssueKind::ChainBroken => "digest chain broken (a digest deleted or altered)",
        IntegrityIssueKind::LogFileMissing => "log file missing",
        IntegrityIssueKind::LogFileModified => "log file modified",
        IntegrityIssueKind::LogFileNotInDigest => "log file in no digest",
    }
}

impl Check for TrailIntegrity {
    fn id(&self) -> &'static str {
        "trail-integrity"
    }
    fn title(&self) -> &'static str {
        "The CloudTrail evidence is complete and untampered"
    }
    fn description(&self) -> &'static str {
        "Every CloudTrail digest read from the log archive must carry a valid RSA-SHA256 signature from a CloudTrail \
         public key and chain to its predecessor; every log file used as evidence must hash to the value its digest \
         records. Log files that cannot be read are unreadable evidence and are reported, never skipped."
    }
    fn severity(&self) -> Severity {
        Severity::Critical
    }
    fn references(&self) -> &'static [&'static str] {
        &[SOC2_CHANGE, ISO_CHANGE, NIST_CM3, PCI_CHANGE]
    }

    fn inputs(&self) -> &'static [InputKind] {
        &[InputKind::TrailArchive, InputKind::Trails]
    }

    fn run(&self, ctx: &CheckContext) -> Vec<Finding> {
        let mut findings = Vec::new();
        for account in &ctx.snapshot.accounts {
            for scan in &account.trail_archives {
                findings.extend(self.scan_findings(&account.account_id, scan));
            }
        }
        findings
    }
}

impl TrailIntegrity {
    fn scan_findings(&self, account: &str, scan: &TrailArchiveScan) -> Vec<Finding> {
        let mut findings = Vec::new();
        let finding = |severity, subject: &str, message: String, evidence: Vec<Evidence>| Finding {
            check_id: self.id().to_owned(),
            severity,
            account_id: account.to_owned(),
            subject: subject.to_owned(),
            principal: None,
            message,
            evidence,
            waiver: None,
        };
        match &scan.integrity {
            Some(report) => {
                for issue in &report.issues {
                    findings.push(finding(
                        severity(issue.kind),
                        &issue.location,
                        format!("{}: {}", kind_text(issue.kind), issue.detail),
                        vec![Evidence::new("s3-object", &issue.location, kind_text(issue.kind))],
                    ));
                }
            }
            None if scan.files > 0 => findings.push(finding(
                Severity::High,
                &scan.source,
                format!(
                    "{} log files read without any digest: log-file validation is off, so tampering cannot be ruled out",
                    scan.files
                ),
                vec![Evidence::new("trail-archive", &scan.source, "")],
            )),
            None => {}
        }
        for item in &scan.unreadable {
            let what = item
                .event_id
                .as_deref()
                .map(|id| format!(" (event {id})"))
                .unwrap_or_default();
            findings.push(finding(
                Severity::High,
                &item.location,
                format!(
                    "unreadable evidence ({:?}){what}: {}",
                    item.kind, item.detail
                )
                .to_lowercase(),
                vec![Evidence::new(
                    "s3-object",
                    &item.location,
                    item.detail.clone(),
                )],
            ));
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::Org;
    use crate::model::{IntegrityIssue, IntegrityReport, UnreadableEvidence, UnreadableKind};

    fn scan(
        issues: Vec<IntegrityIssue>,
        unreadable: Vec<UnreadableEvidence>,
        digests: bool,
    ) -> TrailArchiveScan {
        TrailArchiveScan {
            source: "s3://trail-bucket".into(),
            files: 3,
            integrity: digests.then_some(IntegrityReport {
                digests_checked: 2,
                digests_valid: 2,
                log_files_checked: 3,
                log_files_verified: 3,
                issues,
            }),
            unreadable,
            ..TrailArchiveScan::default()
        }
    }

    #[test]
    fn a_clean_verified_archive_passes() {
        let mut org = Org::two_person_pipeline();
        org.account()
            .trail_archives
            .push(scan(vec![], vec![], true));
        assert!(org.run(&TrailIntegrity).is_empty());
    }

    #[test]
    fn tampering_unreadable_files_and_missing_validation_are_reported() {
        let mut org = Org::two_person_pipeline();
        org.account().trail_archives.push(scan(
            vec![IntegrityIssue {
                kind: IntegrityIssueKind::LogFileModified,
                location: "s3://b/AWSLogs/x.json.gz".into(),
                detail: "sha256 differs".into(),
            }],
            vec![UnreadableEvidence {
                location: "s3://b/AWSLogs/y.json.gz".into(),
                event_id: None,
                record_index: None,
                kind: UnreadableKind::Gzip,
                detail: "truncated".into(),
            }],
            true,
        ));
        org.account()
            .trail_archives
            .push(scan(vec![], vec![], false));
        let findings = org.run(&TrailIntegrity);
        assert_eq!(findings.len(), 3, "{findings:#?}");
        assert_eq!(findings[0].severity, Severity::Critical);
        assert!(findings[0].message.starts_with("log file modified"));
        assert!(findings
            .iter()
            .any(|f| f.message.contains("unreadable evidence (gzip)")));
        assert!(findings
            .iter()
            .any(|f| f.message.contains("log-file validation is off")));
    }
}
