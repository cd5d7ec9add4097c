//! trail-integrity: the CloudTrail log archive used as evidence is complete and untampered. Reports every
//! integrity issue found by digest verification (modified, missing or undigested log files, invalid signatures,
//! broken digest chains), every piece of unreadable evidence (corrupt gzip, non-JSON files, damaged records),
//! archives without digests (log-file validation off), every part of the period that no valid digest covers
//! for an account and region with a trail (at its start and end too, up to collection less CloudTrail's delivery
//! delay: deleted digests and logs at the edges leave no broken chain behind), and the absence of an archive
//! (no evidence survives LookupEvents' 90 days).

use std::collections::BTreeSet;

use super::{Check, CheckContext, InputKind, ISO_CHANGE, NIST_CM3, PCI_CHANGE, SOC2_CHANGE};
use crate::model::{
    Evidence, Finding, IntegrityIssueKind, Severity, Snapshot, StepStatus, TrailArchiveScan,
};
use crate::trail::integrity::{coverage_gaps, GapEdge};

pub struct TrailIntegrity;

fn severity(kind: IntegrityIssueKind) -> Severity {
    match kind {
        IntegrityIssueKind::LogFileModified
        | IntegrityIssueKind::LogFileMissing
        | IntegrityIssueKind::DigestSignatureInvalid
        | IntegrityIssueKind::ChainBroken
        | IntegrityIssueKind::CoverageGap => Severity::Critical,
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
        IntegrityIssueKind::CoverageGap => "period not covered by digests",
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
         records; every hour of the audit period, for every account and region with a trail, must be covered by \
         valid digests up to the period's edges (up to collection, less CloudTrail's hour of delivery delay). Log \
         files that cannot be read are unreadable evidence and are reported, never skipped; no archive at all is \
         reported, since nothing then survives LookupEvents' 90 days."
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
        let snapshot = ctx.snapshot;
        let mut findings = Vec::new();
        if snapshot.trail_buckets.is_empty() {
            findings.push(self.finding(
                Severity::High,
                &snapshot.cicd_account,
                "CloudTrail log archive",
                "no CloudTrail log archive (trail_buckets) is configured: nothing preserves the events beyond \
                 LookupEvents' 90 days, and nothing proves that the trail's files are intact (evidence durability)"
                    .to_owned(),
                vec![],
            ));
        }
        for bucket in &snapshot.trail_buckets {
            let owner = snapshot.account(&bucket.account);
            let scans: Vec<&TrailArchiveScan> = owner
                .map(|a| {
                    a.trail_archives
                        .iter()
                        .filter(|s| scan_bucket(s) == bucket.bucket)
                        .collect()
                })
                .unwrap_or_default();
            let step_failed = owner.is_some_and(|a| {
                a.steps.iter().any(|s| {
                    s.step == format!("s3:trail-archive({})", bucket.bucket)
                        && s.status != StepStatus::Ok
                })
            });
            if scans.is_empty() && !step_failed {
                // A failed read makes the check incomplete instead (see checks::inputs).
                findings.push(self.finding(
                    Severity::High,
                    &bucket.account,
                    &format!("s3://{}", bucket.bucket),
                    format!(
                        "the configured trail archive s3://{} (account {}) was not read: its evidence cannot be used",
                        bucket.bucket, bucket.account
                    ),
                    vec![Evidence::new("trail-archive", format!("s3://{}", bucket.bucket), "")],
                ));
            }
            for scan in scans {
                let owner_id = owner.map(|a| a.account_id.as_str()).unwrap_or_default();
                findings.extend(self.scan_findings(owner_id, scan));
                findings.extend(self.coverage_findings(snapshot, &bucket.bucket, scan));
            }
        }
        findings
    }
}

/// The bucket of a scan's source `s3://bucket/prefix`.
pub(crate) fn scan_bucket(scan: &TrailArchiveScan) -> &str {
    let rest = scan.source.strip_prefix("s3://").unwrap_or(&scan.source);
    rest.split('/').next().unwrap_or_default()
}

/// The `(account, region)` pairs whose events a trail of the snapshot delivers to `bucket`: the trail's own
/// account (every account of the snapshot for an organisation trail), in the audited regions it covers.
pub(crate) fn expected_chains(snapshot: &Snapshot, bucket: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for account in &snapshot.accounts {
        for trail in account
            .trails
            .iter()
            .filter(|t| t.s3_bucket.as_deref() == Some(bucket))
        {
            let regions: Vec<&String> = if trail.is_multi_region {
                snapshot.regions.iter().collect()
            } else {
                snapshot
                    .regions
                    .iter()
                    .filter(|r| **r == trail.home_region)
                    .collect()
            };
            let accounts: Vec<&str> = if trail.is_organization {
                snapshot
                    .accounts
                    .iter()
                    .map(|a| a.account_id.as_str())
                    .collect()
            } else {
                vec![account.account_id.as_str()]
            };
            for a in accounts {
                for r in &regions {
                    out.insert((a.to_owned(), (*r).clone()));
                }
            }
        }
    }
    out
}

impl TrailIntegrity {
    fn finding(
        &self,
        severity: Severity,
        account: &str,
        subject: &str,
        message: String,
        evidence: Vec<Evidence>,
    ) -> Finding {
        Finding {
            check_id: self.id().to_owned(),
            severity,
            account_id: account.to_owned(),
            subject: subject.to_owned(),
            principal: None,
            message,
            evidence,
            waiver: None,
        }
    }

    /// Every part of the period that no valid digest covers, for every account and region with a trail that
    /// delivers here (or whose digests or logs are here).
    fn coverage_findings(
        &self,
        snapshot: &Snapshot,
        bucket: &str,
        scan: &TrailArchiveScan,
    ) -> Vec<Finding> {
        let Some(report) = &scan.integrity else {
            return Vec::new();
        };
        let mut expected = expected_chains(snapshot, bucket);
        expected.extend(
            report
                .chains
                .iter()
                .filter(|c| snapshot.regions.is_empty() || snapshot.regions.contains(&c.region))
                .map(|c| (c.account_id.clone(), c.region.clone())),
        );
        coverage_gaps(
            &report.chains,
            &expected,
            &snapshot.period,
            snapshot.collected_at,
        )
        .into_iter()
        .map(|gap| {
            let severity = if gap.edge == GapEdge::Whole {
                Severity::High
            } else {
                Severity::Critical
            };
            self.finding(
                severity,
                &gap.account_id,
                &match &gap.trail {
                    None => format!("{} {} {}", scan.source, gap.account_id, gap.region),
                    Some(t) => format!(
                        "{} {} {} trail {t}",
                        scan.source, gap.account_id, gap.region
                    ),
                },
                format!(
                    "{}: {}",
                    kind_text(IntegrityIssueKind::CoverageGap),
                    gap.describe()
                ),
                vec![Evidence::new(
                    "trail-archive",
                    &scan.source,
                    format!(
                        "uncovered {} .. {}",
                        gap.from.format("%Y-%m-%dT%H:%M:%SZ"),
                        gap.until.format("%Y-%m-%dT%H:%M:%SZ")
                    ),
                )],
            )
        })
        .collect()
    }

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
            None if scan.athena_table.is_some() => findings.push(finding(
                Severity::High,
                &scan.source,
                format!(
                    "read through Athena table {}: Athena returns the records, not the log files, so no digest was \
                     verified and tampering cannot be ruled out (verify the period natively with `gateaudit trail \
                     verify`)",
                    scan.athena_table.as_deref().unwrap_or_default()
                ),
                vec![Evidence::new(
                    "trail-archive",
                    &scan.source,
                    "integrity not verified",
                )],
            )),
            None if scan.files > 0 => findings.push(finding(
                Severity::High,
                &scan.source,
                format!(
                    "{} log files read without any digest: log-file validation is off, so tampering cannot be ruled out",
                    scan.files
                ),
                vec![Evidence::new("trail-archive", &scan.source, "")],
            )),
            None => findings.push(finding(
                Severity::High,
                &scan.source,
                "the archive holds no log file and no digest for the audit period: nothing preserves the period's \
                 events beyond LookupEvents' 90 days (evidence durability)"
                    .to_owned(),
                vec![Evidence::new("trail-archive", &scan.source, "empty")],
            )),
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
    use crate::checks::testkit::{Org, ACCOUNT};
    use crate::model::{
        BucketRef, CollectionStep, IntegrityIssue, IntegrityReport, Period, Trail,
        UnreadableEvidence, UnreadableKind,
    };
    use crate::trail::integrity::tests::{archive, run as verify_archive, BUCKET};
    use chrono::{TimeZone, Utc};

    fn at(h: u32, m: u32) -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 4, h, m, 0)
            .single()
            .expect("time")
    }

    /// An organisation whose trail delivers to the archive bucket, audited over 2026-03-04 00:30..03:30 and
    /// collected at `collected`, with `report` as what verification of the bucket found.
    fn org_with_archive(report: Option<IntegrityReport>, collected: (u32, u32)) -> Org {
        let mut org = Org::two_person_pipeline();
        org.snapshot.period = Period {
            since: at(0, 30),
            until: at(3, 30),
        };
        org.snapshot.collected_at = at(collected.0, collected.1);
        org.snapshot.trail_buckets = vec![BucketRef {
            account: ACCOUNT.into(),
            bucket: BUCKET.into(),
            prefix: String::new(),
        }];
        let account = org.account();
        account.trails.push(Trail {
            name: "t".into(),
            arn: format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/t"),
            home_region: "us-east-1".into(),
            s3_bucket: Some(BUCKET.into()),
            s3_key_prefix: None,
            is_multi_region: true,
            is_organization: false,
            log_file_validation: true,
            is_logging: Some(true),
            event_selectors: Some(crate::model::EventSelectors::all_management_events()),
        });
        account.steps.push(CollectionStep {
            step: format!("s3:trail-archive({BUCKET})"),
            region: None,
            status: crate::model::StepStatus::Ok,
            items: 3,
            error: None,
            note: None,
        });
        account.trail_archives.push(TrailArchiveScan {
            source: format!("s3://{BUCKET}/"),
            files: 3,
            integrity: report,
            ..TrailArchiveScan::default()
        });
        org
    }

    #[test]
    fn a_real_verified_archive_covering_the_period_passes() {
        // Generated like CloudTrail writes it: three signed, chained digests and the log files they list.
        let report = verify_archive(&archive());
        assert!(report.is_clean() && report.digests_valid == 3, "{report:?}");
        let org = org_with_archive(Some(report), (23, 0));
        let findings = org.run(&TrailIntegrity);
        assert!(findings.is_empty(), "{findings:#?}");
    }

    #[test]
    fn deleting_the_first_or_last_digest_of_the_period_is_reported() {
        for (dropped, edge) in [(0, "the start of the period"), (2, "the end of the period")] {
            let mut a = archive();
            a.digests.remove(dropped);
            // Its log file goes too: nothing then lists it or misses it.
            a.hashes
                .remove(&crate::trail::integrity::tests::log_key(dropped as u32 + 1));
            let report = verify_archive(&a);
            let org = org_with_archive(Some(report), (23, 0));
            let findings = org.run(&TrailIntegrity);
            let gaps: Vec<&Finding> = findings
                .iter()
                .filter(|f| f.message.starts_with("period not covered by digests"))
                .collect();
            assert_eq!(gaps.len(), 1, "{findings:#?}");
            assert_eq!(gaps[0].severity, Severity::Critical);
            assert!(gaps[0].message.contains(edge), "{}", gaps[0].message);
            assert_eq!(gaps[0].account_id, ACCOUNT);
        }
        // Collected at 03:20, within CloudTrail's delivery hour of 02:30: the last digest may still come.
        let mut a = archive();
        a.digests.remove(2);
        let org = org_with_archive(Some(verify_archive(&a)), (3, 20));
        let findings = org.run(&TrailIntegrity);
        assert!(findings.is_empty(), "{findings:#?}");
        // Collected at 03:50: 02:30..02:50 should have been digested by then.
        let org = org_with_archive(Some(verify_archive(&a)), (3, 50));
        let findings = org.run(&TrailIntegrity);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(
            findings[0]
                .message
                .contains("2026-03-04T02:30:00Z .. 2026-03-04T02:50:00Z (the end of the period)"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn no_archive_configured_or_an_empty_one_is_a_finding() {
        let org = Org::two_person_pipeline();
        let findings = org.run(&TrailIntegrity);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(findings[0].message.contains("evidence durability"));
        let mut empty = org_with_archive(None, (23, 0));
        empty.account().trail_archives[0].files = 0;
        let findings = empty.run(&TrailIntegrity);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(
            findings[0].message.contains("holds no log file"),
            "{}",
            findings[0].message
        );
    }

    /// An archive read through Athena has no integrity report because no log file was downloaded, not because
    /// validation is off: a finding says so, never a pass.
    #[test]
    fn an_archive_read_through_athena_is_not_verified_and_says_why() {
        let mut org = org_with_archive(None, (23, 0));
        org.account().trail_archives[0].athena_table = Some("audit.trail".into());
        let findings = org.run(&TrailIntegrity);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].severity, Severity::High);
        assert!(
            findings[0]
                .message
                .starts_with("read through Athena table audit.trail")
                && findings[0]
                    .message
                    .contains("tampering cannot be ruled out"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn tampering_unreadable_files_and_missing_validation_are_reported() {
        let issue = IntegrityIssue {
            kind: IntegrityIssueKind::LogFileModified,
            location: "s3://b/AWSLogs/x.json.gz".into(),
            detail: "sha256 differs".into(),
        };
        let mut report = verify_archive(&archive());
        report.issues.push(issue);
        let mut org = org_with_archive(Some(report), (23, 0));
        org.account().trail_archives[0].unreadable = vec![UnreadableEvidence {
            location: "s3://b/AWSLogs/y.json.gz".into(),
            event_id: None,
            record_index: None,
            kind: UnreadableKind::Gzip,
            detail: "truncated".into(),
        }];
        let second = TrailArchiveScan {
            source: format!("s3://{BUCKET}/"),
            files: 3,
            ..TrailArchiveScan::default()
        };
        org.account().trail_archives.push(second);
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
