//! `gateaudit completions bash|zsh|fish` and `gateaudit man`: generated from the real command line, each names
//! every subcommand, and the bash script is valid bash (`bash -n`).

mod common;

use std::process::Command;

const SUBCOMMANDS: [&str; 10] = [
    "collect",
    "check",
    "audit",
    "who-can",
    "evidence",
    "trail",
    "verify-report",
    "simulate",
    "completions",
    "man",
];

fn gateaudit(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_gateaudit"))
        .args(args)
        .output()
        .expect("run gateaudit");
    assert!(out.status.success(), "{args:?}: {}", common::text(&out));
    assert!(out.stderr.is_empty(), "{args:?}: {}", common::text(&out));
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn each_completion_script_names_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let script = gateaudit(&["completions", shell]);
        assert!(script.len() > 500, "{shell}: {} bytes", script.len());
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell} completion lacks {sub}");
        }
        // Flags of a subcommand are completed too.
        assert!(script.contains("fail-on"), "{shell}: --fail-on");
    }
}

#[test]
fn the_bash_completion_script_passes_bash_n() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gateaudit.bash");
    std::fs::write(&path, gateaudit(&["completions", "bash"])).expect("write");
    let out = Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("bash");
    assert!(out.status.success(), "bash -n: {}", common::text(&out));
    // And a broken script would fail: the check is real.
    std::fs::write(&path, "_gateaudit() { if then\n").expect("write");
    let out = Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("bash");
    assert!(!out.status.success());
}

#[test]
fn the_man_page_is_roff_naming_every_subcommand() {
    let page = gateaudit(&["man"]);
    assert!(
        page.starts_with(".ie") || page.contains("\n.TH "),
        "roff: {page:.200}"
    );
    assert!(page.contains(".TH gateaudit 1"), "{page:.300}");
    // roff escapes hyphens as \-.
    let text = page.replace("\\-", "-");
    for sub in SUBCOMMANDS {
        assert!(text.contains(sub), "man page lacks {sub}");
    }
    assert!(text.contains("--log-level"), "global flags are documented");
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_gateaudit"))
        .args(["completions", "tcsh"])
        .output()
        .expect("run gateaudit");
    assert_eq!(out.status.code(), Some(2), "{}", common::text(&out));
}
