package command

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
	"github.com/heraldhq/herald/state/pgstate"
)

// Where state lives is decided here, once for every command: the backend
// block of the configuration when there is one, the local state file
// otherwise. -state names a local file, so it cannot be combined with a
// backend block: as in Terraform, that is an error rather than a silent
// choice of one over the other.

// openConfiguredBackend opens the state cfg's backend block names, or the
// local file (-state, or the default file) when it has none. cfg may be nil.
func openConfiguredBackend(ctx context.Context, env *Env, cfg *spec.Backend, stateFlag string) (state.Backend, error) {
	if cfg == nil {
		return state.OpenLocal(statePath(env, stateFlag)), nil
	}
	if stateFlag != "" {
		return nil, fmt.Errorf("-state=%s names a local state file, but the configuration stores state with backend %q (declared at %s); remove -state, or remove the backend block to use a local file", stateFlag, cfg.Type, cfg.DeclRange)
	}
	switch cfg.Type {
	case "postgres":
		if err := checkConnStrURL(cfg.ConnStr); err != nil {
			return nil, fmt.Errorf("backend %q (declared at %s): %w", cfg.Type, cfg.DeclRange, err)
		}
		b, err := pgstate.Open(ctx, postgresConnString(env, cfg.ConnStr), cfg.SchemaName)
		if err != nil {
			// pgstate's errors carry no password; the connection string
			// itself is never part of them.
			return nil, err
		}
		return b, nil
	}
	return nil, fmt.Errorf("backend %q is not available in this build of herald; remove the backend block to use the local state file", cfg.Type)
}

// checkConnStrURL refuses a connection URL whose user name or password
// holds an unencoded '@' or '/'. Drivers split such a URL at its first '@',
// so the rest of the password would become the host, which herald names in
// its messages; and the connection could not work anyway. The error holds
// no part of the string. Keyword/value strings (password=p@ss) need no
// encoding and are left alone.
func checkConnStrURL(connStr string) error {
	rest, ok := cutScheme(connStr)
	if !ok {
		return nil
	}
	// The user information ends at the last '@' before the query: what
	// follows it is the host list, port and database.
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 || !strings.ContainsAny(rest[:at], "@/") {
		return nil
	}
	return errors.New("the user name or password in conn_str holds an unencoded '@' or '/'; " +
		"percent-encode it in the URL ('@' as %40, '/' as %2F), or leave the password out of conn_str and set PGPASSWORD")
}

// cutScheme returns a connection URL without its postgres:// or
// postgresql:// scheme; ok is false for any other string.
func cutScheme(connStr string) (rest string, ok bool) {
	for _, scheme := range []string{"postgres://", "postgresql://"} {
		if len(connStr) >= len(scheme) && strings.EqualFold(connStr[:len(scheme)], scheme) {
			return connStr[len(scheme):], true
		}
	}
	return "", false
}

// pgEnvKeywords maps the standard PostgreSQL environment variables to the
// connection keywords they stand for, as libpq (and pgx) read them.
var pgEnvKeywords = map[string]string{
	"PGHOST":               "host",
	"PGPORT":               "port",
	"PGDATABASE":           "dbname",
	"PGUSER":               "user",
	"PGPASSWORD":           "password",
	"PGPASSFILE":           "passfile",
	"PGAPPNAME":            "application_name",
	"PGCONNECT_TIMEOUT":    "connect_timeout",
	"PGSSLMODE":            "sslmode",
	"PGSSLKEY":             "sslkey",
	"PGSSLCERT":            "sslcert",
	"PGSSLSNI":             "sslsni",
	"PGSSLROOTCERT":        "sslrootcert",
	"PGSSLPASSWORD":        "sslpassword",
	"PGTARGETSESSIONATTRS": "target_session_attrs",
	"PGSERVICE":            "service",
	"PGSERVICEFILE":        "servicefile",
	"PGTZ":                 "timezone",
	"PGOPTIONS":            "options",
}

// postgresConnString is the connection string herald connects with. A
// conn_str from the configuration is used as written. Without one, the PG*
// variables are read through env.Getenv, the environment herald was given,
// and turned into keyword/value settings; the driver also reads PG*
// variables from the process environment for settings a string leaves out,
// and in the herald binary both environments are the same.
//
// The result may hold a password: it is handed to the driver and never
// printed.
func postgresConnString(env *Env, connStr string) string {
	if connStr != "" || env.Getenv == nil {
		return connStr
	}
	names := make([]string, 0, len(pgEnvKeywords))
	for name := range pgEnvKeywords {
		names = append(names, name)
	}
	sort.Strings(names)
	var parts []string
	for _, name := range names {
		if v := env.Getenv(name); v != "" {
			parts = append(parts, pgEnvKeywords[name]+"="+quoteConnValue(v))
		}
	}
	return strings.Join(parts, " ")
}

// quoteConnValue quotes a keyword/value setting the way libpq reads it:
// in single quotes, with backslash before a quote or a backslash.
func quoteConnValue(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(v) + "'"
}

// loadBackendBlock reads the configuration in env.Dir for its backend block,
// for the commands that touch only the state (show, state ...). They do not
// need the rest of the configuration to be valid: errors elsewhere are
// ignored, unless the backend block itself could not be evaluated, which
// is reported on v (ErrReported). Without configuration files, or with no
// backend block in them, it returns nil: the local state file.
func loadBackendBlock(env *Env, v *views.View, vars []spec.VarArg, allowOutside bool) (*spec.Backend, error) {
	cfg, diags := spec.Load(env.Dir, spec.LoadOptions{Vars: vars, Getenv: env.Getenv, AllowFileOutsideRoot: allowOutside})
	declared := declaredBackends(cfg.Files)
	switch {
	case declared == 0:
		return nil, nil
	case declared == 1 && cfg.Backend != nil:
		return cfg.Backend, nil
	}
	// Two backend blocks are an error Load reports; using either one would
	// be a guess about where the state is.
	var errs hcl.Diagnostics
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs = append(errs, d)
		}
	}
	if len(errs) == 0 {
		// Load found nothing wrong and still gave no backend: should not
		// happen, but state must never silently fall back to a local file
		// when a backend is declared.
		return nil, errors.New("the configuration declares a backend block, but it could not be read")
	}
	v.Diagnostics(errs, cfg.Files)
	return nil, ErrReported
}

// declaredBackends counts the backend blocks at the top level of the
// configuration files.
func declaredBackends(files map[string]*hcl.File) int {
	n := 0
	for _, f := range files {
		if f == nil {
			continue
		}
		body, ok := f.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		for _, b := range body.Blocks {
			if b.Type == "backend" {
				n++
			}
		}
	}
	return n
}

// openStateOnly opens the state for a command that needs no more of the
// configuration than its backend block.
func openStateOnly(ctx context.Context, env *Env, v *views.View, stateFlag string, vars []spec.VarArg, allowOutside bool) (state.Backend, error) {
	cfg, err := loadBackendBlock(env, v, vars, allowOutside)
	if err != nil {
		return nil, err
	}
	return openConfiguredBackend(ctx, env, cfg, stateFlag)
}

// describeState names the state for messages: a local file relative to the
// working directory, or the database (without its password).
func describeState(env *Env, b state.Backend) string {
	if _, ok := b.(*state.Local); ok {
		return displayPath(env, b.Describe())
	}
	return b.Describe()
}

// operationSetter is a backend that stores what its lock is taken for.
type operationSetter interface{ SetOperation(string) }

func setOperation(b state.Backend, op string) {
	if s, ok := b.(operationSetter); ok {
		s.SetOperation(op)
	}
}

// PushRefusedError is a state push refused without -force: the pushed
// state belongs to another lineage, or is older than the stored one.
type PushRefusedError struct {
	Where  string
	Reason string
}

func (e *PushRefusedError) Error() string {
	return fmt.Sprintf("refusing to push to %s: %s; push with -force to overwrite it anyway", e.Where, e.Reason)
}

// checkPush says why snap must not replace cur without -force. A state
// that was never written (serial 0, no records) takes any snapshot: its
// lineage was made up when it was created, so that a first push from a
// local file to a new database, or back, needs no -force.
func checkPush(where string, cur, snap *state.Snapshot) error {
	if isEmptyState(cur) {
		return nil
	}
	switch {
	case snap.Lineage != cur.Lineage:
		return &PushRefusedError{Where: where, Reason: fmt.Sprintf("the pushed state has lineage %s and the stored one lineage %s: they are different states", snap.Lineage, cur.Lineage)}
	case snap.Serial < cur.Serial:
		return &PushRefusedError{Where: where, Reason: fmt.Sprintf("the pushed state has serial %d, older than the stored serial %d", snap.Serial, cur.Serial)}
	}
	return nil
}

func isEmptyState(s *state.Snapshot) bool {
	return s.Serial == 0 && len(s.Records) == 0
}

// pushState stores snap as the whole state of b, which the caller has
// locked, after checkPush unless force is set. PostgreSQL repeats the check
// in the transaction that writes; the local file is safe from change
// between check and write because the caller holds its lock.
func pushState(ctx context.Context, env *Env, b state.Backend, snap *state.Snapshot, force bool) error {
	where := describeState(env, b)
	cur, err := b.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("reading state %s: %w", where, err)
	}
	if !force {
		if err := checkPush(where, cur, snap); err != nil {
			return err
		}
	}
	if pg, ok := b.(*pgstate.Backend); ok {
		err := pg.Push(ctx, snap, force || isEmptyState(cur))
		var pe *pgstate.PushError
		if errors.As(err, &pe) {
			return &PushRefusedError{Where: where, Reason: pe.Reason}
		}
		if err != nil {
			return fmt.Errorf("writing state %s: %w", where, err)
		}
		return nil
	}
	if err := b.Replace(ctx, snap); err != nil {
		return fmt.Errorf("writing state %s: %w", where, err)
	}
	return nil
}
