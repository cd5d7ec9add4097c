//! Configuration files: any text parses to a valid configuration or a clear error naming the field.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = gateaudit::config::Config::parse(text, "fuzz.toml");
});
