//! Analysis: the derived views every check and report shares, computed from a snapshot and the rule set.
//!
//! - [`identity`]: who is one person (session names, Identity Center, sourceIdentity, aliases);
//! - [`access`]: the access model over the IAM evaluator (who can do what), limited by [`org_limits`] (SCPs, RCPs);
//! - [`reach`]: who (IAM users, Identity Center users) can act as which principal, and by which route;
//! - [`sessions`]: who is behind a role session (AssumeRole chains back to a service or a person);
//! - [`approvals`]: each approval joined to its person, execution and S3 record;
//! - [`changes`]: the change population (every production deployment of the period, with its approvals);
//! - [`coverage`]: what the answers ignore (notes for every report);
//! - [`execution_actors`]: who started, retried, overrode or rolled back an execution;
//! - [`exposure`]: who-can-approve and write-grant tables;
//! - [`deployments`]: the accounts a pipeline action deploys into and an approval gates;
//! - [`ledger`]: the approval ledger rows;
//! - [`declarations`]: pipeline declarations compared (what an update took away);
//! - [`evidence`]: the ledger cut to an auditor's scope;
//! - [`evidence_reach`]: who can destroy the evidence (buckets across accounts, KMS keys);
//! - [`trail_selectors`]: which management events a trail's event selectors record;
//! - [`trust`]: whether a role's trust policy admits a principal.
//!
//! Pure: no I/O, no AWS SDK types, and nothing from `report` or `checks` (the arrows point from them to here).

pub mod access;
pub mod action_history;
pub mod approvals;
pub mod candidates;
pub mod changes;
pub mod coverage;
pub mod declarations;
pub mod deployments;
pub mod evidence;
pub mod evidence_reach;
pub mod execution_actors;
pub mod exposure;
pub mod identity;
pub mod ledger;
pub mod org_limits;
pub mod reach;
pub mod sessions;
pub mod trail_selectors;
pub mod trust;
