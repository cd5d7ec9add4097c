//! The SQL (Athena engine 3, Trino dialect) that returns the candidate records of a period: for every record of
//! every log file in the period's `log_day` partitions (one day after it too, as the native scan reads, for late
//! deliveries), the file's `$path`, its day, the record's 1-based index and the record as JSON, when the native
//! prefilter would parse it; and one row with a NULL record for each file that is not a CloudTrail document
//! (the native scan's unreadable `Json` file).
//!
//! The filter is a superset of the native prefilter, never narrower: the exact selection is made by the native
//! extractor on the returned records (`super::rows`). Pure text: no I/O.

use super::{literal, TableName};
use crate::model::Period;
use crate::trail::layout::days;
use crate::trail::Selection;

/// Accounts and regions to keep (empty: all).
#[derive(Debug, Clone, Default)]
pub struct QueryFilters {
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
}

/// The columns of a result row, in order.
pub const COLUMNS: [&str; 4] = ["location", "log_day", "record_index", "record"];

fn partition_bounds(period: &Period, filters: &QueryFilters) -> String {
    let d = days(period, 1);
    let fmt = |i: usize| d[i].format("%Y/%m/%d").to_string();
    let mut w = match d.len() {
        0 => "FALSE".to_owned(),
        n => format!(
            "t.log_day BETWEEN {} AND {}",
            literal(&fmt(0)),
            literal(&fmt(n - 1))
        ),
    };
    for (column, values) in [("account", &filters.accounts), ("region", &filters.regions)] {
        if !values.is_empty() {
            let list: Vec<String> = values.iter().map(|v| literal(v)).collect();
            w.push_str(&format!(" AND t.{column} IN ({})", list.join(", ")));
        }
    }
    w
}

/// The record-level prefilter: `raw` is the record re-serialised as JSON text.
fn candidate(selection: Selection) -> String {
    let approvals = "strpos(json_format(r.record), 'PutApprovalResult') > 0";
    // Native: parse unless the record surely says "readOnly": true; AssumeRole calls always.
    let writes = "(coalesce(json_format(json_extract(r.record, '$.readOnly')), '') <> 'true' \
                  OR strpos(json_format(r.record), 'AssumeRole') > 0)";
    match selection {
        Selection::Approvals => approvals.to_owned(),
        Selection::Writes => writes.to_owned(),
        Selection::All => format!("({approvals} OR {writes})"),
        Selection::Nothing => "FALSE".to_owned(),
    }
}

/// The query for `selection` over `period`.
pub fn query(
    table: &TableName,
    selection: Selection,
    period: &Period,
    filters: &QueryFilters,
) -> String {
    let bounds = partition_bounds(period, filters);
    // The records array is cast once per file (in `files`), not once per record: an engine may evaluate a
    // function inside UNNEST again for every row it produces (duckdb does, which made the equality test and
    // the emulator's Athena 100x slower).
    format!(
        "WITH files AS (\n\
         SELECT t.\"$path\" AS location, t.log_day AS log_day, \
         TRY(CAST(json_extract(t.line, '$.Records') AS ARRAY(JSON))) AS records\n\
         FROM {table} AS t\n\
         WHERE {bounds}\n\
         )\n\
         SELECT f.location AS location, f.log_day AS log_day, r.idx AS record_index, \
         json_format(r.record) AS record\n\
         FROM files AS f\n\
         CROSS JOIN UNNEST(f.records) WITH ORDINALITY AS r(record, idx)\n\
         WHERE {candidate}\n\
         UNION ALL\n\
         SELECT f.location AS location, f.log_day AS log_day, NULL AS record_index, NULL AS record\n\
         FROM files AS f\n\
         WHERE f.records IS NULL\n\
         ORDER BY log_day, location, record_index",
        table = table.quoted(),
        candidate = candidate(selection),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_query_bounds_partitions_and_selects_candidates() {
        let t = TableName::parse("audit.trail").expect("t");
        let p = Period {
            since: chrono::Utc
                .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
                .single()
                .expect("t"),
            until: chrono::Utc
                .with_ymd_and_hms(2026, 3, 3, 0, 0, 0)
                .single()
                .expect("t"),
        };
        let f = QueryFilters {
            accounts: vec!["111111111111".into()],
            regions: vec![],
        };
        let q = query(&t, Selection::Approvals, &p, &f);
        assert!(
            q.contains("t.log_day BETWEEN '2026/03/01' AND '2026/03/03'"),
            "{q}"
        );
        assert!(q.contains("t.account IN ('111111111111')"));
        assert!(!q.contains("t.region IN"));
        assert!(q.contains("PutApprovalResult") && !q.contains("readOnly"));
        let w = query(&t, Selection::Writes, &p, &f);
        assert!(w.contains("readOnly") && !w.contains("PutApprovalResult"));
        assert!(query(&t, Selection::All, &p, &f).contains("PutApprovalResult"));
    }
}
