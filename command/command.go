package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"time"

	"github.com/heraldhq/herald/accounts"
)

// Env is what a command may use of the outside world. Tests build their own.
type Env struct {
	// Dir is the working directory (after -chdir).
	Dir string
	// Chdir is -chdir as given, empty without it: the commands herald
	// suggests repeat it.
	Chdir  string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// StdinIsTerminal and StdoutIsTerminal decide prompts, colour and
	// progress bars.
	StdinIsTerminal  bool
	StdoutIsTerminal bool
	StderrIsTerminal bool
	// Getenv reads the environment (HERALD_VAR_*, A1BASE_*, PG*).
	Getenv func(string) string
	// MediaClient makes plan's media preflight requests; nil: a client of
	// herald's own. Tests point it at a TLS test server.
	MediaClient *http.Client
	// Environ lists the environment as KEY=VALUE.
	Environ func() []string
	// Now is the clock used when -at is not given.
	Now func() time.Time
	// Sleep waits d, or returns ctx's error as soon as ctx ends: how run
	// waits for the next message and the executor for a retry. Nil: a
	// timer. Tests drive it together with Now as a fake clock.
	Sleep func(ctx context.Context, d time.Duration) error
	// Version is herald's version, for `herald version` and User-Agent.
	Version string
	// Commit and Date are the commit herald was built from and that
	// commit's date (RFC 3339), for `herald version`; empty when unknown.
	Commit, Date string
	// Abort is closed on the second interrupt. The first one cancels the
	// context a command runs with, which asks it to stop gracefully; apply
	// then lets requests in flight finish, and only Abort cuts them short.
	// Commands that have nothing in flight ignore it. Nil: never closed.
	Abort <-chan struct{}
}

// Path resolves a path the user gave against the working directory (what
// -chdir set), as every file flag and argument is.
func (e *Env) Path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(e.Dir, p)
}

// accountsEnv is where package accounts reads credentials: herald's
// environment.
func accountsEnv(e *Env) accounts.Env {
	return accounts.Env{Getenv: e.Getenv, Version: e.Version}
}

// Command is one subcommand. Run returns nil for exit 0, an *ExitError for
// a chosen code, or any other error for exit 1.
type Command struct {
	Name     string
	Synopsis string
	Run      func(ctx context.Context, env *Env, args []string) error
}

var commands = map[string]*Command{}

// register adds a command; each command file calls it from init.
func register(c *Command) {
	if _, dup := commands[c.Name]; dup {
		panic("command registered twice: " + c.Name)
	}
	commands[c.Name] = c
}

// Lookup finds a command by name.
func Lookup(name string) (*Command, bool) {
	c, ok := commands[name]
	return c, ok
}

// All lists the commands by name.
func All() []*Command {
	out := make([]*Command, 0, len(commands))
	for _, c := range commands {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ExitError carries an exit code other than 1. Err, when set, has already
// been reported unless Report is true.
type ExitError struct {
	Code   int
	Err    error
	Report bool
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ErrReported is returned by a command that has already printed its errors
// (diagnostics, for instance) and only needs exit 1.
var ErrReported = errors.New("errors reported")

// Exit codes of the contract.
const (
	ExitOK          = 0
	ExitError1      = 1
	ExitChanges     = 2 // plan -detailed-exitcode: something would be sent
	ExitUnformatted = 3 // fmt -check found unformatted files
	ExitInterrupted = 130
)

// ExitCode maps a command's error to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitError1
}
