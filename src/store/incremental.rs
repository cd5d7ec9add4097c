//! Incremental runs: continue the newest complete run of the store. Each account and region's LookupEvents
//! reads start where that run's ended, less an overlap (LookupEvents is eventually consistent), the earlier run's
//! events are carried over (one event id is one event), and so is its coverage, so a daily schedule keeps the
//! whole approval history beyond LookupEvents' 90 days. A stretch that neither run saw (the earlier run ended
//! before LookupEvents' 90 days begin, or its read failed) makes the step partial: incomplete, never covered.
//!
//! `newest_complete` reads the store (verifying every file of the run against its manifest); `resume` and
//! `merge` are pure.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};

use super::{Store, StoreError};
use crate::collect::LookupResume;
use crate::model::{AccountSnapshot, InheritedCoverage, Snapshot, StepStatus};

/// How far before the end of the earlier run's window the new reads start: LookupEvents shows an event some
/// minutes after it happened, so the last stretch of a window is read again (duplicates merge by event id).
pub fn overlap() -> Duration {
    Duration::hours(1)
}

/// A coverage that starts within this of the period's start covers it (as for a plain run's 90-day period).
fn tolerance() -> Duration {
    Duration::hours(1)
}

/// The run an incremental run continues.
pub struct Previous {
    pub run_id: String,
    pub snapshot: Snapshot,
}

/// Whether a folder of the store is a collected run (not an offline check or an evidence request).
fn is_collected_run(name: &str) -> bool {
    !name.contains("-offline-") && !name.starts_with("evidence-")
}

/// The newest complete collected run of the store, with every file checked against its manifest: a damaged
/// newest run is an error naming what is wrong, never silently skipped or used. None: the store has no run.
pub fn newest_complete(store: &Store) -> Result<Option<Previous>, StoreError> {
    let Some(run) = store.runs()?.into_iter().rfind(|r| is_collected_run(r)) else {
        return Ok(None);
    };
    let problems = store.verify_run(&run)?;
    if !problems.is_empty() {
        return Err(StoreError::Corrupt {
            run,
            store: store.name().to_owned(),
            problems,
        });
    }
    let manifest = store.manifest(&run)?;
    let bytes = store.read_verified(&run, &manifest, "snapshot.json")?;
    let snapshot = Snapshot::from_bytes(&bytes, &format!("{}/{run}/snapshot.json", store.name()))
        .map_err(|e| StoreError::Corrupt {
        run: run.clone(),
        store: store.name().to_owned(),
        problems: vec![e.to_string()],
    })?;
    Ok(Some(Previous {
        run_id: run,
        snapshot,
    }))
}

/// Where each account and region's reads resume: the end of the earlier run's window less the overlap, when
/// every LookupEvents read of that account and region succeeded then; otherwise it is read over the whole period.
pub fn resume(previous: &Snapshot) -> LookupResume {
    let mut resume = LookupResume::default();
    for account in &previous.accounts {
        let mut failed: HashSet<&str> = HashSet::new();
        for w in &account.lookup_windows {
            if w.covered_since.is_none() {
                failed.insert(&w.region);
            }
        }
        for w in account
            .lookup_windows
            .iter()
            .filter(|w| !failed.contains(w.region.as_str()))
        {
            let start = w.end_time - overlap();
            resume
                .starts
                .entry((account.account_id.clone(), w.region.clone()))
                .and_modify(|s| *s = (*s).min(start))
                .or_insert(start);
        }
    }
    resume
}

/// Which events a LookupEvents step reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Approvals,
    Writes,
    Sessions,
}

fn kind_of(step: &str) -> Option<Kind> {
    if step.contains("PutApprovalResult") {
        Some(Kind::Approvals)
    } else if step.contains("ReadOnly=false") {
        Some(Kind::Writes)
    } else if step.contains("AssumeRole") {
        Some(Kind::Sessions)
    } else {
        None
    }
}

/// Carries the earlier run's events and coverage into `current` (collected with [`resume`]) and decides each
/// LookupEvents step from the coverage it now has: ok when it reaches back to the period's start without a gap,
/// partial (naming what is missing) otherwise.
pub fn merge(current: &mut Snapshot, previous: &Snapshot, previous_run: &str) {
    let period = current.period;
    for account in &mut current.accounts {
        let Some(before) = previous.account(&account.account_id) else {
            continue;
        };
        let carried = carry_events(account, before, &period);
        let windows = std::mem::take(&mut account.lookup_windows);
        let mut merged = Vec::with_capacity(windows.len());
        for mut w in windows {
            let earlier = before
                .lookup_windows
                .iter()
                .find(|p| p.step == w.step && p.region == w.region)
                .and_then(|p| p.covered_since.map(|since| (since, p.end_time)));
            let (Some((since, until)), Some(read_from)) = (earlier, w.covered_since) else {
                merged.push(w);
                continue;
            };
            let events = carried
                .iter()
                .filter(|(kind, region)| Some(*kind) == kind_of(&w.step) && *region == w.region)
                .count();
            let gap = (until < read_from).then_some((until, read_from));
            let covered = if gap.is_none() {
                since.min(read_from)
            } else {
                read_from
            };
            w.covered_since = Some(covered);
            w.inherited = Some(InheritedCoverage {
                run_id: previous_run.to_owned(),
                covered_since: since,
                covered_until: until,
                events,
                gap,
            });
            decide_step(account, &w.step, &w.region, |status| {
                coverage_status(status, covered, gap, &period, previous_run, (since, until))
            });
            merged.push(w);
        }
        account.lookup_windows = merged;
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The step's status and note from its coverage (a failed step stays failed).
fn coverage_status(
    status: StepStatus,
    covered: DateTime<Utc>,
    gap: Option<(DateTime<Utc>, DateTime<Utc>)>,
    period: &crate::model::Period,
    previous_run: &str,
    (since, until): (DateTime<Utc>, DateTime<Utc>),
) -> (StepStatus, Option<String>) {
    if status == StepStatus::Failed {
        return (status, None);
    }
    let inherited = format!(
        "continuing run {previous_run}, whose events from {} to {} were carried over",
        time(since),
        time(until)
    );
    if let Some((from, to)) = gap {
        return (
            StepStatus::Partial,
            Some(format!(
                "incomplete coverage: {inherited}, but nothing covers {} to {} (a gap between runs: the earlier \
                 run ended before LookupEvents' 90 days begin); configure trail_buckets",
                time(from),
                time(to)
            )),
        );
    }
    if covered > period.since + tolerance() {
        return (
            StepStatus::Partial,
            Some(format!(
                "incomplete coverage: {inherited}; nothing covers {} to {} (before the stored runs)",
                time(period.since),
                time(covered)
            )),
        );
    }
    (StepStatus::Ok, None)
}

fn decide_step(
    account: &mut AccountSnapshot,
    step: &str,
    region: &str,
    decide: impl Fn(StepStatus) -> (StepStatus, Option<String>),
) {
    for s in account
        .steps
        .iter_mut()
        .filter(|s| s.step == step && s.region.as_deref() == Some(region))
    {
        let (status, note) = decide(s.status);
        if s.status != StepStatus::Failed {
            s.status = status;
            s.error = note;
        }
    }
}

/// Adds the earlier run's events the new reads did not return (by event id), within the period; returns the
/// kind and region of each event carried.
fn carry_events(
    account: &mut AccountSnapshot,
    before: &AccountSnapshot,
    period: &crate::model::Period,
) -> Vec<(Kind, String)> {
    let mut carried = Vec::new();
    let known: HashSet<String> = account
        .approval_events
        .iter()
        .map(|e| e.event_id.clone())
        .collect();
    for e in &before.approval_events {
        if !known.contains(&e.event_id) && period.contains(e.event_time) {
            carried.push((Kind::Approvals, e.region.clone()));
            account.approval_events.push(e.clone());
        }
    }
    let known: HashSet<String> = account
        .write_events
        .iter()
        .map(|e| e.event_id.clone())
        .collect();
    for e in &before.write_events {
        if !known.contains(&e.event_id) && period.contains(e.event_time) {
            carried.push((Kind::Writes, e.region.clone()));
            account.write_events.push(e.clone());
        }
    }
    let known: HashSet<String> = account
        .role_sessions
        .iter()
        .map(|e| e.event_id.clone())
        .collect();
    for e in &before.role_sessions {
        if !known.contains(&e.event_id) && period.contains(e.event_time) {
            carried.push((Kind::Sessions, e.region.clone()));
            account.role_sessions.push(e.clone());
        }
    }
    carried
}
