// Package version holds build information set with -ldflags at link time.
package version

// Set by the linker: -X .../internal/version.Version=... (see Makefile, .goreleaser.yaml).
var (
	Version  = "0.0.0-dev"
	Revision = "unknown"
)
