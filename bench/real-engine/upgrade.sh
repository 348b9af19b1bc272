#!/bin/bash
# npm run bench:upgrade -- --from COMMIT [--keep] [SCHOOLS]
# A new version of moodle-fleet applied to stacks an older one made: the
# older commit (a git worktree beside this one, sharing node_modules and
# the toolchain) runs the real-engine benchmark with --keep on SCHOOLS
# generated schools (default 60: one cell, two hosts), then this tree
# previews and applies its program to the same stacks
# (bench/real-engine/upgrade-check.ts). Nothing but the benchmark's own
# namespace and directories is touched.
set -euo pipefail
cd "$(dirname "$0")/../.."
from="" keep="" schools=60
while (($#)); do
  case $1 in
    --from) from=${2:?--from needs a commit}; shift 2 ;;
    --keep) keep=--keep; shift ;;
    [0-9]*) schools=$1; shift ;;
    *) echo "usage: npm run bench:upgrade -- --from COMMIT [--keep] [SCHOOLS]" >&2; exit 2 ;;
  esac
done
[[ -n $from ]] || { echo "usage: npm run bench:upgrade -- --from COMMIT [--keep] [SCHOOLS]" >&2; exit 2; }
commit=$(git rev-parse --verify "$from^{commit}")
old=$(mktemp -d /var/tmp/moodle-fleet-upgrade-from.XXXXXX)
cleanup() {
  git worktree remove --force "$old" 2>/dev/null || rm -rf "$old"
  git worktree prune
}
trap cleanup EXIT
git worktree add --quiet --detach "$old" "$commit"
ln -s "$PWD/node_modules" "$old/node_modules"
ln -s "$PWD/.toolchain" "$old/.toolchain"
echo "upgrade from $(git log --oneline -1 "$commit"): its benchmark, kept" >&2
(cd "$old" && bash bench/real-engine/run.sh --keep --one-stack-up-to 0 "$schools") >&2
bash bench/real-engine/services.sh up
ip netns exec moodle-bench node --import tsx bench/real-engine/upgrade-check.ts "$schools" $keep
