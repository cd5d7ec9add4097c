//! Waivers (`policies/waivers.toml`): accepted risks, each with a check id, a resource and/or principal pattern,
//! a reason, an approver and an expiry date. A waived finding stays in every report, marked with its waiver; an
//! expired waiver stops applying and is itself reported (check id `waivers`), naming the findings it would have
//! matched, so that nothing is silently accepted forever.
//!
//! Parsing and matching only: the caller reads the file and supplies today's date; this module never looks at the
//! clock and never drops a finding.

use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;
use wildmatch::WildMatch;

use crate::model::{Evidence, Finding, Severity, WaiverNote};

/// The check id of findings about the waivers themselves.
pub const WAIVERS_CHECK_ID: &str = "waivers";

#[derive(Debug, thiserror::Error)]
pub enum WaiverError {
    #[error("cannot read waivers file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("waivers file {path} is not valid: {message}")]
    Parse { path: String, message: String },
    #[error("waivers file {path}: {entry}: {message}")]
    Entry {
        path: String,
        entry: String,
        message: String,
    },
}

/// One accepted risk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    /// Position in the file (`waivers[i]`), for messages.
    pub index: usize,
    /// Check id pattern (`*` and `?` allowed), e.g. `write-access`.
    pub check: String,
    /// Pattern matched against `Finding.subject` (`*` when not given).
    pub resource: Option<String>,
    /// Pattern matched against `Finding.principal` (a finding without a principal never matches).
    pub principal: Option<String>,
    pub account: Option<String>,
    pub reason: String,
    pub approver: String,
    /// Last day the waiver applies (inclusive).
    pub expires: NaiveDate,
}

impl Waiver {
    /// `waivers[i]`.
    pub fn name(&self) -> String {
        format!("waivers[{}]", self.index)
    }

    pub fn matches(&self, finding: &Finding) -> bool {
        let pattern = |p: &Option<String>, value: Option<&str>| match (p, value) {
            (None, _) => true,
            (Some(p), Some(v)) => WildMatch::new(p).matches(v),
            (Some(_), None) => false,
        };
        finding.check_id != WAIVERS_CHECK_ID
            && WildMatch::new(&self.check).matches(&finding.check_id)
            && pattern(&self.account, Some(&finding.account_id))
            && pattern(&self.resource, Some(&finding.subject))
            && pattern(&self.principal, finding.principal.as_deref())
    }

    /// A waiver applies through its expiry date.
    pub fn is_active(&self, today: NaiveDate) -> bool {
        today <= self.expires
    }

    fn note(&self) -> WaiverNote {
        WaiverNote {
            reason: self.reason.clone(),
            approver: self.approver.clone(),
            expires: self.expires.to_string(),
        }
    }

    fn describe(&self) -> String {
        let mut parts = vec![format!("check {}", self.check)];
        if let Some(a) = &self.account {
            parts.push(format!("account {a}"));
        }
        if let Some(r) = &self.resource {
            parts.push(format!("resource {r}"));
        }
        if let Some(p) = &self.principal {
            parts.push(format!("principal {p}"));
        }
        parts.join(", ")
    }
}

/// A waivers file, parsed and validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Waivers {
    /// Where the waivers came from (a file path), for evidence.
    pub source: String,
    pub entries: Vec<Waiver>,
}

/// An entry as written in TOML, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaiver {
    check: String,
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    principal: Option<String>,
    #[serde(default)]
    account: Option<String>,
    reason: String,
    approver: String,
    expires: toml::Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    waivers: Vec<toml::Value>,
}

impl Waivers {
    pub fn load(path: &Path) -> Result<Waivers, WaiverError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| WaiverError::Read {
            path: shown.clone(),
            source,
        })?;
        Waivers::parse(&text, &shown)
    }

    /// Parses and validates a waivers file; errors name the file and the entry (`waivers[3].expires: ...`).
    pub fn parse(text: &str, shown: &str) -> Result<Waivers, WaiverError> {
        let file: RawFile = toml::from_str(text).map_err(|e| WaiverError::Parse {
            path: shown.to_owned(),
            message: e.to_string(),
        })?;
        let entry_error = |entry: String, message: String| WaiverError::Entry {
            path: shown.to_owned(),
            entry,
            message,
        };
        let mut entries = Vec::with_capacity(file.waivers.len());
        for (index, value) in file.waivers.into_iter().enumerate() {
            let name = format!("waivers[{index}]");
            let raw: RawWaiver = value
                .try_into()
                .map_err(|e: toml::de::Error| entry_error(name.clone(), e.message().to_owned()))?;
            let expires = match &raw.expires {
                toml::Value::String(s) => {
                    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| {
                        entry_error(
                            format!("{name}.expires"),
                            format!("{s:?} is not a date YYYY-MM-DD ({e})"),
                        )
                    })?
                }
                toml::Value::Datetime(d) => match (d.date, d.time) {
                    (Some(date), None) => NaiveDate::from_ymd_opt(
                        i32::from(date.year),
                        u32::from(date.month),
                        u32::from(date.day),
                    )
                    .ok_or_else(|| {
                        entry_error(
                            format!("{name}.expires"),
                            format!("{d} is not a valid date"),
                        )
                    })?,
                    _ => {
                        return Err(entry_error(
                            format!("{name}.expires"),
                            format!("{d} must be a date YYYY-MM-DD, without time"),
                        ))
                    }
                },
                other => {
                    return Err(entry_error(
                        format!("{name}.expires"),
                        format!("{other} is not a date YYYY-MM-DD"),
                    ))
                }
            };
            for (field, value) in [
                ("check", &raw.check),
                ("reason", &raw.reason),
                ("approver", &raw.approver),
            ] {
                if value.trim().is_empty() {
                    return Err(entry_error(
                        format!("{name}.{field}"),
                        "must not be empty".to_owned(),
                    ));
                }
            }
            if raw.resource.is_none() && raw.principal.is_none() {
                return Err(entry_error(
                    name,
                    "needs a resource or a principal pattern: a waiver for a whole check is not accepted".to_owned(),
                ));
            }
            entries.push(Waiver {
                index,
                check: raw.check,
                resource: raw.resource,
                principal: raw.principal,
                account: raw.account,
                reason: raw.reason,
                approver: raw.approver,
                expires,
            });
        }
        Ok(Waivers {
            source: shown.to_owned(),
            entries,
        })
    }
}

/// Marks every finding matched by an active waiver (the first one in file order) and returns one finding per
/// expired waiver, naming the findings it would have matched. Findings are never removed.
pub fn apply(findings: &mut [Finding], waivers: &Waivers, today: NaiveDate) -> Vec<Finding> {
    let (active, expired): (Vec<&Waiver>, Vec<&Waiver>) =
        waivers.entries.iter().partition(|w| w.is_active(today));
    for finding in findings.iter_mut() {
        if let Some(waiver) = active.iter().find(|w| w.matches(finding)) {
            finding.waiver = Some(waiver.note());
        }
    }
    expired
        .into_iter()
        .map(|waiver| {
            let matched: Vec<&Finding> = findings.iter().filter(|f| waiver.matches(f)).collect();
            let mut accounts: Vec<&str> = matched.iter().map(|f| f.account_id.as_str()).collect();
            accounts.sort_unstable();
            accounts.dedup();
            let mut evidence = vec![Evidence::new(
                "waiver",
                format!("{}#{}", waivers.source, waiver.name()),
                format!("{}; approved by {}; expired after {}", waiver.describe(), waiver.approver, waiver.expires),
            )];
            evidence.extend(matched.iter().map(|f| {
                Evidence::new(
                    "finding",
                    format!("{} {}", f.check_id, f.subject),
                    f.principal.as_deref().map(|p| format!("principal {p}")).unwrap_or_default(),
                )
            }));
            Finding {
                check_id: WAIVERS_CHECK_ID.to_owned(),
                severity: Severity::Medium,
                account_id: if accounts.len() == 1 { accounts[0].to_owned() } else { String::new() },
                subject: waiver.name(),
                principal: None,
                message: format!(
                    "waiver {} ({}; reason: {}) expired on {} and no longer applies; it would have matched {} finding(s)",
                    waiver.name(),
                    waiver.describe(),
                    waiver.reason,
                    waiver.expires,
                    matched.len()
                ),
                evidence,
                waiver: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(check: &str, subject: &str, principal: Option<&str>) -> Finding {
        Finding {
            check_id: check.into(),
            severity: Severity::High,
            account_id: "444444444444".into(),
            subject: subject.into(),
            principal: principal.map(str::to_owned),
            message: String::new(),
            evidence: vec![],
            waiver: None,
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 15).unwrap_or_default()
    }

    const MALLORY: &str = "arn:aws:iam::444444444444:user/mallory";

    fn waivers(expires: &str) -> Waivers {
        Waivers::parse(
            &format!(
                "[[waivers]]\ncheck = \"write-access\"\nprincipal = \"arn:aws:iam::444444444444:user/*\"\n\
                 reason = \"Migration to roles, CHG-2001\"\napprover = \"ciso@example.com\"\nexpires = \"{expires}\"\n"
            ),
            "waivers.toml",
        )
        .expect("parses")
    }

    #[test]
    fn a_valid_waiver_keeps_the_finding_and_marks_it() {
        let mut findings = vec![
            finding("write-access", MALLORY, Some(MALLORY)),
            finding("approval-evidence", "x", Some(MALLORY)),
        ];
        let reported = apply(&mut findings, &waivers("2026-11-15"), today());
        assert!(reported.is_empty());
        assert_eq!(findings.len(), 2);
        let note = findings[0].waiver.as_ref().expect("waived");
        assert_eq!(note.approver, "ciso@example.com");
        assert_eq!(note.expires, "2026-11-15");
        assert!(findings[1].waiver.is_none(), "another check is not waived");
    }

    #[test]
    fn a_waiver_that_expired_yesterday_stops_applying_and_is_reported() {
        let mut findings = vec![finding("write-access", MALLORY, Some(MALLORY))];
        let reported = apply(&mut findings, &waivers("2026-11-14"), today());
        assert!(findings[0].waiver.is_none());
        assert_eq!(reported.len(), 1);
        let r = &reported[0];
        assert_eq!(r.check_id, "waivers");
        assert_eq!(r.severity, Severity::Medium);
        assert_eq!(r.subject, "waivers[0]");
        assert_eq!(r.account_id, "444444444444");
        assert!(
            r.message.contains("expired on 2026-11-14") && r.message.contains("1 finding(s)"),
            "{}",
            r.message
        );
        assert!(r
            .evidence
            .iter()
            .any(|e| e.kind == "finding" && e.reference == format!("write-access {MALLORY}")));
    }

    #[test]
    fn resource_patterns_use_wildcards_and_a_principal_pattern_needs_a_principal() {
        let w = Waivers::parse(
            "[[waivers]]\ncheck = \"evidence-*\"\nresource = \"arn:aws:s3:::approval-*\"\nreason = \"r\"\napprover = \"a\"\nexpires = 2027-01-01\n\
             [[waivers]]\ncheck = \"gate-coverage\"\nprincipal = \"*\"\nreason = \"r\"\napprover = \"a\"\nexpires = 2027-01-01\n",
            "w.toml",
        )
        .expect("parses");
        let mut findings = vec![
            finding("evidence-hygiene", "arn:aws:s3:::approval-records-1", None),
            finding("evidence-hygiene", "arn:aws:s3:::other", None),
            finding("gate-coverage", "infra/DeployProd", None),
        ];
        apply(&mut findings, &w, today());
        let waived: Vec<bool> = findings.iter().map(Finding::is_waived).collect();
        assert_eq!(waived, vec![true, false, false]);
    }

    #[test]
    fn a_malformed_entry_is_named() {
        let bad_date = "[[waivers]]\ncheck = \"a\"\nresource = \"*\"\nreason = \"r\"\napprover = \"a\"\nexpires = \"2026-11-14\"\n\
                        [[waivers]]\ncheck = \"a\"\nresource = \"*\"\nreason = \"r\"\napprover = \"a\"\nexpires = \"14/11/2026\"\n";
        let err = Waivers::parse(bad_date, "policies/waivers.toml")
            .expect_err("bad date")
            .to_string();
        assert!(
            err.contains("policies/waivers.toml")
                && err.contains("waivers[1].expires")
                && err.contains("14/11/2026"),
            "{err}"
        );
        let missing = "[[waivers]]\ncheck = \"a\"\nresource = \"*\"\napprover = \"a\"\nexpires = \"2026-11-14\"\n";
        let err = Waivers::parse(missing, "w.toml")
            .expect_err("missing reason")
            .to_string();
        assert!(
            err.contains("waivers[0]") && err.contains("reason"),
            "{err}"
        );
        let blanket = "[[waivers]]\ncheck = \"a\"\nreason = \"r\"\napprover = \"a\"\nexpires = \"2026-11-14\"\n";
        assert!(Waivers::parse(blanket, "w.toml").is_err());
    }

    #[test]
    fn the_shipped_file_parses_and_waives_nothing() {
        let w = Waivers::parse(
            include_str!("../policies/waivers.toml"),
            "policies/waivers.toml",
        )
        .expect("parses");
        assert!(w.entries.is_empty());
    }
}
