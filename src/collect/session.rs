//! AWS sessions: the base configuration from the standard credential chain, and one per audited account
//! (the caller's own, or an assumed `CICDCrossAccountRole`).
//!
//! Every client retries with the SDK's adaptive mode (exponential backoff with jitter, a client-side rate
//! limiter after throttling, a retry quota per partition; each account and region has its own partition, so a
//! throttled account cannot drain the others' budget), sends through the run's limits (requests in flight per
//! account and in total, LookupEvents paced: `limits`), and re-assumes its role when AWS says the session
//! expired. Only builds clients; it never calls anything but STS `AssumeRole` and `GetCallerIdentity`.

use std::sync::Arc;
use std::time::Duration;

use aws_config::{retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime::client::identity::IdentityCache;
use aws_smithy_runtime::client::retries::RetryPartition;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_types::error::display::DisplayErrorContext;
use tokio::sync::Semaphore;

use super::limits::{ExpiredSessionClassifier, LimitedHttpClient, RefreshingCredentials};
use crate::config::{AccountConfig, Config};

/// How the collector talks to AWS, beyond what the configuration file says.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub profile: Option<String>,
    /// Attempts per call, including the first (AWS's adaptive retry mode with backoff and jitter).
    pub max_attempts: u32,
    pub endpoint_url: Option<String>,
    /// Requests in flight at once, all accounts together.
    pub max_requests: usize,
    /// Requests in flight at once for one account.
    pub max_requests_per_account: usize,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            profile: None,
            max_attempts: 4,
            endpoint_url: None,
            max_requests: 64,
            max_requests_per_account: 16,
        }
    }
}

/// The base configuration and the run's limits, shared by every account's clients.
#[derive(Clone)]
pub struct BaseSession {
    pub config: SdkConfig,
    /// The SDK's own HTTP client, before the limits (each account wraps it with its own).
    http: SharedHttpClient,
    total: Arc<Semaphore>,
    per_account: usize,
}

/// Clients for one account, built from that account's credentials, with a retry partition of its own so that a
/// throttled account cannot drain the retry budget of the others.
#[derive(Clone)]
pub struct AccountClients {
    pub account_id: String,
    pub config: SdkConfig,
    pub path_style_s3: bool,
    /// The assumed role's session (None with the base credentials), re-assumed when it expires.
    pub session: Option<Arc<RefreshingCredentials>>,
}

/// Every client: the read-only guard (only listed operations are sent), the per-operation call counter, and for
/// an assumed role the retry of a call refused because its session expired.
macro_rules! with_expiry_retry {
    ($builder:expr, $session:expr, $account:expr) => {{
        let builder = $builder
            .interceptor(super::operations::ReadOnlyGuard)
            .interceptor(super::call_counts::CallCounter::new($account));
        match $session {
            Some(_) => builder.retry_classifier(ExpiredSessionClassifier),
            None => builder,
        }
    }};
}

impl AccountClients {
    pub fn iam(&self) -> aws_sdk_iam::Client {
        let builder = aws_sdk_iam::config::Builder::from(&self.config)
            .retry_partition(RetryPartition::new(format!("iam-{}", self.account_id)));
        aws_sdk_iam::Client::from_conf(
            with_expiry_retry!(builder, &self.session, &self.account_id).build(),
        )
    }

    pub fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        let builder = aws_sdk_cloudtrail::config::Builder::from(&self.config)
            .region(Region::new(region.to_owned()))
            .retry_partition(RetryPartition::new(format!(
                "cloudtrail-{}-{region}",
                self.account_id
            )));
        aws_sdk_cloudtrail::Client::from_conf(
            with_expiry_retry!(builder, &self.session, &self.account_id).build(),
        )
    }

    pub fn codepipeline(&self, region: &str) -> aws_sdk_codepipeline::Client {
        let builder = aws_sdk_codepipeline::config::Builder::from(&self.config)
            .region(Region::new(region.to_owned()))
            .retry_partition(RetryPartition::new(format!(
                "codepipeline-{}-{region}",
                self.account_id
            )));
        aws_sdk_codepipeline::Client::from_conf(
            with_expiry_retry!(builder, &self.session, &self.account_id).build(),
        )
    }

    /// Organizations has one endpoint per partition, in its home region.
    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        let builder = aws_sdk_organizations::config::Builder::from(&self.config)
            .region(Region::new("us-east-1"))
            .retry_partition(RetryPartition::new(format!(
                "organizations-{}",
                self.account_id
            )));
        aws_sdk_organizations::Client::from_conf(
            with_expiry_retry!(builder, &self.session, &self.account_id).build(),
        )
    }

    pub fn sso_admin(&self, region: &str) -> aws_sdk_ssoadmin::Client {
        let builder = aws_sdk_ssoadmin::config::Builder::from(&self.config)
            .region(Region::new(region.to_owned()))
            .retry_partition(RetryPartition::new(format!(
                "sso-admin-{}-{region}",
                self.account_id
            )));
        aws_sdk_ssoadmin::Client::from_conf(
            with_expiry_retry!(builder, &self.session, &self.account_id).build(),
        )
    }

    pub fn identity_store(&self, region: &str) -> aws_sdk_identitystore::Client {
        let builder = aws_sdk_identitystore::config::Builder::from(&self.config)
            .region(Region::new(region.to_owned()))
            .retry_partition(RetryPartition::new(format!(
                "identitystore-{}-{region}",
                self.account_id
            )));
        aws_sdk_identitystore::Client::from_conf(
            with_expiry_retry!(builder, &self.session, &self.account_id).build(),
        )
    }

    pub fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        let builder = aws_sdk_kms::config::Builder::from(&self.config)
            .region(Region::new(region.to_owned()))
            .retry_partition(RetryPartition::new(format!(
                "kms-{}-{region}",
                self.account_id
            )));
        aws_sdk_kms::Client::from_conf(
            with_expiry_retry!(builder, &self.session, &self.account_id).build(),
        )
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        let builder = aws_sdk_s3::config::Builder::from(&self.config)
            .force_path_style(self.path_style_s3)
            .retry_partition(RetryPartition::new(format!("s3-{}", self.account_id)));
        aws_sdk_s3::Client::from_conf(
            with_expiry_retry!(builder, &self.session, &self.account_id).build(),
        )
    }

    fn sts(&self) -> aws_sdk_sts::Client {
        let builder = aws_sdk_sts::config::Builder::from(&self.config)
            .retry_partition(RetryPartition::new(format!("sts-{}", self.account_id)));
        aws_sdk_sts::Client::from_conf(
            with_expiry_retry!(builder, &self.session, &self.account_id).build(),
        )
    }
}

/// Loads the base configuration from the standard chain (environment, profile, SSO, instance role), with the
/// run's limits around its HTTP client.
pub async fn base_config(config: &Config, options: &SessionOptions) -> BaseSession {
    let region = config
        .regions
        .first()
        .cloned()
        .unwrap_or_else(|| "us-east-1".to_owned());
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region))
        .retry_config(RetryConfig::adaptive().with_max_attempts(options.max_attempts.max(1)))
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
    let loaded = loader.load().await;
    let total = Arc::new(Semaphore::new(options.max_requests.max(1)));
    let http = loaded.http_client().unwrap_or_else(default_https_client);
    let config = loaded
        .to_builder()
        .http_client(LimitedHttpClient::run_wide(
            http.clone(),
            Arc::clone(&total),
        ))
        .build();
    BaseSession {
        config,
        http,
        total,
        per_account: options.max_requests_per_account.max(1),
    }
}

/// The HTTPS client the SDK would choose by default (hyper 1.x, rustls with aws-lc, proxy settings from the
/// environment), built here so that the run's limits can wrap it.
fn default_https_client() -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::{tls, Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(move |settings, runtime_components| {
        let mut connector = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = runtime_components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// Builds the clients for one account: assumes the role (validated at once with `GetCallerIdentity`, so that a
/// denied assumption is reported as such) or reuses the base credentials.
pub async fn account_clients(
    base_session: &BaseSession,
    config: &Config,
    account: &AccountConfig,
) -> Result<AccountClients, String> {
    clients_for(base_session, config, &account.id, config.role_arn(account)).await
}

/// Builds the clients for `account_id`, through `role_arn` or with the base credentials.
pub async fn clients_for(
    base_session: &BaseSession,
    config: &Config,
    account_id: &str,
    role_arn: Option<String>,
) -> Result<AccountClients, String> {
    let base = &base_session.config;
    let path_style_s3 = base.endpoint_url().is_some();
    // The account's limits cover everything done for it, assuming its role included.
    let http = LimitedHttpClient::for_account(
        base_session.http.clone(),
        Arc::clone(&base_session.total),
        base_session.per_account,
        account_id,
    );
    let mut builder = base.to_builder().http_client(http.clone());
    let mut session = None;
    if let Some(role_arn) = role_arn {
        let mut assume = aws_config::sts::AssumeRoleProvider::builder(role_arn.clone())
            .session_name(config.session_name.clone())
            .configure(&base.to_builder().http_client(http.clone()).build());
        if let Some(external_id) = &config.external_id {
            assume = assume.external_id(external_id.clone());
        }
        let provider = assume.build().await;
        let refreshing = Arc::new(RefreshingCredentials::new(SharedCredentialsProvider::new(
            provider,
        )));
        builder = builder
            .credentials_provider(SharedCredentialsProvider::new(ArcProvider(Arc::clone(
                &refreshing,
            ))))
            // The session is cached by RefreshingCredentials, which can drop it when AWS says it expired.
            .identity_cache(IdentityCache::no_cache())
            .http_client(http.with_session(Arc::clone(&refreshing)));
        session = Some(refreshing);
    }
    let clients = AccountClients {
        account_id: account_id.to_owned(),
        config: builder.build(),
        path_style_s3,
        session,
    };
    validate(clients, account_id).await
}

/// Shares one [`RefreshingCredentials`] between the SDK configuration and the expiry classifier.
#[derive(Debug)]
struct ArcProvider(Arc<RefreshingCredentials>);

impl aws_credential_types::provider::ProvideCredentials for ArcProvider {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        self.0.provide_credentials()
    }
}

/// Checks with `GetCallerIdentity` that the credentials are the account's.
async fn validate(clients: AccountClients, account_id: &str) -> Result<AccountClients, String> {
    let identity = clients
        .sts()
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
    Ok(clients)
}

/// Renders an SDK error with its whole chain of causes (the SDK's own Display says only "service error"), any
/// credential in it blanked (it goes into the snapshot and every report).
pub fn error_text<E: std::error::Error>(e: &E) -> String {
    crate::logging::redact(&format!("{}", DisplayErrorContext(e))).into_owned()
}
