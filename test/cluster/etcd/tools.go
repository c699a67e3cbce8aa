//go:build tools

// Keeps the etcd server package required through `go mod tidy`; never compiled.
package tools

import _ "go.etcd.io/etcd/server/v3"
