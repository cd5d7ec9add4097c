//! The CloudTrail log archive in S3: lists only the day folders of the period (`ListObjectsV2` per
//! `AWSLogs/.../<region>/YYYY/MM/DD/`), downloads with a bounded number of `GetObject`s in flight, and feeds the
//! bytes to the parallel scan (`crate::trail::scan`) while the next batch downloads. With verification it also
//! reads the digest files (signature in their metadata) and CloudTrail `ListPublicKeys`.
//!
//! Read-only calls only (ListObjectsV2, GetObject, ListPublicKeys). Parsing and verification are in
//! `crate::trail`; this module only moves bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use futures::{stream, StreamExt};

use super::session::{error_text, AccountClients};
use super::trail_athena::AthenaTarget;
use super::{to_chrono, to_smithy, StepLog};
use crate::config::BucketConfig;
use crate::model::{IntegrityReport, Period, TrailArchiveScan, TrailPublicKey};
use crate::rules::IdentityRules;
use crate::trail::athena::coverage::ArchiveFolder;
use crate::trail::athena::TableName;
use crate::trail::integrity::{self, DigestInput, LogEvidence};
use crate::trail::layout::{
    days, is_account_id, is_org_id, normalise_prefix, AccountRoot, FileKind,
};
use crate::trail::local::Filters;
use crate::trail::progress::Counters;
use crate::trail::scan::{
    batches, process_batch, CollectingSink, EventSink, InputData, ScanInput, ScanSettings,
    ScanTotals, Scanner, BATCH_BYTES,
};
use crate::trail::Selection;

/// What to read from a trail bucket.
#[derive(Debug, Clone)]
pub struct ArchiveOptions {
    pub filters: Filters,
    pub selection: Selection,
    /// Read digests and `ListPublicKeys`, hash every log file, verify.
    pub verify: bool,
    pub rules: IdentityRules,
    /// GetObject calls in flight at once.
    pub max_in_flight: usize,
    /// Largest file read (compressed or decompressed); a larger one is unreadable evidence.
    pub max_file_bytes: usize,
}

impl ArchiveOptions {
    /// What `gateaudit audit` needs: approvals and writes of the configured accounts and regions, verified.
    pub fn for_audit(
        accounts: Vec<String>,
        regions: Vec<String>,
        rules: IdentityRules,
    ) -> ArchiveOptions {
        ArchiveOptions {
            filters: Filters { accounts, regions },
            selection: Selection::All,
            verify: true,
            rules,
            max_in_flight: 32,
            max_file_bytes: crate::trail::decode::DEFAULT_MAX_UNCOMPRESSED,
        }
    }
}

/// The result of reading one bucket.
#[derive(Debug, Default)]
pub struct BucketScan {
    pub totals: ScanTotals,
    pub log_files_listed: usize,
    pub integrity: Option<IntegrityReport>,
    pub public_keys: Vec<TrailPublicKey>,
}

/// Reads one configured trail bucket into a [`TrailArchiveScan`] for the snapshot (events are then moved into
/// their accounts by `crate::trail::distribute`).
pub async fn collect(
    clients: &AccountClients,
    bucket: &BucketConfig,
    period: &Period,
    options: &ArchiveOptions,
    log: &mut StepLog,
) -> TrailArchiveScan {
    let step = format!("s3:trail-archive({})", bucket.bucket);
    let source = format!(
        "s3://{}/{}",
        bucket.bucket,
        normalise_prefix(&bucket.prefix)
    );
    let mut sink = CollectingSink::default();
    let athena = match bucket.engine {
        crate::config::TrailEngine::Native => None,
        crate::config::TrailEngine::Athena => match athena_target(bucket) {
            Ok(target) => Some(target),
            Err(e) => {
                log.failed(&step, None, e);
                return TrailArchiveScan {
                    source,
                    ..TrailArchiveScan::default()
                };
            }
        },
    };
    let scanned = match &athena {
        None => {
            scan_bucket(
                clients,
                &bucket.bucket,
                &bucket.prefix,
                period,
                options,
                &mut sink,
                None,
            )
            .await
        }
        Some(target) => {
            super::trail_athena::scan_bucket_athena(
                clients,
                &bucket.bucket,
                &bucket.prefix,
                period,
                options,
                target,
                &mut sink,
            )
            .await
        }
    };
    let scan = match scanned {
        Ok(s) => s,
        Err(e) => {
            log.failed(&step, None, e);
            return TrailArchiveScan {
                source,
                ..TrailArchiveScan::default()
            };
        }
    };
    let t = &scan.totals;
    if t.unreadable.is_empty() {
        log.ok(&step, None, t.files);
    } else {
        log.failed(
            &step,
            None,
            format!(
                "{} unreadable evidence item(s) in {} files; see trail_archives",
                t.unreadable.len(),
                t.files
            ),
        );
    }
    if let Some(report) = &scan.integrity {
        let verify_step = format!("cloudtrail:digest-verification({})", bucket.bucket);
        if report.is_clean() {
            log.ok(&verify_step, None, report.digests_valid);
        } else {
            log.failed(
                &verify_step,
                None,
                format!(
                    "{} integrity issue(s); see trail_archives",
                    report.issues.len()
                ),
            );
        }
    }
    TrailArchiveScan {
        source,
        moved: Default::default(),
        files: t.files,
        compressed_bytes: t.compressed_bytes,
        uncompressed_bytes: t.uncompressed_bytes,
        records: t.records,
        duplicates: t.duplicates,
        approval_events: sink.approvals,
        write_events: sink.writes,
        role_sessions: sink.sessions,
        unreadable: scan.totals.unreadable,
        public_keys: scan.public_keys,
        integrity: scan.integrity,
        athena_table: athena.map(|t| format!("{}.{}", t.table.database, t.table.table)),
    }
}

/// The table and workgroup of a bucket set to `engine = "athena"` (checked when the configuration is loaded;
/// checked again here, as a failed step rather than a panic).
fn athena_target(bucket: &BucketConfig) -> Result<AthenaTarget, String> {
    let table = bucket
        .athena_table
        .as_deref()
        .ok_or("engine = \"athena\" needs athena_table")?;
    let table = TableName::parse(table).map_err(|e| e.to_string())?;
    let workgroup = bucket
        .athena_workgroup
        .clone()
        .filter(|w| !w.is_empty())
        .ok_or("engine = \"athena\" needs athena_workgroup")?;
    Ok(AthenaTarget { table, workgroup })
}

/// Scans a bucket, streaming events into `sink`.
pub async fn scan_bucket(
    clients: &AccountClients,
    bucket: &str,
    prefix: &str,
    period: &Period,
    options: &ArchiveOptions,
    sink: &mut (dyn EventSink + Send),
    counters: Option<Arc<Counters>>,
) -> Result<BucketScan, String> {
    let s3 = clients.s3();
    let prefix = normalise_prefix(prefix);
    let in_flight = options.max_in_flight.max(1);
    let roots = account_roots(&s3, bucket, &prefix, &options.filters).await?;
    let log_days = days(period, 1);
    let mut log_prefixes = Vec::new();
    let mut digest_prefixes = Vec::new();
    for root in &roots {
        for kind in [FileKind::Log, FileKind::Digest] {
            if kind == FileKind::Digest && !options.verify {
                continue;
            }
            let folder = format!("{}{}/", root.base(), kind.folder());
            for region in common_prefixes(&s3, bucket, &folder).await? {
                let region = region
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                if !options.filters.region(&region) {
                    continue;
                }
                for day in &log_days {
                    let p = (*day, root.day_prefix(kind, &region, *day), region.clone());
                    if kind == FileKind::Log {
                        log_prefixes.push(p)
                    } else {
                        digest_prefixes.push(p)
                    }
                }
            }
        }
    }
    let log_keys = list_keys(&s3, bucket, &log_prefixes, in_flight).await?;
    if let Some(c) = &counters {
        c.files_total
            .store(log_keys.len() as u64, std::sync::atomic::Ordering::Relaxed);
    }
    let settings = Arc::new(ScanSettings {
        max_file_bytes: options.max_file_bytes,
        render: sink.renderer(),
        ..ScanSettings::new(
            options.selection,
            *period,
            options.verify,
            options.rules.clone(),
        )
    });
    let mut scanner = Scanner::new(sink, counters, options.verify);
    let mut pending: Option<tokio::task::JoinHandle<_>> = None;
    // Batches bounded in files and bytes: one is held downloaded while the previous one is decoded.
    let sizes: Vec<u64> = log_keys.iter().map(|(_, _, size)| *size).collect();
    for range in batches(&sizes, BATCH_BYTES) {
        let chunk = &log_keys[range];
        let inputs = download(&s3, bucket, chunk, in_flight, options.max_file_bytes).await;
        if let Some(handle) = pending.take() {
            scanner
                .absorb(handle.await.map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
        }
        let s = Arc::clone(&settings);
        pending = Some(tokio::task::spawn_blocking(move || {
            process_batch(inputs, &s)
        }));
    }
    if let Some(handle) = pending.take() {
        scanner
            .absorb(handle.await.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    let mut scan = BucketScan {
        totals: scanner.totals,
        log_files_listed: log_keys.len(),
        ..BucketScan::default()
    };
    if options.verify {
        let digest_keys: Vec<(NaiveDate, String)> =
            list_keys(&s3, bucket, &digest_prefixes, in_flight)
                .await?
                .into_iter()
                .map(|(day, key, _)| (day, key))
                .collect();
        if !digest_keys.is_empty() {
            let regions: BTreeSet<String> =
                digest_prefixes.iter().map(|(_, _, r)| r.clone()).collect();
            scan.public_keys = public_keys(clients, &regions, period).await?;
            let digests = download_digests(&s3, bucket, &digest_keys, in_flight).await;
            let day_set: BTreeSet<NaiveDate> = log_days.iter().copied().collect();
            let evidence = LogEvidence {
                hashes: &scan.totals.hashes,
                log_days: &day_set,
                digest_days: &day_set,
                prefix: &prefix,
            };
            scan.integrity = Some(integrity::verify(&digests, &scan.public_keys, &evidence));
        }
    }
    Ok(scan)
}

async fn common_prefixes(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .delimiter("/")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| format!("ListObjectsV2 s3://{bucket}/{prefix}: {}", error_text(&e)))?;
        out.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|c| c.prefix().map(str::to_owned)),
        );
    }
    Ok(out)
}

fn last_segment(p: &str) -> &str {
    p.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
}

/// The account folders under `AWSLogs/`, through organisation folders.
async fn account_roots(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    filters: &Filters,
) -> Result<Vec<AccountRoot>, String> {
    let mut roots = Vec::new();
    for top in common_prefixes(s3, bucket, &format!("{prefix}AWSLogs/")).await? {
        let name = last_segment(&top);
        if is_org_id(name) {
            for sub in common_prefixes(s3, bucket, &top).await? {
                let account = last_segment(&sub);
                if is_account_id(account) && filters.account(account) {
                    roots.push(AccountRoot {
                        prefix: prefix.to_owned(),
                        org_id: Some(name.to_owned()),
                        account: account.to_owned(),
                    });
                }
            }
        } else if is_account_id(name) && filters.account(name) {
            roots.push(AccountRoot {
                prefix: prefix.to_owned(),
                org_id: None,
                account: name.to_owned(),
            });
        }
    }
    Ok(roots)
}

/// The `CloudTrail/<region>/` log folders of the archive, for the accounts and regions `filters` keep: what an
/// Athena table must cover (`crate::trail::athena::coverage`).
pub async fn archive_folders(
    clients: &AccountClients,
    bucket: &str,
    prefix: &str,
    filters: &Filters,
) -> Result<Vec<ArchiveFolder>, String> {
    let s3 = clients.s3();
    let prefix = normalise_prefix(prefix);
    let mut folders = Vec::new();
    for root in account_roots(&s3, bucket, &prefix, filters).await? {
        let logs = format!("{}{}/", root.base(), FileKind::Log.folder());
        for region in common_prefixes(&s3, bucket, &logs).await? {
            let region = last_segment(&region);
            if filters.region(region) {
                folders.push(ArchiveFolder {
                    org_id: root.org_id.clone(),
                    account: root.account.clone(),
                    region: region.to_owned(),
                });
            }
        }
    }
    Ok(folders)
}

/// A listed archive file: its day folder, key and size.
type ListedKey = (NaiveDate, String, u64);

/// Lists the `.json.gz` keys of day folders (concurrently) with their sizes, sorted by day then key.
async fn list_keys(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefixes: &[(NaiveDate, String, String)],
    in_flight: usize,
) -> Result<Vec<ListedKey>, String> {
    let listed: Vec<Result<Vec<ListedKey>, String>> = stream::iter(prefixes.iter().cloned())
        .map(|(day, prefix, _)| async move {
            let mut keys = Vec::new();
            let mut pages = s3
                .list_objects_v2()
                .bucket(bucket)
                .prefix(&prefix)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| {
                    format!("ListObjectsV2 s3://{bucket}/{prefix}: {}", error_text(&e))
                })?;
                keys.extend(
                    page.contents()
                        .iter()
                        .filter_map(|o| o.key().map(|k| (k, o.size().unwrap_or(0))))
                        .filter(|(k, _)| k.ends_with(".json.gz"))
                        .map(|(k, size)| (day, k.to_owned(), u64::try_from(size).unwrap_or(0))),
                );
            }
            Ok(keys)
        })
        .buffer_unordered(in_flight.min(16))
        .collect()
        .await;
    let mut all = Vec::new();
    for l in listed {
        all.extend(l?);
    }
    all.sort();
    Ok(all)
}

async fn get(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    cap: usize,
) -> Result<(Vec<u8>, Option<std::collections::HashMap<String, String>>), String> {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| format!("GetObject: {}", error_text(&e)))?;
    let length = out.content_length().unwrap_or(0);
    if u64::try_from(length).unwrap_or(0) > cap as u64 {
        return Err(format!(
            "{} compressed, over the cap of {}: not read",
            crate::trail::decode::human_bytes(u64::try_from(length).unwrap_or(0)),
            crate::trail::decode::human_bytes(cap as u64)
        ));
    }
    let metadata = out.metadata().cloned();
    let body = out
        .body
        .collect()
        .await
        .map_err(|e| format!("GetObject body: {e}"))?;
    Ok((body.into_bytes().to_vec(), metadata))
}

/// Downloads a batch of log files concurrently; a failed download becomes unreadable evidence.
async fn download(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    keys: &[ListedKey],
    in_flight: usize,
    cap: usize,
) -> Vec<ScanInput> {
    stream::iter(keys.iter().cloned())
        .map(|(day, key, _)| async move {
            let data = match get(s3, bucket, &key, cap).await {
                Ok((bytes, _)) => InputData::Bytes(bytes),
                Err(e) => InputData::Failed(e),
            };
            ScanInput {
                location: format!("s3://{bucket}/{key}"),
                key,
                day,
                data,
            }
        })
        .buffered(in_flight)
        .collect()
        .await
}

async fn download_digests(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    keys: &[(NaiveDate, String)],
    in_flight: usize,
) -> Vec<DigestInput> {
    stream::iter(keys.iter().cloned())
        .map(|(_, key)| async move {
            let fetched = get(
                s3,
                bucket,
                &key,
                crate::trail::decode::DEFAULT_MAX_UNCOMPRESSED,
            )
            .await;
            let (data, metadata) = match fetched {
                Ok((bytes, metadata)) => (Ok(bytes), metadata.unwrap_or_default()),
                Err(e) => (Err(e), Default::default()),
            };
            DigestInput {
                location: format!("s3://{bucket}/{key}"),
                bucket: Some(bucket.to_owned()),
                signature: metadata.get("signature").cloned(),
                algorithm: metadata.get("signature-algorithm").cloned(),
                key,
                data,
            }
        })
        .buffered(in_flight)
        .collect()
        .await
}

/// CloudTrail's public keys valid during the period, in each region that has digests.
async fn public_keys(
    clients: &AccountClients,
    regions: &BTreeSet<String>,
    period: &Period,
) -> Result<Vec<TrailPublicKey>, String> {
    let mut keys: BTreeMap<(String, String), TrailPublicKey> = BTreeMap::new();
    for region in regions {
        let client = clients.cloudtrail(region);
        let mut token: Option<String> = None;
        loop {
            let out = client
                .list_public_keys()
                .start_time(to_smithy(period.since - Duration::days(1)))
                .end_time(to_smithy(period.until + Duration::days(2)))
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| format!("ListPublicKeys {region}: {}", error_text(&e)))?;
            for k in out.public_key_list() {
                let (Some(fingerprint), Some(value)) = (k.fingerprint(), k.value()) else {
                    continue;
                };
                keys.insert(
                    (region.clone(), fingerprint.to_owned()),
                    TrailPublicKey {
                        region: region.clone(),
                        fingerprint: fingerprint.to_owned(),
                        value_base64: base64::Engine::encode(
                            &base64::engine::general_purpose::STANDARD,
                            value.as_ref(),
                        ),
                        valid_from: k.validity_start_time().and_then(to_chrono),
                        valid_until: k.validity_end_time().and_then(to_chrono),
                    },
                );
            }
            token = out.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(keys.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StepStatus;

    /// A bucket set to Athena without a usable table or workgroup (a configuration that skipped the load-time
    /// check) is a failed step naming the field, with nothing read and no call made, never an empty archive.
    #[test]
    fn an_athena_bucket_without_a_table_or_workgroup_is_a_failed_step_not_an_empty_archive() {
        for (table, workgroup, expected) in [
            (None, Some("audit"), "needs athena_table"),
            (Some("no-dots"), Some("audit"), "expected DB.TABLE"),
            (Some("audit.trail"), Some(""), "needs athena_workgroup"),
        ] {
            let (scan, steps) = audit_of_athena_bucket(table, workgroup);
            assert_eq!(scan.source, "s3://org-trail/");
            assert_eq!((scan.files, scan.athena_table), (0, None));
            assert_eq!(steps.len(), 1, "{steps:?}");
            assert_eq!(steps[0].step, "s3:trail-archive(org-trail)");
            assert_eq!(steps[0].status, StepStatus::Failed);
            let error = steps[0].error.as_deref().unwrap_or_default();
            assert!(error.contains(expected), "{error}");
        }
    }

    fn audit_of_athena_bucket(
        table: Option<&str>,
        workgroup: Option<&str>,
    ) -> (TrailArchiveScan, Vec<crate::model::CollectionStep>) {
        let clients = AccountClients {
            account_id: "111111111111".into(),
            config: aws_config::SdkConfig::builder().build(),
            path_style_s3: false,
            session: None,
        };
        let bucket = BucketConfig {
            account: "111111111111".into(),
            bucket: "org-trail".into(),
            prefix: String::new(),
            engine: crate::config::TrailEngine::Athena,
            athena_table: table.map(str::to_owned),
            athena_workgroup: workgroup.map(str::to_owned),
        };
        let period = Period {
            since: chrono::DateTime::from_timestamp(1_767_225_600, 0).expect("t"),
            until: chrono::DateTime::from_timestamp(1_769_904_000, 0).expect("t"),
        };
        let options = ArchiveOptions::for_audit(vec![], vec![], IdentityRules::default());
        let mut log = StepLog::default();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let scan = runtime.block_on(collect(&clients, &bucket, &period, &options, &mut log));
        (scan, log.into_steps())
    }
}
