// Command pulumi-resource-libvirt is the Pulumi resource plugin for "libvirt".
//
// schema.json and bridge-metadata.json are produced by pulumi-tfgen-libvirt and
// are not kept in the source tree: build-providers.sh supplies them to
// `go build` through an -overlay file.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"

	"moodle-fleet/toolchain/providers/libvirtinfo"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "0.0.0-dev"

//go:embed schema.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func main() {
	tfbridge.Main(libvirtinfo.PackageName, version,
		libvirtinfo.Provider(version, metadata), schema)
}
