//! The `gateaudit gate` command: reads the configuration and rule set, collects the one execution
//! (`collect::gate`), decides (`decide`), prints one line per approval and per reason, writes the reports with
//! `--out`, and returns the exit code (0 proceed, 3 violations, 1 cannot decide). Edge code: errors are `anyhow`,
//! like the other subcommands' runners. It must not talk to AWS except through `collect::gate`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::decide::{Decision, Question};
use crate::collect::gate::{GateCollectError, GateTarget};
use crate::collect::SessionOptions;
use crate::config::Config;
use crate::report::text::visible;
use crate::rules::RuleSet;

pub const EXIT_PROCEED: u8 = 0;
pub const EXIT_CANNOT_DECIDE: u8 = 1;
pub const EXIT_VIOLATIONS: u8 = 3;

#[derive(Debug, Args)]
pub struct GateArgs {
    /// The pipeline.
    #[arg(long)]
    pub pipeline: String,
    /// The pipeline execution id (in a pipeline: `#{codepipeline.PipelineExecutionId}`).
    #[arg(long)]
    pub execution: String,
    /// The pipeline's account (default: the configuration's `cicd_account`).
    #[arg(long)]
    pub account: Option<String>,
    /// The pipeline's region (default: the first configured region).
    #[arg(long)]
    pub region: Option<String>,
    /// The configuration file.
    #[arg(long, default_value = "gateaudit.toml")]
    pub config: PathBuf,
    /// Rule set (default: the one the configuration names).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Write snapshot.json, findings.json and junit.xml into this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// AWS profile for the base credentials.
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Attempts per AWS call, including the first.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,
}

pub fn run(args: &GateArgs) -> anyhow::Result<u8> {
    let config = Config::load(&args.config)?;
    let policy_path = args.policy.clone().unwrap_or_else(|| config.policy_path());
    let policy_text = std::fs::read_to_string(&policy_path)
        .with_context(|| format!("cannot read rule set {}", policy_path.display()))?;
    let rules = RuleSet::parse(&policy_text, &policy_path.display().to_string())?;
    let account = args
        .account
        .clone()
        .unwrap_or_else(|| config.cicd_account.clone());
    let Some(region) = args
        .region
        .clone()
        .or_else(|| config.regions.first().cloned())
    else {
        anyhow::bail!("no --region given and the configuration lists no regions");
    };
    let target = GateTarget {
        pipeline: args.pipeline.clone(),
        execution_id: args.execution.clone(),
        account: account.clone(),
        region: region.clone(),
    };
    let options = SessionOptions {
        profile: args.profile.clone(),
        max_attempts: args.max_attempts,
        ..SessionOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let collected = runtime.block_on(crate::collect::gate::collect(
        &config,
        &options,
        (&rules.name, &policy_text),
        &target,
    ));
    let snapshot = match collected {
        Ok(s) => s,
        Err(e) => {
            let what = match e {
                GateCollectError::NotFound(_) => "execution not found",
                _ => "unreadable",
            };
            println!("CANNOT VERIFY: {}", visible(&e.to_string()));
            println!(
                "gate: CANNOT DECIDE ({what}): failing closed, {} execution {} must not deploy",
                visible(&args.pipeline),
                visible(&args.execution)
            );
            return Ok(EXIT_CANNOT_DECIDE);
        }
    };
    let production = super::production_accounts(&config, &snapshot, &rules);
    let verdict = super::decide(&Question {
        snapshot: &snapshot,
        rules: &rules,
        account: &account,
        region: &region,
        pipeline: &args.pipeline,
        execution_id: &args.execution,
        production_accounts: &production,
    });
    for line in super::output::lines(&verdict, &args.pipeline, &args.execution) {
        println!("{line}");
    }
    if let Some(dir) = &args.out {
        let findings = super::output::findings(&verdict, &account, &args.pipeline, &args.execution);
        let checks = super::output::summaries(&verdict, &findings, &account);
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        snapshot.save(&dir.join("snapshot.json"))?;
        super::output::write_reports(&snapshot, &rules.name, &checks, &findings, dir)?;
    }
    Ok(match verdict.decision() {
        Decision::Proceed => EXIT_PROCEED,
        Decision::Violations => EXIT_VIOLATIONS,
        Decision::CannotDecide => EXIT_CANNOT_DECIDE,
    })
}
