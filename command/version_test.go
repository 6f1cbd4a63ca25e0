package command

import (
	"context"
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/command/views"
)

func TestVersionCommand(t *testing.T) {
	platform := runtime.GOOS + "_" + runtime.GOARCH
	r := runMain(t, t.TempDir(), "", "version")
	require.Equal(t, 0, r.code)
	assert.Equal(t, "herald v1.2.3\ncommit unknown: this build recorded no version control information\non "+platform+" (built with "+runtime.Version()+")\n", r.stdout)

	for _, args := range [][]string{{"version", "-json"}, {"version", "--json"}} {
		r := runMain(t, t.TempDir(), "", args...)
		require.Equal(t, 0, r.code, r.stderr)
		var got views.VersionInfo
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
		assert.Equal(t, views.VersionInfo{Version: "1.2.3", Go: runtime.Version(), Platform: platform}, got)
	}

	r = runMain(t, t.TempDir(), "", "version", "extra")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "Error: version takes no arguments")
}

func TestResolveVersion(t *testing.T) {
	build := func(mainVersion string, settings ...debug.BuildSetting) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/heraldhq/herald", Version: mainVersion}, Settings: settings}
	}
	rev := debug.BuildSetting{Key: "vcs.revision", Value: "6ed9e7a0123456789abcdef"}
	dirty := debug.BuildSetting{Key: "vcs.modified", Value: "true"}
	tests := []struct {
		name   string
		linked string
		info   *debug.BuildInfo
		want   string
	}{
		{"linked wins", "v1.4.0", build("v0.9.0"), "1.4.0"},
		{"linked without v", "1.4.0", nil, "1.4.0"},
		{"module version", "", build("v0.9.0"), "0.9.0"},
		{"pseudo version", "", build("v0.0.0-20261201090000-6ed9e7a01234+dirty"), "0.0.0-20261201090000-6ed9e7a01234+dirty"},
		{"devel with commit", "", build("(devel)", rev), "0.0.0-dev+6ed9e7a01234"},
		{"devel with modified commit", "", build("(devel)", rev, dirty), "0.0.0-dev+6ed9e7a01234.dirty"},
		{"devel without commit", "", build("(devel)"), "0.0.0-dev"},
		{"no build info", "", nil, "0.0.0-dev"},
		{"blank linked", "  ", build(""), "0.0.0-dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ResolveVersion(tt.linked, tt.info))
		})
	}
}

func TestResolveBuild(t *testing.T) {
	info := &debug.BuildInfo{Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "6ed9e7a0123456789abcdef"},
		{Key: "vcs.time", Value: "2026-11-30T18:04:05Z"},
	}}
	dirty := &debug.BuildInfo{Settings: append(append([]debug.BuildSetting(nil), info.Settings...), debug.BuildSetting{Key: "vcs.modified", Value: "true"})}
	tests := []struct {
		name                 string
		commit, date         string
		info                 *debug.BuildInfo
		wantCommit, wantDate string
	}{
		{"linked wins", "abc123", "2026-12-01T00:00:00Z", info, "abc123", "2026-12-01T00:00:00Z"},
		{"from version control", "", "", info, "6ed9e7a0123456789abcdef", "2026-11-30T18:04:05Z"},
		{"modified tree", "", "", dirty, "6ed9e7a0123456789abcdef.dirty", "2026-11-30T18:04:05Z"},
		{"linked commit, recorded date", "abc123", "", info, "abc123", "2026-11-30T18:04:05Z"},
		{"nothing known", "", "", &debug.BuildInfo{}, "", ""},
		{"no build info", " abc123 ", "", nil, "abc123", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			commit, date := ResolveBuild(tt.commit, tt.date, tt.info)
			assert.Equal(t, tt.wantCommit, commit)
			assert.Equal(t, tt.wantDate, date)
		})
	}
}

// TestVersionFromBuildInfo: a source build's commit and date come from the
// build information the Go toolchain recorded, when the linker set none,
// and herald version prints them.
func TestVersionFromBuildInfo(t *testing.T) {
	info := &debug.BuildInfo{Main: debug.Module{Path: "github.com/heraldhq/herald", Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "6ed9e7a0123456789abcdef0123456789abcdef0"},
		{Key: "vcs.time", Value: "2026-11-30T18:04:05Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	env := func(linkedVersion, linkedCommit, linkedDate string) *Env {
		e := &Env{Dir: t.TempDir(), Getenv: func(string) string { return "" }, Version: ResolveVersion(linkedVersion, info)}
		e.Commit, e.Date = ResolveBuild(linkedCommit, linkedDate, info)
		return e
	}
	run := func(e *Env, args ...string) string {
		var out, errOut strings.Builder
		e.Stdout, e.Stderr = &out, &errOut
		require.Equal(t, 0, Main(context.Background(), e, args), errOut.String())
		return out.String()
	}
	platform := runtime.GOOS + "_" + runtime.GOARCH
	assert.Equal(t, "herald v0.0.0-dev+6ed9e7a01234.dirty\n"+
		"commit 6ed9e7a0123456789abcdef0123456789abcdef0.dirty of 2026-11-30T18:04:05Z\n"+
		"on "+platform+" (built with "+runtime.Version()+")\n", run(env("", "", ""), "version"))

	var got views.VersionInfo
	require.NoError(t, json.Unmarshal([]byte(run(env("", "", ""), "version", "-json")), &got))
	assert.Equal(t, "6ed9e7a0123456789abcdef0123456789abcdef0.dirty", got.Commit)
	assert.Equal(t, "2026-11-30T18:04:05Z", got.Date)

	// What the linker set wins.
	assert.Contains(t, run(env("1.4.0", "abc1234", "2026-12-01T00:00:00Z"), "version"), "herald v1.4.0\ncommit abc1234 of 2026-12-01T00:00:00Z\n")
}
