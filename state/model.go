package state

import (
	"context"
	"time"
)

// Status is where a message instance stands in state.
type Status string

const (
	// StatusSending: an attempt is recorded and its outcome is not (yet).
	// Read back from a previous run, it means unknown.
	StatusSending Status = "sending"
	StatusSent    Status = "sent"
	StatusFailed  Status = "failed"
	StatusExpired Status = "expired"
	StatusUnknown Status = "unknown"
	// StatusNotDelivered: the last attempt was unknown, and a settled
	// look-up of its thread proved it was not delivered (the attempt's
	// LookUp is the evidence). Nothing of the message reached the group;
	// whether it is sent again is the on_unknown policy's call.
	StatusNotDelivered Status = "not_delivered"
)

// OutcomeAbsent is the outcome of an attempt that a settled look-up proved
// was not delivered.
const OutcomeAbsent = "absent"

// Message is what a record and an event both say about a message
// instance: its address, where it goes, its content's hash and when it is
// due. Embedded, its fields encode in place, in this order, in both.
type Message struct {
	Address     string    `json:"address"`
	Group       string    `json:"group"`
	ThreadID    string    `json:"thread_id"`
	Service     string    `json:"service"`
	From        string    `json:"from"`
	ContentHash string    `json:"content_hash"`
	SendAt      time.Time `json:"send_at"`
}

// Record is what state keeps about one message instance.
type Record struct {
	Message
	Status Status `json:"status"`
	// Imported is set on a record an import made: herald recorded the
	// message as sent without sending it (ImportedFound, ImportedForced).
	Imported Imported  `json:"imported,omitempty"`
	Attempts []Attempt `json:"attempts,omitempty"`
	// Answer is the API's answer to the delivered send. Its body is left
	// out when the message is sensitive.
	Answer    *Answer   `json:"answer,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Attempt is one request made (or about to be made) for an instance.
type Attempt struct {
	Number     int        `json:"number"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// Outcome is delivered, transient, permanent or ambiguous; empty while
	// the request is in flight (or when the process died during it).
	Outcome string `json:"outcome,omitempty"`
	Error   string `json:"error,omitempty"`
	// LockGeneration is the generation of the state lock the attempt was
	// journaled under, on a state whose lock has generations (PostgreSQL;
	// zero elsewhere). An attempt from an earlier generation than the
	// lock's current one was left by a holder that may have lost the lock
	// without knowing: see executor.Reconcile.
	LockGeneration int64 `json:"lock_generation,omitempty"`
	// LookUp is the latest look-up of the attempt's thread made to settle
	// an unknown outcome: the evidence of absent (or of delivered, when it
	// found the message), or why it could not settle yet.
	LookUp *LookUp `json:"look_up,omitempty"`
}

// LookUp is what one read of a thread's recent messages showed about an
// attempt whose outcome was unknown.
type LookUp struct {
	// At is when the thread was read (herald's clock).
	At time.Time `json:"at"`
	// Messages is how many messages the read returned; Oldest and Newest
	// the span of their date_created (absent when none had one).
	Messages int        `json:"messages"`
	Oldest   *time.Time `json:"oldest,omitempty"`
	Newest   *time.Time `json:"newest,omitempty"`
	// Inbox is how many messages the account sent to the thread since the
	// attempt's window opened that the webhook's inbox holds besides
	// (see Inbox); 0 when there is no inbox or none.
	Inbox int `json:"inbox_messages,omitempty"`
	// Covered says why the messages read cover the attempt's window, so
	// that a delivery would be among them; empty when they do not.
	Covered string `json:"covered,omitempty"`
	// Unsettled says why the read settled nothing; empty when it did.
	Unsettled string `json:"unsettled,omitempty"`
}

func (l *LookUp) clone() *LookUp {
	if l == nil {
		return nil
	}
	c := *l
	if l.Oldest != nil {
		t := *l.Oldest
		c.Oldest = &t
	}
	if l.Newest != nil {
		t := *l.Newest
		c.Newest = &t
	}
	return &c
}

// Imported tells how an imported record knows its message was sent.
type Imported string

const (
	// ImportedFound: the thread's recent messages held the message; the
	// record's answer is that thread message.
	ImportedFound Imported = "found"
	// ImportedForced: nothing in the thread matched and the import was
	// forced: sent, imported without evidence.
	ImportedForced Imported = "forced"
)

// Answer is A1Base's answer to a delivered group send, or for an imported
// record the thread message found for it.
type Answer struct {
	ChatGroupID string `json:"chat_group_id,omitempty"`
	// MessageID is the message's id: from the send's answer (messageId)
	// when A1Base gives one, or the thread message's id that a look-up or
	// an import found. Look-ups and imports never take a thread message
	// with this id for another record's delivery.
	MessageID   string `json:"message_id,omitempty"`
	From        string `json:"from,omitempty"`
	Body        string `json:"body,omitempty"`
	Status      string `json:"status,omitempty"`
	DateCreated string `json:"date_created,omitempty"`
}

// Snapshot is the whole state at one moment.
type Snapshot struct {
	Lineage string
	Serial  uint64
	Records map[string]*Record // by address string
}

// EventKind tells an attempt from an outcome.
type EventKind string

const (
	// EventAttempt is recorded, durably, before a request leaves.
	EventAttempt EventKind = "attempt"
	// EventOutcome is recorded after the answer (or its absence) is known,
	// and for instances apply marks expired without sending.
	EventOutcome EventKind = "outcome"
	// EventMove carries the record under MovedFrom over to Address, as a
	// moved block says, so that state keeps it under the new address even
	// after the moved block is deleted.
	EventMove EventKind = "move"
	// EventImport records a message as sent without sending it, with the
	// thread message found for it (Answer) or none (forced). It never
	// changes a record that exists: an import is for what state does not
	// know.
	EventImport EventKind = "import"
	// EventLookUp notes a look-up of an unknown attempt that settled
	// nothing (too early, or the thread too busy): it sets the attempt's
	// LookUp and changes nothing else, so the record stays unknown.
	EventLookUp EventKind = "look_up"
)

// Event is one journal entry. The record fields (Group ... SendAt) describe
// the instance as configured when the event happened, so that an instance
// seen for the first time gets a complete record.
type Event struct {
	Kind EventKind `json:"kind"`
	Message
	Attempt int       `json:"attempt"`
	At      time.Time `json:"at"`
	// Status is the instance's status after the event: sending for an
	// attempt; sent, failed, unknown, not_delivered or expired for an
	// outcome.
	Status  Status  `json:"status"`
	Outcome string  `json:"outcome,omitempty"`
	Answer  *Answer `json:"answer,omitempty"`
	Error   string  `json:"error,omitempty"`
	// MovedFrom is the record's old address, for EventMove.
	MovedFrom string `json:"moved_from,omitempty"`
	// Imported is how an EventImport knows the message was sent.
	Imported Imported `json:"imported,omitempty"`
	// LookUp is the look-up that settled an unknown attempt (an outcome
	// of sent or not_delivered), or that settled nothing (EventLookUp).
	LookUp *LookUp `json:"look_up,omitempty"`
	// LockGeneration is, for EventAttempt, the generation of the state
	// lock it is journaled under; the backend that fences its writes by
	// generation sets it (see Attempt.LockGeneration).
	LockGeneration int64 `json:"lock_generation,omitempty"`
}

// Recorder is how the executor writes state. Record returns only once the
// event is durable; it is safe for concurrent use, and concurrent callers
// may share one sync (group commit).
type Recorder interface {
	Record(ctx context.Context, e Event) error
}

// Backend is a place state lives: the local file, or PostgreSQL.
type Backend interface {
	Recorder
	// Lock takes the exclusive writer lock, waiting up to timeout. An error
	// names the lock and, where known, who holds it.
	Lock(ctx context.Context, timeout time.Duration) error
	// Unlock releases the lock taken by Lock.
	Unlock() error
	// Snapshot reads the current state, including events recorded by a
	// run that did not finish. It needs no lock.
	Snapshot(ctx context.Context) (*Snapshot, error)
	// Persist folds the recorded events into the stored state (serial
	// incremented when anything changed).
	Persist(ctx context.Context) error
	// Replace stores snap as the whole new state (state rm, state push).
	// Requires the lock.
	Replace(ctx context.Context, snap *Snapshot) error
	// Describe names the state for messages: a path, or a database.
	Describe() string
	// LocalPath is the state file, for a backend that keeps state in a
	// local file; "" for one that keeps it elsewhere. Callers name a
	// local file relative to the working directory.
	LocalPath() string
	// SetOperation names what the lock is taken for, e.g. "herald
	// apply", for whoever finds the state locked. Call it before Lock.
	SetOperation(op string)
	Close() error
}

// LockChecker is a Backend whose lock can be lost while it is held (the
// PostgreSQL backend's lock lives as long as its connection): a holder
// that keeps the lock across passes checks it.
type LockChecker interface {
	Backend
	// CheckLock checks within timeout that the lock is still held. When
	// it is not, the error is a *LockLostError, and every later write
	// fails with one too.
	CheckLock(ctx context.Context, timeout time.Duration) error
}

// CheckedReplacer is a Backend that can check the stored lineage and
// serial in the same transaction that replaces the state: Push uses it,
// so that no writer can come between the check and the write. A backend
// whose lock alone keeps others out (the local file) needs no such method.
type CheckedReplacer interface {
	Backend
	// ReplaceChecked is Replace, refused with check's error when check
	// fails on the stored lineage and serial.
	ReplaceChecked(ctx context.Context, snap *Snapshot, check func(lineage string, serial uint64) error) error
}

// End is when the attempt ended as far as state knows: its recorded end,
// or, for an attempt a crash cut short, its start (the request left right
// after it was recorded).
func (a *Attempt) End() time.Time {
	if a.FinishedAt != nil {
		return *a.FinishedAt
	}
	return a.StartedAt
}

// LastAttempt is the record's attempt with the highest number; nil when it
// has none.
func (r *Record) LastAttempt() *Attempt {
	var last *Attempt
	for i := range r.Attempts {
		if a := &r.Attempts[i]; last == nil || a.Number > last.Number {
			last = a
		}
	}
	return last
}

// LastAttemptNumber is the highest attempt number of r; 0 when r is nil or
// has no attempt, so the next attempt is always LastAttemptNumber()+1.
func (r *Record) LastAttemptNumber() int {
	n := 0
	if r != nil {
		for _, a := range r.Attempts {
			n = max(n, a.Number)
		}
	}
	return n
}
