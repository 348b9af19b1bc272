// Package libvirtinfo describes how terraform-provider-libvirt (SDKv2) is
// exposed as the Pulumi package "libvirt".
package libvirtinfo

import (
	"github.com/dmacvicar/terraform-provider-libvirt/libvirt"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
)

const (
	// PackageName is the Pulumi package (and plugin) name.
	PackageName = "libvirt"
	module      = "index"
	tfPrefix    = "libvirt_"
)

// Provider returns the bridge description of the libvirt provider. metadata is
// the bridge-metadata.json produced by tfgen (nil when running tfgen itself).
func Provider(version string, metadata []byte) tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:                 shimv2.NewProvider(libvirt.Provider()),
		Name:              PackageName,
		Version:           version,
		Description:       "A Pulumi package for creating and managing libvirt resources",
		Keywords:          []string{"pulumi", "libvirt"},
		License:           "Apache-2.0",
		Homepage:          "https://libvirt.org",
		Repository:        "https://github.com/dmacvicar/terraform-provider-libvirt",
		GitHubOrg:         "dmacvicar",
		TFProviderVersion: version,
		MetadataInfo:      tfbridge.NewProviderMetadata(metadata),
		Config: map[string]*tfbridge.SchemaInfo{
			"uri": {Default: &tfbridge.DefaultInfo{EnvVars: []string{"LIBVIRT_DEFAULT_URI"}}},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			// The automatic mapping would yield "CloudinitDisk".
			"libvirt_cloudinit_disk": {
				Tok:  tfbridge.MakeResource(PackageName, module, "CloudInitDisk"),
				Docs: &tfbridge.DocInfo{Source: "cloudinit.html.markdown"},
			},
			"libvirt_ignition": {Docs: &tfbridge.DocInfo{Source: "coreos_ignition.html.markdown"}},
		},
		JavaScript: &tfbridge.JavaScriptInfo{PackageName: "@pulumi/libvirt", RespectSchemaVersion: true},
	}

	info.MustComputeTokens(tokens.SingleModule(tfPrefix, module, tokens.MakeStandard(PackageName)))
	// Like the published package: a resource's `name` is optional and
	// defaults to the Pulumi resource name plus a random suffix.
	info.SetAutonaming(255, "-")
	info.MustApplyAutoAliases()
	return info
}
