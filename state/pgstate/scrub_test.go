package pgstate

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const secret = "s3cr3t-Pa55"

func withPassword(t *testing.T, conn, password string) string {
	t.Helper()
	u, err := url.Parse(conn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password)
	return u.String()
}

func noSecret(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, secret) || strings.Contains(s, url.QueryEscape(secret)) {
		t.Errorf("%s shows the password: %s", what, s)
	}
}

func TestDescribeHidesPassword(t *testing.T) {
	conn := withPassword(t, newDB(t), secret)
	b := open(t, conn)
	cfg, err := pgx.ParseConfig(conn)
	if err != nil {
		t.Fatal(err)
	}
	want := "postgres://postgres@" + net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))) + "/" + cfg.Database + " (schema herald)"
	if got := b.Describe(); got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
	noSecret(t, "Describe", b.Describe())
}

func TestErrorsHidePassword(t *testing.T) {
	good := newDB(t)
	cfg, err := pgx.ParseConfig(good)
	if err != nil {
		t.Fatal(err)
	}
	closed := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}()
	hostPort := net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
	for name, conn := range map[string]string{
		"refused":       "postgres://herald:" + secret + "@127.0.0.1:" + strconv.Itoa(closed) + "/db?connect_timeout=5",
		"refused kv":    "host=127.0.0.1 port=" + strconv.Itoa(closed) + " user=herald password=" + secret + " dbname=db connect_timeout=5",
		"no database":   "postgres://postgres:" + secret + "@" + hostPort + "/no_such_database",
		"bad url":       "postgres://herald:" + secret + "@host:notaport/db",
		"bad kv":        "host=h password='" + secret + "' port=x",
		"bad parameter": "postgres://herald:" + secret + "@h/db?sslmode=sometimes",
		"escaped":       "postgres://herald:" + url.QueryEscape(secret+"@/") + "@127.0.0.1:" + strconv.Itoa(closed) + "/db",
	} {
		t.Run(name, func(t *testing.T) {
			b, err := Open(context.Background(), conn, "")
			if err == nil {
				b.Close()
				t.Fatal("Open succeeded")
			}
			noSecret(t, "error", err.Error())
			noSecret(t, "error", url.QueryEscape(err.Error()))
			for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
				noSecret(t, "wrapped error", e.Error())
			}
			var ce *pgconn.ConnectError
			if errors.As(err, &ce) {
				noSecret(t, "error found by errors.As", ce.Error())
			}
		})
	}
}

func TestScrubber(t *testing.T) {
	s := newScrubber("p@ss word")
	for in, want := range map[string]string{
		"cannot parse `postgres://u:p%40ss%20word@h/db`": "cannot parse `postgres://u:xxxxx@h/db`",
		"cannot parse `postgresql://u:other@h/db`":       "cannot parse `postgresql://u:xxxxx@h/db`",
		"host=h password='p@ss word' user=u":             "host=h password=xxxxx user=u",
		"host=h PASSWORD = abc user=u":                   "host=h PASSWORD = xxxxx user=u",
		"failed: p@ss word is wrong":                     "failed: xxxxx is wrong",
		"failed: p%40ss+word is wrong":                   "failed: xxxxx is wrong",
		"failed to connect to `user=u database=db`: EOF": "failed to connect to `user=u database=db`: EOF",
	} {
		if got := s.text(in); got != want {
			t.Errorf("scrub(%q) = %q, want %q", in, got, want)
		}
	}
	// Errors that needed scrubbing still answer errors.Is.
	err := s.err(errors.Join(errors.New("password=hunter2"), context.Canceled))
	if !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("scrubbed error %q lost errors.Is or kept the password", err)
	}
	if errors.Unwrap(err) != nil {
		t.Error("a scrubbed error exposes its unscrubbed cause")
	}
}

func TestEnvironmentConnection(t *testing.T) {
	conn := newDB(t)
	cfg, err := pgx.ParseConfig(conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PGHOST", cfg.Host)
	t.Setenv("PGPORT", strconv.Itoa(int(cfg.Port)))
	t.Setenv("PGUSER", cfg.User)
	t.Setenv("PGDATABASE", cfg.Database)
	t.Setenv("PGSSLMODE", "disable")
	t.Setenv("PGPASSWORD", secret)
	b, err := Open(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !strings.Contains(b.Describe(), "/"+cfg.Database+" ") {
		t.Errorf("Describe %q does not name the database from PGDATABASE", b.Describe())
	}
	noSecret(t, "Describe", b.Describe())
	if err := b.Lock(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	record(t, b, attempt("message.a", 1, t0))
	if n := len(snapshot(t, open(t, conn)).Records); n != 1 {
		t.Errorf("the database named by PG* variables holds %d records, want 1", n)
	}
}
