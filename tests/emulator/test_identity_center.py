"""Tests of the emulator's Organizations, Identity Center and SAML extensions.

Run from the repository root::

    .venv/bin/python -m unittest discover -s tests/emulator -p 'test_*.py' -v

This module starts its own emulator on a free loopback port; every test works
in its own account ids (93xxxxxxxxxx) so tests do not see each other's state.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import subprocess
import sys
import unittest
import urllib.error
import urllib.request

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


def client(service: str, account: str | None = None, creds: dict[str, str] | None = None,
           region: str = REGION):
    creds = creds or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    c = boto3.session.Session(region_name=region, **creds).client(
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


def code_of(err: ClientError) -> str:
    return err.response["Error"]["Code"]


def make_org(management: str, *members: str, names: dict[str, str] | None = None) -> str:
    """An all-features organisation of ``management`` that ``members`` joined by invitation; returns the root id."""
    for account, name in (names or {}).items():
        control("accounts", {"accountId": account, "name": name, "email": f"{name}@example.com"})
    org = client("organizations", management)
    org.create_organization(FeatureSet="ALL")
    for member in members:
        handshake = org.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": member})["Handshake"]
        client("organizations", member).accept_handshake(HandshakeId=handshake["Id"])
    return org.list_roots()["Roots"][0]["Id"]


def session_creds(c: dict) -> dict[str, str]:
    return {"aws_access_key_id": c["accessKeyId"], "aws_secret_access_key": c["secretAccessKey"],
            "aws_session_token": c["sessionToken"]}


def lookup(account: str, key: str, value: str, region: str = REGION) -> list[dict]:
    events = client("cloudtrail", account, region=region).lookup_events(
        LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])["Events"]
    return [json.loads(e["CloudTrailEvent"]) | {"_Username": e["Username"]} for e in events]


class OrganizationsTests(unittest.TestCase):
    def tearDown(self):
        control("clock", {"reset": True})

    def test_invite_and_accept_keep_the_fixed_id(self):
        mgmt, dev, prod, outsider = "931000000001", "931000000002", "931000000003", "931000000004"
        control("accounts", {"accountId": mgmt, "name": "cicd", "email": "cicd@example.com"})
        control("accounts", {"accountId": dev, "name": "dev", "email": "dev@example.com"})
        control("accounts", {"accountId": prod, "name": "prod", "email": "prod@example.com"})
        org = client("organizations", mgmt)
        org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        root = org.list_roots()["Roots"][0]["Id"]
        hs = org.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": dev}, Notes="join us",
                                                Tags=[{"Key": "env", "Value": "dev"}])["Handshake"]
        self.assertRegex(hs["Id"], r"^h-[0-9a-z]{8,32}$")
        self.assertEqual(hs["Arn"], f"arn:aws:organizations::{mgmt}:handshake/{org_id}/invite/{hs['Id']}")
        self.assertEqual(hs["State"], "OPEN")
        self.assertEqual(hs["Action"], "INVITE")
        self.assertEqual(hs["Parties"], [{"Id": org_id, "Type": "ORGANIZATION"}, {"Id": dev, "Type": "ACCOUNT"}])
        self.assertEqual(hs["Resources"][0]["Type"], "ORGANIZATION")
        self.assertEqual({r["Type"]: r["Value"] for r in hs["Resources"][0]["Resources"]},
                         {"MASTER_EMAIL": "cicd@example.com", "MASTER_NAME": "cicd", "ORGANIZATION_FEATURE_SET": "ALL"})
        self.assertEqual(hs["Resources"][1:],
                         [{"Type": "ACCOUNT", "Value": dev}, {"Type": "NOTES", "Value": "join us"}])
        self.assertEqual(hs["ExpirationTimestamp"] - hs["RequestedTimestamp"], dt.timedelta(days=15))
        with self.assertRaises(ClientError) as err:
            org.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": dev})
        self.assertEqual(code_of(err.exception), "DuplicateHandshakeException")

        dev_org = client("organizations", dev)
        self.assertEqual([h["Id"] for h in dev_org.list_handshakes_for_account()["Handshakes"]], [hs["Id"]])
        with self.assertRaises(ClientError) as err:
            client("organizations", outsider).describe_handshake(HandshakeId=hs["Id"])
        self.assertEqual(code_of(err.exception), "HandshakeNotFoundException")
        with self.assertRaises(ClientError) as err:
            client("organizations", outsider).accept_handshake(HandshakeId=hs["Id"])
        self.assertEqual(code_of(err.exception), "HandshakeNotFoundException")
        accepted = dev_org.accept_handshake(HandshakeId=hs["Id"])["Handshake"]
        self.assertEqual(accepted["State"], "ACCEPTED")
        with self.assertRaises(ClientError) as err:
            dev_org.accept_handshake(HandshakeId=hs["Id"])
        self.assertEqual(code_of(err.exception), "HandshakeAlreadyInStateException")
        with self.assertRaises(ClientError) as err:
            org.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": dev})
        self.assertEqual(code_of(err.exception), "HandshakeConstraintViolationException")
        self.assertEqual(err.exception.response["Reason"], "ALREADY_IN_AN_ORGANIZATION")

        # by e-mail: matched to the account signed up with that address
        by_mail = org.invite_account_to_organization(Target={"Type": "EMAIL", "Id": "prod@example.com"})["Handshake"]
        prod_org = client("organizations", prod)
        self.assertEqual([h["Id"] for h in prod_org.list_handshakes_for_account()["Handshakes"]], [by_mail["Id"]])
        prod_org.accept_handshake(HandshakeId=by_mail["Id"])

        accounts = {a["Id"]: a for a in org.list_accounts()["Accounts"]}
        self.assertEqual(set(accounts), {mgmt, dev, prod})
        self.assertEqual((accounts[dev]["Name"], accounts[dev]["Email"], accounts[dev]["Status"],
                          accounts[dev]["State"], accounts[dev]["JoinedMethod"]),
                         ("dev", "dev@example.com", "ACTIVE", "ACTIVE", "INVITED"))
        self.assertEqual(accounts[dev]["Arn"], f"arn:aws:organizations::{mgmt}:account/{org_id}/{dev}")
        self.assertEqual(org.describe_account(AccountId=dev)["Account"]["JoinedMethod"], "INVITED")
        self.assertEqual(org.list_tags_for_resource(ResourceId=dev)["Tags"], [{"Key": "env", "Value": "dev"}])
        children = {c["Id"] for c in org.list_children(ParentId=root, ChildType="ACCOUNT")["Children"]}
        self.assertEqual(children, {mgmt, dev, prod})
        self.assertEqual(dev_org.describe_organization()["Organization"]["Id"], org_id)
        # invited accounts get no OrganizationAccountAccessRole (CreateAccount's accounts do)
        self.assertEqual(client("iam", dev).list_roles()["Roles"], [])

        ou = org.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]
        self.assertEqual(org.describe_organizational_unit(OrganizationalUnitId=ou["Id"])["OrganizationalUnit"]["Name"],
                         "Workloads")
        org.move_account(AccountId=dev, SourceParentId=root, DestinationParentId=ou["Id"])
        self.assertEqual(org.list_parents(ChildId=dev)["Parents"], [{"Id": ou["Id"], "Type": "ORGANIZATIONAL_UNIT"}])
        self.assertEqual(org.list_parents(ChildId=ou["Id"])["Parents"], [{"Id": root, "Type": "ROOT"}])
        org.tag_resource(ResourceId=dev, Tags=[{"Key": "owner", "Value": "platform"}])
        self.assertEqual({t["Key"] for t in org.list_tags_for_resource(ResourceId=dev)["Tags"]}, {"env", "owner"})
        self.assertEqual([h["State"] for h in org.list_handshakes_for_organization()["Handshakes"]],
                         ["ACCEPTED", "ACCEPTED"])

    def test_decline_cancel_leave(self):
        mgmt, a, b = "932000000001", "932000000002", "932000000003"
        make_org(mgmt)
        org = client("organizations", mgmt)
        to_a = org.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": a})["Handshake"]
        to_b = org.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": b})["Handshake"]
        self.assertEqual(client("organizations", a).decline_handshake(HandshakeId=to_a["Id"])["Handshake"]["State"],
                         "DECLINED")
        with self.assertRaises(ClientError) as err:
            client("organizations", a).accept_handshake(HandshakeId=to_a["Id"])
        self.assertEqual(code_of(err.exception), "InvalidHandshakeTransitionException")
        with self.assertRaises(ClientError) as err:
            client("organizations", b).cancel_handshake(HandshakeId=to_b["Id"])  # only the management account
        self.assertEqual(code_of(err.exception), "HandshakeNotFoundException")
        self.assertEqual(org.cancel_handshake(HandshakeId=to_b["Id"])["Handshake"]["State"], "CANCELED")
        self.assertEqual([a["Id"] for a in org.list_accounts()["Accounts"]], [mgmt])
        # an invitation that is not accepted in 15 days expires
        again = org.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": a})["Handshake"]
        control("clock", {"now": (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=16)).isoformat()})
        self.assertEqual(org.describe_handshake(HandshakeId=again["Id"])["Handshake"]["State"], "EXPIRED")
        control("clock", {"reset": True})
        fresh = org.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": a})["Handshake"]
        member = client("organizations", a)
        member.accept_handshake(HandshakeId=fresh["Id"])
        member.leave_organization()
        self.assertEqual([a["Id"] for a in org.list_accounts()["Accounts"]], [mgmt])
        with self.assertRaises(ClientError) as err:
            member.describe_organization()
        self.assertEqual(code_of(err.exception), "AWSOrganizationsNotInUseException")

    def test_list_accounts_paginates(self):
        mgmt = "933000000001"
        members = [f"93300000000{i}" for i in range(2, 7)]
        make_org(mgmt, *members)
        org = client("organizations", mgmt)
        seen, token, pages = [], None, 0
        while True:
            page = org.list_accounts(MaxResults=2, **({"NextToken": token} if token else {}))
            pages += 1
            self.assertLessEqual(len(page["Accounts"]), 2)
            seen += [a["Id"] for a in page["Accounts"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual((sorted(seen), pages), (sorted([mgmt] + members), 3))
        paginated = [a["Id"] for p in org.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 4})
                     for a in p["Accounts"]]
        self.assertEqual(sorted(paginated), sorted([mgmt] + members))
        with self.assertRaises(ClientError) as err:
            org.list_accounts(MaxResults=21)
        self.assertEqual((code_of(err.exception), err.exception.response["Reason"]),
                         ("InvalidInputException", "MAX_VALUE_EXCEEDED"))
        for i in range(16):  # 22 accounts: a caller that ignores NextToken sees 20
            org.create_account(Email=f"extra{i}@example.com", AccountName=f"extra{i}")
        first = org.list_accounts()
        self.assertEqual((len(first["Accounts"]), bool(first.get("NextToken"))), (20, True))
        self.assertEqual(len(org.list_accounts(NextToken=first["NextToken"])["Accounts"]), 2)

    def test_scp_and_rcp_per_target(self):
        mgmt, dev, prod = "934000000001", "934000000002", "934000000003"
        root = make_org(mgmt, dev, prod)
        org = client("organizations", mgmt)
        self.assertEqual(org.list_roots()["Roots"][0]["PolicyTypes"], [])
        for kind in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
            self.assertEqual(org.list_policies_for_target(TargetId=root, Filter=kind)["Policies"], [])
        deny_regions = org.create_policy(
            Name="DenyOtherRegions", Description="only us-east-1", Type="SERVICE_CONTROL_POLICY",
            Content=doc({"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*",
                         "Condition": {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}}))["Policy"]
        with self.assertRaises(ClientError) as err:
            org.attach_policy(PolicyId=deny_regions["PolicySummary"]["Id"], TargetId=root)
        self.assertEqual(code_of(err.exception), "PolicyTypeNotEnabledException")

        org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
        enabled = org.enable_policy_type(RootId=root, PolicyType="RESOURCE_CONTROL_POLICY")["Root"]["PolicyTypes"]
        self.assertEqual({t["Type"] for t in enabled}, {"SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"})
        ou = org.create_organizational_unit(ParentId=root, Name="Prod")["OrganizationalUnit"]["Id"]
        org.move_account(AccountId=prod, SourceParentId=root, DestinationParentId=ou)
        no_iam = org.create_policy(Name="NoIamUsers", Description="", Type="SERVICE_CONTROL_POLICY",
                                   Content=doc({"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}))
        rcp = org.create_policy(Name="OrgOnlyS3", Description="", Type="RESOURCE_CONTROL_POLICY",
                                Content=doc({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                                             "Condition": {"StringNotEqualsIfExists": {
                                                 "aws:PrincipalOrgID": "o-x"}}}))
        scp_id, no_iam_id = deny_regions["PolicySummary"]["Id"], no_iam["Policy"]["PolicySummary"]["Id"]
        rcp_id = rcp["Policy"]["PolicySummary"]["Id"]
        org.attach_policy(PolicyId=scp_id, TargetId=root)
        org.attach_policy(PolicyId=no_iam_id, TargetId=ou)
        org.attach_policy(PolicyId=rcp_id, TargetId=prod)

        def names(target, kind):
            return sorted(p["Name"] for p in org.list_policies_for_target(TargetId=target, Filter=kind)["Policies"])

        scp, rcp_kind = "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"
        self.assertEqual(names(root, scp), ["DenyOtherRegions", "FullAWSAccess"])
        self.assertEqual(names(ou, scp), ["FullAWSAccess", "NoIamUsers"])
        self.assertEqual(names(prod, scp), ["FullAWSAccess"])  # directly attached only, nothing inherited
        self.assertEqual(names(dev, scp), ["FullAWSAccess"])
        self.assertEqual(names(root, rcp_kind), ["RCPFullAWSAccess"])
        self.assertEqual(names(ou, rcp_kind), ["RCPFullAWSAccess"])
        self.assertEqual(names(prod, rcp_kind), ["OrgOnlyS3", "RCPFullAWSAccess"])
        summary = org.list_policies_for_target(TargetId=prod, Filter=rcp_kind)["Policies"]
        self.assertTrue(all(p["Type"] == rcp_kind for p in summary))
        described = org.describe_policy(PolicyId=scp_id)["Policy"]
        self.assertEqual(json.loads(described["Content"])["Statement"][0]["Condition"],
                         {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}})
        self.assertEqual(described["PolicySummary"]["Arn"],
                         f"arn:aws:organizations::{mgmt}:policy/{org.describe_organization()['Organization']['Id']}"
                         f"/service_control_policy/{scp_id}")
        self.assertFalse(described["PolicySummary"]["AwsManaged"])
        self.assertTrue(org.describe_policy(PolicyId="p-FullAWSAccess")["Policy"]["PolicySummary"]["AwsManaged"])
        page = org.list_policies_for_target(TargetId=root, Filter=scp, MaxResults=1)
        rest = org.list_policies_for_target(TargetId=root, Filter=scp, NextToken=page["NextToken"])
        self.assertEqual(len(page["Policies"]) + len(rest["Policies"]), 2)
        # an entity keeps at least one SCP
        with self.assertRaises(ClientError) as err:
            org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=dev)
        self.assertEqual(err.exception.response["Reason"], "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
        org.detach_policy(PolicyId=no_iam_id, TargetId=ou)
        self.assertEqual(names(ou, scp), ["FullAWSAccess"])
        org.disable_policy_type(RootId=root, PolicyType="RESOURCE_CONTROL_POLICY")
        self.assertEqual(names(prod, rcp_kind), [])
        with self.assertRaises(ClientError) as err:
            org.attach_policy(PolicyId=rcp_id, TargetId=prod)
        self.assertEqual(code_of(err.exception), "PolicyTypeNotEnabledException")

    def test_member_reads_denied_but_delegated_administrator_may_read(self):
        mgmt, admin, member, outsider = "935000000001", "935000000002", "935000000003", "935000000004"
        root = make_org(mgmt, admin, member)
        org = client("organizations", mgmt)
        org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
        ou = org.create_organizational_unit(ParentId=root, Name="Sec")["OrganizationalUnit"]["Id"]
        member_org = client("organizations", member)
        for call in (lambda c: c.list_accounts(),
                     lambda c: c.list_policies_for_target(TargetId=root, Filter="SERVICE_CONTROL_POLICY"),
                     lambda c: c.describe_policy(PolicyId="p-FullAWSAccess"),
                     lambda c: c.list_roots(),
                     lambda c: c.list_parents(ChildId=member)):
            with self.assertRaises(ClientError) as err:
                call(member_org)
            self.assertEqual(code_of(err.exception), "AccessDeniedException")
            self.assertEqual(err.exception.response["Error"]["Message"],
                             "You don't have permissions to access this resource.")
        self.assertEqual(member_org.describe_organization()["Organization"]["MasterAccountId"], mgmt)
        with self.assertRaises(ClientError) as err:
            client("organizations", outsider).list_accounts()
        self.assertEqual(code_of(err.exception), "AWSOrganizationsNotInUseException")

        org.register_delegated_administrator(AccountId=admin, ServicePrincipal="sso.amazonaws.com")
        reader = client("organizations", admin)
        self.assertEqual({a["Id"] for a in reader.list_accounts()["Accounts"]}, {mgmt, admin, member})
        self.assertEqual(reader.list_parents(ChildId=member)["Parents"], [{"Id": root, "Type": "ROOT"}])
        self.assertEqual([p["Name"] for p in reader.list_policies_for_target(
            TargetId=member, Filter="SERVICE_CONTROL_POLICY")["Policies"]], ["FullAWSAccess"])
        self.assertIn("Statement", reader.describe_policy(PolicyId="p-FullAWSAccess")["Policy"]["Content"])
        self.assertEqual(reader.describe_organizational_unit(OrganizationalUnitId=ou)["OrganizationalUnit"]["Id"], ou)
        self.assertEqual(reader.list_tags_for_resource(ResourceId=member)["Tags"], [])
        self.assertEqual(reader.list_roots()["Roots"][0]["Id"], root)
        self.assertEqual(reader.list_delegated_administrators()["DelegatedAdministrators"][0]["Id"], admin)
        for write in (lambda c: c.create_policy(Name="x", Description="", Type="SERVICE_CONTROL_POLICY",
                                                Content=doc({"Effect": "Allow", "Action": "*", "Resource": "*"})),
                      lambda c: c.attach_policy(PolicyId="p-FullAWSAccess", TargetId=ou),
                      lambda c: c.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": outsider})):
            with self.assertRaises(ClientError) as err:
                write(reader)
            self.assertEqual(code_of(err.exception), "AccessDeniedException")

    def test_close_account_pending_then_suspended(self):
        mgmt, dev = "936000000001", "936000000002"
        make_org(mgmt, dev)
        org = client("organizations", mgmt)
        org.close_account(AccountId=dev)
        status = {a["Id"]: (a["Status"], a["State"]) for a in org.list_accounts()["Accounts"]}
        self.assertEqual(status, {mgmt: ("ACTIVE", "ACTIVE"), dev: ("PENDING_CLOSURE", "PENDING_CLOSURE")})
        with self.assertRaises(ClientError) as err:
            org.close_account(AccountId=dev)
        self.assertEqual(code_of(err.exception), "AccountAlreadyClosedException")
        with self.assertRaises(ClientError) as err:
            org.close_account(AccountId=mgmt)
        self.assertEqual(err.exception.response["Reason"], "CANNOT_CLOSE_MANAGEMENT_ACCOUNT")
        control("clock", {"now": (dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=10)).isoformat()})
        self.assertEqual(org.describe_account(AccountId=dev)["Account"]["Status"], "SUSPENDED")
        self.assertEqual(org.describe_account(AccountId=dev)["Account"]["State"], "SUSPENDED")
        control("clock", {"now": (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=91)).isoformat()})
        account = org.describe_account(AccountId=dev)["Account"]
        self.assertEqual((account["Status"], account["State"]), ("SUSPENDED", "CLOSED"))


def identity_center(mgmt: str, region: str = REGION) -> tuple[str, str]:
    """Enable the organisation instance; returns (instance ARN, identity store id)."""
    info = control("sso/enable", {"accountId": mgmt, "region": region})
    return info["instanceArn"], info["identityStoreId"]


def make_user(store: str, account: str, name: str, region: str = REGION) -> str:
    return client("identitystore", account, region=region).create_user(
        IdentityStoreId=store, UserName=name, DisplayName=name.title(),
        Name={"GivenName": name.title(), "FamilyName": "Example"})["UserId"]


def reserved_roles(account: str) -> list[dict]:
    details = client("iam", account).get_account_authorization_details(Filter=["Role"])["RoleDetailList"]
    return [r for r in details if r["RoleName"].startswith("AWSReservedSSO_")]


def trust_doc(role: dict) -> dict:
    value = role["AssumeRolePolicyDocument"]
    if isinstance(value, str):
        from urllib.parse import unquote

        value = json.loads(unquote(value))
    return value


class IdentityCenterTests(unittest.TestCase):
    def test_instance_lives_in_the_management_account(self):
        mgmt, admin, member, standalone = "941000000001", "941000000002", "941000000003", "941000000004"
        make_org(mgmt, admin, member)
        self.assertEqual(client("sso-admin", mgmt).list_instances()["Instances"], [])
        with self.assertRaises(urllib.error.HTTPError):
            control("sso/enable", {"accountId": member})
        instance, store = identity_center(mgmt)
        self.assertRegex(instance, r"^arn:aws:sso:::instance/ssoins-[0-9a-f]{16}$")
        self.assertEqual(identity_center(mgmt), (instance, store))  # enabling twice changes nothing
        listed = client("sso-admin", mgmt).list_instances()["Instances"]
        self.assertEqual([(i["InstanceArn"], i["IdentityStoreId"], i["OwnerAccountId"], i["Status"]) for i in listed],
                         [(instance, store, mgmt, "ACTIVE")])
        self.assertEqual(listed[0]["IdentityStoreArn"], f"arn:aws:identitystore::{mgmt}:identitystore/{store}")
        self.assertEqual(client("sso-admin", mgmt, region="eu-west-1").list_instances()["Instances"], [])
        described = client("sso-admin", mgmt).describe_instance(InstanceArn=instance)
        self.assertTrue(described["PermissionSetsEnabled"])
        self.assertIn("sso.amazonaws.com", [s["ServicePrincipal"] for s in client("organizations", mgmt)
                                            .list_aws_service_access_for_organization()["EnabledServicePrincipals"]])
        # other accounts neither see nor manage it, unless delegated administrator for sso
        self.assertEqual(client("sso-admin", member).list_instances()["Instances"], [])
        with self.assertRaises(ClientError) as err:
            client("sso-admin", member).list_permission_sets(InstanceArn=instance)
        self.assertEqual(code_of(err.exception), "AccessDeniedException")
        with self.assertRaises(ClientError) as err:
            client("identitystore", member).list_users(IdentityStoreId=store)
        self.assertEqual(code_of(err.exception), "AccessDeniedException")
        client("organizations", mgmt).register_delegated_administrator(AccountId=admin,
                                                                       ServicePrincipal="sso.amazonaws.com")
        self.assertEqual([i["InstanceArn"] for i in client("sso-admin", admin).list_instances()["Instances"]],
                         [instance])
        ps = client("sso-admin", admin).create_permission_set(InstanceArn=instance, Name="ByAdmin")["PermissionSet"]
        self.assertIn(ps["PermissionSetArn"], client("sso-admin", mgmt).list_permission_sets(
            InstanceArn=instance)["PermissionSets"])
        make_user(store, admin, "dora")
        with self.assertRaises(ClientError) as err:  # a delegated admin cannot assign into the management account
            client("sso-admin", admin).create_account_assignment(
                InstanceArn=instance, TargetId=mgmt, TargetType="AWS_ACCOUNT",
                PermissionSetArn=ps["PermissionSetArn"], PrincipalType="USER",
                PrincipalId=client("identitystore", admin).list_users(IdentityStoreId=store)["Users"][0]["UserId"])
        self.assertEqual(code_of(err.exception), "AccessDeniedException")
        # account instances: not in the management account, one per account, no permission sets
        with self.assertRaises(ClientError) as err:
            client("sso-admin", mgmt).create_instance(Name="second")
        self.assertEqual(code_of(err.exception), "ValidationException")
        own = client("sso-admin", standalone).create_instance(Name="team")["InstanceArn"]
        with self.assertRaises(ClientError) as err:
            client("sso-admin", standalone).create_instance(Name="again")
        self.assertEqual(code_of(err.exception), "ConflictException")
        self.assertFalse(client("sso-admin", standalone).describe_instance(InstanceArn=own)["PermissionSetsEnabled"])
        with self.assertRaises(ClientError) as err:
            client("sso-admin", standalone).create_permission_set(InstanceArn=own, Name="Admin")
        self.assertEqual(code_of(err.exception), "ValidationException")

    def test_provisioning_creates_the_reserved_role(self):
        mgmt, dev, prod = "942000000001", "942000000002", "942000000003"
        make_org(mgmt, dev, prod)
        instance, store = identity_center(mgmt)
        sso = client("sso-admin", mgmt)
        ps = sso.create_permission_set(InstanceArn=instance, Name="Deployer", Description="deploys",
                                       SessionDuration="PT4H")["PermissionSet"]
        ps_arn = ps["PermissionSetArn"]
        self.assertRegex(ps_arn, rf"^arn:aws:sso:::permissionSet/{instance.split('/')[-1]}/ps-[0-9a-f]{{16}}$")
        self.assertEqual(sso.create_permission_set(InstanceArn=instance, Name="Viewer")["PermissionSet"]
                         ["SessionDuration"], "PT1H")
        inline = doc({"Effect": "Allow", "Action": "codepipeline:*", "Resource": "*"})
        sso.put_inline_policy_to_permission_set(InstanceArn=instance, PermissionSetArn=ps_arn, InlinePolicy=inline)
        sso.attach_managed_policy_to_permission_set(InstanceArn=instance, PermissionSetArn=ps_arn,
                                                    ManagedPolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
        sso.attach_customer_managed_policy_reference_to_permission_set(
            InstanceArn=instance, PermissionSetArn=ps_arn,
            CustomerManagedPolicyReference={"Name": "DeployBuckets", "Path": "/platform/"})
        with self.assertRaises(ClientError) as err:
            sso.get_permissions_boundary_for_permission_set(InstanceArn=instance, PermissionSetArn=ps_arn)
        self.assertEqual(code_of(err.exception), "ResourceNotFoundException")
        sso.put_permissions_boundary_to_permission_set(
            InstanceArn=instance, PermissionSetArn=ps_arn,
            PermissionsBoundary={"CustomerManagedPolicyReference": {"Name": "Boundary"}})
        self.assertEqual(sso.get_permissions_boundary_for_permission_set(
            InstanceArn=instance, PermissionSetArn=ps_arn)["PermissionsBoundary"],
            {"CustomerManagedPolicyReference": {"Name": "Boundary", "Path": "/"}})
        iam = client("iam", dev)
        iam.create_policy(PolicyName="DeployBuckets", Path="/platform/",
                          PolicyDocument=doc({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}))
        iam.create_policy(PolicyName="Boundary",
                          PolicyDocument=doc({"Effect": "Allow", "Action": "*", "Resource": "*"}))
        user = make_user(store, mgmt, "erin")
        status = sso.create_account_assignment(
            InstanceArn=instance, TargetId=dev, TargetType="AWS_ACCOUNT", PermissionSetArn=ps_arn,
            PrincipalType="USER", PrincipalId=user)["AccountAssignmentCreationStatus"]
        self.assertEqual(status["Status"], "SUCCEEDED")
        self.assertEqual(sso.describe_account_assignment_creation_status(
            InstanceArn=instance, AccountAssignmentCreationRequestId=status["RequestId"])
            ["AccountAssignmentCreationStatus"]["Status"], "SUCCEEDED")

        [role] = reserved_roles(dev)
        self.assertRegex(role["RoleName"], r"^AWSReservedSSO_Deployer_[0-9a-f]{16}$")
        self.assertEqual(role["Path"], "/aws-reserved/sso.amazonaws.com/")
        self.assertEqual(role["Arn"], f"arn:aws:iam::{dev}:role/aws-reserved/sso.amazonaws.com/{role['RoleName']}")
        [provider] = client("iam", dev).list_saml_providers()["SAMLProviderList"]
        self.assertRegex(provider["Arn"], rf"^arn:aws:iam::{dev}:saml-provider/AWSSSO_[0-9a-f]{{16}}_DO_NOT_DELETE$")
        self.assertEqual(trust_doc(role), {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": provider["Arn"]},
            "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
            "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}}]})
        self.assertEqual([p["PolicyName"] for p in role["RolePolicyList"]], ["AwsSSOInlinePolicy"])
        inline_doc = role["RolePolicyList"][0]["PolicyDocument"]
        if isinstance(inline_doc, str):
            from urllib.parse import unquote

            inline_doc = json.loads(unquote(inline_doc))
        self.assertEqual(inline_doc, json.loads(inline))
        self.assertEqual(sorted(p["PolicyArn"] for p in role["AttachedManagedPolicies"]),
                         [f"arn:aws:iam::{dev}:policy/platform/DeployBuckets",
                          "arn:aws:iam::aws:policy/ReadOnlyAccess"])
        self.assertEqual(role["PermissionsBoundary"]["PermissionsBoundaryArn"], f"arn:aws:iam::{dev}:policy/Boundary")
        self.assertEqual(iam.get_role(RoleName=role["RoleName"])["Role"]["MaxSessionDuration"], 4 * 3600)
        self.assertEqual(reserved_roles(prod), [])
        self.assertEqual(sso.list_permission_sets_provisioned_to_account(InstanceArn=instance, AccountId=dev)
                         ["PermissionSets"], [ps_arn])
        self.assertEqual(sso.list_permission_sets_provisioned_to_account(InstanceArn=instance, AccountId=prod)
                         ["PermissionSets"], [])
        self.assertEqual(sso.list_accounts_for_provisioned_permission_set(
            InstanceArn=instance, PermissionSetArn=ps_arn)["AccountIds"], [dev])

        # a changed set is outdated until it is provisioned again; the role keeps its name
        sso.put_inline_policy_to_permission_set(
            InstanceArn=instance, PermissionSetArn=ps_arn,
            InlinePolicy=doc({"Effect": "Allow", "Action": "codepipeline:Get*", "Resource": "*"}))
        self.assertEqual(sso.list_permission_sets_provisioned_to_account(
            InstanceArn=instance, AccountId=dev, ProvisioningStatus="LATEST_PERMISSION_SET_NOT_PROVISIONED")
            ["PermissionSets"], [ps_arn])
        self.assertIn("codepipeline:*", json.dumps(reserved_roles(dev)[0]["RolePolicyList"]))
        sso.delete_permissions_boundary_from_permission_set(InstanceArn=instance, PermissionSetArn=ps_arn)
        done = sso.provision_permission_set(InstanceArn=instance, PermissionSetArn=ps_arn,
                                            TargetType="ALL_PROVISIONED_ACCOUNTS")["PermissionSetProvisioningStatus"]
        self.assertEqual(done["Status"], "SUCCEEDED")
        self.assertEqual(sso.describe_permission_set_provisioning_status(
            InstanceArn=instance, ProvisionPermissionSetRequestId=done["RequestId"])
            ["PermissionSetProvisioningStatus"]["Status"], "SUCCEEDED")
        [updated] = reserved_roles(dev)
        self.assertEqual(updated["RoleName"], role["RoleName"])
        self.assertIn("codepipeline:Get*", json.dumps(updated["RolePolicyList"]))
        self.assertNotIn("PermissionsBoundary", updated)
        self.assertEqual(sso.list_permission_sets_provisioned_to_account(
            InstanceArn=instance, AccountId=dev, ProvisioningStatus="LATEST_PERMISSION_SET_PROVISIONED")
            ["PermissionSets"], [ps_arn])

        # prod lacks the customer-managed policy: provisioning fails there and nothing is created
        failed = sso.provision_permission_set(InstanceArn=instance, PermissionSetArn=ps_arn, TargetType="AWS_ACCOUNT",
                                              TargetId=prod)["PermissionSetProvisioningStatus"]
        self.assertEqual((failed["Status"], failed["AccountId"]), ("FAILED", prod))
        self.assertIn("/platform/DeployBuckets", failed["FailureReason"])
        self.assertEqual(reserved_roles(prod), [])
        with self.assertRaises(ClientError) as err:
            sso.create_account_assignment(InstanceArn=instance, TargetId="942999999999", TargetType="AWS_ACCOUNT",
                                          PermissionSetArn=ps_arn, PrincipalType="USER", PrincipalId=user)
        self.assertEqual(code_of(err.exception), "ValidationException")  # not in the organisation

    def test_role_path_outside_us_east_1(self):
        mgmt, dev = "943000000001", "943000000002"
        make_org(mgmt, dev)
        instance, store = identity_center(mgmt, region="eu-west-1")
        sso = client("sso-admin", mgmt, region="eu-west-1")
        ps_arn = sso.create_permission_set(InstanceArn=instance, Name="Admin")["PermissionSet"]["PermissionSetArn"]
        user = make_user(store, mgmt, "finn", region="eu-west-1")
        sso.create_account_assignment(InstanceArn=instance, TargetId=dev, TargetType="AWS_ACCOUNT",
                                      PermissionSetArn=ps_arn, PrincipalType="USER", PrincipalId=user)
        [role] = reserved_roles(dev)
        self.assertEqual(role["Path"], "/aws-reserved/sso.amazonaws.com/eu-west-1/")
        self.assertEqual(client("sso-admin", mgmt).list_instances()["Instances"], [])  # us-east-1 has none

    def test_suffix_stable_while_assigned_new_after_removal(self):
        mgmt, dev = "944000000001", "944000000002"
        make_org(mgmt, dev)
        instance, store = identity_center(mgmt)
        sso = client("sso-admin", mgmt)
        ps_arn = sso.create_permission_set(InstanceArn=instance, Name="Ops")["PermissionSet"]["PermissionSetArn"]
        user = make_user(store, mgmt, "gus")
        group = client("identitystore", mgmt).create_group(IdentityStoreId=store, DisplayName="Ops")["GroupId"]
        assignment = {"InstanceArn": instance, "TargetId": dev, "TargetType": "AWS_ACCOUNT", "PermissionSetArn": ps_arn}
        sso.create_account_assignment(PrincipalType="USER", PrincipalId=user, **assignment)
        first = reserved_roles(dev)[0]["RoleName"]
        sso.create_account_assignment(PrincipalType="GROUP", PrincipalId=group, **assignment)
        self.assertEqual([r["RoleName"] for r in reserved_roles(dev)], [first])
        listed = sso.list_account_assignments(InstanceArn=instance, AccountId=dev, PermissionSetArn=ps_arn)
        self.assertEqual({(a["PrincipalType"], a["PrincipalId"]) for a in listed["AccountAssignments"]},
                         {("USER", user), ("GROUP", group)})
        with self.assertRaises(ClientError) as err:
            sso.delete_permission_set(InstanceArn=instance, PermissionSetArn=ps_arn)
        self.assertEqual(code_of(err.exception), "ConflictException")
        sso.delete_account_assignment(PrincipalType="USER", PrincipalId=user, **assignment)
        self.assertEqual([r["RoleName"] for r in reserved_roles(dev)], [first])
        deleted = sso.delete_account_assignment(PrincipalType="GROUP", PrincipalId=group, **assignment)
        self.assertEqual(deleted["AccountAssignmentDeletionStatus"]["Status"], "SUCCEEDED")
        self.assertEqual(reserved_roles(dev), [])
        self.assertEqual(sso.list_permission_sets_provisioned_to_account(InstanceArn=instance, AccountId=dev)
                         ["PermissionSets"], [])
        sso.create_account_assignment(PrincipalType="USER", PrincipalId=user, **assignment)
        second = reserved_roles(dev)[0]["RoleName"]
        self.assertRegex(second, r"^AWSReservedSSO_Ops_[0-9a-f]{16}$")
        self.assertNotEqual(second, first)
        # the SAML provider stays: one per account
        self.assertEqual(len(client("iam", dev).list_saml_providers()["SAMLProviderList"]), 1)

    def test_sign_in_credentials_and_cloudtrail(self):
        mgmt, dev = "945000000001", "945000000002"
        make_org(mgmt, dev, names={dev: "dev"})
        instance, store = identity_center(mgmt)
        sso = client("sso-admin", mgmt)
        ps_arn = sso.create_permission_set(InstanceArn=instance, Name="Approver")["PermissionSet"]["PermissionSetArn"]
        sso.put_inline_policy_to_permission_set(
            InstanceArn=instance, PermissionSetArn=ps_arn,
            InlinePolicy=doc({"Effect": "Allow", "Action": "codepipeline:PutApprovalResult", "Resource": "*"}))
        ids = client("identitystore", mgmt)
        hana = make_user(store, mgmt, "hana")
        make_user(store, mgmt, "ivan")  # not assigned
        group = ids.create_group(IdentityStoreId=store, DisplayName="Approvers")["GroupId"]
        ids.create_group_membership(IdentityStoreId=store, GroupId=group, MemberId={"UserId": hana})
        sso.create_account_assignment(InstanceArn=instance, TargetId=dev, TargetType="AWS_ACCOUNT",
                                      PermissionSetArn=ps_arn, PrincipalType="GROUP", PrincipalId=group)
        [role] = reserved_roles(dev)

        with self.assertRaises(urllib.error.HTTPError) as err:
            control("sso/sign-in", {"identityStoreId": store, "userName": "nobody"})
        self.assertEqual(err.exception.code, 404)
        token = control("sso/sign-in", {"identityStoreId": store, "userName": "hana"})["accessToken"]
        portal = client("sso")
        self.assertEqual(portal.list_accounts(accessToken=token)["accountList"],
                         [{"accountId": dev, "accountName": "dev", "emailAddress": "dev@example.com"}])
        self.assertEqual(portal.list_account_roles(accessToken=token, accountId=dev)["roleList"],
                         [{"roleName": "Approver", "accountId": dev}])
        creds = portal.get_role_credentials(roleName="Approver", accountId=dev, accessToken=token)["roleCredentials"]
        self.assertTrue(creds["accessKeyId"].startswith("ASIA"))
        self.assertGreater(creds["expiration"], (dt.datetime.now(dt.timezone.utc).timestamp() + 3000) * 1000)
        session = session_creds(creds)
        self.assertEqual(client("sts", creds=session).get_caller_identity()["Arn"],
                         f"arn:aws:sts::{dev}:assumed-role/{role['RoleName']}/hana")
        client("iam", creds=session).list_roles()

        ivan = control("sso/sign-in", {"identityStoreId": store, "userName": "ivan"})["accessToken"]
        with self.assertRaises(ClientError) as err:
            portal.get_role_credentials(roleName="Approver", accountId=dev, accessToken=ivan)
        self.assertEqual((code_of(err.exception), err.exception.response["Error"]["Message"],
                          err.exception.response["ResponseMetadata"]["HTTPStatusCode"]),
                         ("ForbiddenException", "No access", 403))
        self.assertEqual(portal.list_accounts(accessToken=ivan)["accountList"], [])
        with self.assertRaises(ClientError) as err:
            portal.get_role_credentials(roleName="Other", accountId=dev, accessToken=token)
        self.assertEqual(code_of(err.exception), "ForbiddenException")
        with self.assertRaises(ClientError) as err:
            portal.get_role_credentials(roleName="Approver", accountId=dev, accessToken="not-a-token")
        self.assertEqual((code_of(err.exception), err.exception.response["ResponseMetadata"]["HTTPStatusCode"]),
                         ("UnauthorizedException", 401))

        # the calls made with the credentials: AssumedRole, session name = the user name
        [list_roles] = [e for e in lookup(dev, "Username", "hana") if e["eventName"] == "ListRoles"]
        ui = list_roles["userIdentity"]
        self.assertEqual(ui["type"], "AssumedRole")
        self.assertEqual(ui["arn"], f"arn:aws:sts::{dev}:assumed-role/{role['RoleName']}/hana")
        self.assertEqual(ui["principalId"], f"{role['RoleId']}:hana")
        self.assertEqual(ui["accessKeyId"], creds["accessKeyId"])
        self.assertEqual(ui["sessionContext"]["sessionIssuer"],
                         {"type": "Role", "principalId": role["RoleId"], "arn": role["Arn"], "accountId": dev,
                          "userName": role["RoleName"]})
        self.assertIn("/aws-reserved/sso.amazonaws.com/", ui["sessionContext"]["sessionIssuer"]["arn"])
        self.assertNotIn("sourceIdentity", ui["sessionContext"])

        # AssumeRoleWithSAML in the target account
        [saml] = lookup(dev, "EventName", "AssumeRoleWithSAML")
        [provider] = client("iam", dev).list_saml_providers()["SAMLProviderList"]
        provider_name = provider["Arn"].split("/")[-1]
        issuer = saml["responseElements"]["issuer"]
        self.assertRegex(issuer, r"^https://portal\.sso\.us-east-1\.amazonaws\.com/saml/assertion/[A-Za-z0-9+/=]+$")
        import hashlib

        qualifier = base64.b64encode(hashlib.sha1(f"{issuer}{dev}/{provider_name}".encode()).digest()).decode()
        self.assertEqual(saml["userIdentity"], {"type": "SAMLUser", "principalId": f"{qualifier}:hana",
                                                "userName": "hana", "identityProvider": qualifier})
        self.assertEqual((saml["eventSource"], saml["eventName"], saml["readOnly"], saml["recipientAccountId"],
                          saml["eventType"], saml["_Username"]),
                         ("sts.amazonaws.com", "AssumeRoleWithSAML", True, dev, "AwsApiCall", "hana"))
        params = saml["requestParameters"]
        self.assertEqual((params["roleArn"], params["principalArn"], params["roleSessionName"],
                          params["durationSeconds"]), (role["Arn"], provider["Arn"], "hana", 3600))
        self.assertTrue(params["sAMLAssertionID"])
        response = saml["responseElements"]
        self.assertEqual(response["credentials"]["accessKeyId"], creds["accessKeyId"])
        self.assertNotIn("secretAccessKey", response["credentials"])
        self.assertEqual(response["assumedRoleUser"],
                         {"assumedRoleId": f"{role['RoleId']}:hana",
                          "arn": f"arn:aws:sts::{dev}:assumed-role/{role['RoleName']}/hana"})
        self.assertEqual((response["subject"], response["subjectType"], response["audience"],
                          response["nameQualifier"]),
                         ("hana", "persistent", "https://signin.aws.amazon.com/saml", qualifier))
        self.assertEqual(saml["resources"], [
            {"accountId": dev, "type": "AWS::IAM::Role", "ARN": role["Arn"]},
            {"accountId": dev, "type": "AWS::IAM::SAMLProvider", "ARN": provider["Arn"]}])

        # GetRoleCredentials in the instance's account, 2025 shape
        events = lookup(mgmt, "EventName", "GetRoleCredentials")
        ok = [e for e in events if "errorCode" not in e]
        self.assertEqual(len(ok), 1)
        grc = ok[0]
        self.assertEqual(grc["userIdentity"], {
            "type": "IdentityCenterUser", "accountId": mgmt,
            "onBehalfOf": {"userId": hana, "identityStoreArn": f"arn:aws:identitystore::{mgmt}:identitystore/{store}"},
            "credentialId": grc["userIdentity"]["credentialId"]})
        self.assertTrue(grc["userIdentity"]["credentialId"])
        self.assertNotIn("userName", grc["userIdentity"])
        self.assertEqual((grc["eventSource"], grc["eventType"], grc["readOnly"], grc["recipientAccountId"],
                          grc["awsRegion"], grc["requestParameters"], grc["responseElements"]),
                         ("sso.amazonaws.com", "AwsServiceEvent", True, mgmt, REGION, None, None))
        self.assertEqual(grc["serviceEventDetails"], {"role_name": "Approver", "account_id": dev})
        denied = [e for e in events if e.get("errorCode") == "ForbiddenException"]
        self.assertEqual(len(denied), 2)
        ivan_id = ids.list_users(IdentityStoreId=store, Filters=[{"AttributePath": "UserName",
                                                                 "AttributeValue": "ivan"}])["Users"][0]["UserId"]
        self.assertIn(ivan_id, [e["userIdentity"]["onBehalfOf"]["userId"] for e in denied])
        self.assertEqual({e["eventName"] for e in lookup(mgmt, "EventSource", "sso.amazonaws.com")
                          if e["userIdentity"]["type"] == "IdentityCenterUser"},
                         {"GetRoleCredentials", "ListAccounts", "ListAccountRoles"})

        # the reserved role only trusts the SAML provider: plain AssumeRole is denied, even from its account
        with self.assertRaises(ClientError) as err:
            client("sts", dev).assume_role(RoleArn=role["Arn"], RoleSessionName="hana")
        self.assertEqual(code_of(err.exception), "AccessDenied")

        # after logout the token is gone; removing the assignment removes access
        portal.logout(accessToken=token)
        with self.assertRaises(ClientError) as err:
            portal.list_accounts(accessToken=token)
        self.assertEqual(code_of(err.exception), "UnauthorizedException")
        token = control("sso/sign-in", {"identityStoreId": store, "userName": "hana"})["accessToken"]
        sso.delete_account_assignment(InstanceArn=instance, TargetId=dev, TargetType="AWS_ACCOUNT",
                                      PermissionSetArn=ps_arn, PrincipalType="GROUP", PrincipalId=group)
        with self.assertRaises(ClientError) as err:
            portal.get_role_credentials(roleName="Approver", accountId=dev, accessToken=token)
        self.assertEqual(code_of(err.exception), "ForbiddenException")

    def test_pagination(self):
        mgmt, dev = "946000000001", "946000000002"
        make_org(mgmt, dev)
        instance, store = identity_center(mgmt)
        sso = client("sso-admin", mgmt)
        ids = client("identitystore", mgmt)
        sets = [sso.create_permission_set(InstanceArn=instance, Name=f"Set{i}")["PermissionSet"]["PermissionSetArn"]
                for i in range(5)]
        users = [make_user(store, mgmt, f"user{i}") for i in range(5)]
        groups = [ids.create_group(IdentityStoreId=store, DisplayName=f"group{i}")["GroupId"] for i in range(5)]
        for user in users:
            ids.create_group_membership(IdentityStoreId=store, GroupId=groups[0], MemberId={"UserId": user})
            sso.create_account_assignment(InstanceArn=instance, TargetId=dev, TargetType="AWS_ACCOUNT",
                                          PermissionSetArn=sets[0], PrincipalType="USER", PrincipalId=user)
        for ps in sets:
            sso.create_account_assignment(InstanceArn=instance, TargetId=dev, TargetType="AWS_ACCOUNT",
                                          PermissionSetArn=ps, PrincipalType="GROUP", PrincipalId=groups[1])

        def drain(call, key, **kwargs):
            seen, token, pages = [], None, 0
            while True:
                page = call(MaxResults=2, **kwargs, **({"NextToken": token} if token else {}))
                pages += 1
                self.assertLessEqual(len(page[key]), 2)
                seen += page[key]
                token = page.get("NextToken")
                if not token:
                    return seen, pages

        found, pages = drain(sso.list_permission_sets, "PermissionSets", InstanceArn=instance)
        self.assertEqual((sorted(found), pages), (sorted(sets), 3))
        found, pages = drain(sso.list_account_assignments, "AccountAssignments", InstanceArn=instance,
                             AccountId=dev, PermissionSetArn=sets[0])
        self.assertEqual((len(found), pages), (6, 3))
        found, pages = drain(sso.list_permission_sets_provisioned_to_account, "PermissionSets", InstanceArn=instance,
                             AccountId=dev)
        self.assertEqual((sorted(found), pages), (sorted(sets), 3))
        found, pages = drain(ids.list_users, "Users", IdentityStoreId=store)
        self.assertEqual((sorted(u["UserId"] for u in found), pages), (sorted(users), 3))
        found, pages = drain(ids.list_groups, "Groups", IdentityStoreId=store)
        self.assertEqual((sorted(g["GroupId"] for g in found), pages), (sorted(groups), 3))
        found, pages = drain(ids.list_group_memberships, "GroupMemberships", IdentityStoreId=store, GroupId=groups[0])
        self.assertEqual((sorted(m["MemberId"]["UserId"] for m in found), pages), (sorted(users), 3))


def saml_response(issuer: str, subject: str, role_arn: str, provider_arn: str) -> str:
    xml = f"""<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"
    xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_resp1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">
  <saml:Issuer>{issuer}</saml:Issuer>
  <saml:Assertion ID="_assertion-okta-1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">
    <saml:Issuer>{issuer}</saml:Issuer>
    <saml:Subject>
      <saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{subject}</saml:NameID>
      <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml:SubjectConfirmationData Recipient="https://signin.aws.amazon.com/saml"/>
      </saml:SubjectConfirmation>
    </saml:Subject>
    <saml:Conditions><saml:AudienceRestriction><saml:Audience>urn:amazon:webservices</saml:Audience>
    </saml:AudienceRestriction></saml:Conditions>
    <saml:AttributeStatement>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role">
        <saml:AttributeValue>{role_arn},{provider_arn}</saml:AttributeValue></saml:Attribute>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName">
        <saml:AttributeValue>{subject}</saml:AttributeValue></saml:Attribute>
    </saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>"""
    return base64.b64encode(xml.encode()).decode()


class CustomerSamlTests(unittest.TestCase):
    def test_assume_role_with_saml_for_an_okta_provider(self):
        acct = "947000000001"
        iam = client("iam", acct)
        metadata = ('<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" '
                    'entityID="http://www.okta.com/exk123"><!--' + "x" * 1000 + "--></EntityDescriptor>")
        provider = iam.create_saml_provider(SAMLMetadataDocument=metadata, Name="Okta")["SAMLProviderArn"]
        role = iam.create_role(RoleName="OktaAdmin", AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithSAML",
             "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}}))["Role"]
        other = iam.create_role(RoleName="NotFederated", AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Principal": {"AWS": acct}, "Action": "sts:AssumeRole"}))["Role"]
        sts = client("sts", region=REGION)
        issuer = "http://www.okta.com/exk123"
        ok = sts.assume_role_with_saml(RoleArn=role["Arn"], PrincipalArn=provider,
                                       SAMLAssertion=saml_response(issuer, "jo@example.com", role["Arn"], provider))
        self.assertEqual(ok["AssumedRoleUser"]["Arn"], f"arn:aws:sts::{acct}:assumed-role/OktaAdmin/jo@example.com")
        self.assertEqual((ok["Subject"], ok["Issuer"], ok["Audience"]),
                         ("jo@example.com", issuer, "https://signin.aws.amazon.com/saml"))
        c = ok["Credentials"]
        creds = {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
                 "aws_session_token": c["SessionToken"]}
        self.assertEqual(client("sts", creds=creds).get_caller_identity()["Arn"], ok["AssumedRoleUser"]["Arn"])
        [event] = [e for e in lookup(acct, "EventName", "AssumeRoleWithSAML") if "errorCode" not in e]
        self.assertEqual(event["userIdentity"]["type"], "SAMLUser")
        self.assertEqual(event["userIdentity"]["userName"], "jo@example.com")
        self.assertEqual(event["userIdentity"]["identityProvider"], ok["NameQualifier"])
        self.assertEqual(event["requestParameters"]["principalArn"], provider)
        self.assertEqual(event["requestParameters"]["sAMLAssertionID"], "_assertion-okta-1")
        # a role the assertion does not name, or one that does not trust the provider, is refused
        for target in (other["Arn"],):
            with self.assertRaises(ClientError) as err:
                sts.assume_role_with_saml(RoleArn=target, PrincipalArn=provider,
                                          SAMLAssertion=saml_response(issuer, "jo@example.com", target, provider))
            self.assertEqual(code_of(err.exception), "AccessDenied")
        with self.assertRaises(ClientError) as err:
            sts.assume_role_with_saml(RoleArn=role["Arn"], PrincipalArn=provider,
                                      SAMLAssertion=saml_response(issuer, "jo@example.com", other["Arn"], provider))
        self.assertEqual(code_of(err.exception), "AccessDenied")
        failures = [e for e in lookup(acct, "EventName", "AssumeRoleWithSAML") if e.get("errorCode") == "AccessDenied"]
        self.assertEqual(len(failures), 2)


if __name__ == "__main__":
    unittest.main()
