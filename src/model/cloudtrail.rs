//! CloudTrail trails and the PutApprovalResult events collected from LookupEvents or the trail archive.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Trail {
    pub name: String,
    pub arn: String,
    pub home_region: String,
    pub s3_bucket: Option<String>,
    pub s3_key_prefix: Option<String>,
    pub is_multi_region: bool,
    pub is_organization: bool,
    pub log_file_validation: bool,
    pub is_logging: Option<bool>,
    /// What the trail records (`GetEventSelectors`); None when the selectors were not read (a failed step, or
    /// a snapshot from before they were collected): then nothing may be assumed about what the trail holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_selectors: Option<EventSelectors>,
}

/// A trail's event selectors as `GetEventSelectors` returns them: basic or advanced (a trail has one kind).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSelectors {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub basic: Vec<BasicEventSelector>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advanced: Vec<AdvancedEventSelector>,
}

impl EventSelectors {
    /// What AWS gives a trail created without selectors: every read and write management event.
    pub fn all_management_events() -> EventSelectors {
        EventSelectors {
            basic: vec![BasicEventSelector {
                read_write_type: "All".to_owned(),
                include_management_events: true,
                exclude_management_event_sources: Vec::new(),
                data_resources: 0,
            }],
            advanced: Vec::new(),
        }
    }
}

/// A basic event selector. Data resources are counted only: they select data events, which no check reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BasicEventSelector {
    /// `All`, `ReadOnly` or `WriteOnly` (as AWS spells it; an unknown value is kept and judged "cannot tell").
    pub read_write_type: String,
    pub include_management_events: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_management_event_sources: Vec<String>,
    #[serde(default)]
    pub data_resources: usize,
}

/// An advanced event selector: an event matches when every field selector matches it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvancedEventSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub field_selectors: Vec<FieldSelector>,
}

/// One field condition of an advanced selector (values within an operator are alternatives; operators are all
/// required).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldSelector {
    pub field: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub starts_with: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ends_with: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_equals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_starts_with: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_ends_with: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventOrigin {
    LookupEvents,
    TrailArchive,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionIssuer {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(rename = "accountId", default)]
    pub account_id: Option<String>,
    #[serde(rename = "userName", default)]
    pub user_name: Option<String>,
}

/// CloudTrail's `userIdentity`, with the fields identity normalisation needs. `raw` keeps the original.
///
/// `kind` is the record's `type`, except that a `userIdentity` without `type` but with `invokedBy` is
/// `AWSService`: that is how CloudTrail records AWS service events (`eventType: AwsServiceEvent`, e.g. KMS's
/// automatic key rotation: `{"accountId": ..., "invokedBy": "AWS Internal"}`), which an AWS service made, not a
/// person with no name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserIdentity {
    pub kind: String,
    pub arn: Option<String>,
    pub account_id: Option<String>,
    pub principal_id: Option<String>,
    pub user_name: Option<String>,
    pub access_key_id: Option<String>,
    pub session_issuer: Option<SessionIssuer>,
    pub source_identity: Option<String>,
    /// IAM Identity Center: `onBehalfOf.userId`.
    pub on_behalf_of_user_id: Option<String>,
    pub on_behalf_of_identity_store: Option<String>,
    pub invoked_by: Option<String>,
    pub raw: RawJson,
}

/// A JSON value kept as its text (one allocation), not as a parsed tree: a snapshot holds one `userIdentity` per
/// event, and as `serde_json::Value` trees they were most of a large snapshot's memory. Written back verbatim.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawJson(Box<serde_json::value::RawValue>);

impl RawJson {
    /// `value` as compact JSON text.
    pub fn of(value: &serde_json::Value) -> RawJson {
        // Serialising a `Value` cannot fail (its map keys are strings); `null` is the fallback all the same.
        RawJson(serde_json::value::to_raw_value(value).unwrap_or_else(|_| RawJson::default().0))
    }

    /// A JSON text kept as it is.
    pub fn from_raw(raw: Box<serde_json::value::RawValue>) -> RawJson {
        RawJson(raw)
    }

    /// The JSON text.
    pub fn text(&self) -> &str {
        self.0.get()
    }

    /// Field `key` of a JSON object, as a string (`None` for another type, a missing field or another value).
    pub fn str_field(&self, key: &str) -> Option<String> {
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(self.text()).ok()?;
        object.get(key)?.as_str().map(str::to_owned)
    }
}

impl Default for RawJson {
    fn default() -> RawJson {
        RawJson(
            serde_json::value::RawValue::from_string("null".to_owned())
                .unwrap_or_else(|_| unreachable!("null is JSON")),
        )
    }
}

impl PartialEq for RawJson {
    /// The same JSON value, however it is spaced (a pretty-printed snapshot and a compact record are equal).
    fn eq(&self, other: &RawJson) -> bool {
        self.text() == other.text()
            || serde_json::from_str::<serde_json::Value>(self.text()).ok()
                == serde_json::from_str::<serde_json::Value>(other.text()).ok()
    }
}

impl UserIdentity {
    /// Builds the typed identity from CloudTrail's `userIdentity` object; `raw` keeps it as compact JSON text.
    pub fn from_cloudtrail(raw: &serde_json::Value) -> UserIdentity {
        let s = |v: Option<&serde_json::Value>| {
            v.and_then(serde_json::Value::as_str).map(str::to_owned)
        };
        let ctx = raw.get("sessionContext");
        let issuer = ctx
            .and_then(|c| c.get("sessionIssuer"))
            .and_then(|i| SessionIssuer::deserialize(i).ok())
            .filter(|i| i.arn.is_some() || i.kind.is_some());
        let source_identity =
            s(ctx.and_then(|c| c.get("sourceIdentity"))).or_else(|| s(raw.get("sourceIdentity")));
        let on_behalf_of = raw.get("onBehalfOf");
        let invoked_by = s(raw.get("invokedBy"));
        let kind = match s(raw.get("type")) {
            Some(kind) => kind,
            None if invoked_by.is_some() => "AWSService".to_owned(),
            None => String::new(),
        };
        UserIdentity {
            kind,
            arn: s(raw.get("arn")),
            account_id: s(raw.get("accountId")),
            principal_id: s(raw.get("principalId")),
            user_name: s(raw.get("userName")),
            access_key_id: s(raw.get("accessKeyId")),
            session_issuer: issuer,
            source_identity,
            on_behalf_of_user_id: s(on_behalf_of.and_then(|o| o.get("userId"))),
            on_behalf_of_identity_store: s(on_behalf_of.and_then(|o| o.get("identityStoreArn"))),
            invoked_by,
            raw: RawJson::of(raw),
        }
    }
}

/// One `PutApprovalResult` call as recorded by CloudTrail.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApprovalEvent {
    pub event_id: String,
    pub event_time: DateTime<Utc>,
    pub account_id: String,
    pub region: String,
    pub pipeline: String,
    pub stage: String,
    pub action: String,
    /// `Approved` or `Rejected` as requested.
    pub status: String,
    pub summary: String,
    pub token: Option<String>,
    /// Set when the call failed (e.g. AccessDenied): a failed attempt is evidence, not an approval.
    pub error_code: Option<String>,
    pub identity: UserIdentity,
    pub origin: EventOrigin,
}

impl ApprovalEvent {
    pub fn succeeded(&self) -> bool {
        self.error_code.is_none()
    }
    pub fn is_approval(&self) -> bool {
        self.succeeded() && self.status.eq_ignore_ascii_case("Approved")
    }
}

impl ApprovalEvent {
    /// Reads a CloudTrail record of a `PutApprovalResult` call. Errors name the missing field, so that a damaged
    /// record is reported as unreadable evidence rather than dropped.
    pub fn from_cloudtrail(
        record: &serde_json::Value,
        origin: EventOrigin,
    ) -> Result<ApprovalEvent, String> {
        let text = |v: &serde_json::Value, field: &str| -> Result<String, String> {
            v.get(field)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("missing {field}"))
        };
        let event_id = text(record, "eventID")?;
        let with_id = |e: String| format!("event {event_id}: {e}");
        let name = text(record, "eventName").map_err(with_id)?;
        if name != "PutApprovalResult" {
            return Err(with_id(format!("is {name}, not PutApprovalResult")));
        }
        let time_text = text(record, "eventTime").map_err(with_id)?;
        let event_time = DateTime::parse_from_rfc3339(&time_text)
            .map_err(|e| with_id(format!("eventTime {time_text:?}: {e}")))?
            .with_timezone(&Utc);
        let identity = record
            .get("userIdentity")
            .ok_or_else(|| with_id("missing userIdentity".into()))?;
        let error_code = record
            .get("errorCode")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        let params = record.get("requestParameters").filter(|p| p.is_object());
        // A failed call may carry no request parameters; it is still kept as a failed attempt.
        let param = |field: &str| -> Result<String, String> {
            match params {
                Some(p) => text(p, field).map_err(|e| with_id(format!("requestParameters: {e}"))),
                None if error_code.is_some() => Ok(String::new()),
                None => Err(with_id("missing requestParameters".into())),
            }
        };
        let result = params.and_then(|p| p.get("result"));
        let result_field = |field: &str| {
            result
                .and_then(|r| r.get(field))
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let status = result_field("status");
        if status.is_empty() && error_code.is_none() {
            return Err(with_id("requestParameters.result.status missing".into()));
        }
        Ok(ApprovalEvent {
            account_id: text(record, "recipientAccountId").map_err(with_id)?,
            region: text(record, "awsRegion").map_err(with_id)?,
            pipeline: param("pipelineName")?,
            stage: param("stageName")?,
            action: param("actionName")?,
            status,
            summary: result_field("summary"),
            token: params
                .and_then(|p| p.get("token"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            error_code,
            identity: UserIdentity::from_cloudtrail(identity),
            event_id,
            event_time,
            origin,
        })
    }
}

/// One `sts:AssumeRole` call as CloudTrail recorded it: who took a session of which role, and the access key id
/// the session's later calls carry (so a change made with a deployment role can be traced to who assumed it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleSession {
    pub event_id: String,
    pub event_time: DateTime<Utc>,
    /// The account that recorded the event (the role's account, or the caller's for a cross-account call).
    pub account_id: String,
    pub region: String,
    pub role_arn: String,
    pub session_name: String,
    pub source_identity: Option<String>,
    /// The access key id of the credentials issued.
    pub access_key_id: Option<String>,
    /// Cross-account calls are recorded in both accounts under one `sharedEventID`.
    pub shared_event_id: Option<String>,
    /// Who asked for the session.
    pub caller: UserIdentity,
    pub error_code: Option<String>,
    pub origin: EventOrigin,
}

impl RoleSession {
    /// Reads a CloudTrail record of an `AssumeRole` call; errors name the missing field.
    pub fn from_cloudtrail(
        record: &serde_json::Value,
        origin: EventOrigin,
    ) -> Result<RoleSession, String> {
        let text = |v: &serde_json::Value, field: &str| -> Option<String> {
            v.get(field)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        let event_id = text(record, "eventID").ok_or("missing eventID")?;
        let with_id = |e: &str| format!("event {event_id}: {e}");
        let time_text = text(record, "eventTime").ok_or_else(|| with_id("missing eventTime"))?;
        let event_time = DateTime::parse_from_rfc3339(&time_text)
            .map_err(|e| with_id(&format!("eventTime {time_text:?}: {e}")))?
            .with_timezone(&Utc);
        let params = record.get("requestParameters").filter(|p| p.is_object());
        let error_code = text(record, "errorCode");
        let param = |field: &str| params.and_then(|p| text(p, field));
        let role_arn = match (param("roleArn"), &error_code) {
            (Some(arn), _) => arn,
            (None, Some(_)) => String::new(),
            (None, None) => return Err(with_id("requestParameters.roleArn missing")),
        };
        let response = record.get("responseElements").filter(|r| r.is_object());
        Ok(RoleSession {
            account_id: text(record, "recipientAccountId")
                .ok_or_else(|| with_id("missing recipientAccountId"))?,
            region: text(record, "awsRegion").unwrap_or_default(),
            role_arn,
            session_name: param("roleSessionName").unwrap_or_default(),
            source_identity: param("sourceIdentity"),
            access_key_id: response
                .and_then(|r| r.get("credentials"))
                .and_then(|c| text(c, "accessKeyId")),
            shared_event_id: text(record, "sharedEventID"),
            caller: UserIdentity::from_cloudtrail(
                record
                    .get("userIdentity")
                    .ok_or_else(|| with_id("missing userIdentity"))?,
            ),
            error_code,
            event_id,
            event_time,
            origin,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_article_event() -> serde_json::Value {
        serde_json::json!({
            "eventVersion": "1.05",
            "userIdentity": {
                "type": "AssumedRole",
                "principalId": "AAAABBBCCC111222333:newuser",
                "arn": "arn:aws:sts::12345678912:assumed-role/IamOrg/newuser",
                "accountId": "12345678912",
                "sessionContext": {
                    "attributes": {"mfaAuthenticated": "true", "creationDate": "2019-05-23T15:02:42Z"},
                    "sessionIssuer": {"type": "Role", "principalId": "1234567093756383847",
                        "arn": "arn:aws:iam::12345678912:role/OrganizationAccountAccessRole",
                        "accountId": "12345678912", "userName": "newuser"}
                }
            },
            "eventTime": "2019-05-23T16:01:25Z",
            "eventSource": "codepipeline.amazonaws.com",
            "eventName": "PutApprovalResult",
            "awsRegion": "us-east-1",
            "requestParameters": {"pipelineName": "testing-pipeline", "stageName": "qa-approval",
                "actionName": "qa-approval", "result": {"summary": "I approve", "status": "Approved"},
                "token": "123123123-abcabcabc-123123123-abcabc"},
            "eventID": "12345678-123a-123b-123c-123456789abc",
            "recipientAccountId": "12345678912"
        })
    }

    #[test]
    fn parses_the_event_of_the_tracking_article() {
        let e = ApprovalEvent::from_cloudtrail(&seed_article_event(), EventOrigin::LookupEvents)
            .expect("parses");
        assert_eq!(e.pipeline, "testing-pipeline");
        assert_eq!(e.stage, "qa-approval");
        assert_eq!(e.summary, "I approve");
        assert!(e.is_approval());
        assert_eq!(
            e.identity
                .session_issuer
                .as_ref()
                .and_then(|i| i.arn.as_deref()),
            Some("arn:aws:iam::12345678912:role/OrganizationAccountAccessRole")
        );
    }

    #[test]
    fn missing_fields_are_named() {
        let mut v = seed_article_event();
        v["requestParameters"]
            .as_object_mut()
            .map(|o| o.remove("stageName"));
        let err =
            ApprovalEvent::from_cloudtrail(&v, EventOrigin::LookupEvents).expect_err("damaged");
        assert!(
            err.contains("12345678-123a") && err.contains("stageName"),
            "{err}"
        );
    }

    #[test]
    fn a_service_event_without_type_is_an_aws_service() {
        // AWS's documented AwsServiceEvent (KMS automatic key rotation).
        let service = UserIdentity::from_cloudtrail(&serde_json::json!({
            "accountId": "111122223333", "invokedBy": "AWS Internal"
        }));
        assert_eq!(service.kind, "AWSService");
        assert_eq!(service.invoked_by.as_deref(), Some("AWS Internal"));
        let untyped =
            UserIdentity::from_cloudtrail(&serde_json::json!({"accountId": "111122223333"}));
        assert_eq!(
            untyped.kind, "",
            "no invokedBy: nothing says it was a service"
        );
    }

    #[test]
    fn failed_attempt_is_kept_but_is_not_an_approval() {
        let mut v = seed_article_event();
        v["errorCode"] = "AccessDenied".into();
        let e = ApprovalEvent::from_cloudtrail(&v, EventOrigin::LookupEvents).expect("parses");
        assert!(!e.is_approval());
    }
}
