//! The snapshot: everything collection gathered, as plain serde data.
//!
//! The snapshot is the only thing checks and reports read, so an audit can be re-run offline from a saved file.
//! This module holds data and small pure helpers only: no AWS SDK types, no I/O beyond (de)serialising a file.

mod bucket;
mod cloudtrail;
mod finding;
mod iam;
mod pipeline;
mod snapshot;
mod trail;

pub use bucket::{
    BucketSettings, EncryptionRule, ObjectLock, PublicAccessBlock, Setting, Versioning,
};
pub use cloudtrail::{ApprovalEvent, EventOrigin, SessionIssuer, Trail, UserIdentity};
pub use finding::{Evidence, Finding, Severity, WaiverNote};
pub use iam::{
    AccessKey, IamGroup, IamRole, IamSnapshot, IamUser, InlinePolicy, ManagedPolicy, PolicyVersion,
};
pub use pipeline::{
    ActionExecution, ApprovalRecord, ApprovalRecordKey, Pipeline, PipelineAction,
    PipelineExecution, Stage,
};
pub use snapshot::{
    AccountSnapshot, BucketRef, CollectionStep, Period, Snapshot, SnapshotError, StepStatus,
    SCHEMA_VERSION,
};
pub use trail::{
    DigestChain, IntegrityIssue, IntegrityIssueKind, IntegrityReport, TimeSpan, TrailArchiveScan,
    TrailPublicKey, UnreadableEvidence, UnreadableKind, WriteEvent,
};
