//! Log-file integrity: CloudTrail digest files, their RSA-SHA256 signatures, the `previousDigest` chain, and the
//! SHA-256 of every log file used as evidence.
//!
//! The string CloudTrail signs is `digestEndTime \n digestS3Bucket/digestS3Object \n hex(SHA-256(uncompressed
//! digest)) \n previousDigestSignature` (`null` for the first digest of a chain). Pure: bytes, keys and hashes in,
//! an [`IntegrityReport`] out; fetching digests and keys is the caller's business.

use std::collections::{BTreeMap, BTreeSet};

use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::Engine as _;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::decode::gunzip;
use super::layout::parse_key;
use crate::model::{
    DigestChain, IntegrityIssue, IntegrityIssueKind, IntegrityReport, Period, TimeSpan,
    TrailPublicKey,
};

/// One digest file as fetched, with its S3 metadata.
#[derive(Debug, Clone)]
pub struct DigestInput {
    /// `s3://bucket/key` or a local path.
    pub location: String,
    /// The bucket it was read from (None for a local copy: the bucket name is then taken on trust).
    pub bucket: Option<String>,
    pub key: String,
    pub data: Result<Vec<u8>, String>,
    /// `x-amz-meta-signature` (hex).
    pub signature: Option<String>,
    /// `x-amz-meta-signature-algorithm`.
    pub algorithm: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DigestDoc {
    #[serde(default)]
    digest_start_time: Option<String>,
    digest_end_time: String,
    digest_s3_bucket: String,
    digest_s3_object: String,
    digest_public_key_fingerprint: String,
    #[serde(default)]
    previous_digest_s3_object: Option<String>,
    #[serde(default)]
    previous_digest_hash_value: Option<String>,
    #[serde(default)]
    previous_digest_signature: Option<String>,
    #[serde(default)]
    log_files: Vec<LogFileEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogFileEntry {
    s3_object: String,
    hash_value: String,
}

struct Parsed {
    location: String,
    doc: DigestDoc,
    sha256: String,
    signature: String,
    valid: bool,
}

/// The string CloudTrail signs for a digest.
pub fn string_to_sign(
    end_time: &str,
    bucket: &str,
    key: &str,
    digest_sha256_hex: &str,
    previous: Option<&str>,
) -> String {
    format!(
        "{end_time}\n{bucket}/{key}\n{digest_sha256_hex}\n{}",
        previous.unwrap_or("null")
    )
}

fn verify_signature(
    p: &DigestDoc,
    sha: &str,
    signature: &str,
    keys: &[TrailPublicKey],
) -> Result<(), (IntegrityIssueKind, String)> {
    let key = keys
        .iter()
        .find(|k| {
            k.fingerprint
                .eq_ignore_ascii_case(&p.digest_public_key_fingerprint)
        })
        .ok_or_else(|| {
            (
                IntegrityIssueKind::DigestKeyUnknown,
                format!(
                    "no public key with fingerprint {}",
                    p.digest_public_key_fingerprint
                ),
            )
        })?;
    let der = base64::engine::general_purpose::STANDARD
        .decode(key.value_base64.trim())
        .ok()
        .ok_or((
            IntegrityIssueKind::DigestKeyUnknown,
            format!("public key {} is not base64", key.fingerprint),
        ))?;
    let sig = hex::decode(signature.trim()).ok().ok_or((
        IntegrityIssueKind::DigestSignatureInvalid,
        "signature is not hex".to_owned(),
    ))?;
    let message = string_to_sign(
        &p.digest_end_time,
        &p.digest_s3_bucket,
        &p.digest_s3_object,
        sha,
        p.previous_digest_signature.as_deref(),
    );
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der)
        .verify(message.as_bytes(), &sig)
        .map_err(|_| {
            (
                IntegrityIssueKind::DigestSignatureInvalid,
                "RSA-SHA256 signature does not verify".to_owned(),
            )
        })
}

/// What is known about the log files: their keys (in the scanned days) with the hash of their uncompressed
/// content (None when unreadable), and which days were scanned.
pub struct LogEvidence<'a> {
    pub hashes: &'a BTreeMap<String, Option<String>>,
    pub log_days: &'a BTreeSet<NaiveDate>,
    /// Days whose digest folders were read.
    pub digest_days: &'a BTreeSet<NaiveDate>,
    /// Prefix of the archive inside the bucket (digests name full keys).
    pub prefix: &'a str,
}

/// Verifies digests, their chain, and the log files against them.
pub fn verify(
    digests: &[DigestInput],
    keys: &[TrailPublicKey],
    logs: &LogEvidence<'_>,
) -> IntegrityReport {
    let mut report = IntegrityReport {
        digests_checked: digests.len(),
        ..IntegrityReport::default()
    };
    let issue = |report: &mut IntegrityReport, kind, location: &str, detail: String| {
        report.issues.push(IntegrityIssue {
            kind,
            location: location.to_owned(),
            detail,
        });
    };
    let mut parsed: BTreeMap<String, Parsed> = BTreeMap::new();
    for d in digests {
        let bytes = match &d.data {
            Ok(b) => b,
            Err(e) => {
                issue(
                    &mut report,
                    IntegrityIssueKind::DigestUnreadable,
                    &d.location,
                    e.clone(),
                );
                continue;
            }
        };
        let json = match gunzip(bytes) {
            Ok(j) => j,
            Err(e) => {
                issue(
                    &mut report,
                    IntegrityIssueKind::DigestUnreadable,
                    &d.location,
                    e,
                );
                continue;
            }
        };
        let doc: DigestDoc = match serde_json::from_slice(&json) {
            Ok(doc) => doc,
            Err(e) => {
                issue(
                    &mut report,
                    IntegrityIssueKind::DigestUnreadable,
                    &d.location,
                    format!("not a digest: {e}"),
                );
                continue;
            }
        };
        let sha256 = hex::encode(Sha256::digest(&json));
        let moved = doc.digest_s3_object != d.key
            || d.bucket
                .as_ref()
                .is_some_and(|b| *b != doc.digest_s3_bucket);
        if moved {
            let detail = format!(
                "names s3://{}/{} but was found at {}",
                doc.digest_s3_bucket, doc.digest_s3_object, d.location
            );
            issue(
                &mut report,
                IntegrityIssueKind::DigestMoved,
                &d.location,
                detail,
            );
        }
        let signature = d.signature.clone().unwrap_or_default();
        let algorithm_ok = d
            .algorithm
            .as_deref()
            .is_none_or(|a| a.eq_ignore_ascii_case("SHA256withRSA"));
        let checked = if signature.is_empty() {
            Err((
                IntegrityIssueKind::DigestSignatureInvalid,
                "no signature in the object's metadata".to_owned(),
            ))
        } else if !algorithm_ok {
            Err((
                IntegrityIssueKind::DigestSignatureInvalid,
                format!("unsupported algorithm {:?}", d.algorithm),
            ))
        } else {
            verify_signature(&doc, &sha256, &signature, keys)
        };
        let valid = match checked {
            Ok(()) => !moved,
            Err((kind, detail)) => {
                issue(&mut report, kind, &d.location, detail);
                false
            }
        };
        if valid {
            report.digests_valid += 1;
        }
        parsed.insert(
            d.key.clone(),
            Parsed {
                location: d.location.clone(),
                doc,
                sha256,
                signature,
                valid,
            },
        );
    }
    check_chain(&parsed, logs, &mut report);
    check_logs(&parsed, logs, &mut report);
    report.chains = chains(&parsed, logs.prefix);
    report
        .issues
        .sort_by(|a, b| (a.kind, &a.location).cmp(&(b.kind, &b.location)));
    report
}

fn check_chain(
    parsed: &BTreeMap<String, Parsed>,
    logs: &LogEvidence<'_>,
    report: &mut IntegrityReport,
) {
    for p in parsed.values() {
        let Some(previous_key) = p
            .doc
            .previous_digest_s3_object
            .as_deref()
            .filter(|k| !k.is_empty())
        else {
            continue;
        };
        match parsed.get(previous_key) {
            Some(prev) => {
                let hash_ok = p
                    .doc
                    .previous_digest_hash_value
                    .as_deref()
                    .is_some_and(|h| h.eq_ignore_ascii_case(&prev.sha256));
                let sig_ok = p
                    .doc
                    .previous_digest_signature
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case(&prev.signature));
                if !(hash_ok && sig_ok) {
                    report.issues.push(IntegrityIssue {
                        kind: IntegrityIssueKind::ChainBroken,
                        location: prev.location.clone(),
                        detail: format!(
                            "differs from what the next digest {} recorded (hash or signature)",
                            p.location
                        ),
                    });
                }
            }
            None => {
                // Only a previous digest inside the days read must be present.
                let in_range = parse_key(previous_key, logs.prefix)
                    .is_some_and(|k| logs.digest_days.contains(&k.day));
                if in_range {
                    report.issues.push(IntegrityIssue {
                        kind: IntegrityIssueKind::ChainBroken,
                        location: previous_key.to_owned(),
                        detail: format!("previous digest named by {} is missing", p.location),
                    });
                }
            }
        }
    }
}

fn check_logs(
    parsed: &BTreeMap<String, Parsed>,
    logs: &LogEvidence<'_>,
    report: &mut IntegrityReport,
) {
    let mut listed: BTreeMap<&str, (&str, &Parsed)> = BTreeMap::new();
    for p in parsed.values() {
        for f in &p.doc.log_files {
            listed.insert(f.s3_object.as_str(), (f.hash_value.as_str(), p));
        }
    }
    // Latest digest end per account root and region: newer log files are not digested yet.
    let mut newest: BTreeMap<(String, String), String> = BTreeMap::new();
    for (key, p) in parsed {
        if let Some(k) = parse_key(key, logs.prefix) {
            let slot = newest.entry((k.root.base(), k.region)).or_default();
            if p.doc.digest_end_time > *slot {
                slot.clone_from(&p.doc.digest_end_time);
            }
        }
    }
    for (key, hash) in logs.hashes {
        report.log_files_checked += 1;
        match listed.get(key.as_str()) {
            Some((expected, digest)) => match hash {
                Some(h) if h.eq_ignore_ascii_case(expected) => {
                    report.log_files_verified += usize::from(digest.valid);
                }
                Some(h) => report.issues.push(IntegrityIssue {
                    kind: IntegrityIssueKind::LogFileModified,
                    location: key.clone(),
                    detail: format!(
                        "SHA-256 {h}, digest {} recorded {expected}",
                        digest.location
                    ),
                }),
                None => {} // unreadable: already listed as unreadable evidence
            },
            None if !digested_yet(key, logs.prefix, &newest) => {}
            None => report.issues.push(IntegrityIssue {
                kind: IntegrityIssueKind::LogFileNotInDigest,
                location: key.clone(),
                detail: "no digest lists this log file".to_owned(),
            }),
        }
    }
    for (key, (_, digest)) in &listed {
        let in_scanned_days =
            parse_key(key, logs.prefix).is_some_and(|k| logs.log_days.contains(&k.day));
        if digest.valid && in_scanned_days && !logs.hashes.contains_key(*key) {
            report.issues.push(IntegrityIssue {
                kind: IntegrityIssueKind::LogFileMissing,
                location: (*key).to_owned(),
                detail: format!(
                    "listed by digest {} but not in the archive",
                    digest.location
                ),
            });
        }
    }
}

/// False when a log file is newer than the newest digest of its account and region (CloudTrail digests hourly).
fn digested_yet(key: &str, prefix: &str, newest: &BTreeMap<(String, String), String>) -> bool {
    let Some(k) = parse_key(key, prefix) else {
        return true;
    };
    let Some(end) = newest.get(&(k.root.base(), k.region.clone())) else {
        return true;
    };
    // Log file names carry `_YYYYMMDDTHHmmZ_`; digest end times are RFC 3339.
    let Some(stamp) = k
        .file
        .split('_')
        .find(|p| p.len() == 14 && p.ends_with('Z') && p.as_bytes().get(8) == Some(&b'T'))
    else {
        return true;
    };
    let as_rfc = format!(
        "{}-{}-{}T{}:{}",
        &stamp[0..4],
        &stamp[4..6],
        &stamp[6..8],
        &stamp[9..11],
        &stamp[11..13]
    );
    as_rfc.as_str() <= &end[..end.len().min(16)]
}

/// Two spans closer than this count as one (digests start where their predecessor ended).
const SPAN_TOLERANCE_SECONDS: i64 = 60;

/// How late CloudTrail may deliver: the last hour before collection need not be digested yet.
pub const DELIVERY_DELAY_MINUTES: i64 = 60;

fn rfc3339(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The trail name in a digest file name `<account>_CloudTrail-Digest_<region>_<trail>_<home-region>_<stamp>.json.gz`.
fn trail_of(file: &str, account: &str, region: &str) -> String {
    let Some(rest) = file.strip_prefix(&format!("{account}_CloudTrail-Digest_{region}_")) else {
        return String::new();
    };
    let rest = rest.strip_suffix(".json.gz").unwrap_or(rest);
    let mut parts = rest.rsplitn(3, '_');
    let (_stamp, _home, trail) = (parts.next(), parts.next(), parts.next());
    trail.unwrap_or_default().to_owned()
}

/// Merges spans that overlap or touch (within the tolerance); sorts them.
pub fn merge_spans(mut spans: Vec<TimeSpan>) -> Vec<TimeSpan> {
    spans.sort_by_key(|s| (s.from, s.until));
    let tolerance = Duration::seconds(SPAN_TOLERANCE_SECONDS);
    let mut out: Vec<TimeSpan> = Vec::new();
    for span in spans {
        match out.last_mut() {
            Some(last) if span.from <= last.until + tolerance => {
                last.until = last.until.max(span.until);
            }
            _ => out.push(span),
        }
    }
    out
}

/// The chains the valid digests form: per account root, region and trail, the time they cover.
fn chains(parsed: &BTreeMap<String, Parsed>, prefix: &str) -> Vec<DigestChain> {
    let mut by_chain: BTreeMap<(String, String, String), (DigestChain, Vec<TimeSpan>)> =
        BTreeMap::new();
    for (key, p) in parsed.iter().filter(|(_, p)| p.valid) {
        let Some(k) = parse_key(key, prefix) else {
            continue;
        };
        let Some(end) = rfc3339(&p.doc.digest_end_time) else {
            continue;
        };
        // A digest that does not say where it starts covers its hour (CloudTrail digests hourly).
        let start = p
            .doc
            .digest_start_time
            .as_deref()
            .and_then(rfc3339)
            .filter(|s| *s <= end)
            .unwrap_or(end - Duration::hours(1));
        let trail = trail_of(&k.file, &k.root.account, &k.region);
        let entry = by_chain
            .entry((k.root.base(), k.region.clone(), trail.clone()))
            .or_insert_with(|| {
                (
                    DigestChain {
                        root: k.root.base(),
                        account_id: k.root.account.clone(),
                        region: k.region.clone(),
                        trail,
                        ..DigestChain::default()
                    },
                    Vec::new(),
                )
            });
        entry.0.digests += 1;
        entry.1.push(TimeSpan {
            from: start,
            until: end,
        });
    }
    by_chain
        .into_values()
        .map(|(mut chain, spans)| {
            chain.spans = merge_spans(spans);
            chain
        })
        .collect()
}

/// Where in the period a gap lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapEdge {
    /// Nothing of the period is covered.
    Whole,
    /// From the start of the period.
    Start,
    /// Up to the end of the period (or collection, less CloudTrail's delivery delay).
    End,
    Middle,
}

impl GapEdge {
    pub fn as_str(self) -> &'static str {
        match self {
            GapEdge::Whole => "the whole period",
            GapEdge::Start => "the start of the period",
            GapEdge::End => "the end of the period",
            GapEdge::Middle => "inside the period",
        }
    }
}

/// Time of the period that no valid digest covers for one account and region (`trail: None`), or that one
/// trail's chain leaves uncovered after it started although other trails' digests cover it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageGap {
    pub account_id: String,
    pub region: String,
    pub trail: Option<String>,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub edge: GapEdge,
}

impl CoverageGap {
    pub fn describe(&self) -> String {
        let whose = match &self.trail {
            None => "no valid digest covers".to_owned(),
            Some(t) => format!("the digest chain of trail {t:?} does not cover"),
        };
        let why = match &self.trail {
            None => "digests or log files were deleted, or the trail was not logging",
            Some(_) => {
                "its digests or log files were deleted, or the trail stopped (other trails' digests still cover \
                 the time)"
            }
        };
        format!(
            "{whose} {} .. {} ({}) for account {} in {}: {why}",
            self.from.format("%Y-%m-%dT%H:%M:%SZ"),
            self.until.format("%Y-%m-%dT%H:%M:%SZ"),
            self.edge.as_str(),
            self.account_id,
            self.region
        )
    }
}

/// The part of the period digests must cover: from its start to its end, but not the last hour before
/// collection (CloudTrail delivers digests about an hour after the events they cover).
pub fn required_span(period: &Period, collected_at: DateTime<Utc>) -> Option<TimeSpan> {
    let until = period
        .until
        .min(collected_at - Duration::minutes(DELIVERY_DELAY_MINUTES));
    (period.since < until).then_some(TimeSpan {
        from: period.since,
        until,
    })
}

/// The holes of `spans` inside `window`, named by where they lie (`Whole` when nothing of it is covered).
fn holes(
    spans: &[TimeSpan],
    window: TimeSpan,
    period_start: DateTime<Utc>,
) -> Vec<(TimeSpan, GapEdge)> {
    let tolerance = Duration::seconds(SPAN_TOLERANCE_SECONDS);
    let mut out = Vec::new();
    let mut cursor = window.from;
    let mut covered_any = false;
    for span in spans
        .iter()
        .filter(|s| s.until > window.from && s.from < window.until)
    {
        if span.from > cursor + tolerance {
            let edge = if cursor == period_start {
                GapEdge::Start
            } else {
                GapEdge::Middle
            };
            out.push((
                TimeSpan {
                    from: cursor,
                    until: span.from,
                },
                edge,
            ));
        }
        covered_any = true;
        cursor = cursor.max(span.until);
    }
    if !covered_any {
        let edge = if window.from == period_start {
            GapEdge::Whole
        } else {
            GapEdge::Start
        };
        out.push((window, edge));
    } else if cursor + tolerance < window.until {
        out.push((
            TimeSpan {
                from: cursor,
                until: window.until,
            },
            GapEdge::End,
        ));
    }
    out
}

/// Every hour of the period, for every `(account, region)` in `expected`, must be covered by valid digests
/// (of any of its chains); what is not is a gap, named by where it lies. Each chain must also stay continuous
/// from where it starts (before the period, or inside it for a trail created then) to the end: a chain that
/// stops early or has a hole where other trails' digests still cover the time is a gap of that trail (deleting
/// one trail's files leaves no broken link behind when the deleted digest was the last one).
pub fn coverage_gaps(
    chains: &[DigestChain],
    expected: &BTreeSet<(String, String)>,
    period: &Period,
    collected_at: DateTime<Utc>,
) -> Vec<CoverageGap> {
    let Some(required) = required_span(period, collected_at) else {
        return Vec::new();
    };
    let mut gaps = Vec::new();
    for (account, region) in expected {
        let mine: Vec<&DigestChain> = chains
            .iter()
            .filter(|c| &c.account_id == account && &c.region == region)
            .collect();
        let union = merge_spans(mine.iter().flat_map(|c| c.spans.iter().copied()).collect());
        let union_holes = holes(&union, required, period.since);
        for (span, edge) in &union_holes {
            gaps.push(CoverageGap {
                account_id: account.clone(),
                region: region.clone(),
                trail: None,
                from: span.from,
                until: span.until,
                edge: *edge,
            });
        }
        if mine.len() < 2 {
            continue;
        }
        for chain in mine {
            let Some(first) = chain.spans.first() else {
                continue;
            };
            let window = TimeSpan {
                from: required.from.max(first.from),
                until: required.until,
            };
            if window.from >= window.until {
                continue;
            }
            for (span, edge) in holes(&chain.spans, window, period.since) {
                let already = union_holes
                    .iter()
                    .any(|(u, _)| u.from < span.until && span.from < u.until);
                if !already {
                    gaps.push(CoverageGap {
                        account_id: account.clone(),
                        region: region.clone(),
                        trail: Some(chain.trail.clone()),
                        from: span.from,
                        until: span.until,
                        edge,
                    });
                }
            }
        }
    }
    gaps
}

/// The `(account, region)` pairs an archive shows activity for: its digest chains and its log files.
pub fn seen_in_archive(
    chains: &[DigestChain],
    log_keys: impl IntoIterator<Item = String>,
    prefix: &str,
) -> BTreeSet<(String, String)> {
    let mut out: BTreeSet<(String, String)> = chains
        .iter()
        .map(|c| (c.account_id.clone(), c.region.clone()))
        .collect();
    for key in log_keys {
        if let Some(k) = parse_key(&key, prefix) {
            out.insert((k.root.account, k.region));
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests;
