//! JSON Lines and CSV writers for `gateaudit trail scan --format jsonl|csv`: one event per line, streamed.
//!
//! JSON Lines keep CloudTrail's own field names (`eventID`, `eventTime`, ..., `userIdentity`, and
//! `requestParameters` for approvals) plus our `person` key. Formatting only: the caller owns the writer.

use std::io::Write;

use serde_json::{Map, Value};

use super::extract::Extracted;
use super::scan::EventSink;

/// The JSON Lines object of one event.
pub fn jsonl_object(e: &Extracted) -> Value {
    let mut m = Map::new();
    m.insert("eventID".into(), e.event_id.clone().into());
    m.insert(
        "eventTime".into(),
        e.event_time.format("%Y-%m-%dT%H:%M:%SZ").to_string().into(),
    );
    m.insert("eventName".into(), e.name.clone().into());
    m.insert("eventSource".into(), e.source.clone().into());
    m.insert("awsRegion".into(), e.region.clone().into());
    m.insert("recipientAccountId".into(), e.account_id.clone().into());
    if let Some(r) = e.read_only {
        m.insert("readOnly".into(), r.into());
    }
    if let Some(code) = &e.error_code {
        m.insert("errorCode".into(), code.clone().into());
    }
    m.insert(
        "userIdentity".into(),
        serde_json::from_str(e.identity.raw.text()).unwrap_or(Value::Null),
    );
    if e.approval.is_some() {
        m.insert(
            "requestParameters".into(),
            e.request_parameters.clone().unwrap_or(Value::Null),
        );
    }
    m.insert("person".into(), e.person.clone().into());
    Value::Object(m)
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

impl<W: Write> EventSink for JsonlSink<W> {
    fn emit(&mut self, event: Extracted) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, &jsonl_object(&event))?;
        self.out.write_all(b"\n")
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
