//! CodePipeline collection: every pipeline's full structure (`GetPipeline`), its executions in the audit period
//! (`ListPipelineExecutions`, newest first) and their action executions (`ListActionExecutions`), which say who
//! approved each manual approval.
//!
//! Read-only calls only.

use aws_sdk_codepipeline::types::ActionExecutionFilter;

use super::session::{error_text, AccountClients};
use super::{to_chrono, StepLog};
use crate::model::{ActionExecution, Period, Pipeline, PipelineAction, PipelineExecution, Stage};

pub async fn collect(
    clients: &AccountClients,
    region: &str,
    period: &Period,
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
        match pipeline(&client, clients, region, &name, period).await {
            Ok((p, warnings)) => {
                let executions = p.executions.len();
                pipelines.push(p);
                if warnings.is_empty() {
                    log.ok(
                        &format!("codepipeline:GetPipeline+Executions({name})"),
                        Some(region),
                        executions,
                    );
                } else {
                    log.failed(
                        &format!("codepipeline:GetPipeline+Executions({name})"),
                        Some(region),
                        warnings.join("; "),
                    );
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

/// Collects one pipeline. A failure of the definition is an error; failures of execution history are returned
/// as warnings beside what could be collected, so nothing already read is lost.
async fn pipeline(
    client: &aws_sdk_codepipeline::Client,
    clients: &AccountClients,
    region: &str,
    name: &str,
    period: &Period,
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
    let stages = declaration
        .stages()
        .iter()
        .map(|s| Stage {
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
                        configuration: a
                            .configuration()
                            .map(|c| c.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                            .unwrap_or_default(),
                        role_arn: a.role_arn().map(str::to_owned),
                        region: a.region().map(str::to_owned),
                    }
                })
                .collect(),
        })
        .collect();
    let mut pipeline = Pipeline {
        name: name.to_owned(),
        region: region.to_owned(),
        account_id: clients.account_id.clone(),
        version: declaration.version().unwrap_or(0),
        role_arn: declaration.role_arn().to_owned(),
        stages,
        executions: Vec::new(),
        action_executions: Vec::new(),
    };
    let mut warnings = Vec::new();
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
        // Newest first: once an execution ended before the period, all the rest did too.
        if last.or(start).is_some_and(|t| t < period.since) {
            break;
        }
        if start.is_some_and(|t| t >= period.until) {
            continue;
        }
        pipeline.executions.push(PipelineExecution {
            id: summary
                .pipeline_execution_id()
                .unwrap_or_default()
                .to_owned(),
            status: summary
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            start_time: start,
            last_update_time: last,
        });
    }
    for execution in &pipeline.executions {
        let filter = ActionExecutionFilter::builder()
            .pipeline_execution_id(&execution.id)
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
                        "ListActionExecutions({}): {}",
                        execution.id,
                        error_text(&e)
                    ));
                    break;
                }
            };
            let type_id = d.input().and_then(|i| i.action_type_id());
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
                summary: d
                    .output()
                    .and_then(|o| o.execution_result())
                    .and_then(|r| r.external_execution_summary())
                    .map(str::to_owned),
                category: type_id.map(|t| t.category().as_str().to_owned()),
                provider: type_id.map(|t| t.provider().to_owned()),
            });
        }
    }
    Ok((pipeline, warnings))
}
