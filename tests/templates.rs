//! The CI and scheduling templates (`ci/templates/`): the StackSet's audit role carries exactly the published
//! read-only policy and trusts only the auditing account; that policy can change nothing, proved over the IAM
//! action catalog (`src/iam/catalog-actions.tsv`); and the template linter (`ci/lint-templates`,
//! `ci/check-buildspec.py`) refuses what it must. `ci/test` runs the linter on the shipped templates itself.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use gateaudit::collect::operations::SESSION_ONLY;
use gateaudit::iam::catalog::Catalog;
use serde_json::{json, Value};

const STACKSET: &str = "ci/templates/cloudformation/audit-role-stackset.cfn.yaml";
const POLICY: &str = "policies/auditor-iam-policy.json";

/// A CloudFormation template as CloudFormation reads it (`!Sub x` becomes `{"Fn::Sub": x}`), through cfn-lint's
/// decoder, as JSON.
fn template(path: &str) -> Value {
    let script = "import json, sys\n\
                  from cfnlint.decode import decode\n\
                  t, m = decode(sys.argv[1])\n\
                  if m: sys.exit('\\n'.join(map(str, m)))\n\
                  print(json.dumps(t))";
    serde_json::from_slice(&common::run_python(script, &[path])).expect("decoded template is JSON")
}

fn one_or_many(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// The template's only IAM role, after checking that nothing else grants it permissions.
fn audit_role(t: &Value) -> &Value {
    let resources = t["Resources"].as_object().expect("Resources");
    let roles: Vec<&Value> = resources
        .values()
        .filter(|r| r["Type"] == "AWS::IAM::Role")
        .collect();
    assert_eq!(roles.len(), 1, "one role in {STACKSET}");
    for (name, r) in resources {
        let kind = r["Type"].as_str().unwrap_or_default();
        assert!(
            !matches!(
                kind,
                "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" | "AWS::IAM::RolePolicy"
            ),
            "{name} ({kind}) would add permissions beside the published policy"
        );
    }
    &roles[0]["Properties"]
}

#[test]
fn the_stackset_role_policy_is_exactly_the_published_auditor_policy() {
    let t = template(STACKSET);
    let role = audit_role(&t);
    assert_eq!(role["RoleName"], "CICDCrossAccountRole");
    assert!(
        role.get("ManagedPolicyArns").is_none(),
        "managed policies would add permissions: {}",
        role["ManagedPolicyArns"]
    );
    let policies = role["Policies"].as_array().expect("Policies");
    assert_eq!(policies.len(), 1, "exactly one inline policy");
    let deployed = &policies[0]["PolicyDocument"];
    let published = common::read_json(&common::repo().join(POLICY));
    assert_eq!(deployed["Version"], published["Version"]);
    let (deployed, published) = (
        deployed["Statement"]
            .as_array()
            .expect("template statements"),
        published["Statement"]
            .as_array()
            .expect("published statements"),
    );
    assert_eq!(deployed.len(), published.len(), "number of statements");
    for (d, p) in deployed.iter().zip(published) {
        assert_eq!(d, p, "statement {} differs from {POLICY}", p["Sid"]);
    }
    assert_eq!(
        policies[0]["PolicyDocument"],
        common::read_json(&common::repo().join(POLICY)),
        "the whole document"
    );
}

#[test]
fn the_stackset_role_trusts_only_the_auditing_account() {
    let t = template(STACKSET);
    let trust = &audit_role(&t)["AssumeRolePolicyDocument"];
    let statements = trust["Statement"].as_array().expect("trust statements");
    assert!(!statements.is_empty());
    for s in statements {
        assert_eq!(s["Effect"], "Allow");
        assert_eq!(s["Action"], "sts:AssumeRole");
        let principal = s["Principal"].as_object().expect("Principal is a map");
        assert_eq!(
            principal.keys().collect::<Vec<_>>(),
            ["AWS"],
            "only AWS principals"
        );
        assert_eq!(
            principal["AWS"],
            json!({"Fn::Sub": "arn:${AWS::Partition}:iam::${AuditingAccountId}:root"})
        );
    }
    assert_eq!(
        t["Parameters"]["AuditingAccountId"]["AllowedPattern"],
        "^[0-9]{12}$"
    );
}

/// Every action a policy's Allow statements grant that the catalog classes Write, Permissions management or
/// Tagging, with the statement's resources; an error for what cannot be proved (an action or a pattern the
/// catalog does not know, a `NotAction`, an Allow without actions).
fn mutating_actions(policy: &Value) -> Result<Vec<(String, String, Vec<String>)>, String> {
    let catalog = Catalog::global();
    let mut found = Vec::new();
    for s in one_or_many(&policy["Statement"]) {
        if s["Effect"] == "Deny" {
            continue;
        }
        if s["Effect"] != "Allow" {
            return Err(format!("statement {}: Effect {}", s["Sid"], s["Effect"]));
        }
        if s.get("NotAction").is_some() {
            return Err(format!(
                "statement {}: NotAction grants nearly all",
                s["Sid"]
            ));
        }
        let resources: Vec<String> = one_or_many(&s["Resource"])
            .into_iter()
            .map(|r| r.as_str().unwrap_or("?").to_owned())
            .collect();
        let actions = one_or_many(&s["Action"]);
        if actions.is_empty() {
            return Err(format!("statement {}: no Action", s["Sid"]));
        }
        for a in actions {
            let a = a
                .as_str()
                .ok_or_else(|| format!("statement {}: action {a} is not a string", s["Sid"]))?;
            let matched: Vec<_> = if a.contains(['*', '?']) {
                catalog.expand(a).collect()
            } else {
                catalog.lookup(a).into_iter().collect()
            };
            if matched.is_empty() {
                return Err(format!("{a} is not in the IAM action catalog"));
            }
            for info in matched.into_iter().filter(|i| i.is_mutating()) {
                found.push((
                    info.full_name().to_owned(),
                    info.access_level.as_str().to_owned(),
                    resources.clone(),
                ));
            }
        }
    }
    Ok(found)
}

#[test]
fn the_published_auditor_policy_holds_no_write_permissions_management_or_tagging_action() {
    let published = common::read_json(&common::repo().join(POLICY));
    let deployed = template(STACKSET)["Resources"]["AuditRole"]["Properties"]["Policies"][0]
        ["PolicyDocument"]
        .clone();
    for (what, policy) in [(POLICY, &published), (STACKSET, &deployed)] {
        let mutating = mutating_actions(policy).unwrap_or_else(|e| panic!("{what}: {e}"));
        // The one exception, as in src/collect/operations.rs: the catalog classes sts:AssumeRole Write because it
        // creates a session; it changes nothing in the account, and only the named audit roles may be assumed.
        let names: BTreeSet<&str> = mutating.iter().map(|(a, _, _)| a.as_str()).collect();
        let allowed: BTreeSet<&str> = SESSION_ONLY.iter().copied().collect();
        assert_eq!(
            names, allowed,
            "{what}: mutating actions beyond the session-only ones: {mutating:?}"
        );
        for (action, level, resources) in &mutating {
            assert_eq!(level, "Write", "{action}");
            for r in resources {
                let role = r.strip_prefix("arn:aws:iam::*:role/").unwrap_or("");
                assert!(
                    !role.is_empty() && !role.contains(['*', '?']),
                    "{what}: {action} on {r}: only named roles may be assumed"
                );
            }
        }
    }
}

/// The Athena engine's policy (for the logging account, never an audited one) may change only what running a
/// query changes: the query's own state in the named workgroup and its results under the results prefix. The
/// trail bucket is read only, and every Athena call the engine makes is granted.
#[test]
fn the_athena_policy_writes_only_query_state_and_results_and_grants_every_call_the_engine_makes() {
    const ATHENA_POLICY: &str = "policies/auditor-athena-policy.json";
    let policy = common::read_json(&common::repo().join(ATHENA_POLICY));
    let mutating = mutating_actions(&policy).unwrap_or_else(|e| panic!("{ATHENA_POLICY}: {e}"));
    for (action, _, resources) in &mutating {
        for r in resources {
            let allowed = match action.as_str() {
                "athena:StartQueryExecution" | "athena:StopQueryExecution" => {
                    r.starts_with("arn:aws:athena:") && r.ends_with(":workgroup/WORKGROUP")
                }
                "s3:PutObject" | "s3:AbortMultipartUpload" => {
                    r == "arn:aws:s3:::RESULTS_BUCKET/RESULTS_PREFIX/*"
                }
                _ => false,
            };
            assert!(
                allowed,
                "{ATHENA_POLICY}: {action} on {r}: only query state and results may change"
            );
        }
    }
    let names: BTreeSet<&str> = mutating.iter().map(|(a, _, _)| a.as_str()).collect();
    assert!(
        names.contains("athena:StartQueryExecution"),
        "the catalog classes starting a query Write: {names:?}"
    );
    // What src/collect/athena.rs calls, by the SDK's method names, must be granted (a call missing here would
    // fail in an account set up from the published policy).
    let source = std::fs::read_to_string(common::repo().join("src/collect/athena.rs"))
        .expect("src/collect/athena.rs");
    let granted: BTreeSet<String> = one_or_many(&policy["Statement"])
        .into_iter()
        .flat_map(|s| one_or_many(&s["Action"]))
        .filter_map(|a| a.as_str().map(str::to_owned))
        .collect();
    let mut calls = 0;
    for (method, action) in [
        ("start_query_execution", "athena:StartQueryExecution"),
        ("get_query_execution", "athena:GetQueryExecution"),
        ("get_query_results", "athena:GetQueryResults"),
        ("stop_query_execution", "athena:StopQueryExecution"),
        ("get_table_metadata", "athena:GetTableMetadata"),
    ] {
        if source.contains(&format!(".{method}()")) {
            calls += 1;
            assert!(granted.contains(action), "{ATHENA_POLICY} lacks {action}");
        }
    }
    assert_eq!(
        calls, 5,
        "the engine's five Athena calls were found in the source"
    );
    for r in one_or_many(&policy["Statement"])
        .into_iter()
        .filter(|s| {
            one_or_many(&s["Resource"])
                .iter()
                .any(|r| r.as_str().is_some_and(|r| r.contains("TRAIL_BUCKET")))
        })
        .flat_map(|s| one_or_many(&s["Action"]))
    {
        let a = r.as_str().unwrap_or_default();
        assert!(
            ["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"].contains(&a),
            "{ATHENA_POLICY}: the trail bucket is read only, not {a}"
        );
    }
}

#[test]
fn the_read_only_proof_refuses_what_it_must() {
    let policy = |statement: Value| json!({"Version": "2012-10-17", "Statement": [statement]});
    let found = mutating_actions(&policy(
        json!({"Effect": "Allow", "Action": "s3:Put*", "Resource": "*"}),
    ))
    .expect("known pattern");
    let levels: BTreeSet<(&str, &str)> = found
        .iter()
        .map(|(a, l, _)| (a.as_str(), l.as_str()))
        .collect();
    for expected in [
        ("s3:PutObject", "Write"),
        ("s3:PutBucketPolicy", "Permissions management"),
        ("s3:PutObjectTagging", "Tagging"),
    ] {
        assert!(levels.contains(&expected), "{expected:?} in {levels:?}");
    }
    let all = mutating_actions(&policy(
        json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    ))
    .expect("*");
    assert!(all.len() > 10_000, "{}", all.len());
    assert!(mutating_actions(&policy(
        json!({"Effect": "Deny", "Action": "*", "Resource": "*"})
    ))
    .expect("deny")
    .is_empty());
    let err = |statement| mutating_actions(&policy(statement)).expect_err("refused");
    assert!(
        err(json!({"Effect": "Allow", "Action": "s3:GetNoSuchThing", "Resource": "*"}))
            .contains("s3:GetNoSuchThing is not in the IAM action catalog")
    );
    assert!(
        err(json!({"Effect": "Allow", "Action": "s3:NoSuch*", "Resource": "*"}))
            .contains("not in the IAM action catalog")
    );
    assert!(
        err(json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))
            .contains("NotAction")
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn lint_templates(env: &[(&str, &Path)]) -> std::process::Output {
    let mut cmd = Command::new("bash");
    cmd.arg("ci/lint-templates").current_dir(common::repo());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run ci/lint-templates")
}

#[test]
fn lint_templates_fails_when_a_linter_is_missing() {
    let bin = tempfile::tempdir().expect("tempdir");
    let out = lint_templates(&[("LINT_BIN", bin.path())]);
    assert!(!out.status.success(), "{}", common::text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cfn-lint is missing"),
        "{}",
        common::text(&out)
    );
    // cfn-lint and python there, actionlint not.
    let venv = common::repo().join(".venv/bin");
    for tool in ["cfn-lint", "python"] {
        std::os::unix::fs::symlink(venv.join(tool), bin.path().join(tool)).expect("symlink");
    }
    let out = lint_templates(&[("LINT_BIN", bin.path())]);
    assert!(!out.status.success(), "{}", common::text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("actionlint is missing"),
        "{}",
        common::text(&out)
    );
}

#[test]
fn lint_templates_fails_on_a_broken_template_of_each_kind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let templates = dir.path().join("templates");
    copy_dir(&common::repo().join("ci/templates"), &templates);
    let edit = |file: &str, from: &str, to: &str| {
        let path = templates.join(file);
        let text = std::fs::read_to_string(&path).expect("template");
        assert!(text.contains(from), "{file} has {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
    };
    edit(
        "cloudformation/scheduled-audit.cfn.yaml",
        "Type: AWS::Events::Rule",
        "Type: AWS::Events::Rules",
    );
    edit("github/gateaudit.yml", "runs-on: ubuntu-latest", "");
    edit(
        "codebuild/buildspec.yml",
        "      - gateaudit --log-format json audit",
        "      - if then gateaudit --log-format json audit",
    );
    let out = lint_templates(&[("TEMPLATES", &templates)]);
    let text = common::text(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("AWS::Events::Rules"), "cfn-lint: {text}");
    assert!(text.contains("runs-on"), "actionlint: {text}");
    assert!(
        text.contains("buildspec.yml: phases.build.commands[0]: bash -n"),
        "buildspec: {text}"
    );
    assert!(text.contains("ci/lint-templates: FAILED"), "{text}");
}

#[test]
fn the_buildspec_checker_refuses_what_codebuild_would() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo ok\n";
    let cases = [
        ("good.yml", good.to_owned(), None),
        (
            "version.yml",
            good.replace("0.2", "0.1"),
            Some("version must be 0.2"),
        ),
        (
            "nobuild.yml",
            good.replace("build:", "post_build:"),
            Some("no build phase"),
        ),
        (
            "syntax.yml",
            good.replace("echo ok", "'for x in; do'"),
            Some("bash -n"),
        ),
        (
            "empty.yml",
            good.replace("      - echo ok\n", "      []\n"),
            Some("non-empty list"),
        ),
        (
            "key.yml",
            format!("{good}artefacts:\n  files: ['**/*']\n"),
            Some("unknown top-level key 'artefacts'"),
        ),
        (
            "report.yml",
            format!("{good}reports:\n  r:\n    file-format: JUNIT\n    files: [a.xml]\n"),
            Some("reports.r.file-format: unknown 'JUNIT'"),
        ),
        ("yaml.yml", "version: [0.2\n".to_owned(), Some("YAML")),
    ];
    let mut args = vec!["ci/check-buildspec.py".to_owned()];
    for (name, text, _) in &cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        args.push(path.display().to_string());
    }
    let out = Command::new(common::python())
        .args(&args)
        .current_dir(common::repo())
        .output()
        .expect("run check-buildspec.py");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    for (name, _, problem) in &cases {
        let path = dir.path().join(name).display().to_string();
        let verdict = if problem.is_some() { "INVALID" } else { "ok" };
        assert!(
            stdout.lines().any(|l| l == format!("{path}: {verdict}")),
            "{name}: {verdict}\n{stdout}{stderr}"
        );
        if let Some(problem) = problem {
            assert!(
                stderr
                    .lines()
                    .any(|l| l.starts_with(&path) && l.contains(problem)),
                "{name}: {problem}\n{stderr}"
            );
        }
    }
}
