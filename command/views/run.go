package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/daemon"
	"github.com/heraldhq/herald/daemon/service"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// Run is the view of `herald run`: a log, one line (or JSON object) per
// event, each stamped with the time, of the daemon's events and of every
// apply pass the run makes. Of Apply's methods, Plan, NothingToDo, Prompt
// and Cancelled print nothing: a run shows what changes, not a plan at
// every wake. Every JSON object has the same first fields (type,
// timestamp, level, msg); see docs/commands/run-events.md. Its methods are
// safe for concurrent use.
type Run interface {
	Apply
	daemon.Events
}

// RunFormat chooses how run logs.
type RunFormat int

const (
	// RunLinesFormat prints one line per event.
	RunLinesFormat RunFormat = iota
	// RunJSONFormat prints one JSON object per line.
	RunJSONFormat
)

// NewRun returns run's view, writing on v.Stdout (and the configuration's
// diagnostics on v.Stderr, its warnings on v.Stdout unless the log is
// JSON). now stamps each event; nil is clock.Now.
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
	// sandbox: the run is the sandbox's, so the commands it suggests are
	// too.
	sandbox bool
	// checks are the failed conditions last logged, so that one that
	// keeps failing is logged once; skipped the missed occurrences
	// already logged.
	checks, skipped map[string]bool
}

var _ Run = (*runView)(nil)

// runEvent is one object of run's JSON log: apply's events, run's own and
// the daemon's, all with type, timestamp, level and msg.
type runEvent struct {
	event
	// Level is INFO, WARN or ERROR; Msg says in words what the line
	// without -json says.
	Level       string     `json:"level"`
	Msg         string     `json:"msg"`
	PollSeconds float64    `json:"poll_seconds,omitempty"`
	Once        bool       `json:"once,omitempty"`
	Waiting     *int       `json:"waiting,omitempty"`
	Unchanged   bool       `json:"unchanged,omitempty"`
	RetryAt     *time.Time `json:"retry_at,omitempty"`
	WakeAt      *time.Time `json:"wake_at,omitempty"`
	NextAt      *time.Time `json:"next_send_at,omitempty"`
	Next        []string   `json:"next,omitempty"`
	// Count is how many occurrences a skipped event passes over.
	Count int `json:"count,omitempty"`
	// The daemon's service events.
	Addr        string     `json:"addr,omitempty"`
	Lock        string     `json:"lock,omitempty"`
	HolderPID   int        `json:"holder_pid,omitempty"`
	HolderHost  string     `json:"holder_host,omitempty"`
	HolderSince *time.Time `json:"holder_since,omitempty"`
	RetryIn     string     `json:"retry_in,omitempty"`
}

func (r *runView) emit(e runEvent) {
	e.Timestamp = r.now().UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	r.view.Stdout.Write(append(b, '\n'))
}

// log reports one event: a stamped line saying text, or with -json an
// object with e's fields and text as msg. The level follows from the
// line's colour: red is an error, yellow a warning.
func (r *runView) log(e runEvent, text string, styles ...Style) {
	if !r.json {
		r.line(text, styles...)
		return
	}
	e.Level, e.Msg = "INFO", text
	for _, st := range styles {
		switch st {
		case Red:
			e.Level = "ERROR"
		case Yellow:
			if e.Level == "INFO" {
				e.Level = "WARN"
			}
		}
	}
	r.emit(e)
}

// serviceLog reports one of the daemon's service events: a stamped line
// saying text and ending in type=NAME and the key=value pairs kv, or with
// -json an object with e's fields (which kv repeats).
func (r *runView) serviceLog(e runEvent, text string, kv []string, styles ...Style) {
	if r.json {
		r.log(e, text, styles...)
		return
	}
	var b strings.Builder
	b.WriteString(text)
	b.WriteString(" type=")
	b.WriteString(e.Type)
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteString(" " + kv[i] + "=" + logValue(kv[i+1]))
	}
	r.line(b.String(), styles...)
}

// logValue is v as a key=value line shows it: quoted when it is empty or
// holds spaces, quotes, '=' or anything unprintable.
func logValue(v string) string {
	if v == "" || strings.ContainsAny(v, " =\"\\") || strings.IndexFunc(v, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(v)
	}
	return v
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

func (r *runView) Listening(addr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.serviceLog(runEvent{event: event{Type: "listening"}, Addr: addr}, "serving /healthz, /readyz, /metrics and "+service.WebhookPath, []string{"addr", addr})
}

func (r *runView) WebhookRefused(res daemon.WebhookResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	code := strconv.Itoa(res.Status)
	r.serviceLog(runEvent{event: event{Type: "webhook_refused", StatusCode: res.Status, Error: res.Reason}},
		"refused a webhook request: "+res.Reason, []string{"status", code}, Yellow)
}

func (r *runView) InboxFailed(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.serviceLog(runEvent{event: event{Type: "inbox_failed", Error: err.Error()}},
		"the webhook's inbox", []string{"error", err.Error()}, Red)
}

func (r *runView) Started(s daemon.Start) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.poll = s.Poll
	e := runEvent{event: event{Type: "started", StatePath: s.State}, PollSeconds: s.Poll.Seconds(), Once: s.Once}
	if s.Once {
		r.log(e, fmt.Sprintf("herald run: one pass, state %s", printable(s.State)))
		return
	}
	r.log(e, fmt.Sprintf("herald run started: reading the configuration at least every %s, state %s", s.Poll, printable(s.State)))
}

func (r *runView) Diagnostics(warnings, errors []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Diagnostics stay out of the JSON log.
	if r.json {
		r.view.Stderr.Write(warnings)
	} else {
		r.view.Stdout.Write(warnings)
	}
	r.view.Stderr.Write(errors)
}

func (r *runView) ConfigLoaded(waiting int, reloaded bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	typ, verb := "config_loaded", "loaded"
	if reloaded {
		typ, verb = "config_reloaded", "reloaded"
	}
	r.log(runEvent{event: event{Type: typ}, Waiting: &waiting},
		fmt.Sprintf("config %s: %s waiting", verb, plural(waiting, "1 message", "%d messages")))
}

func (r *runView) ConfigInvalid(unchanged bool, retryAt time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	what := "configuration invalid (errors above)"
	if unchanged {
		what = "configuration still invalid (same errors)"
	}
	r.log(runEvent{event: event{Type: "config_invalid"}, Unchanged: unchanged, RetryAt: utcPtr(retryAt)},
		fmt.Sprintf("%s: nothing is sent until it is fixed; reading it again at %s", what, stamp(retryAt)), Bold, Red)
}

func (r *runView) LockBusy(err error, retryAt time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log(runEvent{event: event{Type: "lock_busy", Error: err.Error()}, RetryAt: utcPtr(retryAt)},
		fmt.Sprintf("%s; trying again at %s", printable(err.Error()), stamp(retryAt)), Yellow)
}

func (r *runView) PassFailed(err error, retryAt time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log(runEvent{event: event{Type: "error", Error: err.Error()}, RetryAt: utcPtr(retryAt)},
		fmt.Sprintf("error: %s; trying again at %s", printable(err.Error()), stamp(retryAt)), Bold, Red)
}

func (r *runView) Sleeping(s daemon.Sleep) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := runEvent{event: event{Type: "sleep"}, WakeAt: utcPtr(s.WakeAt), Next: s.Next}
	if s.NextAt.IsZero() {
		r.log(e, fmt.Sprintf("nothing waiting: reading the configuration again every %s", r.poll))
		return
	}
	e.NextAt = utcPtr(s.NextAt)
	r.log(e, fmt.Sprintf("sleeping until %s (%s)", stamp(s.NextAt), nameMessages(s.Next)))
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

func (r *runView) Stopped(t daemon.Totals) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log(runEvent{event: event{Type: "stopped", Summary: &jsonSummary{
		Sent: t.Sent, Failed: t.Failed, Expired: t.Expired, Unknown: t.Unknown,
		Failures: []jsonFailure{}, Unknowns: []jsonFailure{},
	}}}, fmt.Sprintf("stopped: %d sent, %d failed, %d expired, %d unknown since the start", t.Sent, t.Failed, t.Expired, t.Unknown))
}

// The daemon's service events.

func (r *runView) Active() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.serviceLog(runEvent{event: event{Type: "active"}}, "holding the state lock: this replica is active", nil)
}

func (r *runView) TookOver() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.serviceLog(runEvent{event: event{Type: "takeover"}}, "took over the state lock: this replica is active", nil)
}

func (r *runView) StandingBy(lock string, holder *state.LockInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := runEvent{event: event{Type: "standby"}, Lock: lock}
	kv := []string{"lock", lock}
	if holder != nil {
		e.HolderPID, e.HolderHost, e.HolderSince = holder.PID, holder.Host, utcPtr(holder.Since)
		kv = append(kv, "holder_pid", strconv.Itoa(holder.PID), "holder_host", holder.Host, "holder_since", holder.Since.UTC().Format(time.RFC3339))
	}
	r.serviceLog(e, "standing by: another replica holds the state lock", kv)
}

func (r *runView) StateUnreachable(err error, retryIn time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.serviceLog(runEvent{event: event{Type: "state_unreachable", Error: err.Error()}, RetryIn: retryIn.String()},
		"the state cannot be reached; trying again", []string{"error", err.Error(), "retry_in", retryIn.String()}, Red)
}

func (r *runView) LockLost(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.serviceLog(runEvent{event: event{Type: "lock_lost", Error: err.Error()}},
		"lost the state lock: stopped sending; standing by", []string{"error", err.Error()}, Yellow)
}

func (r *runView) ReleaseFailed(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.serviceLog(runEvent{event: event{Type: "error", Error: err.Error()}},
		"releasing the state", []string{"error", err.Error()}, Red)
}

// Apply's methods.

// Plan logs the conditions that failed in the pass's plan, each once
// while it keeps failing with the same message: a warning that holds for
// days is said once, not at every wake.
func (r *runView) Plan(p *planner.Plan) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, c := range p.FailedChecks() {
		key := fmt.Sprintf("%s#%d %s", c.Addr, c.Index, c.Message)
		seen[key] = true
		if r.checks[key] {
			continue
		}
		what := c.Addr
		if c.Kind == spec.CheckKindPrecondition {
			what = "precondition of " + c.Addr
		}
		styles := []Style{Yellow}
		if c.Severity == spec.SeverityError {
			styles = []Style{Bold, Red}
		}
		r.log(runEvent{event: event{Type: "check_failed", Address: c.Addr, Error: c.Message}},
			fmt.Sprintf("%s failed (%s): %s (%s line %d)", what, c.Severity, c.Message, c.Range.Filename, c.Range.Start.Line), styles...)
	}
	r.checks = seen
	// Occurrences the pass passes over, said once each: the next pass
	// starts from the one this pass records.
	for _, k := range p.Skipped {
		key := fmt.Sprintf("skipped %s %d", k.Addr, k.Last.UnixNano())
		if r.skipped[key] {
			continue
		}
		if r.skipped == nil {
			r.skipped = map[string]bool{}
		}
		r.skipped[key] = true
		ps := newPlanSkipped(k)
		r.log(runEvent{event: event{Type: "skipped", Address: ps.Address}, Count: k.Count},
			fmt.Sprintf("%s: %s", ps.Address, ps.Text()), Yellow)
	}
	return nil
}
func (r *runView) NothingToDo() {}
func (r *runView) Prompt()      {}
func (r *runView) Cancelled()   {}

func (r *runView) Interrupting() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log(runEvent{event: event{Type: "interrupted"}},
		"interrupt received: stopping; sends in flight finish and are recorded first (interrupt again to cancel them: they then stay unknown)", Bold, Yellow)
}

func (r *runView) Aborting() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log(runEvent{event: event{Type: "aborted"}},
		"second interrupt: cancelling the sends in flight; they are recorded as unknown", Bold, Yellow)
}

func (r *runView) Sandbox(url, statePath string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sandbox = true
	r.log(runEvent{event: event{Type: "sandbox", URL: url, StatePath: statePath}},
		fmt.Sprintf("sandbox: sending to an in-process A1Base sandbox at %s; nothing leaves this machine; sandbox state %s", url, printable(statePath)))
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
		r.log(runEvent{event: event{Type: "sandbox_received", Message: &sandboxMessage{
			ThreadID: req.ThreadID, Service: req.Service, From: req.From,
			Content: req.Content, AttachmentURI: req.AttachmentURI,
		}}}, SandboxLine(req, false))
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
		r.log(runEvent{event: e}, fmt.Sprintf("%s sending (attempt %d)", c.Addr, attempt))
	}
}

func (r *runView) AfterSend(c *planner.Change, attempt int, res a1base.Result, status state.Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	addr := c.Addr.String()
	e := changeEvent("send_result", c)
	e.Attempt, e.Outcome, e.Status, e.StatusCode = attempt, res.Outcome.String(), string(status), res.StatusCode
	if res.Err != nil {
		e.Error = res.Err.Error()
	}
	// A transient failure is retried, which Retrying reports, or final,
	// which Finished reports with its reason: its line is JSON's alone.
	switch {
	case status == state.StatusSent:
		r.log(runEvent{event: e}, fmt.Sprintf("%s sent (attempt %d)", addr, attempt))
	case status == state.StatusUnknown:
		r.reported[addr] = true
		r.log(runEvent{event: e}, fmt.Sprintf("%s unknown: %s (it may have been delivered; not sent again unless herald apply -replace=%s)", addr, printable(errText(res)), shellQuote(addr)), Yellow)
	case res.Outcome == a1base.Permanent:
		r.reported[addr] = true
		r.log(runEvent{event: e}, fmt.Sprintf("%s failed: %s", addr, printable(errText(res))), Red)
	case r.json:
		r.log(runEvent{event: e}, fmt.Sprintf("%s attempt %d failed: %s", addr, attempt, printable(shortReason(res))), Yellow)
	}
}

func (r *runView) RateLimited(c *planner.Change, wait time.Duration, limit string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := changeEvent("rate_limited", c)
	e.After, e.Limit = wait.Seconds(), limit
	r.log(runEvent{event: e}, fmt.Sprintf("%s waiting %s for the %s", c.Addr, roundWait(wait), printable(limit)))
}

func (r *runView) Retrying(c *planner.Change, attempt int, after time.Duration, res a1base.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := changeEvent("retry", c)
	e.Attempt, e.After, e.StatusCode = attempt, after.Seconds(), res.StatusCode
	e.Outcome = res.Outcome.String()
	if res.Err != nil {
		e.Error = res.Err.Error()
	}
	r.log(runEvent{event: e}, fmt.Sprintf("%s retrying in %s (%s)", c.Addr, roundWait(after), printable(shortReason(res))))
}

func (r *runView) Expired(c *planner.Change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log(runEvent{event: changeEvent("expired", c)}, fmt.Sprintf("%s expired (recorded, not sent)", c.Addr))
}

func (r *runView) MediaRejected(c *planner.Change, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := changeEvent("media_rejected", c)
	e.Error = err.Error()
	if !r.json {
		r.reported[c.Addr.String()] = true
	}
	r.log(runEvent{event: e}, fmt.Sprintf("%s failed: the media check refused it: %s", c.Addr, printable(err.Error())), Red)
}

func (r *runView) Reconciled(c *planner.Change, found bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	addr := c.Addr.String()
	if !found && r.lookedUp[addr] {
		return
	}
	r.lookedUp[addr] = true
	e := changeEvent("reconciled", c)
	e.Found = &found
	if found {
		r.log(runEvent{event: e}, addr+" found in its thread: recorded as sent")
		return
	}
	r.log(runEvent{event: e}, fmt.Sprintf("%s not found in its thread's recent messages: still unknown (not sent again unless herald apply -replace=%s)", addr, shellQuote(addr)), Yellow)
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
	e := changeEvent("reconciled", c)
	f := false
	e.Found, e.Status, e.LookUp = &f, string(status), &lu
	if status == state.StatusNotDelivered {
		r.log(runEvent{event: e}, LookUpLine(c, lu, status))
		return
	}
	r.log(runEvent{event: e}, LookUpLine(c, lu, status), Yellow)
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
	e := changeEvent("imported", res.Change)
	found := res.Found != nil
	e.Found = &found
	if res.Recorded {
		e.Status = "sent"
	}
	if res.Err != nil {
		e.Error = res.Err.Error()
	}
	switch {
	case res.Err != nil:
		r.log(runEvent{event: e}, fmt.Sprintf("%s not imported: %s", addr, printable(res.Err.Error())), Red)
	case res.Recorded && res.Found != nil:
		r.log(runEvent{event: e}, addr+" found in its thread: imported, recorded as sent")
	case res.Recorded:
		r.log(runEvent{event: e}, addr+" imported without evidence, recorded as sent", Yellow)
	default:
		cmd := "herald import -force "
		if r.sandbox {
			cmd = "herald import -sandbox -force "
		}
		r.log(runEvent{event: e}, fmt.Sprintf("%s not found in its thread's recent messages: not imported, nothing recorded (%s%s records it without evidence)", addr, cmd, shellQuote(addr)), Red)
	}
}

func (r *runView) ReconcileFailed(c *planner.Change, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := changeEvent("reconciled", c)
	f := false
	e.Found, e.Error = &f, err.Error()
	r.log(runEvent{event: e}, fmt.Sprintf("%s could not be looked up: %s: still unknown", c.Addr, printable(err.Error())), Yellow)
}

// Finished prints the final failures not printed as they happened
// (transient ones that ran out of attempts); the JSON log has them in
// the pass event.
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
	e := runEvent{event: event{Type: "pass", Summary: newJSONSummary(res)}}
	parts := []string{fmt.Sprintf("%d sent", s.Sent), fmt.Sprintf("%d failed", s.Failed), fmt.Sprintf("%d expired", s.Expired), fmt.Sprintf("%d unknown", s.Unknown)}
	if s.Waiting > 0 {
		parts = append(parts, fmt.Sprintf("%d waiting for an unknown in their thread", s.Waiting))
	}
	switch {
	case res.Interrupted || res.Aborted:
		parts = append(parts, fmt.Sprintf("%d not started", s.NotStarted))
		r.log(e, "pass stopped: "+strings.Join(parts, ", ")+"; the next run or apply carries on", Bold, Yellow)
	case s.Sent+s.Failed+s.Expired+s.Unknown+s.Waiting > 0 || r.json:
		r.log(e, "pass complete: "+strings.Join(parts, ", "))
	}
}
