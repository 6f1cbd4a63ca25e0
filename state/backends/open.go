package backends

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
	"github.com/heraldhq/herald/state/pgstate"
)

// Options say how Open opens a backend.
type Options struct {
	// LocalPath is the local state file, used when there is no backend
	// block.
	LocalPath string
	// StateFlag is -state as the user gave it, "" when not given. It names
	// a local file, so it cannot be combined with a backend block: as in
	// Terraform, that is an error rather than a silent choice of one over
	// the other.
	StateFlag string
	// Getenv reads the PG* variables for a backend block without
	// conn_str; nil reads none.
	Getenv func(string) string
	// Operation names what the lock will be taken for (SetOperation).
	Operation string
	// LockPoll is how often a PostgreSQL Lock tries again while it
	// waits; 0 is pgstate's default.
	LockPoll time.Duration
}

// Open opens the state b names, or the local file (opts.LocalPath) when b
// is nil. A database that cannot be reached is an error naming it without
// its password.
func Open(ctx context.Context, b *spec.Backend, opts Options) (state.Backend, error) {
	if b == nil {
		l := state.OpenLocal(opts.LocalPath)
		if opts.Operation != "" {
			l.SetOperation(opts.Operation)
		}
		return l, nil
	}
	if opts.StateFlag != "" {
		return nil, fmt.Errorf("-state=%s names a local state file, but the configuration stores state with backend %q (declared at %s); remove -state, or remove the backend block to use a local file", opts.StateFlag, b.Type, b.DeclRange)
	}
	switch b.Type {
	case "postgres":
		if err := checkConnStrURL(b.ConnStr); err != nil {
			return nil, fmt.Errorf("backend %q (declared at %s): %w", b.Type, b.DeclRange, err)
		}
		var popts []pgstate.Option
		if opts.Operation != "" {
			popts = append(popts, pgstate.WithOperation(opts.Operation))
		}
		if opts.LockPoll > 0 {
			popts = append(popts, pgstate.WithLockPoll(opts.LockPoll))
		}
		pb, err := pgstate.Open(ctx, connString(opts.Getenv, b.ConnStr), b.SchemaName, popts...)
		if err != nil {
			// pgstate's errors carry no password; the connection string
			// itself is never part of them.
			return nil, err
		}
		return pb, nil
	}
	return nil, fmt.Errorf("backend %q is not available in this build of herald; remove the backend block to use the local state file", b.Type)
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

// connString is the connection string herald connects with. A conn_str
// from the configuration is used as written. Without one, the PG*
// variables are read through getenv, the environment herald was given,
// and turned into keyword/value settings; the driver also reads PG*
// variables from the process environment for settings a string leaves
// out, and in the herald binary both environments are the same.
//
// The result may hold a password: it is handed to the driver and never
// printed.
func connString(getenv func(string) string, connStr string) string {
	if connStr != "" || getenv == nil {
		return connStr
	}
	names := make([]string, 0, len(pgEnvKeywords))
	for name := range pgEnvKeywords {
		names = append(names, name)
	}
	sort.Strings(names)
	var parts []string
	for _, name := range names {
		if v := getenv(name); v != "" {
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
