package release

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func root(t *testing.T) string {
	t.Helper()
	r, err := Root(".")
	require.NoError(t, err)
	return r
}

func loadConfig(t *testing.T) *Config {
	t.Helper()
	c, err := Load(filepath.Join(root(t), ".goreleaser.yaml"))
	require.NoError(t, err)
	return c
}

func TestGoReleaserConfig(t *testing.T) {
	c := loadConfig(t)
	assert.Equal(t, 2, c.Version, "GoReleaser v2 configuration")
	assert.Equal(t, "herald", c.ProjectName)
	require.Len(t, c.Builds, 1)
	b := c.Builds[0]
	assert.Equal(t, "herald", b.Binary)
	assert.Equal(t, ".", b.Main, "builds the CLI at the module root, as CONTRACT's go build does")
	assert.Contains(t, b.Env, "CGO_ENABLED=0", "static binaries")
	assert.Contains(t, b.Flags, "-trimpath")
	var targets []string
	for _, tg := range b.Targets() {
		targets = append(targets, tg.String())
	}
	assert.ElementsMatch(t, []string{
		"linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64", "windows_amd64", "windows_arm64",
	}, targets)

	ld, err := b.LDFlags(CheckValues)
	require.NoError(t, err)
	for _, want := range []string{
		"-X main.version=" + CheckValues.Version,
		"-X main.commit=" + CheckValues.FullCommit,
		"-X main.date=" + CheckValues.CommitDate,
	} {
		assert.Contains(t, ld, want)
	}
	main, err := os.ReadFile(filepath.Join(root(t), "main.go"))
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^var version, commit, date string$`, string(main), "the variables the ldflags set exist in package main")

	require.Len(t, c.Archives, 1)
	a := c.Archives[0]
	v := Values{ProjectName: "herald", Version: "1.2.3"}
	for tg, want := range map[Target]string{
		{"linux", "amd64"}:   "herald_1.2.3_linux_amd64.tar.gz",
		{"darwin", "arm64"}:  "herald_1.2.3_darwin_arm64.tar.gz",
		{"windows", "amd64"}: "herald_1.2.3_windows_amd64.zip",
	} {
		got, err := a.Name(v, tg)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	sums, err := c.ChecksumName(v)
	require.NoError(t, err)
	assert.Equal(t, "herald_1.2.3_checksums.txt", sums)
	assert.Equal(t, "sha256", c.Checksum.Algorithm)

	require.Len(t, c.Dockers, 1)
	assert.Equal(t, "release.Dockerfile", c.Dockers[0].Dockerfile)
	assert.ElementsMatch(t, []string{"linux/amd64", "linux/arm64"}, c.Dockers[0].Platforms)
	assert.FileExists(t, filepath.Join(root(t), c.Dockers[0].Dockerfile))
}

// TestArchivesShipTheDocs checks that the archives carry the README and
// the docs/ tree it links to, and that the glob matches every page.
func TestArchivesShipTheDocs(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root(t), ".goreleaser.yaml"))
	require.NoError(t, err)
	var c struct {
		Archives []struct {
			Files []string `yaml:"files"`
		} `yaml:"archives"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &c))
	require.NotEmpty(t, c.Archives)
	for _, a := range c.Archives {
		assert.Contains(t, a.Files, "README.md")
		assert.Contains(t, a.Files, "docs/**/*")
	}
	pages, err := filepath.Glob(filepath.Join(root(t), "docs", "*.md"))
	require.NoError(t, err)
	assert.NotEmpty(t, pages, "docs/ holds the documentation")
}

func TestTemplateWithUnknownFieldFails(t *testing.T) {
	b := Build{Ldflags: []string{"-X main.version={{.Tag}}"}}
	_, err := b.LDFlags(CheckValues)
	assert.ErrorContains(t, err, "Tag", "a field the check cannot fill is an error, not a blank")
}

// TestReleaseBuildReportsInjectedVersion builds this machine's target as
// the release does and runs its herald version. (CI builds every target
// with go run ./internal/release/crossbuild.)
func TestReleaseBuildReportsInjectedVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds herald")
	}
	c := loadConfig(t)
	b := c.Builds[0]
	tg := Target{runtime.GOOS, runtime.GOARCH}
	bin := filepath.Join(t.TempDir(), b.BinaryName(tg.GOOS))
	cmd, err := b.GoBuild(context.Background(), root(t), tg, CheckValues, bin)
	require.NoError(t, err)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.NoError(t, CheckVersion(context.Background(), bin, CheckValues))

	other := CheckValues
	other.Version = "9.9.9"
	assert.ErrorContains(t, CheckVersion(context.Background(), bin, other), `reports version "0.0.0-releasecheck"`,
		"the check tells a binary that does not carry the version")
}

// dockerfile is a Dockerfile's instructions, continuation lines joined.
type instruction struct{ cmd, args string }

func readDockerfile(t *testing.T, name string) []instruction {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root(t), name))
	require.NoError(t, err)
	var out []instruction
	text := strings.ReplaceAll(string(raw), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cmd, args, _ := strings.Cut(line, " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
	}
	return out
}

// finalStage is the instructions after the last FROM, with that FROM.
func finalStage(ins []instruction) []instruction {
	for i := len(ins) - 1; i >= 0; i-- {
		if ins[i].cmd == "FROM" {
			return ins[i:]
		}
	}
	return nil
}

func last(ins []instruction, cmd string) string {
	v := ""
	for _, in := range ins {
		if in.cmd == cmd {
			v = in.args
		}
	}
	return v
}

var pinnedImage = regexp.MustCompile(`^[a-z0-9./-]+:[A-Za-z0-9._-]+(@sha256:[0-9a-f]{64})?( AS [a-z]+)?$`)

func TestDockerfiles(t *testing.T) {
	gomod, err := os.ReadFile(filepath.Join(root(t), "go.mod"))
	require.NoError(t, err)
	goMinor := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	require.NotNil(t, goMinor)

	for _, name := range []string{"Dockerfile", "release.Dockerfile"} {
		t.Run(name, func(t *testing.T) {
			ins := readDockerfile(t, name)
			for _, in := range ins {
				if in.cmd == "FROM" {
					assert.Regexp(t, pinnedImage, in.args, "a tagged base image")
					assert.NotContains(t, in.args, ":latest")
				}
			}
			final := finalStage(ins)
			require.NotEmpty(t, final)
			assert.Equal(t, "gcr.io/distroless/static-debian12:nonroot", final[0].args, "a static binary on distroless")
			user := last(final, "USER")
			assert.NotEmpty(t, user, "the image sets a user")
			assert.NotRegexp(t, `^(root|0)(:|$)`, user, "the user is not root")
			assert.Equal(t, `["herald"]`, last(final, "ENTRYPOINT"))
			assert.Equal(t, `["run"]`, last(final, "CMD"), "herald run is the default command")
		})
	}

	// The source build compiles as the release does.
	ins := readDockerfile(t, "Dockerfile")
	from := ins[0].args
	m := regexp.MustCompile(`^golang:(\d+\.\d+)(\.\d+)?-`).FindStringSubmatch(from)
	require.NotNil(t, m, "the build stage uses the Go image: %s", from)
	assert.Equal(t, string(goMinor[1]), m[1], "the Go release of go.mod")

	var build string
	for _, in := range ins {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			build = in.args
		}
	}
	require.NotEmpty(t, build)
	b := loadConfig(t).Builds[0]
	ld, err := b.LDFlags(Values{Version: "${VERSION}", FullCommit: "${COMMIT}", CommitDate: "${DATE}"})
	require.NoError(t, err)
	want := strings.Join(b.Env, " ") + " go build " + strings.Join(b.Flags, " ") + ` -ldflags="` + ld + `" -o /out/herald ` + b.Main
	assert.Equal(t, want, build, "the Dockerfile builds with the release's environment, flags and ldflags")
	for _, arg := range []string{"VERSION", "COMMIT", "DATE"} {
		found := false
		for _, in := range ins {
			if in.cmd == "ARG" && (in.args == arg || strings.HasPrefix(in.args, arg+"=")) {
				found = true
			}
		}
		assert.True(t, found, "ARG %s", arg)
	}
	copyFinal := last(finalStage(ins), "COPY")
	assert.Equal(t, "--from=build /out/herald /usr/local/bin/herald", copyFinal)
}
