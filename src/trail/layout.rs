//! The archive layout CloudTrail writes, `[prefix/]AWSLogs/[o-orgid/]<account>/CloudTrail[-Digest]/<region>/
//! YYYY/MM/DD/<file>.json.gz`: parsing keys, and the day folders of a period (so that nothing outside it is ever
//! listed or downloaded).
//!
//! Pure string and date arithmetic: no I/O.

use chrono::{Duration, NaiveDate};

use crate::model::Period;

/// Log files or digest files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    Log,
    Digest,
}

impl FileKind {
    pub fn folder(self) -> &'static str {
        match self {
            FileKind::Log => "CloudTrail",
            FileKind::Digest => "CloudTrail-Digest",
        }
    }
}

/// Where one account's files sit: `[prefix/]AWSLogs/[o-orgid/]<account>/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountRoot {
    /// The normalised prefix (empty, or ending with `/`).
    pub prefix: String,
    pub org_id: Option<String>,
    pub account: String,
}

impl AccountRoot {
    /// `[prefix/]AWSLogs/[o-orgid/]<account>/`.
    pub fn base(&self) -> String {
        match &self.org_id {
            Some(org) => format!("{}AWSLogs/{org}/{}/", self.prefix, self.account),
            None => format!("{}AWSLogs/{}/", self.prefix, self.account),
        }
    }

    /// `<base>CloudTrail/<region>/YYYY/MM/DD/`.
    pub fn day_prefix(&self, kind: FileKind, region: &str, day: NaiveDate) -> String {
        format!(
            "{}{}/{region}/{}/",
            self.base(),
            kind.folder(),
            day.format("%Y/%m/%d")
        )
    }
}

/// A parsed key of the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveKey {
    pub root: AccountRoot,
    pub kind: FileKind,
    pub region: String,
    pub day: NaiveDate,
    pub file: String,
}

/// Normalises a prefix: empty, or ending with exactly one `/`, without a leading `/`.
pub fn normalise_prefix(prefix: &str) -> String {
    let p = prefix.trim_matches('/');
    if p.is_empty() {
        String::new()
    } else {
        format!("{p}/")
    }
}

pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

pub fn is_org_id(s: &str) -> bool {
    s.starts_with("o-") && s.len() > 2 && s[2..].bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Parses `[prefix]AWSLogs/[o-orgid/]<account>/CloudTrail[-Digest]/<region>/YYYY/MM/DD/<file>.json.gz`.
pub fn parse_key(key: &str, prefix: &str) -> Option<ArchiveKey> {
    let prefix = normalise_prefix(prefix);
    let rest = key
        .strip_prefix(prefix.as_str())?
        .strip_prefix("AWSLogs/")?;
    let mut parts: Vec<&str> = rest.split('/').collect();
    let org_id = if parts.first().is_some_and(|p| is_org_id(p)) {
        Some(parts.remove(0).to_owned())
    } else {
        None
    };
    let [account, folder, region, y, m, d, file] = parts.as_slice() else {
        return None;
    };
    if !is_account_id(account) || !file.ends_with(".json.gz") || region.is_empty() {
        return None;
    }
    let kind = match *folder {
        "CloudTrail" => FileKind::Log,
        "CloudTrail-Digest" => FileKind::Digest,
        _ => return None,
    };
    let day = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
    Some(ArchiveKey {
        root: AccountRoot {
            prefix,
            org_id,
            account: (*account).to_owned(),
        },
        kind,
        region: (*region).to_owned(),
        day,
        file: (*file).to_owned(),
    })
}

/// The day folders to read for a period: every day the period touches, plus `extra_after` days after its end
/// (CloudTrail delivers a file up to ~15 minutes after its events, and digests an hour after their logs).
pub fn days(period: &Period, extra_after: i64) -> Vec<NaiveDate> {
    let first = period.since.date_naive();
    // `until` is exclusive: a period ending at midnight does not touch that day.
    let last =
        (period.until - Duration::nanoseconds(1)).date_naive() + Duration::days(extra_after.max(0));
    let mut out = Vec::new();
    let mut day = first;
    while day <= last {
        out.push(day);
        day += Duration::days(1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn parses_account_and_organisation_keys() {
        let k = parse_key(
            "logs/AWSLogs/111111111111/CloudTrail/eu-west-1/2026/03/04/111111111111_CloudTrail_eu-west-1_20260304T1205Z_abc.json.gz",
            "logs",
        )
        .expect("account trail key");
        assert_eq!(k.root.account, "111111111111");
        assert_eq!(k.root.org_id, None);
        assert_eq!(k.kind, FileKind::Log);
        assert_eq!(k.region, "eu-west-1");
        assert_eq!(k.day, NaiveDate::from_ymd_opt(2026, 3, 4).expect("date"));
        let o = parse_key(
            "AWSLogs/o-abc123/222222222222/CloudTrail-Digest/us-east-1/2026/03/04/222222222222_CloudTrail-Digest_us-east-1_org_us-east-1_20260304T120000Z.json.gz",
            "",
        )
        .expect("org digest key");
        assert_eq!(o.root.org_id.as_deref(), Some("o-abc123"));
        assert_eq!(o.kind, FileKind::Digest);
        assert_eq!(o.root.base(), "AWSLogs/o-abc123/222222222222/");
    }

    #[test]
    fn foreign_keys_are_rejected() {
        assert!(parse_key(
            "AWSLogs/111111111111/CloudTrail/eu-west-1/2026/13/04/x.json.gz",
            ""
        )
        .is_none());
        assert!(parse_key(
            "AWSLogs/111111111111/Config/eu-west-1/2026/03/04/x.json.gz",
            ""
        )
        .is_none());
        assert!(parse_key("AWSLogs/1111/CloudTrail/eu-west-1/2026/03/04/x.json.gz", "").is_none());
        assert!(parse_key(
            "other/AWSLogs/111111111111/CloudTrail/eu-west-1/2026/03/04/x.json.gz",
            ""
        )
        .is_none());
        assert!(parse_key(
            "AWSLogs/111111111111/CloudTrail/eu-west-1/2026/03/04/x.txt",
            ""
        )
        .is_none());
    }

    #[test]
    fn days_cover_the_period_and_prune_the_rest() {
        let p = Period {
            since: Utc
                .with_ymd_and_hms(2026, 2, 27, 13, 0, 0)
                .single()
                .expect("t"),
            until: Utc
                .with_ymd_and_hms(2026, 3, 2, 0, 0, 0)
                .single()
                .expect("t"),
        };
        let d: Vec<String> = days(&p, 0).iter().map(|d| d.to_string()).collect();
        assert_eq!(d, vec!["2026-02-27", "2026-02-28", "2026-03-01"]);
        assert_eq!(days(&p, 1).len(), 4);
        let root = AccountRoot {
            prefix: normalise_prefix("/p/"),
            org_id: None,
            account: "111111111111".into(),
        };
        assert_eq!(
            root.day_prefix(FileKind::Log, "us-east-1", days(&p, 0)[0]),
            "p/AWSLogs/111111111111/CloudTrail/us-east-1/2026/02/27/"
        );
    }
}
