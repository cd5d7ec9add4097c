#!/usr/bin/env python3
"""The plain-Python baseline of ci/bench: gzip + json over every file of a NUL-separated list, printing the
PutApprovalResult records as JSON Lines to /dev/null."""

import gzip
import json
import sys

with open(sys.argv[1], "rb") as f:
    paths = [p for p in f.read().split(b"\0") if p]
with open("/dev/null", "w") as out:
    for p in paths:
        with gzip.open(p) as g:
            for r in json.load(g)["Records"]:
                if r.get("eventName") == "PutApprovalResult":
                    out.write(json.dumps(r) + "\n")
