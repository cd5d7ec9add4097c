//! The Amazon Athena calls of the trail archive's Athena engine: StartQueryExecution in the table's workgroup,
//! GetQueryExecution polled with backoff until the query ends, GetQueryResults paged (the first page's first
//! row is the header). Ctrl-C while the query is started, polled or paged stops it (StopQueryExecution) and
//! returns an error.
//!
//! The one exception to read-only collection: starting a query writes its results to the workgroup's output
//! location, in the *logging* account, never in an audited one (policies/auditor-athena-policy.json). So this
//! client is built without the read-only guard and is used for nothing else. No SQL or row decoding here
//! (`crate::trail::athena`); a failed, cancelled or interrupted query is an error, never an empty result.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState};

use crate::trail::athena::rows::ResultRow;
use crate::trail::athena::TableName;

#[derive(Debug, thiserror::Error)]
pub enum AthenaRunError {
    #[error("athena: cannot start the query in workgroup {workgroup}: {detail}")]
    Start { workgroup: String, detail: String },
    #[error("athena: query {id} {state}: {reason}")]
    Ended {
        id: String,
        state: String,
        reason: String,
    },
    #[error("athena: query {id}: {detail}")]
    Call { id: String, detail: String },
    #[error("athena: query {id}: its results could not be taken in: {detail}")]
    Rows { id: String, detail: String },
    #[error("athena: cannot read table {table} (GetTableMetadata): {detail}")]
    Table { table: String, detail: String },
    #[error("athena: interrupted (Ctrl-C); query {id} was stopped{stop}")]
    Interrupted { id: String, stop: String },
}

/// The Athena client of an account's configuration (no read-only guard: see the module comment).
pub fn client(config: &aws_config::SdkConfig) -> aws_sdk_athena::Client {
    aws_sdk_athena::Client::new(config)
}

fn detail<E: std::error::Error>(e: E) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The catalog every table of the engine is in (the account's Glue Data Catalog).
const CATALOG: &str = "AwsDataCatalog";

/// The table's parameters (TBLPROPERTIES, with partition projection) as GetTableMetadata returns them, so
/// `crate::trail::athena::coverage` can tell whether the table reads the whole archive.
pub async fn table_parameters(
    client: &aws_sdk_athena::Client,
    table: &TableName,
) -> Result<BTreeMap<String, String>, AthenaRunError> {
    let answer = client
        .get_table_metadata()
        .catalog_name(CATALOG)
        .database_name(&table.database)
        .table_name(&table.table)
        .send()
        .await
        .map_err(|e| AthenaRunError::Table {
            table: format!("{}.{}", table.database, table.table),
            detail: detail(e),
        })?;
    let Some(metadata) = answer.table_metadata() else {
        return Err(AthenaRunError::Table {
            table: format!("{}.{}", table.database, table.table),
            detail: "no table metadata in the answer".into(),
        });
    };
    Ok(metadata
        .parameters()
        .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

/// Runs `sql` and hands every page of result rows (values as Athena returns them: strings, NULL as None) to
/// `take` as it arrives, so the result is never held whole; returns the number of rows. Ctrl-C at any point
/// (starting, polling or paging) stops the query if it may still run and ends with `Interrupted`.
pub async fn run_query(
    client: &aws_sdk_athena::Client,
    table: &TableName,
    workgroup: &str,
    sql: &str,
    take: &mut (dyn FnMut(Vec<ResultRow>) -> Result<(), String> + Send),
) -> Result<u64, AthenaRunError> {
    let started = client
        .start_query_execution()
        .query_string(sql)
        .work_group(workgroup)
        .query_execution_context(
            QueryExecutionContext::builder()
                .database(&table.database)
                .build(),
        )
        .send();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let started = tokio::select! {
        answer = started => answer,
        _ = &mut ctrl_c => {
            // The query may have started: its id is unknown, so it cannot be stopped from here.
            return Err(AthenaRunError::Interrupted {
                id: "(not yet known)".into(),
                stop: " (interrupted while starting it: look for it in the workgroup's history)".into(),
            });
        }
    }
    .map_err(|e| AthenaRunError::Start {
        workgroup: workgroup.to_owned(),
        detail: detail(e),
    })?;
    let Some(id) = started.query_execution_id().map(str::to_owned) else {
        return Err(AthenaRunError::Start {
            workgroup: workgroup.to_owned(),
            detail: "no query execution id in the answer".into(),
        });
    };
    let work = async {
        wait(client, &id).await?;
        results(client, &id, take).await
    };
    tokio::select! {
        outcome = work => outcome,
        _ = &mut ctrl_c => {
            let stop = match client.stop_query_execution().query_execution_id(&id).send().await {
                Ok(_) => String::new(),
                Err(e) => format!(" (StopQueryExecution failed: {})", detail(e)),
            };
            Err(AthenaRunError::Interrupted { id, stop })
        }
    }
}

async fn wait(client: &aws_sdk_athena::Client, id: &str) -> Result<(), AthenaRunError> {
    let mut delay = Duration::from_millis(200);
    loop {
        let answer = client
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| AthenaRunError::Call {
                id: id.to_owned(),
                detail: detail(e),
            })?;
        let status = answer.query_execution().and_then(|q| q.status());
        match status.and_then(|s| s.state()) {
            Some(QueryExecutionState::Succeeded) => return Ok(()),
            Some(state @ (QueryExecutionState::Failed | QueryExecutionState::Cancelled)) => {
                return Err(AthenaRunError::Ended {
                    id: id.to_owned(),
                    state: state.as_str().to_owned(),
                    reason: status
                        .and_then(|s| s.state_change_reason())
                        .unwrap_or("no reason given")
                        .to_owned(),
                })
            }
            Some(QueryExecutionState::Queued | QueryExecutionState::Running) => {}
            other => {
                return Err(AthenaRunError::Call {
                    id: id.to_owned(),
                    detail: format!("unexpected query state {other:?}"),
                })
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// The most rows GetQueryResults returns at once.
const PAGE_ROWS: i32 = 1000;

async fn results(
    client: &aws_sdk_athena::Client,
    id: &str,
    take: &mut (dyn FnMut(Vec<ResultRow>) -> Result<(), String> + Send),
) -> Result<u64, AthenaRunError> {
    let mut count = 0u64;
    let mut token: Option<String> = None;
    let mut first = true;
    loop {
        let page = client
            .get_query_results()
            .query_execution_id(id)
            .max_results(PAGE_ROWS)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| AthenaRunError::Call {
                id: id.to_owned(),
                detail: detail(e),
            })?;
        let data = page.result_set().map(|r| r.rows()).unwrap_or_default();
        let mut rows = Vec::with_capacity(data.len());
        for (i, row) in data.iter().enumerate() {
            if first && i == 0 {
                continue; // the header row
            }
            let values = row
                .data()
                .iter()
                .map(|d| d.var_char_value().map(str::to_owned))
                .collect();
            rows.push(
                ResultRow::from_values(values).map_err(|detail| AthenaRunError::Call {
                    id: id.to_owned(),
                    detail,
                })?,
            );
        }
        first = false;
        count += rows.len() as u64;
        take(rows).map_err(|detail| AthenaRunError::Rows {
            id: id.to_owned(),
            detail,
        })?;
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return Ok(count),
        }
    }
}
