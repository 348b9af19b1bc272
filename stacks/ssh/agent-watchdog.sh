#!/bin/bash
# Runs an ssh-agent for one fleet run and ends it with the run: when the
# process that started it (OWNER_PID) is gone, even killed, the agent and its
# socket directory go too, so the fleet's key does not outlive the run in
# memory. SIGTERM ends it at once.
#
# From the environment: SOCKET (the agent's socket path, in DIR), DIR (a
# 0700 directory of this run), OWNER_PID.
set -euo pipefail

for name in SOCKET DIR OWNER_PID; do
  if [[ -z "${!name:-}" ]]; then
    echo "ssh-agent watchdog: $name is not set" >&2
    exit 2
  fi
done

ssh-agent -D -a "$SOCKET" >/dev/null &
agent=$!

finish() {
  kill "$agent" 2>/dev/null || true
  wait "$agent" 2>/dev/null || true
  rm -rf -- "$DIR"
  exit 0
}
trap finish TERM INT HUP

while kill -0 "$OWNER_PID" 2>/dev/null && kill -0 "$agent" 2>/dev/null; do
  # In the background, so a signal is handled at once and not after the sleep.
  sleep 1 &
  wait $! || true
done
finish
