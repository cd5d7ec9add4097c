//! evidence-hygiene: the evidence itself must be trustworthy. Every CloudTrail trail of every account (its own
//! and the organisation trail it sees) is multi-region, logging, has log-file validation on, and records every
//! read and write management event (event selectors: a finding names what they leave out); every configured evidence bucket (the trail archive and
//! the approval-record buckets, `Snapshot.trail_buckets` / `Snapshot.approval_record_buckets`) has versioning,
//! default encryption, the whole public access block, and no bucket policy statement letting anyone but the
//! deployment roles and AWS services delete objects or replace the policy. Object lock is preferred: its absence is
//! information.
//!
//! Reads the snapshot (trails, and the `BucketSettings` that `collect::buckets` gathered) only; must not do I/O.

use std::collections::BTreeSet;

use wildmatch::WildMatch;

use super::{Check, CheckContext, InputKind, ISO_CHANGE, NIST_CM3, PCI_CHANGE, SOC2_CHANGE};
use crate::analysis::evidence_reach;
use crate::analysis::trail_selectors;
use crate::analysis::trust::statement_ref;
use crate::iam::matching::action_matches;
use crate::iam::policy::{ActionSpec, Effect, PrincipalSpec};
use crate::iam::{Policy, Statement};
use crate::model::{
    AccountSnapshot, BucketRef, BucketSettings, EventSelectors, Evidence, Finding, Setting,
    Severity, StepStatus, Trail,
};

pub struct EvidenceHygiene;

/// Bucket actions that destroy evidence or its protection.
const DESTRUCTIVE_ACTIONS: [&str; 3] = [
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutBucketPolicy",
];

impl Check for EvidenceHygiene {
    fn id(&self) -> &'static str {
        "evidence-hygiene"
    }
    fn title(&self) -> &'static str {
        "Audit evidence is complete, tamper-evident and protected"
    }
    fn description(&self) -> &'static str {
        "Every CloudTrail trail is multi-region, logging, validates its log files and records all read and write \
         management events (its event selectors exclude none). The trail archive and the \
         approval-record buckets have versioning, default encryption and the full public access block, and no \
         bucket policy lets anyone other than deployment roles and AWS services delete objects or replace the \
         policy. Object lock (write once, read many) is preferred and reported as information when absent."
    }
    fn severity(&self) -> Severity {
        Severity::High
    }
    fn references(&self) -> &'static [&'static str] {
        &[SOC2_CHANGE, ISO_CHANGE, NIST_CM3, PCI_CHANGE]
    }

    fn inputs(&self) -> &'static [InputKind] {
        &[
            InputKind::Trails,
            InputKind::EvidenceBuckets,
            InputKind::Iam,
            InputKind::OrganizationPolicies,
        ]
    }

    fn run(&self, ctx: &CheckContext) -> Vec<Finding> {
        let mut findings = Vec::new();
        for account in &ctx.snapshot.accounts {
            findings.extend(self.trail_findings(account));
        }
        let deployment_roles = deployment_roles(ctx);
        let mut seen = BTreeSet::new();
        let configured = ctx
            .snapshot
            .trail_buckets
            .iter()
            .map(|b| (b, "CloudTrail archive"))
            .chain(
                ctx.snapshot
                    .approval_record_buckets
                    .iter()
                    .map(|b| (b, "approval-record")),
            );
        let partition = ctx.snapshot.partition();
        for (bucket, role) in configured {
            if !seen.insert((bucket.account.as_str(), bucket.bucket.as_str())) {
                continue;
            }
            let settings = ctx
                .snapshot
                .account(&bucket.account)
                .and_then(|a| a.buckets.iter().find(|s| s.bucket == bucket.bucket));
            match settings {
                Some(settings) => {
                    findings.extend(self.bucket_findings(
                        settings,
                        role,
                        &deployment_roles,
                        partition,
                    ));
                    findings.extend(self.destroyer_findings(ctx, settings, role));
                }
                None => findings.push(self.not_collected(bucket, role, partition)),
            }
        }
        findings
    }
}

impl EvidenceHygiene {
    /// Principals of other accounts that the evaluator allows to delete or weaken the bucket, and principals of any
    /// account that can disable, delete or re-key its KMS key: named with the people who can act as them.
    fn destroyer_findings(
        &self,
        ctx: &CheckContext,
        settings: &BucketSettings,
        role: &str,
    ) -> Vec<Finding> {
        let mut findings = Vec::new();
        let people = |p: &crate::analysis::access::Principal| -> Vec<Evidence> {
            ctx.reach
                .actors_reaching(&p.arn)
                .filter(|(a, r)| !(r.steps.is_empty() && a.person.key == p.arn))
                .map(|(a, r)| {
                    Evidence::new(
                        "reached-by",
                        a.person.key.clone(),
                        format!("{} {}: {}", a.kind.as_str(), a.person.name, r.describe()),
                    )
                })
                .collect()
        };
        let bucket = settings.arn(ctx.snapshot.partition());
        if let Some(list) = evidence_reach::bucket_destroyers(ctx.access, ctx.rules, settings) {
            for d in list {
                let mut evidence = people(d.principal);
                evidence.push(Evidence::new(
                    "bucket-policy",
                    format!("{bucket} bucket policy"),
                    "admits the principal's account",
                ));
                findings.push(self.finding(
                    if d.certain { Severity::High } else { Severity::Medium },
                    &settings.account_id,
                    &bucket,
                    Some(&d.principal.arn),
                    format!(
                        "{} of account {} {} {} on {role} bucket {} from outside the bucket's account",
                        d.principal.name,
                        d.principal.account_id,
                        if d.certain { "can" } else { "can possibly" },
                        d.actions.join(", "),
                        settings.bucket
                    ),
                    evidence,
                ));
            }
        }
        for key in &settings.kms_keys {
            let key_name = key.arn.clone().unwrap_or_else(|| key.key_id.clone());
            match evidence_reach::key_destroyers(ctx.access, ctx.rules, key) {
                Some(list) => {
                    for d in list {
                        let mut evidence = people(d.principal);
                        evidence.push(Evidence::new(
                            "key-policy",
                            format!("{key_name} key policy"),
                            "allows the principal, directly or by delegating to its account",
                        ));
                        findings.push(self.finding(
                            if d.certain { Severity::High } else { Severity::Medium },
                            &settings.account_id,
                            &key_name,
                            Some(&d.principal.arn),
                            format!(
                                "{} of account {} {} {} on KMS key {key_name}, which encrypts {role} bucket {}: \
                                 the evidence can be made unreadable",
                                d.principal.name,
                                d.principal.account_id,
                                if d.certain { "can" } else { "can possibly" },
                                d.actions.join(", "),
                                settings.bucket
                            ),
                            evidence,
                        ));
                    }
                }
                None => findings.push(self.finding(
                    Severity::Medium,
                    &settings.account_id,
                    &key_name,
                    None,
                    format!(
                        "the key policy of KMS key {key_name} (encrypting {role} bucket {}) could not be read, so who \
                         can make the evidence unreadable cannot be shown",
                        settings.bucket
                    ),
                    vec![Evidence::new("kms-key", key_name.clone(), "kms:GetKeyPolicy")],
                )),
            }
        }
        findings
    }

    fn finding(
        &self,
        severity: Severity,
        account: &str,
        subject: &str,
        principal: Option<&str>,
        message: String,
        evidence: Vec<Evidence>,
    ) -> Finding {
        Finding {
            check_id: self.id().to_owned(),
            severity,
            account_id: account.to_owned(),
            subject: subject.to_owned(),
            principal: principal.map(str::to_owned),
            message,
            evidence,
            waiver: None,
        }
    }

    fn trail_findings(&self, account: &AccountSnapshot) -> Vec<Finding> {
        let id = account.account_id.as_str();
        // "No trail" is a finding only when the trails were read in every region without failing.
        let describe_steps: Vec<_> = account
            .steps
            .iter()
            .filter(|s| s.step.starts_with("cloudtrail:DescribeTrails"))
            .collect();
        let trails_read = !describe_steps.is_empty()
            && describe_steps
                .iter()
                .all(|s| s.status != StepStatus::Failed);
        if account.trails.is_empty() {
            if trails_read {
                return vec![self.finding(
                    Severity::High,
                    id,
                    &format!("account {id}"),
                    None,
                    "no CloudTrail trail records this account's management events, so approvals and changes leave no \
                     lasting evidence"
                        .to_owned(),
                    vec![Evidence::new("collection-step", "cloudtrail:DescribeTrails", "no trail in any region")],
                )];
            }
            return Vec::new();
        }
        let mut findings = Vec::new();
        for trail in &account.trails {
            let evidence = || vec![trail_evidence(trail)];
            if !trail.log_file_validation {
                findings.push(self.finding(
                    Severity::High,
                    id,
                    &trail.arn,
                    None,
                    format!("trail {} has log-file validation off: altered or deleted log files cannot be detected", trail.name),
                    evidence(),
                ));
            }
            if !trail.is_multi_region {
                findings.push(self.finding(
                    Severity::Medium,
                    id,
                    &trail.arn,
                    None,
                    format!("trail {} records only its home region {}: changes in other regions leave no trace", trail.name, trail.home_region),
                    evidence(),
                ));
            }
            match trail.is_logging {
                Some(true) => {}
                Some(false) => findings.push(self.finding(
                    Severity::High,
                    id,
                    &trail.arn,
                    None,
                    format!("trail {} is not logging", trail.name),
                    evidence(),
                )),
                None => findings.push(self.finding(
                    Severity::Low,
                    id,
                    &trail.arn,
                    None,
                    format!(
                        "whether trail {} is logging could not be read (GetTrailStatus)",
                        trail.name
                    ),
                    evidence(),
                )),
            }
            findings.extend(self.selector_finding(id, trail));
        }
        findings
    }

    /// The trail must record every read and write management event: what its event selectors leave out is
    /// missing from the archive, and checks relying on the archive would pass over nothing.
    fn selector_finding(&self, account: &str, trail: &Trail) -> Option<Finding> {
        let Some(selectors) = &trail.event_selectors else {
            return Some(self.finding(
                Severity::Medium,
                account,
                &trail.arn,
                None,
                format!(
                    "the event selectors of trail {} could not be read (GetEventSelectors), so it cannot be shown to \
                     record every management event",
                    trail.name
                ),
                vec![trail_evidence(trail)],
            ));
        };
        let excluded = trail_selectors::exclusions(selectors);
        if excluded.is_empty() {
            return None;
        }
        let severity = if excluded.iter().any(|e| !e.read_only) {
            Severity::High
        } else {
            Severity::Medium
        };
        let what: Vec<String> = excluded.iter().map(|e| e.describe()).collect();
        Some(self.finding(
            severity,
            account,
            &trail.arn,
            None,
            format!(
                "trail {} does not record every management event (read/write All): it leaves out {}, so its log \
                 files hold no evidence of them",
                trail.name,
                what.join(", ")
            ),
            vec![
                trail_evidence(trail),
                Evidence::new(
                    "event-selectors",
                    format!("cloudtrail:GetEventSelectors({})", trail.arn),
                    selectors_text(selectors),
                ),
            ],
        ))
    }

    fn not_collected(&self, bucket: &BucketRef, role: &str, partition: &str) -> Finding {
        self.finding(
            Severity::Medium,
            &bucket.account,
            &format!("arn:{partition}:s3:::{}", bucket.bucket),
            None,
            format!(
                "the protection settings of {role} bucket {} were not collected (is its account {} configured and \
                 readable?), so the evidence's integrity cannot be shown",
                bucket.bucket, bucket.account
            ),
            vec![],
        )
    }

    fn bucket_findings(
        &self,
        settings: &BucketSettings,
        role: &str,
        deployment_roles: &[String],
        partition: &str,
    ) -> Vec<Finding> {
        let account = settings.account_id.as_str();
        let subject = settings.arn(partition);
        let name = &settings.bucket;
        let mut findings = Vec::new();
        let mut push = |severity: Severity,
                        principal: Option<&str>,
                        message: String,
                        evidence: Vec<Evidence>| {
            findings.push(self.finding(severity, account, &subject, principal, message, evidence));
        };
        let setting = |call: &str, detail: String| {
            vec![Evidence::new(
                "bucket-setting",
                format!("s3:{call}({name})"),
                detail,
            )]
        };
        let unknown = |what: &str, error: &str| {
            format!("the {what} of {role} bucket {name} could not be read: {error}")
        };

        match &settings.versioning {
            Setting::Present(v) if v.is_enabled() => {}
            Setting::Present(v) => push(
                Severity::High,
                None,
                format!(
                    "{role} bucket {name} has versioning {}: evidence can be overwritten or deleted without a trace",
                    v.status.as_deref().map(str::to_lowercase).unwrap_or_else(|| "never enabled".to_owned())
                ),
                setting("GetBucketVersioning", format!("Status={}", v.status.as_deref().unwrap_or("(none)"))),
            ),
            Setting::Absent => push(
                Severity::High,
                None,
                format!("{role} bucket {name} has versioning never enabled: evidence can be overwritten or deleted without a trace"),
                setting("GetBucketVersioning", "Status=(none)".to_owned()),
            ),
            Setting::Unknown(e) => push(Severity::Medium, None, unknown("versioning", e), setting("GetBucketVersioning", e.clone())),
        }
        match &settings.encryption {
            Setting::Present(rules) if !rules.is_empty() => {}
            Setting::Present(_) | Setting::Absent => push(
                Severity::Medium,
                None,
                format!("{role} bucket {name} has no default encryption"),
                setting(
                    "GetBucketEncryption",
                    "ServerSideEncryptionConfigurationNotFoundError".to_owned(),
                ),
            ),
            Setting::Unknown(e) => push(
                Severity::Medium,
                None,
                unknown("default encryption", e),
                setting("GetBucketEncryption", e.clone()),
            ),
        }
        match &settings.public_access_block {
            Setting::Present(pab) if pab.blocks_everything() => {}
            Setting::Present(pab) => push(
                Severity::High,
                None,
                format!(
                    "{role} bucket {name} does not block all public access: {} off",
                    pab.missing_flags().join(", ")
                ),
                setting(
                    "GetPublicAccessBlock",
                    format!("off: {}", pab.missing_flags().join(", ")),
                ),
            ),
            Setting::Absent => push(
                Severity::High,
                None,
                format!("{role} bucket {name} has no public access block"),
                setting(
                    "GetPublicAccessBlock",
                    "NoSuchPublicAccessBlockConfiguration".to_owned(),
                ),
            ),
            Setting::Unknown(e) => push(
                Severity::Medium,
                None,
                unknown("public access block", e),
                setting("GetPublicAccessBlock", e.clone()),
            ),
        }
        match &settings.policy {
            Setting::Present(document) => {
                let source = format!("{subject} bucket policy");
                match Policy::parse(&source, document) {
                    Ok(policy) => {
                        for (statement, principal) in destructive_grants(&policy, deployment_roles) {
                            push(
                                Severity::High,
                                Some(&principal),
                                format!(
                                    "the policy of {role} bucket {name} lets {principal} delete evidence or replace the policy"
                                ),
                                vec![Evidence::new("policy-statement", statement_ref(&source, statement), actions_text(statement))],
                            );
                        }
                    }
                    Err(e) => push(
                        Severity::High,
                        None,
                        format!("the policy of {role} bucket {name} cannot be parsed, so who may delete evidence cannot be proven: {e}"),
                        setting("GetBucketPolicy", String::new()),
                    ),
                }
            }
            Setting::Absent => {}
            Setting::Unknown(e) => push(
                Severity::Medium,
                None,
                unknown("bucket policy", e),
                setting("GetBucketPolicy", e.clone()),
            ),
        }
        match &settings.object_lock {
            Setting::Present(lock) if lock.enabled => {}
            Setting::Present(_) | Setting::Absent => push(
                Severity::Info,
                None,
                format!("{role} bucket {name} has no object lock; write-once retention would make the evidence tamper-proof"),
                setting("GetObjectLockConfiguration", "ObjectLockConfigurationNotFoundError".to_owned()),
            ),
            Setting::Unknown(e) => push(Severity::Low, None, unknown("object lock configuration", e), setting("GetObjectLockConfiguration", e.clone())),
        }
        findings
    }
}

fn trail_evidence(trail: &Trail) -> Evidence {
    Evidence::new(
        "trail",
        &trail.arn,
        format!(
            "multi-region={} log-file-validation={} logging={} bucket={}",
            trail.is_multi_region,
            trail.log_file_validation,
            trail
                .is_logging
                .map(|l| l.to_string())
                .unwrap_or_else(|| "unknown".to_owned()),
            trail.s3_bucket.as_deref().unwrap_or("-")
        ),
    )
}

/// The selectors in brief, e.g. `basic: ReadWriteType=WriteOnly IncludeManagementEvents=true`.
fn selectors_text(selectors: &EventSelectors) -> String {
    let basic = selectors.basic.iter().map(|s| {
        let mut text = format!(
            "basic: ReadWriteType={} IncludeManagementEvents={}",
            s.read_write_type, s.include_management_events
        );
        if !s.exclude_management_event_sources.is_empty() {
            text.push_str(&format!(
                " ExcludeManagementEventSources={}",
                s.exclude_management_event_sources.join(",")
            ));
        }
        text
    });
    let advanced = selectors.advanced.iter().map(|s| {
        let fields: Vec<String> = s
            .field_selectors
            .iter()
            .map(|f| {
                let ops = [
                    ("Equals", &f.equals),
                    ("StartsWith", &f.starts_with),
                    ("EndsWith", &f.ends_with),
                    ("NotEquals", &f.not_equals),
                    ("NotStartsWith", &f.not_starts_with),
                    ("NotEndsWith", &f.not_ends_with),
                ];
                let parts: Vec<String> = ops
                    .iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(op, v)| format!("{} {op} {}", f.field, v.join("|")))
                    .collect();
                parts.join(" and ")
            })
            .collect();
        format!(
            "advanced{}: {}",
            s.name
                .as_deref()
                .map(|n| format!(" {n:?}"))
                .unwrap_or_default(),
            fields.join(" and ")
        )
    });
    let all: Vec<String> = basic.chain(advanced).collect();
    if all.is_empty() {
        "no selectors".to_owned()
    } else {
        all.join("; ")
    }
}

/// `Allow` statements granting a destructive action, with each principal that is neither an AWS service nor a
/// deployment role.
fn destructive_grants<'p>(
    policy: &'p Policy,
    deployment_roles: &[String],
) -> Vec<(&'p Statement, String)> {
    let mut out = Vec::new();
    for statement in policy
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
    {
        let destructive = DESTRUCTIVE_ACTIONS
            .iter()
            .any(|action| match &statement.action {
                ActionSpec::Action(patterns) => patterns.iter().any(|p| action_matches(p, action)),
                ActionSpec::NotAction(patterns) => {
                    !patterns.iter().any(|p| action_matches(p, action))
                }
            });
        if !destructive {
            continue;
        }
        let principals: Vec<String> = match &statement.principal {
            None | Some(PrincipalSpec::NotPrincipal(_)) => vec!["*".to_owned()],
            Some(PrincipalSpec::Principal(who)) => {
                let mut list: Vec<String> = Vec::new();
                if who.any {
                    list.push("*".to_owned());
                }
                list.extend(
                    who.aws
                        .iter()
                        .filter(|arn| {
                            !deployment_roles
                                .iter()
                                .any(|p| WildMatch::new(p).matches(arn))
                        })
                        .cloned(),
                );
                list.extend(who.federated.iter().cloned());
                list.extend(
                    who.canonical_user
                        .iter()
                        .map(|c| format!("CanonicalUser:{c}")),
                );
                list
            }
        };
        out.extend(principals.into_iter().map(|p| (statement, p)));
    }
    out
}

fn actions_text(statement: &Statement) -> String {
    match &statement.action {
        ActionSpec::Action(a) => format!("Allow {}", a.join(", ")),
        ActionSpec::NotAction(a) => format!("Allow NotAction {}", a.join(", ")),
    }
}

/// Role ARN patterns that deploy: the rule set's and the configuration's, and the pipelines' service and action
/// roles.
fn deployment_roles(ctx: &CheckContext) -> Vec<String> {
    let mut roles: Vec<String> = ctx.rules.write_access.deployment_roles.clone();
    roles.extend(ctx.snapshot.declared_deployment_roles.iter().cloned());
    for pipeline in ctx
        .snapshot
        .accounts
        .iter()
        .flat_map(|a| a.pipelines.iter())
    {
        roles.push(pipeline.role_arn.clone());
        roles.extend(
            pipeline
                .stages
                .iter()
                .flat_map(|s| s.actions.iter())
                .filter_map(|a| a.role_arn.clone()),
        );
    }
    roles.sort();
    roles.dedup();
    roles
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{Org, ACCOUNT};
    use crate::model::{CollectionStep, EncryptionRule, ObjectLock, PublicAccessBlock, Versioning};

    const BUCKET: &str = "approval-records-111111111111";

    fn good_trail() -> Trail {
        Trail {
            name: "management-events".into(),
            arn: format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/management-events"),
            home_region: "us-east-1".into(),
            s3_bucket: Some("cloudtrail-logs".into()),
            is_multi_region: true,
            log_file_validation: true,
            is_logging: Some(true),
            event_selectors: Some(EventSelectors::all_management_events()),
            ..Trail::default()
        }
    }

    fn good_bucket() -> BucketSettings {
        BucketSettings {
            bucket: BUCKET.into(),
            account_id: ACCOUNT.into(),
            versioning: Setting::Present(Versioning {
                status: Some("Enabled".into()),
                mfa_delete: None,
            }),
            encryption: Setting::Present(vec![EncryptionRule {
                algorithm: "aws:kms".into(),
                ..EncryptionRule::default()
            }]),
            public_access_block: Setting::Present(PublicAccessBlock {
                block_public_acls: true,
                ignore_public_acls: true,
                block_public_policy: true,
                restrict_public_buckets: true,
            }),
            policy: Setting::Absent,
            object_lock: Setting::Present(ObjectLock {
                enabled: true,
                mode: Some("COMPLIANCE".into()),
                days: Some(365),
                years: None,
            }),
            kms_keys: vec![],
        }
    }

    /// The testkit account with one good trail and one good approval-record bucket.
    fn hygienic_org() -> Org {
        let mut org = Org::two_person_pipeline();
        org.snapshot.approval_record_buckets = vec![BucketRef {
            account: ACCOUNT.into(),
            bucket: BUCKET.into(),
            prefix: "PipelineApprovalGateActions/".into(),
        }];
        let account = org.account();
        account.steps.push(CollectionStep {
            step: "cloudtrail:DescribeTrails+GetTrailStatus".into(),
            region: None,
            status: StepStatus::Ok,
            items: 1,
            error: None,
            note: None,
        });
        account.trails.push(good_trail());
        account.buckets.push(good_bucket());
        org
    }

    #[test]
    fn protected_trails_and_buckets_pass() {
        let findings = hygienic_org().run(&EvidenceHygiene);
        assert!(findings.is_empty(), "{findings:#?}");
    }

    #[test]
    fn a_trail_without_log_file_validation_is_high() {
        let mut org = hygienic_org();
        org.account().trails[0].log_file_validation = false;
        let findings = org.run(&EvidenceHygiene);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].severity, Severity::High);
        assert_eq!(findings[0].subject, good_trail().arn);
        assert!(findings[0].message.contains("log-file validation off"));
    }

    #[test]
    fn single_region_and_stopped_trails_are_reported() {
        let mut org = hygienic_org();
        org.account().trails[0].is_multi_region = false;
        org.account().trails[0].is_logging = Some(false);
        let findings = org.run(&EvidenceHygiene);
        assert_eq!(findings.len(), 2, "{findings:#?}");
    }

    #[test]
    fn a_trail_whose_selectors_leave_out_management_events_is_named_with_what_it_excludes() {
        use crate::model::{AdvancedEventSelector, BasicEventSelector, FieldSelector};
        let mut org = hygienic_org();
        org.account().trails[0].event_selectors = Some(EventSelectors {
            basic: vec![BasicEventSelector {
                read_write_type: "ReadOnly".into(),
                include_management_events: true,
                exclude_management_event_sources: vec![],
                data_resources: 0,
            }],
            advanced: vec![],
        });
        let findings = org.run(&EvidenceHygiene);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].severity, Severity::High);
        assert_eq!(findings[0].subject, good_trail().arn);
        assert!(
            findings[0]
                .message
                .contains("trail management-events does not record every management event")
                && findings[0]
                    .message
                    .contains("leaves out write management events"),
            "{}",
            findings[0].message
        );
        assert!(findings[0].evidence[1]
            .detail
            .contains("ReadWriteType=ReadOnly"));

        // Advanced selectors that drop KMS writes and every read.
        org.account().trails[0].event_selectors = Some(EventSelectors {
            basic: vec![],
            advanced: vec![AdvancedEventSelector {
                name: Some("writes without KMS".into()),
                field_selectors: vec![
                    FieldSelector {
                        field: "eventCategory".into(),
                        equals: vec!["Management".into()],
                        ..FieldSelector::default()
                    },
                    FieldSelector {
                        field: "readOnly".into(),
                        equals: vec!["false".into()],
                        ..FieldSelector::default()
                    },
                    FieldSelector {
                        field: "eventSource".into(),
                        not_equals: vec!["kms.amazonaws.com".into()],
                        ..FieldSelector::default()
                    },
                ],
            }],
        });
        let findings = org.run(&EvidenceHygiene);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(
            findings[0].message.contains(
                "leaves out write management events from kms.amazonaws.com, read management events"
            ),
            "{}",
            findings[0].message
        );

        // Selectors that could not be read are said, never taken as "records everything".
        org.account().trails[0].event_selectors = None;
        let findings = org.run(&EvidenceHygiene);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(findings[0]
            .message
            .contains("could not be read (GetEventSelectors)"));
    }

    #[test]
    fn an_account_without_any_trail_is_reported() {
        let mut org = hygienic_org();
        org.account().trails.clear();
        let findings = org.run(&EvidenceHygiene);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(findings[0].message.contains("no CloudTrail trail"));
    }

    #[test]
    fn a_bucket_without_versioning_is_high() {
        let mut org = hygienic_org();
        org.account().buckets[0].versioning = Setting::Present(Versioning::default());
        let findings = org.run(&EvidenceHygiene);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].severity, Severity::High);
        assert_eq!(findings[0].subject, format!("arn:aws:s3:::{BUCKET}"));
        assert!(
            findings[0].message.contains("versioning never enabled"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn missing_encryption_public_access_block_and_object_lock_are_graded() {
        let mut org = hygienic_org();
        let bucket = &mut org.account().buckets[0];
        bucket.encryption = Setting::Absent;
        bucket.public_access_block = Setting::Absent;
        bucket.object_lock = Setting::Absent;
        let severities: Vec<Severity> = org
            .run(&EvidenceHygiene)
            .iter()
            .map(|f| f.severity)
            .collect();
        assert_eq!(
            severities,
            vec![Severity::Medium, Severity::High, Severity::Info]
        );
    }

    #[test]
    fn an_unreadable_setting_is_not_mistaken_for_an_absent_one() {
        let mut org = hygienic_org();
        org.account().buckets[0].encryption = Setting::Unknown("AccessDenied".into());
        let findings = org.run(&EvidenceHygiene);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(findings[0]
            .message
            .contains("could not be read: AccessDenied"));
    }

    #[test]
    fn a_policy_letting_a_user_delete_evidence_names_the_user_but_services_and_deployers_pass() {
        let mut org = hygienic_org();
        org.rules
            .write_access
            .deployment_roles
            .push(format!("arn:aws:iam::{ACCOUNT}:role/Deployer"));
        org.account().buckets[0].policy = Setting::Present(
            serde_json::json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "*"},
                {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/Deployer")}, "Action": "s3:*", "Resource": "*"},
                {"Sid": "Cleanup", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/mallory")},
                 "Action": "s3:DeleteObject*", "Resource": format!("arn:aws:s3:::{BUCKET}/*")},
                {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
            ]}),
        );
        let findings = org.run(&EvidenceHygiene);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(
            findings[0].principal.as_deref(),
            Some("arn:aws:iam::111111111111:user/mallory")
        );
        assert!(
            findings[0].evidence[0]
                .reference
                .ends_with("bucket policy#Statement[2] (Cleanup)"),
            "{:?}",
            findings[0].evidence
        );
    }

    #[test]
    fn a_configured_bucket_that_was_not_collected_is_reported() {
        let mut org = hygienic_org();
        org.account().buckets.clear();
        let findings = org.run(&EvidenceHygiene);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(findings[0].message.contains("were not collected"));
    }

    /// A second account whose role `Ops` holds s3:* and kms:* on everything.
    fn with_other_account(org: &mut Org) -> String {
        let other = "222222222222";
        let policy = crate::checks::testkit::policy(serde_json::json!([
            {"Effect": "Allow", "Action": ["s3:*", "kms:*"], "Resource": "*"}]));
        let trust = crate::checks::testkit::policy(serde_json::json!([
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": format!("arn:aws:iam::{other}:root")}}]));
        org.snapshot.accounts.push(AccountSnapshot {
            account_id: other.into(),
            name: "dev".into(),
            environment: "dev".into(),
            iam: Some(crate::model::IamSnapshot {
                roles: vec![crate::model::IamRole {
                    name: "Ops".into(),
                    arn: format!("arn:aws:iam::{other}:role/Ops"),
                    path: "/".into(),
                    trust_policy: trust,
                    inline_policies: vec![crate::model::InlinePolicy {
                        name: "ops".into(),
                        document: policy,
                    }],
                    ..crate::model::IamRole::default()
                }],
                ..crate::model::IamSnapshot::default()
            }),
            ..AccountSnapshot::default()
        });
        format!("arn:aws:iam::{other}:role/Ops")
    }

    #[test]
    fn a_principal_of_another_account_that_the_bucket_policy_admits_can_delete_evidence() {
        let mut org = hygienic_org();
        let ops = with_other_account(&mut org);
        assert!(
            org.run(&EvidenceHygiene).is_empty(),
            "no bucket policy: nobody outside can delete"
        );
        org.account().buckets[0].policy = Setting::Present(
            serde_json::json!({"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                "Action": "s3:DeleteObject", "Resource": format!("arn:aws:s3:::{BUCKET}/*")}]}),
        );
        let findings = org.run(&EvidenceHygiene);
        let reached: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.principal.as_deref() == Some(ops.as_str()))
            .collect();
        assert_eq!(reached.len(), 1, "{findings:#?}");
        assert!(
            reached[0].message.contains("s3:DeleteObject"),
            "{}",
            reached[0].message
        );
        assert!(reached[0]
            .message
            .contains("from outside the bucket's account"));
    }

    #[test]
    fn whoever_can_disable_the_evidence_key_is_reported_only_where_the_key_policy_allows() {
        let mut org = hygienic_org();
        let ops = with_other_account(&mut org);
        let key_arn = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd");
        let key = |statements: serde_json::Value| crate::model::KmsKey {
            key_id: key_arn.clone(),
            arn: Some(key_arn.clone()),
            manager: Some("CUSTOMER".into()),
            policy: Setting::Present(
                serde_json::json!({"Version": "2012-10-17", "Statement": statements}),
            ),
        };
        org.add_role(
            "KeyAdmin",
            crate::checks::testkit::trust_account(),
            crate::checks::testkit::policy(serde_json::json!([
                {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}])),
        );
        let admin = format!("arn:aws:iam::{ACCOUNT}:role/KeyAdmin");
        // The key policy names only its own administrator: the other account's kms:* grants nothing.
        org.account().buckets[0].kms_keys = vec![key(serde_json::json!([
            {"Effect": "Allow", "Principal": {"AWS": admin.clone()}, "Action": "kms:*", "Resource": "*"}]))];
        let findings = org.run(&EvidenceHygiene);
        let principals: Vec<&str> = findings
            .iter()
            .filter_map(|f| f.principal.as_deref())
            .collect();
        assert!(principals.contains(&admin.as_str()), "{findings:#?}");
        assert!(!principals.contains(&ops.as_str()), "{findings:#?}");
        assert!(findings
            .iter()
            .any(|f| f.message.contains("kms:ScheduleKeyDeletion")
                && f.message.contains("unreadable")));
        // A key policy delegating to the other account lets its role in.
        org.account().buckets[0].kms_keys = vec![key(serde_json::json!([
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "kms:*", "Resource": "*"}]))];
        let findings = org.run(&EvidenceHygiene);
        assert!(
            findings
                .iter()
                .any(|f| f.principal.as_deref() == Some(ops.as_str())),
            "{findings:#?}"
        );
        // An unreadable key policy is said, never taken as "nobody".
        org.account().buckets[0].kms_keys[0].policy = Setting::Unknown("AccessDenied".into());
        let findings = org.run(&EvidenceHygiene);
        assert!(
            findings
                .iter()
                .any(|f| f.message.contains("could not be read")),
            "{findings:#?}"
        );
    }
}
