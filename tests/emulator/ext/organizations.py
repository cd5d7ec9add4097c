"""AWS Organizations as AWS runs it: invitations, who may read, policy types, closure.

moto 5.2.5 keeps one ``OrganizationsBackend`` per account; the management
account's backend holds the organisation (``org``, ``accounts``, ``ou``,
``policies``) and ``organizations_backends.master_accounts`` maps each member
account to its management account.  What gateaudit needs and moto lacks:

* **Existing accounts join by invitation.**  moto's ``CreateAccount`` invents
  random account ids, our demo uses fixed ones (111111111111, ...).  We add
  the real flow: ``InviteAccountToOrganization`` (Target ``ACCOUNT`` with a
  12-digit id, or ``EMAIL`` matched against the account's root e-mail),
  ``AcceptHandshake`` called by the invited account, ``DeclineHandshake``,
  ``CancelHandshake`` (the sender only), ``DescribeHandshake``,
  ``ListHandshakesForAccount`` and ``ListHandshakesForOrganization`` (Filter
  ActionType/ParentHandshakeId, MaxResults, NextToken).  Handshakes have
  AWS's shape (``h-`` id, ARN ``arn:aws:organizations::<mgmt>:handshake/
  <org>/invite/<id>``, Parties, Resources ORGANIZATION{MASTER_EMAIL,
  MASTER_NAME, ORGANIZATION_FEATURE_SET}/ACCOUNT|EMAIL/NOTES), expire after
  15 days (emulated clock) and stay listed 30 days after they close.  On
  acceptance the account becomes a moto ``FakeAccount`` of the organisation
  with its fixed id, ``JoinedMethod INVITED``, Status/State ``ACTIVE``, under
  the root, with the invitation's tags and the default policies of the
  enabled policy types, exactly as moto's own accounts (ListAccounts,
  ListChildren, ListParents, MoveAccount, TagResource, AttachPolicy, org
  trails all see it).  Unlike CreateAccount, no OrganizationAccountAccessRole
  is created (AWS does not create it for invited accounts).  Errors as AWS:
  HandshakeConstraintViolationException (Reason ALREADY_IN_AN_ORGANIZATION),
  DuplicateHandshakeException, HandshakeNotFoundException,
  HandshakeAlreadyInStateException, InvalidHandshakeTransitionException.
  ``LeaveOrganization`` lets a member leave.
* **An account's name and root e-mail** are facts of its sign-up, which the
  emulator cannot see.  ``register_account`` (control endpoint
  ``POST /_emulator/accounts``) records them; without it an account is named
  after its id with e-mail ``<id>@example.com``.
* **Who may call what.**  moto answers every caller from the caller's own
  backend, so a member account's ListAccounts returns ``[]``.  As on AWS:
  the management account may call everything; a member account that is a
  delegated administrator (RegisterDelegatedAdministrator, any service) may
  call the read-only operations (ListAccounts, ListAccountsForParent,
  ListChildren, ListParents, ListRoots, ListOrganizationalUnitsForParent,
  DescribeAccount, DescribeOrganizationalUnit, DescribePolicy, ListPolicies,
  ListPoliciesForTarget, ListTargetsForPolicy, ListTagsForResource,
  ListDelegatedAdministrators, ListDelegatedServicesForAccount,
  ListAWSServiceAccessForOrganization, ListHandshakesForOrganization,
  DescribeCreateAccountStatus, ListCreateAccountStatus,
  DescribeResourcePolicy), answered from the organisation's data; any other
  member gets ``AccessDeniedException`` ("You don't have permissions to
  access this resource."); an account outside any organisation gets
  ``AWSOrganizationsNotInUseException``.  Every account may call
  DescribeOrganization and the handshake calls addressed to it.
  RegisterDelegatedAdministrator also accepts the services gateaudit's
  estates use (sso, cloudtrail, securityhub, config, ...), not only moto's six.
* **Policy types.**  moto attaches FullAWSAccess and RCPFullAWSAccess when the
  organisation is created although the root shows no enabled policy type,
  and AttachPolicy never checks the type.  As on AWS: a new organisation has
  no policy type enabled; ``EnablePolicyType`` (all-features organisations
  only, else PolicyTypeNotAvailableForOrganizationException) attaches the
  AWS-managed default (FullAWSAccess for SCPs, RCPFullAWSAccess for RCPs) to
  the root, every OU and every account, and new OUs/accounts get the
  defaults of the enabled types; ``AttachPolicy`` of a disabled type fails
  with PolicyTypeNotEnabledException; ``DisablePolicyType`` detaches every
  policy of the type; ``DetachPolicy`` refuses to leave a target without an
  SCP (ConstraintViolationException MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED).
  ListPoliciesForTarget then reports only what is directly attached.
* **Paging.**  MaxResults outside the model's range (1..20) is refused with
  InvalidInputException (Reason MAX_VALUE_EXCEEDED / MIN_VALUE_EXCEEDED) and
  ListAccounts returns at most 20 accounts a page by default (moto: 100), so
  a caller that ignores NextToken misses accounts as it would on AWS.
* **Closing accounts.**  moto's CloseAccount suspends at once.  On AWS the
  account is ``PENDING_CLOSURE`` first, then ``SUSPENDED`` (State
  ``SUSPENDED``, and ``CLOSED`` after the 90-day post-closure period); we
  move on after ``CLOSURE_DELAY`` of emulated time.  The management account
  cannot be closed (ConstraintViolationException
  CANNOT_CLOSE_MANAGEMENT_ACCOUNT).

Not modelled: the Organizations service-linked role in joined accounts,
``Account.Paths``, all-features migration handshakes.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import random
import re
import string
import threading
from typing import Any

from moto.organizations import models as org_models
from moto.organizations import utils as org_utils
from moto.organizations.exceptions import OrganizationsClientError
from moto.organizations.models import FakeAccount, OrganizationsBackend, organizations_backends
from moto.organizations.responses import OrganizationsResponse

from . import clock

PARTITION = "aws"
LOCK = threading.RLock()
#: account id -> {"name": ..., "email": ...} (what the account was signed up with)
PROFILES: dict[str, dict[str, str]] = {}
#: handshake id -> _Handshake
HANDSHAKES: dict[str, "_Handshake"] = {}
#: after CloseAccount, PENDING_CLOSURE lasts this long (emulated time)
CLOSURE_DELAY = _dt.timedelta(minutes=5)
POST_CLOSURE_PERIOD = _dt.timedelta(days=90)
HANDSHAKE_LIFETIME = _dt.timedelta(days=15)
HANDSHAKE_LISTED_AFTER_CLOSE = _dt.timedelta(days=30)

SCP, RCP = "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"
_DEFAULT_POLICY = {SCP: org_utils.DEFAULT_SCP_POLICY_ID, RCP: org_utils.DEFAULT_RCP_POLICY_ID}

_ANYONE = {
    "CreateOrganization", "DescribeOrganization", "AcceptHandshake", "DeclineHandshake",
    "CancelHandshake", "DescribeHandshake", "ListHandshakesForAccount", "LeaveOrganization",
}
DELEGATED_READS = {
    "DescribeAccount", "DescribeCreateAccountStatus", "DescribeOrganizationalUnit", "DescribePolicy",
    "DescribeResourcePolicy", "ListAWSServiceAccessForOrganization", "ListAccounts",
    "ListAccountsForParent", "ListChildren", "ListCreateAccountStatus", "ListDelegatedAdministrators",
    "ListDelegatedServicesForAccount", "ListHandshakesForOrganization",
    "ListOrganizationalUnitsForParent", "ListParents", "ListPolicies", "ListPoliciesForTarget",
    "ListRoots", "ListTagsForResource", "ListTargetsForPolicy",
}
_EXTRA_DELEGATED_SERVICES = [
    "sso.amazonaws.com", "cloudtrail.amazonaws.com", "securityhub.amazonaws.com",
    "config.amazonaws.com", "account.amazonaws.com", "backup.amazonaws.com",
    "stacksets.cloudformation.amazonaws.com", "member.org.stacksets.cloudformation.amazonaws.com",
    "inspector2.amazonaws.com", "detective.amazonaws.com", "fms.amazonaws.com",
    "auditmanager.amazonaws.com", "ipam.amazonaws.com", "securitylake.amazonaws.com",
    "health.amazonaws.com", "license-manager.amazonaws.com", "iam.amazonaws.com",
]


class _Error(OrganizationsClientError):
    def __init__(self, code: str, message: str, reason: str | None = None):
        super().__init__(code, message)
        if reason:
            self.Reason = reason


def _access_denied() -> _Error:
    return _Error("AccessDeniedException", "You don't have permissions to access this resource.")


def _not_in_use() -> _Error:
    return _Error("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")


# --------------------------------------------------------------------------
# account facts and organisation look-ups (also used by identity_center.py)


def register_account(account_id: str, name: str | None = None, email: str | None = None) -> dict[str, str]:
    """Record an account's sign-up facts (name, root e-mail); applies to its org entry too."""
    if not re.fullmatch(r"\d{12}", account_id or ""):
        raise ValueError("accountId must be 12 digits")
    with LOCK:
        profile = PROFILES.setdefault(account_id, {})
        if name:
            profile["name"] = name
        if email:
            profile["email"] = email
        for backend in _all_backends():
            for account in backend.accounts:
                if account.id == account_id:
                    account.name = profile.get("name", account.name)
                    account.email = profile.get("email", account.email)
            if backend.org is not None and backend.org.master_account_id == account_id and email:
                backend.org.master_account_email = email
        return account_profile(account_id)


def account_profile(account_id: str) -> dict[str, str]:
    profile = PROFILES.get(account_id, {})
    return {"accountId": account_id, "name": profile.get("name", account_id),
            "email": profile.get("email", f"{account_id}@example.com")}


def _all_backends() -> list[OrganizationsBackend]:
    out = []
    for account_id in list(organizations_backends.keys()):
        try:
            out.append(organizations_backends[account_id][PARTITION])
        except Exception:
            continue
    return out


def _own_backend(account_id: str) -> OrganizationsBackend:
    return organizations_backends[account_id][PARTITION]


def management_account_of(account_id: str) -> str | None:
    """The management account of the organisation ``account_id`` belongs to."""
    if account_id in organizations_backends and _own_backend(account_id).org is not None:
        return account_id
    entry = organizations_backends.master_accounts.get(account_id)
    return entry[0] if entry else None


def org_backend_of(account_id: str) -> OrganizationsBackend | None:
    """The management account's backend of the organisation ``account_id`` belongs to."""
    mgmt = management_account_of(account_id)
    return _own_backend(mgmt) if mgmt else None


def is_management_account(account_id: str) -> bool:
    return management_account_of(account_id) == account_id


def is_delegated_admin(account_id: str, service_principal: str | None = None) -> bool:
    backend = org_backend_of(account_id)
    if backend is None or backend.org.master_account_id == account_id:
        return False
    for admin in backend.admins:
        if admin.account.id == account_id and (service_principal is None or service_principal in admin.services):
            return True
    return False


def org_accounts(account_id: str) -> list[FakeAccount]:
    """The accounts of the organisation ``account_id`` belongs to ([] when none)."""
    backend = org_backend_of(account_id)
    return list(backend.accounts) if backend else []


def _root(backend: OrganizationsBackend) -> Any:
    return next(ou for ou in backend.ou if isinstance(ou, org_models.FakeRoot))


def _enabled_types(backend: OrganizationsBackend) -> set[str]:
    try:
        return {t["Type"] for t in _root(backend).policy_types if t.get("Status") == "ENABLED"}
    except StopIteration:
        return set()


def _naive_now() -> _dt.datetime:
    return clock.now().astimezone(_dt.timezone.utc).replace(tzinfo=None)


# --------------------------------------------------------------------------
# policy types


def _targets(backend: OrganizationsBackend) -> list[Any]:
    return list(backend.ou) + list(backend.accounts)


def _detach(policy: Any, target: Any) -> None:
    if policy in target.attached_policies:
        target.attached_policies.remove(policy)
    if target in policy.attachments:
        policy.attachments.remove(target)


def _strip_disabled(backend: OrganizationsBackend) -> None:
    """Detach every policy whose type is not enabled in the root (moto attaches defaults regardless)."""
    if backend.org is None:
        return
    enabled = _enabled_types(backend)
    for target in _targets(backend):
        for policy in list(target.attached_policies):
            if policy.type not in enabled:
                _detach(policy, target)


def _attach_defaults(backend: OrganizationsBackend, target: Any) -> None:
    for policy_type in _enabled_types(backend):
        policy_id = _DEFAULT_POLICY.get(policy_type)
        if policy_id:
            backend.attach_policy(PolicyId=policy_id, TargetId=target.id)


def _wrap_backend_creation() -> None:
    for name in ("create_organization", "create_organizational_unit", "create_account"):
        original = getattr(OrganizationsBackend, name)

        def wrapper(self: OrganizationsBackend, *args: Any, _original: Any = original, _name: str = name,
                    **kwargs: Any) -> Any:
            result = _original(self, *args, **kwargs)
            if _name == "create_organization":
                profile = PROFILES.get(self.account_id)
                if profile:
                    master = next(a for a in self.accounts if a.id == self.account_id)
                    master.name = profile.get("name", master.name)
                    master.email = profile.get("email", master.email)
                    self.org.master_account_email = master.email
            if _name in ("create_organization", "create_account") and self.accounts:
                self.accounts[-1].create_time = _naive_now()  # JoinedTimestamp on the emulated clock
            _strip_disabled(self)
            return result

        setattr(OrganizationsBackend, name, wrapper)

    original_enable = OrganizationsBackend.enable_policy_type
    original_disable = OrganizationsBackend.disable_policy_type

    def enable_policy_type(self: OrganizationsBackend, **kwargs: Any) -> dict[str, Any]:
        if self.org is not None and self.org.feature_set != "ALL" and kwargs.get("PolicyType") != "BACKUP_POLICY":
            raise _Error("PolicyTypeNotAvailableForOrganizationException",
                         "You can't use the specified policy type with the feature set currently "
                         "enabled for this organization.")
        result = original_enable(self, **kwargs)
        policy_id = _DEFAULT_POLICY.get(kwargs.get("PolicyType", ""))
        if policy_id:
            for target in _targets(self):
                self.attach_policy(PolicyId=policy_id, TargetId=target.id)
        return result

    def disable_policy_type(self: OrganizationsBackend, **kwargs: Any) -> dict[str, Any]:
        result = original_disable(self, **kwargs)
        _strip_disabled(self)
        return result

    OrganizationsBackend.enable_policy_type = enable_policy_type
    OrganizationsBackend.disable_policy_type = disable_policy_type


# --------------------------------------------------------------------------
# account lifecycle


def _refresh_state(account: FakeAccount) -> None:
    closed = getattr(account, "_closed_at", None)
    if closed is None:
        return
    now = clock.now()
    if now - closed >= CLOSURE_DELAY + POST_CLOSURE_PERIOD:
        account.status, account.state = "SUSPENDED", "CLOSED"
    elif now - closed >= CLOSURE_DELAY:
        account.status, account.state = "SUSPENDED", "SUSPENDED"
    else:
        account.status, account.state = "PENDING_CLOSURE", "PENDING_CLOSURE"


_original_account_describe = FakeAccount.describe


def _account_describe(self: FakeAccount) -> dict[str, Any]:
    _refresh_state(self)
    return _original_account_describe(self)


def close_account(self: OrganizationsBackend, **kwargs: Any) -> None:
    if self.org is None:
        raise _not_in_use()
    account_id = kwargs.get("AccountId")
    if account_id == self.org.master_account_id:
        raise _Error("ConstraintViolationException",
                     "You can't close the management account with this operation.",
                     "CANNOT_CLOSE_MANAGEMENT_ACCOUNT")
    account = next((a for a in self.accounts if a.id == account_id), None)
    if account is None:
        raise org_models.AccountNotFoundException()
    _refresh_state(account)
    if account.status != "ACTIVE":
        raise org_models.AccountAlreadyClosedException()
    account._closed_at = clock.now()
    _refresh_state(account)


# --------------------------------------------------------------------------
# handshakes


def _random_id(prefix: str, n: int) -> str:
    return prefix + "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(n))


class _Handshake:
    def __init__(self, backend: OrganizationsBackend, target_type: str, target_id: str, notes: str | None,
                 tags: list[dict[str, str]]):
        org = backend.org
        self.id = _random_id("h-", 10)
        self.org_id = org.id
        self.management_account = org.master_account_id
        self.target_type = target_type
        self.target_id = target_id
        self.notes = notes
        self.tags = tags
        self.feature_set = org.feature_set
        master = next((a for a in backend.accounts if a.id == org.master_account_id), None)
        self.master_email = master.email if master else org.master_account_email
        self.master_name = master.name if master else "master"
        self.requested = clock.now()
        self.expires = self.requested + HANDSHAKE_LIFETIME
        self.state = "OPEN"
        self.changed = self.requested

    @property
    def arn(self) -> str:
        return f"arn:aws:organizations::{self.management_account}:handshake/{self.org_id}/invite/{self.id}"

    def refresh(self) -> None:
        if self.state == "OPEN" and clock.now() >= self.expires:
            self.state, self.changed = "EXPIRED", self.expires

    def set_state(self, state: str) -> None:
        self.state, self.changed = state, clock.now()

    def listed(self) -> bool:
        self.refresh()
        return self.state == "OPEN" or clock.now() - self.changed <= HANDSHAKE_LISTED_AFTER_CLOSE

    def addressed_to(self, account_id: str) -> bool:
        if self.target_type == "ACCOUNT":
            return self.target_id == account_id
        return self.target_id.lower() == account_profile(account_id)["email"].lower()

    def describe(self) -> dict[str, Any]:
        self.refresh()
        resources: list[dict[str, Any]] = [
            {"Type": "ORGANIZATION", "Value": self.org_id, "Resources": [
                {"Type": "MASTER_EMAIL", "Value": self.master_email},
                {"Type": "MASTER_NAME", "Value": self.master_name},
                {"Type": "ORGANIZATION_FEATURE_SET", "Value": self.feature_set},
            ]},
            {"Type": self.target_type, "Value": self.target_id},
        ]
        if self.notes:
            resources.append({"Type": "NOTES", "Value": self.notes})
        return {
            "Id": self.id,
            "Arn": self.arn,
            "Parties": [{"Id": self.org_id, "Type": "ORGANIZATION"},
                        {"Id": self.target_id, "Type": self.target_type}],
            "State": self.state,
            "RequestedTimestamp": clock.epoch(self.requested),
            "ExpirationTimestamp": clock.epoch(self.expires),
            "Action": "INVITE",
            "Resources": resources,
        }


def _handshake_not_found() -> _Error:
    return _Error("HandshakeNotFoundException", "We can't find a handshake with the HandshakeId that you specified.")


def _get_handshake_for(account_id: str, handshake_id: str) -> _Handshake:
    if not re.fullmatch(r"h-[0-9a-z]{8,32}", handshake_id or ""):
        raise _Error("InvalidInputException", "You provided a value that does not match the required pattern.")
    handshake = HANDSHAKES.get(handshake_id)
    if handshake is None or not (handshake.addressed_to(account_id) or handshake.management_account == account_id):
        raise _handshake_not_found()
    handshake.refresh()
    return handshake


def _require_open(handshake: _Handshake, wanted: str) -> None:
    if handshake.state == wanted:
        raise _Error("HandshakeAlreadyInStateException", "The specified handshake is already in the requested state.")
    if handshake.state != "OPEN":
        raise _Error("InvalidHandshakeTransitionException",
                     "You can't perform the operation on the handshake in its current state.")


def _in_some_organization(account_id: str) -> bool:
    return management_account_of(account_id) is not None


def invite_account_to_organization(self: OrganizationsResponse) -> str:
    backend = self.organizations_backend
    target = self._get_param("Target") or {}
    target_type, target_id = target.get("Type"), str(target.get("Id") or "")
    tags = self._get_param("Tags") or []
    notes = self._get_param("Notes")
    if target_type == "ACCOUNT":
        if not re.fullmatch(r"\d{12}", target_id):
            raise _Error("InvalidInputException", "You provided a value that does not match the required pattern.")
    elif target_type == "EMAIL":
        if not re.fullmatch(r"[^\s@]+@[^\s@]+\.[^\s@]+", target_id):
            raise _Error("InvalidInputException", "You provided a value that does not match the required pattern.")
    else:
        raise _Error("InvalidInputException", "You specified an invalid value.")
    with LOCK:
        invited = target_id if target_type == "ACCOUNT" else next(
            (acct for acct, p in PROFILES.items() if p.get("email", "").lower() == target_id.lower()), None)
        if invited and _in_some_organization(invited):
            raise _Error("HandshakeConstraintViolationException",
                         "The handshake request is invalid because the invited account is already a member "
                         "of an organization.", "ALREADY_IN_AN_ORGANIZATION")
        for other in HANDSHAKES.values():
            other.refresh()
            if (other.org_id == backend.org.id and other.state == "OPEN" and other.target_type == target_type
                    and other.target_id.lower() == target_id.lower()):
                raise _Error("DuplicateHandshakeException",
                             "A handshake with the same action and target already exists.")
        handshake = _Handshake(backend, target_type, target_id, notes, tags)
        HANDSHAKES[handshake.id] = handshake
        return json.dumps({"Handshake": handshake.describe()})


def accept_handshake(self: OrganizationsResponse) -> str:
    caller = self.current_account
    with LOCK:
        handshake = _get_handshake_for(caller, self._get_param("HandshakeId"))
        if not handshake.addressed_to(caller):
            raise _handshake_not_found()
        _require_open(handshake, "ACCEPTED")
        if _in_some_organization(caller):
            raise _Error("HandshakeConstraintViolationException",
                         "The handshake request is invalid because the invited account is already a member "
                         "of an organization.", "ALREADY_IN_AN_ORGANIZATION")
        backend = _own_backend(handshake.management_account)
        if backend.org is None or backend.org.id != handshake.org_id:
            raise _Error("InvalidHandshakeTransitionException",
                         "You can't perform the operation on the handshake in its current state.")
        _join(backend, caller, handshake)
        handshake.set_state("ACCEPTED")
        return json.dumps({"Handshake": handshake.describe()})


def _join(backend: OrganizationsBackend, account_id: str, handshake: _Handshake) -> FakeAccount:
    """Make ``account_id`` a member of ``backend``'s organisation, as moto's own accounts are."""
    org = backend.org
    profile = account_profile(account_id)
    if handshake.target_type == "EMAIL":
        PROFILES.setdefault(account_id, {}).setdefault("email", handshake.target_id)
        profile = account_profile(account_id)
    account = FakeAccount.__new__(FakeAccount)
    account.type = "ACCOUNT"
    account.region = org.region
    account.organization_id = org.id
    account.master_account_id = org.master_account_id
    account.create_account_status_id = None
    account.id = account_id
    account.name = profile["name"]
    account.email = profile["email"]
    account.create_time = _naive_now()
    account.status = "ACTIVE"
    account.state = "ACTIVE"
    account.joined_method = "INVITED"
    account.parent_id = org.root_id
    account.attached_policies = []
    account.tags = {t["Key"]: t["Value"] for t in handshake.tags if "Key" in t}
    backend.accounts.append(account)
    _attach_defaults(backend, account)
    organizations_backends.master_accounts[account_id] = (org.master_account_id, PARTITION)
    return account


def decline_handshake(self: OrganizationsResponse) -> str:
    caller = self.current_account
    with LOCK:
        handshake = _get_handshake_for(caller, self._get_param("HandshakeId"))
        if not handshake.addressed_to(caller):
            raise _handshake_not_found()
        _require_open(handshake, "DECLINED")
        handshake.set_state("DECLINED")
        return json.dumps({"Handshake": handshake.describe()})


def cancel_handshake(self: OrganizationsResponse) -> str:
    caller = self.current_account
    with LOCK:
        handshake = _get_handshake_for(caller, self._get_param("HandshakeId"))
        if handshake.management_account != caller:
            raise _handshake_not_found()
        _require_open(handshake, "CANCELED")
        handshake.set_state("CANCELED")
        return json.dumps({"Handshake": handshake.describe()})


def describe_handshake(self: OrganizationsResponse) -> str:
    with LOCK:
        handshake = _get_handshake_for(self.current_account, self._get_param("HandshakeId"))
        return json.dumps({"Handshake": handshake.describe()})


def _page(self: OrganizationsResponse, items: list[Any], key: str) -> str:
    max_results = self._get_param("MaxResults")
    if max_results is not None and not (isinstance(max_results, int) and 1 <= max_results <= 20):
        raise _Error("InvalidInputException", "You specified an invalid value.")
    max_results = max_results or 20
    token = self._get_param("NextToken")
    start = 0
    if token:
        try:
            start = int(base64.b64decode(token).decode())
        except Exception:
            raise _Error("InvalidInputException", "You specified an invalid value for nextToken.")
    page = items[start:start + max_results]
    out: dict[str, Any] = {key: page}
    if start + max_results < len(items):
        out["NextToken"] = base64.b64encode(str(start + max_results).encode()).decode()
    return json.dumps(out)


def _filtered(handshakes: list[_Handshake], flt: dict[str, Any] | None) -> list[dict[str, Any]]:
    flt = flt or {}
    if flt.get("ActionType") and flt.get("ParentHandshakeId"):
        raise _Error("InvalidInputException", "You can specify only one filter parameter.")
    out = []
    for handshake in sorted(handshakes, key=lambda h: h.requested):
        if not handshake.listed():
            continue
        if flt.get("ActionType") and flt["ActionType"] != "INVITE":
            continue
        if flt.get("ParentHandshakeId"):
            continue  # invitations have no parent handshake
        out.append(handshake.describe())
    return out


def list_handshakes_for_account(self: OrganizationsResponse) -> str:
    caller = self.current_account
    with LOCK:
        mine = [h for h in HANDSHAKES.values() if h.addressed_to(caller)]
        return _page(self, _filtered(mine, self._get_param("Filter")), "Handshakes")


def list_handshakes_for_organization(self: OrganizationsResponse) -> str:
    backend = self.organizations_backend
    with LOCK:
        ours = [h for h in HANDSHAKES.values() if h.org_id == backend.org.id]
        return _page(self, _filtered(ours, self._get_param("Filter")), "Handshakes")


def leave_organization(self: OrganizationsResponse) -> str:
    caller = self.current_account
    mgmt = management_account_of(caller)
    if mgmt is None:
        raise _not_in_use()
    if mgmt == caller:
        raise _Error("MasterCannotLeaveOrganizationException",
                     "You can't remove a management account from an organization. If you want the management "
                     "account to become a member account in another organization, you must first delete the "
                     "current organization.")
    backend = _own_backend(mgmt)
    with LOCK:
        account = next((a for a in backend.accounts if a.id == caller), None)
        if account is not None:
            for policy in list(account.attached_policies):
                _detach(policy, account)
            backend.accounts.remove(account)
        backend.admins = [a for a in backend.admins if a.account.id != caller]
        organizations_backends.master_accounts.pop(caller, None)
    return "{}"


# --------------------------------------------------------------------------
# access control and response-level checks


def _organizations_backend(self: OrganizationsResponse) -> OrganizationsBackend:
    override = getattr(self, "_org_backend_override", None)
    return override if override is not None else organizations_backends[self.current_account][self.partition]


def _authorize(self: OrganizationsResponse, action: str) -> None:
    self._org_backend_override = None
    if action in _ANYONE:
        return
    caller = self.current_account
    mgmt = management_account_of(caller)
    if mgmt is None:
        raise _not_in_use()
    if mgmt == caller:
        return
    if action in DELEGATED_READS and is_delegated_admin(caller):
        self._org_backend_override = _own_backend(mgmt)
        return
    raise _access_denied()


def _check_attach(self: OrganizationsResponse) -> None:
    backend = self.organizations_backend
    policy = backend.get_policy_by_id(self._get_param("PolicyId"))
    if policy.type not in _enabled_types(backend):
        raise _Error("PolicyTypeNotEnabledException",
                     "This operation can be performed only for enabled policy types.")


def _check_detach(self: OrganizationsResponse) -> None:
    backend = self.organizations_backend
    policy = backend.get_policy_by_id(self._get_param("PolicyId"))
    if policy.type != SCP:
        return
    target = next((t for t in _targets(backend) if t.id == self._get_param("TargetId")), None)
    if target is not None and policy in target.attached_policies:
        if sum(1 for p in target.attached_policies if p.type == SCP) <= 1:
            raise _Error("ConstraintViolationException",
                         "You attempted to detach a policy from an entity that would cause the entity to have "
                         "fewer than the minimum number of policies of a certain type required.",
                         "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")


_PRE_CHECKS = {"AttachPolicy": _check_attach, "DetachPolicy": _check_detach}
_MAX_RESULTS: dict[str, tuple[int, int]] = {}


def _check_max_results(self: OrganizationsResponse, action: str) -> None:
    """MaxResults outside the model's range (1..20 for every Organizations List*) is refused, as AWS does."""
    bounds = _MAX_RESULTS.get(action)
    value = self._get_param("MaxResults")
    if bounds is None or value is None:
        return
    if not isinstance(value, int) or value > bounds[1]:
        raise _Error("InvalidInputException",
                     "You provided a numeric parameter that has a larger value than allowed.", "MAX_VALUE_EXCEEDED")
    if value < bounds[0]:
        raise _Error("InvalidInputException",
                     "You provided a numeric parameter that has a smaller value than allowed.", "MIN_VALUE_EXCEEDED")


def _list_create_account_status(self: OrganizationsBackend, **kwargs: Any) -> dict[str, Any]:
    """moto lists every account; only accounts made by CreateAccount have a creation status."""
    created = [a for a in self.accounts if a.create_account_status_id and a.id != self.account_id]
    saved = self.accounts
    try:
        self.accounts = created
        return _original_list_create_account_status(self, **kwargs)
    finally:
        self.accounts = saved


_original_list_create_account_status = OrganizationsBackend.list_create_account_status

_NEW_METHODS = {
    "invite_account_to_organization": invite_account_to_organization,
    "accept_handshake": accept_handshake,
    "decline_handshake": decline_handshake,
    "cancel_handshake": cancel_handshake,
    "describe_handshake": describe_handshake,
    "list_handshakes_for_account": list_handshakes_for_account,
    "list_handshakes_for_organization": list_handshakes_for_organization,
    "leave_organization": leave_organization,
}


def _snake(name: str) -> str:
    from moto.core.utils import camelcase_to_underscores

    return camelcase_to_underscores(name)


def install() -> None:
    from moto.core.utils import get_service_model

    for name, fn in _NEW_METHODS.items():
        setattr(OrganizationsResponse, name, fn)
    OrganizationsResponse.organizations_backend = property(_organizations_backend)
    model = get_service_model("organizations")
    for action in model.operation_names:
        input_shape = model.operation_model(action).input_shape
        if input_shape is not None and "MaxResults" in input_shape.members:
            meta = input_shape.members["MaxResults"].metadata
            _MAX_RESULTS[action] = (meta.get("min", 1), meta.get("max", 20))
        method_name = _snake(action)
        original = getattr(OrganizationsResponse, method_name, None)
        if original is None:
            continue

        def guarded(self: OrganizationsResponse, _original: Any = original, _action: str = action) -> Any:
            _authorize(self, _action)
            _check_max_results(self, _action)
            check = _PRE_CHECKS.get(_action)
            if check:
                check(self)
            return _original(self)

        setattr(OrganizationsResponse, method_name, guarded)
    _wrap_backend_creation()
    OrganizationsBackend.close_account = close_account
    OrganizationsBackend.list_create_account_status = _list_create_account_status
    FakeAccount.describe = _account_describe
    # AWS pages ListAccounts by at most 20 (moto: 100), so callers that do not paginate fail here too
    org_utils.PAGINATION_MODEL["list_accounts"]["limit_default"] = 20
    for service in _EXTRA_DELEGATED_SERVICES:
        if service not in org_models.FakeDelegatedAdministrator.SUPPORTED_SERVICES:
            org_models.FakeDelegatedAdministrator.SUPPORTED_SERVICES.append(service)
