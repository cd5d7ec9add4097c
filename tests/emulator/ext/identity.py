"""Who is calling: map a request's SigV4 access key to an AWS identity.

moto keeps every access key in ``iam_backends[account]["aws"].access_keys``:
IAM users' keys (``AccessKey.user_name`` set) and the temporary keys that STS
AssumeRole hands out (``AccessKey.role_arn`` set; the session itself is an
``AssumedRole`` in ``sts_backends[account]["aws"].assumed_roles``).  We reuse
that mapping and build the identity CloudTrail would report, in the real
``userIdentity`` shapes (IAMUser, AssumedRole, Root).  A key moto does not
know (e.g. the SDK's dummy "testing" key) is treated as the root user of the
account the request addresses (``x-moto-account-id`` header, as moto does).

The STS extension (sts.py) records per-session extras that moto drops:
``SourceIdentity``, the session creation time and, for sessions an AWS
service made with its service role (POST /_emulator/service-session), the
service principal; they live in SESSIONS.  A service session made with
``asService`` stands for the service's own calls: its events carry
``invokedBy`` (and the service as sourceIPAddress/userAgent, see
cloudtrail.py), as AWS records calls a service makes with a role.  The role's
account sees a cross-account caller as ``AWSAccount`` (principal id and
account id only), ``cross_account_identity``.
SAML sessions (AssumeRoleWithSAML, and Identity Center's GetRoleCredentials,
which federates into an ``AWSReservedSSO_*`` role) are ordinary moto
``AssumedRole`` sessions in the role's account, so they resolve like any other
role session: ``assumed-role/<role name>/<session name>``, with the role's
full ARN (path included) as sessionIssuer; SESSIONS also keeps their SAML
provider, subject and issuer under "saml".
"""

from __future__ import annotations

import datetime as _dt
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID

from . import clock

#: access key id -> {"source_identity": str|None, "created": datetime,
#:                   "service": str (service sessions), "invoked_by": str|None, "saml": {...}}
SESSIONS: dict[str, dict[str, Any]] = {}
SESSIONS_LOCK = threading.Lock()

_ACCESS_KEY_RE = re.compile(r"Credential=([^/,\s]+)/")


def access_key_from_headers(headers: Any) -> str | None:
    """The access key id of a SigV4-signed request (None when unsigned)."""
    auth = headers.get("Authorization") or headers.get("authorization") or ""
    match = _ACCESS_KEY_RE.search(auth)
    return match.group(1) if match else None


@dataclass
class Identity:
    """A caller, with everything CloudTrail's userIdentity needs."""

    type: str  # "IAMUser" | "AssumedRole" | "Root"
    account_id: str
    access_key_id: str | None
    arn: str
    principal_id: str
    user_name: str | None = None  # IAM user name (IAMUser) / role name (AssumedRole)
    role_arn: str | None = None
    role_id: str | None = None
    session_name: str | None = None
    source_identity: str | None = None
    session_created: _dt.datetime | None = None
    invoked_by: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def principal_arn(self) -> str:
        """The IAM principal behind the caller (role ARN for a role session)."""
        return self.role_arn if self.type == "AssumedRole" and self.role_arn else self.arn

    @property
    def username(self) -> str:
        """What CloudTrail LookupEvents reports as ``Username``."""
        if self.type == "IAMUser":
            return self.user_name or ""
        if self.type == "AssumedRole":
            return self.session_name or ""
        return "root"

    def user_identity(self) -> dict[str, Any]:
        """CloudTrail userIdentity element (eventVersion 1.08 shapes)."""
        ui: dict[str, Any] = {
            "type": self.type,
            "principalId": self.principal_id,
            "arn": self.arn,
            "accountId": self.account_id,
        }
        if self.access_key_id:
            ui["accessKeyId"] = self.access_key_id
        if self.type == "IAMUser":
            ui["userName"] = self.user_name
        elif self.type == "AssumedRole":
            created = self.session_created or clock.now()
            ctx: dict[str, Any] = {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": self.role_id,
                    "arn": self.role_arn,
                    "accountId": self.account_id,
                    "userName": self.user_name,
                },
                "webIdFederationData": {},
                "attributes": {
                    "creationDate": clock.iso_z(created),
                    "mfaAuthenticated": "false",
                },
            }
            if self.source_identity:
                ctx["sourceIdentity"] = self.source_identity
            ui["sessionContext"] = ctx
        if self.invoked_by:
            ui["invokedBy"] = self.invoked_by
        return ui

    def cross_account_identity(self) -> dict[str, Any]:
        """userIdentity of this caller in the event copy another account receives (AssumeRole of its role)."""
        ui: dict[str, Any] = {"type": "AWSAccount", "principalId": self.principal_id, "accountId": self.account_id}
        if self.invoked_by:
            ui["invokedBy"] = self.invoked_by
        return ui


def _root(account_id: str, access_key: str | None) -> Identity:
    return Identity(
        type="Root",
        account_id=account_id,
        access_key_id=access_key,
        arn=f"arn:aws:iam::{account_id}:root",
        principal_id=account_id,
    )


def account_for_request(headers: Any, access_key: str | None) -> str:
    """The account a request addresses, by moto's own rules."""
    if headers.get("x-moto-account-id"):
        return headers.get("x-moto-account-id")
    if access_key:
        from moto.iam.models import get_account_id_from

        return get_account_id_from(access_key)
    return DEFAULT_ACCOUNT_ID


def resolve(access_key: str | None, request_account: str) -> Identity:
    """Map an access key to the identity that owns it."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    if not access_key:
        return _root(request_account, None)
    for account_id, account in list(iam_backends.items()):
        backend = account.get("aws") if hasattr(account, "get") else None
        if backend is None or access_key not in backend.access_keys:
            continue
        key = backend.access_keys[access_key]
        if key.user_name:
            try:
                user = backend.get_user(key.user_name)
                principal = user.id
                arn = user.arn
            except Exception:  # user deleted meanwhile
                principal = access_key
                arn = f"arn:aws:iam::{account_id}:user/{key.user_name}"
            return Identity(
                type="IAMUser",
                account_id=account_id,
                access_key_id=access_key,
                arn=arn,
                principal_id=principal,
                user_name=key.user_name,
            )
        if key.role_arn:
            session = None
            for candidate in list(sts_backends[account_id]["aws"].assumed_roles):
                if candidate.access_key_id == access_key:
                    session = candidate
                    break
            role_name = key.role_arn.split("/")[-1]
            try:
                role_id = backend.get_role_by_arn(key.role_arn).id
            except Exception:
                role_id = "AROA" + access_key[4:]
            session_name = session.session_name if session else "unknown"
            with SESSIONS_LOCK:
                extras = dict(SESSIONS.get(access_key, {}))
            return Identity(
                type="AssumedRole",
                account_id=account_id,
                access_key_id=access_key,
                arn=f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}",
                principal_id=f"{role_id}:{session_name}",
                user_name=role_name,
                role_arn=key.role_arn,
                role_id=role_id,
                session_name=session_name,
                source_identity=extras.get("source_identity"),
                session_created=extras.get("created"),
                invoked_by=extras.get("invoked_by"),
            )
    return _root(request_account, access_key)


def resolve_request(headers: Any) -> Identity:
    """Identity of the caller of a request (by its headers)."""
    key = access_key_from_headers(headers)
    return resolve(key, account_for_request(headers, key))
