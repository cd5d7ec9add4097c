//! A store in a local (or mounted) directory: `<root>/<run-id>/<file>`. Every file is created new (never
//! overwritten) and made read-only; `manifest.json` is written under a temporary name and hard-linked into place,
//! so it appears whole, and only after every other file.
//!
//! Local file-system operations only.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::StoreError;

pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    pub fn new(root: &Path) -> DirStore {
        DirStore {
            root: root.to_path_buf(),
        }
    }

    fn name(&self) -> String {
        self.root.display().to_string()
    }

    fn path(&self, key: &str) -> PathBuf {
        key.split('/')
            .fold(self.root.clone(), |p, part| p.join(part))
    }

    fn write_error(&self, key: &str, e: impl std::fmt::Display) -> StoreError {
        StoreError::Write {
            store: self.name(),
            key: key.to_owned(),
            message: e.to_string(),
        }
    }

    pub fn put_new(&self, key: &str, bytes: &[u8], atomic: bool) -> Result<(), StoreError> {
        let path = self.path(key);
        let parent = path.parent().unwrap_or(&self.root).to_path_buf();
        std::fs::create_dir_all(&parent).map_err(|e| self.write_error(key, e))?;
        let target = if atomic {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            parent.join(format!(
                ".{name}.partial-{}",
                crate::report::staging::random_suffix()
            ))
        } else {
            path.clone()
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(|e| self.create_error(key, e))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| self.write_error(key, e))?;
        drop(file);
        read_only(&target).map_err(|e| self.write_error(key, e))?;
        if atomic {
            // link(2) never replaces an existing file: create-new semantics, and the file appears whole.
            let linked = std::fs::hard_link(&target, &path);
            let _ = std::fs::remove_file(&target);
            linked.map_err(|e| self.create_error(key, e))?;
        }
        Ok(())
    }

    /// A failed create-new: the key exists already (write-once refused), or the write failed.
    fn create_error(&self, key: &str, e: std::io::Error) -> StoreError {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            StoreError::Exists {
                store: self.name(),
                key: key.to_owned(),
            }
        } else {
            self.write_error(key, e)
        }
    }

    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match std::fs::read(self.path(key)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::Read {
                store: self.name(),
                key: key.to_owned(),
                message: e.to_string(),
            }),
        }
    }

    pub fn exists(&self, key: &str) -> bool {
        self.path(key).is_file()
    }

    pub fn folders(&self) -> Result<Vec<String>, StoreError> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(StoreError::Read {
                    store: self.name(),
                    key: String::new(),
                    message: e.to_string(),
                })
            }
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') && entry.path().is_dir() {
                out.push(name);
            }
        }
        Ok(out)
    }
}

#[cfg(unix)]
fn read_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o444))
}

#[cfg(not(unix))]
fn read_only(path: &Path) -> std::io::Result<()> {
    let mut permissions = std::fs::metadata(path)?.permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(path, permissions)
}
