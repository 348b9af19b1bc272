# Shared helpers for the toolchain scripts; sourced, not run.
# Expects ROOT to be the repository root.
TOOLCHAIN="$ROOT/.toolchain"
export PULUMI_HOME="$TOOLCHAIN/pulumi-home"
# Nothing is ever downloaded at run time: every plugin is built and installed
# by toolchain/setup.sh.
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_SKIP_UPDATE_CHECK=true
export PATH="$TOOLCHAIN/bin:$PATH"

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }
need() {
  local c
  for c in "$@"; do command -v "$c" >/dev/null || die "$c is required but not on PATH"; done
}

# The exact version package.json pins for an npm package.
npm_pinned() {
  node -e 'const p=require(process.argv[1]); const v=(p.dependencies||{})[process.argv[2]]; if(!/^\d+\.\d+\.\d+$/.test(v||"")) process.exit(1); console.log(v)' \
    "$ROOT/package.json" "$1" || die "package.json must pin $1 to an exact version"
}

pulumi_version_of() { [[ -x "$1" ]] && "$1" version 2>/dev/null || true; }

path_without() {
  local drop=$1 out="" d
  IFS=: read -ra parts <<<"$PATH"
  for d in "${parts[@]}"; do [[ "$d" == "$drop" ]] || out+="${out:+:}$d"; done
  printf '%s' "$out"
}

# The CLI writes a debug log of each of its runs under PULUMI_HOME/logs
# (every engine event, every resource's properties, encrypted once a stack's
# secrets are known; kept up to 500 MB). Nothing of the project reads them,
# and they cost a seventh of the engine's CPU in a no-op `up`
# (bench/RESULTS.md). With a file where the folder would be, the CLI finds
# automatic logging unavailable and goes on without it; `--logtostderr -v N`
# still logs on demand.
without_automatic_logs() {
  local logs="$PULUMI_HOME/logs"
  [[ -f $logs && ! -s $logs ]] && return
  rm -rf -- "$logs"
  mkdir -p -- "$PULUMI_HOME"
  : >"$logs"
}

# Shell exports for running the project's pulumi by hand, with the engine's
# garbage collector as the driver runs it (toolchain/engine-gc.env).
write_env_file() {
  local key value
  {
    cat <<ENV
export PATH="$TOOLCHAIN/bin:\$PATH"
export PULUMI_HOME="$PULUMI_HOME"
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_SKIP_UPDATE_CHECK=true
ENV
    while IFS='=' read -r key value; do
      [[ $key =~ ^[A-Z][A-Z_]*$ ]] || continue
      [[ $value =~ ^[A-Za-z0-9]+$ ]] || die "toolchain/engine-gc.env: bad value for $key"
      # shellcheck disable=SC2016 # the expansion is for the shell that sources env.sh
      printf 'export %s="${%s:-%s}"\n' "$key" "$key" "$value"
    done <"$ROOT/toolchain/engine-gc.env"
  } >"$TOOLCHAIN/env.sh"
}
