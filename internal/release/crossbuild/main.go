// Command crossbuild builds every target of .goreleaser.yaml the way the
// release does (same environment, flags and ldflags), then checks that the
// native binary's "herald version" reports what was injected. CI runs it
// in place of "goreleaser check" and a snapshot release:
//
//	go run ./internal/release/crossbuild [-config .goreleaser.yaml] [-keep DIR]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/heraldhq/herald/internal/release"
)

func main() {
	config := flag.String("config", "", "the GoReleaser configuration (default: .goreleaser.yaml at the module root)")
	keep := flag.String("keep", "", "write the binaries to this directory and keep them (default: a temporary directory)")
	flag.Parse()
	if err := run(context.Background(), *config, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "crossbuild:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, config, keep string) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := release.Root(wd)
	if err != nil {
		return err
	}
	if config == "" {
		config = filepath.Join(root, ".goreleaser.yaml")
	}
	c, err := release.Load(config)
	if err != nil {
		return err
	}
	out := keep
	if out == "" {
		if out, err = os.MkdirTemp("", "herald-crossbuild-"); err != nil {
			return err
		}
		defer os.RemoveAll(out)
	}
	v := release.CheckValues
	var native string
	for _, b := range c.Builds {
		for _, t := range b.Targets() {
			start := clock.Now()
			bin := filepath.Join(out, t.String(), b.BinaryName(t.GOOS))
			cmd, err := b.GoBuild(ctx, root, t, v, bin)
			if err != nil {
				return fmt.Errorf("build %s: %w", b.ID, err)
			}
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("build %s for %s: %w", b.ID, t, err)
			}
			fmt.Printf("built %s for %s in %s\n", b.ID, t, clock.Since(start).Round(time.Millisecond))
			if t.GOOS == runtime.GOOS && t.GOARCH == runtime.GOARCH {
				native = bin
			}
		}
	}
	if native == "" {
		return fmt.Errorf("no target for this machine (%s_%s): the injected version cannot be checked", runtime.GOOS, runtime.GOARCH)
	}
	if err := release.CheckVersion(ctx, native, v); err != nil {
		return err
	}
	fmt.Printf("herald version of the %s_%s build reports the injected version, commit and date\n", runtime.GOOS, runtime.GOARCH)
	return nil
}
