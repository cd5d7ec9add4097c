//! What a scheduler sees of a run: with standard error piped, plain lines without terminal escape codes and a
//! final totals line (accounts, findings, elapsed time, and the AWS requests actually sent, counted in the
//! collection's HTTP client); `--quiet` prints nothing but errors; `--log-format json` writes only JSON lines.

mod common;

use common::Demo;

fn audit(demo: &Demo, flags: &[&str]) -> (std::process::Output, String, String) {
    let reports = tempfile::tempdir().expect("tempdir");
    let config = demo.config();
    let mut args: Vec<&str> = flags.to_vec();
    args.extend([
        "audit",
        "--config",
        config.to_str().expect("utf-8"),
        "--out",
        reports.path().to_str().expect("utf-8"),
        "--allow-incomplete",
    ]);
    let out = demo.gateaudit(&args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // The demo has planted violations: exit 3, never an error.
    assert_eq!(out.status.code(), Some(3), "{}", common::text(&out));
    (out, stdout, stderr)
}

#[test]
fn piped_quiet_and_json_output_are_what_schedulers_need() {
    let demo = Demo::seed(false);

    // Piped: plain lines, no escape codes, and the totals last.
    let (out, stdout, stderr) = audit(&demo, &[]);
    assert!(
        !stderr.contains('\u{1b}') && !stdout.contains('\u{1b}'),
        "{}",
        common::text(&out)
    );
    assert!(stderr.contains("gateaudit: accounts: "), "{stderr}");
    assert!(
        stderr.contains("gateaudit: account 444444444444 (prod) complete in "),
        "{stderr}"
    );
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("gateaudit: totals: "), "{stderr}");
    let calls: u64 = last
        .strip_suffix(" API call(s)")
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("API calls in {last}"));
    assert!(calls > 20, "{last}");
    assert!(last.contains(" account(s) ("), "{last}");
    assert!(last.contains(" finding(s) ("), "{last}");
    assert!(
        stdout.contains("result: FAILED"),
        "the summary is on stdout: {stdout}"
    );

    // --quiet: nothing on either stream, the exit code says it.
    let (out, stdout, stderr) = audit(&demo, &["--quiet"]);
    assert!(
        stdout.is_empty() && stderr.is_empty(),
        "{}",
        common::text(&out)
    );

    // --log-format json (with -v, so that log events are there too): every stderr line is a JSON object.
    let (out, _, stderr) = audit(&demo, &["--log-format", "json", "-v"]);
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["fields"]["message"] == "collecting"),
        "{}",
        common::text(&out)
    );
    let totals = lines.last().expect("lines");
    assert_eq!(totals["event"], "totals", "{totals}");
    assert!(totals["api_calls"].as_u64().unwrap_or(0) > 20, "{totals}");
    assert!(totals["accounts"].as_u64().unwrap_or(0) >= 4, "{totals}");
    assert!(totals["findings"].as_u64().unwrap_or(0) > 0, "{totals}");
}
