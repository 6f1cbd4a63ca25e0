package views

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/a1base"
)

// SandboxInfo is what "herald sandbox" tells the user once it listens:
// where, the credentials it accepts, and how it misbehaves.
type SandboxInfo struct {
	// URL is the server's base, without the /v1 of the API.
	URL                        string
	APIKey, APISecret, Account string
	ErrorRate                  float64
	ErrorStatus                int
	RateLimitRate              float64
	RetryAfter                 string
	LoseRate                   float64
	LoseMode                   string
	Latency                    time.Duration
	Seed                       uint64
}

// Sandbox is the view of "herald sandbox": a banner with the exports that
// point herald at it, a line per message received, and a count at the end.
// Its methods may be called from the server's goroutines.
type Sandbox struct {
	view *View
	mu   sync.Mutex
}

// NewSandbox returns the view of the sandbox command.
func NewSandbox(v *View) *Sandbox { return &Sandbox{view: v} }

func (s *Sandbox) write(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	io.WriteString(s.view.Stdout, text)
}

// Listening prints the banner.
func (s *Sandbox) Listening(info SandboxInfo) { s.write(sandboxBanner(info, s.view)) }

// Received prints a message the sandbox received; answerLost says that
// its answer was lost on purpose.
func (s *Sandbox) Received(req a1base.SendRequest, answerLost bool) {
	line := SandboxLine(req, s.view.StdoutColor)
	if answerLost {
		line += " (answer lost on purpose)"
	}
	s.write(line + "\n")
}

// Notification prints a notification the sandbox received on
// /notify/NAME; signature says what became of its signature (checked
// against -notify-secret, or not).
func (s *Sandbox) Notification(c CapturedNotification, signature string) {
	line := NotificationLine(c, s.view.StdoutColor)
	if signature != "" {
		line += " (" + signature + ")"
	}
	s.write(line + "\n")
}

// Stopped prints how many messages the sandbox received.
func (s *Sandbox) Stopped(messages int) {
	s.write(fmt.Sprintf("\nSandbox stopped after %s.\n", countOf(messages, "message", "messages")))
}

func sandboxBanner(info SandboxInfo, v *View) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s listening on %s/v1\n\n", v.Out("A1Base sandbox", Bold, Cyan), info.URL)
	b.WriteString("Point herald at it (in another terminal):\n\n")
	fmt.Fprintf(&b, "  export A1BASE_BASE_URL=%s/v1\n", info.URL)
	fmt.Fprintf(&b, "  export A1BASE_API_KEY=%s\n", shellWord(info.APIKey))
	fmt.Fprintf(&b, "  export A1BASE_API_SECRET=%s\n", shellWord(info.APISecret))
	fmt.Fprintf(&b, "  export A1BASE_ACCOUNT_ID=%s   # unless the provider block sets account_id\n", shellWord(info.Account))
	b.WriteString("  herald apply\n")
	fmt.Fprintf(&b, "\nNotifications: give a notify block's webhook or slack url as %s/notify/NAME\n(a sensitive variable set to it); what it receives is printed here.\n", info.URL)
	var faults []string
	if info.ErrorRate > 0 {
		faults = append(faults, fmt.Sprintf("%g of sends fail with %d", info.ErrorRate, info.ErrorStatus))
	}
	if info.RateLimitRate > 0 {
		faults = append(faults, fmt.Sprintf("%g answered 429 (Retry-After %q)", info.RateLimitRate, info.RetryAfter))
	}
	if info.LoseRate > 0 {
		faults = append(faults, fmt.Sprintf("%g delivered with the answer lost (%s)", info.LoseRate, info.LoseMode))
	}
	if info.Latency > 0 {
		faults = append(faults, fmt.Sprintf("every answer %s late", info.Latency))
	}
	if len(faults) > 0 {
		fmt.Fprintf(&b, "\nFaults (seed %d): %s.\n", info.Seed, strings.Join(faults, "; "))
	}
	b.WriteString("\nMessages it receives are printed below. Press Ctrl-C to stop.\n\n")
	return b.String()
}

// shellWord quotes a value for the export lines when a shell would split
// or expand it.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:+=@,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
