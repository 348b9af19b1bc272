#!/usr/bin/env bash
# The project's full test run: installs what it needs (Debian packages, the
# built toolchain, npm dependencies), type-checks, then runs the unit and the
# system tests. Ends with one "N passed, N failed" line.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if [[ "${LAB:-}" != skip ]]; then
  bash toolchain/debian-packages.sh
fi
bash toolchain/setup.sh
source .toolchain/env.sh

node_modules/.bin/tsc --noEmit -p tsconfig.json

report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$report" || true
exit "$status"
