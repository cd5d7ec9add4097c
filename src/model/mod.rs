//! The snapshot: everything collection gathered, as plain serde data.
//!
//! The snapshot is the only thing checks and reports read, so an audit can be re-run offline from a saved file.
//! This module holds data and small pure helpers only: no AWS SDK types, no I/O beyond (de)serialising a file.

mod bucket;
mod cloudtrail;
mod finding;
mod iam;
mod identity_center;
mod identity_text;
mod lookup;
mod organization;
pub mod partition;
mod pipeline;
mod snapshot;
mod trail;

pub use bucket::{
    BucketSettings, EncryptionRule, KmsKey, ObjectLock, PublicAccessBlock, Setting, Versioning,
};
pub use cloudtrail::{
    AdvancedEventSelector, ApprovalEvent, BasicEventSelector, EventOrigin, EventSelectors,
    FieldSelector, RawJson, RoleSession, SessionIssuer, Trail, UserIdentity,
};
pub use finding::{Evidence, Finding, Severity, WaiverNote};
pub use iam::{
    AccessKey, IamGroup, IamRole, IamSnapshot, IamUser, IdentityProvider, InlinePolicy,
    ManagedPolicy, PolicyVersion,
};
pub use identity_center::{
    AccountAssignment, CustomerPolicyReference, GroupMembership, IdentityCenterSnapshot,
    IdentityStoreGroup, IdentityStoreUser, PermissionSet, PermissionsBoundary,
};
pub use lookup::{InheritedCoverage, LookupWindow};
pub use organization::{
    OrgAccount, OrgPolicy, OrgPolicyKind, OrgUnit, OrganizationSnapshot, PolicyAttachment,
};
pub use pipeline::{
    ActionExecution, ApprovalRecord, ApprovalRecordKey, ArtifactStore, ConditionRule, Pipeline,
    PipelineAction, PipelineExecution, PipelineTrigger, PipelineVariable, PipelineVersion,
    RuleExecution, SourceRevision, Stage, StageCondition, StageConditions,
};
pub use snapshot::{
    AccountSnapshot, BucketRef, CollectionStep, Period, Snapshot, SnapshotError, StepStatus,
    OLDEST_READABLE_SCHEMA, SCHEMA_VERSION,
};
pub use trail::{
    call_details, is_data_event, DigestChain, IntegrityIssue, IntegrityIssueKind, IntegrityReport,
    MovedEvents, TimeSpan, TrailArchiveScan, TrailPublicKey, UnreadableEvidence, UnreadableKind,
    WriteEvent,
};
