package views

import (
	"fmt"
	"io"
	"strings"
)

// NotifyReport is what became of a run's notifications: recorded in the
// outbox after the state was saved, then delivered (or not yet).
type NotifyReport struct {
	// Recorded counts the notifications the pass added to the outbox;
	// Dropped those the outbox dropped unsent to stay within its limit,
	// and DroppedTotal, per destination, all it ever dropped.
	Recorded     int
	Dropped      int
	DroppedTotal map[string]int
	RecordErr    error
	// Delivered and Failed count the deliveries of this run; Pending is
	// what waits for the next apply or run.
	Delivered, Failed, Pending int
	Errors                     []error
	// DeliverErr is a failure to read or mark the outbox.
	DeliverErr error
	// Captured: the sandbox took the notifications instead of sending
	// them, into CaptureFile.
	Captured    bool
	CaptureFile string
}

// CapturedNotification is a notification the sandbox kept instead of
// sending.
type CapturedNotification struct {
	Notify string `json:"notify"`
	// Kind of destination: webhook, slack or group.
	Destination string `json:"destination"`
	Event       string `json:"event"`
	ID          string `json:"id"`
	// Body is the request body a webhook or Slack would get, or the text a
	// group would.
	Body string `json:"body"`
}

type notifyEvent struct {
	Recorded  int      `json:"recorded"`
	Dropped   int      `json:"dropped"`
	Delivered int      `json:"delivered"`
	Failed    int      `json:"failed"`
	Pending   int      `json:"pending"`
	Errors    []string `json:"errors,omitempty"`
	Captured  bool     `json:"captured,omitempty"`
}

// Notifications reports what became of the run's notifications; nothing
// when there were none.
func (a *applyView) Notifications(r NotifyReport) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []string
	for _, err := range append([]error{r.RecordErr, r.DeliverErr}, r.Errors...) {
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	if r.Recorded+r.Dropped+r.Delivered+r.Failed+r.Pending == 0 && len(errs) == 0 {
		return
	}
	if a.format == ApplyJSONFormat {
		a.emit(event{Type: "notifications", Notify: &notifyEvent{Recorded: r.Recorded, Dropped: r.Dropped,
			Delivered: r.Delivered, Failed: r.Failed, Pending: r.Pending, Errors: errs, Captured: r.Captured}})
		return
	}
	io.WriteString(a.view.Stdout, RenderNotifyReport(r, a.view.StdoutColor))
}

// NotificationCaptured shows a notification the sandbox kept instead of
// sending it.
func (a *applyView) NotificationCaptured(c CapturedNotification) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.format == ApplyJSONFormat {
		a.emit(event{Type: "notification_captured", Captured: &c})
		return
	}
	a.line(NotificationLine(c, a.view.StdoutColor))
}

// NotificationLine is how a captured notification is shown:
//
//	sandbox notify ops-slack (slack) ← expired evt_…: {"text":"…"}
func NotificationLine(c CapturedNotification, color bool) string {
	return fmt.Sprintf("%s %s (%s) ← %s %s: %s", Paint(color, "sandbox notify", Cyan), c.Notify, c.Destination, c.Event, c.ID, strings.TrimSpace(c.Body))
}

// RenderNotifyReport is the lines an apply closes with about its
// notifications:
//
//	Notifications: 2 recorded, 1 delivered, 1 waiting for the next apply or run.
//	Warning: notify "ops": answered 503 Service Unavailable
func RenderNotifyReport(r NotifyReport, color bool) string {
	var b strings.Builder
	parts := []string{fmt.Sprintf("%d recorded", r.Recorded)}
	verb := "delivered"
	if r.Captured {
		verb = "captured by the sandbox"
	}
	parts = append(parts, fmt.Sprintf("%d %s", r.Delivered, verb))
	if r.Pending > 0 {
		parts = append(parts, fmt.Sprintf("%d waiting for the next apply or run", r.Pending))
	}
	fmt.Fprintf(&b, "%s %s.\n", Paint(color, "Notifications:", Bold), strings.Join(parts, ", "))
	if r.CaptureFile != "" {
		fmt.Fprintf(&b, "Captured notifications are kept in %s.\n", r.CaptureFile)
	}
	warn := Paint(color, "Warning:", Bold, Yellow)
	if r.Dropped > 0 {
		var totals []string
		for _, d := range sortedNames(r.DroppedTotal) {
			totals = append(totals, fmt.Sprintf("%s %d", d, r.DroppedTotal[d]))
		}
		fmt.Fprintf(&b, "%s the outbox was full: %d of the oldest pending notifications were dropped unsent (dropped so far: %s).\n", warn, r.Dropped, strings.Join(totals, ", "))
	}
	for _, err := range append([]error{r.RecordErr, r.DeliverErr}, r.Errors...) {
		if err != nil {
			fmt.Fprintf(&b, "%s %s\n", warn, err)
		}
	}
	return b.String()
}

func sortedNames(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Notifications logs what became of a pass's notifications, or of one
// round of run's deliverer; nothing when there was nothing.
func (r *runView) Notifications(rep NotifyReport) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []string
	for _, err := range append([]error{rep.RecordErr, rep.DeliverErr}, rep.Errors...) {
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	if rep.Recorded+rep.Dropped+rep.Delivered+rep.Failed == 0 && len(errs) == 0 {
		return
	}
	e := runEvent{event: event{Type: "notifications", Notify: &notifyEvent{Recorded: rep.Recorded, Dropped: rep.Dropped,
		Delivered: rep.Delivered, Failed: rep.Failed, Pending: rep.Pending, Errors: errs, Captured: rep.Captured}}}
	var parts []string
	if rep.Recorded > 0 {
		parts = append(parts, fmt.Sprintf("%d recorded", rep.Recorded))
	}
	if rep.Delivered > 0 {
		parts = append(parts, fmt.Sprintf("%d delivered", rep.Delivered))
	}
	if rep.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed, to be retried", rep.Failed))
	}
	if len(parts) > 0 {
		r.log(e, "notifications: "+strings.Join(parts, ", "))
	}
	if rep.Dropped > 0 {
		r.log(runEvent{event: event{Type: "notifications_dropped"}}, fmt.Sprintf("notifications: the outbox was full: %d of the oldest pending notifications were dropped unsent", rep.Dropped), Yellow)
	}
	for _, msg := range errs {
		r.log(runEvent{event: event{Type: "notification_error", Error: msg}}, "notifications: "+msg, Yellow)
	}
}

// NotificationCaptured logs a notification the sandbox kept instead of
// sending.
func (r *runView) NotificationCaptured(c CapturedNotification) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log(runEvent{event: event{Type: "notification_captured", Captured: &c}}, NotificationLine(c, false))
}
