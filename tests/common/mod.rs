//! Test harness: starts the AWS emulator (moto plus our extensions, `tests/emulator/server.py`) on a free loopback
//! port, seeds the demo organisation, and runs the real `gateaudit` binary against it.
//!
//! The emulator exits when its standard input closes, so it never outlives the test process.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs a Python snippet (`python -c SCRIPT ARGS...`) with the test virtualenv; fails the test with its stderr
/// when it fails; returns its standard output.
pub fn run_python(script: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "python snippet failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// What a seeder wrote into `dir`: the auditor's credentials (`credentials.env`) as environment pairs. The
/// seeded `gateaudit.toml` names the rule set relative to the repository; it is rewritten to the absolute path so
/// that gateaudit can run from `dir`.
pub fn seeded_credentials(dir: &Path) -> Vec<(String, String)> {
    let env = std::fs::read_to_string(dir.join("credentials.env"))
        .expect("credentials.env")
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    let config = dir.join("gateaudit.toml");
    let text = std::fs::read_to_string(&config).expect("gateaudit.toml");
    let policy = repo().join("policies/default.toml");
    std::fs::write(
        &config,
        text.replace(
            "\"policies/default.toml\"",
            &format!("{:?}", policy.display().to_string()),
        ),
    )
    .expect("rewrite gateaudit.toml");
    env
}

pub fn python() -> PathBuf {
    if let Ok(p) = std::env::var("GATEAUDIT_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = repo().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "{} is missing: run ci/setup-python first (ci/test does)",
        venv.display()
    );
    venv
}

pub struct Emulator {
    child: Child,
    _stdin: ChildStdin,
    pub endpoint: String,
}

impl Emulator {
    pub fn start() -> Emulator {
        let mut child = Command::new(python())
            .arg(repo().join("tests/emulator/server.py"))
            .args(["--port", "0", "--host", "127.0.0.1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the emulator");
        let stdin = child.stdin.take().expect("emulator stdin");
        let stdout = child.stdout.take().expect("emulator stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the emulator's READY line");
        let endpoint = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("emulator did not start: {line:?}"))
            .to_owned();
        Emulator {
            child,
            _stdin: stdin,
            endpoint,
        }
    }

    /// POSTs to a control endpoint (`/_emulator/...`) with curl-free std networking.
    pub fn control(&self, path: &str, body: &str) -> String {
        self.request("POST", path, body)
    }

    /// Every secret access key and session token the emulator has issued (`GET /_emulator/secrets`).
    pub fn secrets(&self) -> Vec<String> {
        let response = self.request("GET", "/_emulator/secrets", "");
        let json = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or_default();
        let v: serde_json::Value =
            serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
        v["secrets"]
            .as_array()
            .expect("secrets")
            .iter()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect()
    }

    /// The fault rules and request statistics (`GET /_emulator/faults`), or sets them (`POST`, with a body).
    pub fn faults(&self, body: Option<&serde_json::Value>) -> serde_json::Value {
        let response = match body {
            Some(b) => self.request("POST", "/_emulator/faults", &b.to_string()),
            None => self.request("GET", "/_emulator/faults", ""),
        };
        let (head, json) = response
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no HTTP response: {response:?}"));
        assert!(head.starts_with("HTTP/1.1 200"), "{response}");
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"))
    }

    fn request(&self, method: &str, path: &str, body: &str) -> String {
        use std::io::{Read, Write};
        let addr = self.endpoint.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).expect("connect to the emulator");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("receive");
        response
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A seeded demo organisation in a running emulator.
pub struct Demo {
    pub emulator: Emulator,
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
    pub expected: serde_json::Value,
}

impl Demo {
    pub fn seed(with_unreachable: bool) -> Demo {
        let emulator = Emulator::start();
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = Command::new(python());
        cmd.arg(repo().join("tests/emulator/seed_demo.py"))
            .args(["--endpoint", &emulator.endpoint, "--out"])
            .arg(dir.path());
        if with_unreachable {
            cmd.arg("--with-unreachable");
        }
        let out = cmd.output().expect("run the seeder");
        assert!(
            out.status.success(),
            "seeding failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let env = seeded_credentials(dir.path());
        let expected: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("expected.json")).expect("expected.json"),
        )
        .expect("expected.json parses");
        Demo {
            emulator,
            dir,
            env,
            expected,
        }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("gateaudit.toml")
    }

    /// Runs gateaudit with the auditor's credentials and nothing else from the caller's AWS environment.
    pub fn gateaudit(&self, args: &[&str]) -> Output {
        gateaudit_with_env(args, &self.env, self.dir.path())
    }
}

pub fn gateaudit_with_env(args: &[&str], env: &[(String, String)], cwd: &Path) -> Output {
    gateaudit_command(args, env, cwd)
        .output()
        .expect("run gateaudit")
}

/// The gateaudit command with `env` and nothing else from the caller's AWS environment, in `cwd`.
pub fn gateaudit_command<S: AsRef<std::ffi::OsStr>>(
    args: &[S],
    env: &[(String, String)],
    cwd: &Path,
) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gateaudit"));
    cmd.args(args).current_dir(cwd);
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
    cmd.env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// The single run directory under `out`.
pub fn run_dir(out: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(out)
        .expect("reports dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(
        dirs.len(),
        1,
        "expected one run directory in {}: {dirs:?}",
        out.display()
    );
    dirs[0].clone()
}

pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn text(out: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The text of a PDF per `pdftotext -layout` (poppler-utils; ci/test installs it, and a missing one fails).
pub fn pdf_text(path: &Path) -> String {
    pdftotext(path, "-layout")
}

/// The text of a PDF in content-stream order (`pdftotext -raw`): the lines of one table cell follow each other,
/// so a value wrapped over lines reads whole once whitespace is removed.
pub fn pdf_text_raw(path: &Path) -> String {
    pdftotext(path, "-raw")
}

fn pdftotext(path: &Path, mode: &str) -> String {
    let out = Command::new("pdftotext")
        .arg(mode)
        .arg(path)
        .arg("-")
        .output()
        .unwrap_or_else(|e| panic!("pdftotext (poppler-utils) is needed: {e}"));
    assert!(
        out.status.success(),
        "pdftotext {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
