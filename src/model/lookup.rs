//! What a run knows about each LookupEvents read: the window it asked for (`StartTime`/`EndTime`), how far back
//! its events are known (inherited from an earlier run included), and which run they were inherited from. An
//! incremental run resumes from these, and reports a gap between runs as incomplete coverage.
//!
//! Plain serde data; no I/O, no AWS types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One LookupEvents read (one collection step in one region) of one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookupWindow {
    /// The collection step, e.g. `cloudtrail:LookupEvents(PutApprovalResult)`.
    pub step: String,
    pub region: String,
    /// The `StartTime` sent to LookupEvents; None when it was not called (the window is older than its 90 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<DateTime<Utc>>,
    /// The `EndTime` sent (the end of the audit period).
    pub end_time: DateTime<Utc>,
    /// Events of this step are known without a gap from here to `end_time` (read now or inherited); None when
    /// nothing is known (the read failed or was not made).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covered_since: Option<DateTime<Utc>>,
    /// What an incremental run took over from the run it continued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inherited: Option<InheritedCoverage>,
}

/// Coverage and events carried over from an earlier run of the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InheritedCoverage {
    pub run_id: String,
    /// The earlier run's coverage of this step and region: `[covered_since, covered_until)`.
    pub covered_since: DateTime<Utc>,
    pub covered_until: DateTime<Utc>,
    /// Events of the earlier run carried into this one (not read again).
    pub events: usize,
    /// A stretch between the two runs that neither saw (`[from, until)`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<(DateTime<Utc>, DateTime<Utc>)>,
}
