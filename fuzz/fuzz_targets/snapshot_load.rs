//! Saved snapshots (an auditor re-checks one offline): a damaged or hostile file is a clear error naming it.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(snapshot) = gateaudit::model::Snapshot::from_bytes(data, "fuzz.json") {
        // What loads must be usable by the checks.
        let rules = gateaudit::rules::RuleSet::builtin_default();
        let _ =
            gateaudit::audit::evaluate(&snapshot, &rules, &gateaudit::waivers::Waivers::default());
    }
});
