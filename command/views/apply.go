package views

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/operation"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/state"
)

// ApplyFormat chooses how apply reports what it does.
type ApplyFormat int

const (
	// ApplyLinesFormat prints one line per outcome: for logs and pipes.
	ApplyLinesFormat ApplyFormat = iota
	// ApplyProgressFormat draws a progress bar on stderr: for a terminal.
	ApplyProgressFormat
	// ApplyJSONFormat streams one JSON object per line on stdout.
	ApplyJSONFormat
)

// ApplyPrompt is what apply asks before it sends, Terraform's way.
const ApplyPrompt = "Do you want to send these messages?\n  Only 'yes' will be accepted.\n\n  Enter a value: "

// ApplyResult is how an apply ended, for its closing summary.
type ApplyResult = operation.Result

// Apply is the view of `herald apply`: what its pass reports (the plan it
// is about to carry out, the executor's progress, imports, the closing
// summary: it implements operation.Reporter), the approval prompt and what
// the sandbox receives. Its methods are safe for concurrent use: the
// sandbox reports from its own goroutines.
type Apply interface {
	operation.Reporter
	// Prompt asks for approval; the command reads the answer.
	Prompt()
	// Cancelled says that the answer was not "yes".
	Cancelled()
	// Sandbox announces an in-process sandbox and the state file it uses.
	Sandbox(url, statePath string)
	// SandboxReceived shows a message the sandbox received; sensitive
	// hides its content.
	SandboxReceived(req a1base.SendRequest, sensitive bool)
	// Notifications reports what became of the run's notifications.
	Notifications(r NotifyReport)
	// NotificationCaptured shows a notification the sandbox kept
	// instead of sending.
	NotificationCaptured(c CapturedNotification)
}

// Import is the view of `herald import`: apply's, announcing the sandbox
// an import reads, and suggesting commands with -sandbox in it.
type Import interface {
	Apply
	// SandboxImport announces an import into the sandbox's state at
	// statePath from the sandbox's thread history at threadsPath ("" when
	// no thread is read).
	SandboxImport(statePath, threadsPath string)
}

// NewImport returns import's view; sandbox says that the import is the
// sandbox's. now is as for NewApply.
func NewImport(v *View, now func() time.Time, sandbox bool) Import {
	a := NewApply(ApplyLinesFormat, v, now).(*applyView)
	a.sandbox = sandbox
	return a
}

func (a *applyView) SandboxImport(statePath, threadsPath string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	from := "reading no thread (-force)"
	if threadsPath != "" {
		from = "reading the threads of an in-process A1Base sandbox, which hold what earlier sandbox runs sent (" + threadsPath + ")"
	}
	fmt.Fprintf(a.view.Stdout, "%s %s; nothing leaves this machine.\nSandbox state: %s (the real state is not read or changed).\n\n",
		a.view.Out("Sandbox:", Bold, Cyan), from, statePath)
}

// NewApply returns apply's view. now stamps JSON events; nil is clock.Now.
func NewApply(format ApplyFormat, v *View, now func() time.Time) Apply {
	if now == nil {
		now = clock.Now
	}
	a := &applyView{view: v, format: format, now: now, reported: map[string]bool{}}
	return a
}

// applyView implements all three formats: they share the bookkeeping
// (what was reported, the counts the bar shows) and differ in a few
// writes.
type applyView struct {
	mu     sync.Mutex
	view   *View
	format ApplyFormat
	now    func() time.Time

	bar     *progressBar
	retries int
	// reported holds the addresses whose final failure was printed as it
	// happened, so that the closing list does not print them twice.
	reported map[string]bool
	// sandbox: the run is the sandbox's, so the commands it suggests are
	// too.
	sandbox bool
}

var _ Apply = (*applyView)(nil)

// event is one line of the -json stream. Fields are set per type and
// left out when empty.
type event struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Address   string    `json:"address,omitempty"`
	Group     string    `json:"group,omitempty"`
	ThreadID  string    `json:"thread_id,omitempty"`
	Service   string    `json:"service,omitempty"`
	Attempt   int       `json:"attempt,omitempty"`
	// Outcome is delivered, transient, permanent or ambiguous; Status is
	// what state recorded (sent, failed, unknown).
	Outcome    string  `json:"outcome,omitempty"`
	Status     string  `json:"status,omitempty"`
	StatusCode int     `json:"status_code,omitempty"`
	Error      string  `json:"error,omitempty"`
	After      float64 `json:"after_seconds,omitempty"`
	Limit      string  `json:"limit,omitempty"`
	Found      *bool   `json:"found,omitempty"`
	// LookUp is the evidence of a "reconciled" event's look-up.
	LookUp *state.LookUp `json:"look_up,omitempty"`
	// Plan is the plan document of a "plan" event.
	Plan *PlanDocument `json:"plan,omitempty"`
	// Message is a sandbox_received event's message.
	Message *sandboxMessage `json:"message,omitempty"`
	// Summary closes the stream.
	Summary *jsonSummary `json:"summary,omitempty"`
	// Total is how many changes the run handles (send_start of the run).
	Total *int `json:"total,omitempty"`
	// StatePath names the sandbox's state file.
	StatePath string `json:"state_path,omitempty"`
	URL       string `json:"url,omitempty"`
	// Notify closes an apply's notifications; Captured is one the
	// sandbox kept.
	Notify   *notifyEvent          `json:"notifications,omitempty"`
	Captured *CapturedNotification `json:"notification,omitempty"`
}

type sandboxMessage struct {
	ThreadID      string `json:"thread_id"`
	Service       string `json:"service"`
	From          string `json:"from"`
	Content       string `json:"content"`
	AttachmentURI string `json:"attachment_uri,omitempty"`
}

type jsonSummary struct {
	Sent        int           `json:"sent"`
	Failed      int           `json:"failed"`
	Expired     int           `json:"expired"`
	Unknown     int           `json:"unknown"`
	NotStarted  int           `json:"not_started"`
	Attempts    int           `json:"attempts"`
	Interrupted bool          `json:"interrupted"`
	Aborted     bool          `json:"aborted"`
	Failures    []jsonFailure `json:"failures"`
	Unknowns    []jsonFailure `json:"unknowns"`
	// Waiting counts the messages held back because a message of their
	// thread became unknown in the run; Waits says which.
	Waiting int           `json:"waiting"`
	Waits   []jsonFailure `json:"waits"`
	// Skipped counts the missed occurrences of repeat messages the plan
	// passed over: never sent, nothing recorded (see the plan event's
	// skipped); SkippedAtLeast says the count is a lower bound.
	Skipped        int  `json:"skipped"`
	SkippedAtLeast bool `json:"skipped_at_least,omitempty"`
}

// newJSONSummary is the summary event's body for an apply or a pass.
func newJSONSummary(r ApplyResult) *jsonSummary {
	s := r.Summary
	return &jsonSummary{
		Sent: s.Sent, Failed: s.Failed, Expired: s.Expired, Unknown: s.Unknown,
		NotStarted: s.NotStarted, Attempts: s.Attempts,
		Interrupted: r.Interrupted || r.Aborted, Aborted: r.Aborted,
		Failures: jsonFailures(s.Failures), Unknowns: jsonFailures(s.Unknowns),
		Waiting: s.Waiting, Waits: jsonFailures(s.Waits),
		Skipped: r.Skipped, SkippedAtLeast: r.SkippedAtLeast,
	}
}

type jsonFailure struct {
	Address string `json:"address"`
	Reason  string `json:"reason"`
}

func (a *applyView) emit(e event) {
	e.Timestamp = a.now().UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	a.view.Stdout.Write(append(b, '\n'))
}

// line prints one progress line: on stdout in the lines format, above the
// bar on stderr in the progress format, so that a terminal shows one
// stream in order.
func (a *applyView) line(s string) {
	switch {
	case a.format == ApplyProgressFormat && a.bar != nil:
		a.bar.above(s)
	case a.format == ApplyProgressFormat:
		io.WriteString(a.view.Stderr, s+"\n")
	default:
		io.WriteString(a.view.Stdout, s+"\n")
	}
}

func (a *applyView) Plan(p *planner.Plan) error {
	doc := NewPlanDocument(p)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.format == ApplyJSONFormat {
		a.emit(event{Type: "plan", Plan: doc})
		return nil
	}
	_, err := io.WriteString(a.view.Stdout, RenderPlanHuman(doc, PlanNext{}, a.view.StdoutColor))
	return err
}

func (a *applyView) NothingToDo() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.format == ApplyJSONFormat {
		a.emit(event{Type: "summary", Summary: &jsonSummary{Failures: []jsonFailure{}, Unknowns: []jsonFailure{}}})
		return
	}
	io.WriteString(a.view.Stdout, "\nNothing to send or expire now.\n")
}

func (a *applyView) Prompt() {
	a.mu.Lock()
	defer a.mu.Unlock()
	io.WriteString(a.view.Stdout, "\n"+a.view.Out(ApplyPrompt, Bold))
}

func (a *applyView) Cancelled() {
	a.mu.Lock()
	defer a.mu.Unlock()
	io.WriteString(a.view.Stdout, "\nApply cancelled.\n")
}

func (a *applyView) Interrupting() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.format == ApplyJSONFormat {
		a.emit(event{Type: "interrupted"})
		return
	}
	a.notice("Interrupt received: starting no new sends and waiting for those in flight. Press Ctrl-C again to stop at once (sends in flight then stay unknown).")
}

func (a *applyView) Aborting() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.format == ApplyJSONFormat {
		a.emit(event{Type: "aborted"})
		return
	}
	a.notice("Second interrupt: cancelling the sends in flight; they are recorded as unknown.")
}

// notice prints a message about the run itself on stderr, above the bar
// when there is one.
func (a *applyView) notice(s string) {
	s = a.view.Err(s, Bold, Yellow)
	if a.bar != nil {
		a.bar.above(s)
		return
	}
	io.WriteString(a.view.Stderr, "\n"+s+"\n")
}

func (a *applyView) Sandbox(url, statePath string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sandbox = true
	if a.format == ApplyJSONFormat {
		a.emit(event{Type: "sandbox", URL: url, StatePath: statePath})
		return
	}
	fmt.Fprintf(a.view.Stdout, "%s sending to an in-process A1Base sandbox at %s; nothing leaves this machine.\nSandbox state: %s (the real state is not read or changed).\n\n",
		a.view.Out("Sandbox:", Bold, Cyan), url, statePath)
}

func (a *applyView) SandboxReceived(req a1base.SendRequest, sensitive bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if sensitive {
		req.Content = Sensitive
		if req.AttachmentURI != "" {
			req.AttachmentURI = Sensitive
		}
	}
	if a.format == ApplyJSONFormat {
		a.emit(event{Type: "sandbox_received", Message: &sandboxMessage{
			ThreadID: req.ThreadID, Service: req.Service, From: req.From,
			Content: req.Content, AttachmentURI: req.AttachmentURI,
		}})
		return
	}
	color := a.view.StdoutColor
	if a.format == ApplyProgressFormat {
		color = a.view.StderrColor
	}
	a.line(SandboxLine(req, color))
}

// SandboxLine is how a message the sandbox received is shown, with its
// whole text on one line (a line break shown as \n):
//
//	sandbox received → thread t-eng (whatsapp) from +14155552671: "Launch day!\nDoors open at 10."
func SandboxLine(req a1base.SendRequest, color bool) string {
	what := quoteLine(req.Content)
	if req.AttachmentURI != "" {
		what = fmt.Sprintf("[%s] %s", printable(req.AttachmentURI), what)
	}
	return fmt.Sprintf("%s → thread %s (%s) from %s: %s",
		Paint(color, "sandbox received", Cyan), printable(req.ThreadID), printable(req.Service), printable(req.From), what)
}

// quoteLine quotes all of s on one line: control characters (line breaks
// too) escaped, double quotes backslashed.
func quoteLine(s string) string {
	return `"` + strings.ReplaceAll(printable(s), `"`, `\"`) + `"`
}

func (a *applyView) Starting(total int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch a.format {
	case ApplyProgressFormat:
		a.bar = newProgressBar(a.view.Stderr, total, a.view.StderrColor)
	case ApplyJSONFormat:
		a.emit(event{Type: "start", Total: &total})
	}
}

func (a *applyView) BeforeSend(c *planner.Change, attempt int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.format == ApplyJSONFormat {
		e := changeEvent("send_start", c)
		e.Attempt = attempt
		a.emit(e)
	}
}

func changeEvent(typ string, c *planner.Change) event {
	e := event{Type: typ, Address: c.Addr.String()}
	if in := c.Instance; in != nil {
		if in.Group != nil {
			e.Group = in.Group.Name
		}
		e.ThreadID, e.Service = in.ThreadID, in.Service
	}
	return e
}

func (a *applyView) AfterSend(c *planner.Change, attempt int, res a1base.Result, status state.Status) {
	a.mu.Lock()
	defer a.mu.Unlock()
	addr := c.Addr.String()
	if a.format == ApplyJSONFormat {
		e := changeEvent("send_result", c)
		e.Attempt, e.Outcome, e.Status, e.StatusCode = attempt, res.Outcome.String(), string(status), res.StatusCode
		if res.Err != nil {
			e.Error = res.Err.Error()
		}
		a.emit(e)
		return
	}
	// A transient failure is either retried, which Retrying reports, or
	// final, which Finished reports from the summary with its reason.
	switch {
	case status == state.StatusSent:
		if a.format == ApplyProgressFormat {
			if a.bar != nil {
				a.bar.sent++
				a.bar.step()
			}
			return
		}
		a.line(fmt.Sprintf("%s: sent (attempt %d)", addr, attempt))
	case status == state.StatusUnknown:
		a.reported[addr] = true
		a.bar.done()
		a.line(a.paint(fmt.Sprintf("%s: unknown: %s (it may have been delivered; not sent again unless -replace=%s)", addr, printable(errText(res)), shellQuote(addr)), Yellow))
	case res.Outcome == a1base.Permanent:
		a.reported[addr] = true
		a.bar.done()
		a.line(a.paint(fmt.Sprintf("%s: failed: %s", addr, printable(errText(res))), Red))
	}
}

// paint styles a progress line for the stream it goes to.
func (a *applyView) paint(s string, styles ...Style) string {
	if a.format == ApplyProgressFormat {
		return a.view.Err(s, styles...)
	}
	return a.view.Out(s, styles...)
}

func errText(res a1base.Result) string {
	if res.Err != nil {
		return res.Err.Error()
	}
	if res.StatusCode != 0 {
		return fmt.Sprintf("%s (HTTP %d)", res.Outcome, res.StatusCode)
	}
	return res.Outcome.String()
}

// shortReason says in a few words why a send will be retried.
func shortReason(res a1base.Result) string {
	switch {
	case res.StatusCode == http.StatusTooManyRequests:
		return "429 rate limited"
	case res.StatusCode != 0:
		return strings.TrimSpace(fmt.Sprintf("%d %s", res.StatusCode, strings.ToLower(http.StatusText(res.StatusCode))))
	case res.Err != nil:
		return res.Err.Error()
	}
	return res.Outcome.String()
}

// roundWait shows a wait the way a person reads it: whole seconds, or
// tenths below ten seconds.
func roundWait(d time.Duration) time.Duration {
	if d >= 10*time.Second {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

func (a *applyView) RateLimited(c *planner.Change, wait time.Duration, limit string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch a.format {
	case ApplyJSONFormat:
		e := changeEvent("rate_limited", c)
		e.After, e.Limit = wait.Seconds(), limit
		a.emit(e)
	case ApplyLinesFormat:
		a.line(fmt.Sprintf("%s: waiting %s for the %s", c.Addr, roundWait(wait), printable(limit)))
	}
}

func (a *applyView) Retrying(c *planner.Change, attempt int, after time.Duration, res a1base.Result) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.retries++
	switch a.format {
	case ApplyJSONFormat:
		e := changeEvent("retry", c)
		e.Attempt, e.After, e.StatusCode = attempt, after.Seconds(), res.StatusCode
		e.Outcome = res.Outcome.String()
		if res.Err != nil {
			e.Error = res.Err.Error()
		}
		a.emit(e)
	case ApplyProgressFormat:
		if a.bar != nil {
			a.bar.retries = a.retries
			a.bar.render()
		}
	default:
		a.line(fmt.Sprintf("%s: retrying in %s (%s)", c.Addr, roundWait(after), printable(shortReason(res))))
	}
}

func (a *applyView) Expired(c *planner.Change) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch a.format {
	case ApplyJSONFormat:
		a.emit(changeEvent("expired", c))
	case ApplyProgressFormat:
		if a.bar != nil {
			a.bar.expired++
			a.bar.step()
		}
	default:
		a.line(fmt.Sprintf("%s: expired (recorded, not sent)", c.Addr))
	}
}

func (a *applyView) MediaRejected(c *planner.Change, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.format == ApplyJSONFormat {
		e := changeEvent("media_rejected", c)
		e.Error = err.Error()
		a.emit(e)
		return
	}
	a.reported[c.Addr.String()] = true
	a.bar.done()
	a.line(a.paint(fmt.Sprintf("%s: failed: the media check refused it: %s", c.Addr, printable(err.Error())), Red))
}

func (a *applyView) Reconciled(c *planner.Change, found bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.format == ApplyJSONFormat {
		e := changeEvent("reconciled", c)
		e.Found = &found
		a.emit(e)
		return
	}
	if found {
		io.WriteString(a.view.Stdout, fmt.Sprintf("%s: found in its thread: recorded as sent\n", c.Addr))
		return
	}
	io.WriteString(a.view.Stdout, fmt.Sprintf("%s: not found in its thread's recent messages: still unknown (not sent again unless -replace=%s)\n", c.Addr, shellQuote(c.Addr.String())))
}

func (a *applyView) LookedUp(c *planner.Change, lu state.LookUp, status state.Status) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.format == ApplyJSONFormat {
		e := changeEvent("reconciled", c)
		f := false
		e.Found, e.Status, e.LookUp = &f, string(status), &lu
		a.emit(e)
		return
	}
	io.WriteString(a.view.Stdout, LookUpLine(c, lu, status)+"\n")
}

// LookUpLine says what a look-up that did not find a message showed.
func LookUpLine(c *planner.Change, lu state.LookUp, status state.Status) string {
	read := planner.DescribeLookUp(&lu)
	if status == state.StatusNotDelivered {
		next := "on_unknown = hold: not sent again unless -replace=" + shellQuote(c.Addr.String())
		if c.Instance != nil && c.Instance.Unknown.Resend() {
			next = "on_unknown = resend: sent again while within its expires_after"
		}
		return fmt.Sprintf("%s: not delivered, proven by look-up %s (%s); %s", c.Addr, read, lu.Covered, next)
	}
	return fmt.Sprintf("%s: not found in its thread (look-up %s), still unknown: %s", c.Addr, read, printable(lu.Unsettled))
}

func (a *applyView) Imported(r executor.ImportResult) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := r.Change
	if a.format == ApplyJSONFormat {
		e := changeEvent("imported", c)
		found := r.Found != nil
		e.Found = &found
		if r.Recorded {
			e.Status = "sent"
		}
		if r.Err != nil {
			e.Error = r.Err.Error()
		}
		a.emit(e)
		return
	}
	var line string
	switch {
	case r.Err != nil:
		line = a.paint(fmt.Sprintf("%s: not imported: %s", c.Addr, printable(r.Err.Error())), Red)
	case r.Found != nil:
		what := "a message"
		if r.Found.ID != "" {
			what = "message " + printable(r.Found.ID)
		}
		if !r.Found.DateCreated.IsZero() {
			what += " of " + r.Found.DateCreated.UTC().Format(time.RFC3339)
		}
		line = fmt.Sprintf("%s: found in its thread (%s): imported, recorded as sent", c.Addr, what)
	case r.Recorded:
		line = a.paint(fmt.Sprintf("%s: imported without evidence (-force: its thread was not read), recorded as sent", c.Addr), Yellow)
	default:
		cmd := "herald import -force "
		if a.sandbox {
			cmd = "herald import -sandbox -force "
		}
		line = a.paint(fmt.Sprintf("%s: not found in its thread's recent messages from %s: not imported, nothing recorded (%s%s records it without evidence)", c.Addr, printable(c.Instance.From), cmd, shellQuote(c.Addr.String())), Red)
	}
	io.WriteString(a.view.Stdout, line+"\n")
}

func (a *applyView) ReconcileFailed(c *planner.Change, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.format == ApplyJSONFormat {
		e := changeEvent("reconciled", c)
		f := false
		e.Found, e.Error = &f, err.Error()
		a.emit(e)
		return
	}
	io.WriteString(a.view.Stdout, fmt.Sprintf("%s: could not be looked up: %s: still unknown\n", c.Addr, printable(err.Error())))
}

// Finished ends the bar and prints final failures that were not printed
// as they happened (transient ones that ran out of attempts). The summary
// itself waits for Result, which knows how the run ended.
func (a *applyView) Finished(s executor.Summary) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.format == ApplyJSONFormat {
		return
	}
	for _, f := range s.Failures {
		addr := f.Addr.String()
		if a.reported[addr] {
			continue
		}
		a.reported[addr] = true
		a.line(a.paint(fmt.Sprintf("%s: failed: %s", addr, printable(f.Reason)), Red))
	}
	if a.bar != nil {
		a.bar.finish()
		a.bar = nil
	}
}

func (a *applyView) Result(r ApplyResult) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.format == ApplyJSONFormat {
		a.emit(event{Type: "summary", Summary: newJSONSummary(r)})
		return
	}
	io.WriteString(a.view.Stdout, RenderApplyResult(r, a.view.StdoutColor))
}

// skippedCount is the count of skipped occurrences, "1000+" when it is a
// lower bound.
func skippedCount(r ApplyResult) string {
	if r.SkippedAtLeast {
		return fmt.Sprintf("%d+", r.Skipped)
	}
	return fmt.Sprint(r.Skipped)
}

func jsonFailures(fs []executor.Failure) []jsonFailure {
	out := make([]jsonFailure, 0, len(fs))
	for _, f := range fs {
		out = append(out, jsonFailure{Address: f.Addr.String(), Reason: f.Reason})
	}
	return out
}

// RenderApplyResult is the closing summary of an apply:
//
//	Apply complete: 5 sent, 1 failed, 2 expired, 0 unknown, 2 skipped.
//
// (skipped, the missed occurrences of repeat messages the plan passed
// over, only when there were any) followed by each failure with its reason and each unknown message with
// the command that sends it again. An interrupted run says what was left.
func RenderApplyResult(r ApplyResult, color bool) string {
	var b strings.Builder
	s := r.Summary
	paint := func(t string, st ...Style) string { return Paint(color, t, st...) }
	b.WriteByte('\n')
	switch {
	case r.Interrupted || r.Aborted:
		head := "Interrupted"
		if r.Aborted {
			head = "Aborted"
		}
		parts := []string{fmt.Sprintf("%d sent", s.Sent)}
		if s.Failed > 0 {
			parts = append(parts, fmt.Sprintf("%d failed", s.Failed))
		}
		if s.Expired > 0 {
			parts = append(parts, fmt.Sprintf("%d expired", s.Expired))
		}
		if s.Unknown > 0 {
			parts = append(parts, fmt.Sprintf("%d unknown", s.Unknown))
		}
		if s.Waiting > 0 {
			parts = append(parts, fmt.Sprintf("%d waiting", s.Waiting))
		}
		parts = append(parts, fmt.Sprintf("%d not started", s.NotStarted))
		if r.Skipped > 0 {
			parts = append(parts, skippedCount(r)+" skipped")
		}
		fmt.Fprintf(&b, "%s Run apply again to continue.\n", paint(head+": "+strings.Join(parts, ", ")+".", Bold, Yellow))
	default:
		line := fmt.Sprintf("Apply complete: %d sent, %d failed, %d expired, %d unknown", s.Sent, s.Failed, s.Expired, s.Unknown)
		if s.Waiting > 0 {
			line += fmt.Sprintf(", %d waiting", s.Waiting)
		}
		if r.Skipped > 0 {
			line += ", " + skippedCount(r) + " skipped"
		}
		line += "."
		st := []Style{Bold, Green}
		if s.Failed+s.Unknown > 0 {
			st = []Style{Bold, Red}
		}
		b.WriteString(paint(line, st...) + "\n")
	}
	if len(s.Failures) > 0 {
		fmt.Fprintf(&b, "\n%s\n", paint("Failed:", Bold, Red))
		for _, f := range s.Failures {
			fmt.Fprintf(&b, "  %s: %s\n", f.Addr, printable(f.Reason))
		}
		b.WriteString("  A failed message is retried by the next apply while it has not expired.\n")
	}
	if len(s.Unknowns) > 0 {
		fmt.Fprintf(&b, "\n%s\n", paint("Unknown (may or may not have been delivered):", Bold, Yellow))
		for _, f := range s.Unknowns {
			fmt.Fprintf(&b, "  %s: %s\n", f.Addr, printable(f.Reason))
		}
		b.WriteString("  The next apply looks for them in their threads. To send one again regardless:\n")
		for _, f := range s.Unknowns {
			fmt.Fprintf(&b, "    herald apply -replace=%s\n", shellQuote(f.Addr.String()))
		}
	}
	if len(s.Waits) > 0 {
		fmt.Fprintf(&b, "\n%s\n", paint("Waiting (a message of their thread became unknown):", Bold, Yellow))
		for _, f := range s.Waits {
			fmt.Fprintf(&b, "  %s: %s\n", f.Addr, printable(f.Reason))
		}
		b.WriteString("  A thread sends nothing more until its unknowns settle, so that the look-up can find them; the apply after their unknown_settle sends these.\n")
	}
	return b.String()
}
