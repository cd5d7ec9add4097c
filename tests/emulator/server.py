#!/usr/bin/env python3
"""gateaudit's AWS emulator: moto 5.2.5 in server mode plus our extensions.

Usage::

    .venv/bin/python tests/emulator/server.py [--port 0] [--host 127.0.0.1] [--no-stdin-watch]

Starts moto's WSGI app in-process on a loopback port (0 = a free one), prints
exactly one line ``READY http://127.0.0.1:<port>`` on stdout (flushed) once the
socket accepts connections, and serves until SIGTERM/SIGINT or until its
standard input reaches EOF (so a test harness that dies does not leave it
behind; pass ``--no-stdin-watch`` when starting it in the background from a
shell).  Nothing else is printed on stdout; request logs are off.

Extensions (tests/emulator/ext/, loaded before the first request):
  codepipeline.py  pipelines as AWS runs them: stored versions (GetPipeline
                   ``version``), whole V2 declarations with AWS's validation,
                   executions that run their own version (trigger,
                   sourceRevisions/artifactRevisions, variables), SUPERSEDED /
                   QUEUED / PARALLEL modes, waiting manual approvals,
                   beforeEntry/onSuccess/onFailure conditions and rules
                   (VariableCheck, DeploymentWindow by the emulator clock, the
                   others set by POST /_emulator/rules), OverrideStageCondition,
                   ListRuleExecutions, RetryStageExecution, RollbackStage,
                   Disable/EnableStageTransition, StopPipelineExecution,
                   PutActionRevision, GetPipelineState, PutApprovalResult,
                   ListActionExecutions
  quartz.py        Quartz-style cron expressions and time zones (DeploymentWindow)
  cloudtrail.py    every API call recorded as a CloudTrail event; LookupEvents;
                   trails deliver gzip log files to their S3 bucket; events
                   that services emit themselves (portal, SAML federation,
                   service roles); cross-account AssumeRole in both accounts
  sts.py           AssumeRole checks role existence and trust policy;
                   SourceIdentity; CloudTrail's AssumeRole shape with the
                   role account's copy (sharedEventID); SAML sessions
                   (AssumeRoleWithSAML) check the Federated trust and record
                   the SAMLUser event; AWS services assuming their service
                   roles (POST /_emulator/service-session)
  organizations.py fixed-id accounts join by InviteAccountToOrganization +
                   AcceptHandshake; member accounts get AccessDenied, delegated
                   administrators may read; policy types enabled per root;
                   CloseAccount goes PENDING_CLOSURE -> SUSPENDED
  identity_center.py  the organisation's instance in the management account;
                   assignments provision AWSReservedSSO_* roles (SAML trust,
                   policies, boundary) into the target accounts; sign-in and
                   the access portal's GetRoleCredentials with its events
  s3fix.py         GetBucketVersioning with AWS's root element
  credential_report.py  IAM credential reports as AWS keeps them: a picture
                   of the users taken at generation (GeneratedTime by the
                   emulator clock), regenerated only after four hours, with
                   the root row and CSV quoting
  athena.py        queries that run: CREATE EXTERNAL TABLE with partition
                   projection kept in a catalog, SELECT (Trino) transpiled by
                   sqlglot and run by duckdb over the table's S3 objects,
                   QUEUED/RUNNING/SUCCEEDED/FAILED/CANCELLED on a thread,
                   results written as CSV to the output location and paged
                   by GetQueryResults (MaxResults, NextToken)
  kms.py           automatic key rotation by the clock, recorded as the
                   AwsServiceEvent RotateKey (userIdentity accountId + invokedBy)
  identity.py      access key -> IAM user / assumed-role session / root
  clock.py         settable clock for event/execution times and trail files
  faults.py        injected throttling, 5xx bursts, connection resets, slow
                   responses, expired sessions, denials; request statistics

Control endpoints (not AWS APIs; plain HTTP, JSON bodies, no signing):
  POST /_emulator/flush-trails   deliver pending trail log files now
                                 -> {"written": <files written>}
  POST /_emulator/clock          {"now": "2026-05-01T10:00:00Z"} sets the clock
                                 (it then runs on in real time);
                                 {"reset": true} returns to the real time
                                 -> {"now": "<current emulated time>"}
                                 (pending trail files are flushed first;
                                 then pipelines follow the new time: approval
                                 and rule timeouts, deployment windows)
  GET  /_emulator/clock          -> {"now": "<current emulated time>"}
  POST /_emulator/faults         {"reset": true, "rules": [...]} sets fault rules
                                 (see ext/faults.py) -> the state below
  GET  /_emulator/faults         -> {"rules": [... "fired": n], "stats": {...}}
                                 (requests, max concurrent overall and per
                                 account, per operation, faults injected)
  GET  /_emulator/secrets        -> {"secrets": [...]} every secret access key and
                                 session token the emulator has issued (IAM user
                                 keys, STS sessions), so tests can check that none
                                 leaks into gateaudit's output
  POST /_emulator/athena         {"min_running_ms": 5000}: later Athena queries
                                 run at least that long
  GET  /_emulator/athena         -> {"settings": {...}, "executions": [{id, state,
                                 reason, query, dataScannedInBytes, rows}]}
  GET  /_emulator/health         -> {"ok": true}
  POST /_emulator/accounts       {"accountId": "222222222222", "name": "dev",
                                 "email": "dev@example.com"}: what the account
                                 was signed up with (Organizations shows it;
                                 default name = the id, e-mail <id>@example.com)
                                 -> {"accountId", "name", "email"}
  POST /_emulator/sso/enable     {"accountId": <management account>,
                                 "region": "us-east-1"}: enable Identity
                                 Center's organisation instance (a console-only
                                 step on AWS) -> {"instanceArn",
                                 "identityStoreId", "ownerAccountId", "region"}
  POST /_emulator/sso/sign-in    {"identityStoreId": "d-...", "userName": "alice"}:
                                 a completed device-authorization sign-in of an
                                 identity-store user -> {"accessToken",
                                 "expiresIn", "tokenType", "region", "userId"}
                                 (404 for an unknown user)
  POST /_emulator/rules          {"accountId": "111111111111", "region": "us-east-1",
                                 "pipeline": "app", "stage": "Prod", "rule": "Healthy",
                                 "result": "Succeeded"|"Failed"|"InProgress",
                                 "summary": "...", "externalExecutionId": "..."}:
                                 the outcome of a CloudWatchAlarm / LambdaInvoke /
                                 Commands / CodeBuild rule (these wait, InProgress,
                                 until set); it applies to the running and all later
                                 runs of that rule until changed ("InProgress"
                                 clears it) -> the stored outcome (400 for bad input)
  POST /_emulator/actions        {"accountId", "region", "pipeline", "stage", "action",
                                 "result": "Succeeded"|"Failed", "summary"}: the
                                 outcome of the later runs of a non-approval,
                                 non-source action (default: Succeeded)
                                 -> the stored outcome
  POST /_emulator/codepipeline   {"startOnCreate": true}: CreatePipeline starts an
                                 execution (trigger CreatePipeline) as AWS does
                                 (default false, so seeds decide every execution)
                                 -> {"startOnCreate": bool}
  POST /_emulator/service-session {"service": "codebuild.amazonaws.com",
                                 "roleArn": "arn:aws:iam::111111111111:role/Build",
                                 "sessionName": "AWSCodeBuild-<uuid>" (optional),
                                 "durationSeconds": 3600, "region": "us-east-1",
                                 "sourceAccount": "...", "sourceArn": "...",
                                 "asService": false}: the service assumes its
                                 service role (the role's trust policy must name
                                 the service principal) -> {"credentials":
                                 {"accessKeyId", "secretAccessKey", "sessionToken",
                                 "expiration"}, "assumedRoleUser": {"assumedRoleId",
                                 "arn"}, "service", "asService"}; 403 when the trust
                                 policy refuses (recorded as AccessDenied), 404 for
                                 a missing role.  asService true: calls with the
                                 credentials are the service's own (CloudTrail
                                 invokedBy); false: the commands it runs for you

Unsigned AWS APIs served before moto: the Identity Center access portal
(boto3 ``sso``: GET /federation/credentials, GET /assignment/accounts,
GET /assignment/roles, POST /logout, header ``x-amz-sso_bearer_token``).

Accounts: select one with the ``x-moto-account-id`` header or by signing with
credentials moto issued (IAM user keys, STS AssumeRole sessions).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from typing import Any, Callable, Iterable

sys.dont_write_bytecode = True  # keep __pycache__ out of the work tree
HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)


def control_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The /_emulator/* control endpoints."""
    from ext import athena, clock, cloudtrail, codepipeline, faults, identity_center, kms, organizations, sts

    path = environ.get("PATH_INFO", "")
    method = environ.get("REQUEST_METHOD", "GET")
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""

    def reply(status: str, payload: dict[str, Any]) -> Iterable[bytes]:
        body = json.dumps(payload).encode()
        start_response(status, [("Content-Type", "application/json"),
                                ("Content-Length", str(len(body)))])
        return [body]

    try:
        params = json.loads(raw or b"{}")
    except ValueError:
        return reply("400 Bad Request", {"error": "body must be JSON"})
    if path == "/_emulator/health":
        return reply("200 OK", {"ok": True})
    if path == "/_emulator/secrets":
        return reply("200 OK", {"secrets": issued_secrets()})
    if path == "/_emulator/faults":
        if method == "POST":
            try:
                return reply("200 OK", faults.configure(params))
            except ValueError as e:
                return reply("400 Bad Request", {"error": str(e)})
        return reply("200 OK", faults.state())
    if path == "/_emulator/athena":
        if method == "POST":
            try:
                return reply("200 OK", athena.configure(params))
            except ValueError as e:
                return reply("400 Bad Request", {"error": str(e)})
        return reply("200 OK", athena.state())
    if path == "/_emulator/flush-trails" and method == "POST":
        return reply("200 OK", {"written": cloudtrail.flush_trails()})
    if path == "/_emulator/clock":
        if method == "POST":
            cloudtrail.flush_trails()
            if params.get("reset"):
                clock.reset()
            elif params.get("now"):
                try:
                    clock.set_now(clock.parse_iso(params["now"]))
                except ValueError:
                    return reply("400 Bad Request", {"error": "bad 'now' timestamp"})
            else:
                return reply("400 Bad Request", {"error": "give 'now' or 'reset'"})
            codepipeline.tick_all()  # approval/rule timeouts and deployment windows follow the clock
            kms.tick()  # automatic key rotations that came due (AWS service events)
        return reply("200 OK", {"now": clock.iso_z(clock.now())})
    if path == "/_emulator/accounts" and method == "POST":
        try:
            return reply("200 OK", organizations.register_account(
                str(params.get("accountId", "")), params.get("name"), params.get("email")))
        except ValueError as err:
            return reply("400 Bad Request", {"error": str(err)})
    if path == "/_emulator/sso/enable" and method == "POST":
        try:
            return reply("200 OK", identity_center.enable_organization_instance(
                str(params.get("accountId", "")), params.get("region") or "us-east-1", params.get("name")))
        except ValueError as err:
            return reply("400 Bad Request", {"error": str(err)})
    if path == "/_emulator/sso/sign-in" and method == "POST":
        try:
            return reply("200 OK", identity_center.sign_in(
                str(params.get("identityStoreId", "")), str(params.get("userName", ""))))
        except LookupError as err:
            return reply("404 Not Found", {"error": str(err)})
    if path in ("/_emulator/rules", "/_emulator/actions") and method == "POST":
        setter = codepipeline.set_rule_outcome if path.endswith("rules") else codepipeline.set_action_outcome
        try:
            return reply("200 OK", setter(params))
        except ValueError as err:
            return reply("400 Bad Request", {"error": str(err)})
    if path == "/_emulator/codepipeline":
        return reply("200 OK", codepipeline.configure(params if method == "POST" else {}))
    if path == "/_emulator/service-session" and method == "POST":
        try:
            return reply("200 OK", sts.issue_service_session(params))
        except sts.ServiceSessionError as err:
            status = {400: "400 Bad Request", 403: "403 Forbidden", 404: "404 Not Found"}[err.status]
            return reply(status, {"error": str(err)})
    return reply("404 Not Found", {"error": f"unknown control endpoint {method} {path}"})


def issued_secrets() -> list[str]:
    """Every secret access key and session token moto has issued, in any account."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    secrets: set[str] = set()
    for _account, regions in list(iam_backends.items()):
        backend = regions.get("aws") if hasattr(regions, "get") else None
        for key in list(getattr(backend, "access_keys", {}).values()):
            if getattr(key, "secret_access_key", None):
                secrets.add(key.secret_access_key)
    for _account, regions in list(sts_backends.items()):
        backend = regions.get("aws") if hasattr(regions, "get") else None
        for role in list(getattr(backend, "assumed_roles", [])):
            for field in ("secret_access_key", "session_token"):
                value = getattr(role, field, None)
                if value:
                    secrets.add(value)
    return sorted(secrets)


def build_app() -> Callable[..., Any]:
    """moto's dispatcher app, extended, wrapped in the CloudTrail recorder and, outside it, fault injection
    (injected failures are not recorded as CloudTrail events)."""
    import ext
    from ext.cloudtrail import Recorder
    from ext.faults import Faults
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    ext.install()

    class Dispatcher(DomainDispatcherApplication):
        """moto's dispatcher, remembering which backend serves a host: moto 5.2.5 works it out again for every
        request, under its one lock, by listing its own package folder (a stat per module) and trying every
        backend's URL patterns, about a fifth of the emulator's time under load. The answer depends only on the
        host and on moto's installed files, which do not change while the server runs."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._backend_of_host: dict[str | None, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            try:
                return self._backend_of_host[host]
            except KeyError:
                backend = super().get_backend_for_host(host)
                self._backend_of_host[host] = backend
                return backend

    return Faults(Recorder(Dispatcher(create_backend_app), control_app))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-stdin-watch", action="store_true",
                        help="do not exit when stdin reaches EOF")
    args = parser.parse_args(argv)

    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = build_app()
    server = make_server(args.host, args.port, app, threaded=True,
                         request_handler=MotoRequestHandler)
    stop = threading.Event()

    def shutdown(*_: Any) -> None:
        if not stop.is_set():
            stop.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    if not args.no_stdin_watch:
        def watch_stdin() -> None:
            try:
                while sys.stdin.buffer.read1(4096) if hasattr(sys.stdin.buffer, "read1") else sys.stdin.read(1):
                    pass
            except Exception:
                pass
            shutdown()

        threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()

    host = args.host if ":" not in args.host else f"[{args.host}]"
    print(f"READY http://{host}:{server.server_port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    code = main()
    # Leave without interpreter teardown: nothing is left to flush (the server has closed), and duckdb's
    # bindings (ext/athena.py) print reference-leak noise when torn down at exit.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
