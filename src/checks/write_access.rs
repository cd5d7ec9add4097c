//! write-access: humans are read-only. Every user and role that can perform a Write, Permissions-management or
//! Tagging action outside the rule set's operational allowlist is reported, unless it is a deployment role
//! (pipeline service and action roles, roles declared in the configuration or rule set, service-linked roles) or a
//! declared break-glass identity. Console users and long-lived access keys with write access are high severity.
//! An IAM Identity Center permission-set role names the permission set and who is assigned to it (groups with
//! their size, users); every role lists, as evidence, the people who can act as it (`analysis::reach`).

use std::collections::BTreeSet;

use super::{
    unevaluable_policies, Check, CheckContext, InputKind, NIST_CM5, PCI_CHANGE, SOC2_ACCESS,
    SOC2_ACCESS_REMOVAL, SOC2_CHANGE,
};
use crate::analysis::access::{Principal, PrincipalType};
use crate::analysis::identity::{is_sso_role, permission_set_of_role};
use crate::analysis::reach::ActorKind;
use crate::iam::Answer;
use crate::model::{Evidence, Finding, Severity};
use crate::rules::matches_any;

pub struct WriteAccess;

/// How many example actions a finding lists (the CSV of all grants is a report of its own).
const EXAMPLES: usize = 8;

impl Check for WriteAccess {
    fn id(&self) -> &'static str {
        "write-access"
    }
    fn title(&self) -> &'static str {
        "Only deployment roles can change infrastructure"
    }
    fn description(&self) -> &'static str {
        "Every IAM user (with its groups) and role is evaluated over the whole IAM action catalog (wildcards and \
         NotAction expanded). Holding any Write, Permissions-management or Tagging action outside the operational \
         allowlist is a finding, unless the principal is a deployment role or a declared break-glass identity."
    }
    fn severity(&self) -> Severity {
        Severity::High
    }
    fn references(&self) -> &'static [&'static str] {
        &[
            SOC2_CHANGE,
            SOC2_ACCESS,
            SOC2_ACCESS_REMOVAL,
            NIST_CM5,
            PCI_CHANGE,
        ]
    }
    fn inputs(&self) -> &'static [InputKind] {
        &[
            InputKind::Iam,
            InputKind::Pipelines,
            InputKind::OrganizationPolicies,
            InputKind::IdentityCenter,
        ]
    }

    fn run(&self, ctx: &CheckContext) -> Vec<Finding> {
        let mut findings = unevaluable_policies(self.id(), ctx, "read-only access");
        for principal in &ctx.access.principals {
            if ctx.access.is_deployment_role(principal) {
                continue;
            }
            let grants = ctx.access.mutating_grants(principal);
            if grants.is_empty() {
                continue;
            }
            let break_glass = matches_any(&ctx.rules.write_access.break_glass, &principal.arn);
            let certain = grants.iter().any(|g| g.answer == Answer::Yes);
            let severity = if break_glass {
                Severity::Info
            } else {
                severity_for(principal, certain)
            };
            let mut statements: BTreeSet<&String> = BTreeSet::new();
            for g in &grants {
                statements.extend(g.statements.iter());
            }
            let examples: Vec<String> = grants
                .iter()
                .take(EXAMPLES)
                .map(|g| format!("{} ({})", g.action, g.level))
                .collect();
            let mut evidence: Vec<Evidence> = statements
                .iter()
                .map(|s| Evidence::new("policy-statement", *s, "grants mutating actions"))
                .collect();
            let unknowns: BTreeSet<&String> =
                grants.iter().flat_map(|g| g.unknowns.iter()).collect();
            evidence.extend(
                unknowns
                    .iter()
                    .map(|u| Evidence::new("condition", *u, "decided at request time")),
            );
            let mut reached_by = 0;
            for (actor, route) in ctx.reach.actors_reaching(&principal.arn) {
                if actor.kind == ActorKind::Role && actor.person.key == principal.arn
                    || actor.kind == ActorKind::IamUser && route.steps.is_empty()
                {
                    continue;
                }
                reached_by += 1;
                evidence.push(Evidence::new(
                    "reached-by",
                    actor.person.key.clone(),
                    format!(
                        "{} {}: {}",
                        actor.kind.as_str(),
                        actor.person.name,
                        route.describe()
                    ),
                ));
            }
            let (who, severity) = match identity_center_assignees(ctx, principal) {
                Some((text, assigned)) if assigned == 0 && !break_glass => (text, Severity::Low),
                Some((text, _)) => (text, severity),
                None if reached_by > 0 => (
                    format!(
                        "{} (which {reached_by} person(s) can act as)",
                        describe(principal)
                    ),
                    severity,
                ),
                None => (describe(principal), severity),
            };
            findings.push(Finding {
                check_id: self.id().to_owned(),
                severity,
                account_id: principal.account_id.clone(),
                subject: principal.arn.clone(),
                principal: Some(principal.arn.clone()),
                message: format!(
                    "{}{} can perform {} mutating action(s) outside the allowlist{}, e.g. {}",
                    if break_glass { "break-glass " } else { "" },
                    who,
                    grants.len(),
                    if certain {
                        ""
                    } else {
                        " (possibly, depending on request conditions)"
                    },
                    examples.join(", ")
                ),
                evidence,
                waiver: None,
            });
        }
        findings
    }
}

/// For an Identity Center permission-set role: the permission set and who is assigned it in the account (groups
/// with their size, users), and how many people that is. None for other principals, or without Identity Center.
fn identity_center_assignees(ctx: &CheckContext, p: &Principal) -> Option<(String, usize)> {
    if p.kind != PrincipalType::Role || !is_sso_role(&p.arn, &p.name) {
        return None;
    }
    let set_name = permission_set_of_role(&p.name)?;
    let ic = ctx.people.identity_center()?;
    let set = ic.permission_set_named(set_name)?;
    let mut parts = Vec::new();
    let mut people: BTreeSet<&str> = BTreeSet::new();
    for a in ic
        .assignments
        .iter()
        .filter(|a| a.account_id == p.account_id && a.permission_set_arn == set.arn)
    {
        if a.principal_type == "GROUP" {
            let members: Vec<&str> = ic.members(&a.principal_id).collect();
            let name = ic
                .group(&a.principal_id)
                .map(|g| g.display_name.as_str())
                .unwrap_or(a.principal_id.as_str());
            parts.push(format!("group {name} ({} members)", members.len()));
            people.extend(members);
        } else {
            let name = ic
                .user(&a.principal_id)
                .map(|u| u.user_name.as_str())
                .unwrap_or(a.principal_id.as_str());
            parts.push(format!("user {name}"));
            people.insert(a.principal_id.as_str());
        }
    }
    let assigned = if parts.is_empty() {
        "assigned to nobody in this account".to_owned()
    } else {
        format!("assigned to {} ({} people)", parts.join(", "), people.len())
    };
    Some((
        format!(
            "Identity Center permission set {} (role {}) {assigned},",
            set.name, p.name
        ),
        people.len(),
    ))
}

fn describe(p: &Principal) -> String {
    match p.kind {
        PrincipalType::User => {
            let mut creds = Vec::new();
            if p.has_login_profile {
                creds.push("console password");
            }
            if p.has_access_keys {
                creds.push("active access key");
            }
            if creds.is_empty() {
                "user (no console password or access key)".to_owned()
            } else {
                format!("user with {}", creds.join(" and "))
            }
        }
        PrincipalType::Role if trusted_by_services_only(p) => "service role".to_owned(),
        PrincipalType::Role if is_sso_role(&p.arn, &p.name) => {
            "Identity Center role (assignments not collected)".to_owned()
        }
        PrincipalType::Role => "role assumable by people".to_owned(),
    }
}

fn trusted_by_services_only(p: &Principal) -> bool {
    p.trust_policy.as_ref().is_some_and(|t| {
        !t.statements.is_empty()
            && t.statements.iter().all(|s| match &s.principal {
                Some(crate::iam::policy::PrincipalSpec::Principal(who)) => {
                    !who.any
                        && who.aws.is_empty()
                        && who.federated.is_empty()
                        && !who.service.is_empty()
                }
                _ => false,
            })
    })
}

fn severity_for(p: &Principal, certain: bool) -> Severity {
    let base = match p.kind {
        PrincipalType::User if p.has_login_profile || p.has_access_keys => Severity::High,
        PrincipalType::User => Severity::Medium,
        PrincipalType::Role if trusted_by_services_only(p) => Severity::Low,
        PrincipalType::Role => Severity::High,
    };
    if certain || base <= Severity::Medium {
        base
    } else {
        Severity::Medium
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{policy, trust_account, Org};

    #[test]
    fn read_only_and_operational_users_pass() {
        let mut org = Org::two_person_pipeline();
        org.add_group("Engineers", policy(serde_json::json!([{"Effect": "Allow", "Action": ["ec2:Describe*", "s3:Get*", "s3:List*"], "Resource": "*"}])));
        org.add_group("Operators", policy(serde_json::json!([{"Effect": "Allow", "Action": ["ec2:StartInstances", "ec2:StopInstances", "cloudfront:CreateInvalidation"], "Resource": "*"}])));
        org.add_user("erin", &["Engineers"], None).has_login_profile = true;
        org.add_user("oscar", &["Operators"], None)
            .has_login_profile = true;
        assert!(org.run(&WriteAccess).is_empty());
    }

    #[test]
    fn not_action_policy_on_a_console_user_is_high_with_examples_and_statement() {
        let mut org = Org::two_person_pipeline();
        let arn = org.add_policy("PowerUserPolicy", policy(serde_json::json!([{"Sid": "Power", "Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}])));
        let mallory = org.add_user("mallory", &[], None);
        mallory.has_login_profile = true;
        mallory.attached_policies.push(arn.clone());
        let findings = org.run(&WriteAccess);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        let f = &findings[0];
        assert_eq!(f.severity, Severity::High);
        assert!(f.message.contains("console password"));
        assert!(
            f.evidence
                .iter()
                .any(|e| e.reference == format!("{arn}#Statement[0] (Power)")),
            "{:?}",
            f.evidence
        );
        assert!(
            !f.message.contains("iam:"),
            "NotAction iam:* must not grant iam actions: {}",
            f.message
        );
    }

    #[test]
    fn deployment_roles_and_break_glass_are_exempt_or_informational() {
        let mut org = Org::two_person_pipeline();
        let admin =
            policy(serde_json::json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]));
        org.add_role("CodePipelineServiceRole", trust_account(), admin.clone());
        org.add_role("CICDCrossAccountRole", trust_account(), admin.clone());
        org.add_role("BreakGlass", serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sts:AssumeRole"}]}), admin);
        org.rules.write_access.break_glass = vec!["arn:aws:iam::*:role/BreakGlass".into()];
        let findings = org.run(&WriteAccess);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].severity, Severity::Info);
        assert!(findings[0].message.starts_with("break-glass"));
    }

    #[test]
    fn a_permissions_boundary_can_remove_write_access() {
        let mut org = Org::two_person_pipeline();
        let boundary = org.add_policy("ReadOnlyBoundary", policy(serde_json::json!([{"Effect": "Allow", "Action": ["s3:Get*", "ec2:Describe*"], "Resource": "*"}])));
        let user = org.add_user(
            "bounded",
            &[],
            Some(policy(
                serde_json::json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]),
            )),
        );
        user.permissions_boundary = Some(boundary);
        user.has_login_profile = true;
        assert!(org.run(&WriteAccess).is_empty());
    }

    #[test]
    fn a_policy_variable_scoping_writes_to_the_users_own_resources_is_still_write_access() {
        let mut org = Org::two_person_pipeline();
        org.add_group(
            "SelfService",
            policy(
                serde_json::json!([{"Effect": "Allow", "Action": "iam:CreateAccessKey",
            "Resource": "arn:aws:iam::111111111111:user/${aws:username}"}]),
            ),
        );
        org.add_user("alice", &["SelfService"], None)
            .has_login_profile = true;
        org.add_user("bob", &["SelfService"], None)
            .has_login_profile = true;
        let findings = org.run(&WriteAccess);
        assert_eq!(findings.len(), 2, "{findings:#?}");
        assert!(findings.iter().all(|f| f
            .message
            .contains("iam:CreateAccessKey (Permissions management)")));
    }

    #[test]
    fn a_role_trusted_only_by_a_service_is_low() {
        let mut org = Org::two_person_pipeline();
        org.add_role("LambdaWriter", serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
            policy(serde_json::json!([{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*"}])));
        let findings = org.run(&WriteAccess);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Low);
        assert!(findings[0].message.contains("service role"));
    }

    #[test]
    fn a_permission_set_with_write_access_names_its_groups_and_their_size() {
        let mut org = Org::two_person_pipeline();
        let admin = org.add_permission_set(
            "AdministratorAccess",
            policy(serde_json::json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}])),
        );
        let read = org.add_permission_set(
            "ReadOnly",
            policy(serde_json::json!([{"Effect": "Allow", "Action": ["s3:Get*", "ec2:Describe*"], "Resource": "*"}])),
        );
        let users: Vec<String> = (0..5)
            .map(|i| org.add_identity_center_user(&format!("eng{i}")))
            .collect();
        let refs: Vec<&str> = users.iter().map(String::as_str).collect();
        let engineers = org.add_identity_center_group("Engineers", &refs);
        org.assign(&admin, "GROUP", &engineers);
        org.assign(&read, "GROUP", &engineers);
        let findings = org.run(&WriteAccess);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        let f = &findings[0];
        assert_eq!(f.severity, Severity::High);
        assert!(
            f.subject.contains("AWSReservedSSO_AdministratorAccess_"),
            "{}",
            f.subject
        );
        assert!(
            f.message.contains("permission set AdministratorAccess")
                && f.message.contains("group Engineers (5 members)")
                && f.message.contains("(5 people)"),
            "{}",
            f.message
        );
        assert_eq!(
            f.evidence.iter().filter(|e| e.kind == "reached-by").count(),
            5
        );
    }

    #[test]
    fn an_unassigned_permission_set_is_low() {
        let mut org = Org::two_person_pipeline();
        org.add_permission_set(
            "AdministratorAccess",
            policy(serde_json::json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}])),
        );
        org.add_identity_center_user("nobody");
        let findings = org.run(&WriteAccess);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].severity, Severity::Low);
        assert!(findings[0].message.contains("assigned to nobody"));
    }
}
