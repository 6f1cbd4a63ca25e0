package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/heraldhq/herald/command"
)

// profileMain runs one herald command in this process under the CPU (and
// optionally heap) profiler, so that the cost the table shows can be taken
// apart with go tool pprof:
//
//	go run ./bench -keep -dir=/tmp/hb -cases=2
//	go run ./bench profile -cpuprofile=cpu.out -- -chdir=/tmp/hb/scale-100000 plan -at=2028-01-15T00:00:00Z
//	go tool pprof -top cpu.out
func profileMain(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench profile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cpu := fs.String("cpuprofile", "", "write a CPU profile to `FILE`")
	mem := fs.String("memprofile", "", "write an allocation profile to `FILE`")
	withFake := fs.Bool("fake", false, "serve the fake A1Base in this process and point herald at it (for apply)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("profile needs herald's arguments after --")
	}
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	if *withFake {
		f, err := startFake()
		if err != nil {
			return err
		}
		defer f.Close()
		for _, kv := range f.env() {
			k, v, _ := strings.Cut(kv, "=")
			os.Setenv(k, v)
		}
	}
	if *mem != "" {
		runtime.MemProfileRate = 64 << 10
	}
	if *cpu != "" {
		f, err := os.Create(*cpu)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	env := &command.Env{
		Dir: dir, Stdin: os.Stdin, Stdout: io.Discard, Stderr: stderr,
		Getenv: os.Getenv, Environ: os.Environ, Now: clock.Now, Version: "bench",
	}
	start := clock.Now()
	code := command.Main(context.Background(), env, fs.Args())
	elapsed := clock.Since(start)
	if *cpu != "" {
		pprof.StopCPUProfile()
	}
	if *mem != "" {
		f, err := os.Create(*mem)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "bench profile: herald exited %d after %s\n", code, elapsed.Round(time.Millisecond))
	if code != 0 {
		return fmt.Errorf("herald exited %d", code)
	}
	return nil
}
