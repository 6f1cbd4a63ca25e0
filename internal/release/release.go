package release

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"
)

// Config is the part of .goreleaser.yaml that this package checks and
// builds from.
type Config struct {
	Version     int        `yaml:"version"`
	ProjectName string     `yaml:"project_name"`
	Builds      []Build    `yaml:"builds"`
	Archives    []Archive  `yaml:"archives"`
	Checksum    Checksum   `yaml:"checksum"`
	Dockers     []DockerV2 `yaml:"dockers_v2"`
}

// Build is one entry of builds:.
type Build struct {
	ID      string   `yaml:"id"`
	Main    string   `yaml:"main"`
	Binary  string   `yaml:"binary"`
	Env     []string `yaml:"env"`
	Goos    []string `yaml:"goos"`
	Goarch  []string `yaml:"goarch"`
	Flags   []string `yaml:"flags"`
	Ldflags []string `yaml:"ldflags"`
}

// Archive is one entry of archives:.
type Archive struct {
	ID              string   `yaml:"id"`
	NameTemplate    string   `yaml:"name_template"`
	Formats         []string `yaml:"formats"`
	FormatOverrides []struct {
		Goos    string   `yaml:"goos"`
		Formats []string `yaml:"formats"`
	} `yaml:"format_overrides"`
}

// Checksum is checksum:.
type Checksum struct {
	NameTemplate string `yaml:"name_template"`
	Algorithm    string `yaml:"algorithm"`
}

// DockerV2 is one entry of dockers_v2:.
type DockerV2 struct {
	ID         string   `yaml:"id"`
	Dockerfile string   `yaml:"dockerfile"`
	Images     []string `yaml:"images"`
	Platforms  []string `yaml:"platforms"`
}

// Target is one platform a build produces.
type Target struct{ GOOS, GOARCH string }

func (t Target) String() string { return t.GOOS + "_" + t.GOARCH }

// Values are the template fields a release fills in.
type Values struct {
	ProjectName string
	Version     string // without a leading "v", as GoReleaser's .Version
	FullCommit  string
	CommitDate  string
	Os, Arch    string
}

// Load reads and decodes a GoReleaser configuration.
func Load(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Config
	if err := yaml.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(c.Builds) == 0 {
		return nil, fmt.Errorf("%s: no builds", path)
	}
	return &c, nil
}

// Targets are the build's platforms: every goos with every goarch.
func (b *Build) Targets() []Target {
	var out []Target
	for _, os := range b.Goos {
		for _, arch := range b.Goarch {
			out = append(out, Target{os, arch})
		}
	}
	return out
}

// expand renders a GoReleaser template with v. Only the fields of Values
// exist: a template that uses another fails rather than building with a
// blank.
func expand(s string, v Values) (string, error) {
	t, err := template.New("").Option("missingkey=error").Parse(s)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

// LDFlags is the build's -ldflags value for v.
func (b *Build) LDFlags(v Values) (string, error) {
	var parts []string
	for _, f := range b.Ldflags {
		s, err := expand(f, v)
		if err != nil {
			return "", fmt.Errorf("ldflags %q: %w", f, err)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " "), nil
}

// GoBuild is the go build command that builds the target into out, with
// the release's environment, flags and ldflags. dir is the module root.
func (b *Build) GoBuild(ctx context.Context, dir string, t Target, v Values, out string) (*exec.Cmd, error) {
	v.Os, v.Arch = t.GOOS, t.GOARCH
	ld, err := b.LDFlags(v)
	if err != nil {
		return nil, err
	}
	args := append([]string{"build"}, b.Flags...)
	args = append(args, "-ldflags="+ld, "-o", out, b.Main)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), b.Env...)
	cmd.Env = append(cmd.Env, "GOOS="+t.GOOS, "GOARCH="+t.GOARCH)
	return cmd, nil
}

// BinaryName is the file name of the build's binary on goos.
func (b *Build) BinaryName(goos string) string {
	if goos == "windows" {
		return b.Binary + ".exe"
	}
	return b.Binary
}

// Name is the archive's file name for the target, with its extension.
func (a *Archive) Name(v Values, t Target) (string, error) {
	v.Os, v.Arch = t.GOOS, t.GOARCH
	name, err := expand(a.NameTemplate, v)
	if err != nil {
		return "", err
	}
	formats := a.Formats
	for _, o := range a.FormatOverrides {
		if o.Goos == t.GOOS {
			formats = o.Formats
		}
	}
	if len(formats) != 1 {
		return "", fmt.Errorf("archive %s: want one format for %s, got %v", a.ID, t, formats)
	}
	return name + "." + formats[0], nil
}

// ChecksumName is the checksums file's name for v.
func (c *Config) ChecksumName(v Values) (string, error) {
	return expand(c.Checksum.NameTemplate, v)
}

// Root finds the module root: the nearest directory at or above dir that
// holds go.mod.
func Root(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod at or above %s", dir)
		}
		dir = parent
	}
}

// CheckValues are what the release check injects: recognisable, and
// fixed, so that a build's output can be compared with them.
var CheckValues = Values{
	ProjectName: "herald",
	Version:     "0.0.0-releasecheck",
	FullCommit:  "0123456789abcdef0123456789abcdef01234567",
	CommitDate:  "2026-01-02T03:04:05Z",
}

// CheckVersion runs bin's "version -json" and "version" and checks that
// they report what v injected.
func CheckVersion(ctx context.Context, bin string, v Values) error {
	out, err := exec.CommandContext(ctx, bin, "version", "-json").Output()
	if err != nil {
		return fmt.Errorf("%s version -json: %w", bin, err)
	}
	var got struct{ Version, Commit, Date string }
	if err := yaml.Unmarshal(out, &got); err != nil { // JSON is YAML
		return fmt.Errorf("%s version -json: %w: %s", bin, err, out)
	}
	if got.Version != v.Version || got.Commit != v.FullCommit || got.Date != v.CommitDate {
		return fmt.Errorf("%s version -json reports version %q, commit %q, date %q; the build injected %q, %q, %q",
			bin, got.Version, got.Commit, got.Date, v.Version, v.FullCommit, v.CommitDate)
	}
	text, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		return fmt.Errorf("%s version: %w", bin, err)
	}
	for _, want := range []string{"herald v" + v.Version + "\n", v.FullCommit, v.CommitDate} {
		if !strings.Contains(string(text), want) {
			return fmt.Errorf("%s version does not print %q:\n%s", bin, want, text)
		}
	}
	return nil
}
