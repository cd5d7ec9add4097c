"""CodePipeline as AWS runs it: versions, V2 declarations, executions, conditions, gates.

moto 5.2.5 stores a pipeline declaration, marks every execution ``Succeeded``
the moment it starts and has no GetPipelineState, PutApprovalResult,
ListActionExecutions, conditions or any of the calls that weaken a gate.
gateaudit audits exactly those, so this module replaces moto's CodePipeline
behaviour with a stateful implementation of the API reference and the user
guide ("How pipeline executions work", "Configure conditions for a stage").

Declarations and versions
* CreatePipeline stores version 1; UpdatePipeline stores the new declaration
  as version N+1 (metadata.updated follows).  A declaration passed with a
  ``version`` lower than the current one is refused (InvalidStructureException;
  the API reference documents no check, this is the emulator's
  optimistic-concurrency rule and its wording).  GetPipeline takes
  ``version``: a version that never existed answers
  PipelineVersionNotFoundException; like AWS (aws/aws-sdk#558: only the
  newest 10 versions are kept retrievable) an older one answers
  PipelineNotFoundException.  DeletePipeline removes the pipeline, its
  versions, executions and transition states; the name can be reused.
* Declarations are kept whole: pipelineType (default V1), executionMode
  (default SUPERSEDED), triggers, variables, artifactStore/artifactStores,
  stage beforeEntry/onSuccess/onFailure with their rules and retry
  configuration, action timeoutInMinutes, namespaces, environmentVariables...
  GetPipeline/UpdatePipeline/CreatePipeline answer the stored declaration;
  the only additions are AWS's defaults (version, pipelineType,
  executionMode; moto's runOrder 1 / configuration {} / input and output
  artifacts [] per action).
* Validation as AWS does for wrong input: the name must be free
  (PipelineNameInUseException), the role must trust codepipeline.amazonaws.com,
  two stages at least, unique stage/action names, exactly one of
  artifactStore/artifactStores (the latter covering the pipeline's region),
  enums and ranges ("1 validation error detected ..." ValidationException:
  pipelineType, executionMode, runOrder 1..999, timeoutInMinutes 5..86400),
  QUEUED/PARALLEL, triggers and variables only on V2, timeoutInMinutes and
  only CustomData/ExternalEntityLink/NotificationArn for manual approvals
  (InvalidActionDeclarationException), and for conditions
  (InvalidStageDeclarationException): V2 only, one condition, 1-5 rules,
  category Rule / owner AWS / provider one of DeploymentWindow, VariableCheck,
  CloudWatchAlarm, LambdaInvoke, Commands, CodeBuild with their required
  configuration, results FAIL|SKIP before entry (SKIP only with LambdaInvoke
  and VariableCheck rules), ROLLBACK|FAIL on success, ROLLBACK|RETRY on
  failure (retryConfiguration only with RETRY), no ROLLBACK in PARALLEL mode.
  Not validated, so older seeds keep working: that the first stage holds only
  source actions, and that an S3 source bucket is versioned.

Executions
* Every execution records the pipelineVersion it started on and runs that
  version's structure to the end, whatever UpdatePipeline does meanwhile (so
  the ``Cancelled`` status is never produced).  trigger is
  ``{StartPipelineExecution, <caller ARN>}``, ``{PutActionRevision, <caller
  ARN>}``, ``{ManualRollback, <caller ARN>}`` or ``{AutomatedRollback, <id of
  the execution whose stage failed>}``.  clientRequestToken is idempotent.
  AWS also starts an execution when a pipeline is created (trigger
  CreatePipeline); the emulator does that only after
  ``POST /_emulator/codepipeline {"startOnCreate": true}``, so that seeds
  decide every execution.
* Source actions determine the revision: S3 (S3Bucket/S3ObjectKey; the
  object's current version id, ETag, last-modified and the
  ``codepipeline-artifact-revision-summary`` metadata; a missing object fails
  the action), other providers a fresh commit id / image digest.
  StartPipelineExecution ``sourceRevisions`` override per source action
  (COMMIT_ID, IMAGE_DIGEST for ECR, S3_OBJECT_VERSION_ID / S3_OBJECT_KEY for
  S3; anything else is a ValidationException).  Summaries list
  ``sourceRevisions``; GetPipelineExecution ``artifactRevisions`` and
  ``variables`` (declared defaults overridden by the call; undeclared names
  are refused); output variables of namespaced source actions and
  ``#{variables.X}`` / ``#{codepipeline.PipelineExecutionId}`` resolve in
  ``resolvedConfiguration`` and in VariableCheck rules.
* Stages run in order, actions by runOrder.  A manual approval waits
  (InProgress, a fresh token which is also its externalExecutionId) until
  PutApprovalResult or its timeoutInMinutes (default 7 days, by the emulator
  clock: the action fails).  Other actions succeed at once unless a test set
  their outcome (``POST /_emulator/actions``).
* Execution modes: SUPERSEDED (stages lock; a newer execution reaching the
  boundary of a locked stage, or of a disabled transition, supersedes the
  older one waiting there: status Superseded; an execution that enters a
  stage makes the earlier failed runs of that stage non-retryable), QUEUED
  (executions wait in start order in front of a locked stage), PARALLEL (no
  locks: several executions can wait at one approval at once; GetPipelineState
  then shows no approval token, which only ListActionExecutions'
  externalExecutionId carries).  PutApprovalResult finds the action execution
  the token belongs to, so each approval applies to its own execution.

Conditions and rules
* beforeEntry rules are evaluated when an execution enters the stage:
  VariableCheck (EQ, NE, CONTAINS, MATCHES = Java-style full match) on the
  resolved variable; DeploymentWindow (Quartz cron + TimeZone, quartz.py) is
  Succeeded inside the window by the emulator clock and waits (InProgress)
  outside it, as AWS waits for the window to open; CloudWatchAlarm,
  LambdaInvoke, Commands and CodeBuild wait until a test sets their outcome
  (``POST /_emulator/rules``); a rule with timeoutInMinutes fails when it
  elapses.  A failed condition with result FAIL fails the stage and the
  execution, with SKIP skips the stage.  OverrideStageCondition
  (BEFORE_ENTRY while the condition is in progress or failed with FAIL;
  ON_SUCCESS likewise, not once a ROLLBACK result has rolled the stage back)
  marks the condition Overridden, abandons its running
  rules and records the caller as their ``updatedBy``; conditions with SKIP,
  settled conditions and executions a later one has overtaken in the stage are
  refused (ConditionNotOverridableException, NotLatestPipelineExecutionException).
* onSuccess: the rules run when the actions succeeded; failing, ROLLBACK
  fails the stage and starts an automated rollback, FAIL fails it.
  onFailure: ``result RETRY`` retries the stage once automatically
  (retryMode), ``result ROLLBACK`` rolls back, ``conditions`` engage ROLLBACK
  when their rules fail.  Rollbacks target the newest STANDARD execution that
  succeeded in the stage on the current pipeline version.
* ListRuleExecutions (filter pipelineExecutionId / latestInPipelineExecution,
  paginated) returns RuleExecutionDetail; GetPipelineState the condition
  states per stage.

Gate-weakening calls (all recorded by cloudtrail.py with their parameters)
* RetryStageExecution: a Failed or Stopped stage of the execution, when no
  later execution entered the stage and the pipeline version is unchanged;
  FAILED_ACTIONS re-runs failed/abandoned actions, ALL_ACTIONS all of them
  (none may be in progress); new action executions carry the caller as
  ``updatedBy``; approvals wait again; retryStageMetadata counts attempts.
* RollbackStage: a new ROLLBACK execution (rollbackMetadata, trigger
  ManualRollback) that runs only that stage with the target's revisions,
  variables and artifacts; the target must have succeeded in the stage, be
  STANDARD, on the current version, the stage idle, the mode not PARALLEL.
* Disable/EnableStageTransition: Inbound is the transition into the stage,
  Outbound the one into the next stage; executions wait at a disabled
  transition (and can be superseded there); GetPipelineState shows
  ``inboundTransitionState`` (enabled, lastChangedBy, lastChangedAt,
  disabledReason).  Enabling lets the waiting execution in.
* StopPipelineExecution: abandon=true abandons in-progress actions (stage and
  execution Stopped at once); otherwise Stopping until in-progress actions
  finish, then Stopped, no new actions start.  stopTrigger carries the reason.
* PutActionRevision: a new revision for a source action starts an execution
  with it (newRevision true); the same revision again does not.
* Not emulated: job workers (PollForJobs, PutJobSuccessResult/FailureResult,
  AcknowledgeJob, third-party jobs: non-approval actions complete by
  themselves or by ``POST /_emulator/actions``), webhooks, custom action
  types, ListRuleTypes/ListActionTypes, the events CodePipeline itself causes
  with its service role (AssumeRole, codebuild:StartBuild, ...).

Timestamps are JSON numbers (epoch seconds), as the awsJson1_1 protocol
requires (strict SDKs such as the Rust one reject strings).  Times come from
clock.py; time-driven changes (approval and rule timeouts, deployment windows)
are evaluated on every CodePipeline call and when the clock is set.
"""

from __future__ import annotations

import base64
import copy
import datetime as _dt
import hashlib
import json
import re
import threading
import uuid
from typing import Any

from moto.codepipeline import models as cp_models
from moto.codepipeline.exceptions import (
    InvalidStructureException,
    PipelineExecutionNotFoundException,
    PipelineNotFoundException,
    ResourceNotFoundException,
)
from moto.codepipeline.responses import CodePipelineResponse
from moto.core.exceptions import JsonRESTError

from . import clock, identity, quartz

LOCK = threading.RLock()

#: backends that hold pipeline state (for clock-driven ticks)
_BACKENDS: list[Any] = []
#: (account, region, pipeline, stage, rule) -> {"status", "summary"} set by POST /_emulator/rules
RULE_OUTCOMES: dict[tuple[str, str, str, str, str], dict[str, str]] = {}
#: (account, region, pipeline, stage, action) -> {"status", "summary"} set by POST /_emulator/actions
ACTION_OUTCOMES: dict[tuple[str, str, str, str, str], dict[str, str]] = {}
SETTINGS: dict[str, Any] = {"start_on_create": False}

KEPT_VERSIONS = 10
DEFAULT_APPROVAL_TIMEOUT = 7 * 24 * 60
RULE_PROVIDERS = ("DeploymentWindow", "VariableCheck", "CloudWatchAlarm", "LambdaInvoke", "Commands", "CodeBuild")
CONTROLLED_RULES = ("CloudWatchAlarm", "LambdaInvoke", "Commands", "CodeBuild")
APPROVAL_CONFIG_KEYS = ("CustomData", "ExternalEntityLink", "NotificationArn")
SOURCE_REVISION_TYPES = {
    "S3": ("S3_OBJECT_VERSION_ID", "S3_OBJECT_KEY"),
    "ECR": ("IMAGE_DIGEST",),
}
GIT_REVISION_TYPES = ("COMMIT_ID",)
_VARIABLE_RE = re.compile(r"#\{([A-Za-z0-9@\-_]+)\.([A-Za-z0-9@\-_]+)\}")


class _Error(JsonRESTError):
    code = 400

    def __init__(self, error_type: str, message: str):
        super().__init__(error_type, message)


def _validation(path: str, value: Any, constraint: str) -> _Error:
    return _Error("ValidationException",
                  f"1 validation error detected: Value '{value}' at '{path}' failed to satisfy "
                  f"constraint: {constraint}")


def _enum(path: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise _validation(path, value, f"Member must satisfy enum value set: [{', '.join(allowed)}]")


def _is_manual_approval(action: dict[str, Any]) -> bool:
    type_id = action.get("actionTypeId") or {}
    return type_id.get("category") == "Approval" and type_id.get("provider") == "Manual"


def _is_source(action: dict[str, Any]) -> bool:
    return (action.get("actionTypeId") or {}).get("category") == "Source"


def _caller(response: CodePipelineResponse) -> identity.Identity:
    return identity.resolve(response.get_access_key(), response.current_account)


# --------------------------------------------------------------------------
# declaration validation


def _validate_conditions(stage: dict[str, Any], s: int, ptype: str, mode: str) -> None:
    stage_name = stage.get("name")

    def bad(message: str) -> _Error:
        return _Error("InvalidStageDeclarationException", f"Stage '{stage_name}': {message}")

    kinds = [k for k in ("beforeEntry", "onSuccess", "onFailure") if stage.get(k) is not None]
    if kinds and ptype != "V2":
        raise bad(f"{', '.join(kinds)} conditions can only be used with V2 pipelines")
    for kind in kinds:
        block = stage[kind] or {}
        conditions = block.get("conditions")
        if kind == "onFailure":
            result = block.get("result")
            if result is not None:
                _enum(f"pipeline.stages.{s}.member.onFailure.result", result, ("ROLLBACK", "FAIL", "RETRY", "SKIP"))
                if result not in ("ROLLBACK", "RETRY"):
                    raise bad(f"onFailure result {result} is not supported; use ROLLBACK or RETRY")
            retry = block.get("retryConfiguration")
            if retry is not None:
                if result != "RETRY":
                    raise bad("retryConfiguration can only be used with the RETRY result")
                if retry.get("retryMode") is not None:
                    _enum(f"pipeline.stages.{s}.member.onFailure.retryConfiguration.retryMode",
                          retry["retryMode"], ("FAILED_ACTIONS", "ALL_ACTIONS"))
            if result == "RETRY" and conditions:
                raise bad("automatic stage retry cannot be combined with onFailure conditions")
            if result == "ROLLBACK" and mode == "PARALLEL":
                raise bad("the ROLLBACK result is not available in PARALLEL mode")
            if result is None and not conditions:
                raise bad("onFailure needs a result or conditions")
            if not conditions:
                continue
        elif not conditions:
            raise bad(f"{kind} needs exactly one condition")
        if len(conditions) != 1:
            raise _validation(f"pipeline.stages.{s}.member.{kind}.conditions", len(conditions),
                              "Member must have length less than or equal to 1")
        condition = conditions[0] or {}
        allowed = {"beforeEntry": ("FAIL", "SKIP"), "onSuccess": ("ROLLBACK", "FAIL"),
                   "onFailure": ("ROLLBACK",)}[kind]
        result = condition.get("result")
        if result is None:
            raise bad(f"the {kind} condition needs a result ({' or '.join(allowed)})")
        _enum(f"pipeline.stages.{s}.member.{kind}.conditions.1.member.result", result,
              ("ROLLBACK", "FAIL", "RETRY", "SKIP"))
        if result not in allowed:
            raise bad(f"result {result} is not supported for {kind} conditions; use {' or '.join(allowed)}")
        if result == "ROLLBACK" and mode == "PARALLEL":
            raise bad("the ROLLBACK result is not available in PARALLEL mode")
        rules = condition.get("rules") or []
        if not 1 <= len(rules) <= 5:
            raise _validation(f"pipeline.stages.{s}.member.{kind}.conditions.1.member.rules", len(rules),
                              "Member must have length between 1 and 5")
        names = set()
        for r, rule in enumerate(rules, start=1):
            path = f"pipeline.stages.{s}.member.{kind}.conditions.1.member.rules.{r}.member"
            name = rule.get("name")
            if name in names:
                raise bad(f"rule name '{name}' is used twice in one condition")
            names.add(name)
            type_id = rule.get("ruleTypeId") or {}
            _enum(f"{path}.ruleTypeId.category", type_id.get("category"), ("Rule",))
            if type_id.get("owner") is not None:
                _enum(f"{path}.ruleTypeId.owner", type_id.get("owner"), ("AWS",))
            provider = type_id.get("provider")
            if provider not in RULE_PROVIDERS:
                raise bad(f"rule '{name}': rule type provider '{provider}' does not exist "
                          f"(one of {', '.join(RULE_PROVIDERS)})")
            if result == "SKIP" and provider not in ("LambdaInvoke", "VariableCheck"):
                raise bad(f"rule '{name}': the SKIP result supports only LambdaInvoke and VariableCheck rules")
            timeout = rule.get("timeoutInMinutes")
            if timeout is not None and not 5 <= int(timeout) <= 86400:
                raise _validation(f"{path}.timeoutInMinutes", timeout, "Member must have value between 5 and 86400")
            config = rule.get("configuration") or {}
            required = {"VariableCheck": ("Variable", "Value", "Operator"), "DeploymentWindow": ("Cron",),
                        "CloudWatchAlarm": ("AlarmName",), "LambdaInvoke": ("FunctionName",),
                        "CodeBuild": ("ProjectName",), "Commands": ()}[provider]
            missing = [k for k in required if not config.get(k)]
            if missing:
                raise bad(f"rule '{name}': configuration is missing {', '.join(missing)}")
            if provider == "Commands" and not rule.get("commands"):
                raise bad(f"rule '{name}': a Commands rule needs commands")
            if provider == "VariableCheck" and config["Operator"] not in ("EQ", "NE", "CONTAINS", "MATCHES"):
                raise bad(f"rule '{name}': Operator must be one of EQ, NE, CONTAINS, MATCHES")
            if provider == "DeploymentWindow":
                try:
                    quartz.parse(config["Cron"])
                    quartz.time_zone(config.get("TimeZone"))
                except ValueError as err:
                    raise bad(f"rule '{name}': {err}")


def validate_declaration(decl: dict[str, Any], region: str) -> None:
    """Raise AWS's errors for declarations AWS refuses (see the module docstring)."""
    ptype = decl.get("pipelineType") or "V1"
    _enum("pipeline.pipelineType", ptype, ("V2", "V1"))
    mode = decl.get("executionMode") or "SUPERSEDED"
    _enum("pipeline.executionMode", mode, ("QUEUED", "SUPERSEDED", "PARALLEL"))
    if ptype == "V1":
        if mode != "SUPERSEDED":
            raise InvalidStructureException(f"Execution mode {mode} can only be used with V2 pipelines")
        if decl.get("triggers"):
            raise InvalidStructureException("Triggers can only be used with V2 pipelines")
        if decl.get("variables"):
            raise InvalidStructureException("Pipeline variables can only be used with V2 pipelines")
    if decl.get("artifactStore") and decl.get("artifactStores"):
        raise InvalidStructureException("Pipeline cannot have both artifactStore and artifactStores")
    if not decl.get("artifactStore") and not decl.get("artifactStores"):
        raise InvalidStructureException("Pipeline must have either artifactStore or artifactStores")
    if decl.get("artifactStores") and region not in decl["artifactStores"]:
        raise InvalidStructureException(f"artifactStores must contain an artifact store for the pipeline's "
                                        f"region {region}")
    seen = set()
    for v in decl.get("variables") or []:
        name = v.get("name")
        if not name or not re.fullmatch(r"[A-Za-z0-9@\-_]+", name):
            raise _validation("pipeline.variables.member.name", name, "Member must satisfy regular expression "
                              "pattern: [A-Za-z0-9@\\-_]+")
        if name in seen:
            raise InvalidStructureException(f"Pipeline variable '{name}' is declared twice")
        seen.add(name)
    if len(decl.get("variables") or []) > 50:
        raise _validation("pipeline.variables", len(decl["variables"]), "Member must have length less than or "
                          "equal to 50")
    stages = decl.get("stages") or []
    if len(stages) < 2:
        raise InvalidStructureException(
            f"Pipeline has only {len(stages)} stage(s). There should be a minimum of 2 stages in a pipeline")
    stage_names = set()
    source_actions: dict[str, dict[str, Any]] = {}
    for s, stage in enumerate(stages, start=1):
        name = stage.get("name")
        if name in stage_names:
            raise InvalidStructureException(f"Stage name '{name}' is used more than once in the pipeline")
        stage_names.add(name)
        actions = stage.get("actions") or []
        if not actions:
            raise _Error("InvalidStageDeclarationException", f"Stage '{name}' has no actions")
        action_names = set()
        for a, action in enumerate(actions, start=1):
            path = f"pipeline.stages.{s}.member.actions.{a}.member"
            aname = action.get("name")
            if aname in action_names:
                raise _Error("InvalidActionDeclarationException",
                             f"Action name '{aname}' is used more than once in stage '{name}'")
            action_names.add(aname)
            type_id = action.get("actionTypeId") or {}
            _enum(f"{path}.actionTypeId.category", type_id.get("category"),
                  ("Source", "Build", "Deploy", "Test", "Invoke", "Approval", "Compute"))
            _enum(f"{path}.actionTypeId.owner", type_id.get("owner"), ("AWS", "ThirdParty", "Custom"))
            run_order = action.get("runOrder", 1)
            if not 1 <= int(run_order) <= 999:
                raise _validation(f"{path}.runOrder", run_order, "Member must have value between 1 and 999")
            timeout = action.get("timeoutInMinutes")
            if _is_manual_approval(action):
                unknown = sorted(set(action.get("configuration") or {}) - set(APPROVAL_CONFIG_KEYS))
                if unknown:
                    raise _Error("InvalidActionDeclarationException",
                                 f"Action configuration for action '{aname}' contains unknown configuration "
                                 f"'{unknown[0]}'")
                if timeout is not None and not 5 <= int(timeout) <= 86400:
                    raise _validation(f"{path}.timeoutInMinutes", timeout,
                                      "Member must have value between 5 and 86400")
            elif timeout is not None:
                raise _Error("InvalidActionDeclarationException",
                             f"Action '{aname}': timeoutInMinutes is available only for the manual approval "
                             "action type")
            if _is_source(action):
                source_actions[aname] = action
        _validate_conditions(stage, s, ptype, mode)
    for t, trigger in enumerate(decl.get("triggers") or [], start=1):
        _enum(f"pipeline.triggers.{t}.member.providerType", trigger.get("providerType"),
              ("CodeStarSourceConnection",))
        source = ((trigger.get("gitConfiguration") or {}).get("sourceActionName"))
        action = source_actions.get(source)
        if action is None or (action.get("actionTypeId") or {}).get("provider") != "CodeStarSourceConnection":
            raise InvalidStructureException(f"Trigger source action '{source}' must be a CodeStarSourceConnection "
                                            "source action of the pipeline")


def _check_role(backend: Any, role_arn: str) -> None:
    from . import sts

    try:
        role = backend.iam_backend.get_role_by_arn(role_arn)
        trusted = sts.trust_allows(role.assume_role_policy_document, None, "sts:AssumeRole", {},
                                   service="codepipeline.amazonaws.com")
    except Exception:
        trusted = False
    if not trusted:
        raise InvalidStructureException(f"CodePipeline is not authorized to perform AssumeRole on role {role_arn}")


def _with_defaults(decl: dict[str, Any], version: int) -> dict[str, Any]:
    out = copy.deepcopy(decl)
    out["version"] = version
    out.setdefault("pipelineType", "V1")
    out.setdefault("executionMode", "SUPERSEDED")
    for stage in out["stages"]:
        for action in stage["actions"]:
            action.setdefault("runOrder", 1)
            action.setdefault("configuration", {})
            action.setdefault("outputArtifacts", [])
            action.setdefault("inputArtifacts", [])
    return out


# --------------------------------------------------------------------------
# pipeline state


class Transition:
    def __init__(self) -> None:
        self.enabled = True
        self.changed_by: str | None = None
        self.changed_at = None
        self.reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"enabled": self.enabled}
        if self.changed_by:
            out["lastChangedBy"] = self.changed_by
        if self.changed_at is not None:
            out["lastChangedAt"] = clock.epoch(self.changed_at)
        if not self.enabled and self.reason:
            out["disabledReason"] = self.reason
        return out


class PipelineState:
    def __init__(self, backend: Any, decl: dict[str, Any]):
        self.account = backend.account_id
        self.region = backend.region_name
        self.name = decl["name"]
        self.versions: dict[int, dict[str, Any]] = {1: decl}
        self.current = 1
        self.executions: list[Execution] = []
        self.transitions: dict[str, Transition] = {}
        self.request_tokens: dict[str, str] = {}
        self.revisions: dict[tuple[str, str], dict[str, Any]] = {}
        self.latest_entry: dict[str, Execution] = {}

    @property
    def declaration(self) -> dict[str, Any]:
        return self.versions[self.current]

    def transition(self, stage: str) -> Transition:
        return self.transitions.setdefault(stage, Transition())

    def entry_allowed(self, stage: str) -> bool:
        return self.transitions.get(stage, Transition()).enabled

    def occupant(self, stage: str, exclude: "Execution") -> "Execution | None":
        for ex in self.executions:
            if ex is exclude or ex.status not in ("InProgress", "Stopping") or ex.at_boundary:
                continue
            run = ex.current_run()
            if run is not None and run.name == stage and run.status in ("InProgress", "Stopping"):
                return ex
        return None

    def waiting_at(self, stage: str) -> list["Execution"]:
        return [ex for ex in self.executions
                if ex.status == "InProgress" and ex.at_boundary and ex.current_stage_name() == stage]

    def find(self, execution_id: str) -> "Execution":
        for ex in self.executions:
            if ex.execution_id == execution_id:
                return ex
        raise PipelineExecutionNotFoundException(
            f"Pipeline execution with id '{execution_id}' does not exist in pipeline with name "
            f"'{self.name}' in account '{self.account}'")


def _store(backend: Any) -> dict[str, PipelineState]:
    store = backend.__dict__.get("_gateaudit_pipelines")
    if store is None:
        store = backend.__dict__.setdefault("_gateaudit_pipelines", {})
        with LOCK:
            _BACKENDS.append(backend)
    return store


def _state(backend: Any, name: str) -> PipelineState:
    st = _store(backend).get(name)
    if st is None or name not in backend.pipelines:
        raise PipelineNotFoundException(f"Account '{backend.account_id}' does not have a pipeline with name '{name}'")
    return st


# --------------------------------------------------------------------------
# rules and conditions


def _rule_key(run: "RuleRun") -> tuple[str, str, str, str, str]:
    st = run.execution.pipeline
    return (st.account, st.region, st.name, run.stage_name, run.name)


class RuleRun:
    """One rule execution (RuleExecutionDetail)."""

    def __init__(self, execution: "Execution", stage: str, kind: str, decl: dict[str, Any]):
        self.execution = execution
        self.stage_name = stage
        self.kind = kind
        self.decl = decl
        self.name = decl["name"]
        self.provider = (decl.get("ruleTypeId") or {}).get("provider")
        self.rule_execution_id = str(uuid.uuid4())
        self.status = "InProgress"
        self.start_time = self.last_update_time = clock.now()
        self.summary: str | None = None
        self.error_details: dict[str, str] | None = None
        self.updated_by: str | None = None
        self.external_execution_id: str | None = None
        self.resolved_configuration = execution.resolve_map(decl.get("configuration") or {})

    def _settle(self, status: str, summary: str | None = None, error: dict[str, str] | None = None) -> None:
        self.status = status
        self.summary = summary
        self.error_details = error
        self.last_update_time = clock.now()

    def evaluate(self) -> bool:
        """Re-evaluate a running rule; True when its status changed."""
        if self.status != "InProgress":
            return False
        now = clock.now()
        config = self.decl.get("configuration") or {}
        if self.provider == "VariableCheck":
            value, missing = self.execution.resolve(config.get("Variable", ""))
            expected, missing_expected = self.execution.resolve(config.get("Value", ""))
            if missing or missing_expected:
                names = ", ".join(missing + missing_expected)
                self._settle("Failed", f"Unable to resolve variable(s) {names}",
                             {"code": "VariableNotFound", "message": f"Unable to resolve {names}"})
                return True
            operator = config.get("Operator")
            if operator == "EQ":
                ok = value == expected
            elif operator == "NE":
                ok = value != expected
            elif operator == "CONTAINS":
                ok = expected in value
            else:
                try:
                    ok = re.fullmatch(expected, value) is not None
                except re.error:
                    self._settle("Failed", f"Invalid regular expression '{expected}'",
                                 {"code": "InvalidRegex", "message": f"Invalid regular expression '{expected}'"})
                    return True
            verdict = "passed" if ok else "failed"
            self._settle("Succeeded" if ok else "Failed",
                         f"Variable check {verdict}: '{value}' {operator} '{expected}'")
            return True
        if self.provider == "DeploymentWindow":
            if quartz.window_open(config["Cron"], config.get("TimeZone"), now):
                self._settle("Succeeded", f"The deployment window {config['Cron']} "
                             f"({config.get('TimeZone') or 'UTC'}) is open")
                return True
        else:
            outcome = RULE_OUTCOMES.get(_rule_key(self))
            if outcome and outcome.get("status") in ("Succeeded", "Failed"):
                error = None
                if outcome["status"] == "Failed":
                    error = {"code": "JobFailed", "message": outcome.get("summary") or "Rule failed"}
                self.external_execution_id = outcome.get("externalExecutionId") or self.external_execution_id
                self._settle(outcome["status"], outcome.get("summary"), error)
                return True
        timeout = self.decl.get("timeoutInMinutes")
        if timeout is not None and (now - self.start_time).total_seconds() >= int(timeout) * 60:
            self._settle("Failed", f"The rule timed out after {timeout} minutes",
                         {"code": "TimedOut", "message": f"The rule timed out after {timeout} minutes"})
            return True
        return False

    def state(self) -> dict[str, Any]:
        """RuleState of GetPipelineState."""
        latest: dict[str, Any] = {
            "ruleExecutionId": self.rule_execution_id,
            "status": self.status,
            "lastStatusChange": clock.epoch(self.last_update_time),
        }
        if self.summary:
            latest["summary"] = self.summary
        if self.updated_by:
            latest["lastUpdatedBy"] = self.updated_by
        if self.external_execution_id:
            latest["externalExecutionId"] = self.external_execution_id
        if self.error_details:
            latest["errorDetails"] = self.error_details
        return {"ruleName": self.name, "latestExecution": latest}

    def detail(self) -> dict[str, Any]:
        """RuleExecutionDetail of ListRuleExecutions."""
        ex = self.execution
        rule_input: dict[str, Any] = {
            "ruleTypeId": self.decl.get("ruleTypeId"),
            "configuration": dict(self.decl.get("configuration") or {}),
            "resolvedConfiguration": self.resolved_configuration,
            "roleArn": self.decl.get("roleArn") or ex.structure.get("roleArn"),
            "region": self.decl.get("region") or ex.pipeline.region,
            "inputArtifacts": [{"name": a.get("name")} for a in self.decl.get("inputArtifacts") or []],
        }
        result: dict[str, Any] = {}
        if self.external_execution_id:
            result["externalExecutionId"] = self.external_execution_id
        if self.summary:
            result["externalExecutionSummary"] = self.summary
        if self.error_details:
            result["errorDetails"] = self.error_details
        out: dict[str, Any] = {
            "pipelineExecutionId": ex.execution_id,
            "ruleExecutionId": self.rule_execution_id,
            "pipelineVersion": ex.pipeline_version,
            "stageName": self.stage_name,
            "ruleName": self.name,
            "startTime": clock.epoch(self.start_time),
            "lastUpdateTime": clock.epoch(self.last_update_time),
            "status": self.status,
            "input": rule_input,
            "output": {"executionResult": result},
        }
        if self.updated_by:
            out["updatedBy"] = self.updated_by
        return out


class ConditionRun:
    """One run of a stage's condition (its rules are evaluated together)."""

    def __init__(self, execution: "Execution", stage: str, kind: str, decl: dict[str, Any]):
        self.kind = kind  # BEFORE_ENTRY | ON_SUCCESS | ON_FAILURE
        self.decl = decl
        self.result = decl.get("result")
        self.rules = [RuleRun(execution, stage, kind, r) for r in decl.get("rules") or []]
        self.status = "InProgress"
        self.summary: str | None = None
        self.last_change = clock.now()
        self.overridden_by: str | None = None

    def evaluate(self) -> bool:
        if self.status != "InProgress":
            return False
        changed = False
        for rule in self.rules:
            changed = rule.evaluate() or changed
        failed = [r for r in self.rules if r.status == "Failed"]
        if failed:
            for rule in self.rules:
                if rule.status == "InProgress":
                    rule._settle("Abandoned")
            self.status = "Failed"
            self.summary = failed[0].summary or f"Rule {failed[0].name} failed"
            self.last_change = clock.now()
            return True
        if all(r.status == "Succeeded" for r in self.rules):
            self.status = "Succeeded"
            self.summary = "All rules succeeded"
            self.last_change = clock.now()
            return True
        return changed

    def override(self, caller_arn: str) -> None:
        now = clock.now()
        for rule in self.rules:
            if rule.status == "InProgress":
                rule.status = "Abandoned"
            if rule.status != "Succeeded":
                rule.updated_by = caller_arn
                rule.last_update_time = now
        self.status = "Overridden"
        self.summary = f"Overridden by {caller_arn}"
        self.overridden_by = caller_arn
        self.last_change = now

    def state(self) -> dict[str, Any]:
        """StageConditionState of GetPipelineState."""
        latest: dict[str, Any] = {"status": self.status}
        if self.summary:
            latest["summary"] = self.summary
        condition: dict[str, Any] = {"status": self.status, "lastStatusChange": clock.epoch(self.last_change)}
        if self.summary:
            condition["summary"] = self.summary
        return {"latestExecution": latest,
                "conditionStates": [{"latestExecution": condition,
                                     "ruleStates": [r.state() for r in self.rules]}]}


# --------------------------------------------------------------------------
# actions and stages


def _action_key(run: "ActionRun") -> tuple[str, str, str, str, str]:
    st = run.execution.pipeline
    return (st.account, st.region, st.name, run.stage_name, run.name)


class ActionRun:
    """One action execution (ActionExecutionDetail)."""

    def __init__(self, stage_run: "StageRun", decl: dict[str, Any], updated_by: str | None = None):
        self.stage_run = stage_run
        self.execution = stage_run.execution
        self.stage_name = stage_run.name
        self.action = decl
        self.name = decl["name"]
        self.run_order = int(decl.get("runOrder", 1))
        self.action_execution_id = str(uuid.uuid4())
        self.status: str | None = None
        self.start_time = None
        self.last_update_time = None
        self.token: str | None = None
        self.summary: str | None = None
        self.updated_by = updated_by
        self.external_execution_id: str | None = None
        self.error_details: dict[str, str] | None = None
        self.output_variables: dict[str, str] = {}
        self.revision: dict[str, Any] | None = None
        self.resolved_configuration: dict[str, str] = {}

    @property
    def is_approval(self) -> bool:
        return _is_manual_approval(self.action)

    def _fail(self, message: str, code: str = "JobFailed") -> None:
        self.status = "Failed"
        self.error_details = {"code": code, "message": message}
        self.summary = self.summary or message

    def start(self) -> None:
        now = clock.now()
        self.start_time = self.last_update_time = now
        self.resolved_configuration = self.execution.resolve_map(self.action.get("configuration") or {})
        provider = (self.action.get("actionTypeId") or {}).get("provider")
        if self.is_approval:
            self.status = "InProgress"
            self.token = str(uuid.uuid4())
            self.external_execution_id = self.token
            return
        if _is_source(self.action):
            self.execution.run_source(self)
        else:
            outcome = ACTION_OUTCOMES.get(_action_key(self)) or {}
            if provider == "CodeBuild":
                project = self.resolved_configuration.get("ProjectName", "project")
                self.external_execution_id = f"{project}:{uuid.uuid4()}"
            else:
                self.external_execution_id = str(uuid.uuid4())
            if outcome.get("status") == "Failed":
                self._fail(outcome.get("summary") or f"Action {self.name} failed")
            else:
                self.status = "Succeeded"
                if outcome.get("summary"):
                    self.summary = outcome["summary"]
        namespace = self.action.get("namespace")
        if namespace and self.status == "Succeeded":
            self.execution.namespaces[namespace] = dict(self.output_variables)

    def check_timeout(self, now: Any) -> bool:
        if not (self.is_approval and self.status == "InProgress" and self.start_time is not None):
            return False
        minutes = int(self.action.get("timeoutInMinutes") or DEFAULT_APPROVAL_TIMEOUT)
        if (now - self.start_time).total_seconds() < minutes * 60:
            return False
        self._fail(f"The approval action timed out after {minutes} minutes")
        self.last_update_time = now
        return True

    def latest_execution(self, with_token: bool) -> dict[str, Any]:
        """ActionExecution element of GetPipelineState."""
        out: dict[str, Any] = {
            "actionExecutionId": self.action_execution_id,
            "status": self.status,
            "lastStatusChange": clock.epoch(self.last_update_time),
        }
        if with_token and self.status == "InProgress" and self.token:
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

    def detail(self) -> dict[str, Any]:
        """ActionExecutionDetail element of ListActionExecutions."""
        ex = self.execution
        configuration = dict(self.action.get("configuration") or {})
        action_input: dict[str, Any] = {
            "actionTypeId": self.action["actionTypeId"],
            "configuration": configuration,
            "resolvedConfiguration": self.resolved_configuration or configuration,
            "region": self.action.get("region", ex.pipeline.region),
            "inputArtifacts": [{"name": a.get("name")} for a in self.action.get("inputArtifacts", [])],
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
        if self.error_details:
            result["errorDetails"] = self.error_details
        out: dict[str, Any] = {
            "pipelineExecutionId": ex.execution_id,
            "actionExecutionId": self.action_execution_id,
            "pipelineVersion": ex.pipeline_version,
            "stageName": self.stage_name,
            "actionName": self.name,
            "startTime": clock.epoch(self.start_time),
            "lastUpdateTime": clock.epoch(self.last_update_time),
            "status": self.status,
            "input": action_input,
            "output": {
                "outputArtifacts": [{"name": a.get("name")} for a in self.action.get("outputArtifacts", [])],
                "executionResult": result,
                "outputVariables": dict(self.output_variables),
            },
        }
        if self.updated_by:
            out["updatedBy"] = self.updated_by
        return out


class StageRun:
    """An execution's run of one stage (all its attempts)."""

    def __init__(self, execution: "Execution", decl: dict[str, Any]):
        self.execution = execution
        self.decl = decl
        self.name = decl["name"]
        self.status: str | None = None
        self.phase: str | None = None  # entry | actions | success | failure | done
        self.current: dict[str, ActionRun] = {}
        self.history: list[ActionRun] = []
        self.conditions: dict[str, ConditionRun] = {}
        self.condition_history: list[ConditionRun] = []
        self.manual_retries = 0
        self.auto_retries = 0
        self.latest_retry_trigger: str | None = None
        self.retry_by: str | None = None
        self.superseded = False
        self.failure_kind: str | None = None
        self.entered_at = clock.now()
        self.ended_at = None

    def start_condition(self, kind: str, decl: dict[str, Any]) -> ConditionRun:
        run = ConditionRun(self.execution, self.name, kind, decl)
        self.conditions[kind] = run
        self.condition_history.append(run)
        return run

    def rule_runs(self) -> list[RuleRun]:
        return [r for c in self.condition_history for r in c.rules]

    def in_progress_actions(self) -> list[ActionRun]:
        return [r for r in self.current.values() if r.status == "InProgress"]

    def advance_actions(self, stopping: bool) -> tuple[str, bool]:
        changed = False
        actions = self.decl["actions"]
        for order in sorted({int(a.get("runOrder", 1)) for a in actions}):
            group = [a for a in actions if int(a.get("runOrder", 1)) == order]
            for decl in group:
                if decl["name"] in self.current:
                    continue
                if stopping:
                    return ("waiting" if self.in_progress_actions() else "stopped"), changed
                run = ActionRun(self, decl, self.retry_by)
                self.current[decl["name"]] = run
                self.history.append(run)
                run.start()
                changed = True
            runs = [self.current[a["name"]] for a in group]
            if any(r.status in ("Failed", "Abandoned") for r in runs):
                return "failed", changed
            if any(r.status != "Succeeded" for r in runs):
                return "waiting", changed
        return "succeeded", changed

    def step(self) -> bool:
        ex = self.execution
        if self.phase == "entry":
            cond = self.conditions["BEFORE_ENTRY"]
            changed = cond.evaluate()
            if cond.status in ("Succeeded", "Overridden"):
                self.phase = "actions"
                return True
            if cond.status == "Failed":
                self.phase = "done"
                self.ended_at = clock.now()
                if cond.result == "SKIP":
                    self.status = "Skipped"
                    ex.stage_finished(self)
                else:
                    self.status = "Failed"
                    self.failure_kind = "entry"
                    ex.fail(f"Entry condition of stage {self.name} failed: {cond.summary}")
                return True
            return changed
        if self.phase == "actions":
            outcome, changed = self.advance_actions(ex.status == "Stopping")
            if outcome == "succeeded":
                on_success = (self.decl.get("onSuccess") or {}).get("conditions")
                if on_success and "ON_SUCCESS" not in self.conditions:
                    self.phase = "success"
                    self.start_condition("ON_SUCCESS", on_success[0])
                else:
                    self.succeed()
                return True
            if outcome == "failed":
                self.fail_actions()
                return True
            if outcome == "stopped":
                self.status = "Stopped"
                self.phase = "done"
                self.ended_at = clock.now()
                ex.finish("Stopped")
                return True
            return changed
        if self.phase == "success":
            cond = self.conditions["ON_SUCCESS"]
            changed = cond.evaluate()
            if cond.status in ("Succeeded", "Overridden"):
                self.succeed()
                return True
            if cond.status == "Failed":
                self.status = "Failed"
                self.failure_kind = "success"
                self.phase = "done"
                self.ended_at = clock.now()
                ex.fail(f"Success condition of stage {self.name} failed: {cond.summary}")
                if cond.result == "ROLLBACK":
                    ex.pipeline_rollback(self)
                return True
            return changed
        if self.phase == "failure":
            cond = self.conditions["ON_FAILURE"]
            changed = cond.evaluate()
            if cond.status in ("Succeeded", "Failed", "Overridden"):
                self.phase = "done"
                ex.fail(ex.status_summary or f"Stage {self.name} failed")
                if cond.status == "Failed" and cond.result == "ROLLBACK":
                    ex.pipeline_rollback(self)
                return True
            return changed
        return False

    def succeed(self) -> None:
        self.status = "Succeeded"
        self.phase = "done"
        self.ended_at = clock.now()
        self.execution.stage_finished(self)

    def fail_actions(self) -> None:
        ex = self.execution
        self.status = "Failed"
        self.failure_kind = "actions"
        self.ended_at = clock.now()
        failed = [r for r in self.current.values() if r.status == "Failed"]
        summary = f"Stage {self.name} failed"
        if failed and failed[0].error_details:
            summary = f"Action {failed[0].name} failed: {failed[0].error_details['message']}"
        summary = ex.status_summary or summary
        ex.status_summary = summary
        on_failure = self.decl.get("onFailure") or {}
        if on_failure.get("result") == "RETRY" and self.auto_retries < 1 and ex.status == "InProgress":
            self.auto_retries += 1
            self.latest_retry_trigger = "AutomatedStageRetry"
            mode = (on_failure.get("retryConfiguration") or {}).get("retryMode") or "FAILED_ACTIONS"
            self.retry(mode, None)
            return
        if on_failure.get("conditions"):
            self.phase = "failure"
            self.start_condition("ON_FAILURE", on_failure["conditions"][0])
            return
        self.phase = "done"
        ex.fail(summary)
        if on_failure.get("result") == "ROLLBACK":
            ex.pipeline_rollback(self)

    def retry(self, mode: str, by: str | None) -> None:
        ex = self.execution
        if mode == "ALL_ACTIONS":
            self.current = {}
        else:
            self.current = {n: r for n, r in self.current.items() if r.status not in ("Failed", "Abandoned")}
        self.retry_by = by
        self.status = "InProgress"
        self.phase = "actions"
        self.failure_kind = None
        self.ended_at = None
        for kind in ("ON_SUCCESS", "ON_FAILURE"):
            self.conditions.pop(kind, None)
        ex.status = "InProgress"
        ex.status_summary = None
        ex.stop_trigger = None
        ex.last_update_time = clock.now()

    def stage_execution(self) -> dict[str, Any]:
        return {"pipelineExecutionId": self.execution.execution_id, "status": self.status,
                "type": self.execution.execution_type}


# --------------------------------------------------------------------------
# executions


def _s3_object(bucket: str, key: str, version_id: str | None) -> Any:
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket)
    if owner is None:
        return None
    partition, account = owner
    try:
        return s3_backends[account][partition].get_object(bucket, key, version_id=version_id)
    except Exception:
        return None


class Execution:
    def __init__(self, st: PipelineState, version: int, *, trigger: dict[str, str],
                 variables: dict[str, str], overrides: dict[str, tuple[str, str]] | None = None,
                 execution_type: str = "STANDARD", rollback_target: "Execution | None" = None,
                 only_stage: str | None = None):
        self.pipeline = st
        self.execution_id = str(uuid.uuid4())
        self.pipeline_name = st.name
        self.pipeline_version = version
        self.structure = copy.deepcopy(st.versions[version])
        self.mode = self.structure.get("executionMode") or "SUPERSEDED"
        if (self.structure.get("pipelineType") or "V1") == "V1":
            self.mode = "SUPERSEDED"
        self.execution_type = execution_type
        self.rollback_target = rollback_target
        self.trigger = trigger
        self.variables = variables
        self.overrides = overrides or {}
        self.status = "InProgress"
        self.status_summary: str | None = None
        self.start_time = self.last_update_time = clock.now()
        self.stop_trigger: dict[str, str] | None = None
        self.abandon = False
        self.stage_runs: dict[str, StageRun] = {}
        self.namespaces: dict[str, dict[str, str]] = {}
        self.sources: dict[str, dict[str, Any]] = {}  # source action name -> revision
        self.only_stage = only_stage
        names = [s["name"] for s in self.structure["stages"]]
        self.cursor = names.index(only_stage) if only_stage else 0
        self.at_boundary = True
        if rollback_target is not None:
            self.sources = copy.deepcopy(rollback_target.sources)
            self.namespaces = copy.deepcopy(rollback_target.namespaces)

    # -- variables

    def resolve(self, text: str) -> tuple[str, list[str]]:
        missing: list[str] = []
        variables = dict(self.variables)

        def replace(match: re.Match) -> str:
            namespace, name = match.group(1), match.group(2)
            if namespace == "variables" and name in variables:
                return variables[name]
            if namespace == "codepipeline" and name == "PipelineExecutionId":
                return self.execution_id
            if name in self.namespaces.get(namespace, {}):
                return self.namespaces[namespace][name]
            missing.append(match.group(0))
            return match.group(0)

        return _VARIABLE_RE.sub(replace, str(text)), missing

    def resolve_map(self, config: dict[str, Any]) -> dict[str, str]:
        return {k: self.resolve(v)[0] for k, v in config.items()}

    # -- sources

    def run_source(self, run: ActionRun) -> None:
        type_id = run.action.get("actionTypeId") or {}
        provider = type_id.get("provider")
        config = run.resolved_configuration
        now = clock.now()
        known = self.sources.get(run.name)
        if known is not None:  # a rollback redeploys the target's revision; PutActionRevision brings its own
            revision = known
        elif provider == "S3":
            bucket, key = config.get("S3Bucket", ""), config.get("S3ObjectKey", "")
            version_id = None
            kind, value = self.overrides.get(run.name, (None, None))
            if kind == "S3_OBJECT_KEY":
                key = value
            elif kind == "S3_OBJECT_VERSION_ID":
                version_id = value
            obj = _s3_object(bucket, key, version_id)
            if obj is None:
                what = f"version '{version_id}' of the object" if version_id else "the object"
                run._fail(f"The action failed because {what} with key '{key}' in bucket '{bucket}' "
                          "could not be found")
                run.external_execution_id = None
                return
            metadata = {k.lower(): v for k, v in dict(getattr(obj, "metadata", {}) or {}).items()}
            summary = (metadata.get("x-amz-meta-codepipeline-artifact-revision-summary")
                       or metadata.get("codepipeline-artifact-revision-summary"))
            etag = str(obj.etag).strip('"')
            revision = {"revisionId": str(obj.version_id), "revisionChangeIdentifier": etag,
                        "created": obj.last_modified, "summary": summary, "url": None,
                        "variables": {"ETag": etag, "VersionId": str(obj.version_id)}}
        elif provider == "ECR":
            kind, value = self.overrides.get(run.name, (None, None))
            digest = value or "sha256:" + hashlib.sha256(uuid.uuid4().bytes).hexdigest()
            repository = config.get("RepositoryName", "")
            tag = config.get("ImageTag", "latest")
            registry = self.pipeline.account
            uri = f"{registry}.dkr.ecr.{self.pipeline.region}.amazonaws.com/{repository}:{tag}"
            revision = {"revisionId": digest, "revisionChangeIdentifier": digest, "created": now,
                        "summary": None, "url": None,
                        "variables": {"ImageDigest": digest, "ImageTag": tag, "ImageURI": uri,
                                      "RegistryId": registry, "RepositoryName": repository}}
        else:
            kind, value = self.overrides.get(run.name, (None, None))
            commit = value or hashlib.sha1(uuid.uuid4().bytes).hexdigest()
            repository = config.get("FullRepositoryId") or config.get("RepositoryName") or config.get("Repo", "")
            branch = config.get("BranchName") or config.get("Branch", "")
            variables = {"CommitId": commit, "BranchName": branch}
            if provider == "CodeCommit":
                variables["RepositoryName"] = repository
            else:
                variables["FullRepositoryName"] = repository
                if config.get("ConnectionArn"):
                    variables["ConnectionArn"] = config["ConnectionArn"]
            revision = {"revisionId": commit, "revisionChangeIdentifier": commit, "created": now,
                        "summary": None, "url": None, "variables": variables}
        self.sources[run.name] = revision
        run.revision = revision
        run.output_variables = dict(revision.get("variables") or {})
        run.external_execution_id = revision["revisionId"]
        run.summary = revision.get("summary")
        run.status = "Succeeded"

    def source_revisions(self) -> list[dict[str, Any]]:
        out = []
        for stage in self.structure["stages"]:
            for action in stage["actions"]:
                revision = self.sources.get(action["name"]) if _is_source(action) else None
                if revision is None:
                    continue
                item: dict[str, Any] = {"actionName": action["name"], "revisionId": revision["revisionId"]}
                if revision.get("summary"):
                    item["revisionSummary"] = revision["summary"]
                if revision.get("url"):
                    item["revisionUrl"] = revision["url"]
                out.append(item)
        return out

    def artifact_revisions(self) -> list[dict[str, Any]]:
        out = []
        for stage in self.structure["stages"]:
            for action in stage["actions"]:
                revision = self.sources.get(action["name"]) if _is_source(action) else None
                if revision is None:
                    continue
                for artifact in action.get("outputArtifacts") or []:
                    item: dict[str, Any] = {"name": artifact.get("name"), "revisionId": revision["revisionId"],
                                            "revisionChangeIdentifier": revision["revisionChangeIdentifier"],
                                            "created": clock.epoch(revision["created"])}
                    if revision.get("summary"):
                        item["revisionSummary"] = revision["summary"]
                    out.append(item)
        return out

    # -- progress

    def current_stage_name(self) -> str | None:
        stages = self.structure["stages"]
        return stages[self.cursor]["name"] if self.cursor < len(stages) else None

    def current_run(self) -> StageRun | None:
        name = self.current_stage_name()
        return self.stage_runs.get(name) if name else None

    def finish(self, status: str, summary: str | None = None) -> None:
        self.status = status
        if summary:
            self.status_summary = summary
        self.last_update_time = clock.now()

    def fail(self, summary: str) -> None:
        self.finish("Failed", summary)

    def stage_finished(self, run: StageRun) -> None:
        self.last_update_time = clock.now()
        self.cursor += 1
        self.at_boundary = True
        if self.only_stage or self.cursor >= len(self.structure["stages"]):
            self.finish("Stopped" if self.status == "Stopping" else "Succeeded")

    def enter(self, decl: dict[str, Any]) -> None:
        st = self.pipeline
        self.at_boundary = False
        run = StageRun(self, decl)
        run.status = "InProgress"
        self.stage_runs[run.name] = run
        for other in st.executions:
            previous = other.stage_runs.get(run.name) if other is not self else None
            if previous is not None and previous.status in ("Failed", "Stopped"):
                previous.superseded = True
        st.latest_entry[run.name] = self
        before = (decl.get("beforeEntry") or {}).get("conditions")
        if before:
            run.phase = "entry"
            run.start_condition("BEFORE_ENTRY", before[0])
        else:
            run.phase = "actions"
        self.last_update_time = clock.now()

    def step(self) -> bool:
        if self.status not in ("InProgress", "Stopping"):
            return False
        st = self.pipeline
        stages = self.structure["stages"]
        if self.cursor >= len(stages):
            self.finish("Succeeded")
            return True
        decl = stages[self.cursor]
        if self.at_boundary:
            if self.status == "Stopping":
                self.finish("Stopped")
                return True
            if not st.entry_allowed(decl["name"]):
                return False
            if self.mode != "PARALLEL":
                if st.occupant(decl["name"], self) is not None:
                    return False
                if self.mode == "QUEUED":
                    waiting = st.waiting_at(decl["name"])
                    if waiting and waiting[0] is not self:
                        return False
            self.enter(decl)
            return True
        run = self.stage_runs[decl["name"]]
        changed = run.step()
        if changed:
            self.last_update_time = clock.now()
        return changed

    def pipeline_rollback(self, failed: StageRun) -> None:
        st = self.pipeline
        if self.execution_type == "ROLLBACK":
            return  # a failing rollback is not rolled back again
        target = _rollback_target(st, failed.name, exclude=self)
        if target is None:
            return
        rollback = Execution(st, st.current, trigger={"triggerType": "AutomatedRollback",
                                                     "triggerDetail": self.execution_id},
                             variables=dict(target.variables), execution_type="ROLLBACK",
                             rollback_target=target, only_stage=failed.name)
        st.executions.append(rollback)

    # -- shapes

    def _rollback_metadata(self) -> dict[str, Any] | None:
        if self.rollback_target is None:
            return None
        return {"rollbackTargetPipelineExecutionId": self.rollback_target.execution_id}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "pipelineName": self.pipeline_name,
            "pipelineVersion": self.pipeline_version,
            "pipelineExecutionId": self.execution_id,
            "status": self.status,
            "artifactRevisions": self.artifact_revisions(),
            "variables": [{"name": k, "resolvedValue": v} for k, v in self.variables.items()],
            "trigger": dict(self.trigger),
            "executionMode": self.mode,
            "executionType": self.execution_type,
        }
        if self.status_summary:
            out["statusSummary"] = self.status_summary
        metadata = self._rollback_metadata()
        if metadata:
            out["rollbackMetadata"] = metadata
        return out

    def to_summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "pipelineExecutionId": self.execution_id,
            "status": self.status,
            "startTime": clock.epoch(self.start_time),
            "lastUpdateTime": clock.epoch(self.last_update_time),
            "sourceRevisions": self.source_revisions(),
            "trigger": dict(self.trigger),
            "executionMode": self.mode,
            "executionType": self.execution_type,
        }
        if self.status_summary:
            out["statusSummary"] = self.status_summary
        if self.stop_trigger is not None:
            out["stopTrigger"] = dict(self.stop_trigger)
        metadata = self._rollback_metadata()
        if metadata:
            out["rollbackMetadata"] = metadata
        return out


def _rollback_target(st: PipelineState, stage: str, exclude: Execution | None = None) -> Execution | None:
    best = None
    for ex in st.executions:
        run = ex.stage_runs.get(stage)
        if (ex is exclude or run is None or run.status != "Succeeded" or ex.execution_type != "STANDARD"
                or ex.pipeline_version != st.current):
            continue
        if best is None or run.ended_at >= best.stage_runs[stage].ended_at:
            best = ex
    return best


# --------------------------------------------------------------------------
# the engine


def pump(st: PipelineState) -> None:
    """Advance every execution of a pipeline until nothing changes."""
    for _ in range(10000):
        changed = False
        for ex in list(st.executions):
            changed = ex.step() or changed
        waiting: dict[str, list[Execution]] = {}
        for ex in st.executions:
            if ex.status == "InProgress" and ex.at_boundary and ex.mode == "SUPERSEDED":
                name = ex.current_stage_name()
                if name:
                    waiting.setdefault(name, []).append(ex)
        for name, executions in waiting.items():
            for old in executions[:-1]:
                old.finish("Superseded")
                changed = True
        if not changed:
            return


def _tick_state(st: PipelineState) -> None:
    now = clock.now()
    for ex in st.executions:  # an approval left waiting in a failed stage still times out
        for run in ex.stage_runs.values():
            for action in list(run.current.values()):
                action.check_timeout(now)
    pump(st)


def tick(backend: Any) -> None:
    with LOCK:
        for st in list(_store(backend).values()):
            _tick_state(st)


def tick_all() -> None:
    """Evaluate time-driven changes everywhere (after the clock was set)."""
    with LOCK:
        for backend in list(_BACKENDS):
            tick(backend)


def _backend_for(account: str, region: str) -> Any:
    return cp_models.codepipeline_backends[account][region]


def set_rule_outcome(params: dict[str, Any]) -> dict[str, Any]:
    """POST /_emulator/rules: the outcome of a controlled rule (CloudWatchAlarm, LambdaInvoke, Commands, CodeBuild)."""
    return _set_outcome(params, "rule", RULE_OUTCOMES, ("Succeeded", "Failed", "InProgress"))


def set_action_outcome(params: dict[str, Any]) -> dict[str, Any]:
    """POST /_emulator/actions: the outcome of a non-approval, non-source action's next runs."""
    return _set_outcome(params, "action", ACTION_OUTCOMES, ("Succeeded", "Failed"))


def _set_outcome(params: dict[str, Any], what: str, store: dict, allowed: tuple[str, ...]) -> dict[str, Any]:
    from moto.core import DEFAULT_ACCOUNT_ID

    account = str(params.get("accountId") or DEFAULT_ACCOUNT_ID)
    region = str(params.get("region") or "us-east-1")
    pipeline, stage, name = params.get("pipeline"), params.get("stage"), params.get(what)
    status = params.get("result")
    if not all(isinstance(v, str) and v for v in (pipeline, stage, name)):
        raise ValueError(f"give 'pipeline', 'stage' and '{what}'")
    if status not in allowed:
        raise ValueError(f"'result' must be one of {', '.join(allowed)}")
    key = (account, region, pipeline, stage, name)
    with LOCK:
        if status == "InProgress":
            store.pop(key, None)
        else:
            store[key] = {"status": status, "summary": params.get("summary")}
            if params.get("externalExecutionId"):
                store[key]["externalExecutionId"] = str(params["externalExecutionId"])
        tick(_backend_for(account, region))
    return {"accountId": account, "region": region, "pipeline": pipeline, "stage": stage, what: name,
            "result": status}


def configure(params: dict[str, Any]) -> dict[str, Any]:
    """POST /_emulator/codepipeline: emulator settings."""
    with LOCK:
        if "startOnCreate" in params:
            SETTINGS["start_on_create"] = bool(params["startOnCreate"])
        return {"startOnCreate": SETTINGS["start_on_create"]}


# --------------------------------------------------------------------------
# backend side: declarations


def create_pipeline(self: Any, pipeline: dict[str, Any], tags: Any) -> Any:
    """CreatePipeline: validation, version 1, the whole declaration kept."""
    from moto.codepipeline.models import CodePipeline

    with LOCK:
        name = pipeline.get("name")
        if name in self.pipelines:
            raise _Error("PipelineNameInUseException",
                         f"A pipeline with the name '{name}' already exists in account '{self.account_id}'")
        _check_role(self, pipeline.get("roleArn", ""))
        validate_declaration(pipeline, self.region_name)
        decl = _with_defaults(pipeline, 1)
        created = CodePipeline(self.account_id, self.region_name, copy.deepcopy(decl))
        if tags is not None:
            created.validate_tags(tags)
        self.pipelines[name] = created
        created.tags.update({t["key"]: t["value"] for t in tags or []})
        created._created = created._updated = clock.now()
        _store(self)[name] = PipelineState(self, decl)
        return copy.deepcopy(decl), sorted(tags or [], key=lambda t: t["key"])


def update_pipeline(self: Any, pipeline: dict[str, Any]) -> dict[str, Any]:
    """UpdatePipeline: the declaration becomes version N+1."""
    with LOCK:
        name = pipeline.get("name")
        codepipeline = self.pipelines.get(name)
        st = _store(self).get(name)
        if not codepipeline or st is None:
            raise ResourceNotFoundException(
                f"The account with id '{self.account_id}' does not include a pipeline with the name '{name}'")
        given = pipeline.get("version")
        if given is not None and int(given) < st.current:
            raise InvalidStructureException(
                f"Pipeline version {given} is not the latest version of pipeline '{name}' "
                f"(the latest is {st.current}); get the pipeline again and reapply your changes")
        _check_role(self, pipeline.get("roleArn", ""))
        validate_declaration(pipeline, self.region_name)
        version = st.current + 1
        decl = _with_defaults(pipeline, version)
        st.versions[version] = decl
        st.current = version
        codepipeline.pipeline = copy.deepcopy(decl)
        codepipeline._updated = clock.now()
        for stage in list(st.transitions):
            if stage not in {s["name"] for s in decl["stages"]}:
                del st.transitions[stage]
        pump(st)
        return copy.deepcopy(decl)


def delete_pipeline(self: Any, name: str) -> None:
    with LOCK:
        self.pipelines.pop(name, None)
        _store(self).pop(name, None)


def start_pipeline_execution(self: Any, name: str, variables: Any) -> str:
    """Backend-level start (kept for callers inside moto; the API goes through r_start_pipeline_execution)."""
    with LOCK:
        st = _state(self, name)
        ex = _new_execution(st, {"triggerType": "StartPipelineExecution", "triggerDetail": ""}, variables, None)
        return ex.execution_id


def get_pipeline_execution(self: Any, pipeline_name: str, execution_id: str) -> Execution:
    with LOCK:
        return _state(self, pipeline_name).find(execution_id)


def _new_execution(st: PipelineState, trigger: dict[str, str], variables: Any,
                   source_revisions: Any, preset: dict[str, dict[str, Any]] | None = None) -> Execution:
    decl = st.declaration
    declared = {v["name"]: v.get("defaultValue") for v in decl.get("variables") or []}
    resolved = {k: v for k, v in declared.items() if v is not None}
    for v in variables or []:
        if (decl.get("pipelineType") or "V1") != "V2":
            raise _Error("ValidationException", "Pipeline variables can only be used with V2 pipelines")
        if v.get("name") not in declared:
            raise _Error("ValidationException",
                         f"Pipeline variable '{v.get('name')}' is not declared in pipeline '{st.name}'")
        resolved[v["name"]] = v.get("value")
    sources = {a["name"]: a for s in decl["stages"] for a in s["actions"] if _is_source(a)}
    overrides: dict[str, tuple[str, str]] = {}
    for o in source_revisions or []:
        action = sources.get(o.get("actionName"))
        if action is None:
            raise _Error("ValidationException",
                         f"Action '{o.get('actionName')}' is not a source action of pipeline '{st.name}'")
        provider = (action.get("actionTypeId") or {}).get("provider")
        allowed = SOURCE_REVISION_TYPES.get(provider, GIT_REVISION_TYPES)
        if o.get("revisionType") not in allowed:
            raise _Error("ValidationException",
                         f"Revision type {o.get('revisionType')} is not valid for the {provider} source action "
                         f"'{o.get('actionName')}'; use {' or '.join(allowed)}")
        overrides[o["actionName"]] = (o["revisionType"], o.get("revisionValue"))
    ex = Execution(st, st.current, trigger=trigger, variables=resolved, overrides=overrides)
    if preset:
        ex.sources.update(copy.deepcopy(preset))
    st.executions.append(ex)
    pump(st)
    return ex


# --------------------------------------------------------------------------
# response side


def _backend(response: CodePipelineResponse) -> Any:
    return response.codepipeline_backend


def _json_body(response: CodePipelineResponse) -> dict[str, Any]:
    try:
        return json.loads(response.body or "{}")
    except ValueError:
        return {}


def _paginate(items: list[Any], max_results: Any, next_token: Any, default: int, cap: int):
    try:
        size = int(max_results) if max_results else default
    except (TypeError, ValueError):
        raise _Error("ValidationException", "maxResults must be a number")
    if size < 1 or size > cap:
        raise _validation("maxResults", size, f"Member must have value between 1 and {cap}")
    start = 0
    if next_token:
        try:
            start = int(base64.b64decode(next_token).decode())
        except Exception:
            raise _Error("InvalidNextTokenException", "The next token is not valid.")
    page = items[start: start + size]
    token = None
    if start + size < len(items):
        token = base64.b64encode(str(start + size).encode()).decode()
    return page, token


def _begin(response: CodePipelineResponse) -> tuple[Any, dict[str, Any]]:
    backend = _backend(response)
    tick(backend)
    return backend, _json_body(response)


def _stage_decl(st: PipelineState, stage_name: str, structure: dict[str, Any] | None = None) -> dict[str, Any]:
    for stage in (structure or st.declaration)["stages"]:
        if stage["name"] == stage_name:
            return stage
    raise _Error("StageNotFoundException", f"Stage '{stage_name}' not found in pipeline '{st.name}'")


def r_create_pipeline(self: CodePipelineResponse) -> str:
    with LOCK:
        pipeline, tags = _backend(self).create_pipeline(self._get_param("pipeline"), self._get_param("tags"))
        if SETTINGS["start_on_create"]:
            st = _state(_backend(self), pipeline["name"])
            _new_execution(st, {"triggerType": "CreatePipeline", "triggerDetail": _caller(self).arn}, None, None)
    return json.dumps({"pipeline": pipeline, "tags": tags})


def r_update_pipeline(self: CodePipelineResponse) -> str:
    with LOCK:
        tick(_backend(self))
        pipeline = _backend(self).update_pipeline(self._get_param("pipeline"))
    return json.dumps({"pipeline": pipeline})


def r_delete_pipeline(self: CodePipelineResponse) -> str:
    _backend(self).delete_pipeline(self._get_param("name"))
    return "{}"


def r_get_pipeline(self: CodePipelineResponse) -> str:
    with LOCK:
        backend, params = _begin(self)
        st = _state(backend, params.get("name"))
        codepipeline = backend.pipelines[st.name]
        version = params.get("version")
        if version is None:
            decl = st.declaration
        else:
            version = int(version)
            if version < 1 or version > st.current:
                raise _Error("PipelineVersionNotFoundException",
                             f"Pipeline version {version} of pipeline '{st.name}' does not exist")
            if version <= st.current - KEPT_VERSIONS:
                raise PipelineNotFoundException(
                    f"Account '{backend.account_id}' does not have a pipeline with name '{st.name}' "
                    f"and version '{version}'")
            decl = st.versions[version]
        meta = {
            "pipelineArn": codepipeline._arn,
            "created": clock.epoch(codepipeline._created),
            "updated": clock.epoch(codepipeline._updated),
        }
        return json.dumps({"pipeline": decl, "metadata": meta})


def r_list_pipelines(self: CodePipelineResponse) -> str:
    with LOCK:
        backend, params = _begin(self)
        store = _store(backend)
        items = []
        for name, p in sorted(backend.pipelines.items()):
            decl = store[name].declaration if name in store else p.pipeline
            items.append({
                "name": name,
                "version": decl["version"],
                "pipelineType": decl.get("pipelineType", "V1"),
                "executionMode": decl.get("executionMode", "SUPERSEDED"),
                "created": clock.epoch(p._created),
                "updated": clock.epoch(p._updated),
            })
        page, token = _paginate(items, params.get("maxResults"), params.get("nextToken"), 1000, 1000)
    out: dict[str, Any] = {"pipelines": page}
    if token:
        out["nextToken"] = token
    return json.dumps(out)


def r_start_pipeline_execution(self: CodePipelineResponse) -> str:
    with LOCK:
        backend, params = _begin(self)
        st = _state(backend, params.get("name"))
        token = params.get("clientRequestToken")
        if token and token in st.request_tokens:
            return json.dumps({"pipelineExecutionId": st.request_tokens[token]})
        trigger = {"triggerType": "StartPipelineExecution", "triggerDetail": _caller(self).arn}
        ex = _new_execution(st, trigger, params.get("variables"), params.get("sourceRevisions"))
        if token:
            st.request_tokens[token] = ex.execution_id
        return json.dumps({"pipelineExecutionId": ex.execution_id})


def r_get_pipeline_execution(self: CodePipelineResponse) -> str:
    with LOCK:
        backend, params = _begin(self)
        ex = _state(backend, params.get("pipelineName")).find(params.get("pipelineExecutionId"))
        return json.dumps({"pipelineExecution": ex.to_dict()})


def r_list_pipeline_executions(self: CodePipelineResponse) -> str:
    with LOCK:
        backend, params = _begin(self)
        st = _state(backend, params.get("pipelineName"))
        executions = list(reversed(st.executions))
        wanted = ((params.get("filter") or {}).get("succeededInStage") or {}).get("stageName")
        if wanted:
            executions = [e for e in executions
                          if e.stage_runs.get(wanted) is not None and e.stage_runs[wanted].status == "Succeeded"]
        page, token = _paginate(executions, params.get("maxResults"), params.get("nextToken"), 100, 100)
        out: dict[str, Any] = {"pipelineExecutionSummaries": [e.to_summary() for e in page]}
    if token:
        out["nextToken"] = token
    return json.dumps(out)


def _condition_state(run: StageRun | None, kind: str) -> dict[str, Any] | None:
    if run is None or kind not in run.conditions:
        return None
    return run.conditions[kind].state()


def r_get_pipeline_state(self: CodePipelineResponse) -> str:
    with LOCK:
        backend, params = _begin(self)
        st = _state(backend, params.get("name"))
        codepipeline = backend.pipelines[st.name]
        states = []
        for stage in st.declaration["stages"]:
            name = stage["name"]
            latest = st.latest_entry.get(name)
            run = latest.stage_runs.get(name) if latest is not None else None
            with_token = latest is not None and latest.mode != "PARALLEL"
            action_states = []
            for action in stage["actions"]:
                state: dict[str, Any] = {"actionName": action["name"]}
                current = run.current.get(action["name"]) if run is not None else None
                if current is None and run is not None:
                    earlier = [r for r in run.history if r.name == action["name"]]
                    current = earlier[-1] if earlier else None
                if current is not None and current.status is not None:
                    state["latestExecution"] = current.latest_execution(with_token)
                    if current.revision is not None:
                        state["currentRevision"] = {
                            "revisionId": current.revision["revisionId"],
                            "revisionChangeId": current.revision["revisionChangeIdentifier"],
                            "created": clock.epoch(current.revision["created"]),
                        }
                if _is_source(action) and "currentRevision" not in state and (name, action["name"]) in st.revisions:
                    revision = st.revisions[(name, action["name"])]
                    state["currentRevision"] = {"revisionId": revision["revisionId"],
                                                "revisionChangeId": revision["revisionChangeIdentifier"],
                                                "created": clock.epoch(revision["created"])}
                action_states.append(state)
            entry: dict[str, Any] = {
                "stageName": name,
                "inboundTransitionState": st.transition(name).to_dict() if name in st.transitions
                else {"enabled": True},
                "actionStates": action_states,
            }
            waiting = st.waiting_at(name)
            if waiting:
                inbound = waiting[0]
                entry["inboundExecution"] = {"pipelineExecutionId": inbound.execution_id, "status": "InProgress",
                                             "type": inbound.execution_type}
                if inbound.mode == "QUEUED":
                    entry["inboundExecutions"] = [{"pipelineExecutionId": w.execution_id, "status": "InProgress",
                                                   "type": w.execution_type} for w in waiting]
            if run is not None:
                entry["latestExecution"] = run.stage_execution()
                for kind, key in (("BEFORE_ENTRY", "beforeEntryConditionState"),
                                  ("ON_SUCCESS", "onSuccessConditionState"),
                                  ("ON_FAILURE", "onFailureConditionState")):
                    condition = _condition_state(run, kind)
                    if condition is not None:
                        entry[key] = condition
                if run.manual_retries or run.auto_retries:
                    meta: dict[str, Any] = {"latestRetryTrigger": run.latest_retry_trigger}
                    if run.auto_retries:
                        meta["autoStageRetryAttempt"] = run.auto_retries
                    if run.manual_retries:
                        meta["manualStageRetryAttempt"] = run.manual_retries
                    entry["retryStageMetadata"] = meta
            states.append(entry)
        return json.dumps({
            "pipelineName": st.name,
            "pipelineVersion": st.current,
            "stageStates": states,
            "created": clock.epoch(codepipeline._created),
            "updated": clock.epoch(codepipeline._updated),
        })


def r_put_approval_result(self: CodePipelineResponse) -> str:
    with LOCK:
        backend, params = _begin(self)
        st = _state(backend, params.get("pipelineName"))
        stage_name = params.get("stageName")
        action_name = params.get("actionName")
        token = params.get("token")
        result = params.get("result") or {}
        status = result.get("status")
        summary = result.get("summary")
        caller = _caller(self)
        structures = [st.declaration] + [e.structure for e in st.executions if e.status in ("InProgress", "Stopping")]
        stage = next((s for d in structures for s in d["stages"] if s["name"] == stage_name), None)
        if stage is None:
            raise _Error("StageNotFoundException", f"Stage '{stage_name}' not found in pipeline '{st.name}'")
        action = next((a for d in structures for s in d["stages"] if s["name"] == stage_name
                       for a in s["actions"] if a["name"] == action_name), None)
        if action is None:
            raise _Error("ActionNotFoundException",
                         f"Action '{action_name}' not found in stage '{stage_name}' of pipeline '{st.name}'")
        if status not in ("Approved", "Rejected"):
            raise _validation("result.status", status, "Member must satisfy enum value set: [Approved, Rejected]")
        if summary is None or len(summary) > 512:
            raise _Error("ValidationException",
                         "1 validation error detected: Value at 'result.summary' failed to satisfy constraint: "
                         "Member must not be null and have length less than or equal to 512")
        if not _is_manual_approval(action):
            raise _Error("InvalidApprovalTokenException",
                         f"Action '{action_name}' in stage '{stage_name}' is not a manual approval action")
        run = None
        if token:
            for ex in st.executions:
                stage_run = ex.stage_runs.get(stage_name)
                if stage_run is None:
                    continue
                for candidate in stage_run.history:
                    if candidate.name == action_name and candidate.token == token:
                        run = candidate
        if run is None:
            raise _Error("InvalidApprovalTokenException",
                         f"The token '{token}' is not valid for action '{action_name}' "
                         f"in stage '{stage_name}' of pipeline '{st.name}'")
        if run.status != "InProgress":
            raise _Error("ApprovalAlreadyCompletedException",
                         f"The approval action '{action_name}' has already been completed")
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
        run.execution.last_update_time = now
        pump(st)
        return json.dumps({"approvedAt": clock.epoch(now)})


def _filtered_executions(st: PipelineState, flt: dict[str, Any]) -> tuple[list[Execution], bool]:
    latest = flt.get("latestInPipelineExecution") or {}
    wanted = flt.get("pipelineExecutionId") or latest.get("pipelineExecutionId")
    executions = [st.find(wanted)] if wanted else list(st.executions)
    return executions, bool(latest) and latest.get("startTimeRange") == "Latest"


def r_list_action_executions(self: CodePipelineResponse) -> str:
    with LOCK:
        backend, params = _begin(self)
        st = _state(backend, params.get("pipelineName"))
        executions, latest_only = _filtered_executions(st, params.get("filter") or {})
        runs = []
        for ex in executions:
            for stage_run in ex.stage_runs.values():
                history = [r for r in stage_run.history if r.status is not None]
                if latest_only:
                    history = [r for r in stage_run.current.values() if r.status is not None]
                runs.extend(history)
        order = {id(r): i for i, r in enumerate(runs)}
        runs.sort(key=lambda r: (r.start_time, order[id(r)]), reverse=True)
        page, token = _paginate(runs, params.get("maxResults"), params.get("nextToken"), 100, 100)
        out: dict[str, Any] = {"actionExecutionDetails": [r.detail() for r in page]}
    if token:
        out["nextToken"] = token
    return json.dumps(out)


def r_list_rule_executions(self: CodePipelineResponse) -> str:
    with LOCK:
        backend, params = _begin(self)
        st = _state(backend, params.get("pipelineName"))
        executions, latest_only = _filtered_executions(st, params.get("filter") or {})
        runs = []
        for ex in executions:
            for stage_run in ex.stage_runs.values():
                if latest_only:
                    runs.extend(r for c in stage_run.conditions.values() for r in c.rules)
                else:
                    runs.extend(stage_run.rule_runs())
        order = {id(r): i for i, r in enumerate(runs)}
        runs.sort(key=lambda r: (r.start_time, order[id(r)]), reverse=True)
        page, token = _paginate(runs, params.get("maxResults"), params.get("nextToken"), 100, 100)
        out: dict[str, Any] = {"ruleExecutionDetails": [r.detail() for r in page]}
    if token:
        out["nextToken"] = token
    return json.dumps(out)


def r_override_stage_condition(self: CodePipelineResponse) -> str:
    with LOCK:
        backend, params = _begin(self)
        st = _state(backend, params.get("pipelineName"))
        stage_name = params.get("stageName")
        condition_type = params.get("conditionType")
        _enum("conditionType", condition_type, ("BEFORE_ENTRY", "ON_SUCCESS"))
        ex = st.find(params.get("pipelineExecutionId"))
        _stage_decl(st, stage_name, ex.structure)
        run = ex.stage_runs.get(stage_name)
        condition = run.conditions.get(condition_type) if run is not None else None
        if condition is None:
            raise _Error("ConditionNotOverridableException",
                         f"Stage '{stage_name}' of execution {ex.execution_id} has no {condition_type} "
                         "condition to override")
        if run.superseded or (st.latest_entry.get(stage_name) not in (None, ex)):
            raise _Error("NotLatestPipelineExecutionException",
                         f"Execution {ex.execution_id} is not the latest execution of stage '{stage_name}'")
        if condition.result == "SKIP":
            raise _Error("ConditionNotOverridableException",
                         "A condition with the SKIP result cannot be overridden")
        phase = {"BEFORE_ENTRY": "entry", "ON_SUCCESS": "success"}[condition_type]
        blocked = condition.status == "InProgress" and run.phase == phase
        # a failed condition can be overridden while its FAIL result holds the execution; once a ROLLBACK
        # result has started the rollback there is nothing left to let through
        failed = (condition.status == "Failed" and condition.result == "FAIL" and run.status == "Failed"
                  and run.failure_kind == phase and ex.status == "Failed")
        if not (blocked or failed):
            raise _Error("ConditionNotOverridableException",
                         f"The {condition_type} condition of stage '{stage_name}' is {condition.status} and "
                         "cannot be overridden")
        if failed and st.occupant(stage_name, ex) is not None:
            raise _Error("ConflictException", f"Stage '{stage_name}' is running another execution")
        condition.override(_caller(self).arn)
        if failed:
            run.status = "InProgress"
            run.failure_kind = None
            run.ended_at = None
            ex.status = "InProgress"
            ex.status_summary = None
            if phase == "entry":
                run.phase = "actions"
            else:
                run.succeed()
        ex.last_update_time = clock.now()
        pump(st)
        return "{}"


def r_retry_stage_execution(self: CodePipelineResponse) -> str:
    with LOCK:
        backend, params = _begin(self)
        st = _state(backend, params.get("pipelineName"))
        stage_name = params.get("stageName")
        mode = params.get("retryMode")
        _enum("retryMode", mode, ("FAILED_ACTIONS", "ALL_ACTIONS"))
        ex = st.find(params.get("pipelineExecutionId"))
        _stage_decl(st, stage_name, ex.structure)
        run = ex.stage_runs.get(stage_name)
        if run is None or run.status not in ("Failed", "Stopped") or ex.status not in ("Failed", "Stopped"):
            raise _Error("StageNotRetryableException",
                         f"Stage '{stage_name}' of execution {ex.execution_id} has no failed actions to retry")
        if run.failure_kind in ("entry", "success"):
            raise _Error("StageNotRetryableException",
                         f"Stage '{stage_name}' failed on a condition, not on its actions")
        if run.superseded or st.latest_entry.get(stage_name) is not ex:
            raise _Error("NotLatestPipelineExecutionException",
                         f"The stage has failed in a later run of the pipeline and the pipelineExecutionId "
                         f"{ex.execution_id} is out of date")
        if ex.pipeline_version != st.current:
            raise _Error("StageNotRetryableException",
                         f"The pipeline structure changed (version {ex.pipeline_version} -> {st.current}) "
                         "since the stage ran")
        if mode == "ALL_ACTIONS" and run.in_progress_actions():
            raise _Error("StageNotRetryableException",
                         f"Stage '{stage_name}' has actions in progress; ALL_ACTIONS cannot be used")
        if st.occupant(stage_name, ex) is not None:
            raise _Error("ConflictException", f"Stage '{stage_name}' is running another execution")
        caller = _caller(self)
        run.manual_retries += 1
        run.latest_retry_trigger = "ManualStageRetry"
        run.retry(mode, caller.arn)
        pump(st)
        return json.dumps({"pipelineExecutionId": ex.execution_id})


def r_rollback_stage(self: CodePipelineResponse) -> str:
    with LOCK:
        backend, params = _begin(self)
        st = _state(backend, params.get("pipelineName"))
        stage_name = params.get("stageName")
        _stage_decl(st, stage_name)
        target = st.find(params.get("targetPipelineExecutionId"))

        def unable(reason: str) -> _Error:
            return _Error("UnableToRollbackStageException", f"Unable to roll back stage '{stage_name}': {reason}")

        if st.declaration.get("executionMode") == "PARALLEL":
            raise unable("stage rollback is not available in PARALLEL mode")
        target_run = target.stage_runs.get(stage_name)
        if target_run is None or target_run.status != "Succeeded":
            raise unable(f"execution {target.execution_id} did not succeed in the stage")
        if target.execution_type != "STANDARD":
            raise unable(f"execution {target.execution_id} is a rollback execution")
        if target.pipeline_version != st.current:
            raise unable(f"the pipeline version changed ({target.pipeline_version} -> {st.current}) since "
                         f"execution {target.execution_id} was deployed")
        if st.occupant(stage_name, target) is not None or (
                target.status in ("InProgress", "Stopping") and target.current_stage_name() == stage_name
                and not target.at_boundary):
            raise unable("the stage is currently running")
        caller = _caller(self)
        rollback = Execution(st, st.current, trigger={"triggerType": "ManualRollback", "triggerDetail": caller.arn},
                             variables=dict(target.variables), execution_type="ROLLBACK",
                             rollback_target=target, only_stage=stage_name)
        st.executions.append(rollback)
        pump(st)
        return json.dumps({"pipelineExecutionId": rollback.execution_id})


def _transition_stage(st: PipelineState, stage_name: str, transition_type: str) -> str:
    _enum("transitionType", transition_type, ("Inbound", "Outbound"))
    names = [s["name"] for s in st.declaration["stages"]]
    if stage_name not in names:
        raise _Error("StageNotFoundException", f"Stage '{stage_name}' not found in pipeline '{st.name}'")
    if transition_type == "Inbound":
        return stage_name
    index = names.index(stage_name)
    if index + 1 >= len(names):
        raise _Error("ValidationException", f"Stage '{stage_name}' is the last stage and has no outbound transition")
    return names[index + 1]


def r_disable_stage_transition(self: CodePipelineResponse) -> str:
    with LOCK:
        backend, params = _begin(self)
        st = _state(backend, params.get("pipelineName"))
        reason = params.get("reason")
        if not reason or len(reason) > 300 or not re.fullmatch(r"[a-zA-Z0-9!@ \(\)\.\*\?\-]+", reason):
            raise _validation("reason", reason, "Member must satisfy regular expression pattern: "
                              "[a-zA-Z0-9!@ \\(\\)\\.\\*\\?\\-]+")
        stage = _transition_stage(st, params.get("stageName"), params.get("transitionType"))
        transition = st.transition(stage)
        transition.enabled = False
        transition.reason = reason
        transition.changed_by = _caller(self).arn
        transition.changed_at = clock.now()
        return "{}"


def r_enable_stage_transition(self: CodePipelineResponse) -> str:
    with LOCK:
        backend, params = _begin(self)
        st = _state(backend, params.get("pipelineName"))
        stage = _transition_stage(st, params.get("stageName"), params.get("transitionType"))
        transition = st.transition(stage)
        transition.enabled = True
        transition.reason = None
        transition.changed_by = _caller(self).arn
        transition.changed_at = clock.now()
        pump(st)
        return "{}"


def r_stop_pipeline_execution(self: CodePipelineResponse) -> str:
    with LOCK:
        backend, params = _begin(self)
        st = _state(backend, params.get("pipelineName"))
        ex = st.find(params.get("pipelineExecutionId"))
        abandon = bool(params.get("abandon"))
        if ex.status == "Stopping":
            if ex.abandon or not abandon:
                raise _Error("DuplicatedStopRequestException",
                             f"Execution {ex.execution_id} is already in a Stopping state")
        elif ex.status != "InProgress":
            raise _Error("PipelineExecutionNotStoppableException",
                         f"Execution {ex.execution_id} is {ex.status} and cannot be stopped")
        ex.status = "Stopping"
        ex.abandon = abandon
        ex.stop_trigger = {"reason": params.get("reason") or ""}
        ex.last_update_time = clock.now()
        run = ex.current_run()
        if abandon and run is not None and not ex.at_boundary:
            now = clock.now()
            for action in run.in_progress_actions():
                action.status = "Abandoned"
                action.last_update_time = now
            for condition in run.conditions.values():
                if condition.status == "InProgress":
                    condition.status = "Abandoned"
                    condition.last_change = now
                    for rule in condition.rules:
                        if rule.status == "InProgress":
                            rule._settle("Abandoned")
            if run.status == "InProgress":
                run.status = "Stopped"
                run.phase = "done"
                run.ended_at = now
            ex.finish("Stopped")
        elif run is not None and not ex.at_boundary and run.phase in ("entry", "success"):
            condition = run.conditions.get("BEFORE_ENTRY" if run.phase == "entry" else "ON_SUCCESS")
            if condition is not None and condition.status == "InProgress":
                condition.status = "Cancelled"
                condition.last_change = clock.now()
                for rule in condition.rules:
                    if rule.status == "InProgress":
                        rule._settle("Abandoned")
            run.status = "Stopped"
            run.phase = "done"
            ex.finish("Stopped")
        pump(st)
        return json.dumps({"pipelineExecutionId": ex.execution_id})


def r_put_action_revision(self: CodePipelineResponse) -> str:
    with LOCK:
        backend, params = _begin(self)
        st = _state(backend, params.get("pipelineName"))
        stage = _stage_decl(st, params.get("stageName"))
        action = next((a for a in stage["actions"] if a["name"] == params.get("actionName")), None)
        if action is None:
            raise _Error("ActionNotFoundException",
                         f"Action '{params.get('actionName')}' not found in stage '{stage['name']}' of pipeline "
                         f"'{st.name}'")
        if not _is_source(action):
            raise _Error("ValidationException", f"Action '{action['name']}' is not a source action")
        given = params.get("actionRevision") or {}
        created = given.get("created")
        if isinstance(created, (int, float)):
            when = _dt.datetime.fromtimestamp(float(created), _dt.timezone.utc)
        elif isinstance(created, str):
            when = clock.parse_iso(created)
        else:
            when = clock.now()
        key = (stage["name"], action["name"])
        previous = st.revisions.get(key)
        if previous is not None and previous["revisionId"] == given.get("revisionId"):
            return json.dumps({"newRevision": False, "pipelineExecutionId": previous.get("executionId")})
        revision = {"revisionId": given.get("revisionId"), "revisionChangeIdentifier": given.get("revisionChangeId"),
                    "created": when, "summary": None, "url": None,
                    "variables": {}}
        st.revisions[key] = revision
        trigger = {"triggerType": "PutActionRevision", "triggerDetail": _caller(self).arn}
        ex = _new_execution(st, trigger, None, None, preset={action["name"]: revision})
        revision["executionId"] = ex.execution_id
        return json.dumps({"newRevision": True, "pipelineExecutionId": ex.execution_id})


def install() -> None:
    cp_models.CodePipelineBackend.create_pipeline = create_pipeline
    cp_models.CodePipelineBackend.update_pipeline = update_pipeline
    cp_models.CodePipelineBackend.delete_pipeline = delete_pipeline
    cp_models.CodePipelineBackend.start_pipeline_execution = start_pipeline_execution
    cp_models.CodePipelineBackend.get_pipeline_execution = get_pipeline_execution
    CodePipelineResponse.create_pipeline = r_create_pipeline
    CodePipelineResponse.update_pipeline = r_update_pipeline
    CodePipelineResponse.delete_pipeline = r_delete_pipeline
    CodePipelineResponse.get_pipeline = r_get_pipeline
    CodePipelineResponse.list_pipelines = r_list_pipelines
    CodePipelineResponse.start_pipeline_execution = r_start_pipeline_execution
    CodePipelineResponse.get_pipeline_execution = r_get_pipeline_execution
    CodePipelineResponse.list_pipeline_executions = r_list_pipeline_executions
    CodePipelineResponse.get_pipeline_state = r_get_pipeline_state
    CodePipelineResponse.put_approval_result = r_put_approval_result
    CodePipelineResponse.list_action_executions = r_list_action_executions
    CodePipelineResponse.list_rule_executions = r_list_rule_executions
    CodePipelineResponse.override_stage_condition = r_override_stage_condition
    CodePipelineResponse.retry_stage_execution = r_retry_stage_execution
    CodePipelineResponse.rollback_stage = r_rollback_stage
    CodePipelineResponse.disable_stage_transition = r_disable_stage_transition
    CodePipelineResponse.enable_stage_transition = r_enable_stage_transition
    CodePipelineResponse.stop_pipeline_execution = r_stop_pipeline_execution
    CodePipelineResponse.put_action_revision = r_put_action_revision
