//! One audit run after collection: run the checks on a snapshot, build the ledger and the check summaries, write
//! every report, and decide the exit status. Shared by `gateaudit audit` and `gateaudit check`.

use std::path::{Path, PathBuf};

use crate::checks::{self, CheckContext};
use crate::model::{Finding, Severity, Snapshot};
use crate::report::{
    self, ApproverRow, CheckStatus, CheckSummary, LedgerRow, ReportError, ReportInput,
    WriteGrantRow,
};
use crate::rules::RuleSet;
use crate::waivers::Waivers;

/// The outcome of a run, for the console summary and the exit code.
pub struct Outcome {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    pub checks: Vec<CheckSummary>,
    pub findings: Vec<Finding>,
    pub ledger_rows: usize,
    pub incomplete_accounts: Vec<(String, String)>,
    /// What the answers ignore (organisation policies, people behind roles...), for every report.
    pub notes: Vec<String>,
    /// Why nothing can pass whatever `--allow-incomplete` says: no account in the snapshot, or none collected
    /// completely.
    pub nothing_audited: Option<String>,
}

impl Outcome {
    /// Checks that could not read all their inputs.
    pub fn incomplete_checks(&self) -> impl Iterator<Item = &CheckSummary> {
        self.checks
            .iter()
            .filter(|c| c.status == CheckStatus::Incomplete)
    }

    /// True when collection or a check is incomplete (exit 1 unless `--allow-incomplete`).
    pub fn is_incomplete(&self) -> bool {
        !self.incomplete_accounts.is_empty() || self.incomplete_checks().next().is_some()
    }

    /// Unwaived findings at or above the threshold.
    pub fn violations(&self, fail_on: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| !f.is_waived() && f.severity >= fail_on)
            .count()
    }
}

/// Everything a run computes from a snapshot, before anything is written.
pub struct Evaluated {
    pub checks: Vec<CheckSummary>,
    pub findings: Vec<Finding>,
    pub ledger: Vec<LedgerRow>,
    pub approvers: Vec<ApproverRow>,
    pub write_grants: Vec<WriteGrantRow>,
    pub notes: Vec<String>,
    pub changes: Vec<crate::analysis::changes::Change>,
}

/// Runs the checks and summarises them. Pure: no I/O.
pub fn evaluate(snapshot: &Snapshot, rules: &RuleSet, waivers: &Waivers) -> Evaluated {
    let access = crate::analysis::access::AccessModel::new(snapshot, rules);
    let ctx = CheckContext::new(snapshot, rules, &access);
    let all = checks::all();
    let mut findings = checks::run_all(&ctx, &all);
    // Waivers are judged as of collection, so an offline re-run gives the same answer.
    let expired = crate::waivers::apply(&mut findings, waivers, snapshot.collected_at.date_naive());
    findings.extend(expired);
    let mut checks: Vec<CheckSummary> = all
        .iter()
        .map(|c| {
            let mine: Vec<&Finding> = findings.iter().filter(|f| f.check_id == c.id()).collect();
            let waived = mine.iter().filter(|f| f.is_waived()).count();
            let incomplete = checks::missing_inputs(c.as_ref(), &ctx);
            let status = CheckStatus::decide(mine.len(), waived, !incomplete.is_empty());
            CheckSummary {
                id: c.id().to_owned(),
                title: c.title().to_owned(),
                description: c.description().to_owned(),
                severity: c.severity(),
                references: c.references().iter().map(|r| (*r).to_owned()).collect(),
                findings: mine.len(),
                waived,
                status,
                incomplete,
            }
        })
        .collect();
    let expired_waivers = findings
        .iter()
        .filter(|f| f.check_id == crate::waivers::WAIVERS_CHECK_ID)
        .count();
    // Always listed (passed when no waiver is in force), so the console, the PDF, JUnit and the README name the
    // same checks in every run.
    checks.push(CheckSummary {
        id: crate::waivers::WAIVERS_CHECK_ID.to_owned(),
        title: "Waivers are current".to_owned(),
        description: "Every waiver in the waivers file names its reason, approver and expiry; an expired waiver \
                      stops applying and is reported with the findings it would have covered."
            .to_owned(),
        severity: Severity::Medium,
        references: vec!["SOC 2 CC8.1".to_owned(), "ISO/IEC 27001:2022 A.8.32".to_owned()],
        findings: expired_waivers,
        waived: 0,
        status: CheckStatus::decide(expired_waivers, 0, false),
        incomplete: Vec::new(),
    });
    Evaluated {
        checks,
        ledger: crate::analysis::ledger::rows(&ctx.approvals, &ctx.changes),
        approvers: crate::analysis::exposure::approvers(ctx.access, &ctx.reach),
        notes: crate::analysis::coverage::notes(snapshot, ctx.access, &ctx.reach),
        changes: ctx.changes.clone(),
        write_grants: crate::analysis::exposure::write_grants(ctx.access, rules),
        findings,
    }
}

pub fn sha256_file(path: &Path) -> Result<String, ReportError> {
    crate::report::manifest::sha256_and_size(path)
        .map(|(sha256, _)| sha256)
        .map_err(|e| ReportError::read(path, e))
}

/// Where the snapshot of a run comes from.
pub enum SnapshotSource<'a> {
    /// Collected in this run: written to snapshot.json.
    Collected,
    /// Read from a file (offline check): copied byte for byte, so its hash matches the auditor's copy.
    File(&'a Path),
}

pub struct RunOptions<'a> {
    pub fail_on: Severity,
    pub snapshot_source: SnapshotSource<'a>,
    /// Files the run read (configuration, rule set, waivers): copied into `inputs/` and listed in the manifest.
    pub inputs: Vec<PathBuf>,
    pub signing_key: Option<&'a aws_lc_rs::signature::Ed25519KeyPair>,
    pub waivers: &'a Waivers,
    /// The file `waivers` was read from: copied as `inputs/waivers.toml` (whatever its name), where `check` on
    /// the folder's snapshot finds it again.
    pub waivers_file: Option<PathBuf>,
    /// write-access.csv lists every grant of the exempt principals (deployment roles, break-glass) instead of one
    /// summary row per principal and exemption.
    pub full_write_access: bool,
}

/// Writes `snapshot.json` into `dir`, runs the checks, writes every report and the manifest. The folder is
/// written under a hidden temporary name and renamed to `dir` at the end, so it exists only complete; a `dir`
/// that exists already is refused (never shared with another run).
pub fn run(
    snapshot: &Snapshot,
    rules: &RuleSet,
    dir: &Path,
    options: &RunOptions,
) -> Result<Outcome, anyhow::Error> {
    let staged = report::staging::StagedDir::create(dir)?;
    let work = staged.path().to_path_buf();
    let snapshot_path = work.join("snapshot.json");
    match options.snapshot_source {
        SnapshotSource::Collected => snapshot.save(&snapshot_path)?,
        SnapshotSource::File(source) => {
            std::fs::copy(source, &snapshot_path)
                .map_err(|e| ReportError::copy(source, &snapshot_path, e))?;
        }
    }
    let mut inputs = vec![snapshot_path.clone()];
    let named_inputs: Vec<(&PathBuf, std::ffi::OsString)> = options
        .inputs
        .iter()
        .map(|source| {
            let name = source
                .file_name()
                .map(|n| n.to_os_string())
                .unwrap_or_else(|| "input".into());
            (source, name)
        })
        .chain(
            options
                .waivers_file
                .iter()
                .map(|w| (w, "waivers.toml".into())),
        )
        .collect();
    if !named_inputs.is_empty() {
        let inputs_dir = work.join("inputs");
        std::fs::create_dir_all(&inputs_dir).map_err(|e| ReportError::io(&inputs_dir, e))?;
        for (source, name) in named_inputs {
            let copy = inputs_dir.join(name);
            std::fs::copy(source, &copy).map_err(|e| ReportError::copy(source, &copy, e))?;
            inputs.push(copy);
        }
    }
    let snapshot_sha256 = sha256_file(&snapshot_path)?;
    let mut evaluated = evaluate(snapshot, rules, options.waivers);
    if !options.full_write_access {
        evaluated.write_grants = crate::analysis::exposure::summarise_exempt(std::mem::take(
            &mut evaluated.write_grants,
        ));
    }
    let input = ReportInput {
        snapshot,
        findings: &evaluated.findings,
        checks: &evaluated.checks,
        ledger: &evaluated.ledger,
        approvers: &evaluated.approvers,
        write_grants: &evaluated.write_grants,
        fail_on: options.fail_on,
        snapshot_sha256,
        rule_set: rules.name.clone(),
        notes: &evaluated.notes,
        changes: &evaluated.changes,
    };
    let written = report::write_all(&input, &work)?;
    let manifest = report::manifest::write_manifest(
        &work,
        &snapshot.run_id,
        &inputs,
        &written.files,
        options.signing_key,
    )?;
    let mut files = inputs;
    files.extend(written.files);
    files.extend(manifest);
    let files: Vec<PathBuf> = files.iter().map(|f| staged.final_path(f)).collect();
    let dir = staged.commit()?;
    let incomplete_accounts = snapshot.incomplete_parts();
    Ok(Outcome {
        dir,
        files,
        ledger_rows: evaluated.ledger.len(),
        checks: evaluated.checks,
        findings: evaluated.findings,
        incomplete_accounts,
        notes: evaluated.notes,
        nothing_audited: nothing_audited(snapshot),
    })
}

/// Why a snapshot cannot pass at all: it holds no account, or no account was collected completely.
pub fn nothing_audited(snapshot: &Snapshot) -> Option<String> {
    if snapshot.accounts.is_empty() {
        Some("the snapshot holds no accounts: nothing was audited".to_owned())
    } else if !snapshot.accounts.iter().any(|a| a.is_complete()) {
        Some(format!(
            "none of the {} account(s) was collected completely: nothing was audited",
            snapshot.accounts.len()
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::Org;
    use crate::model::{AccountSnapshot, CollectionStep, StepStatus};

    fn step(name: &str, status: StepStatus) -> CollectionStep {
        CollectionStep {
            step: name.into(),
            region: Some("us-east-1".into()),
            status,
            items: 1,
            note: None,
            error: (status != StepStatus::Ok).then(|| {
                "LookupEvents covers only the last 90 days; configure trail_buckets".to_owned()
            }),
        }
    }

    /// Every step a collection records, all ok, with LookupEvents as given.
    fn steps(lookup: StepStatus) -> Vec<CollectionStep> {
        vec![
            step("sts:AssumeRole", StepStatus::Ok),
            step("iam:GetAccountAuthorizationDetails", StepStatus::Ok),
            step("cloudtrail:DescribeTrails+GetTrailStatus", StepStatus::Ok),
            step("cloudtrail:LookupEvents(PutApprovalResult)", lookup),
            step("cloudtrail:LookupEvents(ReadOnly=false)", lookup),
            step("codepipeline:ListPipelines", StepStatus::Ok),
        ]
    }

    fn org(lookup: StepStatus) -> Org {
        let mut org = Org::two_person_pipeline();
        org.account().steps = steps(lookup);
        org.snapshot.accounts.push(AccountSnapshot {
            account_id: "444444444444".into(),
            name: "prod".into(),
            environment: "prod".into(),
            iam: Some(Default::default()),
            steps: steps(lookup),
            ..AccountSnapshot::default()
        });
        org
    }

    fn status<'a>(evaluated: &'a Evaluated, id: &str) -> &'a CheckSummary {
        evaluated
            .checks
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no check {id}"))
    }

    #[test]
    fn a_partial_lookup_makes_the_checks_that_read_events_incomplete_and_no_others() {
        let org = org(StepStatus::Partial);
        let evaluated = evaluate(&org.snapshot, &org.rules, &Waivers::default());
        for id in [
            "out-of-band-change",
            "distinct-approvers",
            "approval-evidence",
            "gate-coverage",
            "self-approval",
        ] {
            let c = status(&evaluated, id);
            assert_eq!(
                c.status,
                CheckStatus::Incomplete,
                "{id}: {:?}",
                c.incomplete
            );
            assert!(
                c.incomplete
                    .iter()
                    .any(|m| m.step.starts_with("cloudtrail:LookupEvents") && m.status == "partial"),
                "{id}: {:?}",
                c.incomplete
            );
        }
        assert_eq!(
            status(&evaluated, "out-of-band-change").incomplete_accounts(),
            vec![
                "111111111111 (cicd)".to_owned(),
                "444444444444 (prod)".to_owned()
            ],
            "out-of-band-change also looks at the CI/CD account's pipeline infrastructure"
        );
        for id in ["write-access", "cross-account-trust", "source-provenance"] {
            assert_ne!(
                status(&evaluated, id).status,
                CheckStatus::Incomplete,
                "{id}"
            );
        }
        let complete = org_complete();
        let evaluated = evaluate(&complete.snapshot, &complete.rules, &Waivers::default());
        assert!(
            evaluated
                .checks
                .iter()
                .all(|c| c.status != CheckStatus::Incomplete),
            "{:?}",
            evaluated
                .checks
                .iter()
                .map(|c| (&c.id, c.status))
                .collect::<Vec<_>>()
        );
        assert_eq!(
            status(&evaluated, "out-of-band-change").status,
            CheckStatus::Passed
        );
    }

    fn org_complete() -> Org {
        org(StepStatus::Ok)
    }

    #[test]
    fn a_snapshot_of_no_accounts_or_no_complete_account_cannot_pass() {
        let mut org = Org::two_person_pipeline();
        org.snapshot.accounts.clear();
        let evaluated = evaluate(&org.snapshot, &org.rules, &Waivers::default());
        // Every check that reads the accounts is incomplete; only `waivers`, which reads the waivers file, is
        // decided (and the run still fails: nothing was audited).
        assert!(evaluated
            .checks
            .iter()
            .filter(|c| c.id != crate::waivers::WAIVERS_CHECK_ID)
            .all(|c| c.status == CheckStatus::Incomplete));
        assert!(nothing_audited(&org.snapshot).is_some());
        let mut org = org_complete();
        for a in &mut org.snapshot.accounts {
            a.steps[0].status = StepStatus::Failed;
        }
        assert!(nothing_audited(&org.snapshot)
            .is_some_and(|why| why.contains("none of the 2 account(s)")));
        assert!(nothing_audited(&org_complete().snapshot).is_none());
    }

    #[test]
    fn a_run_folder_exists_only_complete_and_is_never_reused() {
        let org = org_complete();
        let out = tempfile::tempdir().expect("tempdir");
        let dir = out.path().join(&org.snapshot.run_id);
        let waivers = Waivers::default();
        let options = |inputs: Vec<PathBuf>| RunOptions {
            fail_on: Severity::High,
            snapshot_source: SnapshotSource::Collected,
            inputs,
            signing_key: None,
            waivers: &waivers,
            waivers_file: None,
            full_write_access: false,
        };
        // A run that fails half-way (an input that cannot be copied) leaves nothing behind.
        let err = run(
            &org.snapshot,
            &org.rules,
            &dir,
            &options(vec![out.path().join("no-such-config.toml")]),
        )
        .err()
        .expect("the missing input fails the run");
        assert!(err.to_string().contains("cannot copy"), "{err}");
        assert_eq!(std::fs::read_dir(out.path()).expect("out").count(), 0);
        let outcome = run(&org.snapshot, &org.rules, &dir, &options(vec![])).expect("run");
        assert_eq!(outcome.dir, dir);
        assert!(outcome
            .files
            .iter()
            .all(|f| f.starts_with(&dir) && f.exists()));
        let again = run(&org.snapshot, &org.rules, &dir, &options(vec![]))
            .err()
            .expect("the folder exists");
        assert!(again.to_string().contains("already exists"), "{again}");
        assert_eq!(std::fs::read_dir(out.path()).expect("out").count(), 1);
    }
}

#[cfg(test)]
mod check_list {
    use super::*;

    /// The check ids of the README's check table (rows starting with "| `id` |").
    fn readme_check_ids() -> Vec<String> {
        let readme = include_str!("../README.md");
        let table = readme
            .split("| id | verifies |")
            .nth(1)
            .expect("the README has the check table");
        table
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with("| `"))
            .filter_map(|l| l.split('`').nth(1).map(str::to_owned))
            .collect()
    }

    #[test]
    fn readme_console_and_reports_name_the_same_checks_even_without_waivers() {
        let org = crate::checks::testkit::Org::two_person_pipeline();
        let evaluated = evaluate(&org.snapshot, &org.rules, &Waivers::default());
        let reported: Vec<String> = evaluated.checks.iter().map(|c| c.id.clone()).collect();
        assert_eq!(reported, readme_check_ids());
        assert!(reported.contains(&crate::waivers::WAIVERS_CHECK_ID.to_owned()));
        let waivers = evaluated
            .checks
            .iter()
            .find(|c| c.id == crate::waivers::WAIVERS_CHECK_ID)
            .expect("waivers check");
        assert_eq!(waivers.status, CheckStatus::Passed);
    }
}
