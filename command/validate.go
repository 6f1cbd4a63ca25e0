package command

import (
	"context"

	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/spec"
)

func init() {
	register(&Command{
		Name:     "validate",
		Synopsis: "Check that the configuration is valid",
		Run: func(ctx context.Context, env *Env, args []string) error {
			opts, err := parseValidateFlags(env, args)
			if err != nil {
				return err
			}
			return runValidate(ctx, env, opts)
		},
	})
}

type validateOptions struct {
	JSON    bool
	NoColor bool
	Vars    []spec.VarArg
	// AllowFileOutsideRoot is -allow-file-outside-root.
	AllowFileOutsideRoot bool
}

func parseValidateFlags(env *Env, args []string) (validateOptions, error) {
	var opts validateOptions
	fs := newFlagSet("validate", env)
	setUsage(fs, "[options]", `
Check the configuration in the working directory: syntax, references,
types, times and every rule of the language, without reading state or
contacting A1Base. Exits 0 when it is valid, 1 when it is not.`)
	fs.BoolVar(&opts.JSON, "json", false, "Print the result as one JSON object, for editors and CI.")
	fs.BoolVar(&opts.NoColor, "no-color", false, "Print no colour codes.")
	addVarFlags(fs, &opts.Vars)
	addFileFlag(fs, &opts.AllowFileOutsideRoot)
	if err := parseFlags(fs, env, args); err != nil {
		return opts, err
	}
	if fs.NArg() > 0 {
		return opts, usageError(fs, env, "validate takes no arguments; use -chdir=DIR to validate another directory")
	}
	return opts, nil
}

func runValidate(_ context.Context, env *Env, opts validateOptions) error {
	cfg, diags := spec.Load(env.Dir, spec.LoadOptions{Vars: opts.Vars, Getenv: env.Getenv, AllowFileOutsideRoot: opts.AllowFileOutsideRoot})
	view := views.NewValidate(newView(env, opts.NoColor || opts.JSON), opts.JSON)
	if err := view.Results(diags, cfg.Files); err != nil {
		return err
	}
	if diags.HasErrors() {
		return ErrReported
	}
	return nil
}
