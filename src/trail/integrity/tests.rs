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

const BUCKET: &str = "trail-bucket";

struct Archive {
    key: KeyPair,
    digests: Vec<DigestInput>,
    hashes: BTreeMap<String, Option<String>>,
    public: TrailPublicKey,
}

fn log_key(hour: u32) -> String {
    format!("AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/04/111111111111_CloudTrail_us-east-1_20260304T{hour:02}05Z_x.json.gz")
}

fn digest_key(hour: u32) -> String {
    format!("AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2026/03/04/111111111111_CloudTrail-Digest_us-east-1_t_us-east-1_20260304T{hour:02}3000Z.json.gz")
}

/// Three hourly digests, each listing one log file, chained.
fn archive() -> Archive {
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
        let end = format!("2026-03-04T{hour:02}:30:00Z");
        let doc = serde_json::json!({
            "awsAccountId": "111111111111", "digestStartTime": "x", "digestEndTime": end,
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

fn run(a: &Archive) -> IntegrityReport {
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
