//! CloudTrail log files from the archive: damaged, hostile or huge input is unreadable evidence, never a panic,
//! whether it arrives as JSON or as (possibly broken) gzip.
#![no_main]
use chrono::{TimeZone, Utc};
use gateaudit::model::Period;
use gateaudit::rules::RuleSet;
use gateaudit::trail::extract::{extract_file, extract_json, ExtractOptions, FileOutcome};
use gateaudit::trail::Selection;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn rules() -> &'static gateaudit::rules::IdentityRules {
    static RULES: OnceLock<gateaudit::rules::IdentityRules> = OnceLock::new();
    RULES.get_or_init(|| RuleSet::builtin_default().identity)
}

fuzz_target!(|data: &[u8]| {
    let (Some(since), Some(until)) = (
        Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single(),
        Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).single(),
    ) else {
        return;
    };
    let opts = ExtractOptions {
        selection: Selection::All,
        period: Period { since, until },
        hash: true,
        rules: rules(),
        max_uncompressed: 1 << 20,
    };
    let mut out = FileOutcome::new("fuzz", "fuzz");
    extract_json(data, &opts, &mut out);
    let _ = extract_file("fuzz.json.gz", "fuzz.json.gz", data, &opts);
});
