//! A local copy of a trail archive (e.g. `aws s3 sync s3://bucket/prefix DIR`): walks the standard layout under
//! `DIR`, reading only the day folders of the period, and runs the scan over it.
//!
//! Local file-system reads only; it never talks to AWS.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::layout::{days, is_account_id, is_org_id, AccountRoot, FileKind};
use super::scan::{batch_size, process_batch, InputData, ScanInput, ScanSettings, Scanner};
use crate::model::Period;

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
    pub path: PathBuf,
}

fn subdirs(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .collect();
    out.sort();
    out
}

/// The account roots under `<dir>/AWSLogs/` (with organisation folders).
pub fn account_roots(dir: &Path, filters: &Filters) -> Vec<AccountRoot> {
    let logs = dir.join("AWSLogs");
    let mut roots = Vec::new();
    for name in subdirs(&logs) {
        if is_org_id(&name) {
            for account in subdirs(&logs.join(&name))
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

/// Every `.json.gz` of `kind` in the day folders of the period (plus `extra_days` after it), in day order.
pub fn list_files(
    dir: &Path,
    filters: &Filters,
    period: &Period,
    kind: FileKind,
    extra_days: i64,
) -> Vec<LocalFile> {
    let mut files = Vec::new();
    let wanted_days = days(period, extra_days);
    for root in account_roots(dir, filters) {
        let base = root.base();
        for region in subdirs(&dir.join(&base).join(kind.folder()))
            .into_iter()
            .filter(|r| filters.region(r))
        {
            for day in &wanted_days {
                let prefix = root.day_prefix(kind, &region, *day);
                let Ok(entries) = std::fs::read_dir(dir.join(&prefix)) else {
                    continue;
                };
                for entry in entries.filter_map(Result::ok) {
                    let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                        continue;
                    };
                    if name.ends_with(".json.gz") {
                        files.push(LocalFile {
                            day: *day,
                            key: format!("{prefix}{name}"),
                            path: entry.path(),
                        });
                    }
                }
            }
        }
    }
    files.sort();
    files
}

/// Scans local files in batches (read and decoded by the rayon workers).
pub fn scan_files(
    files: &[LocalFile],
    settings: &ScanSettings,
    scanner: &mut Scanner<'_>,
) -> std::io::Result<()> {
    for chunk in files.chunks(batch_size()) {
        let inputs = chunk
            .iter()
            .map(|f| ScanInput {
                location: f.path.display().to_string(),
                key: f.key.clone(),
                day: f.day,
                data: InputData::Path(f.path.clone()),
            })
            .collect();
        scanner.absorb(process_batch(inputs, settings))?;
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
        let files = list_files(dir.path(), &Filters::default(), &period, FileKind::Log, 1);
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
            list_files(dir.path(), &only_eu, &period, FileKind::Log, 1).len(),
            1
        );
    }
}
