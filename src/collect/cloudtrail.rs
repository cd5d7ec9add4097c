//! CloudTrail collection: the trails of each region (shadow and organisation trails included, with their status
//! and event selectors) and the `PutApprovalResult` events of the audit period via
//! `LookupEvents` (paginated, filtered by event name).
//!
//! Read-only calls only. LookupEvents reaches back 90 days; older periods are marked partial, pointing at the
//! trail archive.

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use chrono::Utc;

use super::session::{error_text, AccountClients};
use super::{to_smithy, StepLog};
use crate::model::{
    AdvancedEventSelector, ApprovalEvent, BasicEventSelector, EventOrigin, EventSelectors,
    FieldSelector, Period, RoleSession, Trail, UserIdentity, WriteEvent,
};
use crate::rules::IdentityRules;

/// How far back LookupEvents can see.
pub const LOOKUP_EVENTS_DAYS: i64 = 90;

/// The trails that record this account's events in `region`: its own, its multi-region trails of other regions
/// and its organisation's trail (shadow trails: a member account sees the organisation trail only that way),
/// with their status and event selectors read by full ARN (which works for another region's or the management
/// account's trail). Trails in `known` (read in an earlier region) are not read again.
pub async fn trails(
    clients: &AccountClients,
    region: &str,
    known: &[String],
    log: &mut StepLog,
) -> Vec<Trail> {
    let client = clients.cloudtrail(region);
    let described = match client
        .describe_trails()
        .include_shadow_trails(true)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            log.failed("cloudtrail:DescribeTrails", Some(region), error_text(&e));
            return Vec::new();
        }
    };
    let mut trails = Vec::new();
    let mut errors = Vec::new();
    let mut selector_errors = Vec::new();
    for t in described.trail_list() {
        let Some(arn) = t.trail_arn().filter(|a| !a.is_empty()).map(str::to_owned) else {
            errors.push(format!(
                "trail {} has no TrailARN",
                t.name().unwrap_or("(no name)")
            ));
            continue;
        };
        if known.contains(&arn) || trails.iter().any(|k: &Trail| k.arn == arn) {
            continue;
        }
        let is_logging = match client.get_trail_status().name(&arn).send().await {
            Ok(status) => status.is_logging(),
            Err(e) => {
                errors.push(format!("GetTrailStatus {arn}: {}", error_text(&e)));
                None
            }
        };
        let event_selectors = match client.get_event_selectors().trail_name(&arn).send().await {
            Ok(out) => Some(event_selectors(&out)),
            Err(e) => {
                selector_errors.push(format!("{arn}: {}", error_text(&e)));
                None
            }
        };
        trails.push(Trail {
            name: t.name().unwrap_or_default().to_owned(),
            arn,
            home_region: t.home_region().unwrap_or(region).to_owned(),
            s3_bucket: t.s3_bucket_name().map(str::to_owned),
            s3_key_prefix: t.s3_key_prefix().map(str::to_owned),
            is_multi_region: t.is_multi_region_trail().unwrap_or(false),
            is_organization: t.is_organization_trail().unwrap_or(false),
            log_file_validation: t.log_file_validation_enabled().unwrap_or(false),
            is_logging,
            event_selectors,
        });
    }
    if errors.is_empty() {
        log.ok(
            "cloudtrail:DescribeTrails+GetTrailStatus",
            Some(region),
            trails.len(),
        );
    } else {
        log.failed(
            "cloudtrail:DescribeTrails+GetTrailStatus",
            Some(region),
            errors.join("; "),
        );
    }
    // A trail whose selectors could not be read is a failed step, never "records everything".
    if selector_errors.is_empty() {
        log.ok("cloudtrail:GetEventSelectors", Some(region), trails.len());
    } else {
        log.failed(
            "cloudtrail:GetEventSelectors",
            Some(region),
            selector_errors.join("; "),
        );
    }
    trails
}

/// The snapshot's form of a GetEventSelectors answer. Absent fields take AWS's defaults (`ReadWriteType` All,
/// `IncludeManagementEvents` true).
fn event_selectors(
    out: &aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput,
) -> EventSelectors {
    let list = |v: &[String]| v.to_vec();
    EventSelectors {
        basic: out
            .event_selectors()
            .iter()
            .map(|s| BasicEventSelector {
                read_write_type: s
                    .read_write_type()
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_else(|| "All".to_owned()),
                include_management_events: s.include_management_events().unwrap_or(true),
                exclude_management_event_sources: list(s.exclude_management_event_sources()),
                data_resources: s.data_resources().len(),
            })
            .collect(),
        advanced: out
            .advanced_event_selectors()
            .iter()
            .map(|s| AdvancedEventSelector {
                name: s.name().filter(|n| !n.is_empty()).map(str::to_owned),
                field_selectors: s
                    .field_selectors()
                    .iter()
                    .map(|f| FieldSelector {
                        field: f.field().to_owned(),
                        equals: list(f.equals()),
                        starts_with: list(f.starts_with()),
                        ends_with: list(f.ends_with()),
                        not_equals: list(f.not_equals()),
                        not_starts_with: list(f.not_starts_with()),
                        not_ends_with: list(f.not_ends_with()),
                    })
                    .collect(),
            })
            .collect(),
    }
}

pub async fn approval_events(
    clients: &AccountClients,
    region: &str,
    period: &Period,
    log: &mut StepLog,
) -> Vec<ApprovalEvent> {
    lookup(
        clients,
        region,
        period,
        (LookupAttributeKey::EventName, "PutApprovalResult"),
        "cloudtrail:LookupEvents(PutApprovalResult)",
        log,
        |json| ApprovalEvent::from_cloudtrail(json, EventOrigin::LookupEvents),
    )
    .await
}

/// `sts:AssumeRole` calls of the period LookupEvents can see: who took a session of which role.
pub async fn role_sessions(
    clients: &AccountClients,
    region: &str,
    period: &Period,
    log: &mut StepLog,
) -> Vec<RoleSession> {
    lookup(
        clients,
        region,
        period,
        (LookupAttributeKey::EventName, "AssumeRole"),
        "cloudtrail:LookupEvents(AssumeRole)",
        log,
        |json| RoleSession::from_cloudtrail(json, EventOrigin::LookupEvents),
    )
    .await
}

/// Mutating calls (`ReadOnly=false`) of the last 90 days, for the out-of-band-change check. PutApprovalResult is
/// left to [`approval_events`]; data events (which LookupEvents does not return anyway) are not changes.
pub async fn write_events(
    clients: &AccountClients,
    region: &str,
    period: &Period,
    identity_rules: &IdentityRules,
    log: &mut StepLog,
) -> Vec<WriteEvent> {
    let step = "cloudtrail:LookupEvents(ReadOnly=false)";
    let events = mutating_calls(clients, region, period, identity_rules, step, log).await;
    events
        .into_iter()
        .filter(|e| e.name != "PutApprovalResult")
        .collect()
}

/// Mutating calls of the global services (IAM, Organizations, CloudFront, console sign-in), which CloudTrail
/// records only in the partition's global region: read there even when that region is not configured, keeping
/// only those services' events (the region's own changes stay outside the configured scope).
pub async fn global_write_events(
    clients: &AccountClients,
    global_region: &str,
    period: &Period,
    identity_rules: &IdentityRules,
    log: &mut StepLog,
) -> Vec<WriteEvent> {
    let step = "cloudtrail:LookupEvents(ReadOnly=false, global services)";
    let events = mutating_calls(clients, global_region, period, identity_rules, step, log).await;
    events
        .into_iter()
        .filter(|e| crate::model::partition::is_global_event_source(&e.source))
        .collect()
}

/// The successful and failed calls of one event name in the period (e.g. `RetryStageExecution`), as write
/// events: a narrow lookup for a question about one execution, where reading every mutating call would be slow.
pub async fn calls_named(
    clients: &AccountClients,
    region: &str,
    period: &Period,
    event_name: &str,
    identity_rules: &IdentityRules,
    log: &mut StepLog,
) -> Vec<WriteEvent> {
    let step = format!("cloudtrail:LookupEvents({event_name})");
    let events = lookup(
        clients,
        region,
        period,
        (LookupAttributeKey::EventName, event_name),
        &step,
        log,
        |json| write_event_from_cloudtrail(json, identity_rules),
    )
    .await;
    events.into_iter().flatten().collect()
}

/// Every `ReadOnly=false` management event of the region LookupEvents returns for the period.
async fn mutating_calls(
    clients: &AccountClients,
    region: &str,
    period: &Period,
    identity_rules: &IdentityRules,
    step: &str,
    log: &mut StepLog,
) -> Vec<WriteEvent> {
    let events = lookup(
        clients,
        region,
        period,
        (LookupAttributeKey::ReadOnly, "false"),
        step,
        log,
        |json| write_event_from_cloudtrail(json, identity_rules),
    )
    .await;
    events.into_iter().flatten().collect()
}

/// Reads a CloudTrail record of a mutating call; errors name the missing field. A data event is Ok(None): not
/// an infrastructure change.
pub fn write_event_from_cloudtrail(
    record: &serde_json::Value,
    rules: &IdentityRules,
) -> Result<Option<WriteEvent>, String> {
    if crate::model::is_data_event(
        record
            .get("managementEvent")
            .and_then(serde_json::Value::as_bool),
        record
            .get("eventCategory")
            .and_then(serde_json::Value::as_str),
    ) {
        return Ok(None);
    }
    let text = |field: &str| -> Result<String, String> {
        record
            .get(field)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("missing {field}"))
    };
    let event_id = text("eventID")?;
    let with_id = |e: String| format!("event {event_id}: {e}");
    let time_text = text("eventTime").map_err(with_id)?;
    let event_time = chrono::DateTime::parse_from_rfc3339(&time_text)
        .map_err(|e| with_id(format!("eventTime {time_text:?}: {e}")))?
        .with_timezone(&Utc);
    let identity = UserIdentity::from_cloudtrail(
        record
            .get("userIdentity")
            .ok_or_else(|| with_id("missing userIdentity".into()))?,
    );
    let source = text("eventSource").map_err(with_id)?;
    let (resources, request_parameters) =
        crate::model::call_details(&source, record.get("requestParameters"));
    Ok(Some(WriteEvent {
        account_id: text("recipientAccountId").map_err(with_id)?,
        region: text("awsRegion").map_err(with_id)?,
        resources,
        request_parameters,
        source,
        name: text("eventName").map_err(with_id)?,
        read_only: record.get("readOnly").and_then(serde_json::Value::as_bool),
        error_code: record
            .get("errorCode")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned),
        person: crate::analysis::identity::person_of(&identity, rules).key,
        identity,
        event_id,
        event_time,
        origin: EventOrigin::LookupEvents,
    }))
}

/// LookupEvents for one attribute over the part of the period LookupEvents can see, paginated. Records that
/// cannot be read fail the step (naming them) without dropping the others.
async fn lookup<T>(
    clients: &AccountClients,
    region: &str,
    period: &Period,
    (key, value): (LookupAttributeKey, &str),
    step: &str,
    log: &mut StepLog,
    parse: impl Fn(&serde_json::Value) -> Result<T, String>,
) -> Vec<T> {
    let client = clients.cloudtrail(region);
    // A period that starts within the hour of the horizon (e.g. the default 90-day period) counts as covered.
    let horizon = Utc::now() - chrono::Duration::days(LOOKUP_EVENTS_DAYS);
    let covered_from = horizon - chrono::Duration::hours(1);
    let start = period.since.max(horizon);
    let mut window = crate::model::LookupWindow {
        step: step.to_owned(),
        region: region.to_owned(),
        start_time: Some(start),
        end_time: period.until,
        covered_since: None,
        inherited: None,
    };
    if start >= period.until {
        window.start_time = None;
        log.window(window);
        log.partial(
            step,
            Some(region),
            0,
            "the whole period is older than LookupEvents' 90 days; configure trail_buckets".into(),
        );
        return Vec::new();
    }
    let attribute = match LookupAttribute::builder()
        .attribute_key(key)
        .attribute_value(value)
        .build()
    {
        Ok(a) => a,
        Err(e) => {
            log.window(window);
            log.failed(step, Some(region), e.to_string());
            return Vec::new();
        }
    };
    let mut pages = client
        .lookup_events()
        .lookup_attributes(attribute)
        .start_time(to_smithy(start))
        .end_time(to_smithy(period.until))
        .max_results(50)
        .into_paginator()
        .send();
    let mut events = Vec::new();
    let mut unreadable = Vec::new();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                // Keep what was read so far; the step is failed so the account is incomplete.
                log.window(window);
                log.failed(
                    step,
                    Some(region),
                    format!("after {} events: {}", events.len(), error_text(&e)),
                );
                return events;
            }
        };
        for event in page.events() {
            let id = event.event_id().unwrap_or("(no id)");
            let parsed = event
                .cloud_trail_event()
                .ok_or_else(|| format!("event {id}: no CloudTrailEvent"))
                .and_then(|text| {
                    serde_json::from_str::<serde_json::Value>(text)
                        .map_err(|e| format!("event {id}: {e}"))
                })
                .and_then(|json| parse(&json));
            match parsed {
                Ok(e) => events.push(e),
                Err(e) => unreadable.push(e),
            }
        }
    }
    if unreadable.is_empty() {
        window.covered_since = Some(start);
    }
    log.window(window);
    if !unreadable.is_empty() {
        log.failed(
            step,
            Some(region),
            format!("unreadable events: {}", unreadable.join("; ")),
        );
    } else if period.since < covered_from {
        log.partial(
            step,
            Some(region),
            events.len(),
            format!(
                "LookupEvents covers only the last {LOOKUP_EVENTS_DAYS} days (from {start}); configure trail_buckets for the rest of the period"
            ),
        );
    } else {
        log.ok(step, Some(region), events.len());
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(extra: serde_json::Value) -> serde_json::Value {
        let mut r = serde_json::json!({
            "eventVersion": "1.08", "eventID": "e1", "eventTime": "2026-11-10T10:00:00Z",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::444444444444:user/mallory",
                "accountId": "444444444444", "userName": "mallory"},
            "eventSource": "s3.amazonaws.com", "eventName": "PutObject", "awsRegion": "us-east-1",
            "readOnly": false, "eventType": "AwsApiCall", "recipientAccountId": "444444444444",
            "requestParameters": {"bucketName": "data", "key": "k"}
        });
        if let (Some(obj), Some(more)) = (r.as_object_mut(), extra.as_object()) {
            obj.extend(more.clone());
        }
        r
    }

    #[test]
    fn data_events_are_not_infrastructure_changes() {
        let rules = IdentityRules::default();
        let data = record(serde_json::json!({"managementEvent": false, "eventCategory": "Data"}));
        assert!(write_event_from_cloudtrail(&data, &rules)
            .expect("readable")
            .is_none());
        let data = record(serde_json::json!({"eventCategory": "Data"}));
        assert!(write_event_from_cloudtrail(&data, &rules)
            .expect("readable")
            .is_none());
        let mut management =
            record(serde_json::json!({"managementEvent": true, "eventCategory": "Management"}));
        management["eventName"] = "PutBucketPolicy".into();
        assert!(write_event_from_cloudtrail(&management, &rules)
            .expect("readable")
            .is_some());
        // A damaged management record is reported, never dropped.
        let mut damaged = record(serde_json::json!({"managementEvent": true}));
        damaged.as_object_mut().map(|o| o.remove("eventTime"));
        assert!(write_event_from_cloudtrail(&damaged, &rules).is_err());
    }
}
