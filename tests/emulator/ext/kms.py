"""KMS automatic key rotation, which AWS performs as a service and CloudTrail records as a service event.

moto 5.2.5 stores ``EnableKeyRotation`` as a flag and never rotates.  On AWS,
a key with automatic rotation is rotated by KMS itself every
``RotationPeriodInDays`` (90..2560, default 365) after rotation was enabled,
and CloudTrail records each rotation in the key's account and region as an
AWS service event, the KMS developer guide's RotateKey sample::

    {"eventVersion": "1.08",
     "userIdentity": {"accountId": <account>, "invokedBy": "AWS Internal"},
     "eventTime": ..., "eventSource": "kms.amazonaws.com", "eventName": "RotateKey",
     "awsRegion": ..., "sourceIPAddress": "AWS Internal", "userAgent": "AWS Internal",
     "requestParameters": null, "responseElements": null, "eventID": ...,
     "readOnly": false,
     "resources": [{"accountId": ..., "type": "AWS::KMS::Key", "ARN": <key arn>}],
     "eventType": "AwsServiceEvent", "recipientAccountId": <account>,
     "serviceEventDetails": {"rotationType": "AUTOMATIC", "keyId": <key id>},
     "eventCategory": "Management"}

(no ``type`` in userIdentity, no requestID, no managementEvent: as in the
sample).  This module keeps the rotation schedule of every key
(EnableKeyRotation with RotationPeriodInDays; DisableKeyRotation drops it),
answers GetKeyRotationStatus with RotationPeriodInDays / NextRotationDate as
AWS does, and ``tick()`` (called after the emulator clock moved) performs
every rotation that has come due: the key's ListKeyRotations gains an
``AUTOMATIC`` rotation and the service event above is recorded at the due
time.  A key that is not Enabled when a rotation comes due is skipped (KMS
does not rotate disabled keys); its schedule moves on.  Re-enabling rotation
starts a new period from that moment (a simplification: AWS documents no
finer rule the audit depends on).
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
import uuid
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.kms.responses import KmsResponse

from . import clock

LOCK = threading.RLock()
#: (account, region, key id) -> {"period": days, "next": datetime}
SCHEDULE: dict[tuple[str, str, str], dict[str, Any]] = {}

DEFAULT_PERIOD_DAYS = 365

_original_enable = KmsResponse.enable_key_rotation
_original_disable = KmsResponse.disable_key_rotation
_original_status = KmsResponse.get_key_rotation_status


class _ValidationException(JsonRESTError):
    code = 400

    def __init__(self, message: str):
        super().__init__("ValidationException", message)


def _key_id(response: KmsResponse) -> str:
    return response.kms_backend.get_key_id(str(response._get_param("KeyId") or ""))


def enable_key_rotation(self: KmsResponse) -> Any:
    period = self._get_param("RotationPeriodInDays")
    if period is not None and not (isinstance(period, int) and 90 <= period <= 2560):
        raise _ValidationException(
            f"1 validation error detected: Value '{period}' at 'rotationPeriodInDays' failed to satisfy "
            "constraint: Member must have value between 90 and 2560")
    result = _original_enable(self)  # validates the key
    days = int(period or DEFAULT_PERIOD_DAYS)
    with LOCK:
        SCHEDULE[(self.current_account, self.region, _key_id(self))] = {
            "period": days, "next": clock.now() + _dt.timedelta(days=days)}
    return result


def disable_key_rotation(self: KmsResponse) -> Any:
    result = _original_disable(self)
    with LOCK:
        SCHEDULE.pop((self.current_account, self.region, _key_id(self)), None)
    return result


def get_key_rotation_status(self: KmsResponse) -> Any:
    body = json.loads(_original_status(self))
    key_id = _key_id(self)
    with LOCK:
        entry = SCHEDULE.get((self.current_account, self.region, key_id))
    body["KeyId"] = self.kms_backend.keys[key_id].arn
    if body.get("KeyRotationEnabled") and entry:
        body["RotationPeriodInDays"] = entry["period"]
        body["NextRotationDate"] = clock.epoch(entry["next"])
    return json.dumps(body)


def _rotation_event(account: str, region: str, key: Any, when: _dt.datetime) -> dict[str, Any]:
    return {
        "eventVersion": "1.08",
        "userIdentity": {"accountId": account, "invokedBy": "AWS Internal"},
        "eventTime": clock.iso_z(when),
        "eventSource": "kms.amazonaws.com",
        "eventName": "RotateKey",
        "awsRegion": region,
        "sourceIPAddress": "AWS Internal",
        "userAgent": "AWS Internal",
        "requestParameters": None,
        "responseElements": None,
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "resources": [{"accountId": account, "type": "AWS::KMS::Key", "ARN": key.arn}],
        "eventType": "AwsServiceEvent",
        "recipientAccountId": account,
        "serviceEventDetails": {"rotationType": "AUTOMATIC", "keyId": key.id},
        "eventCategory": "Management",
    }


def tick() -> int:
    """Perform every automatic rotation that is due by the emulator clock; returns how many."""
    from moto.kms.models import kms_backends

    from . import cloudtrail

    now = clock.now()
    done = 0
    with LOCK:
        for (account, region, key_id), entry in list(SCHEDULE.items()):
            key = kms_backends[account][region].keys.get(key_id)
            if key is None:
                SCHEDULE.pop((account, region, key_id), None)
                continue
            while entry["next"] <= now:
                due = entry["next"]
                entry["next"] = due + _dt.timedelta(days=entry["period"])
                if key.key_state != "Enabled":
                    continue
                key.rotations.append(
                    {"KeyId": key.id, "RotationDate": clock.epoch(due), "RotationType": "AUTOMATIC"})
                cloudtrail.record_event(
                    account, region, _rotation_event(account, region, key, due), "",
                    [{"ResourceType": "AWS::KMS::Key", "ResourceName": key.arn}], when=due)
                done += 1
    return done


def install() -> None:
    KmsResponse.enable_key_rotation = enable_key_rotation
    KmsResponse.disable_key_rotation = disable_key_rotation
    KmsResponse.get_key_rotation_status = get_key_rotation_status
