#!/usr/bin/env python3
"""Collection at organisation scale (issue 15): seeds fresh emulators and times `gateaudit collect` on them.

Usage (from the repository root, after building gateaudit)::

    .venv/bin/python ci/bench.d/collect_scale.py BINARY [--accounts 50] [--pipelines 20] [--principals 200]
        [--small-principals 50] [--ic-users 2000] [--latency-ms 40] [--work DIR]

Scenarios, each on an emulator of its own, measured in this run:
  one       1 member account  x PIPELINES x PRINCIPALS, Identity Center of IC_USERS users
  many      ACCOUNTS members  x PIPELINES x PRINCIPALS, the same Identity Center
  small     1 member account  x PIPELINES x SMALL_PRINCIPALS (no Identity Center)
  noreport  1 member account  x PIPELINES x PRINCIPALS without credential reports (the per-user fallback)
(the management account, where the organisation and Identity Center are read, is audited too).

`many` is collected twice: with the default concurrency, and with every account at once (max_concurrency
ACCOUNTS+1), to tell the emulator's limit from the client's. `one` and `many` are then collected again with every
response delayed by LATENCY_MS (the emulator's `slow` fault, a sleep outside the served request): on loopback a
call costs only the emulator's CPU, so the plain ratio measures one Python process serving 50 accounts' calls;
AWS answers each account from its own fleet, after a network round trip, which the delay stands in for.

Prints the collection time of `many` against `one` (target < 2x with the default concurrency), without and with
the delay, the calls to one
member account at PRINCIPALS and SMALL_PRINCIPALS (must be equal: PASS/MISS) with the operations that differ,
where the time of `many` went (emulator CPU seconds and CPU% of the wall time, gateaudit's CPU), and peak RSS
(GNU time) against the snapshot's size. Exits 1 when a scenario's collection fails or is incomplete.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON = os.path.join(ROOT, ".venv", "bin", "python")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (and its reaped children) from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime + cutime + cstime) / CLOCK_TICKS


class Emulator:
    def __init__(self, log_dir: str):
        self.out = open(os.path.join(log_dir, "emulator.out"), "w+")
        self.err = open(os.path.join(log_dir, "emulator.err"), "w")
        self.process = subprocess.Popen(
            [PYTHON, os.path.join(ROOT, "tests", "emulator", "server.py"), "--port", "0"],
            stdin=subprocess.PIPE, stdout=self.out, stderr=self.err, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self.out.seek(0)
            line = self.out.readline().strip()
            if line.startswith("READY "):
                self.endpoint = line.split()[1]
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the emulator did not start (see {self.err.name})")

    def set_latency(self, latency_ms: int) -> None:
        """Delays every later response by `latency_ms` (0: none), through the fault-injection control endpoint."""
        rules = [{"mode": "slow", "delay_ms": latency_ms}] if latency_ms > 0 else []
        request = urllib.request.Request(f"{self.endpoint}/_emulator/faults", method="POST",
                                         data=json.dumps({"reset": True, "rules": rules}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as reply:
            reply.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()  # the server exits on stdin EOF
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.out.close()
        self.err.close()


def gnu_time(log: str) -> tuple[float, int, float]:
    """(wall seconds, peak RSS KiB, user+system CPU seconds) from a GNU time -v log."""
    wall = rss = cpu = 0.0
    with open(log) as f:
        for line in f:
            key, _, value = line.strip().rpartition(": ")
            if key.startswith("Elapsed (wall clock)"):
                wall = 0.0
                for part in value.split(":"):
                    wall = wall * 60 + float(part)
            elif key == "Maximum resident set size (kbytes)":
                rss = int(value)
            elif key in ("User time (seconds)", "System time (seconds)"):
                cpu += float(value)
    return wall, int(rss), cpu


def collect(name: str, binary: str, folder: str, emulator: Emulator, concurrency: int | None) -> dict:
    """One `gateaudit collect` of the seeded organisation (`concurrency`: max_concurrency, None = the default)."""
    config = os.path.join(folder, "gateaudit.toml")
    if concurrency is not None:
        with open(config) as f:
            text = f.read()
        config = os.path.join(folder, f"gateaudit-{name}.toml")
        with open(config, "w") as f:
            f.write(f"max_concurrency = {concurrency}\n" + text)
    env = dict(os.environ, AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    with open(os.path.join(folder, "credentials.env")) as f:
        env.update(line.strip().split("=", 1) for line in f if "=" in line)
    snapshot, log, timing = (os.path.join(folder, f"{name}.{n}") for n in ("snapshot.json", "log", "time"))
    emulator_cpu = cpu_seconds(emulator.process.pid)
    with open(log, "w") as stderr:
        status = subprocess.run(
            ["/usr/bin/time", "-v", "-o", timing, binary, "--log-format", "json", "collect", "--config", config,
             "--out", snapshot],
            cwd=ROOT, env=env, stderr=stderr, stdout=subprocess.DEVNULL).returncode
    emulator_cpu = cpu_seconds(emulator.process.pid) - emulator_cpu
    wall, rss, own_cpu = gnu_time(timing)
    totals = None
    with open(log) as f:
        for line in f:
            if line.startswith("{") and '"event":"totals"' in line:
                totals = json.loads(line)
    if status != 0 or totals is None:
        raise RuntimeError(f"{name}: gateaudit collect exited {status} without a totals event (see {log})")
    with open(snapshot) as f:
        snap = json.load(f)
    incomplete = [(a["account_id"], s["step"], s["status"]) for a in snap["accounts"] for s in a["steps"]
                  if s["status"] != "ok"]
    incomplete += [("identity-center", s["step"], s["status"])
                   for s in (snap.get("identity_center") or {}).get("steps", []) if s["status"] != "ok"]
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    return {"name": name, "seconds": wall, "rss_kib": rss, "cpu": own_cpu, "emulator_cpu": emulator_cpu,
            "snapshot_bytes": os.path.getsize(snapshot), "totals": totals, "accounts": len(snap["accounts"]),
            "incomplete": incomplete, "manifest": manifest, "concurrency": concurrency}


def scenario(name: str, binary: str, work: str, seed_args: list[str],
             variants: list[tuple[str, int | None, int]]) -> list[dict]:
    """Seeds a fresh emulator, then collects it once per variant (suffix, max_concurrency, latency ms)."""
    folder = os.path.join(work, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    emulator = Emulator(folder)
    try:
        started = time.monotonic()
        subprocess.run([PYTHON, os.path.join(ROOT, "tests", "emulator", "seed_scale.py"), "--endpoint",
                        emulator.endpoint, "--out", folder, *seed_args], check=True, stderr=subprocess.DEVNULL)
        seeded = time.monotonic() - started
        results = []
        for suffix, concurrency, latency_ms in variants:
            emulator.set_latency(latency_ms)
            result = collect(name + suffix, binary, folder, emulator, concurrency)
            result["latency_ms"] = latency_ms
            results.append(result)
    finally:
        emulator.stop()
    for r in results:
        r["seed_seconds"] = seeded
    return results


def member_calls(result: dict) -> dict:
    """The calls to the first member account (the management account also answers for Organizations and
    Identity Center, so it is not a member's picture)."""
    account = result["manifest"]["accounts"][0]
    return result["totals"]["api_calls_by_account"][account]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("binary")
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--pipelines", type=int, default=20)
    parser.add_argument("--principals", type=int, default=200)
    parser.add_argument("--small-principals", type=int, default=50)
    parser.add_argument("--ic-users", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=40)
    parser.add_argument("--work", default=None)
    args = parser.parse_args(argv)
    work = args.work or tempfile.mkdtemp(prefix="bench-collect-")
    common = ["--pipelines", str(args.pipelines)]
    plan = [
        ("one", ["--accounts", "1", "--principals", str(args.principals), "--ic-users", str(args.ic_users)]),
        ("many", ["--accounts", str(args.accounts), "--principals", str(args.principals),
                  "--ic-users", str(args.ic_users)]),
        ("small", ["--accounts", "1", "--principals", str(args.small_principals), "--ic-users", "0"]),
        ("noreport", ["--accounts", "1", "--principals", str(args.principals), "--ic-users", "0",
                      "--no-credential-report"]),
    ]
    results = {}
    for name, seed_args in plan:
        print(f"== {name}: seeding and collecting", file=sys.stderr, flush=True)
        # The organisation-size scenario is also collected with every account at once, to tell the emulator's
        # limit from the client's (a re-run reads the first run's AssumeRole events too: a few more calls).
        variants = [("", None, 0)] + ([("-all", args.accounts + 1, 0)] if name == "many" else [])
        if name in ("one", "many"):
            variants.append(("-rtt", None, args.latency_ms))
        if name == "many":
            variants.append(("-rtt-all", args.accounts + 1, args.latency_ms))
        for r in scenario(name, args.binary, work, seed_args + common, variants):
            results[r["name"]] = r
    failed = False
    print(f"{'scenario':10s} {'accounts':>8s} {'seed s':>8s} {'collect s':>9s} {'API calls':>9s} "
          f"{'emu CPU s':>9s} {'emu CPU%':>8s} {'own CPU s':>9s} {'peak RSS':>9s} {'snapshot':>9s}")
    for r in results.values():
        print(f"{r['name']:10s} {r['accounts']:8d} {r['seed_seconds']:8.1f} {r['seconds']:9.2f} "
              f"{r['totals']['api_calls']:9d} {r['emulator_cpu']:9.1f} "
              f"{100 * r['emulator_cpu'] / max(r['seconds'], 1e-9):7.0f}% {r['cpu']:9.2f} "
              f"{r['rss_kib'] / 1024:7.0f} MB {r['snapshot_bytes'] / 1e6:6.1f} MB")
        if r["incomplete"]:
            failed = True
            print(f"  {r['name']}: {len(r['incomplete'])} step(s) not ok, e.g. {r['incomplete'][:3]}")
    one, many = results["one"], results["many"]
    ratio = many["seconds"] / max(one["seconds"], 1e-9)
    print(f"time {many['accounts']} accounts / {one['accounts']} accounts (audited, management included): "
          f"{many['seconds']:.2f} s / {one['seconds']:.2f} s = {ratio:.2f}x (target < 2x): "
          f"{'PASS' if ratio < 2 else 'MISS'} (emulator-bound: one Python process serves every account)")
    one_rtt, many_rtt, all_rtt = results["one-rtt"], results["many-rtt"], results["many-rtt-all"]
    ratio_rtt = many_rtt["seconds"] / max(one_rtt["seconds"], 1e-9)
    print(f"with {args.latency_ms} ms per response (AWS's round trip): {many_rtt['seconds']:.2f} s / "
          f"{one_rtt['seconds']:.2f} s = {ratio_rtt:.2f}x (target < 2x): {'PASS' if ratio_rtt < 2 else 'MISS'}; "
          f"every account at once {all_rtt['seconds']:.2f} s = "
          f"{all_rtt['seconds'] / max(one_rtt['seconds'], 1e-9):.2f}x, emulator CPU "
          f"{100 * many_rtt['emulator_cpu'] / max(many_rtt['seconds'], 1e-9):.0f}% with the default concurrency")
    big, small = member_calls(one), member_calls(results["small"])
    verdict = "PASS" if big["total"] == small["total"] else "MISS"
    print(f"calls to a member account: {big['total']} at {args.principals} principals, {small['total']} at "
          f"{args.small_principals} (must be equal): {verdict}")
    for op in sorted(set(big["by_operation"]) | set(small["by_operation"])):
        b, s = big["by_operation"].get(op, 0), small["by_operation"].get(op, 0)
        if b != s:
            print(f"  differs: {op}: {b} vs {s}")
    fallback = member_calls(results["noreport"])
    print(f"without a credential report (per-user fallback): {fallback['total']} calls to a member account at "
          f"{args.principals} principals")
    per_member = [v["total"] for k, v in many["totals"]["api_calls_by_account"].items()
                  if k in many["manifest"]["accounts"]]
    print(f"calls per member account at {args.accounts} accounts: min {min(per_member)}, max {max(per_member)}; "
          f"all accounts together {many['totals']['api_calls']}")
    every = results["many-all"]
    print(f"where {many['accounts']}-account time went: emulator CPU {many['emulator_cpu']:.1f} s of "
          f"{many['seconds']:.1f} s wall ({100 * many['emulator_cpu'] / max(many['seconds'], 1e-9):.0f}% of one "
          f"core; the emulator is one Python process), gateaudit CPU {many['cpu']:.1f} s; with all "
          f"{every['accounts']} accounts at once (max_concurrency {every['concurrency']}): {every['seconds']:.2f} s "
          f"= {every['seconds'] / max(one['seconds'], 1e-9):.2f}x, emulator CPU "
          f"{100 * every['emulator_cpu'] / max(every['seconds'], 1e-9):.0f}%")
    print(f"peak RSS {many['rss_kib'] / 1024:.0f} MB for a {many['snapshot_bytes'] / 1e6:.1f} MB snapshot "
          f"({many['rss_kib'] * 1024 / max(many['snapshot_bytes'], 1):.1f}x); 1 account: "
          f"{one['rss_kib'] / 1024:.0f} MB for {one['snapshot_bytes'] / 1e6:.1f} MB")
    print(f"work folder: {work}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
