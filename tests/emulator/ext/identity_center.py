"""IAM Identity Center (sso-admin, identitystore, the access-portal API) as AWS runs it.

moto 5.2.5 has instances, permission sets (inline, AWS-managed and
customer-managed policies), account assignments and the identity store, but
nothing reaches the target accounts: ``ProvisionPermissionSet`` ignores its
target, no role is ever created, every account and region has an instance of
its own, and nobody can sign in.  gateaudit reads who can reach an account
through Identity Center and whose calls show up in CloudTrail, so this module
adds:

* **The organisation instance lives in the management account.**  moto's
  automatic per-account instances are gone.  AWS enables the organisation
  instance in the console only (no API): ``enable_organization_instance``
  (control endpoint ``POST /_emulator/sso/enable``) stands for that step in
  an all-features organisation's management account and region, and turns on
  trusted access for ``sso.amazonaws.com``.  ``CreateInstance`` creates an
  *account* instance in a member or standalone account (rejected in a
  management account or when the account already has one); account instances
  have no permission sets (``PermissionSetsEnabled`` false, CreatePermissionSet
  fails).  ``ListInstances``/``DescribeInstance`` show the caller's instances
  of the request's region; a delegated administrator for sso.amazonaws.com
  also sees and manages the organisation instance (but cannot assign or
  provision into the management account, as on AWS).  sso-admin and
  identitystore calls are served from the instance owner's backend whatever
  account calls; other accounts get AccessDeniedException.
* **Permission-set ARNs** ``arn:aws:sso:::permissionSet/ssoins-<id>/ps-<id>``
  (moto nests them under the instance ARN) and SessionDuration ``PT1H`` by
  default (moto: the integer 3600; UpdatePermissionSet no longer resets it).
* **Permissions boundaries**: Put/Get/DeletePermissionsBoundary(To|For|From)
  PermissionSet (CustomerManagedPolicyReference or ManagedPolicyArn).
* **Provisioning into accounts.**  CreateAccountAssignment (TargetType
  AWS_ACCOUNT, target in the instance's organisation, principal in its
  identity store) and ProvisionPermissionSet (AWS_ACCOUNT /
  ALL_PROVISIONED_ACCOUNTS) provision the permission set into the target
  account through moto's IAM backend of that account:

  - the SAML provider ``AWSSSO_<16 hex>_DO_NOT_DELETE`` (once per account),
  - the role ``AWSReservedSSO_<set name>_<16 lowercase hex>`` with path
    ``/aws-reserved/sso.amazonaws.com/`` for an instance in us-east-1 and
    ``/aws-reserved/sso.amazonaws.com/<region>/`` elsewhere, MaxSessionDuration
    = the set's SessionDuration, and the trust policy AWS writes::

        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
          "Principal": {"Federated": "arn:aws:iam::<acct>:saml-provider/AWSSSO_<hex>_DO_NOT_DELETE"},
          "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
          "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}}]}

  - the set's inline policy as the role's inline policy ``AwsSSOInlinePolicy``,
    its AWS-managed policies attached, its customer-managed policy references
    attached by path/name from the target account (provisioning FAILS with a
    FailureReason when one is missing there), its permissions boundary.

  Re-provisioning updates the role in place (same suffix); the role is
  deleted when the last assignment of that set to that account is removed
  (DeleteAccountAssignment), and a later assignment creates a new suffix.
  Changing a set does not touch provisioned roles until it is provisioned
  again (ListPermissionSetsProvisionedToAccount's ProvisioningStatus
  LATEST_PERMISSION_SET_PROVISIONED / ..._NOT_PROVISIONED tells which).
  Operations complete synchronously; the status objects (Describe/List
  ...CreationStatus, PermissionSetProvisioningStatus) report SUCCEEDED or
  FAILED with FailureReason.  DeletePermissionSet refuses a set still
  provisioned to an account (ConflictException).
  ListPermissionSetsProvisionedToAccount honours AccountId, ProvisioningStatus,
  MaxResults and NextToken; so does ListAccountsForProvisionedPermissionSet.
* **Signing in as a person.**  ``sign_in`` (control endpoint
  ``POST /_emulator/sso/sign-in {"identityStoreId", "userName"}``) stands for
  a completed device-authorization flow of an identity-store user and returns
  an access token.  The portal API boto3's ``sso`` client calls, unsigned with
  header ``x-amz-sso_bearer_token``, is served before moto:
  ``GET /federation/credentials`` (GetRoleCredentials), ``GET
  /assignment/accounts`` (ListAccounts), ``GET /assignment/roles``
  (ListAccountRoles), ``POST /logout`` (Logout).  GetRoleCredentials returns
  credentials only when the user is assigned a permission set of that name in
  that account, directly or through a group; otherwise 403
  ``ForbiddenException`` "No access" (401 UnauthorizedException for an unknown
  or expired token).  The credentials are a moto STS session of the
  AWSReservedSSO role, issued through sts.issue_saml_session (so the role's
  trust policy is checked) with the user's ``UserName`` as session name: later
  calls are recorded as ``AssumedRole``
  ``arn:aws:sts::<acct>:assumed-role/AWSReservedSSO_<set>_<suffix>/<userName>``
  whose sessionIssuer ARN carries the role path.  CloudTrail events as AWS
  writes them: ``AssumeRoleWithSAML`` (SAMLUser) in the target account, and
  in the instance's account and region ``GetRoleCredentials`` /
  ``ListAccounts`` / ``ListAccountRoles`` / ``Logout`` with eventSource
  ``sso.amazonaws.com``, eventType ``AwsServiceEvent``, userIdentity ``{type
  IdentityCenterUser, accountId, onBehalfOf {userId, identityStoreArn},
  credentialId}`` (no userName, the 2025 shape), requestParameters null and
  ``serviceEventDetails {role_name, account_id}``.  Signing in itself records
  no event (its sign-in/OIDC events are not modelled).
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import re
import secrets
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

from moto.core.exceptions import JsonRESTError
from moto.identitystore.models import identitystore_backends
from moto.identitystore.responses import IdentityStoreResponse
from moto.ssoadmin.exceptions import ConflictException, ResourceNotFoundException
from moto.ssoadmin.models import Instance, PermissionSet, SSOAdminBackend, ssoadmin_backends
from moto.ssoadmin.responses import SSOAdminResponse

from . import clock, organizations, sts

LOCK = threading.RLock()
SERVICE_PRINCIPAL = "sso.amazonaws.com"
INLINE_POLICY_NAME = "AwsSSOInlinePolicy"
TOKEN_LIFETIME = _dt.timedelta(hours=8)


@dataclass
class _Instance:
    arn: str
    owner: str
    region: str
    kind: str  # "ORGANIZATION" | "ACCOUNT"
    moto: Instance
    saml_id: str  # the id in the instance's SAML issuer URL

    @property
    def identity_store_id(self) -> str:
        return self.moto.identity_store_id

    @property
    def identity_store_arn(self) -> str:
        return f"arn:aws:identitystore::{self.owner}:identitystore/{self.identity_store_id}"

    @property
    def issuer(self) -> str:
        tag = base64.b64encode(f"{self.owner}_ins-{self.saml_id}".encode()).decode()
        return f"https://portal.sso.{self.region}.amazonaws.com/saml/assertion/{tag}"

    def backend(self) -> SSOAdminBackend:
        return ssoadmin_backends[self.owner][self.region]

    def store(self) -> Any:
        backend = identitystore_backends[self.owner][self.region]
        return backend.identity_stores.setdefault(self.identity_store_id,
                                                  _store_data_class()())


def _store_data_class() -> Any:
    from moto.identitystore.models import IdentityStoreData

    return IdentityStoreData


@dataclass
class _Provisioned:
    """A permission set provisioned into an account: its role there."""

    role_name: str
    version: int
    provisioned_at: _dt.datetime


@dataclass
class _Token:
    token: str
    instance_arn: str
    user_id: str
    user_name: str
    credential_id: str
    expires: _dt.datetime
    revoked: bool = False


#: instance arn -> _Instance
INSTANCES: dict[str, _Instance] = {}
#: (instance arn, permission set arn, account) -> _Provisioned
PROVISIONED: dict[tuple[str, str, str], _Provisioned] = {}
#: permission set arn -> version (bumped by every change to the set)
VERSIONS: dict[str, int] = {}
#: permission set arn -> PermissionsBoundary
BOUNDARIES: dict[str, dict[str, Any]] = {}
#: (instance arn, account) -> SAML provider name in that account
PROVIDERS: dict[tuple[str, str], str] = {}
#: request id -> PermissionSetProvisioningStatus (with "_instance")
PROVISIONING_STATUS: dict[str, dict[str, Any]] = {}
#: request id -> AccountAssignmentCreationStatus of failed creations
FAILED_CREATIONS: dict[str, dict[str, Any]] = {}
#: access token -> _Token
TOKENS: dict[str, _Token] = {}


class _AccessDenied(JsonRESTError):
    code = 400

    def __init__(self, message: str = "You do not have sufficient access to perform this action."):
        super().__init__("AccessDeniedException", message)


class _Validation(JsonRESTError):
    code = 400

    def __init__(self, message: str):
        super().__init__("ValidationException", message)


def _path_for(region: str) -> str:
    return "/aws-reserved/sso.amazonaws.com/" + ("" if region == "us-east-1" else f"{region}/")


def _seconds(duration: Any) -> int:
    """ISO-8601 'PT1H' / 'PT12H30M' (or an int) -> seconds."""
    if isinstance(duration, (int, float)):
        return int(duration)
    match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?", str(duration or "PT1H"))
    if not match or not any(match.groups()):
        return 3600
    h, m, s = (int(g or 0) for g in match.groups())
    return h * 3600 + m * 60 + s


def _version(ps_arn: str) -> int:
    return VERSIONS.setdefault(ps_arn, 1)


def _bump(ps_arn: str) -> None:
    with LOCK:
        VERSIONS[ps_arn] = _version(ps_arn) + 1


# --------------------------------------------------------------------------
# instances


def _new_instance(owner: str, region: str, kind: str, name: str | None) -> _Instance:
    moto_instance = Instance(owner, region)
    moto_instance.instance_arn = f"arn:aws:sso:::instance/ssoins-{secrets.token_hex(8)}"
    moto_instance.identity_store_id = f"d-{secrets.token_hex(5)}"
    moto_instance.created_date = clock.epoch(clock.now())
    moto_instance.name = name
    ssoadmin_backends[owner][region].instances.append(moto_instance)
    instance = _Instance(moto_instance.instance_arn, owner, region, kind, moto_instance, secrets.token_hex(8))
    INSTANCES[instance.arn] = instance
    instance.store()  # the identity store exists from now on
    return instance


def enable_organization_instance(account_id: str, region: str = "us-east-1",
                                 name: str | None = None) -> dict[str, Any]:
    """Enable IAM Identity Center for the organisation (the console step AWS offers no API for)."""
    backend = organizations.org_backend_of(account_id)
    if backend is None or backend.org.master_account_id != account_id:
        raise ValueError("Identity Center's organisation instance is enabled in an organisation's management account")
    if backend.org.feature_set != "ALL":
        raise ValueError("the organisation must have all features enabled")
    with LOCK:
        instance = next((i for i in INSTANCES.values() if i.kind == "ORGANIZATION" and i.owner == account_id), None)
        if instance is None:
            instance = _new_instance(account_id, region, "ORGANIZATION", name)
            backend.enable_aws_service_access(ServicePrincipal=SERVICE_PRINCIPAL)
        return _instance_info(instance)


def _instance_info(instance: _Instance) -> dict[str, Any]:
    return {"instanceArn": instance.arn, "identityStoreId": instance.identity_store_id,
            "ownerAccountId": instance.owner, "region": instance.region}


def _instance_by_store(store_id: str) -> _Instance | None:
    return next((i for i in INSTANCES.values() if i.identity_store_id == store_id), None)


def _may_manage(account_id: str, instance: _Instance) -> bool:
    if account_id == instance.owner:
        return True
    return (instance.kind == "ORGANIZATION"
            and organizations.management_account_of(account_id) == instance.owner
            and organizations.is_delegated_admin(account_id, SERVICE_PRINCIPAL))


def _instance_for(response: Any, arn: str | None) -> _Instance:
    instance = INSTANCES.get(arn or "")
    if instance is None or instance.region != response.region:
        raise ResourceNotFoundException(f"Could not find instance {arn}")
    if not _may_manage(response.current_account, instance):
        raise _AccessDenied()
    return instance


def _instance_json(instance: _Instance) -> dict[str, Any]:
    out = instance.moto.to_json()
    out["IdentityStoreArn"] = instance.identity_store_arn
    out["PrimaryRegion"] = instance.region
    if out.get("Name") is None:
        out.pop("Name", None)
    return out


def _backend_property(self: SSOAdminResponse) -> SSOAdminBackend:
    return _instance_for(self, self._get_param("InstanceArn")).backend()


def list_instances(self: SSOAdminResponse) -> str:
    visible = [i for i in INSTANCES.values()
               if i.region == self.region and _may_manage(self.current_account, i)]
    return json.dumps({"Instances": [_instance_json(i) for i in visible]})


def describe_instance(self: SSOAdminResponse) -> str:
    instance = _instance_for(self, self._get_param("InstanceArn"))
    out = _instance_json(instance)
    out["PermissionSetsEnabled"] = instance.kind == "ORGANIZATION"
    return json.dumps(out)


def create_instance(self: SSOAdminResponse) -> str:
    caller = self.current_account
    if organizations.is_management_account(caller):
        raise _Validation("An account instance of IAM Identity Center can't be created in an organization's "
                          "management account.")
    with LOCK:
        if any(i.owner == caller for i in INSTANCES.values()):
            raise ConflictException("An instance of IAM Identity Center already exists in this account.")
        instance = _new_instance(caller, self.region, "ACCOUNT", self._get_param("Name"))
    return json.dumps({"InstanceArn": instance.arn})


# --------------------------------------------------------------------------
# permission sets


def _ps_arn(instance_arn: str) -> str:
    return f"arn:aws:sso:::permissionSet/{instance_arn.split('/')[-1]}/ps-{secrets.token_hex(8)}"


_original_create_ps = SSOAdminBackend.create_permission_set


def _create_permission_set(self: SSOAdminBackend, name: str, description: str, instance_arn: str,
                           session_duration: Any, relay_state: str, tags: list[dict[str, str]]) -> dict[str, Any]:
    instance = INSTANCES.get(instance_arn)
    if instance is not None and instance.kind != "ORGANIZATION":
        raise _Validation("Permission sets are not enabled for this instance of IAM Identity Center.")
    if not re.fullmatch(r"[\w+=,.@-]{1,32}", name or ""):
        raise _Validation("The permission set name must be 1-32 characters of [\\w+=,.@-].")
    if any(p.name == name and p.instance_arn == instance_arn for p in self.permission_sets):
        raise ConflictException(f"PermissionSet with name {name} already exists.")
    if session_duration is None or isinstance(session_duration, int):
        session_duration = "PT1H" if session_duration in (None, 3600) else f"PT{int(session_duration)}S"
    result = _original_create_ps(self, name, description, instance_arn, session_duration, relay_state, tags)
    permission_set = self.permission_sets[-1]
    permission_set.created_date = clock.epoch(clock.now())
    result["CreatedDate"] = permission_set.created_date
    _version(permission_set.permission_set_arn)
    return result


def update_permission_set(self: SSOAdminResponse) -> str:
    backend = self.ssoadmin_backend
    ps = backend._find_permission_set(self._get_param("InstanceArn"), self._get_param("PermissionSetArn"))
    for param, attr in (("Description", "description"), ("SessionDuration", "session_duration"),
                        ("RelayState", "relay_state")):
        value = self._get_param(param)
        if value is not None:
            setattr(ps, attr, value)
    _bump(ps.permission_set_arn)
    return "{}"


_original_delete_ps = SSOAdminBackend.delete_permission_set


def _delete_permission_set(self: SSOAdminBackend, instance_arn: str, permission_set_arn: str) -> dict[str, Any]:
    self._find_permission_set(instance_arn, permission_set_arn)
    if any(key[0] == instance_arn and key[1] == permission_set_arn for key in PROVISIONED):
        raise ConflictException("The permission set is provisioned to one or more accounts; remove its account "
                                "assignments first.")
    result = _original_delete_ps(self, instance_arn, permission_set_arn)
    BOUNDARIES.pop(permission_set_arn, None)
    return result


def _boundary_from(params: dict[str, Any] | None) -> dict[str, Any]:
    params = params or {}
    cmp = params.get("CustomerManagedPolicyReference")
    managed = params.get("ManagedPolicyArn")
    if bool(cmp) == bool(managed):
        raise _Validation("Specify exactly one of CustomerManagedPolicyReference and ManagedPolicyArn.")
    if cmp:
        if not cmp.get("Name"):
            raise _Validation("CustomerManagedPolicyReference needs a Name.")
        return {"CustomerManagedPolicyReference": {"Name": cmp["Name"], "Path": cmp.get("Path") or "/"}}
    return {"ManagedPolicyArn": managed}


def put_permissions_boundary_to_permission_set(self: SSOAdminResponse) -> str:
    backend = self.ssoadmin_backend
    ps = backend._find_permission_set(self._get_param("InstanceArn"), self._get_param("PermissionSetArn"))
    boundary = _boundary_from(self._get_param("PermissionsBoundary"))
    if "ManagedPolicyArn" in boundary:
        backend._find_managed_policy(boundary["ManagedPolicyArn"])
    with LOCK:
        BOUNDARIES[ps.permission_set_arn] = boundary
    _bump(ps.permission_set_arn)
    return "{}"


def _boundary_not_found(ps: PermissionSet) -> ResourceNotFoundException:
    return ResourceNotFoundException(
        f"Could not find PermissionsBoundary for PermissionSet {ps.permission_set_arn.split('/')[-1]}")


def get_permissions_boundary_for_permission_set(self: SSOAdminResponse) -> str:
    backend = self.ssoadmin_backend
    ps = backend._find_permission_set(self._get_param("InstanceArn"), self._get_param("PermissionSetArn"))
    boundary = BOUNDARIES.get(ps.permission_set_arn)
    if boundary is None:
        raise _boundary_not_found(ps)
    return json.dumps({"PermissionsBoundary": boundary})


def delete_permissions_boundary_from_permission_set(self: SSOAdminResponse) -> str:
    backend = self.ssoadmin_backend
    ps = backend._find_permission_set(self._get_param("InstanceArn"), self._get_param("PermissionSetArn"))
    with LOCK:
        if BOUNDARIES.pop(ps.permission_set_arn, None) is None:
            raise _boundary_not_found(ps)
    _bump(ps.permission_set_arn)
    return "{}"


_CHANGES_A_SET = (
    "put_inline_policy_to_permission_set", "delete_inline_policy_from_permission_set",
    "attach_managed_policy_to_permission_set", "detach_managed_policy_from_permission_set",
    "attach_customer_managed_policy_reference_to_permission_set",
    "detach_customer_managed_policy_reference_from_permission_set",
)


def _bumping(original: Callable[[SSOAdminResponse], Any]) -> Callable[[SSOAdminResponse], Any]:
    def wrapper(self: SSOAdminResponse) -> Any:
        result = original(self)
        _bump(self._get_param("PermissionSetArn") or "")
        return result

    return wrapper


# --------------------------------------------------------------------------
# provisioning into accounts


def _iam(account: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account]["aws"]


def _ensure_aws_managed(iam: Any, arn: str) -> bool:
    """Make the AWS-managed policy ``arn`` known to the account's IAM backend (it exists in every account)."""
    if arn in iam.managed_policies:
        return True
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy

    name = arn.split("/")[-1]
    data = json.loads(aws_managed_policies_data).get(name)
    if not data:
        return False
    policy = AWSManagedPolicy.from_data(name, iam.account_id, iam.region_name, data)
    if policy.arn != arn:
        return False
    iam.managed_policies[policy.arn] = policy
    iam.aws_managed_policies.append(policy)
    return True


def _ensure_provider(instance: _Instance, account: str) -> str:
    iam = _iam(account)
    name = PROVIDERS.get((instance.arn, account))
    if name is None:
        name = f"AWSSSO_{secrets.token_hex(8)}_DO_NOT_DELETE"
        PROVIDERS[(instance.arn, account)] = name
    if name not in iam.saml_providers:
        metadata = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{instance.issuer}">'
            '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            '<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>'
            '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
            f'Location="https://portal.sso.{instance.region}.amazonaws.com/saml/logon/{instance.saml_id}"/>'
            '</md:IDPSSODescriptor></md:EntityDescriptor>')
        provider = iam.create_saml_provider(name, metadata)
        provider.create_date = clock.now().astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return f"arn:aws:iam::{account}:saml-provider/{name}"


def trust_policy(provider_arn: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
            "Condition": {"StringEquals": {"SAML:aud": sts.SAML_AUDIENCE}},
        }],
    })


def role_of(instance_arn: str, ps_arn: str, account: str) -> Any | None:
    """The AWSReservedSSO role of a permission set in an account (None when not provisioned)."""
    record = PROVISIONED.get((instance_arn, ps_arn, account))
    if record is None:
        return None
    try:
        return _iam(account).get_role(record.role_name)
    except Exception:
        return None


def _provision(instance: _Instance, ps: PermissionSet, account: str) -> str | None:
    """Create or update the permission set's role in ``account``; returns a FailureReason or None."""
    iam = _iam(account)
    wanted: list[str] = []
    for managed in ps.managed_policies:
        if not _ensure_aws_managed(iam, managed.arn):
            return f"Managed policy {managed.arn} does not exist."
        wanted.append(managed.arn)
    for reference in ps.customer_managed_policies:
        arn = f"arn:aws:iam::{account}:policy{reference.path}{reference.name}"
        if arn not in iam.managed_policies:
            return (f"Received a 404 status error: Not supported policy {arn}. The customer managed policy "
                    f"{reference.path}{reference.name} does not exist in account {account}.")
        wanted.append(arn)
    boundary_arn = None
    boundary = BOUNDARIES.get(ps.permission_set_arn)
    if boundary and "ManagedPolicyArn" in boundary:
        boundary_arn = boundary["ManagedPolicyArn"]
        if not _ensure_aws_managed(iam, boundary_arn):
            return f"Managed policy {boundary_arn} does not exist."
    elif boundary:
        ref = boundary["CustomerManagedPolicyReference"]
        boundary_arn = f"arn:aws:iam::{account}:policy{ref['Path']}{ref['Name']}"
        if boundary_arn not in iam.managed_policies:
            return (f"Received a 404 status error: Not supported policy {boundary_arn}. The permissions boundary "
                    f"{ref['Path']}{ref['Name']} does not exist in account {account}.")
    provider_arn = _ensure_provider(instance, account)
    duration = _seconds(ps.session_duration)
    key = (instance.arn, ps.permission_set_arn, account)
    role = role_of(*key)
    if role is None:
        role_name = f"AWSReservedSSO_{ps.name}_{secrets.token_hex(8)}"
        role = iam.create_role(
            role_name=role_name, assume_role_policy_document=trust_policy(provider_arn),
            path=_path_for(instance.region), permissions_boundary=None, description="", tags=[],
            max_session_duration=str(duration))
        role.create_date = clock.now().astimezone(_dt.timezone.utc).replace(tzinfo=None)
    else:
        role.assume_role_policy_document = trust_policy(provider_arn)
        role.max_session_duration = str(duration)
    if ps.inline_policy:
        iam.put_role_policy(role.name, INLINE_POLICY_NAME, ps.inline_policy)
    elif INLINE_POLICY_NAME in role.policies:
        iam.delete_role_policy(role.name, INLINE_POLICY_NAME)
    current = set(role.managed_policies)
    for arn in current - set(wanted):
        iam.detach_role_policy(arn, role.name)
    for arn in wanted:
        if arn not in current:
            iam.attach_role_policy(arn, role.name)
    role.permissions_boundary_arn = boundary_arn
    PROVISIONED[key] = _Provisioned(role.name, _version(ps.permission_set_arn), clock.now())
    return None


def _deprovision(instance_arn: str, ps_arn: str, account: str) -> None:
    key = (instance_arn, ps_arn, account)
    role = role_of(*key)
    PROVISIONED.pop(key, None)
    if role is None:
        return
    iam = _iam(account)
    for arn in list(role.managed_policies):
        iam.detach_role_policy(arn, role.name)
    for name in list(role.policies):
        iam.delete_role_policy(role.name, name)
    role.permissions_boundary_arn = None
    iam.delete_role(role.name)


def _org_account_ids(instance: _Instance) -> set[str]:
    return {a.id for a in organizations.org_accounts(instance.owner)}


def _check_target(response: SSOAdminResponse, instance: _Instance, target_type: str | None,
                  target_id: str | None) -> None:
    if target_type != "AWS_ACCOUNT":
        raise _Validation("TargetType must be AWS_ACCOUNT.")
    if not re.fullmatch(r"\d{12}", target_id or ""):
        raise _Validation("TargetId must be a 12-digit AWS account id.")
    if target_id not in _org_account_ids(instance):
        raise _Validation(f"The account {target_id} is not a member of the organization.")
    if response.current_account != instance.owner and target_id == instance.owner:
        raise _AccessDenied("A delegated administrator can't manage access to the management account.")


def _principal_exists(instance: _Instance, principal_type: str, principal_id: str) -> bool:
    store = instance.store()
    if principal_type == "USER":
        return principal_id in store.users
    if principal_type == "GROUP":
        return principal_id in store.groups
    return False


def create_account_assignment(self: SSOAdminResponse) -> str:
    instance = _instance_for(self, self._get_param("InstanceArn"))
    backend = instance.backend()
    ps_arn = self._get_param("PermissionSetArn")
    target_id, target_type = self._get_param("TargetId"), self._get_param("TargetType")
    principal_type, principal_id = self._get_param("PrincipalType"), self._get_param("PrincipalId")
    ps = backend._find_permission_set(instance.arn, ps_arn)
    _check_target(self, instance, target_type, target_id)
    if principal_type not in ("USER", "GROUP"):
        raise _Validation("PrincipalType must be USER or GROUP.")
    status: dict[str, Any] = {
        "RequestId": str(uuid.uuid4()), "TargetId": target_id, "TargetType": target_type,
        "PermissionSetArn": ps_arn, "PrincipalType": principal_type, "PrincipalId": principal_id,
        "CreatedDate": clock.epoch(clock.now()),
    }
    with LOCK:
        reason = None
        if not _principal_exists(instance, principal_type, principal_id):
            reason = (f"The {principal_type.lower()} {principal_id} does not exist in identity store "
                      f"{instance.identity_store_id}.")
        else:
            reason = _provision(instance, ps, target_id)
        if reason:
            status.update(Status="FAILED", FailureReason=reason)
            FAILED_CREATIONS[status["RequestId"]] = status
            return json.dumps({"AccountAssignmentCreationStatus": status})
        existing = next((a for a in backend.account_assignments
                         if (a.instance_arn, a.target_id, a.permission_set_arn, a.principal_type, a.principal_id)
                         == (instance.arn, target_id, ps_arn, principal_type, principal_id)), None)
        if existing is None:
            backend.create_account_assignment(instance.arn, target_id, target_type, ps_arn, principal_type,
                                              principal_id)
            existing = backend.account_assignments[-1]
            existing.request_id = status["RequestId"]
            existing.created_date = status["CreatedDate"]
        status["RequestId"] = existing.request_id
        status["Status"] = "SUCCEEDED"
    return json.dumps({"AccountAssignmentCreationStatus": status})


def delete_account_assignment(self: SSOAdminResponse) -> str:
    instance = _instance_for(self, self._get_param("InstanceArn"))
    backend = instance.backend()
    ps_arn = self._get_param("PermissionSetArn")
    target_id = self._get_param("TargetId")
    backend._find_permission_set(instance.arn, ps_arn)
    _check_target(self, instance, self._get_param("TargetType"), target_id)
    with LOCK:
        summary = backend.delete_account_assignment(
            instance.arn, target_id, self._get_param("TargetType"), ps_arn,
            self._get_param("PrincipalType"), self._get_param("PrincipalId"))
        backend.deleted_account_assignments[-1].request_id = summary["RequestId"] = str(uuid.uuid4())
        summary["CreatedDate"] = clock.epoch(clock.now())
        if not any(a.instance_arn == instance.arn and a.permission_set_arn == ps_arn and a.target_id == target_id
                   for a in backend.account_assignments):
            _deprovision(instance.arn, ps_arn, target_id)
    summary["Status"] = "SUCCEEDED"
    return json.dumps({"AccountAssignmentDeletionStatus": summary})


def describe_account_assignment_creation_status(self: SSOAdminResponse) -> str:
    instance = _instance_for(self, self._get_param("InstanceArn"))
    request_id = self._get_param("AccountAssignmentCreationRequestId")
    failed = FAILED_CREATIONS.get(request_id)
    if failed is not None:
        return json.dumps({"AccountAssignmentCreationStatus": failed})
    status = instance.backend().describe_account_assignment_creation_status(request_id, instance.arn)
    status["Status"] = "SUCCEEDED"
    return json.dumps({"AccountAssignmentCreationStatus": status})


def provision_permission_set(self: SSOAdminResponse) -> str:
    instance = _instance_for(self, self._get_param("InstanceArn"))
    backend = instance.backend()
    ps = backend._find_permission_set(instance.arn, self._get_param("PermissionSetArn"))
    target_type, target_id = self._get_param("TargetType"), self._get_param("TargetId")
    status: dict[str, Any] = {"RequestId": str(uuid.uuid4()), "PermissionSetArn": ps.permission_set_arn,
                              "CreatedDate": clock.epoch(clock.now())}
    with LOCK:
        if target_type == "AWS_ACCOUNT":
            _check_target(self, instance, target_type, target_id)
            accounts = [target_id]
            status["AccountId"] = target_id
        elif target_type == "ALL_PROVISIONED_ACCOUNTS":
            if target_id:
                raise _Validation("TargetId must not be given with ALL_PROVISIONED_ACCOUNTS.")
            accounts = sorted(key[2] for key in PROVISIONED
                              if key[0] == instance.arn and key[1] == ps.permission_set_arn)
        else:
            raise _Validation("TargetType must be AWS_ACCOUNT or ALL_PROVISIONED_ACCOUNTS.")
        reasons = [r for r in (_provision(instance, ps, account) for account in accounts) if r]
        status["Status"] = "FAILED" if reasons else "SUCCEEDED"
        if reasons:
            status["FailureReason"] = reasons[0]
        PROVISIONING_STATUS[status["RequestId"]] = dict(status, _instance=instance.arn)
    return json.dumps({"PermissionSetProvisioningStatus": status})


def describe_permission_set_provisioning_status(self: SSOAdminResponse) -> str:
    instance = _instance_for(self, self._get_param("InstanceArn"))
    status = PROVISIONING_STATUS.get(self._get_param("ProvisionPermissionSetRequestId") or "")
    if status is None or status["_instance"] != instance.arn:
        raise ResourceNotFoundException("Could not find the provisioning request.")
    return json.dumps({"PermissionSetProvisioningStatus": {k: v for k, v in status.items() if k != "_instance"}})


def list_permission_set_provisioning_status(self: SSOAdminResponse) -> str:
    instance = _instance_for(self, self._get_param("InstanceArn"))
    wanted = (self._get_param("Filter") or {}).get("Status")
    items = [{"Status": s["Status"], "RequestId": s["RequestId"], "CreatedDate": s["CreatedDate"]}
             for s in PROVISIONING_STATUS.values()
             if s["_instance"] == instance.arn and (not wanted or s["Status"] == wanted)]
    return _page(self, items, "PermissionSetsProvisioningStatus")


def _page(response: SSOAdminResponse, items: list[Any], key: str) -> str:
    max_results = response._get_param("MaxResults")
    if max_results is not None and not (isinstance(max_results, int) and 1 <= max_results <= 100):
        raise _Validation("MaxResults must be between 1 and 100.")
    max_results = max_results or 100
    token = response._get_param("NextToken")
    start = 0
    if token:
        try:
            start = int(base64.b64decode(token).decode())
        except Exception:
            raise _Validation("Invalid NextToken.")
    out: dict[str, Any] = {key: items[start:start + max_results]}
    if start + max_results < len(items):
        out["NextToken"] = base64.b64encode(str(start + max_results).encode()).decode()
    return json.dumps(out)


def _status_ok(ps_arn: str, record: _Provisioned, wanted: str | None) -> bool:
    latest = record.version == _version(ps_arn)
    if wanted == "LATEST_PERMISSION_SET_PROVISIONED":
        return latest
    if wanted == "LATEST_PERMISSION_SET_NOT_PROVISIONED":
        return not latest
    return True


def list_permission_sets_provisioned_to_account(self: SSOAdminResponse) -> str:
    instance = _instance_for(self, self._get_param("InstanceArn"))
    account = self._get_param("AccountId")
    if not re.fullmatch(r"\d{12}", account or ""):
        raise _Validation("AccountId must be a 12-digit AWS account id.")
    wanted = self._get_param("ProvisioningStatus")
    with LOCK:
        arns = [key[1] for key, record in sorted(PROVISIONED.items(), key=lambda kv: kv[1].provisioned_at)
                if key[0] == instance.arn and key[2] == account and _status_ok(key[1], record, wanted)]
    return _page(self, arns, "PermissionSets")


def list_accounts_for_provisioned_permission_set(self: SSOAdminResponse) -> str:
    instance = _instance_for(self, self._get_param("InstanceArn"))
    ps = instance.backend()._find_permission_set(instance.arn, self._get_param("PermissionSetArn"))
    wanted = self._get_param("ProvisioningStatus")
    with LOCK:
        accounts = sorted(key[2] for key, record in PROVISIONED.items()
                          if key[0] == instance.arn and key[1] == ps.permission_set_arn
                          and _status_ok(key[1], record, wanted))
    return _page(self, accounts, "AccountIds")


# --------------------------------------------------------------------------
# identity store routing


def _identitystore_backend(self: IdentityStoreResponse) -> Any:
    from moto.identitystore.exceptions import ResourceNotFoundException as StoreNotFound

    store_id = self._get_param("IdentityStoreId") or ""
    instance = _instance_by_store(store_id)
    if instance is None or instance.region != self.region:
        raise StoreNotFound(message="IDENTITY_STORE not found.", resource_type="IDENTITY_STORE")
    if not _may_manage(self.current_account, instance):
        raise _AccessDenied()
    instance.store()
    return identitystore_backends[instance.owner][instance.region]


# --------------------------------------------------------------------------
# sign-in and the access-portal API


def sign_in(identity_store_id: str, user_name: str) -> dict[str, Any]:
    """A completed device-authorization sign-in of an identity-store user -> access token."""
    instance = _instance_by_store(identity_store_id or "")
    if instance is None:
        raise LookupError(f"no identity store {identity_store_id}")
    user = next((u for u in instance.store().users.values() if u.UserName == user_name), None)
    if user is None:
        raise LookupError(f"no user {user_name} in identity store {identity_store_id}")
    token = _Token(
        token="aoa" + secrets.token_urlsafe(96),
        instance_arn=instance.arn, user_id=user.UserId, user_name=user.UserName,
        credential_id="AAAAA" + secrets.token_urlsafe(60),
        expires=clock.now() + TOKEN_LIFETIME)
    with LOCK:
        TOKENS[token.token] = token
    return {"accessToken": token.token, "expiresIn": int(TOKEN_LIFETIME.total_seconds()),
            "tokenType": "Bearer", "region": instance.region, "userId": user.UserId}


class _PortalError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _token_of(environ: dict[str, Any]) -> _Token:
    value = environ.get("HTTP_X_AMZ_SSO_BEARER_TOKEN", "")
    token = TOKENS.get(value)
    if token is None or token.revoked or clock.now() >= token.expires or token.instance_arn not in INSTANCES:
        raise _PortalError(401, "UnauthorizedException", "Session token not found or invalid")
    return token


def _groups_of(instance: _Instance, user_id: str) -> set[str]:
    store = instance.store()
    return {m["GroupId"] for m in store.group_memberships.values() if m["MemberId"].get("UserId") == user_id}


def _entitlements(token: _Token) -> list[tuple[str, PermissionSet]]:
    """(account, permission set) pairs the user may use: assignments to them or their groups."""
    instance = INSTANCES[token.instance_arn]
    backend = instance.backend()
    if token.user_id not in instance.store().users:
        return []
    groups = _groups_of(instance, token.user_id)
    sets = {p.permission_set_arn: p for p in backend.permission_sets if p.instance_arn == instance.arn}
    out = []
    for assignment in backend.account_assignments:
        if assignment.instance_arn != instance.arn or assignment.permission_set_arn not in sets:
            continue
        if (assignment.principal_type == "USER" and assignment.principal_id == token.user_id) or \
                (assignment.principal_type == "GROUP" and assignment.principal_id in groups):
            pair = (assignment.target_id, sets[assignment.permission_set_arn])
            if pair not in out:
                out.append(pair)
    return out


def _portal_event(environ: dict[str, Any], token: _Token, name: str, details: dict[str, str] | None,
                  error: _PortalError | None = None) -> None:
    from . import cloudtrail

    instance = INSTANCES[token.instance_arn]
    now = clock.now()
    record: dict[str, Any] = {
        "eventVersion": "1.11",
        "userIdentity": {
            "type": "IdentityCenterUser",
            "accountId": instance.owner,
            "onBehalfOf": {"userId": token.user_id, "identityStoreArn": instance.identity_store_arn},
            "credentialId": token.credential_id,
        },
        "eventTime": clock.iso_z(now),
        "eventSource": "sso.amazonaws.com",
        "eventName": name,
        "awsRegion": instance.region,
        "sourceIPAddress": environ.get("REMOTE_ADDR", "127.0.0.1"),
        "userAgent": environ.get("HTTP_USER_AGENT", ""),
    }
    if error is not None:
        record["errorCode"] = error.code
        record["errorMessage"] = error.message
    record.update({
        "requestParameters": None,
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": name != "Logout",
        "eventType": "AwsServiceEvent",
        "managementEvent": True,
        "recipientAccountId": instance.owner,
    })
    if details:
        record["serviceEventDetails"] = details
    record["eventCategory"] = "Management"
    # LookupEvents' Username is empty for these events: there is no userName any more.
    cloudtrail.record_event(instance.owner, instance.region, record, "", when=now)


def _query(environ: dict[str, Any]) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}


def _get_role_credentials(environ: dict[str, Any], token: _Token) -> dict[str, Any]:
    query = _query(environ)
    role_name, account_id = query.get("role_name", ""), query.get("account_id", "")
    if not role_name or not account_id:
        raise _PortalError(400, "InvalidRequestException", "role_name and account_id are required")
    details = {"role_name": role_name, "account_id": account_id}
    instance = INSTANCES[token.instance_arn]
    try:
        pair = next((p for p in _entitlements(token) if p[0] == account_id and p[1].name == role_name), None)
        role = role_of(instance.arn, pair[1].permission_set_arn, account_id) if pair else None
        if role is None:
            raise _PortalError(403, "ForbiddenException", "No access")
        provider_arn = f"arn:aws:iam::{account_id}:saml-provider/{PROVIDERS.get((instance.arn, account_id))}"
        try:
            issued = sts.issue_saml_session(
                role.arn, provider_arn, token.user_name, instance.issuer, sts.SAML_AUDIENCE,
                _seconds(pair[1].session_duration), instance.region,
                source_ip=environ.get("REMOTE_ADDR", "127.0.0.1"),
                user_agent="aws-internal/3 aws-sdk-java/2 (IAM Identity Center)")
        except sts.SamlDenied:
            raise _PortalError(403, "ForbiddenException", "No access")
    except _PortalError as error:
        _portal_event(environ, token, "GetRoleCredentials", details, error)
        raise
    _portal_event(environ, token, "GetRoleCredentials", details)
    session = issued["session"]
    return {"roleCredentials": {
        "accessKeyId": session.access_key_id,
        "secretAccessKey": session.secret_access_key,
        "sessionToken": session.session_token,
        "expiration": int(issued["expiration"].timestamp() * 1000),
    }}


def _portal_page(environ: dict[str, Any], items: list[Any], key: str) -> dict[str, Any]:
    query = _query(environ)
    try:
        max_results = int(query.get("max_result") or 100)
        start = int(base64.b64decode(query["next_token"]).decode()) if query.get("next_token") else 0
    except Exception:
        raise _PortalError(400, "InvalidRequestException", "Invalid pagination parameters")
    out: dict[str, Any] = {key: items[start:start + max_results]}
    if start + max_results < len(items):
        out["nextToken"] = base64.b64encode(str(start + max_results).encode()).decode()
    return out


def _list_accounts(environ: dict[str, Any], token: _Token) -> dict[str, Any]:
    names = {a.id: a for a in organizations.org_accounts(INSTANCES[token.instance_arn].owner)}
    accounts = []
    for account_id, _ps in _entitlements(token):
        if account_id not in [a["accountId"] for a in accounts]:
            org_account = names.get(account_id)
            accounts.append({"accountId": account_id,
                             "accountName": org_account.name if org_account else account_id,
                             "emailAddress": org_account.email if org_account else ""})
    _portal_event(environ, token, "ListAccounts", None)
    return _portal_page(environ, accounts, "accountList")


def _list_account_roles(environ: dict[str, Any], token: _Token) -> dict[str, Any]:
    account_id = _query(environ).get("account_id", "")
    roles = [{"roleName": ps.name, "accountId": acct} for acct, ps in _entitlements(token) if acct == account_id]
    _portal_event(environ, token, "ListAccountRoles", {"account_id": account_id})
    return _portal_page(environ, roles, "roleList")


def _logout(environ: dict[str, Any], token: _Token) -> None:
    token.revoked = True
    _portal_event(environ, token, "Logout", None)


_PORTAL = {
    ("GET", "/federation/credentials"): _get_role_credentials,
    ("GET", "/assignment/accounts"): _list_accounts,
    ("GET", "/assignment/roles"): _list_account_roles,
    ("POST", "/logout"): _logout,
}


def _portal_route(environ: dict[str, Any]) -> Callable[..., Iterable[bytes]] | None:
    key = (environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""))
    if key not in _PORTAL or "HTTP_AUTHORIZATION" in environ:
        return None
    handler = _PORTAL[key]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request_id = str(uuid.uuid4())
        try:
            token = _token_of(environ)
            with LOCK:
                result = handler(environ, token)
            status, body = "200 OK", json.dumps(result) if result is not None else ""
        except _PortalError as error:
            reasons = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
            status = f"{error.status} {reasons.get(error.status, 'Error')}"
            body = json.dumps({"message": error.message})
            start_response(status, [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id),
                                    ("x-amzn-ErrorType", f"{error.code}:"), ("Content-Length", str(len(body)))])
            return [body.encode()]
        data = body.encode()
        start_response(status, [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id),
                                ("Content-Length", str(len(data)))])
        return [data]

    return app


# --------------------------------------------------------------------------


def _no_default_instance(original: Callable[..., None]) -> Callable[..., None]:
    def __init__(self: SSOAdminBackend, region_name: str, account_id: str) -> None:
        original(self, region_name, account_id)
        self.instances.clear()  # on AWS an instance exists only once enabled or created

    return __init__


def _preserve_bearer_header() -> None:
    """The portal's header has an underscore; moto's request handler drops such headers."""
    import moto.moto_server.werkzeug_app as werkzeug_app

    original = werkzeug_app.should_preserve_original_header_name

    def preserve(name: str) -> bool:
        return name.lower() == "x-amz-sso_bearer_token" or original(name)

    werkzeug_app.should_preserve_original_header_name = preserve


def install() -> None:
    from . import cloudtrail

    SSOAdminBackend.__init__ = _no_default_instance(SSOAdminBackend.__init__)
    PermissionSet.generate_id = staticmethod(_ps_arn)
    SSOAdminBackend.create_permission_set = _create_permission_set
    SSOAdminBackend.delete_permission_set = _delete_permission_set
    SSOAdminResponse.ssoadmin_backend = property(_backend_property)
    for name in _CHANGES_A_SET:
        setattr(SSOAdminResponse, name, _bumping(getattr(SSOAdminResponse, name)))
    for fn in (list_instances, describe_instance, create_instance, update_permission_set,
               put_permissions_boundary_to_permission_set, get_permissions_boundary_for_permission_set,
               delete_permissions_boundary_from_permission_set, create_account_assignment,
               delete_account_assignment, describe_account_assignment_creation_status,
               provision_permission_set, describe_permission_set_provisioning_status,
               list_permission_set_provisioning_status, list_permission_sets_provisioned_to_account,
               list_accounts_for_provisioned_permission_set):
        setattr(SSOAdminResponse, fn.__name__, fn)
    IdentityStoreResponse.identitystore_backend = property(_identitystore_backend)
    _preserve_bearer_header()
    cloudtrail.ROUTES.append(_portal_route)
