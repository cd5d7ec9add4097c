#!/usr/bin/env python3
"""The demo's findings do not depend on where users' passwords and keys were read (part of ci/bench-collect's
story, run on its own): seeds the demo organisation, audits it as seeded (no credential report: every user is read
with GetLoginProfile and ListAccessKeys), then generates every account's credential report (as an operator would)
and audits again (passwords and keys from the report), then creates an access key for one user and audits a third
time (CloudTrail shows the change after the report: every user of that account is read one by one again).

Usage (from the repository root, after `cargo build --bin gateaudit`)::

    .venv/bin/python ci/bench.d/collect_demo_check.py [BINARY] [--work DIR]

Prints the findings count of each audit, the IAM steps of each account, and PASS/MISS: the first two audits give
the same findings (check, account, subject, principal, severity, status), and the third re-read the users.
Exits 1 on MISS.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from collect_scale import PYTHON, ROOT, Emulator  # noqa: E402

ACCOUNTS = ["100000000000", "111111111111", "222222222222", "333333333333", "444444444444"]


def audit(binary: str, folder: str, name: str, env: dict[str, str]) -> tuple[list, dict]:
    out = os.path.join(folder, name)
    os.makedirs(out, exist_ok=True)
    status = subprocess.run([binary, "--quiet", "audit", "--config", os.path.join(folder, "gateaudit.toml"),
                             "--out", out], cwd=ROOT, env=env).returncode
    if status not in (0, 3):
        raise RuntimeError(f"{name}: gateaudit audit exited {status}")
    [run] = glob.glob(os.path.join(out, "*", "findings.json"))
    with open(run) as f:
        findings = json.load(f)
    with open(os.path.join(os.path.dirname(run), "snapshot.json")) as f:
        snapshot = json.load(f)
    return findings["findings"], snapshot


def key(finding: dict) -> tuple:
    return tuple(str(finding.get(k)) for k in ("check", "account", "subject", "principal", "severity", "status",
                                                "waived"))


def iam_steps(snapshot: dict) -> dict[str, list[str]]:
    return {a["account_id"]: [f"{s['step']} {s['status']}: {s.get('note') or ''}"[:170] for s in a["steps"]
                              if "CredentialReport" in s["step"] or "LoginProfile" in s["step"]]
            for a in snapshot["accounts"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("binary", nargs="?", default=os.path.join(ROOT, "target", "debug", "gateaudit"))
    parser.add_argument("--work", default=None)
    args = parser.parse_args(argv)
    folder = args.work or tempfile.mkdtemp(prefix="demo-check-")
    os.makedirs(folder, exist_ok=True)
    emulator = Emulator(folder)
    try:
        subprocess.run([PYTHON, os.path.join(ROOT, "tests", "emulator", "seed_demo.py"), "--endpoint",
                        emulator.endpoint, "--out", folder], check=True, stdout=subprocess.DEVNULL)
        env = dict(os.environ, AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
        with open(os.path.join(folder, "credentials.env")) as f:
            env.update(line.strip().split("=", 1) for line in f if "=" in line)
        per_user, snap_a = audit(args.binary, folder, "per-user", env)
        import boto3  # the emulator's venv has it

        def iam(account: str):
            client = boto3.client("iam", endpoint_url=emulator.endpoint, region_name="us-east-1",
                                  aws_access_key_id="testing", aws_secret_access_key="testing")
            client.meta.events.register(
                "before-send", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account))
            return client

        for account in ACCOUNTS:
            iam(account).generate_credential_report()
        from_report, snap_b = audit(args.binary, folder, "report", env)
        # A key created after the report (recorded by CloudTrail): the report no longer tells the truth.
        iam("222222222222").create_access_key(UserName="oscar")
        _, snap_c = audit(args.binary, folder, "changed", env)
    finally:
        emulator.stop()
    same = sorted(map(key, per_user)) == sorted(map(key, from_report))
    print(f"findings: {len(per_user)} per user, {len(from_report)} from the credential reports: "
          f"{'PASS (identical)' if same else 'MISS'}")
    if not same:
        for k in sorted(set(map(key, per_user)) ^ set(map(key, from_report))):
            print(f"  differs: {k}")
    for label, snap in (("per user", snap_a), ("report", snap_b), ("changed", snap_c)):
        for account, steps in iam_steps(snap).items():
            for step in steps:
                print(f"  {label:8s} {account} {step}")
    used = all(any(s["step"] == "iam:GetCredentialReport" for s in a["steps"]) for a in snap_b["accounts"]
               if a.get("iam") and a["iam"]["users"])
    print(f"the second audit read every account's users from its credential report: {'PASS' if used else 'MISS'}")
    reread = any("CloudTrail recorded" in (s.get("note") or "") for a in snap_c["accounts"]
                 if a["account_id"] == "222222222222" for s in a["steps"])
    print(f"a key created after the report makes the account's users be read again: {'PASS' if reread else 'MISS'}")
    return 0 if same and used and reread else 1


if __name__ == "__main__":
    sys.exit(main())
