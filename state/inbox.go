package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"
)

// InboxRetention is how long an inbox keeps a message after it was
// received, and a listening span after it ended. An unknown message older
// than that is settled by look-ups alone.
const InboxRetention = 14 * 24 * time.Hour

// InboxMessage is one message that A1Base's webhook reported in a thread
// of an account. Only what settles an unknown is kept: for a message the
// account sent (FromAgent), its sender and digests of its text and media
// URL; for a member's message, nothing of who wrote it or what it says.
type InboxMessage struct {
	Account string `json:"account"`
	ID      string `json:"message_id"`
	Thread  string `json:"thread_id"`
	// Created is when A1Base says the message was created; Received when
	// herald stored it.
	Created  time.Time `json:"created"`
	Received time.Time `json:"received"`
	// FromAgent: the account sent it (through the API or otherwise).
	FromAgent bool   `json:"from_agent"`
	Sender    string `json:"sender,omitempty"`
	// TextDigest and MediaDigest are ContentDigest of the text and of the
	// media URL; "" when the message has none.
	TextDigest  string `json:"text_sha256,omitempty"`
	MediaDigest string `json:"media_sha256,omitempty"`
}

// Check says what makes m unfit to be stored: an inbox keys a message by
// its account and id, and drops it by its received time.
func (m InboxMessage) Check() error {
	switch {
	case m.Account == "":
		return fmt.Errorf("inbox message %q has no account", m.ID)
	case m.ID == "":
		return fmt.Errorf("inbox message of account %q has no message id", m.Account)
	case m.Received.IsZero():
		return fmt.Errorf("inbox message %s of account %s has no received time", m.ID, m.Account)
	}
	return nil
}

// ContentDigest is the digest an inbox keeps of a text or URL instead of
// the thing itself: neither a message's words nor a signed media URL is
// stored, and a message is still recognised by them. "" for "".
func ContentDigest(s string) string {
	if s == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// ListenSpan is a time during which a webhook receiver was up and storing
// what it received: from Since (when it started) to Until (its last
// heartbeat). Receiver names one start of one process.
//
// A Gap span is the opposite: a time during which a receiver failed to
// store what it was sent. It breaks every other receiver's span too: with
// several receivers behind one address, an event refused by one is
// missing although the others listened.
type ListenSpan struct {
	Receiver string    `json:"receiver"`
	Since    time.Time `json:"since"`
	Until    time.Time `json:"until"`
	Gap      bool      `json:"gap,omitempty"`
}

// Check says what makes s unfit to be stored: it must name its receiver
// and not end before it starts.
func (s ListenSpan) Check() error {
	switch {
	case s.Receiver == "":
		return errors.New("listening span has no receiver")
	case s.Since.IsZero() || s.Until.IsZero():
		return fmt.Errorf("listening span of receiver %s has no start or no end", s.Receiver)
	case s.Until.Before(s.Since):
		return fmt.Errorf("listening span of receiver %s ends (%s) before it starts (%s)",
			s.Receiver, s.Until.Format(time.RFC3339Nano), s.Since.Format(time.RFC3339Nano))
	}
	return nil
}

// InboxRead is what an inbox holds for one thread.
type InboxRead struct {
	// Messages are the thread's messages created at or after the time
	// asked for, oldest first.
	Messages []InboxMessage
	// Spans are the listening spans that end at or after that time,
	// earliest first.
	Spans []ListenSpan
}

// Listened says whether the inbox was listening throughout [from, to]:
// the union of its spans holds the interval without a hole, and no Gap
// span overlaps it.
func (r InboxRead) Listened(from, to time.Time) bool {
	var spans []ListenSpan
	for _, s := range r.Spans {
		if !s.Gap {
			spans = append(spans, s)
		} else if s.Until.After(from) && !s.Since.After(to) {
			// A gap ends where the next span begins: an interval that
			// starts there is whole.
			return false
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].Since.Before(spans[j].Since) })
	reached := from
	for _, s := range spans {
		if s.Since.After(reached) {
			break
		}
		if s.Until.After(reached) {
			reached = s.Until
		}
		if !reached.Before(to) {
			return true
		}
	}
	return !reached.Before(to)
}

// Has says whether the inbox holds the message with this id.
func (r InboxRead) Has(id string) bool {
	for _, m := range r.Messages {
		if m.ID == id {
			return true
		}
	}
	return false
}

// Inbox keeps the messages A1Base's webhook reports, beside the state:
// every backend has one. It is written by herald run's webhook receiver
// and read by look-ups (apply's and run's), without the state lock: each
// write is durable when it returns, and idempotent.
type Inbox interface {
	// Receive stores m unless the inbox holds a message with its account
	// and id already; stored says whether it was new. Messages received
	// more than InboxRetention ago may be dropped meanwhile.
	Receive(ctx context.Context, m InboxMessage) (stored bool, err error)
	// Listening records that the receiver span.Receiver has been up from
	// span.Since to span.Until, replacing what an earlier call said of
	// the same receiver.
	Listening(ctx context.Context, span ListenSpan) error
	// ReadInbox reads the messages of one thread of one account created
	// at or after since, and the spans that end at or after it.
	ReadInbox(ctx context.Context, account, thread string, since time.Time) (InboxRead, error)
}
