//! AWS Organizations: the accounts to audit and what limits them. Reads, from the management account or a
//! delegated administrator, `DescribeOrganization`, `ListRoots`, `ListAccounts`, each account's `ListParents` up to
//! the root (with `DescribeOrganizationalUnit` for the OU names) and `ListTagsForResource`, then for every level on
//! the path of an audited account (root, each OU, the account) `ListPoliciesForTarget` for SCPs and RCPs, and
//! `DescribePolicy` for each policy found.
//!
//! Read-only calls only, every list paginated (an empty page may still carry a `NextToken`). A call that fails is a
//! failed step; what it would have read stays unknown (`None`), never empty. The calls made once per account
//! (its parent and tags, the policies of each target) run [`READS_IN_FLIGHT`] at a time, their answers kept in
//! the accounts' order: one after another they were most of a large organisation's collection time.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_organizations::types::{PolicyType, PolicyTypeStatus};
use futures::stream::{self, StreamExt};

use super::limits::READS_IN_FLIGHT;
use super::session::{error_text, AccountClients};
use super::StepLog;
use crate::config::{Config, DiscoveredAccount};
use crate::model::{
    OrgAccount, OrgPolicy, OrgPolicyKind, OrgUnit, OrganizationSnapshot, PolicyAttachment,
};

/// ListPoliciesForTarget accepts at most 20 results a page.
const POLICY_PAGE: i32 = 20;

/// Reads the organisation. The accounts come back with their environment assigned by the configuration's rules.
pub async fn collect(clients: &AccountClients, config: &Config) -> OrganizationSnapshot {
    let client = clients.organizations();
    let mut log = StepLog::default();
    let mut org = OrganizationSnapshot {
        read_from: clients.account_id.clone(),
        ..OrganizationSnapshot::default()
    };
    match client.describe_organization().send().await {
        Ok(out) => {
            let o = out.organization();
            org.id = o.and_then(|o| o.id()).unwrap_or_default().to_owned();
            org.management_account = o
                .and_then(|o| o.master_account_id())
                .unwrap_or_default()
                .to_owned();
            log.ok("organizations:DescribeOrganization", None, 1);
        }
        Err(e) => {
            log.failed("organizations:DescribeOrganization", None, error_text(&e));
            org.steps = log.into_steps();
            return org;
        }
    }
    let mut enabled: BTreeSet<OrgPolicyKind> = BTreeSet::new();
    let mut pages = client.list_roots().into_paginator().send();
    let mut root_error = None;
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(page) => page,
            Err(e) => {
                root_error = Some(error_text(&e));
                break;
            }
        };
        for root in page.roots() {
            {
                org.root_id = root.id().unwrap_or_default().to_owned();
                for t in root.policy_types() {
                    let on = t.status() == Some(&PolicyTypeStatus::Enabled);
                    match t.r#type() {
                        Some(PolicyType::ServiceControlPolicy) if on => {
                            enabled.insert(OrgPolicyKind::ServiceControlPolicy);
                        }
                        Some(PolicyType::ResourceControlPolicy) if on => {
                            enabled.insert(OrgPolicyKind::ResourceControlPolicy);
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    match root_error {
        Some(e) => log.failed("organizations:ListRoots", None, e),
        None => log.ok("organizations:ListRoots", None, 1),
    }
    let accounts = match list_accounts(&client).await {
        Ok(a) => {
            log.ok("organizations:ListAccounts", None, a.len());
            a
        }
        Err(e) => {
            log.failed("organizations:ListAccounts", None, e);
            org.steps = log.into_steps();
            return org;
        }
    };
    let mut units: BTreeMap<String, OrgUnit> = BTreeMap::new();
    let mut parent_errors = Vec::new();
    let mut tag_errors = Vec::new();
    // Each account's own parent and tags, concurrently; the OUs above (few, shared) are then walked with a cache.
    let direct: Vec<_> = stream::iter(&accounts)
        .map(|(id, ..)| {
            let client = &client;
            async move { futures::join!(only_parent(client, id), account_tags(client, id)) }
        })
        .buffered(READS_IN_FLIGHT)
        .collect()
        .await;
    for ((id, name, email, status), (parent, tags)) in accounts.into_iter().zip(direct) {
        let chain = match parent {
            Ok(parent) => parent_chain(&client, &id, parent, &org.root_id, &mut units).await,
            Err(e) => Err(e),
        };
        let parents = match chain {
            Ok(p) => p,
            Err(e) => {
                parent_errors.push(format!("{id}: {e}"));
                Vec::new()
            }
        };
        let ou_path = ou_path(&parents, &org.root_id, &units);
        let tags = match tags {
            Ok(t) => t,
            Err(e) => {
                tag_errors.push(format!("{id}: {e}"));
                Vec::new()
            }
        };
        let (environment, environment_rule) = config.environment_of(
            &id,
            &DiscoveredAccount {
                name: &name,
                ou_path: &ou_path,
                tags: &tags,
            },
        );
        let mut account = OrgAccount {
            id,
            name,
            email,
            status,
            parents,
            ou_path,
            tags,
            audited: false,
            environment,
            environment_rule,
        };
        account.audited = account.is_active();
        org.accounts.push(account);
    }
    for (step, errors) in [
        ("organizations:ListParents", parent_errors),
        ("organizations:ListTagsForResource", tag_errors),
    ] {
        if errors.is_empty() {
            log.ok(step, None, org.accounts.len());
        } else {
            log.failed(step, None, errors.join("; "));
        }
    }
    org.units = units.into_values().collect();
    read_policies(&client, &mut org, &enabled, &mut log).await;
    org.steps = log.into_steps();
    org
}

/// (id, name, email, status) of every account; `State` when AWS returns it, else the older `Status`.
async fn list_accounts(
    client: &aws_sdk_organizations::Client,
) -> Result<Vec<(String, String, String, String)>, String> {
    let mut out = Vec::new();
    let mut pages = client.list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| error_text(&e))?;
        for a in page.accounts() {
            let status = a
                .state()
                .map(|s| s.as_str().to_owned())
                .or_else(|| a.status().map(|s| s.as_str().to_owned()))
                .unwrap_or_default();
            out.push((
                a.id().unwrap_or_default().to_owned(),
                a.name().unwrap_or_default().to_owned(),
                a.email().unwrap_or_default().to_owned(),
                status,
            ));
        }
    }
    Ok(out)
}

/// Parent ids from the root down to the account's OU, from the account's own `parent` walking ListParents up;
/// OU names are cached in `units`.
async fn parent_chain(
    client: &aws_sdk_organizations::Client,
    account: &str,
    parent: String,
    root_id: &str,
    units: &mut BTreeMap<String, OrgUnit>,
) -> Result<Vec<String>, String> {
    let mut chain = Vec::new();
    let mut child = account.to_owned();
    let mut first = Some(parent);
    // An organisation is at most five OU levels deep below the root; anything longer is a loop.
    for _ in 0..8 {
        let parent = match (first.take(), units.get(&child)) {
            (Some(parent), _) => parent,
            (None, Some(unit)) => unit.parent_id.clone(),
            (None, None) => only_parent(client, &child).await?,
        };
        chain.push(parent.clone());
        if parent == root_id || parent.starts_with("r-") {
            chain.reverse();
            return Ok(chain);
        }
        if !units.contains_key(&parent) {
            let name = client
                .describe_organizational_unit()
                .organizational_unit_id(&parent)
                .send()
                .await
                .map_err(|e| format!("DescribeOrganizationalUnit {parent}: {}", error_text(&e)))?
                .organizational_unit()
                .and_then(|u| u.name())
                .unwrap_or_default()
                .to_owned();
            let grandparent = only_parent(client, &parent).await?;
            units.insert(
                parent.clone(),
                OrgUnit {
                    id: parent.clone(),
                    name,
                    parent_id: grandparent,
                },
            );
        }
        child = parent;
    }
    Err(format!("the parents of {account} do not reach the root"))
}

async fn only_parent(
    client: &aws_sdk_organizations::Client,
    child: &str,
) -> Result<String, String> {
    let mut pages = client
        .list_parents()
        .child_id(child)
        .into_paginator()
        .send();
    let mut parents = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("ListParents {child}: {}", error_text(&e)))?;
        parents.extend(
            page.parents()
                .iter()
                .filter_map(|p| p.id().map(str::to_owned)),
        );
    }
    match parents.as_slice() {
        [only] => Ok(only.clone()),
        [] => Err(format!("ListParents {child}: no parent")),
        more => Err(format!("ListParents {child}: {} parents", more.len())),
    }
}

fn ou_path(parents: &[String], root_id: &str, units: &BTreeMap<String, OrgUnit>) -> String {
    let mut path = vec!["Root".to_owned()];
    for id in parents
        .iter()
        .filter(|p| *p != root_id && !p.starts_with("r-"))
    {
        path.push(
            units
                .get(id)
                .map(|u| u.name.clone())
                .unwrap_or_else(|| id.clone()),
        );
    }
    path.join("/")
}

async fn account_tags(
    client: &aws_sdk_organizations::Client,
    account: &str,
) -> Result<Vec<(String, String)>, String> {
    let mut pages = client
        .list_tags_for_resource()
        .resource_id(account)
        .into_paginator()
        .items()
        .send();
    let mut tags = Vec::new();
    while let Some(tag) = pages.next().await {
        let tag = tag.map_err(|e| error_text(&e))?;
        tags.push((tag.key().to_owned(), tag.value().to_owned()));
    }
    Ok(tags)
}

/// The SCPs and RCPs attached to every level on the path of an audited account, and their documents. A policy
/// type that is not enabled on the root attaches nothing (AWS then applies no policies of that type), which is
/// recorded as an empty list, not as unknown.
async fn read_policies(
    client: &aws_sdk_organizations::Client,
    org: &mut OrganizationSnapshot,
    enabled: &BTreeSet<OrgPolicyKind>,
    log: &mut StepLog,
) {
    let mut targets: Vec<(String, &'static str)> = Vec::new();
    if !org.root_id.is_empty() {
        targets.push((org.root_id.clone(), "ROOT"));
    }
    for account in org.accounts.iter().filter(|a| a.audited) {
        for parent in &account.parents {
            if !targets.iter().any(|(t, _)| t == parent) {
                targets.push((parent.clone(), "ORGANIZATIONAL_UNIT"));
            }
        }
        targets.push((account.id.clone(), "ACCOUNT"));
    }
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    for kind in [
        OrgPolicyKind::ServiceControlPolicy,
        OrgPolicyKind::ResourceControlPolicy,
    ] {
        let step = format!("organizations:ListPoliciesForTarget({})", kind.short());
        let mut errors = Vec::new();
        let mut found = 0;
        let listed: Vec<Result<Vec<String>, String>> = stream::iter(&targets)
            .map(|(target, _)| async move {
                if enabled.contains(&kind) {
                    policies_for_target(client, target, kind).await
                } else {
                    Ok(Vec::new())
                }
            })
            .buffered(READS_IN_FLIGHT)
            .collect()
            .await;
        for ((target, target_kind), listed) in targets.iter().zip(listed) {
            let entry = match org.attachments.iter_mut().find(|a| &a.target_id == target) {
                Some(entry) => entry,
                None => {
                    org.attachments.push(PolicyAttachment {
                        target_id: target.clone(),
                        target_kind: (*target_kind).to_owned(),
                        scps: None,
                        rcps: None,
                    });
                    let last = org.attachments.len() - 1;
                    &mut org.attachments[last]
                }
            };
            let slot = match kind {
                OrgPolicyKind::ServiceControlPolicy => &mut entry.scps,
                OrgPolicyKind::ResourceControlPolicy => &mut entry.rcps,
            };
            match listed {
                Ok(ids) => {
                    found += ids.len();
                    wanted.extend(ids.iter().cloned());
                    *slot = Some(ids);
                }
                Err(e) => errors.push(format!("{target}: {e}")),
            }
        }
        if errors.is_empty() {
            log.ok(&step, None, found);
        } else {
            log.failed(&step, None, errors.join("; "));
        }
    }
    let mut errors = Vec::new();
    for id in wanted {
        match describe_policy(client, &id).await {
            Ok(policy) => org.policies.push(policy),
            Err(e) => errors.push(format!("{id}: {e}")),
        }
    }
    if errors.is_empty() {
        log.ok("organizations:DescribePolicy", None, org.policies.len());
    } else {
        log.failed("organizations:DescribePolicy", None, errors.join("; "));
    }
}

async fn policies_for_target(
    client: &aws_sdk_organizations::Client,
    target: &str,
    kind: OrgPolicyKind,
) -> Result<Vec<String>, String> {
    let filter = match kind {
        OrgPolicyKind::ServiceControlPolicy => {
            aws_sdk_organizations::types::PolicyType::ServiceControlPolicy
        }
        OrgPolicyKind::ResourceControlPolicy => {
            aws_sdk_organizations::types::PolicyType::ResourceControlPolicy
        }
    };
    let mut pages = client
        .list_policies_for_target()
        .target_id(target)
        .filter(filter)
        .max_results(POLICY_PAGE)
        .into_paginator()
        .send();
    let mut ids = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| error_text(&e))?;
        ids.extend(
            page.policies()
                .iter()
                .filter_map(|p| p.id().map(str::to_owned)),
        );
    }
    Ok(ids)
}

async fn describe_policy(
    client: &aws_sdk_organizations::Client,
    id: &str,
) -> Result<OrgPolicy, String> {
    let out = client
        .describe_policy()
        .policy_id(id)
        .send()
        .await
        .map_err(|e| error_text(&e))?;
    let policy = out.policy().ok_or("DescribePolicy returned no policy")?;
    let summary = policy
        .policy_summary()
        .ok_or("DescribePolicy returned no summary")?;
    let kind = match summary.r#type() {
        Some(PolicyType::ServiceControlPolicy) => OrgPolicyKind::ServiceControlPolicy,
        Some(PolicyType::ResourceControlPolicy) => OrgPolicyKind::ResourceControlPolicy,
        other => return Err(format!("unexpected policy type {other:?}")),
    };
    Ok(OrgPolicy {
        id: id.to_owned(),
        arn: summary.arn().unwrap_or_default().to_owned(),
        name: summary.name().unwrap_or_default().to_owned(),
        kind,
        aws_managed: summary.aws_managed(),
        document: super::decode_policy_document(policy.content().unwrap_or_default()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ou_paths_are_named_from_the_root_down() {
        let mut units = BTreeMap::new();
        for (id, name, parent) in [("ou-w", "Workloads", "r-1"), ("ou-p", "Prod", "ou-w")] {
            units.insert(
                id.to_owned(),
                OrgUnit {
                    id: id.to_owned(),
                    name: name.to_owned(),
                    parent_id: parent.to_owned(),
                },
            );
        }
        let parents = vec!["r-1".to_owned(), "ou-w".to_owned(), "ou-p".to_owned()];
        assert_eq!(ou_path(&parents, "r-1", &units), "Root/Workloads/Prod");
        assert_eq!(ou_path(&["r-1".to_owned()], "r-1", &units), "Root");
    }
}
