//go:build tools

// Keeps the MinIO server package required through `go mod tidy`; never compiled.
package tools

import _ "github.com/minio/minio"
