// Package release reads herald's release configuration (.goreleaser.yaml
// at the repository root) and builds its targets the way the release does,
// so that CI can check every target and the version it injects without
// GoReleaser. It is used by the crossbuild command and by tests; herald
// itself never imports it.
package release
