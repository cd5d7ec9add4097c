//! Analysis: the derived views every check and report shares, computed from a snapshot and the rule set.
//!
//! - [`identity`]: who is one person (session names, Identity Center, sourceIdentity, aliases);
//! - [`access`]: the access model over the IAM evaluator (who can do what);
//! - [`approvals`]: each approval joined to its person, execution and S3 record;
//! - [`exposure`]: who-can-approve and write-grant tables;
//! - [`deployments`]: the accounts a pipeline action deploys into and an approval gates;
//! - [`ledger`]: the approval ledger rows;
//! - [`evidence`]: the ledger cut to an auditor's scope.
//!
//! Pure: no I/O, no AWS SDK types, and nothing from `report` or `checks` (the arrows point from them to here).

pub mod access;
pub mod approvals;
pub mod deployments;
pub mod evidence;
pub mod exposure;
pub mod identity;
pub mod ledger;
