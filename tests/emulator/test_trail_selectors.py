"""Trail event selectors and organisation trails seen from member accounts, as AWS serves them.

Run from the repository root::

    .venv/bin/python -m unittest tests/emulator/test_trail_selectors.py -v

Each test works in its own account ids (one emulator for the module).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import unittest
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
_server: subprocess.Popen | None = None
ENDPOINT = ""


def setUpModule() -> None:
    global _server, ENDPOINT
    _server, ENDPOINT = harness.start_server()


def tearDownModule() -> None:
    harness.stop_server(_server)


def client(service: str, account: str, region: str = "us-east-1"):
    c = boto3.session.Session(region_name=region, aws_access_key_id="testing",
                              aws_secret_access_key="testing").client(
        service, endpoint_url=ENDPOINT, config=Config(retries={"max_attempts": 1}))
    c.meta.events.register(
        "before-send", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account))
    return c


def control(path: str, payload: dict) -> dict:
    req = urllib.request.Request(f"{ENDPOINT}/_emulator/{path}", data=json.dumps(payload).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def delivered(account: str, bucket: str) -> list[dict]:
    control("flush-trails", {})
    s3 = client("s3", account)
    records = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            if "/CloudTrail/" in obj["Key"]:
                body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
                records += json.loads(gzip.decompress(body))["Records"]
    return records


class EventSelectorTests(unittest.TestCase):
    def trail(self, account: str, name: str) -> tuple:
        bucket = f"sel-{account}-{name}"
        client("s3", account).create_bucket(Bucket=bucket)
        ct = client("cloudtrail", account)
        ct.create_trail(Name=name, S3BucketName=bucket, IsMultiRegionTrail=True)
        ct.start_logging(Name=name)
        return ct, bucket

    def test_a_new_trail_logs_every_management_event(self):
        ct, _ = self.trail("910000000001", "plain")
        got = ct.get_event_selectors(TrailName="plain")
        self.assertEqual(got["EventSelectors"], [{"ReadWriteType": "All", "IncludeManagementEvents": True,
                                                  "DataResources": [], "ExcludeManagementEventSources": []}])
        self.assertNotIn("AdvancedEventSelectors", got)
        self.assertFalse(ct.describe_trails()["trailList"][0]["HasCustomEventSelectors"])

    def test_a_write_only_trail_delivers_no_read_events_but_lookup_events_sees_them(self):
        account = "910000000002"
        ct, bucket = self.trail(account, "writes")
        ct.put_event_selectors(TrailName="writes", EventSelectors=[
            {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}])
        self.assertTrue(ct.describe_trails()["trailList"][0]["HasCustomEventSelectors"])
        iam = client("iam", account)
        iam.create_user(UserName="w")
        iam.list_users()
        records = delivered(account, bucket)
        names = {r["eventName"] for r in records}
        self.assertIn("CreateUser", names)
        self.assertNotIn("ListUsers", names)
        self.assertTrue(all(not r["readOnly"] for r in records), records)
        looked = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ListUsers"}])
        self.assertEqual(len(looked["Events"]), 1, "LookupEvents ignores selectors")

    def test_no_management_events_and_excluded_sources_are_not_delivered(self):
        account = "910000000003"
        ct, bucket = self.trail(account, "nomgmt")
        ct.put_event_selectors(TrailName="nomgmt", EventSelectors=[
            {"ReadWriteType": "All", "IncludeManagementEvents": False,
             "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}])
        client("iam", account).create_user(UserName="n")
        self.assertEqual(delivered(account, bucket), [])
        ct.put_event_selectors(TrailName="nomgmt", EventSelectors=[
            {"ReadWriteType": "All", "IncludeManagementEvents": True,
             "ExcludeManagementEventSources": ["kms.amazonaws.com"]}])
        client("kms", account).create_key()
        client("iam", account).create_user(UserName="m")
        sources = {r["eventSource"] for r in delivered(account, bucket)}
        self.assertIn("iam.amazonaws.com", sources)
        self.assertNotIn("kms.amazonaws.com", sources)

    def test_advanced_selectors_filter_read_only_and_sources(self):
        account = "910000000004"
        ct, bucket = self.trail(account, "adv")
        got = ct.put_event_selectors(TrailName="adv", AdvancedEventSelectors=[
            {"Name": "reads only", "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Management"]},
                {"Field": "readOnly", "Equals": ["true"]}]}])
        self.assertEqual(got["AdvancedEventSelectors"][0]["Name"], "reads only")
        selectors = ct.get_event_selectors(TrailName="adv")
        self.assertNotIn("EventSelectors", selectors)
        self.assertEqual(len(selectors["AdvancedEventSelectors"]), 1)
        iam = client("iam", account)
        iam.create_user(UserName="a")
        iam.list_users()
        names = {r["eventName"] for r in delivered(account, bucket)}
        self.assertIn("ListUsers", names)
        self.assertNotIn("CreateUser", names)

    def test_selectors_a_trail_cannot_have_are_rejected_with_awss_errors(self):
        account = "910000000005"
        ct, _ = self.trail(account, "bad")
        cases = [
            ({"EventSelectors": [{"ReadWriteType": "All",
                                  "ExcludeManagementEventSources": ["iam.amazonaws.com"]}]},
             "InvalidEventSelectorsException"),
            ({"AdvancedEventSelectors": [{"FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Management"]},
                {"Field": "eventName", "Equals": ["CreateUser"]}]}]}, "InvalidEventSelectorsException"),
            ({"AdvancedEventSelectors": [{"FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Management"]},
                {"Field": "eventSource", "NotEquals": ["codepipeline.amazonaws.com"]}]}]},
             "InvalidEventSelectorsException"),
            ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "readOnly", "Equals": ["false"]}]}]},
             "InvalidEventSelectorsException"),
            ({"EventSelectors": [{"ReadWriteType": "All"}],
              "AdvancedEventSelectors": [{"FieldSelectors": [
                  {"Field": "eventCategory", "Equals": ["Management"]}]}]},
             "InvalidParameterCombinationException"),
        ]
        for params, code in cases:
            with self.subTest(params=params):
                with self.assertRaises(ClientError) as err:
                    ct.put_event_selectors(TrailName="bad", **params)
                self.assertEqual(err.exception.response["Error"]["Code"], code)
        # Nothing was changed by the rejected calls.
        self.assertEqual(ct.get_event_selectors(TrailName="bad")["EventSelectors"][0]["ReadWriteType"], "All")


class OrganisationTrailTests(unittest.TestCase):
    def test_a_member_sees_the_organisation_trail_in_every_region_and_reads_it_by_arn(self):
        management = "920000000001"
        org = client("organizations", management)
        org.create_organization(FeatureSet="ALL")
        status = org.create_account(Email="m@example.com", AccountName="member")["CreateAccountStatus"]
        member = status.get("AccountId") or org.describe_create_account_status(
            CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
        outsider = "920000000009"
        client("s3", management).create_bucket(Bucket="org-trail-920000000001")
        ct = client("cloudtrail", management)
        arn = ct.create_trail(Name="org-trail", S3BucketName="org-trail-920000000001", IsMultiRegionTrail=True,
                              IsOrganizationTrail=True)["TrailARN"]
        ct.start_logging(Name="org-trail")
        ct.put_event_selectors(TrailName="org-trail", EventSelectors=[{"ReadWriteType": "WriteOnly"}])
        for region in ("us-east-1", "eu-west-1"):
            mct = client("cloudtrail", member, region)
            trails = mct.describe_trails()["trailList"]
            self.assertEqual([t["TrailARN"] for t in trails], [arn], region)
            self.assertTrue(trails[0]["IsOrganizationTrail"])
            self.assertEqual(trails[0]["HomeRegion"], "us-east-1")
            self.assertEqual(mct.describe_trails(includeShadowTrails=False)["trailList"], [])
            self.assertTrue(mct.get_trail_status(Name=arn)["IsLogging"])
            self.assertEqual(mct.get_event_selectors(TrailName=arn)["EventSelectors"][0]["ReadWriteType"],
                             "WriteOnly")
        mct = client("cloudtrail", member)
        with self.assertRaises(ClientError) as err:
            mct.get_trail_status(Name="org-trail")
        self.assertEqual(err.exception.response["Error"]["Code"], "TrailNotFoundException")
        with self.assertRaises(ClientError) as err:
            mct.put_event_selectors(TrailName=arn, EventSelectors=[{"ReadWriteType": "All"}])
        self.assertEqual(err.exception.response["Error"]["Code"], "NotOrganizationMasterAccountException")
        octl = client("cloudtrail", outsider)
        self.assertEqual(octl.describe_trails()["trailList"], [])
        with self.assertRaises(ClientError) as err:
            octl.get_trail_status(Name=arn)
        self.assertEqual(err.exception.response["Error"]["Code"], "TrailNotFoundException")
        # The management account sees its own trail once, and as a shadow trail in another region.
        self.assertEqual(len(ct.describe_trails()["trailList"]), 1)
        eu = client("cloudtrail", management, "eu-west-1")
        self.assertEqual([t["TrailARN"] for t in eu.describe_trails()["trailList"]], [arn])
        self.assertEqual(eu.describe_trails(includeShadowTrails=False)["trailList"], [])
        # The organisation trail's WriteOnly selector applies to the member's events it delivers.
        iam = client("iam", member)
        iam.create_user(UserName="in-member")
        iam.list_users()
        records = [r for r in delivered(management, "org-trail-920000000001") if r["recipientAccountId"] == member]
        names = {r["eventName"] for r in records}
        self.assertIn("CreateUser", names)
        self.assertNotIn("ListUsers", names)


if __name__ == "__main__":
    unittest.main()
