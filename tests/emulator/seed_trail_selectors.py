#!/usr/bin/env python3
"""Seeds an organisation whose only trail is the management account's organisation trail, for
tests/trail_selectors.rs.

    seed_trail_selectors.py --endpoint URL --out DIR --selectors all|read-only

The management account 730000000001 creates an organisation and a member account (which has no trail of its
own), a bucket ``org-trail-730000000001`` and a multi-region organisation trail ``org-trail`` with log-file
validation.  With ``--selectors read-only`` the trail's basic event selector is ``ReadWriteType=ReadOnly`` (it
records no write management events).  On 2026-02-10, -11 and -12 (emulated clock) both accounts make reads and
writes in us-east-1 and eu-west-1, and the trail delivers (and digests) them; the clock then moves to
2026-06-01.  An auditor user in the management account enters the member through the role ``Auditor``.  Writes
``DIR/gateaudit.toml``, ``DIR/credentials.env`` and ``DIR/expected.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request

import boto3
from botocore.config import Config

MANAGEMENT = "730000000001"
BUCKET = f"org-trail-{MANAGEMENT}"
DAYS = ["2026-02-10", "2026-02-11", "2026-02-12"]
REGIONS = ["us-east-1", "eu-west-1"]


def client(endpoint: str, service: str, account: str, region: str = "us-east-1"):
    c = boto3.session.Session(region_name=region, aws_access_key_id="testing",
                              aws_secret_access_key="testing").client(
        service, endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}))
    c.meta.events.register(
        "before-send", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account))
    return c


def control(endpoint: str, path: str, payload: dict) -> dict:
    req = urllib.request.Request(f"{endpoint}/_emulator/{path}", data=json.dumps(payload).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def seed(endpoint: str, out: str, selectors: str) -> None:
    control(endpoint, "clock", {"now": f"{DAYS[0]}T09:00:00Z"})
    client(endpoint, "s3", MANAGEMENT).create_bucket(Bucket=BUCKET)
    org = client(endpoint, "organizations", MANAGEMENT)
    org.create_organization(FeatureSet="ALL")
    status = org.create_account(Email="member@example.com", AccountName="member")["CreateAccountStatus"]
    member = status.get("AccountId") or org.describe_create_account_status(
        CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
    iam = client(endpoint, "iam", MANAGEMENT)
    iam.create_user(UserName="auditor")
    iam.put_user_policy(UserName="auditor", PolicyName="audit", PolicyDocument=doc(
        {"Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": "arn:aws:iam::*:role/Auditor"}))
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    for account in (MANAGEMENT, member):
        a = client(endpoint, "iam", account)
        a.create_role(RoleName="Auditor", AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"}}))
        a.put_role_policy(RoleName="Auditor", PolicyName="AuditRead", PolicyDocument=doc(
            {"Effect": "Allow", "Resource": "*",
             "Action": ["iam:Get*", "iam:List*", "cloudtrail:Describe*", "cloudtrail:Get*", "cloudtrail:List*",
                        "cloudtrail:LookupEvents", "codepipeline:Get*", "codepipeline:List*", "s3:Get*",
                        "s3:List*", "kms:Describe*", "kms:GetKeyPolicy"]}))
    ct = client(endpoint, "cloudtrail", MANAGEMENT)
    arn = ct.create_trail(Name="org-trail", S3BucketName=BUCKET, IsMultiRegionTrail=True,
                          IsOrganizationTrail=True, EnableLogFileValidation=True)["TrailARN"]
    if selectors == "read-only":
        ct.put_event_selectors(TrailName="org-trail", EventSelectors=[
            {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}])
    ct.start_logging(Name="org-trail")
    for i, day in enumerate(DAYS):
        control(endpoint, "clock", {"now": f"{day}T10:00:00Z"})
        for account in (member, MANAGEMENT):
            for region in REGIONS:
                sns = client(endpoint, "sns", account, region)
                sns.create_topic(Name=f"topic-{i}-{region}")
                sns.list_topics()
            client(endpoint, "iam", account).create_user(UserName=f"user-{i}")
        control(endpoint, "flush-trails", {})
    control(endpoint, "clock", {"now": "2026-06-01T00:00:00Z"})
    control(endpoint, "flush-trails", {})
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "gateaudit.toml"), "w") as f:
        f.write(f'''organisation = "Organisation trail test"
cicd_account = "{MANAGEMENT}"
regions = {json.dumps(REGIONS)}
role_name = "Auditor"
endpoint_url = "{endpoint}"
policy = "policies/default.toml"

[[accounts]]
id = "{MANAGEMENT}"
name = "management"
environment = "cicd"

[[accounts]]
id = "{member}"
name = "member"
environment = "prod"

[[trail_buckets]]
account = "{MANAGEMENT}"
bucket = "{BUCKET}"
''')
    with open(os.path.join(out, "credentials.env"), "w") as f:
        f.write(f"AWS_ACCESS_KEY_ID={key['AccessKeyId']}\nAWS_SECRET_ACCESS_KEY={key['SecretAccessKey']}\n"
                f"AWS_DEFAULT_REGION=us-east-1\nAWS_REGION=us-east-1\n")
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"management": MANAGEMENT, "member": member, "trail_arn": arn, "bucket": BUCKET}, f, indent=2)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--selectors", choices=["all", "read-only"], default="all")
    a = p.parse_args(argv)
    seed(a.endpoint, a.out, a.selectors)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
