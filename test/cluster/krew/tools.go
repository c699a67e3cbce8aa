//go:build tools

// Keeps the krew command required through `go mod tidy`; never compiled.
package tools

import _ "sigs.k8s.io/krew/cmd/krew"
