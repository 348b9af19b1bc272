#!/usr/bin/env bash
# Builds the Pulumi resource plugins `random` and `libvirt` from
# toolchain/providers, generates the libvirt schema and its TypeScript SDK,
# and registers both plugins in the project-local PULUMI_HOME.
#
# Outputs (all under .toolchain/, which is not tracked):
#   plugins/pulumi-resource-random     resource plugin random  4.21.2
#   plugins/pulumi-resource-libvirt    resource plugin libvirt 0.7.6
#   providers-build/gen/<name>/        schema.json, bridge-metadata.json
#   sdk/libvirt/                       TypeScript SDK @pulumi/libvirt 0.7.6
#   pulumi-home/                       PULUMI_HOME with both plugins installed
#
# Each step is keyed on a hash of its inputs and skipped when its outputs are
# present and up to date. Go's module and build caches are reused.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/toolchain/providers"
TC="$ROOT/.toolchain"
WORK="$TC/providers-build"
GEN="$WORK/gen"
STAMPS="$WORK/stamps"
PLUGINS="$TC/plugins"
SDK_OUT="$TC/sdk/libvirt"
PULUMI="$TC/bin/pulumi"

RANDOM_VERSION=4.21.2
LIBVIRT_VERSION=0.7.6
LIBVIRT_NPM_NAME=@pulumi/libvirt
RANDOM_UPSTREAM=github.com/terraform-providers/terraform-provider-random
LIBVIRT_UPSTREAM=github.com/dmacvicar/terraform-provider-libvirt

export PATH="/usr/local/go/bin:$PATH"
export GOPROXY="${GOPROXY:-https://proxy.golang.org}"
# go.mod and go.sum are complete and committed: never rewrite them here.
export GOFLAGS=-mod=readonly
export CGO_ENABLED=0
GO_BUILD=(go build -trimpath -buildvcs=false)

log() { printf '[build-providers] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v go >/dev/null || die "go not found (expected in /usr/local/go/bin)"
[[ -x "$PULUMI" ]] || die "Pulumi CLI not found at $PULUMI (build it first)"

mkdir -p "$WORK/bin" "$GEN" "$STAMPS" "$PLUGINS" "$(dirname "$SDK_OUT")"

# One build at a time per checkout.
exec 9>"$WORK/.lock"
flock 9

# hash_files DIR [find predicates...]: digest of the names and contents of the
# matching files below DIR.
hash_files() {
	local dir=$1
	shift
	(cd "$dir" && find . "$@" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}

# Hash of a list of strings and files.
hash_of() { printf '%s\n' "$@" | sha256sum | cut -d' ' -f1; }

stamp_ok() { [[ -f "$STAMPS/$1" && "$(cat "$STAMPS/$1")" == "$2" ]]; }
stamp_set() { printf '%s\n' "$2" >"$STAMPS/$1"; }

GO_VERSION="$(go env GOVERSION)"
SCRIPT_HASH="$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)"
# Sources of the provider module (everything except the separate sdkgen module).
PROVIDERS_HASH="$(hash_files "$SRC" -not -path './sdkgen/*' \( -name '*.go' -o -name go.mod -o -name go.sum \))"
SDKGEN_HASH="$(hash_files "$SRC/sdkgen" \( -name '*.go' -o -name go.mod -o -name go.sum \))"

# ---------------------------------------------------------------------------
# 1. Schemas and bridge metadata (pulumi-tfgen-*), then the resource plugins
#    with both files embedded (supplied through a go build -overlay file, so
#    nothing generated lands in the source tree).
# ---------------------------------------------------------------------------
PLUGINS_KEY="$(hash_of "$GO_VERSION" "$SCRIPT_HASH" "$PROVIDERS_HASH" "$RANDOM_VERSION" "$LIBVIRT_VERSION")"

plugins_present() {
	local f
	for f in "$PLUGINS/pulumi-resource-random" "$PLUGINS/pulumi-resource-libvirt" \
		"$GEN/random/schema.json" "$GEN/libvirt/schema.json" \
		"$GEN/random/bridge-metadata.json" "$GEN/libvirt/bridge-metadata.json"; do
		[[ -s "$f" ]] || return 1
	done
}

build_plugins() {
	local name version upstream tmp overlay
	cd "$SRC"
	for name in random libvirt; do
		case $name in
		random) version=$RANDOM_VERSION upstream=$RANDOM_UPSTREAM ;;
		libvirt) version=$LIBVIRT_VERSION upstream=$LIBVIRT_UPSTREAM ;;
		esac

		log "building pulumi-tfgen-$name $version"
		"${GO_BUILD[@]}" -ldflags "-X main.version=$version" \
			-o "$WORK/bin/pulumi-tfgen-$name" "./cmd/pulumi-tfgen-$name"

		log "generating $name schema"
		tmp="$(mktemp -d "$GEN/.$name.XXXXXX")"
		# Descriptions come from the upstream docs in the Go module cache. HCL
		# examples are skipped: converting them needs `pulumi convert` with
		# the terraform converter plugin, which is not available here.
		go mod download "$upstream"
		UPSTREAM_REPO_PATH="$(go list -m -f '{{.Dir}}' "$upstream")" \
			"$WORK/bin/pulumi-tfgen-$name" schema --skip-examples --out "$tmp" >"$tmp.log" 2>&1 ||
			{ cat "$tmp.log" >&2; die "pulumi-tfgen-$name failed"; }
		[[ -s "$tmp/schema.json" && -s "$tmp/bridge-metadata.json" ]] ||
			{ cat "$tmp.log" >&2; die "pulumi-tfgen-$name wrote no schema"; }
		rm -rf "$GEN/$name"
		mv "$tmp" "$GEN/$name"
		mv "$tmp.log" "$GEN/$name/tfgen.log"

		overlay="$GEN/$name/overlay.json"
		printf '{"Replace":{"%s":"%s","%s":"%s"}}\n' \
			"$SRC/cmd/pulumi-resource-$name/schema.json" "$GEN/$name/schema.json" \
			"$SRC/cmd/pulumi-resource-$name/bridge-metadata.json" "$GEN/$name/bridge-metadata.json" \
			>"$overlay"

		log "building pulumi-resource-$name $version"
		"${GO_BUILD[@]}" -overlay "$overlay" -ldflags "-s -w -X main.version=$version" \
			-o "$PLUGINS/.pulumi-resource-$name.new" "./cmd/pulumi-resource-$name"
		[[ "$("$PLUGINS/.pulumi-resource-$name.new" -version)" == "$version" ]] ||
			die "pulumi-resource-$name does not report version $version"
		mv -f "$PLUGINS/.pulumi-resource-$name.new" "$PLUGINS/pulumi-resource-$name"
	done
	cd "$ROOT"
}

if stamp_ok plugins "$PLUGINS_KEY" && plugins_present; then
	log "resource plugins up to date"
else
	rm -f "$STAMPS/plugins"
	build_plugins
	stamp_set plugins "$PLUGINS_KEY"
fi

# ---------------------------------------------------------------------------
# 2. TypeScript SDK for libvirt, generated with Pulumi's Node.js codegen.
# ---------------------------------------------------------------------------
SDK_KEY="$(hash_of "$GO_VERSION" "$SCRIPT_HASH" "$SDKGEN_HASH" "$LIBVIRT_VERSION" "$LIBVIRT_NPM_NAME" \
	"$(sha256sum "$GEN/libvirt/schema.json" | cut -d' ' -f1)")"

check_sdk_package_json() {
	node -e '
		const p = require(process.argv[1]);
		const [name, version] = process.argv.slice(2);
		const ok = p.name === name && p.version === version && p.pulumi &&
			p.pulumi.resource === true && p.pulumi.name === "libvirt" && p.pulumi.version === version;
		if (!ok) { console.error(JSON.stringify({name: p.name, version: p.version, pulumi: p.pulumi})); process.exit(1); }
	' "$SDK_OUT/package.json" "$LIBVIRT_NPM_NAME" "$LIBVIRT_VERSION"
}

if stamp_ok sdk "$SDK_KEY" && [[ -s "$SDK_OUT/package.json" && -s "$SDK_OUT/index.ts" ]]; then
	log "libvirt SDK up to date"
else
	rm -f "$STAMPS/sdk"
	log "building gen-nodejs-sdk"
	(cd "$SRC/sdkgen" && "${GO_BUILD[@]}" -o "$WORK/bin/gen-nodejs-sdk" .)
	log "generating $LIBVIRT_NPM_NAME $LIBVIRT_VERSION"
	"$WORK/bin/gen-nodejs-sdk" -schema "$GEN/libvirt/schema.json" -version "$LIBVIRT_VERSION" \
		-package "$LIBVIRT_NPM_NAME" -out "$SDK_OUT" >&2
	check_sdk_package_json || die "unexpected package.json in $SDK_OUT"
	stamp_set sdk "$SDK_KEY"
fi

# ---------------------------------------------------------------------------
# 3. Register both plugins in the project-local PULUMI_HOME and verify.
# ---------------------------------------------------------------------------
export PULUMI_HOME="$TC/pulumi-home"
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_SKIP_UPDATE_CHECK=true
mkdir -p "$PULUMI_HOME"

plugin_listed() { # name version
	"$PULUMI" plugin ls 2>/dev/null | awk -v n="$1" -v v="$2" '$1 == n && $2 == "resource" && $3 == v { f = 1 } END { exit !f }'
}

for spec in "random $RANDOM_VERSION" "libvirt $LIBVIRT_VERSION"; do
	read -r name version <<<"$spec"
	bin="$PLUGINS/pulumi-resource-$name"
	key="$(hash_of "$name" "$version" "$(sha256sum "$bin" | cut -d' ' -f1)")"
	installed="$PULUMI_HOME/plugins/resource-$name-v$version/pulumi-resource-$name"
	if stamp_ok "install-$name" "$key" && [[ -x "$installed" ]] && cmp -s "$bin" "$installed" &&
		plugin_listed "$name" "$version"; then
		log "plugin $name $version already installed"
		continue
	fi
	rm -f "$STAMPS/install-$name"
	log "installing plugin $name $version"
	"$PULUMI" plugin install resource "$name" "$version" --file "$bin" --reinstall >&2
	stamp_set "install-$name" "$key"
done

"$PULUMI" plugin ls >&2
plugin_listed random "$RANDOM_VERSION" || die "random $RANDOM_VERSION is not listed by 'pulumi plugin ls'"
plugin_listed libvirt "$LIBVIRT_VERSION" || die "libvirt $LIBVIRT_VERSION is not listed by 'pulumi plugin ls'"
log "done: random $RANDOM_VERSION and libvirt $LIBVIRT_VERSION installed in $PULUMI_HOME"
