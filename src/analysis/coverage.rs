//! What the answers of a run rest on, and where they are blind: notes every report prints beside the findings
//! (organisation policies not collected or not readable, people behind roles unknown, accounts not audited or
//! not classified). A note never replaces a finding or an incomplete status; it says what the answers ignore.
//!
//! Pure: reads the snapshot, the access model and the reach.

use super::access::AccessModel;
use super::reach::Reach;
use crate::model::{Snapshot, StepStatus};

/// The notes of a run, most important first.
pub fn notes(snapshot: &Snapshot, access: &AccessModel, reach: &Reach) -> Vec<String> {
    let mut notes = Vec::new();
    match &snapshot.organization {
        None => notes.push(
            "AWS Organizations was not read ([organization] is not configured): SCPs and RCPs are not applied, so \
             the access answers may over-report; the accounts audited are the configured list."
                .to_owned(),
        ),
        Some(org) => {
            for step in org.steps.iter().filter(|s| s.status != StepStatus::Ok) {
                notes.push(format!(
                    "Organizations: {} {} in account {}: {}",
                    step.step,
                    if step.status == StepStatus::Failed {
                        "failed"
                    } else {
                        "was partial"
                    },
                    org.read_from,
                    step.error.as_deref().unwrap_or("no detail")
                ));
            }
            let skipped: Vec<String> = org
                .accounts
                .iter()
                .filter(|a| !a.audited)
                .map(|a| format!("{} ({}, {})", a.id, a.name, a.status.to_lowercase()))
                .collect();
            if !skipped.is_empty() {
                notes.push(format!(
                    "{} account(s) of the organisation are not audited because they are not active: {}",
                    skipped.len(),
                    skipped.join(", ")
                ));
            }
        }
    }
    for (account, why) in access.org_policy_gaps() {
        notes.push(format!(
            "Account {account}: the answers ignore organisation policies (SCPs/RCPs) because {why}."
        ));
    }
    let unclassified: Vec<String> = snapshot
        .accounts
        .iter()
        .filter(|a| a.environment == crate::config::UNCLASSIFIED)
        .map(|a| format!("{} ({})", a.account_id, a.name))
        .collect();
    if !unclassified.is_empty() {
        notes.push(format!(
            "{} audited account(s) match no environment rule and are labelled {}: {} (a production account among \
             them would not be held to the production rules)",
            unclassified.len(),
            crate::config::UNCLASSIFIED,
            unclassified.join(", ")
        ));
    }
    if let Some(ic) = &snapshot.identity_center {
        for step in ic.steps.iter().filter(|s| s.status != StepStatus::Ok) {
            notes.push(format!(
                "IAM Identity Center: {} {} in account {}: {}; the people behind permission-set roles may be \
                 incomplete",
                step.step,
                if step.status == StepStatus::Failed {
                    "failed"
                } else {
                    "was partial"
                },
                ic.read_from,
                step.error.as_deref().unwrap_or("no detail")
            ));
        }
        if ic.instance_arn.is_empty() && ic.steps.iter().all(|s| s.status == StepStatus::Ok) {
            notes.push(format!(
                "IAM Identity Center: no instance in {} of account {}.",
                ic.region, ic.read_from
            ));
        }
    }
    notes.extend(reach.gaps.iter().cloned());
    notes
}
