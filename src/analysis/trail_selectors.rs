//! What a trail's event selectors let it record, for the management events the checks read.
//!
//! CloudTrail logs an event on a trail when it matches any of the trail's selectors. A basic selector matches a
//! management event when it includes management events, its `ReadWriteType` admits the event's `readOnly`, and
//! the event's source is not in `ExcludeManagementEventSources`; an advanced selector matches when every field
//! selector does (`eventCategory`, `readOnly`, `eventSource`; a field this module cannot evaluate for management
//! events makes the answer "cannot tell", never "recorded"). LookupEvents is not affected by selectors: only the
//! trail archive is.
//!
//! Pure: reads `EventSelectors` only.

use std::collections::BTreeSet;

use crate::model::{EventSelectors, FieldSelector};

/// Whether the selectors record a kind of event. Three-valued, so that an unreadable selector never passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Yes,
    No,
    CannotTell,
}

impl Recorded {
    fn and(self, other: Recorded) -> Recorded {
        match (self, other) {
            (Recorded::No, _) | (_, Recorded::No) => Recorded::No,
            (Recorded::Yes, Recorded::Yes) => Recorded::Yes,
            _ => Recorded::CannotTell,
        }
    }
    fn or(self, other: Recorded) -> Recorded {
        match (self, other) {
            (Recorded::Yes, _) | (_, Recorded::Yes) => Recorded::Yes,
            (Recorded::No, Recorded::No) => Recorded::No,
            _ => Recorded::CannotTell,
        }
    }
    fn from_bool(b: bool) -> Recorded {
        if b {
            Recorded::Yes
        } else {
            Recorded::No
        }
    }
}

/// Whether the selectors record the management events of `source` (None: of every source) that are read-only
/// (`read_only`) or mutating.
pub fn records(selectors: &EventSelectors, source: Option<&str>, read_only: bool) -> Recorded {
    match source {
        Some(s) => records_one(selectors, Some(s), read_only),
        // Every source: one not named by any selector, and each source a selector names.
        None => mentioned_sources(selectors)
            .iter()
            .fold(records_one(selectors, None, read_only), |acc, s| {
                acc.and(records_one(selectors, Some(s), read_only))
            }),
    }
}

/// `source` None stands for a source no selector names.
fn records_one(selectors: &EventSelectors, source: Option<&str>, read_only: bool) -> Recorded {
    if !selectors.advanced.is_empty() {
        return selectors
            .advanced
            .iter()
            .map(|s| {
                s.field_selectors.iter().fold(Recorded::Yes, |acc, f| {
                    acc.and(field_matches(f, source, read_only))
                })
            })
            .fold(Recorded::No, Recorded::or);
    }
    selectors
        .basic
        .iter()
        .map(|s| {
            let rw = match s.read_write_type.as_str() {
                "All" => Recorded::Yes,
                "ReadOnly" => Recorded::from_bool(read_only),
                "WriteOnly" => Recorded::from_bool(!read_only),
                _ => Recorded::CannotTell,
            };
            let excluded = source
                .is_some_and(|src| s.exclude_management_event_sources.iter().any(|e| e == src));
            Recorded::from_bool(s.include_management_events)
                .and(rw)
                .and(Recorded::from_bool(!excluded))
        })
        .fold(Recorded::No, Recorded::or)
}

fn field_matches(field: &FieldSelector, source: Option<&str>, read_only: bool) -> Recorded {
    let value = match field.field.as_str() {
        "eventCategory" => "Management",
        "readOnly" => {
            if read_only {
                "true"
            } else {
                "false"
            }
        }
        "eventSource" => match source {
            Some(s) => s,
            None => {
                // A source no selector names: in no Equals list, in no NotEquals list; prefixes cannot be told.
                let prefixes = !field.starts_with.is_empty()
                    || !field.ends_with.is_empty()
                    || !field.not_starts_with.is_empty()
                    || !field.not_ends_with.is_empty();
                if prefixes {
                    return Recorded::CannotTell;
                }
                return Recorded::from_bool(field.equals.is_empty());
            }
        },
        _ => return Recorded::CannotTell,
    };
    Recorded::from_bool(value_matches(field, value))
}

fn value_matches(f: &FieldSelector, value: &str) -> bool {
    (f.equals.is_empty() || f.equals.iter().any(|v| v == value))
        && (f.starts_with.is_empty() || f.starts_with.iter().any(|v| value.starts_with(v.as_str())))
        && (f.ends_with.is_empty() || f.ends_with.iter().any(|v| value.ends_with(v.as_str())))
        && !f.not_equals.iter().any(|v| v == value)
        && !f
            .not_starts_with
            .iter()
            .any(|v| value.starts_with(v.as_str()))
        && !f.not_ends_with.iter().any(|v| value.ends_with(v.as_str()))
}

fn mentioned_sources(selectors: &EventSelectors) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = selectors
        .basic
        .iter()
        .flat_map(|s| s.exclude_management_event_sources.iter().cloned())
        .collect();
    for f in selectors
        .advanced
        .iter()
        .flat_map(|s| &s.field_selectors)
        .filter(|f| f.field == "eventSource")
    {
        out.extend(f.equals.iter().chain(&f.not_equals).cloned());
    }
    out
}

/// Management events the selectors do not (or cannot be shown to) record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    pub read_only: bool,
    /// None: of every source.
    pub source: Option<String>,
    /// False when the selectors use a field or value whose effect cannot be told.
    pub certain: bool,
}

impl Exclusion {
    pub fn describe(&self) -> String {
        format!(
            "{}{} management events{}",
            if self.certain { "" } else { "possibly not " },
            if self.read_only { "read" } else { "write" },
            self.source
                .as_deref()
                .map(|s| format!(" from {s}"))
                .unwrap_or_default()
        )
    }
}

/// What the selectors leave out of "every read and write management event", writes first; empty when they
/// record all of them.
pub fn exclusions(selectors: &EventSelectors) -> Vec<Exclusion> {
    let mut out = Vec::new();
    for read_only in [false, true] {
        let whole = records_one(selectors, None, read_only);
        if whole != Recorded::Yes {
            out.push(Exclusion {
                read_only,
                source: None,
                certain: whole == Recorded::No,
            });
            continue;
        }
        for source in mentioned_sources(selectors) {
            let r = records_one(selectors, Some(&source), read_only);
            if r != Recorded::Yes {
                out.push(Exclusion {
                    read_only,
                    source: Some(source),
                    certain: r == Recorded::No,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AdvancedEventSelector, BasicEventSelector};

    fn basic(rw: &str, include: bool, exclude: &[&str]) -> EventSelectors {
        EventSelectors {
            basic: vec![BasicEventSelector {
                read_write_type: rw.into(),
                include_management_events: include,
                exclude_management_event_sources: exclude.iter().map(|s| s.to_string()).collect(),
                data_resources: 0,
            }],
            advanced: vec![],
        }
    }

    fn field(name: &str, equals: &[&str], not_equals: &[&str]) -> FieldSelector {
        FieldSelector {
            field: name.into(),
            equals: equals.iter().map(|s| s.to_string()).collect(),
            not_equals: not_equals.iter().map(|s| s.to_string()).collect(),
            ..FieldSelector::default()
        }
    }

    fn advanced(selectors: Vec<Vec<FieldSelector>>) -> EventSelectors {
        EventSelectors {
            basic: vec![],
            advanced: selectors
                .into_iter()
                .map(|field_selectors| AdvancedEventSelector {
                    name: None,
                    field_selectors,
                })
                .collect(),
        }
    }

    #[test]
    fn the_default_selector_records_everything() {
        let all = EventSelectors::all_management_events();
        assert!(exclusions(&all).is_empty());
        assert_eq!(records(&all, None, false), Recorded::Yes);
    }

    #[test]
    fn basic_selectors_exclude_reads_writes_management_and_sources() {
        let write_only = basic("WriteOnly", true, &[]);
        assert_eq!(records(&write_only, None, false), Recorded::Yes);
        assert_eq!(
            records(&write_only, Some("sts.amazonaws.com"), true),
            Recorded::No
        );
        assert_eq!(
            exclusions(&write_only)[0].describe(),
            "read management events"
        );
        let none = basic("All", false, &[]);
        assert_eq!(exclusions(&none).len(), 2);
        let no_kms = basic("All", true, &["kms.amazonaws.com"]);
        assert_eq!(records(&no_kms, None, false), Recorded::No);
        assert_eq!(
            records(&no_kms, Some("codepipeline.amazonaws.com"), false),
            Recorded::Yes
        );
        let found = exclusions(&no_kms);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            found[0].describe(),
            "write management events from kms.amazonaws.com"
        );
    }

    #[test]
    fn advanced_selectors_are_anded_within_and_ored_across() {
        let reads = advanced(vec![vec![
            field("eventCategory", &["Management"], &[]),
            field("readOnly", &["true"], &[]),
        ]]);
        assert_eq!(records(&reads, None, false), Recorded::No);
        assert_eq!(records(&reads, None, true), Recorded::Yes);
        let both = advanced(vec![
            vec![
                field("eventCategory", &["Management"], &[]),
                field("readOnly", &["true"], &[]),
            ],
            vec![
                field("eventCategory", &["Management"], &[]),
                field("readOnly", &["false"], &[]),
                field("eventSource", &[], &["kms.amazonaws.com"]),
            ],
        ]);
        assert_eq!(
            records(&both, Some("iam.amazonaws.com"), false),
            Recorded::Yes
        );
        assert_eq!(records(&both, None, false), Recorded::No);
        assert_eq!(
            exclusions(&both),
            vec![Exclusion {
                read_only: false,
                source: Some("kms.amazonaws.com".into()),
                certain: true
            }]
        );
        let data_only = advanced(vec![vec![
            field("eventCategory", &["Data"], &[]),
            field("resources.type", &["AWS::S3::Object"], &[]),
        ]]);
        assert_eq!(records(&data_only, None, false), Recorded::No);
    }

    #[test]
    fn a_field_that_cannot_be_evaluated_is_never_taken_as_recorded() {
        let by_name = advanced(vec![vec![
            field("eventCategory", &["Management"], &[]),
            field("eventName", &["PutApprovalResult"], &[]),
        ]]);
        assert_eq!(
            records(&by_name, Some("codepipeline.amazonaws.com"), false),
            Recorded::CannotTell
        );
        let found = exclusions(&by_name);
        assert!(!found[0].certain);
        assert!(found[0].describe().starts_with("possibly not"));
        assert_eq!(
            records(&basic("Sometimes", true, &[]), None, false),
            Recorded::CannotTell
        );
    }
}
