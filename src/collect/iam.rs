//! IAM collection: `GetAccountAuthorizationDetails` (users, groups, roles, every managed policy version, inline
//! policies, boundaries), then each user's console password and access keys.
//!
//! Passwords and keys (what makes a user able to act without a person at a federated sign-in) come from the
//! account's credential report (`GetCredentialReport`: one call, whatever the number of users) when one exists
//! that is at most [`CREDENTIAL_REPORT_MAX_AGE`] old; users it does not list (created after it, or whose row
//! cannot be read) are read with `GetLoginProfile` and `ListAccessKeys`, and so is every user when there is no
//! usable report. gateaudit never calls `GenerateCredentialReport`: it starts a job in the audited account.
//!
//! Read-only calls only. Documents arrive URL-encoded from AWS and sometimes raw from emulators: both are accepted.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures::{stream, StreamExt};

use super::session::{error_text, AccountClients};
use super::{to_chrono, StepLog};
use crate::model::{
    AccessKey, IamGroup, IamRole, IamSnapshot, IamUser, IdentityProvider, InlinePolicy,
    ManagedPolicy, PolicyVersion,
};

const PER_USER_CONCURRENCY: usize = 4;

/// The oldest credential report used. AWS makes a new report at most every four hours (a `GenerateCredentialReport`
/// within four hours of the last one returns that one), so a scheduled audit that generates one beforehand gets
/// one younger than this; an older report means nobody did, and its users are read one by one instead.
pub const CREDENTIAL_REPORT_MAX_AGE: chrono::Duration = chrono::Duration::hours(4);

/// Decodes an IAM policy document: raw JSON, or percent-encoded JSON as IAM returns it.
/// A document that is neither is kept as a JSON string so that the evaluator reports it instead of skipping it.
pub fn decode_policy_document(text: &str) -> serde_json::Value {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        if let Ok(v) = serde_json::from_str(trimmed) {
            return v;
        }
    }
    let decoded = percent_encoding::percent_decode_str(text).decode_utf8_lossy();
    serde_json::from_str(&decoded).unwrap_or_else(|_| serde_json::Value::String(text.to_owned()))
}

fn inline(list: &[aws_sdk_iam::types::PolicyDetail]) -> Vec<InlinePolicy> {
    list.iter()
        .map(|p| InlinePolicy {
            name: p.policy_name().unwrap_or_default().to_owned(),
            document: decode_policy_document(p.policy_document().unwrap_or_default()),
        })
        .collect()
}

fn attached(list: &[aws_sdk_iam::types::AttachedPolicy]) -> Vec<String> {
    list.iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .collect()
}

fn tags(list: &[aws_sdk_iam::types::Tag]) -> Vec<(String, String)> {
    list.iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

/// The account's IAM, and when its users' passwords and keys came from a credential report, that report's time
/// (to be checked against the CloudTrail events read later: [`recheck_credentials`]).
pub async fn collect(
    clients: &AccountClients,
    log: &mut StepLog,
) -> (Option<IamSnapshot>, Option<DateTime<Utc>>) {
    let mut report_time = None;
    let snapshot = read(clients, log, Some(&mut report_time)).await;
    (snapshot, report_time)
}

/// Calls that change a user's console password or access keys: recorded after the credential report, they make
/// its picture of the users out of date.
const CREDENTIAL_CHANGES: &[&str] = &[
    "CreateAccessKey",
    "UpdateAccessKey",
    "DeleteAccessKey",
    "CreateLoginProfile",
    "DeleteLoginProfile",
];

/// When CloudTrail recorded a password or key change at or after the credential report was generated (`events`:
/// the account's mutating events, in which IAM's are), the report is out of date: every user is read one by one.
/// Events reach LookupEvents within minutes, not at once: a change in the last minutes before collection can
/// still be missed, which the credential report step's note says.
pub async fn recheck_credentials(
    clients: &AccountClients,
    iam: &mut IamSnapshot,
    report_time: DateTime<Utc>,
    events: &[crate::model::WriteEvent],
    log: &mut StepLog,
) {
    // A minute of margin: the report's time and the events' are set by different machines.
    let since = report_time - chrono::Duration::minutes(1);
    let mut changes: Vec<&str> = events
        .iter()
        .filter(|e| {
            e.source == "iam.amazonaws.com"
                && e.event_time >= since
                && e.error_code.is_none()
                && CREDENTIAL_CHANGES.contains(&e.name.as_str())
        })
        .map(|e| e.name.as_str())
        .collect();
    if changes.is_empty() {
        return;
    }
    let count = changes.len();
    changes.sort_unstable();
    changes.dedup();
    let all: Vec<usize> = (0..iam.users.len()).collect();
    let why = format!(
        "CloudTrail recorded {count} credential change(s) ({}) after the credential report of {}",
        changes.join(", "),
        report_time.format("%Y-%m-%dT%H:%M:%SZ")
    );
    credentials_per_user(&clients.iam(), &mut iam.users, &all, Some(why), log).await;
}

/// Users, groups, roles and every policy that applies to them, and the SAML/OIDC providers: what access and
/// identity questions need, without the per-user credential reads (`gateaudit gate` asks only those questions).
pub async fn collect_policies(clients: &AccountClients, log: &mut StepLog) -> Option<IamSnapshot> {
    read(clients, log, None).await
}

/// `user_credentials`: read passwords and keys, and say there when they came from a credential report.
async fn read(
    clients: &AccountClients,
    log: &mut StepLog,
    user_credentials: Option<&mut Option<DateTime<Utc>>>,
) -> Option<IamSnapshot> {
    let iam = clients.iam();
    let mut snapshot = IamSnapshot::default();
    let mut pages = iam
        .get_account_authorization_details()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                log.failed("iam:GetAccountAuthorizationDetails", None, error_text(&e));
                return None;
            }
        };
        for u in page.user_detail_list() {
            snapshot.users.push(IamUser {
                name: u.user_name().unwrap_or_default().to_owned(),
                arn: u.arn().unwrap_or_default().to_owned(),
                id: u.user_id().unwrap_or_default().to_owned(),
                path: u.path().unwrap_or("/").to_owned(),
                groups: u.group_list().to_vec(),
                attached_policies: attached(u.attached_managed_policies()),
                inline_policies: inline(u.user_policy_list()),
                permissions_boundary: u
                    .permissions_boundary()
                    .and_then(|b| b.permissions_boundary_arn())
                    .map(str::to_owned),
                has_login_profile: false,
                access_keys: Vec::new(),
                tags: tags(u.tags()),
            });
        }
        for g in page.group_detail_list() {
            snapshot.groups.push(IamGroup {
                name: g.group_name().unwrap_or_default().to_owned(),
                arn: g.arn().unwrap_or_default().to_owned(),
                attached_policies: attached(g.attached_managed_policies()),
                inline_policies: inline(g.group_policy_list()),
            });
        }
        for r in page.role_detail_list() {
            snapshot.roles.push(IamRole {
                name: r.role_name().unwrap_or_default().to_owned(),
                arn: r.arn().unwrap_or_default().to_owned(),
                id: r.role_id().unwrap_or_default().to_owned(),
                path: r.path().unwrap_or("/").to_owned(),
                trust_policy: decode_policy_document(
                    r.assume_role_policy_document().unwrap_or("{}"),
                ),
                attached_policies: attached(r.attached_managed_policies()),
                inline_policies: inline(r.role_policy_list()),
                permissions_boundary: r
                    .permissions_boundary()
                    .and_then(|b| b.permissions_boundary_arn())
                    .map(str::to_owned),
                tags: tags(r.tags()),
            });
        }
        for p in page.policies() {
            snapshot.policies.push(ManagedPolicy {
                arn: p.arn().unwrap_or_default().to_owned(),
                name: p.policy_name().unwrap_or_default().to_owned(),
                default_version_id: p.default_version_id().unwrap_or_default().to_owned(),
                versions: p
                    .policy_version_list()
                    .iter()
                    .map(|v| PolicyVersion {
                        version_id: v.version_id().unwrap_or_default().to_owned(),
                        is_default: v.is_default_version(),
                        document: decode_policy_document(v.document().unwrap_or_default()),
                    })
                    .collect(),
            });
        }
    }
    log.ok(
        "iam:GetAccountAuthorizationDetails",
        None,
        snapshot.users.len()
            + snapshot.groups.len()
            + snapshot.roles.len()
            + snapshot.policies.len(),
    );
    fetch_missing_policy_documents(&iam, &mut snapshot, log).await;
    if let Some(report_time) = user_credentials {
        *report_time = credentials(&iam, &mut snapshot.users, log).await;
    }
    identity_providers(&iam, &mut snapshot, log).await;
    Some(snapshot)
}

/// SAML and OIDC providers: the roles they are trusted by admit people from outside IAM (Okta, Entra, GitHub...).
async fn identity_providers(
    iam: &aws_sdk_iam::Client,
    snapshot: &mut IamSnapshot,
    log: &mut StepLog,
) {
    match iam.list_saml_providers().send().await {
        Ok(out) => {
            snapshot.saml_providers = out
                .saml_provider_list()
                .iter()
                .filter_map(|p| {
                    p.arn().map(|arn| IdentityProvider {
                        arn: arn.to_owned(),
                    })
                })
                .collect();
            log.ok("iam:ListSAMLProviders", None, snapshot.saml_providers.len());
        }
        Err(e) => log.failed("iam:ListSAMLProviders", None, error_text(&e)),
    }
    match iam.list_open_id_connect_providers().send().await {
        Ok(out) => {
            snapshot.oidc_providers = out
                .open_id_connect_provider_list()
                .iter()
                .filter_map(|p| {
                    p.arn().map(|arn| IdentityProvider {
                        arn: arn.to_owned(),
                    })
                })
                .collect();
            log.ok(
                "iam:ListOpenIDConnectProviders",
                None,
                snapshot.oidc_providers.len(),
            );
        }
        Err(e) => log.failed("iam:ListOpenIDConnectProviders", None, error_text(&e)),
    }
}

/// Attached policies that `GetAccountAuthorizationDetails` did not describe (some implementations omit AWS managed
/// policies) are fetched with `GetPolicy` and `GetPolicyVersion`, so that no grant is missed.
async fn fetch_missing_policy_documents(
    iam: &aws_sdk_iam::Client,
    snapshot: &mut IamSnapshot,
    log: &mut StepLog,
) {
    let mut wanted: Vec<String> = snapshot
        .users
        .iter()
        .flat_map(|u| {
            u.attached_policies
                .iter()
                .chain(u.permissions_boundary.iter())
        })
        .chain(
            snapshot
                .groups
                .iter()
                .flat_map(|g| g.attached_policies.iter()),
        )
        .chain(snapshot.roles.iter().flat_map(|r| {
            r.attached_policies
                .iter()
                .chain(r.permissions_boundary.iter())
        }))
        .filter(|arn| {
            snapshot
                .policy(arn)
                .is_none_or(|p| p.default_document().is_none())
        })
        .cloned()
        .collect();
    wanted.sort();
    wanted.dedup();
    if wanted.is_empty() {
        return;
    }
    let mut errors = Vec::new();
    let mut fetched = 0;
    for arn in wanted {
        match fetch_policy(iam, &arn).await {
            Ok(policy) => {
                snapshot.policies.retain(|p| p.arn != arn);
                snapshot.policies.push(policy);
                fetched += 1;
            }
            Err(e) => errors.push(format!("{arn}: {e}")),
        }
    }
    if errors.is_empty() {
        log.ok("iam:GetPolicyVersion", None, fetched);
    } else {
        log.failed("iam:GetPolicyVersion", None, errors.join("; "));
    }
}

async fn fetch_policy(iam: &aws_sdk_iam::Client, arn: &str) -> Result<ManagedPolicy, String> {
    let policy = iam
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| error_text(&e))?;
    let policy = policy.policy().ok_or("GetPolicy returned no policy")?;
    let version_id = policy
        .default_version_id()
        .ok_or("policy has no default version")?
        .to_owned();
    let version = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(&version_id)
        .send()
        .await
        .map_err(|e| error_text(&e))?;
    let document = version
        .policy_version()
        .and_then(|v| v.document())
        .ok_or("policy version has no document")?;
    Ok(ManagedPolicy {
        arn: arn.to_owned(),
        name: policy.policy_name().unwrap_or_default().to_owned(),
        default_version_id: version_id.clone(),
        versions: vec![PolicyVersion {
            version_id,
            is_default: true,
            document: decode_policy_document(document),
        }],
    })
}

/// Console access (password) and long-lived access keys, which make write access high severity: from the
/// credential report where it can be used, else per user. Returns the report's time when it was used.
async fn credentials(
    iam: &aws_sdk_iam::Client,
    users: &mut [IamUser],
    log: &mut StepLog,
) -> Option<DateTime<Utc>> {
    let now = Utc::now();
    let mut used = None;
    let (per_user, why): (Vec<usize>, Option<String>) = match credential_report(iam, now).await {
        Ok(report) => {
            used = Some(report.generated);
            let mut missing = Vec::new();
            let mut covered = 0;
            for (i, user) in users.iter_mut().enumerate() {
                match report.rows.get(&user.arn) {
                    Some((login, keys)) => {
                        user.has_login_profile = *login;
                        user.access_keys = keys.clone();
                        covered += 1;
                    }
                    None => missing.push(i),
                }
            }
            let age = (now - report.generated).num_minutes().max(0);
            let mut note = format!(
                "console passwords and access keys of {covered} user(s) as of the credential report generated at \
                 {} ({age} min before collection; changes after it are looked for in CloudTrail, where they \
                 appear within minutes)",
                report.generated.format("%Y-%m-%dT%H:%M:%SZ")
            );
            if report.unreadable_rows > 0 {
                note.push_str(&format!(
                    "; {} row(s) could not be read",
                    report.unreadable_rows
                ));
            }
            if !missing.is_empty() {
                note.push_str(&format!(
                    "; {} user(s) not in it read one by one",
                    missing.len()
                ));
            }
            log.ok_with_note("iam:GetCredentialReport", None, covered, note);
            let why = (!missing.is_empty()).then(|| {
                "not in the credential report (created after it, or its row could not be read)"
                    .to_owned()
            });
            (missing, why)
        }
        Err(reason) => ((0..users.len()).collect(), Some(reason)),
    };
    if per_user.is_empty() && why.is_none() {
        return used;
    }
    credentials_per_user(iam, users, &per_user, why, log).await;
    used
}

/// A credential report that can be used: when it was generated, and each listed user's facts by ARN.
struct CredentialReport {
    generated: DateTime<Utc>,
    rows: HashMap<String, UserCredentials>,
    unreadable_rows: usize,
}

/// Reads the account's credential report; `Err` says why it cannot be used (absent, expired, too old, unreadable).
async fn credential_report(
    iam: &aws_sdk_iam::Client,
    now: DateTime<Utc>,
) -> Result<CredentialReport, String> {
    let out = match iam.get_credential_report().send().await {
        Ok(out) => out,
        Err(e) => {
            let service = e.as_service_error();
            let reason = if service.is_some_and(|s| s.is_credential_report_not_present_exception())
            {
                "no credential report exists (gateaudit does not generate one: GenerateCredentialReport starts a \
                 job in the audited account)"
                    .to_owned()
            } else if service.is_some_and(|s| s.is_credential_report_expired_exception()) {
                "the credential report has expired".to_owned()
            } else if service.is_some_and(|s| s.is_credential_report_not_ready_exception()) {
                "the credential report is still being generated".to_owned()
            } else {
                format!("GetCredentialReport failed: {}", error_text(&e))
            };
            return Err(reason);
        }
    };
    let generated = out
        .generated_time()
        .and_then(to_chrono)
        .ok_or("the credential report has no GeneratedTime, so its age is unknown")?;
    if now - generated > CREDENTIAL_REPORT_MAX_AGE {
        return Err(format!(
            "the credential report was generated at {}, more than {} hours before collection",
            generated.format("%Y-%m-%dT%H:%M:%SZ"),
            CREDENTIAL_REPORT_MAX_AGE.num_hours()
        ));
    }
    let content = out
        .content()
        .ok_or("the credential report has no content")?
        .as_ref();
    let (rows, unreadable_rows) = parse_credential_report(content)?;
    Ok(CredentialReport {
        generated,
        rows,
        unreadable_rows,
    })
}

/// Parses a credential report (CSV with a header row): each user row's console password and access keys by ARN,
/// and how many rows could not be read (their users are then read one by one). The root row is skipped. A report
/// without the needed columns cannot be used at all.
fn parse_credential_report(
    content: &[u8],
) -> Result<(HashMap<String, UserCredentials>, usize), String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(content);
    let headers = reader
        .headers()
        .map_err(|e| format!("the credential report is not CSV: {e}"))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| format!("the credential report has no column {name}"))
    };
    let arn = column("arn")?;
    let password = column("password_enabled")?;
    let keys = [
        (
            1,
            column("access_key_1_active")?,
            column("access_key_1_last_rotated")?,
        ),
        (
            2,
            column("access_key_2_active")?,
            column("access_key_2_last_rotated")?,
        ),
    ];
    let mut rows = HashMap::new();
    let mut unreadable = 0;
    for record in reader.records() {
        let Ok(record) = record else {
            unreadable += 1;
            continue;
        };
        let field = |i: usize| record.get(i).unwrap_or_default().trim();
        let user_arn = field(arn);
        if user_arn.ends_with(":root") {
            continue;
        }
        let parsed = (|| {
            let login = parse_report_bool(field(password))?;
            let mut found = Vec::new();
            for (n, active, rotated) in keys {
                let active = parse_report_bool(field(active))?;
                match (field(rotated), active) {
                    ("N/A", false) => {}
                    ("N/A", true) => return None,
                    (when, _) => found.push(AccessKey {
                        id: format!("access key {n} (credential report; no id)"),
                        status: if active { "Active" } else { "Inactive" }.to_owned(),
                        created: DateTime::parse_from_rfc3339(when)
                            .ok()
                            .map(|t| t.with_timezone(&Utc)),
                    }),
                }
            }
            Some((login, found))
        })();
        match parsed {
            Some(facts) if !user_arn.is_empty() => {
                rows.insert(user_arn.to_owned(), facts);
            }
            _ => unreadable += 1,
        }
    }
    Ok((rows, unreadable))
}

/// `true`/`false` as the report writes them (AWS documents `TRUE`/`FALSE`); anything else is not a fact.
fn parse_report_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// `GetLoginProfile` and `ListAccessKeys` for the users at `which` (`why`: the reason no report covered them).
async fn credentials_per_user(
    iam: &aws_sdk_iam::Client,
    users: &mut [IamUser],
    which: &[usize],
    why: Option<String>,
    log: &mut StepLog,
) {
    let users_ref = &*users;
    let results: Vec<(usize, Result<UserCredentials, String>)> =
        stream::iter(which.iter().copied())
            .map(|i| async move { (i, user_credentials(iam, &users_ref[i].name).await) })
            .buffer_unordered(PER_USER_CONCURRENCY)
            .collect()
            .await;
    let mut errors = Vec::new();
    for (i, result) in results {
        match result {
            Ok((login, keys)) => {
                users[i].has_login_profile = login;
                users[i].access_keys = keys;
            }
            Err(e) => errors.push(format!("{}: {e}", users[i].name)),
        }
    }
    let step = "iam:GetLoginProfile+ListAccessKeys";
    if errors.is_empty() {
        match why {
            Some(why) => log.ok_with_note(step, None, which.len(), format!("read per user: {why}")),
            None => log.ok(step, None, which.len()),
        }
    } else {
        errors.sort();
        log.failed(step, None, errors.join("; "));
    }
}

/// Whether the user has a console password, and its access keys.
type UserCredentials = (bool, Vec<AccessKey>);

async fn user_credentials(
    iam: &aws_sdk_iam::Client,
    user: &str,
) -> Result<UserCredentials, String> {
    let login = match iam.get_login_profile().user_name(user).send().await {
        Ok(_) => true,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) =>
        {
            false
        }
        Err(e) => return Err(format!("GetLoginProfile: {}", error_text(&e))),
    };
    let mut keys = Vec::new();
    let mut pages = iam
        .list_access_keys()
        .user_name(user)
        .into_paginator()
        .items()
        .send();
    while let Some(key) = pages.next().await {
        let key = key.map_err(|e| format!("ListAccessKeys: {}", error_text(&e)))?;
        keys.push(AccessKey {
            id: key.access_key_id().unwrap_or_default().to_owned(),
            status: key
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            created: key.create_date().and_then(to_chrono),
        });
    }
    Ok((login, keys))
}

#[cfg(test)]
mod tests {
    use super::{decode_policy_document, parse_credential_report};

    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,\
password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,\
access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,\
access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,\
cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

    fn row(user: &str, password: &str, key1: (&str, &str), key2: (&str, &str)) -> String {
        format!(
            "{user},arn:aws:iam::111111111111:user/{user},2026-01-01T00:00:00+00:00,{password},N/A,N/A,N/A,false,\
             {},{},N/A,N/A,N/A,{},{},N/A,N/A,N/A,false,N/A,false,N/A",
            key1.0, key1.1, key2.0, key2.1
        )
    }

    #[test]
    fn a_credential_report_gives_passwords_and_keys_by_arn() {
        let root = "<root_account>,arn:aws:iam::111111111111:root,2026-01-01T00:00:00+00:00,not_supported,\
                    N/A,not_supported,not_supported,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,\
                    false,N/A";
        let text = [
            HEADER.to_owned(),
            root.to_owned(),
            row("ann", "TRUE", ("false", "N/A"), ("false", "N/A")),
            row(
                "bo",
                "false",
                ("false", "2026-02-01T10:00:00+00:00"),
                ("true", "2026-03-01T10:00:00+00:00"),
            ),
            // A quoted name with a comma (IAM allows it) is one field.
            "\"c,d\",\"arn:aws:iam::111111111111:user/c,d\",2026-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,\
             true,2026-02-01T10:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
                .to_owned(),
        ]
        .join("\n");
        let (rows, unreadable) = parse_credential_report(text.as_bytes()).expect("parsed");
        assert_eq!(unreadable, 0);
        assert_eq!(rows.len(), 3, "the root row is not a user");
        let ann = &rows["arn:aws:iam::111111111111:user/ann"];
        assert!(ann.0 && ann.1.is_empty());
        let bo = &rows["arn:aws:iam::111111111111:user/bo"];
        assert!(!bo.0);
        let statuses: Vec<&str> = bo.1.iter().map(|k| k.status.as_str()).collect();
        assert_eq!(
            statuses,
            ["Inactive", "Active"],
            "an inactive key is still a key"
        );
        assert_eq!(
            bo.1[1].created.map(|t| t.to_rfc3339()),
            Some("2026-03-01T10:00:00+00:00".to_owned())
        );
        assert_eq!(rows["arn:aws:iam::111111111111:user/c,d"].1.len(), 1);
    }

    #[test]
    fn rows_that_say_nothing_certain_are_counted_not_guessed() {
        let text = [
            HEADER.to_owned(),
            row("ok", "false", ("false", "N/A"), ("false", "N/A")),
            // An active key without its date, a password flag that is no boolean, a row cut short.
            row("nodate", "false", ("true", "N/A"), ("false", "N/A")),
            row("weird", "maybe", ("false", "N/A"), ("false", "N/A")),
            "short,arn:aws:iam::111111111111:user/short,2026-01-01T00:00:00+00:00,false".to_owned(),
        ]
        .join("\n");
        let (rows, unreadable) = parse_credential_report(text.as_bytes()).expect("parsed");
        assert_eq!(unreadable, 3);
        assert_eq!(
            rows.keys().collect::<Vec<_>>(),
            ["arn:aws:iam::111111111111:user/ok"]
        );
        // Without the columns it needs, the report cannot be used at all.
        let err =
            parse_credential_report(b"user,arn\nx,arn:aws:iam::1:user/x").expect_err("refused");
        assert!(err.contains("password_enabled"), "{err}");
    }

    #[test]
    fn accepts_raw_and_url_encoded_documents() {
        let raw = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(decode_policy_document(raw), decode_policy_document(encoded));
        assert_eq!(decode_policy_document(raw)["Version"], "2012-10-17");
    }

    #[test]
    fn keeps_garbage_visible_instead_of_dropping_it() {
        assert_eq!(
            decode_policy_document("not json"),
            serde_json::Value::String("not json".into())
        );
    }
}
