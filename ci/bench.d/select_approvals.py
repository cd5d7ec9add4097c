#!/usr/bin/env python3
"""The plain-Python baseline of ci/bench: gzip + json over every file of a NUL-separated list, printing the
selected records as JSON Lines to /dev/null: the PutApprovalResult records, or with a second argument `writes`
the write records (readOnly false, approvals excluded)."""

import gzip
import json
import sys

with open(sys.argv[1], "rb") as f:
    paths = [p for p in f.read().split(b"\0") if p]
writes = len(sys.argv) > 2 and sys.argv[2] == "writes"
with open("/dev/null", "w") as out:
    for p in paths:
        with gzip.open(p) as g:
            for r in json.load(g)["Records"]:
                name = r.get("eventName")
                if (r.get("readOnly") is False and name != "PutApprovalResult") if writes else name == "PutApprovalResult":
                    out.write(json.dumps(r) + "\n")
