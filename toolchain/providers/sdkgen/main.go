// Command gen-nodejs-sdk generates a TypeScript SDK from a Pulumi package
// schema with Pulumi's own Node.js code generator (pkg/v3/codegen/nodejs).
//
//	gen-nodejs-sdk -schema schema.json -version 0.7.6 -package @pulumi/libvirt -out DIR
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	pschema "github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

func main() {
	schemaPath := flag.String("schema", "", "path of the package schema (JSON)")
	version := flag.String("version", "", "package and plugin version to stamp into the SDK")
	npmName := flag.String("package", "", "npm package name (default: taken from the schema)")
	outDir := flag.String("out", "", "output directory (replaced entirely)")
	flag.Parse()
	if *schemaPath == "" || *version == "" || *outDir == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*schemaPath, *version, *npmName, *outDir); err != nil {
		fmt.Fprintln(os.Stderr, "gen-nodejs-sdk:", err)
		os.Exit(1)
	}
}

func run(schemaPath, version, npmName, outDir string) error {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec pschema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("parsing %s: %w", schemaPath, err)
	}
	spec.Version = version

	// The package.json version and the plugin version must come from the
	// schema version rather than a placeholder.
	nodeInfo := map[string]any{}
	if rawInfo, ok := spec.Language["nodejs"]; ok && len(rawInfo) > 0 {
		if err := json.Unmarshal(rawInfo, &nodeInfo); err != nil {
			return fmt.Errorf("parsing language.nodejs: %w", err)
		}
	}
	nodeInfo["respectSchemaVersion"] = true
	if npmName != "" {
		nodeInfo["packageName"] = npmName
	}
	patched, err := json.Marshal(nodeInfo)
	if err != nil {
		return err
	}
	if spec.Language == nil {
		spec.Language = map[string]pschema.RawMessage{}
	}
	spec.Language["nodejs"] = patched

	// The schema references no other package, so loading one is never needed.
	pkg, diags, err := pschema.BindSpec(spec, pschema.NewNullLoader(), pschema.ValidationOptions{})
	if err != nil {
		return fmt.Errorf("binding schema: %w", err)
	}
	if diags.HasErrors() {
		return fmt.Errorf("binding schema: %s", diags.Error())
	}

	files, err := nodejs.GeneratePackage("gen-nodejs-sdk", pkg, nil, nil, false, nil)
	if err != nil {
		return fmt.Errorf("generating SDK: %w", err)
	}

	if err := os.RemoveAll(outDir); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		dest := filepath.Join(outDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dest, files[name], 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("wrote %d files to %s\n", len(names), outDir)
	return nil
}
