package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// OutboxLimit is how many pending notifications an outbox keeps per
// destination by default: with a receiver down for long, the oldest are
// dropped, and counted, rather than the outbox growing without end.
const OutboxLimit = 1000

// OutboxKept is how many finished (delivered or dropped) notifications an
// outbox remembers per destination, so that an event recorded again (a
// drift still there at the next pass, a pass recorded twice) is not
// notified twice.
const OutboxKept = 1000

// Notification is one event waiting to be told to one destination (a
// notify block), or told already.
type Notification struct {
	// Destination is the notify block's name.
	Destination string `json:"destination"`
	// ID is the event's id, the same for every destination and for every
	// recording of the same event (see EventID): receivers de-duplicate
	// by it.
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Recorded is when the event was recorded; the oldest are dropped
	// first.
	Recorded time.Time `json:"recorded"`
	// Payload is the event as JSON, as the receiver gets it (a webhook)
	// or as a text is made from it (Slack, a group). It holds no secret
	// and no message text.
	Payload string `json:"payload"`
	// Attempts counts the deliveries tried and failed; NextAttempt is
	// when the next one is due.
	Attempts    int       `json:"attempts,omitempty"`
	NextAttempt time.Time `json:"next_attempt"`
	LastError   string    `json:"last_error,omitempty"`
	// Done is when it was delivered or dropped; nil while pending.
	Done *time.Time `json:"done,omitempty"`
	// Dropped: the outbox dropped it unsent, to stay within its limit.
	Dropped bool `json:"dropped,omitempty"`
}

// Check says what makes n unfit to be stored.
func (n Notification) Check() error {
	switch {
	case n.Destination == "":
		return fmt.Errorf("notification %q has no destination", n.ID)
	case n.ID == "":
		return fmt.Errorf("notification to %s has no event id", n.Destination)
	case n.Kind == "":
		return fmt.Errorf("notification %s to %s has no kind", n.ID, n.Destination)
	case n.Recorded.IsZero():
		return fmt.Errorf("notification %s to %s has no recorded time", n.ID, n.Destination)
	}
	return nil
}

// EventID is the stable id of an event: a digest of its kind and of the
// parts that tell it from every other event of that kind (an address and
// an attempt number, a state lineage and serial). Recording the same
// event again gives the same id.
func EventID(kind string, parts ...string) string {
	h := sha256.New()
	h.Write([]byte("herald-event\x00" + kind))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return "evt_" + hex.EncodeToString(h.Sum(nil))[:32]
}

// Outbox keeps notifications until they are delivered, beside the state:
// every backend has one. It is written after the state is saved and read
// by deliverers (apply's, at its end, and run's, in the background)
// without the state lock: each write is durable when it returns.
type Outbox interface {
	// Enqueue stores the notifications the outbox does not hold yet
	// (by destination and id, pending or finished). When a destination
	// then has more than limit pending, its oldest are dropped: marked
	// done and Dropped, and counted. It returns how many were added and
	// how many dropped.
	Enqueue(ctx context.Context, ns []Notification, limit int) (added, dropped int, err error)
	// Pending returns up to max pending notifications whose NextAttempt
	// is at or before now, oldest first.
	Pending(ctx context.Context, now time.Time, max int) ([]Notification, error)
	// Delivered marks a pending notification delivered at at.
	Delivered(ctx context.Context, destination, id string, at time.Time) error
	// Postpone records a failed delivery: one attempt more, the next due
	// at next, and why it failed.
	Postpone(ctx context.Context, destination, id string, next time.Time, reason string) error
	// DroppedCounts is how many notifications the outbox dropped unsent,
	// per destination, ever.
	DroppedCounts(ctx context.Context) (map[string]int, error)
}

// OutboxOf is the outbox beside the state in b, nil when b keeps none.
func OutboxOf(b Backend) Outbox {
	o, _ := b.(Outbox)
	return o
}

// errNoNotification is returned for a destination and id not pending.
var errNoNotification = errors.New("no such pending notification")

// IsNoNotification reports whether err says the notification marked was
// not pending (delivered meanwhile by another deliverer, or dropped).
func IsNoNotification(err error) bool { return errors.Is(err, errNoNotification) }

// NoNotification is the error for a notification that is not pending.
func NoNotification(destination, id string) error {
	return fmt.Errorf("notification %s to %s: %w", id, destination, errNoNotification)
}

// sortNotifications orders notifications oldest first: by recorded time,
// then by destination and id, so that every backend agrees.
func sortNotifications(ns []Notification) {
	sort.SliceStable(ns, func(i, j int) bool {
		a, b := ns[i], ns[j]
		if !a.Recorded.Equal(b.Recorded) {
			return a.Recorded.Before(b.Recorded)
		}
		if a.Destination != b.Destination {
			return a.Destination < b.Destination
		}
		return strings.Compare(a.ID, b.ID) < 0
	})
}
