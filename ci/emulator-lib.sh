# Shared by ci/demo and other scripts: start and stop the emulator in the background.
# Usage: source ci/emulator-lib.sh; start_emulator; echo "$EMULATOR_ENDPOINT"; (stopped on exit)

start_emulator() {
  local log
  log=$(mktemp)
  .venv/bin/python tests/emulator/server.py --port 0 --no-stdin-watch >"$log" 2>"$log.err" &
  EMULATOR_PID=$!
  trap 'kill "$EMULATOR_PID" 2>/dev/null || true' EXIT
  for _ in $(seq 1 300); do
    if grep -q '^READY ' "$log"; then
      EMULATOR_ENDPOINT=$(sed -n 's/^READY //p' "$log" | head -n 1)
      export EMULATOR_ENDPOINT
      return 0
    fi
    if ! kill -0 "$EMULATOR_PID" 2>/dev/null; then
      echo "the emulator exited:" >&2
      cat "$log.err" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "the emulator did not start within 30 s" >&2
  return 1
}
