#!/usr/bin/env bash
# Check that a change to the scanner did not change what it finds: runs two `gateaudit` binaries (e.g. a copy of
# the release binary before the change, and the new one) with `trail scan --events approvals|writes|all --format
# jsonl` over the same archive and compares the outputs: byte for byte, else line by line as parsed JSON (the same
# values in the same order; key order inside an object may differ). Exits 1 on any other difference.
# Usage: ci/bench.d/compare_outputs.sh OLD_BIN NEW_BIN ARCHIVE_DIR [SINCE UNTIL]
set -euo pipefail
OLD=$1; NEW=$2; DIR=$3; SINCE=${4:-2026-01-01}; UNTIL=${5:-2026-02-01}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
status=0
for sel in approvals writes all; do
  "$OLD" trail scan "$DIR" --since "$SINCE" --until "$UNTIL" --events "$sel" --format jsonl --out "$TMP/old" --quiet
  "$NEW" trail scan "$DIR" --since "$SINCE" --until "$UNTIL" --events "$sel" --format jsonl --out "$TMP/new" --quiet
  if cmp -s "$TMP/old" "$TMP/new"; then
    echo "identical  --events $sel: $(wc -l < "$TMP/new") events, $(wc -c < "$TMP/new") bytes"
  elif python3 - "$TMP/old" "$TMP/new" <<'PY'
import json, sys
with open(sys.argv[1]) as a, open(sys.argv[2]) as b:
    old, new = a.readlines(), b.readlines()
sys.exit(0 if len(old) == len(new) and all(json.loads(x) == json.loads(y) for x, y in zip(old, new)) else 1)
PY
  then
    echo "same values --events $sel: $(wc -l < "$TMP/new") events (key order differs)"
  else
    echo "DIFFERENT  --events $sel: $(cmp "$TMP/old" "$TMP/new" 2>&1 | head -1)"; status=1
  fi
done
exit $status
