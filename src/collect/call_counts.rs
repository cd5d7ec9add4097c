//! How many requests collection sent to AWS, per account and per operation: what the run's totals event reports
//! as `api_calls_by_account`, so that an operator (and the organisation-scale benchmark) can see which reads
//! grow with what.
//!
//! Two counts, both taken for every attempt (retries included), both process-wide:
//! * per account, at the HTTP client ([`record_request`], from `limits::LimitedHttpClient`): every request that
//!   left for that account, the role assumption included; it adds up to the totals line's `api_calls`;
//! * per account and operation, by an SDK interceptor on the account's clients ([`CallCounter`]). Requests the
//!   SDK's credential provider sends itself (`sts:AssumeRole` of the account's role) carry no interceptor of
//!   ours: they are the difference, reported as [`UNATTRIBUTED`].
//!
//! It only counts: it never changes, delays or refuses a request.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde::Serialize;

/// The label of requests made with the run's base credentials, outside any account's clients.
pub const RUN_WIDE: &str = "(base credentials)";

/// The operation name under which requests no interceptor saw are reported.
pub const UNATTRIBUTED: &str = "(credential provider: sts:AssumeRole)";

/// The requests of one account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccountCalls {
    /// Every request sent for the account (retries included).
    pub total: u64,
    /// By `Service:Operation` as the SDK names them (`IAM:GetAccountAuthorizationDetails`).
    pub by_operation: BTreeMap<String, u64>,
}

#[derive(Default)]
struct Counts {
    requests: BTreeMap<String, u64>,
    operations: BTreeMap<String, BTreeMap<String, u64>>,
}

fn counts() -> std::sync::MutexGuard<'static, Counts> {
    static COUNTS: Mutex<Counts> = Mutex::new(Counts {
        requests: BTreeMap::new(),
        operations: BTreeMap::new(),
    });
    COUNTS.lock().unwrap_or_else(|e| e.into_inner())
}

/// One request left for `account` (called by the HTTP client for every attempt).
pub fn record_request(account: &str) {
    *counts().requests.entry(account.to_owned()).or_default() += 1;
}

fn record_operation(account: &str, operation: String) {
    *counts()
        .operations
        .entry(account.to_owned())
        .or_default()
        .entry(operation)
        .or_default() += 1;
}

/// The counts so far, per account (accounts in id order; the run-wide label included when it sent anything).
pub fn by_account() -> BTreeMap<String, AccountCalls> {
    let counts = counts();
    let mut out: BTreeMap<String, AccountCalls> = BTreeMap::new();
    for (account, total) in &counts.requests {
        let by_operation = counts.operations.get(account).cloned().unwrap_or_default();
        let seen: u64 = by_operation.values().sum();
        let mut calls = AccountCalls {
            total: *total,
            by_operation,
        };
        if *total > seen {
            calls
                .by_operation
                .insert(UNATTRIBUTED.to_owned(), *total - seen);
        }
        out.insert(account.clone(), calls);
    }
    out
}

/// Counts every attempt of the operations sent through an account's SDK clients.
#[derive(Debug, Clone)]
pub struct CallCounter {
    account: Arc<str>,
}

impl CallCounter {
    pub fn new(account: &str) -> CallCounter {
        CallCounter {
            account: Arc::from(account),
        }
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "gateaudit call counter"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map_or_else(
            || "(unnamed operation)".to_owned(),
            |m| format!("{}:{}", m.service(), m.name()),
        );
        record_operation(&self.account, operation);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_no_interceptor_saw_are_reported_as_the_credential_providers() {
        // Process-wide counts: this test uses an account id no other test uses.
        let account = "000000000917";
        for _ in 0..3 {
            record_request(account);
        }
        record_operation(account, "IAM:GetCredentialReport".into());
        record_operation(account, "IAM:GetCredentialReport".into());
        let calls = by_account().remove(account).expect("counted");
        assert_eq!(calls.total, 3);
        assert_eq!(calls.by_operation["IAM:GetCredentialReport"], 2);
        assert_eq!(calls.by_operation[UNATTRIBUTED], 1);
        assert_eq!(calls.by_operation.values().sum::<u64>(), calls.total);
    }
}
