package views

import "fmt"

// VersionInfo is what `herald version` reports.
type VersionInfo struct {
	// Version is herald's version without a leading "v", e.g. "0.3.1".
	Version string `json:"version"`
	// Go is the Go release herald was built with, e.g. "go1.26.8".
	Go string `json:"go"`
	// Platform is GOOS_GOARCH, e.g. "linux_amd64".
	Platform string `json:"platform"`
}

// Version prints info for a person, or as one JSON object.
func (v *View) Version(info VersionInfo, asJSON bool) error {
	if asJSON {
		return writeJSON(v.Stdout, info)
	}
	_, err := fmt.Fprintf(v.Stdout, "herald v%s\non %s (built with %s)\n", info.Version, info.Platform, info.Go)
	return err
}
