//! gateaudit: proves, with evidence an auditor accepts, that AWS CodePipeline change management is enforced.
//!
//! `collect` (async, the only AWS I/O) -> `model::Snapshot` (serde, on disk) -> `checks` (pure, parallel)
//! -> `model::Finding`s -> `report`.

pub mod collect;
pub mod config;
pub mod model;
