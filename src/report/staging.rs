//! Report folders that are complete or absent: a run writes into a hidden sibling `.<name>.partial-<random>` and
//! renames it to `<name>` at the end, so a crash, an error or Ctrl-C never leaves a folder that looks like a
//! finished report, and two runs never share a folder (a name that exists already is refused).
//!
//! Local file-system operations only.

use std::path::{Path, PathBuf};

use super::ReportError;

/// Random hex (16 characters) for run ids and folder names; unique across processes started in the same second.
pub fn random_suffix() -> String {
    let mut bytes = [0u8; 8];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        // The system RNG failed (it does not in practice): mix what differs between processes and calls.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        bytes =
            (now ^ u64::from(std::process::id()).rotate_left(32) ^ n.rotate_left(48)).to_be_bytes();
    }
    hex::encode(bytes)
}

/// A report folder being written: files go into [`StagedDir::path`]; [`StagedDir::commit`] makes it appear at
/// its final name. Dropped without commit, the staging folder is removed.
#[derive(Debug)]
pub struct StagedDir {
    target: PathBuf,
    staging: PathBuf,
    committed: bool,
}

impl StagedDir {
    /// Starts writing the folder `target`; refuses a `target` that exists already.
    pub fn create(target: &Path) -> Result<StagedDir, ReportError> {
        if target.exists() {
            return Err(ReportError::Exists {
                path: target.display().to_string(),
            });
        }
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| ReportError::io(parent, e))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "report".to_owned());
        let staging = parent.join(format!(".{name}.partial-{}", random_suffix()));
        std::fs::create_dir(&staging).map_err(|e| ReportError::io(&staging, e))?;
        Ok(StagedDir {
            target: target.to_path_buf(),
            staging,
            committed: false,
        })
    }

    /// Where to write now.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// The final folder.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Where `written` (a path inside the staging folder) will be once committed.
    pub fn final_path(&self, written: &Path) -> PathBuf {
        match written.strip_prefix(&self.staging) {
            Ok(relative) => self.target.join(relative),
            Err(_) => written.to_path_buf(),
        }
    }

    /// Renames the staging folder to its final name (refusing a name another run took meanwhile).
    pub fn commit(mut self) -> Result<PathBuf, ReportError> {
        if self.target.exists() {
            return Err(ReportError::Exists {
                path: self.target.display().to_string(),
            });
        }
        std::fs::rename(&self.staging, &self.target)
            .map_err(|e| ReportError::io(&self.target, e))?;
        self.committed = true;
        Ok(self.target.clone())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("read dir")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_folder_appears_only_when_complete_and_never_twice() {
        let out = tempfile::tempdir().expect("tempdir");
        let target = out.path().join("run-1");
        let staged = StagedDir::create(&target).expect("staged");
        std::fs::write(staged.path().join("findings.json"), "{}").expect("write");
        assert!(!target.exists(), "not visible while being written");
        assert_eq!(
            staged.final_path(&staged.path().join("findings.json")),
            target.join("findings.json")
        );
        let second = StagedDir::create(&out.path().join("run-1")).expect("another run, same name");
        assert_eq!(staged.commit().expect("committed"), target);
        assert!(target.join("findings.json").exists());
        let err = second.commit().expect_err("the name is taken");
        assert!(err.to_string().contains("already exists"), "{err}");
        assert_eq!(
            entries(out.path()),
            vec!["run-1".to_owned()],
            "nothing left over"
        );
        assert!(
            StagedDir::create(&target).is_err(),
            "an existing folder is refused"
        );
    }

    #[test]
    fn an_abandoned_run_leaves_nothing() {
        let out = tempfile::tempdir().expect("tempdir");
        {
            let staged = StagedDir::create(&out.path().join("run-2")).expect("staged");
            std::fs::write(staged.path().join("half.csv"), "x").expect("write");
        }
        assert!(entries(out.path()).is_empty());
    }

    #[test]
    fn suffixes_differ() {
        let a: std::collections::BTreeSet<String> = (0..1000).map(|_| random_suffix()).collect();
        assert_eq!(a.len(), 1000);
        assert!(a.iter().all(|s| s.len() == 16));
    }
}
