"""The emulator behaves as AWS does where gateaudit depends on it (issue 12).

* ``readOnly`` of a recorded event follows the IAM catalog's access level of
  the call's action (src/iam/catalog-actions.tsv), with CloudTrail's own
  documented exceptions (STS role assumptions, KMS cryptographic operations).
* A chained AssumeRole from a session that carries a source identity needs
  ``sts:SetSourceIdentity`` in the target role's trust policy.
* AWS services acting as themselves: KMS's automatic key rotation is an
  ``AwsServiceEvent`` whose userIdentity has only accountId and invokedBy; a
  service-linked role's session is an ``AssumedRole`` with invokedBy and a
  sessionIssuer under ``/aws-service-role/``.

Run from the repository root::

    .venv/bin/python -m unittest tests/emulator/test_aws_behaviour.py -v
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import unittest

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import test_emulator as emu  # noqa: E402  (shares its emulator start-up and helpers)
from test_emulator import client, control, doc, make_user, session_creds  # noqa: E402


def setUpModule() -> None:
    emu.setUpModule()


def tearDownModule() -> None:
    emu.tearDownModule()


def events(account: str, name: str) -> list[dict]:
    found = client("cloudtrail", account).lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])["Events"]
    return [json.loads(e["CloudTrailEvent"]) for e in found]


class ReadOnlyTests(unittest.TestCase):
    def test_read_only_follows_the_catalog_access_level_with_cloudtrails_exceptions(self):
        from ext import cloudtrail

        # Read/List -> true; Write/Permissions management/Tagging -> false
        self.assertTrue(cloudtrail.is_read_only("iam", "GetRole"))
        self.assertTrue(cloudtrail.is_read_only("iam", "SimulatePrincipalPolicy"))  # Read, not a Get*
        self.assertTrue(cloudtrail.is_read_only("iam", "GenerateCredentialReport"))  # Read
        self.assertFalse(cloudtrail.is_read_only("iam", "PutRolePolicy"))  # Permissions management
        self.assertFalse(cloudtrail.is_read_only("iam", "TagRole"))  # Tagging
        # a Check*/Validate* call the catalog classes as Write is a write
        self.assertFalse(cloudtrail.is_read_only("appconfig", "ValidateConfiguration"))
        # S3 operations are looked up under the IAM action that authorises them
        self.assertTrue(cloudtrail.is_read_only("s3", "ListBuckets"))  # s3:ListAllMyBuckets
        self.assertTrue(cloudtrail.is_read_only("s3", "GetBucketEncryption"))  # s3:GetEncryptionConfiguration
        self.assertFalse(cloudtrail.is_read_only("s3", "DeletePublicAccessBlock"))
        # CloudTrail's exceptions: Write in the catalog, readOnly true in CloudTrail
        for action in ("AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"):
            self.assertTrue(cloudtrail.is_read_only("sts", action), action)
        for action in ("Encrypt", "Decrypt", "GenerateDataKey", "Sign"):
            self.assertTrue(cloudtrail.is_read_only("kms", action), action)
        self.assertFalse(cloudtrail.is_read_only("kms", "CreateKey"))
        # not in the catalog: a write, never a hidden change
        self.assertFalse(cloudtrail.is_read_only("iam", "FrobnicateRole"))

    def test_recorded_events_carry_that_read_only(self):
        acct = "900000000041"
        kms = client("kms", acct)
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
        kms.decrypt(CiphertextBlob=blob, KeyId=key)
        client("iam", acct).create_role(RoleName="R", AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": acct}}))
        client("iam", acct).generate_credential_report()  # Read in the catalog, though not a Get*/List*
        user = make_user(acct, "rita")
        client("sts", creds=user).assume_role(RoleArn=f"arn:aws:iam::{acct}:role/R", RoleSessionName="rita")
        expected = {"CreateKey": False, "Encrypt": True, "Decrypt": True, "CreateRole": False,
                    "GenerateCredentialReport": True, "AssumeRole": True}
        for name, read_only in expected.items():
            recorded = events(acct, name)
            self.assertTrue(recorded, name)
            self.assertEqual([e["readOnly"] for e in recorded], [read_only] * len(recorded), name)


class SourceIdentityChainTests(unittest.TestCase):
    def test_a_chained_session_with_a_source_identity_needs_set_source_identity(self):
        acct = "900000000042"
        iam = client("iam", acct)
        iam.create_role(RoleName="First", AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"], "Principal": {"AWS": acct}}))
        iam.create_role(RoleName="NoSetSource", AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": acct}}))
        iam.create_role(RoleName="SetSource", AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"], "Principal": {"AWS": acct}}))
        user = make_user(acct, "sid")
        first = client("sts", creds=user).assume_role(
            RoleArn=f"arn:aws:iam::{acct}:role/First", RoleSessionName="one", SourceIdentity="sid")
        chained = client("sts", creds=session_creds(first))
        # The caller does not pass SourceIdentity again: AWS still propagates it and requires the permission.
        with self.assertRaises(ClientError) as err:
            chained.assume_role(RoleArn=f"arn:aws:iam::{acct}:role/NoSetSource", RoleSessionName="two")
        self.assertEqual(err.exception.response["Error"]["Code"], "AccessDenied")
        self.assertIn("sts:SetSourceIdentity", err.exception.response["Error"]["Message"])
        second = chained.assume_role(RoleArn=f"arn:aws:iam::{acct}:role/SetSource", RoleSessionName="two")
        self.assertEqual(second["SourceIdentity"], "sid")
        # A session without a source identity chains into NoSetSource as before.
        plain = client("sts", creds=user).assume_role(
            RoleArn=f"arn:aws:iam::{acct}:role/First", RoleSessionName="plain")
        client("sts", creds=session_creds(plain)).assume_role(
            RoleArn=f"arn:aws:iam::{acct}:role/NoSetSource", RoleSessionName="three")


class ServiceIdentityTests(unittest.TestCase):
    def tearDown(self):
        control("clock", {"reset": True})

    def test_automatic_key_rotation_is_an_aws_service_event(self):
        acct = "900000000043"
        control("clock", {"now": "2026-01-10T08:00:00Z"})
        kms = client("kms", acct)
        key = kms.create_key()["KeyMetadata"]
        kms.enable_key_rotation(KeyId=key["KeyId"], RotationPeriodInDays=90)
        status = kms.get_key_rotation_status(KeyId=key["KeyId"])
        self.assertEqual(status["RotationPeriodInDays"], 90)
        self.assertEqual(status["NextRotationDate"].date(), dt.date(2026, 4, 10))
        unchecked = boto3.session.Session(
            region_name=emu.REGION, aws_access_key_id="testing", aws_secret_access_key="testing").client(
            "kms", endpoint_url=emu.ENDPOINT, config=Config(parameter_validation=False))
        unchecked.meta.events.register(
            "before-send", lambda request, **_: request.headers.__setitem__("x-moto-account-id", acct))
        with self.assertRaises(ClientError) as err:
            unchecked.enable_key_rotation(KeyId=key["KeyId"], RotationPeriodInDays=30)
        self.assertEqual(err.exception.response["Error"]["Code"], "ValidationException")
        self.assertEqual(events(acct, "RotateKey"), [])
        control("clock", {"now": "2026-07-20T08:00:00Z"})  # two periods later
        rotations = events(acct, "RotateKey")
        self.assertEqual(len(rotations), 2)
        rotation = rotations[-1]  # oldest last
        self.assertEqual(rotation["eventTime"][:10], "2026-04-10")
        self.assertEqual(rotation["userIdentity"], {"accountId": acct, "invokedBy": "AWS Internal"})
        self.assertEqual(rotation["eventType"], "AwsServiceEvent")
        self.assertEqual((rotation["sourceIPAddress"], rotation["userAgent"]), ("AWS Internal", "AWS Internal"))
        self.assertIsNone(rotation["requestParameters"])
        self.assertFalse(rotation["readOnly"])
        self.assertEqual(rotation["serviceEventDetails"], {"rotationType": "AUTOMATIC", "keyId": key["KeyId"]})
        self.assertEqual(rotation["resources"], [{"accountId": acct, "type": "AWS::KMS::Key", "ARN": key["Arn"]}])
        self.assertEqual(rotation["recipientAccountId"], acct)
        self.assertEqual(rotation["eventCategory"], "Management")
        listed = kms.list_key_rotations(KeyId=key["KeyId"])["Rotations"]
        self.assertEqual([r["RotationType"] for r in listed], ["AUTOMATIC", "AUTOMATIC"])
        # no rotation after it is disabled
        kms.disable_key_rotation(KeyId=key["KeyId"])
        control("clock", {"now": "2027-07-20T08:00:00Z"})
        self.assertEqual(len(events(acct, "RotateKey")), 2)

    def test_a_service_linked_roles_session_acts_as_the_service(self):
        acct = "900000000044"
        slr = client("iam", acct).create_service_linked_role(
            AWSServiceName="autoscaling.amazonaws.com")["Role"]
        self.assertTrue(slr["Path"].startswith("/aws-service-role/autoscaling.amazonaws.com/"), slr)
        session = control("service-session", {"service": "autoscaling.amazonaws.com", "roleArn": slr["Arn"],
                                               "sessionName": "AutoScaling", "asService": True})
        c = session["credentials"]
        creds = {"aws_access_key_id": c["accessKeyId"], "aws_secret_access_key": c["secretAccessKey"],
                 "aws_session_token": c["sessionToken"]}
        client("sns", creds=creds).create_topic(Name="scaling")
        (created,) = events(acct, "CreateTopic")
        ui = created["userIdentity"]
        self.assertEqual(ui["type"], "AssumedRole")
        self.assertEqual(ui["invokedBy"], "autoscaling.amazonaws.com")
        self.assertEqual(ui["sessionContext"]["sessionIssuer"]["arn"], slr["Arn"])
        self.assertEqual(created["sourceIPAddress"], "autoscaling.amazonaws.com")
        self.assertFalse(created["readOnly"])


if __name__ == "__main__":
    unittest.main()
