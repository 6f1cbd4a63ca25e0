package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// BuildOptions says how Build compiles a binary of herald's module.
type BuildOptions struct {
	// Root is the module's root directory; empty finds it from the
	// current directory with go env GOMOD.
	Root string
	// Pkg is the package to build, relative to Root; empty is herald
	// itself (".").
	Pkg string
	// Name is the binary's file name in dir; empty is "herald" (with
	// ".exe" on Windows).
	Name string
	// Tags are the build tags, such as clock.TestBuildTag.
	Tags []string
	// Race builds with the race detector, so that a data race inside the
	// binary fails the run that meets it.
	Race bool
	// LDFlags are the linker flags, such as "-X main.version=1.2.3".
	LDFlags string
}

// Build compiles a package of herald's module with go build into dir and
// returns the binary's path. The error carries the compiler's output.
func Build(dir string, opts BuildOptions) (string, error) {
	root := opts.Root
	if root == "" {
		var err error
		if root, err = ModuleRoot(); err != nil {
			return "", err
		}
	}
	pkg := opts.Pkg
	if pkg == "" {
		pkg = "."
	}
	name := opts.Name
	if name == "" {
		name = "herald"
		if runtime.GOOS == "windows" {
			name += ".exe"
		}
	}
	bin := filepath.Join(dir, name)
	if !filepath.IsAbs(bin) {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return "", err
		}
		bin = abs
	}
	args := []string{"build", "-o", bin}
	if len(opts.Tags) > 0 {
		args = append(args, "-tags="+strings.Join(opts.Tags, ","))
	}
	if opts.Race {
		args = append(args, "-race")
	}
	if opts.LDFlags != "" {
		args = append(args, "-ldflags="+opts.LDFlags)
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin, nil
}

// ModuleRoot is the root directory of the module the current directory is
// in, as go env GOMOD tells.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("finding the module: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("finding the module: %s is not inside a Go module", mustWd())
	}
	return filepath.Dir(mod), nil
}

func mustWd() string {
	wd, err := os.Getwd()
	if err != nil {
		return "the current directory"
	}
	return wd
}
