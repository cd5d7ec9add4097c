//! out-of-band-change: every mutating CloudTrail event in an environment account made by an identity that is not
//! a deployment role, minus the operational allowlist: the proof that the change process is self-enforcing.
//! Reads the write events of the snapshot (LookupEvents with ReadOnly=false, and the trail archive).

use std::collections::BTreeMap;

use super::{
    Check, CheckContext, InputKind, ISO_CHANGE, NIST_CM3, NIST_CM5, PCI_CHANGE, SOC2_CHANGE,
};
use crate::analysis::identity::person_of;
use crate::model::{Evidence, Finding, Severity, WriteEvent};
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
        &[InputKind::WriteEvents]
    }
    /// Environment accounts only: the CI/CD account's own changes are the pipeline's.
    fn looks_at(
        &self,
        account: &crate::model::AccountSnapshot,
        snapshot: &crate::model::Snapshot,
    ) -> bool {
        account.account_id != snapshot.cicd_account
    }

    fn run(&self, ctx: &CheckContext) -> Vec<Finding> {
        let rules = ctx.rules;
        let mut findings = Vec::new();
        for account in ctx
            .snapshot
            .accounts
            .iter()
            .filter(|a| a.account_id != ctx.snapshot.cicd_account)
        {
            // (person, failed?) -> events
            let mut by_person: BTreeMap<(String, bool), Vec<&WriteEvent>> = BTreeMap::new();
            for event in &account.write_events {
                if event.read_only == Some(true) || !ctx.snapshot.period.contains(event.event_time)
                {
                    continue;
                }
                if event.identity.kind == "AWSService" {
                    continue;
                }
                if issuing_role(event).is_some_and(|role| ctx.access.is_deployment_role_arn(role)) {
                    continue;
                }
                if action_matches_any(&rules.write_access.operational_allowlist, &action_of(event))
                {
                    continue;
                }
                let person = person_of(&event.identity, &rules.identity).key;
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
                let (severity, what) = match (failed, break_glass) {
                    (true, _) => (Severity::Info, "attempted (and failed)"),
                    (false, true) => (Severity::Info, "made, as break-glass identity,"),
                    (false, false) => (Severity::High, "made"),
                };
                findings.push(Finding {
                    check_id: self.id().to_owned(),
                    severity,
                    account_id: account.account_id.clone(),
                    subject: person.clone(),
                    principal: Some(person),
                    message: format!(
                        "{recorded} {what} {} change(s) outside the pipeline in {} ({}): {}",
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
        }
    }

    fn org_with_prod(events: Vec<WriteEvent>) -> Org {
        let mut org = Org::two_person_pipeline();
        org.snapshot.accounts.push(AccountSnapshot {
            account_id: "444444444444".into(),
            name: "prod".into(),
            environment: "prod".into(),
            write_events: events,
            ..AccountSnapshot::default()
        });
        org
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
                role_session("CICDCrossAccountRole", "codebuild"),
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
}
