// Package shim re-exports the constructor of the upstream random provider.
package shim

import (
	"github.com/hashicorp/terraform-plugin-framework/provider"

	upstream "github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// NewProvider returns a fresh instance of the upstream plugin-framework provider.
func NewProvider() provider.Provider {
	return upstream.New()
}
