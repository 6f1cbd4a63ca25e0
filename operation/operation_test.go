package operation

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// at is the clock of these tests: a, b and c are due, "later" waits.
var at = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

const config = `
provider "a1base" {
  account_id = "acc_test"
  from       = "+14155552671"
}

group "eng" {
  thread_id = "t-eng"
}

group "sales" {
  thread_id = "t-sales"
  service   = "telegram"
}

message "a" {
  group   = group.eng
  send_at = "2026-12-01T07:00:00Z"
  text    = "First for eng"
}

message "b" {
  group   = group.eng
  send_at = "2026-12-01T07:30:00Z"
  text    = "Second for eng"
}

message "c" {
  group   = group.sales
  send_at = "2026-12-01T07:00:00Z"
  text    = "Only for sales"
}

message "later" {
  group   = group.eng
  send_at = "2026-12-02T09:00:00Z"
  text    = "Not yet"
}
`

// fixture is a configuration, a local state file and a fake A1Base.
type fixture struct {
	dir    string
	api    *sandbox.API
	client *a1base.Client
	in     *Inputs
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	api := sandbox.NewHandler(sandbox.WithClock(func() time.Time { return at }))
	srv := httptest.NewServer(api)
	t.Cleanup(func() { api.Close(); srv.Close() })
	return newFixtureWith(t, api, srv.URL)
}

func newFixtureWith(t *testing.T, api *sandbox.API, url string) *fixture {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(config), 0o644))
	cfg, diags := spec.Load(dir, spec.LoadOptions{At: at})
	require.False(t, diags.HasErrors(), diags.Error())
	client := a1base.New(a1base.Config{BaseURL: url + "/v1", AccountID: cfg.Provider.AccountID, APIKey: "key", APISecret: "secret"})
	return &fixture{dir: dir, api: api, client: client, in: &Inputs{At: at, Config: cfg}}
}

func (f *fixture) statePath() string { return filepath.Join(f.dir, state.DefaultPath) }

// op is a pass over the fixture's local state, approved and reported to r.
func (f *fixture) op(r *recorder) Op {
	return Op{
		Inputs: f.in, Client: f.client, Backend: state.OpenLocal(f.statePath()),
		Name: "herald test", Approver: AutoApprove, Reporter: r,
		Parallelism: 1, Clock: func() time.Time { return at },
	}
}

// assertUnlocked checks that the pass released the state lock.
func (f *fixture) assertUnlocked(t *testing.T) {
	t.Helper()
	b := state.OpenLocal(f.statePath())
	defer b.Close()
	assert.NoError(t, b.Lock(context.Background(), 0), "the lock is released")
}

func (f *fixture) snapshot(t *testing.T) *state.Snapshot {
	t.Helper()
	snap, err := state.OpenLocal(f.statePath()).Snapshot(context.Background())
	require.NoError(t, err)
	return snap
}

func (f *fixture) sent() []string {
	out := f.api.Contents()
	sort.Strings(out)
	return out
}

// recorder is a Reporter that keeps what it is told.
type recorder struct {
	executor.NopHooks
	mu           sync.Mutex
	plans        int
	nothingToDo  int
	results      []Result
	interrupting bool
	beforeSend   func(c *planner.Change)
}

func (r *recorder) Plan(*planner.Plan) error       { r.mu.Lock(); r.plans++; r.mu.Unlock(); return nil }
func (r *recorder) NothingToDo()                   { r.mu.Lock(); r.nothingToDo++; r.mu.Unlock() }
func (r *recorder) Imported(executor.ImportResult) {}
func (r *recorder) Result(res Result)              { r.mu.Lock(); r.results = append(r.results, res); r.mu.Unlock() }
func (r *recorder) Interrupting()                  { r.mu.Lock(); r.interrupting = true; r.mu.Unlock() }
func (r *recorder) Aborting()                      {}
func (r *recorder) BeforeSend(c *planner.Change, _ int) {
	if r.beforeSend != nil {
		r.beforeSend(c)
	}
}

func mustAddr(t *testing.T, s string) addrs.Message {
	t.Helper()
	a, err := addrs.ParseMessage(s)
	require.NoError(t, err)
	return a
}

func statuses(snap *state.Snapshot) map[string]state.Status {
	out := map[string]state.Status{}
	for addr, r := range snap.Records {
		out[addr] = r.Status
	}
	return out
}

func TestApplySendsDueMessagesOnce(t *testing.T) {
	f := newFixture(t)
	r := &recorder{}
	out, err := Apply(context.Background(), f.op(r))
	require.NoError(t, err)
	assert.False(t, out.Failed())
	assert.True(t, out.Executed)
	assert.Equal(t, 3, out.Result.Summary.Sent)
	assert.Equal(t, []string{"First for eng", "Only for sales", "Second for eng"}, f.sent())
	assert.Equal(t, map[string]state.Status{"message.a": "sent", "message.b": "sent", "message.c": "sent"}, statuses(f.snapshot(t)))
	assert.NoFileExists(t, f.statePath()+".journal", "the journal is folded")
	f.assertUnlocked(t)

	again := &recorder{}
	out, err = Apply(context.Background(), f.op(again))
	require.NoError(t, err)
	assert.False(t, out.Executed)
	assert.Equal(t, 1, again.nothingToDo)
	assert.Len(t, f.api.Sends(), 3, "nothing is sent twice")
}

// refuse is an Approver that says no.
type refuse struct{}

var errRefused = errors.New("not approved")

func (refuse) Approve(context.Context, *planner.Plan) error { return errRefused }

func TestApplySendsNothingWithoutApproval(t *testing.T) {
	f := newFixture(t)
	op := f.op(&recorder{})
	op.Approver = refuse{}
	_, err := Apply(context.Background(), op)
	assert.ErrorIs(t, err, errRefused)
	assert.Empty(t, f.api.Arrivals())
	assert.Empty(t, f.snapshot(t).Records)
	f.assertUnlocked(t)
}

func TestApplyRefusesAStaleSavedPlan(t *testing.T) {
	f := newFixture(t)
	plan, err := f.in.Plan(f.snapshot(t))
	require.NoError(t, err)
	path := filepath.Join(f.dir, "saved.plan")
	require.NoError(t, planner.WriteFile(path, plan, nil))
	saved, err := planner.ReadFile(path)
	require.NoError(t, err)

	// Another pass changes the state after the plan was made.
	one := f.op(&recorder{})
	one.Inputs = &Inputs{At: at, Config: f.in.Config, Options: planner.Options{Targets: []addrs.Message{mustAddr(t, "message.a")}}}
	_, err = Apply(context.Background(), one)
	require.NoError(t, err)
	require.Len(t, f.api.Sends(), 1)

	op := f.op(&recorder{})
	op.Saved = saved
	out, err := Apply(context.Background(), op)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the saved plan is stale")
	assert.Contains(t, err.Error(), "nothing was sent")
	assert.False(t, out.Executed)
	assert.Len(t, f.api.Sends(), 1, "only the earlier pass sent")
	f.assertUnlocked(t)
}

func TestApplyCarriesOutAFreshSavedPlan(t *testing.T) {
	f := newFixture(t)
	plan, err := f.in.Plan(f.snapshot(t))
	require.NoError(t, err)
	path := filepath.Join(f.dir, "saved.plan")
	require.NoError(t, planner.WriteFile(path, plan, nil))
	saved, err := planner.ReadFile(path)
	require.NoError(t, err)

	op := f.op(&recorder{})
	op.Saved = saved
	out, err := Apply(context.Background(), op)
	require.NoError(t, err)
	assert.Equal(t, 3, out.Result.Summary.Sent)
	assert.Len(t, f.api.Sends(), 3)
}

func TestApplyLockHeldByAnother(t *testing.T) {
	f := newFixture(t)
	holder := state.OpenLocal(f.statePath())
	holder.SetOperation("herald apply")
	require.NoError(t, holder.Lock(context.Background(), 0))
	t.Cleanup(func() { holder.Close() })

	r := &recorder{}
	out, err := Apply(context.Background(), f.op(r))
	var locked *state.LockedError
	require.ErrorAs(t, err, &locked)
	assert.Contains(t, err.Error(), "herald apply")
	assert.Nil(t, out.Plan)
	assert.Zero(t, r.plans, "nothing was planned")
	assert.Empty(t, f.api.Arrivals())

	require.NoError(t, holder.Unlock())
	_, err = Apply(context.Background(), f.op(&recorder{}))
	require.NoError(t, err)
	assert.Len(t, f.api.Sends(), 3)
}

func TestApplyInterruptedRecordsWhatItSent(t *testing.T) {
	api := sandbox.NewHandler(sandbox.WithClock(func() time.Time { return at }))
	g := sandbox.NewGate(api, 0)
	srv := httptest.NewServer(g)
	t.Cleanup(func() { g.Open(); api.Close(); srv.Close() })
	f := newFixtureWith(t, api, srv.URL)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-g.Held()
		cancel()
		g.Open()
	}()
	r := &recorder{}
	op := f.op(r)
	op.WatchInterrupts = true
	out, err := Apply(ctx, op)
	require.ErrorIs(t, err, ErrInterrupted)
	assert.True(t, out.Result.Interrupted)
	assert.Equal(t, 1, out.Result.Summary.Sent)
	assert.Equal(t, 2, out.Result.Summary.NotStarted)
	assert.True(t, r.interrupting, "the interrupt was reported")
	require.Len(t, r.results, 1)
	assert.True(t, r.results[0].Interrupted)

	snap := f.snapshot(t)
	require.Len(t, snap.Records, 1, "the send in flight was recorded")
	for _, rec := range snap.Records {
		assert.Equal(t, state.StatusSent, rec.Status)
	}
	assert.NoFileExists(t, f.statePath()+".journal", "the journal is folded")

	// The next pass sends the rest, and the interrupted one's send once.
	_, err = Apply(context.Background(), f.op(&recorder{}))
	require.NoError(t, err)
	assert.Equal(t, []string{"First for eng", "Only for sales", "Second for eng"}, f.sent())
}

func TestApplyImportsOneMessage(t *testing.T) {
	f := newFixture(t)
	f.api.AddThreadMessage("t-sales", "+14155552671", "Only for sales", at.Add(-time.Hour))
	addr := mustAddr(t, "message.c")
	require.NoError(t, CheckImportable(f.in.Config, addr))
	assert.ErrorContains(t, CheckImportable(f.in.Config, mustAddr(t, "message.nope")), "matches no message")

	r := &recorder{}
	op := f.op(r)
	op.Import = &Import{Addr: addr}
	out, err := Apply(context.Background(), op)
	require.NoError(t, err)
	require.NotNil(t, out.Imported)
	assert.True(t, out.Imported.Recorded)
	assert.False(t, out.Failed())
	assert.Zero(t, r.plans, "an import shows no plan")
	assert.Empty(t, f.api.Sends())
	assert.Equal(t, map[string]state.Status{"message.c": "sent"}, statuses(f.snapshot(t)))

	again := f.op(r)
	again.Import = op.Import
	_, err = Apply(context.Background(), again)
	assert.ErrorContains(t, err, "message.c is already in state")
}

// reload loads the fixture's configuration again after src replaced it.
func (f *fixture) reload(t *testing.T, src string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "main.hcl"), []byte(src), 0o644))
	cfg, diags := spec.Load(f.dir, spec.LoadOptions{At: at})
	require.False(t, diags.HasErrors(), diags.Error())
	f.in = &Inputs{At: f.in.At, Options: f.in.Options, Config: cfg}
}

// A rename with a moved block moves the record in state at the next pass,
// so deleting the moved block afterwards never sends the message again.
// (Moved from command's apply tests: it tests the pass, not the CLI.)
func TestApplyCarriesMovedRecords(t *testing.T) {
	f := newFixture(t)
	_, err := Apply(context.Background(), f.op(&recorder{}))
	require.NoError(t, err)
	require.Len(t, f.sent(), 3)

	renamed := strings.Replace(config, `message "a" {`, `message "first" {`, 1)
	f.reload(t, renamed+"\nmoved {\n  from = message.a\n  to   = message.first\n}\n")
	_, err = Apply(context.Background(), f.op(&recorder{}))
	require.NoError(t, err)
	snap := f.snapshot(t)
	require.NotContains(t, snap.Records, "message.a")
	require.Contains(t, snap.Records, "message.first")
	assert.Equal(t, state.StatusSent, snap.Records["message.first"].Status)
	assert.Len(t, snap.Records["message.first"].Attempts, 1)

	// Without the moved block the record is still found.
	f.reload(t, renamed)
	plan, err := f.in.Plan(f.snapshot(t))
	require.NoError(t, err)
	assert.Zero(t, actionableOf(plan), "nothing would be sent")
	_, err = Apply(context.Background(), f.op(&recorder{}))
	require.NoError(t, err)
	assert.Len(t, f.sent(), 3, "nothing was sent twice")
}

// counting approves, and counts how often it was asked.
type counting struct{ asked int }

func (c *counting) Approve(context.Context, *planner.Plan) error { c.asked++; return nil }

// TestApplyPlansAgainAfterLookUps: a look-up that proves a lost send was
// not delivered makes it a retry under on_unknown = "resend"; the pass
// plans again, shows the new plan and asks for approval before it sends,
// since nothing was approved before the look-up.
func TestApplyPlansAgainAfterLookUps(t *testing.T) {
	f := newFixture(t)
	f.reload(t, strings.Replace(config, `service   = "telegram"`, "service   = \"telegram\"\n  on_unknown = \"resend\"", 1))
	f.in.Options = planner.Options{Targets: []addrs.Message{mustAddr(t, "message.c")}}
	f.api.Script(sandbox.Reply{Lost: true, Undelivered: true})
	first := &counting{}
	op := f.op(&recorder{})
	op.Approver = first
	out, err := Apply(context.Background(), op)
	require.NoError(t, err)
	assert.True(t, out.Failed(), "the send became unknown")
	assert.Equal(t, 1, first.asked)
	require.Equal(t, state.StatusUnknown, f.snapshot(t).Records["message.c"].Status)

	// Past unknown_settle, a look-up proves the absence.
	later := at.Add(10 * time.Minute)
	f.in = &Inputs{At: later, Options: f.in.Options, Config: f.in.Config}
	second := &counting{}
	r := &recorder{}
	op = f.op(r)
	op.Approver, op.Clock = second, func() time.Time { return later }
	out, err = Apply(context.Background(), op)
	require.NoError(t, err)
	assert.Equal(t, 1, second.asked, "asked once, for the resend")
	assert.Equal(t, 2, r.plans, "the plan, then the plan after the look-up")
	assert.Equal(t, 1, out.Result.Summary.Sent)
	rec := f.snapshot(t).Records["message.c"]
	assert.Equal(t, state.StatusSent, rec.Status)
	assert.Len(t, rec.Attempts, 2)
	assert.Equal(t, []string{"Only for sales"}, f.sent(), "sent once: the first attempt never arrived")
}
