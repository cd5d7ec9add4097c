//! Athena result rows (see `super::query::COLUMNS`) back into the native scan's events: each record goes
//! through the native extractor (`crate::trail::extract::extract_json`), so the fields and the selection are the
//! native ones, and a record that does not parse is unreadable evidence exactly as in a native scan (same kind,
//! same location `s3://bucket/key`, same 0-based record index). A row with no record names a file that is not a
//! CloudTrail document. Rows arrive ordered by day, so the scanner's deduplication applies unchanged.
//!
//! Pure: no I/O.

use chrono::NaiveDate;

use crate::model::UnreadableKind;
use crate::trail::extract::{extract_json, ExtractOptions, FileOutcome};
use crate::trail::scan::ScanSettings;

/// One result row, as Athena returns it (every value a string, NULL as None).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultRow {
    pub location: Option<String>,
    pub log_day: Option<String>,
    pub record_index: Option<String>,
    pub record: Option<String>,
}

impl ResultRow {
    /// From the row's values in `COLUMNS` order; a row of another width is reported, not guessed at.
    pub fn from_values(values: Vec<Option<String>>) -> Result<ResultRow, String> {
        let n = values.len();
        let mut it = values.into_iter();
        match (it.next(), it.next(), it.next(), it.next(), it.next()) {
            (Some(location), Some(log_day), Some(record_index), Some(record), None) => {
                Ok(ResultRow {
                    location,
                    log_day,
                    record_index,
                    record,
                })
            }
            _ => Err(format!("result row has {n} columns, expected 4")),
        }
    }
}

/// Result pages cut into whole files: rows arrive ordered by file, but a page may end inside one. Each page's
/// rows are handed on except the run of its last file, which waits for the next page (or the end), so a file's
/// records always reach [`outcomes`] together and memory holds one page and one file, not the whole result.
#[derive(Debug, Default)]
pub struct WholeFiles {
    pending: Vec<ResultRow>,
}

impl WholeFiles {
    /// Adds a page; returns the rows of the files it completes.
    pub fn page(&mut self, page: Vec<ResultRow>) -> Vec<ResultRow> {
        self.pending.extend(page);
        let Some(last) = self.pending.last().map(|r| r.location.clone()) else {
            return Vec::new();
        };
        let keep_from = self
            .pending
            .iter()
            .rposition(|r| r.location != last)
            .map_or(0, |i| i + 1);
        let rest = self.pending.split_off(keep_from);
        std::mem::replace(&mut self.pending, rest)
    }

    /// The rows still held, at the end of the result.
    pub fn finish(self) -> Vec<ResultRow> {
        self.pending
    }
}

/// Turns rows into one outcome per run of rows of the same file (its key being the location's path), ready
/// for `Scanner::absorb`. `fallback_day` dates a row whose day is unreadable.
pub fn outcomes(
    rows: Vec<ResultRow>,
    settings: &ScanSettings,
    fallback_day: NaiveDate,
) -> Vec<(NaiveDate, FileOutcome)> {
    let opts = ExtractOptions {
        selection: settings.selection,
        period: settings.period,
        hash: false,
        rules: &settings.rules,
        max_uncompressed: settings.max_file_bytes,
        render: settings.render,
    };
    let mut out: Vec<(NaiveDate, FileOutcome)> = Vec::new();
    let mut day = fallback_day;
    for row in rows {
        let location = row.location.clone().unwrap_or_default();
        if let Some(d) = row
            .log_day
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y/%m/%d").ok())
        {
            day = day.max(d);
        }
        let same_file = out
            .last()
            .is_some_and(|(_, o)| o.location == location && !location.is_empty());
        if !same_file {
            let key = location
                .strip_prefix("s3://")
                .and_then(|r| r.split_once('/'))
                .map(|(_, k)| k.to_owned())
                .unwrap_or_else(|| location.clone());
            out.push((day, FileOutcome::new(&location, &key)));
        }
        let Some((_, file)) = out.last_mut() else {
            continue;
        };
        if location.is_empty() {
            file.damaged(
                UnreadableKind::Record,
                "Athena result row without $path".into(),
            );
            continue;
        }
        let index = row
            .record_index
            .as_deref()
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| i.checked_sub(1));
        // A record row always has its index; a JSON `null` record comes back as NULL (duckdb does that).
        let record = match (row.record, index) {
            (Some(r), _) => r,
            (None, Some(_)) => "null".to_owned(),
            (None, None) => {
                file.damaged(
                    UnreadableKind::Json,
                    "not a CloudTrail log document (Athena found no Records array)".into(),
                );
                continue;
            }
        };
        let mut one = FileOutcome::new(&location, &file.key);
        extract_json(
            format!("{{\"Records\":[{record}]}}").as_bytes(),
            &opts,
            &mut one,
        );
        file.records += 1;
        file.events.extend(one.events);
        for mut u in one.unreadable {
            if u.kind == UnreadableKind::Json {
                // The row was not JSON at all: a record Athena returned that does not parse.
                u.kind = UnreadableKind::Record;
                u.detail = format!("not a record: {}", u.detail);
            }
            u.record_index = index;
            file.unreadable.push(u);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Period;
    use crate::rules::IdentityRules;
    use crate::trail::Selection;
    use chrono::TimeZone;

    fn settings() -> ScanSettings {
        let p = Period {
            since: chrono::Utc
                .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .expect("t"),
            until: chrono::Utc
                .with_ymd_and_hms(2027, 1, 1, 0, 0, 0)
                .single()
                .expect("t"),
        };
        ScanSettings::new(Selection::All, p, false, IdentityRules::default())
    }

    fn row(loc: &str, idx: &str, record: Option<&str>) -> ResultRow {
        ResultRow {
            location: Some(loc.into()),
            log_day: Some("2026/03/04".into()),
            record_index: Some(idx.into()),
            record: record.map(str::to_owned),
        }
    }

    #[test]
    fn rows_become_native_events_and_damage_is_unreadable_evidence() {
        let write = r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111111111111:user/alice","accountId":"111111111111"},"eventTime":"2026-03-04T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","eventID":"w1","recipientAccountId":"111111111111","readOnly":false}"#;
        let no_identity = r#"{"eventTime":"2026-03-04T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","eventID":"w2","recipientAccountId":"111111111111","readOnly":false}"#;
        let rows = vec![
            row("s3://b/AWSLogs/1/f1.json.gz", "1", Some(write)),
            row("s3://b/AWSLogs/1/f1.json.gz", "3", Some(no_identity)),
            row(
                "s3://b/AWSLogs/1/f2.json.gz",
                "2",
                Some("\"not an object\""),
            ),
            row("s3://b/AWSLogs/1/f2.json.gz", "4", None),
            row("s3://b/AWSLogs/1/f3.json.gz", "", None),
        ];
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).expect("d");
        let out = outcomes(rows, &settings(), day);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].0, NaiveDate::from_ymd_opt(2026, 3, 4).expect("d"));
        assert_eq!(out[0].1.key, "AWSLogs/1/f1.json.gz");
        assert_eq!(out[0].1.events.len(), 1);
        assert_eq!(out[0].1.events[0].event_id, "w1");
        assert_eq!(out[0].1.unreadable.len(), 1);
        assert_eq!(out[0].1.unreadable[0].record_index, Some(2));
        assert_eq!(out[0].1.unreadable[0].kind, UnreadableKind::Record);
        assert_eq!(out[1].1.unreadable[0].kind, UnreadableKind::Record);
        assert_eq!(
            out[1].1.unreadable.len(),
            2,
            "a null record is a damaged record"
        );
        assert_eq!(out[1].1.unreadable[1].record_index, Some(3));
        assert_eq!(out[2].1.unreadable[0].kind, UnreadableKind::Json);
        assert!(ResultRow::from_values(vec![None; 3]).is_err());
    }

    #[test]
    fn a_file_cut_by_a_page_end_is_handed_on_whole() {
        let r = |loc: &str, i: &str| row(loc, i, Some("{}"));
        let mut files = WholeFiles::default();
        let first = files.page(vec![
            r("s3://b/a", "1"),
            r("s3://b/b", "1"),
            r("s3://b/b", "2"),
        ]);
        assert_eq!(
            first,
            vec![r("s3://b/a", "1")],
            "b may go on in the next page"
        );
        let second = files.page(vec![r("s3://b/b", "3"), r("s3://b/c", "1")]);
        assert_eq!(
            second,
            vec![r("s3://b/b", "1"), r("s3://b/b", "2"), r("s3://b/b", "3")]
        );
        assert!(files.page(Vec::new()).is_empty());
        assert_eq!(files.finish(), vec![r("s3://b/c", "1")]);
    }
}
