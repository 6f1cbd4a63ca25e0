package executor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// ClockSkew is how far herald's clock and A1Base's may disagree when a
// look-up compares the API's date_created with herald's record of an
// attempt: a thread message counts as the attempt's delivery only when it
// was created between the attempt's start minus ClockSkew and its end plus
// ClockSkew. A look-up proves no absence in an account whose recent
// deliveries show the clocks further apart (see deliveryHistory.skew), and an
// import takes no thread message dated more than ClockSkew before the
// message's send_at.
const ClockSkew = 2 * time.Minute

// recentPage is how many messages a look-up of a thread returns at most:
// A1Base's get-recent lists the last five and takes no paging or limit
// parameter, so one page is all a look-up can read.
const recentPage = 5

// Reconcile settles the plan's unknown messages against their threads'
// recent messages, on every pass until each is settled. A message is found
// when the thread holds a message from the same sender (the instance's
// from number) with the same body, created within its last attempt's
// window (see ClockSkew; an attempt that a crash cut short has no recorded
// end, and its window ends at the look-up, by opts.Now), that is no other
// message's delivery as state records it (see claim): it is then recorded
// as sent, with that message as its answer.
//
// A message not found is proven not delivered, and recorded so
// (state.StatusNotDelivered, with the look-up as evidence), only when the
// look-up is settled and covers the attempt's window:
//   - settled: it reads the thread at least the instance's unknown_settle
//     after the attempt's end (for an attempt a crash cut short, its
//     start), so that a delivery has had time to show in the thread; no
//     message read may be the delivery (one with the same text, not from
//     another number and no other message's delivery, whatever its date:
//     a clock further off than ClockSkew, or a date without a zone, could
//     have placed the delivery itself outside the window); and the
//     account's recent deliveries show A1Base's clock within ClockSkew of
//     herald's (see deliveryHistory.skew);
//   - covered: a delivery would be among the messages read, because the
//     thread holds fewer than a page of them, or the oldest one read was
//     created before the window opened, or one of them, not the last
//     listed, is a message herald delivered to the thread before the
//     attempt started (the API lists the most recent messages, newest
//     first, so anything the attempt delivered, created later, would be
//     listed too).
//
// An attempt that an earlier holder of the state lock journaled and left
// without an outcome is proven absent only once, besides, this process has
// held the lock for TakeoverWait (see takeoverLeft); Reconcile waits for
// that before its look-ups when such an attempt is otherwise settled.
//
// Any other look-up settles nothing: its evidence and the reason are noted
// on the attempt (state.EventLookUp) and it stays unknown. A thread busier
// than one page since the attempt can never be covered again; the note
// says so. A look-up that fails is reported through hooks and does not
// stop the others. resolved lists the messages recorded as sent or not
// delivered; the error is non-nil only when ctx ends, a record cannot be
// written or the state cannot be read back.
//
// The deliveries state records come from the plan's records and, when rec
// can read the state back (every state backend can), from all of state,
// so that earlier occurrences of a repeat message count. Each thread is
// fetched once however many of its messages are unknown, and each recent
// message accounts for at most one unknown message, so two unknown copies
// of the same text are not both taken as delivered by one delivery. Of
// opts only the clock (Now), which stamps the records, and the aliased
// accounts (Accounts), whose threads their clients look up, and the account
// rate limits, which look-ups count against, are used.
func Reconcile(ctx context.Context, plan *planner.Plan, client Sender, rec state.Recorder, opts Options, hooks Hooks) (resolved []addrs.Message, err error) {
	if plan == nil {
		return nil, errors.New("executor: no plan to reconcile")
	}
	if opts, err = opts.withDefaults(); err != nil {
		return nil, err
	}
	h := newSerialHooks(hooks)
	var threads []threadKey
	byThread := map[threadKey][]*candidate{}
	for _, c := range plan.Changes {
		if c == nil || c.Action != planner.Unknown || (c.Record != nil && c.Record.Status == state.StatusNotDelivered) {
			continue // settled already: proven not delivered, held
		}
		cand, why := newCandidate(c, opts.Now())
		if why != nil {
			h.ReconcileFailed(c, why)
			continue
		}
		// Threads belong to accounts: the same id in two accounts is two
		// threads.
		t := threadKey{c.Instance.Group.ProviderAlias(), c.Instance.ThreadID}
		if _, ok := byThread[t]; !ok {
			threads = append(threads, t)
		}
		byThread[t] = append(byThread[t], cand)
	}
	if len(threads) == 0 {
		return nil, nil
	}
	accounts := newAccounts(client, opts)
	if accounts.lim, err = buildLimits(opts, nil, paceClock(opts.Now)); err != nil {
		return nil, fmt.Errorf("executor: %w", err)
	}
	for _, t := range threads {
		if accounts.client(t.account) == nil {
			return nil, fmt.Errorf("executor: no A1Base client to reconcile with%s", accountDesc(t.account))
		}
	}
	if rec == nil {
		return nil, errors.New("executor: no state recorder")
	}
	hist, err := readHistory(ctx, plan, rec)
	if err != nil {
		return nil, fmt.Errorf("reading state to reconcile with: %w", err)
	}
	if err := waitOutTakeover(ctx, rec, opts, byThread); err != nil {
		return nil, fmt.Errorf("reconciliation interrupted: %w", err)
	}

	for _, t := range threads {
		cands := byThread[t]
		msgs, err := accounts.recentMessages(ctx, t.account, t.thread)
		if err != nil {
			if ctx.Err() != nil {
				return resolved, fmt.Errorf("reconciliation interrupted: %w", ctx.Err())
			}
			for _, cand := range cands {
				h.ReconcileFailed(cand.change, fmt.Errorf("looking up thread %q: %w", t.thread, err))
			}
			continue
		}
		now := opts.Now()
		delivered := hist.of(t)
		read, err := readInbox(ctx, opts.Inbox, accountID(t.account, accounts.client(t.account), opts), t.thread, cands)
		if err != nil {
			if ctx.Err() != nil {
				return resolved, fmt.Errorf("reconciliation interrupted: %w", ctx.Err())
			}
			for _, cand := range cands {
				h.ReconcileFailed(cand.change, err)
			}
			continue
		}
		all, added := withInbox(msgs, read, cands, delivered)
		owners := claim(all, delivered)
		skew := hist.skew(t.account)
		ev := readEvidence{page: msgs, all: all, inbox: read, owners: owners, delivered: delivered, skew: skew}
		for _, m := range match(cands, all, owners) {
			c := m.cand.change
			lu := readOf(msgs, now)
			lu.Inbox = added
			if m.msg != nil {
				if err := rec.Record(context.WithoutCancel(ctx), m.cand.event(m.msg, ev.fromInbox(m.msg), now, &lu)); err != nil {
					return resolved, fmt.Errorf("recording %s as sent: %w", c.Addr, err)
				}
				resolved = append(resolved, c.Addr)
				h.Reconciled(c, true)
				continue
			}
			m.cand.takeoverLeft = takeoverLeft(rec, m.cand)
			e := m.cand.judgeAbsence(ev, now, &lu)
			what := "its look-up"
			if e.Status == state.StatusNotDelivered {
				what = "as not delivered"
			}
			if err := rec.Record(context.WithoutCancel(ctx), e); err != nil {
				return resolved, fmt.Errorf("recording %s %s: %w", c.Addr, what, err)
			}
			status := state.StatusUnknown
			if e.Status == state.StatusNotDelivered {
				status = e.Status
				resolved = append(resolved, c.Addr)
			}
			h.LookedUp(c, lu, status)
		}
	}
	return resolved, nil
}

// readOf is the evidence of a read: when, how many messages, which span.
func readOf(msgs []a1base.ThreadMessage, now time.Time) state.LookUp {
	lu := state.LookUp{At: now, Messages: len(msgs)}
	for _, m := range msgs {
		if m.DateCreated.IsZero() {
			continue
		}
		d := m.DateCreated.UTC()
		if lu.Oldest == nil || d.Before(*lu.Oldest) {
			lu.Oldest = &d
		}
		if lu.Newest == nil || d.After(*lu.Newest) {
			newest := d
			lu.Newest = &newest
		}
	}
	return lu
}

// readEvidence is what one look-up of a thread read: page, the thread's
// recent messages as the API listed them; inbox, what the webhook's inbox
// holds (nil: none); all, page and then the account's own messages the
// inbox holds besides (see withInbox). owners says which of all are other
// messages' deliveries (see claim), delivered are the thread's deliveries
// state records, skew the largest clock difference they show for the
// account.
type readEvidence struct {
	page, all []a1base.ThreadMessage
	inbox     *state.InboxRead
	owners    []owner
	delivered []delivery
	skew      skewEstimate
}

// fromInbox says whether m, one of all, came from the inbox rather than
// the page.
func (ev readEvidence) fromInbox(m *a1base.ThreadMessage) bool {
	for i := len(ev.page); i < len(ev.all); i++ {
		if &ev.all[i] == m {
			return true
		}
	}
	return false
}

// judgeAbsence decides what a look-up that did not find the candidate proves:
// a not_delivered outcome, or a note of why it proves nothing (yet).
func (cand *candidate) judgeAbsence(ev readEvidence, now time.Time, lu *state.LookUp) state.Event {
	e := recordFields(cand.change)
	e.Attempt, e.At, e.LookUp = cand.attempt, now, lu
	inst := cand.change.Instance
	settles := cand.end.Add(inst.Unknown.Settle)
	switch {
	case now.Before(settles):
		lu.Unsettled = fmt.Sprintf("too early to prove an absence: a delivery may not show in the thread before %s (unknown_settle %s after the attempt)", stamp(settles), inst.Unknown.Settle)
	case cand.takeoverLeft > 0:
		lu.Unsettled = fmt.Sprintf("an earlier holder of the state lock journaled the attempt and left it without an outcome, and this process has held the lock for less than %s: until then that holder, if it is only frozen, may still write its request, so an absence proves nothing yet", TakeoverWait)
	case cand.lookalike(ev.all, ev.owners) != "":
		lu.Unsettled = cand.lookalike(ev.all, ev.owners)
	case ev.skew.unsettled() != "":
		lu.Unsettled = ev.skew.unsettled()
	default:
		lu.Covered = cmp.Or(cand.covered(ev.page, ev.delivered), cand.inboxCovered(ev.page, ev.inbox, settles))
		if lu.Covered == "" {
			lu.Unsettled = fmt.Sprintf("the thread is busier than one page since the attempt: the %d messages read (the most a look-up returns) reach back only to %s, after the attempt's window opened at %s, and include none herald sent before it; %s: check the thread, then -replace to send it or state rm to forget it",
				len(ev.page), stampOf(lu.Oldest), stamp(cand.since), noInboxCover(ev.inbox))
		}
	}
	if lu.Unsettled != "" {
		e.Kind = state.EventLookUp
		return e
	}
	e.Kind = state.EventOutcome
	e.Status = state.StatusNotDelivered
	e.Outcome = state.OutcomeAbsent
	e.Error = "not delivered, proven by look-up " + planner.DescribeLookUp(lu) + " (" + lu.Covered + ")"
	return e
}

// lookalike explains why a message read may be the candidate's delivery
// although it was not taken as one; "" when none may be. Such a message
// has the candidate's text, does not come from another number, and is no
// other message's delivery as state records it: whatever its date, it may
// be the delivery itself, dated by a clock further off than ClockSkew, or
// in a zone the API did not name.
func (cand *candidate) lookalike(msgs []a1base.ThreadMessage, owners []owner) string {
	for i, m := range msgs {
		if cand.media != "" && m.Body == "" && m.Attachment == "" && owners[i].addr == "" && (m.From == "" || sameNumber(m.From, cand.from)) {
			return "a message read has no text and names no media URL: it may be the delivery of this media message, which has no caption to recognise it by"
		}
		if !cand.sameContent(&m) || owners[i].addr != "" || (m.From != "" && !sameNumber(m.From, cand.from)) {
			continue
		}
		window := fmt.Sprintf("the attempt's window (%s to %s)", stamp(cand.since), stamp(cand.until))
		switch {
		case m.From == "":
			return "a message read has the same text and names no sender: it may be the delivery"
		case m.DateCreated.IsZero():
			return "a message read has the same text and sender but no readable date: it may be the delivery"
		case m.DateCreated.Before(cand.since) || m.DateCreated.After(cand.until):
			return fmt.Sprintf("a message read has the same text and sender, created %s, outside %s: it may be the delivery, dated by a clock further off than the %s a look-up allows; no look-up proves the absence while it is listed: check the thread, then -replace to send it or state rm to forget it",
				stamp(m.DateCreated), window, ClockSkew)
		case owners[i].maybe != "":
			return fmt.Sprintf("a message read has the same text and sender, created %s, within %s, and may be the delivery of %s, whose recorded answer does not say which message it was", stamp(m.DateCreated), window, owners[i].maybe)
		default:
			return fmt.Sprintf("a message read has the same text and sender, created %s, within %s, and was taken as the delivery of another unknown message: it may be this one's", stamp(m.DateCreated), window)
		}
	}
	return ""
}

// noInboxCover ends the note of a look-up that the page does not cover:
// why the inbox does not either.
func noInboxCover(read *state.InboxRead) string {
	if read == nil {
		return "no later look-up can prove the absence, and no webhook inbox was read (herald run -listen keeps one)"
	}
	return "no later look-up can prove the absence, and the webhook's inbox does not cover the window either (it must listen without a gap from the window's opening until the settle time, and hold every message the look-up lists since then)"
}

// covered says why a delivery by the candidate's attempt would be among
// msgs, or "" when it might have fallen off the page.
func (cand *candidate) covered(msgs []a1base.ThreadMessage, delivered []delivery) string {
	if len(msgs) < recentPage {
		return fmt.Sprintf("the thread holds only these %d, fewer than a page of %d", len(msgs), recentPage)
	}
	for _, m := range msgs {
		if !m.DateCreated.IsZero() && m.DateCreated.Before(cand.since) {
			return "the oldest message read was created before the attempt's window opened at " + stamp(cand.since)
		}
	}
	// The API lists the most recent first. A message herald delivered
	// before the attempt counts when something is listed after it: a
	// delivery created in the same second and listed below it would then
	// still be on the page.
	for _, m := range msgs[:len(msgs)-1] {
		for _, d := range delivered {
			if d.finished.IsZero() || d.created.IsZero() || d.content == "" || d.finished.After(cand.started) {
				continue
			}
			if m.DateCreated.Equal(d.created) && m.Body == d.content && sameNumber(m.From, d.from) {
				return fmt.Sprintf("it includes %s, which herald delivered to the thread before the attempt started", d.addr)
			}
		}
	}
	return ""
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func stampOf(t *time.Time) string {
	if t == nil {
		return "(no dates)"
	}
	return stamp(*t)
}

// threadKey names a thread in its account.
type threadKey struct{ account, thread string }

// candidate is an unknown message that may be found in its thread.
type candidate struct {
	change  *planner.Change
	attempt int
	// from and content are what its delivery shows in the thread; for a
	// media message without a caption (content ""), media is its URL.
	from, content, media string
	// since and until bound its delivery's date_created: the attempt's
	// start and end, widened by ClockSkew (the API's dates have whole
	// seconds).
	since, until time.Time
	// started and end are the attempt's start and end as recorded (end
	// is its start when a crash cut it short), for settling.
	started, end time.Time
	// generation is the lock generation the attempt was journaled under
	// (zero where the lock has none); cutShort says it has no recorded
	// end.
	generation int64
	cutShort   bool
	// takeoverLeft is how much longer the lock must be held before a
	// look-up may prove the attempt absent (see takeoverLeft).
	takeoverLeft time.Duration
}

// lockTerm is a state whose lock has generations (PostgreSQL's): the
// lock's current generation and how long this process has held it.
type lockTerm interface {
	LockTerm() (generation int64, held time.Duration, ok bool)
}

// takeoverLeft is how much longer this process must hold the lock before
// a look-up may prove cand absent. An attempt journaled under an earlier
// generation and left without an outcome belongs to a holder that may
// have lost the lock without knowing, frozen between journaling and
// writing its request. Its own stamps (its clock) cannot say when it
// stopped: only that it journaled before this process took the lock, and
// writes no request later than SendBound after journaling. So, besides a
// settled look-up, proving its absence takes TakeoverWait of holding the
// lock, by this process's own monotonic clock.
func takeoverLeft(rec state.Recorder, cand *candidate) time.Duration {
	lt, ok := rec.(lockTerm)
	if !ok || cand.generation == 0 || !cand.cutShort {
		return 0
	}
	gen, held, ok := lt.LockTerm()
	if !ok {
		// Without the lock nothing can be proven as its holder.
		return TakeoverWait
	}
	if cand.generation >= gen {
		return 0
	}
	return max(TakeoverWait-held, 0)
}

// waitOutTakeover waits, before the look-ups, until the lock has been
// held long enough for every attempt an earlier holder left that is
// otherwise settled by now (one still too early for its own settle time
// needs no wait).
func waitOutTakeover(ctx context.Context, rec state.Recorder, opts Options, byThread map[threadKey][]*candidate) error {
	if lt, ok := rec.(lockTerm); !ok {
		return nil
	} else if _, _, held := lt.LockTerm(); !held {
		return nil // no wait makes a look-up without the lock prove it
	}
	now := opts.Now()
	var wait time.Duration
	for _, cands := range byThread {
		for _, cand := range cands {
			if !now.Before(cand.end.Add(cand.change.Instance.Unknown.Settle)) {
				wait = max(wait, takeoverLeft(rec, cand))
			}
		}
	}
	if wait == 0 {
		return nil
	}
	return opts.Sleep(ctx, wait)
}

// newCandidateFor is c's attempt n, which started at started and ended at
// ended.
func newCandidateFor(c *planner.Change, n int, started, ended time.Time) *candidate {
	cand := &candidate{
		change:  c,
		attempt: n,
		from:    c.Instance.From,
		content: c.Instance.Content(),
		media:   mediaURL(c.Instance),
		since:   started.Add(-ClockSkew).Truncate(time.Second),
		until:   ended.Add(ClockSkew),
		started: started,
		end:     ended,
	}
	return cand
}

// accepts says whether m can be the candidate's delivery: the same text
// from the same number, created within its window. A message whose sender
// the API does not name cannot be told from a member's copy of the text,
// so it is not accepted.
func (cand *candidate) accepts(m *a1base.ThreadMessage) bool {
	return cand.sameContent(m) &&
		sameNumber(m.From, cand.from) &&
		!m.DateCreated.Before(cand.since) &&
		!m.DateCreated.After(cand.until)
}

// sameContent says whether m shows the candidate's content: its text or
// caption, or for a media message without a caption, its media URL.
func (cand *candidate) sameContent(m *a1base.ThreadMessage) bool {
	if cand.content != "" {
		return m.Body == cand.content
	}
	return cand.media != "" && m.Body == "" && m.Attachment == cand.media
}

// mediaURL is the media URL a look-up recognises inst by: set only for a
// media message without a caption.
func mediaURL(inst *spec.Instance) string {
	if inst.Content() != "" || inst.Media == nil {
		return ""
	}
	return inst.Media.URL
}

// sameNumber compares two phone numbers by their digits, so that
// "+14155552671" and "whatsapp:+14155552671" agree; an empty one matches
// nothing.
func sameNumber(a, b string) bool {
	a, b = digits(a), digits(b)
	return a != "" && a == b
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// newCandidate is c's last attempt; one whose end was not recorded (a
// crash cut it short) is taken to have lasted until now.
func newCandidate(c *planner.Change, now time.Time) (*candidate, error) {
	inst := c.Instance
	if inst == nil {
		return nil, errors.New("not in configuration, so there is no content to look for")
	}
	if !inst.Recognisable() {
		return nil, errors.New("a media message without a caption or URL cannot be recognised among the thread's messages")
	}
	var last *state.Attempt
	if c.Record != nil {
		last = c.Record.LastAttempt()
	}
	if last == nil {
		return nil, errors.New("state holds no attempt to compare the thread's messages with")
	}
	ended := now
	if last.FinishedAt != nil {
		ended = *last.FinishedAt
	}
	cand := newCandidateFor(c, last.Number, last.StartedAt, ended)
	cand.end = last.End()
	cand.generation, cand.cutShort = last.LockGeneration, last.FinishedAt == nil
	return cand, nil
}

// event records the candidate as found: m is its delivery, read from the
// webhook's inbox (inbox) or the thread; lu is the look-up that found it
// (nil for the look-up right after a lost answer).
func (cand *candidate) event(m *a1base.ThreadMessage, inbox bool, at time.Time, lu *state.LookUp) state.Event {
	inst := cand.change.Instance
	e := recordFields(cand.change)
	e.Kind = state.EventOutcome
	e.Attempt = cand.attempt
	e.At = at
	e.Status = state.StatusSent
	e.Outcome = a1base.Delivered.String()
	e.Answer = &state.Answer{MessageID: m.ID, From: m.From, Body: m.Body, DateCreated: m.DateCreated.UTC().Format(time.RFC3339)}
	if lu != nil {
		found := *lu
		found.Covered = "it lists the delivery, created " + stamp(m.DateCreated)
		if inbox {
			found.Covered = "the webhook's inbox holds the delivery, created " + stamp(m.DateCreated)
		}
		e.LookUp = &found
	}
	if inst.Sensitive {
		e.Answer.Body = ""
	}
	return e
}

type pairing struct {
	cand *candidate
	msg  *a1base.ThreadMessage // nil: not found
}

// match pairs unknown messages with thread messages, earliest attempt
// with earliest eligible message, using each thread message once and none
// that owners gives to another message (see claim; nil: none).
func match(cands []*candidate, msgs []a1base.ThreadMessage, owners []owner) []pairing {
	cands = slices.Clone(cands)
	slices.SortStableFunc(cands, func(a, b *candidate) int {
		return cmp.Or(a.since.Compare(b.since), cmp.Compare(a.change.Addr.String(), b.change.Addr.String()))
	})
	order := make([]int, len(msgs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return msgs[a].DateCreated.Compare(msgs[b].DateCreated) })
	used := make([]bool, len(msgs))
	for i := range owners {
		used[i] = owners[i].addr != "" || owners[i].maybe != ""
	}
	out := make([]pairing, 0, len(cands))
	for _, cand := range cands {
		p := pairing{cand: cand}
		for _, i := range order {
			if !used[i] && cand.accepts(&msgs[i]) {
				used[i] = true
				p.msg = &msgs[i]
				break
			}
		}
		out = append(out, p)
	}
	return out
}
