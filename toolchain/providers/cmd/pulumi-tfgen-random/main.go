// Command pulumi-tfgen-random writes the Pulumi schema and bridge metadata of
// the random provider (`pulumi-tfgen-random schema --out DIR`).
//
// UPSTREAM_REPO_PATH, when set, names the directory of the upstream provider
// sources whose docs/ are used for descriptions.
package main

import (
	"os"

	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"moodle-fleet/toolchain/providers/randominfo"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "0.0.0-dev"

func main() {
	info := randominfo.Provider(version, nil)
	info.UpstreamRepoPath = os.Getenv("UPSTREAM_REPO_PATH")
	pftfgen.Main(randominfo.PackageName, info)
}
