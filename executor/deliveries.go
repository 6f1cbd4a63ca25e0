package executor

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/state"
)

// skewSample is how many of an account's latest deliveries the clock skew
// estimate reads: enough to see a clock that drifts, few enough that a
// clock put right is trusted again after that many sends.
const skewSample = 20

// delivery is a message herald recorded as delivered to a thread (sent
// by herald, found by a look-up, or imported), as state keeps it: the
// thread message it names is that message's and no other's.
type delivery struct {
	addr string
	// account is the alias of the provider the message went through;
	// anyAccount when state does not say (a record whose group is no
	// longer configured), which then counts in every account's thread of
	// that id.
	account    string
	anyAccount bool
	thread     string
	// id is the thread message's id, when known (an import, a look-up).
	id string
	// content and from are what the delivery shows in the thread; content
	// is "" when state keeps no text (a sensitive message).
	content, from string
	// date is the answer's date_created as A1Base wrote it; created is
	// that time, zero when it has none with a zone.
	date    string
	created time.Time
	// started and finished bound the attempt that delivered it; zero when
	// none is recorded (an import).
	started, finished time.Time
}

// deliveryHistory is what state records of herald's deliveries: by thread, and the
// clock skew they show by account.
type deliveryHistory struct {
	deliveries []delivery
}

// stateReader is a recorder that can read back the state it records to,
// as every state backend can.
type stateReader interface {
	Snapshot(ctx context.Context) (*state.Snapshot, error)
}

// readHistory collects the deliveries state records: the plan's records,
// and, when rec can read the state back, every record in it, so that
// earlier occurrences of a repeat message, which a plan does not list,
// count too.
func readHistory(ctx context.Context, plan *planner.Plan, rec state.Recorder) (*deliveryHistory, error) {
	h := &deliveryHistory{}
	seen := map[string]bool{}
	accountOf := groupAccounts(plan.Changes)
	for _, c := range plan.Changes {
		if c == nil || c.Record == nil {
			continue
		}
		seen[c.Record.Address] = true
		d, ok := deliveryOf(c.Record, c.Addr.String())
		if !ok {
			continue
		}
		if c.Instance != nil && c.Instance.Group != nil {
			d.account = c.Instance.Group.ProviderAlias()
			if c.Instance.ContentHash() == c.Record.ContentHash && c.Instance.Content() != "" {
				d.content = c.Instance.Content()
			}
		} else {
			d.account, d.anyAccount = accountFor(accountOf, c.Record.Group)
		}
		h.deliveries = append(h.deliveries, d)
	}
	sr, ok := rec.(stateReader)
	if !ok {
		return h, nil
	}
	snap, err := sr.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	h.add(snap, accountOf, seen)
	return h, nil
}

// snapshotHistory is the deliveries snap records, each in the account of
// its group as changes configure it (in every account when none does).
func snapshotHistory(snap *state.Snapshot, changes []*planner.Change) *deliveryHistory {
	h := &deliveryHistory{}
	h.add(snap, groupAccounts(changes), nil)
	return h
}

// add adds the deliveries of snap's records, but those of seen.
func (h *deliveryHistory) add(snap *state.Snapshot, accountOf map[string]string, seen map[string]bool) {
	if snap == nil {
		return
	}
	for key, r := range snap.Records {
		if r == nil || seen[r.Address] || seen[key] {
			continue
		}
		if d, ok := deliveryOf(r, key); ok {
			d.account, d.anyAccount = accountFor(accountOf, r.Group)
			h.deliveries = append(h.deliveries, d)
		}
	}
}

// groupAccounts maps each group the changes configure to its provider's
// alias.
func groupAccounts(changes []*planner.Change) map[string]string {
	out := map[string]string{}
	for _, c := range changes {
		if c != nil && c.Instance != nil && c.Instance.Group != nil {
			out[c.Instance.Group.Name] = c.Instance.Group.ProviderAlias()
		}
	}
	return out
}

func accountFor(accountOf map[string]string, group string) (string, bool) {
	a, ok := accountOf[group]
	return a, !ok
}

// deliveryOf is r's delivery; false when r records none.
func deliveryOf(r *state.Record, addr string) (delivery, bool) {
	if r.Status != state.StatusSent || r.Answer == nil {
		return delivery{}, false
	}
	d := delivery{
		addr:    addr,
		thread:  r.ThreadID,
		id:      r.Answer.MessageID,
		content: r.Answer.Body,
		from:    cmp.Or(r.Answer.From, r.From),
	}
	d.date = r.Answer.DateCreated
	d.created, _ = a1base.ParseTime(d.date)
	for i := range r.Attempts {
		if a := &r.Attempts[i]; a.Outcome == a1base.Delivered.String() && a.FinishedAt != nil {
			d.started, d.finished = a.StartedAt, *a.FinishedAt
		}
	}
	return d, true
}

// of lists the deliveries to thread t, in address order.
func (h *deliveryHistory) of(t threadKey) []delivery {
	var out []delivery
	for _, d := range h.deliveries {
		if d.thread == t.thread && (d.anyAccount || d.account == t.account) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b delivery) int { return cmp.Compare(a.addr, b.addr) })
	return out
}

// skewEstimate is the largest difference between A1Base's clock and
// herald's that an account's recent deliveries show, and the delivery
// that shows it; or, in undated, a recent delivery whose answer has no
// date with a zone, against which the clocks cannot be compared.
type skewEstimate struct {
	off     time.Duration
	from    delivery
	undated *delivery
}

// skew estimates how far A1Base's clock is off herald's for an account:
// of its last skewSample deliveries that herald sent (by attempt start),
// the largest distance from the answer's date_created to the attempt that
// delivered it (0 when it lies within it; the API's dates have whole
// seconds). An answer without a date, or with one without a zone, leaves
// the estimate unknown (undated) rather than read as UTC: the clocks may
// then be hours apart.
func (h *deliveryHistory) skew(account string) skewEstimate {
	var ds []delivery
	for _, d := range h.deliveries {
		if (d.anyAccount || d.account == account) && !d.started.IsZero() {
			ds = append(ds, d)
		}
	}
	slices.SortFunc(ds, func(a, b delivery) int {
		return cmp.Or(b.started.Compare(a.started), cmp.Compare(a.addr, b.addr))
	})
	var est skewEstimate
	for _, d := range ds[:min(len(ds), skewSample)] {
		if d.created.IsZero() {
			if est.undated == nil {
				est.undated = &d
			}
			continue
		}
		var off time.Duration
		switch opened := d.started.Truncate(time.Second); {
		case d.created.Before(opened):
			off = opened.Sub(d.created)
		case d.created.After(d.finished):
			off = d.created.Sub(d.finished)
		}
		if off > est.off {
			est.off, est.from = off, d
		}
	}
	return est
}

// unsettled says why the estimate keeps a look-up from proving an
// absence; "" when it does not.
func (est skewEstimate) unsettled() string {
	const hold = "no look-up settles an absence in this account while one of its last %d deliveries shows that"
	switch {
	case est.undated != nil && est.undated.date == "":
		return fmt.Sprintf("A1Base's answer to %s gave no date_created: herald cannot tell how far A1Base's clock is from its own, and "+hold, est.undated.addr, skewSample)
	case est.undated != nil:
		return fmt.Sprintf("A1Base's answer to %s dated it %q, which has no zone: herald cannot tell how far A1Base's clock is from its own, and "+hold, est.undated.addr, est.undated.date, skewSample)
	case est.off > ClockSkew:
		d := est.from
		return fmt.Sprintf("A1Base's clock has differed from herald's by up to %s (%s: created %s for an attempt from %s to %s), more than the %s a look-up allows: a delivery may be dated outside the attempt's window, and "+hold,
			est.off, d.addr, stamp(d.created), stamp(d.started), stamp(d.finished), ClockSkew, skewSample)
	}
	return ""
}

// owner says whose delivery a thread message is: addr, a recorded
// delivery's that names it (by id, or by date_created to the second, text
// and sender); or maybe, a recorded delivery's that may be it but does not
// say which message it was (its answer has neither id nor a date with a
// zone), within its attempt's window. Neither: no other message's.
type owner struct {
	addr, maybe string
}

// claim says, for each of msgs, whose delivery it is. Each recorded
// delivery names at most one message, and each message is named by at
// most one.
func claim(msgs []a1base.ThreadMessage, delivered []delivery) []owner {
	owners := make([]owner, len(msgs))
	for _, d := range delivered {
		if d.id == "" && d.created.IsZero() {
			continue
		}
		for i, m := range msgs {
			if owners[i].addr != "" {
				continue
			}
			if d.id != "" && m.ID == d.id ||
				d.id == "" && !m.DateCreated.IsZero() && m.DateCreated.Truncate(time.Second).Equal(d.created.Truncate(time.Second)) &&
					(d.content == "" || m.Body == d.content) && (d.from == "" || m.From == "" || sameNumber(m.From, d.from)) {
				owners[i].addr = d.addr
				break
			}
		}
	}
	for _, d := range delivered {
		if d.id != "" || !d.created.IsZero() {
			continue
		}
		for i, m := range msgs {
			if owners[i].addr != "" || owners[i].maybe != "" || (d.content != "" && m.Body != d.content) || (d.from != "" && m.From != "" && !sameNumber(m.From, d.from)) {
				continue
			}
			if !d.started.IsZero() && !m.DateCreated.IsZero() &&
				(m.DateCreated.Before(d.started.Add(-ClockSkew).Truncate(time.Second)) || m.DateCreated.After(d.finished.Add(ClockSkew))) {
				continue
			}
			owners[i].maybe = d.addr
		}
	}
	return owners
}

// lostOwners says whose delivery each of msgs, c's thread's messages, is,
// as state records it now: for the look-up right after c's answer was lost,
// which must not take a delivery the run (or an earlier one) recorded for
// another message.
func lostOwners(ctx context.Context, rec state.Recorder, c *planner.Change, msgs []a1base.ThreadMessage) ([]owner, error) {
	h, err := readHistory(ctx, &planner.Plan{Changes: []*planner.Change{c}}, rec)
	if err != nil {
		return nil, err
	}
	return claim(msgs, h.of(threadKey{c.Instance.Group.ProviderAlias(), c.Instance.ThreadID})), nil
}
