//! manifest.json: every input and output file of a report directory with its SHA-256 and size, optionally
//! signed with Ed25519 (`manifest.sig`), and the verification that recomputes all of it, so an auditor can tell
//! that a report was not edited after the run.
//!
//! Works on local files only; never calls AWS.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ReportError;

pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.sig";

/// DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32-byte key follows it.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Path relative to the report directory, with `/` separators.
    pub path: String,
    /// `input` (what the run read: snapshot, configuration, rule set, waivers) or `output`.
    pub role: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub manifest_version: u32,
    pub tool: String,
    pub run_id: String,
    pub files: Vec<ManifestEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestSignature {
    pub algorithm: String,
    /// Hex of the raw 32-byte public key that verifies `signature`.
    pub public_key: String,
    /// Hex of the Ed25519 signature over the exact bytes of manifest.json.
    pub signature: String,
}

/// Hex text (surrounding whitespace ignored) to bytes.
fn unhex(text: &str) -> Option<Vec<u8>> {
    hex::decode(text.trim()).ok()
}

fn pem_body(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = text[start..].find(&end)? + start;
    let body: String = text[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    crate::iam::condition::base64_decode(&body)
}

/// The SHA-256 (hex) and size of a file, read in pieces: a report of 100,000 approvals has files of hundreds of
/// MB, which hashing must not hold in memory.
pub fn sha256_and_size(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher)?;
    Ok((hex::encode(hasher.finalize()), size))
}

fn file_entry(dir: &Path, path: &Path, role: &str) -> Result<ManifestEntry, ReportError> {
    let (sha256, size) = sha256_and_size(path).map_err(|e| ReportError::read(path, e))?;
    let relative = path.strip_prefix(dir).unwrap_or(path);
    Ok(ManifestEntry {
        path: relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        role: role.to_owned(),
        size,
        sha256,
    })
}

/// Loads an Ed25519 signing key: PKCS#8 PEM (`openssl genpkey -algorithm ed25519`) or a 32-byte seed in hex.
pub fn load_signing_key(path: &Path) -> Result<Ed25519KeyPair, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::read(path, e))?;
    let pair = if let Some(der) = pem_body(&text, "PRIVATE KEY") {
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
            .map_err(|e| ReportError::invalid(path, format!("not an Ed25519 PKCS#8 key: {e}")))?
    } else if let Some(seed) = unhex(&text).filter(|s| s.len() == 32) {
        Ed25519KeyPair::from_seed_unchecked(&seed)
            .map_err(|e| ReportError::invalid(path, format!("bad Ed25519 seed: {e}")))?
    } else {
        return Err(ReportError::invalid(
            path,
            "expected a PEM \"PRIVATE KEY\" (Ed25519 PKCS#8) or 64 hex characters",
        ));
    };
    Ok(pair)
}

/// Loads an Ed25519 public key: PEM SubjectPublicKeyInfo (`openssl pkey -pubout`) or 32 bytes in hex.
pub fn load_public_key(path: &Path) -> Result<Vec<u8>, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::read(path, e))?;
    if let Some(der) = pem_body(&text, "PUBLIC KEY") {
        return match der.strip_prefix(&ED25519_SPKI_PREFIX[..]) {
            Some(key) if key.len() == 32 => Ok(key.to_vec()),
            _ => Err(ReportError::invalid(path, "not an Ed25519 public key")),
        };
    }
    unhex(&text).filter(|k| k.len() == 32).ok_or_else(|| {
        ReportError::invalid(
            path,
            "expected a PEM \"PUBLIC KEY\" (Ed25519) or 64 hex characters",
        )
    })
}

/// Writes manifest.json listing `inputs` and `outputs` (all inside `dir`), and manifest.sig when a key is given.
pub fn write_manifest(
    dir: &Path,
    run_id: &str,
    inputs: &[PathBuf],
    outputs: &[PathBuf],
    signing_key: Option<&Ed25519KeyPair>,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = Vec::new();
    for p in inputs {
        files.push(file_entry(dir, p, "input")?);
    }
    for p in outputs {
        files.push(file_entry(dir, p, "output")?);
    }
    let manifest = Manifest {
        manifest_version: 1,
        tool: format!("gateaudit {}", env!("CARGO_PKG_VERSION")),
        run_id: run_id.to_owned(),
        files,
    };
    let path = dir.join(MANIFEST);
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| ReportError::format(&path, e))?;
    std::fs::write(&path, &bytes).map_err(|e| ReportError::io(&path, e))?;
    let mut written = vec![path];
    if let Some(key) = signing_key {
        let signature = ManifestSignature {
            algorithm: "ed25519".to_owned(),
            public_key: hex::encode(key.public_key().as_ref()),
            signature: hex::encode(key.sign(&bytes).as_ref()),
        };
        let sig_path = dir.join(SIGNATURE);
        let sig_bytes =
            serde_json::to_vec_pretty(&signature).map_err(|e| ReportError::format(&sig_path, e))?;
        std::fs::write(&sig_path, sig_bytes).map_err(|e| ReportError::io(&sig_path, e))?;
        written.push(sig_path);
    }
    Ok(written)
}

/// What verification found. Empty `problems` means the directory is exactly as the run left it.
#[derive(Debug, Default)]
pub struct Verification {
    pub files_checked: usize,
    /// `signed by <hex key>` when a signature verified.
    pub signature: Option<String>,
    pub problems: Vec<String>,
}

fn walk(dir: &Path, base: &Path, out: &mut BTreeSet<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, base, out)?;
        } else if let Ok(rel) = path.strip_prefix(base) {
            out.insert(
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        }
    }
    Ok(())
}

/// Recomputes every hash and size, lists files added after the run, and checks the signature. With
/// `trusted_key`, the manifest must be signed by that key; without it, a signature is checked against the key it
/// names (which proves integrity, not who signed).
///
/// A missing, unreadable or invalid manifest (or signature file) is a problem found, like an edited file: the
/// directory cannot be shown to be what a run wrote. Only a `dir` that is not a readable directory is an error.
pub fn verify(dir: &Path, trusted_key: Option<&[u8]>) -> Result<Verification, ReportError> {
    let mut result = Verification::default();
    if !dir.is_dir() {
        return Err(ReportError::read(
            dir,
            std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
        ));
    }
    let path = dir.join(MANIFEST);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => {
            result.problems.push(format!(
                "{MANIFEST}: cannot be read ({e}), so nothing can be verified"
            ));
            return Ok(result);
        }
    };
    let manifest: Manifest = match serde_json::from_slice(&bytes) {
        Ok(m) => m,
        Err(e) => {
            result.problems.push(format!(
                "{MANIFEST}: not a gateaudit manifest ({e}), so nothing can be verified"
            ));
            return Ok(result);
        }
    };
    let mut listed = BTreeSet::new();
    for entry in &manifest.files {
        listed.insert(entry.path.clone());
        let file = dir.join(&entry.path);
        match sha256_and_size(&file) {
            Err(_) => result.problems.push(format!("{}: missing", entry.path)),
            Ok((sha256, size)) => {
                result.files_checked += 1;
                if size != entry.size {
                    result.problems.push(format!(
                        "{}: size {} differs from the manifest's {}",
                        entry.path, size, entry.size
                    ));
                } else if sha256 != entry.sha256 {
                    result.problems.push(format!(
                        "{}: SHA-256 differs from the manifest (modified)",
                        entry.path
                    ));
                }
            }
        }
    }
    let mut present = BTreeSet::new();
    walk(dir, dir, &mut present).map_err(|e| ReportError::read(dir, e))?;
    for extra in present.difference(&listed) {
        if extra != MANIFEST && extra != SIGNATURE {
            result.problems.push(format!(
                "{extra}: not listed in the manifest (added after the run)"
            ));
        }
    }
    let sig_path = dir.join(SIGNATURE);
    match std::fs::read(&sig_path) {
        Err(_) if trusted_key.is_some() => result
            .problems
            .push(format!("{SIGNATURE}: missing, but a public key was given")),
        Err(_) => {}
        Ok(sig_bytes) => match serde_json::from_slice::<ManifestSignature>(&sig_bytes) {
            Err(e) => result
                .problems
                .push(format!("{SIGNATURE}: not a gateaudit signature file ({e})")),
            Ok(sig) => {
                let embedded = unhex(&sig.public_key).unwrap_or_default();
                let key = trusted_key.map(<[u8]>::to_vec).unwrap_or(embedded.clone());
                let signature = unhex(&sig.signature).unwrap_or_default();
                if sig.algorithm != "ed25519" {
                    result.problems.push(format!(
                        "{SIGNATURE}: unsupported algorithm {:?}",
                        sig.algorithm
                    ));
                } else if UnparsedPublicKey::new(&ED25519, &key)
                    .verify(&bytes, &signature)
                    .is_err()
                {
                    result.problems.push(format!(
                        "{SIGNATURE}: the signature does not verify with key {}",
                        hex::encode(&key)
                    ));
                } else {
                    result.signature = Some(format!(
                        "signed by {}{}",
                        hex::encode(&key),
                        if trusted_key.is_some() {
                            " (the key you gave)"
                        } else {
                            " (key named in the signature file; pass --public-key to pin it)"
                        }
                    ));
                }
            }
        },
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report_dir() -> (tempfile::TempDir, Vec<PathBuf>, Vec<PathBuf>) {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("inputs")).expect("inputs");
        let input = dir.path().join("inputs/policy.toml");
        std::fs::write(&input, "name = \"default\"\n").expect("write");
        let out = dir.path().join("findings.csv");
        std::fs::write(&out, "check_id\r\nwrite-access\r\n").expect("write");
        (dir, vec![input], vec![out])
    }

    fn key() -> Ed25519KeyPair {
        Ed25519KeyPair::from_seed_unchecked(&[7u8; 32]).expect("seed")
    }

    #[test]
    fn untouched_signed_report_verifies() {
        let (dir, inputs, outputs) = report_dir();
        let k = key();
        write_manifest(dir.path(), "run", &inputs, &outputs, Some(&k)).expect("manifest");
        let v = verify(dir.path(), Some(k.public_key().as_ref())).expect("verify");
        assert!(v.problems.is_empty(), "{:?}", v.problems);
        assert_eq!(v.files_checked, 2);
        assert!(v.signature.is_some());
    }

    #[test]
    fn edits_additions_and_deletions_are_found() {
        let (dir, inputs, outputs) = report_dir();
        write_manifest(dir.path(), "run", &inputs, &outputs, None).expect("manifest");
        std::fs::write(&outputs[0], "check_id\r\nnothing to see\r\n").expect("tamper");
        std::fs::remove_file(&inputs[0]).expect("delete");
        std::fs::write(dir.path().join("extra.csv"), "x").expect("add");
        let v = verify(dir.path(), None).expect("verify");
        assert_eq!(v.problems.len(), 3, "{:?}", v.problems);
        assert!(v.problems.iter().any(|p| p.starts_with("findings.csv")));
        assert!(v
            .problems
            .iter()
            .any(|p| p.starts_with("inputs/policy.toml: missing")));
        assert!(v
            .problems
            .iter()
            .any(|p| p.starts_with("extra.csv: not listed")));
    }

    #[test]
    fn a_missing_or_invalid_manifest_is_a_problem_found_not_an_error() {
        let (dir, inputs, outputs) = report_dir();
        let v = verify(dir.path(), None).expect("verify");
        assert!(
            v.problems.len() == 1 && v.problems[0].starts_with("manifest.json: cannot be read"),
            "{:?}",
            v.problems
        );
        write_manifest(dir.path(), "run", &inputs, &outputs, Some(&key())).expect("manifest");
        std::fs::write(dir.path().join(MANIFEST), b"{\"files\": 3}").expect("tamper");
        let v = verify(dir.path(), None).expect("verify");
        assert!(
            v.problems
                .iter()
                .any(|p| p.starts_with("manifest.json: not a gateaudit manifest")),
            "{:?}",
            v.problems
        );
        write_manifest(dir.path(), "run", &inputs, &outputs, None).expect("manifest");
        std::fs::write(dir.path().join(SIGNATURE), b"not json").expect("tamper");
        let v = verify(dir.path(), None).expect("verify");
        assert!(
            v.problems
                .iter()
                .any(|p| p.starts_with("manifest.sig: not a gateaudit signature")),
            "{:?}",
            v.problems
        );
        let err = verify(&dir.path().join("missing"), None).expect_err("no directory");
        assert!(err.to_string().starts_with("cannot read "), "{err}");
    }

    #[test]
    fn read_errors_do_not_say_write() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope.key");
        let err = load_signing_key(&missing).expect_err("missing").to_string();
        assert!(
            err.starts_with("cannot read ") && !err.contains("write"),
            "{err}"
        );
        std::fs::write(&missing, "garbage").expect("write");
        let err = load_public_key(&missing).expect_err("garbage").to_string();
        assert!(
            err.contains("is not valid") && !err.contains("write"),
            "{err}"
        );
    }

    #[test]
    fn a_re_signed_manifest_fails_against_the_pinned_key() {
        let (dir, inputs, outputs) = report_dir();
        write_manifest(dir.path(), "run", &inputs, &outputs, Some(&key())).expect("manifest");
        // Someone edits a file and re-signs with their own key: self-consistent, but not the auditor's key.
        std::fs::write(&outputs[0], "edited").expect("tamper");
        let forger = Ed25519KeyPair::from_seed_unchecked(&[9u8; 32]).expect("seed");
        write_manifest(dir.path(), "run", &inputs, &outputs, Some(&forger)).expect("re-sign");
        assert!(verify(dir.path(), None)
            .expect("verify")
            .problems
            .is_empty());
        let pinned = verify(dir.path(), Some(key().public_key().as_ref())).expect("verify");
        assert!(
            pinned
                .problems
                .iter()
                .any(|p| p.contains("does not verify")),
            "{:?}",
            pinned.problems
        );
    }

    #[test]
    fn keys_load_from_openssl_pem_and_hex() {
        let dir = tempfile::tempdir().expect("tempdir");
        let private = dir.path().join("k.pem");
        std::fs::write(&private, "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH\n-----END PRIVATE KEY-----\n").expect("write");
        let pair = load_signing_key(&private).expect("pkcs8 pem");
        assert_eq!(pair.public_key().as_ref(), key().public_key().as_ref());
        let public = dir.path().join("k.pub");
        std::fs::write(&public, hex::encode(key().public_key().as_ref())).expect("write");
        assert_eq!(
            load_public_key(&public).expect("hex key"),
            key().public_key().as_ref()
        );
        std::fs::write(&public, "garbage").expect("write");
        assert!(load_public_key(&public)
            .expect_err("bad key")
            .to_string()
            .contains("k.pub"));
    }
}
