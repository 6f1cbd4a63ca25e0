package planner

import (
	"fmt"
	"slices"
	"time"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// A thread waits for its unknowns: while a message in a thread is unknown
// and a look-up can still settle it (it has content to look for and its
// settle time has not come), nothing else is sent to that thread. A send
// now would push the unknown down the thread, out of the page of recent
// messages the settle look-up reads; held back, the unknown stays the
// newest herald message there unless members post more than a page in
// between. Other threads go on.
//
// The held messages are planned as wait, with Waits saying what for; once the settle time passes, apply's look-up settles
// the unknown (sent, or proven absent) or finds it cannot, and in every
// case the thread is released. A message sent on purpose (-replace) is not
// held.

// ThreadOf identifies the thread a message goes to.
func ThreadOf(inst *spec.Instance) string { return inst.Service + "\x00" + inst.ThreadID }

// settling is what holds one thread: the unknowns a look-up can still
// settle, and the latest of their settle times.
type settling struct {
	by    []addrs.Message
	until time.Time
}

// holdBehindUnknowns turns the sends and retries of every thread that has
// an unknown still to settle at at into waits.
func holdBehindUnknowns(entries []entry, at time.Time) {
	var threads map[string]*settling
	for _, e := range entries {
		until, ok := settlesLater(e.change, at)
		if !ok {
			continue
		}
		if threads == nil {
			threads = make(map[string]*settling)
		}
		inst := e.change.Instance
		k := ThreadOf(inst)
		s := threads[k]
		if s == nil {
			s = &settling{}
			threads[k] = s
		}
		s.by = append(s.by, e.change.Addr)
		if until.After(s.until) {
			s.until = until
		}
	}
	if threads == nil {
		return
	}
	for _, e := range entries {
		c := e.change
		if c.Instance == nil || c.Replace || !c.Action.Sends() {
			continue
		}
		s := threads[ThreadOf(c.Instance)]
		if s == nil {
			continue
		}
		c.Action = Wait
		c.Waits = &ThreadWait{For: slices.Clone(s.by), Until: s.until}
		c.Reason = fmt.Sprintf("waits for %s to settle, until %s: sending now would bury it in its thread, where the look-up reads only the most recent messages (%s)",
			names(s.by), stamp(s.until), c.Reason)
	}
}

// settlesLater reports whether c is an unknown that a look-up can still
// settle, and when its settle time comes.
func settlesLater(c *Change, at time.Time) (time.Time, bool) {
	if c.Action != Unknown || c.Instance == nil || c.Record == nil || !c.Instance.Recognisable() {
		return time.Time{}, false
	}
	if s := c.Record.Status; s != state.StatusUnknown && s != state.StatusSending {
		return time.Time{}, false
	}
	a := c.Record.LastAttempt()
	if a == nil {
		return time.Time{}, false
	}
	settles := SettlesAt(c.Instance, a)
	return settles, at.Before(settles)
}

// names lists addresses for a reason: one, or the first and how many more.
func names(as []addrs.Message) string {
	ss := make([]string, len(as))
	for i, a := range as {
		ss[i] = a.String()
	}
	slices.Sort(ss)
	if len(ss) == 1 {
		return ss[0]
	}
	return fmt.Sprintf("%s and %d more", ss[0], len(ss)-1)
}

// NotBefore is the earliest moment the change may send: its send_at, or
// for a message held behind an unknown in its thread, the moment that
// unknown settles if that is later. Zero for an orphan.
func (c *Change) NotBefore() time.Time {
	if c.Instance == nil {
		return time.Time{}
	}
	if c.Waits != nil && c.Waits.Until.After(c.Instance.SendAt) {
		return c.Waits.Until
	}
	return c.Instance.SendAt
}
