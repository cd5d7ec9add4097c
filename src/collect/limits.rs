//! How collection behaves when AWS pushes back: bounded concurrency (per account and in total), LookupEvents
//! paced under its quota, and sessions re-assumed when they expire during a long collection. The SDK's own
//! retry strategy (adaptive mode: exponential backoff with jitter, a client-side rate limiter that slows down on
//! throttling, per-partition retry quotas) retries throttling, 5xx and dropped connections; this module adds
//! what it lacks.
//!
//! * [`LimitedHttpClient`] wraps the SDK's HTTP client: every attempt (retries included) takes a permit of its
//!   account and one of the whole run before it is sent, and `LookupEvents` calls of one account and region are
//!   spaced by [`LOOKUP_EVENTS_INTERVAL`] (AWS allows 2 per second per account and region).
//! * [`RefreshingCredentials`] caches an assumed role's session and can drop it; [`ExpiredSessionClassifier`]
//!   sees AWS answer `ExpiredToken`/`ExpiredTokenException`, drops the session and asks for a retry, whose
//!   attempt then assumes the role again.
//!
//! Only talks to AWS through the wrapped client; never changes anything.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tokio::sync::Semaphore;

/// Spacing of `LookupEvents` calls per account and region: AWS's quota is 2 per second; a little slower keeps
/// clear of it whatever the network does.
pub const LOOKUP_EVENTS_INTERVAL: Duration = Duration::from_millis(550);

/// Calls made once per account or target in the management account (Organizations' parents, tags and policies,
/// Identity Center's assignments) in flight at once. Those quotas are the management account's, shared by every
/// caller: a few at a time, under the per-account request limit (`session::SessionOptions`), with the SDK's
/// adaptive retry for throttling. One at a time, they were most of a large organisation's collection time.
pub const READS_IN_FLIGHT: usize = 8;

/// HTTP requests sent to AWS by every collection client of this process (each attempt, retries included):
/// the "API calls" of a run's totals line.
static REQUESTS_SENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many HTTP requests the collection clients of this process have sent to AWS so far (retries included).
pub fn requests_sent() -> u64 {
    REQUESTS_SENT.load(std::sync::atomic::Ordering::Relaxed)
}

/// A session is refreshed this long before it expires.
const EXPIRY_MARGIN: Duration = Duration::from_secs(300);

/// Paces calls to one operation per key (the region).
#[derive(Debug, Default)]
struct Pacer {
    next: std::sync::Mutex<HashMap<String, Instant>>,
}

impl Pacer {
    /// Reserves the next slot for `key` at or after `now`; returns how long to wait for it.
    fn reserve(&self, key: String, interval: Duration, now: Instant) -> Duration {
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let slot = next.entry(key).or_insert(now);
        let at = (*slot).max(now);
        *slot = at + interval;
        at - now
    }

    async fn wait(&self, key: String, interval: Duration) {
        let wait = self.reserve(key, interval, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// The SDK's HTTP client with the run's limits: a permit of the account (when the client is an account's) and
/// one of the run for every attempt, and LookupEvents paced per region.
#[derive(Debug, Clone)]
pub struct LimitedHttpClient {
    inner: SharedHttpClient,
    total: Arc<Semaphore>,
    account: Option<Arc<Semaphore>>,
    pacer: Option<Arc<Pacer>>,
    interval: Duration,
    /// The account's assumed-role session: told which session AWS refused as expired.
    session: Option<Arc<RefreshingCredentials>>,
    /// Whose requests these are, for the per-account call counts (`call_counts`).
    label: Arc<str>,
}

impl LimitedHttpClient {
    /// The client of the whole run (STS calls of the base credentials): the run's limit only.
    pub fn run_wide(inner: SharedHttpClient, total: Arc<Semaphore>) -> LimitedHttpClient {
        LimitedHttpClient {
            inner,
            total,
            account: None,
            pacer: None,
            interval: LOOKUP_EVENTS_INTERVAL,
            session: None,
            label: Arc::from(super::call_counts::RUN_WIDE),
        }
    }

    /// The client of one account: at most `per_account` attempts in flight for it, within the run's limit.
    pub fn for_account(
        inner: SharedHttpClient,
        total: Arc<Semaphore>,
        per_account: usize,
        account_id: &str,
    ) -> LimitedHttpClient {
        LimitedHttpClient {
            inner,
            total,
            account: Some(Arc::new(Semaphore::new(per_account.max(1)))),
            pacer: Some(Arc::new(Pacer::default())),
            interval: LOOKUP_EVENTS_INTERVAL,
            session: None,
            label: Arc::from(account_id),
        }
    }

    /// The same limits (shared), for requests signed with `session`: an `ExpiredToken` answer drops it.
    pub fn with_session(&self, session: Arc<RefreshingCredentials>) -> LimitedHttpClient {
        LimitedHttpClient {
            session: Some(session),
            ..self.clone()
        }
    }
}

impl HttpClient for LimitedHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(LimitedConnector {
            inner: self.inner.http_connector(settings, components),
            limits: self.clone(),
        })
    }
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
    limits: LimitedHttpClient,
}

/// The operation of a JSON-protocol request (`X-Amz-Target: CloudTrail_20131101.LookupEvents`).
fn target_operation(request: &HttpRequest) -> Option<&str> {
    request
        .headers()
        .get("x-amz-target")
        .and_then(|t| t.rsplit('.').next())
}

/// The region of a SigV4-signed request, from its credential scope.
pub(crate) fn signed_region(request: &HttpRequest) -> String {
    credential_scope(request)
        .and_then(|scope| scope.split('/').nth(2).map(str::to_owned))
        .unwrap_or_default()
}

/// The access key id a SigV4-signed request was signed with.
fn signed_access_key(request: &HttpRequest) -> Option<String> {
    credential_scope(request).and_then(|scope| scope.split('/').next().map(str::to_owned))
}

fn credential_scope(request: &HttpRequest) -> Option<&str> {
    let auth = request.headers().get("authorization")?;
    let start = auth.find("Credential=")? + "Credential=".len();
    let rest = &auth[start..];
    Some(rest.split([',', ' ']).next().unwrap_or(rest))
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let limits = self.limits.clone();
        let paced = target_operation(&request) == Some("LookupEvents");
        let region = signed_region(&request);
        let access_key = signed_access_key(&request);
        HttpConnectorFuture::new(async move {
            let closed = |e: tokio::sync::AcquireError| ConnectorError::other(e.into(), None);
            // The account's permit first, then the run's: a waiting account never holds a run-wide permit.
            let _account = match &limits.account {
                Some(s) => Some(s.acquire().await.map_err(closed)?),
                None => None,
            };
            let _total = limits.total.acquire().await.map_err(closed)?;
            if let (true, Some(pacer)) = (paced, &limits.pacer) {
                pacer.wait(region, limits.interval).await;
            }
            REQUESTS_SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            super::call_counts::record_request(&limits.label);
            let mut response = inner.call(request).await?;
            let status = response.status().as_u16();
            if let (Some(session), true) = (&limits.session, matches!(status, 400 | 403)) {
                // Error bodies are small: read this one to see whether AWS refused the session itself.
                let body = response.take_body();
                let bytes = aws_smithy_types::byte_stream::ByteStream::new(body)
                    .collect()
                    .await
                    .map_err(|e| ConnectorError::io(e.into()))?
                    .into_bytes();
                if says_token_expired(status, &bytes) {
                    if let Some(key) = &access_key {
                        session.expired(key);
                    }
                }
                *response.body_mut() = aws_smithy_types::body::SdkBody::from(bytes);
            }
            Ok(response)
        })
    }
}

/// An assumed role's session, cached until shortly before it expires or until AWS says it has.
#[derive(Debug)]
pub struct RefreshingCredentials {
    inner: SharedCredentialsProvider,
    /// The session and when it was obtained.
    cached: tokio::sync::Mutex<Option<(Credentials, Instant)>>,
    /// How many sessions were obtained (the first, and each re-assumption).
    pub sessions: std::sync::atomic::AtomicUsize,
}

impl RefreshingCredentials {
    pub fn new(inner: SharedCredentialsProvider) -> RefreshingCredentials {
        RefreshingCredentials {
            inner,
            cached: tokio::sync::Mutex::new(None),
            sessions: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Forgets the session signed with `access_key` (AWS said it expired), so that the next attempt assumes the
    /// role again. A request signed with an older session changes nothing.
    pub fn expired(&self, access_key: &str) {
        // A refresh under way holds the lock; it replaces the session anyway.
        if let Ok(mut cached) = self.cached.try_lock() {
            if cached
                .as_ref()
                .is_some_and(|(c, _)| c.access_key_id() == access_key)
            {
                tracing::warn!("the session expired during collection; assuming the role again");
                *cached = None;
            }
        }
    }
}

impl ProvideCredentials for RefreshingCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            let mut cached = self.cached.lock().await;
            let fresh = cached.as_ref().filter(|(c, _)| {
                c.expiry()
                    .is_none_or(|e| e > SystemTime::now() + EXPIRY_MARGIN)
            });
            if let Some((c, _)) = fresh {
                return Ok(c.clone());
            }
            let credentials = self.inner.provide_credentials().await?;
            self.sessions
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            *cached = Some((credentials.clone(), Instant::now()));
            Ok(credentials)
        })
    }
}

/// Retries a call AWS refused because its session expired (the account's [`LimitedHttpClient`] has dropped the
/// session by then, so the retry assumes the role again).
#[derive(Debug, Clone, Default)]
pub struct ExpiredSessionClassifier;

/// Whether an error response says the request's security token expired (every protocol names it so:
/// `ExpiredToken` in query and S3 errors, `ExpiredTokenException` in JSON ones).
pub fn says_token_expired(status: u16, body: &[u8]) -> bool {
    matches!(status, 400 | 403) && memchr::memmem::find(body, b"ExpiredToken").is_some()
}

impl ClassifyRetry for ExpiredSessionClassifier {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(response) = ctx.response() else {
            return RetryAction::NoActionIndicated;
        };
        let body = response.body().bytes().unwrap_or_default();
        if !says_token_expired(response.status().as_u16(), body) {
            return RetryAction::NoActionIndicated;
        }
        RetryAction::transient_error()
    }

    fn name(&self) -> &'static str {
        "gateaudit expired session"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_tokens_are_recognised_in_every_protocol() {
        assert!(says_token_expired(
            400,
            br#"{"__type":"ExpiredTokenException","message":"The security token included in the request is expired"}"#
        ));
        assert!(says_token_expired(
            403,
            b"<ErrorResponse><Error><Code>ExpiredToken</Code></Error></ErrorResponse>"
        ));
        assert!(!says_token_expired(
            400,
            b"<Error><Code>Throttling</Code></Error>"
        ));
        assert!(!says_token_expired(200, b"ExpiredToken"));
    }

    #[test]
    fn lookup_events_are_paced_per_region() {
        let pacer = Pacer::default();
        let now = Instant::now();
        let step = Duration::from_millis(550);
        let waits: Vec<Duration> = (0..3)
            .map(|_| pacer.reserve("us-east-1".into(), step, now))
            .collect();
        assert_eq!(waits, vec![Duration::ZERO, step, step * 2]);
        assert_eq!(
            pacer.reserve("eu-west-1".into(), step, now),
            Duration::ZERO,
            "another region has its own pace"
        );
        // A call long after the last one goes at once.
        assert_eq!(
            pacer.reserve("us-east-1".into(), step, now + step * 10),
            Duration::ZERO
        );
    }
}
