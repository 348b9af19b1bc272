#!/usr/bin/env bash
# The `fleet` command as CI jobs run it: the repository's own, unless the
# project variable FLEET names another (the pipeline test's VM-less double).
set -euo pipefail
if [[ -n "${FLEET:-}" ]]; then
  # FLEET is a command line (program and its first arguments), split on spaces on purpose.
  # shellcheck disable=SC2086
  exec $FLEET "$@"
fi
exec npm run --silent fleet -- "$@"
