//! CodePipeline collection: every pipeline as AWS has it (`GetPipeline`: V1/V2 type, execution mode, triggers,
//! variables, stage conditions with their rules, approval configuration, artifact stores, source actions), every
//! execution that overlaps the audit period (`ListPipelineExecutions` to the end of its history, then
//! `GetPipelineExecution` for the version it ran, its trigger, source revisions and variables), their action
//! executions (`ListActionExecutions`: who approved, `updatedBy`) and rule executions (`ListRuleExecutions`: who
//! overrode a condition), and `GetPipeline --version N` for every earlier version that ran in the period or that an
//! `UpdatePipeline` of the period replaced.
//!
//! Read-only calls only. A failure of the definition is an error; failures of execution history are recorded
//! beside what could be collected, so nothing already read is lost.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_codepipeline::types::{
    ActionExecutionFilter, PipelineDeclaration, RuleExecutionFilter, StageDeclaration,
};

use super::session::{error_text, AccountClients};
use super::{to_chrono, StepLog};
use crate::model::{
    ActionExecution, ArtifactStore, ConditionRule, Period, Pipeline, PipelineAction,
    PipelineExecution, PipelineTrigger, PipelineVariable, PipelineVersion, RuleExecution,
    SourceRevision, Stage, StageCondition, StageConditions, WriteEvent,
};

/// Collects every pipeline of the region. `events` are the region's mutating events already collected (their
/// `UpdatePipeline` calls name the versions the period replaced).
pub async fn collect(
    clients: &AccountClients,
    region: &str,
    period: &Period,
    events: &[WriteEvent],
    log: &mut StepLog,
) -> Vec<Pipeline> {
    let client = clients.codepipeline(region);
    let mut names = Vec::new();
    let mut pages = client.list_pipelines().into_paginator().items().send();
    while let Some(summary) = pages.next().await {
        match summary {
            Ok(s) => names.extend(s.name().map(str::to_owned)),
            Err(e) => {
                log.failed("codepipeline:ListPipelines", Some(region), error_text(&e));
                return Vec::new();
            }
        }
    }
    log.ok("codepipeline:ListPipelines", Some(region), names.len());
    let mut pipelines = Vec::new();
    for name in names {
        let replaced = replaced_versions(events, &name);
        match pipeline(&client, clients, region, &name, period, &replaced).await {
            Ok((p, warnings)) => {
                let executions = p.executions.len();
                pipelines.push(p);
                let step = format!("codepipeline:GetPipeline+Executions({name})");
                if warnings.is_empty() {
                    log.ok(&step, Some(region), executions);
                } else {
                    log.failed(&step, Some(region), warnings.join("; "));
                }
            }
            Err(e) => log.failed(
                &format!("codepipeline:GetPipeline({name})"),
                Some(region),
                e,
            ),
        }
    }
    pipelines
}

/// The versions an `UpdatePipeline` of the period replaced and created (the request carries the version it
/// replaces; the new one is the next).
fn replaced_versions(events: &[WriteEvent], pipeline: &str) -> BTreeSet<i32> {
    let mut versions = BTreeSet::new();
    for e in events.iter().filter(|e| {
        e.source == "codepipeline.amazonaws.com"
            && e.name == "UpdatePipeline"
            && e.error_code.is_none()
    }) {
        let declared = e
            .request_parameters
            .as_ref()
            .and_then(|p| p.get("pipeline"));
        if declared
            .and_then(|d| d.get("name"))
            .and_then(serde_json::Value::as_str)
            != Some(pipeline)
        {
            continue;
        }
        if let Some(v) = declared
            .and_then(|d| d.get("version"))
            .and_then(serde_json::Value::as_i64)
            .and_then(|v| i32::try_from(v).ok())
        {
            versions.insert(v);
            versions.insert(v + 1);
        }
    }
    versions
}

fn map_of(
    configuration: Option<&std::collections::HashMap<String, String>>,
) -> BTreeMap<String, String> {
    configuration
        .map(|c| c.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn conditions(list: &[aws_sdk_codepipeline::types::Condition]) -> Vec<StageCondition> {
    list.iter()
        .map(|c| StageCondition {
            result: c.result().map(|r| r.as_str().to_owned()),
            rules: c
                .rules()
                .iter()
                .map(|r| ConditionRule {
                    name: r.name().to_owned(),
                    provider: r
                        .rule_type_id()
                        .map(|t| t.provider().to_owned())
                        .unwrap_or_default(),
                    configuration: map_of(r.configuration()),
                    role_arn: r.role_arn().map(str::to_owned),
                    region: r.region().map(str::to_owned),
                })
                .collect(),
        })
        .collect()
}

fn stage(s: &StageDeclaration) -> Stage {
    Stage {
        name: s.name().to_owned(),
        actions: s
            .actions()
            .iter()
            .map(|a| {
                let type_id = a.action_type_id();
                PipelineAction {
                    name: a.name().to_owned(),
                    category: type_id
                        .map(|t| t.category().as_str().to_owned())
                        .unwrap_or_default(),
                    owner: type_id
                        .map(|t| t.owner().as_str().to_owned())
                        .unwrap_or_default(),
                    provider: type_id.map(|t| t.provider().to_owned()).unwrap_or_default(),
                    run_order: a.run_order().unwrap_or(1),
                    configuration: map_of(a.configuration()),
                    role_arn: a.role_arn().map(str::to_owned),
                    region: a.region().map(str::to_owned),
                    timeout_in_minutes: a.timeout_in_minutes(),
                    input_artifacts: a
                        .input_artifacts()
                        .iter()
                        .map(|i| i.name().to_owned())
                        .collect(),
                    output_artifacts: a
                        .output_artifacts()
                        .iter()
                        .map(|o| o.name().to_owned())
                        .collect(),
                }
            })
            .collect(),
        before_entry: s.before_entry().map(|b| StageConditions {
            conditions: conditions(b.conditions()),
            ..StageConditions::default()
        }),
        on_success: s.on_success().map(|b| StageConditions {
            conditions: conditions(b.conditions()),
            ..StageConditions::default()
        }),
        on_failure: s.on_failure().map(|f| StageConditions {
            result: f.result().map(|r| r.as_str().to_owned()),
            retry_mode: f
                .retry_configuration()
                .and_then(|r| r.retry_mode())
                .map(|m| m.as_str().to_owned()),
            conditions: conditions(f.conditions()),
        }),
    }
}

/// The branches a trigger filters on, as JSON: `{"push": [{"branches": {...}}], "pullRequest": [...]}`.
fn git_filters(g: &aws_sdk_codepipeline::types::GitConfiguration) -> serde_json::Value {
    let branches = |b: Option<&aws_sdk_codepipeline::types::GitBranchFilterCriteria>| {
        b.map(|b| serde_json::json!({"includes": b.includes(), "excludes": b.excludes()}))
            .unwrap_or(serde_json::Value::Null)
    };
    serde_json::json!({
        "push": g.push().iter().map(|p| serde_json::json!({
            "branches": branches(p.branches()),
            "tags": p.tags().map(|t| serde_json::json!({"includes": t.includes(), "excludes": t.excludes()})),
        })).collect::<Vec<_>>(),
        "pullRequest": g.pull_request().iter().map(|p| serde_json::json!({
            "branches": branches(p.branches()),
            "events": p.events().iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn artifact_stores(d: &PipelineDeclaration) -> Vec<ArtifactStore> {
    let store =
        |region: Option<String>, s: &aws_sdk_codepipeline::types::ArtifactStore| ArtifactStore {
            region,
            kind: s.r#type().as_str().to_owned(),
            location: s.location().to_owned(),
            encryption_key: s.encryption_key().map(|k| k.id().to_owned()),
        };
    let mut out: Vec<ArtifactStore> = d
        .artifact_store()
        .map(|s| store(None, s))
        .into_iter()
        .collect();
    if let Some(by_region) = d.artifact_stores() {
        let mut regions: Vec<&String> = by_region.keys().collect();
        regions.sort();
        for region in regions {
            out.push(store(Some(region.clone()), &by_region[region]));
        }
    }
    out
}

fn version_of(d: &PipelineDeclaration) -> PipelineVersion {
    PipelineVersion {
        version: d.version().unwrap_or(0),
        role_arn: d.role_arn().to_owned(),
        stages: d.stages().iter().map(stage).collect(),
        pipeline_type: d
            .pipeline_type()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        execution_mode: d
            .execution_mode()
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default(),
    }
}

/// Collects one pipeline.
async fn pipeline(
    client: &aws_sdk_codepipeline::Client,
    clients: &AccountClients,
    region: &str,
    name: &str,
    period: &Period,
    replaced: &BTreeSet<i32>,
) -> Result<(Pipeline, Vec<String>), String> {
    let out = client
        .get_pipeline()
        .name(name)
        .send()
        .await
        .map_err(|e| error_text(&e))?;
    let declaration = out
        .pipeline()
        .ok_or("GetPipeline returned no declaration")?;
    let current = version_of(declaration);
    let mut pipeline = Pipeline {
        name: name.to_owned(),
        region: region.to_owned(),
        account_id: clients.account_id.clone(),
        version: current.version,
        role_arn: current.role_arn,
        stages: current.stages,
        pipeline_type: current.pipeline_type,
        execution_mode: current.execution_mode,
        triggers: declaration
            .triggers()
            .iter()
            .map(|t| PipelineTrigger {
                provider_type: t.provider_type().as_str().to_owned(),
                source_action_name: t
                    .git_configuration()
                    .map(|g| g.source_action_name().to_owned()),
                git_configuration: t.git_configuration().map(git_filters).unwrap_or_default(),
            })
            .collect(),
        variables: declaration
            .variables()
            .iter()
            .map(|v| PipelineVariable {
                name: v.name().to_owned(),
                default_value: v.default_value().map(str::to_owned),
                description: v.description().map(str::to_owned),
            })
            .collect(),
        artifact_stores: artifact_stores(declaration),
        ..Pipeline::default()
    };
    let mut warnings = Vec::new();
    executions(client, name, period, &mut pipeline, &mut warnings).await;
    let is_v2 = pipeline.pipeline_type.eq_ignore_ascii_case("V2");
    for execution in pipeline.executions.clone() {
        action_executions(client, name, &execution.id, &mut pipeline, &mut warnings).await;
        if is_v2 {
            rule_executions(client, name, &execution.id, &mut pipeline, &mut warnings).await;
        }
    }
    // Earlier versions that ran in the period, or that an UpdatePipeline of the period replaced or created.
    let mut wanted: BTreeSet<i32> = pipeline
        .executions
        .iter()
        .filter_map(|e| e.pipeline_version)
        .chain(replaced.iter().copied())
        .filter(|v| *v != pipeline.version && *v > 0)
        .collect();
    wanted.retain(|v| *v < pipeline.version);
    for version in wanted {
        match client
            .get_pipeline()
            .name(name)
            .version(version)
            .send()
            .await
        {
            Ok(out) => match out.pipeline() {
                Some(d) => pipeline.versions.push(version_of(d)),
                None => warnings.push(format!("GetPipeline version {version}: no declaration")),
            },
            Err(e) => warnings.push(format!("GetPipeline version {version}: {}", error_text(&e))),
        }
    }
    Ok((pipeline, warnings))
}

/// Every execution that overlaps the period. ListPipelineExecutions is read to the end of its history (AWS keeps
/// twelve months): an execution that started long before the period may still be running in it.
async fn executions(
    client: &aws_sdk_codepipeline::Client,
    name: &str,
    period: &Period,
    pipeline: &mut Pipeline,
    warnings: &mut Vec<String>,
) {
    let mut pages = client
        .list_pipeline_executions()
        .pipeline_name(name)
        .into_paginator()
        .items()
        .send();
    while let Some(summary) = pages.next().await {
        let summary = match summary {
            Ok(s) => s,
            Err(e) => {
                warnings.push(format!("ListPipelineExecutions: {}", error_text(&e)));
                break;
            }
        };
        let start = summary.start_time().and_then(to_chrono);
        let last = summary.last_update_time().and_then(to_chrono);
        let status = summary
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        let running = matches!(status.as_str(), "InProgress" | "Stopping");
        let ended_before = !running && last.or(start).is_some_and(|t| t < period.since);
        let started_after = start.is_some_and(|t| t >= period.until);
        if ended_before || started_after {
            continue;
        }
        let trigger = summary.trigger();
        pipeline.executions.push(PipelineExecution {
            id: summary
                .pipeline_execution_id()
                .unwrap_or_default()
                .to_owned(),
            status,
            start_time: start,
            last_update_time: last,
            trigger_type: trigger
                .and_then(|t| t.trigger_type())
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            trigger_detail: trigger
                .and_then(|t| t.trigger_detail())
                .unwrap_or_default()
                .to_owned(),
            execution_type: summary
                .execution_type()
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            execution_mode: summary
                .execution_mode()
                .map(|m| m.as_str().to_owned())
                .unwrap_or_default(),
            status_summary: summary.status_summary().map(str::to_owned),
            rollback_target: summary
                .rollback_metadata()
                .and_then(|r| r.rollback_target_pipeline_execution_id())
                .map(str::to_owned),
            source_revisions: summary
                .source_revisions()
                .iter()
                .map(|r| SourceRevision {
                    action_name: r.action_name().to_owned(),
                    revision_id: r.revision_id().map(str::to_owned),
                    revision_summary: r.revision_summary().map(str::to_owned),
                    revision_url: r.revision_url().map(str::to_owned),
                })
                .collect(),
            ..PipelineExecution::default()
        });
    }
    // The version each execution ran, and its resolved variables.
    for execution in &mut pipeline.executions {
        match client
            .get_pipeline_execution()
            .pipeline_name(name)
            .pipeline_execution_id(&execution.id)
            .send()
            .await
        {
            Ok(out) => {
                if let Some(e) = out.pipeline_execution() {
                    execution.pipeline_version = e.pipeline_version();
                    execution.variables = e
                        .variables()
                        .iter()
                        .filter_map(|v| {
                            Some((
                                v.name()?.to_owned(),
                                v.resolved_value().unwrap_or_default().to_owned(),
                            ))
                        })
                        .collect();
                    if execution.trigger_detail.is_empty() {
                        execution.trigger_detail = e
                            .trigger()
                            .and_then(|t| t.trigger_detail())
                            .unwrap_or_default()
                            .to_owned();
                    }
                }
            }
            Err(e) => warnings.push(format!(
                "GetPipelineExecution({}): {}",
                execution.id,
                error_text(&e)
            )),
        }
    }
}

async fn action_executions(
    client: &aws_sdk_codepipeline::Client,
    name: &str,
    execution: &str,
    pipeline: &mut Pipeline,
    warnings: &mut Vec<String>,
) {
    let filter = ActionExecutionFilter::builder()
        .pipeline_execution_id(execution)
        .build();
    let mut pages = client
        .list_action_executions()
        .pipeline_name(name)
        .filter(filter)
        .into_paginator()
        .items()
        .send();
    while let Some(detail) = pages.next().await {
        let d = match detail {
            Ok(d) => d,
            Err(e) => {
                warnings.push(format!(
                    "ListActionExecutions({execution}): {}",
                    error_text(&e)
                ));
                return;
            }
        };
        let input = d.input();
        let type_id = input.and_then(|i| i.action_type_id());
        let result = d.output().and_then(|o| o.execution_result());
        pipeline.action_executions.push(ActionExecution {
            pipeline_execution_id: d.pipeline_execution_id().unwrap_or_default().to_owned(),
            action_execution_id: d.action_execution_id().unwrap_or_default().to_owned(),
            stage: d.stage_name().unwrap_or_default().to_owned(),
            action: d.action_name().unwrap_or_default().to_owned(),
            status: d
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            start_time: d.start_time().and_then(to_chrono),
            last_update_time: d.last_update_time().and_then(to_chrono),
            updated_by: d.updated_by().map(str::to_owned),
            summary: result
                .and_then(|r| r.external_execution_summary())
                .map(str::to_owned),
            category: type_id.map(|t| t.category().as_str().to_owned()),
            provider: type_id.map(|t| t.provider().to_owned()),
            pipeline_version: d.pipeline_version(),
            external_execution_id: result
                .and_then(|r| r.external_execution_id())
                .map(str::to_owned),
            role_arn: input.and_then(|i| i.role_arn()).map(str::to_owned),
            configuration: map_of(
                input.and_then(|i| i.resolved_configuration().or(i.configuration())),
            ),
        });
    }
}

async fn rule_executions(
    client: &aws_sdk_codepipeline::Client,
    name: &str,
    execution: &str,
    pipeline: &mut Pipeline,
    warnings: &mut Vec<String>,
) {
    let filter = RuleExecutionFilter::builder()
        .pipeline_execution_id(execution)
        .build();
    let mut pages = client
        .list_rule_executions()
        .pipeline_name(name)
        .filter(filter)
        .into_paginator()
        .items()
        .send();
    while let Some(detail) = pages.next().await {
        let d = match detail {
            Ok(d) => d,
            Err(e) => {
                warnings.push(format!(
                    "ListRuleExecutions({execution}): {}",
                    error_text(&e)
                ));
                return;
            }
        };
        pipeline.rule_executions.push(RuleExecution {
            pipeline_execution_id: d.pipeline_execution_id().unwrap_or_default().to_owned(),
            rule_execution_id: d.rule_execution_id().unwrap_or_default().to_owned(),
            pipeline_version: d.pipeline_version(),
            stage: d.stage_name().unwrap_or_default().to_owned(),
            rule: d.rule_name().unwrap_or_default().to_owned(),
            provider: d
                .input()
                .and_then(|i| i.rule_type_id())
                .map(|t| t.provider().to_owned()),
            status: d
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            start_time: d.start_time().and_then(to_chrono),
            last_update_time: d.last_update_time().and_then(to_chrono),
            updated_by: d.updated_by().map(str::to_owned),
            summary: d
                .output()
                .and_then(|o| o.execution_result())
                .and_then(|r| r.external_execution_summary())
                .map(str::to_owned),
        });
    }
}

/// Why one execution could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutionReadError {
    /// CodePipeline says there is no such pipeline or execution.
    NotFound(String),
    /// Any other failure (denied, throttled past retries, unreadable answer).
    Failed(String),
}

/// One execution and only what a question about it needs: `GetPipelineExecution` (its version, trigger, type),
/// `GetPipeline --version` of that version (as the pipeline's declaration), its `ListActionExecutions` and, for
/// a V2 pipeline, `ListRuleExecutions`. The returned pipeline's `version` and `stages` are those of the version
/// the execution runs. The execution's start and last update are taken from its action executions (the
/// execution detail carries no times).
pub async fn one_execution(
    clients: &AccountClients,
    region: &str,
    name: &str,
    execution_id: &str,
) -> Result<Pipeline, ExecutionReadError> {
    let client = clients.codepipeline(region);
    let out = client
        .get_pipeline_execution()
        .pipeline_name(name)
        .pipeline_execution_id(execution_id)
        .send()
        .await
        .map_err(|e| {
            let not_found = e.as_service_error().is_some_and(|s| {
                s.is_pipeline_execution_not_found_exception() || s.is_pipeline_not_found_exception()
            });
            let text = format!(
                "GetPipelineExecution({name}, {execution_id}): {}",
                error_text(&e)
            );
            if not_found {
                ExecutionReadError::NotFound(text)
            } else {
                ExecutionReadError::Failed(text)
            }
        })?;
    let detail = out.pipeline_execution().ok_or_else(|| {
        ExecutionReadError::Failed(format!(
            "GetPipelineExecution({name}, {execution_id}) returned no execution"
        ))
    })?;
    let version = detail.pipeline_version().ok_or_else(|| {
        ExecutionReadError::Failed(format!(
            "GetPipelineExecution({name}, {execution_id}) names no pipelineVersion"
        ))
    })?;
    let trigger = detail.trigger();
    let execution = PipelineExecution {
        id: execution_id.to_owned(),
        status: detail
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        pipeline_version: Some(version),
        trigger_type: trigger
            .and_then(|t| t.trigger_type())
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        trigger_detail: trigger
            .and_then(|t| t.trigger_detail())
            .unwrap_or_default()
            .to_owned(),
        execution_type: detail
            .execution_type()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        execution_mode: detail
            .execution_mode()
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default(),
        status_summary: detail.status_summary().map(str::to_owned),
        rollback_target: detail
            .rollback_metadata()
            .and_then(|r| r.rollback_target_pipeline_execution_id())
            .map(str::to_owned),
        variables: detail
            .variables()
            .iter()
            .filter_map(|v| {
                Some((
                    v.name()?.to_owned(),
                    v.resolved_value().unwrap_or_default().to_owned(),
                ))
            })
            .collect(),
        ..PipelineExecution::default()
    };
    let declared = client
        .get_pipeline()
        .name(name)
        .version(version)
        .send()
        .await
        .map_err(|e| {
            ExecutionReadError::Failed(format!(
                "GetPipeline({name}, version {version}): {}",
                error_text(&e)
            ))
        })?;
    let declaration = declared.pipeline().ok_or_else(|| {
        ExecutionReadError::Failed(format!(
            "GetPipeline({name}, version {version}) returned no declaration"
        ))
    })?;
    let ran = version_of(declaration);
    let mut pipeline = Pipeline {
        name: name.to_owned(),
        region: region.to_owned(),
        account_id: clients.account_id.clone(),
        version,
        role_arn: ran.role_arn,
        stages: ran.stages,
        pipeline_type: ran.pipeline_type,
        execution_mode: ran.execution_mode,
        artifact_stores: artifact_stores(declaration),
        executions: vec![execution],
        ..Pipeline::default()
    };
    let mut warnings = Vec::new();
    action_executions(&client, name, execution_id, &mut pipeline, &mut warnings).await;
    if pipeline.pipeline_type.eq_ignore_ascii_case("V2") {
        rule_executions(&client, name, execution_id, &mut pipeline, &mut warnings).await;
    }
    if !warnings.is_empty() {
        return Err(ExecutionReadError::Failed(warnings.join("; ")));
    }
    let starts = pipeline
        .action_executions
        .iter()
        .filter_map(|a| a.start_time);
    let start = starts.min();
    let last = pipeline
        .action_executions
        .iter()
        .filter_map(|a| a.last_update_time.or(a.start_time))
        .max();
    if let Some(e) = pipeline.executions.first_mut() {
        e.start_time = start;
        e.last_update_time = last;
    }
    Ok(pipeline)
}
