package reliability

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/internal/clock"
	"github.com/heraldhq/herald/internal/testkit"
	"github.com/heraldhq/herald/state"
)

// Build compiles herald from the module at root into dir and returns the
// binary's path. With race the binary is built with the race detector, so
// a data race inside herald fails the run that meets it.
func Build(root, dir string, race bool) (string, error) {
	return testkit.Build(dir, testkit.BuildOptions{Root: root, Tags: []string{clock.TestBuildTag}, Race: race})
}

// FakeOptions configures a Fake.
type FakeOptions struct {
	Faults sandbox.Faults
	// Seed seeds the fake's fault draws and the harness's jitter.
	Seed uint64
	// JitterMin and JitterMax delay each send by a random time between
	// them before the fake sees it, so that runs take a while and requests
	// of different groups interleave unevenly. The fake stamps arrivals
	// after this delay, so rate windows measured with jitter on are the
	// fake's view, not herald's.
	JitterMin, JitterMax time.Duration
	// DuplicateEvery hands every Nth send to the fake twice, as a herald
	// that sent a message twice would. It exists to show that the checker
	// catches a broken guarantee; no scenario sets it.
	DuplicateEvery int
	// Clock is the fake's clock (arrival times and date_created). Nil:
	// the clock of the herald run started last, which runs from its -at
	// (or the real clock for a run without -at), as a real API's clock
	// agrees with herald's within a little skew.
	Clock func() time.Time
	// Key and Secret, when set, are the only credentials the fake accepts.
	Key, Secret string
	// RecentLag delays a delivered message's appearance in get-recent by
	// this much of the fake's clock (see sandbox.WithRecentLag).
	RecentLag time.Duration
	// CloseConnections closes every connection after its answer, so that
	// each request comes on a new one.
	CloseConnections bool
}

// Fake is the fake A1Base API on a loopback listener, with the harness's
// own knobs in front of it.
type Fake struct {
	*sandbox.API
	// URL is the base_url to give herald (with /v1).
	URL string
	srv *httptest.Server

	opts      FakeOptions
	delivered atomic.Int64
	mu        sync.Mutex
	rng       *rand.Rand
	sends     int
	// inflight counts sends being served, so a test can wait for the
	// requests a killed process left behind.
	inflight atomic.Int64

	// The clock followed without FakeOptions.Clock: from is the -at of
	// the herald run started last (zero: the real clock), set at start.
	clockMu   sync.Mutex
	clockFrom time.Time
	clockSet  time.Time
}

// followClock makes the fake's clock run from at, now; a zero at is the
// real clock. Only a fake without FakeOptions.Clock follows.
func (f *Fake) followClock(at time.Time) {
	f.clockMu.Lock()
	defer f.clockMu.Unlock()
	f.clockFrom, f.clockSet = at, clock.Now()
}

func (f *Fake) now() time.Time {
	f.clockMu.Lock()
	defer f.clockMu.Unlock()
	if f.clockFrom.IsZero() {
		return clock.Now()
	}
	return f.clockFrom.Add(clock.Since(f.clockSet))
}

// NewFake starts a fake server.
func NewFake(o FakeOptions) *Fake {
	f := &Fake{opts: o, rng: rand.New(rand.NewPCG(o.Seed, o.Seed+1))}
	opts := []sandbox.Option{
		sandbox.WithFaults(o.Faults), sandbox.WithSeed(o.Seed),
		sandbox.WithOnReceive(func(sandbox.Received) { f.delivered.Add(1) }),
	}
	clock := o.Clock
	if clock == nil {
		clock = f.now
	}
	opts = append(opts, sandbox.WithClock(clock))
	if o.Key != "" || o.Secret != "" {
		opts = append(opts, sandbox.WithCredentials(o.Key, o.Secret))
	}
	if o.RecentLag > 0 {
		opts = append(opts, sandbox.WithRecentLag(o.RecentLag))
	}
	f.API = sandbox.NewHandler(opts...)
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.URL = f.srv.URL + "/v1"
	return f
}

func isSend(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/send")
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	if f.opts.CloseConnections {
		w.Header().Set("Connection", "close")
	}
	if !isSend(r) {
		f.API.ServeHTTP(w, r)
		return
	}
	f.inflight.Add(1)
	defer f.inflight.Add(-1)
	f.mu.Lock()
	f.sends++
	n := f.sends
	var delay time.Duration
	if f.opts.JitterMax > 0 {
		delay = f.opts.JitterMin + time.Duration(f.rng.Int64N(int64(f.opts.JitterMax-f.opts.JitterMin)+1))
	}
	f.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if f.opts.DuplicateEvery > 0 && n%f.opts.DuplicateEvery == 0 {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		first := r.Clone(r.Context())
		first.Body = io.NopCloser(bytes.NewReader(body))
		f.API.ServeHTTP(httptest.NewRecorder(), first)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	f.API.ServeHTTP(w, r)
}

// WaitServed waits until the sends a killed process had written are served:
// none in flight, and no new delivery for a while (a request still in the
// kernel's buffers is read a moment after its sender died).
func (f *Fake) WaitServed() {
	for {
		n := f.Delivered()
		time.Sleep(100 * time.Millisecond)
		if f.inflight.Load() == 0 && f.Delivered() == n {
			return
		}
	}
}

// Delivered is how many sends the fake has delivered so far.
func (f *Fake) Delivered() int { return int(f.delivered.Load()) }

// Close stops the server, releasing requests it holds.
func (f *Fake) Close() {
	f.API.Close()
	f.srv.CloseClientConnections()
	f.srv.Close()
}

// Herald runs the herald binary in one working directory.
type Herald struct {
	Bin string
	Dir string
	// Env is added to a cleaned copy of the test's environment.
	Env []string
	// OnStart, when set, is given the -at clock of every run started
	// (zero for a run without -at).
	OnStart func(at time.Time)
}

// atOf is the -at clock in args, zero when there is none or it is not
// readable (herald then refuses it).
func atOf(args []string) time.Time {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		if v, ok := strings.CutPrefix(strings.TrimLeft(a, "-"), "at="); ok {
			if t, err := time.Parse(time.RFC3339, v); err == nil {
				return t
			}
		}
	}
	return time.Time{}
}

// Result is how one herald process ended.
type Result struct {
	Args   []string
	Code   int
	Stdout string
	Stderr string
	// Signal is the signal that ended the process, if one did.
	Signal string
}

func (r Result) String() string {
	return fmt.Sprintf("herald %s: exit %d%s\nstdout:\n%s\nstderr:\n%s", strings.Join(r.Args, " "), r.Code,
		map[bool]string{true: " (" + r.Signal + ")", false: ""}[r.Signal != ""], clip(r.Stdout), clip(r.Stderr))
}

func clip(s string) string {
	const max = 4000
	if len(s) <= max {
		return s
	}
	return s[:max/2] + "\n[...]\n" + s[len(s)-max/2:]
}

// environ is the test's environment without anything that would steer
// herald (credentials, variables, base URL, PostgreSQL), plus extra. A
// shift of the test clock is kept: herald must keep the test's time.
func environ(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name == clock.ShiftEnv {
			env = append(env, kv)
			continue
		}
		if strings.HasPrefix(name, "A1BASE_") || strings.HasPrefix(name, "HERALD_") || strings.HasPrefix(name, "PG") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// Proc is a herald process started in the background.
type Proc struct {
	cmd            *exec.Cmd
	args           []string
	stdout, stderr *testkit.SyncBuffer
	done           chan struct{}
	res            Result
}

// Start starts herald with args.
func (h *Herald) Start(args ...string) (*Proc, error) {
	if h.OnStart != nil {
		h.OnStart(atOf(args))
	}
	cmd := exec.Command(h.Bin, args...)
	cmd.Dir = h.Dir
	cmd.Env = environ(h.Env)
	p := &Proc{cmd: cmd, args: args, stdout: &testkit.SyncBuffer{}, stderr: &testkit.SyncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go p.wait()
	return p, nil
}

func (p *Proc) wait() {
	err := p.cmd.Wait()
	p.res = Result{Args: p.args, Stdout: p.stdout.String(), Stderr: p.stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		p.res.Code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			p.res.Signal = ws.Signal().String()
		}
	default:
		p.res.Code = -1
		p.res.Stderr += "\n" + err.Error()
	}
	close(p.done)
}

// Signal sends sig to the process.
func (p *Proc) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Done is closed when the process has ended.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Stdout is what the process printed so far.
func (p *Proc) Stdout() string { return p.stdout.String() }

// Wait waits for the process to end, killing it after timeout.
func (p *Proc) Wait(timeout time.Duration) Result {
	select {
	case <-p.done:
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		p.res.Stderr += fmt.Sprintf("\n[killed by the harness after %s]", timeout)
	}
	return p.res
}

// Run runs herald to its end (at most timeout).
func (h *Herald) Run(timeout time.Duration, args ...string) Result {
	p, err := h.Start(args...)
	if err != nil {
		return Result{Args: args, Code: -1, Stderr: err.Error()}
	}
	return p.Wait(timeout)
}

// ReadState reads the local state at path as herald's next run would see
// it: the state file with its journal replayed, interrupted sends unknown.
func ReadState(path string) (*state.Snapshot, error) {
	return state.OpenLocal(path).Snapshot(context.Background())
}

// Messages describes a generated configuration: N text messages spread
// over Groups groups (message i goes to group i mod Groups), the i-th due
// at Start + i*Every.
type Messages struct {
	N, Groups int
	Start     time.Time
	Every     time.Duration
	// AccountLimit and GroupLimit are rate_limit values ("" for none).
	AccountLimit, GroupLimit string
	// ExpiresAfter is the provider's expires_after ("" for the default).
	ExpiresAfter string
	// OnUnknown and UnknownSettle are the provider's on_unknown and
	// unknown_settle ("" for the defaults).
	OnUnknown, UnknownSettle string
	// AccountID is the provider's account_id (default acc_rel).
	AccountID string
	// Extra is appended to the configuration as it is.
	Extra string
}

// Prefix starts every generated message's text; the key follows it.
const Prefix = "herald reliability message "

// ThreadID is the thread of group g.
func ThreadID(g int) string { return fmt.Sprintf("t-rel-%d", g) }

// Key is the for_each key of message i.
func Key(i int) string { return fmt.Sprintf("%05d", i) }

// Address is the address of message i.
func Address(i int) string { return fmt.Sprintf("message.m[%q]", Key(i)) }

// AddrOf maps a generated message's text back to its address.
func AddrOf(content string) (string, bool) {
	key, ok := strings.CutPrefix(content, Prefix)
	if !ok || len(key) != 5 {
		return "", false
	}
	return fmt.Sprintf("message.m[%q]", key), true
}

// SendAt is when message i is due.
func (m Messages) SendAt(i int) time.Time { return m.Start.Add(time.Duration(i) * m.Every) }

// HCL renders the configuration.
func (m Messages) HCL() string {
	var b strings.Builder
	account := m.AccountID
	if account == "" {
		account = "acc_rel"
	}
	fmt.Fprintf(&b, "provider \"a1base\" {\n  account_id = %q\n  from = \"+14155552671\"\n", account)
	if m.AccountLimit != "" {
		fmt.Fprintf(&b, "  rate_limit = %q\n", m.AccountLimit)
	}
	if m.ExpiresAfter != "" {
		fmt.Fprintf(&b, "  expires_after = %q\n", m.ExpiresAfter)
	}
	if m.OnUnknown != "" {
		fmt.Fprintf(&b, "  on_unknown = %q\n", m.OnUnknown)
	}
	if m.UnknownSettle != "" {
		fmt.Fprintf(&b, "  unknown_settle = %q\n", m.UnknownSettle)
	}
	b.WriteString("}\n\n")
	for g := 0; g < m.Groups; g++ {
		fmt.Fprintf(&b, "group \"g%d\" {\n  thread_id = %q\n", g, ThreadID(g))
		if m.GroupLimit != "" {
			fmt.Fprintf(&b, "  rate_limit = %q\n", m.GroupLimit)
		}
		b.WriteString("}\n\n")
	}
	// Keys and due times are listed rather than computed: range() stops
	// at 1024 values, and a literal map keeps the configuration obvious.
	b.WriteString("locals {\n  groups = [")
	for g := 0; g < m.Groups; g++ {
		if g > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "group.g%d", g)
	}
	b.WriteString("]\n  due = {\n")
	for i := 0; i < m.N; i++ {
		fmt.Fprintf(&b, "    %q = { at = %q, g = %d }\n", Key(i), m.SendAt(i).Format(time.RFC3339), i%m.Groups)
	}
	b.WriteString("  }\n}\n\n")
	fmt.Fprintf(&b, "message \"m\" {\n  for_each = local.due\n  group    = local.groups[each.value.g]\n  send_at  = each.value.at\n  text     = \"%s${each.key}\"\n}\n", Prefix)
	b.WriteString(m.Extra)
	return b.String()
}

// Workspace is a working directory with a configuration, a fake server
// and a herald pointed at it.
type Workspace struct {
	Dir    string
	Fake   *Fake
	Herald *Herald
}

// StatePath is the default state file of the workspace.
func (w *Workspace) StatePath() string { return filepath.Join(w.Dir, state.DefaultPath) }

// WriteConfig writes main.hcl.
func (w *Workspace) WriteConfig(hcl string) error {
	return os.WriteFile(filepath.Join(w.Dir, "main.hcl"), []byte(hcl), 0o644)
}

// NewWorkspace makes a workspace in dir, with herald pointed at fake using
// the given credentials.
func NewWorkspace(bin, dir string, fake *Fake, key, secret string) *Workspace {
	env := []string{"A1BASE_API_KEY=" + key, "A1BASE_API_SECRET=" + secret}
	if fake != nil {
		env = append(env, "A1BASE_BASE_URL="+fake.URL)
	}
	h := &Herald{Bin: bin, Dir: dir, Env: env}
	if fake != nil && fake.opts.Clock == nil {
		h.OnStart = fake.followClock
	}
	return &Workspace{Dir: dir, Fake: fake, Herald: h}
}
