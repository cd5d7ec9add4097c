//! IAM collection: `GetAccountAuthorizationDetails` (users, groups, roles, every managed policy version, inline
//! policies, boundaries), then login profiles and access keys per user.
//!
//! Read-only calls only. Documents arrive URL-encoded from AWS and sometimes raw from emulators: both are accepted.

use futures::{stream, StreamExt};

use super::session::{error_text, AccountClients};
use super::{to_chrono, StepLog};
use crate::model::{
    AccessKey, IamGroup, IamRole, IamSnapshot, IamUser, IdentityProvider, InlinePolicy,
    ManagedPolicy, PolicyVersion,
};

const PER_USER_CONCURRENCY: usize = 4;

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

pub async fn collect(clients: &AccountClients, log: &mut StepLog) -> Option<IamSnapshot> {
    read(clients, log, true).await
}

/// Users, groups, roles and every policy that applies to them, and the SAML/OIDC providers: what access and
/// identity questions need, without the per-user credential reads (`gateaudit gate` asks only those questions).
pub async fn collect_policies(clients: &AccountClients, log: &mut StepLog) -> Option<IamSnapshot> {
    read(clients, log, false).await
}

async fn read(
    clients: &AccountClients,
    log: &mut StepLog,
    user_credentials: bool,
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
    if user_credentials {
        credentials_per_user(&iam, &mut snapshot.users, log).await;
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

/// Console access (login profile) and long-lived access keys, which make write access high severity.
async fn credentials_per_user(iam: &aws_sdk_iam::Client, users: &mut [IamUser], log: &mut StepLog) {
    let results: Vec<(usize, Result<UserCredentials, String>)> =
        stream::iter(users.iter().enumerate())
            .map(|(i, user)| async move { (i, user_credentials(iam, &user.name).await) })
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
    if errors.is_empty() {
        log.ok("iam:GetLoginProfile+ListAccessKeys", None, users.len());
    } else {
        errors.sort();
        log.failed(
            "iam:GetLoginProfile+ListAccessKeys",
            None,
            errors.join("; "),
        );
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
    use super::decode_policy_document;

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
