//! source-provenance (the GitHub-to-S3 article): a pipeline that deploys into production takes its source only
//! from the connections, repositories and branches the rule set allows (`[source]`), and the buckets it deploys
//! from — its artifact store(s) and S3 source buckets — are private (the whole public access block), versioned,
//! and writable only by the pipeline and its build roles.
//!
//! Reads the snapshot through the shared views; must not do I/O.

use super::{Check, CheckContext, InputKind, ISO_CHANGE, NIST_CM5, PCI_CHANGE, SOC2_CHANGE};
use crate::analysis::changes::production_accounts;
use crate::analysis::deployments::action_targets;
use crate::iam::Answer;
use crate::model::{Evidence, Finding, Pipeline, PipelineAction, Setting, Severity};
use crate::rules::matches_any;

pub struct SourceProvenance;

impl Check for SourceProvenance {
    fn id(&self) -> &'static str {
        "source-provenance"
    }
    fn title(&self) -> &'static str {
        "Production deploys only reviewed source, from protected places"
    }
    fn description(&self) -> &'static str {
        "For every pipeline that deploys into a production account: each source action takes its code from an \
         allowed connection and repository and a protected branch (the rule set's [source]); its artifact store \
         and S3 source buckets block all public access, keep versions, and only the pipeline's service, action \
         and build roles (deployment roles) can write to them."
    }
    fn severity(&self) -> Severity {
        Severity::High
    }
    fn references(&self) -> &'static [&'static str] {
        &[SOC2_CHANGE, ISO_CHANGE, NIST_CM5, PCI_CHANGE]
    }
    fn inputs(&self) -> &'static [InputKind] {
        &[
            InputKind::Pipelines,
            InputKind::EvidenceBuckets,
            InputKind::Iam,
            InputKind::OrganizationPolicies,
        ]
    }

    fn run(&self, ctx: &CheckContext) -> Vec<Finding> {
        let prod = production_accounts(ctx.snapshot, ctx.rules);
        let mut findings = Vec::new();
        for account in &ctx.snapshot.accounts {
            for pipeline in &account.pipelines {
                let wanted = |a: &str| prod.contains(a);
                let deploys_to_prod = pipeline
                    .stages
                    .iter()
                    .flat_map(|s| &s.actions)
                    .any(|a| !action_targets(a, pipeline, &wanted).is_empty());
                if !deploys_to_prod {
                    continue;
                }
                for action in pipeline
                    .stages
                    .iter()
                    .flat_map(|s| &s.actions)
                    .filter(|a| a.is_source())
                {
                    findings.extend(self.source_findings(ctx, pipeline, action));
                }
                let mut buckets: Vec<(String, &str)> = pipeline
                    .artifact_stores
                    .iter()
                    .map(|s| (s.location.clone(), "artifact store"))
                    .collect();
                for action in pipeline.stages.iter().flat_map(|s| &s.actions) {
                    if action.is_source() && action.provider.eq_ignore_ascii_case("S3") {
                        if let Some(b) = action.configuration.get("S3Bucket") {
                            buckets.push((b.clone(), "S3 source"));
                        }
                    }
                }
                buckets.sort();
                buckets.dedup_by(|a, b| a.0 == b.0);
                for (bucket, role) in buckets {
                    findings.extend(self.bucket_findings(ctx, pipeline, &bucket, role));
                }
            }
        }
        findings
    }
}

impl SourceProvenance {
    fn finding(
        &self,
        pipeline: &Pipeline,
        subject: String,
        severity: Severity,
        message: String,
        evidence: Vec<Evidence>,
    ) -> Finding {
        Finding {
            check_id: self.id().to_owned(),
            severity,
            account_id: pipeline.account_id.clone(),
            subject,
            principal: None,
            message,
            evidence,
            waiver: None,
        }
    }

    fn source_findings(
        &self,
        ctx: &CheckContext,
        pipeline: &Pipeline,
        action: &PipelineAction,
    ) -> Vec<Finding> {
        let rules = &ctx.rules.source;
        let config = |key: &str| action.configuration.get(key).map(String::as_str);
        let subject = format!("{}/{}", pipeline.name, action.name);
        let evidence = || {
            vec![Evidence::new(
                "pipeline-action",
                subject.clone(),
                format!(
                    "{} source: {}",
                    action.provider,
                    action
                        .configuration
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )]
        };
        let (connection, repository, branch) = match action.provider.as_str() {
            "CodeStarSourceConnection" => (
                config("ConnectionArn"),
                config("FullRepositoryId"),
                config("BranchName"),
            ),
            "CodeCommit" => (None, config("RepositoryName"), config("BranchName")),
            "GitHub" => (None, None, config("Branch")),
            _ => return Vec::new(),
        };
        let mut out = Vec::new();
        if let Some(c) = connection {
            if !rules.allowed_connections.is_empty() && !matches_any(&rules.allowed_connections, c)
            {
                out.push(self.finding(pipeline, subject.clone(), Severity::High,
                    format!("production pipeline {} takes its source through connection {c}, which the rule set does not allow", pipeline.name),
                    evidence()));
            }
        }
        let repository = repository.map(str::to_owned).or_else(|| {
            (action.provider == "GitHub").then(|| {
                format!(
                    "{}/{}",
                    config("Owner").unwrap_or("?"),
                    config("Repo").unwrap_or("?")
                )
            })
        });
        if let Some(r) = &repository {
            if !rules.allowed_repositories.is_empty()
                && !matches_any(&rules.allowed_repositories, r)
            {
                out.push(self.finding(pipeline, subject.clone(), Severity::High,
                    format!("production pipeline {} takes its source from repository {r}, which the rule set does not allow", pipeline.name),
                    evidence()));
            }
        }
        match branch {
            Some(b) if matches_any(&rules.allowed_branches, b) => {}
            Some(b) => out.push(self.finding(pipeline, subject.clone(), Severity::High,
                format!(
                    "production pipeline {} deploys branch {b} of {}, which is not a protected branch (allowed: {})",
                    pipeline.name,
                    repository.as_deref().unwrap_or("its repository"),
                    rules.allowed_branches.join(", ")
                ),
                evidence())),
            None => out.push(self.finding(pipeline, subject.clone(), Severity::Medium,
                format!("the source action of production pipeline {} names no branch, so what it deploys cannot be shown to be protected", pipeline.name),
                evidence())),
        }
        out
    }

    fn bucket_findings(
        &self,
        ctx: &CheckContext,
        pipeline: &Pipeline,
        bucket: &str,
        role: &str,
    ) -> Vec<Finding> {
        let subject = format!("arn:{}:s3:::{bucket}", ctx.snapshot.partition());
        let settings = ctx
            .snapshot
            .accounts
            .iter()
            .flat_map(|a| &a.buckets)
            .find(|b| b.bucket == bucket);
        let Some(settings) = settings else {
            return vec![self.finding(pipeline, subject, Severity::Medium,
                format!("the settings of {role} bucket {bucket} of production pipeline {} were not collected, so its protection cannot be shown", pipeline.name),
                vec![])];
        };
        let mut out = Vec::new();
        let setting = |call: &str, detail: String| {
            vec![Evidence::new(
                "bucket-setting",
                format!("s3:{call}({bucket})"),
                detail,
            )]
        };
        match &settings.versioning {
            Setting::Present(v) if v.is_enabled() => {}
            Setting::Unknown(e) => out.push(self.finding(pipeline, subject.clone(), Severity::Medium,
                format!("the versioning of {role} bucket {bucket} could not be read: {e}"), setting("GetBucketVersioning", e.clone()))),
            _ => out.push(self.finding(pipeline, subject.clone(), Severity::High,
                format!("{role} bucket {bucket} of production pipeline {} keeps no versions: what was deployed can be replaced without a trace", pipeline.name),
                setting("GetBucketVersioning", "not enabled".into()))),
        }
        match &settings.public_access_block {
            Setting::Present(p) if p.blocks_everything() => {}
            Setting::Unknown(e) => out.push(self.finding(pipeline, subject.clone(), Severity::Medium,
                format!("the public access block of {role} bucket {bucket} could not be read: {e}"), setting("GetPublicAccessBlock", e.clone()))),
            Setting::Present(p) => out.push(self.finding(pipeline, subject.clone(), Severity::High,
                format!("{role} bucket {bucket} of production pipeline {} does not block all public access: {} off", pipeline.name, p.missing_flags().join(", ")),
                setting("GetPublicAccessBlock", p.missing_flags().join(", ")))),
            Setting::Absent => out.push(self.finding(pipeline, subject.clone(), Severity::High,
                format!("{role} bucket {bucket} of production pipeline {} has no public access block", pipeline.name),
                setting("GetPublicAccessBlock", "NoSuchPublicAccessBlockConfiguration".into()))),
        }
        // Who can write what the pipeline deploys (besides the pipeline and its build roles).
        for grant in ctx.access.who_can(
            &settings.account_id,
            "s3:PutObject",
            &format!("arn:{}:s3:::{bucket}/*", ctx.snapshot.partition()),
        ) {
            if ctx.access.is_deployment_role(grant.principal)
                || matches_any(&ctx.rules.write_access.break_glass, &grant.principal.arn)
            {
                continue;
            }
            let mut f = self.finding(pipeline, subject.clone(),
                if grant.answer == Answer::Yes { Severity::High } else { Severity::Medium },
                format!(
                    "{} {} write the {role} bucket {bucket} of production pipeline {}, and so replace what it deploys",
                    grant.principal.name,
                    if grant.answer == Answer::Yes { "can" } else { "can possibly" },
                    pipeline.name
                ),
                grant.statements.iter().map(|s| Evidence::new("policy-statement", s, "allows s3:PutObject")).collect());
            f.principal = Some(grant.principal.arn.clone());
            out.push(f);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{policy, trust_account, Org};
    use crate::model::{AccountSnapshot, BucketSettings, PublicAccessBlock, Stage, Versioning};

    const PROD: &str = "444444444444";

    fn prod_pipeline(branch: &str) -> Org {
        let mut org = Org::two_person_pipeline();
        org.snapshot.accounts.push(AccountSnapshot {
            account_id: PROD.into(),
            name: "prod".into(),
            environment: "prod".into(),
            ..AccountSnapshot::default()
        });
        let pipeline = &mut org.account().pipelines[0];
        pipeline.stages.insert(
            0,
            Stage {
                name: "Source".into(),
                actions: vec![PipelineAction {
                    name: "Source".into(),
                    category: "Source".into(),
                    owner: "AWS".into(),
                    provider: "CodeStarSourceConnection".into(),
                    configuration: [
                        (
                            "ConnectionArn".to_owned(),
                            "arn:aws:codeconnections:us-east-1:111111111111:connection/abc"
                                .to_owned(),
                        ),
                        ("FullRepositoryId".to_owned(), "example/webapp".to_owned()),
                        ("BranchName".to_owned(), branch.to_owned()),
                    ]
                    .into_iter()
                    .collect(),
                    ..PipelineAction::default()
                }],
                ..Stage::default()
            },
        );
        if let Some(deploy) = pipeline.stages.last_mut() {
            deploy.actions[0].role_arn =
                Some(format!("arn:aws:iam::{PROD}:role/CICDCrossAccountRole"));
        }
        pipeline.artifact_stores.push(crate::model::ArtifactStore {
            kind: "S3".into(),
            location: "artifacts-111111111111".into(),
            ..Default::default()
        });
        org.account().buckets.push(BucketSettings {
            bucket: "artifacts-111111111111".into(),
            account_id: "111111111111".into(),
            versioning: Setting::Present(Versioning {
                status: Some("Enabled".into()),
                mfa_delete: None,
            }),
            encryption: Setting::Absent,
            public_access_block: Setting::Present(PublicAccessBlock {
                block_public_acls: true,
                ignore_public_acls: true,
                block_public_policy: true,
                restrict_public_buckets: true,
            }),
            policy: Setting::Absent,
            object_lock: Setting::Absent,
            kms_keys: vec![],
        });
        org
    }

    #[test]
    fn a_protected_branch_and_a_private_versioned_store_pass() {
        let findings = prod_pipeline("main").run(&SourceProvenance);
        assert!(findings.is_empty(), "{findings:#?}");
    }

    #[test]
    fn a_feature_branch_in_production_is_reported() {
        let findings = prod_pipeline("feature/hotfix").run(&SourceProvenance);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(
            findings[0]
                .message
                .contains("branch feature/hotfix of example/webapp"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn an_unversioned_store_and_a_human_who_can_write_it_are_reported() {
        let mut org = prod_pipeline("main");
        org.account().buckets[0].versioning = Setting::Absent;
        org.add_role(
            "Dev",
            trust_account(),
            policy(
                serde_json::json!([{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]),
            ),
        );
        let findings = org.run(&SourceProvenance);
        assert_eq!(findings.len(), 2, "{findings:#?}");
        assert!(findings
            .iter()
            .any(|f| f.message.contains("keeps no versions")));
        assert!(findings
            .iter()
            .any(|f| f.principal.as_deref() == Some("arn:aws:iam::111111111111:role/Dev")));
    }

    #[test]
    fn the_rule_set_limits_repositories_and_a_pipeline_not_deploying_to_production_is_not_judged() {
        let mut org = prod_pipeline("main");
        org.rules.source.allowed_repositories = vec!["example/api".into()];
        assert_eq!(org.run(&SourceProvenance).len(), 1);
        let mut org = prod_pipeline("feature/x");
        org.rules.approvals.production_environments = vec!["live".into()];
        assert!(org.run(&SourceProvenance).is_empty());
    }
}
