#!/usr/bin/env python3
"""Seed a running emulator (server.py) with an organisation of the size issue 15 benchmarks collection at.

Usage::

    .venv/bin/python tests/emulator/seed_scale.py --endpoint http://127.0.0.1:PORT --out DIR \\
        [--accounts 50] [--pipelines 20] [--principals 200] [--ic-users 2000] [--no-credential-report]

An AWS Organization (management account 900100000000, where Identity Center lives with ``--ic-users`` users in
20 groups and 4 permission sets assigned to every member account) and ``--accounts`` member accounts
900100000001... Each member account has ``--principals`` IAM principals: a quarter roles (CICDCrossAccountRole,
the pipeline service role, and others trusted by the account), the rest users in 5 groups, every third with a
console password, every second with an access key (every tenth key inactive); and ``--pipelines`` pipelines with
a manual approval stage (no executions), deploying from the account's source and artifact buckets.

Everything is created with the emulator clock 200 days in the past, so the seeding calls themselves are outside
the 90-day LookupEvents window of the audit (else the number of LookupEvents pages, and so of calls, would grow
with the number of principals merely because creating them was recorded). The clock is then reset and, unless
``--no-credential-report``, each account's credential report is generated (as an operator's scheduled job would
before the audit; gateaudit never generates one).

Writes DIR/gateaudit.toml (accounts discovered from the organisation; the auditor's own keys read it; each account
is entered with CICDCrossAccountRole), DIR/credentials.env and DIR/manifest.json (what was seeded).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import os
import sys
import urllib.request
from typing import Any

import boto3
from botocore.config import Config

REGION = "us-east-1"
MGMT = "900100000000"
ROLE = "CICDCrossAccountRole"
PASSWORD = "Sc4le-Benchmark-Passw0rd!"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class Seeder:
    def __init__(self, endpoint: str):
        self.endpoint = endpoint.rstrip("/")
        self.config = Config(retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=16)

    def client(self, service: str, account: str, creds: dict[str, str] | None = None) -> Any:
        creds = creds or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        client = boto3.session.Session(region_name=REGION, **creds).client(
            service, endpoint_url=self.endpoint, config=self.config)

        def add_header(request: Any, **_: Any) -> None:
            request.headers["x-moto-account-id"] = account

        client.meta.events.register("before-send", add_header)
        return client

    def control(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.endpoint}/_emulator/{path}", data=json.dumps(payload).encode(), method="POST",
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    # -- the organisation -------------------------------------------------------------------------------------

    def organization(self, members: list[str]) -> dict[str, str]:
        self.control("accounts", {"accountId": MGMT, "name": "management", "email": "mgmt@scale.example"})
        for i, account in enumerate(members):
            self.control("accounts", {"accountId": account, "name": f"workload-{i + 1:03d}",
                                      "email": f"workload-{i + 1:03d}@scale.example"})
        org = self.client("organizations", MGMT)
        org.create_organization(FeatureSet="ALL")
        root = org.list_roots()["Roots"][0]["Id"]
        workloads = org.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]["Id"]
        for account in members:
            handshake = org.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": account})["Handshake"]
            self.client("organizations", account).accept_handshake(HandshakeId=handshake["Id"])
            org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=workloads)
        org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
        iam = self.client("iam", MGMT)
        iam.create_user(UserName="gateaudit-auditor")
        key = iam.create_access_key(UserName="gateaudit-auditor")["AccessKey"]
        trust = doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": f"arn:aws:iam::{MGMT}:root"}})
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=trust)
        return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}

    def identity_center(self, members: list[str], users: int) -> None:
        if users <= 0:
            return
        info = self.control("sso/enable", {"accountId": MGMT, "region": REGION})
        instance, store = info["instanceArn"], info["identityStoreId"]
        ids = self.client("identitystore", MGMT)
        sso = self.client("sso-admin", MGMT)
        groups = [ids.create_group(IdentityStoreId=store, DisplayName=f"team-{g:02d}")["GroupId"]
                  for g in range(20)]

        def person(i: int) -> None:
            user = ids.create_user(
                IdentityStoreId=store, UserName=f"person{i:05d}", DisplayName=f"Person {i}",
                Name={"GivenName": "Person", "FamilyName": f"{i:05d}"},
                Emails=[{"Value": f"person{i:05d}@scale.example", "Type": "work", "Primary": True}])["UserId"]
            ids.create_group_membership(IdentityStoreId=store, GroupId=groups[i % len(groups)],
                                        MemberId={"UserId": user})

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(person, range(users)))
        sets = []
        for name, action in (("Approver", "codepipeline:PutApprovalResult"), ("Deployer", "codepipeline:Start*"),
                             ("ReadOnly", "codepipeline:Get*"), ("Admin", "*")):
            arn = sso.create_permission_set(InstanceArn=instance, Name=name, SessionDuration="PT1H")[
                "PermissionSet"]["PermissionSetArn"]
            sso.put_inline_policy_to_permission_set(
                InstanceArn=instance, PermissionSetArn=arn,
                InlinePolicy=doc({"Effect": "Allow", "Action": action, "Resource": "*"}))
            sets.append(arn)
        for n, account in enumerate(members):
            for s, arn in enumerate(sets):
                sso.create_account_assignment(
                    InstanceArn=instance, TargetId=account, TargetType="AWS_ACCOUNT", PermissionSetArn=arn,
                    PrincipalType="GROUP", PrincipalId=groups[(n + s) % len(groups)])

    # -- one member account -----------------------------------------------------------------------------------

    def account(self, account: str, principals: int, pipelines: int) -> dict[str, int]:
        iam = self.client("iam", account)
        trust_mgmt = doc({"Effect": "Allow", "Action": "sts:AssumeRole",
                          "Principal": {"AWS": f"arn:aws:iam::{MGMT}:root"}})
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=trust_mgmt)
        iam.put_role_policy(RoleName=ROLE, PolicyName="AuditRead", PolicyDocument=doc({
            "Effect": "Allow", "Resource": "*",
            "Action": ["iam:Get*", "iam:List*", "cloudtrail:Describe*", "cloudtrail:Get*", "cloudtrail:List*",
                       "cloudtrail:LookupEvents", "codepipeline:Get*", "codepipeline:List*"]}))
        iam.create_role(RoleName="CodePipelineServiceRole", AssumeRolePolicyDocument=doc({
            "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "codepipeline.amazonaws.com"}}))
        iam.put_role_policy(RoleName="CodePipelineServiceRole", PolicyName="Pipelines", PolicyDocument=doc({
            "Effect": "Allow", "Action": ["s3:*", "codebuild:*"], "Resource": "*"}))
        roles = max(principals // 4, 2)
        trust_account = doc({"Effect": "Allow", "Action": "sts:AssumeRole",
                             "Principal": {"AWS": f"arn:aws:iam::{account}:root"}})
        for r in range(roles - 2):
            iam.create_role(RoleName=f"app-role-{r:03d}", AssumeRolePolicyDocument=trust_account)
            iam.put_role_policy(RoleName=f"app-role-{r:03d}", PolicyName="App", PolicyDocument=doc({
                "Effect": "Allow", "Action": ["s3:GetObject", "codepipeline:GetPipeline"], "Resource": "*"}))
        groups = ["Developers", "Operators", "Approvers", "Readers", "Admins"]
        grants = {"Developers": "codepipeline:StartPipelineExecution", "Operators": "codepipeline:RetryStageExecution",
                  "Approvers": "codepipeline:PutApprovalResult", "Readers": "codepipeline:Get*", "Admins": "*"}
        for g in groups:
            iam.create_group(GroupName=g)
            iam.put_group_policy(GroupName=g, PolicyName=f"{g}Access", PolicyDocument=doc({
                "Effect": "Allow", "Action": grants[g], "Resource": "*"}))
        users = principals - roles
        passwords = keys = 0
        for u in range(users):
            name = f"user{u:04d}"
            iam.create_user(UserName=name)
            iam.add_user_to_group(GroupName=groups[u % len(groups)], UserName=name)
            if u % 3 == 0:
                iam.create_login_profile(UserName=name, Password=PASSWORD)
                passwords += 1
            if u % 2 == 0:
                key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
                keys += 1
                if u % 10 == 0:
                    iam.update_access_key(UserName=name, AccessKeyId=key, Status="Inactive")
        s3 = self.client("s3", account)
        for bucket in (f"artifacts-{account}", f"source-{account}"):
            s3.create_bucket(Bucket=bucket)
        codepipeline = self.client("codepipeline", account)
        for p in range(pipelines):
            codepipeline.create_pipeline(pipeline={
                "name": f"service-{p:02d}",
                "roleArn": f"arn:aws:iam::{account}:role/CodePipelineServiceRole",
                "artifactStore": {"type": "S3", "location": f"artifacts-{account}"},
                "stages": [
                    {"name": "Source", "actions": [{
                        "name": "Source", "runOrder": 1,
                        "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
                        "configuration": {"S3Bucket": f"source-{account}", "S3ObjectKey": f"service-{p:02d}.zip",
                                          "PollForSourceChanges": "false"},
                        "outputArtifacts": [{"name": "Src"}]}]},
                    {"name": "ProdGate", "actions": [{
                        "name": "Approval", "runOrder": 1,
                        "actionTypeId": {"category": "Approval", "owner": "AWS", "provider": "Manual",
                                         "version": "1"}}]},
                    {"name": "Deploy", "actions": [{
                        "name": "Deploy", "runOrder": 1, "inputArtifacts": [{"name": "Src"}],
                        "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild",
                                         "version": "1"},
                        "configuration": {"ProjectName": f"deploy-{p:02d}"}}]}],
                "version": 1})
        return {"users": users, "roles": roles, "passwords": passwords, "access_keys": keys}

    def run(self, out: str, accounts: int, pipelines: int, principals: int, ic_users: int,
            credential_report: bool) -> dict[str, Any]:
        members = [f"9001{n:08d}" for n in range(1, accounts + 1)]
        past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=200)
        self.control("clock", {"now": past.strftime("%Y-%m-%dT%H:%M:%SZ")})
        auditor = self.organization(members)
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            per_account = list(pool.map(lambda a: self.account(a, principals, pipelines), members))
            identity = pool.submit(self.identity_center, members, ic_users)
            identity.result()
        self.control("clock", {"reset": True})
        if credential_report:
            for account in [MGMT] + members:
                self.client("iam", account).generate_credential_report()
        manifest = {"management_account": MGMT, "accounts": members, "pipelines_per_account": pipelines,
                    "principals_per_account": principals, "identity_center_users": ic_users,
                    "credential_reports": credential_report, "per_account": per_account[0] if per_account else {}}
        self.write_outputs(out, auditor, manifest)
        return manifest

    def write_outputs(self, out: str, auditor: dict[str, str], manifest: dict[str, Any]) -> None:
        os.makedirs(out, exist_ok=True)
        lines = [
            'organisation = "Scale Corp (emulated)"',
            f'cicd_account = "{MGMT}"',
            f'regions = ["{REGION}"]',
            f'role_name = "{ROLE}"',
            'session_name = "gateaudit"',
            f'endpoint_url = "{self.endpoint}"',
            "[organization]",
            f'account = "{MGMT}"',
            "use_base_credentials = true",
            f"identity_center = {'true' if manifest['identity_center_users'] > 0 else 'false'}",
            f'identity_center_region = "{REGION}"',
            "[[organization.environment_rules]]",
            'account_name = "*"',
            'environment = "prod"',
            "[[accounts]]",
            f'id = "{MGMT}"',
            'name = "management"',
            'environment = "management"',
            "use_base_credentials = true",
        ]
        with open(os.path.join(out, "gateaudit.toml"), "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.join(out, "credentials.env"), "w") as f:
            f.write(f"AWS_ACCESS_KEY_ID={auditor['aws_access_key_id']}\n"
                    f"AWS_SECRET_ACCESS_KEY={auditor['aws_secret_access_key']}\n"
                    f"AWS_REGION={REGION}\nAWS_ENDPOINT_URL={self.endpoint}\n")
        with open(os.path.join(out, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--pipelines", type=int, default=20)
    parser.add_argument("--principals", type=int, default=200)
    parser.add_argument("--ic-users", type=int, default=2000)
    parser.add_argument("--no-credential-report", action="store_true")
    args = parser.parse_args(argv)
    if args.accounts < 1 or args.principals < 8 or args.pipelines < 0 or args.ic_users < 0:
        parser.error("need --accounts >= 1, --principals >= 8, --pipelines >= 0, --ic-users >= 0")
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    manifest = Seeder(args.endpoint).run(args.out, args.accounts, args.pipelines, args.principals, args.ic_users,
                                         not args.no_credential_report)
    print(json.dumps({k: v for k, v in manifest.items() if k != "accounts"}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
