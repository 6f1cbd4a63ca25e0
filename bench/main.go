package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/clock"
	"github.com/heraldhq/herald/internal/testkit"
)

func main() {
	if path := os.Getenv(measureEnv); path != "" {
		os.Exit(measureChild(path, os.Args[1:]))
	}
	run := run
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "profile" {
		run = func(args []string, _, stderr io.Writer) error { return profileMain(args, stderr) }
		args = args[1:]
	}
	if err := run(args, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// options are the harness's flags.
type options struct {
	Runs   int
	Quick  bool
	Dir    string
	Keep   bool
	Herald string
	Cases  string
	Strict bool
}

// sizes are the inputs of every case; -quick shrinks them.
type sizes struct {
	Blocks, BlockFiles, BlockGroups int // case 1
	ScaleSmall, ScaleLarge          int // case 2; groups are one per 100 instances
	ApplySends, ApplyGroups         int // case 3
	Parallelism                     int
	StateExisting, StateSends       int // case 4
	RateSends, RateGroups           int // case 5
	RateN                           int // case 5: RateN sends per second
}

var fullSizes = sizes{
	Blocks: 10_000, BlockFiles: 10, BlockGroups: 100,
	ScaleSmall: 10_000, ScaleLarge: 100_000,
	ApplySends: 10_000, ApplyGroups: 100, Parallelism: 8,
	StateExisting: 100_000, StateSends: 1_000,
	RateSends: 500, RateGroups: 10, RateN: 50,
}

var quickSizes = sizes{
	Blocks: 1_000, BlockFiles: 10, BlockGroups: 10,
	ScaleSmall: 1_000, ScaleLarge: 10_000,
	ApplySends: 1_000, ApplyGroups: 10, Parallelism: 8,
	StateExisting: 10_000, StateSends: 100,
	RateSends: 100, RateGroups: 10, RateN: 50,
}

// harness carries what every case needs.
type harness struct {
	opts    options
	sz      sizes
	work    string
	root    string // the module root
	herald  string
	floor   string
	log     io.Writer
	results *table
}

func run(args []string, stdout, stderr io.Writer) error {
	var opts options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&opts.Runs, "runs", 5, "measured runs of each case (after one warm-up run)")
	fs.BoolVar(&opts.Quick, "quick", false, "small inputs and one run: checks that the harness works, figures are indicative only")
	fs.StringVar(&opts.Dir, "dir", "", "work directory (default: a new temporary directory); fsync cost depends on its file system")
	fs.BoolVar(&opts.Keep, "keep", false, "keep the work directory")
	fs.StringVar(&opts.Herald, "herald", "", "herald binary to measure (default: built from this checkout)")
	fs.StringVar(&opts.Cases, "cases", "1,2,3,4,5", "comma-separated cases to run")
	fs.BoolVar(&opts.Strict, "strict", false, "exit 1 when a target is missed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	sz := fullSizes
	if opts.Quick {
		sz = quickSizes
		if !flagSet(fs, "runs") {
			opts.Runs = 1
		}
	}
	if opts.Runs < 1 {
		return fmt.Errorf("-runs must be at least 1")
	}
	cases := map[string]func(*harness) error{
		"1": planVsParse, "2": scale, "3": applyThroughput, "4": stateCost, "5": ratePrecision,
	}
	var selected []string
	for _, c := range strings.Split(opts.Cases, ",") {
		c = strings.TrimSpace(c)
		if _, ok := cases[c]; !ok {
			return fmt.Errorf("unknown case %q in -cases; cases are 1 to 5", c)
		}
		selected = append(selected, c)
	}

	work := opts.Dir
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "herald-bench-"); err != nil {
			return err
		}
		if !opts.Keep {
			defer os.RemoveAll(work)
		}
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	work, err := filepath.Abs(work)
	if err != nil {
		return err
	}

	h := &harness{opts: opts, sz: sz, work: work, log: stderr, results: &table{}}
	if err := h.build(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "bench: work directory %s, %d run(s) per case\n", work, opts.Runs)
	for _, c := range selected {
		start := clock.Now()
		if err := cases[c](h); err != nil {
			return fmt.Errorf("case %s: %w", c, err)
		}
		fmt.Fprintf(stderr, "bench: case %s done in %s\n", c, clock.Since(start).Round(time.Millisecond))
	}
	fmt.Fprint(stdout, machine(opts))
	fmt.Fprintln(stdout)
	h.results.write(stdout)
	if err := h.results.writeDocs(os.Getenv, h.root, opts, selected, stderr); err != nil {
		return err
	}
	if opts.Strict && h.results.missed() > 0 {
		return fmt.Errorf("%d target(s) missed", h.results.missed())
	}
	return nil
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// build compiles herald and the parse floor from this checkout, unless a
// herald binary was given.
func (h *harness) build() error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	h.root = root
	h.herald = h.opts.Herald
	if h.herald == "" {
		h.herald = filepath.Join(h.work, "herald")
		if err := goBuild(root, h.herald, "."); err != nil {
			return err
		}
	}
	h.floor = filepath.Join(h.work, "parsefloor")
	return goBuild(root, h.floor, "./bench/internal/parsefloor")
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("finding the module: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run the harness inside herald's module (go run ./bench)")
	}
	return filepath.Dir(mod), nil
}

func goBuild(root, out, pkg string) error {
	_, err := testkit.Build(filepath.Dir(out), testkit.BuildOptions{Root: root, Pkg: pkg, Name: filepath.Base(out)})
	return err
}

// caseDir makes a fresh directory for one case's inputs.
func (h *harness) caseDir(name string) (string, error) {
	dir := filepath.Join(h.work, name)
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	return dir, os.MkdirAll(dir, 0o755)
}

func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(h.log, "bench: "+format+"\n", args...)
}
