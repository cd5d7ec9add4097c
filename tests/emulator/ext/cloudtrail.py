"""CloudTrail: record every API call the emulator serves; LookupEvents; trail files.

moto 5.2.5 stores trails but records no events: ``LookupEvents`` does not
exist and trails never deliver log files.  gateaudit reads both (who approved,
from the PutApprovalResult events), so this module adds:

* ``Recorder``, a WSGI middleware around moto's app.  For every SigV4-signed
  request it records a CloudTrail event (eventVersion 1.08) in the account and
  region of the request (IAM, Organizations, CloudFront and sign-in events in
  the partition's global region, us-east-1, as CloudTrail records them): userIdentity from the access key (identity.py),
  eventSource ``<service>.amazonaws.com``, eventName, requestParameters (the
  parsed request, structure member names in lowerCamelCase as CloudTrail
  writes them, map keys such as an action's ``configuration`` kept as sent;
  for PutApprovalResult exactly pipelineName/stageName/actionName/result/token),
  responseElements (parsed response for successful write calls, secrets
  dropped; null for read-only calls, as CloudTrail does), errorCode /
  errorMessage for failed calls, requestID, eventID, readOnly, eventType,
  managementEvent, eventCategory, recipientAccountId.  S3 object-level calls
  (GetObject, PutObject, ListObjects, ...) are *data* events in CloudTrail:
  they are recorded with ``managementEvent: false`` / ``eventCategory: Data``
  and, like on AWS, are neither returned by LookupEvents nor delivered by
  trails (we do not model data-event selectors).  LookupEvents calls
  themselves are not recorded.  It also serves the control endpoints of
  server.py under ``/_emulator/``.
* ``readOnly`` comes from the access level of the call's IAM action in the
  catalog the Rust code embeds (src/iam/catalog-actions.tsv: List/Read are
  read-only, Write/Permissions management/Tagging are not; S3 operations are
  looked up under the IAM action that authorises them), with a short list of
  documented exceptions (STS role assumptions, KMS cryptographic operations:
  Write in the catalog, ``readOnly: true`` in CloudTrail); an operation the
  catalog does not know is a write.  ``is_read_only``.
* STS: AssumeRole gets CloudTrail's
  shape (sts.shape_assume_role_event): responseElements credentials
  {accessKeyId, sessionToken, expiration} / assumedRoleUser /
  sourceIdentity, ``resources`` [the role]; a cross-account AssumeRole is
  delivered to both accounts, sharing ``sharedEventID`` (the role's account
  sees the caller as ``AWSAccount``).  Calls made with an ``asService``
  service session carry ``invokedBy`` and the service as
  sourceIPAddress/userAgent (identity.py).
* ``LookupEvents`` (JSON API) over the recorded management events of the
  caller's account and region: one LookupAttribute (EventId, EventName,
  ReadOnly, Username, ResourceType, ResourceName, EventSource, AccessKeyId),
  StartTime/EndTime, MaxResults (1..50, default 50), NextToken, newest first.
* Trail log files: events of an account are delivered to every logging trail
  of that account that covers the event's region (multi-region trails cover
  all).  Files are gzip JSON ``{"Records": [...]}`` named like AWS's:
  ``[prefix/]AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/
  <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 alnum>.json.gz``, one
  file per account, region and 5-minute window of event time, written
  through moto's S3 backend (the bucket may belong to another account).
  Organisation trails of a management account also deliver the events of the
  organisation's member accounts under ``AWSLogs/<org-id>/<account>/``.
  Delivery honours the trail's event selectors as CloudTrail does (LookupEvents
  does not): a new trail logs every read and write management event; basic
  selectors (ReadWriteType, IncludeManagementEvents,
  ExcludeManagementEventSources) and advanced selectors (eventCategory,
  readOnly, eventSource NotEquals for management events) narrow that.
* Event selectors: PutEventSelectors validates as CloudTrail does
  (InvalidEventSelectorsException for values or fields a trail's management
  selectors do not allow; InvalidParameterCombinationException for basic and
  advanced together; only kms/rdsdata can be excluded) and replaces the
  selectors; GetEventSelectors answers the default selector for a new trail.
* Shadow trails: DescribeTrails returns the caller's trails of the region and,
  with includeShadowTrails (default true), its multi-region trails of other
  regions and the organisation trails of its organisation (with the
  management account's ARN).  GetTrailStatus and GetEventSelectors take a
  name (the caller's trail in this region) or the ARN of any trail the caller
  can see, an organisation trail from a member account included.
  Delivery happens when the emulator has been idle for ~2 s, on
  ``POST /_emulator/flush-trails`` and before the clock is changed.
* Log-file validation: for every trail with ``EnableLogFileValidation``,
  each flush that delivers log files also writes a digest file per
  account and region at AWS's location ``[prefix/]AWSLogs/[<org-id>/]
  <account>/CloudTrail-Digest/<region>/YYYY/MM/DD/<account>_CloudTrail-
  Digest_<region>_<trail>_<home-region>_<YYYYMMDDTHHmmssZ>.json.gz`` with
  AWS's fields (digestStartTime/EndTime, digestS3Bucket/Object, the key
  fingerprint, previousDigest* chain, logFiles with the SHA-256 of each
  uncompressed log file), signed SHA256withRSA over AWS's string to sign
  (end time, bucket/key, hex SHA-256 of the uncompressed digest, previous
  signature or ``null``) with an RSA key generated at start; the signature
  (hex) and algorithm are the object's metadata (``x-amz-meta-signature``,
  ``x-amz-meta-signature-algorithm``).  ``ListPublicKeys`` serves that key
  (DER PKCS#1, base64, MD5 fingerprint, validity).  Each digest starts where
  its predecessor ended, so a chain covers time without gaps; like AWS,
  which writes a digest every hour even when no log file was delivered, a
  started chain with nothing to deliver gets an empty digest (``logFiles:
  []``) at a flush once an hour of emulated time has passed since its last
  one (the emulator does not write one per idle hour: a clock jump of days
  is covered by one digest).  A multi-region trail also starts a chain, with an
  empty digest, in every other region in use (a region the emulator has served
  a request in): AWS writes digests in every region such a trail covers.
"""

from __future__ import annotations

import base64
import datetime as _dt
import gzip
import hashlib
import io
import json
import pathlib
import random
import re
import string
import threading
import time
import uuid
from typing import Any, Callable, Iterable

from moto.cloudtrail import models as ct_models
from moto.cloudtrail.responses import CloudTrailResponse
from moto.cloudtrail.exceptions import TrailNotFoundException
from moto.core.exceptions import JsonRESTError

from . import clock, identity

LOCK = threading.RLock()
#: (account, region) -> list of recorded events (dicts, see _Event)
EVENTS: dict[tuple[str, str], list["_Event"]] = {}
#: events not yet delivered to trails
PENDING: list["_Event"] = []
#: cloudtrail backends that own trails (registered by create_trail)
TRAIL_BACKENDS: list[Any] = []
_SEQ = [0]
_LAST_RECORD = [0.0]

#: where the Rust code's IAM action catalog lives (``service:Action<TAB>level[...]``, src/iam/catalog.rs)
_CATALOG_TSV = pathlib.Path(__file__).resolve().parents[3] / "src" / "iam" / "catalog-actions.tsv"
_CATALOG: dict[str, str] = {}
#: SigV4 signing names whose IAM action prefix differs
_IAM_PREFIX_OF_SIGNING_NAME = {"monitoring": "cloudwatch"}
#: S3 API operations authorised by an IAM action of another name (AWS's "Required permissions for Amazon S3
#: API operations"); every other S3 operation has the IAM action of its own name
_S3_ACTION_OF_OPERATION = {
    "ListBuckets": "ListAllMyBuckets", "ListDirectoryBuckets": "ListAllMyDirectoryBuckets",
    "HeadBucket": "ListBucket", "ListObjects": "ListBucket", "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions", "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListParts": "ListMultipartUploadParts", "HeadObject": "GetObject", "SelectObjectContent": "GetObject",
    "CopyObject": "PutObject", "CreateMultipartUpload": "PutObject", "UploadPart": "PutObject",
    "UploadPartCopy": "PutObject", "CompleteMultipartUpload": "PutObject", "DeleteObjects": "DeleteObject",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "PutBucketAccelerateConfiguration": "PutAccelerateConfiguration",
    "GetBucketAnalyticsConfiguration": "GetAnalyticsConfiguration",
    "ListBucketAnalyticsConfigurations": "GetAnalyticsConfiguration",
    "PutBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
    "DeleteBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
    "GetBucketEncryption": "GetEncryptionConfiguration", "PutBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketIntelligentTieringConfiguration": "GetIntelligentTieringConfiguration",
    "ListBucketIntelligentTieringConfigurations": "GetIntelligentTieringConfiguration",
    "PutBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
    "DeleteBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
    "GetBucketInventoryConfiguration": "GetInventoryConfiguration",
    "ListBucketInventoryConfigurations": "GetInventoryConfiguration",
    "PutBucketInventoryConfiguration": "PutInventoryConfiguration",
    "DeleteBucketInventoryConfiguration": "PutInventoryConfiguration",
    "GetBucketLifecycle": "GetLifecycleConfiguration", "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycle": "PutLifecycleConfiguration", "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "GetBucketMetricsConfiguration": "GetMetricsConfiguration",
    "ListBucketMetricsConfigurations": "GetMetricsConfiguration",
    "PutBucketMetricsConfiguration": "PutMetricsConfiguration",
    "DeleteBucketMetricsConfiguration": "PutMetricsConfiguration",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetBucketReplication": "GetReplicationConfiguration", "PutBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketReplication": "PutReplicationConfiguration",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock", "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeleteBucketCors": "PutBucketCORS", "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
    "DeleteBucketTagging": "PutBucketTagging",
}
#: where CloudTrail's readOnly differs from the catalog's access level: STS's role assumptions and KMS's
#: cryptographic operations are Write in the catalog, but CloudTrail records them ``readOnly: true`` (the IAM
#: user guide's AssumeRole / AssumeRoleWithSAML / AssumeRoleWithWebIdentity samples, the KMS developer guide's
#: Encrypt, Decrypt, GenerateDataKey, Sign, GenerateMac ... samples); KMS's ReEncrypt is authorised by
#: kms:ReEncryptFrom/To
_READ_ONLY_ALTHOUGH_WRITE = {
    "sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity",
    "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext", "kms:GenerateRandom", "kms:GenerateMac",
    "kms:VerifyMac", "kms:Sign", "kms:Verify",
}


def _catalog() -> dict[str, str]:
    if not _CATALOG:
        with open(_CATALOG_TSV, encoding="utf-8") as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                fields = line.rstrip("\n").split("\t")
                _CATALOG[fields[0].lower()] = fields[1]
    return _CATALOG


def iam_action_of(service: str, operation: str) -> str:
    """The IAM action an API operation of a SigV4 signing name is authorised by."""
    prefix = _IAM_PREFIX_OF_SIGNING_NAME.get(service, service)
    if prefix == "s3":
        operation = _S3_ACTION_OF_OPERATION.get(operation, operation)
    return f"{prefix}:{operation}"


def is_read_only(service: str, operation: str) -> bool:
    """CloudTrail's ``readOnly`` of an operation, from the IAM catalog's access level.

    List and Read are read-only; Write, Permissions management and Tagging are not
    (so a Check*/Validate* call the catalog classes as Write is a write, as
    CloudTrail records it).  ``_READ_ONLY_ALTHOUGH_WRITE`` lists where CloudTrail
    differs from the access level.  An operation the catalog does not know
    (newer than it) is taken as a write: never hide a change."""
    if f"{service}:{operation}" in _READ_ONLY_ALTHOUGH_WRITE:
        return True
    level = _catalog().get(iam_action_of(service, operation).lower())
    return level in ("L", "R")
_S3_DATA_EXTRA = {
    "ListObjects", "ListObjectsV2", "ListObjectVersions", "CreateMultipartUpload",
    "UploadPart", "UploadPartCopy", "CompleteMultipartUpload", "AbortMultipartUpload",
    "ListParts", "SelectObjectContent", "RestoreObject",
}
_CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")
_SECRET_KEYS = {"secretAccessKey", "password", "newPassword", "oldPassword", "privateKey"}


class _Event:
    __slots__ = ("seq", "account", "region", "time", "record", "management", "resources", "username")

    def __init__(self, account: str, region: str, when: _dt.datetime, record: dict[str, Any],
                 management: bool, resources: list[dict[str, str]], username: str):
        with LOCK:
            _SEQ[0] += 1
            self.seq = _SEQ[0]
        self.account = account
        self.region = region
        self.time = when
        self.record = record
        self.management = management
        self.resources = resources
        self.username = username


# --------------------------------------------------------------------------
# request / response parsing helpers


def _lower_camel(value: Any, shape: Any = None) -> Any:
    """CloudTrail writes API member names in lowerCamelCase; drop blobs.

    With the botocore ``shape`` of the value, only structure member names are
    rewritten: the keys of maps are data (an action's ``configuration``,
    tags) and CloudTrail keeps them as sent."""
    type_name = getattr(shape, "type_name", None)
    if isinstance(value, dict):
        if type_name == "map":
            return {key: _lower_camel(item, shape.value) for key, item in value.items()}
        members = shape.members if type_name == "structure" else {}
        out = {}
        for key, item in value.items():
            if key in ("ResponseMetadata", "Body"):
                continue
            name = key[:1].lower() + key[1:] if isinstance(key, str) else key
            if name in _SECRET_KEYS:
                continue
            out[name] = _lower_camel(item, members.get(key) if members else None)
        return out
    if isinstance(value, list):
        member = shape.member if type_name == "list" else None
        return [_lower_camel(v, member) for v in value]
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.strftime("%b %d, %Y %-I:%M:%S %p") if isinstance(value, _dt.datetime) else str(value)
    if isinstance(value, (bytes, bytearray)):
        return None
    if hasattr(value, "read"):
        return None
    return value


#: SigV4 signing names whose botocore model has another name
_MODEL_OF_SIGNING_NAME = {"sso": "sso-admin", "awsssoportal": "sso"}


def _service_model(service: str):
    from moto.core.utils import get_service_model

    return get_service_model(_MODEL_OF_SIGNING_NAME.get(service, service))


def _shape_of(service: str, action: str, which: str) -> Any:
    """The botocore input/output shape of an operation (None when unknown)."""
    try:
        operation = _service_model(service).operation_model(action)
        return operation.input_shape if which == "input" else operation.output_shape
    except Exception:
        return None


_ROUTERS: dict[str, Any] = {}


def _router(service: str) -> Any:
    """moto's operation router for a service (built once: it is not cheap)."""
    if service not in _ROUTERS:
        from moto.core.routing import get_service_router

        _ROUTERS[service] = get_service_router(_MODEL_OF_SIGNING_NAME.get(service, service))
    return _ROUTERS[service]


def _operation_and_params(service: str, environ: dict[str, Any], body: bytes) -> tuple[str | None, Any]:
    """Find the operation a request calls and parse its parameters."""
    from moto.core.parse import PROTOCOL_PARSERS
    from moto.core.request import Request, determine_request_protocol
    env = dict(environ)
    env["wsgi.input"] = io.BytesIO(body)
    env["CONTENT_LENGTH"] = str(len(body))
    env.pop("wsgi.input_terminated", None)
    request = Request(env)
    try:
        operation, uri_params = _router(service).match(request)
    except Exception:
        target = environ.get("HTTP_X_AMZ_TARGET")
        return (target.split(".")[-1] if target else None), None
    try:
        model = _service_model(service)
        protocol = determine_request_protocol(model, request.content_type)
        parser = PROTOCOL_PARSERS[protocol](operation)
        params = parser.parse(
            {
                "method": request.method,
                "values": request.values,
                "headers": request.headers,
                "body": body,
                "url_path": request.path,
                "url_params": uri_params,
            }
        )
        params = json.loads(json.dumps(params, default=_json_default))
    except Exception:
        params = None
        if body[:1] == b"{":
            try:
                params = json.loads(body)
            except ValueError:
                params = None
    return operation.name, params


def _json_default(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return clock.iso_z(value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc))
    if isinstance(value, (bytes, bytearray)) or hasattr(value, "read"):
        return None
    return str(value)


def _parse_response(service: str, action: str, status: int, headers: dict[str, str], body: bytes) -> Any:
    """Parse a response with botocore's own parser (all protocols)."""
    import botocore.parsers

    model = _service_model(service)
    operation = model.operation_model(action)
    protocols = list(model.metadata.get("protocols") or [model.protocol])
    content_type = headers.get("content-type", "")
    if "cbor" in content_type:
        wanted = ["smithy-rpc-v2-cbor"]
    elif "json" in content_type or body[:1] == b"{":
        wanted = ["json", "rest-json"]
    else:
        wanted = ["query", "rest-xml", "ec2"]
    protocol = next((p for p in protocols if p in wanted), model.protocol)
    parser = botocore.parsers.create_parser(protocol)
    parsed = parser.parse(
        {"status_code": status, "headers": headers, "body": body},
        operation.output_shape,
    )
    return json.loads(json.dumps(parsed, default=_json_default))


def _error_of(status: int, body: bytes) -> tuple[str | None, str | None]:
    if status < 400:
        return None, None
    text = body.decode("utf-8", "replace")
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
            code = str(doc.get("__type") or doc.get("code") or doc.get("Code") or "")
            code = code.split("#")[-1].split(":")[0]
            return code or f"HTTP{status}", doc.get("message") or doc.get("Message")
        except ValueError:
            pass
    code = re.search(r"<Code>(.*?)</Code>", text, re.S)
    message = re.search(r"<Message>(.*?)</Message>", text, re.S)
    return (code.group(1) if code else f"HTTP{status}"), (message.group(1) if message else None)


def _resources(service: str, params: Any, account: str) -> list[dict[str, str]]:
    """Best-effort Resources list for LookupEvents."""
    if not isinstance(params, dict):
        return []
    out = []
    if service == "codepipeline":
        name = params.get("pipelineName") or params.get("name") or (params.get("pipeline") or {}).get("name")
        if isinstance(name, str):
            out.append({"ResourceType": "AWS::CodePipeline::Pipeline", "ResourceName": name})
    elif service == "iam":
        for key, rtype in (("UserName", "AWS::IAM::User"), ("RoleName", "AWS::IAM::Role"),
                           ("GroupName", "AWS::IAM::Group"), ("PolicyArn", "AWS::IAM::Policy"),
                           ("AccessKeyId", "AWS::IAM::AccessKey")):
            if isinstance(params.get(key), str):
                out.append({"ResourceType": rtype, "ResourceName": params[key]})
    elif service == "sts":
        if isinstance(params.get("RoleArn"), str):
            out.append({"ResourceType": "AWS::IAM::Role", "ResourceName": params["RoleArn"]})
    elif service == "s3":
        if isinstance(params.get("Bucket"), str):
            out.append({"ResourceType": "AWS::S3::Bucket", "ResourceName": params["Bucket"]})
    elif service == "cloudtrail":
        name = params.get("Name") or params.get("TrailName")
        if isinstance(name, str):
            out.append({"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": name})
    return out


# --------------------------------------------------------------------------
# recording

# Services CloudTrail records in the partition's global region only, whatever
# region the request was signed for (IAM, Organizations, CloudFront, console
# sign-in).  STS is regional: the SDKs call regional endpoints, and the
# emulator cannot tell a call to the global endpoint from one to us-east-1.
GLOBAL_SERVICES = {"iam", "organizations", "cloudfront", "signin"}


def global_region(region: str) -> str:
    """The region where CloudTrail records the global services of ``region``'s partition."""
    if region.startswith("cn-"):
        return "cn-north-1"
    if region.startswith("us-gov-"):
        return "us-gov-west-1"
    if region.startswith("us-isob-"):
        return "us-isob-east-1"
    if region.startswith("us-iso-"):
        return "us-iso-east-1"
    return "us-east-1"


def event_region(service: str, region: str) -> str:
    """``awsRegion`` of an event: the global region for global services."""
    return global_region(region) if service in GLOBAL_SERVICES else region


def record_request(environ: dict[str, Any], body: bytes, status: int,
                   response_headers: dict[str, str], response_body: bytes) -> None:
    """Turn one served request into a CloudTrail event (never raises)."""
    try:
        _record(environ, body, status, response_headers, response_body)
    except Exception:  # recording must never break the API
        import traceback

        traceback.print_exc()


def _record(environ: dict[str, Any], body: bytes, status: int,
            response_headers: dict[str, str], response_body: bytes) -> None:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = _CREDENTIAL_RE.search(auth)
    if not match:
        qs = environ.get("QUERY_STRING", "")
        from urllib.parse import parse_qs

        cred = parse_qs(qs).get("X-Amz-Credential", [""])[0]
        match = _CREDENTIAL_RE.search("Credential=" + cred)
    if not match:
        return  # unsigned: not an SDK call
    access_key, _date, region, service = match.group(1), match.group(2), match.group(3), match.group(4).lower()
    action, params = _operation_and_params(service, environ, body)
    REGIONS_IN_USE.update((region, event_region(service, region)))
    if not action or (service == "cloudtrail" and action == "LookupEvents"):
        return
    headers = {"x-moto-account-id": environ.get("HTTP_X_MOTO_ACCOUNT_ID")}
    account = identity.account_for_request(headers, access_key)
    caller = identity.resolve(access_key, account)
    when = clock.now()
    recorded_region = event_region(service, region)
    read_only = is_read_only(service, action)
    management = not (service == "s3" and ("Object" in action or action in _S3_DATA_EXTRA))
    error_code, error_message = _error_of(status, response_body)

    request_parameters = _lower_camel(params, _shape_of(service, action, "input")) if isinstance(params, dict) else None
    if service == "s3" and isinstance(params, dict):
        request_parameters = {
            k: v for k, v in (request_parameters or {}).items() if k not in ("bucket", "key")
        }
        if params.get("Bucket"):
            request_parameters["bucketName"] = params["Bucket"]
        if params.get("Key"):
            request_parameters["key"] = params["Key"]
        request_parameters["Host"] = environ.get("HTTP_HOST", "")
    if request_parameters == {}:
        request_parameters = None

    response_elements = None
    if not error_code and not read_only and response_body:
        try:
            response_elements = _lower_camel(
                _parse_response(service, action, status, response_headers, response_body),
                _shape_of(service, action, "output"),
            ) or None
            if response_elements and len(json.dumps(response_elements)) > 10240:
                response_elements = {"omitted": True}
        except Exception:
            response_elements = None
        if service == "codepipeline" and action == "PutApprovalResult" and response_elements:
            approved = response_elements.get("approvedAt")
            if isinstance(approved, str):
                try:
                    ts = _dt.datetime.fromisoformat(approved.replace("Z", "+00:00"))
                    response_elements["approvedAt"] = ts.strftime("%b %d, %Y %-I:%M:%S %p")
                except ValueError:
                    pass

    request_id = (
        response_headers.get("x-amzn-requestid")
        or response_headers.get("x-amz-request-id")
        or response_headers.get("x-amzn-RequestId")
        or str(uuid.uuid4())
    )
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": caller.user_identity(),
        "eventTime": clock.iso_z(when),
        "eventSource": f"{service}.amazonaws.com",
        "eventName": action,
        "awsRegion": recorded_region,
        # a service's own calls with its role come from the service (identity.py, asService sessions)
        "sourceIPAddress": caller.invoked_by or environ.get("REMOTE_ADDR", "127.0.0.1"),
        "userAgent": caller.invoked_by or environ.get("HTTP_USER_AGENT", ""),
    }
    if error_code:
        record["errorCode"] = error_code
        if error_message:
            record["errorMessage"] = error_message
    record.update(
        {
            "requestParameters": request_parameters,
            "responseElements": response_elements,
            "requestID": request_id,
            "eventID": str(uuid.uuid4()),
            "readOnly": read_only,
            "eventType": "AwsApiCall",
            "managementEvent": management,
            "recipientAccountId": account,
            "eventCategory": "Management" if management else "Data",
        }
    )
    if caller.access_key_id is None:
        record["userIdentity"].pop("accessKeyId", None)
    copies: list[tuple[str, dict[str, Any]]] = []
    if service == "sts" and action == "AssumeRole":
        from . import sts

        parsed = None
        if not error_code and response_body:
            try:
                parsed = _parse_response(service, action, status, response_headers, response_body)
            except Exception:
                parsed = None
        copies = sts.shape_assume_role_event(record, params, caller, parsed, when)
    resources = _resources(service, params, account)
    events = [_Event(account, recorded_region, when, record, management, resources, caller.username)]
    for other_account, other in copies:
        events.append(_Event(other_account, recorded_region, when, other, management, resources, ""))
    with LOCK:
        for event in events:
            EVENTS.setdefault((event.account, recorded_region), []).append(event)
            if management:
                PENDING.append(event)
        _LAST_RECORD[0] = time.monotonic()


def record_event(account: str, region: str, record: dict[str, Any], username: str,
                 resources: list[dict[str, str]] | None = None, when: _dt.datetime | None = None) -> None:
    """Record an event the emulator's services emit themselves (not a signed SDK call).

    Used for calls that reach the emulator unsigned (the Identity Center portal
    API, AssumeRoleWithSAML) and for calls AWS services make on a caller's
    behalf (Identity Center's AssumeRoleWithSAML into the target account).
    ``record`` is the complete CloudTrail record; it is stored, returned by
    LookupEvents and delivered to trails like every other management event."""
    when = when or clock.now()
    event = _Event(account, region, when, record, True, list(resources or []), username)
    with LOCK:
        EVENTS.setdefault((account, region), []).append(event)
        PENDING.append(event)
        _LAST_RECORD[0] = time.monotonic()


# --------------------------------------------------------------------------
# LookupEvents


class _Error(JsonRESTError):
    code = 400

    def __init__(self, error_type: str, message: str):
        super().__init__(error_type, message)


_ATTRIBUTES = {
    "EventId": lambda e: e.record["eventID"],
    "EventName": lambda e: e.record["eventName"],
    "ReadOnly": lambda e: "true" if e.record["readOnly"] else "false",
    "Username": lambda e: e.username,
    "EventSource": lambda e: e.record["eventSource"],
    "AccessKeyId": lambda e: e.record["userIdentity"].get("accessKeyId", ""),
}


def _to_time(value: Any) -> _dt.datetime:
    if isinstance(value, (int, float)):
        return _dt.datetime.fromtimestamp(value, _dt.timezone.utc)
    return clock.parse_iso(str(value))


def lookup_events(self: CloudTrailResponse) -> str:
    """CloudTrail LookupEvents over the recorded management events."""
    params = json.loads(self.body or "{}")
    attributes = params.get("LookupAttributes") or []
    if len(attributes) > 1:
        raise _Error("InvalidLookupAttributesException",
                     "You cannot specify more than one lookup attribute.")
    start = _to_time(params["StartTime"]) if params.get("StartTime") is not None else None
    end = _to_time(params["EndTime"]) if params.get("EndTime") is not None else None
    if start and end and start > end:
        raise _Error("InvalidTimeRangeException",
                     "Start time must be before the end time.")
    max_results = params.get("MaxResults", 50)
    if not isinstance(max_results, int) or not 1 <= max_results <= 50:
        raise _Error("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
    predicate: Callable[[_Event], bool] = lambda e: True
    if attributes:
        key = attributes[0].get("AttributeKey")
        value = attributes[0].get("AttributeValue")
        if key in _ATTRIBUTES:
            getter = _ATTRIBUTES[key]
            predicate = lambda e: getter(e) == value
        elif key == "ResourceName":
            predicate = lambda e: any(r["ResourceName"] == value for r in e.resources)
        elif key == "ResourceType":
            predicate = lambda e: any(r["ResourceType"] == value for r in e.resources)
        else:
            raise _Error("InvalidLookupAttributesException",
                         f"Invalid attribute key: {key}")
    with LOCK:
        events = [
            e for e in EVENTS.get((self.current_account, self.region), [])
            if e.management
            and (start is None or e.time >= start)
            and (end is None or e.time <= end)
            and predicate(e)
        ]
    events.sort(key=lambda e: (e.time, e.seq), reverse=True)
    token = params.get("NextToken")
    if token:
        try:
            ts, seq = base64.b64decode(token).decode().split("|")
            cursor = (float(ts), int(seq))
        except Exception:
            raise _Error("InvalidNextTokenException", "Invalid NextToken.")
        events = [e for e in events if (e.time.timestamp(), e.seq) < cursor]
    page = events[:max_results]
    out: dict[str, Any] = {
        "Events": [
            {
                "EventId": e.record["eventID"],
                "EventName": e.record["eventName"],
                "ReadOnly": "true" if e.record["readOnly"] else "false",
                "AccessKeyId": e.record["userIdentity"].get("accessKeyId", ""),
                "EventTime": clock.epoch(e.time),
                "EventSource": e.record["eventSource"],
                "Username": e.username,
                "Resources": e.resources,
                "CloudTrailEvent": json.dumps(e.record),
            }
            for e in page
        ]
    }
    if len(events) > max_results:
        last = page[-1]
        out["NextToken"] = base64.b64encode(f"{last.time.timestamp()!r}|{last.seq}".encode()).decode()
    return json.dumps(out)


# --------------------------------------------------------------------------
# trail delivery


def _alnum(n: int) -> str:
    return "".join(random.choice(string.ascii_letters + string.digits) for _ in range(n))


def _org_of(account: str) -> tuple[str | None, set[str]]:
    """(organisation id, member account ids) when ``account`` manages an org."""
    try:
        from moto.organizations.models import organizations_backends

        backend = organizations_backends[account]["aws"]
        if backend.org is None or backend.org.master_account_id != account:
            return None, set()
        return backend.org.id, {a.id for a in backend.accounts}
    except Exception:
        return None, set()


def _destinations(event: _Event) -> list[tuple[str, str, Any]]:
    """(bucket, key prefix up to the account, trail) for every trail that takes ``event``."""
    out = []
    for backend in list(TRAIL_BACKENDS):
        for trail in list(backend.trails.values()):
            if not trail.status.is_logging:
                continue
            if not (trail.is_multi_region or trail.region_name == event.region):
                continue
            # global services reach only trails that include global service events (AWS's default)
            source = str(event.record.get("eventSource", "")).split(".")[0]
            if source in GLOBAL_SERVICES and not getattr(trail, "include_global_service_events", True):
                continue
            if not trail_takes(trail, event.record, event.management):
                continue
            prefix = f"{trail.s3_key_prefix.strip('/')}/" if trail.s3_key_prefix else ""
            if trail.account_id == event.account:
                if trail.is_org_trail:
                    org_id, _ = _org_of(trail.account_id)
                    if org_id:
                        out.append((trail.bucket_name, f"{prefix}AWSLogs/{org_id}/{event.account}", trail))
                        continue
                out.append((trail.bucket_name, f"{prefix}AWSLogs/{event.account}", trail))
            elif trail.is_org_trail:
                org_id, members = _org_of(trail.account_id)
                if org_id and event.account in members:
                    out.append((trail.bucket_name, f"{prefix}AWSLogs/{org_id}/{event.account}", trail))
    return out


# --------------------------------------------------------------------------
# event selectors, shadow trails, organisation trails seen from members


#: what AWS gives a trail created without selectors: every read and write management event, no data events
_DEFAULT_SELECTORS = [{"ReadWriteType": "All", "IncludeManagementEvents": True,
                       "DataResources": [], "ExcludeManagementEventSources": []}]
#: the only sources a trail's management events can exclude (basic ExcludeManagementEventSources and the
#: advanced eventSource NotEquals), per the CloudTrail API reference
_EXCLUDABLE_SOURCES = {"kms.amazonaws.com", "rdsdata.amazonaws.com"}
_OPERATORS = ("Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith")
_TRAIL_ARN_RE = re.compile(r"^arn:(aws[a-z-]*):cloudtrail:([a-z0-9-]+):(\d{12}):trail/(.+)$")


def _invalid_selectors(message: str) -> _Error:
    return _Error("InvalidEventSelectorsException", message)


def _basic_selectors(selectors: Any) -> list[dict[str, Any]]:
    """Validates and completes basic event selectors as CloudTrail stores them."""
    if not isinstance(selectors, list) or not 1 <= len(selectors) <= 5:
        raise _invalid_selectors("You can specify up to 5 event selectors for a trail.")
    out = []
    for selector in selectors:
        rw = selector.get("ReadWriteType", "All")
        if rw not in ("All", "ReadOnly", "WriteOnly"):
            raise _invalid_selectors(f"Invalid ReadWriteType: {rw}")
        include = selector.get("IncludeManagementEvents", True)
        excluded = list(selector.get("ExcludeManagementEventSources") or [])
        bad = [s for s in excluded if s not in _EXCLUDABLE_SOURCES]
        if bad:
            raise _invalid_selectors(
                f"Invalid ExcludeManagementEventSources value(s): {', '.join(bad)}. Only "
                f"{' and '.join(sorted(_EXCLUDABLE_SOURCES))} can be excluded.")
        if excluded and not include:
            raise _invalid_selectors(
                "ExcludeManagementEventSources requires IncludeManagementEvents to be true.")
        out.append({"ReadWriteType": rw, "IncludeManagementEvents": bool(include),
                    "DataResources": list(selector.get("DataResources") or []),
                    "ExcludeManagementEventSources": excluded})
    return out


def _advanced_selectors(selectors: Any) -> list[dict[str, Any]]:
    """Validates advanced event selectors for the fields CloudTrail allows on a trail's management events.

    Management selectors: eventCategory Equals Management (required), readOnly Equals true|false, eventSource
    NotEquals kms.amazonaws.com / rdsdata.amazonaws.com; anything else is CloudTrail's
    InvalidEventSelectorsException.  Data selectors (eventCategory Equals Data, resources.type required) are
    stored; the emulator delivers no data events (see the module doc)."""
    if not isinstance(selectors, list) or not selectors:
        raise _invalid_selectors("AdvancedEventSelectors must not be empty.")
    for selector in selectors:
        fields = selector.get("FieldSelectors")
        if not isinstance(fields, list) or not fields:
            raise _invalid_selectors("Each advanced event selector needs at least one field selector.")
        by_field: dict[str, dict[str, Any]] = {}
        for field in fields:
            name = field.get("Field")
            if name in by_field:
                raise _invalid_selectors(f"Field {name} appears more than once in one selector.")
            if not any(field.get(op) for op in _OPERATORS):
                raise _invalid_selectors(f"Field selector {name} has no operator.")
            by_field[name] = field
        category = by_field.get("eventCategory")
        if category is None or set(k for k in category if k in _OPERATORS and category[k]) != {"Equals"} \
                or len(category["Equals"]) != 1:
            raise _invalid_selectors("eventCategory is required and must use Equals with one value.")
        kind = category["Equals"][0]
        if kind == "Management":
            for name, field in by_field.items():
                ops = {k for k in field if k in _OPERATORS and field[k]}
                if name == "eventCategory":
                    continue
                if name == "readOnly":
                    if ops != {"Equals"} or len(field["Equals"]) != 1 or field["Equals"][0] not in ("true", "false"):
                        raise _invalid_selectors("readOnly can only use Equals with the value true or false.")
                elif name == "eventSource":
                    values = field.get("NotEquals") or []
                    if ops != {"NotEquals"} or any(v not in _EXCLUDABLE_SOURCES for v in values):
                        raise _invalid_selectors(
                            "For management events eventSource can only use NotEquals with "
                            f"{' or '.join(sorted(_EXCLUDABLE_SOURCES))}.")
                else:
                    raise _invalid_selectors(f"Field {name} is not supported for management events on a trail.")
        elif kind == "Data":
            if "resources.type" not in by_field:
                raise _invalid_selectors("resources.type is required for data event selectors.")
        else:
            raise _invalid_selectors(f"Invalid eventCategory value: {kind} (the emulator supports Management and Data).")
    return [{"Name": s.get("Name", ""), "FieldSelectors": s["FieldSelectors"]} for s in selectors]


def _field_matches(field: dict[str, Any], value: str) -> bool:
    checks = [
        not field.get("Equals") or value in field["Equals"],
        not field.get("StartsWith") or any(value.startswith(v) for v in field["StartsWith"]),
        not field.get("EndsWith") or any(value.endswith(v) for v in field["EndsWith"]),
        value not in (field.get("NotEquals") or []),
        not any(value.startswith(v) for v in field.get("NotStartsWith") or []),
        not any(value.endswith(v) for v in field.get("NotEndsWith") or []),
    ]
    return all(checks)


def trail_takes(trail: Any, record: dict[str, Any], management: bool) -> bool:
    """Whether the trail's event selectors select this event, as CloudTrail evaluates them: an event is logged
    when it matches any selector.  Data events are never delivered (not modelled)."""
    if not management:
        return False
    source = record.get("eventSource", "")
    read_only = bool(record.get("readOnly"))
    advanced = getattr(trail, "advanced_event_selectors", None) or []
    if advanced:
        values = {"eventCategory": "Management", "eventSource": source,
                  "readOnly": "true" if read_only else "false"}
        return any(
            all(_field_matches(f, values.get(f.get("Field"), "")) for f in s.get("FieldSelectors", []))
            for s in advanced
        )
    basic = getattr(trail, "event_selectors", None) or _DEFAULT_SELECTORS
    for selector in basic:
        if not selector.get("IncludeManagementEvents", True):
            continue
        rw = selector.get("ReadWriteType", "All")
        if rw == "ReadOnly" and not read_only or rw == "WriteOnly" and read_only:
            continue
        if source in (selector.get("ExcludeManagementEventSources") or []):
            continue
        return True
    return False


def _members_of(management: str) -> set[str]:
    _org, members = _org_of(management)
    return members


def _visible_to(trail: Any, account: str) -> bool:
    """A trail is visible to its own account, and an organisation trail to the organisation's members."""
    return trail.account_id == account or (trail.is_org_trail and account in _members_of(trail.account_id))


def _all_trails() -> list[Any]:
    with LOCK:
        backends = list(TRAIL_BACKENDS)
    return [t for b in backends for t in list(b.trails.values())]


def _trail_not_found(account: str, name: str) -> Exception:
    return TrailNotFoundException(account_id=account, name=name)


def resolve_trail(account: str, region: str, name_or_arn: str) -> Any:
    """The trail a name (the caller's, in this region) or an ARN (any region; another account's organisation
    trail when the caller is a member) names, as CloudTrail resolves TrailName."""
    match = _TRAIL_ARN_RE.match(name_or_arn or "")
    for trail in _all_trails():
        if match:
            if trail.arn == name_or_arn and _visible_to(trail, account):
                return trail
        elif trail.trail_name == name_or_arn and trail.account_id == account and trail.region_name == region:
            return trail
    if match:
        raise _trail_not_found(account, name_or_arn)
    raise _trail_not_found(account, f"arn:aws:cloudtrail:{region}:{account}:trail/{name_or_arn}")


def _describe(trail: Any) -> dict[str, Any]:
    desc = trail.description(include_region=True)
    desc["HasCustomEventSelectors"] = bool(getattr(trail, "custom_selectors", False))
    return desc


def describe_trails(self: CloudTrailResponse) -> str:
    """DescribeTrails as AWS answers it: the caller's trails of this region, plus (includeShadowTrails, default
    true) the shadow trails: its multi-region trails of other regions, and the organisation trails of its
    organisation's management account that cover this region.  A trailNameList names the caller's trails of this
    region by name, or any visible trail by ARN."""
    params = json.loads(self.body or "{}")
    include_shadow = params.get("includeShadowTrails", True)
    names = params.get("trailNameList") or []
    account, region = self.current_account, self.region
    out = []
    for trail in _all_trails():
        if not _visible_to(trail, account):
            continue
        home = trail.account_id == account and trail.region_name == region
        shadow = not home and (trail.is_multi_region or trail.region_name == region)
        if names:
            if not (trail.arn in names or (home and trail.trail_name in names)):
                continue
        elif not (home or (include_shadow and shadow)):
            continue
        out.append(_describe(trail))
    return json.dumps({"trailList": out})


def get_trail_status(self: CloudTrailResponse) -> str:
    params = json.loads(self.body or "{}")
    trail = resolve_trail(self.current_account, self.region, params.get("Name", ""))
    return json.dumps(trail.status.description())


def get_event_selectors(self: CloudTrailResponse) -> str:
    params = json.loads(self.body or "{}")
    trail = resolve_trail(self.current_account, self.region, params.get("TrailName", ""))
    out: dict[str, Any] = {"TrailARN": trail.arn}
    if getattr(trail, "advanced_event_selectors", None):
        out["AdvancedEventSelectors"] = trail.advanced_event_selectors
    else:
        out["EventSelectors"] = trail.event_selectors or _DEFAULT_SELECTORS
    return json.dumps(out)


def put_event_selectors(self: CloudTrailResponse) -> str:
    """PutEventSelectors: basic or advanced selectors (not both), validated as CloudTrail does; they replace the
    trail's selectors.  Only the trail's own account, in its home region, can change them."""
    params = json.loads(self.body or "{}")
    basic, advanced = params.get("EventSelectors"), params.get("AdvancedEventSelectors")
    if basic is not None and advanced is not None:
        raise _Error("InvalidParameterCombinationException",
                     "You cannot specify both EventSelectors and AdvancedEventSelectors.")
    if basic is None and advanced is None:
        raise _invalid_selectors("Specify EventSelectors or AdvancedEventSelectors.")
    trail = resolve_trail(self.current_account, self.region, params.get("TrailName", ""))
    if trail.account_id != self.current_account:
        raise _Error("NotOrganizationMasterAccountException",
                     "This operation must be called from the organization's management account.")
    if trail.region_name != self.region:
        raise _Error("InvalidHomeRegionException",
                     f"This operation must be called from the trail's home region {trail.region_name}.")
    out: dict[str, Any] = {"TrailARN": trail.arn}
    if basic is not None:
        trail.event_selectors = _basic_selectors(basic)
        trail.advanced_event_selectors = []
        out["EventSelectors"] = trail.event_selectors
    else:
        trail.advanced_event_selectors = _advanced_selectors(advanced)
        trail.event_selectors = []
        out["AdvancedEventSelectors"] = trail.advanced_event_selectors
    trail.custom_selectors = True
    return json.dumps(out)


# --------------------------------------------------------------------------
# log-file validation: digest files and the signing key


_KEY_LOCK = threading.Lock()
_SIGNING_KEY: list[Any] = []
#: (trail arn, account, region) -> (bucket, key, sha256 hex, signature hex, end time, base, trail)
_DIGEST_CHAINS: dict[tuple[str, str, str], tuple[Any, ...]] = {}
_KEY_VALID_FROM = _dt.datetime(2000, 1, 1, tzinfo=_dt.timezone.utc)
_KEY_VALID_UNTIL = _dt.datetime(2100, 1, 1, tzinfo=_dt.timezone.utc)


def signing_key() -> tuple[Any, bytes, str]:
    """(private key, DER PKCS#1 public key, fingerprint): generated once per emulator."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    with _KEY_LOCK:
        if not _SIGNING_KEY:
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            der = private.public_key().public_bytes(serialization.Encoding.DER,
                                                    serialization.PublicFormat.PKCS1)
            _SIGNING_KEY.extend([private, der, hashlib.md5(der).hexdigest()])
        return _SIGNING_KEY[0], _SIGNING_KEY[1], _SIGNING_KEY[2]


def string_to_sign(end_time: str, bucket: str, key: str, digest_sha256: str, previous_signature: str | None) -> str:
    """AWS's data signing string for a digest file."""
    return f"{end_time}\n{bucket}/{key}\n{digest_sha256}\n{previous_signature or 'null'}"


def _write_digest(trail: Any, bucket: str, base: str, account: str, region: str,
                  files: list[dict[str, Any]]) -> bool:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from moto.s3.models import s3_backends

    private, _der, fingerprint = signing_key()
    chain_key = (trail.arn, account, region)
    previous = _DIGEST_CHAINS.get(chain_key)
    end = clock.now().replace(microsecond=0)
    if previous and end <= previous[4]:
        end = previous[4] + _dt.timedelta(seconds=1)
    oldest = min((f["oldestEventTime"] for f in files), default=None)
    newest = max((f["newestEventTime"] for f in files), default=None)
    start = clock.iso_z(previous[4]) if previous else (oldest or clock.iso_z(end))
    key = (f"{base}/CloudTrail-Digest/{region}/{end:%Y/%m/%d}/{account}_CloudTrail-Digest_"
           f"{region}_{trail.trail_name}_{trail.region_name}_{end:%Y%m%dT%H%M%S}Z.json.gz")
    doc = {
        "awsAccountId": account,
        "digestStartTime": start,
        "digestEndTime": clock.iso_z(end),
        "digestS3Bucket": bucket,
        "digestS3Object": key,
        "digestPublicKeyFingerprint": fingerprint,
        "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": newest,
        "oldestEventTime": oldest,
        "previousDigestS3Bucket": previous[0] if previous else None,
        "previousDigestS3Object": previous[1] if previous else None,
        "previousDigestHashValue": previous[2] if previous else None,
        "previousDigestHashAlgorithm": "SHA-256" if previous else None,
        "previousDigestSignature": previous[3] if previous else None,
        "logFiles": files,
    }
    payload = json.dumps(doc).encode()
    digest_sha = hashlib.sha256(payload).hexdigest()
    message = string_to_sign(doc["digestEndTime"], bucket, key, digest_sha, doc["previousDigestSignature"])
    signature = private.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256()).hex()
    owner = s3_backends.bucket_accounts.get(bucket)
    if owner is None:
        return False
    partition, owner_account = owner
    obj = s3_backends[owner_account][partition].put_object(bucket, key, gzip.compress(payload))
    obj.set_metadata({"x-amz-meta-signature": signature,
                      "x-amz-meta-signature-algorithm": "SHA256withRSA"})
    _DIGEST_CHAINS[chain_key] = (bucket, key, digest_sha, signature, end, base, trail)
    return True


#: A chain with nothing delivered gets a digest once this much emulated time has passed since its last one
#: (CloudTrail writes a digest every hour, with an empty logFiles list when there was nothing to deliver).
_EMPTY_DIGEST_AFTER = _dt.timedelta(hours=1)


def _idle_chains(delivered: set[tuple[str, str, str]]) -> list[tuple[Any, str, str, str, str]]:
    """(trail, bucket, base, account, region) of started chains that are due an empty digest."""
    now = clock.now()
    out = []
    for (arn, account, region), chain in list(_DIGEST_CHAINS.items()):
        bucket, _key, _sha, _sig, end, base, trail = chain
        if (arn, account, region) in delivered:
            continue
        if not (trail.status.is_logging and getattr(trail, "log_validation", False)):
            continue
        if now - end >= _EMPTY_DIGEST_AFTER:
            out.append((trail, bucket, base, account, region))
    return out


#: Regions the emulator has served a signed request in (or recorded an event in): the regions in use. AWS
#: writes a multi-region trail's digests in every enabled region; the emulator does so in the regions in use,
#: so that a region nobody calls costs nothing while a region in use without events still has its chain.
REGIONS_IN_USE: set[str] = set()


def _unstarted_chains() -> list[tuple[Any, str, str, str, str]]:
    """(trail, bucket, base, account, region) of a multi-region trail's regions in use that have no chain yet.

    A trail and account are known from a chain already started (the account delivers to the trail); every other
    region in use that the trail covers starts its chain with an empty digest, as AWS writes digests hourly in
    every region of a multi-region trail even when nothing happened there."""
    started: dict[tuple[str, str], tuple[Any, ...]] = {}
    for (arn, account, _region), chain in list(_DIGEST_CHAINS.items()):
        started.setdefault((arn, account), chain)
    out = []
    for (arn, account), chain in sorted(started.items(), key=lambda kv: kv[0]):
        bucket, _key, _sha, _sig, _end, base, trail = chain
        if not (trail.is_multi_region and trail.status.is_logging and getattr(trail, "log_validation", False)):
            continue
        partition = global_region(trail.region_name)
        for region in sorted(REGIONS_IN_USE):
            if global_region(region) == partition and (arn, account, region) not in _DIGEST_CHAINS:
                out.append((trail, bucket, base, account, region))
    return out


def list_public_keys(self: CloudTrailResponse) -> str:
    """CloudTrail ListPublicKeys: the emulator's one signing key."""
    _private, der, fingerprint = signing_key()
    return json.dumps({"PublicKeyList": [{
        "Value": base64.b64encode(der).decode(),
        "ValidityStartTime": clock.epoch(_KEY_VALID_FROM),
        "ValidityEndTime": clock.epoch(_KEY_VALID_UNTIL),
        "Fingerprint": fingerprint,
    }]})


_FLUSH_LOCK = threading.Lock()


def flush_trails() -> int:
    """Deliver pending events to trail buckets now (and their digests); returns log files written.

    One flush at a time (the idle flusher and the control endpoint may race), so that every digest chains to the
    one before it."""
    with _FLUSH_LOCK:
        return _flush_trails()


def _flush_trails() -> int:
    from moto.s3.models import s3_backends

    with LOCK:
        pending = list(PENDING)
        PENDING.clear()
    groups: dict[tuple[str, str, str, str, int], list[_Event]] = {}
    trails: dict[tuple[str, str], list[Any]] = {}
    for event in pending:
        window = int(event.time.timestamp()) // 300
        for bucket, base, trail in _destinations(event):
            groups.setdefault((bucket, base, event.account, event.region, window), []).append(event)
            known = trails.setdefault((bucket, base), [])
            if trail not in known:
                known.append(trail)
    written = 0
    delivered: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for (bucket, base, account, region, _w), events in sorted(groups.items()):
        events.sort(key=lambda e: (e.time, e.seq))
        stamp = events[-1].time
        key = (
            f"{base}/CloudTrail/{region}/{stamp:%Y/%m/%d}/"
            f"{account}_CloudTrail_{region}_{stamp:%Y%m%dT%H%M}Z_{_alnum(16)}.json.gz"
        )
        raw = json.dumps({"Records": [e.record for e in events]}).encode()
        payload = gzip.compress(raw)
        try:
            owner = s3_backends.bucket_accounts.get(bucket)
            if owner is None:
                continue  # bucket gone: CloudTrail would fail the delivery
            partition, owner_account = owner
            s3_backends[owner_account][partition].put_object(bucket, key, payload)
            written += 1
            delivered.setdefault((bucket, base, account, region), []).append({
                "s3Bucket": bucket, "s3Object": key,
                "hashValue": hashlib.sha256(raw).hexdigest(), "hashAlgorithm": "SHA-256",
                "newestEventTime": clock.iso_z(events[-1].time),
                "oldestEventTime": clock.iso_z(events[0].time),
            })
        except Exception:
            import traceback

            traceback.print_exc()
    digested: set[tuple[str, str, str]] = set()
    for (bucket, base, account, region), files in sorted(delivered.items()):
        for trail in trails.get((bucket, base), []):
            if getattr(trail, "log_validation", False):
                try:
                    _write_digest(trail, bucket, base, account, region, files)
                    digested.add((trail.arn, account, region))
                except Exception:
                    import traceback

                    traceback.print_exc()
    for trail, bucket, base, account, region in _idle_chains(digested) + _unstarted_chains():
        try:
            _write_digest(trail, bucket, base, account, region, [])
        except Exception:
            import traceback

            traceback.print_exc()
    return written


def _idle_flusher() -> None:
    while True:
        time.sleep(0.5)
        with LOCK:
            due = PENDING and time.monotonic() - _LAST_RECORD[0] > 2.0
        if due:
            flush_trails()


_original_create_trail = ct_models.CloudTrailBackend.create_trail


def create_trail(self: Any, *args: Any, **kwargs: Any) -> Any:
    trail = _original_create_trail(self, *args, **kwargs)
    trail.event_selectors = json.loads(json.dumps(_DEFAULT_SELECTORS))
    with LOCK:
        if self not in TRAIL_BACKENDS:
            TRAIL_BACKENDS.append(self)
    return trail


def install() -> None:
    ct_models.CloudTrailBackend.create_trail = create_trail
    CloudTrailResponse.lookup_events = lookup_events
    CloudTrailResponse.list_public_keys = list_public_keys
    CloudTrailResponse.describe_trails = describe_trails
    CloudTrailResponse.get_trail_status = get_trail_status
    CloudTrailResponse.get_event_selectors = get_event_selectors
    CloudTrailResponse.put_event_selectors = put_event_selectors
    threading.Thread(target=_idle_flusher, name="trail-flusher", daemon=True).start()


# --------------------------------------------------------------------------
# WSGI middleware


#: extensions' own WSGI apps for requests moto cannot route (unsigned APIs such
#: as the Identity Center portal): each takes the environ and returns a WSGI app
#: for requests it serves, or None
ROUTES: list[Callable[[dict[str, Any]], Callable[..., Iterable[bytes]] | None]] = []


class Recorder:
    """Wraps moto's WSGI app: control endpoints, extension routes, CloudTrail recording."""

    def __init__(self, app: Callable[..., Iterable[bytes]], control: Callable[..., Any]):
        self.app = app
        self.control = control

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/_emulator/"):
            return self.control(environ, start_response)
        for route in ROUTES:
            own = route(environ)
            if own is not None:
                return own(environ, start_response)
        stream = environ["wsgi.input"]
        if environ.get("wsgi.input_terminated"):
            body = stream.read()
        else:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = stream.read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        captured: dict[str, Any] = {}

        def _start(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            captured["status"] = int(status.split()[0])
            captured["headers"] = {k.lower(): v for k, v in headers}
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        result = self.app(environ, _start)
        try:
            chunks = list(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        response_body = b"".join(chunks)
        record_request(environ, body, captured.get("status", 200),
                       captured.get("headers", {}), response_body)
        return [response_body]
