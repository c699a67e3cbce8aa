//go:build tools

// Keeps the plugin's main package required through `go mod tidy`; never compiled.
package tools

import (
	_ "github.com/vmware-tanzu/velero-plugin-for-aws/velero-plugin-for-aws"
)
