//! The evidence store: every run's report folder, published under its run id into a directory or an S3 bucket
//! the user owns, write-once (a file is never overwritten) and manifest last, so a reader never sees half a run:
//! a folder without `manifest.json` is not a run. The store of record is these immutable folders; everything
//! read from it (the newest run, history, diffs) is derived from them, with every file checked against its
//! run's manifest before it is believed.
//!
//! This is the only code that writes to AWS, and only to the store's bucket (never to an audited account);
//! it must not be used by collection. `local` and `s3` are the two backends; `incremental` continues the newest
//! run, `history` reads runs over time.

pub mod cli;
pub mod history;
pub mod incremental;
mod local;
mod s3;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::report::manifest::{Manifest, MANIFEST, SIGNATURE};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("--store {0:?}: expected a directory or s3://bucket[/prefix]")]
    BadLocation(String),
    #[error("run {run} is already in the store {store}: a stored run is never overwritten")]
    AlreadyPublished { run: String, store: String },
    #[error("store {store}: {key} exists already: stored files are write-once")]
    Exists { store: String, key: String },
    #[error("store {store}: cannot write {key}: {message}")]
    Write {
        store: String,
        key: String,
        message: String,
    },
    #[error("store {store}: cannot read {key}: {message}")]
    Read {
        store: String,
        key: String,
        message: String,
    },
    #[error("run {run} in the store {store} is not intact: {}", problems.join("; "))]
    Corrupt {
        run: String,
        store: String,
        problems: Vec<String>,
    },
    #[error("run {run} is not in the store {store} (or has no manifest.json, so it is not a complete run)")]
    NoSuchRun { run: String, store: String },
    #[error("cannot publish {path}: {message}")]
    Local { path: String, message: String },
}

/// Where the store is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Dir(PathBuf),
    S3 { bucket: String, prefix: String },
}

impl Location {
    pub fn parse(text: &str) -> Result<Location, StoreError> {
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(StoreError::BadLocation(text.to_owned()));
            }
            return Ok(Location::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.trim_matches('/').to_owned(),
            });
        }
        if text.is_empty() || text.contains("://") {
            return Err(StoreError::BadLocation(text.to_owned()));
        }
        Ok(Location::Dir(PathBuf::from(text)))
    }

    pub fn describe(&self) -> String {
        match self {
            Location::Dir(p) => p.display().to_string(),
            Location::S3 { bucket, prefix } if prefix.is_empty() => format!("s3://{bucket}"),
            Location::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
        }
    }
}

/// How to reach an S3 store: the standard credential chain, with these overrides.
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    pub profile: Option<String>,
    /// An emulator (the configuration's `endpoint_url`); `AWS_ENDPOINT_URL` works too.
    pub endpoint_url: Option<String>,
}

enum Backend {
    Dir(local::DirStore),
    S3(s3::S3Store),
}

/// An open store. Its methods block (S3 calls run on a runtime of its own).
pub struct Store {
    backend: Backend,
    runtime: tokio::runtime::Runtime,
    name: String,
}

/// What a publish wrote.
#[derive(Debug)]
pub struct Published {
    pub run: String,
    /// The keys written, relative to the store, manifest last.
    pub keys: Vec<String>,
    /// `COMPLIANCE until <time>` when the bucket has Object Lock enabled.
    pub retention: Option<String>,
}

impl Store {
    pub fn open(location: &Location, options: &StoreOptions) -> Result<Store, StoreError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::Local {
                path: location.describe(),
                message: format!("cannot start the runtime: {e}"),
            })?;
        let backend = match location {
            Location::Dir(path) => Backend::Dir(local::DirStore::new(path)),
            Location::S3 { bucket, prefix } => {
                Backend::S3(runtime.block_on(s3::S3Store::new(bucket, prefix, options)))
            }
        };
        Ok(Store {
            backend,
            runtime,
            name: location.describe(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Writes `key` (relative to the store) only if it does not exist yet.
    fn put_new(&self, key: &str, bytes: Vec<u8>, last: bool) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Dir(d) => d.put_new(key, &bytes, last),
            Backend::S3(s) => self.runtime.block_on(s.put_new(key, bytes)),
        }
    }

    /// The bytes of `key`, or None when it does not exist.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match &self.backend {
            Backend::Dir(d) => d.get(key),
            Backend::S3(s) => self.runtime.block_on(s.get(key)),
        }
    }

    /// The names of the folders at the top of the store (complete or not).
    fn folders(&self) -> Result<Vec<String>, StoreError> {
        match &self.backend {
            Backend::Dir(d) => d.folders(),
            Backend::S3(s) => self.runtime.block_on(s.folders()),
        }
    }

    /// Publishes the report folder `dir` as the run named by its folder name: every file its manifest lists,
    /// then `manifest.sig` when there is one, then `manifest.json`. Refuses a run already in the store.
    pub fn publish(&self, dir: &Path) -> Result<Published, StoreError> {
        self.publish_with(dir, |_| Ok(()))
    }

    /// [`Store::publish`], calling `before` with each key before it is written (a failure stops the publish
    /// there, as an interruption would).
    pub fn publish_with(
        &self,
        dir: &Path,
        mut before: impl FnMut(&str) -> Result<(), StoreError>,
    ) -> Result<Published, StoreError> {
        let local = |path: &Path, message: String| StoreError::Local {
            path: path.display().to_string(),
            message,
        };
        let run = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty() && !n.starts_with('.'))
            .ok_or_else(|| local(dir, "not a report folder".into()))?;
        let manifest_path = dir.join(MANIFEST);
        let manifest_bytes = std::fs::read(&manifest_path)
            .map_err(|e| local(&manifest_path, format!("cannot read the manifest: {e}")))?;
        let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
            .map_err(|e| local(&manifest_path, format!("not a gateaudit manifest: {e}")))?;
        if self.get(&format!("{run}/{MANIFEST}"))?.is_some() {
            return Err(StoreError::AlreadyPublished {
                run,
                store: self.name.clone(),
            });
        }
        let retention = match &self.backend {
            Backend::S3(s) => self.runtime.block_on(s.prepare())?,
            Backend::Dir(_) => None,
        };
        let mut files: Vec<String> = manifest.files.iter().map(|f| f.path.clone()).collect();
        if dir.join(SIGNATURE).is_file() {
            files.push(SIGNATURE.to_owned());
        }
        let mut keys = Vec::new();
        for relative in files {
            if relative
                .split('/')
                .any(|part| part == ".." || part.is_empty())
            {
                return Err(local(
                    dir,
                    format!("manifest lists a bad path {relative:?}"),
                ));
            }
            let path = dir.join(&relative);
            let bytes = std::fs::read(&path).map_err(|e| local(&path, e.to_string()))?;
            let key = format!("{run}/{relative}");
            before(&key)?;
            self.put_new(&key, bytes, false)?;
            keys.push(key);
        }
        // The manifest is the commit: until it is there, the folder is not a run.
        let key = format!("{run}/{MANIFEST}");
        before(&key)?;
        self.put_new(&key, manifest_bytes, true)?;
        keys.push(key);
        Ok(Published {
            run,
            keys,
            retention,
        })
    }

    /// The complete runs of the store (folders with a `manifest.json`), oldest first (run ids start with their
    /// UTC time).
    pub fn runs(&self) -> Result<Vec<String>, StoreError> {
        let mut runs = Vec::new();
        for folder in self.folders()? {
            if self.exists(&format!("{folder}/{MANIFEST}"))? {
                runs.push(folder);
            }
        }
        runs.sort();
        Ok(runs)
    }

    fn exists(&self, key: &str) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Dir(d) => Ok(d.exists(key)),
            Backend::S3(s) => self.runtime.block_on(s.exists(key)),
        }
    }

    /// A run's manifest.
    pub fn manifest(&self, run: &str) -> Result<Manifest, StoreError> {
        let key = format!("{run}/{MANIFEST}");
        let bytes = self.get(&key)?.ok_or_else(|| StoreError::NoSuchRun {
            run: run.to_owned(),
            store: self.name.clone(),
        })?;
        serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
            run: run.to_owned(),
            store: self.name.clone(),
            problems: vec![format!("{MANIFEST} is not a gateaudit manifest: {e}")],
        })
    }

    /// One file of a run, checked against the run's manifest (size and SHA-256).
    pub fn read_verified(
        &self,
        run: &str,
        manifest: &Manifest,
        path: &str,
    ) -> Result<Vec<u8>, StoreError> {
        let corrupt = |problem: String| StoreError::Corrupt {
            run: run.to_owned(),
            store: self.name.clone(),
            problems: vec![problem],
        };
        let entry = manifest
            .files
            .iter()
            .find(|f| f.path == path)
            .ok_or_else(|| corrupt(format!("{path} is not listed in its manifest")))?;
        let bytes = self
            .get(&format!("{run}/{path}"))?
            .ok_or_else(|| corrupt(format!("{path}: missing")))?;
        check_entry(path, &bytes, entry.size, &entry.sha256).map_err(corrupt)?;
        Ok(bytes)
    }

    /// Checks every file a run's manifest lists; the problems found (empty: intact).
    pub fn verify_run(&self, run: &str) -> Result<Vec<String>, StoreError> {
        let manifest = match self.manifest(run) {
            Ok(m) => m,
            Err(StoreError::Corrupt { problems, .. }) => return Ok(problems),
            Err(e) => return Err(e),
        };
        let mut problems = Vec::new();
        if manifest.run_id != run && !run.starts_with(&manifest.run_id) {
            problems.push(format!(
                "{MANIFEST} names run {:?}, not {run:?}",
                manifest.run_id
            ));
        }
        for entry in &manifest.files {
            match self.get(&format!("{run}/{}", entry.path))? {
                None => problems.push(format!("{}: missing", entry.path)),
                Some(bytes) => {
                    if let Err(p) = check_entry(&entry.path, &bytes, entry.size, &entry.sha256) {
                        problems.push(p);
                    }
                }
            }
        }
        Ok(problems)
    }
}

fn check_entry(path: &str, bytes: &[u8], size: u64, sha256: &str) -> Result<(), String> {
    if bytes.len() as u64 != size {
        return Err(format!(
            "{path}: size {} differs from the manifest's {size}",
            bytes.len()
        ));
    }
    if hex::encode(Sha256::digest(bytes)) != sha256 {
        return Err(format!(
            "{path}: SHA-256 differs from the manifest (modified)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
