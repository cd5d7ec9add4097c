//! approver-reach: approval gates that more people can pass than the pipeline's design suggests.
//!
//! (a) A gate anyone can approve: every IAM user of the account (with at least three users) may approve a manual
//! approval action, or a group holding more than half of the account's users may. Such a gate is a formality.
//! (b) One person, two roles: for a stage with two or more approval actions, a user or role that may assume a role
//! approving one action and another role approving a different action of the same stage can pass the two-person
//! gate alone. Assuming needs both sides, as AWS requires: the principal's identity policies allow `sts:AssumeRole`
//! on the role (`AccessModel::evaluate`) and the role's trust policy names the principal, its account or `*`.
//! (A single role approving two actions is `approver-separation`'s finding, not repeated here.)
//!
//! Reads the snapshot and the access model only; must not do I/O.

use std::collections::{BTreeMap, BTreeSet};

use super::cross_account_trust::{statement_ref, trust_admits, TrustAdmission};
use super::{Check, CheckContext, ISO_SEGREGATION, NIST_AC5, PCI_CHANGE, SOC2_ACCESS, SOC2_CHANGE};
use crate::analysis::access::{Grant, Principal, PrincipalType};
use crate::iam::{Answer, Evaluation};
use crate::model::{AccountSnapshot, Evidence, Finding, Pipeline, Severity, Stage};

pub struct ApproverReach;

const APPROVE: &str = "codepipeline:PutApprovalResult";
const ASSUME: &str = "sts:AssumeRole";
/// Below this many users, "everyone can approve" says nothing about a gate.
const MIN_USERS_FOR_BROAD: usize = 3;

/// How a principal may enter a role: its identity statements and the role's trust statements.
#[derive(Debug, Clone)]
struct Entry {
    certain: bool,
    identity_statements: Vec<String>,
    trust: TrustAdmission,
}

/// One way to pass two actions of a stage through two roles.
struct RolePair<'g> {
    first: (&'g str, &'g Grant<'g>, Entry),
    second: (&'g str, &'g Grant<'g>, Entry),
}

impl Check for ApproverReach {
    fn id(&self) -> &'static str {
        "approver-reach"
    }
    fn title(&self) -> &'static str {
        "Approval gates are reserved to few people, and no one reaches both gates through two roles"
    }
    fn description(&self) -> &'static str {
        "A manual approval that every IAM user of the account (at least three) may give, or that a group holding \
         more than half of the account's users may give, is a formality. For stages with two or more approval \
         actions, a user or role that may assume (identity policy and role trust policy both allowing \
         sts:AssumeRole) one role approving one action and another role approving a different action can pass \
         the two-person gate alone."
    }
    fn severity(&self) -> Severity {
        Severity::High
    }
    fn references(&self) -> &'static [&'static str] {
        &[
            SOC2_CHANGE,
            SOC2_ACCESS,
            ISO_SEGREGATION,
            NIST_AC5,
            PCI_CHANGE,
        ]
    }

    fn run(&self, ctx: &CheckContext) -> Vec<Finding> {
        let mut findings = Vec::new();
        for account in &ctx.snapshot.accounts {
            for pipeline in &account.pipelines {
                for stage in &pipeline.stages {
                    let grants: BTreeMap<&str, Vec<Grant>> = stage
                        .approval_actions()
                        .map(|a| {
                            (
                                a.name.as_str(),
                                ctx.access.who_can(
                                    &account.account_id,
                                    APPROVE,
                                    &pipeline.action_arn(&stage.name, &a.name),
                                ),
                            )
                        })
                        .collect();
                    for (action, action_grants) in &grants {
                        findings.extend(self.broad_findings(
                            account,
                            pipeline,
                            stage,
                            action,
                            action_grants,
                        ));
                    }
                    if grants.len() >= 2 {
                        findings
                            .extend(self.two_role_findings(ctx, account, pipeline, stage, &grants));
                    }
                }
            }
        }
        findings
    }
}

impl ApproverReach {
    /// (a): groups with more than half of the users, or all users, able to approve one action.
    fn broad_findings(
        &self,
        account: &AccountSnapshot,
        pipeline: &Pipeline,
        stage: &Stage,
        action: &str,
        grants: &[Grant],
    ) -> Vec<Finding> {
        let Some(iam) = &account.iam else {
            return Vec::new();
        };
        let users = iam.users.len();
        if users < MIN_USERS_FOR_BROAD {
            return Vec::new();
        }
        let subject = format!("{}/{}/{}", pipeline.name, stage.name, action);
        let user_grants: Vec<&Grant> = grants
            .iter()
            .filter(|g| g.principal.kind == PrincipalType::User)
            .collect();
        let mut findings = Vec::new();
        for group in &iam.groups {
            let members = iam
                .users
                .iter()
                .filter(|u| u.groups.contains(&group.name))
                .count();
            if members * 2 <= users {
                continue;
            }
            let through: Vec<&&Grant> = user_grants
                .iter()
                .filter(|g| g.via_groups.contains(&group.name))
                .collect();
            if through.is_empty() {
                continue;
            }
            // The group's own statements: its inline policies (`group/<name> inline ...`) and attached policies.
            let inline_prefix = format!("group/{} ", group.name);
            let is_group_statement = |s: &String| {
                s.starts_with(&inline_prefix)
                    || group
                        .attached_policies
                        .iter()
                        .any(|p| s.starts_with(&format!("{p}#")))
            };
            let statements: BTreeSet<&String> = through
                .iter()
                .flat_map(|g| g.statements.iter())
                .filter(|s| is_group_statement(s))
                .collect();
            let certain = through.iter().all(|g| g.answer == Answer::Yes);
            findings.push(Finding {
                check_id: self.id().to_owned(),
                severity: if certain { Severity::High } else { Severity::Medium },
                account_id: account.account_id.clone(),
                subject: subject.clone(),
                principal: Some(group.arn.clone()),
                message: format!(
                    "group {} holds {members} of the account's {users} users and {} approve {subject}: a broad group \
                     makes the gate a formality",
                    group.name,
                    if certain { "can" } else { "can possibly (depending on request conditions)" }
                ),
                evidence: statements.into_iter().map(|s| Evidence::new("policy-statement", s, format!("allows approving {action}"))).collect(),
                waiver: None,
            });
        }
        let everyone = user_grants.len() == users;
        if everyone && findings.is_empty() {
            let statements: BTreeSet<&String> = user_grants
                .iter()
                .flat_map(|g| g.statements.iter())
                .collect();
            findings.push(Finding {
                check_id: self.id().to_owned(),
                severity: Severity::High,
                account_id: account.account_id.clone(),
                subject: subject.clone(),
                principal: None,
                message: format!("every one of the account's {users} IAM users can approve {subject}: the gate is a formality"),
                evidence: statements.into_iter().map(|s| Evidence::new("policy-statement", s, format!("allows approving {action}"))).collect(),
                waiver: None,
            });
        }
        findings
    }

    /// (b): principals that can enter two different roles approving two different actions of the stage.
    fn two_role_findings(
        &self,
        ctx: &CheckContext,
        account: &AccountSnapshot,
        pipeline: &Pipeline,
        stage: &Stage,
        grants: &BTreeMap<&str, Vec<Grant>>,
    ) -> Vec<Finding> {
        let role_grants: BTreeMap<&str, Vec<&Grant>> = grants
            .iter()
            .map(|(action, gs)| {
                (
                    *action,
                    gs.iter()
                        .filter(|g| g.principal.kind == PrincipalType::Role)
                        .collect(),
                )
            })
            .collect();
        // (principal, role) -> how it may enter, computed once.
        let mut entries: BTreeMap<(String, String), Option<Entry>> = BTreeMap::new();
        let mut entry = |who: &Principal, role: &Principal| -> Option<Entry> {
            entries
                .entry((who.arn.clone(), role.arn.clone()))
                .or_insert_with(|| can_enter(ctx, who, role))
                .clone()
        };
        let mut per_principal: BTreeMap<&str, (&Principal, Vec<RolePair>)> = BTreeMap::new();
        let actions: Vec<&str> = role_grants.keys().copied().collect();
        for (i, first_action) in actions.iter().enumerate() {
            for second_action in &actions[i + 1..] {
                for first in &role_grants[first_action] {
                    for second in &role_grants[second_action] {
                        if first.principal.arn == second.principal.arn {
                            continue;
                        }
                        for who in &ctx.access.principals {
                            if who.arn == first.principal.arn || who.arn == second.principal.arn {
                                continue;
                            }
                            let Some(first_entry) = entry(who, first.principal) else {
                                continue;
                            };
                            let Some(second_entry) = entry(who, second.principal) else {
                                continue;
                            };
                            per_principal
                                .entry(who.arn.as_str())
                                .or_insert_with(|| (who, Vec::new()))
                                .1
                                .push(RolePair {
                                    first: (first_action, first, first_entry),
                                    second: (second_action, second, second_entry),
                                });
                        }
                    }
                }
            }
        }
        let subject = format!("{}/{}", pipeline.name, stage.name);
        per_principal
            .into_values()
            .map(|(who, pairs)| self.two_role_finding(account, &subject, who, &pairs))
            .collect()
    }

    fn two_role_finding(
        &self,
        account: &AccountSnapshot,
        subject: &str,
        who: &Principal,
        pairs: &[RolePair],
    ) -> Finding {
        let mut certain = true;
        let mut evidence: Vec<Evidence> = Vec::new();
        let mut described = Vec::new();
        for pair in pairs {
            for (action, grant, entry) in [&pair.first, &pair.second] {
                certain &= grant.answer == Answer::Yes && entry.certain;
                let role = &grant.principal.arn;
                for s in &entry.identity_statements {
                    evidence.push(Evidence::new(
                        "policy-statement",
                        s,
                        format!("allows sts:AssumeRole on {role}"),
                    ));
                }
                for s in &entry.trust.statements {
                    evidence.push(Evidence::new(
                        "trust-statement",
                        s,
                        format!("admits {}", who.arn),
                    ));
                }
                for s in &grant.statements {
                    evidence.push(Evidence::new(
                        "policy-statement",
                        s,
                        format!("allows approving {action}"),
                    ));
                }
            }
            described.push(format!(
                "{} (approves {}) and {} (approves {})",
                pair.first.1.principal.name,
                pair.first.0,
                pair.second.1.principal.name,
                pair.second.0
            ));
        }
        let mut seen = BTreeSet::new();
        evidence.retain(|e| seen.insert((e.kind.clone(), e.reference.clone(), e.detail.clone())));
        let kind = match who.kind {
            PrincipalType::User => "user",
            PrincipalType::Role => "role",
        };
        Finding {
            check_id: self.id().to_owned(),
            severity: if certain {
                Severity::High
            } else {
                Severity::Medium
            },
            account_id: account.account_id.clone(),
            subject: subject.to_owned(),
            principal: Some(who.arn.clone()),
            message: format!(
                "{kind} {} {} assume roles {} and so pass both gates of {subject} alone",
                who.name,
                if certain {
                    "can"
                } else {
                    "can possibly (depending on conditions)"
                },
                described.join("; ")
            ),
            evidence,
            waiver: None,
        }
    }
}

/// Whether `who` may assume `role`: the role's trust policy admits it, and the evaluator (which is handed the trust
/// policy by `AccessModel::evaluate`) allows `sts:AssumeRole` on the role: on the trust policy alone when it names
/// `who`, or with `who`'s identity policies when it names only the account.
fn can_enter(ctx: &CheckContext, who: &Principal, role: &Principal) -> Option<Entry> {
    let trust = role.trust_policy.as_ref()?;
    let admission = trust_admits(
        trust,
        &format!("role/{} trust policy", role.name),
        &who.arn,
        &who.account_id,
    )?;
    let evaluation = ctx.access.evaluate(who, ASSUME, &role.arn);
    let answer = evaluation.answer();
    if answer == Answer::No {
        return None;
    }
    Some(Entry {
        certain: answer == Answer::Yes && !admission.conditional,
        identity_statements: identity_statements(who, &evaluation),
        trust: admission,
    })
}

/// The allowing identity statements of an evaluation, named as the access model names them.
fn identity_statements(who: &Principal, evaluation: &Evaluation) -> Vec<String> {
    evaluation
        .allowing
        .iter()
        .chain(&evaluation.possibly_allowing)
        .filter_map(|s| {
            let applied = who.identity.iter().find(|a| a.policy.id == s.policy_id)?;
            let statement = applied
                .policy
                .statements
                .iter()
                .find(|st| st.index == s.index)?;
            Some(statement_ref(&applied.source, statement))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{policy, trust_account, Org, ACCOUNT};

    fn approve(resource: &str) -> serde_json::Value {
        policy(
            serde_json::json!([{"Effect": "Allow", "Action": "codepipeline:PutApprovalResult", "Resource": resource}]),
        )
    }

    fn gate(action: &str) -> String {
        format!("arn:aws:codepipeline:us-east-1:{ACCOUNT}:webapp/ProdGate/{action}")
    }

    fn assume(roles: &[&str]) -> serde_json::Value {
        let arns: Vec<String> = roles
            .iter()
            .map(|r| format!("arn:aws:iam::{ACCOUNT}:role/{r}"))
            .collect();
        policy(
            serde_json::json!([{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": arns}]),
        )
    }

    /// Two approver roles, one per ProdGate action, and separated approver groups.
    fn org_with_approver_roles() -> Org {
        let mut org = Org::two_person_pipeline();
        org.add_group("ApprovalA", approve(&gate("ApprovalA")));
        org.add_group("ApprovalB", approve(&gate("ApprovalB")));
        org.add_user("alice", &["ApprovalA"], None);
        org.add_user("bob", &["ApprovalB"], None);
        org.add_user("carol", &[], None);
        org.add_role(
            "ProdApproverA",
            trust_account(),
            approve(&gate("ApprovalA")),
        );
        org.add_role(
            "ProdApproverB",
            trust_account(),
            approve(&gate("ApprovalB")),
        );
        org
    }

    #[test]
    fn separated_groups_and_roles_pass() {
        let mut org = org_with_approver_roles();
        org.add_user("erin", &[], Some(assume(&["ProdApproverA"])));
        org.add_user("oscar", &[], Some(assume(&["ProdApproverB"])));
        let findings = org.run(&ApproverReach);
        assert!(findings.is_empty(), "{findings:#?}");
    }

    #[test]
    fn a_user_who_can_assume_two_roles_that_approve_both_gates_is_reported() {
        let mut org = org_with_approver_roles();
        org.add_user(
            "frank",
            &[],
            Some(assume(&["ProdApproverA", "ProdApproverB"])),
        );
        let findings = org.run(&ApproverReach);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        let f = &findings[0];
        assert_eq!(
            f.principal.as_deref(),
            Some("arn:aws:iam::111111111111:user/frank")
        );
        assert_eq!(f.subject, "webapp/ProdGate");
        assert_eq!(f.severity, Severity::High);
        assert!(
            f.message.contains(
                "ProdApproverA (approves ApprovalA) and ProdApproverB (approves ApprovalB)"
            ),
            "{}",
            f.message
        );
        assert!(f.evidence.iter().any(|e| e.kind == "trust-statement"
            && e.reference.contains("role/ProdApproverB trust policy")));
        assert!(f
            .evidence
            .iter()
            .any(|e| e.reference.starts_with("user/frank inline")));
    }

    #[test]
    fn the_trust_policy_must_admit_the_principal_too() {
        let mut org = org_with_approver_roles();
        org.add_user(
            "frank",
            &[],
            Some(assume(&["ProdApproverA", "ProdApproverB"])),
        );
        let only_bob = policy(
            serde_json::json!([{"Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/bob")}}]),
        );
        org.iam().roles[1].trust_policy = only_bob;
        assert!(org.run(&ApproverReach).is_empty());
    }

    #[test]
    fn a_user_named_in_both_trust_policies_needs_no_identity_policy() {
        // Within one account a trust policy naming the user grants sts:AssumeRole on its own.
        let mut org = org_with_approver_roles();
        org.add_user("frank", &[], None);
        let frank_only = policy(
            serde_json::json!([{"Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/frank")}}]),
        );
        org.iam().roles[0].trust_policy = frank_only.clone();
        org.iam().roles[1].trust_policy = frank_only;
        let findings = org.run(&ApproverReach);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(
            findings[0].principal.as_deref(),
            Some("arn:aws:iam::111111111111:user/frank")
        );
        assert!(findings[0]
            .evidence
            .iter()
            .all(|e| e.kind != "policy-statement" || !e.detail.contains("sts:AssumeRole")));
    }

    #[test]
    fn a_group_granting_approval_to_all_users_is_reported() {
        let mut org = Org::two_person_pipeline();
        org.add_group("Everyone", approve("*"));
        for name in ["ann", "ben", "cat", "dan"] {
            org.add_user(name, &["Everyone"], None);
        }
        let findings = org.run(&ApproverReach);
        // One finding per approval action of the pipeline (ApprovalA, ApprovalB).
        assert_eq!(findings.len(), 2, "{findings:#?}");
        assert!(findings
            .iter()
            .all(|f| f.principal.as_deref() == Some("arn:aws:iam::111111111111:group/Everyone")));
        assert!(findings
            .iter()
            .any(|f| f.subject == "webapp/ProdGate/ApprovalA"));
        assert!(findings[0]
            .evidence
            .iter()
            .any(|e| e.reference.starts_with("group/Everyone inline")));
    }

    #[test]
    fn every_user_approving_through_their_own_policies_is_reported_without_a_group() {
        let mut org = Org::two_person_pipeline();
        for name in ["ann", "ben", "cat"] {
            org.add_user(name, &[], Some(approve(&gate("ApprovalA"))));
        }
        let findings = org.run(&ApproverReach);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].principal, None);
        assert!(findings[0]
            .message
            .contains("every one of the account's 3 IAM users"));
    }

    #[test]
    fn a_small_group_or_a_small_account_is_not_broad() {
        let mut org = Org::two_person_pipeline();
        org.add_group("Approvers", approve("*"));
        org.add_user("ann", &["Approvers"], None);
        org.add_user("ben", &[], None);
        org.add_user("cat", &[], None);
        assert!(org.run(&ApproverReach).is_empty());
        let mut tiny = Org::two_person_pipeline();
        tiny.add_group("Approvers", approve("*"));
        tiny.add_user("ann", &["Approvers"], None);
        assert!(tiny.run(&ApproverReach).is_empty());
    }
}
