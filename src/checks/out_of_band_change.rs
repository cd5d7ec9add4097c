//! out-of-band-change: every mutating CloudTrail event in an environment account made by an identity that is not
//! a deployment role, minus the operational allowlist: the proof that the change process is self-enforcing. A
//! session of a deployment role counts as the pipeline only when its AssumeRole chain starts at an AWS service
//! (the pipeline, its build service); a person who assumed CICDCrossAccountRole and changed prod by hand is
//! named, and a session that cannot be traced is reported. In the CI/CD account, the pipeline infrastructure
//! (build projects, artifact and source buckets, deployment roles and their policies) is held to the same rule;
//! CodePipeline's own calls there are `gate-bypass`'s to judge.
//! Reads the write events and role sessions of the snapshot (LookupEvents and the trail archive).

use std::collections::BTreeMap;

use super::{
    Check, CheckContext, InputKind, ISO_CHANGE, NIST_CM3, NIST_CM5, PCI_CHANGE, SOC2_CHANGE,
};
use crate::analysis::sessions::{self, Origin, SessionIndex};
use crate::model::{AccountSnapshot, Evidence, Finding, Severity, Snapshot, WriteEvent};
use crate::rules::{action_matches_any, matches_any};

pub struct OutOfBandChange;

/// How many example events a finding lists (the snapshot holds them all).
const EXAMPLES: usize = 10;

/// `iam.amazonaws.com` + `CreateUser` -> `iam:CreateUser`, the IAM action name the allowlist speaks.
fn action_of(event: &WriteEvent) -> String {
    let service = event
        .source
        .strip_suffix(".amazonaws.com")
        .unwrap_or(&event.source);
    format!("{service}:{}", event.name)
}

/// The role an assumed-role session was issued from, if the caller was one.
fn issuing_role(event: &WriteEvent) -> Option<&str> {
    event
        .identity
        .session_issuer
        .as_ref()
        .and_then(|i| i.arn.as_deref())
}

impl Check for OutOfBandChange {
    fn id(&self) -> &'static str {
        "out-of-band-change"
    }
    fn title(&self) -> &'static str {
        "Environment accounts change only through the pipeline"
    }
    fn description(&self) -> &'static str {
        "Every mutating CloudTrail event in an environment account (every account but the CI/CD account) must come \
         from a deployment role (pipeline, CloudFormation, CICDCrossAccountRole, as declared) or an AWS service, \
         unless the action is in the operational allowlist. Failed attempts are listed as information."
    }
    fn severity(&self) -> Severity {
        Severity::High
    }
    fn references(&self) -> &'static [&'static str] {
        &[SOC2_CHANGE, ISO_CHANGE, NIST_CM3, NIST_CM5, PCI_CHANGE]
    }

    fn inputs(&self) -> &'static [InputKind] {
        &[InputKind::WriteEvents, InputKind::RoleSessions]
    }

    fn run(&self, ctx: &CheckContext) -> Vec<Finding> {
        let rules = ctx.rules;
        let sessions = SessionIndex::new(ctx.snapshot);
        let mut findings = Vec::new();
        for account in &ctx.snapshot.accounts {
            let cicd = account.account_id == ctx.snapshot.cicd_account;
            let infrastructure = cicd.then(|| pipeline_infrastructure(ctx.snapshot, account, ctx));
            // (person, failed?) -> events, and how the person came to act (through a deployment role)
            let mut by_person: BTreeMap<(String, bool), Vec<&WriteEvent>> = BTreeMap::new();
            let mut through: BTreeMap<String, String> = BTreeMap::new();
            for event in &account.write_events {
                if event.read_only == Some(true) || !ctx.snapshot.period.contains(event.event_time)
                {
                    continue;
                }
                // An AWS service acting as itself (a service event, a service-linked role's session) is not a
                // change made outside the pipeline by someone.
                if crate::analysis::identity::aws_service(&event.identity).is_some() {
                    continue;
                }
                if let Some(infra) = &infrastructure {
                    // CodePipeline's own calls are gate-bypass's; only the pipeline infrastructure counts here.
                    if event.source == "codepipeline.amazonaws.com"
                        || !event.resources.iter().any(|r| infra.iter().any(|i| i == r))
                    {
                        continue;
                    }
                }
                if action_matches_any(&rules.write_access.operational_allowlist, &action_of(event))
                {
                    continue;
                }
                let mut person = ctx.people.person_of(&event.identity).key;
                if let Some(role) =
                    issuing_role(event).filter(|r| ctx.access.is_deployment_role_arn(r))
                {
                    match sessions.origin(&event.identity, &ctx.people, ctx.access) {
                        Origin::Service { .. } => continue,
                        Origin::Person { person: who, chain } => {
                            through.insert(
                                who.key.clone(),
                                format!(
                                    "through deployment role {role}: {}",
                                    sessions::describe(&chain)
                                ),
                            );
                            person = who.key;
                        }
                        Origin::Untraced { reason, .. } => {
                            through.insert(
                                person.clone(),
                                format!(
                                    "with deployment role {role}, but the session could not be traced to the \
                                     pipeline: {reason}"
                                ),
                            );
                        }
                    }
                }
                by_person
                    .entry((person, event.error_code.is_some()))
                    .or_default()
                    .push(event);
            }
            for ((person, failed), events) in by_person {
                let recorded = events
                    .first()
                    .and_then(|e| e.identity.arn.clone())
                    .unwrap_or_default();
                let break_glass = matches_any(&rules.write_access.break_glass, &recorded)
                    || issuing_role(events[0])
                        .is_some_and(|r| matches_any(&rules.write_access.break_glass, r));
                let mut actions: Vec<String> = events.iter().map(|e| action_of(e)).collect();
                actions.sort();
                actions.dedup();
                let route = through.get(&person);
                let untraced = route.is_some_and(|r| r.contains("could not be traced"));
                let (severity, what) = match (failed, break_glass, untraced) {
                    (true, _, _) => (Severity::Info, "attempted (and failed)"),
                    (false, true, _) => (Severity::Info, "made, as break-glass identity,"),
                    (false, false, true) => (Severity::Medium, "made"),
                    (false, false, false) => (Severity::High, "made"),
                };
                let who = match route {
                    Some(r) if !untraced => format!("{person} {r}"),
                    Some(r) => format!("{recorded} {r}"),
                    None => recorded.clone(),
                };
                findings.push(Finding {
                    check_id: self.id().to_owned(),
                    severity,
                    account_id: account.account_id.clone(),
                    subject: person.clone(),
                    principal: Some(person),
                    message: format!(
                        "{who} {what} {} change(s) outside the pipeline in {} ({}): {}",
                        events.len(),
                        account.name,
                        account.environment,
                        actions.join(", ")
                    ),
                    evidence: events
                        .iter()
                        .take(EXAMPLES)
                        .map(|e| {
                            Evidence::new(
                                "cloudtrail-event",
                                &e.event_id,
                                format!(
                                    "{} at {}{}",
                                    action_of(e),
                                    e.event_time.to_rfc3339(),
                                    e.error_code
                                        .as_deref()
                                        .map(|c| format!(" ({c})"))
                                        .unwrap_or_default()
                                ),
                            )
                        })
                        .collect(),
                    waiver: None,
                });
            }
        }
        findings
    }
}

/// The names of the CI/CD account's pipeline infrastructure: build projects of the pipelines' CodeBuild
/// actions, artifact and S3 source buckets, and the deployment roles (pipeline service roles, action roles) with
/// the policies attached to them.
fn pipeline_infrastructure(
    snapshot: &Snapshot,
    account: &AccountSnapshot,
    ctx: &CheckContext,
) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for pipeline in snapshot.accounts.iter().flat_map(|a| &a.pipelines) {
        names.extend(pipeline.artifact_stores.iter().map(|s| s.location.clone()));
        for action in pipeline.stages.iter().flat_map(|s| &s.actions) {
            names.extend(action.configuration.get("ProjectName").cloned());
            if action.is_source() {
                names.extend(action.configuration.get("S3Bucket").cloned());
            }
        }
    }
    for principal in ctx
        .access
        .principals
        .iter()
        .filter(|p| p.account_id == account.account_id && ctx.access.is_deployment_role(p))
    {
        names.push(principal.name.clone());
        names.extend(
            principal
                .identity
                .iter()
                .filter(|a| a.source.starts_with("arn:"))
                .map(|a| a.source.clone()),
        );
    }
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{role_session, user, Org};
    use crate::model::{AccountSnapshot, EventOrigin, UserIdentity};

    fn event(
        id: &str,
        source: &str,
        name: &str,
        identity: serde_json::Value,
        error: Option<&str>,
    ) -> WriteEvent {
        WriteEvent {
            event_id: id.into(),
            event_time: chrono::DateTime::parse_from_rfc3339("2026-11-10T10:00:00Z")
                .map(|t| t.with_timezone(&chrono::Utc))
                .unwrap_or_default(),
            account_id: "444444444444".into(),
            region: "us-east-1".into(),
            source: source.into(),
            name: name.into(),
            read_only: Some(false),
            error_code: error.map(str::to_owned),
            identity: UserIdentity::from_cloudtrail(&identity),
            person: String::new(),
            origin: EventOrigin::TrailArchive,
            resources: vec![],
            request_parameters: None,
        }
    }

    /// The AssumeRole that issued `key` for a session of prod's CICDCrossAccountRole, asked by `caller`.
    fn session(key: &str, caller: serde_json::Value) -> crate::model::RoleSession {
        crate::model::RoleSession {
            event_id: format!("assume-{key}"),
            event_time: chrono::DateTime::parse_from_rfc3339("2026-11-10T09:59:00Z")
                .map(|t| t.with_timezone(&chrono::Utc))
                .unwrap_or_default(),
            account_id: "444444444444".into(),
            region: "us-east-1".into(),
            role_arn: "arn:aws:iam::444444444444:role/CICDCrossAccountRole".into(),
            session_name: "s".into(),
            source_identity: None,
            access_key_id: Some(key.into()),
            shared_event_id: None,
            caller: UserIdentity::from_cloudtrail(&caller),
            error_code: None,
            origin: EventOrigin::LookupEvents,
        }
    }

    fn deployment(key: &str) -> serde_json::Value {
        let mut identity = role_session("CICDCrossAccountRole", "deploy");
        identity["accessKeyId"] = key.into();
        identity
    }

    fn org_with_prod(events: Vec<WriteEvent>) -> Org {
        let mut org = Org::two_person_pipeline();
        // The pipeline's build role, trusted by CodeBuild only, took prod's cross-account session "ASIABUILD".
        let build = serde_json::json!({"type": "AssumedRole", "accountId": "111111111111",
            "arn": "arn:aws:sts::111111111111:assumed-role/CodeBuildServiceRole/build-1",
            "accessKeyId": "ASIACODEBUILD",
            "sessionContext": {"sessionIssuer": {"type": "Role",
                "arn": "arn:aws:iam::111111111111:role/CodeBuildServiceRole", "accountId": "111111111111"}}});
        org.add_role(
            "CodeBuildServiceRole",
            crate::checks::testkit::policy(
                serde_json::json!([{"Effect": "Allow", "Action": "sts:AssumeRole",
                "Principal": {"Service": "codebuild.amazonaws.com"}}]),
            ),
            crate::checks::testkit::policy(serde_json::json!([])),
        );
        org.snapshot.accounts.push(AccountSnapshot {
            account_id: "444444444444".into(),
            name: "prod".into(),
            environment: "prod".into(),
            write_events: events,
            role_sessions: vec![
                session("ASIABUILD", build),
                session("ASIACAROL", user("carol")),
            ],
            ..AccountSnapshot::default()
        });
        org
    }

    #[test]
    fn a_person_who_assumed_the_deployment_role_is_named_and_an_untraced_session_is_reported() {
        let org = org_with_prod(vec![
            event(
                "d1",
                "s3.amazonaws.com",
                "CreateBucket",
                deployment("ASIABUILD"),
                None,
            ),
            event(
                "d2",
                "s3.amazonaws.com",
                "CreateBucket",
                deployment("ASIACAROL"),
                None,
            ),
            event(
                "d3",
                "s3.amazonaws.com",
                "DeleteBucket",
                deployment("ASIAUNKNOWN"),
                None,
            ),
        ]);
        let findings = org.run(&OutOfBandChange);
        assert_eq!(findings.len(), 2, "{findings:#?}");
        let carol = findings
            .iter()
            .find(|f| f.principal.as_deref() == Some("arn:aws:iam::111111111111:user/carol"))
            .expect("carol, through the deployment role");
        assert_eq!(carol.severity, Severity::High);
        assert!(
            carol.message.contains("through deployment role"),
            "{}",
            carol.message
        );
        let untraced = findings
            .iter()
            .find(|f| f.severity == Severity::Medium)
            .expect("the untraced session");
        assert!(
            untraced.message.contains("could not be traced"),
            "{}",
            untraced.message
        );
    }

    #[test]
    fn a_human_change_in_prod_is_found_and_deployments_and_allowlisted_actions_are_not() {
        let org = org_with_prod(vec![
            event(
                "e1",
                "ec2.amazonaws.com",
                "AuthorizeSecurityGroupIngress",
                user("mallory"),
                None,
            ),
            event(
                "e2",
                "s3.amazonaws.com",
                "CreateBucket",
                user("mallory"),
                None,
            ),
            event(
                "e3",
                "cloudformation.amazonaws.com",
                "UpdateStack",
                deployment("ASIABUILD"),
                None,
            ),
            event(
                "e4",
                "ec2.amazonaws.com",
                "StopInstances",
                user("oscar"),
                None,
            ),
            event(
                "e5",
                "iam.amazonaws.com",
                "CreateUser",
                user("erin"),
                Some("AccessDenied"),
            ),
        ]);
        let findings = org.run(&OutOfBandChange);
        assert_eq!(findings.len(), 2, "{findings:#?}");
        let mallory = findings
            .iter()
            .find(|f| f.severity == Severity::High)
            .expect("mallory's change");
        assert_eq!(
            mallory.principal.as_deref(),
            Some("arn:aws:iam::111111111111:user/mallory")
        );
        assert_eq!(mallory.evidence.len(), 2);
        assert!(
            mallory
                .message
                .contains("ec2:AuthorizeSecurityGroupIngress")
                && mallory.message.contains("s3:CreateBucket")
        );
        let attempt = findings
            .iter()
            .find(|f| f.severity == Severity::Info)
            .expect("erin's attempt");
        assert!(
            attempt.message.contains("attempted")
                && attempt.evidence[0].detail.contains("AccessDenied")
        );
    }

    #[test]
    fn service_events_and_service_linked_role_sessions_are_not_human_changes() {
        let slr = serde_json::json!({"type": "AssumedRole", "accountId": "444444444444",
            "principalId": "AROASLR:AutoScaling",
            "arn": "arn:aws:sts::444444444444:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling",
            "sessionContext": {"sessionIssuer": {"type": "Role", "accountId": "444444444444",
                "arn": "arn:aws:iam::444444444444:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
                "userName": "AWSServiceRoleForAutoScaling"}},
            "invokedBy": "autoscaling.amazonaws.com"});
        let org = org_with_prod(vec![
            // AWS's documented AwsServiceEvent identity: accountId and invokedBy, no type.
            event(
                "rotate",
                "kms.amazonaws.com",
                "RotateKey",
                serde_json::json!({"accountId": "444444444444", "invokedBy": "AWS Internal"}),
                None,
            ),
            event("slr", "ec2.amazonaws.com", "RunInstances", slr, None),
            event(
                "human",
                "ec2.amazonaws.com",
                "AuthorizeSecurityGroupIngress",
                user("mallory"),
                None,
            ),
        ]);
        let findings = org.run(&OutOfBandChange);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(
            findings[0].principal.as_deref(),
            Some("arn:aws:iam::111111111111:user/mallory")
        );
    }

    #[test]
    fn one_person_under_two_sessions_is_one_finding_and_the_cicd_account_is_not_judged() {
        let mut org = org_with_prod(vec![
            event(
                "e1",
                "ec2.amazonaws.com",
                "RunInstances",
                role_session("Admin", "alice"),
                None,
            ),
            event(
                "e2",
                "ec2.amazonaws.com",
                "TerminateInstances",
                role_session("Admin", "alice-2"),
                None,
            ),
        ]);
        org.account().write_events.push(event(
            "e3",
            "codepipeline.amazonaws.com",
            "UpdatePipeline",
            user("alice"),
            None,
        ));
        let findings = org.run(&OutOfBandChange);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].evidence.len(), 2);
        assert_eq!(findings[0].account_id, "444444444444");
    }

    #[test]
    fn in_the_cicd_account_only_the_pipeline_infrastructure_is_held_to_the_rule() {
        let mut org = org_with_prod(vec![]);
        let mut touch_role = event(
            "c1",
            "iam.amazonaws.com",
            "PutRolePolicy",
            user("dana"),
            None,
        );
        touch_role.account_id = "111111111111".into();
        touch_role.resources = vec!["CodeBuildServiceRole".into()];
        let mut unrelated = event("c2", "iam.amazonaws.com", "CreateUser", user("dana"), None);
        unrelated.account_id = "111111111111".into();
        unrelated.resources = vec!["newbie".into()];
        let mut gate_call = event(
            "c3",
            "codepipeline.amazonaws.com",
            "UpdatePipeline",
            user("dana"),
            None,
        );
        gate_call.resources = vec!["webapp".into()];
        org.snapshot
            .declared_deployment_roles
            .push("arn:aws:iam::111111111111:role/CodeBuildServiceRole".into());
        org.account().write_events = vec![touch_role, unrelated, gate_call];
        let findings = org.run(&OutOfBandChange);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].account_id, "111111111111");
        assert!(findings[0].message.contains("iam:PutRolePolicy"));
    }
}
