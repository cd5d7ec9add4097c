"""Fault injection: make the emulator fail like AWS does, on purpose, and count what it saw.

AWS throttles, has bad minutes, drops connections and lets sessions expire;
gateaudit's collector must survive all of it without losing or duplicating
evidence, and say so where it could not.  ``Faults`` is a WSGI middleware in
front of the emulator (outside the CloudTrail recorder, so injected failures
are not recorded as events).  Rules are set with ``POST /_emulator/faults``
(server.py)::

    {"reset": true,                       # clear rules and statistics first
     "rules": [{"service": "cloudtrail", "operation": "LookupEvents",
                "account": "444444444444", "region": "*",
                "mode": "rate", "rate": 2, "burst": 2}]}

A rule matches a request by ``service`` (SigV4 credential scope), ``operation``,
``account`` (the account the request addresses), ``region`` and, for
``sts:AssumeRole``, ``target_account`` (the account of the role asked for);
``"*"`` (the default) matches anything.  It skips the first ``after`` matching
requests and fires at most ``count`` times (default: always).  Modes:

* ``throttle``: the service's throttling error with its protocol's status and
  shape: JSON protocols (CloudTrail, CodePipeline) HTTP 400
  ``ThrottlingException`` "Rate exceeded"; query protocols (IAM, STS) HTTP 400
  ``Throttling`` "Rate exceeded"; S3 HTTP 503 ``SlowDown``.
* ``rate``: a token bucket of ``rate`` requests per second (``burst``
  deep, default 2/2: LookupEvents' quota) per account and region; requests
  beyond it get the throttling error.
* ``5xx``: HTTP ``status`` (default 503; 500 gives ``InternalFailure`` /
  ``InternalError``) in the protocol's shape.
* ``reset``: the connection is dropped without a response (TCP RST).
* ``slow``: the response is delayed by ``delay_ms`` (default 2000).
* ``expire``: the caller's STS session expires now; this and every later
  request signed with it gets ``ExpiredToken`` (query, S3) /
  ``ExpiredTokenException`` (JSON), as AWS answers an expired session.
* ``deny``: ``AccessDenied`` (HTTP 403; JSON ``AccessDeniedException`` 400).

``GET /_emulator/faults`` returns the rules with how often each fired, and
statistics: requests served, the most requests in flight at once overall and
per account (an ``sts:AssumeRole`` counts in the account of the role, as part
of reaching it), requests per ``service:Operation`` and per account, and
faults injected per mode.
"""

from __future__ import annotations

import io
import json
import re
import socket
import struct
import threading
import time
import uuid
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

from . import identity

LOCK = threading.Lock()
RULES: list[dict[str, Any]] = []
_BUCKETS: dict[tuple[int, str, str], list[float]] = {}
STATS: dict[str, Any] = {}
_IN_FLIGHT = {"total": 0, "accounts": {}}

_CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")
_MODES = {"throttle", "rate", "5xx", "reset", "slow", "expire", "deny"}
_JSON_SERVICES = {"cloudtrail", "codepipeline", "organizations", "sso", "identitystore", "sso-admin"}


def _fresh_stats() -> dict[str, Any]:
    return {"requests": 0, "max_concurrent": 0, "max_concurrent_per_account": {},
            "by_operation": {}, "by_account": {}, "injected": {}, "expired_sessions": 0}


STATS.update(_fresh_stats())


def configure(params: dict[str, Any]) -> dict[str, Any]:
    """Apply a POST /_emulator/faults body; returns the state (or raises ValueError naming the field)."""
    rules = params.get("rules", [])
    if not isinstance(rules, list):
        raise ValueError("'rules' must be a list")
    checked = []
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict):
            raise ValueError(f"rules[{i}] must be an object")
        mode = rule.get("mode")
        if mode not in _MODES:
            raise ValueError(f"rules[{i}].mode must be one of {sorted(_MODES)}")
        for key in ("after", "count", "status", "delay_ms"):
            if key in rule and rule[key] is not None and not isinstance(rule[key], int):
                raise ValueError(f"rules[{i}].{key} must be an integer")
        for key in ("rate", "burst"):
            if key in rule and not isinstance(rule[key], (int, float)):
                raise ValueError(f"rules[{i}].{key} must be a number")
        checked.append({"service": "*", "operation": "*", "account": "*", "region": "*",
                        "target_account": "*", "after": 0, "count": None, **rule,
                        "seen": 0, "fired": 0})
    with LOCK:
        if params.get("reset"):
            RULES.clear()
            _BUCKETS.clear()
            STATS.clear()
            STATS.update(_fresh_stats())
            with identity.SESSIONS_LOCK:
                for session in identity.SESSIONS.values():
                    session.pop("expired", None)
        RULES.extend(checked)
    return state()


def state() -> dict[str, Any]:
    with LOCK:
        return {"rules": [dict(r) for r in RULES], "stats": json.loads(json.dumps(STATS))}


# --------------------------------------------------------------------------
# what a request is


def _operation(service: str, environ: dict[str, Any], body: bytes) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.split(".")[-1]
    if service != "s3":
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if "Action" in query:
            return query["Action"][0]
        if body and b"Action=" in body:
            form = parse_qs(body.decode("utf-8", "replace"))
            if "Action" in form:
                return form["Action"][0]
        return "?"
    from .cloudtrail import _operation_and_params

    operation, _ = _operation_and_params(service, environ, body)
    return operation or "?"


def _param(environ: dict[str, Any], body: bytes, name: str) -> str | None:
    values = parse_qs(environ.get("QUERY_STRING", "")).get(name) or parse_qs(
        body.decode("utf-8", "replace")).get(name)
    return values[0] if values else None


def _protocol(service: str, environ: dict[str, Any]) -> str:
    if service == "s3":
        return "s3"
    if service in _JSON_SERVICES or "json" in (environ.get("CONTENT_TYPE") or ""):
        return "json"
    return "query"


# --------------------------------------------------------------------------
# answers


def _error(protocol: str, status: int, code: str, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    request_id = str(uuid.uuid4())
    if protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        return status, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code),
                        ("x-amzn-RequestId", request_id)], body
    if protocol == "s3":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
                f"<RequestId>{request_id}</RequestId><HostId>emulator</HostId></Error>").encode()
        return status, [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)], body
    body = (f"<ErrorResponse><Error><Type>{'Sender' if status < 500 else 'Receiver'}</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>").encode()
    return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body


def _throttled(protocol: str) -> tuple[int, list[tuple[str, str]], bytes]:
    if protocol == "json":
        return _error(protocol, 400, "ThrottlingException", "Rate exceeded")
    if protocol == "s3":
        return _error(protocol, 503, "SlowDown", "Please reduce your request rate.")
    return _error(protocol, 400, "Throttling", "Rate exceeded")


def _server_error(protocol: str, status: int) -> tuple[int, list[tuple[str, str]], bytes]:
    if status == 500:
        code = {"json": "InternalFailure", "s3": "InternalError"}.get(protocol, "InternalFailure")
        return _error(protocol, 500, code, "We encountered an internal error. Please try again.")
    code = {"json": "ServiceUnavailableException", "s3": "ServiceUnavailable"}.get(protocol, "ServiceUnavailable")
    return _error(protocol, status, code, "Service is unavailable. Please try again.")


def _expired(protocol: str) -> tuple[int, list[tuple[str, str]], bytes]:
    message = "The security token included in the request is expired"
    if protocol == "json":
        return _error(protocol, 400, "ExpiredTokenException", message)
    return _error(protocol, 400 if protocol == "s3" else 403, "ExpiredToken", message)


def _denied(protocol: str, what: str) -> tuple[int, list[tuple[str, str]], bytes]:
    message = f"User is not authorized to perform: {what} (injected)"
    if protocol == "json":
        return _error(protocol, 400, "AccessDeniedException", message)
    return _error(protocol, 403, "AccessDenied", message)


def _reset(environ: dict[str, Any]) -> None:
    """Drop the connection: no response, and an RST when werkzeug closes the socket."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ConnectionResetError("connection reset (injected)")


# --------------------------------------------------------------------------
# the middleware


def _matches(rule: dict[str, Any], service: str, operation: str, account: str, region: str,
             target_account: str | None) -> bool:
    def ok(key: str, value: str | None) -> bool:
        wanted = rule.get(key, "*")
        return wanted in ("*", None) or wanted == value
    return (ok("service", service) and ok("operation", operation) and ok("account", account)
            and ok("region", region) and ok("target_account", target_account))


def _rate_allows(index: int, rule: dict[str, Any], account: str, region: str) -> bool:
    rate = float(rule.get("rate", 2))
    burst = float(rule.get("burst", 2))
    now = time.monotonic()
    bucket = _BUCKETS.setdefault((index, account, region), [burst, now])
    bucket[0] = min(burst, bucket[0] + (now - bucket[1]) * rate)
    bucket[1] = now
    if bucket[0] >= 1.0:
        bucket[0] -= 1.0
        return True
    return False


class Faults:
    """WSGI middleware: injects the configured faults and keeps the statistics."""

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/_emulator/"):
            return self.app(environ, start_response)
        auth = environ.get("HTTP_AUTHORIZATION", "")
        match = _CREDENTIAL_RE.search(auth)
        if not match:
            return self.app(environ, start_response)
        access_key, region, service = match.group(1), match.group(3), match.group(4).lower()
        stream = environ["wsgi.input"]
        if environ.get("wsgi.input_terminated"):
            body = stream.read()
        else:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = stream.read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ.pop("wsgi.input_terminated", None)
        environ["CONTENT_LENGTH"] = str(len(body))
        account = identity.account_for_request({"x-moto-account-id": environ.get("HTTP_X_MOTO_ACCOUNT_ID")},
                                                access_key)
        protocol = _protocol(service, environ)
        with LOCK:
            need_operation = service != "s3" or any(r.get("service") in ("s3", "*") for r in RULES)
        operation = _operation(service, environ, body) if need_operation else "?"
        target_account = None
        if service == "sts" and operation == "AssumeRole":
            role = _param(environ, body, "RoleArn") or ""
            parts = role.split(":")
            target_account = parts[4] if len(parts) > 4 else None

        with LOCK:
            STATS["requests"] += 1
            key = f"{service}:{operation}"
            STATS["by_operation"][key] = STATS["by_operation"].get(key, 0) + 1
            STATS["by_account"][account] = STATS["by_account"].get(account, 0) + 1
            if target_account:
                tkey = f"sts:AssumeRole->{target_account}"
                STATS["by_operation"][tkey] = STATS["by_operation"].get(tkey, 0) + 1
            # A role assumption is part of reaching the role's account: it counts there.
            counted = target_account or account
            _IN_FLIGHT["total"] += 1
            accounts = _IN_FLIGHT["accounts"]
            accounts[counted] = accounts.get(counted, 0) + 1
            STATS["max_concurrent"] = max(STATS["max_concurrent"], _IN_FLIGHT["total"])
            per = STATS["max_concurrent_per_account"]
            per[counted] = max(per.get(counted, 0), accounts[counted])
        try:
            answer = self._decide(environ, access_key, service, operation, account, region,
                                  target_account, protocol)
            if answer is not None:
                status, headers, payload = answer
                start_response(f"{status} {'Error'}", headers + [("Content-Length", str(len(payload)))])
                return [payload]
            result = self.app(environ, start_response)
            try:
                chunks = list(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
            return [b"".join(chunks)]
        finally:
            with LOCK:
                _IN_FLIGHT["total"] -= 1
                _IN_FLIGHT["accounts"][counted] -= 1

    def _decide(self, environ: dict[str, Any], access_key: str, service: str, operation: str, account: str,
                region: str, target_account: str | None,
                protocol: str) -> tuple[int, list[tuple[str, str]], bytes] | None:
        with identity.SESSIONS_LOCK:
            expired = identity.SESSIONS.get(access_key, {}).get("expired", False)
        if expired:
            self._count("expired-token")
            return _expired(protocol)
        fire: dict[str, Any] | None = None
        with LOCK:
            for index, rule in enumerate(RULES):
                if not _matches(rule, service, operation, account, region, target_account):
                    continue
                rule["seen"] += 1
                if rule["seen"] <= rule.get("after", 0):
                    continue
                if rule.get("count") is not None and rule["fired"] >= rule["count"]:
                    continue
                if rule["mode"] == "rate" and _rate_allows(index, rule, account, region):
                    continue
                rule["fired"] += 1
                fire = dict(rule)
                break
        if fire is None:
            return None
        mode = fire["mode"]
        self._count(mode)
        if mode in ("throttle", "rate"):
            return _throttled(protocol)
        if mode == "5xx":
            return _server_error(protocol, int(fire.get("status") or 503))
        if mode == "deny":
            return _denied(protocol, f"{service}:{operation}")
        if mode == "expire":
            with identity.SESSIONS_LOCK:
                session = identity.SESSIONS.get(access_key)
                if session is None:
                    return None  # not an STS session: nothing to expire
                session["expired"] = True
            with LOCK:
                STATS["expired_sessions"] += 1
            return _expired(protocol)
        if mode == "slow":
            time.sleep(int(fire.get("delay_ms") or 2000) / 1000.0)
            return None
        if mode == "reset":
            _reset(environ)
        return None

    @staticmethod
    def _count(mode: str) -> None:
        with LOCK:
            STATS["injected"][mode] = STATS["injected"].get(mode, 0) + 1
