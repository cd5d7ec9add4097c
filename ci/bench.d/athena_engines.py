#!/usr/bin/env python3
"""The trail archive's two engines on the same archive (issue 15): `trail scan` native (downloads every log file
of the period and reads it here) against `--engine athena` (the query runs where the data lives; only candidate
records come back), in one run, on one emulator.

Usage (from the repository root, after building gateaudit)::

    .venv/bin/python ci/bench.d/athena_engines.py BINARY [--size-mb 60] [--work DIR]

The archive is ci/bench.d/gen_archive.py's (three accounts, two regions, January 2026), uploaded to the
emulator's S3; the Athena table is made from `gateaudit trail athena-ddl`. For `--events approvals` and
`--events writes` it prints, per engine: wall time, bytes that reached this machine (native: the compressed log
files downloaded; Athena: the query's result, measured as its CSV in the output location), events found, and the
bytes the query scanned where the data lives (what Athena bills, at USD 5 per TB). Both engines must find
exactly the events the archive's manifest records (exit 1 otherwise).

The emulator's Athena is duckdb inside one Python process, not Athena's fleet: its wall times say nothing about
Athena's speed, only the bytes moved and scanned carry over.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from collect_scale import ROOT, Emulator, gnu_time  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

LOGGING = "710000000009"
BUCKET = f"bench-trail-archive-{LOGGING}"
RESULTS = f"bench-athena-results-{LOGGING}"
TABLE = "audit.bench_trail"
WORKGROUP = "audit"
ACCOUNTS = ["111111111111", "222222222222", "333333333333"]
REGIONS = ["us-east-1", "eu-west-1"]
USD_PER_TB = 5.0


def client(endpoint: str, service: str):
    c = boto3.session.Session(region_name="us-east-1", aws_access_key_id="testing",
                              aws_secret_access_key="testing").client(
        service, endpoint_url=endpoint, config=Config(retries={"max_attempts": 3}))
    c.meta.events.register("before-send",
                           lambda request, **_: request.headers.__setitem__("x-moto-account-id", LOGGING))
    return c


def athena_sql(endpoint: str, sql: str) -> None:
    athena = client(endpoint, "athena")
    qid = athena.start_query_execution(QueryString=sql, WorkGroup=WORKGROUP)["QueryExecutionId"]
    while True:
        status = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if status["State"] == "SUCCEEDED":
            return
        if status["State"] in ("FAILED", "CANCELLED"):
            raise RuntimeError(f"{sql[:60]}...: {status['State']}: {status.get('StateChangeReason')}")


def athena_state(endpoint: str) -> dict:
    with urllib.request.urlopen(f"{endpoint}/_emulator/athena", timeout=30) as resp:
        return json.loads(resp.read())


def seed(endpoint: str, archive: str, work: str) -> dict[str, str]:
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.create_bucket(Bucket=RESULTS)
    uploaded = 0
    for root, _, files in os.walk(os.path.join(archive, "AWSLogs")):
        for name in files:
            path = os.path.join(root, name)
            key = os.path.relpath(path, archive).replace(os.sep, "/")
            with open(path, "rb") as f:
                s3.put_object(Bucket=BUCKET, Key=key, Body=f.read())
            uploaded += 1
    iam = client(endpoint, "iam")
    iam.create_user(UserName="auditor")
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    athena = client(endpoint, "athena")
    athena.create_work_group(Name=WORKGROUP, Configuration={
        "ResultConfiguration": {"OutputLocation": f"s3://{RESULTS}/results/"},
        "EnforceWorkGroupConfiguration": True})
    athena_sql(endpoint, "CREATE DATABASE audit")
    with open(os.path.join(work, "gateaudit.toml"), "w") as f:
        f.write(f'''organisation = "Athena engine benchmark"
cicd_account = "{LOGGING}"
regions = {json.dumps(REGIONS)}
endpoint_url = "{endpoint}"
policy = {json.dumps(os.path.join(ROOT, "policies", "default.toml"))}

[[accounts]]
id = "{LOGGING}"
name = "logging"
environment = "cicd"
use_base_credentials = true

[[trail_buckets]]
account = "{LOGGING}"
bucket = "{BUCKET}"
''')
    print(f"   uploaded {uploaded} log files to s3://{BUCKET}", flush=True)
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}


def run(binary: str, args: list[str], env: dict[str, str], work: str, name: str) -> tuple[float, int]:
    timing = os.path.join(work, f"{name}.time")
    log = os.path.join(work, f"{name}.log")
    full = dict(os.environ, AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                AWS_EC2_METADATA_DISABLED="true", **env)
    for k in list(full):
        if k.startswith("AWS_") and k not in env and k not in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
                                                              "AWS_EC2_METADATA_DISABLED"):
            del full[k]
    with open(log, "w") as stderr:
        code = subprocess.run(["/usr/bin/time", "-v", "-o", timing, binary, "--quiet", *args], cwd=work, env=full,
                              stdout=subprocess.DEVNULL, stderr=stderr).returncode
    if code != 0:
        raise RuntimeError(f"{name}: gateaudit exited {code} (see {log})")
    wall, rss, _ = gnu_time(timing)
    return wall, rss


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("binary")
    p.add_argument("--size-mb", type=int, default=60)
    p.add_argument("--work")
    a = p.parse_args(argv)
    binary = os.path.abspath(a.binary)
    work = a.work or tempfile.mkdtemp(prefix="gateaudit-athena-bench-")
    os.makedirs(work, exist_ok=True)
    archive = os.path.join(work, "archive")
    if not os.path.exists(os.path.join(archive, "manifest.json")):
        print(f"== generating a {a.size_mb} MB archive", flush=True)
        subprocess.run([sys.executable, os.path.join(ROOT, "ci", "bench.d", "gen_archive.py"), archive,
                        str(a.size_mb)], check=True)
    with open(os.path.join(archive, "manifest.json")) as f:
        manifest = json.load(f)
    emulator = Emulator(work)
    failures = []
    try:
        print(f"== emulator at {emulator.endpoint}; seeding", flush=True)
        env = seed(emulator.endpoint, archive, work)
        config = os.path.join(work, "gateaudit.toml")
        ddl = subprocess.run([binary, "trail", "athena-ddl", f"s3://{BUCKET}", "--athena-table", TABLE,
                              *sum((["--account", x] for x in ACCOUNTS), []),
                              *sum((["--region", r] for r in REGIONS), []),
                              "--first-day", "2026-01-01", "--config", config],
                             check=True, capture_output=True, text=True).stdout
        athena_sql(emulator.endpoint, ddl)
        period = ["--since", "2026-01-01", "--until", "2026-02-01", "--config", config]
        rows = []
        for selection, expected in (("approvals", manifest["approvals"]), ("writes", manifest["writes"])):
            for engine in ("native", "athena"):
                out = os.path.join(work, f"{engine}-{selection}.json")
                extra = ["--engine", "athena", "--athena-table", TABLE, "--athena-workgroup", WORKGROUP] \
                    if engine == "athena" else ["--engine", "native"]
                before = {e["id"] for e in athena_state(emulator.endpoint)["executions"]}
                wall, rss = run(binary, ["trail", "scan", f"s3://{BUCKET}", "--events", selection, "--out", out,
                                         *period, *extra], env, work, f"{engine}-{selection}")
                with open(out) as f:
                    snap = json.load(f)
                found = len(snap["approval_events"]) + len(snap["write_events"])
                if engine == "native":
                    moved, scanned = snap["compressed_bytes"], 0
                else:
                    new = [e for e in athena_state(emulator.endpoint)["executions"] if e["id"] not in before]
                    if len(new) != 1:
                        raise RuntimeError(f"expected one Athena query, found {len(new)}")
                    qid = new[0]["id"]
                    body = client(emulator.endpoint, "s3").get_object(Bucket=RESULTS, Key=f"results/{qid}.csv")
                    moved, scanned = body["ContentLength"], new[0]["dataScannedInBytes"]
                if found != expected:
                    failures.append(f"{engine} {selection}: {found} events, the manifest says {expected}")
                rows.append((selection, engine, wall, rss, moved, scanned, found))
        print()
        print(f"archive: {manifest['uncompressed_bytes'] / 1e6:,.0f} MB uncompressed, "
              f"{rows[0][4] / 1e6:,.1f} MB compressed in the period; {len(ACCOUNTS)} accounts, {len(REGIONS)} regions")
        print(f"{'selection':<10} {'engine':<7} {'wall s':>7} {'RSS MB':>7} {'to this machine':>16} "
              f"{'scanned there':>14} {'USD/query':>10} {'events':>8}")
        for selection, engine, wall, rss, moved, scanned, found in rows:
            cost = f"{scanned / 1e12 * USD_PER_TB:.6f}" if engine == "athena" else "-"
            there = f"{scanned / 1e6:,.1f} MB" if engine == "athena" else "-"
            print(f"{selection:<10} {engine:<7} {wall:>7.2f} {rss / 1024:>7.0f} {moved / 1e6:>13,.2f} MB "
                  f"{there:>14} {cost:>10} {found:>8}")
        for selection in ("approvals", "writes"):
            native = next(r for r in rows if r[0] == selection and r[1] == "native")
            athena = next(r for r in rows if r[0] == selection and r[1] == "athena")
            ratio = athena[4] / max(native[4], 1)
            said = f"{1 / ratio:,.1f}x fewer" if ratio < 1 else f"{ratio:,.1f}x more: results are not compressed"
            print(f"{selection}: Athena moves {ratio:.4f}x the bytes of the native engine ({said}); wall time "
                  f"{athena[2] / max(native[2], 1e-9):.2f}x (emulated Athena: not Athena's speed)")
    finally:
        emulator.stop()
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)
    for f in failures:
        print(f"MISS: {f}")
    if not failures:
        print("PASS: both engines found exactly the manifest's events")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
