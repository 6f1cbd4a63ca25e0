package state

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// NewSnapshot returns an empty state with a fresh lineage and serial 0.
func NewSnapshot() *Snapshot {
	return &Snapshot{Lineage: NewLineage(), Records: map[string]*Record{}}
}

// NewLineage returns a random identifier in the UUID version 4 layout. A
// lineage tells apart states that merely share a serial: a saved plan or a
// journal made against one state is never applied to another.
func NewLineage() string {
	var b [16]byte
	// crypto/rand.Read never returns an error on supported platforms.
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Apply folds one event into s. It is the single definition of what an event
// means: Record uses it on the live state and loading uses it to replay a
// journal, so both always agree. Events that fail ValidateEvent are ignored.
//
// An attempt sets the record's description (group, thread, service, from,
// content hash, send_at) from the event, sets the status to sending and adds
// (or restarts) attempt number e.Attempt. An outcome sets the status, the
// answer and the last error, and finishes attempt e.Attempt when it is not 0;
// an outcome with attempt 0 (an expiry, a reconciliation result) touches no
// attempt. The description fields of an outcome only overwrite the record's
// when they are set, so a short outcome event does not erase what an
// attempt recorded.
func (s *Snapshot) Apply(e Event) {
	if ValidateEvent(e) != nil {
		return
	}
	if s.Records == nil {
		s.Records = map[string]*Record{}
	}
	switch e.Kind {
	case EventMove:
		s.move(e)
		return
	case EventImport:
		s.importRecord(e)
		return
	case EventLookUp:
		s.lookUp(e)
		return
	}
	r := s.Records[e.Address]
	if r == nil {
		r = &Record{Message: Message{Address: e.Address}}
		s.Records[e.Address] = r
	}
	describe(r, e)
	switch e.Kind {
	case EventAttempt:
		r.Status = StatusSending
		a := r.attempt(e.Attempt, e)
		*a = Attempt{Number: e.Attempt, StartedAt: e.At, LockGeneration: e.LockGeneration}
	case EventOutcome:
		r.Status = e.Status
		if e.Attempt > 0 {
			a := r.attempt(e.Attempt, e)
			// A look-up settles an attempt after the fact: it keeps the
			// end the attempt recorded, or none (a crash cut it short).
			if e.LookUp == nil {
				at := e.At
				a.FinishedAt = &at
			}
			a.Outcome = e.Outcome
			a.Error = e.Error
			if e.LookUp != nil {
				a.LookUp = e.LookUp.clone()
			}
		}
		if e.Answer != nil {
			ans := *e.Answer
			r.Answer = &ans
		}
		switch {
		case e.Status == StatusSent:
			r.LastError = ""
		case e.Error != "":
			r.LastError = e.Error
		}
	}
	r.UpdatedAt = e.At
}

// move renames a record. Replaying a move twice, or a move whose target
// already has a record of its own (which then wins, as in planning), changes
// nothing.
func (s *Snapshot) move(e Event) {
	r := s.Records[e.MovedFrom]
	if r == nil || s.Records[e.Address] != nil {
		return
	}
	delete(s.Records, e.MovedFrom)
	r.Address = e.Address
	r.UpdatedAt = e.At
	s.Records[e.Address] = r
}

// importRecord adds the record of an imported message. An import of an
// address that already has a record changes nothing: what state knows of a
// message is never overwritten by an import (the command refuses such an
// import before recording it; this keeps a replay just as safe).
func (s *Snapshot) importRecord(e Event) {
	if s.Records[e.Address] != nil {
		return
	}
	r := &Record{Message: Message{Address: e.Address}, Status: StatusSent, Imported: e.Imported, UpdatedAt: e.At}
	describe(r, e)
	if e.Answer != nil {
		ans := *e.Answer
		r.Answer = &ans
	}
	s.Records[e.Address] = r
}

// lookUp notes an unsettled look-up on its attempt. A record or attempt
// that does not exist, or one no longer unknown, is left alone: a note
// never creates or changes an outcome.
func (s *Snapshot) lookUp(e Event) {
	r := s.Records[e.Address]
	if r == nil || (r.Status != StatusUnknown && r.Status != StatusSending) {
		return
	}
	for i := range r.Attempts {
		if a := &r.Attempts[i]; a.Number == e.Attempt {
			a.LookUp = e.LookUp.clone()
			r.UpdatedAt = e.At
			return
		}
	}
}

func describe(r *Record, e Event) {
	set := func(dst *string, v string) {
		if v != "" || e.Kind == EventAttempt {
			*dst = v
		}
	}
	set(&r.Group, e.Group)
	set(&r.ThreadID, e.ThreadID)
	set(&r.Service, e.Service)
	set(&r.From, e.From)
	set(&r.ContentHash, e.ContentHash)
	if !e.SendAt.IsZero() || e.Kind == EventAttempt {
		r.SendAt = e.SendAt
	}
}

// attempt returns attempt n of r, adding it when r has none by that number
// (an outcome whose attempt event was never seen still keeps its result).
func (r *Record) attempt(n int, e Event) *Attempt {
	for i := range r.Attempts {
		if r.Attempts[i].Number == n {
			return &r.Attempts[i]
		}
	}
	r.Attempts = append(r.Attempts, Attempt{Number: n, StartedAt: e.At})
	return &r.Attempts[len(r.Attempts)-1]
}

// ValidateEvent reports why e cannot be recorded, or nil.
func ValidateEvent(e Event) error {
	if e.Address == "" {
		return fmt.Errorf("state event has no address")
	}
	switch e.Kind {
	case EventAttempt:
		if e.Attempt < 1 {
			return fmt.Errorf("attempt event for %s has attempt number %d; attempts count from 1", e.Address, e.Attempt)
		}
		if e.Status != "" && e.Status != StatusSending {
			return fmt.Errorf("attempt event for %s has status %q; an attempt's status is %q", e.Address, e.Status, StatusSending)
		}
	case EventOutcome:
		if e.Attempt < 0 {
			return fmt.Errorf("outcome event for %s has attempt number %d", e.Address, e.Attempt)
		}
		switch e.Status {
		case StatusSent, StatusFailed, StatusUnknown, StatusExpired:
		case StatusNotDelivered:
			if e.LookUp == nil || e.Attempt < 1 {
				return fmt.Errorf("outcome event for %s has status %q without the look-up of an attempt that proves it", e.Address, e.Status)
			}
		default:
			return fmt.Errorf("outcome event for %s has status %q; want sent, failed, unknown, not_delivered or expired", e.Address, e.Status)
		}
	case EventLookUp:
		if e.Attempt < 1 || e.LookUp == nil {
			return fmt.Errorf("look-up event for %s needs an attempt number and the look-up", e.Address)
		}
	case EventMove:
		if e.MovedFrom == "" || e.MovedFrom == e.Address {
			return fmt.Errorf("move event for %s has no other address to move from", e.Address)
		}
	case EventImport:
		if e.Status != "" && e.Status != StatusSent {
			return fmt.Errorf("import event for %s has status %q; an import records %q", e.Address, e.Status, StatusSent)
		}
		if !knownImported(e.Imported) {
			return fmt.Errorf("import event for %s has imported %q; want %q or %q", e.Address, e.Imported, ImportedFound, ImportedForced)
		}
	default:
		return fmt.Errorf("state event for %s has unknown kind %q", e.Address, e.Kind)
	}
	return nil
}

func knownImported(i Imported) bool { return i == ImportedFound || i == ImportedForced }

// Clone returns a deep copy of s: nothing the copy shares with s can change
// when s does.
func (s *Snapshot) Clone() *Snapshot {
	if s == nil {
		return nil
	}
	c := &Snapshot{Lineage: s.Lineage, Serial: s.Serial, Records: make(map[string]*Record, len(s.Records))}
	for k, r := range s.Records {
		c.Records[k] = r.clone()
	}
	return c
}

func (r *Record) clone() *Record {
	if r == nil {
		return nil
	}
	c := *r
	if r.Attempts != nil {
		c.Attempts = make([]Attempt, len(r.Attempts))
		for i, a := range r.Attempts {
			if a.FinishedAt != nil {
				t := *a.FinishedAt
				a.FinishedAt = &t
			}
			a.LookUp = a.LookUp.clone()
			c.Attempts[i] = a
		}
	}
	if r.Answer != nil {
		ans := *r.Answer
		c.Answer = &ans
	}
	return &c
}

// MarkInterrupted turns every record still sending into unknown: read
// back, an attempt without an outcome belongs to a run that ended before
// its answer was recorded, and nobody can say whether the message went
// out. Every backend does this to the state it reads outside a run of its
// own. It reports whether anything changed.
func MarkInterrupted(s *Snapshot) bool {
	changed := false
	for _, r := range s.Records {
		if r.Status != StatusSending {
			continue
		}
		r.Status = StatusUnknown
		r.LastError = InterruptedError(r)
		changed = true
	}
	return changed
}

// InterruptedError is the last error MarkInterrupted gives r: its last
// attempt's outcome was never recorded.
func InterruptedError(r *Record) string {
	return fmt.Sprintf("no outcome was recorded for attempt %d: the run that made it ended before the answer arrived", r.LastAttemptNumber())
}
