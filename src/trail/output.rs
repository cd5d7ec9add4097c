//! JSON Lines and CSV writers for `gateaudit trail scan --format jsonl|csv`: one event per line, streamed.
//!
//! JSON Lines keep CloudTrail's own field names (`eventID`, `eventTime`, ..., `userIdentity`, and
//! `requestParameters` for approvals) plus our `person` key. Formatting only: the caller owns the writer.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::extract::Extracted;
use super::scan::EventSink;

/// The JSON Lines line of one event, serialised straight from the event's fields (nothing is cloned or built per
/// event). The fields are in the order a `serde_json::Map` (sorted keys) gave them before, so the output stays
/// byte-identical to that form; `requestParameters` is there (null when absent) for approvals only.
#[derive(Serialize)]
struct JsonlLine<'a> {
    #[serde(rename = "awsRegion")]
    region: &'a str,
    #[serde(rename = "errorCode", skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(rename = "eventID")]
    event_id: &'a str,
    #[serde(rename = "eventName")]
    name: &'a str,
    #[serde(rename = "eventSource")]
    source: &'a str,
    #[serde(rename = "eventTime")]
    event_time: Time,
    person: &'a str,
    #[serde(rename = "readOnly", skip_serializing_if = "Option::is_none")]
    read_only: Option<bool>,
    #[serde(rename = "recipientAccountId")]
    account_id: &'a str,
    #[serde(rename = "requestParameters", skip_serializing_if = "Option::is_none")]
    request_parameters: Option<&'a Value>,
    /// Written verbatim: the identity's compact JSON text (sorted keys, as the map gave).
    #[serde(rename = "userIdentity")]
    identity: &'a crate::model::RawJson,
}

/// `eventTime` as CloudTrail writes it (`2026-03-04T05:06:07Z`), formatted into the writer without a String.
struct Time(DateTime<Utc>);

impl Serialize for Time {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match cloudtrail_time(self.0) {
            Some(bytes) => s.serialize_str(std::str::from_utf8(&bytes).unwrap_or_default()),
            None => s.collect_str(&self.0.format("%Y-%m-%dT%H:%M:%SZ")),
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` written digit by digit (chrono's formatter was a tenth of the serial writer's time);
/// None for a year outside 0..=9999, which chrono's formatter then writes.
fn cloudtrail_time(t: DateTime<Utc>) -> Option<[u8; 20]> {
    use chrono::{Datelike, Timelike};
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let mut out = *b"0000-00-00T00:00:00Z";
    let mut put = |at: usize, width: usize, mut n: u32| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, t.month());
    put(8, 2, t.day());
    put(11, 2, t.hour());
    put(14, 2, t.minute());
    put(17, 2, t.second());
    Some(out)
}

impl<'a> JsonlLine<'a> {
    fn of(e: &'a Extracted) -> Self {
        JsonlLine {
            region: &e.region,
            error_code: e.error_code.as_deref(),
            event_id: &e.event_id,
            name: &e.name,
            source: &e.source,
            event_time: Time(e.event_time),
            person: &e.person,
            read_only: e.read_only,
            account_id: &e.account_id,
            request_parameters: e
                .approval
                .as_ref()
                .map(|_| e.request_parameters.as_ref().unwrap_or(&Value::Null)),
            identity: &e.identity.raw,
        }
    }
}

pub struct JsonlSink<W: Write> {
    out: W,
}

impl<W: Write> JsonlSink<W> {
    pub fn new(out: W) -> Self {
        JsonlSink { out }
    }
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// One event's JSON Lines line, newline included (what [`JsonlSink`] writes for it).
pub fn jsonl_line(event: &Extracted, out: &mut Vec<u8>) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, &JsonlLine::of(event))?;
    out.push(b'\n');
    Ok(())
}

impl<W: Write> EventSink for JsonlSink<W> {
    fn emit(&mut self, event: Extracted) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, &JsonlLine::of(&event))?;
        self.out.write_all(b"\n")
    }

    fn renderer(&self) -> Option<crate::trail::extract::Render> {
        Some(jsonl_line)
    }

    fn emit_line(&mut self, line: &[u8]) -> std::io::Result<()> {
        self.out.write_all(line)
    }
}

pub const CSV_HEADER: [&str; 16] = [
    "eventID",
    "eventTime",
    "eventName",
    "eventSource",
    "awsRegion",
    "recipientAccountId",
    "readOnly",
    "errorCode",
    "identityType",
    "identityArn",
    "person",
    "pipeline",
    "stage",
    "action",
    "status",
    "summary",
];

pub struct CsvSink<W: Write> {
    out: csv::Writer<W>,
}

impl<W: Write> CsvSink<W> {
    pub fn new(out: W) -> std::io::Result<Self> {
        let mut out = csv::Writer::from_writer(out);
        out.write_record(CSV_HEADER)
            .map_err(std::io::Error::other)?;
        Ok(CsvSink { out })
    }
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl<W: Write> EventSink for CsvSink<W> {
    fn emit(&mut self, e: Extracted) -> std::io::Result<()> {
        let a = e.approval.as_ref();
        let field =
            |f: fn(&crate::model::ApprovalEvent) -> &str| a.map(f).unwrap_or_default().to_owned();
        let row = [
            e.event_id.clone(),
            e.event_time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            e.name.clone(),
            e.source.clone(),
            e.region.clone(),
            e.account_id.clone(),
            e.read_only.map(|r| r.to_string()).unwrap_or_default(),
            e.error_code.clone().unwrap_or_default(),
            e.identity.kind.clone(),
            e.identity.arn.clone().unwrap_or_default(),
            e.person.clone(),
            field(|a| &a.pipeline),
            field(|a| &a.stage),
            field(|a| &a.action),
            field(|a| &a.status),
            field(|a| &a.summary),
        ];
        // Names and summaries come from the audited accounts: control characters are shown, never written.
        self.out
            .write_record(
                row.iter()
                    .map(|c| crate::report::text::visible(c).into_owned()),
            )
            .map_err(std::io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::UserIdentity;
    use chrono::{TimeZone, Utc};

    fn event() -> Extracted {
        Extracted {
            event_id: "e1".into(),
            event_time: Utc
                .with_ymd_and_hms(2026, 3, 4, 5, 6, 7)
                .single()
                .expect("t"),
            account_id: "111111111111".into(),
            region: "us-east-1".into(),
            source: "iam.amazonaws.com".into(),
            name: "CreateUser".into(),
            read_only: Some(false),
            error_code: Some("AccessDenied".into()),
            identity: UserIdentity::from_cloudtrail(
                &serde_json::json!({"type": "IAMUser", "arn": "arn:aws:iam::111111111111:user/a"}),
            ),
            person: "arn:aws:iam::111111111111:user/a".into(),
            request_parameters: None,
            approval: None,
            session: None,
            resources: vec![],
        }
    }

    /// Three files' events (one repeated across files, one file rendered by a renderer that fails) folded by a
    /// scanner: rendered on workers or written by the sink, the same lines in the same order, duplicates dropped.
    #[test]
    fn lines_rendered_by_workers_are_the_lines_the_sink_writes() {
        use crate::trail::extract::FileOutcome;
        use crate::trail::scan::Scanner;
        let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 4).expect("day");
        let numbered = |n: u32| {
            let mut e = event();
            e.event_id = format!("e{n}");
            e.event_time += chrono::Duration::seconds(i64::from(n));
            e.name = format!("Call\"{n}\u{e9}");
            e
        };
        let ids = [vec![1, 2], vec![3, 2, 4], vec![5]];
        let files = |render: Option<crate::trail::extract::Render>| {
            ids.clone().map(|ids| {
                let mut f = FileOutcome::new("loc", "key");
                for e in ids.into_iter().map(numbered) {
                    f.keep(e, render);
                }
                f
            })
        };
        let fold = |outcomes: Vec<FileOutcome>| {
            let mut sink = JsonlSink::new(Vec::new());
            let mut scanner = Scanner::new(&mut sink, None, false);
            scanner
                .absorb(outcomes.into_iter().map(|o| (day, o)).collect())
                .expect("absorb");
            let (events, duplicates) = (scanner.totals.events, scanner.totals.duplicates);
            (
                String::from_utf8(sink.into_inner()).expect("utf8"),
                events,
                duplicates,
            )
        };
        let written = fold(files(None).into());
        // Fails for e3 only: the middle file is rendered but for its first event, kept in its place.
        fn failing_for_e3(e: &Extracted, out: &mut Vec<u8>) -> std::io::Result<()> {
            out.extend_from_slice(b"partial");
            if e.event_id == "e3" {
                return Err(std::io::Error::other("no"));
            }
            jsonl_line(e, out)
        }
        let unrendered = files(Some(failing_for_e3));
        assert_eq!(unrendered[1].rendered.len(), 3);
        assert_eq!(unrendered[1].events.len(), 1, "e3 kept as an event");
        assert_eq!(unrendered[0].rendered.len(), 2);
        assert!(unrendered[0].events.is_empty());
        let rendered = files(Some(jsonl_line));
        assert!(rendered.iter().all(|f| f.events.is_empty()));
        assert_eq!(fold(rendered.into()), written);
        let broken = fold(unrendered.into());
        assert!(
            broken.0.contains("partial"),
            "the failing renderer's lines differ"
        );
        let without_partial = broken.0.replace("partial", "");
        assert_eq!((without_partial, broken.1, broken.2), written);
        assert_eq!((written.1, written.2), (5, 1));
        assert_eq!(written.0.lines().count(), 5);
        let ids: Vec<String> = written
            .0
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("json")["eventID"].to_string())
            .collect();
        assert_eq!(ids, ["\"e1\"", "\"e2\"", "\"e3\"", "\"e4\"", "\"e5\""]);
    }

    #[test]
    fn a_sink_without_a_renderer_refuses_lines() {
        use crate::trail::scan::{CollectingSink, EventSink};
        let mut sink = CollectingSink::default();
        assert!(sink.renderer().is_none());
        assert!(sink.emit_line(b"{}\n").is_err());
    }

    #[test]
    fn times_are_written_as_chrono_writes_them() {
        use chrono::TimeZone;
        for (y, mo, d, h, mi, se) in [
            (2026, 3, 4, 5, 6, 7),
            (1, 1, 1, 0, 0, 0),
            (9999, 12, 31, 23, 59, 59),
        ] {
            let t = Utc
                .with_ymd_and_hms(y, mo, d, h, mi, se)
                .single()
                .expect("time");
            let ours = cloudtrail_time(t).expect("four-digit year");
            assert_eq!(
                std::str::from_utf8(&ours).expect("ascii"),
                t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            );
        }
        let far = Utc
            .with_ymd_and_hms(10_000, 1, 1, 0, 0, 0)
            .single()
            .expect("time");
        assert_eq!(cloudtrail_time(far), None);
        let line = serde_json::to_string(&Time(far)).expect("json");
        assert_eq!(line, format!("\"{}\"", far.format("%Y-%m-%dT%H:%M:%SZ")));
    }

    #[test]
    fn jsonl_keeps_cloudtrail_names() {
        let mut sink = JsonlSink::new(Vec::new());
        sink.emit(event()).expect("write");
        let text = String::from_utf8(sink.into_inner()).expect("utf8");
        let v: Value = serde_json::from_str(text.trim()).expect("json");
        assert_eq!(v["eventID"], "e1");
        assert_eq!(v["eventTime"], "2026-03-04T05:06:07Z");
        assert_eq!(v["readOnly"], false);
        assert_eq!(v["errorCode"], "AccessDenied");
        assert_eq!(v["userIdentity"]["type"], "IAMUser");
        assert_eq!(v["person"], "arn:aws:iam::111111111111:user/a");
        assert!(v.get("requestParameters").is_none());
    }

    #[test]
    fn jsonl_bytes_are_those_of_a_sorted_map() {
        // The line written field by field is byte-for-byte what serialising a `serde_json::Map` (sorted keys)
        // gave before: outputs of earlier scans compare equal with `cmp`.
        let mut e = event();
        let mut sink = JsonlSink::new(Vec::new());
        sink.emit(e.clone()).expect("write");
        let as_map = serde_json::json!({
            "eventID": "e1", "eventTime": "2026-03-04T05:06:07Z", "eventName": "CreateUser",
            "eventSource": "iam.amazonaws.com", "awsRegion": "us-east-1", "recipientAccountId": "111111111111",
            "readOnly": false, "errorCode": "AccessDenied", "userIdentity": e.identity.raw.clone(),
            "person": "arn:aws:iam::111111111111:user/a"});
        assert_eq!(
            String::from_utf8(sink.into_inner()).expect("utf8"),
            format!("{}\n", serde_json::to_string(&as_map).expect("json"))
        );
        // An approval carries requestParameters, null when the record had none.
        e.approval = Some(crate::model::ApprovalEvent {
            event_id: "e1".into(),
            event_time: e.event_time,
            account_id: e.account_id.clone(),
            region: e.region.clone(),
            pipeline: "p".into(),
            stage: "s".into(),
            action: "a".into(),
            status: "Approved".into(),
            summary: String::new(),
            token: None,
            error_code: None,
            identity: e.identity.clone(),
            origin: crate::model::EventOrigin::TrailArchive,
        });
        e.read_only = None;
        e.error_code = None;
        let mut sink = JsonlSink::new(Vec::new());
        sink.emit(e.clone()).expect("write");
        let text = String::from_utf8(sink.into_inner()).expect("utf8");
        assert!(text.contains(r#""person":"arn:aws:iam::111111111111:user/a","recipientAccountId":"111111111111","requestParameters":null,"userIdentity":{"#), "{text}");
        assert!(!text.contains("readOnly") && !text.contains("errorCode"));
    }

    #[test]
    fn csv_has_a_header_and_a_row() {
        let mut buf = Vec::new();
        {
            let mut sink = CsvSink::new(&mut buf).expect("header");
            sink.emit(event()).expect("row");
            sink.flush().expect("flush");
        }
        let text = String::from_utf8(buf).expect("utf8");
        assert!(text.starts_with("eventID,eventTime,"));
        assert!(text
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("e1,2026-03-04T05:06:07Z,CreateUser")));
    }
}
