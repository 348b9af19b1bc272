#!/bin/bash
# npm run bench:real -- [options, see real-bench.ts] 500 [2000 4000]
# Starts the benchmark's services (idempotent), then runs the driver inside
# their network namespace, where the planned host addresses and the DNS
# server live. `bench/real-engine/services.sh down` removes everything.
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ -x .toolchain/bin/pulumi-language-nodejs && -x node_modules/.bin/tsx ]] || { echo "run npm run setup first" >&2; exit 1; }
bash bench/real-engine/services.sh up
exec ip netns exec moodle-bench node --import tsx bench/real-engine/real-bench.ts "$@"
