//! Deduplication by `eventID`: organisation and account trails deliver the same event twice.
//!
//! Memory stays bounded: ids are remembered per event day, and days older than the window behind the day
//! being read are forgotten (the archive is read in day order, and a duplicate lands at most a day apart).
//! Pure: no I/O.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Id {
    /// A UUID-shaped id in 16 bytes.
    Uuid(u128),
    Text(Box<str>),
}

/// The 16 bytes of a UUID-shaped id (`8-4-4-4-12` hex digits, either case), read in place without allocating.
fn uuid_of(event_id: &str) -> Option<u128> {
    let b = event_id.as_bytes();
    if b.len() != 36 {
        return None;
    }
    let mut n = 0u128;
    for (i, c) in b.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if *c != b'-' {
                return None;
            }
            continue;
        }
        let digit = (*c as char).to_digit(16)?;
        n = (n << 4) | u128::from(digit);
    }
    Some(n)
}

fn id_of(event_id: &str) -> Id {
    match uuid_of(event_id) {
        Some(n) => Id::Uuid(n),
        None => Id::Text(event_id.into()),
    }
}

#[derive(Debug, Default)]
pub struct Dedupe {
    days: BTreeMap<NaiveDate, HashSet<Id>>,
    pub duplicates: u64,
}

impl Dedupe {
    /// Days kept behind the day being read.
    pub const WINDOW_DAYS: i64 = 2;

    /// True the first time an event id is seen (for its event day).
    pub fn first_time(&mut self, event_id: &str, time: DateTime<Utc>) -> bool {
        let fresh = self
            .days
            .entry(time.date_naive())
            .or_default()
            .insert(id_of(event_id));
        if !fresh {
            self.duplicates += 1;
        }
        fresh
    }

    /// Forgets the ids of events older than the window before `day` (the day folder now being read).
    pub fn advance_to(&mut self, day: NaiveDate) {
        let keep_from = day - Duration::days(Self::WINDOW_DAYS);
        self.days = self.days.split_off(&keep_from);
    }

    /// Ids currently remembered (for tests and memory accounting).
    pub fn remembered(&self) -> usize {
        self.days.values().map(HashSet::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn duplicates_are_counted_once_and_old_days_forgotten() {
        let t = |d: u32| {
            Utc.with_ymd_and_hms(2026, 3, d, 23, 59, 0)
                .single()
                .expect("t")
        };
        let mut d = Dedupe::default();
        assert!(d.first_time("12345678-123a-123b-123c-123456789abc", t(1)));
        assert!(!d.first_time("12345678-123a-123b-123c-123456789abc", t(1)));
        assert!(d.first_time("not-a-uuid", t(1)));
        assert!(!d.first_time("not-a-uuid", t(1)));
        assert_eq!(d.duplicates, 2);
        d.advance_to(t(2).date_naive());
        assert_eq!(d.remembered(), 2, "yesterday is still in the window");
        d.advance_to(t(10).date_naive());
        assert_eq!(d.remembered(), 0);
    }

    #[test]
    fn uuid_ids_are_read_in_place_and_others_kept_as_text() {
        assert_eq!(
            uuid_of("12345678-123a-123B-123c-123456789abc"),
            Some(0x12345678_123a_123b_123c_123456789abc)
        );
        // Same hex digits, dashes elsewhere: not a UUID, so not the same id.
        assert_eq!(uuid_of("1234567-8123a-123b-123c-123456789abc"), None);
        assert_eq!(uuid_of("12345678-123a-123b-123c-123456789abg"), None);
        assert_eq!(uuid_of("+2345678-123a-123b-123c-123456789abc"), None);
        assert_eq!(uuid_of("short"), None);
        assert!(matches!(id_of("x-1"), Id::Text(t) if &*t == "x-1"));
    }
}
