#!/usr/bin/env python3
"""Seeds a CloudTrail log archive in a running emulator, for tests/trail_archive.rs.

    seed_trail_archive.py seed --endpoint URL --out DIR [--damage]
    seed_trail_archive.py put --endpoint URL --bucket B --key K --file F
    seed_trail_archive.py get --endpoint URL --bucket B --key K --file F
    seed_trail_archive.py delete --endpoint URL --bucket B --key K
    seed_trail_archive.py athena-sql --endpoint URL --workgroup W --file F [--results-bucket R]

``seed`` builds an organisation (management account 710000000001 and one
member), a bucket ``trail-archive-710000000001``, an organisation trail and
an account trail of the member (both multi-region, log-file validation on,
so the member's events are delivered twice), and API calls (writes, reads,
failed PutApprovalResult attempts) in us-east-1 and eu-west-1 on 2026-02-10,
-11 and -12 and on 2026-02-25 (outside the tests' period).  With
``--damage`` it adds a truncated gzip, a gzip that is not JSON and a record
without eventTime to 2026-02-11, and a corrupt file to 2026-02-25.  It
writes ``DIR/gateaudit.toml``, ``DIR/credentials.env`` (an auditor in the
management account) and ``DIR/expected.json``.

``athena-sql`` runs the statement in file F in Athena (management account,
us-east-1) and waits for it to succeed (exit 1 with its reason otherwise); with
``--results-bucket`` it first creates that bucket and the workgroup W writing
its results there (enforced), when they do not exist yet.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
import urllib.request

import boto3
from botocore.config import Config

MANAGEMENT = "710000000001"
BUCKET = f"trail-archive-{MANAGEMENT}"
DAYS = ["2026-02-10", "2026-02-11", "2026-02-12"]
OUTSIDE = "2026-02-25"
REGIONS = ["us-east-1", "eu-west-1"]


_CLIENTS: dict = {}


def client(endpoint: str, service: str, account: str | None, region: str = "us-east-1"):
    cached = _CLIENTS.get((endpoint, service, account, region))
    if cached is not None:
        return cached
    c = boto3.session.Session(region_name=region, aws_access_key_id="testing",
                              aws_secret_access_key="testing").client(
        service, endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}))
    if account:
        c.meta.events.register(
            "before-send", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account))
    _CLIENTS[(endpoint, service, account, region)] = c
    return c


def control(endpoint: str, path: str, payload: dict) -> dict:
    req = urllib.request.Request(f"{endpoint}/_emulator/{path}", data=json.dumps(payload).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def activity(endpoint: str, account: str, day: str, tag: str) -> int:
    """Writes, reads and one failed approval attempt per region; returns approvals attempted."""
    approvals = 0
    for region in REGIONS:
        sns = client(endpoint, "sns", account, region)
        sns.create_topic(Name=f"topic-{tag}-{region}")
        sns.list_topics()
        cp = client(endpoint, "codepipeline", account, region)
        try:
            cp.put_approval_result(pipelineName=f"web-{tag}", stageName="Prod", actionName="Approve",
                                   result={"summary": "ok", "status": "Approved"}, token="nope")
        except Exception:
            pass
        approvals += 1
    client(endpoint, "iam", account).create_user(UserName=f"user-{tag}")
    client(endpoint, "iam", account).list_users()
    return approvals


def seed(endpoint: str, out: str, damage: bool) -> None:
    control(endpoint, "clock", {"now": f"{DAYS[0]}T09:00:00Z"})
    s3 = client(endpoint, "s3", MANAGEMENT)
    s3.create_bucket(Bucket=BUCKET)
    org = client(endpoint, "organizations", MANAGEMENT)
    org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    status = org.create_account(Email="member@example.com", AccountName="member")["CreateAccountStatus"]
    member = status.get("AccountId") or org.describe_create_account_status(
        CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
    iam = client(endpoint, "iam", MANAGEMENT)
    iam.create_user(UserName="auditor")
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    ct = client(endpoint, "cloudtrail", MANAGEMENT)
    ct.create_trail(Name="org-trail", S3BucketName=BUCKET, IsMultiRegionTrail=True,
                    IsOrganizationTrail=True, EnableLogFileValidation=True)
    ct.start_logging(Name="org-trail")
    mt = client(endpoint, "cloudtrail", member)
    mt.create_trail(Name="member-trail", S3BucketName=BUCKET, IsMultiRegionTrail=True,
                    EnableLogFileValidation=True)
    mt.start_logging(Name="member-trail")
    approvals = 0
    for i, day in enumerate(DAYS + [OUTSIDE]):
        control(endpoint, "clock", {"now": f"{day}T10:00:00Z"})
        n = activity(endpoint, member, day, f"m{i}") + activity(endpoint, MANAGEMENT, day, f"o{i}")
        if day != OUTSIDE:
            approvals += n
        control(endpoint, "flush-trails", {})
    # Later calls (the auditor's own) land far from the period.
    control(endpoint, "clock", {"now": "2026-06-01T00:00:00Z"})
    damaged = []
    if damage:
        base = f"AWSLogs/{member}/CloudTrail/us-east-1"
        good = gzip.compress(json.dumps({"Records": [{"eventID": "x" * 8}] * 50}).encode())
        missing = {"Records": [{"eventID": "11111111-2222-3333-4444-555555555555", "eventName": "CreateUser",
                                "eventSource": "iam.amazonaws.com", "readOnly": False,
                                "awsRegion": "us-east-1", "recipientAccountId": member,
                                "userIdentity": {"type": "Root"}}]}
        files = {
            f"{base}/2026/02/11/{member}_CloudTrail_us-east-1_20260211T1100Z_truncated0000000.json.gz": good[: len(good) // 2],
            f"{base}/2026/02/11/{member}_CloudTrail_us-east-1_20260211T1105Z_notjson000000000.json.gz": gzip.compress(b"<html>oops</html>"),
            f"{base}/2026/02/11/{member}_CloudTrail_us-east-1_20260211T1110Z_missingfield0000.json.gz": gzip.compress(json.dumps(missing).encode()),
            f"{base}/2026/02/25/{member}_CloudTrail_us-east-1_20260225T1100Z_outsiderange0000.json.gz": b"garbage",
        }
        for k, body in files.items():
            s3.put_object(Bucket=BUCKET, Key=k, Body=body)
            damaged.append(k)
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        keys += [o["Key"] for o in page.get("Contents", [])]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "gateaudit.toml"), "w") as f:
        f.write(f'''organisation = "Trail archive test"
cicd_account = "{MANAGEMENT}"
regions = {json.dumps(REGIONS)}
endpoint_url = "{endpoint}"
policy = "policies/default.toml"

[[accounts]]
id = "{MANAGEMENT}"
name = "management"
environment = "cicd"
use_base_credentials = true

[[trail_buckets]]
account = "{MANAGEMENT}"
bucket = "{BUCKET}"
''')
    with open(os.path.join(out, "credentials.env"), "w") as f:
        f.write(f"AWS_ACCESS_KEY_ID={key['AccessKeyId']}\nAWS_SECRET_ACCESS_KEY={key['SecretAccessKey']}\n"
                f"AWS_DEFAULT_REGION=us-east-1\nAWS_REGION=us-east-1\n")
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"bucket": BUCKET, "org_id": org_id, "management": MANAGEMENT, "member": member,
                   "approvals_in_period": approvals, "days": DAYS, "outside": OUTSIDE,
                   "damaged": damaged, "keys": sorted(keys)}, f, indent=2)


def athena_sql(endpoint: str, workgroup: str, path: str, results_bucket: str | None) -> int:
    athena = client(endpoint, "athena", MANAGEMENT)
    if results_bucket:
        s3 = client(endpoint, "s3", MANAGEMENT)
        if results_bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=results_bucket)
        if workgroup not in {w["Name"] for w in athena.list_work_groups()["WorkGroups"]}:
            athena.create_work_group(Name=workgroup, Configuration={
                "ResultConfiguration": {"OutputLocation": f"s3://{results_bucket}/results/"},
                "EnforceWorkGroupConfiguration": True})
    with open(path) as f:
        sql = f.read()
    qid = athena.start_query_execution(QueryString=sql, WorkGroup=workgroup)["QueryExecutionId"]
    for _ in range(600):
        status = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if status["State"] == "SUCCEEDED":
            return 0
        if status["State"] in ("FAILED", "CANCELLED"):
            print(f"{status['State']}: {status.get('StateChangeReason')}", file=sys.stderr)
            return 1
        time.sleep(0.05)
    print(f"query {qid} did not end", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("command", choices=["seed", "put", "get", "delete", "athena-sql"])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--out")
    p.add_argument("--damage", action="store_true")
    p.add_argument("--bucket", default=BUCKET)
    p.add_argument("--key")
    p.add_argument("--prefix", help="delete: every key under this prefix instead of --key")
    p.add_argument("--file")
    p.add_argument("--workgroup")
    p.add_argument("--results-bucket")
    a = p.parse_args(argv)
    s3 = client(a.endpoint, "s3", MANAGEMENT)
    if a.command == "seed":
        seed(a.endpoint, a.out, a.damage)
    elif a.command == "put":
        with open(a.file, "rb") as f:
            s3.put_object(Bucket=a.bucket, Key=a.key, Body=f.read())
    elif a.command == "athena-sql":
        return athena_sql(a.endpoint, a.workgroup, a.file, a.results_bucket)
    elif a.command == "get":
        with open(a.file, "wb") as f:
            f.write(s3.get_object(Bucket=a.bucket, Key=a.key)["Body"].read())
    elif a.prefix is not None:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=a.bucket, Prefix=a.prefix):
            for o in page.get("Contents", []):
                s3.delete_object(Bucket=a.bucket, Key=o["Key"])
    else:
        s3.delete_object(Bucket=a.bucket, Key=a.key)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
