#!/usr/bin/env bash
# Builds everything the project runs on, from the package registries only:
# the Pulumi CLI and provider plugins from their Go modules, the generated
# libvirt SDK, and the npm dependencies. Idempotent and cached: a run with
# nothing changed only checks stamps.
#
# Versions live in one place: package.json pins @pulumi/pulumi and
# @pulumi/random; the Go wrapper modules must agree (checked below).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source toolchain/lib.sh

need go node npm
export GOFLAGS=-mod=readonly GOTOOLCHAIN=local

pulumi_version=$(npm_pinned @pulumi/pulumi)
gomod_version=$(awk '$1 == "github.com/pulumi/pulumi/pkg/v3" {print $2}' toolchain/pulumi/go.mod)
if [[ "v$pulumi_version" != "$gomod_version" ]]; then
  die "package.json pins @pulumi/pulumi $pulumi_version but toolchain/pulumi/go.mod builds $gomod_version"
fi

mkdir -p "$TOOLCHAIN/bin"

# 1. The Pulumi CLI: a pulumi of the pinned version already on PATH is used
# as it is; otherwise it is built from github.com/pulumi/pulumi/pkg/v3.
cli="$TOOLCHAIN/bin/pulumi"
if [[ "$(pulumi_version_of "$cli")" != "v$pulumi_version" ]]; then
  own=$(PATH=$(path_without "$TOOLCHAIN/bin") command -v pulumi || true)
  if [[ -n "$own" && "$(pulumi_version_of "$own")" == "v$pulumi_version" ]]; then
    log "using $own (v$pulumi_version)"
    ln -sf "$own" "$cli"
  else
    log "building pulumi v$pulumi_version from its Go module (cold: about 15 minutes on 2 cores)"
    (cd toolchain/pulumi && go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$pulumi_version" \
      -o "$cli.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
    mv "$cli.tmp" "$cli"
  fi
fi

# 2. Provider plugins and the generated libvirt SDK.
bash toolchain/build-providers.sh

# 3. The command plugin and the Node.js language host, from pinned upstream
# sources outside the repository (the module proxy does not serve them).
bash toolchain/build-pinned-sources.sh

# 4. The generated SDK is laid out as Pulumi publishes its packages: the
# compiled bin/ folder with the package.json, which package.json links as
# file:.toolchain/sdk/libvirt/bin. The link needs only package.json, so npm
# can install before the SDK is compiled with the project's TypeScript.
sdk="$TOOLCHAIN/sdk/libvirt"
mkdir -p "$sdk/bin"
node -e '
  const fs = require("fs");
  const p = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  delete p.devDependencies; delete p.scripts;
  Object.assign(p, { main: "index.js", types: "index.d.ts" });
  const out = JSON.stringify(p, null, 4) + "\n";
  if (!fs.existsSync(process.argv[2]) || fs.readFileSync(process.argv[2], "utf8") !== out) fs.writeFileSync(process.argv[2], out);
' "$sdk/package.json" "$sdk/bin/package.json"

lock_stamp="$TOOLCHAIN/stamps/npm"
lock_hash=$(cat package.json package-lock.json "$sdk/bin/package.json" | sha256sum | cut -d' ' -f1)
if [[ ! -d node_modules || "$(cat "$lock_stamp" 2>/dev/null)" != "$lock_hash" ]]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
  mkdir -p "$(dirname "$lock_stamp")" && echo "$lock_hash" >"$lock_stamp"
fi

sdk_stamp="$TOOLCHAIN/stamps/sdk-libvirt"
sdk_hash=$(find "$sdk" -name '*.ts' -not -path "$sdk/bin/*" -not -path '*/node_modules/*' -print0 | sort -z | xargs -0 cat | sha256sum | cut -d' ' -f1)
if [[ "$(cat "$sdk_stamp" 2>/dev/null)" != "$sdk_hash" || ! -f "$sdk/bin/index.js" ]]; then
  log "compiling the generated @pulumi/libvirt SDK"
  node_modules/.bin/tsc -p "$sdk"
  echo "$sdk_hash" >"$sdk_stamp"
fi

without_automatic_logs
write_env_file
log "toolchain ready: $("$cli" version), plugins in $PULUMI_HOME"
