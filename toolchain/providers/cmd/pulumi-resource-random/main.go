// Command pulumi-resource-random is the Pulumi resource plugin for "random".
//
// schema.json and bridge-metadata.json are produced by pulumi-tfgen-random and
// are not kept in the source tree: build-providers.sh supplies them to
// `go build` through an -overlay file.
package main

import (
	"context"
	_ "embed"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	"moodle-fleet/toolchain/providers/randominfo"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "0.0.0-dev"

//go:embed schema.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func main() {
	pfbridge.Main(context.Background(), randominfo.PackageName,
		randominfo.Provider(version, metadata),
		pfbridge.ProviderMetadata{PackageSchema: schema})
}
