//go:build tools

// Keeps the command's package required through `go mod tidy`; never compiled.
package tools

import (
	_ "github.com/vmware-tanzu/velero/cmd/velero"
)
