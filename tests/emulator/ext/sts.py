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
was itself created with a source identity passes it on (role chaining): as on
AWS, the target role's trust policy must then allow ``sts:SetSourceIdentity``
too, whether or not the caller passes ``SourceIdentity`` again, otherwise the
AssumeRole is AccessDenied.
The caller's own identity policies are not evaluated.

CloudTrail: ``shape_assume_role_event`` gives the recorder's AssumeRole event
the shape of the IAM user guide's cross-account sample (readOnly true,
requestParameters as sent, responseElements credentials without the secret /
assumedRoleUser / sourceIdentity, resources) and, when the role is in another
account, the copy that account receives (userIdentity ``AWSAccount``
{principalId, accountId}, same sharedEventID and requestID, its own eventID
and recipientAccountId).  Refused cross-account calls reach the role's account
too when the role exists.

Service roles: ``issue_service_session`` (POST /_emulator/service-session) is
an AWS service assuming a role whose trust policy names it as
``Principal {"Service": ...}`` (``trust_allows(..., service=...)``;
aws:SourceAccount / aws:SourceArn conditions evaluated from the request), as
CodeBuild does with a project's service role when it runs a build (default
session name ``AWSCodeBuild-<build uuid>``).  It creates a real STS session
and records AssumeRole in the role's account with ``userIdentity {type
AWSService, invokedBy <service>}``, sourceIPAddress/userAgent the service and
a sharedEventID, the shape of the AssumeRole events AWS services leave in
customer accounts (EC2 instance profiles, Lambda; no public CodeBuild sample
was found, so this is that shape, not a copied CodeBuild event).  A refusal is
recorded with errorCode AccessDenied.  ``ArnEquals``/``ArnLike``
are evaluated like ``StringEquals``/``StringLike``.

SAML federation (moto's AssumeRoleWithSAML takes the role from the assertion,
checks nothing and records nothing, since the call is unsigned):

* ``issue_saml_session`` is what STS does when a SAML assertion is accepted:
  it checks that the SAML provider exists in the role's account and that the
  role's trust policy allows ``Principal {"Federated": <provider arn>}`` the
  action ``sts:AssumeRoleWithSAML`` under the assertion's ``SAML:aud`` /
  ``SAML:iss`` / ``SAML:sub`` (StringEquals/StringLike), creates a real moto
  STS session of the role in its account named after the assertion's
  RoleSessionName (Identity Center: the user name; later calls resolve to
  ``assumed-role/<role>/<session name>``, identity.py), and records AWS's
  ``AssumeRoleWithSAML`` CloudTrail event in that account: ``userIdentity {type SAMLUser, principalId
  "<nameQualifier>:<subject>", userName, identityProvider <nameQualifier>}``,
  where nameQualifier = base64(SHA-1(issuer + account id + "/" + provider
  name)) as IAM documents it, requestParameters sAMLAssertionID /
  roleSessionName / roleArn / principalArn / durationSeconds,
  responseElements credentials (no secret) / assumedRoleUser / subject /
  subjectType / issuer / audience / nameQualifier, resources (the role and
  the SAML provider), readOnly true.  The duration must lie between 900 s
  and the role's MaxSessionDuration.  Identity Center's portal
  (identity_center.py) uses it for its AWSReservedSSO roles.
* The public ``AssumeRoleWithSAML`` API (e.g. an Okta provider made with
  CreateSAMLProvider) parses the base64 SAML response (Issuer, NameID,
  Audience, SubjectConfirmationData Recipient, the Role, RoleSessionName and
  SessionDuration attributes), requires the RoleArn/PrincipalArn pair among
  the Role attribute values and then goes through ``issue_saml_session``.
  Signatures are not verified.  Failures answer ``AccessDenied`` "Not
  authorized to perform sts:AssumeRoleWithSAML" (HTTP 403) and are recorded
  with that errorCode.  A plain ``sts:AssumeRole`` on a role that only trusts
  a SAML provider is still denied (no ``AWS`` principal matches).
"""

from __future__ import annotations

import base64
import datetime as _dt
import fnmatch
import hashlib
import json
import re
import uuid
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
            if operator in ("StringEquals", "ArnEquals"):
                if actual is None or actual not in wanted:
                    return False
            elif operator in ("StringLike", "ArnLike"):
                if actual is None or not any(fnmatch.fnmatchcase(actual, w) for w in wanted):
                    return False
            elif operator == "StringNotEquals":
                if actual is not None and actual in wanted:
                    return False
    return True


def _federated_matches(principal: Any, provider_arn: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return any(str(v) in ("*", provider_arn) for v in _as_list(principal.get("Federated")))


def _service_matches(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return any(str(v) == service for v in _as_list(principal.get("Service")))


def trust_allows(
    policy_document: str,
    caller: identity.Identity | None,
    action: str,
    context: dict[str, str | None],
    federated: str | None = None,
    service: str | None = None,
) -> bool:
    """True when the trust policy lets ``caller`` perform ``action``.

    With ``federated`` (a SAML/OIDC provider ARN) the principal that must match
    is ``{"Federated": <that arn>}``, with ``service`` (a service principal such
    as ``codebuild.amazonaws.com``) it is ``{"Service": <that name>}``, instead
    of the caller's AWS identity."""
    try:
        doc = json.loads(policy_document)
    except (TypeError, ValueError):
        doc = json.loads(unquote(policy_document))

    def matches(principal: Any) -> bool:
        if federated is not None:
            return _federated_matches(principal, federated)
        if service is not None:
            return _service_matches(principal, service)
        return caller is not None and _principal_matches(principal, caller)

    allowed = False
    for statement in _as_list(doc.get("Statement")):
        if not isinstance(statement, dict):
            continue
        if not _action_matches(statement, action):
            continue
        if "Principal" in statement:
            if not matches(statement["Principal"]):
                continue
        elif "NotPrincipal" in statement:
            if matches(statement["NotPrincipal"]):
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
    # A session that carries a source identity passes it on to the role it assumes (role chaining), so the
    # target's trust policy must allow sts:SetSourceIdentity even when the caller does not name it again.
    if effective_source and not trust_allows(
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


# --------------------------------------------------------------------------
# SAML federation

SAML_AUDIENCE = "https://signin.aws.amazon.com/saml"
_PROVIDER_ARN_RE = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):saml-provider/(.+)$")


class SamlDenied(Exception):
    """STS refused the assertion (AccessDenied)."""


def name_qualifier(issuer: str, account_id: str, provider_name: str) -> str:
    """IAM's saml:namequalifier: base64(SHA-1(issuer + account id + "/" + provider name))."""
    return base64.b64encode(hashlib.sha1(f"{issuer}{account_id}/{provider_name}".encode()).digest()).decode()


def _trail_time(when: _dt.datetime) -> str:
    """Timestamps inside responseElements, as CloudTrail writes them: 'Jul 1, 2026, 12:08:19 PM'."""
    when = when.astimezone(_dt.timezone.utc)
    return f"{when:%b} {when.day}, {when.year}, {when:%-I:%M:%S %p}"


def issue_saml_session(
    role_arn: str,
    provider_arn: str,
    subject: str,
    issuer: str,
    audience: str,
    duration: int,
    region: str,
    *,
    source_ip: str,
    user_agent: str,
    assertion_id: str | None = None,
    subject_type: str = "persistent",
    session_name: str | None = None,
) -> dict[str, Any]:
    """Accept a SAML assertion for ``role_arn``: trust check, moto session, CloudTrail event.

    Returns {"session": moto AssumedRole, "arn", "assumed_role_id", "expiration",
    "name_qualifier"}; raises SamlDenied when STS would refuse."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    from . import cloudtrail

    role_match = _ROLE_ARN_RE.match(role_arn or "")
    provider_match = _PROVIDER_ARN_RE.match(provider_arn or "")
    if not role_match or not provider_match or role_match.group(1) != provider_match.group(1):
        raise SamlDenied()
    account = role_match.group(1)
    iam = iam_backends[account]["aws"]
    try:
        role = iam.get_role_by_arn(role_arn)
        iam.get_saml_provider(provider_arn)
    except Exception:
        raise SamlDenied()
    context = {"saml:aud": audience, "saml:iss": issuer, "saml:sub": subject, "saml:sub_type": subject_type}
    if not trust_allows(role.assume_role_policy_document, None, "sts:AssumeRoleWithSAML", context,
                        federated=provider_arn):
        raise SamlDenied()
    max_duration = int(role.max_session_duration or 3600)
    if not 900 <= duration <= max_duration:
        raise SamlDenied()
    session_name = session_name or subject
    session = sts_backends[account]["aws"].assume_role(
        region_name=region, role_session_name=session_name, role_arn=role.arn, policy=None,
        duration=duration, external_id=None)
    now = clock.now()
    expiration = now + _dt.timedelta(seconds=duration)
    with identity.SESSIONS_LOCK:
        identity.SESSIONS[session.access_key_id] = {
            "source_identity": None, "created": now,
            "saml": {"provider": provider_arn, "subject": subject, "issuer": issuer},
        }
    qualifier = name_qualifier(issuer, account, provider_match.group(2))
    session_arn = f"arn:aws:sts::{account}:assumed-role/{role.name}/{session_name}"
    assumed_role_id = f"{role.id}:{session_name}"
    record = {
        "eventVersion": "1.11",
        "userIdentity": {
            "type": "SAMLUser",
            "principalId": f"{qualifier}:{subject}",
            "userName": subject,
            "identityProvider": qualifier,
        },
        "eventTime": clock.iso_z(now),
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRoleWithSAML",
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
        "requestParameters": {
            "sAMLAssertionID": assertion_id or f"_{uuid.uuid4()}",
            "roleSessionName": session_name,
            "roleArn": role.arn,
            "principalArn": provider_arn,
            "durationSeconds": duration,
        },
        "responseElements": {
            "credentials": {
                "accessKeyId": session.access_key_id,
                "sessionToken": session.session_token,
                "expiration": _trail_time(expiration),
            },
            "assumedRoleUser": {"assumedRoleId": assumed_role_id, "arn": session_arn},
            "subject": subject,
            "subjectType": subject_type,
            "issuer": issuer,
            "audience": audience,
            "nameQualifier": qualifier,
        },
        "additionalEventData": {"RequestDetails": {"endpointType": "regional", "awsServingRegion": region}},
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": True,
        "resources": [
            {"accountId": account, "type": "AWS::IAM::Role", "ARN": role.arn},
            {"accountId": account, "type": "AWS::IAM::SAMLProvider", "ARN": provider_arn},
        ],
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    cloudtrail.record_event(
        account, region, record, subject,
        [{"ResourceType": "AWS::IAM::Role", "ResourceName": role.arn},
         {"ResourceType": "AWS::IAM::SAMLProvider", "ResourceName": provider_arn}],
        when=now)
    return {"session": session, "arn": session_arn, "assumed_role_id": assumed_role_id,
            "expiration": expiration, "name_qualifier": qualifier, "role": role}


_SAML_NS = {"p": "urn:oasis:names:tc:SAML:2.0:protocol", "a": "urn:oasis:names:tc:SAML:2.0:assertion"}


def parse_saml_response(encoded: str) -> dict[str, Any]:
    """The parts of a base64 SAML 2.0 Response that STS uses."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(base64.b64decode(encoded))
    assertion = root.find("a:Assertion", _SAML_NS)
    if assertion is None:
        raise ValueError("no Assertion")

    def text(node: Any, path: str) -> str | None:
        found = node.find(path, _SAML_NS)
        return found.text.strip() if found is not None and found.text else None

    name_id = assertion.find("a:Subject/a:NameID", _SAML_NS)
    confirmation = assertion.find("a:Subject/a:SubjectConfirmation/a:SubjectConfirmationData", _SAML_NS)
    attributes: dict[str, list[str]] = {}
    for attribute in assertion.findall("a:AttributeStatement/a:Attribute", _SAML_NS):
        values = [v.text.strip() for v in attribute.findall("a:AttributeValue", _SAML_NS) if v.text]
        attributes.setdefault(attribute.get("Name", ""), []).extend(values)
    fmt = name_id.get("Format", "") if name_id is not None else ""
    return {
        "id": assertion.get("ID"),
        "issuer": text(assertion, "a:Issuer") or text(root, "a:Issuer"),
        "subject": name_id.text.strip() if name_id is not None and name_id.text else None,
        "subject_type": fmt.rsplit(":", 1)[-1] if fmt else "persistent",
        "audience": text(assertion, "a:Conditions/a:AudienceRestriction/a:Audience"),
        "recipient": confirmation.get("Recipient") if confirmation is not None else None,
        "attributes": attributes,
    }


def _saml_denied(response: TokenResponse) -> tuple[int, dict[str, Any], str]:
    return _access_denied(response, "Not authorized to perform sts:AssumeRoleWithSAML")


def _record_saml_failure(response: TokenResponse, role_arn: str, provider_arn: str, code: str,
                         message: str) -> None:
    from . import cloudtrail

    match = _ROLE_ARN_RE.match(role_arn or "")
    account = match.group(1) if match else response.current_account
    now = clock.now()
    cloudtrail.record_event(account, response.region, {
        "eventVersion": "1.11",
        "userIdentity": {"type": "SAMLUser"},
        "eventTime": clock.iso_z(now),
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRoleWithSAML",
        "awsRegion": response.region,
        "sourceIPAddress": response.headers.get("X-Forwarded-For") or "127.0.0.1",
        "userAgent": response.headers.get("User-Agent", ""),
        "errorCode": code,
        "errorMessage": message,
        "requestParameters": {"roleArn": role_arn, "principalArn": provider_arn},
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }, "", [{"ResourceType": "AWS::IAM::Role", "ResourceName": role_arn}], when=now)


def assume_role_with_saml(self: TokenResponse) -> Any:
    """AssumeRoleWithSAML for customer SAML providers, with AWS's checks and event."""
    from moto.core.responses import ActionResult

    role_arn = self._get_param("RoleArn") or ""
    provider_arn = self._get_param("PrincipalArn") or ""
    try:
        parsed = parse_saml_response(self._get_param("SAMLAssertion") or "")
    except Exception:
        message = "Invalid SAML response"
        _record_saml_failure(self, role_arn, provider_arn, "InvalidIdentityToken", message)
        body = (f'<ErrorResponse xmlns="{_STS_NS}"><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>'
                f"<Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")
        return 400, {"status": 400, "Content-Type": "text/xml"}, body
    pairs = {tuple(p.strip() for p in value.split(","))
             for value in parsed["attributes"].get("https://aws.amazon.com/SAML/Attributes/Role", [])}
    wanted = {(role_arn, provider_arn), (provider_arn, role_arn)}
    subject = (parsed["attributes"].get("https://aws.amazon.com/SAML/Attributes/RoleSessionName") or [None])[0]
    duration = self._get_param("DurationSeconds")
    if duration is None:
        session_duration = parsed["attributes"].get("https://aws.amazon.com/SAML/Attributes/SessionDuration")
        duration = int(session_duration[0]) if session_duration else 3600
    try:
        if not (pairs & wanted) or not subject or not parsed["issuer"]:
            raise SamlDenied()
        issued = issue_saml_session(
            role_arn, provider_arn, parsed["subject"] or subject, parsed["issuer"],
            parsed["recipient"] or parsed["audience"] or "", int(duration), self.region,
            source_ip=self.headers.get("X-Forwarded-For") or "127.0.0.1",
            user_agent=self.headers.get("User-Agent", ""),
            assertion_id=parsed["id"], subject_type=parsed["subject_type"] or "persistent",
            session_name=subject)
    except SamlDenied:
        _record_saml_failure(self, role_arn, provider_arn, "AccessDenied",
                             "Not authorized to perform sts:AssumeRoleWithSAML")
        return _saml_denied(self)
    return ActionResult({
        "Credentials": issued["session"],
        "AssumedRoleUser": {"AssumedRoleId": issued["assumed_role_id"], "Arn": issued["arn"]},
        "PackedPolicySize": 0,
        "Subject": parsed["subject"] or subject,  # NameID
        "SubjectType": parsed["subject_type"] or "persistent",
        "Issuer": parsed["issuer"],
        "Audience": parsed["recipient"] or parsed["audience"],
        "NameQualifier": issued["name_qualifier"],
    })


def install() -> None:
    TokenResponse.assume_role = assume_role
    TokenResponse.assume_role_with_saml = assume_role_with_saml


# --------------------------------------------------------------------------
# AssumeRole in CloudTrail: AWS's shape, and the copy for the role's account


def _find(d: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def shape_assume_role_event(record: dict[str, Any], params: Any, caller: identity.Identity,
                            parsed_response: Any, when: _dt.datetime) -> list[tuple[str, dict[str, Any]]]:
    """Give a recorded AssumeRole event the shape CloudTrail writes; return the copies for other accounts.

    As in the IAM user guide's cross-account sample: readOnly true,
    requestParameters as the request spelled them (roleArn, roleSessionName,
    sourceIdentity, durationSeconds, externalId, ...), responseElements
    credentials {accessKeyId, sessionToken, expiration} (never the secret) /
    assumedRoleUser / sourceIdentity, resources [the role].  When the role
    lives in another account than the caller, CloudTrail delivers the event to
    both: the caller's copy keeps the caller's userIdentity, the role
    account's copy names the caller only as ``AWSAccount`` (principal id and
    account id); both carry the same ``sharedEventID`` and requestID, each its
    own eventID and recipientAccountId.  A refused call is copied to the
    role's account only when that role exists."""
    params = params if isinstance(params, dict) else {}
    role_arn = str(params.get("RoleArn") or "")
    match = _ROLE_ARN_RE.match(role_arn)
    role_account = match.group(1) if match else None
    record["readOnly"] = True
    if not record.get("errorCode") and isinstance(parsed_response, dict):
        credentials = parsed_response.get("Credentials") or {}
        duration = int(params.get("DurationSeconds") or 3600)
        elements: dict[str, Any] = {
            "credentials": {
                "accessKeyId": credentials.get("AccessKeyId"),
                "sessionToken": credentials.get("SessionToken"),
                "expiration": _trail_time(when + _dt.timedelta(seconds=duration)),
            },
            "assumedRoleUser": {
                "assumedRoleId": _find(parsed_response, "AssumedRoleUser", "AssumedRoleId"),
                "arn": _find(parsed_response, "AssumedRoleUser", "Arn"),
            },
        }
        if params.get("Policy") or params.get("PolicyArns") or params.get("Tags"):
            elements["packedPolicySize"] = parsed_response.get("PackedPolicySize")
        if parsed_response.get("SourceIdentity"):
            elements["sourceIdentity"] = parsed_response["SourceIdentity"]
        record["responseElements"] = elements
    resources = [{"accountId": role_account, "type": "AWS::IAM::Role", "ARN": role_arn}] if role_account else []
    shaped: dict[str, Any] = {}
    for key, value in record.items():
        shaped[key] = value
        if key == "readOnly" and resources:
            shaped["resources"] = resources
    record.clear()
    record.update(shaped)
    if not role_account or role_account == record.get("recipientAccountId"):
        return []
    if record.get("errorCode"):
        from moto.iam.models import iam_backends

        try:
            iam_backends[role_account]["aws"].get_role_by_arn(role_arn)
        except Exception:
            return []
    shared = str(uuid.uuid4())
    with_shared: dict[str, Any] = {}
    for key, value in record.items():
        with_shared[key] = value
        if key == "requestID":
            with_shared["sharedEventID"] = shared
    record.clear()
    record.update(with_shared)
    copy = json.loads(json.dumps(record))
    copy["userIdentity"] = caller.cross_account_identity()
    copy["eventID"] = str(uuid.uuid4())
    copy["recipientAccountId"] = role_account
    return [(role_account, copy)]


# --------------------------------------------------------------------------
# an AWS service acting with its service role


_SERVICE_RE = re.compile(r"^[a-z0-9][a-z0-9.\-]*\.amazonaws\.com$")
_SESSION_NAME_RE = re.compile(r"^[\w+=,.@\-]{2,64}$")


class ServiceSessionError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _service_event(account: str, region: str, service: str, request: dict[str, Any], now: _dt.datetime,
                   response: dict[str, Any] | None, error: str | None, role_arn: str) -> None:
    from . import cloudtrail

    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": {"type": "AWSService", "invokedBy": service},
        "eventTime": clock.iso_z(now),
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRole",
        "awsRegion": region,
        "sourceIPAddress": service,
        "userAgent": service,
    }
    if error:
        record["errorCode"] = "AccessDenied"
        record["errorMessage"] = error
    record.update({
        "requestParameters": request,
        "responseElements": response,
        "requestID": str(uuid.uuid4()),
        "sharedEventID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": True,
        "resources": [{"accountId": account, "type": "AWS::IAM::Role", "ARN": role_arn}],
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    })
    cloudtrail.record_event(account, region, record, "",
                            [{"ResourceType": "AWS::IAM::Role", "ResourceName": role_arn}], when=now)


def issue_service_session(params: dict[str, Any]) -> dict[str, Any]:
    """POST /_emulator/service-session: an AWS service assumes its service role, as CodeBuild does for a build.

    Checks that the role exists and that its trust policy lets ``Principal
    {"Service": <service>}`` call sts:AssumeRole (``sourceAccount`` /
    ``sourceArn`` feed the aws:SourceAccount / aws:SourceArn conditions),
    creates a real STS session of the role (its calls resolve to
    ``assumed-role/<role>/<session>``) and records AWS's AssumeRole event in the
    role's account with ``userIdentity {type AWSService, invokedBy <service>}``
    (a refusal is recorded with errorCode AccessDenied).  With ``asService``
    true the session stands for the service's own calls, which CloudTrail
    records with ``invokedBy``; without it, for the commands the service runs
    for you (a build's buildspec), recorded as the plain role session."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    service = str(params.get("service") or "")
    role_arn = str(params.get("roleArn") or "")
    region = str(params.get("region") or "us-east-1")
    if not _SERVICE_RE.match(service):
        raise ServiceSessionError(400, "'service' must be a service principal such as codebuild.amazonaws.com")
    match = _ROLE_ARN_RE.match(role_arn)
    if not match:
        raise ServiceSessionError(400, "'roleArn' must be an IAM role ARN")
    account = match.group(1)
    if service == "codebuild.amazonaws.com":
        default_name = f"AWSCodeBuild-{uuid.uuid4()}"
    else:
        default_name = f"{service.split('.')[0]}-{uuid.uuid4().hex[:16]}"
    session_name = str(params.get("sessionName") or default_name)
    if not _SESSION_NAME_RE.match(session_name):
        raise ServiceSessionError(400, "'sessionName' must be 2-64 characters of [\\w+=,.@-]")
    duration = int(params.get("durationSeconds") or 3600)
    now = clock.now()
    request: dict[str, Any] = {"roleArn": role_arn, "roleSessionName": session_name}
    if params.get("durationSeconds"):
        request["durationSeconds"] = duration
    try:
        role = iam_backends[account]["aws"].get_role_by_arn(role_arn)
    except Exception:
        raise ServiceSessionError(404, f"role {role_arn} does not exist")
    context = {"aws:sourceaccount": params.get("sourceAccount"), "aws:sourcearn": params.get("sourceArn")}
    context = {k: v for k, v in context.items() if v is not None}
    denied = f"{service} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    if not trust_allows(role.assume_role_policy_document, None, "sts:AssumeRole", context, service=service):
        _service_event(account, region, service, request, now, None, denied, role.arn)
        raise ServiceSessionError(403, denied)
    if not 900 <= duration <= int(role.max_session_duration or 3600):
        raise ServiceSessionError(400, "'durationSeconds' must lie between 900 and the role's MaxSessionDuration")
    session = sts_backends[account]["aws"].assume_role(
        region_name=region, role_session_name=session_name, role_arn=role.arn, policy=None,
        duration=duration, external_id=None)
    with identity.SESSIONS_LOCK:
        identity.SESSIONS[session.access_key_id] = {
            "source_identity": None, "created": now, "service": service,
            "invoked_by": service if params.get("asService") else None,
        }
    expiration = now + _dt.timedelta(seconds=duration)
    session_arn = f"arn:aws:sts::{account}:assumed-role/{role.name}/{session_name}"
    assumed_role_id = f"{role.id}:{session_name}"
    _service_event(account, region, service, request, now, {
        "credentials": {"accessKeyId": session.access_key_id, "sessionToken": session.session_token,
                        "expiration": _trail_time(expiration)},
        "assumedRoleUser": {"assumedRoleId": assumed_role_id, "arn": session_arn},
    }, None, role.arn)
    return {
        "credentials": {"accessKeyId": session.access_key_id, "secretAccessKey": session.secret_access_key,
                        "sessionToken": session.session_token, "expiration": clock.iso_z(expiration)},
        "assumedRoleUser": {"assumedRoleId": assumed_role_id, "arn": session_arn},
        "service": service,
        "asService": bool(params.get("asService")),
    }
