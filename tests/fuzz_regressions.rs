//! Inputs that crashed a fuzz target (`ci/fuzz`), kept as regression tests of the normal suite: each must now
//! give a clear error, never a panic.

/// policy_parse: a policy text starting with a multi-byte character was sliced inside it (`γγ & &`).
#[test]
fn a_policy_text_starting_with_multibyte_characters_is_an_error() {
    let crash = "\u{3b3}\u{3b3} & &";
    let err = gateaudit::iam::Policy::parse_str("p", crash).expect_err("not a policy");
    assert!(err.to_string().contains("invalid JSON"), "{err}");
    // The same through the simulator's command line: bad input, exit 2.
    let request = serde_json::json!({
        "request": {"action": "s3:GetObject", "resource": {"resource": "*"}, "principal": "arn:aws:iam::1:user/a"},
        "identityPolicies": [crash],
    });
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gateaudit"))
        .args(["simulate", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(request.to_string().as_bytes())?;
            child.wait_with_output()
        })
        .expect("run gateaudit simulate");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
