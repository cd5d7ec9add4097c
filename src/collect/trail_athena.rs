//! A trail archive read through Amazon Athena (`engine = "athena"`, `trail scan --engine athena`): the table's
//! definition and the archive's account and region folders are read first and a table that would read less than
//! the native scan is refused (`crate::trail::athena::coverage`); then the selection's query runs in the table's
//! workgroup and its result pages go, whole log files at a time, through the native extractor and deduplication.
//!
//! Calls: GetTableMetadata and the query's (`super::athena`), ListObjectsV2 of the archive's folders
//! (`super::trail_archive::archive_folders`). No log file is downloaded, so no digest is verified here: the
//! returned scan has no integrity report, and the checks say so. No SQL or row decoding here.

use chrono::Utc;

use super::session::AccountClients;
use super::trail_archive::{archive_folders, ArchiveOptions, BucketScan};
use crate::model::Period;
use crate::trail::athena::coverage::{gaps, Needed};
use crate::trail::athena::query::{query, QueryFilters};
use crate::trail::athena::rows::{outcomes, WholeFiles};
use crate::trail::athena::TableName;
use crate::trail::layout::{days, normalise_prefix};
use crate::trail::scan::{EventSink, ScanSettings, Scanner};

/// The table and workgroup an archive is read through.
#[derive(Debug, Clone)]
pub struct AthenaTarget {
    pub table: TableName,
    pub workgroup: String,
}

/// Reads the archive `s3://bucket/prefix` through `target`'s table into `sink`. Any failure (the table cannot be
/// read or does not cover the archive, the query fails, is cancelled or interrupted, the events cannot be
/// written) is an error naming it: the archive is then not read, never read in part as if whole.
pub async fn scan_bucket_athena(
    clients: &AccountClients,
    bucket: &str,
    prefix: &str,
    period: &Period,
    options: &ArchiveOptions,
    target: &AthenaTarget,
    sink: &mut (dyn EventSink + Send),
) -> Result<BucketScan, String> {
    let table = format!("{}.{}", target.table.database, target.table.table);
    let client = super::athena::client(&clients.config);
    // The table must read every folder the native scan would: otherwise Athena returns fewer events without
    // an error.
    let parameters = super::athena::table_parameters(&client, &target.table)
        .await
        .map_err(|e| e.to_string())?;
    let folders = archive_folders(clients, bucket, prefix, &options.filters).await?;
    let scanned_days = days(period, 1);
    let (Some(first_day), Some(last_day)) = (scanned_days.first(), scanned_days.last()) else {
        return Err(format!(
            "the period {} .. {} has no day to scan",
            period.since, period.until
        ));
    };
    let found = gaps(
        &parameters,
        &Needed {
            bucket,
            prefix,
            folders: &folders,
            first_day: *first_day,
            last_day: *last_day,
            today: Utc::now().date_naive(),
        },
    );
    if !found.is_empty() {
        return Err(format!(
            "athena table {table} does not cover s3://{bucket}/{}: {} (recreate the table with `gateaudit trail \
             athena-ddl`, or read the archive natively)",
            normalise_prefix(prefix),
            found.join("; ")
        ));
    }
    let filters = QueryFilters {
        accounts: options.filters.accounts.clone(),
        regions: options.filters.regions.clone(),
    };
    let sql = query(&target.table, options.selection, period, &filters);
    let settings = ScanSettings {
        max_file_bytes: options.max_file_bytes,
        ..ScanSettings::new(options.selection, *period, false, options.rules.clone())
    };
    let fallback_day = period.since.date_naive();
    let mut scanner = Scanner::new(sink, None, false);
    // Pages go into the scanner as they arrive, whole files at a time: the result is never held whole.
    let mut files = WholeFiles::default();
    let mut take = |page| {
        let whole = files.page(page);
        scanner
            .absorb(outcomes(whole, &settings, fallback_day))
            .map_err(|e| format!("writing the events: {e}"))
    };
    super::athena::run_query(&client, &target.table, &target.workgroup, &sql, &mut take)
        .await
        .map_err(|e| e.to_string())?;
    scanner
        .absorb(outcomes(files.finish(), &settings, fallback_day))
        .map_err(|e| format!("writing the events: {e}"))?;
    Ok(BucketScan {
        totals: scanner.totals,
        ..BucketScan::default()
    })
}
