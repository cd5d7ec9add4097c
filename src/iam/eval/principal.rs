//! Who makes the request ([`PrincipalInfo`]) and how policy `Principal` / `NotPrincipal`
//! elements name it: the identities a caller presents (itself, its role, its account) and the
//! strength of each match (direct, via the role ARN, via the account).
//!
//! Must not: decide a request (it only answers "does this element name this caller, and how"),
//! perform I/O, reference AWS SDK types, or depend on the catalog module.

use super::super::policy::{Effect, Principals};
use std::collections::BTreeMap;

/// What kind of principal makes the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// An IAM user.
    User,
    /// An IAM role, evaluated for any of its sessions.
    Role,
    /// One assumed-role session.
    AssumedRoleSession {
        /// ARN of the role (`arn:aws:iam::<acct>:role/<path/><name>`).
        role_arn: String,
        /// Session name.
        session_name: String,
    },
    /// The account root user.
    Root,
    /// An AWS service principal (`arn` holds e.g. `codepipeline.amazonaws.com`).
    Service,
    /// A federated user session or identity-provider principal.
    Federated,
}

/// The principal making the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalInfo {
    /// ARN (user, role, session, root), or service name for service principals.
    pub arn: String,
    /// Account id of the principal (empty for service principals).
    pub account: String,
    /// Kind of principal.
    pub kind: PrincipalKind,
    /// `aws:username` (users only).
    pub username: Option<String>,
    /// `aws:userid`, if known.
    pub userid: Option<String>,
    /// Principal tags (`aws:PrincipalTag/<key>`), treated as authoritative.
    pub tags: BTreeMap<String, String>,
}

/// An unparseable principal ARN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unrecognised principal {0:?} (expected an IAM user, role, assumed-role session or root ARN, an account id or a service principal)")]
pub struct PrincipalError(pub String);

pub(super) fn arn_name(resource: &str) -> &str {
    resource.rsplit('/').next().unwrap_or(resource)
}

impl PrincipalInfo {
    /// Builds principal information from an ARN, a 12-digit account id (root) or a service
    /// principal name such as `codepipeline.amazonaws.com`.
    pub fn from_arn(arn: &str) -> Result<PrincipalInfo, PrincipalError> {
        let bad = || PrincipalError(arn.to_string());
        let mk = |arn: String, account: &str, kind, username| PrincipalInfo {
            arn,
            account: account.to_string(),
            kind,
            username,
            userid: None,
            tags: BTreeMap::new(),
        };
        if arn.len() == 12 && arn.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(mk(
                format!("arn:aws:iam::{arn}:root"),
                arn,
                PrincipalKind::Root,
                None,
            ));
        }
        if !arn.starts_with("arn:") {
            if arn.ends_with(".amazonaws.com") || arn.ends_with(".amazonaws.com.cn") {
                return Ok(mk(arn.to_string(), "", PrincipalKind::Service, None));
            }
            return Err(bad());
        }
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() != 6 {
            return Err(bad());
        }
        let (partition, service, account, res) = (parts[1], parts[2], parts[4], parts[5]);
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        match service {
            "iam" if res == "root" => Ok(mk(arn.to_string(), account, PrincipalKind::Root, None)),
            "iam" if res.starts_with("user/") => Ok(mk(
                arn.to_string(),
                account,
                PrincipalKind::User,
                Some(arn_name(res).to_string()),
            )),
            "iam" if res.starts_with("role/") => {
                Ok(mk(arn.to_string(), account, PrincipalKind::Role, None))
            }
            "sts" if res.starts_with("assumed-role/") => {
                let mut it = res["assumed-role/".len()..].splitn(2, '/');
                let role = it.next().filter(|s| !s.is_empty()).ok_or_else(bad)?;
                let session = it.next().filter(|s| !s.is_empty()).ok_or_else(bad)?;
                Ok(mk(
                    arn.to_string(),
                    account,
                    PrincipalKind::AssumedRoleSession {
                        role_arn: format!("arn:{partition}:iam::{account}:role/{role}"),
                        session_name: session.to_string(),
                    },
                    None,
                ))
            }
            "sts" if res.starts_with("federated-user/") => {
                Ok(mk(arn.to_string(), account, PrincipalKind::Federated, None))
            }
            _ => Err(bad()),
        }
    }

    /// Adds a principal tag (builder).
    pub fn with_tag(mut self, key: &str, value: &str) -> PrincipalInfo {
        self.tags.insert(key.to_string(), value.to_string());
        self
    }

    /// Whether this is a service-linked role (or one of its sessions): SCPs and RCPs skip it.
    pub fn is_service_linked_role(&self) -> bool {
        let role_arn = match &self.kind {
            PrincipalKind::Role => self.arn.as_str(),
            PrincipalKind::AssumedRoleSession { role_arn, .. } => role_arn.as_str(),
            _ => return false,
        };
        role_arn.contains(":role/aws-service-role/")
            || (matches!(self.kind, PrincipalKind::AssumedRoleSession { .. })
                && arn_name(role_arn).starts_with("AWSServiceRoleFor"))
    }

    pub(super) fn principal_arn_value(&self) -> Option<String> {
        match &self.kind {
            PrincipalKind::AssumedRoleSession { role_arn, .. } => Some(role_arn.clone()),
            PrincipalKind::Service => None,
            _ => Some(self.arn.clone()),
        }
    }

    pub(super) fn principal_type(&self) -> &'static str {
        match self.kind {
            PrincipalKind::User => "User",
            PrincipalKind::Role | PrincipalKind::AssumedRoleSession { .. } => "AssumedRole",
            PrincipalKind::Root => "Account",
            PrincipalKind::Service => "Service",
            PrincipalKind::Federated => "FederatedUser",
        }
    }
}

/// How a resource-policy principal element matched the request principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Strength {
    /// Via the account (`arn:aws:iam::<acct>:root`): delegates to the account's IAM policies.
    Account,
    /// Via the role ARN: limited by the permissions boundary and session policy.
    Role,
    /// The principal itself (user ARN, session ARN, `*`, service).
    Direct,
}

/// A normalised principal identifier.
#[derive(Debug, PartialEq, Eq)]
enum PrincipalId {
    Account(String),
    User(String, String),
    Role(String, String),
    Session(String, String, String),
    Other(String),
}

fn normalise(arn: &str) -> PrincipalId {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() == 6 && parts[0] == "arn" {
        let (svc, acct, res) = (parts[2], parts[4].to_string(), parts[5]);
        match svc {
            "iam" if res == "root" => return PrincipalId::Account(acct),
            "iam" if res.starts_with("user/") => {
                return PrincipalId::User(acct, arn_name(res).to_ascii_lowercase())
            }
            "iam" if res.starts_with("role/") => {
                return PrincipalId::Role(acct, arn_name(res).to_ascii_lowercase())
            }
            "sts" if res.starts_with("assumed-role/") => {
                let mut it = res["assumed-role/".len()..].splitn(2, '/');
                if let (Some(r), Some(s)) = (it.next(), it.next()) {
                    return PrincipalId::Session(acct, r.to_ascii_lowercase(), s.to_string());
                }
            }
            _ => {}
        }
    }
    PrincipalId::Other(arn.to_string())
}

/// The identities a principal presents: its own, its role (sessions), its account.
fn identities(p: &PrincipalInfo) -> Vec<(PrincipalId, Strength)> {
    let mut out = Vec::new();
    match &p.kind {
        PrincipalKind::Service => return out,
        PrincipalKind::Root => {
            out.push((PrincipalId::Account(p.account.clone()), Strength::Direct));
            return out;
        }
        PrincipalKind::Role => {
            let id = normalise(&p.arn);
            out.push((id, Strength::Role));
        }
        PrincipalKind::AssumedRoleSession { role_arn, .. } => {
            out.push((normalise(&p.arn), Strength::Direct));
            out.push((normalise(role_arn), Strength::Role));
        }
        PrincipalKind::User | PrincipalKind::Federated => {
            out.push((normalise(&p.arn), Strength::Direct));
        }
    }
    out.push((PrincipalId::Account(p.account.clone()), Strength::Account));
    out
}

/// The strongest way `spec` names the principal, if it does.
pub(super) fn principal_strength(spec: &Principals, p: &PrincipalInfo) -> Option<Strength> {
    if spec.any {
        return Some(Strength::Direct);
    }
    let mut best = None;
    if p.kind == PrincipalKind::Service {
        if spec.service.iter().any(|s| s.eq_ignore_ascii_case(&p.arn)) {
            best = Some(Strength::Direct);
        }
        return best;
    }
    let listed: Vec<PrincipalId> = spec.aws.iter().map(|a| normalise(a)).collect();
    for (id, strength) in identities(p) {
        if listed.contains(&id) {
            best = best.max(Some(strength));
        }
    }
    if spec
        .federated
        .iter()
        .chain(spec.canonical_user.iter())
        .any(|f| *f == p.arn)
    {
        best = Some(Strength::Direct);
    }
    best
}

/// How a `NotPrincipal` element treats the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NotPrincipalMatch {
    /// The caller is not excepted: the statement applies to it.
    Applies,
    /// The caller is excepted: the statement does not apply to it.
    Excepted,
    /// Deny only: the caller itself (user, session or its role) is listed but its account is
    /// not, so the statement still applies (AWS checks the account first).
    AccountNotListed,
}

/// Whether a `NotPrincipal` element excepts `p` from the statement.
///
/// `Deny` follows "AWS JSON policy elements: NotPrincipal" (IAM User Guide): the account ARN of
/// the principal that is not to be denied must be listed too, because AWS may validate the
/// account first, then the role, then the assumed-role session; the guide recommends listing
/// the user's ARN and its account, or the role's ARN and its account. So the caller is excepted
/// when its account is listed and the caller itself is: a user or federated user by its ARN, an
/// assumed-role session by its session ARN or by its role's ARN, a role (any session) by its
/// role ARN, the root user by its account. `Allow` (which AWS no longer supports with
/// NotPrincipal) applies unless the caller's own ARN is listed.
pub(super) fn not_principal_match(
    spec: &Principals,
    p: &PrincipalInfo,
    effect: Effect,
) -> NotPrincipalMatch {
    let excepted_if = |listed: bool| {
        if listed {
            NotPrincipalMatch::Excepted
        } else {
            NotPrincipalMatch::Applies
        }
    };
    if spec.any {
        return NotPrincipalMatch::Excepted;
    }
    if p.kind == PrincipalKind::Service {
        return excepted_if(spec.service.iter().any(|s| s.eq_ignore_ascii_case(&p.arn)));
    }
    let listed: Vec<PrincipalId> = spec.aws.iter().map(|a| normalise(a)).collect();
    let is_listed = |arn: &str| listed.contains(&normalise(arn));
    let own = match &p.kind {
        PrincipalKind::Root => false,
        PrincipalKind::AssumedRoleSession { role_arn, .. } => {
            is_listed(&p.arn) || is_listed(role_arn)
        }
        _ => is_listed(&p.arn),
    } || spec
        .federated
        .iter()
        .chain(spec.canonical_user.iter())
        .any(|f| *f == p.arn);
    match effect {
        Effect::Allow => excepted_if(own),
        Effect::Deny => {
            let account = listed.contains(&PrincipalId::Account(p.account.clone()));
            match (p.kind == PrincipalKind::Root, own, account) {
                (true, _, account) => excepted_if(account),
                (false, true, true) => NotPrincipalMatch::Excepted,
                (false, true, false) => NotPrincipalMatch::AccountNotListed,
                (false, false, _) => NotPrincipalMatch::Applies,
            }
        }
    }
}
