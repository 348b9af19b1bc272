#!/usr/bin/env bash
# Builds the two parts of Pulumi that the Go module proxy does not serve,
# from pinned upstream source archives kept outside this repository:
#
#   pulumi-resource-command  1.2.1      the provider behind @pulumi/command
#   pulumi-language-nodejs   v3.260.0   the language host `pulumi up` starts
#
# The archives are read from $MOODLE_FLEET_THIRD_PARTY (default:
# ../shared/third_party beside the repository, or beside the local checkout
# it was cloned from), checked against the sha256
# below, unpacked under .toolchain/pinned-sources and built with the module
# proxy. Each build is skipped when its stamp (archive digest, Go version,
# this script) matches and its binary exists. Nothing is downloaded but Go
# modules; nothing of these sources is copied into the repository.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/toolchain/lib.sh"

COMMAND_VERSION=1.2.1
LANGUAGE_VERSION=3.260.0
COMMAND_ARCHIVE=pulumi-command-$COMMAND_VERSION.tar.gz
COMMAND_SHA256=14804008d3d8de657506887314aaf6b51b2c3d7c1fe9f382b3ff7fcfab654395
LANGUAGE_ARCHIVE=pulumi-language-nodejs-$LANGUAGE_VERSION-dev.tar.gz
LANGUAGE_SHA256=a957dd3d9fcbd91db21288209984445a70930521203c0bf9f82926571a6cc367

# Beside the repository; for a clone of a local checkout (git clone
# /work/main /tmp/check), beside the checkout it was cloned from.
default_sources() {
  local beside=$ROOT/../shared/third_party origin
  origin=$(git -C "$ROOT" remote get-url origin 2>/dev/null || true)
  origin=${origin#file://}
  if [[ ! -d $beside && $origin == /* && -d $origin/../shared/third_party ]]; then
    beside=$(cd "$origin/../shared/third_party" && pwd)
  fi
  printf '%s\n' "$beside"
}
SOURCES=${MOODLE_FLEET_THIRD_PARTY:-$(default_sources)}
WORK="$TOOLCHAIN/pinned-sources"
STAMPS="$WORK/stamps"
PLUGIN="$TOOLCHAIN/plugins/pulumi-resource-command"
LANGUAGE_HOST="$TOOLCHAIN/bin/pulumi-language-nodejs"
PULUMI="$TOOLCHAIN/bin/pulumi"

export PATH="/usr/local/go/bin:$PATH"
export CGO_ENABLED=0 GOTOOLCHAIN=local
need go tar sha256sum
[[ -x "$PULUMI" ]] || die "Pulumi CLI not found at $PULUMI (build it first)"

missing_sources() {
  die "$1
  The command plugin and the Node.js language host are built from pinned
  upstream sources: put $COMMAND_ARCHIVE and $LANGUAGE_ARCHIVE into
  $SOURCES, or point MOODLE_FLEET_THIRD_PARTY at the directory holding them.
  With internet access, take them from Pulumi's releases instead: the CLI
  release tarball bundles pulumi-language-nodejs (put it beside $PULUMI),
  and \`pulumi plugin install resource command $COMMAND_VERSION\` installs the plugin."
}

# checked_archive NAME SHA256: the archive's path, after its digest matched.
checked_archive() {
  local file="$SOURCES/$1"
  [[ -f "$file" ]] || missing_sources "$file is missing."
  local got
  got=$(sha256sum "$file" | cut -d' ' -f1)
  [[ "$got" == "$2" ]] || die "$file has sha256 $got, expected $2: not the pinned upstream source"
  printf '%s\n' "$file"
}

mkdir -p "$WORK" "$STAMPS" "$TOOLCHAIN/plugins" "$TOOLCHAIN/bin"
exec 8>"$WORK/.lock"
flock 8

key_of() { printf '%s\n' "$@" "$(go env GOVERSION)" "$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)" | sha256sum | cut -d' ' -f1; }
stamp_ok() { [[ -x "$2" && -f "$STAMPS/$1" && "$(cat "$STAMPS/$1")" == "$3" ]]; }

# unpack ARCHIVE: a fresh copy of the archive's tree under $WORK.
unpack() {
  local top
  top=$(tar -tzf "$1" | head -n 1 | cut -d/ -f1)
  [[ -n "$top" && "$top" != . && "$top" != .. ]] || die "$1: unexpected layout"
  rm -rf "${WORK:?}/$top"
  tar -xzf "$1" -C "$WORK"
  printf '%s\n' "$WORK/$top"
}

# build_pinned NAME OUTPUT ARCHIVE SHA256 VERSION BUILD_FUNCTION: unless
# OUTPUT is up to date, unpacks the checked ARCHIVE and runs
# `BUILD_FUNCTION UNPACKED_DIR OUTPUT.new`, then moves the result in place.
build_pinned() {
  local name=$1 out=$2 archive=$3 sha=$4 version=$5 build=$6 key src
  key=$(key_of "$sha" "$version")
  if stamp_ok "$name" "$out" "$key"; then
    log "$name $version up to date"
    return 0
  fi
  archive=$(checked_archive "$archive" "$sha")
  log "building $name $version from $archive"
  src=$(unpack "$archive")
  "$build" "$src" "$out.new"
  mv -f "$out.new" "$out"
  printf '%s\n' "$key" >"$STAMPS/$name"
}

# The command resource plugin builds as published (no replace directives).
build_command_plugin() {
  (cd "$1/provider" && GOFLAGS=-mod=mod go build -trimpath -buildvcs=false \
    -ldflags "-s -w -X github.com/pulumi/pulumi-command/provider/pkg/version.Version=$COMMAND_VERSION" \
    -o "$2" ./cmd/pulumi-resource-command)
}

# The Node.js language host: its go.mod points into Pulumi's monorepo by
# relative replace lines; the published pkg and sdk modules of the CLI's own
# version stand in for them.
build_language_host() {
  (cd "$1/sdk/nodejs/cmd/pulumi-language-nodejs" &&
    go mod edit -dropreplace github.com/pulumi/pulumi/pkg/v3 -dropreplace github.com/pulumi/pulumi/sdk/v3 \
      -require "github.com/pulumi/pulumi/pkg/v3@v$LANGUAGE_VERSION" \
      -require "github.com/pulumi/pulumi/sdk/v3@v$LANGUAGE_VERSION" &&
    GOFLAGS=-mod=mod go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$LANGUAGE_VERSION" \
      -o "$2" .)
}

# Cold, with the CLI's modules cached: about 3 minutes and 30 seconds.
build_pinned pulumi-resource-command "$PLUGIN" "$COMMAND_ARCHIVE" "$COMMAND_SHA256" "$COMMAND_VERSION" build_command_plugin
build_pinned pulumi-language-nodejs "$LANGUAGE_HOST" "$LANGUAGE_ARCHIVE" "$LANGUAGE_SHA256" "v$LANGUAGE_VERSION" build_language_host

# 3. Register the plugin in the project's PULUMI_HOME (the language host is
# found beside the CLI and needs no registration).
installed="$PULUMI_HOME/plugins/resource-command-v$COMMAND_VERSION/pulumi-resource-command"
if [[ -x "$installed" ]] && cmp -s "$PLUGIN" "$installed"; then
  log "plugin command $COMMAND_VERSION already installed"
else
  log "installing plugin command $COMMAND_VERSION"
  "$PULUMI" plugin install resource command "$COMMAND_VERSION" --file "$PLUGIN" --reinstall >&2
fi
"$PULUMI" plugin ls 2>/dev/null | awk -v v="$COMMAND_VERSION" '$1 == "command" && $2 == "resource" && $3 == v { f = 1 } END { exit !f }' ||
  die "command $COMMAND_VERSION is not listed by 'pulumi plugin ls'"
