//! The action executions of one pipeline stage action, indexed for joining approvals to them: by approval token,
//! and by time. A linear scan per approval was quadratic in the executions of a pipeline (three of the four
//! seconds of checking a 100,000-approval snapshot). Answers are those of the scan, in the scan's order.
//!
//! Pure: no I/O, no AWS types.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use crate::model::ActionExecution;

/// One stage action's executions, in the order the snapshot lists them.
#[derive(Debug, Default)]
pub struct ActionHistory<'a> {
    all: Vec<&'a ActionExecution>,
    /// `externalExecutionId` -> position of the first execution with it.
    by_token: HashMap<&'a str, usize>,
    /// (start, position) of the executions with both a start and a last update, by start.
    by_start: Vec<(DateTime<Utc>, usize)>,
    /// Positions of the executions missing either time: checked against every approval.
    open_ended: Vec<usize>,
    /// The longest (last update - start) among `by_start`.
    longest: Duration,
}

impl<'a> ActionHistory<'a> {
    pub fn new(all: Vec<&'a ActionExecution>) -> ActionHistory<'a> {
        let mut history = ActionHistory {
            all,
            ..ActionHistory::default()
        };
        for (at, a) in history.all.iter().enumerate() {
            if let Some(token) = a.external_execution_id.as_deref() {
                history.by_token.entry(token).or_insert(at);
            }
            match (a.start_time, a.last_update_time) {
                (Some(start), Some(last)) => {
                    history.by_start.push((start, at));
                    history.longest = history.longest.max(last - start);
                }
                _ => history.open_ended.push(at),
            }
        }
        history.by_start.sort_unstable();
        history
    }

    /// The first execution whose approval token (`externalExecutionId`) is `token`.
    pub fn with_token(&self, token: &str) -> Option<&'a ActionExecution> {
        self.by_token.get(token).map(|&at| self.all[at])
    }

    /// The executions for which `within(execution)` holds, in snapshot order, looking only at those that
    /// started between `t - slack - longest` and `t + slack` (an execution outside that range cannot contain
    /// `t` within `slack`) and at the open-ended ones. `within` must imply that range.
    pub fn around(
        &self,
        t: DateTime<Utc>,
        slack: Duration,
        within: impl Fn(&ActionExecution) -> bool,
    ) -> Vec<&'a ActionExecution> {
        let earliest = t - slack - self.longest;
        let latest = t + slack;
        let from = self
            .by_start
            .partition_point(|(start, _)| *start < earliest);
        let to = self.by_start.partition_point(|(start, _)| *start <= latest);
        let mut positions: Vec<usize> = self.by_start[from..to.max(from)]
            .iter()
            .map(|&(_, at)| at)
            .chain(self.open_ended.iter().copied())
            .filter(|&at| within(self.all[at]))
            .collect();
        positions.sort_unstable();
        positions.into_iter().map(|at| self.all[at]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
            .single()
            .expect("time")
            + Duration::minutes(minute)
    }

    fn execution(n: usize, start: Option<i64>, end: Option<i64>) -> ActionExecution {
        ActionExecution {
            pipeline_execution_id: format!("exec-{n}"),
            action_execution_id: format!("act-{n}"),
            external_execution_id: Some(format!("token-{}", n % 7)),
            start_time: start.map(at),
            last_update_time: end.map(at),
            ..ActionExecution::default()
        }
    }

    /// The index gives what scanning every execution gives, for executions of every length (one waited days),
    /// open-ended ones and repeated tokens, at every minute around them.
    #[test]
    fn gives_what_a_scan_of_every_execution_gives() {
        let mut executions: Vec<ActionExecution> = (0..60)
            .map(|n| {
                let start = (n as i64 * 37) % 900;
                execution(n, Some(start), Some(start + (n as i64 % 5) * 11))
            })
            .collect();
        executions.push(execution(60, Some(100), Some(100 + 3 * 24 * 60)));
        executions.push(execution(61, None, Some(400)));
        executions.push(execution(62, Some(700), None));
        executions.push(execution(63, None, None));
        let all: Vec<&ActionExecution> = executions.iter().collect();
        let history = ActionHistory::new(all.clone());
        let slack = Duration::seconds(120);
        let within = |a: &ActionExecution, t: DateTime<Utc>| {
            a.start_time.is_none_or(|s| s - slack <= t)
                && a.last_update_time.is_none_or(|e| t <= e + slack)
        };
        for minute in -10..(900 + 3 * 24 * 60 + 10) {
            let t = at(minute);
            let scanned: Vec<&str> = all
                .iter()
                .filter(|a| within(a, t))
                .map(|a| a.action_execution_id.as_str())
                .collect();
            let indexed: Vec<&str> = history
                .around(t, slack, |a| within(a, t))
                .into_iter()
                .map(|a| a.action_execution_id.as_str())
                .collect();
            assert_eq!(indexed, scanned, "at minute {minute}");
        }
        for n in 0..9 {
            let token = format!("token-{n}");
            let scanned = all
                .iter()
                .find(|a| a.external_execution_id.as_deref() == Some(token.as_str()))
                .map(|a| a.action_execution_id.as_str());
            assert_eq!(
                history
                    .with_token(&token)
                    .map(|a| a.action_execution_id.as_str()),
                scanned
            );
        }
    }
}
