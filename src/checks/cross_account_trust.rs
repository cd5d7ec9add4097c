//! cross-account-trust: the cross-account role of every environment account (the role each account was read
//! through, `AccountSnapshot.role_arn`, and any role of the same name in any account) may be assumed only by the
//! CI/CD account (`Snapshot.cicd_account`). A trust statement admitting `*`, another account, a federated identity
//! provider, or everyone (no `Principal`, or `NotPrincipal`) is a finding; with the rule set's
//! `cross_account.require_service_condition`, trust in the CI/CD account must also be narrowed to its
//! CodeBuild/CodePipeline roles. `Action: "*"` on `Resource: "*"` in the role's permissions is reported (medium):
//! it is the cross-account article's setup, but an auditor wants it scoped. Trust policies that cannot be parsed
//! (`AccessModel::trust_problems`) are reported here.
//!
//! Reads the snapshot and the access model only; must not do I/O. The trust-matching helpers are shared with
//! `approver-reach`.

use std::collections::BTreeSet;

use super::{Check, CheckContext, InputKind, NIST_AC5, NIST_CM5, SOC2_ACCESS, SOC2_CHANGE};
use crate::analysis::trust::statement_ref;
use crate::iam::matching::action_matches;
use crate::iam::policy::{ActionSpec, Effect, PrincipalSpec, Principals, ResourceSpec};
use crate::iam::{Policy, Statement};
use crate::model::{AccountSnapshot, Evidence, Finding, IamRole, Severity};

pub struct CrossAccountTrust;

/// The STS actions that let a principal enter a role.
const ENTRY_ACTIONS: [&str; 3] = [
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
];

/// Condition keys that narrow who may enter, besides the `Principal` element.
const NARROWING_KEYS: [&str; 5] = [
    "aws:PrincipalAccount",
    "aws:PrincipalOrgID",
    "aws:PrincipalArn",
    "aws:SourceAccount",
    "aws:PrincipalOrgPaths",
];

impl Check for CrossAccountTrust {
    fn id(&self) -> &'static str {
        "cross-account-trust"
    }
    fn title(&self) -> &'static str {
        "Cross-account deployment roles trust only the CI/CD account"
    }
    fn description(&self) -> &'static str {
        "The trust policy of the cross-account role in every account must admit only the CI/CD account (with the \
         rule set's require_service_condition, only its CodeBuild/CodePipeline roles). Trust in *, in another \
         account, in a federated identity provider, or without a principal restriction lets someone deploy \
         outside the pipeline. Full administrator permissions (Action * on Resource *) on the role are reported \
         for scoping; unparseable trust policies are reported because nobody can prove who may assume the role."
    }
    fn severity(&self) -> Severity {
        Severity::High
    }
    fn references(&self) -> &'static [&'static str] {
        &[SOC2_CHANGE, SOC2_ACCESS, NIST_AC5, NIST_CM5]
    }

    fn inputs(&self) -> &'static [InputKind] {
        &[InputKind::Iam]
    }

    fn run(&self, ctx: &CheckContext) -> Vec<Finding> {
        let names = cross_account_role_names(ctx);
        let cicd = ctx.snapshot.cicd_account.as_str();
        let mut findings = Vec::new();
        for problem in &ctx.access.trust_problems {
            let role_name = problem
                .source
                .strip_prefix("role/")
                .and_then(|s| s.strip_suffix(" trust policy"));
            let is_cross_account = role_name.is_some_and(|n| names.contains(n));
            findings.push(Finding {
                check_id: self.id().to_owned(),
                severity: if is_cross_account { Severity::High } else { Severity::Medium },
                account_id: problem.account_id.clone(),
                subject: problem.source.clone(),
                principal: None,
                message: format!("trust policy cannot be parsed, so who may assume the role cannot be proven: {}", problem.error),
                evidence: vec![Evidence::new("trust-policy", &problem.source, "")],
                waiver: None,
            });
        }
        for account in &ctx.snapshot.accounts {
            for role in cross_account_roles(account, &names) {
                let Some(principal) = ctx.access.principal(&role.arn) else {
                    continue;
                };
                if let Some(trust) = &principal.trust_policy {
                    findings.extend(self.trust_findings(ctx, account, role, trust, cicd));
                }
                for applied in &principal.identity {
                    for statement in applied
                        .policy
                        .statements
                        .iter()
                        .filter(|s| is_full_admin(s))
                    {
                        findings.push(Finding {
                            check_id: self.id().to_owned(),
                            severity: Severity::Medium,
                            account_id: account.account_id.clone(),
                            subject: role.arn.clone(),
                            principal: Some(role.arn.clone()),
                            message: format!(
                                "cross-account role {} allows Action \"*\" on Resource \"*\": scope it to what the pipeline deploys",
                                role.name
                            ),
                            evidence: vec![Evidence::new(
                                "policy-statement",
                                statement_ref(&applied.source, statement),
                                "Allow * on *",
                            )],
                            waiver: None,
                        });
                    }
                }
            }
        }
        findings
    }
}

impl CrossAccountTrust {
    fn trust_findings(
        &self,
        ctx: &CheckContext,
        account: &AccountSnapshot,
        role: &IamRole,
        trust: &Policy,
        cicd: &str,
    ) -> Vec<Finding> {
        let mut findings = Vec::new();
        let finding =
            |severity: Severity, principal: &str, message: String, statement: &Statement| Finding {
                check_id: self.id().to_owned(),
                severity,
                account_id: account.account_id.clone(),
                subject: role.arn.clone(),
                principal: Some(principal.to_owned()),
                message,
                evidence: vec![Evidence::new(
                    "trust-statement",
                    statement_ref(&format!("role/{} trust policy", role.name), statement),
                    conditions_text(statement),
                )],
                waiver: None,
            };
        for statement in trust
            .statements
            .iter()
            .filter(|s| s.effect == Effect::Allow && grants_entry(s))
        {
            let narrowed = statement
                .conditions
                .iter()
                .any(|c| NARROWING_KEYS.iter().any(|k| c.key.eq_ignore_ascii_case(k)));
            let who = match &statement.principal {
                None => {
                    findings.push(finding(
                        Severity::Critical,
                        "*",
                        format!(
                            "trust statement of {} has no Principal: it restricts nobody",
                            role.name
                        ),
                        statement,
                    ));
                    continue;
                }
                Some(PrincipalSpec::NotPrincipal(except)) => {
                    findings.push(finding(
                        Severity::Critical,
                        "*",
                        format!(
                            "trust statement of {} uses NotPrincipal: everyone except {} may assume it",
                            role.name,
                            listed(except).join(", ")
                        ),
                        statement,
                    ));
                    continue;
                }
                Some(PrincipalSpec::Principal(who)) => who,
            };
            if who.any || who.aws.iter().any(|a| a == "*") {
                let (severity, how) = if narrowed {
                    (Severity::High, "any principal, limited only by conditions")
                } else {
                    (Severity::Critical, "any principal of any account")
                };
                findings.push(finding(
                    severity,
                    "*",
                    format!("{} trusts {how}", role.name),
                    statement,
                ));
            }
            let mut cicd_entries = Vec::new();
            for entry in who.aws.iter().filter(|a| *a != "*") {
                match principal_account(entry) {
                    Some(acct) if acct == cicd => cicd_entries.push(entry.as_str()),
                    other => findings.push(finding(
                        Severity::High,
                        entry,
                        format!(
                            "{} trusts {entry} ({}), not only the CI/CD account {cicd}",
                            role.name,
                            other
                                .map(|a| format!("account {a}"))
                                .unwrap_or_else(|| "unknown account".to_owned())
                        ),
                        statement,
                    )),
                }
            }
            for provider in &who.federated {
                findings.push(finding(
                    Severity::High,
                    provider,
                    format!("{} trusts the federated identity provider {provider}, not only the CI/CD account", role.name),
                    statement,
                ));
            }
            for service in &who.service {
                findings.push(finding(
                    Severity::Low,
                    service,
                    format!(
                        "{} is also trusted by the service {service} in this account",
                        role.name
                    ),
                    statement,
                ));
            }
            if ctx.rules.cross_account.require_service_condition
                && !cicd_entries.is_empty()
                && !limited_to_pipeline_roles(statement, &cicd_entries, cicd)
            {
                findings.push(finding(
                    Severity::Medium,
                    cicd_entries[0],
                    format!(
                        "{} trusts the CI/CD account without a condition (aws:PrincipalArn, aws:PrincipalServiceName) \
                         limiting it to CodeBuild/CodePipeline roles, as the rule set requires",
                        role.name
                    ),
                    statement,
                ));
            }
        }
        findings
    }
}

/// The names of the cross-account roles: those the accounts were read through.
fn cross_account_role_names(ctx: &CheckContext) -> BTreeSet<String> {
    ctx.snapshot
        .accounts
        .iter()
        .filter_map(|a| a.role_arn.as_deref())
        .filter_map(|arn| arn.rsplit('/').next().filter(|_| arn.contains(":role/")))
        .map(str::to_owned)
        .collect()
}

/// The account's roles that are cross-account roles: the one it was read through and any of the same name.
fn cross_account_roles<'a>(
    account: &'a AccountSnapshot,
    names: &'a BTreeSet<String>,
) -> impl Iterator<Item = &'a IamRole> {
    let read_through = account.role_arn.as_deref();
    account
        .iam
        .iter()
        .flat_map(|iam| iam.roles.iter())
        .filter(move |r| names.contains(&r.name) || read_through == Some(r.arn.as_str()))
}

fn grants_entry(statement: &Statement) -> bool {
    match &statement.action {
        ActionSpec::Action(patterns) => ENTRY_ACTIONS
            .iter()
            .any(|a| patterns.iter().any(|p| action_matches(p, a))),
        ActionSpec::NotAction(patterns) => ENTRY_ACTIONS
            .iter()
            .any(|a| !patterns.iter().any(|p| action_matches(p, a))),
    }
}

/// `Allow` of `Action: "*"` (or `*:*`) on `Resource: "*"`.
fn is_full_admin(statement: &Statement) -> bool {
    let all_actions = matches!(&statement.action, ActionSpec::Action(p) if p.iter().any(|a| a == "*" || a == "*:*"));
    let all_resources = match &statement.resource {
        ResourceSpec::Resource(r) => r.iter().any(|r| r == "*"),
        ResourceSpec::Any => true,
        ResourceSpec::NotResource(_) => false,
    };
    statement.effect == Effect::Allow
        && all_actions
        && all_resources
        && statement.conditions.is_empty()
}

/// The account of a trust principal: `arn:aws:iam::<acct>:...` or a bare account id.
pub(super) fn principal_account(entry: &str) -> Option<&str> {
    let account = if entry.starts_with("arn:") {
        entry.split(':').nth(4)?
    } else {
        entry
    };
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

/// With `require_service_condition`: the statement names only CI/CD roles as principals, or a condition limits the
/// caller to CI/CD roles (`aws:PrincipalArn`) or to CodeBuild/CodePipeline (`aws:PrincipalServiceName`,
/// `aws:CalledVia`).
fn limited_to_pipeline_roles(statement: &Statement, cicd_entries: &[&str], cicd: &str) -> bool {
    // A role of the CI/CD account in whatever partition the ARN names.
    let is_cicd_role = |arn: &str| {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        parts.len() == 6
            && parts[0] == "arn"
            && parts[2] == "iam"
            && parts[4] == cicd
            && parts[5].starts_with("role/")
    };
    if cicd_entries.iter().all(|e| is_cicd_role(e)) {
        return true;
    }
    statement.conditions.iter().any(|c| {
        let key = c.key.to_ascii_lowercase();
        !c.operator.base.is_negated()
            && !c.values.is_empty()
            && match key.as_str() {
                "aws:principalarn" => c.values.iter().all(|v| is_cicd_role(v)),
                "aws:principalservicename"
                | "aws:calledvia"
                | "aws:calledviafirst"
                | "aws:calledvialast" => c
                    .values
                    .iter()
                    .all(|v| v.starts_with("codebuild.") || v.starts_with("codepipeline.")),
                _ => false,
            }
    })
}

fn listed(p: &Principals) -> Vec<String> {
    let mut out: Vec<String> = p
        .aws
        .iter()
        .chain(&p.service)
        .chain(&p.federated)
        .cloned()
        .collect();
    if p.any {
        out.push("*".to_owned());
    }
    out
}

fn conditions_text(statement: &Statement) -> String {
    if statement.conditions.is_empty() {
        return "no condition".to_owned();
    }
    let parts: Vec<String> = statement
        .conditions
        .iter()
        .map(|c| format!("{} {} {}", c.operator_text, c.key, c.values.join("|")))
        .collect();
    format!("condition: {}", parts.join(" AND "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{policy, Org, ACCOUNT};
    use crate::model::{AccountSnapshot, IamSnapshot};

    const DEV: &str = "222222222222";
    const ROLE: &str = "CICDCrossAccountRole";

    fn trust(principal: serde_json::Value) -> serde_json::Value {
        policy(
            serde_json::json!([{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]),
        )
    }

    fn scoped() -> serde_json::Value {
        policy(
            serde_json::json!([{"Effect": "Allow", "Action": ["cloudformation:*", "s3:*"], "Resource": "*"}]),
        )
    }

    /// The testkit CI/CD account plus a dev account read through `CICDCrossAccountRole` with the given trust policy
    /// and permissions.
    fn org_with_dev_role(trust_policy: serde_json::Value, permissions: serde_json::Value) -> Org {
        let mut org = Org::two_person_pipeline();
        let role = IamRole {
            name: ROLE.into(),
            arn: format!("arn:aws:iam::{DEV}:role/{ROLE}"),
            id: "AROADEV".into(),
            path: "/".into(),
            trust_policy,
            inline_policies: vec![crate::model::InlinePolicy {
                name: "access".into(),
                document: permissions,
            }],
            ..IamRole::default()
        };
        org.snapshot.accounts.push(AccountSnapshot {
            account_id: DEV.into(),
            name: "dev".into(),
            environment: "dev".into(),
            role_arn: Some(format!("arn:aws:iam::{DEV}:role/{ROLE}")),
            iam: Some(IamSnapshot {
                roles: vec![role],
                ..IamSnapshot::default()
            }),
            ..AccountSnapshot::default()
        });
        org
    }

    fn cicd_root() -> serde_json::Value {
        serde_json::json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")})
    }

    #[test]
    fn trust_in_the_cicd_account_only_with_scoped_permissions_passes() {
        let org = org_with_dev_role(trust(cicd_root()), scoped());
        let findings = org.run(&CrossAccountTrust);
        assert!(findings.is_empty(), "{findings:#?}");
    }

    #[test]
    fn principal_star_is_critical() {
        let org = org_with_dev_role(trust(serde_json::json!("*")), scoped());
        let findings = org.run(&CrossAccountTrust);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].severity, Severity::Critical);
        assert_eq!(findings[0].principal.as_deref(), Some("*"));
        assert_eq!(
            findings[0].subject,
            format!("arn:aws:iam::{DEV}:role/{ROLE}")
        );
        assert!(findings[0].evidence[0]
            .reference
            .contains("trust policy#Statement[0]"));
    }

    #[test]
    fn principal_star_narrowed_by_a_condition_is_high() {
        let doc = policy(
            serde_json::json!([{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}}]),
        );
        let findings = org_with_dev_role(doc, scoped()).run(&CrossAccountTrust);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].severity, Severity::High);
    }

    #[test]
    fn another_account_is_named() {
        let org = org_with_dev_role(
            trust(
                serde_json::json!({"AWS": [format!("arn:aws:iam::{ACCOUNT}:root"), "999999999999"]}),
            ),
            scoped(),
        );
        let findings = org.run(&CrossAccountTrust);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(
            findings[0].principal.as_deref(),
            Some("arn:aws:iam::999999999999:root")
        );
        assert_eq!(findings[0].severity, Severity::High);
    }

    #[test]
    fn full_admin_permissions_are_medium() {
        let admin =
            policy(serde_json::json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]));
        let findings = org_with_dev_role(trust(cicd_root()), admin).run(&CrossAccountTrust);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].severity, Severity::Medium);
        assert!(
            findings[0].evidence[0]
                .reference
                .starts_with("role/CICDCrossAccountRole inline"),
            "{:?}",
            findings[0].evidence
        );
    }

    #[test]
    fn service_condition_is_required_only_when_the_rule_set_asks() {
        let mut org = org_with_dev_role(trust(cicd_root()), scoped());
        org.rules.cross_account.require_service_condition = true;
        let findings = org.run(&CrossAccountTrust);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].severity, Severity::Medium);
        let limited = policy(
            serde_json::json!([{"Effect": "Allow", "Principal": cicd_root(), "Action": "sts:AssumeRole",
            "Condition": {"ArnLike": {"aws:PrincipalArn": format!("arn:aws:iam::{ACCOUNT}:role/CodeBuild*")}}}]),
        );
        let mut org = org_with_dev_role(limited, scoped());
        org.rules.cross_account.require_service_condition = true;
        assert!(org.run(&CrossAccountTrust).is_empty());
    }

    #[test]
    fn the_articles_principal_service_name_condition_satisfies_the_rule() {
        let article = policy(
            serde_json::json!([{"Effect": "Allow", "Principal": cicd_root(), "Action": ["sts:AssumeRole"],
            "Condition": {"StringEquals": {"aws:PrincipalServiceName": "codebuild.amazonaws.com"}}}]),
        );
        let mut org = org_with_dev_role(article, scoped());
        org.rules.cross_account.require_service_condition = true;
        let findings = org.run(&CrossAccountTrust);
        assert!(findings.is_empty(), "{findings:#?}");
    }

    #[test]
    fn an_unparseable_trust_policy_is_reported() {
        let bad = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Perhaps", "Principal": "*", "Action": "sts:AssumeRole"}]});
        let findings = org_with_dev_role(bad, scoped()).run(&CrossAccountTrust);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].severity, Severity::High);
        assert!(findings[0].message.contains("cannot be parsed"));
    }
}
