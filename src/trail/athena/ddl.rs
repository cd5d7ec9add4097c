//! The `CREATE EXTERNAL TABLE` statement of the raw CloudTrail table the Athena engine queries: one row per log
//! file (column `line`, the whole JSON document), partitions `account`, `region` and `log_day` computed by
//! partition projection from the archive layout (no crawler, no `MSCK REPAIR`), digests and Insights folders left
//! out by the location template.
//!
//! Pure text: prints, never runs anything.

use super::{literal, TableName};
use crate::trail::layout::normalise_prefix;

/// Where the archive is and what it holds.
#[derive(Debug, Clone)]
pub struct DdlInput<'a> {
    pub table: &'a TableName,
    pub bucket: &'a str,
    pub prefix: &'a str,
    /// For an organisation trail: `o-...`.
    pub org_id: Option<&'a str>,
    /// Accounts and regions the projection enumerates (a query may name only these).
    pub accounts: &'a [String],
    pub regions: &'a [String],
    /// First day of the projected range, `yyyy/MM/dd`.
    pub first_day: &'a str,
}

/// The regions projected when none are given: the commercial regions CloudTrail delivers from.
pub const DEFAULT_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// `s3://bucket/[prefix/]AWSLogs/[o-org/]`.
pub fn root(bucket: &str, prefix: &str, org_id: Option<&str>) -> String {
    let org = org_id.map(|o| format!("{o}/")).unwrap_or_default();
    format!("s3://{bucket}/{}AWSLogs/{org}", normalise_prefix(prefix))
}

pub fn ddl(input: &DdlInput<'_>) -> String {
    let root = root(input.bucket, input.prefix, input.org_id);
    let regions = if input.regions.is_empty() {
        DEFAULT_REGIONS.join(",")
    } else {
        input.regions.join(",")
    };
    let props = [
        ("projection.enabled", "true".to_owned()),
        ("projection.account.type", "enum".to_owned()),
        ("projection.account.values", input.accounts.join(",")),
        ("projection.region.type", "enum".to_owned()),
        ("projection.region.values", regions),
        ("projection.log_day.type", "date".to_owned()),
        ("projection.log_day.format", "yyyy/MM/dd".to_owned()),
        (
            "projection.log_day.range",
            format!("{},NOW", input.first_day),
        ),
        ("projection.log_day.interval", "1".to_owned()),
        ("projection.log_day.interval.unit", "DAYS".to_owned()),
        (
            "storage.location.template",
            format!("{root}${{account}}/CloudTrail/${{region}}/${{log_day}}/"),
        ),
    ];
    let props: Vec<String> = props
        .iter()
        .map(|(k, v)| format!("  {}={}", literal(k), literal(v)))
        .collect();
    format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS `{db}`.`{table}` (\n  `line` string\n)\n\
         PARTITIONED BY (`account` string, `region` string, `log_day` string)\n\
         ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\001' LINES TERMINATED BY '\\n'\n\
         STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'\n\
         OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n\
         LOCATION {location}\n\
         TBLPROPERTIES (\n{props}\n);\n",
        db = input.table.database,
        table = input.table.table,
        location = literal(&root),
        props = props.join(",\n"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ddl_projects_the_archive_layout() {
        let t = TableName::parse("audit.trail").expect("t");
        let accounts = vec!["111111111111".to_owned(), "222222222222".to_owned()];
        let text = ddl(&DdlInput {
            table: &t,
            bucket: "logs",
            prefix: "/org/",
            org_id: Some("o-abc123"),
            accounts: &accounts,
            regions: &[],
            first_day: "2024/01/01",
        });
        assert!(text.starts_with("CREATE EXTERNAL TABLE IF NOT EXISTS `audit`.`trail`"));
        assert!(text.contains("LOCATION 's3://logs/org/AWSLogs/o-abc123/'"));
        assert!(text.contains("'storage.location.template'='s3://logs/org/AWSLogs/o-abc123/${account}/CloudTrail/${region}/${log_day}/'"));
        assert!(text.contains("'projection.account.values'='111111111111,222222222222'"));
        assert!(text.contains("'projection.log_day.range'='2024/01/01,NOW'"));
        assert!(text.contains("us-east-1,us-east-2"));
        assert_eq!(
            root("b", "", None),
            "s3://b/AWSLogs/",
            "an account trail without prefix"
        );
    }
}
