//! What the organisation allows at most: for every audited account, the SCP levels that limit its principals and
//! the RCP levels that limit its resources (root first, then each OU, then the account), parsed once, and whether
//! the account is the management account (which SCPs and RCPs never limit).
//!
//! When the organisation's policies are not known for an account (no `[organization]` configured, or a level
//! could not be read or parsed), the account gets no levels and a reason: the answers then ignore organisation
//! policies, which can only over-report access, and the reports say so. Pure.

use std::collections::HashMap;

use super::access::PolicyProblem;
use crate::iam::{OrgLevel, Policy};
use crate::model::{OrgPolicyKind, OrganizationSnapshot, Snapshot};

/// How well the organisation's policies are known for an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgPolicyState {
    /// No `[organization]` in the configuration: SCPs and RCPs were not collected.
    NotCollected,
    /// The account is not in the organisation (an `[[accounts]]` entry outside it): none apply.
    OutsideOrganisation,
    /// Every level was read and parsed.
    Known,
    /// Some level could not be read or parsed: the reason.
    Unknown(String),
}

#[derive(Debug, Clone)]
pub struct OrgLimits {
    pub scp_levels: Vec<OrgLevel>,
    pub rcp_levels: Vec<OrgLevel>,
    pub is_management: bool,
    pub state: OrgPolicyState,
}

impl OrgLimits {
    fn none(state: OrgPolicyState) -> OrgLimits {
        OrgLimits {
            scp_levels: Vec::new(),
            rcp_levels: Vec::new(),
            is_management: false,
            state,
        }
    }
}

/// The limits of every audited account, and the organisation policies that could not be parsed.
pub fn org_limits(snapshot: &Snapshot) -> (HashMap<String, OrgLimits>, Vec<PolicyProblem>) {
    let mut problems = Vec::new();
    let Some(org) = &snapshot.organization else {
        let limits = snapshot
            .accounts
            .iter()
            .map(|a| {
                (
                    a.account_id.clone(),
                    OrgLimits::none(OrgPolicyState::NotCollected),
                )
            })
            .collect();
        return (limits, problems);
    };
    let mut parsed: HashMap<&str, Result<Policy, String>> = HashMap::new();
    for policy in &org.policies {
        let source = format!("{} {} ({})", policy.kind.short(), policy.name, policy.id);
        let result = Policy::parse(&source, &policy.document).map_err(|e| e.to_string());
        if let Err(e) = &result {
            problems.push(PolicyProblem {
                account_id: org.management_account.clone(),
                source: source.clone(),
                error: e.clone(),
            });
        }
        parsed.insert(policy.id.as_str(), result);
    }
    let limits = snapshot
        .accounts
        .iter()
        .map(|a| (a.account_id.clone(), limits_of(org, &a.account_id, &parsed)))
        .collect();
    (limits, problems)
}

fn limits_of(
    org: &OrganizationSnapshot,
    account: &str,
    parsed: &HashMap<&str, Result<Policy, String>>,
) -> OrgLimits {
    let is_management = !org.management_account.is_empty() && org.management_account == account;
    let Some(found) = org.account(account) else {
        let state = if org.accounts.is_empty() {
            OrgPolicyState::Unknown("the organisation's accounts could not be listed".to_owned())
        } else {
            OrgPolicyState::OutsideOrganisation
        };
        return OrgLimits {
            is_management,
            ..OrgLimits::none(state)
        };
    };
    if found.parents.is_empty() {
        return OrgLimits {
            is_management,
            ..OrgLimits::none(OrgPolicyState::Unknown(format!(
                "the OU path of {account} could not be read"
            )))
        };
    }
    let targets: Vec<&str> = found
        .parents
        .iter()
        .map(String::as_str)
        .chain(std::iter::once(account))
        .collect();
    let mut levels = [Vec::new(), Vec::new()];
    for (slot, kind) in [
        OrgPolicyKind::ServiceControlPolicy,
        OrgPolicyKind::ResourceControlPolicy,
    ]
    .into_iter()
    .enumerate()
    {
        for target in &targets {
            let attached = org.attachment(target).and_then(|a| match kind {
                OrgPolicyKind::ServiceControlPolicy => a.scps.as_ref(),
                OrgPolicyKind::ResourceControlPolicy => a.rcps.as_ref(),
            });
            let Some(ids) = attached else {
                return OrgLimits {
                    is_management,
                    ..OrgLimits::none(OrgPolicyState::Unknown(format!(
                        "the {}s attached to {target} could not be read",
                        kind.short()
                    )))
                };
            };
            // A level without policies means the policy type is not enabled (AWS refuses to leave an enabled
            // level empty): it limits nothing, so it is left out rather than read as "allows nothing".
            if ids.is_empty() {
                continue;
            }
            let mut policies = Vec::new();
            for id in ids {
                match parsed.get(id.as_str()) {
                    Some(Ok(p)) => policies.push(p.clone()),
                    Some(Err(e)) => {
                        return OrgLimits {
                            is_management,
                            ..OrgLimits::none(OrgPolicyState::Unknown(format!(
                                "{} {id} cannot be evaluated: {e}",
                                kind.short()
                            )))
                        }
                    }
                    None => {
                        return OrgLimits {
                            is_management,
                            ..OrgLimits::none(OrgPolicyState::Unknown(format!(
                                "{} {id} attached to {target} could not be described",
                                kind.short()
                            )))
                        }
                    }
                }
            }
            levels[slot].push(OrgLevel {
                id: (*target).to_owned(),
                policies,
            });
        }
    }
    let [scp_levels, rcp_levels] = levels;
    OrgLimits {
        scp_levels,
        rcp_levels,
        is_management,
        state: OrgPolicyState::Known,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{Org, ACCOUNT};
    use crate::model::PolicyAttachment;

    fn limits(org: &Org) -> OrgLimits {
        let (all, problems) = org_limits(&org.snapshot);
        assert!(problems.is_empty(), "{problems:?}");
        all.get(ACCOUNT).cloned().expect("the account has limits")
    }

    #[test]
    fn every_level_from_the_root_down_to_the_account_is_applied() {
        let mut org = Org::two_person_pipeline();
        org.organisation_with_scp(Some(
            serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}),
        ));
        let l = limits(&org);
        assert_eq!(l.state, OrgPolicyState::Known);
        let ids: Vec<&str> = l.scp_levels.iter().map(|level| level.id.as_str()).collect();
        assert_eq!(ids, vec!["r-test", ACCOUNT]);
        assert_eq!(
            l.scp_levels[1].policies.len(),
            2,
            "FullAWSAccess and the test SCP"
        );
        assert!(l.rcp_levels.is_empty(), "no RCPs attached: none apply");
        assert!(!l.is_management);
    }

    #[test]
    fn an_ou_between_root_and_account_is_a_level_of_its_own() {
        let mut org = Org::two_person_pipeline();
        org.organisation_with_scp(Some(
            serde_json::json!({"Version": "2012-10-17", "Statement": []}),
        ));
        if let Some(o) = org.snapshot.organization.as_mut() {
            o.accounts[0].parents = vec!["r-test".into(), "ou-prod".into()];
            o.attachments.push(PolicyAttachment {
                target_id: "ou-prod".into(),
                target_kind: "ORGANIZATIONAL_UNIT".into(),
                scps: Some(vec!["p-FullAWSAccess".into()]),
                rcps: Some(vec![]),
            });
        }
        let ids: Vec<String> = limits(&org).scp_levels.into_iter().map(|l| l.id).collect();
        assert_eq!(ids, vec!["r-test", "ou-prod", ACCOUNT]);
    }

    #[test]
    fn an_unread_level_makes_the_account_unknown_not_unlimited_silently() {
        let mut org = Org::two_person_pipeline();
        org.organisation_with_scp(None);
        let l = limits(&org);
        assert!(
            matches!(&l.state, OrgPolicyState::Unknown(why) if why.contains(ACCOUNT)),
            "{:?}",
            l.state
        );
        assert!(l.scp_levels.is_empty());
        let access = crate::analysis::access::AccessModel::new(&org.snapshot, &org.rules);
        assert_eq!(access.org_policy_gaps().len(), 1);
    }

    #[test]
    fn the_management_account_and_accounts_outside_or_without_an_organisation() {
        let mut org = Org::two_person_pipeline();
        assert_eq!(limits(&org).state, OrgPolicyState::NotCollected);
        org.organisation_with_scp(Some(
            serde_json::json!({"Version": "2012-10-17", "Statement": []}),
        ));
        if let Some(o) = org.snapshot.organization.as_mut() {
            o.management_account = ACCOUNT.into();
        }
        assert!(limits(&org).is_management);
        if let Some(o) = org.snapshot.organization.as_mut() {
            o.accounts[0].id = "999999999999".into();
        }
        assert_eq!(limits(&org).state, OrgPolicyState::OutsideOrganisation);
    }

    #[test]
    fn an_scp_that_cannot_be_parsed_is_a_problem_and_leaves_the_account_unknown() {
        let mut org = Org::two_person_pipeline();
        org.organisation_with_scp(Some(
            serde_json::json!({"Statement": [{"Effect": "Sometimes"}]}),
        ));
        let (all, problems) = org_limits(&org.snapshot);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].source.contains("TestScp"));
        assert!(matches!(all[ACCOUNT].state, OrgPolicyState::Unknown(_)));
    }
}
