//! The approval-record bucket: objects written by the approval-gate-tracking Lambda under
//! `PipelineApprovalGateActions/<pipeline>/YYYY/MM/DD/<gate>-<APPROVED|REJECTED>-HH:MM:SS-AM|PM.txt`.
//!
//! Lists only the months of the audit period under each pipeline prefix. Read-only calls only.

use chrono::{Datelike, NaiveDate, NaiveTime, TimeZone, Utc};

use super::session::{error_text, AccountClients};
use super::{to_chrono, StepLog};
use crate::config::BucketConfig;
use crate::model::{ApprovalRecord, ApprovalRecordKey, Period};

pub async fn collect(
    clients: &AccountClients,
    bucket: &BucketConfig,
    period: &Period,
    log: &mut StepLog,
) -> Vec<ApprovalRecord> {
    let step = format!("s3:ListObjectsV2({})", bucket.bucket);
    let s3 = clients.s3();
    let prefix = normalised_prefix(&bucket.prefix);
    // First level: one common prefix per pipeline.
    let mut pipelines = Vec::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(&bucket.bucket)
        .prefix(&prefix)
        .delimiter("/")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => pipelines.extend(
                p.common_prefixes()
                    .iter()
                    .filter_map(|c| c.prefix().map(str::to_owned)),
            ),
            Err(e) => {
                log.failed(&step, None, error_text(&e));
                return Vec::new();
            }
        }
    }
    let mut records = Vec::new();
    for pipeline_prefix in pipelines {
        for month in months(period) {
            let month_prefix = format!("{pipeline_prefix}{month}");
            let mut objects = s3
                .list_objects_v2()
                .bucket(&bucket.bucket)
                .prefix(&month_prefix)
                .into_paginator()
                .send();
            while let Some(page) = objects.next().await {
                let page = match page {
                    Ok(p) => p,
                    Err(e) => {
                        log.failed(
                            &step,
                            None,
                            format!(
                                "{month_prefix}: {} (after {} records)",
                                error_text(&e),
                                records.len()
                            ),
                        );
                        return records;
                    }
                };
                for object in page.contents() {
                    let Some(key) = object.key() else { continue };
                    let parsed = parse_record_key(key, &prefix);
                    if parsed.as_ref().is_some_and(|p| !period.contains(p.time)) {
                        continue;
                    }
                    records.push(ApprovalRecord {
                        bucket: bucket.bucket.clone(),
                        key: key.to_owned(),
                        size: object.size().unwrap_or(0),
                        last_modified: object.last_modified().and_then(to_chrono),
                        parsed,
                    });
                }
            }
        }
    }
    log.ok(&step, None, records.len());
    records
}

fn normalised_prefix(prefix: &str) -> String {
    if prefix.is_empty() || prefix.ends_with('/') {
        prefix.to_owned()
    } else {
        format!("{prefix}/")
    }
}

/// `YYYY/MM/` for every month the period touches.
fn months(period: &Period) -> Vec<String> {
    let mut out = Vec::new();
    let (mut y, mut m) = (period.since.year(), period.since.month());
    let end = (period.until.year(), period.until.month());
    while (y, m) <= end {
        out.push(format!("{y:04}/{m:02}/"));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

/// Parses `<prefix><pipeline>/YYYY/MM/DD/<gate>-<APPROVED|REJECTED>-HH:MM:SS-AM|PM.txt` (UTC, 12-hour clock).
/// Gate names may themselves contain dashes; the status and time are read from the end.
pub fn parse_record_key(key: &str, prefix: &str) -> Option<ApprovalRecordKey> {
    let rest = key.strip_prefix(prefix)?;
    let parts: Vec<&str> = rest.split('/').collect();
    let [pipeline, year, month, day, file] = parts.as_slice() else {
        return None;
    };
    let date = NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)?;
    let stem = file.strip_suffix(".txt")?;
    let (rest, meridiem) = stem.rsplit_once('-')?;
    let (rest, clock) = rest.rsplit_once('-')?;
    let (gate, status) = rest.rsplit_once('-')?;
    if !matches!(status, "APPROVED" | "REJECTED") || gate.is_empty() {
        return None;
    }
    let time = NaiveTime::parse_from_str(&format!("{clock} {meridiem}"), "%I:%M:%S %p").ok()?;
    Some(ApprovalRecordKey {
        pipeline: (*pipeline).to_owned(),
        gate: gate.to_owned(),
        status: status.to_owned(),
        time: Utc.from_utc_datetime(&date.and_time(time)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_article_layout() {
        let k = parse_record_key(
            "PipelineApprovalGateActions/testing-pipeline/2019/05/23/dev-approval-APPROVED-11:50:45-AM.txt",
            "PipelineApprovalGateActions/",
        )
        .expect("parses");
        assert_eq!(k.pipeline, "testing-pipeline");
        assert_eq!(k.gate, "dev-approval");
        assert_eq!(k.status, "APPROVED");
        assert_eq!(k.time.to_rfc3339(), "2019-05-23T11:50:45+00:00");
    }

    #[test]
    fn afternoon_and_midnight_use_the_12_hour_clock() {
        let pm = parse_record_key("P/x/2026/11/02/G-REJECTED-01:05:00-PM.txt", "P/").expect("pm");
        assert_eq!(pm.time.to_rfc3339(), "2026-11-02T13:05:00+00:00");
        let midnight =
            parse_record_key("P/x/2026/11/02/G-APPROVED-12:00:01-AM.txt", "P/").expect("am");
        assert_eq!(midnight.time.to_rfc3339(), "2026-11-02T00:00:01+00:00");
    }

    #[test]
    fn foreign_keys_are_not_parsed() {
        assert!(parse_record_key("P/x/2026/11/02/notes.txt", "P/").is_none());
        assert!(parse_record_key("P/x/2026/13/02/G-APPROVED-01:00:00-AM.txt", "P/").is_none());
        assert!(parse_record_key("Other/x/2026/11/02/G-APPROVED-01:00:00-AM.txt", "P/").is_none());
    }

    #[test]
    fn months_cover_the_period() {
        let p = Period {
            since: Utc
                .with_ymd_and_hms(2025, 11, 20, 0, 0, 0)
                .single()
                .expect("date"),
            until: Utc
                .with_ymd_and_hms(2026, 2, 1, 0, 0, 0)
                .single()
                .expect("date"),
        };
        assert_eq!(
            months(&p),
            vec!["2025/11/", "2025/12/", "2026/01/", "2026/02/"]
        );
    }
}
