// Command pulumi-tfgen-libvirt writes the Pulumi schema and bridge metadata of
// the libvirt provider (`pulumi-tfgen-libvirt schema --out DIR`).
//
// UPSTREAM_REPO_PATH, when set, names the directory of the upstream provider
// sources whose website/docs are used for descriptions.
package main

import (
	"os"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"

	"moodle-fleet/toolchain/providers/libvirtinfo"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "0.0.0-dev"

func main() {
	info := libvirtinfo.Provider(version, nil)
	info.UpstreamRepoPath = os.Getenv("UPSTREAM_REPO_PATH")
	tfgen.Main(libvirtinfo.PackageName, version, info)
}
