#!/usr/bin/env python3
"""Writes a synthetic CloudTrail archive for ci/bench: realistic ~1 KB records (a mix of identities, ~1 %
PutApprovalResult, ~20 % writes), files of 100-1,000 records in the standard layout, until TARGET_MB of
uncompressed JSON.  Usage: gen_archive.py DIR TARGET_MB.  Writes DIR/manifest.json with the totals, including
what `trail scan` must find: `approvals`, `writes` (readOnly false, approvals excluded; the generator makes no
AssumeRole calls, data events or duplicates) and `all_events` (both)."""

import gzip
import json
import os
import random
import sys
import uuid
from multiprocessing import Pool

ACCOUNTS = ["111111111111", "222222222222", "333333333333"]
REGIONS = ["us-east-1", "eu-west-1"]
IDENTITIES = [
    {"type": "AssumedRole", "principalId": "AROAEXAMPLE:alice@example.com",
     "arn": "arn:aws:sts::{acct}:assumed-role/AWSReservedSSO_Admin_0123abcd/alice@example.com", "accountId": "{acct}",
     "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE",
      "arn": "arn:aws:iam::{acct}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123abcd",
      "accountId": "{acct}", "userName": "AWSReservedSSO_Admin_0123abcd"},
      "attributes": {"creationDate": "2026-01-05T08:00:00Z", "mfaAuthenticated": "false"}}},
    {"type": "IAMUser", "principalId": "AIDAEXAMPLEBOB", "arn": "arn:aws:iam::{acct}:user/bob", "accountId": "{acct}",
     "accessKeyId": "AKIAEXAMPLEBOB", "userName": "bob"},
    {"type": "AssumedRole", "principalId": "AROAPIPE:codepipeline", "arn": "arn:aws:sts::{acct}:assumed-role/CICDCrossAccountRole/pipeline",
     "accountId": "{acct}", "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::{acct}:role/CICDCrossAccountRole",
      "accountId": "{acct}", "userName": "CICDCrossAccountRole"}}},
    {"type": "AWSService", "invokedBy": "codepipeline.amazonaws.com"},
    {"type": "Root", "principalId": "{acct}", "arn": "arn:aws:iam::{acct}:root", "accountId": "{acct}"},
]
READS = [("ec2.amazonaws.com", "DescribeInstances"), ("s3.amazonaws.com", "ListBuckets"), ("iam.amazonaws.com", "GetRole"),
         ("codepipeline.amazonaws.com", "GetPipelineState"), ("sts.amazonaws.com", "GetCallerIdentity"),
         ("cloudtrail.amazonaws.com", "DescribeTrails"), ("kms.amazonaws.com", "Decrypt")]
WRITES = [("iam.amazonaws.com", "AttachRolePolicy"), ("ec2.amazonaws.com", "RunInstances"), ("s3.amazonaws.com", "PutBucketPolicy"),
          ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2"), ("codepipeline.amazonaws.com", "StartPipelineExecution")]


def record(rng, acct, region, day, i):
    ident = json.loads(json.dumps(rng.choice(IDENTITIES)).replace("{acct}", acct))
    roll = rng.random()
    if roll < 0.01:
        source, name, ro = "codepipeline.amazonaws.com", "PutApprovalResult", False
        params = {"pipelineName": "webapp", "stageName": "Prod", "actionName": rng.choice(["ApprovalA", "ApprovalB"]),
                  "result": {"summary": "Reviewed change ticket CHG-%d" % rng.randint(1000, 9999), "status": "Approved"},
                  "token": str(uuid.UUID(int=rng.getrandbits(128)))}
    elif roll < 0.21:
        (source, name), ro = rng.choice(WRITES), False
        params = {"roleName": "app-role-%d" % rng.randint(1, 50), "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}
    else:
        (source, name), ro = rng.choice(READS), True
        params = {"filterSet": {}, "maxResults": 100} if rng.random() < 0.5 else None
    t = "%sT%02d:%02d:%02dZ" % (day, i % 24, rng.randint(0, 59), rng.randint(0, 59))
    return {"eventVersion": "1.09", "userIdentity": ident, "eventTime": t, "eventSource": source, "eventName": name,
            "awsRegion": region, "sourceIPAddress": "203.0.113.%d" % rng.randint(1, 254),
            "userAgent": "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard",
            "requestParameters": params, "responseElements": None,
            "requestID": str(uuid.UUID(int=rng.getrandbits(128))), "eventID": str(uuid.UUID(int=rng.getrandbits(128))),
            "readOnly": ro, "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": acct,
            "eventCategory": "Management", "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": source.replace("amazonaws.com", region + ".amazonaws.com")}}


def write_file(job):
    out, n, seed = job
    rng = random.Random(seed)
    acct, region = ACCOUNTS[n % 3], REGIONS[(n // 3) % 2]
    day = "2026-01-%02d" % (1 + (n // 6) % 28)
    recs = [record(rng, acct, region, day, i) for i in range(rng.randint(100, 1000))]
    raw = json.dumps({"Records": recs}, separators=(",", ":")).encode()
    folder = os.path.join(out, "AWSLogs", acct, "CloudTrail", region, day.replace("-", "/"))
    os.makedirs(folder, exist_ok=True)
    name = "%s_CloudTrail_%s_%sT%02d00Z_%016x.json.gz" % (acct, region, day.replace("-", ""), n % 24, seed)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(gzip.compress(raw, 6))
    approvals = sum(1 for r in recs if r["eventName"] == "PutApprovalResult")
    writes = sum(1 for r in recs if r["readOnly"] is False and r["eventName"] != "PutApprovalResult")
    return len(raw), approvals, writes, len(recs)


def main():
    out, target = sys.argv[1], int(sys.argv[2]) * 1_000_000
    total = approvals = writes = records = files = 0
    with Pool(os.cpu_count() or 2) as pool:
        n = 0
        while total < target:
            batch = [(out, n + i, 7919 * (n + i) + 1) for i in range(64)]
            for size, a, w, r in pool.map(write_file, batch):
                total += size
                approvals += a
                writes += w
                records += r
                files += 1
            n += 64
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"uncompressed_bytes": total, "approvals": approvals, "writes": writes,
                   "all_events": approvals + writes, "records": records, "files": files}, f)
    print(f"{files} files, {records} records, {approvals} approvals, {writes} writes, {total / 1e6:.0f} MB uncompressed")


if __name__ == "__main__":
    main()
