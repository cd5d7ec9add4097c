//! gate-bypass: who can weaken or skip a gate, and who did. (a) Every principal of a pipeline's account (with the
//! people who can act as it) that the evaluator allows a gate-weakening call — UpdatePipeline, DeletePipeline,
//! CreatePipeline, OverrideStageCondition, Disable/EnableStageTransition, RetryStageExecution, RollbackStage,
//! StartPipelineExecution (which can name arbitrary source revisions), PutActionRevision, PutJobSuccessResult, or
//! writing the artifact store or the S3 source object — other than deployment roles and break-glass identities.
//! (b) Every such call of the period in CloudTrail by anyone but a deployment role: an UpdatePipeline that removed
//! or weakened an approval or a condition (previous and new declarations compared) is critical, and a later
//! restore is evidence, not an excuse.
//!
//! Reads the snapshot through the shared views; must not do I/O.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    Check, CheckContext, InputKind, ISO_CHANGE, NIST_CM3, NIST_CM5, PCI_CHANGE, SOC2_CHANGE,
};
use crate::analysis::declarations::{stages_from_json, weakening};
use crate::iam::Answer;
use crate::model::{AccountSnapshot, Evidence, Finding, Pipeline, Severity, WriteEvent};
use crate::rules::matches_any;

pub struct GateBypass;

/// (IAM action, what it does to a gate, how much holding it weakens the gate).
const CALLS: &[(&str, &str, Severity)] = &[
    (
        "codepipeline:UpdatePipeline",
        "rewrite the pipeline (remove approvals or conditions)",
        Severity::High,
    ),
    (
        "codepipeline:DeletePipeline",
        "delete the pipeline",
        Severity::High,
    ),
    (
        "codepipeline:CreatePipeline",
        "create a pipeline of the same name without gates",
        Severity::High,
    ),
    (
        "codepipeline:OverrideStageCondition",
        "let an execution past a failing stage condition",
        Severity::High,
    ),
    (
        "codepipeline:PutActionRevision",
        "forge a source revision",
        Severity::High,
    ),
    (
        "codepipeline:PutJobSuccessResult",
        "forge an action's result",
        Severity::High,
    ),
    (
        "codepipeline:DisableStageTransition",
        "hold artifacts before a stage",
        Severity::Medium,
    ),
    (
        "codepipeline:EnableStageTransition",
        "release held artifacts into a stage",
        Severity::Medium,
    ),
    (
        "codepipeline:RollbackStage",
        "redeploy an earlier execution's artifacts",
        Severity::Medium,
    ),
    (
        "codepipeline:RetryStageExecution",
        "re-run a stage of an approved execution",
        Severity::Low,
    ),
    (
        "codepipeline:StartPipelineExecution",
        "start an execution with arbitrary source revisions",
        Severity::Low,
    ),
];

/// One level down, for an answer that depends on request conditions.
fn lower(s: Severity) -> Severity {
    match s {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        Severity::Medium => Severity::Low,
        Severity::Low | Severity::Info => Severity::Info,
    }
}

/// The CloudTrail event names of the gate-weakening calls, with the severity of a call made by a person.
const EVENTS: &[(&str, Severity)] = &[
    ("UpdatePipeline", Severity::Medium),
    ("DeletePipeline", Severity::High),
    ("CreatePipeline", Severity::High),
    ("OverrideStageCondition", Severity::High),
    ("PutActionRevision", Severity::High),
    ("PutJobSuccessResult", Severity::High),
    ("DisableStageTransition", Severity::Medium),
    ("EnableStageTransition", Severity::Medium),
    ("RollbackStage", Severity::Medium),
    ("RetryStageExecution", Severity::Low),
];

impl Check for GateBypass {
    fn id(&self) -> &'static str {
        "gate-bypass"
    }
    fn title(&self) -> &'static str {
        "Nobody can weaken or skip a gate, and nobody did"
    }
    fn description(&self) -> &'static str {
        "Every principal (and the people who can act as it) allowed a call that weakens or skips a gate \
         (UpdatePipeline, DeletePipeline, CreatePipeline, OverrideStageCondition, stage transitions, retries, \
         rollbacks, starting with arbitrary source revisions, forged revisions or job results, writing the \
         artifact store or the S3 source object) is reported, deployment roles and break-glass excepted; and \
         every such call of the period by anyone else. An UpdatePipeline that removed or weakened an approval or \
         a stage condition is critical, even when a later update restored it."
    }
    fn severity(&self) -> Severity {
        Severity::Critical
    }
    fn references(&self) -> &'static [&'static str] {
        &[SOC2_CHANGE, ISO_CHANGE, NIST_CM3, NIST_CM5, PCI_CHANGE]
    }
    fn inputs(&self) -> &'static [InputKind] {
        &[
            InputKind::Iam,
            InputKind::Pipelines,
            InputKind::WriteEvents,
            InputKind::OrganizationPolicies,
            InputKind::IdentityCenter,
        ]
    }

    fn run(&self, ctx: &CheckContext) -> Vec<Finding> {
        let mut findings = Vec::new();
        for account in &ctx.snapshot.accounts {
            for pipeline in &account.pipelines {
                findings.extend(self.capabilities(ctx, pipeline));
                findings.extend(self.calls(ctx, account, pipeline));
            }
        }
        findings
    }
}

impl GateBypass {
    fn exempt(&self, ctx: &CheckContext, arn: &str) -> bool {
        matches_any(&ctx.rules.write_access.break_glass, arn)
            || ctx
                .access
                .principal(arn)
                .is_some_and(|p| ctx.access.is_deployment_role(p))
    }

    /// (a) who may make a gate-weakening call on this pipeline.
    fn capabilities(&self, ctx: &CheckContext, pipeline: &Pipeline) -> Vec<Finding> {
        let pipeline_arn = pipeline.arn();
        let partition = crate::model::partition::partition_of(&pipeline.region).name;
        let mut resources: Vec<(String, String, &str, Severity)> = Vec::new();
        for (action, effect, weight) in CALLS {
            let resource = match *action {
                "codepipeline:DisableStageTransition"
                | "codepipeline:EnableStageTransition"
                | "codepipeline:RetryStageExecution" => format!("{pipeline_arn}/*"),
                "codepipeline:PutActionRevision" => format!("{pipeline_arn}/*/*"),
                "codepipeline:PutJobSuccessResult" => "*".to_owned(),
                _ => pipeline_arn.clone(),
            };
            resources.push(((*action).to_owned(), resource, effect, *weight));
        }
        for store in &pipeline.artifact_stores {
            resources.push((
                "s3:PutObject".to_owned(),
                format!("arn:{partition}:s3:::{}/*", store.location),
                "replace build artifacts in the artifact store",
                Severity::High,
            ));
        }
        for action in pipeline
            .stages
            .iter()
            .flat_map(|s| &s.actions)
            .filter(|a| a.is_source() && a.provider.eq_ignore_ascii_case("S3"))
        {
            if let (Some(bucket), Some(key)) = (
                action.configuration.get("S3Bucket"),
                action.configuration.get("S3ObjectKey"),
            ) {
                resources.push((
                    "s3:PutObject".to_owned(),
                    format!("arn:{partition}:s3:::{bucket}/{key}"),
                    "replace the source the pipeline deploys",
                    Severity::High,
                ));
            }
        }
        // principal ARN -> (what it can do, certain, the heaviest call it holds, statements)
        let mut by_principal: BTreeMap<String, (BTreeSet<String>, bool, Severity, Vec<String>)> =
            BTreeMap::new();
        for (action, resource, effect, weight) in &resources {
            for grant in ctx.access.who_can(&pipeline.account_id, action, resource) {
                if self.exempt(ctx, &grant.principal.arn) || grant.principal.service_linked {
                    continue;
                }
                let entry = by_principal
                    .entry(grant.principal.arn.clone())
                    .or_insert_with(|| (BTreeSet::new(), false, Severity::Info, Vec::new()));
                entry.0.insert(format!("{action} ({effect})"));
                entry.1 |= grant.answer == Answer::Yes;
                let weight = if grant.answer == Answer::Yes {
                    *weight
                } else {
                    lower(*weight)
                };
                entry.2 = entry.2.max(weight);
                entry.3.extend(grant.statements.iter().cloned());
            }
        }
        by_principal
            .into_iter()
            .map(|(arn, (can, certain, severity, statements))| {
                let mut evidence: Vec<Evidence> = statements
                    .into_iter()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .map(|s| Evidence::new("policy-statement", s, "allows a gate-weakening call"))
                    .collect();
                let mut people = 0;
                for (actor, route) in ctx.reach.actors_reaching(&arn) {
                    if route.steps.is_empty() && actor.person.key == arn {
                        continue;
                    }
                    people += 1;
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
                let name = arn.rsplit('/').next().unwrap_or(&arn).to_owned();
                Finding {
                    check_id: self.id().to_owned(),
                    severity,
                    account_id: pipeline.account_id.clone(),
                    subject: pipeline.name.clone(),
                    principal: Some(arn.clone()),
                    message: format!(
                        "{name}{} {} weaken or skip the gates of {}: {}",
                        if people > 0 {
                            format!(" (which {people} person(s) can act as)")
                        } else {
                            String::new()
                        },
                        if certain { "can" } else { "can possibly" },
                        pipeline.name,
                        can.into_iter().collect::<Vec<_>>().join("; ")
                    ),
                    evidence,
                    waiver: None,
                }
            })
            .collect()
    }

    /// (b) gate-weakening calls of the period, by anyone but a deployment role.
    fn calls(
        &self,
        ctx: &CheckContext,
        account: &AccountSnapshot,
        pipeline: &Pipeline,
    ) -> Vec<Finding> {
        let names_pipeline = |e: &WriteEvent| {
            e.resources.iter().any(|r| r == &pipeline.name) && e.region == pipeline.region
        };
        let mut events: Vec<&WriteEvent> = account
            .write_events
            .iter()
            .filter(|e| {
                e.source == "codepipeline.amazonaws.com"
                    && e.error_code.is_none()
                    && names_pipeline(e)
                    && ctx.snapshot.period.contains(e.event_time)
            })
            .collect();
        events.sort_by_key(|e| e.event_time);
        let by_deployment = |e: &WriteEvent| {
            e.identity
                .session_issuer
                .as_ref()
                .and_then(|i| i.arn.as_deref())
                .is_some_and(|arn| self.exempt(ctx, arn))
                || crate::analysis::identity::aws_service(&e.identity).is_some()
        };
        let mut findings = Vec::new();
        // person -> call name -> events (the calls other than a weakening UpdatePipeline)
        let mut grouped: BTreeMap<(String, &str), Vec<&WriteEvent>> = BTreeMap::new();
        for (i, event) in events.iter().enumerate() {
            if by_deployment(event) {
                continue;
            }
            let Some((_, severity)) = EVENTS.iter().find(|(name, _)| *name == event.name) else {
                if event.name == "StartPipelineExecution" && has_source_overrides(event) {
                    grouped
                        .entry((
                            ctx.people.person_of(&event.identity).key,
                            "StartPipelineExecution",
                        ))
                        .or_default()
                        .push(event);
                }
                continue;
            };
            if event.name == "UpdatePipeline" {
                if let Some(f) = self.update_finding(ctx, pipeline, event, &events[i + 1..]) {
                    findings.push(f);
                    continue;
                }
            }
            let _ = severity;
            grouped
                .entry((
                    ctx.people.person_of(&event.identity).key,
                    event.name.as_str(),
                ))
                .or_default()
                .push(event);
        }
        for ((person, name), events) in grouped {
            let severity = EVENTS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, s)| *s)
                .unwrap_or(Severity::Medium);
            let who = ctx.people.person_of(&events[0].identity);
            findings.push(Finding {
                check_id: self.id().to_owned(),
                severity,
                account_id: pipeline.account_id.clone(),
                subject: format!("{}/{name}", pipeline.name),
                principal: Some(person),
                message: format!(
                    "{} called {name}{} on {} {} time(s) in the period",
                    who.name,
                    if name == "StartPipelineExecution" {
                        " with source revision overrides"
                    } else {
                        ""
                    },
                    pipeline.name,
                    events.len()
                ),
                evidence: events
                    .iter()
                    .map(|e| {
                        Evidence::new(
                            "cloudtrail-event",
                            &e.event_id,
                            format!("{} at {}", e.name, e.event_time.to_rfc3339()),
                        )
                    })
                    .collect(),
                waiver: None,
            });
        }
        findings
    }

    /// An UpdatePipeline compared with the version it replaced: weakened is critical (a later update that
    /// restores what was lost is named as evidence); not weakened is None (grouped with the other calls); the
    /// previous version unknown is said.
    fn update_finding(
        &self,
        ctx: &CheckContext,
        pipeline: &Pipeline,
        event: &WriteEvent,
        later: &[&WriteEvent],
    ) -> Option<Finding> {
        let declared = event.request_parameters.as_ref()?.get("pipeline")?;
        let replaced = declared
            .get("version")
            .and_then(serde_json::Value::as_i64)? as i32;
        let person = ctx.people.person_of(&event.identity);
        let new = stages_from_json(declared)?;
        let Some(previous) = pipeline.stages_of(replaced) else {
            return Some(Finding {
                check_id: self.id().to_owned(),
                severity: Severity::Medium,
                account_id: pipeline.account_id.clone(),
                subject: pipeline.name.clone(),
                principal: Some(person.key),
                message: format!(
                    "{} updated {} (replacing version {replaced}), but that version was not collected, so whether \
                     the update removed a gate cannot be shown",
                    person.name, pipeline.name
                ),
                evidence: vec![Evidence::new("cloudtrail-event", &event.event_id, "UpdatePipeline")],
                waiver: None,
            });
        };
        let lost = weakening(previous, &new);
        if lost.is_empty() {
            return None;
        }
        let mut evidence = vec![Evidence::new(
            "cloudtrail-event",
            &event.event_id,
            format!(
                "UpdatePipeline at {} replacing version {replaced}",
                event.event_time.to_rfc3339()
            ),
        )];
        let restore = later.iter().find(|e| {
            e.name == "UpdatePipeline"
                && e.request_parameters
                    .as_ref()
                    .and_then(|p| p.get("pipeline"))
                    .and_then(stages_from_json)
                    .is_some_and(|restored| weakening(previous, &restored).is_empty())
        });
        if let Some(r) = restore {
            evidence.push(Evidence::new(
                "cloudtrail-event",
                &r.event_id,
                format!(
                    "restored by {} at {} (a restore is evidence, not an excuse)",
                    ctx.people.person_of(&r.identity).name,
                    r.event_time.to_rfc3339()
                ),
            ));
        }
        Some(Finding {
            check_id: self.id().to_owned(),
            severity: Severity::Critical,
            account_id: pipeline.account_id.clone(),
            subject: format!("{}/v{}", pipeline.name, replaced + 1),
            principal: Some(person.key),
            message: format!(
                "{} weakened the gates of {} (version {replaced} -> {}): {}{}",
                person.name,
                pipeline.name,
                replaced + 1,
                lost.join("; "),
                if restore.is_some() {
                    "; restored later"
                } else {
                    ""
                }
            ),
            evidence,
            waiver: None,
        })
    }
}

fn has_source_overrides(event: &WriteEvent) -> bool {
    event
        .request_parameters
        .as_ref()
        .and_then(|p| p.get("sourceRevisions"))
        .and_then(serde_json::Value::as_array)
        .is_some_and(|a| !a.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{policy, trust_account, user, Org};
    use crate::model::{EventOrigin, UserIdentity};

    fn update(
        id: &str,
        who: serde_json::Value,
        version: i64,
        with_gate: bool,
        minutes: i64,
    ) -> WriteEvent {
        let mut gate = serde_json::json!({"name": "ProdGate", "actions": []});
        if with_gate {
            gate["actions"] = serde_json::json!([
                {"name": "ApprovalA", "actionTypeId": {"category": "Approval", "provider": "Manual"}},
                {"name": "ApprovalB", "actionTypeId": {"category": "Approval", "provider": "Manual"}}]);
        }
        let params = serde_json::json!({"pipeline": {"name": "webapp", "version": version, "stages": [
            {"name": "Build", "actions": [{"name": "Build", "actionTypeId": {"category": "Build", "provider": "CodeBuild"}}]},
            gate,
            {"name": "DeployProd", "actions": [{"name": "Deploy", "actionTypeId": {"category": "Build", "provider": "CodeBuild"}}]}]}});
        WriteEvent {
            event_id: id.into(),
            event_time: chrono::DateTime::parse_from_rfc3339("2026-11-10T10:00:00Z")
                .map(|t| t.with_timezone(&chrono::Utc))
                .unwrap_or_default()
                + chrono::Duration::minutes(minutes),
            account_id: "111111111111".into(),
            region: "us-east-1".into(),
            source: "codepipeline.amazonaws.com".into(),
            name: "UpdatePipeline".into(),
            read_only: Some(false),
            error_code: None,
            identity: UserIdentity::from_cloudtrail(&who),
            person: String::new(),
            origin: EventOrigin::LookupEvents,
            resources: vec!["webapp".into()],
            request_parameters: Some(params),
        }
    }

    #[test]
    fn removing_the_approvals_is_critical_and_the_restore_is_named() {
        let mut org = Org::two_person_pipeline();
        org.account().pipelines[0].version = 3;
        // version 1 (the testkit's declaration) is what the first update replaced.
        let v1 = crate::model::PipelineVersion {
            version: 1,
            stages: org.account().pipelines[0].stages.clone(),
            ..Default::default()
        };
        let mut v2 = v1.clone();
        v2.version = 2;
        v2.stages.retain(|s| s.name != "ProdGate");
        org.account().pipelines[0].versions.push(v1);
        org.account().pipelines[0].versions.push(v2);
        org.account()
            .write_events
            .push(update("ev-remove", user("mallet"), 1, false, 0));
        org.account()
            .write_events
            .push(update("ev-restore", user("mallet"), 2, true, 30));
        let findings = org.run(&GateBypass);
        let critical: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.severity == Severity::Critical)
            .collect();
        assert_eq!(critical.len(), 1, "{findings:#?}");
        let f = critical[0];
        assert_eq!(f.subject, "webapp/v2");
        assert_eq!(
            f.principal.as_deref(),
            Some("arn:aws:iam::111111111111:user/mallet")
        );
        assert!(
            f.message
                .contains("removed manual approval ProdGate/ApprovalA"),
            "{}",
            f.message
        );
        assert!(f
            .evidence
            .iter()
            .any(|e| e.reference == "ev-restore" && e.detail.contains("restored")));
        // The restore itself weakened nothing: it is reported as an ordinary update, not as critical.
        assert!(
            findings
                .iter()
                .any(|f| f.severity == Severity::Medium
                    && f.message.contains("called UpdatePipeline"))
        );
    }

    #[test]
    fn an_update_of_an_uncollected_version_is_said_not_passed() {
        let mut org = Org::two_person_pipeline();
        org.account()
            .write_events
            .push(update("ev-1", user("mallet"), 7, false, 0));
        let findings = org.run(&GateBypass);
        assert!(
            findings
                .iter()
                .any(|f| f.message.contains("was not collected")),
            "{findings:#?}"
        );
    }

    #[test]
    fn holding_update_pipeline_is_reported_and_read_only_or_deployment_roles_are_not() {
        let mut org = Org::two_person_pipeline();
        org.add_user("reader", &[], Some(policy(serde_json::json!([
            {"Effect": "Allow", "Action": ["codepipeline:Get*", "codepipeline:List*"], "Resource": "*"}]))));
        assert!(org.run(&GateBypass).is_empty());
        org.add_role(
            "PipelineMaintainer",
            trust_account(),
            policy(serde_json::json!([{"Effect": "Allow", "Action": "codepipeline:UpdatePipeline", "Resource": "*"}])),
        );
        let findings = org.run(&GateBypass);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].severity, Severity::High);
        assert!(findings[0].message.contains("codepipeline:UpdatePipeline"));
        org.snapshot
            .declared_deployment_roles
            .push("arn:aws:iam::111111111111:role/PipelineMaintainer".into());
        assert!(org.run(&GateBypass).is_empty());
    }
}
