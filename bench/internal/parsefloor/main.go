// Command parsefloor parses every configuration file of a directory with
// hclparse and exits: the least any program that reads herald's
// configuration has to spend, process start-up included. The benchmark
// harness compares herald plan with it.
//
//	parsefloor [-concurrent] DIR
//
// Without -concurrent the files are parsed one after the other, as a
// program written without thought for speed would; with it, one goroutine
// per file.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

func main() {
	concurrent := flag.Bool("concurrent", false, "parse the files concurrently")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: parsefloor [-concurrent] DIR")
		os.Exit(2)
	}
	names, err := filepath.Glob(filepath.Join(flag.Arg(0), "*.hcl"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var config []string
	for _, n := range names {
		if !strings.HasSuffix(n, ".vars.hcl") {
			config = append(config, n)
		}
	}
	if len(config) == 0 {
		fmt.Fprintf(os.Stderr, "parsefloor: no .hcl files in %s\n", flag.Arg(0))
		os.Exit(1)
	}
	diags := make([]hcl.Diagnostics, len(config))
	if *concurrent {
		var wg sync.WaitGroup
		for i, name := range config {
			wg.Go(func() {
				_, diags[i] = hclparse.NewParser().ParseHCLFile(name)
			})
		}
		wg.Wait()
	} else {
		p := hclparse.NewParser()
		for i, name := range config {
			_, diags[i] = p.ParseHCLFile(name)
		}
	}
	for _, d := range diags {
		if d.HasErrors() {
			fmt.Fprintln(os.Stderr, d.Error())
			os.Exit(1)
		}
	}
}
