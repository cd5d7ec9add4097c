//! Request context and three-valued logic for the IAM evaluator.
//!
//! This file holds the values a request carries (`aws:SourceIp`, `aws:MultiFactorAuthPresent`,
//! …), what the caller knows about keys it did not give, and the Kleene three-valued truth
//! type [`Tri`] used throughout the evaluator.
//!
//! Two knowledge modes exist:
//! * [`Knowledge::Exact`] (the simulator): a key that was not given is absent from the request.
//! * [`Knowledge::Audit`] (a configuration snapshot): a key that was not given is *unknown*,
//!   unless the caller marked it as known-absent with [`Context::mark_absent`].
//!
//! Must not: perform I/O, reference AWS SDK types, or depend on the catalog module.

use std::collections::{BTreeMap, BTreeSet};

/// Kleene three-valued truth value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tri {
    /// Definitely true.
    True,
    /// Definitely false.
    False,
    /// Depends on something the evaluator cannot know.
    Unknown,
}

impl Tri {
    /// Kleene AND.
    pub fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::False, _) | (_, Tri::False) => Tri::False,
            (Tri::True, Tri::True) => Tri::True,
            _ => Tri::Unknown,
        }
    }

    /// Kleene OR.
    pub fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::True, _) | (_, Tri::True) => Tri::True,
            (Tri::False, Tri::False) => Tri::False,
            _ => Tri::Unknown,
        }
    }

    /// Kleene NOT (Unknown stays Unknown).
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }

    /// AND over an iterator (empty = True).
    pub fn all<I: IntoIterator<Item = Tri>>(items: I) -> Tri {
        let mut acc = Tri::True;
        for t in items {
            acc = acc.and(t);
            if acc == Tri::False {
                return acc;
            }
        }
        acc
    }

    /// OR over an iterator (empty = False).
    pub fn any<I: IntoIterator<Item = Tri>>(items: I) -> Tri {
        let mut acc = Tri::False;
        for t in items {
            acc = acc.or(t);
            if acc == Tri::True {
                return acc;
            }
        }
        acc
    }

    /// True only for `Tri::True`.
    pub fn is_true(self) -> bool {
        self == Tri::True
    }

    /// True only for `Tri::False`.
    pub fn is_false(self) -> bool {
        self == Tri::False
    }

    /// True for `True` and `Unknown` (it may hold).
    pub fn possible(self) -> bool {
        self != Tri::False
    }
}

impl From<bool> for Tri {
    fn from(b: bool) -> Tri {
        if b {
            Tri::True
        } else {
            Tri::False
        }
    }
}

/// How keys that were not supplied are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Knowledge {
    /// A key not given is absent (simulator).
    #[default]
    Exact,
    /// A key not given is unknown (audit of a snapshot).
    Audit,
}

/// The result of looking a condition key up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The key is present with these values (one value for single-valued keys).
    Present(Vec<String>),
    /// The key is definitely not in the request.
    Absent,
    /// The key may or may not be in the request, with any value.
    Unknown,
}

/// Anything that can resolve a condition key (case-insensitive).
pub trait KeyLookup {
    /// Resolves `key` (any case).
    fn lookup(&self, key: &str) -> Lookup;
}

/// Request-time context keys supplied by the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    knowledge: Knowledge,
    values: BTreeMap<String, Vec<String>>,
    absent: BTreeSet<String>,
}

impl Context {
    /// Empty context in exact mode (keys not given are absent).
    pub fn exact() -> Context {
        Context::default()
    }

    /// Empty context in audit mode (keys not given are unknown).
    pub fn audit() -> Context {
        Context {
            knowledge: Knowledge::Audit,
            ..Context::default()
        }
    }

    /// The knowledge mode.
    pub fn knowledge(&self) -> Knowledge {
        self.knowledge
    }

    /// Sets `key` to the given values (replacing earlier ones). Keys are case-insensitive.
    pub fn set<I, S>(&mut self, key: &str, values: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let k = key.to_ascii_lowercase();
        self.absent.remove(&k);
        self.values
            .insert(k, values.into_iter().map(Into::into).collect());
    }

    /// Builder form of [`Context::set`] for a single value.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Context {
        self.set(key, [value.into()]);
        self
    }

    /// Builder form of [`Context::set`] for several values.
    pub fn with_values<I, S>(mut self, key: &str, values: I) -> Context
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.set(key, values);
        self
    }

    /// Marks `key` as known to be absent (meaningful in audit mode).
    pub fn mark_absent(&mut self, key: &str) {
        let k = key.to_ascii_lowercase();
        self.values.remove(&k);
        self.absent.insert(k);
    }

    /// Builder form of [`Context::mark_absent`].
    pub fn known_absent(mut self, key: &str) -> Context {
        self.mark_absent(key);
        self
    }

    /// What the caller said explicitly about `key`, if anything.
    pub fn explicit(&self, key: &str) -> Option<Lookup> {
        let k = key.to_ascii_lowercase();
        if let Some(v) = self.values.get(&k) {
            return Some(Lookup::Present(v.clone()));
        }
        if self.absent.contains(&k) {
            return Some(Lookup::Absent);
        }
        None
    }

    /// The answer for a key nobody said anything about.
    pub fn default_lookup(&self) -> Lookup {
        match self.knowledge {
            Knowledge::Exact => Lookup::Absent,
            Knowledge::Audit => Lookup::Unknown,
        }
    }
}

impl KeyLookup for Context {
    fn lookup(&self, key: &str) -> Lookup {
        self.explicit(key).unwrap_or_else(|| self.default_lookup())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kleene_tables() {
        use Tri::*;
        assert_eq!(True.and(Unknown), Unknown);
        assert_eq!(False.and(Unknown), False);
        assert_eq!(True.or(Unknown), True);
        assert_eq!(False.or(Unknown), Unknown);
        assert_eq!(Unknown.not(), Unknown);
        assert_eq!(Tri::all([]), True);
        assert_eq!(Tri::any([]), False);
        assert_eq!(Tri::any([False, Unknown]), Unknown);
        assert_eq!(Tri::all([True, Unknown, False]), False);
    }

    #[test]
    fn exact_vs_audit_defaults() {
        let e = Context::exact().with("aws:SourceIp", "10.0.0.1");
        assert_eq!(
            e.lookup("AWS:SOURCEIP"),
            Lookup::Present(vec!["10.0.0.1".into()])
        );
        assert_eq!(e.lookup("aws:MultiFactorAuthPresent"), Lookup::Absent);
        let a = Context::audit().known_absent("aws:SourceVpc");
        assert_eq!(a.lookup("aws:MultiFactorAuthPresent"), Lookup::Unknown);
        assert_eq!(a.lookup("aws:sourcevpc"), Lookup::Absent);
    }
}
