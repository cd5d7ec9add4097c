"""CodePipeline executions that really run, with waiting manual approvals.

moto 5.2.5 marks every execution ``Succeeded`` the moment it starts and has no
GetPipelineState, PutApprovalResult or ListActionExecutions.  gateaudit audits
exactly those, so this module replaces moto's execution handling with a small
state machine (per the CodePipeline API reference):

* ``StartPipelineExecution`` snapshots the pipeline structure and runs its
  stages in order.  Within a stage, actions run grouped by ``runOrder``
  (same runOrder = in parallel).  Non-approval actions succeed at once.  An
  action whose ``actionTypeId`` is category ``Approval`` / provider ``Manual``
  stays ``InProgress`` with a fresh approval token; the execution is
  ``InProgress`` meanwhile.  When every action of a stage has succeeded, the
  next stage starts; after the last stage the execution is ``Succeeded``.
* ``PutApprovalResult`` validates pipeline / stage / action, the token and the
  status.  ``Approved`` succeeds the action (and moves on), ``Rejected`` fails
  the action, its stage and the execution (``Failed``).  The caller (from the
  request's access key, see identity.py) is recorded as ``lastUpdatedBy`` /
  ``updatedBy``; the summary as the action's summary /
  ``externalExecutionSummary``.  Response: ``{"approvedAt": <epoch>}``.
* ``GetPipelineExecution``, ``ListPipelineExecutions`` (newest first,
  ``maxResults``/``nextToken``), ``GetPipelineState`` and
  ``ListActionExecutions`` (filter ``pipelineExecutionId``, newest first,
  paginated) report that state.
* Timestamps are JSON numbers (epoch seconds), as the awsJson1_1 protocol
  requires; moto's ``GetPipeline``/``ListPipelines`` ISO strings are converted
  too (strict SDKs such as the Rust one reject strings there).

Executions are independent of each other (no superseding between concurrent
executions); times come from clock.py.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
import uuid
from typing import Any

from moto.codepipeline import models as cp_models
from moto.codepipeline.exceptions import (
    PipelineExecutionNotFoundException,
    PipelineNotFoundException,
)
from moto.codepipeline.responses import CodePipelineResponse
from moto.core.exceptions import JsonRESTError

from . import clock, identity

LOCK = threading.RLock()


class _Error(JsonRESTError):
    code = 400

    def __init__(self, error_type: str, message: str):
        super().__init__(error_type, message)


def _is_manual_approval(action: dict[str, Any]) -> bool:
    type_id = action.get("actionTypeId") or {}
    return type_id.get("category") == "Approval" and type_id.get("provider") == "Manual"


class ActionRun:
    """One action execution inside a pipeline execution."""

    def __init__(self, execution: "Execution", stage: str, action: dict[str, Any]):
        self.execution = execution
        self.stage_name = stage
        self.action = action
        self.name = action["name"]
        self.run_order = int(action.get("runOrder", 1))
        self.action_execution_id = str(uuid.uuid4())
        self.status: str | None = None  # None = not started
        self.start_time = None
        self.last_update_time = None
        self.token: str | None = None
        self.summary: str | None = None
        self.updated_by: str | None = None
        self.external_execution_id: str | None = None
        self.error_details: dict[str, str] | None = None

    @property
    def is_approval(self) -> bool:
        return _is_manual_approval(self.action)

    def start(self) -> None:
        now = clock.now()
        self.start_time = self.last_update_time = now
        if self.is_approval:
            self.status = "InProgress"
            self.token = str(uuid.uuid4())
            self.external_execution_id = self.token
        else:
            self.status = "Succeeded"
            self.external_execution_id = str(uuid.uuid4())

    def latest_execution(self) -> dict[str, Any]:
        """ActionExecution element of GetPipelineState."""
        out: dict[str, Any] = {
            "actionExecutionId": self.action_execution_id,
            "status": self.status,
            "lastStatusChange": clock.epoch(self.last_update_time),
        }
        if self.status == "InProgress" and self.token:
            out["token"] = self.token
        if self.summary is not None:
            out["summary"] = self.summary
        if self.updated_by:
            out["lastUpdatedBy"] = self.updated_by
        if self.external_execution_id:
            out["externalExecutionId"] = self.external_execution_id
        if self.error_details:
            out["errorDetails"] = self.error_details
        return out

    def detail(self, region: str) -> dict[str, Any]:
        """ActionExecutionDetail element of ListActionExecutions."""
        configuration = dict(self.action.get("configuration") or {})
        action_input: dict[str, Any] = {
            "actionTypeId": self.action["actionTypeId"],
            "configuration": configuration,
            "resolvedConfiguration": configuration,
            "region": self.action.get("region", region),
            "inputArtifacts": [
                {"name": a.get("name")} for a in self.action.get("inputArtifacts", [])
            ],
        }
        if self.action.get("roleArn"):
            action_input["roleArn"] = self.action["roleArn"]
        if self.action.get("namespace"):
            action_input["namespace"] = self.action["namespace"]
        result: dict[str, Any] = {}
        if self.external_execution_id:
            result["externalExecutionId"] = self.external_execution_id
        if self.summary is not None:
            result["externalExecutionSummary"] = self.summary
        out: dict[str, Any] = {
            "pipelineExecutionId": self.execution.execution_id,
            "actionExecutionId": self.action_execution_id,
            "pipelineVersion": self.execution.pipeline_version,
            "stageName": self.stage_name,
            "actionName": self.name,
            "startTime": clock.epoch(self.start_time),
            "lastUpdateTime": clock.epoch(self.last_update_time),
            "status": self.status,
            "input": action_input,
            "output": {
                "outputArtifacts": [
                    {"name": a.get("name")} for a in self.action.get("outputArtifacts", [])
                ],
                "executionResult": result,
                "outputVariables": {},
            },
        }
        if self.updated_by:
            out["updatedBy"] = self.updated_by
        return out


class StageRun:
    def __init__(self, execution: "Execution", stage: dict[str, Any]):
        self.name = stage["name"]
        self.actions = [ActionRun(execution, self.name, a) for a in stage["actions"]]
        self.status: str | None = None

    def advance(self) -> None:
        """Start the next runOrder group when the previous one has succeeded."""
        self.status = "InProgress"
        for order in sorted({a.run_order for a in self.actions}):
            group = [a for a in self.actions if a.run_order == order]
            for action in group:
                if action.status is None:
                    action.start()
            if any(a.status == "Failed" for a in group):
                self.status = "Failed"
                return
            if any(a.status != "Succeeded" for a in group):
                return
        self.status = "Succeeded"


class Execution:
    def __init__(self, pipeline: dict[str, Any], variables: list[dict[str, str]] | None):
        self.execution_id = str(uuid.uuid4())
        self.pipeline_name = pipeline["name"]
        self.pipeline_version = pipeline.get("version", 1)
        self.variables = variables or []
        self.start_time = self.last_update_time = clock.now()
        self.status = "InProgress"
        self.status_summary: str | None = None
        self.stages = [StageRun(self, copy.deepcopy(s)) for s in pipeline["stages"]]
        self.advance()

    def advance(self) -> None:
        for stage in self.stages:
            if stage.status == "Succeeded":
                continue
            stage.advance()
            if stage.status == "Succeeded":
                continue
            if stage.status == "Failed":
                self.status = "Failed"
            break
        else:
            self.status = "Succeeded"
        self.last_update_time = clock.now()

    def to_dict(self) -> dict[str, Any]:
        out = {
            "pipelineName": self.pipeline_name,
            "pipelineVersion": self.pipeline_version,
            "pipelineExecutionId": self.execution_id,
            "status": self.status,
            "artifactRevisions": [],
            "variables": [
                {"name": v["name"], "resolvedValue": v["value"]} for v in self.variables
            ],
            "trigger": {"triggerType": "StartPipelineExecution", "triggerDetail": ""},
            "executionMode": "SUPERSEDED",
            "executionType": "STANDARD",
        }
        if self.status_summary:
            out["statusSummary"] = self.status_summary
        return out

    def to_summary(self) -> dict[str, Any]:
        out = {
            "pipelineExecutionId": self.execution_id,
            "status": self.status,
            "startTime": clock.epoch(self.start_time),
            "lastUpdateTime": clock.epoch(self.last_update_time),
            "sourceRevisions": [],
            "trigger": {"triggerType": "StartPipelineExecution", "triggerDetail": ""},
            "executionMode": "SUPERSEDED",
            "executionType": "STANDARD",
        }
        if self.status_summary:
            out["statusSummary"] = self.status_summary
        return out


# --------------------------------------------------------------------------
# backend side


def _executions(backend: Any, name: str) -> list[Execution]:
    """Executions of pipeline ``name`` in start order (raises if no pipeline)."""
    if name not in backend.pipelines:
        raise PipelineNotFoundException(
            f"Account '{backend.account_id}' does not have a pipeline with name '{name}'"
        )
    store = backend.__dict__.setdefault("_gateaudit_executions", {})
    return store.setdefault(name, [])


def _find_execution(backend: Any, name: str, execution_id: str) -> Execution:
    for execution in _executions(backend, name):
        if execution.execution_id == execution_id:
            return execution
    raise PipelineExecutionNotFoundException(
        f"Pipeline execution with id '{execution_id}' does not exist in pipeline "
        f"with name '{name}' in account '{backend.account_id}'"
    )


def _paginate(items: list[Any], max_results: Any, next_token: Any, default: int, cap: int):
    try:
        size = int(max_results) if max_results else default
    except (TypeError, ValueError):
        raise _Error("ValidationException", "maxResults must be a number")
    if size < 1 or size > cap:
        raise _Error(
            "ValidationException",
            f"1 validation error detected: Value '{size}' at 'maxResults' failed to "
            f"satisfy constraint: Member must have value between 1 and {cap}",
        )
    start = 0
    if next_token:
        try:
            start = int(base64.b64decode(next_token).decode())
        except Exception:
            raise _Error("InvalidNextTokenException", "The next token is not valid.")
    page = items[start : start + size]
    token = None
    if start + size < len(items):
        token = base64.b64encode(str(start + size).encode()).decode()
    return page, token


def start_pipeline_execution(self: Any, name: str, variables: Any) -> str:
    with LOCK:
        executions = _executions(self, name)
        execution = Execution(self.pipelines[name].pipeline, variables)
        executions.append(execution)
        return execution.execution_id


def get_pipeline_execution(self: Any, pipeline_name: str, execution_id: str) -> Execution:
    with LOCK:
        return _find_execution(self, pipeline_name, execution_id)


# --------------------------------------------------------------------------
# response side (new and replaced operations)


def _backend(response: CodePipelineResponse) -> Any:
    return response.codepipeline_backend


def _json_body(response: CodePipelineResponse) -> dict[str, Any]:
    try:
        return json.loads(response.body or "{}")
    except ValueError:
        return {}


def r_get_pipeline_execution(self: CodePipelineResponse) -> str:
    params = _json_body(self)
    execution = _backend(self).get_pipeline_execution(
        params.get("pipelineName"), params.get("pipelineExecutionId")
    )
    with LOCK:
        return json.dumps({"pipelineExecution": execution.to_dict()})


def r_list_pipeline_executions(self: CodePipelineResponse) -> str:
    params = _json_body(self)
    with LOCK:
        executions = list(reversed(_executions(_backend(self), params.get("pipelineName"))))
        page, token = _paginate(executions, params.get("maxResults"), params.get("nextToken"), 100, 100)
        out: dict[str, Any] = {"pipelineExecutionSummaries": [e.to_summary() for e in page]}
    if token:
        out["nextToken"] = token
    return json.dumps(out)


def r_get_pipeline_state(self: CodePipelineResponse) -> str:
    params = _json_body(self)
    backend = _backend(self)
    name = params.get("name")
    with LOCK:
        executions = _executions(backend, name)
        pipeline = backend.pipelines[name]
        states = []
        for stage in pipeline.pipeline["stages"]:
            # the newest execution that reached this stage
            stage_run = None
            for execution in reversed(executions):
                for candidate in execution.stages:
                    if candidate.name == stage["name"] and candidate.status is not None:
                        stage_run = candidate
                        break
                if stage_run:
                    break
            action_states = []
            for action in stage["actions"]:
                state: dict[str, Any] = {"actionName": action["name"]}
                if stage_run:
                    for run in stage_run.actions:
                        if run.name == action["name"] and run.status is not None:
                            state["latestExecution"] = run.latest_execution()
                action_states.append(state)
            entry: dict[str, Any] = {
                "stageName": stage["name"],
                "inboundTransitionState": {"enabled": True},
                "actionStates": action_states,
            }
            if stage_run:
                owner = stage_run.actions[0].execution
                entry["latestExecution"] = {
                    "pipelineExecutionId": owner.execution_id,
                    "status": stage_run.status,
                }
            states.append(entry)
        out = {
            "pipelineName": name,
            "pipelineVersion": pipeline.pipeline["version"],
            "stageStates": states,
            "created": clock.epoch(pipeline._created),
            "updated": clock.epoch(pipeline._updated),
        }
    return json.dumps(out)


def r_put_approval_result(self: CodePipelineResponse) -> str:
    params = _json_body(self)
    backend = _backend(self)
    name = params.get("pipelineName")
    stage_name = params.get("stageName")
    action_name = params.get("actionName")
    token = params.get("token")
    result = params.get("result") or {}
    status = result.get("status")
    summary = result.get("summary")
    caller = identity.resolve(self.get_access_key(), self.current_account)
    with LOCK:
        executions = _executions(backend, name)
        structure = backend.pipelines[name].pipeline
        stage = next((s for s in structure["stages"] if s["name"] == stage_name), None)
        if stage is None:
            raise _Error(
                "StageNotFoundException",
                f"Stage '{stage_name}' not found in pipeline '{name}'",
            )
        action = next((a for a in stage["actions"] if a["name"] == action_name), None)
        if action is None:
            raise _Error(
                "ActionNotFoundException",
                f"Action '{action_name}' not found in stage '{stage_name}' of pipeline '{name}'",
            )
        if status not in ("Approved", "Rejected"):
            raise _Error(
                "ValidationException",
                f"1 validation error detected: Value '{status}' at 'result.status' failed "
                "to satisfy constraint: Member must satisfy enum value set: [Approved, Rejected]",
            )
        if summary is None or len(summary) > 512:
            raise _Error(
                "ValidationException",
                "1 validation error detected: Value at 'result.summary' failed to satisfy "
                "constraint: Member must not be null and have length less than or equal to 512",
            )
        if not _is_manual_approval(action):
            raise _Error(
                "InvalidApprovalTokenException",
                f"Action '{action_name}' in stage '{stage_name}' is not a manual approval action",
            )
        run = None
        for execution in executions:
            for stage_run in execution.stages:
                if stage_run.name != stage_name:
                    continue
                for candidate in stage_run.actions:
                    if candidate.name == action_name and candidate.token == token and token:
                        run = candidate
        if run is None:
            raise _Error(
                "InvalidApprovalTokenException",
                f"The token '{token}' is not valid for action '{action_name}' "
                f"in stage '{stage_name}' of pipeline '{name}'",
            )
        if run.status != "InProgress":
            raise _Error(
                "ApprovalAlreadyCompletedException",
                f"The approval action '{action_name}' has already been completed",
            )
        now = clock.now()
        run.summary = summary
        run.updated_by = caller.arn
        run.last_update_time = now
        if status == "Approved":
            run.status = "Succeeded"
        else:
            run.status = "Failed"
            run.error_details = {"code": "JobFailed", "message": f"Rejected: {summary}"}
            run.execution.status_summary = f"Rejected by {caller.arn}"
        run.execution.advance()
        return json.dumps({"approvedAt": clock.epoch(now)})


def r_list_action_executions(self: CodePipelineResponse) -> str:
    params = _json_body(self)
    backend = _backend(self)
    name = params.get("pipelineName")
    wanted = (params.get("filter") or {}).get("pipelineExecutionId")
    with LOCK:
        if wanted:
            executions = [_find_execution(backend, name, wanted)]
        else:
            executions = list(_executions(backend, name))
        runs = [
            run
            for execution in executions
            for stage in execution.stages
            for run in stage.actions
            if run.status is not None
        ]
        # newest first; stable tie-break on execution then declaration order (reversed)
        order = {id(r): i for i, r in enumerate(runs)}
        runs.sort(key=lambda r: (r.start_time, order[id(r)]), reverse=True)
        page, token = _paginate(runs, params.get("maxResults"), params.get("nextToken"), 100, 100)
        out: dict[str, Any] = {
            "actionExecutionDetails": [r.detail(backend.region_name) for r in page]
        }
    if token:
        out["nextToken"] = token
    return json.dumps(out)


def r_get_pipeline(self: CodePipelineResponse) -> str:
    pipeline, metadata = self.codepipeline_backend.get_pipeline(self._get_param("name"))
    codepipeline = self.codepipeline_backend.pipelines[pipeline["name"]]
    meta = {
        "pipelineArn": metadata["pipelineArn"],
        "created": clock.epoch(codepipeline._created),
        "updated": clock.epoch(codepipeline._updated),
    }
    return json.dumps({"pipeline": pipeline, "metadata": meta})


def r_list_pipelines(self: CodePipelineResponse) -> str:
    backend = self.codepipeline_backend
    pipelines = [
        {
            "name": name,
            "version": p.pipeline["version"],
            "created": clock.epoch(p._created),
            "updated": clock.epoch(p._updated),
        }
        for name, p in sorted(backend.pipelines.items())
    ]
    return json.dumps({"pipelines": pipelines})


_original_create_pipeline = cp_models.CodePipelineBackend.create_pipeline
_original_update_pipeline = cp_models.CodePipelineBackend.update_pipeline


def create_pipeline(self: Any, pipeline: dict[str, Any], tags: Any) -> Any:
    """moto's create_pipeline, with created/updated from the emulator clock."""
    result = _original_create_pipeline(self, pipeline, tags)
    created = self.pipelines[pipeline["name"]]
    created._created = created._updated = clock.now()
    return result


def update_pipeline(self: Any, pipeline: dict[str, Any]) -> Any:
    result = _original_update_pipeline(self, pipeline)
    self.pipelines[pipeline["name"]]._updated = clock.now()
    return result


def install() -> None:
    cp_models.CodePipelineBackend.create_pipeline = create_pipeline
    cp_models.CodePipelineBackend.update_pipeline = update_pipeline
    cp_models.CodePipelineBackend.start_pipeline_execution = start_pipeline_execution
    cp_models.CodePipelineBackend.get_pipeline_execution = get_pipeline_execution
    CodePipelineResponse.get_pipeline_execution = r_get_pipeline_execution
    CodePipelineResponse.list_pipeline_executions = r_list_pipeline_executions
    CodePipelineResponse.get_pipeline_state = r_get_pipeline_state
    CodePipelineResponse.put_approval_result = r_put_approval_result
    CodePipelineResponse.list_action_executions = r_list_action_executions
    CodePipelineResponse.get_pipeline = r_get_pipeline
    CodePipelineResponse.list_pipelines = r_list_pipelines
