"""Tests of the emulator's CodePipeline and STS behaviour (ext/codepipeline.py, ext/sts.py).

Run from the repository root::

    .venv/bin/python -m unittest discover -s tests/emulator -p 'test_*.py' -v

One emulator is started for the module on a free loopback port; every test
works in its own account ids (9100000000xx) so tests do not see each other's
state.  Everything goes through boto3 and the emulator's control endpoints.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import subprocess
import sys
import unittest
import urllib.error
import urllib.request
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
REGION = "us-east-1"

_server: subprocess.Popen | None = None
ENDPOINT = ""

APPROVAL = {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}
BUILD = {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"}
S3_SOURCE = {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"}
GIT_SOURCE = {"category": "Source", "owner": "AWS", "provider": "CodeStarSourceConnection", "version": "1"}


def setUpModule() -> None:
    global _server, ENDPOINT
    _server, ENDPOINT = harness.start_server()


def tearDownModule() -> None:
    harness.stop_server(_server)


def client(service: str, account: str | None = None, creds: dict[str, str] | None = None):
    creds = creds or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    c = boto3.session.Session(region_name=REGION, **creds).client(
        service, endpoint_url=ENDPOINT, config=Config(retries={"max_attempts": 1}))
    if account:
        c.meta.events.register(
            "before-send", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account))
    return c


def control(path: str, payload: dict) -> dict:
    req = urllib.request.Request(f"{ENDPOINT}/_emulator/{path}", data=json.dumps(payload).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def control_error(path: str, payload: dict) -> tuple[int, dict]:
    try:
        control(path, payload)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())
    raise AssertionError(f"{path} did not fail")


def doc(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def make_user(account: str, name: str) -> dict[str, str]:
    iam = client("iam", account)
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


def creds_of(credentials: dict) -> dict[str, str]:
    """boto3 credentials from an STS Credentials element or a service-session answer."""
    get = lambda *names: next(credentials[n] for n in names if n in credentials)
    return {"aws_access_key_id": get("AccessKeyId", "accessKeyId"),
            "aws_secret_access_key": get("SecretAccessKey", "secretAccessKey"),
            "aws_session_token": get("SessionToken", "sessionToken")}


def pipeline_role(account: str) -> str:
    iam = client("iam", account)
    try:
        iam.create_role(RoleName="PipelineRole", AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "codepipeline.amazonaws.com"}}))
    except ClientError:
        pass
    return f"arn:aws:iam::{account}:role/PipelineRole"


def stage(name: str, *actions: dict, **extra) -> dict:
    return {"name": name, "actions": list(actions), **extra}


def approval(name: str, run_order: int = 1, **extra) -> dict:
    return {"name": name, "actionTypeId": APPROVAL, "runOrder": run_order, **extra}


def build(name: str, run_order: int = 1, **extra) -> dict:
    return {"name": name, "actionTypeId": BUILD, "runOrder": run_order,
            "configuration": {"ProjectName": name.lower()}, **extra}


def declaration(account: str, name: str, stages: list[dict], **extra) -> dict:
    return {"name": name, "roleArn": pipeline_role(account),
            "artifactStore": {"type": "S3", "location": f"artifacts-{account}"}, "stages": stages, **extra}


def rule(name: str, provider: str, configuration: dict, **extra) -> dict:
    return {"name": name, "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": provider, "version": "1"},
            "configuration": configuration, **extra}


def gate_pipeline(account: str, name: str = "app", **extra) -> None:
    """Build -> Gate (approval Check) -> Deploy."""
    client("codepipeline", account).create_pipeline(pipeline=declaration(account, name, [
        stage("Build", build("Compile")),
        stage("Gate", approval("Check")),
        stage("Deploy", build("Release")),
    ], **extra))


def state_of(account: str, pipeline: str = "app") -> dict:
    return {s["stageName"]: s for s in client("codepipeline", account).get_pipeline_state(name=pipeline)["stageStates"]}


def action_state(account: str, pipeline: str, stage_name: str, action: str) -> dict:
    for a in state_of(account, pipeline)[stage_name]["actionStates"]:
        if a["actionName"] == action:
            return a.get("latestExecution", {})
    raise AssertionError(f"{stage_name}/{action} not in state")


def status_of(account: str, execution_id: str, pipeline: str = "app") -> str:
    return client("codepipeline", account).get_pipeline_execution(
        pipelineName=pipeline, pipelineExecutionId=execution_id)["pipelineExecution"]["status"]


def action_details(account: str, execution_id: str, pipeline: str = "app") -> list[dict]:
    cp = client("codepipeline", account)
    return cp.list_action_executions(pipelineName=pipeline, filter={"pipelineExecutionId": execution_id})[
        "actionExecutionDetails"]


def approval_token(account: str, execution_id: str, stage_name: str, action: str, pipeline: str = "app") -> str:
    """The token of a waiting approval, from ListActionExecutions' externalExecutionId (works in every mode)."""
    for d in action_details(account, execution_id, pipeline):
        if d["stageName"] == stage_name and d["actionName"] == action and d["status"] == "InProgress":
            return d["output"]["executionResult"]["externalExecutionId"]
    raise AssertionError(f"no waiting {stage_name}/{action} in {execution_id}")


def approve(account_or_creds, stage_name: str, action: str, token: str, status: str = "Approved",
            summary: str = "ok", pipeline: str = "app") -> dict:
    cp = client("codepipeline", creds=account_or_creds) if isinstance(account_or_creds, dict) \
        else client("codepipeline", account_or_creds)
    return cp.put_approval_result(pipelineName=pipeline, stageName=stage_name, actionName=action, token=token,
                                  result={"status": status, "summary": summary})


def events(account: str, name: str) -> list[dict]:
    out = client("cloudtrail", account).lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])["Events"]
    return [json.loads(e["CloudTrailEvent"]) for e in out]


def error_code(err: ClientError) -> str:
    return err.response["Error"]["Code"]


class PipelineVersionTests(unittest.TestCase):
    def test_versions_get_by_version_and_delete(self):
        acct = "910000000001"
        cp = client("codepipeline", acct)
        decl = declaration(acct, "app", [stage("Build", build("Compile")), stage("Deploy", build("Release"))])
        created = cp.create_pipeline(pipeline=decl)["pipeline"]
        self.assertEqual(created["version"], 1)
        first = cp.get_pipeline(name="app")
        v2 = copy.deepcopy(first["pipeline"])
        v2["stages"].append(stage("Verify", build("Smoke")))
        self.assertEqual(cp.update_pipeline(pipeline=v2)["pipeline"]["version"], 2)
        v3 = copy.deepcopy(cp.get_pipeline(name="app")["pipeline"])
        v3["stages"][1]["actions"][0]["name"] = "ReleaseV3"
        self.assertEqual(cp.update_pipeline(pipeline=v3)["pipeline"]["version"], 3)

        latest = cp.get_pipeline(name="app")
        self.assertEqual(latest["pipeline"]["version"], 3)
        self.assertGreaterEqual(latest["metadata"]["updated"], first["metadata"]["updated"])
        self.assertEqual(latest["metadata"]["created"], first["metadata"]["created"])
        self.assertEqual([s["name"] for s in cp.get_pipeline(name="app", version=1)["pipeline"]["stages"]],
                         ["Build", "Deploy"])
        self.assertEqual(cp.get_pipeline(name="app", version=2)["pipeline"]["stages"][2]["name"], "Verify")
        self.assertEqual(cp.get_pipeline(name="app", version=3)["pipeline"]["stages"][1]["actions"][0]["name"],
                         "ReleaseV3")
        with self.assertRaises(ClientError) as err:
            cp.get_pipeline(name="app", version=4)
        self.assertEqual(error_code(err.exception), "PipelineVersionNotFoundException")
        stale = copy.deepcopy(first["pipeline"])  # still says version 1
        with self.assertRaises(ClientError) as err:
            cp.update_pipeline(pipeline=stale)
        self.assertEqual(error_code(err.exception), "InvalidStructureException")
        listed = cp.list_pipelines()["pipelines"]
        self.assertEqual([(p["name"], p["version"], p["pipelineType"], p["executionMode"]) for p in listed],
                         [("app", 3, "V1", "SUPERSEDED")])

        # AWS keeps only the newest versions retrievable (aws/aws-sdk#558)
        for _ in range(10):
            current = cp.get_pipeline(name="app")["pipeline"]
            cp.update_pipeline(pipeline=current)
        self.assertEqual(cp.get_pipeline(name="app")["pipeline"]["version"], 13)
        self.assertEqual(cp.get_pipeline(name="app", version=4)["pipeline"]["version"], 4)
        with self.assertRaises(ClientError) as err:
            cp.get_pipeline(name="app", version=3)
        self.assertEqual(error_code(err.exception), "PipelineNotFoundException")

        # UpdatePipeline in CloudTrail: the request as sent, the stored declaration as response
        update = [e for e in events(acct, "UpdatePipeline")
                  if e["responseElements"] and e["responseElements"]["pipeline"]["version"] == 2][0]
        self.assertEqual(update["eventSource"], "codepipeline.amazonaws.com")
        self.assertEqual(update["requestParameters"], {"pipeline": v2})
        self.assertFalse(update["readOnly"])
        self.assertEqual(update["userIdentity"]["type"], "Root")

        cp.start_pipeline_execution(name="app")
        cp.delete_pipeline(name="app")
        for call in (lambda: cp.get_pipeline(name="app"), lambda: cp.list_pipeline_executions(pipelineName="app"),
                     lambda: cp.get_pipeline_state(name="app")):
            with self.assertRaises(ClientError) as err:
                call()
            self.assertEqual(error_code(err.exception), "PipelineNotFoundException")
        again = cp.create_pipeline(pipeline=decl)["pipeline"]
        self.assertEqual(again["version"], 1)
        self.assertEqual(cp.list_pipeline_executions(pipelineName="app")["pipelineExecutionSummaries"], [])

    def test_v2_declaration_kept_whole_and_validated(self):
        acct = "910000000002"
        cp = client("codepipeline", acct)
        decl = declaration(acct, "v2", [
            stage("Source", {"name": "Code", "actionTypeId": GIT_SOURCE, "runOrder": 1, "namespace": "SourceVariables",
                             "configuration": {"ConnectionArn": f"arn:aws:codeconnections:{REGION}:{acct}:connection/x",
                                               "FullRepositoryId": "demo/app", "BranchName": "main"},
                             "outputArtifacts": [{"name": "Src"}]}),
            stage("Build", build("Compile", inputArtifacts=[{"name": "Src"}]),
                  onFailure={"result": "RETRY", "retryConfiguration": {"retryMode": "FAILED_ACTIONS"}}),
            stage("Approve", approval("Review", configuration={
                "CustomData": "Check CHG ticket", "ExternalEntityLink": "https://example.com/chg",
                "NotificationArn": f"arn:aws:sns:{REGION}:{acct}:approvals"}, timeoutInMinutes=60)),
            stage("Prod", build("Release"),
                  beforeEntry={"conditions": [{"result": "FAIL", "rules": [
                      rule("Window", "DeploymentWindow", {"Cron": "* * 9-17 ? * MON-FRI *",
                                                          "TimeZone": "Europe/Berlin"}),
                      rule("OnMain", "VariableCheck", {"Variable": "#{SourceVariables.BranchName}",
                                                      "Value": "main", "Operator": "EQ"})]}]},
                  onSuccess={"conditions": [{"result": "ROLLBACK", "rules": [
                      rule("Alarm", "CloudWatchAlarm", {"AlarmName": "prod-5xx", "WaitTime": "5"})]}]},
                  onFailure={"result": "ROLLBACK"}),
        ], pipelineType="V2", executionMode="QUEUED",
            variables=[{"name": "Env", "defaultValue": "prod", "description": "target"}],
            triggers=[{"providerType": "CodeStarSourceConnection", "gitConfiguration": {
                "sourceActionName": "Code", "push": [{"branches": {"includes": ["main"]}}]}}])
        decl.pop("artifactStore")
        decl["artifactStores"] = {REGION: {"type": "S3", "location": f"artifacts-{acct}"},
                                  "eu-west-1": {"type": "S3", "location": f"artifacts-{acct}-eu"}}
        cp.create_pipeline(pipeline=decl)
        got = cp.get_pipeline(name="v2")["pipeline"]
        expected = copy.deepcopy(decl)
        expected["version"] = 1
        for s in expected["stages"]:
            for a in s["actions"]:
                a.setdefault("configuration", {})
                a.setdefault("inputArtifacts", [])
                a.setdefault("outputArtifacts", [])
        self.assertEqual(got, expected)

        def refused(pipeline: dict, code: str) -> None:
            with self.assertRaises(ClientError) as err:
                cp.create_pipeline(pipeline=pipeline)
            self.assertEqual(error_code(err.exception), code, err.exception.response["Error"]["Message"])

        base = lambda name, stages, **extra: declaration(acct, name, stages, **extra)
        refused(copy.deepcopy(decl), "PipelineNameInUseException")
        refused(base("v1cond", [stage("A", build("B")), stage("C", build("D"), beforeEntry={"conditions": [
            {"result": "FAIL", "rules": [rule("r", "VariableCheck", {"Variable": "x", "Value": "y",
                                                                     "Operator": "EQ"})]}]})]),
                "InvalidStageDeclarationException")
        refused(base("queuedv1", [stage("A", build("B")), stage("C", build("D"))], executionMode="QUEUED"),
                "InvalidStructureException")
        refused(base("timeout", [stage("A", build("B")), stage("C", approval("D", timeoutInMinutes=100000))]),
                "ValidationException")
        refused(base("buildtimeout", [stage("A", build("B", timeoutInMinutes=60)), stage("C", build("D"))]),
                "InvalidActionDeclarationException")
        refused(base("badkey", [stage("A", build("B")), stage("C", approval("D", configuration={"Foo": "x"}))]),
                "InvalidActionDeclarationException")
        refused(base("provider", [stage("A", build("B")), stage("C", build("D"), beforeEntry={"conditions": [
            {"result": "FAIL", "rules": [rule("r", "Magic", {})]}]})], pipelineType="V2"),
                "InvalidStageDeclarationException")
        refused(base("skipwindow", [stage("A", build("B")), stage("C", build("D"), beforeEntry={"conditions": [
            {"result": "SKIP", "rules": [rule("r", "DeploymentWindow", {"Cron": "* * * * * ?"})]}]})],
            pipelineType="V2"), "InvalidStageDeclarationException")
        refused(base("badcron", [stage("A", build("B")), stage("C", build("D"), beforeEntry={"conditions": [
            {"result": "FAIL", "rules": [rule("r", "DeploymentWindow", {"Cron": "every monday"})]}]})],
            pipelineType="V2"), "InvalidStageDeclarationException")
        refused(base("parallelrollback", [stage("A", build("B")), stage("C", build("D"),
                                                                      onFailure={"result": "ROLLBACK"})],
                     pipelineType="V2", executionMode="PARALLEL"), "InvalidStageDeclarationException")
        both = base("both", [stage("A", build("B")), stage("C", build("D"))])
        both["artifactStores"] = {REGION: {"type": "S3", "location": "x-bucket"}}
        refused(both, "InvalidStructureException")
        untrusted = base("untrusted", [stage("A", build("B")), stage("C", build("D"))])
        client("iam", acct).create_role(RoleName="NotForPipelines", AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": acct}}))
        untrusted["roleArn"] = f"arn:aws:iam::{acct}:role/NotForPipelines"
        refused(untrusted, "InvalidStructureException")


class ExecutionTests(unittest.TestCase):
    def tearDown(self):
        control("clock", {"reset": True})

    def test_execution_keeps_its_version_and_names_its_caller(self):
        acct = "910000000003"
        gate_pipeline(acct)
        user = make_user(acct, "ursula")
        cp_user = client("codepipeline", creds=user)
        cp = client("codepipeline", acct)
        first = cp_user.start_pipeline_execution(name="app")["pipelineExecutionId"]
        self.assertEqual(action_state(acct, "app", "Gate", "Check")["status"], "InProgress")
        v2 = copy.deepcopy(cp.get_pipeline(name="app")["pipeline"])
        v2["stages"][2]["actions"][0]["name"] = "ReleaseV2"
        v2["stages"].append(stage("Verify", build("Smoke")))
        cp.update_pipeline(pipeline=v2)
        second = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        # SUPERSEDED: the second waits in front of the locked Gate stage
        gate = state_of(acct)["Gate"]
        self.assertEqual(gate["latestExecution"]["pipelineExecutionId"], first)
        self.assertEqual(gate["inboundExecution"]["pipelineExecutionId"], second)
        approve(acct, "Gate", "Check", approval_token(acct, first, "Gate", "Check"))
        self.assertEqual(status_of(acct, first), "Succeeded")
        ran = {(d["stageName"], d["actionName"]): d for d in action_details(acct, first)}
        self.assertEqual(set(ran), {("Build", "Compile"), ("Gate", "Check"), ("Deploy", "Release")})
        self.assertTrue(all(d["pipelineVersion"] == 1 for d in ran.values()))
        execution = cp.get_pipeline_execution(pipelineName="app", pipelineExecutionId=first)["pipelineExecution"]
        self.assertEqual(execution["pipelineVersion"], 1)
        self.assertEqual(execution["trigger"], {"triggerType": "StartPipelineExecution",
                                                "triggerDetail": f"arn:aws:iam::{acct}:user/ursula"})
        self.assertEqual((execution["executionMode"], execution["executionType"]), ("SUPERSEDED", "STANDARD"))
        # the second entered the gate on version 2 and runs version 2's stages
        approve(acct, "Gate", "Check", approval_token(acct, second, "Gate", "Check"))
        later = {(d["stageName"], d["actionName"]) for d in action_details(acct, second)}
        self.assertIn(("Deploy", "ReleaseV2"), later)
        self.assertIn(("Verify", "Smoke"), later)
        self.assertEqual(cp.get_pipeline_execution(pipelineName="app", pipelineExecutionId=second)
                         ["pipelineExecution"]["trigger"]["triggerDetail"], f"arn:aws:iam::{acct}:root")
        self.assertEqual(cp.get_pipeline_state(name="app")["pipelineVersion"], 2)
        summaries = cp.list_pipeline_executions(pipelineName="app")["pipelineExecutionSummaries"]
        self.assertEqual([s["pipelineExecutionId"] for s in summaries], [second, first])
        self.assertEqual(summaries[1]["trigger"]["triggerDetail"], f"arn:aws:iam::{acct}:user/ursula")

    def test_source_revisions_variables_and_overrides(self):
        acct = "910000000004"
        s3 = client("s3", acct)
        bucket = f"source-{acct}"
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        old = s3.put_object(Bucket=bucket, Key="app.zip", Body=b"one")["VersionId"]
        new = s3.put_object(Bucket=bucket, Key="app.zip", Body=b"two",
                            Metadata={"codepipeline-artifact-revision-summary": "release two"})
        other = s3.put_object(Bucket=bucket, Key="hotfix.zip", Body=b"three")["VersionId"]
        cp = client("codepipeline", acct)
        cp.create_pipeline(pipeline=declaration(acct, "app", [
            stage("Source",
                  {"name": "Bundle", "actionTypeId": S3_SOURCE, "namespace": "BundleVars",
                   "configuration": {"S3Bucket": bucket, "S3ObjectKey": "app.zip", "PollForSourceChanges": "false"},
                   "outputArtifacts": [{"name": "BundleOut"}]},
                  {"name": "Code", "actionTypeId": GIT_SOURCE,
                   "configuration": {"ConnectionArn": f"arn:aws:codeconnections:{REGION}:{acct}:connection/c",
                                     "FullRepositoryId": "demo/app", "BranchName": "main"},
                   "outputArtifacts": [{"name": "CodeOut"}]}),
            stage("Deploy", build("Release", configuration={
                "ProjectName": "release", "EnvironmentVariables":
                    '[{"name":"TARGET","value":"#{variables.Env}"},{"name":"V","value":"#{BundleVars.VersionId}"}]'})),
        ], pipelineType="V2", variables=[{"name": "Env", "defaultValue": "staging"}]))

        plain = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        summary = cp.list_pipeline_executions(pipelineName="app")["pipelineExecutionSummaries"][0]
        revisions = {r["actionName"]: r for r in summary["sourceRevisions"]}
        self.assertEqual(revisions["Bundle"]["revisionId"], new["VersionId"])
        self.assertEqual(revisions["Bundle"]["revisionSummary"], "release two")
        self.assertRegex(revisions["Code"]["revisionId"], r"^[0-9a-f]{40}$")
        execution = cp.get_pipeline_execution(pipelineName="app", pipelineExecutionId=plain)["pipelineExecution"]
        artifacts = {a["name"]: a for a in execution["artifactRevisions"]}
        self.assertEqual(artifacts["BundleOut"]["revisionId"], new["VersionId"])
        self.assertEqual(artifacts["BundleOut"]["revisionChangeIdentifier"], new["ETag"].strip('"'))
        self.assertEqual(execution["variables"], [{"name": "Env", "resolvedValue": "staging"}])
        release = [d for d in action_details(acct, plain) if d["actionName"] == "Release"][0]
        self.assertIn('"value":"staging"', release["input"]["resolvedConfiguration"]["EnvironmentVariables"])
        self.assertIn(new["VersionId"], release["input"]["resolvedConfiguration"]["EnvironmentVariables"])
        self.assertIn("#{variables.Env}", release["input"]["configuration"]["EnvironmentVariables"])
        bundle = [d for d in action_details(acct, plain) if d["actionName"] == "Bundle"][0]
        self.assertEqual(bundle["output"]["outputVariables"]["VersionId"], new["VersionId"])

        commit = "0123456789abcdef0123456789abcdef01234567"
        overrides = [{"actionName": "Bundle", "revisionType": "S3_OBJECT_VERSION_ID", "revisionValue": old},
                     {"actionName": "Code", "revisionType": "COMMIT_ID", "revisionValue": commit}]
        pinned = cp.start_pipeline_execution(name="app", sourceRevisions=overrides,
                                             variables=[{"name": "Env", "value": "prod"}])["pipelineExecutionId"]
        summary = cp.list_pipeline_executions(pipelineName="app", maxResults=1)["pipelineExecutionSummaries"][0]
        self.assertEqual(summary["pipelineExecutionId"], pinned)
        self.assertEqual({r["actionName"]: r["revisionId"] for r in summary["sourceRevisions"]},
                         {"Bundle": old, "Code": commit})
        self.assertEqual(cp.get_pipeline_execution(pipelineName="app", pipelineExecutionId=pinned)
                         ["pipelineExecution"]["variables"], [{"name": "Env", "resolvedValue": "prod"}])
        by_key = cp.start_pipeline_execution(name="app", sourceRevisions=[
            {"actionName": "Bundle", "revisionType": "S3_OBJECT_KEY", "revisionValue": "hotfix.zip"}])
        summary = cp.list_pipeline_executions(pipelineName="app", maxResults=1)["pipelineExecutionSummaries"][0]
        self.assertEqual(summary["pipelineExecutionId"], by_key["pipelineExecutionId"])
        self.assertEqual(summary["sourceRevisions"][0]["revisionId"], other)

        for bad, code in (
            ({"sourceRevisions": [{"actionName": "Bundle", "revisionType": "COMMIT_ID", "revisionValue": "x"}]},
             "ValidationException"),
            ({"sourceRevisions": [{"actionName": "Release", "revisionType": "COMMIT_ID", "revisionValue": "x"}]},
             "ValidationException"),
            ({"variables": [{"name": "Undeclared", "value": "x"}]}, "ValidationException"),
        ):
            with self.assertRaises(ClientError) as err:
                cp.start_pipeline_execution(name="app", **bad)
            self.assertEqual(error_code(err.exception), code)
        missing = cp.start_pipeline_execution(name="app", sourceRevisions=[
            {"actionName": "Bundle", "revisionType": "S3_OBJECT_KEY", "revisionValue": "nope.zip"}])
        self.assertEqual(status_of(acct, missing["pipelineExecutionId"]), "Failed")
        failed = [d for d in action_details(acct, missing["pipelineExecutionId"]) if d["actionName"] == "Bundle"][0]
        self.assertEqual(failed["status"], "Failed")
        self.assertIn("nope.zip", failed["output"]["executionResult"]["errorDetails"]["message"])

        # StartPipelineExecution in CloudTrail: requestParameters mirror the request
        started = [e for e in events(acct, "StartPipelineExecution")
                   if (e["requestParameters"] or {}).get("sourceRevisions") == overrides][0]
        self.assertEqual(started["requestParameters"]["name"], "app")
        self.assertEqual(started["requestParameters"]["variables"], [{"name": "Env", "value": "prod"}])
        self.assertTrue(started["requestParameters"]["clientRequestToken"])
        self.assertEqual(started["responseElements"], {"pipelineExecutionId": pinned})
        # clientRequestToken is idempotent
        token = started["requestParameters"]["clientRequestToken"]
        again = cp.start_pipeline_execution(name="app", clientRequestToken=token, sourceRevisions=overrides)
        self.assertEqual(again["pipelineExecutionId"], pinned)

    def test_approval_times_out_by_the_emulator_clock(self):
        acct = "910000000021"
        cp = client("codepipeline", acct)
        cp.create_pipeline(pipeline=declaration(acct, "app", [
            stage("Build", build("Compile")),
            stage("Gate", approval("Quick", timeoutInMinutes=30), approval("Default")),
        ]))
        control("clock", {"now": "2026-06-01T09:00:00Z"})
        ex = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        control("clock", {"now": "2026-06-01T09:29:00Z"})
        self.assertEqual(action_state(acct, "app", "Gate", "Quick")["status"], "InProgress")
        control("clock", {"now": "2026-06-01T09:31:00Z"})
        quick = action_state(acct, "app", "Gate", "Quick")
        self.assertEqual(quick["status"], "Failed")
        self.assertIn("timed out", quick["errorDetails"]["message"])
        self.assertEqual(status_of(acct, ex), "Failed")
        self.assertEqual(action_state(acct, "app", "Gate", "Default")["status"], "InProgress")
        control("clock", {"now": "2026-06-08T09:01:00Z"})  # the default timeout is 7 days
        self.assertEqual(action_state(acct, "app", "Gate", "Default")["status"], "Failed")

    def test_superseded_mode(self):
        acct = "910000000005"
        gate_pipeline(acct)
        cp = client("codepipeline", acct)
        first = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        second = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        self.assertEqual(state_of(acct)["Gate"]["inboundExecution"]["pipelineExecutionId"], second)
        third = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        self.assertEqual(status_of(acct, second), "Superseded")
        self.assertEqual(state_of(acct)["Gate"]["inboundExecution"]["pipelineExecutionId"], third)
        # the token GetPipelineState shows is the first execution's (the one in the stage)
        token = action_state(acct, "app", "Gate", "Check")["token"]
        self.assertEqual(token, approval_token(acct, first, "Gate", "Check"))
        approve(acct, "Gate", "Check", token)
        self.assertEqual(status_of(acct, first), "Succeeded")
        self.assertEqual(state_of(acct)["Gate"]["latestExecution"]["pipelineExecutionId"], third)
        approve(acct, "Gate", "Check", action_state(acct, "app", "Gate", "Check")["token"])
        self.assertEqual([status_of(acct, e) for e in (first, second, third)],
                         ["Succeeded", "Superseded", "Succeeded"])
        self.assertFalse([d for d in action_details(acct, second) if d["stageName"] == "Gate"])

    def test_queued_mode(self):
        acct = "910000000006"
        gate_pipeline(acct, pipelineType="V2", executionMode="QUEUED")
        cp = client("codepipeline", acct)
        runs = [cp.start_pipeline_execution(name="app")["pipelineExecutionId"] for _ in range(3)]
        gate = state_of(acct)["Gate"]
        self.assertEqual(gate["latestExecution"]["pipelineExecutionId"], runs[0])
        self.assertEqual([e["pipelineExecutionId"] for e in gate["inboundExecutions"]], runs[1:])
        self.assertEqual(gate["inboundExecution"]["pipelineExecutionId"], runs[1])
        for i, run in enumerate(runs):
            self.assertEqual(state_of(acct)["Gate"]["latestExecution"]["pipelineExecutionId"], run)
            approve(acct, "Gate", "Check", action_state(acct, "app", "Gate", "Check")["token"])
            self.assertEqual(status_of(acct, run), "Succeeded")
        summaries = cp.list_pipeline_executions(pipelineName="app")["pipelineExecutionSummaries"]
        self.assertEqual({s["executionMode"] for s in summaries}, {"QUEUED"})

    def test_parallel_mode_tokens_only_from_action_executions(self):
        acct = "910000000007"
        gate_pipeline(acct, pipelineType="V2", executionMode="PARALLEL")
        cp = client("codepipeline", acct)
        first = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        second = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        waiting = [d for d in cp.list_action_executions(pipelineName="app")["actionExecutionDetails"]
                   if d["actionName"] == "Check" and d["status"] == "InProgress"]
        self.assertEqual({d["pipelineExecutionId"] for d in waiting}, {first, second})
        gate = action_state(acct, "app", "Gate", "Check")
        self.assertEqual(gate["status"], "InProgress")
        self.assertNotIn("token", gate)  # PARALLEL: GetPipelineState hands out no token
        tokens = {d["pipelineExecutionId"]: d["output"]["executionResult"]["externalExecutionId"] for d in waiting}
        self.assertNotEqual(tokens[first], tokens[second])
        with self.assertRaises(ClientError) as err:
            approve(acct, "Gate", "Check", str(uuid.uuid4()))
        self.assertEqual(error_code(err.exception), "InvalidApprovalTokenException")
        approver = make_user(acct, "pat")
        approve(approver, "Gate", "Check", tokens[second], summary="second only")
        self.assertEqual((status_of(acct, first), status_of(acct, second)), ("InProgress", "Succeeded"))
        with self.assertRaises(ClientError) as err:
            approve(acct, "Gate", "Check", tokens[second])
        self.assertEqual(error_code(err.exception), "ApprovalAlreadyCompletedException")
        approve(acct, "Gate", "Check", tokens[first], status="Rejected", summary="not this one")
        self.assertEqual(status_of(acct, first), "Failed")
        check = [d for d in action_details(acct, second) if d["actionName"] == "Check"][0]
        self.assertEqual(check["updatedBy"], f"arn:aws:iam::{acct}:user/pat")
        self.assertEqual(check["output"]["executionResult"]["externalExecutionSummary"], "second only")
        recorded = [e for e in events(acct, "PutApprovalResult") if e["requestParameters"]["token"] == tokens[second]]
        self.assertEqual([(e["userIdentity"]["arn"], e.get("errorCode")) for e in recorded],
                         [(f"arn:aws:iam::{acct}:root", "ApprovalAlreadyCompletedException"),
                          (f"arn:aws:iam::{acct}:user/pat", None)])
        self.assertEqual(recorded[1]["requestParameters"], {
            "pipelineName": "app", "stageName": "Gate", "actionName": "Check",
            "result": {"summary": "second only", "status": "Approved"}, "token": tokens[second]})


class ConditionTests(unittest.TestCase):
    def tearDown(self):
        control("clock", {"reset": True})

    def test_variable_check_override_and_rule_executions(self):
        acct = "910000000008"
        cp = client("codepipeline", acct)
        cp.create_pipeline(pipeline=declaration(acct, "app", [
            stage("Build", build("Compile")),
            stage("Prod", build("Release"), beforeEntry={"conditions": [{"result": "FAIL", "rules": [
                rule("EnvIsProd", "VariableCheck", {"Variable": "#{variables.Env}", "Value": "prod",
                                                    "Operator": "EQ"})]}]}),
            stage("Docs", build("Publish"), beforeEntry={"conditions": [{"result": "SKIP", "rules": [
                rule("OnlyMain", "VariableCheck", {"Variable": "#{variables.Branch}", "Value": "^main$",
                                                   "Operator": "MATCHES"})]}]}),
        ], pipelineType="V2", variables=[{"name": "Env", "defaultValue": "staging"},
                                          {"name": "Branch", "defaultValue": "feature-x"}]))
        blocked = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        self.assertEqual(status_of(acct, blocked), "Failed")
        prod = state_of(acct)["Prod"]
        self.assertEqual(prod["latestExecution"]["status"], "Failed")
        self.assertEqual(prod["beforeEntryConditionState"]["latestExecution"]["status"], "Failed")
        rules = cp.list_rule_executions(pipelineName="app", filter={"pipelineExecutionId": blocked})[
            "ruleExecutionDetails"]
        self.assertEqual([(r["ruleName"], r["status"], r["stageName"]) for r in rules],
                         [("EnvIsProd", "Failed", "Prod")])
        self.assertEqual(rules[0]["input"]["resolvedConfiguration"]["Variable"], "staging")
        self.assertEqual(rules[0]["input"]["ruleTypeId"]["provider"], "VariableCheck")
        self.assertNotIn("updatedBy", rules[0])
        self.assertFalse([d for d in action_details(acct, blocked) if d["stageName"] == "Prod"])

        olga = make_user(acct, "olga")
        client("codepipeline", creds=olga).override_stage_condition(
            pipelineName="app", stageName="Prod", pipelineExecutionId=blocked, conditionType="BEFORE_ENTRY")
        self.assertEqual(status_of(acct, blocked), "Succeeded")
        prod = state_of(acct)["Prod"]
        self.assertEqual(prod["beforeEntryConditionState"]["latestExecution"]["status"], "Overridden")
        self.assertEqual(prod["latestExecution"]["status"], "Succeeded")
        self.assertEqual(state_of(acct)["Docs"]["latestExecution"]["status"], "Skipped")  # SKIP: branch not main
        rules = {r["ruleName"]: r for r in cp.list_rule_executions(
            pipelineName="app", filter={"pipelineExecutionId": blocked})["ruleExecutionDetails"]}
        self.assertEqual(rules["EnvIsProd"]["updatedBy"], f"arn:aws:iam::{acct}:user/olga")
        self.assertEqual(rules["OnlyMain"]["status"], "Failed")
        override = events(acct, "OverrideStageCondition")[0]
        self.assertEqual(override["requestParameters"], {"pipelineName": "app", "stageName": "Prod",
                                                         "pipelineExecutionId": blocked,
                                                         "conditionType": "BEFORE_ENTRY"})
        self.assertEqual(override["userIdentity"]["arn"], f"arn:aws:iam::{acct}:user/olga")
        self.assertIsNone(override["responseElements"])
        self.assertFalse(override["readOnly"])

        passing = cp.start_pipeline_execution(name="app", variables=[
            {"name": "Env", "value": "prod"}, {"name": "Branch", "value": "main"}])["pipelineExecutionId"]
        self.assertEqual(status_of(acct, passing), "Succeeded")
        self.assertEqual(state_of(acct)["Docs"]["latestExecution"]["status"], "Succeeded")
        for stage_name, code in (("Prod", "ConditionNotOverridableException"),
                                 ("Docs", "ConditionNotOverridableException"),
                                 ("Build", "ConditionNotOverridableException")):
            with self.assertRaises(ClientError) as err:
                cp.override_stage_condition(pipelineName="app", stageName=stage_name, pipelineExecutionId=passing,
                                            conditionType="BEFORE_ENTRY")
            self.assertEqual(error_code(err.exception), code)
        # the first execution is no longer the latest in Prod
        with self.assertRaises(ClientError) as err:
            cp.override_stage_condition(pipelineName="app", stageName="Prod", pipelineExecutionId=blocked,
                                        conditionType="BEFORE_ENTRY")
        self.assertEqual(error_code(err.exception), "NotLatestPipelineExecutionException")
        page = cp.list_rule_executions(pipelineName="app", maxResults=1)
        self.assertEqual(len(page["ruleExecutionDetails"]), 1)
        rest = cp.list_rule_executions(pipelineName="app", nextToken=page["nextToken"])["ruleExecutionDetails"]
        self.assertEqual(len(rest), 3)

    def test_deployment_window_follows_the_emulator_clock(self):
        acct = "910000000009"
        cp = client("codepipeline", acct)
        window = {"Cron": "* * 9-17 ? * MON-FRI *", "TimeZone": "Europe/Berlin"}
        cp.create_pipeline(pipeline=declaration(acct, "app", [
            stage("Build", build("Compile")),
            stage("Prod", build("Release"), beforeEntry={"conditions": [{"result": "FAIL", "rules": [
                rule("Window", "DeploymentWindow", window)]}]}),
        ], pipelineType="V2"))
        control("clock", {"now": "2026-05-02T10:00:00Z"})  # a Saturday
        waiting = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        prod = state_of(acct)["Prod"]
        self.assertEqual(prod["beforeEntryConditionState"]["latestExecution"]["status"], "InProgress")
        self.assertEqual(status_of(acct, waiting), "InProgress")
        self.assertFalse([d for d in action_details(acct, waiting) if d["stageName"] == "Prod"])
        control("clock", {"now": "2026-05-04T06:30:00Z"})  # Monday 08:30 in Berlin: still closed
        self.assertEqual(status_of(acct, waiting), "InProgress")
        control("clock", {"now": "2026-05-04T07:05:00Z"})  # Monday 09:05 in Berlin: open
        self.assertEqual(status_of(acct, waiting), "Succeeded")
        rules = cp.list_rule_executions(pipelineName="app", filter={"pipelineExecutionId": waiting})[
            "ruleExecutionDetails"]
        self.assertEqual(rules[0]["status"], "Succeeded")
        self.assertEqual(dt.datetime.fromtimestamp(rules[0]["lastUpdateTime"].timestamp(), dt.timezone.utc)
                         .strftime("%Y-%m-%d"), "2026-05-04")
        # an open window lets the next execution straight through
        self.assertEqual(status_of(acct, cp.start_pipeline_execution(name="app")["pipelineExecutionId"]),
                         "Succeeded")

        # with a rule timeout, a closed window fails the stage once it elapses
        v2 = copy.deepcopy(cp.get_pipeline(name="app")["pipeline"])
        v2["stages"][1]["beforeEntry"]["conditions"][0]["rules"][0]["timeoutInMinutes"] = 30
        cp.update_pipeline(pipeline=v2)
        control("clock", {"now": "2026-05-04T20:00:00Z"})
        late = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        self.assertEqual(status_of(acct, late), "InProgress")
        control("clock", {"now": "2026-05-04T20:31:00Z"})
        self.assertEqual(status_of(acct, late), "Failed")
        self.assertEqual(state_of(acct)["Prod"]["latestExecution"]["status"], "Failed")

    def test_controlled_rules_and_on_success_rollback(self):
        acct = "910000000010"
        cp = client("codepipeline", acct)
        cp.create_pipeline(pipeline=declaration(acct, "app", [
            stage("Build", build("Compile")),
            stage("Prod", build("Release"),
                  beforeEntry={"conditions": [{"result": "FAIL", "rules": [
                      rule("Healthy", "LambdaInvoke", {"FunctionName": "health-check"})]}]},
                  onSuccess={"conditions": [{"result": "ROLLBACK", "rules": [
                      rule("NoAlarm", "CloudWatchAlarm", {"AlarmName": "prod-errors"})]}]}),
        ], pipelineType="V2"))
        first = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        self.assertEqual(status_of(acct, first), "InProgress")  # the Lambda has not answered
        control("rules", {"accountId": acct, "pipeline": "app", "stage": "Prod", "rule": "Healthy",
                          "result": "Succeeded", "summary": "all green"})
        self.assertEqual(state_of(acct)["Prod"]["onSuccessConditionState"]["latestExecution"]["status"],
                         "InProgress")
        # the alarm rule keeps watching; an operator overrides the success condition instead of waiting
        cp.override_stage_condition(pipelineName="app", stageName="Prod", pipelineExecutionId=first,
                                    conditionType="ON_SUCCESS")
        self.assertEqual(status_of(acct, first), "Succeeded")
        self.assertEqual(state_of(acct)["Prod"]["onSuccessConditionState"]["latestExecution"]["status"],
                         "Overridden")
        no_alarm = [r for r in cp.list_rule_executions(pipelineName="app")["ruleExecutionDetails"]
                    if r["ruleName"] == "NoAlarm"][0]
        self.assertEqual((no_alarm["status"], no_alarm["updatedBy"]), ("Abandoned", f"arn:aws:iam::{acct}:root"))
        healthy = [r for r in cp.list_rule_executions(pipelineName="app")["ruleExecutionDetails"]
                   if r["ruleName"] == "Healthy"][0]
        self.assertEqual(healthy["output"]["executionResult"]["externalExecutionSummary"], "all green")

        control("rules", {"accountId": acct, "pipeline": "app", "stage": "Prod", "rule": "NoAlarm",
                          "result": "Failed", "summary": "prod-errors in ALARM"})
        second = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        self.assertEqual(status_of(acct, second), "Failed")
        summaries = cp.list_pipeline_executions(pipelineName="app")["pipelineExecutionSummaries"]
        rollback = summaries[0]
        self.assertEqual(rollback["executionType"], "ROLLBACK")
        self.assertEqual(rollback["trigger"], {"triggerType": "AutomatedRollback", "triggerDetail": second})
        self.assertEqual(rollback["rollbackMetadata"], {"rollbackTargetPipelineExecutionId": first})
        # the rollback runs only Prod (its rules still fail: it ends Failed as well, no rollback of a rollback)
        ran = {d["stageName"] for d in action_details(acct, rollback["pipelineExecutionId"])}
        self.assertEqual(ran, {"Prod"})
        with self.assertRaises(ClientError) as err:  # the rollback has run the stage since
            cp.override_stage_condition(pipelineName="app", stageName="Prod", pipelineExecutionId=second,
                                        conditionType="ON_SUCCESS")
        self.assertEqual(error_code(err.exception), "NotLatestPipelineExecutionException")
        with self.assertRaises(urllib.error.HTTPError):
            control("rules", {"accountId": acct, "pipeline": "app", "stage": "Prod", "rule": "NoAlarm",
                              "result": "Maybe"})

    def test_on_failure_conditions_roll_back_when_their_rules_fail(self):
        acct = "910000000022"
        cp = client("codepipeline", acct)
        cp.create_pipeline(pipeline=declaration(acct, "app", [
            stage("Build", build("Compile")),
            stage("Prod", build("Release"), onFailure={"conditions": [{"result": "ROLLBACK", "rules": [
                rule("StillBroken", "CloudWatchAlarm", {"AlarmName": "prod-errors"})]}]}),
        ], pipelineType="V2"))
        good = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        control("actions", {"accountId": acct, "pipeline": "app", "stage": "Prod", "action": "Release",
                            "result": "Failed"})
        bad = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        self.assertEqual(status_of(acct, bad), "InProgress")  # the failure condition is being checked
        self.assertEqual(state_of(acct)["Prod"]["onFailureConditionState"]["latestExecution"]["status"],
                         "InProgress")
        control("actions", {"accountId": acct, "pipeline": "app", "stage": "Prod", "action": "Release",
                            "result": "Succeeded"})
        control("rules", {"accountId": acct, "pipeline": "app", "stage": "Prod", "rule": "StillBroken",
                          "result": "Failed", "summary": "prod-errors in ALARM"})
        self.assertEqual(status_of(acct, bad), "Failed")
        rollback = cp.list_pipeline_executions(pipelineName="app")["pipelineExecutionSummaries"][0]
        self.assertEqual((rollback["executionType"], rollback["status"]), ("ROLLBACK", "Succeeded"))
        self.assertEqual(rollback["rollbackMetadata"], {"rollbackTargetPipelineExecutionId": good})


class GateWeakeningTests(unittest.TestCase):
    def test_retry_stage_execution(self):
        acct = "910000000011"
        cp = client("codepipeline", acct)
        cp.create_pipeline(pipeline=declaration(acct, "app", [
            stage("Build", build("Compile")),
            stage("Prod", approval("A"), approval("B"), build("Deploy", run_order=2)),
        ]))
        ex = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        token_a = approval_token(acct, ex, "Prod", "A")
        approve(acct, "Prod", "A", token_a, status="Rejected", summary="not yet")
        self.assertEqual(status_of(acct, ex), "Failed")
        with self.assertRaises(ClientError) as err:
            cp.retry_stage_execution(pipelineName="app", stageName="Build", pipelineExecutionId=ex,
                                     retryMode="FAILED_ACTIONS")
        self.assertEqual(error_code(err.exception), "StageNotRetryableException")
        with self.assertRaises(ClientError) as err:  # B is still waiting
            cp.retry_stage_execution(pipelineName="app", stageName="Prod", pipelineExecutionId=ex,
                                     retryMode="ALL_ACTIONS")
        self.assertEqual(error_code(err.exception), "StageNotRetryableException")
        rita = make_user(acct, "rita")
        retried = client("codepipeline", creds=rita).retry_stage_execution(
            pipelineName="app", stageName="Prod", pipelineExecutionId=ex, retryMode="FAILED_ACTIONS")
        self.assertEqual(retried["pipelineExecutionId"], ex)
        self.assertEqual(status_of(acct, ex), "InProgress")
        prod = state_of(acct)["Prod"]
        self.assertEqual(prod["retryStageMetadata"], {"manualStageRetryAttempt": 1,
                                                      "latestRetryTrigger": "ManualStageRetry"})
        again_a = [d for d in action_details(acct, ex) if d["actionName"] == "A" and d["status"] == "InProgress"][0]
        self.assertEqual(again_a["updatedBy"], f"arn:aws:iam::{acct}:user/rita")
        new_token = again_a["output"]["executionResult"]["externalExecutionId"]
        self.assertNotEqual(new_token, token_a)
        approve(acct, "Prod", "A", new_token)
        approve(acct, "Prod", "B", approval_token(acct, ex, "Prod", "B"))
        self.assertEqual(status_of(acct, ex), "Succeeded")
        names = sorted((d["actionName"], d["status"]) for d in action_details(acct, ex) if d["stageName"] == "Prod")
        self.assertEqual(names, [("A", "Failed"), ("A", "Succeeded"), ("B", "Succeeded"), ("Deploy", "Succeeded")])
        event = events(acct, "RetryStageExecution")[0]
        self.assertEqual(event["requestParameters"], {"pipelineName": "app", "stageName": "Prod",
                                                      "pipelineExecutionId": ex, "retryMode": "FAILED_ACTIONS"})
        self.assertEqual(event["userIdentity"]["arn"], f"arn:aws:iam::{acct}:user/rita")
        self.assertEqual(event["responseElements"], {"pipelineExecutionId": ex})

        # a failed execution a later one overtook in the stage cannot be retried
        old = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        approve(acct, "Prod", "A", approval_token(acct, old, "Prod", "A"), status="Rejected")
        approve(acct, "Prod", "B", approval_token(acct, old, "Prod", "B"))
        newer = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        self.assertEqual(state_of(acct)["Prod"]["latestExecution"]["pipelineExecutionId"], newer)
        with self.assertRaises(ClientError) as err:
            cp.retry_stage_execution(pipelineName="app", stageName="Prod", pipelineExecutionId=old,
                                     retryMode="FAILED_ACTIONS")
        self.assertEqual(error_code(err.exception), "NotLatestPipelineExecutionException")

    def test_automatic_retry_and_failed_actions(self):
        acct = "910000000012"
        cp = client("codepipeline", acct)
        cp.create_pipeline(pipeline=declaration(acct, "app", [
            stage("Build", build("Compile"),
                  onFailure={"result": "RETRY", "retryConfiguration": {"retryMode": "ALL_ACTIONS"}}),
            stage("Deploy", build("Release")),
        ], pipelineType="V2"))
        control("actions", {"accountId": acct, "pipeline": "app", "stage": "Build", "action": "Compile",
                            "result": "Failed", "summary": "unit tests failed"})
        ex = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        self.assertEqual(status_of(acct, ex), "Failed")
        build_state = state_of(acct)["Build"]
        self.assertEqual(build_state["retryStageMetadata"], {"autoStageRetryAttempt": 1,
                                                             "latestRetryTrigger": "AutomatedStageRetry"})
        compiles = [d for d in action_details(acct, ex) if d["actionName"] == "Compile"]
        self.assertEqual([d["status"] for d in compiles], ["Failed", "Failed"])
        self.assertEqual(compiles[0]["output"]["executionResult"]["externalExecutionSummary"], "unit tests failed")
        control("actions", {"accountId": acct, "pipeline": "app", "stage": "Build", "action": "Compile",
                            "result": "Succeeded"})
        cp.retry_stage_execution(pipelineName="app", stageName="Build", pipelineExecutionId=ex,
                                 retryMode="FAILED_ACTIONS")
        self.assertEqual(status_of(acct, ex), "Succeeded")

    def test_rollback_stage(self):
        acct = "910000000013"
        s3 = client("s3", acct)
        bucket = f"source-{acct}"
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        first_version = s3.put_object(Bucket=bucket, Key="app.zip", Body=b"v1")["VersionId"]
        cp = client("codepipeline", acct)
        cp.create_pipeline(pipeline=declaration(acct, "app", [
            stage("Source", {"name": "Bundle", "actionTypeId": S3_SOURCE,
                             "configuration": {"S3Bucket": bucket, "S3ObjectKey": "app.zip"},
                             "outputArtifacts": [{"name": "Out"}]}),
            stage("Deploy", build("Release", inputArtifacts=[{"name": "Out"}]), onFailure={"result": "ROLLBACK"}),
        ], pipelineType="V2"))
        good = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        s3.put_object(Bucket=bucket, Key="app.zip", Body=b"v2")
        later = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        self.assertEqual((status_of(acct, good), status_of(acct, later)), ("Succeeded", "Succeeded"))

        ron = make_user(acct, "ron")
        rolled = client("codepipeline", creds=ron).rollback_stage(
            pipelineName="app", stageName="Deploy", targetPipelineExecutionId=good)["pipelineExecutionId"]
        execution = cp.get_pipeline_execution(pipelineName="app", pipelineExecutionId=rolled)["pipelineExecution"]
        self.assertEqual(execution["status"], "Succeeded")
        self.assertEqual(execution["executionType"], "ROLLBACK")
        self.assertEqual(execution["rollbackMetadata"], {"rollbackTargetPipelineExecutionId": good})
        self.assertEqual(execution["trigger"], {"triggerType": "ManualRollback",
                                                "triggerDetail": f"arn:aws:iam::{acct}:user/ron"})
        self.assertEqual(execution["artifactRevisions"][0]["revisionId"], first_version)
        summary = cp.list_pipeline_executions(pipelineName="app")["pipelineExecutionSummaries"][0]
        self.assertEqual(summary["sourceRevisions"][0]["revisionId"], first_version)
        self.assertEqual({d["stageName"] for d in action_details(acct, rolled)}, {"Deploy"})
        deploy = state_of(acct)["Deploy"]["latestExecution"]
        self.assertEqual((deploy["pipelineExecutionId"], deploy["type"]), (rolled, "ROLLBACK"))
        event = events(acct, "RollbackStage")[0]
        self.assertEqual(event["requestParameters"], {"pipelineName": "app", "stageName": "Deploy",
                                                      "targetPipelineExecutionId": good})
        self.assertEqual(event["responseElements"], {"pipelineExecutionId": rolled})
        with self.assertRaises(ClientError) as err:
            cp.rollback_stage(pipelineName="app", stageName="Deploy", targetPipelineExecutionId=rolled)
        self.assertEqual(error_code(err.exception), "UnableToRollbackStageException")

        # onFailure ROLLBACK: a failing deployment rolls back to the newest good execution automatically
        control("actions", {"accountId": acct, "pipeline": "app", "stage": "Deploy", "action": "Release",
                            "result": "Failed"})
        broken = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        self.assertEqual(status_of(acct, broken), "Failed")
        automatic = cp.list_pipeline_executions(pipelineName="app")["pipelineExecutionSummaries"][0]
        self.assertEqual(automatic["trigger"], {"triggerType": "AutomatedRollback", "triggerDetail": broken})
        self.assertEqual(automatic["rollbackMetadata"]["rollbackTargetPipelineExecutionId"], later)
        control("actions", {"accountId": acct, "pipeline": "app", "stage": "Deploy", "action": "Release",
                            "result": "Succeeded"})
        # after an update the old executions are on another version
        cp.update_pipeline(pipeline=cp.get_pipeline(name="app")["pipeline"])
        with self.assertRaises(ClientError) as err:
            cp.rollback_stage(pipelineName="app", stageName="Deploy", targetPipelineExecutionId=good)
        self.assertEqual(error_code(err.exception), "UnableToRollbackStageException")

    def test_stage_transitions(self):
        acct = "910000000014"
        gate_pipeline(acct)
        cp = client("codepipeline", acct)
        dora = make_user(acct, "dora")
        client("codepipeline", creds=dora).disable_stage_transition(
            pipelineName="app", stageName="Deploy", transitionType="Inbound", reason="Change freeze")
        inbound = state_of(acct)["Deploy"]["inboundTransitionState"]
        self.assertEqual((inbound["enabled"], inbound["lastChangedBy"], inbound["disabledReason"]),
                         (False, f"arn:aws:iam::{acct}:user/dora", "Change freeze"))
        self.assertIsInstance(inbound["lastChangedAt"], dt.datetime)
        first = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        approve(acct, "Gate", "Check", approval_token(acct, first, "Gate", "Check"))
        self.assertEqual(status_of(acct, first), "InProgress")  # held in front of Deploy
        self.assertEqual(state_of(acct)["Deploy"]["inboundExecution"]["pipelineExecutionId"], first)
        second = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        approve(acct, "Gate", "Check", approval_token(acct, second, "Gate", "Check"))
        self.assertEqual(status_of(acct, first), "Superseded")  # superseded at the disabled transition
        client("codepipeline", creds=dora).enable_stage_transition(
            pipelineName="app", stageName="Deploy", transitionType="Inbound")
        self.assertEqual(status_of(acct, second), "Succeeded")
        inbound = state_of(acct)["Deploy"]["inboundTransitionState"]
        self.assertTrue(inbound["enabled"])
        self.assertNotIn("disabledReason", inbound)
        # Outbound of a stage is the transition into the next one
        cp.disable_stage_transition(pipelineName="app", stageName="Build", transitionType="Outbound",
                                    reason="Hold builds")
        self.assertFalse(state_of(acct)["Gate"]["inboundTransitionState"]["enabled"])
        with self.assertRaises(ClientError) as err:
            cp.disable_stage_transition(pipelineName="app", stageName="Nope", transitionType="Inbound", reason="x")
        self.assertEqual(error_code(err.exception), "StageNotFoundException")
        disabled = events(acct, "DisableStageTransition")
        self.assertIn({"pipelineName": "app", "stageName": "Deploy", "transitionType": "Inbound",
                       "reason": "Change freeze"}, [e["requestParameters"] for e in disabled])
        enabled = events(acct, "EnableStageTransition")[0]
        self.assertEqual(enabled["requestParameters"], {"pipelineName": "app", "stageName": "Deploy",
                                                        "transitionType": "Inbound"})

    def test_stop_pipeline_execution(self):
        acct = "910000000015"
        gate_pipeline(acct)
        cp = client("codepipeline", acct)
        waiting = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        cp.stop_pipeline_execution(pipelineName="app", pipelineExecutionId=waiting, reason="wrong build")
        self.assertEqual(status_of(acct, waiting), "Stopping")  # stop and wait: the approval may still finish
        with self.assertRaises(ClientError) as err:
            cp.stop_pipeline_execution(pipelineName="app", pipelineExecutionId=waiting)
        self.assertEqual(error_code(err.exception), "DuplicatedStopRequestException")
        approve(acct, "Gate", "Check", approval_token(acct, waiting, "Gate", "Check"))
        self.assertEqual(status_of(acct, waiting), "Stopped")
        self.assertFalse([d for d in action_details(acct, waiting) if d["stageName"] == "Deploy"])
        summary = cp.list_pipeline_executions(pipelineName="app")["pipelineExecutionSummaries"][0]
        self.assertEqual(summary["stopTrigger"], {"reason": "wrong build"})

        abandoned = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        cp.stop_pipeline_execution(pipelineName="app", pipelineExecutionId=abandoned, abandon=True, reason="abort")
        self.assertEqual(status_of(acct, abandoned), "Stopped")
        check = [d for d in action_details(acct, abandoned) if d["actionName"] == "Check"][0]
        self.assertEqual(check["status"], "Abandoned")
        self.assertEqual(state_of(acct)["Gate"]["latestExecution"]["status"], "Stopped")
        with self.assertRaises(ClientError) as err:
            cp.stop_pipeline_execution(pipelineName="app", pipelineExecutionId=abandoned)
        self.assertEqual(error_code(err.exception), "PipelineExecutionNotStoppableException")
        cp.retry_stage_execution(pipelineName="app", stageName="Gate", pipelineExecutionId=abandoned,
                                 retryMode="FAILED_ACTIONS")
        self.assertEqual(action_state(acct, "app", "Gate", "Check")["status"], "InProgress")
        stop = [e for e in events(acct, "StopPipelineExecution") if e["requestParameters"].get("abandon")][0]
        self.assertEqual(stop["requestParameters"], {"pipelineName": "app", "pipelineExecutionId": abandoned,
                                                     "abandon": True, "reason": "abort"})

    def test_put_action_revision(self):
        acct = "910000000016"
        cp = client("codepipeline", acct)
        cp.create_pipeline(pipeline=declaration(acct, "app", [
            stage("Source", {"name": "Code", "actionTypeId": GIT_SOURCE,
                             "configuration": {"ConnectionArn": f"arn:aws:codeconnections:{REGION}:{acct}:connection/c",
                                               "FullRepositoryId": "demo/app", "BranchName": "main"},
                             "outputArtifacts": [{"name": "Src"}]}),
            stage("Build", build("Compile")),
        ]))
        revision = {"revisionId": "f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed", "revisionChangeId": "change-1",
                    "created": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)}
        first = cp.put_action_revision(pipelineName="app", stageName="Source", actionName="Code",
                                       actionRevision=revision)
        self.assertTrue(first["newRevision"])
        summary = cp.list_pipeline_executions(pipelineName="app")["pipelineExecutionSummaries"][0]
        self.assertEqual(summary["pipelineExecutionId"], first["pipelineExecutionId"])
        self.assertEqual(summary["trigger"], {"triggerType": "PutActionRevision",
                                              "triggerDetail": f"arn:aws:iam::{acct}:root"})
        self.assertEqual(summary["sourceRevisions"][0]["revisionId"], revision["revisionId"])
        again = cp.put_action_revision(pipelineName="app", stageName="Source", actionName="Code",
                                       actionRevision=revision)
        self.assertFalse(again["newRevision"])
        self.assertEqual(len(cp.list_pipeline_executions(pipelineName="app")["pipelineExecutionSummaries"]), 1)
        current = state_of(acct)["Source"]["actionStates"][0]["currentRevision"]
        self.assertEqual((current["revisionId"], current["revisionChangeId"]), (revision["revisionId"], "change-1"))
        with self.assertRaises(ClientError) as err:
            cp.put_action_revision(pipelineName="app", stageName="Build", actionName="Compile",
                                   actionRevision=revision)
        self.assertEqual(error_code(err.exception), "ValidationException")
        recorded = [e for e in events(acct, "PutActionRevision") if not e.get("errorCode")]
        self.assertEqual(recorded[-1]["requestParameters"]["actionRevision"]["revisionId"], revision["revisionId"])
        self.assertEqual(recorded[-1]["responseElements"], {"newRevision": True,
                                                            "pipelineExecutionId": first["pipelineExecutionId"]})


class StsTrailTests(unittest.TestCase):
    def test_cross_account_assume_role_pair(self):
        caller_acct, role_acct = "910000000017", "910000000018"
        user = make_user(caller_acct, "carl")
        client("iam", role_acct).create_role(RoleName="Deployer", AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
             "Principal": {"AWS": f"arn:aws:iam::{caller_acct}:root"}}))
        role_arn = f"arn:aws:iam::{role_acct}:role/Deployer"
        resp = client("sts", creds=user).assume_role(RoleArn=role_arn, RoleSessionName="carl-deploy",
                                                     SourceIdentity="carl")
        mine = events(caller_acct, "AssumeRole")
        theirs = events(role_acct, "AssumeRole")
        self.assertEqual((len(mine), len(theirs)), (1, 1))
        a, b = mine[0], theirs[0]
        self.assertEqual(a["sharedEventID"], b["sharedEventID"])
        self.assertEqual(a["requestID"], b["requestID"])
        self.assertNotEqual(a["eventID"], b["eventID"])
        self.assertEqual((a["recipientAccountId"], b["recipientAccountId"]), (caller_acct, role_acct))
        self.assertEqual(a["userIdentity"]["type"], "IAMUser")
        self.assertEqual(a["userIdentity"]["arn"], f"arn:aws:iam::{caller_acct}:user/carl")
        self.assertEqual(b["userIdentity"], {"type": "AWSAccount", "principalId": a["userIdentity"]["principalId"],
                                             "accountId": caller_acct})
        for event in (a, b):
            self.assertEqual(event["requestParameters"], {"roleArn": role_arn, "roleSessionName": "carl-deploy",
                                                          "sourceIdentity": "carl"})
            self.assertTrue(event["readOnly"])
            self.assertEqual(event["eventType"], "AwsApiCall")
            self.assertEqual(event["eventSource"], "sts.amazonaws.com")
            self.assertEqual(event["resources"], [{"accountId": role_acct, "type": "AWS::IAM::Role",
                                                   "ARN": role_arn}])
            credentials = event["responseElements"]["credentials"]
            self.assertEqual(set(credentials), {"accessKeyId", "sessionToken", "expiration"})
            self.assertEqual(credentials["accessKeyId"], resp["Credentials"]["AccessKeyId"])
            self.assertRegex(credentials["expiration"], r"^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d:\d\d [AP]M$")
            self.assertEqual(event["responseElements"]["assumedRoleUser"],
                             {"assumedRoleId": resp["AssumedRoleUser"]["AssumedRoleId"],
                              "arn": f"arn:aws:sts::{role_acct}:assumed-role/Deployer/carl-deploy"})
            self.assertEqual(event["responseElements"]["sourceIdentity"], "carl")
            self.assertNotIn("secretAccessKey", json.dumps(event))

        # within one account: one event, no sharedEventID
        client("iam", caller_acct).create_role(RoleName="Local", AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": caller_acct}}))
        client("sts", creds=user).assume_role(RoleArn=f"arn:aws:iam::{caller_acct}:role/Local",
                                              RoleSessionName="local")
        local = [e for e in events(caller_acct, "AssumeRole") if e["requestParameters"]["roleSessionName"] == "local"]
        self.assertEqual(len(local), 1)
        self.assertNotIn("sharedEventID", local[0])
        self.assertEqual(len(events(role_acct, "AssumeRole")), 1)

        # a refused cross-account call reaches the role's account too
        client("iam", role_acct).create_role(RoleName="Closed", AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}))
        with self.assertRaises(ClientError):
            client("sts", creds=user).assume_role(RoleArn=f"arn:aws:iam::{role_acct}:role/Closed",
                                                  RoleSessionName="probe")
        denied = [e for e in events(role_acct, "AssumeRole") if e.get("errorCode") == "AccessDenied"]
        self.assertEqual(len(denied), 1)
        self.assertEqual(denied[0]["userIdentity"]["type"], "AWSAccount")
        self.assertIsNone(denied[0]["responseElements"])

    def test_service_session_acts_as_codebuild_across_accounts(self):
        cicd, prod = "910000000019", "910000000020"
        iam = client("iam", cicd)
        iam.create_role(RoleName="CodeBuildRole", AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "codebuild.amazonaws.com"},
             "Condition": {"StringEquals": {"aws:SourceAccount": cicd}}}))
        role_arn = f"arn:aws:iam::{cicd}:role/CodeBuildRole"
        client("iam", prod).create_role(RoleName="CICDCrossAccountRole", AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": role_arn}}))

        session = control("service-session", {"service": "codebuild.amazonaws.com", "roleArn": role_arn,
                                               "sourceAccount": cicd,
                                               "sourceArn": f"arn:aws:codebuild:{REGION}:{cicd}:build/deploy:1"})
        session_name = session["assumedRoleUser"]["arn"].split("/")[-1]
        self.assertRegex(session_name, r"^AWSCodeBuild-[0-9a-f-]{36}$")
        build = creds_of(session["credentials"])
        self.assertEqual(client("sts", creds=build).get_caller_identity()["Arn"],
                         f"arn:aws:sts::{cicd}:assumed-role/CodeBuildRole/{session_name}")
        issued = [e for e in events(cicd, "AssumeRole") if e["userIdentity"]["type"] == "AWSService"]
        self.assertEqual(len(issued), 1)
        event = issued[0]
        self.assertEqual(event["userIdentity"], {"type": "AWSService", "invokedBy": "codebuild.amazonaws.com"})
        self.assertEqual((event["sourceIPAddress"], event["userAgent"]),
                         ("codebuild.amazonaws.com", "codebuild.amazonaws.com"))
        self.assertEqual(event["requestParameters"], {"roleArn": role_arn, "roleSessionName": session_name})
        self.assertEqual(event["responseElements"]["credentials"]["accessKeyId"],
                         session["credentials"]["accessKeyId"])
        self.assertEqual(event["resources"], [{"accountId": cicd, "type": "AWS::IAM::Role", "ARN": role_arn}])
        self.assertTrue(event["readOnly"])
        self.assertEqual(event["recipientAccountId"], cicd)
        self.assertTrue(event["sharedEventID"])

        # the build's own commands: the role session, without invokedBy
        deploy = client("sts", creds=build).assume_role(
            RoleArn=f"arn:aws:iam::{prod}:role/CICDCrossAccountRole", RoleSessionName="codebuild-deploy")
        mine = [e for e in events(cicd, "AssumeRole") if e["userIdentity"]["type"] == "AssumedRole"]
        theirs = events(prod, "AssumeRole")
        self.assertEqual((len(mine), len(theirs)), (1, 1))
        self.assertEqual(mine[0]["sharedEventID"], theirs[0]["sharedEventID"])
        self.assertEqual(mine[0]["userIdentity"]["arn"], f"arn:aws:sts::{cicd}:assumed-role/CodeBuildRole/{session_name}")
        self.assertNotIn("invokedBy", mine[0]["userIdentity"])
        self.assertEqual(theirs[0]["userIdentity"]["type"], "AWSAccount")
        self.assertEqual(theirs[0]["userIdentity"]["accountId"], cicd)
        self.assertTrue(theirs[0]["userIdentity"]["principalId"].endswith(f":{session_name}"))
        client("s3", creds=creds_of(deploy["Credentials"])).create_bucket(Bucket=f"assets-{prod}")
        created = events(prod, "CreateBucket")[0]
        self.assertEqual(created["userIdentity"]["arn"],
                         f"arn:aws:sts::{prod}:assumed-role/CICDCrossAccountRole/codebuild-deploy")

        # asService: the service's own calls, recorded with invokedBy
        own = control("service-session", {"service": "codebuild.amazonaws.com", "roleArn": role_arn,
                                           "sourceAccount": cicd, "asService": True, "sessionName": "fetch-source"})
        client("iam", creds=creds_of(own["credentials"])).list_roles()
        listed = [e for e in events(cicd, "ListRoles") if e["userIdentity"].get("invokedBy")][0]
        self.assertEqual(listed["userIdentity"]["invokedBy"], "codebuild.amazonaws.com")
        self.assertEqual(listed["userIdentity"]["arn"], f"arn:aws:sts::{cicd}:assumed-role/CodeBuildRole/fetch-source")
        self.assertEqual(listed["sourceIPAddress"], "codebuild.amazonaws.com")

        # the trust policy decides: another service, another source account, or a missing role fail
        status, body = control_error("service-session", {"service": "lambda.amazonaws.com", "roleArn": role_arn})
        self.assertEqual(status, 403)
        status, _ = control_error("service-session", {"service": "codebuild.amazonaws.com", "roleArn": role_arn,
                                                      "sourceAccount": "999999999999"})
        self.assertEqual(status, 403)
        refused = [e for e in events(cicd, "AssumeRole") if e.get("errorCode") == "AccessDenied"]
        self.assertEqual(len(refused), 2)
        self.assertEqual(refused[-1]["userIdentity"], {"type": "AWSService", "invokedBy": "lambda.amazonaws.com"})
        status, _ = control_error("service-session", {"service": "codebuild.amazonaws.com",
                                                      "roleArn": f"arn:aws:iam::{cicd}:role/Missing"})
        self.assertEqual(status, 404)


if __name__ == "__main__":
    unittest.main()
