package notify

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// Event kinds, as notify blocks name them.
const (
	Failed       = "failed"
	Unknown      = "unknown"
	NotDelivered = "not_delivered"
	Expired      = "expired"
	Drift        = "drift"
	Skipped      = "skipped"
	Takeover     = "takeover"
	ApplySummary = "apply_summary"
)

// Lookback is how far back a pass looks for records whose status is worth
// a notification: a pass killed after saving its state and before
// recording its events leaves them for the next pass to record, with the
// same ids. Events the outbox already holds are not recorded twice.
const Lookback = 24 * time.Hour

// Event is one thing to tell: what the webhook receives as JSON, and what
// a Slack or group text is made from. It holds no message text, no media
// URL and no secret.
type Event struct {
	// ID is stable: the same event recorded again has the same id.
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Notify names the notify block it is for; set per destination.
	Notify string `json:"notify,omitempty"`
	// At is when it happened (herald's clock).
	At time.Time `json:"at"`
	// Summary says it in one line.
	Summary string `json:"summary"`
	// Addresses are the message instances (or repeat messages) it is
	// about.
	Addresses []string  `json:"addresses,omitempty"`
	Messages  []Message `json:"messages,omitempty"`
	// Counts are an apply_summary's counts, or a skipped event's.
	Counts map[string]int `json:"counts,omitempty"`
	// State identifies the state the event was recorded in.
	State *StateRef `json:"state,omitempty"`
	// Replica is a takeover's new active replica.
	Replica string `json:"replica,omitempty"`
}

// Message is what an event says of one message instance.
type Message struct {
	Address  string     `json:"address"`
	Group    string     `json:"group,omitempty"`
	SendAt   *time.Time `json:"send_at,omitempty"`
	Status   string     `json:"status,omitempty"`
	Attempts int        `json:"attempts,omitempty"`
	// Error is why it failed, as recorded in state; left out of a
	// sensitive message.
	Error string `json:"error,omitempty"`
	// First and Last are a skipped event's earliest and latest missed
	// occurrences.
	First *time.Time `json:"first,omitempty"`
	Last  *time.Time `json:"last,omitempty"`
}

// StateRef names a state: its lineage and serial.
type StateRef struct {
	Lineage string `json:"lineage"`
	Serial  uint64 `json:"serial"`
}

// Pass is what one pass did, as events are made from it.
type Pass struct {
	// Plan is the plan carried out (drift, skipped); nil when the pass
	// stopped before planning.
	Plan *planner.Plan
	// State is the state saved at the end of the pass.
	State *state.Snapshot
	// Executed: the executor ran; Summary is then what it did.
	Executed bool
	Summary  map[string]int
	// Now is the pass's clock at its end.
	Now time.Time
}

// PassEvents makes the events of one pass: for every record updated within
// Lookback of now whose status is failed, unknown, not_delivered or
// expired, one event keyed by its address and attempt count; one drift
// event per drifted instance, keyed by what drifted; one skipped event per
// repeat message with missed occurrences, keyed by the latest; and an
// apply_summary when the executor ran, keyed by the state saved.
func PassEvents(p Pass) []Event {
	var out []Event
	sensitive := map[string]bool{}
	if p.Plan != nil {
		for _, c := range p.Plan.Changes {
			if c.Instance != nil && c.Instance.Sensitive {
				sensitive[c.Addr.String()] = true
			}
		}
	}
	if p.State != nil {
		since := p.Now.Add(-Lookback)
		addrs := make([]string, 0, len(p.State.Records))
		for a := range p.State.Records {
			addrs = append(addrs, a)
		}
		sort.Strings(addrs)
		for _, a := range addrs {
			r := p.State.Records[a]
			kind := recordKind(r.Status)
			if kind == "" || r.UpdatedAt.Before(since) {
				continue
			}
			m := messageOf(r)
			if sensitive[a] {
				m.Error = ""
			}
			n := strconv.Itoa(len(r.Attempts))
			out = append(out, Event{
				ID: state.EventID(kind, a, n), Kind: kind, At: r.UpdatedAt.UTC(),
				Summary:   recordSummary(kind, m),
				Addresses: []string{a}, Messages: []Message{m},
			})
		}
	}
	if p.Plan != nil {
		for _, c := range p.Plan.Changes {
			if c.Action != planner.Drift || c.Instance == nil {
				continue
			}
			a := c.Addr.String()
			parts := []string{a, c.Instance.Group.Name, c.Instance.SendAt.UTC().Format(time.RFC3339)}
			if !c.Instance.Sensitive {
				parts = append(parts, c.Instance.ContentHash())
			}
			if c.Record != nil {
				parts = append(parts, c.Record.ContentHash)
			}
			at := c.Instance.SendAt.UTC()
			out = append(out, Event{
				ID: state.EventID(Drift, parts...), Kind: Drift, At: p.Plan.At.UTC(),
				Summary:   fmt.Sprintf("%s changed after it was sent (%s); herald does not send it again unless it is replaced", a, c.Reason),
				Addresses: []string{a},
				Messages:  []Message{{Address: a, Group: c.Instance.Group.Name, SendAt: &at, Status: "drift"}},
			})
		}
		for _, s := range p.Plan.Skipped {
			a := s.Addr.String()
			first, last := s.First.UTC(), s.Last.UTC()
			count := fmt.Sprint(s.Count)
			if s.AtLeast() {
				count = "at least " + count
			}
			out = append(out, Event{
				ID: state.EventID(Skipped, a, last.Format(time.RFC3339)), Kind: Skipped, At: p.Plan.At.UTC(),
				Summary:   fmt.Sprintf("%s missed %s occurrence(s), from %s to %s; they are not sent", a, count, first.Format(time.RFC3339), last.Format(time.RFC3339)),
				Addresses: []string{a},
				Messages:  []Message{{Address: a, First: &first, Last: &last}},
				Counts:    map[string]int{"skipped": s.Count},
			})
		}
	}
	if p.Executed && p.State != nil {
		ref := &StateRef{Lineage: p.State.Lineage, Serial: p.State.Serial}
		var parts []string
		for _, k := range summaryKeys {
			parts = append(parts, fmt.Sprintf("%d %s", p.Summary[k], k))
		}
		out = append(out, Event{
			ID: state.EventID(ApplySummary, ref.Lineage, strconv.FormatUint(ref.Serial, 10)), Kind: ApplySummary, At: p.Now.UTC(),
			Summary: "herald apply: " + strings.Join(parts, ", "),
			Counts:  p.Summary, State: ref,
		})
	}
	return out
}

// summaryKeys are an apply_summary's counts, in the order shown.
var summaryKeys = []string{"sent", "failed", "unknown", "expired", "not_started"}

// SummaryCounts are an apply_summary's counts from the executor's numbers.
func SummaryCounts(sent, failed, unknown, expired, notStarted int) map[string]int {
	return map[string]int{"sent": sent, "failed": failed, "unknown": unknown, "expired": expired, "not_started": notStarted}
}

// TakeoverEvent is the event of a replica becoming the active one.
func TakeoverEvent(replica string, at time.Time) Event {
	return Event{
		ID: state.EventID(Takeover, replica, at.UTC().Format(time.RFC3339Nano)), Kind: Takeover, At: at.UTC(),
		Summary: fmt.Sprintf("herald run replica %s took over as the active replica", replica),
		Replica: replica,
	}
}

func recordKind(s state.Status) string {
	switch s {
	case state.StatusFailed:
		return Failed
	case state.StatusUnknown, state.StatusSending:
		return Unknown
	case state.StatusNotDelivered:
		return NotDelivered
	case state.StatusExpired:
		return Expired
	}
	return ""
}

func messageOf(r *state.Record) Message {
	at := r.SendAt.UTC()
	return Message{Address: r.Address, Group: r.Group, SendAt: &at, Status: string(recordKindOrStatus(r.Status)),
		Attempts: len(r.Attempts), Error: r.LastError}
}

func recordKindOrStatus(s state.Status) string {
	if k := recordKind(s); k != "" {
		return k
	}
	return string(s)
}

func recordSummary(kind string, m Message) string {
	switch kind {
	case Failed:
		s := fmt.Sprintf("%s to group %s failed after %d attempt(s)", m.Address, m.Group, m.Attempts)
		if m.Error != "" {
			s += ": " + m.Error
		}
		return s
	case Unknown:
		return fmt.Sprintf("%s to group %s may or may not have been delivered; herald does not send it again by itself", m.Address, m.Group)
	case NotDelivered:
		return fmt.Sprintf("%s to group %s was proven not delivered by a look-up of its thread", m.Address, m.Group)
	case Expired:
		return fmt.Sprintf("%s to group %s expired unsent (due %s)", m.Address, m.Group, m.SendAt.Format(time.RFC3339))
	}
	return m.Address + " " + kind
}

// Notifications turns events into one notification per notify block that
// wants each, recorded at now and due at once.
func Notifications(blocks []*spec.Notify, events []Event, now time.Time) []state.Notification {
	var out []state.Notification
	for _, e := range events {
		for _, b := range blocks {
			if !b.Wants(e.Kind) {
				continue
			}
			e := e
			e.Notify = b.Name
			payload, err := json.Marshal(e)
			if err != nil {
				continue
			}
			out = append(out, state.Notification{
				Destination: b.Name, ID: e.ID, Kind: e.Kind,
				Recorded: now.UTC(), NextAttempt: now.UTC(), Payload: string(payload),
			})
		}
	}
	return out
}
