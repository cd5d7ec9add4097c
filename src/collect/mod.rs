//! Collection: the only code that talks to AWS. It reads every configured account (concurrently, bounded) and
//! returns a [`Snapshot`]. Every call is a List/Get/Describe/LookupEvents call: the auditor never changes an
//! audited account. A failure is recorded in the account's steps; it never makes an account disappear.

mod buckets;
mod cloudtrail;
mod codepipeline;
mod iam;
pub mod limits;
pub mod operations;
pub mod records;
pub mod session;
pub mod trail_archive;

use chrono::{DateTime, Utc};
use futures::{stream, StreamExt};

pub use iam::decode_policy_document;
pub use session::SessionOptions;

use crate::config::{AccountConfig, Config};
use crate::model::{
    AccountSnapshot, BucketRef, CollectionStep, Period, Snapshot, StepStatus, SCHEMA_VERSION,
};

/// The steps of one account, in the order they ran.
#[derive(Default)]
pub struct StepLog {
    steps: Vec<CollectionStep>,
}

impl StepLog {
    fn push(
        &mut self,
        step: &str,
        region: Option<&str>,
        status: StepStatus,
        items: usize,
        error: Option<String>,
    ) {
        if let Some(e) = &error {
            tracing::warn!(step, region, error = %e, "collection step did not fully succeed");
        }
        self.steps.push(CollectionStep {
            step: step.to_owned(),
            region: region.map(str::to_owned),
            status,
            items,
            error,
        });
    }
    pub fn ok(&mut self, step: &str, region: Option<&str>, items: usize) {
        self.push(step, region, StepStatus::Ok, items, None);
    }
    pub fn failed(&mut self, step: &str, region: Option<&str>, error: String) {
        self.push(step, region, StepStatus::Failed, 0, Some(error));
    }
    pub fn partial(&mut self, step: &str, region: Option<&str>, items: usize, note: String) {
        self.push(step, region, StepStatus::Partial, items, Some(note));
    }
    pub fn into_steps(self) -> Vec<CollectionStep> {
        self.steps
    }
}

pub fn to_chrono(t: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

pub fn to_smithy(t: DateTime<Utc>) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs_and_nanos(t.timestamp(), t.timestamp_subsec_nanos())
}

/// A run id: UTC time of the run (readable, sortable) and 64 random bits, so that runs started in the same
/// second never share an id (nor a report folder).
pub fn new_run_id(now: DateTime<Utc>) -> String {
    format!(
        "{}-{}",
        now.format("%Y%m%dT%H%M%SZ"),
        crate::report::staging::random_suffix()
    )
}

/// Collects every configured account. Progress goes to the tracing log; failures go into the snapshot.
pub async fn collect(
    config: &Config,
    period: Period,
    options: &SessionOptions,
    rule_set: (&str, &str),
) -> Snapshot {
    let base = session::base_config(config, options).await;
    // Person keys of write events are computed with the run's rule set (checks recompute them anyway).
    let identity_rules = crate::rules::RuleSet::parse(rule_set.1, rule_set.0)
        .map(|r| r.identity)
        .unwrap_or_default();
    let accounts: Vec<AccountSnapshot> = stream::iter(config.accounts.iter())
        .map(|account| collect_account(&base, config, account, &period, &identity_rules))
        .buffer_unordered(config.max_concurrency)
        .collect()
        .await;
    let mut accounts = accounts;
    // Keep the configuration's order, whatever order the accounts finished in.
    accounts.sort_by_key(|a| config.accounts.iter().position(|c| c.id == a.account_id));
    // Events read from the trail archive go to the accounts they belong to, merged with LookupEvents by event id.
    crate::trail::distribute(&mut accounts);
    let now = Utc::now();
    Snapshot {
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        run_id: new_run_id(now),
        organisation: config.organisation.clone(),
        collected_at: now,
        period,
        cicd_account: config.cicd_account.clone(),
        regions: config.regions.clone(),
        rule_set: rule_set.0.to_owned(),
        rule_set_source: rule_set.1.to_owned(),
        declared_deployment_roles: config.deployment_roles.clone(),
        approval_record_buckets: config
            .approval_record_buckets
            .iter()
            .map(bucket_ref)
            .collect(),
        trail_buckets: config.trail_buckets.iter().map(bucket_ref).collect(),
        accounts,
    }
}

fn bucket_ref(b: &crate::config::BucketConfig) -> BucketRef {
    BucketRef {
        account: b.account.clone(),
        bucket: b.bucket.clone(),
        prefix: b.prefix.clone(),
    }
}

async fn collect_account(
    base: &session::BaseSession,
    config: &Config,
    account: &AccountConfig,
    period: &Period,
    identity_rules: &crate::rules::IdentityRules,
) -> AccountSnapshot {
    let mut snapshot = AccountSnapshot {
        account_id: account.id.clone(),
        name: account.name.clone(),
        environment: account.environment.clone(),
        role_arn: config.role_arn(account),
        ..AccountSnapshot::default()
    };
    let mut log = StepLog::default();
    let step = if snapshot.role_arn.is_some() {
        "sts:AssumeRole"
    } else {
        "sts:GetCallerIdentity"
    };
    let clients = match session::account_clients(base, config, account).await {
        Ok(c) => {
            log.ok(step, None, 1);
            c
        }
        Err(e) => {
            log.failed(step, None, e);
            snapshot.steps = log.into_steps();
            return snapshot;
        }
    };
    tracing::info!(account = %account.id, name = %account.name, "collecting");
    snapshot.iam = iam::collect(&clients, &mut log).await;
    for region in &config.regions {
        let trails = cloudtrail::trails(&clients, region, &mut log).await;
        for t in trails {
            if !snapshot.trails.iter().any(|known| known.arn == t.arn) {
                snapshot.trails.push(t);
            }
        }
        snapshot
            .approval_events
            .extend(cloudtrail::approval_events(&clients, region, period, &mut log).await);
        snapshot.write_events.extend(
            cloudtrail::write_events(&clients, region, period, identity_rules, &mut log).await,
        );
        snapshot
            .pipelines
            .extend(codepipeline::collect(&clients, region, period, &mut log).await);
    }
    for bucket in config
        .approval_record_buckets
        .iter()
        .filter(|b| b.account == account.id)
    {
        snapshot
            .approval_records
            .extend(records::collect(&clients, bucket, period, &mut log).await);
    }
    for bucket in config
        .trail_buckets
        .iter()
        .filter(|b| b.account == account.id)
    {
        let options = trail_archive::ArchiveOptions::for_audit(
            config.accounts.iter().map(|a| a.id.clone()).collect(),
            config.regions.clone(),
            identity_rules.clone(),
        );
        snapshot
            .trail_archives
            .push(trail_archive::collect(&clients, bucket, period, &options, &mut log).await);
    }
    for bucket in config
        .approval_record_buckets
        .iter()
        .chain(&config.trail_buckets)
        .filter(|b| b.account == account.id)
    {
        if !snapshot
            .buckets
            .iter()
            .any(|known| known.bucket == bucket.bucket)
        {
            snapshot
                .buckets
                .push(buckets::collect(&clients, bucket, &mut log).await);
        }
    }
    snapshot.steps = log.into_steps();
    snapshot
}
