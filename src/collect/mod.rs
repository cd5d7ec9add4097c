//! Collection: the only code that talks to AWS. It reads every configured account (concurrently, bounded) and
//! returns a [`Snapshot`]. Every call is a List/Get/Describe/LookupEvents call: the auditor never changes an
//! audited account. A failure is recorded in the account's steps; it never makes an account disappear.

pub mod athena;
mod buckets;
pub mod call_counts;
mod cloudtrail;
mod codepipeline;
pub mod gate;
mod iam;
mod identity_center;
pub mod limits;
pub mod operations;
mod organizations;
pub mod records;
pub mod session;
pub mod trail_archive;
pub mod trail_athena;

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
    windows: Vec<crate::model::LookupWindow>,
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
            note: None,
        });
    }
    pub fn ok(&mut self, step: &str, region: Option<&str>, items: usize) {
        self.push(step, region, StepStatus::Ok, items, None);
    }
    /// The call succeeded and what it found is worth saying in words (e.g. "not configured").
    pub fn ok_with_note(&mut self, step: &str, region: Option<&str>, items: usize, note: String) {
        self.push(step, region, StepStatus::Ok, items, None);
        if let Some(last) = self.steps.last_mut() {
            last.note = Some(note);
        }
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
    /// Records the window of a LookupEvents read.
    pub fn window(&mut self, window: crate::model::LookupWindow) {
        self.windows.push(window);
    }
    /// The LookupEvents windows recorded so far (taken out of the log).
    pub fn take_windows(&mut self) -> Vec<crate::model::LookupWindow> {
        std::mem::take(&mut self.windows)
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

/// Where an incremental run starts each account's LookupEvents reads: `(account, region)` to the `StartTime`
/// (within the period); an account and region not listed is read over the whole period.
#[derive(Debug, Clone, Default)]
pub struct LookupResume {
    pub starts: std::collections::BTreeMap<(String, String), DateTime<Utc>>,
}

impl LookupResume {
    /// The window LookupEvents is asked for in `account` and `region`.
    pub fn period_for(&self, account: &str, region: &str, period: &Period) -> Period {
        let since = self
            .starts
            .get(&(account.to_owned(), region.to_owned()))
            .map_or(period.since, |start| (*start).max(period.since));
        Period {
            since: since.min(period.until),
            until: period.until,
        }
    }
}

/// Collects every configured account. Progress goes to the tracing log; failures go into the snapshot.
pub async fn collect(
    config: &Config,
    period: Period,
    options: &SessionOptions,
    rule_set: (&str, &str),
) -> Snapshot {
    collect_resuming(config, period, options, rule_set, &LookupResume::default()).await
}

/// [`collect`], with the LookupEvents reads of an incremental run starting where `resume` says (the events
/// before that are carried over from the earlier run by the caller: `crate::store::incremental`).
pub async fn collect_resuming(
    config: &Config,
    period: Period,
    options: &SessionOptions,
    rule_set: (&str, &str),
    resume: &LookupResume,
) -> Snapshot {
    let base = session::base_config(config, options).await;
    // Person keys of write events are computed with the run's rule set (checks recompute them anyway).
    let identity_rules = crate::rules::RuleSet::parse(rule_set.1, rule_set.0)
        .map(|r| r.identity)
        .unwrap_or_default();
    let discovering = crate::progress::Phase::start("discovery", 0);
    let discovery = discover(&base, config).await;
    discovering.finish();
    let audited: Vec<String> = discovery
        .targets
        .iter()
        .map(|t| t.account.id.clone())
        .collect();
    // Identity Center is read from the organisation's account while the accounts are collected: its reads
    // (per permission set and account, per group) do not wait for theirs, nor theirs for it.
    let identity_center = async {
        match (&config.organization, &discovery.org_clients) {
            (Some(org), Some(Ok(clients))) if org.identity_center => {
                let region = org
                    .identity_center_region
                    .clone()
                    .or_else(|| config.regions.first().cloned())
                    .unwrap_or_else(|| "us-east-1".to_owned());
                Some(identity_center::collect(clients, &region, &audited).await)
            }
            (Some(org), Some(Err(e))) if org.identity_center => {
                let mut log = StepLog::default();
                log.failed(org_assume_step(config), None, e.clone());
                Some(crate::model::IdentityCenterSnapshot {
                    read_from: org.account.clone(),
                    steps: log.into_steps(),
                    ..Default::default()
                })
            }
            _ => None,
        }
    };
    let phase = crate::progress::Phase::start("accounts", discovery.targets.len() as u64);
    let accounts = stream::iter(discovery.targets.iter())
        .map(|target| {
            let progress = phase.account(&target.account.id, &target.account.name);
            let (base, audited, period, identity_rules) =
                (&base, &audited, &period, &identity_rules);
            async move {
                let snapshot = collect_account(
                    base,
                    config,
                    target,
                    audited,
                    (period, resume),
                    identity_rules,
                    &progress,
                )
                .await;
                let not_ok = snapshot
                    .steps
                    .iter()
                    .filter(|s| s.status != crate::model::StepStatus::Ok)
                    .count();
                progress.done(snapshot.steps.len(), not_ok);
                snapshot
            }
        })
        .buffer_unordered(config.max_concurrency)
        .collect::<Vec<AccountSnapshot>>();
    let (identity_center, accounts) = futures::join!(identity_center, accounts);
    phase.finish();
    let mut accounts = accounts;
    // Keep the discovery (or configuration) order, whatever order the accounts finished in.
    accounts.sort_by_key(|a| audited.iter().position(|id| *id == a.account_id));
    let mut identity_center = identity_center;
    if let Some(ic) = identity_center.as_mut() {
        invisible_instance(ic, &accounts);
    }
    // Events read from the trail archive go to the accounts they belong to, merged with LookupEvents by event id.
    crate::trail::distribute(&mut accounts);
    for account in &mut accounts {
        keep_configured_scope(account, &config.regions);
    }
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
        organization: discovery.organization,
        identity_center,
    }
}

/// Identity Center answers an account that is neither the management account nor its delegated administrator
/// with no instance rather than a denial. When permission-set roles exist in the audited accounts, an empty
/// answer cannot be true: the read is failed, naming the accounts whose roles prove the instance exists.
fn invisible_instance(ic: &mut crate::model::IdentityCenterSnapshot, accounts: &[AccountSnapshot]) {
    if !ic.instance_arn.is_empty() || ic.steps.iter().any(|s| s.status != StepStatus::Ok) {
        return;
    }
    let with_roles: Vec<&str> = accounts
        .iter()
        .filter(|a| {
            a.iam.as_ref().is_some_and(|iam| {
                iam.roles
                    .iter()
                    .any(|r| crate::analysis::identity::is_sso_role(&r.arn, &r.name))
            })
        })
        .map(|a| a.account_id.as_str())
        .collect();
    if with_roles.is_empty() {
        return;
    }
    ic.steps.push(CollectionStep {
        step: "sso-admin:ListInstances".to_owned(),
        region: Some(ic.region.clone()),
        status: StepStatus::Failed,
        items: 0,
        note: None,
        error: Some(format!(
            "no Identity Center instance is visible from account {} in {}, yet accounts {} have AWSReservedSSO_* \
             roles: read Identity Center from the management account or its delegated administrator",
            ic.read_from,
            ic.region,
            with_roles.join(", ")
        )),
    });
}

/// One account to audit: how to enter it, and where its environment label came from.
struct Target {
    account: AccountConfig,
    ou_path: Option<String>,
    environment_rule: String,
}

struct Discovery {
    organization: Option<crate::model::OrganizationSnapshot>,
    /// Clients for the organisation's account (Identity Center is read there too).
    org_clients: Option<Result<session::AccountClients, String>>,
    targets: Vec<Target>,
}

fn org_assume_step(config: &Config) -> &'static str {
    if config.organization_role_arn().is_some() {
        "sts:AssumeRole"
    } else {
        "sts:GetCallerIdentity"
    }
}

/// The accounts to audit: discovered from AWS Organizations when `[organization]` is configured (active accounts;
/// `[[accounts]]` entries override them and add accounts outside the organisation), else the configured list.
async fn discover(base: &session::BaseSession, config: &Config) -> Discovery {
    let explicit = |account: &AccountConfig, note: &str| Target {
        account: account.clone(),
        ou_path: None,
        environment_rule: format!("[[accounts]] entry in the configuration{note}"),
    };
    let Some(org_config) = &config.organization else {
        return Discovery {
            organization: None,
            org_clients: None,
            targets: config.accounts.iter().map(|a| explicit(a, "")).collect(),
        };
    };
    let clients = session::clients_for(
        base,
        config,
        &org_config.account,
        config.organization_role_arn(),
    )
    .await;
    let organization = match &clients {
        Ok(clients) => organizations::collect(clients, config).await,
        Err(e) => {
            let mut log = StepLog::default();
            log.failed(org_assume_step(config), None, e.clone());
            crate::model::OrganizationSnapshot {
                read_from: org_config.account.clone(),
                steps: log.into_steps(),
                ..Default::default()
            }
        }
    };
    let mut targets: Vec<Target> = Vec::new();
    for found in organization.accounts.iter().filter(|a| a.audited) {
        let account = config
            .accounts
            .iter()
            .find(|a| a.id == found.id)
            .cloned()
            .unwrap_or_else(|| AccountConfig {
                id: found.id.clone(),
                name: found.name.clone(),
                environment: found.environment.clone(),
                use_base_credentials: false,
                role_name: None,
            });
        targets.push(Target {
            account,
            ou_path: Some(found.ou_path.clone()),
            environment_rule: found.environment_rule.clone(),
        });
    }
    for account in &config.accounts {
        if !targets.iter().any(|t| t.account.id == account.id) {
            let note = match organization.account(&account.id) {
                Some(a) => format!("; {} in the organisation", a.status.to_lowercase()),
                None if organization.accounts.is_empty() => {
                    "; the organisation could not be listed".to_owned()
                }
                None => "; not in the organisation".to_owned(),
            };
            targets.push(explicit(account, &note));
        }
    }
    Discovery {
        organization: Some(organization),
        org_clients: Some(clients),
        targets,
    }
}

/// Writes outside the configured regions are kept only for the global services (read in their global region,
/// from LookupEvents or the archive alike), so both sources give the same population.
fn keep_configured_scope(account: &mut AccountSnapshot, regions: &[String]) {
    account.write_events.retain(|e| {
        regions.contains(&e.region) || crate::model::partition::is_global_event_source(&e.source)
    });
}

/// The regions read from a trail archive: the configured ones and the global regions of their partitions, whose
/// folders hold the global services' events. (The archive scan keeps only what the audit needs.)
fn archive_regions(configured: &[String]) -> Vec<String> {
    let mut regions = configured.to_vec();
    regions.extend(crate::model::partition::missing_global_regions(configured));
    regions
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
    target: &Target,
    audited: &[String],
    (period, resume): (&Period, &LookupResume),
    identity_rules: &crate::rules::IdentityRules,
    progress: &crate::progress::AccountProgress,
) -> AccountSnapshot {
    let account = &target.account;
    let mut snapshot = AccountSnapshot {
        account_id: account.id.clone(),
        name: account.name.clone(),
        environment: account.environment.clone(),
        role_arn: config.role_arn(account),
        ou_path: target.ou_path.clone(),
        environment_rule: target.environment_rule.clone(),
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
    progress.step("IAM");
    let (iam_snapshot, credential_report) = iam::collect(&clients, &mut log).await;
    snapshot.iam = iam_snapshot;
    for region in &config.regions {
        progress.step(&format!("CloudTrail and CodePipeline in {region}"));
        let known: Vec<String> = snapshot.trails.iter().map(|t| t.arn.clone()).collect();
        let trails = cloudtrail::trails(&clients, region, &known, &mut log).await;
        for t in trails {
            if !snapshot.trails.iter().any(|known| known.arn == t.arn) {
                snapshot.trails.push(t);
            }
        }
        let window = resume.period_for(&account.id, region, period);
        snapshot
            .approval_events
            .extend(cloudtrail::approval_events(&clients, region, &window, &mut log).await);
        let writes =
            cloudtrail::write_events(&clients, region, &window, identity_rules, &mut log).await;
        snapshot
            .pipelines
            .extend(codepipeline::collect(&clients, region, period, &writes, &mut log).await);
        snapshot.write_events.extend(writes);
        snapshot
            .role_sessions
            .extend(cloudtrail::role_sessions(&clients, region, &window, &mut log).await);
    }
    // IAM and the other global services are recorded only in the partition's global region, and so are
    // AssumeRole calls made at STS's global endpoint: read them there when it is not a configured region.
    for global_region in crate::model::partition::missing_global_regions(&config.regions) {
        progress.step(&format!("global-service events in {global_region}"));
        let window = resume.period_for(&account.id, &global_region, period);
        snapshot.write_events.extend(
            cloudtrail::global_write_events(
                &clients,
                &global_region,
                &window,
                identity_rules,
                &mut log,
            )
            .await,
        );
        snapshot
            .role_sessions
            .extend(cloudtrail::role_sessions(&clients, &global_region, &window, &mut log).await);
    }
    // Passwords and keys read from a credential report are read again when CloudTrail shows them changed since.
    if let (Some(iam), Some(report_time)) = (snapshot.iam.as_mut(), credential_report) {
        iam::recheck_credentials(&clients, iam, report_time, &snapshot.write_events, &mut log)
            .await;
    }
    for bucket in config
        .approval_record_buckets
        .iter()
        .filter(|b| b.account == account.id)
    {
        progress.step(&format!("approval records in {}", bucket.bucket));
        snapshot
            .approval_records
            .extend(records::collect(&clients, bucket, period, &mut log).await);
    }
    for bucket in config
        .trail_buckets
        .iter()
        .filter(|b| b.account == account.id)
    {
        progress.step(&format!("trail archive in {}", bucket.bucket));
        let options = trail_archive::ArchiveOptions::for_audit(
            audited.to_vec(),
            archive_regions(&config.regions),
            identity_rules.clone(),
        );
        snapshot
            .trail_archives
            .push(trail_archive::collect(&clients, bucket, period, &options, &mut log).await);
    }
    let default_region = config
        .regions
        .first()
        .map(String::as_str)
        .unwrap_or("us-east-1");
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
                .push(buckets::collect(&clients, bucket, default_region, &mut log).await);
        }
    }
    // The buckets the pipelines deploy from: artifact stores and S3 source buckets (source-provenance).
    let mut pipeline_buckets: Vec<String> = snapshot
        .pipelines
        .iter()
        .flat_map(|p| {
            p.artifact_stores.iter().map(|s| s.location.clone()).chain(
                p.stages
                    .iter()
                    .flat_map(|s| &s.actions)
                    .filter(|a| a.is_source() && a.provider.eq_ignore_ascii_case("S3"))
                    .filter_map(|a| a.configuration.get("S3Bucket").cloned()),
            )
        })
        .collect();
    pipeline_buckets.sort();
    pipeline_buckets.dedup();
    for name in pipeline_buckets {
        if snapshot.buckets.iter().any(|known| known.bucket == name) {
            continue;
        }
        let bucket = crate::config::BucketConfig {
            account: account.id.clone(),
            bucket: name,
            prefix: String::new(),
            engine: Default::default(),
            athena_table: None,
            athena_workgroup: None,
        };
        snapshot
            .buckets
            .push(buckets::collect(&clients, &bucket, default_region, &mut log).await);
    }
    snapshot.lookup_windows = log.take_windows();
    snapshot.steps = log.into_steps();
    snapshot
}
