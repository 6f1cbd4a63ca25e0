package command

import (
	"context"
	"errors"
	"io"
	"path/filepath"

	"github.com/heraldhq/herald/lsp"
	"github.com/heraldhq/herald/spec"
)

func init() {
	register(&Command{
		Name:     "lsp",
		Synopsis: "Run the language server for editors, over standard input and output",
		Run: func(ctx context.Context, env *Env, args []string) error {
			opts, err := parseLSPFlags(env, args)
			if err != nil {
				return err
			}
			return runLSP(ctx, env, opts)
		},
	})
}

type lspOptions struct {
	Vars []spec.VarArg
	// AllowFileOutsideRoot is -allow-file-outside-root.
	AllowFileOutsideRoot bool
}

func parseLSPFlags(env *Env, args []string) (lspOptions, error) {
	var opts lspOptions
	fs := newFlagSet("lsp", env)
	setUsage(fs, "[options]", `
Speak the Language Server Protocol over standard input and output, for
editors: the diagnostics validate gives, as you type, completion of
blocks, arguments and references, hover documentation (with a message's
next send times), go-to-definition, document symbols and formatting as
fmt does. An editor starts it; see docs/commands/lsp.md for the setup of
VS Code, Neovim and Helix. It never reads state or contacts A1Base.`)
	addVarFlags(fs, &opts.Vars)
	addFileFlag(fs, &opts.AllowFileOutsideRoot)
	if err := parseFlags(fs, env, args); err != nil {
		return opts, err
	}
	if fs.NArg() > 0 {
		return opts, usageError(fs, env, "lsp takes no arguments: the editor names the files")
	}
	return opts, nil
}

// stdio is the standard input and output as one stream.
type stdio struct {
	io.Reader
	io.Writer
}

// Close closes standard input when it can be closed, which ends the
// server's read of it.
func (s stdio) Close() error {
	if c, ok := s.Reader.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

func runLSP(ctx context.Context, env *Env, opts lspOptions) error {
	// A -var-file is named relative to where herald lsp started, whatever
	// directory a document is in.
	vars := append([]spec.VarArg(nil), opts.Vars...)
	for i, v := range vars {
		if v.File && !filepath.IsAbs(v.Value) {
			vars[i].Value = filepath.Join(env.Dir, v.Value)
		}
	}
	server := lsp.NewServer(lsp.Options{
		Vars:                 vars,
		Getenv:               env.Getenv,
		AllowFileOutsideRoot: opts.AllowFileOutsideRoot,
		Now:                  env.Now,
		Version:              env.Version,
	})
	err := server.Serve(ctx, stdio{Reader: env.Stdin, Writer: env.Stdout})
	if errors.Is(err, lsp.ErrNoShutdown) {
		return &ExitError{Err: err, Report: true, Code: ExitError1}
	}
	return err
}
