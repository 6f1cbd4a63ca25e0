package command

import (
	"context"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/heraldhq/herald/command/views"
)

func init() {
	register(&Command{
		Name:     "version",
		Synopsis: "Show herald's version",
		Run: func(ctx context.Context, env *Env, args []string) error {
			opts, err := parseVersionFlags(env, args)
			if err != nil {
				return err
			}
			return runVersion(ctx, env, opts)
		},
	})
}

type versionOptions struct {
	JSON bool
}

func parseVersionFlags(env *Env, args []string) (versionOptions, error) {
	var opts versionOptions
	fs := newFlagSet("version", env)
	setUsage(fs, "[options]", `
Show herald's version, the commit it was built from and that commit's date,
the Go release it was built with and the platform.

A release build sets the commit and date at link time. A build from source
takes them from what the Go toolchain recorded of the git checkout
(vcs.revision, ".dirty" when vcs.modified, vcs.time); it records nothing
with -buildvcs=false, or in a linked git worktree, and the commit then
shows as unknown.`)
	fs.BoolVar(&opts.JSON, "json", false, "Print the version as a JSON object.")
	if err := parseFlags(fs, env, args); err != nil {
		return opts, err
	}
	if fs.NArg() > 0 {
		return opts, usageError(fs, env, "version takes no arguments")
	}
	return opts, nil
}

func runVersion(_ context.Context, env *Env, opts versionOptions) error {
	info := views.VersionInfo{
		Version:  strings.TrimPrefix(env.Version, "v"),
		Go:       runtime.Version(),
		Platform: runtime.GOOS + "_" + runtime.GOARCH,
		Commit:   env.Commit,
		Date:     env.Date,
	}
	if info.Version == "" {
		info.Version = devVersion
	}
	return newView(env, true).Version(info, opts.JSON)
}

// devVersion is the version of a build that carries none.
const devVersion = "0.0.0-dev"

// ResolveVersion picks herald's version: the one set at link time
// (-ldflags "-X main.version=..."), else the module version recorded in the
// build, else a development version with the commit when the build knows
// it. The result has no leading "v".
func ResolveVersion(linked string, info *debug.BuildInfo) string {
	if v := strings.TrimPrefix(strings.TrimSpace(linked), "v"); v != "" {
		return v
	}
	if info == nil {
		return devVersion
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return strings.TrimPrefix(v, "v")
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return devVersion
	}
	v := devVersion + "+" + rev[:min(len(rev), 12)]
	if dirty {
		v += ".dirty"
	}
	return v
}

// ResolveBuild picks the commit herald was built from and that commit's
// date: the ones set at link time (-ldflags "-X main.commit=... -X
// main.date=..."), else what the Go toolchain recorded from version control
// (vcs.revision, with ".dirty" for a modified tree, and vcs.time).
func ResolveBuild(linkedCommit, linkedDate string, info *debug.BuildInfo) (commit, date string) {
	commit, date = strings.TrimSpace(linkedCommit), strings.TrimSpace(linkedDate)
	if info == nil {
		return commit, date
	}
	var rev, when string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if commit == "" && rev != "" {
		commit = rev
		if dirty {
			commit += ".dirty"
		}
	}
	if date == "" {
		date = when
	}
	return commit, date
}
