// Package randominfo describes how the Terraform random provider is exposed
// as the Pulumi package "random", matching the tokens and property names of
// the published @pulumi/random SDK.
package randominfo

import (
	"context"
	"fmt"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/terraform-providers/terraform-provider-random/shim"
)

const (
	// PackageName is the Pulumi package (and plugin) name.
	PackageName = "random"
	module      = "index"
	tfPrefix    = "random_"
)

// Provider returns the bridge description of the random provider. metadata is
// the bridge-metadata.json produced by tfgen (nil when running tfgen itself).
func Provider(version string, metadata []byte) tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:            pfbridge.ShimProvider(shim.NewProvider()),
		Name:         PackageName,
		Version:      version,
		Description:  "A Pulumi package to safely use randomness in Pulumi programs.",
		Keywords:     []string{"pulumi", "random"},
		License:      "Apache-2.0",
		Homepage:     "https://pulumi.io",
		Repository:   "https://github.com/pulumi/pulumi-random",
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		Resources: map[string]*tfbridge.ResourceInfo{
			// random_bytes has no natural id attribute; use its base64 value.
			"random_bytes": {ComputeID: idFromBase64},
			// Older states of random_string may lack a schema version marker;
			// treat them as version 1 so the upstream upgraders accept them.
			"random_string": {PreStateUpgradeHook: assumeV1WhenUnversioned},
		},
		JavaScript:                  &tfbridge.JavaScriptInfo{RespectSchemaVersion: true},
		EnableAccurateBridgePreview: true,
		EnableRawStateDelta:         true,
	}

	// random_password -> random:index/randomPassword:RandomPassword
	standard := tokens.MakeStandard(PackageName)
	info.MustComputeTokens(tokens.SingleModule(tfPrefix, module,
		func(mod, name string) (string, error) { return standard(mod, "Random"+name) }))
	info.MustApplyAutoAliases()
	return info
}

func idFromBase64(_ context.Context, state resource.PropertyMap) (resource.ID, error) {
	v, ok := state["base64"]
	if !ok {
		return "", fmt.Errorf("random_bytes: state has no base64 property")
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsString() {
		return "", fmt.Errorf("random_bytes: base64 property is not a string")
	}
	return resource.ID(v.StringValue()), nil
}

func assumeV1WhenUnversioned(args tfbridge.PreStateUpgradeHookArgs) (int64, resource.PropertyMap, error) {
	if args.PriorStateSchemaVersion == 0 {
		return 1, args.PriorState, nil
	}
	return args.PriorStateSchemaVersion, args.PriorState, nil
}
