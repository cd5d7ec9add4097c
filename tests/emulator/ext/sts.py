"""STS AssumeRole faithfulness.

moto 5.2.5's AssumeRole hands out credentials for *any* role ARN, existing or
not, whoever asks.  gateaudit has to cope with accounts it cannot enter, so we
make AssumeRole check, before moto issues the session:

* the target role exists in the target account, and
* its trust policy allows the caller: ``Allow`` statements whose ``Action``
  covers ``sts:AssumeRole`` and whose ``Principal`` matches the caller
  (``"*"``, ``{"AWS": "*"}``, an account id, ``arn:aws:iam::<acct>:root``,
  the caller's IAM user ARN, the caller's role ARN or assumed-role session
  ARN); an explicit ``Deny`` that matches wins.  ``Condition`` blocks are
  evaluated for ``StringEquals`` / ``StringLike`` on ``sts:ExternalId`` and
  ``sts:SourceIdentity``; any other condition is treated as satisfied.

Otherwise the call fails like AWS: HTTP 403, ``AccessDenied``, "User: <arn> is
not authorized to perform: sts:AssumeRole on resource: <role arn>".

It also adds the ``SourceIdentity`` parameter: it requires
``sts:SetSourceIdentity`` in the trust policy (as AWS does), is returned in the
response, is stored with the session (identity.SESSIONS) and reported as
``sessionContext.sourceIdentity`` in later CloudTrail events.  A session that
was itself created with a source identity passes it on (role chaining).
The caller's own identity policies are not evaluated.
"""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any
from urllib.parse import unquote

from moto.sts.responses import TokenResponse

from . import clock, identity

_ROLE_ARN_RE = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/(.+)$")
_STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _action_matches(statement: dict[str, Any], action: str) -> bool:
    actions = [a.lower() for a in _as_list(statement.get("Action"))]
    if actions:
        return any(fnmatch.fnmatchcase(action.lower(), a) for a in actions)
    not_actions = [a.lower() for a in _as_list(statement.get("NotAction"))]
    return bool(not_actions) and not any(
        fnmatch.fnmatchcase(action.lower(), a) for a in not_actions
    )


def _principal_matches(principal: Any, caller: identity.Identity) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    candidates = {caller.arn, caller.principal_arn}
    for value in _as_list(principal.get("AWS")):
        value = str(value)
        if value == "*":
            return True
        if value == caller.account_id or value == f"arn:aws:iam::{caller.account_id}:root":
            return True
        if value in candidates:
            return True
    return False


def _conditions_hold(condition: Any, context: dict[str, str | None]) -> bool:
    """Evaluate the condition keys we know; unknown operators/keys pass."""
    if not isinstance(condition, dict):
        return True
    for operator, clauses in condition.items():
        if not isinstance(clauses, dict):
            continue
        for key, expected in clauses.items():
            key_l = key.lower()
            if key_l not in context:
                continue  # a key we do not evaluate: allow
            actual = context[key_l]
            wanted = [str(v) for v in _as_list(expected)]
            if operator == "StringEquals":
                if actual is None or actual not in wanted:
                    return False
            elif operator == "StringLike":
                if actual is None or not any(fnmatch.fnmatchcase(actual, w) for w in wanted):
                    return False
            elif operator == "StringNotEquals":
                if actual is not None and actual in wanted:
                    return False
    return True


def trust_allows(
    policy_document: str,
    caller: identity.Identity,
    action: str,
    context: dict[str, str | None],
) -> bool:
    """True when the trust policy lets ``caller`` perform ``action``."""
    try:
        doc = json.loads(policy_document)
    except (TypeError, ValueError):
        doc = json.loads(unquote(policy_document))
    allowed = False
    for statement in _as_list(doc.get("Statement")):
        if not isinstance(statement, dict):
            continue
        if not _action_matches(statement, action):
            continue
        if "Principal" in statement:
            if not _principal_matches(statement["Principal"], caller):
                continue
        elif "NotPrincipal" in statement:
            if _principal_matches(statement["NotPrincipal"], caller):
                continue
        else:
            continue
        if not _conditions_hold(statement.get("Condition"), context):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed


def _access_denied(response: TokenResponse, message: str) -> tuple[int, dict[str, str], str]:
    body = (
        f'<ErrorResponse xmlns="{_STS_NS}">'
        "<Error><Type>Sender</Type><Code>AccessDenied</Code>"
        f"<Message>{_xml_escape(message)}</Message></Error>"
        "<RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>"
        "</ErrorResponse>"
    )
    return 403, {"status": 403, "Content-Type": "text/xml"}, body


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_original_assume_role = TokenResponse.assume_role


def assume_role(self: TokenResponse) -> Any:
    """AssumeRole with existence and trust-policy checks, and SourceIdentity."""
    from moto.iam.models import iam_backends

    role_arn = self._get_param("RoleArn") or ""
    external_id = self._get_param("ExternalId")
    source_identity = self._get_param("SourceIdentity")
    caller = identity.resolve(self.get_access_key(), self.current_account)
    denied = (
        f"User: {caller.arn} is not authorized to perform: sts:AssumeRole "
        f"on resource: {role_arn}"
    )
    match = _ROLE_ARN_RE.match(role_arn)
    if not match:
        return _access_denied(self, denied)
    target_account = match.group(1)
    try:
        role = iam_backends[target_account]["aws"].get_role_by_arn(role_arn)
    except Exception:
        return _access_denied(self, denied)

    inherited = caller.source_identity
    if source_identity and inherited and source_identity != inherited:
        return _access_denied(self, denied)
    effective_source = source_identity or inherited
    context = {"sts:externalid": external_id, "sts:sourceidentity": effective_source}
    if not trust_allows(role.assume_role_policy_document, caller, "sts:AssumeRole", context):
        return _access_denied(self, denied)
    if source_identity and not trust_allows(
        role.assume_role_policy_document, caller, "sts:SetSourceIdentity", context
    ):
        return _access_denied(
            self,
            f"User: {caller.arn} is not authorized to perform: sts:SetSourceIdentity "
            f"on resource: {role_arn}",
        )

    result = _original_assume_role(self)
    session = result.result["Credentials"] if hasattr(result, "result") else None
    if session is not None:
        with identity.SESSIONS_LOCK:
            identity.SESSIONS[session.access_key_id] = {
                "source_identity": effective_source,
                "created": clock.now(),
            }
        if effective_source:
            result.result["SourceIdentity"] = effective_source
    return result


def install() -> None:
    TokenResponse.assume_role = assume_role
