//! approver-reach: approval gates that more people can pass than the pipeline's design suggests.
//!
//! (a) A gate anyone can approve: every IAM user of the account (with at least three users) may approve a manual
//! approval action, or a group holding more than half of the account's users may. Such a gate is a formality.
//! (b) One person, two entitlements: for a stage with two or more approval actions, a person (an IAM user, an IAM
//! Identity Center user) or a role no person enters, who can act as one principal approving one action and another
//! principal approving a different action — two permission sets through two groups, two assumable roles, a user
//! and a role, across accounts — can pass the two-person gate alone. The routes come from `analysis::reach`
//! (assignments, trust policies and identity policies, SCPs). A single principal approving two actions is
//! `approver-separation`'s finding, not repeated here.
//!
//! Reads the snapshot and the access model only; must not do I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{
    Check, CheckContext, InputKind, ISO_SEGREGATION, NIST_AC5, PCI_CHANGE, SOC2_ACCESS, SOC2_CHANGE,
};
use crate::analysis::access::{Grant, PrincipalType};
use crate::analysis::reach::{Actor, ActorKind, Route};
use crate::iam::Answer;
use crate::model::{AccountSnapshot, Evidence, Finding, Pipeline, Severity, Stage};

pub struct ApproverReach;

const APPROVE: &str = "codepipeline:PutApprovalResult";
/// Below this many users, "everyone can approve" says nothing about a gate.
const MIN_USERS_FOR_BROAD: usize = 3;

impl Check for ApproverReach {
    fn id(&self) -> &'static str {
        "approver-reach"
    }
    fn title(&self) -> &'static str {
        "Approval gates are reserved to few people, and no one person reaches both gates of a stage"
    }
    fn description(&self) -> &'static str {
        "A manual approval that every IAM user of the account (at least three) may give, or that a group holding \
         more than half of the account's users may give, is a formality. For stages with two or more approval \
         actions, a person (IAM user or IAM Identity Center user) who can act as one principal approving one \
         action and another principal approving a different action (two permission sets through two groups, two \
         roles it may assume: identity policy and role trust policy both allowing sts:AssumeRole) can pass the \
         two-person gate alone."
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
    fn inputs(&self) -> &'static [InputKind] {
        &[
            InputKind::Iam,
            InputKind::Pipelines,
            InputKind::OrganizationPolicies,
            InputKind::IdentityCenter,
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
                        findings.extend(
                            self.combination_findings(ctx, account, pipeline, stage, &grants),
                        );
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

    /// (b): actors (people, or roles no person enters) that reach approval actions of one stage as two or more
    /// different principals: two roles, two permission sets, a user and a role... A single principal that
    /// approves every action the actor reaches is `approver-separation`'s finding, not repeated here.
    fn combination_findings(
        &self,
        ctx: &CheckContext,
        account: &AccountSnapshot,
        pipeline: &Pipeline,
        stage: &Stage,
        grants: &BTreeMap<&str, Vec<Grant>>,
    ) -> Vec<Finding> {
        let mut by_principal: HashMap<&str, Vec<(&str, &Grant)>> = HashMap::new();
        for (action, action_grants) in grants {
            for grant in action_grants {
                by_principal
                    .entry(grant.principal.arn.as_str())
                    .or_default()
                    .push((action, grant));
            }
        }
        let subject = format!("{}/{}", pipeline.name, stage.name);
        let mut findings = Vec::new();
        for actor in &ctx.reach.actors {
            let mut reached: BTreeMap<&str, Vec<(&Route, &Grant)>> = BTreeMap::new();
            for route in &actor.routes {
                for (action, grant) in by_principal
                    .get(route.principal.arn.as_str())
                    .into_iter()
                    .flatten()
                {
                    reached.entry(action).or_default().push((route, grant));
                }
            }
            if reached.len() < 2 {
                continue;
            }
            let one_covers_all = actor.routes.iter().any(|r| {
                by_principal
                    .get(r.principal.arn.as_str())
                    .is_some_and(|list| list.len() >= reached.len())
            });
            if one_covers_all {
                continue;
            }
            findings.push(self.combination_finding(account, &subject, actor, &reached));
        }
        findings
    }

    fn combination_finding(
        &self,
        account: &AccountSnapshot,
        subject: &str,
        actor: &Actor,
        reached: &BTreeMap<&str, Vec<(&Route, &Grant)>>,
    ) -> Finding {
        let mut certain = true;
        let mut evidence: Vec<Evidence> = Vec::new();
        let mut described = Vec::new();
        let mut routes = Vec::new();
        for (action, ways) in reached {
            // The shortest route for each action is the one shown; every way is evidence.
            let Some((route, grant)) = ways.iter().min_by_key(|(r, _)| r.steps.len()) else {
                continue;
            };
            certain &= grant.answer == Answer::Yes && route.certain();
            described.push(format!("{} (approves {action})", route.principal.name));
            routes.push(format!("{action}: {}", route.describe()));
            for (route, grant) in ways {
                for step in &route.steps {
                    evidence.extend(step.evidence.iter().cloned());
                }
                for s in grant.statements.iter() {
                    evidence.push(Evidence::new(
                        "policy-statement",
                        s,
                        format!("allows approving {action}"),
                    ));
                }
            }
        }
        let mut seen = BTreeSet::new();
        evidence.retain(|e| seen.insert((e.kind.clone(), e.reference.clone(), e.detail.clone())));
        let kind = match actor.kind {
            ActorKind::IamUser => "user",
            ActorKind::IdentityCenterUser => "Identity Center user",
            ActorKind::Role => "role",
            ActorKind::FederatedRole => "federated role",
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
            principal: Some(actor.person.key.clone()),
            message: format!(
                "{kind} {} {} act as {} and so pass both gates of {subject} alone ({})",
                actor.person.name,
                if certain {
                    "can"
                } else {
                    "can possibly (depending on conditions)"
                },
                described.join(" and "),
                routes.join("; ")
            ),
            evidence,
            waiver: None,
        }
    }
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

    /// Two permission sets, one per gate; kim is in both groups.
    fn org_with_identity_center() -> (Org, String, String) {
        let mut org = Org::two_person_pipeline();
        let a = org.add_permission_set("ProdApproverA", approve(&gate("ApprovalA")));
        let b = org.add_permission_set("ProdApproverB", approve(&gate("ApprovalB")));
        let ines = org.add_identity_center_user("ines");
        let jon = org.add_identity_center_user("jon");
        let kim = org.add_identity_center_user("kim");
        let group_a = org.add_identity_center_group("ApproversA", &[&ines, &kim]);
        let group_b = org.add_identity_center_group("ApproversB", &[&jon, &kim]);
        org.assign(&a, "GROUP", &group_a);
        org.assign(&b, "GROUP", &group_b);
        (org, a, b)
    }

    #[test]
    fn a_person_in_two_identity_center_groups_reaching_both_gates_is_reported_with_the_chain() {
        let (org, _, _) = org_with_identity_center();
        let findings = org.run(&ApproverReach);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        let f = &findings[0];
        assert_eq!(f.principal.as_deref(), Some("identity-center:d-test/u-kim"));
        assert_eq!(f.subject, "webapp/ProdGate");
        assert!(
            f.message.contains("Identity Center user kim"),
            "{}",
            f.message
        );
        assert!(
            f.message
                .contains("group ApproversA (2 members) -> permission set ProdApproverA"),
            "{}",
            f.message
        );
        assert!(f
            .evidence
            .iter()
            .any(|e| e.kind == "identity-center-assignment"));
        assert!(f
            .evidence
            .iter()
            .any(|e| e.kind == "identity-center-membership" && e.reference.contains("ApproversB")));
    }

    #[test]
    fn people_in_one_identity_center_group_each_pass() {
        let (mut org, _, _) = org_with_identity_center();
        org.snapshot
            .identity_center
            .as_mut()
            .expect("identity center")
            .memberships
            .retain(|m| !(m.user_id == "u-kim" && m.group_id == "g-ApproversB"));
        assert!(org.run(&ApproverReach).is_empty());
    }

    #[test]
    fn a_direct_assignment_and_a_group_assignment_combine() {
        let (mut org, _, b) = org_with_identity_center();
        org.snapshot
            .identity_center
            .as_mut()
            .expect("identity center")
            .memberships
            .retain(|m| m.user_id != "u-kim");
        org.assign(&b, "USER", "u-ines");
        let findings = org.run(&ApproverReach);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(
            findings[0].principal.as_deref(),
            Some("identity-center:d-test/u-ines")
        );
    }

    #[test]
    fn an_iam_user_approving_one_gate_and_assuming_a_role_for_the_other_is_reported() {
        let mut org = org_with_approver_roles();
        org.add_user("gwen", &["ApprovalA"], Some(assume(&["ProdApproverB"])));
        let findings = org.run(&ApproverReach);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(
            findings[0].principal.as_deref(),
            Some("arn:aws:iam::111111111111:user/gwen")
        );
    }
}
