//! Whether an Athena table sees the whole archive a scan is asked to read. A table with partition projection
//! reads only the partitions its properties enumerate: an account or region missing from the projected values, a
//! `log_day` range that starts after the period, or a location template that points at another trail root makes
//! Athena return *fewer* events without any error. Every such gap is named here, and a scan with a gap is not
//! run (it would be a silent pass).
//!
//! Pure: the table's parameters (GetTableMetadata) and the archive's CloudTrail folders (a ListObjectsV2
//! walk) are read by `crate::collect`; no AWS SDK types and no I/O here.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, Months, NaiveDate};

use super::ddl::root;

/// One `AWSLogs/[o-org/]<account>/CloudTrail/<region>/` folder of the archive.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ArchiveFolder {
    pub org_id: Option<String>,
    pub account: String,
    pub region: String,
}

/// What the scan needs the table to cover.
#[derive(Debug, Clone)]
pub struct Needed<'a> {
    pub bucket: &'a str,
    pub prefix: &'a str,
    /// The archive's log folders the scan reads (after its account and region filters).
    pub folders: &'a [ArchiveFolder],
    /// The first and last day folders the scan reads (`layout::days(period, 1)`).
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// Today (UTC), for a range relative to `NOW`: no file can be in a day folder after it.
    pub today: NaiveDate,
}

/// The layout the query's `account`, `region` and `log_day` columns assume, after the trail root.
const TEMPLATE_TAIL: &str = "${account}/CloudTrail/${region}/${log_day}/";
/// Accounts or regions named in one gap before "and N more".
const NAMED: usize = 10;

fn names(missing: &[&str]) -> String {
    let mut text = missing
        .iter()
        .take(NAMED)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if missing.len() > NAMED {
        text.push_str(&format!(" and {} more", missing.len() - NAMED));
    }
    text
}

fn property<'a>(parameters: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    parameters.get(key).map(|v| v.trim())
}

/// The values of an `enum` projection, or the gap that stops them from being known.
fn enum_values<'a>(
    parameters: &'a BTreeMap<String, String>,
    column: &str,
) -> Result<BTreeSet<&'a str>, String> {
    let type_key = format!("projection.{column}.type");
    match property(parameters, &type_key) {
        Some(t) if t.eq_ignore_ascii_case("enum") => {}
        Some(t) => {
            return Err(format!(
                "{type_key} is {t:?}: only an enum projection can be checked against the archive"
            ))
        }
        None => return Err(format!("{type_key} is not set")),
    }
    let values_key = format!("projection.{column}.values");
    let values: BTreeSet<&str> = property(parameters, &values_key)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    if values.is_empty() {
        return Err(format!("{values_key} is empty or not set"));
    }
    Ok(values)
}

/// Which end of the range a bound is.
#[derive(Debug, Clone, Copy)]
enum Bound {
    Start,
    End,
}

/// One end of a `yyyy/MM/dd` date range: an absolute day, or `NOW` with an optional `+N UNIT`/`-N UNIT`.
fn range_end(text: &str, end: Bound, today: NaiveDate) -> Option<NaiveDate> {
    let text = text.trim();
    let Some(offset) = text.strip_prefix("NOW") else {
        return NaiveDate::parse_from_str(text, "%Y/%m/%d").ok();
    };
    let offset = offset.trim();
    if offset.is_empty() {
        return Some(today);
    }
    let (sign, rest) = match offset.split_at(1) {
        ("+", r) => (1i64, r),
        ("-", r) => (-1i64, r),
        _ => return None,
    };
    let digits = rest.trim_start();
    let split = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let n: i64 = digits[..split].parse().ok()?;
    let unit = digits[split..].trim().to_ascii_uppercase();
    let unit = unit.strip_suffix('S').unwrap_or(&unit);
    let months = |m: i64| -> Option<NaiveDate> {
        let m = Months::new(u32::try_from(m).ok()?);
        if sign > 0 {
            today.checked_add_months(m)
        } else {
            today.checked_sub_months(m)
        }
    };
    match unit {
        "YEAR" => months(n.checked_mul(12)?),
        "MONTH" => months(n),
        "WEEK" => today.checked_add_signed(Duration::try_weeks(sign * n)?),
        "DAY" => today.checked_add_signed(Duration::try_days(sign * n)?),
        // A finer unit: NOW is some instant of today, so the day folder depends on the hour. A start bound is
        // taken at its latest (NOW at the end of today), an end bound at its earliest (NOW at midnight).
        "HOUR" | "MINUTE" | "SECOND" => {
            let seconds = match unit {
                "HOUR" => n.checked_mul(3600)?,
                "MINUTE" => n.checked_mul(60)?,
                _ => n,
            };
            let now = match end {
                Bound::Start => today.and_hms_opt(23, 59, 59)?,
                Bound::End => today.and_hms_opt(0, 0, 0)?,
            };
            Some(
                now.checked_add_signed(Duration::try_seconds(sign * seconds)?)?
                    .date(),
            )
        }
        _ => None,
    }
}

fn log_day_gaps(
    parameters: &BTreeMap<String, String>,
    needed: &Needed<'_>,
    gaps: &mut Vec<String>,
) {
    match property(parameters, "projection.log_day.type") {
        Some(t) if t.eq_ignore_ascii_case("date") => {}
        other => {
            gaps.push(format!(
                "projection.log_day.type is {:?}, not date: the days it projects cannot be checked",
                other.unwrap_or("(not set)")
            ));
            return;
        }
    }
    if property(parameters, "projection.log_day.format") != Some("yyyy/MM/dd") {
        gaps.push(format!(
            "projection.log_day.format is {:?}, not yyyy/MM/dd (the archive's day folders)",
            property(parameters, "projection.log_day.format").unwrap_or("(not set)")
        ));
    }
    let interval = property(parameters, "projection.log_day.interval").unwrap_or("1");
    let unit = property(parameters, "projection.log_day.interval.unit").unwrap_or("DAYS");
    if interval != "1" || !unit.eq_ignore_ascii_case("DAYS") {
        gaps.push(format!(
            "projection.log_day.interval is {interval} {unit}: days between the projected ones are not read"
        ));
    }
    let Some(range) = property(parameters, "projection.log_day.range") else {
        gaps.push("projection.log_day.range is not set".into());
        return;
    };
    let ends = range.split_once(',').and_then(|(a, b)| {
        Some((
            range_end(a, Bound::Start, needed.today)?,
            range_end(b, Bound::End, needed.today)?,
        ))
    });
    let Some((start, end)) = ends else {
        gaps.push(format!(
            "projection.log_day.range {range:?} is not START,END (yyyy/MM/dd or NOW[+-N UNIT])"
        ));
        return;
    };
    if start > needed.first_day {
        gaps.push(format!(
            "projection.log_day.range starts on {}, after the scan's first day {}",
            start.format("%Y/%m/%d"),
            needed.first_day.format("%Y/%m/%d")
        ));
    }
    let must_reach = needed.last_day.min(needed.today);
    if end < must_reach {
        gaps.push(format!(
            "projection.log_day.range ends on {}, before the scan's last day {}",
            end.format("%Y/%m/%d"),
            must_reach.format("%Y/%m/%d")
        ));
    }
}

/// Every way the table with `parameters` would not read all of `needed`; empty when it covers it.
pub fn gaps(parameters: &BTreeMap<String, String>, needed: &Needed<'_>) -> Vec<String> {
    let mut gaps = Vec::new();
    if !property(parameters, "projection.enabled").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        gaps.push(
            "partition projection is not enabled (projection.enabled): the partitions it reads cannot be known"
                .into(),
        );
    }
    // The trail roots of the folders read: one table's template reads exactly one.
    let roots: BTreeSet<String> = needed
        .folders
        .iter()
        .map(|f| root(needed.bucket, needed.prefix, f.org_id.as_deref()))
        .collect();
    if roots.len() > 1 {
        gaps.push(format!(
            "the archive holds {} trail roots ({}) and one table reads one: scan each with its own table, or \
             narrow the scan with --account",
            roots.len(),
            roots.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    match property(parameters, "storage.location.template") {
        None => gaps.push(
            "storage.location.template is not set: the table does not read the archive's layout"
                .into(),
        ),
        Some(template) => {
            let template_root = template
                .strip_suffix(TEMPLATE_TAIL)
                .or_else(|| template.strip_suffix(TEMPLATE_TAIL.trim_end_matches('/')));
            match template_root {
                None => gaps.push(format!(
                    "storage.location.template {template:?} does not end with {TEMPLATE_TAIL}"
                )),
                Some(template_root) => {
                    let archive = root(needed.bucket, needed.prefix, None);
                    let expected: Vec<&String> = roots.iter().collect();
                    let reads_archive = match expected.as_slice() {
                        [] => template_root.starts_with(&archive),
                        list => list.iter().any(|r| r.as_str() == template_root),
                    };
                    if !reads_archive {
                        gaps.push(format!(
                            "storage.location.template reads {template_root}, not the archive's {}",
                            match expected.as_slice() {
                                [] => archive,
                                list => list
                                    .iter()
                                    .map(|r| r.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", "),
                            }
                        ));
                    }
                }
            }
        }
    }
    let archive_accounts: BTreeSet<&str> =
        needed.folders.iter().map(|f| f.account.as_str()).collect();
    let archive_regions: BTreeSet<&str> =
        needed.folders.iter().map(|f| f.region.as_str()).collect();
    for (column, present) in [("account", &archive_accounts), ("region", &archive_regions)] {
        match enum_values(parameters, column) {
            Err(gap) => gaps.push(gap),
            Ok(values) => {
                let missing: Vec<&str> = present.difference(&values).copied().collect();
                if !missing.is_empty() {
                    gaps.push(format!(
                        "projection.{column}.values leaves out {} the archive holds: {}",
                        if column == "account" {
                            "accounts"
                        } else {
                            "regions"
                        },
                        names(&missing)
                    ));
                }
            }
        }
    }
    log_day_gaps(parameters, needed, &mut gaps);
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trail::athena::ddl::{ddl, DdlInput};
    use crate::trail::athena::TableName;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y/%m/%d").expect("day")
    }

    fn folder(org: Option<&str>, account: &str, region: &str) -> ArchiveFolder {
        ArchiveFolder {
            org_id: org.map(str::to_owned),
            account: account.to_owned(),
            region: region.to_owned(),
        }
    }

    /// The TBLPROPERTIES of the DDL gateaudit prints, as Athena's GetTableMetadata returns them.
    fn printed(accounts: &[&str], regions: &[&str], first_day: &str) -> BTreeMap<String, String> {
        let table = TableName::parse("audit.trail").expect("table");
        let accounts: Vec<String> = accounts.iter().map(|a| (*a).to_owned()).collect();
        let regions: Vec<String> = regions.iter().map(|r| (*r).to_owned()).collect();
        let text = ddl(&DdlInput {
            table: &table,
            bucket: "logs",
            prefix: "org",
            org_id: Some("o-abc123"),
            accounts: &accounts,
            regions: &regions,
            first_day,
        });
        let properties = text.split_once("TBLPROPERTIES (").expect("properties").1;
        properties
            .lines()
            .filter_map(|line| {
                let (k, v) = line.trim().trim_end_matches(',').split_once("'='")?;
                Some((
                    k.trim_start_matches('\'').to_owned(),
                    v.trim_end_matches('\'').to_owned(),
                ))
            })
            .collect()
    }

    fn needed<'a>(folders: &'a [ArchiveFolder], first: &str, last: &str) -> Needed<'a> {
        Needed {
            bucket: "logs",
            prefix: "org/",
            folders,
            first_day: day(first),
            last_day: day(last),
            today: day("2026/12/03"),
        }
    }

    const A: &str = "111111111111";
    const B: &str = "222222222222";

    #[test]
    fn the_printed_ddl_covers_the_archive_it_was_printed_for() {
        let folders = [
            folder(Some("o-abc123"), A, "eu-west-1"),
            folder(Some("o-abc123"), B, "us-east-1"),
        ];
        let parameters = printed(&[A, B], &[], "2024/01/01");
        assert_eq!(
            gaps(&parameters, &needed(&folders, "2024/01/01", "2026/12/04")),
            Vec::<String>::new()
        );
    }

    #[test]
    fn an_account_or_region_the_projection_leaves_out_is_a_gap() {
        let folders = [
            folder(Some("o-abc123"), A, "eu-west-1"),
            folder(Some("o-abc123"), B, "eu-west-1"),
            folder(Some("o-abc123"), A, "me-west-9"),
        ];
        let parameters = printed(&[A], &["eu-west-1"], "2024/01/01");
        let found = gaps(&parameters, &needed(&folders, "2025/01/01", "2025/01/31"));
        assert_eq!(
            found,
            vec![
                format!("projection.account.values leaves out accounts the archive holds: {B}"),
                "projection.region.values leaves out regions the archive holds: me-west-9"
                    .to_owned(),
            ]
        );
    }

    #[test]
    fn a_range_that_starts_late_or_ends_early_is_a_gap() {
        let folders = [folder(Some("o-abc123"), A, "eu-west-1")];
        let mut parameters = printed(&[A], &["eu-west-1"], "2025/02/01");
        let found = gaps(&parameters, &needed(&folders, "2025/01/01", "2025/01/31"));
        assert_eq!(
            found,
            vec!["projection.log_day.range starts on 2025/02/01, after the scan's first day 2025/01/01"]
        );
        parameters.insert(
            "projection.log_day.range".into(),
            "2024/01/01,NOW-30DAYS".into(),
        );
        let found = gaps(&parameters, &needed(&folders, "2026/11/01", "2026/11/30"));
        assert_eq!(
            found,
            vec!["projection.log_day.range ends on 2026/11/03, before the scan's last day 2026/11/30"]
        );
        // A last day after today needs the range to reach only today: later folders cannot hold files yet.
        parameters.insert("projection.log_day.range".into(), "2024/01/01,NOW".into());
        assert!(gaps(&parameters, &needed(&folders, "2026/11/01", "2026/12/04")).is_empty());
        parameters.insert("projection.log_day.range".into(), "NOW-1YEARS,NOW".into());
        let found = gaps(&parameters, &needed(&folders, "2025/01/01", "2025/01/31"));
        assert_eq!(
            found,
            vec!["projection.log_day.range starts on 2025/12/03, after the scan's first day 2025/01/01"]
        );
        parameters.insert("projection.log_day.range".into(), "last year".into());
        assert_eq!(
            gaps(&parameters, &needed(&folders, "2025/01/01", "2025/01/31")),
            vec!["projection.log_day.range \"last year\" is not START,END (yyyy/MM/dd or NOW[+-N UNIT])"]
        );
    }

    #[test]
    fn two_trail_roots_or_a_template_elsewhere_is_a_gap() {
        let folders = [
            folder(Some("o-abc123"), A, "eu-west-1"),
            folder(None, B, "eu-west-1"),
        ];
        let parameters = printed(&[A, B], &["eu-west-1"], "2024/01/01");
        let found = gaps(&parameters, &needed(&folders, "2025/01/01", "2025/01/31"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("the archive holds 2 trail roots"),
            "{found:?}"
        );
        // The member trail's folders alone: the table reads the organisation trail's root.
        let found = gaps(
            &parameters,
            &needed(&folders[1..], "2025/01/01", "2025/01/31"),
        );
        assert_eq!(
            found,
            vec!["storage.location.template reads s3://logs/org/AWSLogs/o-abc123/, not the archive's s3://logs/org/AWSLogs/"]
        );
    }

    #[test]
    fn a_table_without_projection_or_of_another_shape_is_a_gap() {
        let folders = [folder(None, A, "eu-west-1")];
        let mut parameters = BTreeMap::new();
        parameters.insert("projection.account.type".to_owned(), "injected".to_owned());
        parameters.insert("projection.log_day.type".to_owned(), "date".to_owned());
        parameters.insert(
            "projection.log_day.format".to_owned(),
            "yyyy-MM-dd".to_owned(),
        );
        parameters.insert("projection.log_day.interval".to_owned(), "2".to_owned());
        parameters.insert(
            "projection.log_day.range".to_owned(),
            "2020/01/01,NOW".to_owned(),
        );
        parameters.insert(
            "storage.location.template".to_owned(),
            "s3://logs/org/AWSLogs/account=${account}/".to_owned(),
        );
        let found = gaps(&parameters, &needed(&folders, "2025/01/01", "2025/01/31"));
        assert_eq!(
            found,
            vec![
                "partition projection is not enabled (projection.enabled): the partitions it reads cannot be known",
                "storage.location.template \"s3://logs/org/AWSLogs/account=${account}/\" does not end with ${account}/CloudTrail/${region}/${log_day}/",
                "projection.account.type is \"injected\": only an enum projection can be checked against the archive",
                "projection.region.type is not set",
                "projection.log_day.format is \"yyyy-MM-dd\", not yyyy/MM/dd (the archive's day folders)",
                "projection.log_day.interval is 2 DAYS: days between the projected ones are not read",
            ]
        );
    }

    #[test]
    fn range_ends_relative_to_now() {
        let today = day("2026/03/31");
        assert_eq!(range_end("NOW", Bound::End, today), Some(today));
        assert_eq!(
            range_end("NOW-1MONTHS", Bound::End, today),
            Some(day("2026/02/28"))
        );
        assert_eq!(
            range_end("NOW - 2 WEEKS", Bound::End, today),
            Some(day("2026/03/17"))
        );
        assert_eq!(
            range_end("NOW+1DAY", Bound::End, today),
            Some(day("2026/04/01"))
        );
        assert_eq!(
            range_end("NOW-36HOURS", Bound::End, today),
            Some(day("2026/03/29"))
        );
        assert_eq!(
            range_end("NOW-36HOURS", Bound::Start, today),
            Some(day("2026/03/30"))
        );
        assert_eq!(
            range_end("2024/02/29", Bound::End, today),
            Some(day("2024/02/29"))
        );
        assert_eq!(range_end("NOW*2", Bound::End, today), None);
        assert_eq!(
            range_end("NOW-99999999999999999999DAYS", Bound::End, today),
            None
        );
        assert_eq!(range_end("NOW-5FORTNIGHTS", Bound::End, today), None);
    }
}
