//! Rule sets (`policies/*.toml`): what the checks treat as allowed, who deploys, who is one person.
//!
//! Parsing and matching helpers only. `policies/default.toml` documents every field line by line.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use wildmatch::WildMatch;

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("cannot read rule set {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("rule set {path} is not valid: {message}")]
    Parse { path: String, message: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub name: String,
    #[serde(default)]
    pub identity: IdentityRules,
    #[serde(default)]
    pub approvals: ApprovalRules,
    #[serde(default)]
    pub write_access: WriteAccessRules,
    #[serde(default)]
    pub cross_account: CrossAccountRules,
    /// Where production pipelines may take their source from (source-provenance).
    #[serde(default)]
    pub source: SourceRules,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRules {
    /// CodeStar / CodeConnections connection ARN patterns production sources may use (empty: any connection).
    #[serde(default)]
    pub allowed_connections: Vec<String>,
    /// Repository patterns (`owner/repo` for connections and GitHub, the name for CodeCommit; empty: any).
    #[serde(default)]
    pub allowed_repositories: Vec<String>,
    /// Branch patterns production sources may track: protected branches only.
    #[serde(default = "default_branches")]
    pub allowed_branches: Vec<String>,
}

impl Default for SourceRules {
    fn default() -> Self {
        SourceRules {
            allowed_connections: Vec::new(),
            allowed_repositories: Vec::new(),
            allowed_branches: default_branches(),
        }
    }
}

fn default_branches() -> Vec<String> {
    vec![
        "main".to_owned(),
        "master".to_owned(),
        "release/*".to_owned(),
    ]
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityRules {
    /// Role ARN patterns whose session name is a trusted per-person identifier (e.g. a SAML federation role that
    /// sets the session name to the user's e-mail): approvals under them are told apart by session name.
    #[serde(default)]
    pub trusted_session_name_roles: Vec<String>,
    /// SAML / OIDC provider ARN patterns whose role session names identify people (e.g. an Okta provider that
    /// sets the session name to the user's e-mail). Roles trusted by any other provider count as ONE approver.
    #[serde(default)]
    pub trusted_session_name_providers: Vec<String>,
    /// Several identities that are one person.
    #[serde(default)]
    pub aliases: Vec<Alias>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alias {
    pub person: String,
    /// ARNs (patterns allowed) or person keys that all stand for `person`.
    pub identities: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRules {
    /// `pipeline/stage` patterns that must be two-person gates even with fewer than two approval actions.
    #[serde(default)]
    pub two_person_stages: Vec<String>,
    /// Summaries that explain nothing (compared case-insensitively, after trimming).
    #[serde(default = "default_trivial_summaries")]
    pub trivial_summaries: Vec<String>,
    /// How far an approval record's time may be from the CloudTrail event time.
    #[serde(default = "default_record_tolerance")]
    pub record_time_tolerance_seconds: i64,
    /// Stages deploying into a prod account must be preceded by a stage with two manual approval actions.
    #[serde(default)]
    pub require_two_person_for_prod: bool,
    /// The environments that are production (gate-coverage, the change population, source-provenance).
    #[serde(default = "default_production")]
    pub production_environments: Vec<String>,
    /// Who is entitled to approve which approval action (`gateaudit gate`): an approver no entry names is not
    /// entitled, whatever IAM would let them do (an administrator who merely could approve is not an approver).
    #[serde(default)]
    pub approvers: Vec<ApproverEntitlement>,
    /// An action every production deployment must pass through (e.g. the `gateaudit gate` stage): gate-coverage
    /// holds every change of the period to it. Absent: no such requirement.
    #[serde(default)]
    pub required_action: Option<RequiredAction>,
}

/// The action every production deployment must pass through (`[approvals.required_action]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredAction {
    /// The action provider (`CodeBuild`, `Lambda`...), compared case-insensitively.
    pub provider: String,
    /// The action name pattern (`*`, `?`, case-sensitive); any name when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// Configuration values (patterns, case-sensitive) the action's configuration must hold.
    #[serde(default)]
    pub configuration: BTreeMap<String, String>,
}

impl RequiredAction {
    /// Whether a declared action (its provider, name and configuration) is the required one.
    pub fn matches(
        &self,
        provider: &str,
        name: &str,
        configuration: &BTreeMap<String, String>,
    ) -> bool {
        provider.eq_ignore_ascii_case(&self.provider)
            && self
                .name
                .as_deref()
                .is_none_or(|p| WildMatch::new(p).matches(name))
            && self.configuration.iter().all(|(key, pattern)| {
                configuration
                    .get(key)
                    .is_some_and(|v| WildMatch::new(pattern).matches(v))
            })
    }

    /// "provider CodeBuild, name GateCheck*, ProjectName = *-gateaudit-gate".
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("provider {}", self.provider)];
        if let Some(name) = &self.name {
            parts.push(format!("name {name}"));
        }
        parts.extend(self.configuration.iter().map(|(k, v)| format!("{k} = {v}")));
        parts.join(", ")
    }
}

/// One approver entitlement: the approval actions it covers and who may approve them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproverEntitlement {
    /// `pipeline/stage/action` patterns (`*`, `?`).
    pub actions: Vec<String>,
    /// Principal ARN patterns: an IAM user, or the role of an assumed-role session (its ARN as IAM lists it).
    #[serde(default)]
    pub principals: Vec<String>,
    /// Group names: IAM groups of an IAM user, or IAM Identity Center groups of an Identity Center user.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Person keys (as the ledger's `person` column shows them), patterns allowed.
    #[serde(default)]
    pub people: Vec<String>,
}

fn default_production() -> Vec<String> {
    vec!["prod".to_owned()]
}

impl ApprovalRules {
    pub fn is_production(&self, environment: &str) -> bool {
        self.production_environments
            .iter()
            .any(|p| p.eq_ignore_ascii_case(environment))
    }
}

impl Default for ApprovalRules {
    fn default() -> Self {
        ApprovalRules {
            two_person_stages: Vec::new(),
            trivial_summaries: default_trivial_summaries(),
            record_time_tolerance_seconds: default_record_tolerance(),
            require_two_person_for_prod: false,
            production_environments: default_production(),
            approvers: Vec::new(),
            required_action: None,
        }
    }
}

fn default_trivial_summaries() -> Vec<String> {
    [
        "", "ok", "okay", "approve", "approved", "yes", "y", "lgtm", "go", ".", "-", "done",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

fn default_record_tolerance() -> i64 {
    300
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteAccessRules {
    /// Mutating actions tolerated for humans (patterns, case-insensitive).
    #[serde(default)]
    pub operational_allowlist: Vec<String>,
    /// Role ARN patterns that deploy (besides pipeline service roles, action roles and the configuration's list).
    #[serde(default)]
    pub deployment_roles: Vec<String>,
    /// Break-glass identities (ARN patterns), allowed to hold write access and reported as information.
    #[serde(default)]
    pub break_glass: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrossAccountRules {
    /// The cross-account role's trust must also be limited by a condition (`aws:PrincipalArn`,
    /// `aws:PrincipalServiceName`...) to the CI/CD account's CodeBuild/CodePipeline roles.
    #[serde(default)]
    pub require_service_condition: bool,
}

impl RuleSet {
    pub fn load(path: &Path) -> Result<RuleSet, RulesError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| RulesError::Read {
            path: shown.clone(),
            source,
        })?;
        RuleSet::parse(&text, &shown)
    }

    pub fn parse(text: &str, shown: &str) -> Result<RuleSet, RulesError> {
        toml::from_str(text).map_err(|e| RulesError::Parse {
            path: shown.to_owned(),
            message: e.to_string(),
        })
    }

    /// The built-in defaults, identical to `policies/default.toml`.
    pub fn builtin_default() -> RuleSet {
        // The shipped file is the single source of truth; a unit test guarantees it parses.
        RuleSet::parse(
            include_str!("../policies/default.toml"),
            "policies/default.toml",
        )
        .unwrap_or_else(|e| panic!("the built-in rule set must parse: {e}"))
    }
}

/// Case-sensitive `*`/`?` match, as IAM matches ARNs in rule sets.
pub fn matches_any(patterns: &[String], value: &str) -> bool {
    patterns.iter().any(|p| WildMatch::new(p).matches(value))
}

/// Case-insensitive match, for action names.
pub fn action_matches_any(patterns: &[String], action: &str) -> bool {
    let lower = action.to_ascii_lowercase();
    patterns
        .iter()
        .any(|p| WildMatch::new(&p.to_ascii_lowercase()).matches(&lower))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_default_parses_and_tolerates_approvals() {
        let r = RuleSet::builtin_default();
        assert_eq!(r.name, "default");
        assert!(action_matches_any(
            &r.write_access.operational_allowlist,
            "codepipeline:PutApprovalResult"
        ));
        assert!(action_matches_any(
            &r.write_access.operational_allowlist,
            "EC2:StopInstances"
        ));
        assert!(!action_matches_any(
            &r.write_access.operational_allowlist,
            "ec2:TerminateInstances"
        ));
        assert!(matches_any(
            &r.write_access.deployment_roles,
            "arn:aws:iam::444444444444:role/CICDCrossAccountRole"
        ));
        assert!(r.approvals.trivial_summaries.iter().any(|s| s == "ok"));
    }

    #[test]
    fn required_action_parses_and_matches_provider_name_and_configuration() {
        assert!(RuleSet::builtin_default()
            .approvals
            .required_action
            .is_none());
        let r = RuleSet::parse(
            "name = \"x\"\n[approvals.required_action]\nprovider = \"CodeBuild\"\nname = \"GateCheck*\"\n\
             configuration = { ProjectName = \"*-gateaudit-gate\" }\n",
            "r.toml",
        )
        .expect("parses");
        let req = r.approvals.required_action.expect("present");
        let config: BTreeMap<String, String> =
            [("ProjectName".to_owned(), "webapp-gateaudit-gate".to_owned())].into();
        assert!(req.matches("codebuild", "GateCheckProd", &config));
        assert!(!req.matches("Lambda", "GateCheckProd", &config));
        assert!(!req.matches("CodeBuild", "Deploy", &config));
        assert!(!req.matches("CodeBuild", "GateCheck", &BTreeMap::new()));
        assert_eq!(
            req.describe(),
            "provider CodeBuild, name GateCheck*, ProjectName = *-gateaudit-gate"
        );
        let err = RuleSet::parse(
            "name = \"x\"\n[approvals.required_action]\nname = \"G\"\n",
            "r.toml",
        )
        .expect_err("provider is required")
        .to_string();
        assert!(err.contains("provider"), "{err}");
    }

    #[test]
    fn unknown_field_is_named() {
        let err = RuleSet::parse("name = \"x\"\n[approvals]\ntwo_person = []\n", "r.toml")
            .expect_err("bad")
            .to_string();
        assert!(err.contains("two_person"), "{err}");
    }
}
