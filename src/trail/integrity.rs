//! Log-file integrity: CloudTrail digest files, their RSA-SHA256 signatures, the `previousDigest` chain, and the
//! SHA-256 of every log file used as evidence.
//!
//! The string CloudTrail signs is `digestEndTime \n digestS3Bucket/digestS3Object \n hex(SHA-256(uncompressed
//! digest)) \n previousDigestSignature` (`null` for the first digest of a chain). Pure: bytes, keys and hashes in,
//! an [`IntegrityReport`] out; fetching digests and keys is the caller's business.

use std::collections::{BTreeMap, BTreeSet};

use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::Engine as _;
use chrono::NaiveDate;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::decode::gunzip;
use super::layout::parse_key;
use crate::model::{IntegrityIssue, IntegrityIssueKind, IntegrityReport, TrailPublicKey};

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

#[cfg(test)]
mod tests;
