#!/usr/bin/env python3
"""Seed a running emulator (server.py) with gateaudit's demo organisation.

Usage::

    .venv/bin/python tests/emulator/seed_demo.py --endpoint http://127.0.0.1:PORT \
        --out DIR [--with-unreachable]

Everything goes through the emulator's AWS APIs with boto3.  Administrative
set-up uses the account's root (dummy keys plus the ``x-moto-account-id``
header); approvals are made with each approver's own credentials (IAM user
access keys, or STS sessions of the ReleaseManager role), so the emulator
records who approved.  Region eu-west-1 (and eu-central-1, empty); IAM events are
recorded in us-east-1, as CloudTrail records global services.

Accounts: an AWS Organization with management account 100000000000 (Identity
Center lives there), CI/CD 111111111111 (OU Infrastructure), dev 222222222222
and test 333333333333 (Workloads/NonProd), prod 444444444444 (Workloads/Prod),
and a closed account 666666666666 (listed, not audited). gateaudit.toml lists
only the CI/CD account (read with the auditor's own credentials); the rest is
discovered. With --with-unreachable, sandbox 555555555555 is added outside the
organisation: it has no CICDCrossAccountRole, so AssumeRole is denied.

Planted findings (listed in DIR/expected.json):
  distinct-approvers   execution 2: ReleaseManager approves ApprovalA and
                       ApprovalB under sessions rm-alice and rm-alice-2
  approver-separation  dave is in both ApprovalA and ApprovalB
  approver-separation  ReleaseManager may approve both ProdGate actions
  write-access         mallory (prod) has PowerUserPolicy (NotAction iam/orgs)
  waivers              a waiver of mallory's write access expired yesterday (reported; the finding
                       counts again); a current one marks the records bucket's encryption finding
  out-of-band-change   mallory creates a bucket in prod by hand (10 days ago); the clean counterpart
                       is CICDCrossAccountRole deploying a bucket there
  approval-evidence    no approval record for bob's ApprovalB in execution 1
  approver-reach       group Developers (4 of the 6 CI/CD users) can approve
                       TestGate/TestApproval
  approver-reach       frank may assume ProdApproverA and ProdApproverB, which
                       approve ApprovalA and ApprovalB respectively
  gate-coverage        pipeline infra deploys a CloudFormation stack into prod
                       (action role in 444444444444) without any approval stage
  cross-account-trust  test's CICDCrossAccountRole also trusts 999999999999
  cross-account-trust  prod's CICDCrossAccountRole allows Action * on Resource *
                       (the article's setup; dev and test are scoped)
  evidence-hygiene     the approval-record bucket has no default encryption
  distinct-approvers   execution 5: Identity Center user kim approves ApprovalA and
                       ApprovalB through permission sets ProdApproverA and ProdApproverB
  distinct-approvers   execution 6: role HotfixApprover approves both gates, assumed
                       with two self-chosen sourceIdentity values (alice, bob)
  approver-separation  HotfixApprover may approve both ProdGate actions
  approver-reach       kim is in Identity Center groups ApproversA and ApproversB
  write-access         Identity Center group Engineers (5 people) holds ProdAdministrator
                       in prod
Clean counterparts (people): execution 4 approved by ines and jon through their own
permission sets; ProdReadOnly for Engineers; PipelineOperator's PutApprovalResult on *
neutralised by the SCP ApprovalsOnlyByApprovers.
Clean counterparts: webapp's DeployProd (CodeBuild with ASSUME_ROLE_ARN into
prod after the two-person ProdGate), dev's CICDCrossAccountRole, every trail
(multi-region, logging, validated), the trail bucket (versioned, encrypted,
public access blocked, object lock), the separated approver groups.

Writes DIR/gateaudit.toml, DIR/waivers.toml, DIR/credentials.env, DIR/expected.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import urllib.request
import uuid
from typing import Any

import boto3
from botocore.config import Config

REGION = "eu-west-1"
# The audit also reads a second region where nothing is deployed; neither is us-east-1, where CloudTrail records
# the IAM change planted below (global services are recorded there only).
SECOND_REGION = "eu-central-1"
# S3 wants the region of a bucket created outside us-east-1.
IN_REGION: dict[str, Any] = {"CreateBucketConfiguration": {"LocationConstraint": REGION}}
CICD, DEV, TEST, PROD, SANDBOX = (
    "111111111111", "222222222222", "333333333333", "444444444444", "555555555555")
MGMT = "100000000000"     # the organisation's management account (Organizations and Identity Center live here)
LEGACY = "666666666666"   # a closed member account: listed, not audited
ORG_READER = "GateAuditOrganizationsReader"
VENDOR = "999999999999"  # an outside account, trusted by mistake (not part of the organisation)
ENV_ACCOUNTS = {DEV: "dev", TEST: "test", PROD: "prod"}
TRAIL_BUCKET = f"cloudtrail-logs-{CICD}"
RECORD_BUCKET = f"approval-records-{CICD}"
SOURCE_BUCKET = f"webapp-source-{CICD}"
RECORD_PREFIX = "PipelineApprovalGateActions/"
PIPELINE = "webapp"
INFRA_PIPELINE = "infra"
API_PIPELINE = "api"   # a V2 pipeline with a stage condition, sourced from a connection
API_ARTIFACTS = f"api-artifacts-{CICD}"


def source_stage(key: str, artifact: str) -> dict[str, Any]:
    """The S3 source stage both demo pipelines start with (the repos bucket of the GitHub-to-S3 article)."""
    return {"name": "Source", "actions": [{
        "name": "Source", "runOrder": 1,
        "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
        "configuration": {"S3Bucket": SOURCE_BUCKET, "S3ObjectKey": key, "PollForSourceChanges": "false"},
        "outputArtifacts": [{"name": artifact}]}]}


class Seeder:
    def __init__(self, endpoint: str):
        self.endpoint = endpoint.rstrip("/")
        self.config = Config(retries={"max_attempts": 1, "mode": "standard"})

    # -- plumbing ---------------------------------------------------------

    def client(self, service: str, account: str | None = None,
               creds: dict[str, str] | None = None) -> Any:
        """boto3 client as ``account``'s root, or with the given credentials."""
        if creds is None:
            creds = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        session = boto3.session.Session(region_name=REGION, **creds)
        client = session.client(service, endpoint_url=self.endpoint, config=self.config)
        if account:
            def add_header(request: Any, **_: Any) -> None:
                request.headers["x-moto-account-id"] = account

            client.meta.events.register("before-send", add_header)
        return client

    def control(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.endpoint}/_emulator/{path}", data=json.dumps(payload).encode(),
            method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def set_clock(self, when: dt.datetime) -> None:
        self.control("clock", {"now": when.strftime("%Y-%m-%dT%H:%M:%SZ")})

    @staticmethod
    def keys(response: dict[str, Any]) -> dict[str, str]:
        key = response["AccessKey"]
        return {"aws_access_key_id": key["AccessKeyId"],
                "aws_secret_access_key": key["SecretAccessKey"]}

    # -- IAM helpers ------------------------------------------------------

    @staticmethod
    def doc(*statements: dict[str, Any]) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})

    def user(self, iam: Any, name: str, groups: list[str] = (), key: bool = True) -> dict[str, str] | None:
        iam.create_user(UserName=name)
        for group in groups:
            iam.add_user_to_group(GroupName=group, UserName=name)
        return self.keys(iam.create_access_key(UserName=name)) if key else None

    def managed_policy(self, iam: Any, account: str, name: str, document: str) -> str:
        iam.create_policy(PolicyName=name, PolicyDocument=document)
        return f"arn:aws:iam::{account}:policy/{name}"

    # -- the organisation ---------------------------------------------------

    def seed_buckets_and_trails(self) -> None:
        s3 = self.client("s3", CICD)
        # The evidence buckets are write-once (object lock), versioned and private; the approval-record bucket
        # lacks default encryption (evidence-hygiene's planted finding), the trail bucket is the clean counterpart.
        for bucket in (TRAIL_BUCKET, RECORD_BUCKET):
            s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True, **IN_REGION)
            s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True,
                "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
        # The archive is encrypted with a customer managed key whose (default) policy delegates to the account: only
        # principals whose own policies allow kms:* could make the evidence unreadable, and none does.
        archive_key = self.client("kms", CICD).create_key(
            Description="CloudTrail archive", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["Arn"]
        s3.put_bucket_encryption(Bucket=TRAIL_BUCKET, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                              "KMSMasterKeyID": archive_key},
                       "BucketKeyEnabled": True}]})
        # The pipelines deploy from private, versioned buckets only they write (source-provenance's clean side).
        for bucket in (SOURCE_BUCKET, API_ARTIFACTS):
            s3.create_bucket(Bucket=bucket, **IN_REGION)
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
            s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True,
                "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
        s3.put_bucket_versioning(Bucket=TRAIL_BUCKET,
                                 VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_versioning(Bucket=RECORD_BUCKET,
                                 VersioningConfiguration={"Status": "Enabled"})
        accounts = [MGMT, CICD, DEV, TEST, PROD]
        s3.put_bucket_policy(Bucket=TRAIL_BUCKET, Policy=self.doc(
            {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{TRAIL_BUCKET}"},
            {"Sid": "AWSCloudTrailWrite", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "s3:PutObject",
             "Resource": [f"arn:aws:s3:::{TRAIL_BUCKET}/AWSLogs/{a}/*" for a in accounts],
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}},
        ))
        s3.put_object(Bucket=SOURCE_BUCKET, Key="webapp/source.zip", Body=b"PK\x05\x06" + b"\0" * 18)
        for account in accounts:
            trail = self.client("cloudtrail", account)
            trail.create_trail(Name="management-events", S3BucketName=TRAIL_BUCKET,
                               IsMultiRegionTrail=True, EnableLogFileValidation=True,
                               IncludeGlobalServiceEvents=True)
            trail.start_logging(Name="management-events")
            # The trail covers the second region too (nothing is deployed there): AWS digests it from now on.
            regional = boto3.session.Session(region_name=SECOND_REGION, aws_access_key_id="testing",
                                             aws_secret_access_key="testing").client(
                "cloudtrail", endpoint_url=self.endpoint, config=self.config)
            regional.meta.events.register(
                "before-send", lambda request, account=account, **_: request.headers.__setitem__(
                    "x-moto-account-id", account))
            regional.describe_trails()

    def seed_organization(self) -> None:
        """The organisation, as AWS Organizations has it: the management account invites the (existing) accounts,
        which accept; OUs Infrastructure (CI/CD), Workloads/Prod and Workloads/NonProd; environments from the
        Environment tag (prod is left untagged: its environment comes from the OU-path rule); an SCP that
        lets only approver principals approve in the CI/CD OU; a harmless RCP on the root; a closed account."""
        names = {MGMT: "management", CICD: "cicd", DEV: "dev", TEST: "test", PROD: "prod", LEGACY: "legacy"}
        for account, name in names.items():
            self.control("accounts", {"accountId": account, "name": name, "email": f"{name}@demo.example"})
        org = self.client("organizations", MGMT)
        org.create_organization(FeatureSet="ALL")
        root = org.list_roots()["Roots"][0]["Id"]
        for member in (CICD, DEV, TEST, PROD, LEGACY):
            handshake = org.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": member})["Handshake"]
            self.client("organizations", member).accept_handshake(HandshakeId=handshake["Id"])

        def unit(parent: str, name: str) -> str:
            return org.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"]["Id"]

        infrastructure = unit(root, "Infrastructure")
        workloads = unit(root, "Workloads")
        prod_ou, nonprod_ou = unit(workloads, "Prod"), unit(workloads, "NonProd")
        for account, target in ((CICD, infrastructure), (DEV, nonprod_ou), (TEST, nonprod_ou), (PROD, prod_ou),
                                (LEGACY, nonprod_ou)):
            org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=target)
        for account, environment in ((CICD, "cicd"), (DEV, "dev"), (TEST, "test"), (LEGACY, "dev")):
            org.tag_resource(ResourceId=account, Tags=[{"Key": "Environment", "Value": environment}])
        org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
        org.enable_policy_type(RootId=root, PolicyType="RESOURCE_CONTROL_POLICY")
        # The SCP neutralises PipelineOperator's broad codepipeline:PutApprovalResult on * (a true negative of
        # approver-separation, reported when the SCP is missing from the snapshot).
        scp = org.create_policy(
            Name="ApprovalsOnlyByApprovers", Type="SERVICE_CONTROL_POLICY",
            Description="Only the approver principals may approve pipeline gates",
            Content=self.doc({
                "Sid": "ApprovalsOnlyByApprovers", "Effect": "Deny",
                "Action": "codepipeline:PutApprovalResult", "Resource": "*",
                "Condition": {"ArnNotLike": {"aws:PrincipalArn": [
                    "arn:aws:iam::*:user/*",
                    "arn:aws:iam::*:role/ReleaseManager",
                    "arn:aws:iam::*:role/HotfixApprover",
                    "arn:aws:iam::*:role/ProdApprover*",
                    "arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_ProdApprover*"]}}}))
        org.attach_policy(PolicyId=scp["Policy"]["PolicySummary"]["Id"], TargetId=infrastructure)
        rcp = org.create_policy(
            Name="EvidencePoliciesStay", Type="RESOURCE_CONTROL_POLICY",
            Description="Nobody replaces the evidence buckets' policies",
            Content=self.doc({
                "Sid": "EvidencePoliciesStay", "Effect": "Deny", "Principal": "*",
                "Action": ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"],
                "Resource": [f"arn:aws:s3:::{TRAIL_BUCKET}", f"arn:aws:s3:::{RECORD_BUCKET}"]}))
        org.attach_policy(PolicyId=rcp["Policy"]["PolicySummary"]["Id"], TargetId=root)
        org.close_account(AccountId=LEGACY)
        # The CI/CD account is a delegated administrator for another service: it may read the organisation but not
        # Identity Center (a test audits with it as the organisation account, so that only Identity Center is denied).
        org.register_delegated_administrator(AccountId=CICD, ServicePrincipal="config.amazonaws.com")

        iam = self.client("iam", MGMT)
        trust_cicd = self.doc({"Effect": "Allow", "Action": "sts:AssumeRole",
                               "Principal": {"AWS": f"arn:aws:iam::{CICD}:root"}})
        iam.create_role(RoleName=ORG_READER, AssumeRolePolicyDocument=trust_cicd)
        iam.put_role_policy(RoleName=ORG_READER, PolicyName="ReadOrganizationAndIdentityCenter",
                            PolicyDocument=self.doc({
                                "Effect": "Allow", "Resource": "*",
                                "Action": ["organizations:Describe*", "organizations:List*", "sso:Describe*",
                                           "sso:List*", "sso:GetInlinePolicyForPermissionSet",
                                           "sso:GetPermissionsBoundaryForPermissionSet",
                                           "identitystore:Describe*", "identitystore:List*"]}))
        iam.create_role(RoleName="CICDCrossAccountRole", AssumeRolePolicyDocument=trust_cicd)
        iam.put_role_policy(RoleName="CICDCrossAccountRole", PolicyName="AuditRead", PolicyDocument=self.doc({
            "Effect": "Allow", "Resource": "*",
            "Action": ["iam:Get*", "iam:List*", "cloudtrail:Describe*", "cloudtrail:Get*", "cloudtrail:List*",
                       "cloudtrail:LookupEvents", "codepipeline:Get*", "codepipeline:List*"]}))

    def seed_identity_center(self) -> dict[str, Any]:
        """People through IAM Identity Center: one permission set per production gate (ProdApproverA/B) assigned in
        the CI/CD account to groups ApproversA (ines, kim) and ApproversB (jon, kim), so kim reaches both gates
        (approver-reach) while ines and jon are the clean counterparts; in prod, group Engineers (5 people) holds
        ProdAdministrator (write-access) and ProdReadOnly (clean)."""
        info = self.control("sso/enable", {"accountId": MGMT, "region": REGION})
        instance, store = info["instanceArn"], info["identityStoreId"]
        ids = self.client("identitystore", MGMT)
        sso = self.client("sso-admin", MGMT)
        users = {}
        for name in ("ines", "jon", "kim", "leo", "eng1", "eng2", "eng3", "eng4", "eng5"):
            users[name] = ids.create_user(
                IdentityStoreId=store, UserName=name, DisplayName=name.title(),
                Name={"GivenName": name.title(), "FamilyName": "Demo"},
                Emails=[{"Value": f"{name}@demo.example", "Type": "work", "Primary": True}])["UserId"]

        def group(name: str, members: list[str]) -> str:
            group_id = ids.create_group(IdentityStoreId=store, DisplayName=name)["GroupId"]
            for member in members:
                ids.create_group_membership(IdentityStoreId=store, GroupId=group_id,
                                            MemberId={"UserId": users[member]})
            return group_id

        groups = {"ReleaseOps": group("ReleaseOps", ["leo"]),
                  "ApproversA": group("ApproversA", ["ines", "kim"]),
                  "ApproversB": group("ApproversB", ["jon", "kim"]),
                  "Engineers": group("Engineers", ["eng1", "eng2", "eng3", "eng4", "eng5"])}

        def permission_set(name: str, *statements: dict[str, Any]) -> str:
            arn = sso.create_permission_set(InstanceArn=instance, Name=name, SessionDuration="PT1H")[
                "PermissionSet"]["PermissionSetArn"]
            sso.put_inline_policy_to_permission_set(InstanceArn=instance, PermissionSetArn=arn,
                                                    InlinePolicy=self.doc(*statements))
            return arn

        def assign(set_arn: str, account: str, group_name: str) -> None:
            sso.create_account_assignment(InstanceArn=instance, TargetId=account, TargetType="AWS_ACCOUNT",
                                          PermissionSetArn=set_arn, PrincipalType="GROUP",
                                          PrincipalId=groups[group_name])

        for gate, group_name in (("ApprovalA", "ApproversA"), ("ApprovalB", "ApproversB")):
            arn = permission_set(f"ProdApprover{gate[-1]}", {
                "Effect": "Allow", "Action": "codepipeline:PutApprovalResult",
                "Resource": f"arn:aws:codepipeline:{REGION}:{CICD}:{PIPELINE}/ProdGate/{gate}"})
            assign(arn, CICD, group_name)
        assign(permission_set("ProdAdministrator", {"Effect": "Allow", "Action": "*", "Resource": "*"}),
               PROD, "Engineers")
        # leo (release operations) may override the api pipeline's stage conditions and enter the deployment role:
        # he does both (gate-bypass; out-of-band-change through CICDCrossAccountRole).
        assign(permission_set(
            "ReleaseOps",
            {"Effect": "Allow", "Resource": f"arn:aws:codepipeline:{REGION}:{CICD}:{API_PIPELINE}",
             "Action": ["codepipeline:GetPipeline", "codepipeline:GetPipelineState",
                        "codepipeline:ListPipelineExecutions", "codepipeline:OverrideStageCondition"]},
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/CICDCrossAccountRole"}),
            CICD, "ReleaseOps")
        assign(permission_set("ProdReadOnly", {
            "Effect": "Allow", "Resource": "*",
            "Action": ["cloudformation:Describe*", "cloudformation:List*", "ec2:Describe*", "logs:Get*",
                       "s3:List*", "s3:Get*", "codepipeline:Get*", "codepipeline:List*"]}), PROD, "Engineers")
        admin_role = next(r for r in self.client("iam", PROD).list_roles()["Roles"]
                          if r["RoleName"].startswith("AWSReservedSSO_ProdAdministrator_"))
        ops_role = next(r for r in self.client("iam", CICD).list_roles()["Roles"]
                        if r["RoleName"].startswith("AWSReservedSSO_ReleaseOps_"))
        return {"instance": instance, "store": store, "users": users, "admin_role": admin_role["Arn"],
                "ops_role": ops_role["Arn"]}

    def as_codebuild(self, account: str) -> dict[str, str]:
        """Credentials of a deployment as CodeBuild runs it: the service assumes CodeBuildServiceRole, whose session
        assumes the account's CICDCrossAccountRole (both AssumeRole calls recorded as AWS records them)."""
        build = self.control("service-session", {
            "service": "codebuild.amazonaws.com", "roleArn": f"arn:aws:iam::{CICD}:role/CodeBuildServiceRole",
            "sourceAccount": CICD,
            "sourceArn": f"arn:aws:codebuild:{REGION}:{CICD}:build/webapp-deploy-prod:{uuid.uuid4()}"})
        c = build["credentials"]
        as_build = {"aws_access_key_id": c["accessKeyId"], "aws_secret_access_key": c["secretAccessKey"],
                    "aws_session_token": c["sessionToken"]}
        d = self.client("sts", creds=as_build).assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/CICDCrossAccountRole",
            RoleSessionName="codebuild-deploy")["Credentials"]
        return {"aws_access_key_id": d["AccessKeyId"], "aws_secret_access_key": d["SecretAccessKey"],
                "aws_session_token": d["SessionToken"]}

    def sso_credentials(self, store: str, user: str, permission_set: str, account: str) -> dict[str, str]:
        """Signs in as an Identity Center user and takes the permission set's role credentials in the account."""
        token = self.control("sso/sign-in", {"identityStoreId": store, "userName": user})["accessToken"]
        portal = boto3.session.Session(region_name=REGION).client(
            "sso", endpoint_url=self.endpoint, config=self.config)
        c = portal.get_role_credentials(roleName=permission_set, accountId=account,
                                        accessToken=token)["roleCredentials"]
        return {"aws_access_key_id": c["accessKeyId"], "aws_secret_access_key": c["secretAccessKey"],
                "aws_session_token": c["sessionToken"]}

    def seed_environment_account(self, account: str) -> dict[str, str]:
        iam = self.client("iam", account)
        # The test account's role also trusts a vendor account (cross-account-trust's planted finding).
        trusted = [f"arn:aws:iam::{CICD}:root"] + ([f"arn:aws:iam::{VENDOR}:root"] if account == TEST else [])
        iam.create_role(
            RoleName="CICDCrossAccountRole", Path="/",
            AssumeRolePolicyDocument=self.doc({
                "Effect": "Allow", "Action": ["sts:AssumeRole"],
                "Principal": {"AWS": trusted if len(trusted) > 1 else trusted[0]}}))
        # Prod keeps the cross-account article's `Action: "*"` (reported for scoping); dev and test are scoped to
        # what the pipeline deploys and what the auditor reads.
        access = ({"Effect": "Allow", "Action": "*", "Resource": "*"} if account == PROD else
                  {"Effect": "Allow", "Resource": "*",
                   "Action": ["cloudformation:*", "s3:*", "codedeploy:*", "ecs:*", "iam:Get*", "iam:List*",
                              "iam:PassRole", "cloudtrail:Describe*", "cloudtrail:Get*", "cloudtrail:List*",
                              "cloudtrail:LookupEvents", "codepipeline:Get*", "codepipeline:List*"]})
        iam.put_role_policy(RoleName="CICDCrossAccountRole", PolicyName="CICDCrossAccountAccess",
                            PolicyDocument=self.doc(access))
        read_only = self.managed_policy(iam, account, "ReadOnlyAccess", self.doc({
            "Effect": "Allow", "Resource": "*",
            # Read-only by AWS's own access levels (a blanket "*:Get*" would grant actions AWS classes as Write,
            # such as redshift:GetClusterCredentials, which gateaudit rightly reports).
            "Action": ["cloudformation:Describe*", "cloudformation:List*", "cloudformation:Get*", "codepipeline:Get*",
                       "codepipeline:List*", "ec2:Describe*", "logs:Describe*", "logs:Get*", "s3:List*", "s3:Get*",
                       "cloudwatch:Get*", "cloudwatch:List*", "cloudwatch:Describe*", "iam:Get*", "iam:List*"]}))
        iam.create_group(GroupName="Engineers")
        iam.attach_group_policy(GroupName="Engineers", PolicyArn=read_only)
        iam.create_group(GroupName="Operators")
        iam.put_group_policy(GroupName="Operators", PolicyName="OperatorsAccess", PolicyDocument=self.doc({
            "Effect": "Allow",
            "Action": ["ec2:StartInstances", "ec2:StopInstances", "ec2:RebootInstances",
                       "cloudfront:CreateInvalidation", "codepipeline:StartPipelineExecution",
                       "codepipeline:RetryStageExecution"],
            "Resource": "*"}))
        self.user(iam, "erin", ["Engineers"])
        self.user(iam, "oscar", ["Operators"])
        keys: dict[str, str] = {}
        if account == PROD:
            power = self.managed_policy(iam, account, "PowerUserPolicy", self.doc({
                "Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}))
            keys = self.user(iam, "mallory") or {}
            iam.create_login_profile(UserName="mallory", Password="Tr0ub4dor&3-mallory",
                                     PasswordResetRequired=False)
            iam.attach_user_policy(UserName="mallory", PolicyArn=power)
            iam.put_user_policy(UserName="mallory", PolicyName="HotfixPolicies", PolicyDocument=self.doc({
                "Effect": "Allow", "Action": "iam:CreatePolicy", "Resource": "*"}))
        return keys

    def seed_cicd_iam(self) -> dict[str, dict[str, str]]:
        iam = self.client("iam", CICD)
        creds: dict[str, dict[str, str]] = {}
        auditor = self.managed_policy(iam, CICD, "GateAuditReadOnly", self.doc(
            {"Sid": "ReadIam", "Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"},
            {"Sid": "ReadPipelines", "Effect": "Allow",
             "Action": ["codepipeline:Get*", "codepipeline:List*"], "Resource": "*"},
            {"Sid": "ReadTrails", "Effect": "Allow",
             "Action": ["cloudtrail:Describe*", "cloudtrail:Get*", "cloudtrail:List*",
                        "cloudtrail:LookupEvents"], "Resource": "*"},
            {"Sid": "ReadEvidence", "Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"},
            {"Sid": "ReadEvidenceKeys", "Effect": "Allow", "Action": ["kms:DescribeKey", "kms:GetKeyPolicy"],
             "Resource": "*"},
            {"Sid": "ReadProviders", "Effect": "Allow",
             "Action": ["iam:ListSAMLProviders", "iam:ListOpenIDConnectProviders"], "Resource": "*"},
            {"Sid": "EnterAccounts", "Effect": "Allow", "Action": "sts:AssumeRole",
             "Resource": ["arn:aws:iam::*:role/CICDCrossAccountRole",
                          f"arn:aws:iam::{MGMT}:role/{ORG_READER}"]}))
        creds["gateaudit-auditor"] = self.user(iam, "gateaudit-auditor")
        iam.attach_user_policy(UserName="gateaudit-auditor", PolicyArn=auditor)

        iam.create_role(RoleName="CodePipelineServiceRole", AssumeRolePolicyDocument=self.doc({
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"Service": "codepipeline.amazonaws.com"}}))
        iam.put_role_policy(RoleName="CodePipelineServiceRole", PolicyName="CodePipelineAccess",
                            PolicyDocument=self.doc({
                                "Effect": "Allow",
                                "Action": ["s3:*", "codebuild:BatchGetBuilds", "codebuild:StartBuild",
                                           "sns:Publish"], "Resource": "*"}))
        iam.create_role(RoleName="CodeBuildServiceRole", AssumeRolePolicyDocument=self.doc({
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"Service": "codebuild.amazonaws.com"}}))
        iam.put_role_policy(RoleName="CodeBuildServiceRole", PolicyName="CodeBuildAccess",
                            PolicyDocument=self.doc(
                                {"Effect": "Allow", "Action": ["s3:*", "logs:*"], "Resource": "*"},
                                {"Effect": "Allow", "Action": "sts:AssumeRole",
                                 "Resource": "arn:aws:iam::*:role/CICDCrossAccountRole"}))

        def approval_group(name: str, resource: str) -> None:
            iam.create_group(GroupName=name)
            iam.put_group_policy(GroupName=name, PolicyName=f"{name}Approve", PolicyDocument=self.doc({
                "Effect": "Allow", "Action": "codepipeline:PutApprovalResult", "Resource": resource}))

        approval_group("ApprovalA", f"arn:aws:codepipeline:{REGION}:{CICD}:*/*/ApprovalA")
        approval_group("ApprovalB", f"arn:aws:codepipeline:{REGION}:{CICD}:*/*/ApprovalB")
        approval_group("TestApprovers", f"arn:aws:codepipeline:{REGION}:{CICD}:*/TestGate/*")
        # Test approvers may also start webapp executions (carol starts one and approves it: self-approval).
        iam.put_group_policy(GroupName="TestApprovers", PolicyName="StartWebapp", PolicyDocument=self.doc({
            "Effect": "Allow", "Action": "codepipeline:StartPipelineExecution",
            "Resource": f"arn:aws:codepipeline:{REGION}:{CICD}:{PIPELINE}"}))
        creds["alice"] = self.user(iam, "alice", ["ApprovalA"])
        creds["bob"] = self.user(iam, "bob", ["ApprovalB"])
        creds["carol"] = self.user(iam, "carol", ["TestApprovers"])
        creds["dave"] = self.user(iam, "dave", ["ApprovalA", "ApprovalB"])
        # A broad group: 4 of the account's 6 users can approve the test gate (approver-reach).
        approval_group("Developers", f"arn:aws:codepipeline:{REGION}:{CICD}:{PIPELINE}/TestGate/*")
        for name in ("alice", "bob", "carol", "dave"):
            iam.add_user_to_group(GroupName="Developers", UserName=name)

        # One role per production gate, each approving one action only (no approver-separation finding), and
        # frank, who may assume both (approver-reach).
        for gate in ("ApprovalA", "ApprovalB"):
            role = f"ProdApprover{gate[-1]}"
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=self.doc({
                "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": f"arn:aws:iam::{CICD}:root"}}))
            iam.put_role_policy(RoleName=role, PolicyName=f"Approve{gate}", PolicyDocument=self.doc({
                "Effect": "Allow", "Action": "codepipeline:PutApprovalResult",
                "Resource": f"arn:aws:codepipeline:{REGION}:{CICD}:{PIPELINE}/ProdGate/{gate}"}))
        creds["frank"] = self.user(iam, "frank")
        iam.put_user_policy(UserName="frank", PolicyName="EnterApproverRoles", PolicyDocument=self.doc({
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Resource": [f"arn:aws:iam::{CICD}:role/ProdApproverA", f"arn:aws:iam::{CICD}:role/ProdApproverB"]}))

        # ReleaseManager and HotfixApprover may each approve both production gates (approver-separation); their
        # trust lets the caller choose a sourceIdentity (sts:SetSourceIdentity without a pin), so two values are
        # still one approver (distinct-approvers).
        for role in ("ReleaseManager", "HotfixApprover"):
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=self.doc({
                "Effect": "Allow", "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                "Principal": {"AWS": f"arn:aws:iam::{CICD}:root"}}))
            iam.put_role_policy(RoleName=role, PolicyName="ApproveProduction",
                                PolicyDocument=self.doc({
                                    "Effect": "Allow", "Action": "codepipeline:PutApprovalResult",
                                    "Resource": f"arn:aws:codepipeline:{REGION}:{CICD}:{PIPELINE}/ProdGate/*"}))
        iam.put_user_policy(UserName="alice", PolicyName="EnterReleaseRoles", PolicyDocument=self.doc({
            "Effect": "Allow", "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
            "Resource": [f"arn:aws:iam::{CICD}:role/ReleaseManager", f"arn:aws:iam::{CICD}:role/HotfixApprover"]}))
        # victor maintains the webapp pipeline: he can rewrite it (gate-bypass, write-access), and does.
        creds["victor"] = self.user(iam, "victor")
        iam.put_user_policy(UserName="victor", PolicyName="MaintainWebapp", PolicyDocument=self.doc({
            "Effect": "Allow",
            "Action": ["codepipeline:GetPipeline", "codepipeline:UpdatePipeline", "codepipeline:StartPipelineExecution"],
            "Resource": f"arn:aws:codepipeline:{REGION}:{CICD}:{PIPELINE}"}))
        # A broad identity-policy allow that the organisation's SCP neutralises (a true negative).
        iam.create_role(RoleName="PipelineOperator", AssumeRolePolicyDocument=self.doc({
            "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": f"arn:aws:iam::{CICD}:root"}}))
        iam.put_role_policy(RoleName="PipelineOperator", PolicyName="OperatePipelines", PolicyDocument=self.doc({
            "Effect": "Allow", "Resource": "*",
            "Action": ["codepipeline:PutApprovalResult", "codepipeline:Get*", "codepipeline:List*"]}))
        return creds

    def seed_pipeline(self) -> None:
        def build(name: str, project: str, inputs: list[str], outputs: list[str] = (),
                  env: list[dict[str, str]] | None = None) -> dict[str, Any]:
            config = {"ProjectName": project}
            if env is not None:
                config["EnvironmentVariables"] = json.dumps(env)
            return {"name": name, "runOrder": 1, "configuration": config,
                    "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild",
                                     "version": "1"},
                    "inputArtifacts": [{"name": n} for n in inputs],
                    "outputArtifacts": [{"name": n} for n in outputs]}

        def deploy(env_name: str, account: str) -> dict[str, Any]:
            return build(f"Deploy{env_name.capitalize()}", f"webapp-deploy-{env_name}", ["BuildOutput"],
                         env=[{"name": "ASSUME_ROLE_ARN", "type": "PLAINTEXT",
                               "value": f"arn:aws:iam::{account}:role/CICDCrossAccountRole"},
                              {"name": "ENVIRONMENT", "type": "PLAINTEXT", "value": env_name}])

        def approval(name: str, info: str) -> dict[str, Any]:
            return {"name": name, "runOrder": 1,
                    "actionTypeId": {"category": "Approval", "owner": "AWS", "provider": "Manual",
                                     "version": "1"},
                    "configuration": {"CustomData": info}}

        pipeline = {
            "name": PIPELINE,
            "roleArn": f"arn:aws:iam::{CICD}:role/CodePipelineServiceRole",
            "artifactStore": {"type": "S3", "location": SOURCE_BUCKET},
            "stages": [
                source_stage("webapp/source.zip", "SourceOutput"),
                {"name": "Build", "actions": [build("Build_and_Test", "webapp-build", ["SourceOutput"],
                                                    ["BuildOutput"])]},
                {"name": "DeployDev", "actions": [deploy("dev", DEV)]},
                {"name": "TestGate", "actions": [approval("TestApproval",
                                                          "Approve the release for the test environment")]},
                {"name": "DeployTest", "actions": [deploy("test", TEST)]},
                {"name": "ProdGate", "actions": [
                    approval("ApprovalA", "Two-person rule: first production approver"),
                    approval("ApprovalB", "Two-person rule: second production approver")]},
                {"name": "DeployProd", "actions": [deploy("prod", PROD)]},
            ],
            "version": 1,
        }
        self.client("codepipeline", CICD).create_pipeline(pipeline=pipeline)

        # infra: deploys a CloudFormation stack straight into prod, with no approval stage (gate-coverage).
        prod_role = f"arn:aws:iam::{PROD}:role/CICDCrossAccountRole"
        infra = {
            "name": INFRA_PIPELINE,
            "roleArn": f"arn:aws:iam::{CICD}:role/CodePipelineServiceRole",
            "artifactStore": {"type": "S3", "location": SOURCE_BUCKET},
            "stages": [
                source_stage("infra/template.zip", "Template"),
                {"name": "DeployProd", "actions": [{
                    "name": "CreateStack", "runOrder": 1,
                    "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "CloudFormation",
                                     "version": "1"},
                    "roleArn": prod_role,
                    "configuration": {"ActionMode": "CREATE_UPDATE", "StackName": "network",
                                      "TemplatePath": "Template::network.yaml", "RoleArn": prod_role,
                                      "Capabilities": "CAPABILITY_NAMED_IAM"},
                    "inputArtifacts": [{"name": "Template"}]}]},
            ],
            "version": 1,
        }
        self.client("codepipeline", CICD).create_pipeline(pipeline=infra)

        # api: a V2 pipeline from a CodeStar connection (on a feature branch: source-provenance), two-person gate,
        # and a beforeEntry condition on the production stage that needs a change ticket (overridden once).
        api = {
            "name": API_PIPELINE,
            "pipelineType": "V2",
            "executionMode": "SUPERSEDED",
            "roleArn": f"arn:aws:iam::{CICD}:role/CodePipelineServiceRole",
            "artifactStore": {"type": "S3", "location": API_ARTIFACTS},
            "variables": [{"name": "CHANGE_TICKET", "defaultValue": "none",
                           "description": "the change ticket this deployment implements"}],
            "stages": [
                {"name": "Source", "actions": [{
                    "name": "Source", "runOrder": 1,
                    "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "CodeStarSourceConnection",
                                     "version": "1"},
                    "configuration": {
                        "ConnectionArn": f"arn:aws:codeconnections:{REGION}:{CICD}:connection/0f1e2d3c-demo",
                        "FullRepositoryId": "demo-corp/api", "BranchName": "feature/hotfix",
                        "OutputArtifactFormat": "CODE_ZIP"},
                    "outputArtifacts": [{"name": "Source"}]}]},
                {"name": "Build", "actions": [build("Build", "api-build", ["Source"], ["Built"])]},
                {"name": "ProdGate", "actions": [
                    approval("ApprovalA", "Two-person rule: first production approver"),
                    approval("ApprovalB", "Two-person rule: second production approver")]},
                {"name": "DeployProd",
                 "beforeEntry": {"conditions": [{"result": "FAIL", "rules": [{
                     "name": "ChangeTicket",
                     "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": "VariableCheck", "version": "1"},
                     "configuration": {"Variable": "#{variables.CHANGE_TICKET}", "Value": "CHG-[0-9]+",
                                       "Operator": "MATCHES"}}]}]},
                 "actions": [build("DeployProd", "api-deploy-prod", ["Built"],
                                   env=[{"name": "ASSUME_ROLE_ARN", "type": "PLAINTEXT",
                                         "value": f"arn:aws:iam::{PROD}:role/CICDCrossAccountRole"}])]},
            ],
        }
        self.client("codepipeline", CICD).create_pipeline(pipeline=api)

    # -- executions and approvals -------------------------------------------

    def token(self, stage: str, action: str, pipeline: str = PIPELINE) -> str:
        state = self.client("codepipeline", CICD).get_pipeline_state(name=pipeline)
        for stage_state in state["stageStates"]:
            if stage_state["stageName"] != stage:
                continue
            for action_state in stage_state["actionStates"]:
                if action_state["actionName"] == action:
                    latest = action_state.get("latestExecution") or {}
                    if latest.get("status") == "InProgress" and latest.get("token"):
                        return latest["token"]
        raise RuntimeError(f"no pending approval for {stage}/{action}")

    def approve(self, creds: dict[str, str], execution_id: str, stage: str, action: str,
                status: str, summary: str, write_record: bool = True,
                pipeline: str = PIPELINE) -> dict[str, Any]:
        token = self.token(stage, action, pipeline)
        cp = self.client("codepipeline", creds=creds)
        response = cp.put_approval_result(pipelineName=pipeline, stageName=stage, actionName=action,
                                          result={"summary": summary, "status": status}, token=token)
        approved_at = response["approvedAt"].astimezone(dt.timezone.utc)
        caller = self.client("sts", creds=creds).get_caller_identity()["Arn"]
        event = self.find_event(token)
        approval = {"pipeline": pipeline, "stage": stage, "action": action, "status": status, "summary": summary,
                    "approver": caller, "execution_id": execution_id, "token": token,
                    "approved_at": approved_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "event_id": event.get("eventID"), "record_key": None}
        if write_record:
            approval["record_key"] = self.write_record(approval, event, approved_at)
        self.approvals.append(approval)
        return approval

    def find_event(self, token: str) -> dict[str, Any]:
        ct = self.client("cloudtrail", CICD)
        pages = ct.get_paginator("lookup_events").paginate(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "PutApprovalResult"}])
        for page in pages:
            for event in page["Events"]:
                record = json.loads(event["CloudTrailEvent"])
                if (record.get("requestParameters") or {}).get("token") == token:
                    return record
        return {}

    def write_record(self, approval: dict[str, Any], event: dict[str, Any], when: dt.datetime) -> str:
        """What the approval-gate-tracking Lambda writes for one PutApprovalResult."""
        verdict = "APPROVED" if approval["status"] == "Approved" else "REJECTED"
        key = (f"{RECORD_PREFIX}{approval['pipeline']}/{when:%Y/%m/%d}/"
               f"{approval['action']}-{verdict}-{when:%I:%M:%S-%p}.txt")
        body = {
            "pipelineName": approval["pipeline"],
            "stageName": approval["stage"],
            "actionName": approval["action"],
            "status": approval["status"],
            "summary": approval["summary"],
            "approver": approval["approver"],
            "userIdentity": event.get("userIdentity"),
            "pipelineExecutionId": approval["execution_id"],
            "eventID": event.get("eventID"),
            "eventTime": event.get("eventTime"),
            "token": approval["token"],
        }
        self.client("s3", CICD).put_object(Bucket=RECORD_BUCKET, Key=key,
                                           Body=json.dumps(body, indent=2).encode(),
                                           ContentType="text/plain")
        return key

    def run(self, out: str, with_unreachable: bool) -> dict[str, Any]:
        self.approvals: list[dict[str, Any]] = []
        today = dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        at = lambda days, hh, mm: today - dt.timedelta(days=days) + dt.timedelta(hours=hh, minutes=mm)

        # The organisation is built before the audit period (the default is the last 90 days), so the only
        # changes inside the period are the pipeline's and the planted out-of-band one.
        self.set_clock(at(120, 9, 0))
        self.seed_organization()
        self.seed_buckets_and_trails()
        env_keys = {}
        for account in ENV_ACCOUNTS:
            env_keys[account] = self.seed_environment_account(account)
        creds = self.seed_cicd_iam()
        self.seed_pipeline()
        people = self.seed_identity_center()
        sts = self.client("sts", creds=creds["alice"])

        def assumed(role: str, session: str, source_identity: str | None = None) -> dict[str, str]:
            extra = {"SourceIdentity": source_identity} if source_identity else {}
            c = sts.assume_role(RoleArn=f"arn:aws:iam::{CICD}:role/{role}", RoleSessionName=session,
                                **extra)["Credentials"]
            return {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
                    "aws_session_token": c["SessionToken"]}

        def release_manager(session: str) -> dict[str, str]:
            return assumed("ReleaseManager", session)

        cp = self.client("codepipeline", CICD)
        executions: dict[str, str] = {}

        # execution 1: clean two-person approval (bob's record goes missing)
        self.set_clock(at(21, 9, 30))
        ex1 = cp.start_pipeline_execution(name=PIPELINE)["pipelineExecutionId"]
        self.set_clock(at(21, 10, 5))
        self.approve(creds["carol"], ex1, "TestGate", "TestApproval", "Approved",
                     "Change CHG-1042: test deployment reviewed, unit and integration tests green")
        self.set_clock(at(21, 14, 20))
        self.approve(creds["alice"], ex1, "ProdGate", "ApprovalA", "Approved",
                     "Change CHG-1042 reviewed, tests green, rollback plan attached")
        self.set_clock(at(21, 15, 45))
        self.approve(creds["bob"], ex1, "ProdGate", "ApprovalB", "Approved",
                     "Change CHG-1042 second review: release notes and CAB approval checked",
                     write_record=False)
        executions["clean"] = ex1

        # execution 2: one principal approves both production gates
        self.set_clock(at(14, 9, 15))
        ex2 = cp.start_pipeline_execution(name=PIPELINE)["pipelineExecutionId"]
        self.set_clock(at(14, 10, 40))
        self.approve(creds["carol"], ex2, "TestGate", "TestApproval", "Approved",
                     "Change CHG-1057: test deployment verified, smoke tests pass")
        self.set_clock(at(14, 16, 2))
        self.approve(release_manager("rm-alice"), ex2, "ProdGate", "ApprovalA", "Approved",
                     "Change CHG-1057 urgent hotfix, approving")
        self.set_clock(at(14, 16, 4))
        self.approve(release_manager("rm-alice-2"), ex2, "ProdGate", "ApprovalB", "Approved",
                     "Change CHG-1057 urgent hotfix, second approval")
        executions["violation"] = ex2

        # execution 3: rejected at the test gate
        self.set_clock(at(7, 11, 0))
        ex3 = cp.start_pipeline_execution(name=PIPELINE)["pipelineExecutionId"]
        self.set_clock(at(7, 13, 30))
        self.approve(creds["carol"], ex3, "TestGate", "TestApproval", "Rejected",
                     "Change CHG-1063 rejected: integration tests failing on checkout flow")
        executions["rejected"] = ex3

        # execution 4: Identity Center people approve through their own permission sets (clean)
        store = people["store"]
        self.set_clock(at(12, 9, 0))
        ex4 = cp.start_pipeline_execution(name=PIPELINE)["pipelineExecutionId"]
        self.set_clock(at(12, 9, 40))
        self.approve(creds["carol"], ex4, "TestGate", "TestApproval", "Approved",
                     "Change CHG-1071: test deployment checked, regression suite green")
        self.set_clock(at(12, 11, 15))
        self.approve(self.sso_credentials(store, "ines", "ProdApproverA", CICD), ex4, "ProdGate", "ApprovalA",
                     "Approved", "Change CHG-1071 reviewed: diff, tests and rollback plan")
        self.set_clock(at(12, 13, 5))
        self.approve(self.sso_credentials(store, "jon", "ProdApproverB", CICD), ex4, "ProdGate", "ApprovalB",
                     "Approved", "Change CHG-1071 second review: CAB ticket and release notes")
        executions["identity_center_clean"] = ex4

        # execution 5: one Identity Center user approves both gates through two permission-set roles
        self.set_clock(at(9, 10, 0))
        ex5 = cp.start_pipeline_execution(name=PIPELINE)["pipelineExecutionId"]
        self.set_clock(at(9, 10, 30))
        self.approve(creds["carol"], ex5, "TestGate", "TestApproval", "Approved",
                     "Change CHG-1080: test deployment verified")
        self.set_clock(at(9, 15, 10))
        self.approve(self.sso_credentials(store, "kim", "ProdApproverA", CICD), ex5, "ProdGate", "ApprovalA",
                     "Approved", "Change CHG-1080 reviewed")
        self.set_clock(at(9, 15, 12))
        self.approve(self.sso_credentials(store, "kim", "ProdApproverB", CICD), ex5, "ProdGate", "ApprovalB",
                     "Approved", "Change CHG-1080 second approval")
        executions["identity_center_violation"] = ex5

        # execution 6: one role, two self-chosen sourceIdentity values, both gates
        self.set_clock(at(5, 9, 30))
        ex6 = cp.start_pipeline_execution(name=PIPELINE)["pipelineExecutionId"]
        self.set_clock(at(5, 10, 0))
        self.approve(creds["carol"], ex6, "TestGate", "TestApproval", "Approved",
                     "Change CHG-1088: test deployment verified")
        self.set_clock(at(5, 16, 40))
        self.approve(assumed("HotfixApprover", "hotfix-1", "alice"), ex6, "ProdGate", "ApprovalA", "Approved",
                     "Change CHG-1088 hotfix, first approval")
        self.set_clock(at(5, 16, 42))
        self.approve(assumed("HotfixApprover", "hotfix-2", "bob"), ex6, "ProdGate", "ApprovalB", "Approved",
                     "Change CHG-1088 hotfix, second approval")
        executions["source_identity_violation"] = ex6

        # Changes in prod: mallory creates a bucket by hand (the planted out-of-band change); the pipeline's
        # cross-account role deploys one (a deployment, not a finding).
        self.set_clock(at(10, 17, 45))
        self.client("s3", creds=env_keys[PROD]).create_bucket(
            Bucket=f"hotfix-{PROD}", **IN_REGION)
        # ... and an IAM policy, signed for eu-west-1 but recorded in us-east-1 (a region the audit does not list)
        self.set_clock(at(10, 17, 50))
        self.client("iam", creds=env_keys[PROD]).create_policy(
            PolicyName="hotfix-bucket-access", PolicyDocument=self.doc({
                "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::hotfix-{PROD}/*"}))
        self.set_clock(at(10, 18, 5))
        # The pipeline's deployment, as CodeBuild runs it: the service takes its service role, whose session assumes
        # the cross-account role (AssumeRole recorded in both accounts); the change traces back to the service.
        self.client("s3", creds=self.as_codebuild(PROD)).create_bucket(Bucket=f"webapp-assets-{PROD}", **IN_REGION)
        # leo (Identity Center) enters the same deployment role by hand and changes prod: out-of-band.
        self.set_clock(at(8, 22, 10))
        leo_ops = self.sso_credentials(store, "leo", "ReleaseOps", CICD)
        c = self.client("sts", creds=leo_ops).assume_role(
            RoleArn=f"arn:aws:iam::{PROD}:role/CICDCrossAccountRole", RoleSessionName="leo")["Credentials"]
        by_hand = {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
                   "aws_session_token": c["SessionToken"]}
        self.client("s3", creds=by_hand).create_bucket(Bucket=f"manual-fix-{PROD}", **IN_REGION)

        # execution 7: carol starts an execution and approves its test gate (self-approval)
        self.set_clock(at(4, 9, 0))
        ex7 = self.client("codepipeline", creds=creds["carol"]).start_pipeline_execution(
            name=PIPELINE)["pipelineExecutionId"]
        self.set_clock(at(4, 9, 20))
        self.approve(creds["carol"], ex7, "TestGate", "TestApproval", "Approved",
                     "Change CHG-1094: test deployment checked")
        self.set_clock(at(4, 11, 0))
        self.approve(creds["alice"], ex7, "ProdGate", "ApprovalA", "Approved", "Change CHG-1094 reviewed")
        self.set_clock(at(4, 11, 30))
        self.approve(creds["bob"], ex7, "ProdGate", "ApprovalB", "Approved", "Change CHG-1094 second review")
        executions["self_approved"] = ex7

        # execution 8: victor removes the production gate, lets an execution deploy, and restores the gate
        victor_cp = self.client("codepipeline", creds=creds["victor"])
        self.set_clock(at(3, 19, 0))
        declared = victor_cp.get_pipeline(name=PIPELINE)["pipeline"]
        ungated = dict(declared, stages=[s for s in declared["stages"] if s["name"] != "ProdGate"])
        victor_cp.update_pipeline(pipeline=ungated)
        self.set_clock(at(3, 19, 5))
        ex8 = victor_cp.start_pipeline_execution(name=PIPELINE)["pipelineExecutionId"]
        self.set_clock(at(3, 19, 20))
        self.approve(creds["carol"], ex8, "TestGate", "TestApproval", "Approved",
                     "Change CHG-1097: test deployment verified")
        self.set_clock(at(3, 20, 30))
        restored = victor_cp.get_pipeline(name=PIPELINE)["pipeline"]
        victor_cp.update_pipeline(pipeline=dict(declared, version=restored["version"]))
        executions["gate_removed"] = ex8

        # api executions: one with its change ticket (the condition passes: clean), one without, let through by leo
        for days, ticket, key in ((2, "CHG-1300", "api_clean"), (1, None, "api_overridden")):
            self.set_clock(at(days, 10, 0))
            extra = {"variables": [{"name": "CHANGE_TICKET", "value": ticket}]} if ticket else {}
            ex = cp.start_pipeline_execution(name=API_PIPELINE, **extra)["pipelineExecutionId"]
            self.set_clock(at(days, 11, 0))
            self.approve(creds["alice"], ex, "ProdGate", "ApprovalA", "Approved",
                         f"{ticket or 'Emergency fix'}: api release reviewed", pipeline=API_PIPELINE)
            self.set_clock(at(days, 11, 20))
            self.approve(creds["bob"], ex, "ProdGate", "ApprovalB", "Approved",
                         f"{ticket or 'Emergency fix'}: api release second review", pipeline=API_PIPELINE)
            if not ticket:
                self.set_clock(at(days, 11, 40))
                self.client("codepipeline", creds=leo_ops).override_stage_condition(
                    pipelineName=API_PIPELINE, stageName="DeployProd", pipelineExecutionId=ex,
                    conditionType="BEFORE_ENTRY")
            executions[key] = ex

        self.control("flush-trails", {})
        self.control("clock", {"reset": True})
        self.control("flush-trails", {})

        for pipeline, execution_id, expected in (
                (PIPELINE, ex1, "Succeeded"), (PIPELINE, ex2, "Succeeded"), (PIPELINE, ex3, "Failed"),
                (PIPELINE, ex4, "Succeeded"), (PIPELINE, ex5, "Succeeded"), (PIPELINE, ex6, "Succeeded"),
                (PIPELINE, ex7, "Succeeded"), (PIPELINE, ex8, "Succeeded"),
                (API_PIPELINE, executions["api_clean"], "Succeeded"),
                (API_PIPELINE, executions["api_overridden"], "Succeeded")):
            status = cp.get_pipeline_execution(pipelineName=pipeline,
                                               pipelineExecutionId=execution_id)["pipelineExecution"]["status"]
            if status != expected:
                raise RuntimeError(f"execution {execution_id} is {status}, expected {expected}")

        os.makedirs(out, exist_ok=True)
        self.write_outputs(out, creds["gateaudit-auditor"], executions, with_unreachable, people)
        return {"executions": executions, "approvals": len(self.approvals)}

    # -- outputs ------------------------------------------------------------

    def write_outputs(self, out: str, auditor: dict[str, str], executions: dict[str, str],
                      with_unreachable: bool, people: dict[str, Any]) -> None:
        # The accounts come from the organisation; only the CI/CD account is listed, to read it with the auditor's
        # own credentials (and, with --with-unreachable, an account outside the organisation).
        accounts = [(CICD, "cicd", "cicd")]
        if with_unreachable:
            accounts.append((SANDBOX, "sandbox", "dev"))
        lines = [
            'organisation = "Demo Corp (emulated)"',
            f'cicd_account = "{CICD}"',
            f'regions = ["{REGION}", "{SECOND_REGION}"]',
            'role_name = "CICDCrossAccountRole"',
            'session_name = "gateaudit"',
            f'endpoint_url = "{self.endpoint}"',
            'policy = "policies/default.toml"',
            f'deployment_roles = ["arn:aws:iam::{CICD}:role/CodeBuildServiceRole"]',
            'waivers = "waivers.toml"',
        ]
        lines += [
            "[organization]",
            f'account = "{MGMT}"',
            f'role_name = "{ORG_READER}"',
            f'identity_center_region = "{REGION}"',
            "[[organization.environment_rules]]",
            'tag_key = "Environment"',
            "[[organization.environment_rules]]",
            'ou_path = "Root/Workloads/Prod"',
            'environment = "prod"',
            "[[organization.environment_rules]]",
            'account_name = "management"',
            'environment = "management"',
        ]
        for account_id, name, environment in accounts:
            lines += ["[[accounts]]", f'id = "{account_id}"', f'name = "{name}"',
                      f'environment = "{environment}"']
            if account_id == CICD:
                lines.append("use_base_credentials = true")
        lines += ["[[approval_record_buckets]]", f'account = "{CICD}"', f'bucket = "{RECORD_BUCKET}"',
                  f'prefix = "{RECORD_PREFIX}"',
                  "[[trail_buckets]]", f'account = "{CICD}"', f'bucket = "{TRAIL_BUCKET}"', 'prefix = ""']
        with open(os.path.join(out, "gateaudit.toml"), "w") as f:
            f.write("\n".join(lines) + "\n")
        # Waivers: one current (the approval-record bucket's encryption finding stays listed, marked waived) and
        # one that expired yesterday (mallory's write access counts again and the stale waiver is reported).
        today = dt.datetime.now(dt.timezone.utc).date()
        with open(os.path.join(out, "waivers.toml"), "w") as f:
            f.write(
                "[[waivers]]\n"
                'check = "evidence-hygiene"\n'
                f'resource = "arn:aws:s3:::{RECORD_BUCKET}"\n'
                'reason = "CHG-1101: default encryption with the records KMS key is scheduled for the next window"\n'
                'approver = "ciso@demo.example"\n'
                f'expires = "{today + dt.timedelta(days=45)}"\n'
                "\n[[waivers]]\n"
                'check = "write-access"\n'
                f'principal = "arn:aws:iam::{PROD}:user/mallory"\n'
                'reason = "CHG-0990: temporary PowerUser access during the database migration"\n'
                'approver = "ciso@demo.example"\n'
                f'expires = "{today - dt.timedelta(days=1)}"\n')
        with open(os.path.join(out, "credentials.env"), "w") as f:
            f.write(f"AWS_ACCESS_KEY_ID={auditor['aws_access_key_id']}\n"
                    f"AWS_SECRET_ACCESS_KEY={auditor['aws_secret_access_key']}\n"
                    f"AWS_REGION={REGION}\n"
                    f"AWS_ENDPOINT_URL={self.endpoint}\n")
        rm = f"arn:aws:iam::{CICD}:role/ReleaseManager"
        hotfix = f"arn:aws:iam::{CICD}:role/HotfixApprover"
        kim = f"identity-center:{people['store']}/{people['users']['kim']}"
        leo = f"identity-center:{people['store']}/{people['users']['leo']}"
        victor = f"arn:aws:iam::{CICD}:user/victor"
        carol = f"arn:aws:iam::{CICD}:user/carol"
        expected = {
            "violations": [
                {"check": "distinct-approvers", "account": CICD,
                 "subject": f"{PIPELINE}/{executions['violation']}", "principal": rm},
                {"check": "approver-separation", "account": CICD, "subject": f"{PIPELINE}/ProdGate",
                 "principal": f"arn:aws:iam::{CICD}:user/dave"},
                {"check": "approver-separation", "account": CICD, "subject": f"{PIPELINE}/ProdGate",
                 "principal": rm},
                {"check": "write-access", "account": PROD, "subject": f"arn:aws:iam::{PROD}:user/mallory",
                 "principal": f"arn:aws:iam::{PROD}:user/mallory"},
                {"check": "out-of-band-change", "account": PROD, "subject": f"arn:aws:iam::{PROD}:user/mallory",
                 "principal": f"arn:aws:iam::{PROD}:user/mallory"},
                {"check": "waivers", "account": PROD, "subject": "waivers[1]", "principal": ""},
                {"check": "approval-evidence", "account": CICD,
                 "subject": f"{PIPELINE}/{executions['clean']}/ProdGate/ApprovalB",
                 "principal": f"arn:aws:iam::{CICD}:user/bob"},
                {"check": "approver-reach", "account": CICD, "subject": f"{PIPELINE}/TestGate/TestApproval",
                 "principal": f"arn:aws:iam::{CICD}:group/Developers"},
                {"check": "approver-reach", "account": CICD, "subject": f"{PIPELINE}/ProdGate",
                 "principal": f"arn:aws:iam::{CICD}:user/frank"},
                {"check": "gate-coverage", "account": CICD, "subject": f"{INFRA_PIPELINE}/DeployProd",
                 "principal": ""},
                {"check": "cross-account-trust", "account": TEST,
                 "subject": f"arn:aws:iam::{TEST}:role/CICDCrossAccountRole",
                 "principal": f"arn:aws:iam::{VENDOR}:root"},
                {"check": "cross-account-trust", "account": PROD,
                 "subject": f"arn:aws:iam::{PROD}:role/CICDCrossAccountRole",
                 "principal": f"arn:aws:iam::{PROD}:role/CICDCrossAccountRole"},
                {"check": "evidence-hygiene", "account": CICD, "subject": f"arn:aws:s3:::{RECORD_BUCKET}",
                 "principal": ""},
                # People, not ARNs (Identity Center, sourceIdentity):
                {"check": "distinct-approvers", "account": CICD,
                 "subject": f"{PIPELINE}/{executions['identity_center_violation']}", "principal": kim},
                {"check": "distinct-approvers", "account": CICD,
                 "subject": f"{PIPELINE}/{executions['source_identity_violation']}", "principal": hotfix},
                {"check": "approver-separation", "account": CICD, "subject": f"{PIPELINE}/ProdGate",
                 "principal": hotfix},
                {"check": "approver-reach", "account": CICD, "subject": f"{PIPELINE}/ProdGate", "principal": kim},
                {"check": "write-access", "account": PROD, "subject": people["admin_role"],
                 "principal": people["admin_role"]},
                # Pipelines as they run:
                {"check": "gate-coverage", "account": CICD,
                 "subject": f"{PIPELINE}/{executions['gate_removed']}", "principal": ""},
                {"check": "gate-bypass", "account": CICD, "subject": f"{PIPELINE}/v2", "principal": victor},
                {"check": "gate-bypass", "account": CICD, "subject": f"{PIPELINE}/UpdatePipeline",
                 "principal": victor},
                {"check": "gate-bypass", "account": CICD, "subject": PIPELINE, "principal": victor},
                {"check": "gate-bypass", "account": CICD, "subject": PIPELINE, "principal": carol},
                {"check": "gate-bypass", "account": CICD, "subject": API_PIPELINE, "principal": people["ops_role"]},
                {"check": "gate-bypass", "account": CICD, "subject": f"{API_PIPELINE}/OverrideStageCondition",
                 "principal": leo},
                {"check": "write-access", "account": CICD, "subject": victor, "principal": victor},
                {"check": "write-access", "account": CICD, "subject": people["ops_role"],
                 "principal": people["ops_role"]},
                {"check": "self-approval", "account": CICD,
                 "subject": f"{PIPELINE}/{executions['self_approved']}", "principal": carol},
                {"check": "out-of-band-change", "account": PROD, "subject": leo, "principal": leo},
                {"check": "source-provenance", "account": CICD, "subject": f"{API_PIPELINE}/Source", "principal": ""},
                {"check": "approver-separation", "account": CICD, "subject": f"{API_PIPELINE}/ProdGate",
                 "principal": f"arn:aws:iam::{CICD}:user/dave"},
            ],
            # Every execution of the period that deployed into prod, and whether it is compliant (changes.csv).
            "changes": {
                executions["clean"]: True, executions["violation"]: False,
                executions["identity_center_clean"]: True, executions["identity_center_violation"]: False,
                executions["source_identity_violation"]: False, executions["self_approved"]: False,
                executions["gate_removed"]: False, executions["api_clean"]: True,
                executions["api_overridden"]: False,
            },
            "organization": {"management_account": MGMT, "closed_accounts": [LEGACY],
                             "neutralised_by_scp": f"arn:aws:iam::{CICD}:role/PipelineOperator"},
            "identity_center": {"identity_store_id": people["store"], "users": people["users"]},
            "clean_executions": [f"{PIPELINE}/{executions['clean']}",
                                 f"{PIPELINE}/{executions['identity_center_clean']}",
                                 f"{API_PIPELINE}/{executions['api_clean']}"],
            "rejected_executions": [f"{PIPELINE}/{executions['rejected']}"],
            "executions": executions,
            "approvals": len(self.approvals),
            "approval_records": sum(1 for a in self.approvals if a["record_key"]),
            "approval_log": self.approvals,
            "unreachable_accounts": [SANDBOX] if with_unreachable else [],
        }
        with open(os.path.join(out, "expected.json"), "w") as f:
            json.dump(expected, f, indent=2)
            f.write("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Seed gateaudit's demo organisation.")
    parser.add_argument("--endpoint", required=True, help="emulator URL, e.g. http://127.0.0.1:5000")
    parser.add_argument("--out", required=True, help="directory for gateaudit.toml etc.")
    parser.add_argument("--with-unreachable", action="store_true",
                        help="add account 555555555555 (no CICDCrossAccountRole) to gateaudit.toml")
    args = parser.parse_args(argv)
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        os.environ.pop(name, None)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    summary = Seeder(args.endpoint).run(args.out, args.with_unreachable)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
