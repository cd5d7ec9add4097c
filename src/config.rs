//! `gateaudit.toml`: which accounts to audit, how to reach them, and where the evidence lives.
//!
//! Parsing and validation only; credentials themselves come from the standard AWS chain at collection time.

use std::path::{Path, PathBuf};

use serde::Deserialize;

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
fn default_concurrency() -> usize {
    8
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketConfig {
    /// The account that owns the bucket (its credentials are used to read it).
    pub account: String,
    pub bucket: String,
    #[serde(default)]
    pub prefix: String,
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
        if self.accounts.is_empty() {
            return Err(invalid("accounts".into(), "list at least one account"));
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
        }
        for (list, name) in [
            (&self.approval_record_buckets, "approval_record_buckets"),
            (&self.trail_buckets, "trail_buckets"),
        ] {
            for (i, bucket) in list.iter().enumerate() {
                if !seen.contains(bucket.account.as_str()) {
                    return Err(invalid(
                        format!("{name}[{i}].account"),
                        "is not one of the listed accounts",
                    ));
                }
                if bucket.bucket.is_empty() {
                    return Err(invalid(format!("{name}[{i}].bucket"), "must not be empty"));
                }
            }
        }
        Ok(())
    }

    pub fn role_arn(&self, account: &AccountConfig) -> Option<String> {
        if account.use_base_credentials {
            return None;
        }
        let role = account.role_name.as_deref().unwrap_or(&self.role_name);
        Some(format!("arn:aws:iam::{}:role/{}", account.id, role))
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
        let text = GOOD.replace("account = \"111111111111\"", "account = \"999999999999\"");
        let err = Config::parse(&text, "t.toml")
            .expect_err("invalid")
            .to_string();
        assert!(err.contains("approval_record_buckets[0].account"), "{err}");
    }

    #[test]
    fn unknown_key_is_an_error() {
        let err = Config::parse(&format!("{GOOD}\nbogus = 1"), "t.toml")
            .expect_err("invalid")
            .to_string();
        assert!(err.contains("bogus"), "{err}");
    }
}
