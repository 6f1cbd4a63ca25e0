package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/state"
)

// RunStart describes a `herald run` that is starting.
type RunStart struct {
	// Poll is the longest sleep between two reads of the configuration.
	Poll time.Duration
	// State names the state run keeps.
	State string
	// Once: one pass, then exit.
	Once bool
}

// RunSleep is what run sleeps until.
type RunSleep struct {
	// WakeAt is when it wakes: the next send_at, or a poll interval from
	// now when that is sooner.
	WakeAt time.Time
	// NextAt is the earliest send_at still waiting and Next the messages
	// due then; both zero when nothing is waiting.
	NextAt time.Time
	Next   []string
}

// RunTotals counts what a run did across its passes.
type RunTotals struct {
	Sent, Failed, Expired, Unknown int
}

// Run is the view of `herald run`: a log, one line (or JSON object) per
// event, each stamped with the time. It is also the view of every apply
// pass the run makes, so it implements Apply; of those methods, Plan,
// NothingToDo, Prompt and Cancelled print nothing: a run shows what
// changes, not a plan at every wake. Its methods are safe for concurrent
// use.
type Run interface {
	Apply
	// Started opens the log.
	Started(s RunStart)
	// ConfigLoaded says that the configuration was read, for the first
	// time or (reloaded) changed since the last wake, and how many
	// messages wait.
	ConfigLoaded(waiting int, reloaded bool)
	// ConfigInvalid says that the configuration has errors, printed
	// before unless they are unchanged since the last wake, so that
	// nothing is sent until retryAt.
	ConfigInvalid(unchanged bool, retryAt time.Time)
	// LockBusy says that another process holds the state lock, so the
	// pass is left to retryAt.
	LockBusy(err error, retryAt time.Time)
	// PassFailed reports an error that ended a pass early; the run goes
	// on at retryAt.
	PassFailed(err error, retryAt time.Time)
	// Sleeping says what run sleeps until. The command calls it when
	// that changes, not at every poll.
	Sleeping(s RunSleep)
	// Stopped closes the log.
	Stopped(t RunTotals)
}

// RunFormat chooses how run logs.
type RunFormat int

const (
	// RunLinesFormat prints one line per event.
	RunLinesFormat RunFormat = iota
	// RunJSONFormat prints one JSON object per line.
	RunJSONFormat
)

// NewRun returns run's view, writing on v.Stdout. now stamps each event;
// nil is clock.Now.
func NewRun(format RunFormat, v *View, now func() time.Time) Run {
	if now == nil {
		now = clock.Now
	}
	return &runView{view: v, json: format == RunJSONFormat, now: now, reported: map[string]bool{}, lookedUp: map[string]bool{}}
}

type runView struct {
	mu   sync.Mutex
	view *View
	json bool
	now  func() time.Time
	poll time.Duration
	// reported holds the addresses of the current pass whose failure was
	// printed as it happened.
	reported map[string]bool
	// lookedUp holds unknown messages already reported as not found, so
	// that a run does not repeat it at every pass.
	lookedUp map[string]bool
}

var _ Run = (*runView)(nil)

// runEvent is one object of run's JSON log: apply's events, and run's own.
type runEvent struct {
	event
	PollSeconds float64    `json:"poll_seconds,omitempty"`
	Once        bool       `json:"once,omitempty"`
	Waiting     *int       `json:"waiting,omitempty"`
	Unchanged   bool       `json:"unchanged,omitempty"`
	RetryAt     *time.Time `json:"retry_at,omitempty"`
	WakeAt      *time.Time `json:"wake_at,omitempty"`
	NextAt      *time.Time `json:"next_send_at,omitempty"`
	Next        []string   `json:"next,omitempty"`
}

func (r *runView) emit(e runEvent) {
	e.Timestamp = r.now().UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	r.view.Stdout.Write(append(b, '\n'))
}

// line prints one log line, stamped.
func (r *runView) line(s string, styles ...Style) {
	io.WriteString(r.view.Stdout, stamp(r.now())+" "+r.view.Out(s, styles...)+"\n")
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func utcPtr(t time.Time) *time.Time {
	u := t.UTC()
	return &u
}

func (r *runView) Started(s RunStart) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.poll = s.Poll
	if r.json {
		r.emit(runEvent{event: event{Type: "started", StatePath: s.State}, PollSeconds: s.Poll.Seconds(), Once: s.Once})
		return
	}
	if s.Once {
		r.line(fmt.Sprintf("herald run: one pass, state %s", printable(s.State)))
		return
	}
	r.line(fmt.Sprintf("herald run started: reading the configuration at least every %s, state %s", s.Poll, printable(s.State)))
}

func (r *runView) ConfigLoaded(waiting int, reloaded bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		typ := "config_loaded"
		if reloaded {
			typ = "config_reloaded"
		}
		r.emit(runEvent{event: event{Type: typ}, Waiting: &waiting})
		return
	}
	verb := "loaded"
	if reloaded {
		verb = "reloaded"
	}
	r.line(fmt.Sprintf("config %s: %s waiting", verb, plural(waiting, "1 message", "%d messages")))
}

func (r *runView) ConfigInvalid(unchanged bool, retryAt time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		r.emit(runEvent{event: event{Type: "config_invalid"}, Unchanged: unchanged, RetryAt: utcPtr(retryAt)})
		return
	}
	what := "configuration invalid (errors above)"
	if unchanged {
		what = "configuration still invalid (same errors)"
	}
	r.line(fmt.Sprintf("%s: nothing is sent until it is fixed; reading it again at %s", what, stamp(retryAt)), Bold, Red)
}

func (r *runView) LockBusy(err error, retryAt time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		r.emit(runEvent{event: event{Type: "lock_busy", Error: err.Error()}, RetryAt: utcPtr(retryAt)})
		return
	}
	r.line(fmt.Sprintf("%s; trying again at %s", printable(err.Error()), stamp(retryAt)), Yellow)
}

func (r *runView) PassFailed(err error, retryAt time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		r.emit(runEvent{event: event{Type: "error", Error: err.Error()}, RetryAt: utcPtr(retryAt)})
		return
	}
	r.line(fmt.Sprintf("error: %s; trying again at %s", printable(err.Error()), stamp(retryAt)), Bold, Red)
}

func (r *runView) Sleeping(s RunSleep) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		e := runEvent{event: event{Type: "sleep"}, WakeAt: utcPtr(s.WakeAt), Next: s.Next}
		if !s.NextAt.IsZero() {
			e.NextAt = utcPtr(s.NextAt)
		}
		r.emit(e)
		return
	}
	if s.NextAt.IsZero() {
		r.line(fmt.Sprintf("nothing waiting: reading the configuration again every %s", r.poll))
		return
	}
	r.line(fmt.Sprintf("sleeping until %s (%s)", stamp(s.NextAt), nameMessages(s.Next)))
}

// nameMessages names the first message and counts the others.
func nameMessages(addrs []string) string {
	switch len(addrs) {
	case 0:
		return "nothing"
	case 1:
		return printable(addrs[0])
	}
	return fmt.Sprintf("%s and %d more", printable(addrs[0]), len(addrs)-1)
}

func (r *runView) Stopped(t RunTotals) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		r.emit(runEvent{event: event{Type: "stopped", Summary: &jsonSummary{
			Sent: t.Sent, Failed: t.Failed, Expired: t.Expired, Unknown: t.Unknown,
			Failures: []jsonFailure{}, Unknowns: []jsonFailure{},
		}}})
		return
	}
	r.line(fmt.Sprintf("stopped: %d sent, %d failed, %d expired, %d unknown since the start", t.Sent, t.Failed, t.Expired, t.Unknown))
}

// Apply's methods.

func (r *runView) Plan(*planner.Plan) error { return nil }
func (r *runView) NothingToDo()             {}
func (r *runView) Prompt()                  {}
func (r *runView) Cancelled()               {}

func (r *runView) Interrupting() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		r.emit(runEvent{event: event{Type: "interrupted"}})
		return
	}
	r.line("interrupt received: stopping; sends in flight finish and are recorded first (interrupt again to cancel them: they then stay unknown)", Bold, Yellow)
}

func (r *runView) Aborting() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		r.emit(runEvent{event: event{Type: "aborted"}})
		return
	}
	r.line("second interrupt: cancelling the sends in flight; they are recorded as unknown", Bold, Yellow)
}

func (r *runView) Sandbox(url, statePath string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		r.emit(runEvent{event: event{Type: "sandbox", URL: url, StatePath: statePath}})
		return
	}
	r.line(fmt.Sprintf("sandbox: sending to an in-process A1Base sandbox at %s; nothing leaves this machine; sandbox state %s", url, printable(statePath)))
}

func (r *runView) SandboxReceived(req a1base.SendRequest, sensitive bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if sensitive {
		req.Content = Sensitive
		if req.AttachmentURI != "" {
			req.AttachmentURI = Sensitive
		}
	}
	if r.json {
		r.emit(runEvent{event: event{Type: "sandbox_received", Message: &sandboxMessage{
			ThreadID: req.ThreadID, Service: req.Service, From: req.From,
			Content: req.Content, AttachmentURI: req.AttachmentURI,
		}}})
		return
	}
	io.WriteString(r.view.Stdout, stamp(r.now())+" "+SandboxLine(req, r.view.StdoutColor)+"\n")
}

func (r *runView) Starting(int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reported = map[string]bool{}
}

func (r *runView) BeforeSend(c *planner.Change, attempt int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		e := changeEvent("send_start", c)
		e.Attempt = attempt
		r.emit(runEvent{event: e})
	}
}

func (r *runView) AfterSend(c *planner.Change, attempt int, res a1base.Result, status state.Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	addr := c.Addr.String()
	if r.json {
		e := changeEvent("send_result", c)
		e.Attempt, e.Outcome, e.Status, e.StatusCode = attempt, res.Outcome.String(), string(status), res.StatusCode
		if res.Err != nil {
			e.Error = res.Err.Error()
		}
		r.emit(runEvent{event: e})
		return
	}
	// A transient failure is retried, which Retrying reports, or final,
	// which Finished reports with its reason.
	switch {
	case status == state.StatusSent:
		r.line(fmt.Sprintf("%s sent (attempt %d)", addr, attempt))
	case status == state.StatusUnknown:
		r.reported[addr] = true
		r.line(fmt.Sprintf("%s unknown: %s (it may have been delivered; not sent again unless herald apply -replace=%s)", addr, printable(errText(res)), shellQuote(addr)), Yellow)
	case res.Outcome == a1base.Permanent:
		r.reported[addr] = true
		r.line(fmt.Sprintf("%s failed: %s", addr, printable(errText(res))), Red)
	}
}

func (r *runView) RateLimited(c *planner.Change, wait time.Duration, limit string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		e := changeEvent("rate_limited", c)
		e.After, e.Limit = wait.Seconds(), limit
		r.emit(runEvent{event: e})
		return
	}
	r.line(fmt.Sprintf("%s waiting %s for the rate limit %s", c.Addr, roundWait(wait), printable(limit)))
}

func (r *runView) Retrying(c *planner.Change, attempt int, after time.Duration, res a1base.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		e := changeEvent("retry", c)
		e.Attempt, e.After, e.StatusCode = attempt, after.Seconds(), res.StatusCode
		e.Outcome = res.Outcome.String()
		if res.Err != nil {
			e.Error = res.Err.Error()
		}
		r.emit(runEvent{event: e})
		return
	}
	r.line(fmt.Sprintf("%s retrying in %s (%s)", c.Addr, roundWait(after), printable(shortReason(res))))
}

func (r *runView) Expired(c *planner.Change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		r.emit(runEvent{event: changeEvent("expired", c)})
		return
	}
	r.line(fmt.Sprintf("%s expired (recorded, not sent)", c.Addr))
}

func (r *runView) MediaRejected(c *planner.Change, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		e := changeEvent("media_rejected", c)
		e.Error = err.Error()
		r.emit(runEvent{event: e})
		return
	}
	r.reported[c.Addr.String()] = true
	r.line(fmt.Sprintf("%s failed: the media check refused it: %s", c.Addr, printable(err.Error())), Red)
}

func (r *runView) Reconciled(c *planner.Change, found bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	addr := c.Addr.String()
	if !found && r.lookedUp[addr] {
		return
	}
	r.lookedUp[addr] = true
	if r.json {
		e := changeEvent("reconciled", c)
		e.Found = &found
		r.emit(runEvent{event: e})
		return
	}
	if found {
		r.line(addr + " found in its thread: recorded as sent")
		return
	}
	r.line(fmt.Sprintf("%s not found in its thread's recent messages: still unknown (not sent again unless herald apply -replace=%s)", addr, shellQuote(addr)), Yellow)
}

func (r *runView) LookedUp(c *planner.Change, lu state.LookUp, status state.Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	addr := c.Addr.String()
	// An unsettled look-up is repeated at every pass; say why once.
	key := "look-up " + addr + " " + lu.Unsettled
	if status != state.StatusNotDelivered && r.lookedUp[key] {
		return
	}
	r.lookedUp[key] = true
	if r.json {
		e := changeEvent("reconciled", c)
		f := false
		e.Found, e.Status, e.LookUp = &f, string(status), &lu
		r.emit(runEvent{event: e})
		return
	}
	if status == state.StatusNotDelivered {
		r.line(LookUpLine(c, lu, status))
		return
	}
	r.line(LookUpLine(c, lu, status), Yellow)
}

func (r *runView) Imported(res executor.ImportResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	addr := res.Change.Addr.String()
	// An import that found nothing is tried again at every pass; say so
	// once.
	if !res.Recorded && r.lookedUp["import "+addr] {
		return
	}
	r.lookedUp["import "+addr] = true
	if r.json {
		e := changeEvent("imported", res.Change)
		found := res.Found != nil
		e.Found = &found
		if res.Recorded {
			e.Status = "sent"
		}
		if res.Err != nil {
			e.Error = res.Err.Error()
		}
		r.emit(runEvent{event: e})
		return
	}
	switch {
	case res.Err != nil:
		r.line(fmt.Sprintf("%s not imported: %s", addr, printable(res.Err.Error())), Red)
	case res.Recorded && res.Found != nil:
		r.line(addr + " found in its thread: imported, recorded as sent")
	case res.Recorded:
		r.line(addr+" imported without evidence, recorded as sent", Yellow)
	default:
		r.line(fmt.Sprintf("%s not found in its thread's recent messages: not imported, nothing recorded (herald import -force %s records it without evidence)", addr, shellQuote(addr)), Red)
	}
}

func (r *runView) ReconcileFailed(c *planner.Change, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		e := changeEvent("reconciled", c)
		f := false
		e.Found, e.Error = &f, err.Error()
		r.emit(runEvent{event: e})
		return
	}
	r.line(fmt.Sprintf("%s could not be looked up: %s: still unknown", c.Addr, printable(err.Error())), Yellow)
}

// Finished prints the final failures not printed as they happened
// (transient ones that ran out of attempts).
func (r *runView) Finished(s executor.Summary) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		return
	}
	for _, f := range s.Failures {
		addr := f.Addr.String()
		if r.reported[addr] {
			continue
		}
		r.reported[addr] = true
		r.line(fmt.Sprintf("%s failed: %s", addr, printable(f.Reason)), Red)
	}
}

// Result closes a pass that did something.
func (r *runView) Result(res ApplyResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := res.Summary
	if r.json {
		r.emit(runEvent{event: event{Type: "pass", Summary: &jsonSummary{
			Sent: s.Sent, Failed: s.Failed, Expired: s.Expired, Unknown: s.Unknown,
			NotStarted: s.NotStarted, Attempts: s.Attempts,
			Interrupted: res.Interrupted || res.Aborted, Aborted: res.Aborted,
			Failures: jsonFailures(s.Failures), Unknowns: jsonFailures(s.Unknowns),
		}}})
		return
	}
	parts := []string{fmt.Sprintf("%d sent", s.Sent), fmt.Sprintf("%d failed", s.Failed), fmt.Sprintf("%d expired", s.Expired), fmt.Sprintf("%d unknown", s.Unknown)}
	switch {
	case res.Interrupted || res.Aborted:
		parts = append(parts, fmt.Sprintf("%d not started", s.NotStarted))
		r.line("pass stopped: "+strings.Join(parts, ", ")+"; the next run or apply carries on", Bold, Yellow)
	case s.Sent+s.Failed+s.Expired+s.Unknown > 0:
		r.line("pass complete: " + strings.Join(parts, ", "))
	}
}
