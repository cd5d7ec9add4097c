//! Configuration and dates are checked before anything is collected: a bad field is a usage error (exit 2) that
//! names the file and the field, and no AWS call is made (the endpoint given here answers nothing).

use std::path::Path;
use std::process::{Command, Output};

fn gateaudit(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gateaudit"))
        .args(args)
        .current_dir(cwd)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "example")
        .output()
        .expect("run gateaudit")
}

const GOOD: &str = r#"
organisation = "Example"
cicd_account = "111111111111"
regions = ["us-east-1"]
endpoint_url = "http://127.0.0.1:9"
[[accounts]]
id = "111111111111"
name = "cicd"
environment = "cicd"
use_base_credentials = true
"#;

#[test]
fn a_bad_configuration_field_is_a_usage_error_naming_file_and_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (change, field) in [
        (
            ("regions = [\"us-east-1\"]", "regions = [\"us-east-one\"]"),
            "regions[0]",
        ),
        (
            (
                "regions = [\"us-east-1\"]",
                "regions = [\"us-east-1\"]\nrole_name = \"CICD Role\"",
            ),
            "role_name",
        ),
        (
            (
                "endpoint_url = \"http://127.0.0.1:9\"",
                "endpoint_url = \"127.0.0.1:9\"",
            ),
            "endpoint_url",
        ),
        (
            (
                "cicd_account = \"111111111111\"",
                "cicd_account = \"222222222222\"",
            ),
            "cicd_account",
        ),
    ] {
        let path = dir.path().join("gateaudit.toml");
        std::fs::write(&path, GOOD.replace(change.0, change.1)).expect("write config");
        for command in ["audit", "collect"] {
            let out = gateaudit(&[command, "--config", "gateaudit.toml"], dir.path());
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{command} {field}: {stderr}");
            assert!(stderr.contains("gateaudit.toml"), "{stderr}");
            assert!(
                stderr.contains(&format!(": {field}: ")),
                "{field}: {stderr}"
            );
        }
    }
    assert!(
        !dir.path().join("reports").exists(),
        "nothing is written for a bad configuration"
    );
}

#[test]
fn a_missing_configuration_or_rule_set_and_a_bad_date_are_usage_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = gateaudit(&["audit", "--config", "absent.toml"], dir.path());
    assert_eq!(
        missing.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
    assert!(String::from_utf8_lossy(&missing.stderr).contains("absent.toml"));
    std::fs::write(
        dir.path().join("gateaudit.toml"),
        format!("policy = \"absent-rules.toml\"\n{GOOD}"),
    )
    .expect("write config");
    let no_rules = gateaudit(&["audit", "--config", "gateaudit.toml"], dir.path());
    assert_eq!(
        no_rules.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&no_rules.stderr)
    );
    assert!(String::from_utf8_lossy(&no_rules.stderr).contains("absent-rules.toml"));
    for date in ["2026-13-01", "yesterday", "2026-02-30"] {
        let out = gateaudit(
            &["audit", "--config", "gateaudit.toml", "--since", date],
            dir.path(),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{date}: {stderr}");
        assert!(stderr.contains(date), "{date}: {stderr}");
    }
}
