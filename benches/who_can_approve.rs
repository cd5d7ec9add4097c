//! Benchmark (not a test): who can approve each of 1,000 approval actions in a synthetic organisation of 5,000
//! principals. Prints the time of evaluating every (principal, action) pair, the time of `who_can` (sharing
//! groups evaluated once, and its statement prefilter), the speed-up, the evaluations avoided, whether both
//! answer identically (exit 1 if not), and the ratio to a baseline measured in the same run: the bare cost of wildcard-matching each principal's
//! approval resource pattern against each action ARN.
//!
//! Run: `cargo bench --bench who_can_approve` (release build).

use std::time::Instant;

use gateaudit::analysis::access::AccessModel;
use gateaudit::model::*;
use gateaudit::rules::RuleSet;

const ACCOUNT: &str = "111111111111";
const PIPELINES: usize = 250; // x 2 stages x 2 approval actions = 1,000 approval actions
const USERS: usize = 4_000;
const ROLES: usize = 1_000;
const GROUPS: usize = 100;

fn doc(statements: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"Version": "2012-10-17", "Statement": statements})
}

fn approval_pattern(i: usize) -> String {
    // Mixed shapes: per-action-name, per-pipeline, per-stage, with and without wildcards.
    match i % 4 {
        0 => format!(
            "arn:aws:codepipeline:us-east-1:{ACCOUNT}:*/*/Approval{}",
            if i % 8 == 0 { "A" } else { "B" }
        ),
        1 => format!(
            "arn:aws:codepipeline:us-east-1:{ACCOUNT}:app-{}/*",
            i % PIPELINES
        ),
        2 => format!(
            "arn:aws:codepipeline:us-east-1:{ACCOUNT}:app-{}/Prod*/Approval?",
            i % PIPELINES
        ),
        _ => format!("arn:aws:codepipeline:*:{ACCOUNT}:app-{}*/Gate/*", i % 10),
    }
}

fn snapshot() -> Snapshot {
    let mut iam = IamSnapshot::default();
    for g in 0..GROUPS {
        iam.groups.push(IamGroup {
            name: format!("group-{g}"),
            arn: format!("arn:aws:iam::{ACCOUNT}:group/group-{g}"),
            attached_policies: vec![],
            inline_policies: vec![InlinePolicy {
                name: "approve".into(),
                document: doc(serde_json::json!([
                    {"Effect": "Allow", "Action": ["codepipeline:Get*", "codepipeline:List*"], "Resource": "*"},
                    {"Effect": "Allow", "Action": "codepipeline:PutApprovalResult", "Resource": approval_pattern(g),
                     "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}
                ])),
            }],
        });
    }
    for u in 0..USERS {
        iam.users.push(IamUser {
            name: format!("user-{u}"),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/user-{u}"),
            groups: vec![
                format!("group-{}", u % GROUPS),
                format!("group-{}", (u * 7) % GROUPS),
            ],
            inline_policies: if u % 10 == 0 {
                vec![InlinePolicy {
                    name: "deny-prod".into(),
                    document: doc(
                        serde_json::json!([{"Effect": "Deny", "Action": "codepipeline:*",
                        "Resource": format!("arn:aws:codepipeline:*:*:app-{}/*", u % PIPELINES)}]),
                    ),
                }]
            } else {
                vec![]
            },
            ..IamUser::default()
        });
    }
    for r in 0..ROLES {
        iam.roles.push(IamRole {
            name: format!("role-{r}"),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/role-{r}"),
            trust_policy: doc(serde_json::json!([{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole"}])),
            inline_policies: vec![InlinePolicy {
                name: "work".into(),
                document: doc(serde_json::json!([
                    {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "NotResource": format!("arn:aws:codepipeline:*:*:app-{}/*", r % PIPELINES)},
                    {"Effect": "Allow", "Action": "codepipeline:PutApprovalResult", "Resource": approval_pattern(r + 3)}
                ])),
            }],
            ..IamRole::default()
        });
    }
    let action = |name: &str| PipelineAction {
        name: name.into(),
        category: "Approval".into(),
        owner: "AWS".into(),
        provider: "Manual".into(),
        run_order: 1,
        ..PipelineAction::default()
    };
    let pipelines = (0..PIPELINES)
        .map(|p| Pipeline {
            name: format!("app-{p}"),
            region: "us-east-1".into(),
            account_id: ACCOUNT.into(),
            version: 1,
            role_arn: format!("arn:aws:iam::{ACCOUNT}:role/pipeline"),
            stages: ["Gate", "ProdGate"]
                .iter()
                .map(|s| Stage {
                    name: (*s).into(),
                    actions: vec![action("ApprovalA"), action("ApprovalB")],
                    ..Stage::default()
                })
                .collect(),
            ..Pipeline::default()
        })
        .collect();
    let now = chrono::Utc::now();
    Snapshot {
        schema_version: SCHEMA_VERSION,
        tool_version: "bench".into(),
        run_id: "bench".into(),
        organisation: "bench".into(),
        collected_at: now,
        period: Period {
            since: now - chrono::Duration::days(1),
            until: now,
        },
        cicd_account: ACCOUNT.into(),
        regions: vec!["us-east-1".into()],
        rule_set: "default".into(),
        rule_set_source: String::new(),
        declared_deployment_roles: vec![],
        approval_record_buckets: vec![],
        trail_buckets: vec![],
        organization: None,
        identity_center: None,
        accounts: vec![AccountSnapshot {
            account_id: ACCOUNT.into(),
            name: "bench".into(),
            environment: "prod".into(),
            iam: Some(iam),
            pipelines,
            ..AccountSnapshot::default()
        }],
    }
}

fn main() {
    let snapshot = snapshot();
    let rules = RuleSet::builtin_default();
    let started = Instant::now();
    let access = AccessModel::new(&snapshot, &rules);
    let parse_time = started.elapsed();
    let arns: Vec<String> = snapshot.accounts[0]
        .pipelines
        .iter()
        .flat_map(|p| {
            p.stages.iter().flat_map(move |s| {
                s.actions
                    .iter()
                    .map(move |a| p.action_arn(&s.name, &a.name))
            })
        })
        .collect();
    let principals = access.principals.len();
    println!(
        "synthetic organisation: {principals} principals, {} approval actions, {GROUPS} groups",
        arns.len()
    );
    println!(
        "parsing every policy: {:.1} ms",
        parse_time.as_secs_f64() * 1e3
    );

    // Baseline: wildcard-match one resource pattern per principal against every action ARN (no evaluator).
    let patterns: Vec<wildmatch::WildMatch> = (0..principals)
        .map(|i| wildmatch::WildMatch::new(&approval_pattern(i)))
        .collect();
    let started = Instant::now();
    let mut matched = 0usize;
    for arn in &arns {
        matched += patterns.iter().filter(|p| p.matches(arn)).count();
    }
    let baseline = started.elapsed();

    // Reference: evaluate every principal for every action. Both timings cover the answers only; turning them
    // into comparable text happens afterwards, untimed.
    let started = Instant::now();
    let reference_grants: Vec<_> = arns
        .iter()
        .map(|arn| access.who_can_exhaustive(ACCOUNT, "codepipeline:PutApprovalResult", arn))
        .collect();
    let exhaustive = started.elapsed();

    // who-can as the audit runs it: sharing groups evaluated once, the prefilter, then the evaluator.
    let started = Instant::now();
    let fast_grants: Vec<_> = arns
        .iter()
        .map(|arn| access.who_can(ACCOUNT, "codepipeline:PutApprovalResult", arn))
        .collect();
    let elapsed = started.elapsed();
    let counts = access.who_can_counts();
    let grants: usize = fast_grants.iter().map(Vec::len).sum();
    let reference: Vec<Vec<String>> = reference_grants.into_iter().map(answers).collect();
    let fast: Vec<Vec<String>> = fast_grants.into_iter().map(answers).collect();
    let same = fast == reference;
    let pairs = (principals * arns.len()) as f64;
    let avoided = counts.avoided_no_allow + counts.shared + counts.reused;
    println!(
        "baseline (bare pattern matching, 1 core): {:.2} s, {matched} matches",
        baseline.as_secs_f64()
    );
    println!(
        "evaluating every pair: {:.2} s, {:.0} evaluations/s",
        exhaustive.as_secs_f64(),
        pairs / exhaustive.as_secs_f64()
    );
    println!(
        "who-can-approve: {:.3} s, {grants} grants; {} evaluations made, {avoided} avoided ({:.2}%): {} without a \
         possible Allow, {} carried over within a sharing group, {} reused from a gate matched alike",
        elapsed.as_secs_f64(),
        counts.evaluated,
        100.0 * avoided as f64 / (counts.evaluated + avoided).max(1) as f64,
        counts.avoided_no_allow,
        counts.shared,
        counts.reused
    );
    println!(
        "speed-up over evaluating every pair: {:.1}x; ratio to the baseline: {:.1}x; target < 1 s: {}",
        exhaustive.as_secs_f64() / elapsed.as_secs_f64().max(1e-9),
        elapsed.as_secs_f64() / baseline.as_secs_f64().max(1e-9),
        if elapsed.as_secs_f64() < 1.0 { "met" } else { "NOT met" }
    );
    println!(
        "answers identical to evaluating every pair: {}",
        if same { "yes" } else { "NO" }
    );
    if !same {
        std::process::exit(1);
    }
}

/// One action's grants as comparable text: principal, answer, statements, unknown conditions.
fn answers(grants: Vec<gateaudit::analysis::access::Grant<'_>>) -> Vec<String> {
    let mut out: Vec<String> = grants
        .iter()
        .map(|g| {
            format!(
                "{} {:?} {:?} {:?}",
                g.principal.arn, g.answer, g.statements, g.unknowns
            )
        })
        .collect();
    out.sort();
    out
}
