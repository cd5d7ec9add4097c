//! IAM Identity Center: who the people behind the `AWSReservedSSO_*` roles are. Reads, in the Identity Center
//! region of the management (or delegated administrator) account, `ListInstances`, every permission set
//! (`DescribePermissionSet`, `GetInlinePolicyForPermissionSet`, `ListManagedPoliciesInPermissionSet`,
//! `ListCustomerManagedPolicyReferencesInPermissionSet`, `GetPermissionsBoundaryForPermissionSet`), the assignments
//! of every audited account (`ListPermissionSetsProvisionedToAccount`, `ListAccountAssignments`), and the identity
//! store (`ListUsers`, `ListGroups`, `ListGroupMemberships`).
//!
//! Read-only calls only, every list paginated. A failed call is a failed step and what it would have read stays
//! unknown; it never reads as "nobody is assigned".

use aws_sdk_identitystore::types::MemberId;
use aws_sdk_ssoadmin::types::PrincipalType;

use futures::stream::{self, StreamExt};

use super::limits::READS_IN_FLIGHT;
use super::session::{error_text, AccountClients};
use super::StepLog;
use crate::model::{
    AccountAssignment, CustomerPolicyReference, GroupMembership, IdentityCenterSnapshot,
    IdentityStoreGroup, IdentityStoreUser, PermissionSet, PermissionsBoundary,
};

/// Reads Identity Center for the given (audited) accounts. `None` when the account has no instance.
pub async fn collect(
    clients: &AccountClients,
    region: &str,
    accounts: &[String],
) -> IdentityCenterSnapshot {
    let admin = clients.sso_admin(region);
    let mut log = StepLog::default();
    let mut ic = IdentityCenterSnapshot {
        region: region.to_owned(),
        read_from: clients.account_id.clone(),
        ..IdentityCenterSnapshot::default()
    };
    let mut instances = Vec::new();
    let mut pages = admin.list_instances().into_paginator().items().send();
    while let Some(instance) = pages.next().await {
        match instance {
            Ok(i) => instances.push((
                i.instance_arn().unwrap_or_default().to_owned(),
                i.identity_store_id().unwrap_or_default().to_owned(),
            )),
            Err(e) => {
                log.failed("sso-admin:ListInstances", Some(region), error_text(&e));
                ic.steps = log.into_steps();
                return ic;
            }
        }
    }
    log.ok("sso-admin:ListInstances", Some(region), instances.len());
    let Some((instance_arn, store)) = instances.into_iter().next() else {
        // No instance: nobody arrives through Identity Center (the snapshot says so by an empty instance).
        ic.steps = log.into_steps();
        return ic;
    };
    ic.instance_arn = instance_arn.clone();
    ic.identity_store_id = store.clone();
    match permission_sets(&admin, &instance_arn).await {
        Ok(sets) => {
            log.ok(
                "sso-admin:ListPermissionSets+Describe",
                Some(region),
                sets.len(),
            );
            ic.permission_sets = sets;
        }
        Err(e) => log.failed("sso-admin:ListPermissionSets+Describe", Some(region), e),
    }
    // Assignments (a few calls per account, READS_IN_FLIGHT accounts at a time, answers in the accounts' order),
    // users and groups are read at once: one after another they were most of a large organisation's collection.
    let store_client = clients.identity_store(region);
    let every_assignment = stream::iter(accounts)
        .map(|account| {
            let (admin, instance_arn) = (&admin, &instance_arn);
            async move { (account, assignments(admin, instance_arn, account).await) }
        })
        .buffered(READS_IN_FLIGHT)
        .collect::<Vec<_>>();
    let (every_assignment, found_users, found_groups) = futures::join!(
        every_assignment,
        users(&store_client, &store),
        groups(&store_client, &store)
    );
    let mut errors = Vec::new();
    for (account, found) in every_assignment {
        match found {
            Ok(found) => ic.assignments.extend(found),
            Err(e) => errors.push(format!("{account}: {e}")),
        }
    }
    if errors.is_empty() {
        log.ok(
            "sso-admin:ListAccountAssignments",
            Some(region),
            ic.assignments.len(),
        );
    } else {
        log.failed(
            "sso-admin:ListAccountAssignments",
            Some(region),
            errors.join("; "),
        );
    }
    match found_users {
        Ok(u) => {
            log.ok("identitystore:ListUsers", Some(region), u.len());
            ic.users = u;
        }
        Err(e) => log.failed("identitystore:ListUsers", Some(region), e),
    }
    match found_groups {
        Ok((g, memberships)) => {
            log.ok(
                "identitystore:ListGroups+ListGroupMemberships",
                Some(region),
                memberships.len(),
            );
            ic.groups = g;
            ic.memberships = memberships;
        }
        Err(e) => log.failed(
            "identitystore:ListGroups+ListGroupMemberships",
            Some(region),
            e,
        ),
    }
    ic.steps = log.into_steps();
    ic
}

async fn permission_sets(
    admin: &aws_sdk_ssoadmin::Client,
    instance: &str,
) -> Result<Vec<PermissionSet>, String> {
    let mut arns = Vec::new();
    let mut pages = admin
        .list_permission_sets()
        .instance_arn(instance)
        .into_paginator()
        .items()
        .send();
    while let Some(arn) = pages.next().await {
        arns.push(arn.map_err(|e| format!("ListPermissionSets: {}", error_text(&e)))?);
    }
    let mut sets = Vec::new();
    for arn in arns {
        sets.push(permission_set(admin, instance, &arn).await?);
    }
    Ok(sets)
}

async fn permission_set(
    admin: &aws_sdk_ssoadmin::Client,
    instance: &str,
    arn: &str,
) -> Result<PermissionSet, String> {
    let context = |call: &str, e: String| format!("{call} {arn}: {e}");
    let described = admin
        .describe_permission_set()
        .instance_arn(instance)
        .permission_set_arn(arn)
        .send()
        .await
        .map_err(|e| context("DescribePermissionSet", error_text(&e)))?;
    let set = described
        .permission_set()
        .ok_or_else(|| context("DescribePermissionSet", "no permission set".into()))?;
    let inline = admin
        .get_inline_policy_for_permission_set()
        .instance_arn(instance)
        .permission_set_arn(arn)
        .send()
        .await
        .map_err(|e| context("GetInlinePolicyForPermissionSet", error_text(&e)))?;
    let inline_policy = inline
        .inline_policy()
        .filter(|p| !p.trim().is_empty())
        .map(super::decode_policy_document);
    let mut managed_policies = Vec::new();
    let mut pages = admin
        .list_managed_policies_in_permission_set()
        .instance_arn(instance)
        .permission_set_arn(arn)
        .into_paginator()
        .items()
        .send();
    while let Some(p) = pages.next().await {
        let p = p.map_err(|e| context("ListManagedPoliciesInPermissionSet", error_text(&e)))?;
        managed_policies.extend(p.arn().map(str::to_owned));
    }
    let mut customer_managed_policies = Vec::new();
    let mut pages = admin
        .list_customer_managed_policy_references_in_permission_set()
        .instance_arn(instance)
        .permission_set_arn(arn)
        .into_paginator()
        .items()
        .send();
    while let Some(p) = pages.next().await {
        let p = p.map_err(|e| {
            context(
                "ListCustomerManagedPolicyReferencesInPermissionSet",
                error_text(&e),
            )
        })?;
        customer_managed_policies.push(CustomerPolicyReference {
            name: p.name().to_owned(),
            path: p.path().unwrap_or("/").to_owned(),
        });
    }
    let permissions_boundary = match admin
        .get_permissions_boundary_for_permission_set()
        .instance_arn(instance)
        .permission_set_arn(arn)
        .send()
        .await
    {
        Ok(out) => out.permissions_boundary().and_then(|b| {
            match (
                b.managed_policy_arn(),
                b.customer_managed_policy_reference(),
            ) {
                (Some(managed), _) => Some(PermissionsBoundary::Managed(managed.to_owned())),
                (None, Some(r)) => Some(PermissionsBoundary::CustomerManaged(
                    CustomerPolicyReference {
                        name: r.name().to_owned(),
                        path: r.path().unwrap_or("/").to_owned(),
                    },
                )),
                (None, None) => None,
            }
        }),
        // AWS answers ResourceNotFoundException for a set without a boundary.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            None
        }
        Err(e) => {
            return Err(context(
                "GetPermissionsBoundaryForPermissionSet",
                error_text(&e),
            ))
        }
    };
    Ok(PermissionSet {
        arn: arn.to_owned(),
        name: set.name().unwrap_or_default().to_owned(),
        description: set.description().unwrap_or_default().to_owned(),
        inline_policy,
        managed_policies,
        customer_managed_policies,
        permissions_boundary,
    })
}

async fn assignments(
    admin: &aws_sdk_ssoadmin::Client,
    instance: &str,
    account: &str,
) -> Result<Vec<AccountAssignment>, String> {
    let mut sets = Vec::new();
    let mut pages = admin
        .list_permission_sets_provisioned_to_account()
        .instance_arn(instance)
        .account_id(account)
        .into_paginator()
        .items()
        .send();
    while let Some(set) = pages.next().await {
        sets.push(
            set.map_err(|e| format!("ListPermissionSetsProvisionedToAccount: {}", error_text(&e)))?,
        );
    }
    let mut out = Vec::new();
    for set in sets {
        let mut pages = admin
            .list_account_assignments()
            .instance_arn(instance)
            .account_id(account)
            .permission_set_arn(&set)
            .into_paginator()
            .items()
            .send();
        while let Some(a) = pages.next().await {
            let a = a.map_err(|e| format!("ListAccountAssignments {set}: {}", error_text(&e)))?;
            let principal_type = match a.principal_type() {
                Some(PrincipalType::Group) => "GROUP",
                Some(PrincipalType::User) => "USER",
                other => return Err(format!("unexpected principal type {other:?}")),
            };
            out.push(AccountAssignment {
                account_id: a.account_id().unwrap_or(account).to_owned(),
                permission_set_arn: a.permission_set_arn().unwrap_or(&set).to_owned(),
                principal_type: principal_type.to_owned(),
                principal_id: a.principal_id().unwrap_or_default().to_owned(),
            });
        }
    }
    Ok(out)
}

async fn users(
    client: &aws_sdk_identitystore::Client,
    store: &str,
) -> Result<Vec<IdentityStoreUser>, String> {
    let mut out = Vec::new();
    let mut pages = client
        .list_users()
        .identity_store_id(store)
        .into_paginator()
        .items()
        .send();
    while let Some(user) = pages.next().await {
        let u = user.map_err(|e| error_text(&e))?;
        out.push(IdentityStoreUser {
            id: u.user_id().to_owned(),
            user_name: u.user_name().unwrap_or_default().to_owned(),
            display_name: u.display_name().unwrap_or_default().to_owned(),
            emails: u
                .emails()
                .iter()
                .filter_map(|e| e.value().map(str::to_owned))
                .collect(),
        });
    }
    Ok(out)
}

async fn groups(
    client: &aws_sdk_identitystore::Client,
    store: &str,
) -> Result<(Vec<IdentityStoreGroup>, Vec<GroupMembership>), String> {
    let mut groups = Vec::new();
    let mut pages = client
        .list_groups()
        .identity_store_id(store)
        .into_paginator()
        .items()
        .send();
    while let Some(group) = pages.next().await {
        let g = group.map_err(|e| format!("ListGroups: {}", error_text(&e)))?;
        groups.push(IdentityStoreGroup {
            id: g.group_id().to_owned(),
            display_name: g.display_name().unwrap_or_default().to_owned(),
        });
    }
    let mut memberships = Vec::new();
    for group in &groups {
        let mut pages = client
            .list_group_memberships()
            .identity_store_id(store)
            .group_id(&group.id)
            .into_paginator()
            .items()
            .send();
        while let Some(m) = pages.next().await {
            let m =
                m.map_err(|e| format!("ListGroupMemberships {}: {}", group.id, error_text(&e)))?;
            match m.member_id() {
                Some(MemberId::UserId(user)) => memberships.push(GroupMembership {
                    group_id: group.id.clone(),
                    user_id: user.clone(),
                }),
                other => {
                    return Err(format!(
                        "ListGroupMemberships {}: member of unknown kind {other:?}",
                        group.id
                    ))
                }
            }
        }
    }
    Ok((groups, memberships))
}
