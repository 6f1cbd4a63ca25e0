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
	"github.com/heraldhq/herald/state"
)

// ClockSkew is how far herald's clock and A1Base's may disagree when a
// look-up compares the API's date_created with herald's record of an
// attempt: a thread message counts as the attempt's delivery only when it
// was created between the attempt's start minus ClockSkew and its end plus
// ClockSkew.
const ClockSkew = 2 * time.Minute

// Reconcile looks for the plan's unknown messages in their threads' recent
// messages. A message is found when the thread holds a message from the
// same sender (the instance's from number) with the same body, created
// within its last attempt's window (see ClockSkew; an attempt that a crash
// cut short has no recorded end, and its window ends at the look-up, by
// opts.Now); it is then
// recorded as sent and its address returned. Anything else
// stays unknown: a look-up that fails is reported through hooks and does
// not stop the others. The error is non-nil only when ctx ends or a
// record cannot be written.
//
// Each thread is fetched once however many of its messages are unknown,
// and each recent message accounts for at most one unknown message, so two
// unknown copies of the same text are not both taken as delivered by one
// delivery. Of opts only the clock (Now), which stamps the records, and the
// aliased accounts (Accounts), whose threads their clients look up, are used.
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
		if c == nil || c.Action != planner.Unknown {
			continue
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
	for _, t := range threads {
		if accounts.client(t.account) == nil {
			return nil, fmt.Errorf("executor: no A1Base client to reconcile with%s", accountDesc(t.account))
		}
	}
	if rec == nil {
		return nil, errors.New("executor: no state recorder")
	}

	for _, t := range threads {
		cands := byThread[t]
		msgs, err := accounts.client(t.account).RecentMessages(ctx, t.thread)
		if err != nil {
			if ctx.Err() != nil {
				return resolved, fmt.Errorf("reconciliation interrupted: %w", ctx.Err())
			}
			for _, cand := range cands {
				h.ReconcileFailed(cand.change, fmt.Errorf("looking up thread %q: %w", t.thread, err))
			}
			continue
		}
		for _, m := range match(cands, msgs) {
			c := m.cand.change
			if m.msg == nil {
				h.Reconciled(c, false)
				continue
			}
			if err := rec.Record(context.WithoutCancel(ctx), m.cand.event(m.msg, opts.Now())); err != nil {
				return resolved, fmt.Errorf("recording %s as sent: %w", c.Addr, err)
			}
			resolved = append(resolved, c.Addr)
			h.Reconciled(c, true)
		}
	}
	return resolved, nil
}

// threadKey names a thread in its account.
type threadKey struct{ account, thread string }

// candidate is an unknown message that may be found in its thread.
type candidate struct {
	change  *planner.Change
	attempt int
	// from and content are what its delivery shows in the thread.
	from, content string
	// since and until bound its delivery's date_created: the attempt's
	// start and end, widened by ClockSkew (the API's dates have whole
	// seconds).
	since, until time.Time
}

// newCandidateFor is c's attempt n, which started at started and ended at
// ended.
func newCandidateFor(c *planner.Change, n int, started, ended time.Time) *candidate {
	cand := &candidate{
		change:  c,
		attempt: n,
		from:    c.Instance.From,
		content: c.Instance.Content(),
		since:   started.Add(-ClockSkew).Truncate(time.Second),
		until:   ended.Add(ClockSkew),
	}
	return cand
}

// accepts says whether m can be the candidate's delivery: the same text
// from the same number, created within its window. A message whose sender
// the API does not name cannot be told from a member's copy of the text,
// so it is not accepted.
func (cand *candidate) accepts(m *a1base.ThreadMessage) bool {
	return m.Body == cand.content &&
		sameNumber(m.From, cand.from) &&
		!m.DateCreated.Before(cand.since) &&
		!m.DateCreated.After(cand.until)
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
	if inst.Content() == "" {
		return nil, errors.New("a media message without a caption cannot be recognised among the thread's messages")
	}
	var last *state.Attempt
	if c.Record != nil {
		for i := range c.Record.Attempts {
			if a := &c.Record.Attempts[i]; last == nil || a.Number > last.Number {
				last = a
			}
		}
	}
	if last == nil {
		return nil, errors.New("state holds no attempt to compare the thread's messages with")
	}
	ended := now
	if last.FinishedAt != nil {
		ended = *last.FinishedAt
	}
	return newCandidateFor(c, last.Number, last.StartedAt, ended), nil
}

func (cand *candidate) event(m *a1base.ThreadMessage, at time.Time) state.Event {
	inst := cand.change.Instance
	e := recordFields(cand.change)
	e.Kind = state.EventOutcome
	e.Attempt = cand.attempt
	e.At = at
	e.Status = state.StatusSent
	e.Outcome = a1base.Delivered.String()
	e.Answer = &state.Answer{From: m.From, Body: m.Body, DateCreated: m.DateCreated.UTC().Format(time.RFC3339)}
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
// with earliest eligible message, using each thread message once.
func match(cands []*candidate, msgs []a1base.ThreadMessage) []pairing {
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
