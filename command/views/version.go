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
	// Commit is the commit herald was built from, when the build knows it.
	Commit string `json:"commit,omitempty"`
	// Date is when that commit was made (RFC 3339), when the build knows
	// it: a release build sets the commit's date, so rebuilding the same
	// commit gives the same binary.
	Date string `json:"date,omitempty"`
}

// Version prints info for a person, or as one JSON object.
func (v *View) Version(info VersionInfo, asJSON bool) error {
	if asJSON {
		return writeJSON(v.Stdout, info)
	}
	if _, err := fmt.Fprintf(v.Stdout, "herald v%s\n", info.Version); err != nil {
		return err
	}
	if build := buildLine(info); build != "" {
		if _, err := fmt.Fprintln(v.Stdout, build); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(v.Stdout, "on %s (built with %s)\n", info.Platform, info.Go)
	return err
}

// buildLine names the commit and date, as far as the build knows them.
func buildLine(info VersionInfo) string {
	switch {
	case info.Commit != "" && info.Date != "":
		return "commit " + info.Commit + " of " + info.Date
	case info.Commit != "":
		return "commit " + info.Commit
	case info.Date != "":
		return "built " + info.Date
	}
	return "commit unknown: this build recorded no version control information"
}
