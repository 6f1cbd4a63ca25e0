package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/jackc/pgx/v5"
)

// EnvConnStr names the environment variable holding the connection string
// of a server to use instead of starting one.
const EnvConnStr = "HERALD_TEST_PG"

var (
	once    sync.Once
	srv     *server
	srvErr  error
	skipMsg string
	dbSeq   atomic.Int64
)

// Start returns the connection string of a new, empty database on a real
// PostgreSQL server, dropped when the test ends. The first call in a test
// binary starts the server (unless HERALD_TEST_PG names one); later calls
// share it. It skips the test only when no PostgreSQL binaries exist on this
// machine, and fails it when a server exists but cannot be used.
func Start(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvConnStr)
	if base == "" {
		once.Do(func() { srv, skipMsg, srvErr = startServer() })
		switch {
		case skipMsg != "":
			t.Skipf("no PostgreSQL to test against: %s (set %s to a server's connection string)", skipMsg, EnvConnStr)
		case srvErr != nil:
			t.Fatalf("starting PostgreSQL for tests: %v", srvErr)
		}
		base = srv.connString("postgres")
	}

	name := dbName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to the test server: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("creating test database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("dropping test database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping test database %s: %v", name, err)
		}
	})
	return withDatabase(base, name)
}

// Main runs the tests of m and then stops the server Start started, if
// any. Use it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if err := Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Stop stops the server Start started (an immediate shutdown: its data is
// thrown away anyway) and removes its directory. Main calls it.
func Stop() error {
	if srv == nil {
		return nil
	}
	s := srv
	srv = nil
	// A Start after Stop starts a new server rather than use the old one.
	once = sync.Once{}
	return s.stop()
}

// StartupTime is how long starting the shared server took (initdb and
// start), 0 when none was started.
func StartupTime() time.Duration {
	if srv == nil {
		return 0
	}
	return srv.took
}

var unsafeName = regexp.MustCompile(`[^a-z0-9_]+`)

// dbName makes a database name from the test name that is unique in this
// process and, through the pid, among test binaries sharing a server.
func dbName(test string) string {
	n := unsafeName.ReplaceAllString(strings.ToLower(test), "_")
	suffix := fmt.Sprintf("_%d_%d", os.Getpid(), dbSeq.Add(1))
	const max = 63 - len("t_")
	if len(n)+len(suffix) > max {
		n = n[:max-len(suffix)]
	}
	return "t_" + n + suffix
}

// withDatabase points a connection string (URL or keyword/value form) at
// another database on the same server, keeping everything else.
func withDatabase(connStr, db string) string {
	if strings.HasPrefix(connStr, "postgres://") || strings.HasPrefix(connStr, "postgresql://") {
		if u, err := url.Parse(connStr); err == nil {
			u.Path = "/" + db
			u.RawPath = ""
			return u.String()
		}
	}
	// In the keyword/value form a later setting wins.
	return connStr + " dbname=" + db
}

type server struct {
	dir    string // temporary directory holding data/, sock/ and the log
	bin    string
	as     *runAs
	port   int
	cmd    *exec.Cmd
	exited chan struct{}
	took   time.Duration
}

func (s *server) connString(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable&connect_timeout=10", s.port, db)
}

// binDir finds a directory holding initdb and postgres.
func binDir() (string, error) {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(r))
		}
		dirs = append(dirs, filepath.Dir(p))
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Prefer the newest major version.
	sort.Slice(found, func(i, j int) bool { return majorOf(found[i]) > majorOf(found[j]) })
	dirs = append(dirs, found...)
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errors.New("initdb and postgres are neither on PATH nor under /usr/lib/postgresql/*/bin")
}

func majorOf(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// runAs is the user the server runs as: nil for the current one, or the
// postgres user when running as root.
type runAs struct{ uid, gid uint32 }

func serverUser() (*runAs, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root and there is no postgres user to run the server as: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("postgres user has ids %q/%q", u.Uid, u.Gid)
	}
	return &runAs{uid: uint32(uid), gid: uint32(gid)}, nil
}

// startServer returns the running server, or a reason to skip, or an error.
func startServer() (*server, string, error) {
	began := clock.Now()
	bin, err := binDir()
	if err != nil {
		return nil, err.Error(), nil
	}
	as, err := serverUser()
	if err != nil {
		return nil, err.Error(), nil
	}
	dir, err := os.MkdirTemp("", "herald-pgtest-")
	if err != nil {
		return nil, "", err
	}
	s := &server{dir: dir, bin: bin, as: as}
	fail := func(err error) (*server, string, error) {
		_ = os.RemoveAll(dir)
		return nil, "", err
	}
	sock := filepath.Join(dir, "sock")
	if err := os.Mkdir(sock, 0o700); err != nil {
		return fail(err)
	}
	if as != nil {
		for _, p := range []string{dir, sock} {
			if err := os.Chown(p, int(as.uid), int(as.gid)); err != nil {
				return fail(err)
			}
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = procAttr(as, false)
	initdb.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %v\n%s", err, out))
	}

	// Another process may take the chosen port between choosing and
	// binding it; a few fresh tries make that harmless.
	var lastErr error
	for try := 0; try < 3; try++ {
		port, err := freePort()
		if err != nil {
			return fail(err)
		}
		s.port = port
		if lastErr = s.run(bin, data, sock, as); lastErr == nil {
			s.took = clock.Since(began)
			return s, "", nil
		}
	}
	return fail(lastErr)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// run starts postgres on s.port and waits until it accepts connections.
func (s *server) run(bin, data, sock string, as *runAs) error {
	logPath := filepath.Join(s.dir, fmt.Sprintf("postgres-%d.log", s.port))
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(s.port), "-k", sock,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "shared_buffers=32MB")
	cmd.Stdout, cmd.Stderr = logf, logf
	// The server dies with the test binary even when nobody calls Stop.
	cmd.SysProcAttr = procAttr(as, true)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.exited) }()

	deadline := clock.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := pgx.Connect(ctx, s.connString("postgres"))
		cancel()
		if err == nil {
			_ = c.Close(context.Background())
			return nil
		}
		select {
		case <-s.exited:
			out, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited during start-up:\n%s", out)
		case <-time.After(20 * time.Millisecond):
		}
		if clock.Now().After(deadline) {
			_ = s.stop()
			out, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres did not accept connections within a minute: %v\n%s", err, out)
		}
	}
}

// Restart stops the server Start started with a fast shutdown (every
// session is terminated at once and its transaction rolled back, as
// clients see a crash; what was committed is kept, which an immediate
// shutdown would not promise with synchronous_commit off) and starts it
// again on the same port with the same data. It fails the test when there is no such server.
func Restart(t testing.TB) {
	t.Helper()
	if srv == nil {
		t.Fatalf("pgtest.Restart: no server was started by this test binary (%s set?)", EnvConnStr)
	}
	if err := srv.halt(); err != nil {
		t.Fatalf("pgtest.Restart: %v", err)
	}
	var err error
	for try := 0; try < 50; try++ {
		if err = srv.run(srv.bin, filepath.Join(srv.dir, "data"), filepath.Join(srv.dir, "sock"), srv.as); err == nil {
			return
		}
		// The port may take a moment to be free again.
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("pgtest.Restart: starting again: %v", err)
}

// halt stops the server with a fast shutdown, keeping its files.
func (s *server) halt() error {
	_ = s.cmd.Process.Signal(fastShutdown)
	select {
	case <-s.exited:
		return nil
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return errors.New("postgres did not stop within 30s of a fast shutdown; killed it")
	}
}

func (s *server) stop() error {
	defer os.RemoveAll(s.dir)
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(immediateShutdown)
	select {
	case <-s.exited:
		return nil
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return errors.New("postgres did not stop within 30s of an immediate shutdown; killed it")
	}
}
