"""Tests of the AWS emulator (server.py + ext/) and the demo seeder.

Run from the repository root (after ci/setup-python)::

    .venv/bin/python -m unittest discover -s tests/emulator -p 'test_*.py' -v

One emulator is started for the whole module on a free loopback port; each
test works in its own account ids so tests do not see each other's state.
"""

from __future__ import annotations

import datetime as dt
import gzip
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
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


def doc(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def make_user(account: str, name: str) -> dict[str, str]:
    iam = client("iam", account)
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


def session_creds(response: dict) -> dict[str, str]:
    c = response["Credentials"]
    return {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
            "aws_session_token": c["SessionToken"]}


def make_pipeline(account: str, name: str = "app") -> None:
    iam = client("iam", account)
    iam.create_role(RoleName="PipelineRole", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"Service": "codepipeline.amazonaws.com"}}))
    approval = {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}
    build = {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"}
    client("codepipeline", account).create_pipeline(pipeline={
        "name": name, "roleArn": f"arn:aws:iam::{account}:role/PipelineRole",
        "artifactStore": {"type": "S3", "location": "artifacts"},
        "stages": [
            {"name": "Build", "actions": [{"name": "Build", "actionTypeId": build,
                                           "configuration": {"ProjectName": "b"}}]},
            {"name": "Gate", "actions": [{"name": "Check", "actionTypeId": approval}]},
            {"name": "Prod", "actions": [
                {"name": "A", "actionTypeId": approval, "runOrder": 1},
                {"name": "B", "actionTypeId": approval, "runOrder": 1},
                {"name": "Deploy", "actionTypeId": build, "runOrder": 2,
                 "configuration": {"ProjectName": "d"}}]},
        ],
    })


def action_state(account: str, pipeline: str, stage: str, action: str) -> dict:
    state = client("codepipeline", account).get_pipeline_state(name=pipeline)
    for s in state["stageStates"]:
        if s["stageName"] == stage:
            for a in s["actionStates"]:
                if a["actionName"] == action:
                    return a.get("latestExecution", {})
    raise AssertionError(f"{stage}/{action} not in state")


def approve(creds_or_account, pipeline: str, stage: str, action: str, token: str,
            status: str = "Approved", summary: str = "ok") -> dict:
    if isinstance(creds_or_account, dict):
        cp = client("codepipeline", creds=creds_or_account)
    else:
        cp = client("codepipeline", creds_or_account)
    return cp.put_approval_result(pipelineName=pipeline, stageName=stage, actionName=action,
                                  token=token, result={"status": status, "summary": summary})


class CodePipelineTests(unittest.TestCase):
    def test_waiting_approval_user_and_role_approvers(self):
        acct = "900000000001"
        make_pipeline(acct)
        cp = client("codepipeline", acct)
        ex = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        self.assertEqual(cp.get_pipeline_execution(pipelineName="app", pipelineExecutionId=ex)
                         ["pipelineExecution"]["status"], "InProgress")
        gate = action_state(acct, "app", "Gate", "Check")
        self.assertEqual(gate["status"], "InProgress")
        self.assertTrue(gate["token"])
        state = cp.get_pipeline_state(name="app")["stageStates"]
        self.assertEqual(state[0]["actionStates"][0]["latestExecution"]["status"], "Succeeded")
        self.assertNotIn("latestExecution", state[2])  # Prod not reached yet

        user = make_user(acct, "uma")
        resp = approve(user, "app", "Gate", "Check", gate["token"], summary="CHG-1 fine")
        self.assertIsInstance(resp["approvedAt"], dt.datetime)
        gate = action_state(acct, "app", "Gate", "Check")
        self.assertEqual(gate["status"], "Succeeded")
        self.assertEqual(gate["lastUpdatedBy"], f"arn:aws:iam::{acct}:user/uma")
        self.assertEqual(gate["summary"], "CHG-1 fine")
        self.assertNotIn("token", gate)

        # both runOrder-1 approvals of Prod wait in parallel; Deploy (runOrder 2) waits for them
        a = action_state(acct, "app", "Prod", "A")
        b = action_state(acct, "app", "Prod", "B")
        self.assertEqual((a["status"], b["status"]), ("InProgress", "InProgress"))
        self.assertEqual(action_state(acct, "app", "Prod", "Deploy"), {})
        client("iam", acct).create_role(RoleName="Approver", AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": acct}}))
        role = session_creds(client("sts", creds=user).assume_role(
            RoleArn=f"arn:aws:iam::{acct}:role/Approver", RoleSessionName="s1"))
        approve(role, "app", "Prod", "A", a["token"], summary="first")
        approve(user, "app", "Prod", "B", b["token"], summary="second")
        self.assertEqual(action_state(acct, "app", "Prod", "A")["lastUpdatedBy"],
                         f"arn:aws:sts::{acct}:assumed-role/Approver/s1")
        self.assertEqual(cp.get_pipeline_execution(pipelineName="app", pipelineExecutionId=ex)
                         ["pipelineExecution"]["status"], "Succeeded")

        details = cp.list_action_executions(pipelineName="app", filter={"pipelineExecutionId": ex})[
            "actionExecutionDetails"]
        self.assertEqual(len(details), 5)
        by_name = {d["actionName"]: d for d in details}
        self.assertEqual(by_name["A"]["updatedBy"], f"arn:aws:sts::{acct}:assumed-role/Approver/s1")
        self.assertEqual(by_name["Check"]["updatedBy"], f"arn:aws:iam::{acct}:user/uma")
        self.assertEqual(by_name["Check"]["output"]["executionResult"]["externalExecutionSummary"],
                         "CHG-1 fine")
        self.assertEqual(by_name["Check"]["input"]["actionTypeId"]["provider"], "Manual")
        self.assertEqual(by_name["Check"]["stageName"], "Gate")
        self.assertEqual(by_name["Check"]["pipelineExecutionId"], ex)
        starts = [d["startTime"] for d in details]
        self.assertEqual(starts, sorted(starts, reverse=True))
        page = cp.list_action_executions(pipelineName="app", maxResults=2)
        self.assertEqual(len(page["actionExecutionDetails"]), 2)
        rest = cp.list_action_executions(pipelineName="app", maxResults=10, nextToken=page["nextToken"])
        self.assertEqual(len(rest["actionExecutionDetails"]), 3)

    def test_wrong_token_and_completed_approval(self):
        acct = "900000000002"
        make_pipeline(acct)
        client("codepipeline", acct).start_pipeline_execution(name="app")
        token = action_state(acct, "app", "Gate", "Check")["token"]
        for kwargs, code in (
            ({"token": str(uuid.uuid4())}, "InvalidApprovalTokenException"),
            ({"action": "Nope"}, "ActionNotFoundException"),
            ({"stage": "Nope"}, "StageNotFoundException"),
            ({"pipeline": "nope"}, "PipelineNotFoundException"),
        ):
            args = {"pipeline": "app", "stage": "Gate", "action": "Check", "token": token, **kwargs}
            with self.assertRaises(ClientError) as err:
                approve(acct, args["pipeline"], args["stage"], args["action"], args["token"])
            self.assertEqual(err.exception.response["Error"]["Code"], code)
        approve(acct, "app", "Gate", "Check", token)
        with self.assertRaises(ClientError) as err:
            approve(acct, "app", "Gate", "Check", token)
        self.assertEqual(err.exception.response["Error"]["Code"], "ApprovalAlreadyCompletedException")

    def test_rejection_fails_execution_and_listing(self):
        acct = "900000000003"
        make_pipeline(acct)
        cp = client("codepipeline", acct)
        first = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        approve(acct, "app", "Gate", "Check", action_state(acct, "app", "Gate", "Check")["token"],
                status="Rejected", summary="tests red")
        execution = cp.get_pipeline_execution(pipelineName="app", pipelineExecutionId=first)
        self.assertEqual(execution["pipelineExecution"]["status"], "Failed")
        gate = action_state(acct, "app", "Gate", "Check")
        self.assertEqual((gate["status"], gate["summary"]), ("Failed", "tests red"))
        second = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
        listed = cp.list_pipeline_executions(pipelineName="app", maxResults=1)
        self.assertEqual(listed["pipelineExecutionSummaries"][0]["pipelineExecutionId"], second)
        more = cp.list_pipeline_executions(pipelineName="app", nextToken=listed["nextToken"])
        self.assertEqual([s["pipelineExecutionId"] for s in more["pipelineExecutionSummaries"]], [first])
        self.assertEqual(more["pipelineExecutionSummaries"][0]["status"], "Failed")


class CloudTrailAndStsTests(unittest.TestCase):
    def tearDown(self):
        control("clock", {"reset": True})

    def test_lookup_events_filters_time_and_pagination(self):
        acct = "900000000004"
        iam = client("iam", acct)
        control("clock", {"now": "2026-03-01T10:00:00Z"})
        for i in range(5):
            iam.create_group(GroupName=f"g{i}")
        control("clock", {"now": "2026-03-05T10:00:00Z"})
        iam.list_groups()
        control("clock", {"reset": True})
        ct = client("cloudtrail", acct)
        events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName",
                                                     "AttributeValue": "CreateGroup"}])["Events"]
        self.assertEqual(len(events), 5)
        record = json.loads(events[0]["CloudTrailEvent"])
        self.assertEqual(record["requestParameters"], {"groupName": "g4"})  # newest first
        self.assertEqual(record["eventSource"], "iam.amazonaws.com")
        self.assertEqual(record["userIdentity"]["type"], "Root")
        self.assertFalse(record["readOnly"])
        self.assertEqual(record["recipientAccountId"], acct)
        self.assertEqual(record["eventTime"][:10], "2026-03-01")
        ranged = ct.lookup_events(StartTime=dt.datetime(2026, 3, 4, tzinfo=dt.timezone.utc),
                                  EndTime=dt.datetime(2026, 3, 6, tzinfo=dt.timezone.utc))["Events"]
        self.assertEqual([e["EventName"] for e in ranged], ["ListGroups"])
        self.assertEqual(ranged[0]["ReadOnly"], "true")
        seen, token, pages = [], None, 0
        while True:
            kw = {"NextToken": token} if token else {}
            page = ct.lookup_events(MaxResults=2, EndTime=dt.datetime(2026, 3, 6, tzinfo=dt.timezone.utc), **kw)
            pages += 1
            seen += [e["EventId"] for e in page["Events"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual((len(seen), len(set(seen)), pages), (6, 6, 3))
        with self.assertRaises(ClientError) as err:
            ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "a"},
                                               {"AttributeKey": "Username", "AttributeValue": "b"}])
        self.assertEqual(err.exception.response["Error"]["Code"], "InvalidLookupAttributesException")

    def test_assume_role_denied(self):
        caller_acct, target = "900000000005", "900000000006"
        user = make_user(caller_acct, "ursula")
        sts = client("sts", creds=user)
        with self.assertRaises(ClientError) as err:
            sts.assume_role(RoleArn=f"arn:aws:iam::{target}:role/Missing", RoleSessionName="xx")
        self.assertEqual(err.exception.response["Error"]["Code"], "AccessDenied")
        self.assertEqual(err.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        self.assertIn(f"arn:aws:iam::{caller_acct}:user/ursula", err.exception.response["Error"]["Message"])
        iam = client("iam", target)
        iam.create_role(RoleName="OtherTrust", AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}))
        with self.assertRaises(ClientError) as err:
            sts.assume_role(RoleArn=f"arn:aws:iam::{target}:role/OtherTrust", RoleSessionName="xx")
        self.assertEqual(err.exception.response["Error"]["Code"], "AccessDenied")
        iam.create_role(RoleName="WithExternalId", AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"AWS": f"arn:aws:iam::{caller_acct}:user/ursula"},
             "Condition": {"StringEquals": {"sts:ExternalId": "s3cret"}}}))
        with self.assertRaises(ClientError):
            sts.assume_role(RoleArn=f"arn:aws:iam::{target}:role/WithExternalId", RoleSessionName="xx")
        ok = sts.assume_role(RoleArn=f"arn:aws:iam::{target}:role/WithExternalId", RoleSessionName="xx",
                             ExternalId="s3cret")
        self.assertEqual(ok["AssumedRoleUser"]["Arn"], f"arn:aws:sts::{target}:assumed-role/WithExternalId/xx")
        # the denial is itself recorded, with its error code
        events = client("cloudtrail", caller_acct).lookup_events(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}])["Events"]
        codes = [json.loads(e["CloudTrailEvent"]).get("errorCode") for e in events]
        self.assertEqual(codes.count("AccessDenied"), 3)

    def test_source_identity_in_events(self):
        acct = "900000000007"
        user = make_user(acct, "sam")
        iam = client("iam", acct)
        iam.create_role(RoleName="NoSetSource", AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": acct}}))
        iam.create_role(RoleName="Ops", AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
             "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}}))
        sts = client("sts", creds=user)
        with self.assertRaises(ClientError):
            sts.assume_role(RoleArn=f"arn:aws:iam::{acct}:role/NoSetSource", RoleSessionName="ss",
                            SourceIdentity="sam")
        resp = sts.assume_role(RoleArn=f"arn:aws:iam::{acct}:role/Ops", RoleSessionName="ops-sam",
                               SourceIdentity="sam")
        self.assertEqual(resp["SourceIdentity"], "sam")
        client("iam", creds=session_creds(resp)).list_roles()
        events = client("cloudtrail", acct).lookup_events(
            LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "ops-sam"}])["Events"]
        self.assertEqual([e["EventName"] for e in events], ["ListRoles"])
        ui = json.loads(events[0]["CloudTrailEvent"])["userIdentity"]
        self.assertEqual(ui["type"], "AssumedRole")
        self.assertEqual(ui["arn"], f"arn:aws:sts::{acct}:assumed-role/Ops/ops-sam")
        self.assertTrue(ui["principalId"].startswith("AROA") and ui["principalId"].endswith(":ops-sam"))
        self.assertEqual(ui["sessionContext"]["sourceIdentity"], "sam")
        self.assertEqual(ui["sessionContext"]["sessionIssuer"]["arn"], f"arn:aws:iam::{acct}:role/Ops")

    def test_trail_files_and_bucket_versioning(self):
        owner, logged = "900000000008", "900000000009"
        s3 = client("s3", owner)
        s3.create_bucket(Bucket="trail-bucket-test")
        s3.put_bucket_versioning(Bucket="trail-bucket-test", VersioningConfiguration={"Status": "Enabled"})
        control("clock", {"now": "2026-04-02T08:30:00Z"})
        ct = client("cloudtrail", logged)
        ct.create_trail(Name="org", S3BucketName="trail-bucket-test", S3KeyPrefix="logs",
                        IsMultiRegionTrail=True)
        ct.start_logging(Name="org")
        client("iam", logged).create_user(UserName="tracked")
        self.assertGreaterEqual(control("flush-trails", {})["written"], 1)
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="trail-bucket-test")["Contents"]]
        pattern = re.compile(
            rf"^logs/AWSLogs/{logged}/CloudTrail/us-east-1/2026/04/02/"
            rf"{logged}_CloudTrail_us-east-1_20260402T08\d\dZ_[A-Za-z0-9]{{16}}\.json\.gz$")
        self.assertTrue(keys and all(pattern.match(k) for k in keys), keys)
        records = []
        for key in keys:
            body = s3.get_object(Bucket="trail-bucket-test", Key=key)["Body"].read()
            records += json.loads(gzip.decompress(body))["Records"]
        names = [r["eventName"] for r in records]
        self.assertIn("CreateUser", names)
        self.assertIn("StartLogging", names)
        # raw GetBucketVersioning document
        host = ENDPOINT.split("//")[1]
        conn = http.client.HTTPConnection(host, timeout=10)
        conn.request("GET", "/trail-bucket-test?versioning")
        xml = conn.getresponse().read().decode()
        self.assertIn('<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">', xml)
        self.assertIn("<Status>Enabled</Status>", xml)
        self.assertEqual(s3.get_bucket_versioning(Bucket="trail-bucket-test")["Status"], "Enabled")


    def test_digest_files_are_signed_and_chained(self):
        import base64
        import hashlib

        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding

        owner = "900000000010"
        bucket = "digest-bucket-900000000010"
        s3 = client("s3", owner)
        s3.create_bucket(Bucket=bucket)
        control("clock", {"now": "2026-04-03T08:00:00Z"})
        ct = client("cloudtrail", owner)
        ct.create_trail(Name="validated", S3BucketName=bucket, IsMultiRegionTrail=True,
                        EnableLogFileValidation=True)
        ct.start_logging(Name="validated")
        client("iam", owner).create_user(UserName="first")
        control("flush-trails", {})
        control("clock", {"now": "2026-04-03T09:00:00Z"})
        client("iam", owner).create_user(UserName="second")
        control("flush-trails", {})
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
        digests = [k for k in keys if "/CloudTrail-Digest/us-east-1/" in k]
        pattern = re.compile(rf"^AWSLogs/{owner}/CloudTrail-Digest/us-east-1/2026/04/03/{owner}_CloudTrail-Digest_"
                             r"us-east-1_validated_us-east-1_20260403T0[89]\d{4}Z\.json\.gz$")
        self.assertEqual(len(digests), 2, keys)
        self.assertTrue(all(pattern.match(k) for k in digests), digests)
        public = client("cloudtrail", owner).list_public_keys()["PublicKeyList"]
        self.assertEqual(len(public), 1)
        # PKCS#1 DER, as AWS serves it: wrap it as PEM "RSA PUBLIC KEY" to load it.
        pem = (b"-----BEGIN RSA PUBLIC KEY-----\n" + base64.encodebytes(public[0]["Value"])
               + b"-----END RSA PUBLIC KEY-----\n")
        key = serialization.load_pem_public_key(pem)
        previous_signature = None
        previous_hash = None
        for k in digests:
            obj = s3.get_object(Bucket=bucket, Key=k)
            raw = gzip.decompress(obj["Body"].read())
            doc = json.loads(raw)
            meta = obj["Metadata"]
            self.assertEqual(meta["signature-algorithm"], "SHA256withRSA")
            self.assertEqual(doc["digestS3Object"], k)
            self.assertEqual(doc["digestPublicKeyFingerprint"], public[0]["Fingerprint"])
            self.assertEqual(doc["previousDigestSignature"], previous_signature)
            self.assertEqual(doc["previousDigestHashValue"], previous_hash)
            message = (f"{doc['digestEndTime']}\n{bucket}/{k}\n{hashlib.sha256(raw).hexdigest()}\n"
                       f"{previous_signature or 'null'}")
            key.verify(bytes.fromhex(meta["signature"]), message.encode(), padding.PKCS1v15(), hashes.SHA256())
            for f in doc["logFiles"]:
                body = gzip.decompress(s3.get_object(Bucket=bucket, Key=f["s3Object"])["Body"].read())
                self.assertEqual(hashlib.sha256(body).hexdigest(), f["hashValue"])
            self.assertTrue(doc["logFiles"])
            previous_signature, previous_hash = meta["signature"], hashlib.sha256(raw).hexdigest()
        control("clock", {"reset": True})


class GlobalServiceEventTests(unittest.TestCase):
    """IAM and Organizations events are recorded in us-east-1 only, whatever region the caller signed for."""

    def test_iam_calls_are_recorded_in_us_east_1_and_digested_in_every_region_in_use(self):
        owner = "900000000020"
        bucket = "global-bucket-900000000020"
        s3 = client("s3", owner)
        s3.create_bucket(Bucket=bucket)
        ct = client("cloudtrail", owner)
        ct.create_trail(Name="everywhere", S3BucketName=bucket, IsMultiRegionTrail=True,
                        EnableLogFileValidation=True, IncludeGlobalServiceEvents=True)
        ct.start_logging(Name="everywhere")

        def in_region(service: str, region: str):
            c = boto3.session.Session(region_name=region, aws_access_key_id="testing",
                                      aws_secret_access_key="testing").client(
                service, endpoint_url=ENDPOINT, config=Config(retries={"max_attempts": 1}))
            c.meta.events.register(
                "before-send", lambda request, **_: request.headers.__setitem__("x-moto-account-id", owner))
            return c

        in_region("iam", "eu-west-1").create_user(UserName="signed-in-eu-west-1")
        # eu-central-1 in use, with no event (LookupEvents itself is not recorded)
        in_region("cloudtrail", "eu-central-1").lookup_events(MaxResults=1)
        in_region("s3", "eu-west-1").create_bucket(
            Bucket="regional-900000000020", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})

        def created(region: str, name: str) -> list[dict]:
            found = in_region("cloudtrail", region).lookup_events(
                LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])["Events"]
            return [json.loads(e["CloudTrailEvent"]) for e in found]

        iam_events = created("us-east-1", "CreateUser")
        self.assertEqual([e["awsRegion"] for e in iam_events], ["us-east-1"])
        self.assertEqual(iam_events[0]["requestParameters"]["userName"], "signed-in-eu-west-1")
        self.assertEqual(created("eu-west-1", "CreateUser"), [])
        # a regional service stays in its region
        self.assertEqual([e["awsRegion"] for e in created("eu-west-1", "CreateBucket")], ["eu-west-1"])
        control("flush-trails", {})
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        logs = [k for k in keys if "/CloudTrail/" in k]
        self.assertTrue(any(f"/CloudTrail/us-east-1/" in k for k in logs), logs)
        self.assertFalse(any(k.startswith(f"AWSLogs/{owner}/CloudTrail/eu-central-1/") for k in logs), logs)
        # the multi-region trail digests eu-central-1 too, with nothing in it
        empty = [k for k in keys if k.startswith(f"AWSLogs/{owner}/CloudTrail-Digest/eu-central-1/")]
        self.assertEqual(len(empty), 1, keys)
        doc = json.loads(gzip.decompress(s3.get_object(Bucket=bucket, Key=empty[0])["Body"].read()))
        self.assertEqual(doc["logFiles"], [])
        self.assertEqual(doc["awsAccountId"], owner)


def faults(payload: dict | None = None) -> dict:
    if payload is None:
        with urllib.request.urlopen(f"{ENDPOINT}/_emulator/faults", timeout=10) as resp:
            return json.loads(resp.read())
    return control("faults", payload)


def no_retry_client(service: str, account: str | None = None, creds: dict[str, str] | None = None):
    """A client that makes exactly one attempt (so injected faults reach the test, not botocore's retries)."""
    creds = creds or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    c = boto3.session.Session(region_name=REGION, **creds).client(
        service, endpoint_url=ENDPOINT, config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
    if account:
        c.meta.events.register(
            "before-send", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account))
    return c


def raw_call(service: str, operation: str, account: str, creds: dict[str, str] | None = None):
    """(status, error, raw response) of one attempt."""
    c = no_retry_client(service, account, creds)
    captured = {}

    def keep(http_response, **_):
        captured["status"] = http_response.status_code
        captured["headers"] = dict(http_response.headers)
        captured["body"] = http_response.content

    c.meta.events.register("after-call", lambda http_response=None, **kw: keep(http_response))
    try:
        getattr(c, operation)()
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"], captured
    return 200, {}, captured


class FaultTests(unittest.TestCase):
    def tearDown(self):
        faults({"reset": True})

    def test_throttling_has_each_protocols_status_and_shape(self):
        account = "900000000020"
        faults({"reset": True, "rules": [
            {"service": "cloudtrail", "operation": "LookupEvents", "account": account, "mode": "throttle", "count": 1},
            {"service": "iam", "operation": "ListUsers", "account": account, "mode": "throttle", "count": 1},
            {"service": "s3", "operation": "ListBuckets", "account": account, "mode": "throttle", "count": 1}]})
        status, error, _ = raw_call("cloudtrail", "lookup_events", account)
        self.assertEqual((status, error["Code"], error["Message"]), (400, "ThrottlingException", "Rate exceeded"))
        status, error, _ = raw_call("iam", "list_users", account)
        self.assertEqual((status, error["Code"], error["Message"]), (400, "Throttling", "Rate exceeded"))
        status, error, _ = raw_call("s3", "list_buckets", account)
        self.assertEqual((status, error["Code"]), (503, "SlowDown"))
        # count: 1 -> the next call passes
        self.assertEqual(raw_call("iam", "list_users", account)[0], 200)
        state = faults()
        self.assertEqual([r["fired"] for r in state["rules"]], [1, 1, 1])
        self.assertEqual(state["stats"]["injected"]["throttle"], 3)

    def test_rate_limits_per_account_and_region_like_lookup_events(self):
        account = "900000000021"
        faults({"reset": True, "rules": [{"service": "cloudtrail", "operation": "LookupEvents",
                                          "mode": "rate", "rate": 2, "burst": 2}]})
        codes = [raw_call("cloudtrail", "lookup_events", account)[0] for _ in range(6)]
        self.assertEqual(codes[:2], [200, 200], codes)
        self.assertIn(400, codes[2:], codes)
        # another account has its own bucket
        self.assertEqual(raw_call("cloudtrail", "lookup_events", "900000000022")[0], 200)
        import time
        time.sleep(1.1)
        self.assertEqual(raw_call("cloudtrail", "lookup_events", account)[0], 200)

    def test_5xx_bursts_after_skipping_and_denials(self):
        account = "900000000023"
        faults({"reset": True, "rules": [
            {"service": "codepipeline", "operation": "ListPipelines", "account": account, "mode": "5xx",
             "after": 1, "count": 2},
            {"service": "sts", "operation": "AssumeRole", "target_account": "900000000024", "mode": "deny"}]})
        self.assertEqual(raw_call("codepipeline", "list_pipelines", account)[0], 200)
        status, error, _ = raw_call("codepipeline", "list_pipelines", account)
        self.assertEqual((status, error["Code"]), (503, "ServiceUnavailableException"))
        self.assertEqual(raw_call("codepipeline", "list_pipelines", account)[0], 503)
        self.assertEqual(raw_call("codepipeline", "list_pipelines", account)[0], 200)
        sts = no_retry_client("sts", account)
        with self.assertRaises(ClientError) as denied:
            sts.assume_role(RoleArn="arn:aws:iam::900000000024:role/R", RoleSessionName="s1")
        self.assertEqual(denied.exception.response["Error"]["Code"], "AccessDenied")

    def test_reset_drops_the_connection_and_slow_delays(self):
        import time
        account = "900000000025"
        faults({"reset": True, "rules": [
            {"service": "iam", "operation": "ListRoles", "account": account, "mode": "reset", "count": 1},
            {"service": "iam", "operation": "ListGroups", "account": account, "mode": "slow", "delay_ms": 700,
             "count": 1}]})
        from botocore.exceptions import ConnectionClosedError, EndpointConnectionError
        with self.assertRaises((ConnectionClosedError, EndpointConnectionError, ConnectionError)):
            no_retry_client("iam", account).list_roles()
        self.assertEqual(raw_call("iam", "list_roles", account)[0], 200)
        started = time.monotonic()
        self.assertEqual(raw_call("iam", "list_groups", account)[0], 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.7)
        self.assertEqual(faults()["stats"]["injected"], {"reset": 1, "slow": 1})

    def test_an_expired_session_stays_expired(self):
        account = "900000000026"
        iam = client("iam", account)
        iam.create_role(RoleName="Reader", AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}}))
        creds = session_creds(client("sts", account).assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/Reader", RoleSessionName="s1"))
        faults({"reset": True, "rules": [{"service": "iam", "account": account, "mode": "expire", "after": 1,
                                          "count": 1}]})
        reader = no_retry_client("iam", creds=creds)
        reader.list_users()
        for _ in range(2):
            with self.assertRaises(ClientError) as expired:
                reader.list_users()
            self.assertEqual(expired.exception.response["Error"]["Code"], "ExpiredToken")
        fresh = session_creds(client("sts", account).assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/Reader", RoleSessionName="s2"))
        client("iam", creds=fresh).list_users()
        state = faults()
        self.assertEqual(state["stats"]["expired_sessions"], 1)
        self.assertGreaterEqual(state["stats"]["injected"]["expired-token"], 1)

    def test_concurrency_is_measured_overall_and_per_account(self):
        import concurrent.futures
        faults({"reset": True, "rules": [{"service": "iam", "operation": "ListUsers", "mode": "slow",
                                          "delay_ms": 400}]})
        accounts = ["900000000027", "900000000028"]
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda a: client("iam", a).list_users(), accounts * 3))
        stats = faults()["stats"]
        self.assertGreaterEqual(stats["max_concurrent"], 4, stats)
        self.assertTrue(all(stats["max_concurrent_per_account"][a] >= 2 for a in accounts), stats)
        self.assertEqual(stats["by_operation"]["iam:ListUsers"], 6)

    def test_bad_rules_are_refused_naming_the_field(self):
        req = urllib.request.Request(f"{ENDPOINT}/_emulator/faults", method="POST",
                                     data=json.dumps({"rules": [{"mode": "explode"}]}).encode())
        with self.assertRaises(urllib.error.HTTPError) as bad:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(bad.exception.code, 400)
        self.assertIn("rules[0].mode", json.loads(bad.exception.read())["error"])


class SeederTest(unittest.TestCase):
    def test_seed_demo(self):
        with tempfile.TemporaryDirectory() as out:
            subprocess.run([sys.executable, os.path.join(HERE, "seed_demo.py"), "--endpoint", ENDPOINT,
                            "--out", out, "--with-unreachable"], check=True, stdout=subprocess.DEVNULL)
            for name in ("gateaudit.toml", "credentials.env", "expected.json"):
                self.assertTrue(os.path.getsize(os.path.join(out, name)) > 0, name)
            with open(os.path.join(out, "expected.json")) as f:
                expected = json.load(f)
            with open(os.path.join(out, "gateaudit.toml")) as f:
                toml = f.read()
        self.assertEqual(len(expected["violations"]), 31)
        self.assertEqual(expected["approvals"], 24)
        self.assertIn('[organization]', toml)
        self.assertEqual(expected["organization"]["closed_accounts"], ["666666666666"])
        org = client("organizations", "100000000000")
        listed = {a["Id"]: a["Status"] for a in org.list_accounts()["Accounts"]}
        self.assertEqual(len(listed), 6)
        self.assertNotEqual(listed["666666666666"], "ACTIVE")
        roles = client("iam", "111111111111").list_roles()["Roles"]
        self.assertEqual(sum(r["RoleName"].startswith("AWSReservedSSO_ProdApprover") for r in roles), 2)
        self.assertIn('id = "555555555555"', toml)
        self.assertIn(f'endpoint_url = "{ENDPOINT}"', toml)
        s3 = client("s3", "111111111111")
        records = s3.list_objects_v2(Bucket="approval-records-111111111111")["Contents"]
        # 24 approvals, one record (bob's, execution 1) never written.
        self.assertEqual(len(records), 23)
        self.assertTrue(all(re.match(r"^PipelineApprovalGateActions/(webapp|api)/\d{4}/\d\d/\d\d/"
                                     r"\w+-(APPROVED|REJECTED)-\d\d:\d\d:\d\d-(AM|PM)\.txt$", o["Key"])
                            for o in records))
        trail = s3.list_objects_v2(Bucket="cloudtrail-logs-111111111111")["Contents"]
        self.assertTrue(any(o["Key"].startswith("AWSLogs/444444444444/CloudTrail/") for o in trail))
        sts = client("sts", "111111111111")
        with self.assertRaises(ClientError):
            sts.assume_role(RoleArn="arn:aws:iam::555555555555:role/CICDCrossAccountRole",
                            RoleSessionName="gateaudit")
        ok = sts.assume_role(RoleArn="arn:aws:iam::444444444444:role/CICDCrossAccountRole",
                             RoleSessionName="gateaudit")
        self.assertIn("assumed-role/CICDCrossAccountRole/gateaudit", ok["AssumedRoleUser"]["Arn"])


if __name__ == "__main__":
    unittest.main()
