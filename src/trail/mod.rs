//! The CloudTrail log archive in S3 (or a local copy of it): the durable evidence beyond LookupEvents' 90 days.
//!
//! * [`layout`]: keys of `AWSLogs/[o-org/]<account>/CloudTrail[-Digest]/<region>/YYYY/MM/DD/` and day pruning;
//! * [`decode`], [`extract`]: gzip and JSON to selected events, damage reported as unreadable evidence;
//! * [`scan`]: the parallel (rayon) batch pipeline, deduplication ([`dedupe`]) and event sinks;
//! * [`integrity`]: digest signatures, the digest chain and log-file hashes;
//! * [`local`]: a local copy of the archive; [`output`]: JSON Lines and CSV; [`distribute`]: into the snapshot;
//! * [`athena`]: the Amazon Athena engine (DDL, SQL, result rows; the calls are in `crate::collect`);
//! * [`cli`]: `gateaudit trail scan|verify`.
//!
//! Nothing here talks to AWS: downloading and listing S3, and `ListPublicKeys`, are in
//! `crate::collect::trail_archive`, which feeds bytes into [`scan`] and [`integrity`].

pub mod athena;
pub mod cli;
pub mod decode;
pub mod dedupe;
pub mod distribute;
pub mod extract;
pub mod integrity;
pub mod layout;
pub mod local;
pub mod output;
pub mod progress;
pub mod scan;

pub use distribute::distribute;
pub use extract::{Extracted, Selection};
pub use scan::{ScanSettings, ScanTotals};
