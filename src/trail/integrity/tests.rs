//! Digest verification against an archive signed in the test with a freshly generated RSA key.

use std::io::Write;

use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};

use super::*;

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("compress");
    e.finish().expect("finish")
}

fn base64(bytes: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
}

pub(crate) const BUCKET: &str = "trail-bucket";

/// A generated archive: hourly digests signed with a fresh RSA key, and the hashes of the log files they list.
pub(crate) struct Archive {
    pub(crate) key: KeyPair,
    pub(crate) digests: Vec<DigestInput>,
    pub(crate) hashes: BTreeMap<String, Option<String>>,
    pub(crate) public: TrailPublicKey,
}

pub(crate) fn log_key(hour: u32) -> String {
    format!("AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/04/111111111111_CloudTrail_us-east-1_20260304T{hour:02}05Z_x.json.gz")
}

pub(crate) fn digest_key(hour: u32) -> String {
    format!("AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2026/03/04/111111111111_CloudTrail-Digest_us-east-1_t_us-east-1_20260304T{hour:02}3000Z.json.gz")
}

/// Three hourly digests of account 111111111111 in us-east-1 (trail `t`), covering 2026-03-04 00:30..03:30, each
/// listing one log file, chained.
pub(crate) fn archive() -> Archive {
    let key = KeyPair::generate(KeySize::Rsa2048).expect("generate key");
    let public = TrailPublicKey {
        region: "us-east-1".into(),
        fingerprint: "00aa11bb".into(),
        value_base64: base64(key.public_key().as_ref()),
        valid_from: None,
        valid_until: None,
    };
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let mut digests = Vec::new();
    let mut hashes = BTreeMap::new();
    let mut previous: Option<(String, String, String)> = None; // key, sha, signature
    for hour in 1..=3 {
        let log = format!("{{\"Records\":[{{\"eventID\":\"e{hour}\"}}]}}");
        let log_sha = hex::encode(Sha256::digest(log.as_bytes()));
        hashes.insert(log_key(hour), Some(log_sha.clone()));
        let start = format!("2026-03-04T{:02}:30:00Z", hour - 1);
        let end = format!("2026-03-04T{hour:02}:30:00Z");
        let doc = serde_json::json!({
            "awsAccountId": "111111111111", "digestStartTime": start, "digestEndTime": end,
            "digestS3Bucket": BUCKET, "digestS3Object": digest_key(hour),
            "digestPublicKeyFingerprint": "00aa11bb", "digestSignatureAlgorithm": "SHA256withRSA",
            "previousDigestS3Bucket": previous.as_ref().map(|_| BUCKET),
            "previousDigestS3Object": previous.as_ref().map(|p| p.0.clone()),
            "previousDigestHashValue": previous.as_ref().map(|p| p.1.clone()),
            "previousDigestHashAlgorithm": "SHA-256",
            "previousDigestSignature": previous.as_ref().map(|p| p.2.clone()),
            "logFiles": [{"s3Bucket": BUCKET, "s3Object": log_key(hour), "hashValue": log_sha, "hashAlgorithm": "SHA-256"}]
        });
        let json = serde_json::to_vec(&doc).expect("json");
        let sha = hex::encode(Sha256::digest(&json));
        let message = string_to_sign(
            &end,
            BUCKET,
            &digest_key(hour),
            &sha,
            previous.as_ref().map(|p| p.2.as_str()),
        );
        let mut sig = vec![0; key.public_modulus_len()];
        key.sign(&RSA_PKCS1_SHA256, &rng, message.as_bytes(), &mut sig)
            .expect("sign");
        let signature = hex::encode(&sig);
        digests.push(DigestInput {
            location: format!("s3://{BUCKET}/{}", digest_key(hour)),
            bucket: Some(BUCKET.into()),
            key: digest_key(hour),
            data: Ok(gz(&json)),
            signature: Some(signature.clone()),
            algorithm: Some("SHA256withRSA".into()),
        });
        previous = Some((digest_key(hour), sha, signature));
    }
    Archive {
        key,
        digests,
        hashes,
        public,
    }
}

/// Verifies the archive as a scan of 2026-03-04 would.
pub(crate) fn run(a: &Archive) -> IntegrityReport {
    let day: BTreeSet<NaiveDate> = [NaiveDate::from_ymd_opt(2026, 3, 4).expect("d")].into();
    let logs = LogEvidence {
        hashes: &a.hashes,
        log_days: &day,
        digest_days: &day,
        prefix: "",
    };
    verify(&a.digests, std::slice::from_ref(&a.public), &logs)
}

fn kinds(r: &IntegrityReport) -> Vec<IntegrityIssueKind> {
    r.issues.iter().map(|i| i.kind).collect()
}

#[test]
fn an_untouched_archive_verifies() {
    let a = archive();
    let r = run(&a);
    assert!(r.is_clean(), "{:?}", r.issues);
    assert_eq!(
        (r.digests_checked, r.digests_valid, r.log_files_verified),
        (3, 3, 3)
    );
    assert!(a.key.public_modulus_len() >= 256);
}

#[test]
fn a_modified_log_file_is_caught() {
    let mut a = archive();
    a.hashes.insert(
        log_key(2),
        Some(hex::encode(Sha256::digest(b"{\"Records\":[]}"))),
    );
    assert_eq!(kinds(&run(&a)), vec![IntegrityIssueKind::LogFileModified]);
}

#[test]
fn a_deleted_log_file_is_caught() {
    let mut a = archive();
    a.hashes.remove(&log_key(1));
    assert_eq!(kinds(&run(&a)), vec![IntegrityIssueKind::LogFileMissing]);
}

#[test]
fn a_deleted_digest_breaks_the_chain_and_orphans_its_log() {
    let mut a = archive();
    a.digests.remove(1);
    let r = run(&a);
    assert_eq!(
        kinds(&r),
        vec![
            IntegrityIssueKind::ChainBroken,
            IntegrityIssueKind::LogFileNotInDigest
        ],
        "{:?}",
        r.issues
    );
}

#[test]
fn a_forged_signature_or_unknown_key_is_caught() {
    let mut a = archive();
    a.digests[0].signature = a.digests[1].signature.clone();
    assert!(kinds(&run(&a)).contains(&IntegrityIssueKind::DigestSignatureInvalid));
    let mut b = archive();
    b.public.fingerprint = "ffff".into();
    assert!(kinds(&run(&b))
        .iter()
        .all(|k| *k == IntegrityIssueKind::DigestKeyUnknown));
}

#[test]
fn a_replaced_digest_is_caught_by_the_chain() {
    // Re-signing a digest with another key (the forger's) fails the signature and the next digest's record.
    let mut a = archive();
    let other = archive();
    a.digests[1] = other.digests[1].clone();
    let k = kinds(&run(&a));
    assert!(
        k.contains(&IntegrityIssueKind::DigestSignatureInvalid)
            && k.contains(&IntegrityIssueKind::ChainBroken),
        "{k:?}"
    );
}

fn at(h: u32, m: u32) -> DateTime<Utc> {
    chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 3, 4, h, m, 0)
        .single()
        .expect("time")
}

fn one_account() -> BTreeSet<(String, String)> {
    [("111111111111".to_owned(), "us-east-1".to_owned())].into()
}

#[test]
fn the_chain_covers_the_time_its_digests_span() {
    let r = run(&archive());
    assert_eq!(r.chains.len(), 1, "{:?}", r.chains);
    let c = &r.chains[0];
    assert_eq!(
        (
            c.account_id.as_str(),
            c.region.as_str(),
            c.trail.as_str(),
            c.digests
        ),
        ("111111111111", "us-east-1", "t", 3)
    );
    assert_eq!(
        c.spans,
        vec![TimeSpan {
            from: at(0, 30),
            until: at(3, 30)
        }]
    );
    // Collected long after: the period 00:30..03:30 is covered to both edges.
    let period = Period {
        since: at(0, 30),
        until: at(3, 30),
    };
    assert!(coverage_gaps(&r.chains, &one_account(), &period, at(23, 0)).is_empty());
    // The last hour before collection need not be digested yet.
    assert!(coverage_gaps(&r.chains, &one_account(), &period, at(4, 20)).is_empty());
}

#[test]
fn deleted_digests_at_the_edges_and_inside_leave_gaps() {
    let period = Period {
        since: at(0, 30),
        until: at(3, 30),
    };
    let gaps = |drop: &[usize]| {
        let mut a = archive();
        for i in drop.iter().rev() {
            a.digests.remove(*i);
        }
        let r = run(&a);
        coverage_gaps(&r.chains, &one_account(), &period, at(23, 0))
            .into_iter()
            .map(|g| (g.edge, g.from, g.until))
            .collect::<Vec<_>>()
    };
    assert_eq!(gaps(&[0]), vec![(GapEdge::Start, at(0, 30), at(1, 30))]);
    assert_eq!(gaps(&[2]), vec![(GapEdge::End, at(2, 30), at(3, 30))]);
    assert_eq!(gaps(&[1]), vec![(GapEdge::Middle, at(1, 30), at(2, 30))]);
    assert_eq!(
        gaps(&[0, 1, 2]),
        vec![(GapEdge::Whole, at(0, 30), at(3, 30))]
    );
    // An account and region with a trail but no digest at all is uncovered too.
    let r = run(&archive());
    let mut expected = one_account();
    expected.insert(("222222222222".into(), "us-east-1".into()));
    let gaps = coverage_gaps(&r.chains, &expected, &period, at(23, 0));
    assert_eq!(gaps.len(), 1);
    assert_eq!(
        (gaps[0].account_id.as_str(), gaps[0].edge),
        ("222222222222", GapEdge::Whole)
    );
}

#[test]
fn a_digest_with_an_invalid_signature_covers_nothing() {
    let mut a = archive();
    a.digests[2].signature = a.digests[0].signature.clone();
    let r = run(&a);
    let period = Period {
        since: at(0, 30),
        until: at(3, 30),
    };
    let gaps = coverage_gaps(&r.chains, &one_account(), &period, at(23, 0));
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0].edge, GapEdge::End);
}
