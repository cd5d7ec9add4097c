#!/usr/bin/env python3
"""Validates AWS CodeBuild buildspecs (version 0.2): every `buildspec.yml` given, and every inline `BuildSpec`
of an AWS::CodeBuild::Project in the CloudFormation templates given (`*.cfn.yaml`, read with cfn-lint's decoder).

Checks what CodeBuild would reject or run wrongly: the YAML parses, `version: 0.2`, only known top-level and phase
keys, a `build` phase, every phase's `commands` a non-empty list of strings that each pass `bash -n`, reports with
`files` and a known `file-format`, artefacts with `files`. It lints, nothing else: it never runs a command.

Usage: check-buildspec.py FILE...   (exit 0 when every buildspec is valid, 1 otherwise, 2 on bad usage)
"""

import re
import subprocess
import sys

import yaml

TOP_KEYS = {"version", "run-as", "env", "proxy", "batch", "phases", "reports", "artifacts", "cache"}
ENV_KEYS = {"shell", "variables", "parameter-store", "exported-variables", "secrets-manager", "git-credential-helper"}
PHASES = ["install", "pre_build", "build", "post_build"]
PHASE_KEYS = {"run-as", "on-failure", "runtime-versions", "commands", "finally"}
REPORT_FORMATS = {
    "JUNITXML", "CUCUMBERJSON", "NUNITXML", "NUNIT3XML", "TESTNGXML", "VISUALSTUDIOTRX",
    "CLOVERXML", "COBERTURAXML", "JACOCOXML", "SIMPLECOV",
}


def check_commands(where, commands, errors):
    if not isinstance(commands, list) or not commands:
        errors.append(f"{where}: must be a non-empty list of commands")
        return
    for i, command in enumerate(commands):
        if not isinstance(command, str):
            errors.append(f"{where}[{i}]: not a string: {command!r}")
            continue
        result = subprocess.run(["bash", "-n"], input=command, capture_output=True, text=True)
        if result.returncode != 0:
            errors.append(f"{where}[{i}]: bash -n: {result.stderr.strip()}")


def check_spec(spec):
    """The problems of one parsed buildspec (empty when valid)."""
    errors = []
    if not isinstance(spec, dict):
        return ["not a mapping"]
    for key in sorted(set(spec) - TOP_KEYS):
        errors.append(f"unknown top-level key {key!r}")
    if str(spec.get("version")) != "0.2":
        errors.append(f"version must be 0.2, not {spec.get('version')!r}")
    env = spec.get("env", {})
    if not isinstance(env, dict):
        errors.append("env: not a mapping")
    else:
        for key in sorted(set(env) - ENV_KEYS):
            errors.append(f"env: unknown key {key!r}")
        if env.get("shell", "bash") not in ("bash", "/bin/sh"):
            errors.append(f"env.shell: {env['shell']!r} (bash or /bin/sh on Linux)")
    phases = spec.get("phases")
    if not isinstance(phases, dict):
        errors.append("phases: missing or not a mapping")
    else:
        for name in sorted(set(phases) - set(PHASES)):
            errors.append(f"phases: unknown phase {name!r}")
        if "build" not in phases:
            errors.append("phases: no build phase")
        for name in PHASES:
            phase = phases.get(name)
            if phase is None and name not in phases:
                continue
            if not isinstance(phase, dict):
                errors.append(f"phases.{name}: not a mapping")
                continue
            for key in sorted(set(phase) - PHASE_KEYS):
                errors.append(f"phases.{name}: unknown key {key!r}")
            if "runtime-versions" in phase and name != "install":
                errors.append(f"phases.{name}: runtime-versions belongs to install")
            if phase.get("on-failure", "ABORT") not in ("ABORT", "CONTINUE"):
                errors.append(f"phases.{name}.on-failure: ABORT or CONTINUE")
            check_commands(f"phases.{name}.commands", phase.get("commands"), errors)
            if "finally" in phase:
                check_commands(f"phases.{name}.finally", phase["finally"], errors)
    reports = spec.get("reports", {})
    if not isinstance(reports, dict):
        errors.append("reports: not a mapping")
    else:
        for group, report in reports.items():
            if not isinstance(report, dict):
                errors.append(f"reports.{group}: not a mapping")
                continue
            if not isinstance(report.get("files"), list) or not report["files"]:
                errors.append(f"reports.{group}.files: missing")
            if report.get("file-format", "JUNITXML") not in REPORT_FORMATS:
                errors.append(f"reports.{group}.file-format: unknown {report['file-format']!r}")
    artifacts = spec.get("artifacts")
    if artifacts is not None:
        if not isinstance(artifacts, dict) or not isinstance(artifacts.get("files"), list):
            errors.append("artifacts: needs a list of files")
    return errors


def inline_buildspecs(path):
    """(label, text) of every inline BuildSpec of a template's CodeBuild projects; Fn::Sub placeholders become X."""
    from cfnlint.decode import decode

    template, matches = decode(path)
    if matches:
        raise ValueError("; ".join(str(m) for m in matches))
    found = []
    for name, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::CodeBuild::Project":
            continue
        sources = [resource.get("Properties", {}).get("Source", {})]
        sources += resource.get("Properties", {}).get("SecondarySources", []) or []
        for i, source in enumerate(sources):
            spec = source.get("BuildSpec") if isinstance(source, dict) else None
            if spec is None:
                continue
            if isinstance(spec, dict) and "Fn::Sub" in spec:
                sub = spec["Fn::Sub"]
                text = sub[0] if isinstance(sub, list) else sub
                spec = re.sub(r"\$\{(?!!)[^}]*\}", "X", text).replace("${!", "${")
            if not isinstance(spec, str):
                raise ValueError(f"{name}: BuildSpec is neither a string nor Fn::Sub: cannot be checked")
            # A BuildSpec that is a file name or an S3 ARN (no newline) is checked where that file lives.
            if "\n" in spec:
                found.append((f"{name} source {i}", spec))
    return found


def main(paths):
    if not paths:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    failed = False
    for path in paths:
        try:
            if path.endswith(".cfn.yaml") or path.endswith(".cfn.yml"):
                specs = [(f"{path}: {label}", text) for label, text in inline_buildspecs(path)]
            else:
                with open(path, encoding="utf-8") as f:
                    specs = [(path, f.read())]
        except (OSError, ValueError, yaml.YAMLError) as e:
            print(f"{path}: cannot read: {e}", file=sys.stderr)
            failed = True
            continue
        for label, text in specs:
            try:
                errors = check_spec(yaml.safe_load(text))
            except yaml.YAMLError as e:
                errors = [f"YAML: {e}"]
            for e in errors:
                print(f"{label}: {e}", file=sys.stderr)
            failed |= bool(errors)
            print(f"{label}: {'INVALID' if errors else 'ok'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
