//! gateaudit: proves, with evidence an auditor accepts, that AWS CodePipeline change management is enforced.
//!
//! `collect` (async, the only AWS I/O) -> `model::Snapshot` (serde, on disk) -> `analysis` (pure views) ->
//! `checks` (pure, parallel) -> `model::Finding`s -> `report`.

pub mod analysis;
pub mod audit;
pub mod checks;
pub mod cli_docs;
pub mod collect;
pub mod config;
pub mod gate;
pub mod iam;
pub mod logging;
pub mod model;
pub mod progress;
pub mod report;
pub mod rules;
pub mod store;
pub mod trail;
pub mod waivers;
