"""S3 GetBucketVersioning answered as AWS does.

moto 5.2.5 serialises GetBucketVersioning from the botocore output shape, so
the XML root element is the shape name instead of AWS's
``<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">``;
the Rust AWS SDK checks the root element and rejects it.  We answer with the
AWS document: an empty ``VersioningConfiguration`` for a bucket that never had
versioning, otherwise ``<Status>`` (Enabled|Suspended) and ``<MfaDelete>`` when
it was set through PutBucketVersioning.
"""

from __future__ import annotations

import re
from typing import Any

from moto.s3.responses import S3Response

_S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
#: bucket name -> MfaDelete value seen in PutBucketVersioning (moto drops it)
MFA_DELETE: dict[str, str] = {}


def get_bucket_versioning(self: S3Response) -> Any:
    status = self.backend.get_bucket_versioning(self.bucket_name)
    self.data["Action"] = "GetBucketVersioning"
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<VersioningConfiguration xmlns="{_S3_NS}">']
    if status:
        parts.append(f"<Status>{status}</Status>")
        mfa = MFA_DELETE.get(self.bucket_name)
        if mfa:
            parts.append(f"<MfaDelete>{mfa}</MfaDelete>")
    parts.append("</VersioningConfiguration>")
    return 200, {"Content-Type": "application/xml"}, "".join(parts)


def _remember_mfa_delete(bucket_name: str, body: Any) -> None:
    text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else str(body or "")
    match = re.search(r"<MfaDelete>(\w+)</MfaDelete>", text)
    if match:
        MFA_DELETE[bucket_name] = match.group(1)


def install() -> None:
    S3Response.get_bucket_versioning = get_bucket_versioning
    original = S3Response._bucket_response_put

    def _bucket_response_put(self: S3Response, request: Any, bucket_name: str,
                             querystring: Any, *args: Any, **kwargs: Any) -> Any:
        if querystring and "versioning" in querystring:
            _remember_mfa_delete(bucket_name, self.body)
        return original(self, request, bucket_name, querystring, *args, **kwargs)

    S3Response._bucket_response_put = _bucket_response_put
