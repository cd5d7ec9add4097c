//! One archive file in, the events the audit needs out: decompress, split `{"Records": [...]}` into borrowed raw
//! records, prefilter each with a substring search, and parse only the candidates.
//!
//! Pure and single-threaded per file (rayon runs many files at once, see `scan`). Damage is reported as
//! [`UnreadableEvidence`], never skipped: a file that is not gzip or not JSON, and a selected record without
//! the fields the checks need.

use std::borrow::Cow;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use memchr::memmem::Finder;
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::decode::with_gunzipped;
use crate::analysis::identity::person_of;
use crate::model::{
    ApprovalEvent, EventOrigin, Period, RoleSession, UnreadableEvidence, UnreadableKind,
    UserIdentity, WriteEvent,
};
use crate::rules::IdentityRules;

/// Which events a scan keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// `PutApprovalResult` calls only.
    Approvals,
    /// Mutating calls (approvals excluded), and `sts:AssumeRole` calls (read-only, but they say who entered which
    /// role: out-of-band-change traces sessions through them).
    Writes,
    /// Both.
    All,
    /// None: files are only read, counted and hashed (integrity verification).
    Nothing,
}

impl Selection {
    fn approvals(self) -> bool {
        matches!(self, Selection::Approvals | Selection::All)
    }
    fn writes(self) -> bool {
        matches!(self, Selection::Writes | Selection::All)
    }
}

pub struct ExtractOptions<'a> {
    pub selection: Selection,
    pub period: Period,
    /// Compute the SHA-256 of each file's uncompressed content (for digest verification).
    pub hash: bool,
    pub rules: &'a IdentityRules,
    /// Largest decompressed file read; a larger one is unreadable evidence.
    pub max_uncompressed: usize,
    /// The sink's renderer: selected events are kept as its lines ([`FileOutcome::keep`]).
    pub render: Option<Render>,
}

/// One selected event, with CloudTrail's fields and our person key.
#[derive(Debug, Clone)]
pub struct Extracted {
    pub event_id: String,
    pub event_time: DateTime<Utc>,
    pub account_id: String,
    pub region: String,
    pub source: String,
    pub name: String,
    pub read_only: Option<bool>,
    pub error_code: Option<String>,
    pub identity: UserIdentity,
    pub person: String,
    /// For approvals and CodePipeline calls: the record's `requestParameters`; for approvals the parsed approval.
    pub request_parameters: Option<serde_json::Value>,
    pub approval: Option<ApprovalEvent>,
    /// For `sts:AssumeRole` calls: the session it issued.
    pub session: Option<RoleSession>,
    /// What a write names (`crate::model::call_details`).
    pub resources: Vec<String>,
}

impl Extracted {
    /// The snapshot form of a write event (None for approvals and role sessions, which have their own forms).
    pub fn to_write_event(&self) -> Option<WriteEvent> {
        if self.approval.is_some() || self.session.is_some() {
            return None;
        }
        Some(WriteEvent {
            event_id: self.event_id.clone(),
            event_time: self.event_time,
            account_id: self.account_id.clone(),
            region: self.region.clone(),
            source: self.source.clone(),
            name: self.name.clone(),
            read_only: self.read_only,
            error_code: self.error_code.clone(),
            identity: self.identity.clone(),
            person: self.person.clone(),
            origin: EventOrigin::TrailArchive,
            resources: self.resources.clone(),
            request_parameters: self.request_parameters.clone(),
        })
    }
}

/// What one file yielded.
#[derive(Debug, Default)]
pub struct FileOutcome {
    /// `s3://bucket/key` or a local path.
    pub location: String,
    /// The key inside the archive (relative path for a local directory), as digests name it.
    pub key: String,
    pub compressed: u64,
    pub uncompressed: u64,
    pub records: u64,
    /// Hex SHA-256 of the uncompressed content, when asked for.
    pub sha256: Option<String>,
    pub events: Vec<Extracted>,
    /// With a renderer ([`ExtractOptions::render`]), every kept event in order: its line, or its place when it
    /// failed to render and is in `events` instead ([`FileOutcome::keep`]).
    pub rendered: Rendered,
    pub unreadable: Vec<UnreadableEvidence>,
}

/// Writes one event as the bytes its sink writes for it (see `scan::EventSink::renderer`).
pub type Render = fn(&Extracted, &mut Vec<u8>) -> std::io::Result<()>;

/// A file's events as rendered lines, each with what deduplication needs (event ID and time), in the file's
/// order; an event that could not be rendered is kept in `FileOutcome::events` and has its place here.
#[derive(Debug, Default)]
pub struct Rendered {
    bytes: Vec<u8>,
    ids: String,
    entries: Vec<RenderedEntry>,
}

#[derive(Debug)]
struct RenderedEntry {
    id_end: usize,
    line_end: usize,
    time: DateTime<Utc>,
    /// Not rendered: the next of `FileOutcome::events`.
    unrendered: bool,
}

/// One kept event, in order: a rendered line, or the next unrendered event.
pub enum Kept<'a> {
    Line {
        event_id: &'a str,
        time: DateTime<Utc>,
        line: &'a [u8],
    },
    Unrendered,
}

impl Rendered {
    /// Every kept event of the file, in the file's order.
    pub fn iter(&self) -> impl Iterator<Item = Kept<'_>> {
        let mut id_start = 0;
        let mut line_start = 0;
        self.entries.iter().map(move |e| {
            let id = self.ids.get(id_start..e.id_end).unwrap_or_default();
            let line = self.bytes.get(line_start..e.line_end).unwrap_or_default();
            (id_start, line_start) = (e.id_end, e.line_end);
            if e.unrendered {
                Kept::Unrendered
            } else {
                Kept::Line {
                    event_id: id,
                    time: e.time,
                    line,
                }
            }
        })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl FileOutcome {
    pub fn new(location: &str, key: &str) -> FileOutcome {
        FileOutcome {
            location: location.to_owned(),
            key: key.to_owned(),
            ..FileOutcome::default()
        }
    }

    /// Keeps one selected event. With a renderer it is rendered at once, on the worker that extracted it, so the
    /// serial part of a scan only deduplicates and copies bytes; an event that fails to render is kept as it is
    /// (in its place), for the sink to write itself: nothing is lost and the order holds.
    pub fn keep(&mut self, event: Extracted, render: Option<Render>) {
        let Some(render) = render else {
            self.events.push(event);
            return;
        };
        let r = &mut self.rendered;
        let start = r.bytes.len();
        let unrendered = render(&event, &mut r.bytes).is_err();
        if unrendered {
            r.bytes.truncate(start);
        } else {
            r.ids.push_str(&event.event_id);
        }
        r.entries.push(RenderedEntry {
            id_end: r.ids.len(),
            line_end: r.bytes.len(),
            time: event.event_time,
            unrendered,
        });
        if unrendered {
            self.events.push(event);
        }
    }

    pub fn damaged(&mut self, kind: UnreadableKind, detail: String) {
        self.unreadable.push(UnreadableEvidence {
            location: self.location.clone(),
            event_id: None,
            record_index: None,
            kind,
            detail,
        });
    }
}

#[derive(Deserialize)]
struct Document<'a> {
    #[serde(rename = "Records", borrow)]
    records: Vec<&'a RawValue>,
}

/// The fields of a record the checks need; everything else is skipped unparsed.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "eventID", borrow, default)]
    event_id: Option<Cow<'a, str>>,
    #[serde(rename = "eventTime", borrow, default)]
    event_time: Option<Cow<'a, str>>,
    #[serde(rename = "eventName", borrow, default)]
    event_name: Option<Cow<'a, str>>,
    #[serde(rename = "eventSource", borrow, default)]
    event_source: Option<Cow<'a, str>>,
    #[serde(rename = "awsRegion", borrow, default)]
    region: Option<Cow<'a, str>>,
    #[serde(rename = "recipientAccountId", borrow, default)]
    account: Option<Cow<'a, str>>,
    #[serde(rename = "readOnly", default)]
    read_only: Option<bool>,
    #[serde(rename = "managementEvent", default)]
    management_event: Option<bool>,
    #[serde(rename = "eventCategory", borrow, default)]
    event_category: Option<Cow<'a, str>>,
    #[serde(rename = "errorCode", borrow, default)]
    error_code: Option<Cow<'a, str>>,
    #[serde(rename = "userIdentity", borrow, default)]
    user_identity: Option<&'a RawValue>,
    #[serde(rename = "requestParameters", borrow, default)]
    request_parameters: Option<&'a RawValue>,
}

static APPROVAL: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"PutApprovalResult"));
static ASSUME_ROLE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"AssumeRole"));
static READ_ONLY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"readOnly\""));

/// True only when the record certainly says `"readOnly": true` (one `readOnly` key, set to true). Anything
/// else is parsed, so the prefilter can only save work, never drop a write.
fn surely_read_only(raw: &[u8]) -> bool {
    let Some(at) = READ_ONLY.find(raw) else {
        return false;
    };
    let after = &raw[at + 10..];
    let value = after
        .trim_ascii_start()
        .strip_prefix(b":")
        .map(<[u8]>::trim_ascii_start);
    value.is_some_and(|v| v.starts_with(b"true")) && READ_ONLY.find(after).is_none()
}

fn is_candidate(raw: &[u8], selection: Selection) -> bool {
    (selection.approvals() && APPROVAL.find(raw).is_some())
        || (selection.writes() && (!surely_read_only(raw) || ASSUME_ROLE.find(raw).is_some()))
}

/// Decompresses and extracts one file.
pub fn extract_file(
    location: &str,
    key: &str,
    compressed: &[u8],
    opts: &ExtractOptions<'_>,
) -> FileOutcome {
    let mut out = FileOutcome::new(location, key);
    out.compressed = compressed.len() as u64;
    with_gunzipped(compressed, opts.max_uncompressed, |json| match json {
        Ok(json) => extract_json(json, opts, &mut out),
        Err(e) => out.damaged(UnreadableKind::Gzip, e),
    });
    out
}

/// Extracts the selected events of one decompressed CloudTrail document into `out`.
pub fn extract_json(json: &[u8], opts: &ExtractOptions<'_>, out: &mut FileOutcome) {
    out.uncompressed = json.len() as u64;
    if opts.hash {
        out.sha256 = Some(hex::encode(Sha256::digest(json)));
    }
    let records = match split_records(json) {
        Ok(records) => records,
        Err(e) => {
            out.damaged(
                UnreadableKind::Json,
                format!("not a CloudTrail log document: {e}"),
            );
            return;
        }
    };
    out.records = records.len() as u64;
    if opts.selection == Selection::Nothing {
        return;
    }
    for (index, raw) in records.into_iter().enumerate() {
        if !is_candidate(raw.as_bytes(), opts.selection) {
            continue;
        }
        match record(raw, opts) {
            Ok(Some(e)) if opts.period.contains(e.event_time) => out.keep(e, opts.render),
            Ok(_) => {}
            Err((event_id, detail)) => out.unreadable.push(UnreadableEvidence {
                location: out.location.clone(),
                event_id,
                record_index: Some(index),
                kind: UnreadableKind::Record,
                detail,
            }),
        }
    }
}

/// The records of a CloudTrail document (`{"Records": [...]}`), each as its JSON text, the whole document
/// validated as JSON: an error for a document that is not JSON or has no `Records` array.
///
/// CloudTrail writes `{"Records":[` first: that common shape is split by sonic-rs's SIMD skipping (about 1.6x
/// serde_json's speed on this step, the largest single cost of an all-events scan), which validates every
/// element it skips (but for `\u` escapes, see `split_array`); the closing `]}` is checked here. Whatever the
/// fast split does not accept (another shape, other keys, damage) goes through serde_json, whose records and
/// verdict on damage are then the answer: the fast path can only say yes to what serde_json says yes to.
fn split_records(json: &[u8]) -> Result<Vec<&str>, String> {
    if let Some(records) = std::str::from_utf8(json)
        .ok()
        .and_then(records_array)
        .and_then(split_array)
    {
        return Ok(records);
    }
    split_with_serde(json)
}

/// The text of the `Records` array when the document is `{"Records": <array>}` and nothing else (spacing
/// aside), up to and including the document's last `]`.
fn records_array(text: &str) -> Option<&str> {
    let rest = text
        .trim_ascii_start()
        .strip_prefix('{')?
        .trim_ascii_start();
    let rest = rest.strip_prefix("\"Records\"")?.trim_ascii_start();
    let rest = rest.strip_prefix(':')?.trim_ascii_start();
    let array = rest.trim_ascii_end().strip_suffix('}')?.trim_ascii_end();
    (array.starts_with('[') && array.ends_with(']')).then_some(array)
}

/// Splits one JSON array into its elements' texts; None unless `array` is exactly one valid JSON array.
fn split_array(array: &str) -> Option<Vec<&str>> {
    let mut records = Vec::new();
    let mut end = 1; // just after `[`
    for element in sonic_rs::to_array_iter(array) {
        let element = element.ok()?;
        // The element's text lies inside `array`: take it from there, for `array`'s lifetime.
        let raw = element.as_raw_str();
        let start = (raw.as_ptr() as usize).wrapping_sub(array.as_ptr() as usize);
        let text = array.get(start..start + raw.len())?;
        // sonic-rs's skipping does not check the four hex digits of a `\u` escape (and reads four bytes on,
        // even a closing quote): an element with any backslash is validated again by serde_json. Elements
        // without one hold no escape, where both validate alike.
        if memchr::memchr(b'\\', text.as_bytes()).is_some()
            && serde_json::from_str::<serde::de::IgnoredAny>(text).is_err()
        {
            return None;
        }
        end = start + raw.len();
        records.push(text);
    }
    // The iterator stops at the array's `]`: nothing but spacing may follow it (`records_array` took the `}`;
    // `{"Records":[1],"x":[2]}` ends in `]` too, and is for serde_json to split).
    (array.get(end..).map(str::trim_ascii_start) == Some("]")).then_some(records)
}

/// The general path: any JSON object with a `Records` array (serde_json validates the whole document).
fn split_with_serde(json: &[u8]) -> Result<Vec<&str>, String> {
    let document: Document<'_> = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    Ok(document.records.into_iter().map(RawValue::get).collect())
}

type RecordError = (Option<String>, String);

/// Parses one candidate record: Ok(None) when it is not selected after all.
fn record(raw: &str, opts: &ExtractOptions<'_>) -> Result<Option<Extracted>, RecordError> {
    let head: Head<'_> =
        serde_json::from_str(raw).map_err(|e| (None, format!("not a record: {e}")))?;
    let event_id = head.event_id.as_deref().map(str::to_owned);
    let fail = |detail: String| (event_id.clone(), detail);
    let name = head
        .event_name
        .as_deref()
        .ok_or_else(|| fail("missing eventName".into()))?;
    let source = head.event_source.as_deref().unwrap_or_default();
    let is_approval = name == "PutApprovalResult" && source == "codepipeline.amazonaws.com";
    if is_approval && opts.selection.approvals() {
        let value: serde_json::Value =
            serde_json::from_str(raw).map_err(|e| fail(e.to_string()))?;
        let approval =
            ApprovalEvent::from_cloudtrail(&value, EventOrigin::TrailArchive).map_err(fail)?;
        let person = person_of(&approval.identity, opts.rules).key;
        return Ok(Some(Extracted {
            event_id: approval.event_id.clone(),
            event_time: approval.event_time,
            account_id: approval.account_id.clone(),
            region: approval.region.clone(),
            source: source.to_owned(),
            name: name.to_owned(),
            read_only: head.read_only,
            error_code: approval.error_code.clone(),
            identity: approval.identity.clone(),
            person,
            request_parameters: value.get("requestParameters").cloned(),
            approval: Some(approval),
            session: None,
            resources: Vec::new(),
        }));
    }
    if name == "AssumeRole" && source == "sts.amazonaws.com" && opts.selection.writes() {
        let value: serde_json::Value =
            serde_json::from_str(raw).map_err(|e| fail(e.to_string()))?;
        let session =
            RoleSession::from_cloudtrail(&value, EventOrigin::TrailArchive).map_err(fail)?;
        return Ok(Some(Extracted {
            event_id: session.event_id.clone(),
            event_time: session.event_time,
            account_id: session.account_id.clone(),
            region: session.region.clone(),
            source: source.to_owned(),
            name: name.to_owned(),
            read_only: head.read_only,
            error_code: session.error_code.clone(),
            person: person_of(&session.caller, opts.rules).key,
            identity: session.caller.clone(),
            request_parameters: value.get("requestParameters").cloned(),
            approval: None,
            session: Some(session),
            resources: Vec::new(),
        }));
    }
    if is_approval || !opts.selection.writes() || !is_mutating(head.read_only, source, name) {
        return Ok(None);
    }
    // A data event (an object written, a function invoked) is not a change to the infrastructure.
    if crate::model::is_data_event(head.management_event, head.event_category.as_deref()) {
        return Ok(None);
    }
    let text = |v: &Option<Cow<'_, str>>, field: &str| {
        v.as_deref()
            .map(str::to_owned)
            .ok_or_else(|| format!("missing {field}"))
    };
    let id = text(&head.event_id, "eventID").map_err(fail)?;
    if source.is_empty() {
        return Err(fail("missing eventSource".into()));
    }
    let time_text = text(&head.event_time, "eventTime").map_err(fail)?;
    let event_time = DateTime::parse_from_rfc3339(&time_text)
        .map_err(|e| fail(format!("eventTime {time_text:?}: {e}")))?
        .with_timezone(&Utc);
    let identity_raw = head
        .user_identity
        .ok_or_else(|| fail("missing userIdentity".into()))?;
    let identity = UserIdentity::from_cloudtrail_raw(identity_raw)
        .map_err(|e| fail(format!("userIdentity: {e}")))?;
    // Only the services whose resources a check looks at are worth parsing the parameters of.
    let (resources, request_parameters) = match (head.request_parameters, source) {
        (
            Some(raw),
            "codepipeline.amazonaws.com"
            | "codebuild.amazonaws.com"
            | "s3.amazonaws.com"
            | "iam.amazonaws.com"
            | "kms.amazonaws.com",
        ) => {
            let params: serde_json::Value = serde_json::from_str(raw.get())
                .map_err(|e| fail(format!("requestParameters: {e}")))?;
            crate::model::call_details(source, Some(&params))
        }
        _ => (Vec::new(), None),
    };
    Ok(Some(Extracted {
        resources,
        event_id: id,
        event_time,
        account_id: text(&head.account, "recipientAccountId").map_err(fail)?,
        region: text(&head.region, "awsRegion").map_err(fail)?,
        source: source.to_owned(),
        name: name.to_owned(),
        read_only: head.read_only,
        error_code: head.error_code.as_deref().map(str::to_owned),
        person: person_of(&identity, opts.rules).key,
        identity,
        request_parameters,
        approval: None,
        session: None,
    }))
}

/// `readOnly: false` is a write; when CloudTrail did not say, the action catalog decides.
fn is_mutating(read_only: Option<bool>, source: &str, name: &str) -> bool {
    match read_only {
        Some(r) => !r,
        None => {
            let service = source.split('.').next().unwrap_or_default();
            crate::iam::catalog::Catalog::global()
                .access_level(&format!("{service}:{name}"))
                .is_mutating()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn period() -> Period {
        Period {
            since: Utc
                .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .expect("t"),
            until: Utc
                .with_ymd_and_hms(2027, 1, 1, 0, 0, 0)
                .single()
                .expect("t"),
        }
    }

    fn rec(id: &str, name: &str, read_only: Option<bool>) -> serde_json::Value {
        let mut r = serde_json::json!({
            "eventVersion": "1.08",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111111111111:user/alice", "accountId": "111111111111"},
            "eventTime": "2026-03-04T10:00:00Z", "eventSource": "iam.amazonaws.com", "eventName": name,
            "awsRegion": "us-east-1", "eventID": id, "recipientAccountId": "111111111111"
        });
        if let Some(ro) = read_only {
            r["readOnly"] = ro.into();
        }
        r
    }

    fn approval(id: &str) -> serde_json::Value {
        let mut r = rec(id, "PutApprovalResult", Some(false));
        r["eventSource"] = "codepipeline.amazonaws.com".into();
        r["requestParameters"] = serde_json::json!({"pipelineName": "web", "stageName": "Prod", "actionName": "A",
            "result": {"status": "Approved", "summary": "ok"}, "token": "t"});
        r
    }

    fn run(records: Vec<serde_json::Value>, selection: Selection) -> FileOutcome {
        let json = serde_json::to_vec(&serde_json::json!({"Records": records})).expect("json");
        let rules = IdentityRules::default();
        let opts = ExtractOptions {
            max_uncompressed: crate::trail::decode::DEFAULT_MAX_UNCOMPRESSED,
            render: None,
            selection,
            period: period(),
            hash: true,
            rules: &rules,
        };
        let mut out = FileOutcome::new("f", "f");
        extract_json(&json, &opts, &mut out);
        out
    }

    #[test]
    fn selects_approvals_and_writes() {
        let records = vec![
            rec("r1", "GetUser", Some(true)),
            rec("w1", "AttachUserPolicy", Some(false)),
            rec("w2", "CreateUser", None),
            rec("r2", "ListUsers", None),
            approval("a1"),
        ];
        let all = run(records.clone(), Selection::All);
        let ids: Vec<&str> = all.events.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids, vec!["w1", "w2", "a1"]);
        assert_eq!(all.records, 5);
        assert!(all.unreadable.is_empty());
        assert_eq!(all.events[0].person, "arn:aws:iam::111111111111:user/alice");
        assert_eq!(
            all.events[2].approval.as_ref().map(|a| a.stage.as_str()),
            Some("Prod")
        );
        assert!(all.sha256.as_ref().is_some_and(|h| h.len() == 64));
        let approvals = run(records.clone(), Selection::Approvals);
        assert_eq!(approvals.events.len(), 1);
        let writes = run(records, Selection::Writes);
        assert_eq!(writes.events.len(), 2);
    }

    #[test]
    fn data_events_are_not_infrastructure_changes_and_service_events_are_services() {
        let mut put_object = rec("d1", "PutObject", Some(false));
        put_object["eventSource"] = "s3.amazonaws.com".into();
        put_object["managementEvent"] = false.into();
        put_object["eventCategory"] = "Data".into();
        let mut invoke = rec("d2", "Invoke", Some(false));
        invoke["eventSource"] = "lambda.amazonaws.com".into();
        invoke["eventCategory"] = "Data".into();
        // AWS's documented AwsServiceEvent (KMS automatic key rotation).
        let rotate = serde_json::json!({
            "eventVersion": "1.08",
            "userIdentity": {"accountId": "111111111111", "invokedBy": "AWS Internal"},
            "eventTime": "2026-03-04T10:00:00Z", "eventSource": "kms.amazonaws.com", "eventName": "RotateKey",
            "awsRegion": "us-east-1", "sourceIPAddress": "AWS Internal", "userAgent": "AWS Internal",
            "requestParameters": null, "responseElements": null, "eventID": "k1", "readOnly": false,
            "resources": [{"accountId": "111111111111", "type": "AWS::KMS::Key",
                "ARN": "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"}],
            "eventType": "AwsServiceEvent", "recipientAccountId": "111111111111",
            "serviceEventDetails": {"rotationType": "AUTOMATIC", "keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"},
            "eventCategory": "Management"
        });
        let out = run(
            vec![
                put_object,
                invoke,
                rotate,
                rec("w1", "CreateUser", Some(false)),
            ],
            Selection::Writes,
        );
        assert!(out.unreadable.is_empty(), "{:?}", out.unreadable);
        let ids: Vec<&str> = out.events.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids, vec!["k1", "w1"]);
        assert_eq!(out.events[0].identity.kind, "AWSService");
        assert_eq!(out.events[0].person, "service:AWS Internal");
    }

    #[test]
    fn assume_role_calls_are_kept_as_role_sessions_although_read_only() {
        let mut assume = rec("s1", "AssumeRole", Some(true));
        assume["eventSource"] = "sts.amazonaws.com".into();
        assume["requestParameters"] = serde_json::json!({
            "roleArn": "arn:aws:iam::444444444444:role/Deploy", "roleSessionName": "leo"});
        assume["responseElements"] =
            serde_json::json!({"credentials": {"accessKeyId": "ASIAEXAMPLE"}});
        assume["sharedEventID"] = "shared-1".into();
        // A read-only call that merely mentions the name is parsed and dropped, never kept.
        let mut mention = rec("r1", "GetRole", Some(true));
        mention["requestParameters"] = serde_json::json!({"roleName": "AssumeRoleHelper"});
        let out = run(vec![assume.clone(), mention], Selection::Writes);
        assert!(out.unreadable.is_empty(), "{:?}", out.unreadable);
        assert_eq!(out.events.len(), 1);
        let session = out.events[0].session.as_ref().expect("a role session");
        assert_eq!(session.role_arn, "arn:aws:iam::444444444444:role/Deploy");
        assert_eq!(session.session_name, "leo");
        assert_eq!(session.shared_event_id.as_deref(), Some("shared-1"));
        assert_eq!(session.origin, EventOrigin::TrailArchive);
        assert!(out.events[0].to_write_event().is_none());
        // Approvals-only scans leave sessions out.
        assert!(run(vec![assume], Selection::Approvals).events.is_empty());
    }

    #[test]
    fn failed_writes_are_kept_with_their_error() {
        let mut denied = rec("w1", "DeleteRole", Some(false));
        denied["errorCode"] = "AccessDenied".into();
        let out = run(vec![denied], Selection::Writes);
        assert_eq!(out.events[0].error_code.as_deref(), Some("AccessDenied"));
    }

    #[test]
    fn nested_read_only_keys_do_not_hide_writes() {
        let mut w = rec("w1", "AttachVolume", Some(false));
        w["requestParameters"] = serde_json::json!({"readOnly": true});
        assert_eq!(run(vec![w], Selection::Writes).events.len(), 1);
    }

    #[test]
    fn records_without_fields_are_unreadable_evidence() {
        let mut no_identity = rec("w1", "CreateUser", Some(false));
        no_identity
            .as_object_mut()
            .map(|o| o.remove("userIdentity"));
        let mut no_stage = approval("a1");
        no_stage["requestParameters"]
            .as_object_mut()
            .map(|o| o.remove("stageName"));
        let out = run(
            vec![no_identity, no_stage, serde_json::json!("not an object")],
            Selection::All,
        );
        assert!(out.events.is_empty());
        assert_eq!(out.unreadable.len(), 3, "{:?}", out.unreadable);
        assert!(out.unreadable[0].detail.contains("userIdentity"));
        assert_eq!(out.unreadable[0].event_id.as_deref(), Some("w1"));
        assert!(out.unreadable[1].detail.contains("stageName"));
        assert_eq!(out.unreadable[2].record_index, Some(2));
    }

    #[test]
    fn damaged_files_are_unreadable_evidence() {
        let rules = IdentityRules::default();
        let opts = ExtractOptions {
            max_uncompressed: crate::trail::decode::DEFAULT_MAX_UNCOMPRESSED,
            render: None,
            selection: Selection::All,
            period: period(),
            hash: false,
            rules: &rules,
        };
        let not_gzip = extract_file("x", "x", b"hello", &opts);
        assert_eq!(not_gzip.unreadable[0].kind, UnreadableKind::Gzip);
        let mut out = FileOutcome::new("y", "y");
        extract_json(b"<html>not json</html>", &opts, &mut out);
        assert_eq!(out.unreadable[0].kind, UnreadableKind::Json);
        let mut other = FileOutcome::new("z", "z");
        extract_json(b"{\"configurationItems\": []}", &opts, &mut other);
        assert_eq!(other.unreadable[0].kind, UnreadableKind::Json);
    }

    #[test]
    fn events_outside_the_period_are_left_out() {
        let mut old = rec("w0", "CreateUser", Some(false));
        old["eventTime"] = "2025-12-31T23:59:59Z".into();
        assert!(run(vec![old], Selection::Writes).events.is_empty());
    }

    /// The fast split and serde_json's agree on every document: the same records, and damage rejected by both.
    /// Run over every truncation and thousands of byte changes of a document with nesting, escapes, numbers and
    /// literals, and over documents of other shapes.
    #[test]
    fn the_fast_split_accepts_and_rejects_exactly_what_serde_json_does() {
        let valid = concat!(
            r#"{"Records":[{"eventID":"a","n":-1.5e3,"ok":true,"no":null,"#,
            r#""s":"q\"uote\\ \u00e9 \ud83d\ude00 caf\u00E9","nest":{"a":[1,{"b":[]},"x"],"e":{}}},"#,
            r#" {"eventID":"b","readOnly":false} , 7 ,"text",[1,2]]}"#
        );
        let agree = |doc: &[u8]| {
            let fast = split_records(doc);
            let serde = std::str::from_utf8(doc)
                .map_err(|e| e.to_string())
                .and_then(|_| split_with_serde(doc));
            match (&fast, &serde) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{}", String::from_utf8_lossy(doc)),
                (Err(_), Err(_)) => {}
                _ => panic!(
                    "fast {fast:?} but serde_json {serde:?} for {}",
                    String::from_utf8_lossy(doc)
                ),
            }
            fast.is_ok()
        };
        assert!(agree(valid.as_bytes()));
        assert_eq!(
            split_records(valid.as_bytes()).map(|r| r.len()),
            Ok(5),
            "five records"
        );
        for other in [
            r#"{"Records":[]}"#,
            " \n{ \"Records\" :\t[ ] }\n",
            r#"{"x":1,"Records":[{"a":1}]}"#,
            r#"{"Records":[{"a":1}],"x":1}"#,
            r#"{"Records":[{"a":1}],"x":[2]}"#,
            r#"{"Records":[{"a":1}],"x":{"y":[2]}}"#,
            r#"{"Records":[1],"Records":[2]}"#,
            r#"{"Records":[{"a":1}]]}"#,
            r#"{"Records":[{"a":1},]}"#,
            r#"{"Records":[{"a":1}]} x"#,
            r#"{"Records":[{"a":1}]}}"#,
            r#"{"Records":[{"a":1} {"b":2}]}"#,
            r#"{"Records":{"a":1}}"#,
            r#"{"Records":[{"a":"\ud800"}]}"#,
            r#"{"Records":[{"a":"\u12"}]}"#,
            r#"{"Records":[{"a":01}]}"#,
            r#"{"Records":[{"a":1.}]}"#,
            r#"{"Records":[{"a":-}]}"#,
            r#"{"Records":[{"a":tru}]}"#,
            r#"{"Records":[{"a" 1}]}"#,
            r#"{"Records":[{1:1}]}"#,
            "{\"Records\":[{\"a\":\"tab\tin string\"}]}",
            "{\"Records\":[{\"a\":1}]}\u{0}",
        ] {
            agree(other.as_bytes());
        }
        // Nesting deeper than serde_json's limit of 128 is rejected by both.
        for depth in [100, 127, 128, 129, 200, 5_000] {
            let deep = format!(
                "{{\"Records\":[{}{}]}}",
                "[".repeat(depth),
                "]".repeat(depth)
            );
            agree(deep.as_bytes());
        }
        for cut in 0..valid.len() {
            assert!(!agree(&valid.as_bytes()[..cut]) || cut == valid.len());
        }
        // Deterministic byte changes (a small LCG), each checked against serde_json's verdict.
        let alphabet = b"{}[],:\"\\ 0123456789eE+-.tfnulrsa\x01\xff";
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize
        };
        for _ in 0..20_000 {
            let mut doc = valid.as_bytes().to_vec();
            for _ in 0..1 + next() % 2 {
                let at = next() % doc.len();
                match next() % 3 {
                    0 => doc[at] = alphabet[next() % alphabet.len()],
                    1 => {
                        doc.remove(at);
                    }
                    _ => doc.insert(at, alphabet[next() % alphabet.len()]),
                }
            }
            agree(&doc);
        }
    }
}
