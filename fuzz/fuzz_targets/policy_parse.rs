//! IAM policy documents from the audited accounts: parsing (and evaluating what parsed) never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(policy) = gateaudit::iam::Policy::parse_str("fuzz", text) {
        // What parses must also be usable: round-trip through the value form.
        let _ = format!("{policy:?}");
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = gateaudit::iam::Policy::parse("fuzz", &value);
    }
});
