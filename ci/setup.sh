#!/usr/bin/env bash
# A CI job's toolchain: npm packages and the Pulumi CLI and plugins, built
# or taken from the runner's cache by toolchain/setup.sh. FLEET_SKIP_SETUP=1
# is for runners (and the pipeline test) that provide them already.
set -euo pipefail
if [[ "${FLEET_SKIP_SETUP:-}" == 1 ]]; then
  exit 0
fi
exec bash toolchain/setup.sh
