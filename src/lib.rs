//! gateaudit: proves, with evidence an auditor accepts, that AWS CodePipeline change management is enforced.
//!
//! `collect` (async, the only AWS I/O) -> `model::Snapshot` (serde, on disk) -> `checks` (pure, parallel)
//! -> `model::Finding`s -> `report`.

pub mod access;
pub mod approvals;
pub mod audit;
pub mod checks;
pub mod collect;
pub mod config;
pub mod evidence;
pub mod exposure;
pub mod iam;
pub mod identity;
pub mod ledger;
pub mod model;
pub mod report;
pub mod rules;
pub mod trail;
pub mod waivers;
