//! A local copy of a trail archive (e.g. `aws s3 sync s3://bucket/prefix DIR`): walks the standard layout under
//! `DIR`, reading only the day folders of the period, and runs the scan over it.
//!
//! Only regular files are read, opened without blocking and without following a symlink, so a named pipe or a
//! device in the tree can never hang the scan; symlinks are followed only when they resolve inside the archive
//! folder. Whatever is not read (a special file, a link out of the tree, a file over the size cap) is listed as
//! unreadable evidence, by path, never skipped silently. Each file is read up to the cap; batches are bounded in
//! files and bytes. Local file-system reads only; it never talks to AWS.

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::decode::human_bytes;
use super::layout::{days, is_account_id, is_org_id, AccountRoot, FileKind};
use super::scan::{
    batches, process_batch, InputData, ScanInput, ScanSettings, Scanner, BATCH_BYTES,
};
use crate::model::{Period, UnreadableEvidence, UnreadableKind};

/// Which accounts and regions to read (empty: all found).
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
}

impl Filters {
    pub fn account(&self, a: &str) -> bool {
        self.accounts.is_empty() || self.accounts.iter().any(|x| x == a)
    }
    pub fn region(&self, r: &str) -> bool {
        self.regions.is_empty() || self.regions.iter().any(|x| x == r)
    }
}

/// One file found under the directory.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LocalFile {
    pub day: NaiveDate,
    /// Path relative to the directory, with `/` separators: the S3 key it had.
    pub key: String,
    /// The file to read: the entry itself, or where a symlink inside the tree resolves to.
    pub path: PathBuf,
    /// Its size when listed.
    pub size: u64,
}

/// What a walk of the directory found: the files to read, and what it would not read (and why).
#[derive(Debug, Default)]
pub struct Listing {
    pub files: Vec<LocalFile>,
    pub not_read: Vec<UnreadableEvidence>,
}

fn not_read(path: &Path, detail: String) -> UnreadableEvidence {
    UnreadableEvidence {
        location: path.display().to_string(),
        event_id: None,
        record_index: None,
        kind: UnreadableKind::Io,
        detail,
    }
}

/// What a non-regular file is, for the message.
fn file_kind(t: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// The walk's view of the archive folder: its canonical path, to keep symlinks inside it.
struct Tree {
    root: PathBuf,
}

impl Tree {
    fn new(dir: &Path) -> Tree {
        Tree {
            root: dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()),
        }
    }

    /// Where `path` resolves to, when that is inside the archive folder.
    fn inside(&self, path: &Path) -> Option<PathBuf> {
        path.canonicalize()
            .ok()
            .filter(|p| p.starts_with(&self.root))
    }

    /// The sub-folders of `dir` (sorted); links to folders outside the archive are reported, not followed.
    fn subdirs(&self, dir: &Path, listing: &mut Listing) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for entry in entries.filter_map(Result::ok) {
            let Ok(t) = entry.file_type() else { continue };
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if t.is_dir() {
                out.push(name);
            } else if t.is_symlink() && entry.path().is_dir() {
                if self.inside(&entry.path()).is_some() {
                    out.push(name);
                } else {
                    listing.not_read.push(not_read(
                        &entry.path(),
                        "a symbolic link to a folder outside the archive: not followed".to_owned(),
                    ));
                }
            }
        }
        out.sort();
        out
    }
}

/// The account roots under `<dir>/AWSLogs/` (with organisation folders).
pub fn account_roots(dir: &Path, filters: &Filters) -> Vec<AccountRoot> {
    let tree = Tree::new(dir);
    account_roots_in(&tree, dir, filters, &mut Listing::default())
}

fn account_roots_in(
    tree: &Tree,
    dir: &Path,
    filters: &Filters,
    listing: &mut Listing,
) -> Vec<AccountRoot> {
    let logs = dir.join("AWSLogs");
    let mut roots = Vec::new();
    for name in tree.subdirs(&logs, listing) {
        if is_org_id(&name) {
            for account in tree
                .subdirs(&logs.join(&name), listing)
                .into_iter()
                .filter(|a| is_account_id(a) && filters.account(a))
            {
                roots.push(AccountRoot {
                    prefix: String::new(),
                    org_id: Some(name.clone()),
                    account,
                });
            }
        } else if is_account_id(&name) && filters.account(&name) {
            roots.push(AccountRoot {
                prefix: String::new(),
                org_id: None,
                account: name,
            });
        }
    }
    roots
}

/// Every `.json.gz` of `kind` in the day folders of the period (plus `extra_days` after it), in day order, and
/// what was found there but will not be read.
pub fn list_files(
    dir: &Path,
    filters: &Filters,
    period: &Period,
    kind: FileKind,
    extra_days: i64,
) -> Listing {
    let tree = Tree::new(dir);
    let mut listing = Listing::default();
    let wanted_days = days(period, extra_days);
    for root in account_roots_in(&tree, dir, filters, &mut listing) {
        let base = root.base();
        for region in tree
            .subdirs(&dir.join(&base).join(kind.folder()), &mut listing)
            .into_iter()
            .filter(|r| filters.region(r))
        {
            for day in &wanted_days {
                let prefix = root.day_prefix(kind, &region, *day);
                let folder = dir.join(&prefix);
                if !folder.exists() {
                    continue;
                }
                if tree.inside(&folder).is_none() {
                    listing.not_read.push(not_read(
                        &folder,
                        "the day folder resolves outside the archive (a symbolic link): not read"
                            .to_owned(),
                    ));
                    continue;
                }
                let Ok(entries) = std::fs::read_dir(&folder) else {
                    listing.not_read.push(not_read(
                        &folder,
                        "the day folder cannot be listed".to_owned(),
                    ));
                    continue;
                };
                for entry in entries.filter_map(Result::ok) {
                    let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                        listing.not_read.push(not_read(
                            &entry.path(),
                            "a file name that is not UTF-8: not read".to_owned(),
                        ));
                        continue;
                    };
                    if !name.ends_with(".json.gz") {
                        continue;
                    }
                    let path = entry.path();
                    let Ok(t) = entry.file_type() else { continue };
                    let (read_from, size) = if t.is_file() {
                        (path.clone(), entry.metadata().map(|m| m.len()).unwrap_or(0))
                    } else if t.is_symlink() {
                        match tree.inside(&path) {
                            Some(target) if target.is_file() => {
                                let size = target.metadata().map(|m| m.len()).unwrap_or(0);
                                (target, size)
                            }
                            Some(_) => {
                                listing.not_read.push(not_read(
                                    &path,
                                    "a symbolic link to something that is not a regular file: not read"
                                        .to_owned(),
                                ));
                                continue;
                            }
                            None => {
                                listing.not_read.push(not_read(
                                    &path,
                                    "a symbolic link outside the archive (or dangling): not followed"
                                        .to_owned(),
                                ));
                                continue;
                            }
                        }
                    } else {
                        listing.not_read.push(not_read(
                            &path,
                            format!("{}, not a regular file: not read", file_kind(t)),
                        ));
                        continue;
                    };
                    listing.files.push(LocalFile {
                        day: *day,
                        key: format!("{prefix}{name}"),
                        path: read_from,
                        size,
                    });
                }
            }
        }
    }
    listing.files.sort();
    listing
}

/// Reads a regular file of at most `cap` bytes. Opened without blocking and without following a symlink, so a
/// special file put in place after listing cannot hang the scan; its type is checked on the open file.
pub fn read_regular(path: &Path, cap: usize) -> Result<Vec<u8>, String> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    {
        if !std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
            return Err("not a regular file: not read".to_owned());
        }
    }
    let file = options
        .open(path)
        .map_err(|e| format!("cannot open: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot stat: {e}"))?;
    if !meta.file_type().is_file() {
        return Err(format!(
            "{}, not a regular file: not read",
            file_kind(meta.file_type())
        ));
    }
    if meta.len() > cap as u64 {
        return Err(format!(
            "{} compressed, over the cap of {}: not read",
            human_bytes(meta.len()),
            human_bytes(cap as u64)
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(cap as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() > cap {
        return Err(format!(
            "grew past the cap of {} while being read: not read",
            human_bytes(cap as u64)
        ));
    }
    Ok(bytes)
}

/// Scans local files in batches bounded in files and bytes (read and decoded by the rayon workers). While the
/// workers decode one batch, the previous batch's outcomes are folded into the scanner (deduplicated and
/// written out) on the side, so the serial part overlaps the parallel one; at most two batches' outcomes (the
/// selected events, never the files' bytes) are held at once, which keeps memory bounded by the batch size.
pub fn scan_files(
    files: &[LocalFile],
    settings: &ScanSettings,
    scanner: &mut Scanner<'_>,
) -> std::io::Result<()> {
    let sizes: Vec<u64> = files.iter().map(|f| f.size).collect();
    let mut pending = None;
    for range in batches(&sizes, BATCH_BYTES) {
        let inputs = files[range]
            .iter()
            .map(|f| ScanInput {
                location: f.path.display().to_string(),
                key: f.key.clone(),
                day: f.day,
                data: InputData::Path(f.path.clone()),
            })
            .collect();
        let previous = pending.take();
        let (outcomes, absorbed) = rayon::join(
            || process_batch(inputs, settings),
            || previous.map_or(Ok(()), |p| scanner.absorb(p)),
        );
        absorbed?;
        pending = Some(outcomes);
    }
    if let Some(last) = pending {
        scanner.absorb(last)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn lists_only_the_days_of_the_period() {
        let dir = tempfile::tempdir().expect("tmp");
        let mk = |rel: &str| {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, b"x").expect("write");
        };
        mk("AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/01/a.json.gz");
        mk("AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/05/b.json.gz");
        mk("AWSLogs/o-abc/222222222222/CloudTrail/eu-west-1/2026/03/01/c.json.gz");
        mk("AWSLogs/o-abc/222222222222/CloudTrail/eu-west-1/2026/03/01/notes.txt");
        let period = Period {
            since: Utc
                .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
                .single()
                .expect("t"),
            until: Utc
                .with_ymd_and_hms(2026, 3, 2, 0, 0, 0)
                .single()
                .expect("t"),
        };
        let files = list_files(dir.path(), &Filters::default(), &period, FileKind::Log, 1).files;
        let keys: Vec<&str> = files.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(
            keys,
            vec![
                "AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/01/a.json.gz",
                "AWSLogs/o-abc/222222222222/CloudTrail/eu-west-1/2026/03/01/c.json.gz"
            ]
        );
        let only_eu = Filters {
            accounts: vec![],
            regions: vec!["eu-west-1".into()],
        };
        assert_eq!(
            list_files(dir.path(), &only_eu, &period, FileKind::Log, 1)
                .files
                .len(),
            1
        );
    }
}
