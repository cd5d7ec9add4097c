//! Approval-record keys listed from S3: any key parses or is left unparsed, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = gateaudit::collect::records::parse_record_key(text, "PipelineApprovalGateActions/");
    let _ = gateaudit::collect::records::parse_record_key(text, "");
    if let Some((prefix, key)) = text.split_once('\n') {
        let _ = gateaudit::collect::records::parse_record_key(key, prefix);
    }
});
