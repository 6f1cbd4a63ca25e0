package command

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	a1sandbox "github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/state"
)

// limitedConfig has a group limited to one send a minute; a and b are
// due at applyClock.
const limitedConfig = `
provider "a1base" {
  account_id = "acc_test"
  from       = "+14155552671"
}

group "eng" {
  thread_id  = "t-eng"
  rate_limit = "1/1m"
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
`

func newApplyFixtureWithServer(t *testing.T, api *a1sandbox.API) *applyFixture {
	t.Helper()
	srv := httptest.NewServer(api)
	t.Cleanup(func() { api.Close(); srv.Close() })
	return newApplyFixtureWith(t, api, srv.URL)
}

func (f *applyFixture) writeConfig(t *testing.T, src string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "main.hcl"), []byte(src), 0o644))
}

// stopOnRateLimit passes output on and cancels the command once it reports
// a wait for a rate limit: the send it holds back is left for later.
type stopOnRateLimit struct {
	next   io.Writer
	cancel context.CancelFunc
	mu     sync.Mutex
	seen   strings.Builder
}

func (s *stopOnRateLimit) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.seen.Write(p)
	if rateLimitWait.MatchString(s.seen.String()) {
		s.cancel()
	}
	s.mu.Unlock()
	return s.next.Write(p)
}

// rateLimitWait matches the line apply and run print when a send waits
// for a rate limit.
var rateLimitWait = regexp.MustCompile(`waiting \S+ for the [^\n]*rate limit`)

// runUntilRateLimited runs herald until it waits for a rate limit, which
// interrupts it, or until it ends on its own.
func (f *applyFixture) runUntilRateLimited(t *testing.T, edit func(*Env), args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return f.runCtx(t, ctx, func(e *Env) {
		e.Stdout = &stopOnRateLimit{next: e.Stdout, cancel: cancel}
		if edit != nil {
			edit(e)
		}
	}, args...)
}

// Two applies back to back: the second one's send waits for the window of
// the first one's, which state records; it does not go at once.
func TestApplyKeepsTheLimitOfTheApplyBefore(t *testing.T) {
	f := newApplyFixture(t)
	f.writeConfig(t, limitedConfig)
	r := f.run(t, nil, "apply", "-auto-approve", at, "-target=message.a")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Len(t, f.api.Sends(), 1)

	again := f.runUntilRateLimited(t, nil, "apply", "-auto-approve", at, "-target=message.b")
	assert.Contains(t, again.stdout, `message.b: waiting 1m1s for the rate limit of group "eng" (1/1m)`)
	assert.Equal(t, ExitInterrupted, again.code, again.stdout+again.stderr)
	assert.Len(t, f.api.Sends(), 1, "the second send waits for the first one's window")
	assert.NotContains(t, statuses(f.snapshot(t, state.DefaultPath)), "message.b", "left for later")
}

// herald run keeps its limits from one pass to the next.
func TestRunKeepsLimitsAcrossPasses(t *testing.T) {
	src := strings.ReplaceAll(strings.ReplaceAll(limitedConfig, "07:00:00Z", "09:00:00Z"), "07:30:00Z", "09:00:30Z")
	clock := newFakeClock(runStart.Add(time.Hour))
	api := a1sandbox.NewHandler(a1sandbox.WithClock(clock.Now))
	f := newApplyFixtureWithServer(t, api)
	f.writeConfig(t, src)
	r := f.runUntilRateLimited(t, func(e *Env) {
		e.Now, e.Sleep = clock.Now, clock.Sleep
		clock.cancel, clock.stopAt = e.Stdout.(*stopOnRateLimit).cancel, runStart.Add(time.Hour+5*time.Minute)
	}, "run", "-poll=1m")
	assert.Contains(t, r.stdout, "2026-12-01T09:00:00Z message.a sent (attempt 1)")
	assert.Contains(t, r.stdout, "2026-12-01T09:00:30Z message.b waiting 31s for the rate limit")
	assert.Len(t, api.Sends(), 1, "the pass at 09:00:30 waits for the window of the send at 09:00")
	assert.Equal(t, []time.Duration{30 * time.Second}, clock.Sleeps())
}

// Two provider blocks on one account_id share the account's limit.
func TestAliasesOfOneAccountShareItsLimit(t *testing.T) {
	f := newApplyFixture(t)
	f.writeConfig(t, `
provider "a1base" {
  account_id = "acc_test"
  from       = "+14155552671"
  rate_limit = "1/1m"
}

provider "a1base" {
  alias      = "marketing"
  account_id = "acc_test"
  from       = "+14155552671"
  rate_limit = "1/1m"
}

group "eng" {
  thread_id = "t-eng"
}

group "sales" {
  thread_id = "t-sales"
  provider  = a1base.marketing
}

message "a" {
  group   = group.eng
  send_at = "2026-12-01T07:00:00Z"
  text    = "For eng"
}

message "c" {
  group   = group.sales
  send_at = "2026-12-01T07:00:00Z"
  text    = "For sales"
}
`)
	f.env["A1BASE_MARKETING_API_KEY"] = "key-9c1e"
	f.env["A1BASE_MARKETING_API_SECRET"] = "secret-4d7a"
	f.env["A1BASE_MARKETING_BASE_URL"] = f.url + "/v1"
	r := f.runUntilRateLimited(t, nil, "apply", "-auto-approve", at)
	assert.Contains(t, r.stdout, "waiting 1m1s for the account rate limit of acc_test (1/1m)")
	assert.Equal(t, ExitInterrupted, r.code, r.stdout+r.stderr)
	assert.Len(t, f.api.Sends(), 1, "one account, one send a minute, whichever block names it")
}

// A look-up of a thread is a request to the account like a send: it
// takes its turn under the account's limit.
func TestLookUpsCountAgainstTheAccountLimit(t *testing.T) {
	f := newApplyFixture(t)
	f.api.Script(a1sandbox.Reply{Lost: true, Undelivered: true})
	r := f.run(t, nil, "apply", "-auto-approve", at, "-target=message.c")
	require.Contains(t, r.stdout, "Apply complete: 0 sent, 0 failed, 0 expired, 1 unknown.", r.stdout+r.stderr)

	// Two minutes later, with one request a minute: the look-up of c
	// goes, and a waits for it.
	src, err := os.ReadFile(filepath.Join(f.dir, "main.hcl"))
	require.NoError(t, err)
	f.writeConfig(t, strings.Replace(string(src), `from       = "+14155552671"`, `from       = "+14155552671"
  rate_limit = "1/1m"`, 1))
	later := func(e *Env) { e.Now = func() time.Time { return applyClock.Add(2 * time.Minute) } }
	gets := len(f.api.Arrivals())
	again := f.runUntilRateLimited(t, later, "apply", "-auto-approve", "-target=message.c", "-target=message.a")
	assert.Contains(t, again.stdout, "message.a: waiting 1m1s for the account rate limit (1/1m)", again.stdout+again.stderr)
	assert.Len(t, f.api.Arrivals(), gets+1, "the look-up, and no send")
	assert.Len(t, f.api.Sends(), 0)
}

// An import's look-up of its thread counts against the account limit too.
func TestImportLookUpsCountAgainstTheAccountLimit(t *testing.T) {
	f := newApplyFixture(t)
	f.api.AddThreadMessage("t-eng", "+14155552671", "First for eng", applyClock.Add(-time.Hour))
	f.writeConfig(t, strings.Replace(strings.Replace(limitedConfig, `rate_limit = "1/1m"`, "", 1),
		`from       = "+14155552671"`, `from       = "+14155552671"
  rate_limit = "1/1m"`, 1)+`
import {
  to = message.a
}
`)
	r := f.runUntilRateLimited(t, nil, "apply", "-auto-approve", at)
	assert.Contains(t, r.stdout, "message.b: waiting 1m1s for the account rate limit (1/1m)", r.stdout+r.stderr)
	assert.Len(t, f.api.Arrivals(), 1, "the import's look-up, and no send")
	assert.Empty(t, f.api.Sends())
}
