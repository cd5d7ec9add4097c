//! AWS partitions as the region names them: the ARN prefix (`aws`, `aws-cn`, `aws-us-gov`) and the region where
//! CloudTrail records the partition's global services (IAM, Organizations, CloudFront, console sign-in).
//!
//! Pure lookups on a region name; no AWS calls.

/// Event sources CloudTrail records in the partition's global region only, whatever region the caller used.
/// (STS is regional unless called at its global endpoint; its AssumeRole events are read in every region.)
pub const GLOBAL_EVENT_SOURCES: &[&str] = &[
    "iam.amazonaws.com",
    "organizations.amazonaws.com",
    "cloudfront.amazonaws.com",
    "signin.amazonaws.com",
];

/// One AWS partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// The ARN prefix: `arn:<name>:...`.
    pub name: &'static str,
    /// Where CloudTrail records the partition's global-service events.
    pub global_region: &'static str,
}

const PARTITIONS: &[(&str, Partition)] = &[
    (
        "cn-",
        Partition {
            name: "aws-cn",
            global_region: "cn-north-1",
        },
    ),
    (
        "us-gov-",
        Partition {
            name: "aws-us-gov",
            global_region: "us-gov-west-1",
        },
    ),
    (
        "us-isob-",
        Partition {
            name: "aws-iso-b",
            global_region: "us-isob-east-1",
        },
    ),
    (
        "us-iso-",
        Partition {
            name: "aws-iso",
            global_region: "us-iso-east-1",
        },
    ),
];

const COMMERCIAL: Partition = Partition {
    name: "aws",
    global_region: "us-east-1",
};

/// The partition a region belongs to (commercial unless its name says otherwise).
pub fn partition_of(region: &str) -> Partition {
    PARTITIONS
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map(|(_, p)| *p)
        .unwrap_or(COMMERCIAL)
}

/// Whether CloudTrail records this event source in the global region only.
pub fn is_global_event_source(source: &str) -> bool {
    GLOBAL_EVENT_SOURCES.contains(&source)
}

/// The global regions of the partitions of `regions` that are not among them: where global-service events of
/// those partitions must be read in addition.
pub fn missing_global_regions(regions: &[String]) -> Vec<String> {
    let mut missing: Vec<String> = Vec::new();
    for region in regions {
        let global = partition_of(region).global_region;
        if !regions.iter().any(|r| r == global) && !missing.iter().any(|m| m == global) {
            missing.push(global.to_owned());
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_name_their_partition_and_global_region() {
        assert_eq!(partition_of("eu-west-1").name, "aws");
        assert_eq!(partition_of("eu-west-1").global_region, "us-east-1");
        assert_eq!(partition_of("cn-northwest-1").name, "aws-cn");
        assert_eq!(partition_of("cn-northwest-1").global_region, "cn-north-1");
        assert_eq!(partition_of("us-gov-east-1").name, "aws-us-gov");
        assert_eq!(partition_of("us-gov-east-1").global_region, "us-gov-west-1");
        assert_eq!(partition_of("us-isob-east-1").name, "aws-iso-b");
    }

    #[test]
    fn the_global_region_is_added_once_when_not_configured() {
        let configured = vec!["eu-west-1".to_owned(), "eu-central-1".to_owned()];
        assert_eq!(missing_global_regions(&configured), vec!["us-east-1"]);
        let with_it = vec!["eu-west-1".to_owned(), "us-east-1".to_owned()];
        assert!(missing_global_regions(&with_it).is_empty());
        let gov = vec!["us-gov-east-1".to_owned()];
        assert_eq!(missing_global_regions(&gov), vec!["us-gov-west-1"]);
    }

    #[test]
    fn a_pipeline_arn_carries_its_region_partition() {
        let pipeline = crate::model::Pipeline {
            name: "app".into(),
            account_id: "111111111111".into(),
            region: "cn-northwest-1".into(),
            ..Default::default()
        };
        assert_eq!(
            pipeline.action_arn("Gate", "Check"),
            "arn:aws-cn:codepipeline:cn-northwest-1:111111111111:app/Gate/Check"
        );
    }

    #[test]
    fn a_govcloud_snapshot_builds_aws_us_gov_arns() {
        let mut org = crate::checks::testkit::Org::two_person_pipeline();
        org.snapshot.regions = vec!["us-gov-west-1".into()];
        assert_eq!(org.snapshot.partition(), "aws-us-gov");
        org.snapshot.regions = vec!["eu-west-1".into()];
        assert_eq!(org.snapshot.partition(), "aws");
    }

    #[test]
    fn iam_and_organizations_are_global_codepipeline_is_not() {
        assert!(is_global_event_source("iam.amazonaws.com"));
        assert!(is_global_event_source("organizations.amazonaws.com"));
        assert!(!is_global_event_source("codepipeline.amazonaws.com"));
        assert!(!is_global_event_source("sts.amazonaws.com"));
    }
}
