package command

import (
	"context"

	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
	"github.com/heraldhq/herald/state/backends"
)

// openBackend opens the state a backend block names, or the local file
// (-state, or the default file) when there is none (cfg nil); ctx bounds
// the connection.
func openBackend(ctx context.Context, env *Env, cfg *spec.Backend, stateFlag string) (state.Backend, error) {
	return backends.Open(ctx, cfg, backends.Options{LocalPath: statePath(env, stateFlag), StateFlag: stateFlag, Getenv: env.Getenv})
}

// loadBackendBlock reads the configuration in env.Dir for its backend block,
// for the commands that touch only the state (show, state ...); see
// spec.LoadBackend. Diagnostics that keep the block from being read are
// reported on v (ErrReported). It returns nil for the local state file.
func loadBackendBlock(env *Env, v *views.View, vars []spec.VarArg, allowOutside bool) (*spec.Backend, error) {
	b, files, diags := spec.LoadBackend(env.Dir, spec.LoadOptions{Vars: vars, Getenv: env.Getenv, AllowFileOutsideRoot: allowOutside})
	if diags.HasErrors() {
		v.Diagnostics(diags, files)
		return nil, ErrReported
	}
	return b, nil
}

// openStateOnly opens the state for a command that needs no more of the
// configuration than its backend block.
func openStateOnly(ctx context.Context, env *Env, v *views.View, stateFlag string, vars []spec.VarArg, allowOutside bool) (state.Backend, error) {
	cfg, err := loadBackendBlock(env, v, vars, allowOutside)
	if err != nil {
		return nil, err
	}
	return openBackend(ctx, env, cfg, stateFlag)
}

// describeState names the state for messages: a local file relative to the
// working directory, or the database (without its password).
func describeState(env *Env, b state.Backend) string {
	if p := b.LocalPath(); p != "" {
		return displayPath(env, p)
	}
	return b.Describe()
}
