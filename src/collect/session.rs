//! AWS sessions: the base configuration from the standard credential chain, and one per audited account
//! (the caller's own, or an assumed `CICDCrossAccountRole`).
//!
//! Only builds clients; it never calls anything but STS `AssumeRole` and `GetCallerIdentity`.

use std::time::Duration;

use aws_config::{retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime::client::retries::RetryPartition;
use aws_smithy_types::error::display::DisplayErrorContext;

use crate::config::{AccountConfig, Config};

/// How the collector talks to AWS, beyond what the configuration file says.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub profile: Option<String>,
    /// Attempts per call, including the first (AWS's standard retry mode with backoff).
    pub max_attempts: u32,
    pub endpoint_url: Option<String>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            profile: None,
            max_attempts: 4,
            endpoint_url: None,
        }
    }
}

/// Clients for one account, built from that account's credentials, with a retry partition of its own so that a
/// throttled account cannot drain the retry budget of the others.
#[derive(Clone)]
pub struct AccountClients {
    pub account_id: String,
    pub config: SdkConfig,
    pub path_style_s3: bool,
}

impl AccountClients {
    pub fn iam(&self) -> aws_sdk_iam::Client {
        let conf = aws_sdk_iam::config::Builder::from(&self.config)
            .retry_partition(RetryPartition::new(format!("iam-{}", self.account_id)))
            .build();
        aws_sdk_iam::Client::from_conf(conf)
    }

    pub fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        let conf = aws_sdk_cloudtrail::config::Builder::from(&self.config)
            .region(Region::new(region.to_owned()))
            .retry_partition(RetryPartition::new(format!(
                "cloudtrail-{}-{region}",
                self.account_id
            )))
            .build();
        aws_sdk_cloudtrail::Client::from_conf(conf)
    }

    pub fn codepipeline(&self, region: &str) -> aws_sdk_codepipeline::Client {
        let conf = aws_sdk_codepipeline::config::Builder::from(&self.config)
            .region(Region::new(region.to_owned()))
            .retry_partition(RetryPartition::new(format!(
                "codepipeline-{}-{region}",
                self.account_id
            )))
            .build();
        aws_sdk_codepipeline::Client::from_conf(conf)
    }

    /// Organizations has one endpoint per partition, in its home region.
    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        let conf = aws_sdk_organizations::config::Builder::from(&self.config)
            .region(Region::new("us-east-1"))
            .retry_partition(RetryPartition::new(format!(
                "organizations-{}",
                self.account_id
            )))
            .build();
        aws_sdk_organizations::Client::from_conf(conf)
    }

    pub fn sso_admin(&self, region: &str) -> aws_sdk_ssoadmin::Client {
        let conf = aws_sdk_ssoadmin::config::Builder::from(&self.config)
            .region(Region::new(region.to_owned()))
            .retry_partition(RetryPartition::new(format!(
                "sso-admin-{}-{region}",
                self.account_id
            )))
            .build();
        aws_sdk_ssoadmin::Client::from_conf(conf)
    }

    pub fn identity_store(&self, region: &str) -> aws_sdk_identitystore::Client {
        let conf = aws_sdk_identitystore::config::Builder::from(&self.config)
            .region(Region::new(region.to_owned()))
            .retry_partition(RetryPartition::new(format!(
                "identitystore-{}-{region}",
                self.account_id
            )))
            .build();
        aws_sdk_identitystore::Client::from_conf(conf)
    }

    pub fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        let conf = aws_sdk_kms::config::Builder::from(&self.config)
            .region(Region::new(region.to_owned()))
            .retry_partition(RetryPartition::new(format!(
                "kms-{}-{region}",
                self.account_id
            )))
            .build();
        aws_sdk_kms::Client::from_conf(conf)
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.config)
            .force_path_style(self.path_style_s3)
            .retry_partition(RetryPartition::new(format!("s3-{}", self.account_id)))
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }
}

/// Loads the base configuration from the standard chain (environment, profile, SSO, instance role).
pub async fn base_config(config: &Config, options: &SessionOptions) -> SdkConfig {
    let region = config
        .regions
        .first()
        .cloned()
        .unwrap_or_else(|| "us-east-1".to_owned());
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region))
        .retry_config(RetryConfig::standard().with_max_attempts(options.max_attempts.max(1)))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(Duration::from_secs(60))
                .build(),
        );
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(endpoint) = options
        .endpoint_url
        .as_ref()
        .or(config.endpoint_url.as_ref())
    {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

/// Builds the clients for one account: assumes the role (validated at once with `GetCallerIdentity`, so that a
/// denied assumption is reported as such) or reuses the base credentials.
pub async fn account_clients(
    base: &SdkConfig,
    config: &Config,
    account: &AccountConfig,
) -> Result<AccountClients, String> {
    clients_for(base, config, &account.id, config.role_arn(account)).await
}

/// Builds the clients for `account_id`, through `role_arn` or with the base credentials.
pub async fn clients_for(
    base: &SdkConfig,
    config: &Config,
    account_id: &str,
    role_arn: Option<String>,
) -> Result<AccountClients, String> {
    let path_style_s3 = base.endpoint_url().is_some();
    let sdk_config = match role_arn {
        None => base.clone(),
        Some(role_arn) => {
            let mut builder = aws_config::sts::AssumeRoleProvider::builder(role_arn.clone())
                .session_name(config.session_name.clone())
                .configure(base);
            if let Some(external_id) = &config.external_id {
                builder = builder.external_id(external_id.clone());
            }
            let provider = builder.build().await;
            base.to_builder()
                .credentials_provider(
                    aws_credential_types::provider::SharedCredentialsProvider::new(provider),
                )
                .build()
        }
    };
    let sts = aws_sdk_sts::Client::new(&sdk_config);
    let identity = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| format!("{}", DisplayErrorContext(&e)))?;
    match identity.account() {
        Some(found) if found == account_id => {}
        Some(found) => {
            return Err(format!(
                "credentials belong to account {found}, not to {account_id} as configured"
            ));
        }
        None => return Err("GetCallerIdentity returned no account".to_owned()),
    }
    Ok(AccountClients {
        account_id: account_id.to_owned(),
        config: sdk_config,
        path_style_s3,
    })
}

/// Renders an SDK error with its whole chain of causes (the SDK's own Display says only "service error").
pub fn error_text<E: std::error::Error>(e: &E) -> String {
    format!("{}", DisplayErrorContext(e))
}
