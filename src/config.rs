//! `gateaudit.toml`: which accounts to audit, how to reach them, and where the evidence lives.
//!
//! Parsing and validation only; credentials themselves come from the standard AWS chain at collection time.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("configuration {path} is not valid TOML: {message}")]
    Parse { path: String, message: String },
    #[error("configuration {path}: {field}: {message}")]
    Invalid {
        path: String,
        field: String,
        message: String,
    },
}

fn default_role_name() -> String {
    "CICDCrossAccountRole".to_owned()
}
fn default_session_name() -> String {
    "gateaudit".to_owned()
}
fn default_policy() -> String {
    "policies/default.toml".to_owned()
}
/// Accounts collected at once: as many as the run's requests in flight (`--max-requests`, default 64), which
/// bound them whatever this is. An account's calls go one after another and AWS's quotas are each account's own,
/// so more accounts at once cost no account more: a run takes about its slowest account, not the sum of every
/// account's round trips divided by a small number (8 before, which made 50 accounts 7 waves).
fn default_concurrency() -> usize {
    64
}
fn default_lookback_days() -> i64 {
    90
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub organisation: String,
    /// The CI/CD (tooling) account whose pipelines deploy into the environment accounts.
    pub cicd_account: String,
    pub regions: Vec<String>,
    #[serde(default = "default_role_name")]
    pub role_name: String,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default = "default_session_name")]
    pub session_name: String,
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// The rule set (relative paths are resolved against the configuration file's directory, then the current one).
    #[serde(default = "default_policy")]
    pub policy: String,
    /// The waivers file (relative paths like `policy`); `--waivers` overrides it.
    #[serde(default)]
    pub waivers: Option<String>,
    /// Roles that deploy (besides pipeline service roles and the cross-account role), by ARN pattern.
    #[serde(default)]
    pub deployment_roles: Vec<String>,
    #[serde(default = "default_concurrency")]
    pub max_concurrency: usize,
    /// Length of the default audit period, ending now, when `--since` is not given.
    #[serde(default = "default_lookback_days")]
    pub lookback_days: i64,
    /// Discover the accounts from AWS Organizations (and read SCPs, RCPs and IAM Identity Center there).
    #[serde(default)]
    pub organization: Option<OrganizationConfig>,
    /// Accounts to audit. With `[organization]` optional: entries override what discovery found for the same id
    /// (name, environment, role) and add accounts outside the organisation.
    #[serde(default)]
    pub accounts: Vec<AccountConfig>,
    #[serde(default)]
    pub approval_record_buckets: Vec<BucketConfig>,
    #[serde(default)]
    pub trail_buckets: Vec<BucketConfig>,
    #[serde(skip)]
    pub source_path: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    pub id: String,
    pub name: String,
    pub environment: String,
    /// Read this account with the caller's own credentials instead of assuming a role.
    #[serde(default)]
    pub use_base_credentials: bool,
    /// Overrides the global `role_name` for this account.
    #[serde(default)]
    pub role_name: Option<String>,
}

/// `[organization]`: where to read AWS Organizations and IAM Identity Center, and how discovered accounts get
/// their environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationConfig {
    /// The management account, or a delegated administrator for Organizations (and Identity Center).
    pub account: String,
    /// The role assumed in that account (default: the global `role_name`).
    #[serde(default)]
    pub role_name: Option<String>,
    /// Read the organisation with the caller's own credentials instead of assuming a role.
    #[serde(default)]
    pub use_base_credentials: bool,
    /// Read IAM Identity Center (permission sets, assignments, identity store) from the same account.
    #[serde(default = "default_true")]
    pub identity_center: bool,
    /// The region of the Identity Center instance (default: the first of `regions`).
    #[serde(default)]
    pub identity_center_region: Option<String>,
    /// How discovered accounts get their environment: the first rule that matches wins; an account no rule
    /// matches is audited as `unclassified` (and said so in accounts.csv).
    #[serde(default)]
    pub environment_rules: Vec<EnvironmentRule>,
}

fn default_true() -> bool {
    true
}

/// One environment rule: exactly one of `tag_key`, `ou_path`, `account_name`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentRule {
    /// The environment is the value of this account tag (or `environment` when `tag_value` is given and matches).
    #[serde(default)]
    pub tag_key: Option<String>,
    #[serde(default)]
    pub tag_value: Option<String>,
    /// An OU path pattern (`*` and `?`), e.g. `Root/Workloads/Prod*`.
    #[serde(default)]
    pub ou_path: Option<String>,
    /// An account-name pattern (`*` and `?`), e.g. `*-prod`.
    #[serde(default)]
    pub account_name: Option<String>,
    /// The environment the rule assigns (required, except for a `tag_key` rule without `tag_value`).
    #[serde(default)]
    pub environment: Option<String>,
}

/// What a discovered account looks like to the environment rules.
pub struct DiscoveredAccount<'a> {
    pub name: &'a str,
    pub ou_path: &'a str,
    pub tags: &'a [(String, String)],
}

impl EnvironmentRule {
    /// The environment this rule assigns to the account, if it matches; with the rule's description.
    pub fn assign(&self, account: &DiscoveredAccount) -> Option<(String, String)> {
        use wildmatch::WildMatch;
        if let Some(key) = &self.tag_key {
            let value = account
                .tags
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())?;
            return match (&self.tag_value, &self.environment) {
                (Some(wanted), Some(environment)) if wanted == value => {
                    Some((environment.clone(), format!("account tag {key}={value}")))
                }
                (Some(_), _) => None,
                (None, _) if value.trim().is_empty() => None,
                (None, _) => Some((value.to_owned(), format!("account tag {key}"))),
            };
        }
        let environment = self.environment.clone()?;
        if let Some(pattern) = &self.ou_path {
            return WildMatch::new(pattern)
                .matches(account.ou_path)
                .then(|| (environment, format!("OU path {pattern}")));
        }
        if let Some(pattern) = &self.account_name {
            return WildMatch::new(pattern)
                .matches(account.name)
                .then(|| (environment, format!("account name {pattern}")));
        }
        None
    }
}

/// The environment of an account no rule classifies.
pub const UNCLASSIFIED: &str = "unclassified";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketConfig {
    /// The account that owns the bucket (its credentials are used to read it).
    pub account: String,
    pub bucket: String,
    #[serde(default)]
    pub prefix: String,
    /// `trail_buckets` only: `native` (download and read here, the default) or `athena` (query in place).
    #[serde(default)]
    pub engine: TrailEngine,
    /// For `engine = "athena"`: the table (`DB.TABLE`, made with `gateaudit trail athena-ddl`) ...
    #[serde(default)]
    pub athena_table: Option<String>,
    /// ... and the workgroup the queries run in (its output location holds the results).
    #[serde(default)]
    pub athena_workgroup: Option<String>,
}

/// How a trail archive is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrailEngine {
    #[default]
    Native,
    Athena,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        let mut config = Config::parse(&text, &shown)?;
        config.source_path = path.to_path_buf();
        Ok(config)
    }

    pub fn parse(text: &str, shown: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: shown.to_owned(),
            message: e.to_string(),
        })?;
        config.validate(shown)?;
        Ok(config)
    }

    fn validate(&self, shown: &str) -> Result<(), ConfigError> {
        let invalid = |field: String, message: &str| ConfigError::Invalid {
            path: shown.to_owned(),
            field,
            message: message.to_owned(),
        };
        if !is_account_id(&self.cicd_account) {
            return Err(invalid(
                "cicd_account".into(),
                "must be a 12-digit AWS account id",
            ));
        }
        if self.regions.is_empty() {
            return Err(invalid("regions".into(), "list at least one region"));
        }
        for (i, region) in self.regions.iter().enumerate() {
            if !is_region(region) {
                return Err(invalid(format!("regions[{i}]"), &not_a_region(region)));
            }
        }
        let partition = self.partition();
        if let Some((i, other)) = self
            .regions
            .iter()
            .enumerate()
            .find(|(_, r)| crate::model::partition::partition_of(r).name != partition)
        {
            return Err(invalid(
                format!("regions[{i}]"),
                &format!(
                    "{other} is in partition {}, the first region in {partition}: one audit covers one partition \
                     (its credentials and ARNs differ)",
                    crate::model::partition::partition_of(other).name
                ),
            ));
        }
        check_role_name(&self.role_name).map_err(|m| invalid("role_name".into(), &m))?;
        check_session_name(&self.session_name).map_err(|m| invalid("session_name".into(), &m))?;
        if let Some(id) = &self.external_id {
            check_external_id(id).map_err(|m| invalid("external_id".into(), &m))?;
        }
        if let Some(url) = &self.endpoint_url {
            check_endpoint_url(url).map_err(|m| invalid("endpoint_url".into(), &m))?;
        }
        if self.organization.is_none()
            && !self.accounts.is_empty()
            && !self.accounts.iter().any(|a| a.id == self.cicd_account)
        {
            return Err(invalid(
                "cicd_account".into(),
                &format!(
                    "{} is not one of the listed accounts: its pipelines would never be read",
                    self.cicd_account
                ),
            ));
        }
        if self.accounts.is_empty() && self.organization.is_none() {
            return Err(invalid(
                "accounts".into(),
                "list at least one account, or discover them with [organization]",
            ));
        }
        if let Some(org) = &self.organization {
            if !is_account_id(&org.account) {
                return Err(invalid(
                    "organization.account".into(),
                    "must be a 12-digit AWS account id",
                ));
            }
            if let Some(role) = &org.role_name {
                check_role_name(role).map_err(|m| invalid("organization.role_name".into(), &m))?;
            }
            if let Some(region) = &org.identity_center_region {
                if !is_region(region) {
                    return Err(invalid(
                        "organization.identity_center_region".into(),
                        &not_a_region(region),
                    ));
                }
            }
            for (i, rule) in org.environment_rules.iter().enumerate() {
                let field = format!("organization.environment_rules[{i}]");
                let matchers = [&rule.tag_key, &rule.ou_path, &rule.account_name]
                    .iter()
                    .filter(|m| m.is_some())
                    .count();
                if matchers != 1 {
                    return Err(invalid(
                        field,
                        "give exactly one of tag_key, ou_path, account_name",
                    ));
                }
                let needs_environment = rule.tag_key.is_none() || rule.tag_value.is_some();
                if needs_environment && rule.environment.as_deref().is_none_or(str::is_empty) {
                    return Err(invalid(
                        format!("{field}.environment"),
                        "must name the environment the rule assigns",
                    ));
                }
                if rule.tag_value.is_some() && rule.tag_key.is_none() {
                    return Err(invalid(
                        format!("{field}.tag_value"),
                        "only goes with tag_key",
                    ));
                }
            }
        }
        if self.max_concurrency == 0 {
            return Err(invalid("max_concurrency".into(), "must be at least 1"));
        }
        if self.lookback_days <= 0 {
            return Err(invalid("lookback_days".into(), "must be at least 1"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, account) in self.accounts.iter().enumerate() {
            if !is_account_id(&account.id) {
                return Err(invalid(
                    format!("accounts[{i}].id"),
                    "must be a 12-digit AWS account id",
                ));
            }
            if !seen.insert(account.id.as_str()) {
                return Err(invalid(format!("accounts[{i}].id"), "account listed twice"));
            }
            if let Some(role) = &account.role_name {
                check_role_name(role)
                    .map_err(|m| invalid(format!("accounts[{i}].role_name"), &m))?;
            }
        }
        for (list, name) in [
            (&self.approval_record_buckets, "approval_record_buckets"),
            (&self.trail_buckets, "trail_buckets"),
        ] {
            for (i, bucket) in list.iter().enumerate() {
                // With discovery, a bucket's account is checked against the organisation at collection time.
                if self.organization.is_none() && !seen.contains(bucket.account.as_str()) {
                    return Err(invalid(
                        format!("{name}[{i}].account"),
                        "is not one of the listed accounts",
                    ));
                }
                if bucket.bucket.is_empty() {
                    return Err(invalid(format!("{name}[{i}].bucket"), "must not be empty"));
                }
                if bucket.engine == TrailEngine::Athena {
                    if name != "trail_buckets" {
                        return Err(invalid(
                            format!("{name}[{i}].engine"),
                            "athena reads trail archives only (trail_buckets)",
                        ));
                    }
                    match bucket.athena_table.as_deref() {
                        None => {
                            return Err(invalid(
                                format!("{name}[{i}].athena_table"),
                                "engine = \"athena\" needs athena_table = \"DB.TABLE\"",
                            ))
                        }
                        Some(t) => {
                            crate::trail::athena::TableName::parse(t).map_err(|e| {
                                invalid(format!("{name}[{i}].athena_table"), &e.to_string())
                            })?;
                        }
                    }
                    if bucket.athena_workgroup.as_deref().is_none_or(str::is_empty) {
                        return Err(invalid(
                            format!("{name}[{i}].athena_workgroup"),
                            "engine = \"athena\" needs athena_workgroup",
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The partition of the audited regions (`aws`, `aws-cn`, `aws-us-gov`): the ARN prefix of the roles to assume.
    pub fn partition(&self) -> &'static str {
        crate::model::partition::partition_of(
            self.regions.first().map_or("us-east-1", String::as_str),
        )
        .name
    }

    pub fn role_arn(&self, account: &AccountConfig) -> Option<String> {
        if account.use_base_credentials {
            return None;
        }
        let role = account.role_name.as_deref().unwrap_or(&self.role_name);
        Some(format!(
            "arn:{}:iam::{}:role/{}",
            self.partition(),
            account.id,
            role
        ))
    }

    /// The role to assume in the organisation's management (or delegated administrator) account.
    pub fn organization_role_arn(&self) -> Option<String> {
        let org = self.organization.as_ref()?;
        if org.use_base_credentials {
            return None;
        }
        let role = org.role_name.as_deref().unwrap_or(&self.role_name);
        Some(format!(
            "arn:{}:iam::{}:role/{}",
            self.partition(),
            org.account,
            role
        ))
    }

    /// The environment of a discovered account: an explicit `[[accounts]]` entry wins, then the first matching
    /// rule; `unclassified` otherwise. Returns (environment, how it was assigned).
    pub fn environment_of(&self, id: &str, account: &DiscoveredAccount) -> (String, String) {
        if let Some(entry) = self.accounts.iter().find(|a| a.id == id) {
            return (
                entry.environment.clone(),
                "[[accounts]] entry in the configuration".to_owned(),
            );
        }
        self.organization
            .iter()
            .flat_map(|o| o.environment_rules.iter())
            .find_map(|rule| rule.assign(account))
            .unwrap_or_else(|| {
                (
                    UNCLASSIFIED.to_owned(),
                    "no environment rule matched".to_owned(),
                )
            })
    }

    /// Resolves the rule-set path: absolute as is; relative against the config's directory if it exists there.
    pub fn policy_path(&self) -> PathBuf {
        resolve_relative(&self.policy, &self.source_path)
    }

    pub fn waivers_path(&self) -> Option<PathBuf> {
        self.waivers
            .as_deref()
            .map(|w| resolve_relative(w, &self.source_path))
    }
}

pub fn resolve_relative(path: &str, config_file: &Path) -> PathBuf {
    let candidate = PathBuf::from(path);
    if candidate.is_absolute() {
        return candidate;
    }
    if let Some(dir) = config_file.parent() {
        let beside = dir.join(&candidate);
        if beside.exists() {
            return beside;
        }
    }
    candidate
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The characters IAM allows in role names and STS in session names: letters, digits and `+=,.@_-`.
fn iam_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
}

/// A role name, optionally under a path (`ops/Auditor`): 1 to 64 IAM name characters, path segments not empty.
fn check_role_name(role: &str) -> Result<(), String> {
    let (path, name) = role.rsplit_once('/').unwrap_or(("", role));
    if name.is_empty() || name.chars().count() > 64 {
        return Err(format!(
            "{role:?} must be an IAM role name of 1 to 64 characters"
        ));
    }
    if let Some(bad) = role.chars().find(|c| !iam_name_char(*c) && *c != '/') {
        return Err(format!(
            "{role:?} contains {bad:?}: IAM role names use only letters, digits and +=,.@_-"
        ));
    }
    if !path.is_empty() && path.split('/').any(str::is_empty) {
        return Err(format!("{role:?} has an empty path segment"));
    }
    Ok(())
}

/// `RoleSessionName`: 2 to 64 characters of `[\w+=,.@-]`.
fn check_session_name(name: &str) -> Result<(), String> {
    let length = name.chars().count();
    if !(2..=64).contains(&length) {
        return Err(format!(
            "{name:?} must be 2 to 64 characters (sts:AssumeRole RoleSessionName)"
        ));
    }
    match name.chars().find(|c| !iam_name_char(*c)) {
        Some(bad) => Err(format!(
            "{name:?} contains {bad:?}: session names use only letters, digits and +=,.@_-"
        )),
        None => Ok(()),
    }
}

/// `ExternalId`: 2 to 1224 characters of `[\w+=,.@:/-]`.
fn check_external_id(id: &str) -> Result<(), String> {
    let length = id.chars().count();
    if !(2..=1224).contains(&length) {
        return Err("must be 2 to 1224 characters (sts:AssumeRole ExternalId)".to_owned());
    }
    match id
        .chars()
        .find(|c| !iam_name_char(*c) && !":/".contains(*c))
    {
        Some(bad) => Err(format!(
            "contains {bad:?}: an external id uses only letters, digits and +=,.@:/-"
        )),
        None => Ok(()),
    }
}

/// An AWS region name: `<area>[-gov|-iso*]-<direction>-<n>` (us-east-1, eu-central-2, us-gov-west-1,
/// us-isob-east-1). The pattern, not a list, so new regions need no release; typos such as `us-est-1`,
/// `US-EAST-1` or `useast1` are caught.
fn is_region(region: &str) -> bool {
    const AREAS: &[&str] = &["af", "ap", "ca", "cn", "eu", "il", "me", "mx", "sa", "us"];
    const DIRECTIONS: &[&str] = &[
        "north",
        "south",
        "east",
        "west",
        "central",
        "northeast",
        "northwest",
        "southeast",
        "southwest",
    ];
    let parts: Vec<&str> = region.split('-').collect();
    let (area, partition, direction, number) = match parts.as_slice() {
        [a, d, n] => (*a, None, *d, *n),
        [a, p, d, n] => (*a, Some(*p), *d, *n),
        _ => return false,
    };
    AREAS.contains(&area)
        && partition.is_none_or(|p| p == "gov" || (p.starts_with("iso") && p.len() <= 4))
        && DIRECTIONS.contains(&direction)
        && !number.is_empty()
        && number.len() <= 2
        && number.bytes().all(|b| b.is_ascii_digit())
}

fn not_a_region(region: &str) -> String {
    format!("{region:?} is not an AWS region name (such as us-east-1 or eu-central-1)")
}

/// An endpoint override: an absolute `http://` or `https://` URL with a host, nothing else.
fn check_endpoint_url(url: &str) -> Result<(), String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(host)) if !host.is_empty() => Ok(()),
        (Some("http" | "https"), _) => Err(format!("{url:?} names no host")),
        _ => Err(format!(
            "{url:?} must be an absolute http:// or https:// URL (such as http://127.0.0.1:5000)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
organisation = "Example"
cicd_account = "111111111111"
regions = ["us-east-1"]
[[accounts]]
id = "111111111111"
name = "cicd"
environment = "cicd"
use_base_credentials = true
[[accounts]]
id = "222222222222"
name = "prod"
environment = "prod"
[[approval_record_buckets]]
account = "111111111111"
bucket = "records"
"#;

    #[test]
    fn defaults_and_role_arns() {
        let c = Config::parse(GOOD, "t.toml").expect("valid");
        assert_eq!(c.role_name, "CICDCrossAccountRole");
        assert_eq!(c.role_arn(&c.accounts[0]), None);
        assert_eq!(
            c.role_arn(&c.accounts[1]).as_deref(),
            Some("arn:aws:iam::222222222222:role/CICDCrossAccountRole")
        );
        assert_eq!(c.lookback_days, 90);
    }

    #[test]
    fn bad_account_id_names_the_field() {
        let text = GOOD.replace("\"222222222222\"", "\"22\"");
        let err = Config::parse(&text, "t.toml")
            .expect_err("invalid")
            .to_string();
        assert!(err.contains("accounts[1].id"), "{err}");
    }

    #[test]
    fn bucket_of_unknown_account_rejected() {
        let text = GOOD.replace(
            "[[approval_record_buckets]]\naccount = \"111111111111\"",
            "[[approval_record_buckets]]\naccount = \"999999999999\"",
        );
        let err = Config::parse(&text, "t.toml")
            .expect_err("invalid")
            .to_string();
        assert!(err.contains("approval_record_buckets[0].account"), "{err}");
    }

    #[test]
    fn roles_are_assumed_in_the_partition_of_the_regions_and_partitions_do_not_mix() {
        let gov = GOOD.replace(
            r#"regions = ["us-east-1"]"#,
            r#"regions = ["us-gov-west-1"]"#,
        );
        let config = Config::parse(&gov, "t.toml").expect("valid");
        assert_eq!(config.partition(), "aws-us-gov");
        let dev = config
            .accounts
            .iter()
            .find(|a| !a.use_base_credentials)
            .expect("an account entered by role");
        assert!(config
            .role_arn(dev)
            .is_some_and(|arn| arn.starts_with("arn:aws-us-gov:iam::")));
        let mixed = GOOD.replace(
            r#"regions = ["us-east-1"]"#,
            r#"regions = ["us-east-1", "cn-north-1"]"#,
        );
        let err = Config::parse(&mixed, "t.toml")
            .expect_err("two partitions")
            .to_string();
        assert!(
            err.contains("regions[1]") && err.contains("aws-cn"),
            "{err}"
        );
    }

    const ORG: &str = r#"
organisation = "Example"
cicd_account = "111111111111"
regions = ["us-east-1"]
[organization]
account = "100000000000"
role_name = "OrgReader"
[[organization.environment_rules]]
tag_key = "Environment"
[[organization.environment_rules]]
ou_path = "Root/Workloads/Prod*"
environment = "prod"
[[organization.environment_rules]]
account_name = "*-sandbox"
environment = "sandbox"
[[accounts]]
id = "111111111111"
name = "cicd"
environment = "cicd"
use_base_credentials = true
"#;

    #[test]
    fn organization_makes_accounts_optional_and_rules_assign_environments() {
        let c = Config::parse(ORG, "t.toml").expect("valid");
        assert_eq!(
            c.organization_role_arn().as_deref(),
            Some("arn:aws:iam::100000000000:role/OrgReader")
        );
        let tags = vec![("Environment".to_owned(), "test".to_owned())];
        let tagged = DiscoveredAccount {
            name: "x",
            ou_path: "Root/Workloads/Prod",
            tags: &tags,
        };
        assert_eq!(c.environment_of("333333333333", &tagged).0, "test");
        let untagged = DiscoveredAccount {
            name: "x",
            ou_path: "Root/Workloads/Prod",
            tags: &[],
        };
        let (env, rule) = c.environment_of("444444444444", &untagged);
        assert_eq!(
            (env.as_str(), rule.as_str()),
            ("prod", "OU path Root/Workloads/Prod*")
        );
        let sandbox = DiscoveredAccount {
            name: "team-sandbox",
            ou_path: "Root/Sandbox",
            tags: &[],
        };
        assert_eq!(c.environment_of("555555555555", &sandbox).0, "sandbox");
        let nothing = DiscoveredAccount {
            name: "misc",
            ou_path: "Root",
            tags: &[],
        };
        assert_eq!(c.environment_of("666666666666", &nothing).0, UNCLASSIFIED);
        // The explicit entry overrides the tag.
        assert_eq!(c.environment_of("111111111111", &tagged).0, "cicd");
        let without_accounts = ORG.split("[[accounts]]").next().unwrap_or_default();
        assert!(Config::parse(without_accounts, "t.toml").is_ok());
    }

    #[test]
    fn environment_rules_are_validated() {
        let two = ORG.replace(
            "tag_key = \"Environment\"",
            "tag_key = \"Environment\"\nou_path = \"x\"",
        );
        let err = Config::parse(&two, "t.toml")
            .expect_err("invalid")
            .to_string();
        assert!(err.contains("organization.environment_rules[0]"), "{err}");
        let nameless = ORG.replace("environment = \"prod\"\n", "");
        let err = Config::parse(&nameless, "t.toml")
            .expect_err("invalid")
            .to_string();
        assert!(err.contains("environment_rules[1].environment"), "{err}");
        let bad = ORG.replace("account = \"100000000000\"", "account = \"1000\"");
        let err = Config::parse(&bad, "t.toml")
            .expect_err("invalid")
            .to_string();
        assert!(err.contains("organization.account"), "{err}");
    }

    #[test]
    fn unknown_key_is_an_error() {
        let err = Config::parse(&format!("{GOOD}\nbogus = 1"), "t.toml")
            .expect_err("invalid")
            .to_string();
        assert!(err.contains("bogus"), "{err}");
    }

    fn error_of(text: &str) -> String {
        Config::parse(text, "t.toml")
            .expect_err("invalid")
            .to_string()
    }

    #[test]
    fn names_regions_urls_and_the_cicd_account_are_checked_at_load_naming_the_field() {
        let top = |line: &str| {
            GOOD.replacen(
                "regions = [\"us-east-1\"]",
                &format!("regions = [\"us-east-1\"]\n{line}"),
                1,
            )
        };
        for (text, field, says) in [
            (
                top("role_name = \"CICD Cross Account\""),
                "role_name",
                "contains ' '",
            ),
            (top("role_name = \"\""), "role_name", "1 to 64"),
            (
                top(&format!("role_name = \"{}\"", "r".repeat(65))),
                "role_name",
                "1 to 64",
            ),
            (
                top("role_name = \"ops//Auditor\""),
                "role_name",
                "empty path segment",
            ),
            (top("session_name = \"g\""), "session_name", "2 to 64"),
            (
                top("session_name = \"audit run\""),
                "session_name",
                "contains ' '",
            ),
            (top("external_id = \"a b\""), "external_id", "contains ' '"),
            (
                top("endpoint_url = \"localhost:5000\""),
                "endpoint_url",
                "http",
            ),
            (
                top("endpoint_url = \"ftp://127.0.0.1\""),
                "endpoint_url",
                "http",
            ),
            (
                top("endpoint_url = \"http://\""),
                "endpoint_url",
                "not a URL",
            ),
            (
                top("endpoint_url = \"not a url\""),
                "endpoint_url",
                "not a URL",
            ),
            (
                GOOD.replace(
                    "regions = [\"us-east-1\"]",
                    "regions = [\"us-east-1\", \"us-est-1\"]",
                ),
                "regions[1]",
                "not an AWS region",
            ),
            (
                GOOD.replace("\"us-east-1\"", "\"US-EAST-1\""),
                "regions[0]",
                "not an AWS region",
            ),
            (
                GOOD.replace("\"us-east-1\"", "\"useast1\""),
                "regions[0]",
                "not an AWS region",
            ),
            (
                GOOD.replace(
                    "name = \"prod\"",
                    "name = \"prod\"\nrole_name = \"Bad Role\"",
                ),
                "accounts[1].role_name",
                "contains ' '",
            ),
            (
                GOOD.replace(
                    "cicd_account = \"111111111111\"",
                    "cicd_account = \"333333333333\"",
                ),
                "cicd_account",
                "not one of the listed accounts",
            ),
            (
                ORG.replace("role_name = \"OrgReader\"", "role_name = \"Org Reader\""),
                "organization.role_name",
                "' '",
            ),
            (
                ORG.replace(
                    "role_name = \"OrgReader\"",
                    "role_name = \"OrgReader\"\nidentity_center_region = \"mars-1\"",
                ),
                "organization.identity_center_region",
                "not an AWS region",
            ),
        ] {
            let err = error_of(&text);
            assert!(err.contains(&format!(": {field}: ")), "{field}: {err}");
            assert!(err.contains(says), "{field}: {err}");
        }
    }

    #[test]
    fn real_names_regions_and_urls_are_accepted() {
        for region in [
            "us-east-1",
            "eu-central-2",
            "ap-southeast-5",
            "us-gov-west-1",
            "us-isob-east-1",
            "cn-northwest-1",
            "il-central-1",
            "mx-central-1",
        ] {
            assert!(is_region(region), "{region}");
        }
        for role in ["CICDCrossAccountRole", "ops/Auditor", "a+b=c,d.e@f_g-h"] {
            assert!(check_role_name(role).is_ok(), "{role}");
        }
        for url in [
            "http://127.0.0.1:5000",
            "https://cloudtrail.eu-west-1.amazonaws.com",
            "http://[::1]:9000/",
        ] {
            assert!(check_endpoint_url(url).is_ok(), "{url}");
        }
        assert!(check_external_id("tenant:42/x").is_ok());
        // With discovery, the CI/CD account may come from the organisation.
        let text = ORG.replace(
            "cicd_account = \"111111111111\"",
            "cicd_account = \"333333333333\"",
        );
        assert!(Config::parse(&text, "t.toml").is_ok());
    }
}
