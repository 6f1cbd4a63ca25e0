package executor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// ImportResult is what became of one import.
type ImportResult struct {
	Change *planner.Change
	// Found is the thread message that shows the message was sent; nil
	// when none matched.
	Found *a1base.ThreadMessage
	// Recorded reports that the import was recorded: found, or forced.
	Recorded bool
	// Err is why the import could not be done (the thread could not be
	// read, or state already holds the address).
	Err error
}

// Evidence finds, for each import change, the thread message that shows it
// was sent, reading each thread once through the same look-up
// reconciliation uses. It records nothing: generating import blocks and
// apply both build on it. A thread message matches when its body is the
// message's content, its sender is the message's sending number (a
// message that names no sender cannot be told from a member's copy, and
// never matches), and it is dated no earlier than the message's send_at
// less ClockSkew and, for an occurrence of a repeat message, after the
// occurrence before it (a message with no readable date never matches):
// an older post of the same text, such as the one a daily repeat made
// the day before, is no evidence. With an id, only the thread message with
// that id matches, under the same rules. The earliest message (by send_at,
// then address) takes the earliest matching thread message, and no thread
// message is used twice, nor one that state records as another message's
// delivery.
//
// accounts are the aliased providers' accounts (see Options.Accounts); a
// message to a group of an aliased provider is looked for with its client.
func Evidence(ctx context.Context, changes []*planner.Change, client Sender, accounts map[string]Account, snap *state.Snapshot) ([]ImportResult, error) {
	return evidence(ctx, changes, newAccounts(client, Options{Accounts: accounts}), snap)
}

// evidence is Evidence with clients whose look-ups may count against
// account limits.
func evidence(ctx context.Context, changes []*planner.Change, clients *accounts, snap *state.Snapshot) ([]ImportResult, error) {
	out := make([]ImportResult, len(changes))
	var threads []threadKey
	byThread := map[threadKey][]int{}
	for i, c := range changes {
		out[i].Change = c
		if c == nil || c.Instance == nil {
			out[i].Err = errors.New("not in configuration")
			continue
		}
		t := threadKey{c.Instance.Group.ProviderAlias(), c.Instance.ThreadID}
		if _, ok := byThread[t]; !ok {
			threads = append(threads, t)
		}
		byThread[t] = append(byThread[t], i)
	}
	for _, t := range threads {
		if clients.client(t.account) == nil {
			return nil, fmt.Errorf("executor: no A1Base client to look threads up with%s", accountDesc(t.account))
		}
	}
	delivered := snapshotHistory(snap, changes)
	for _, tk := range threads {
		t := tk.thread
		msgs, err := clients.recentMessages(ctx, tk.account, t)
		if err != nil {
			if ctx.Err() != nil {
				return out, fmt.Errorf("import interrupted: %w", ctx.Err())
			}
			for _, i := range byThread[tk] {
				out[i].Err = fmt.Errorf("looking up thread %q: %w", t, err)
			}
			continue
		}
		owners := claim(msgs, delivered.of(tk))
		used := make([]bool, len(msgs))
		for j := range owners {
			used[j] = owners[j].addr != "" || owners[j].maybe != ""
		}
		idx := slices.Clone(byThread[tk])
		slices.SortStableFunc(idx, func(a, b int) int {
			ca, cb := changes[a].Instance, changes[b].Instance
			return cmp.Or(ca.SendAt.Compare(cb.SendAt), cmp.Compare(ca.Addr.String(), cb.Addr.String()))
		})
		order := make([]int, len(msgs))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return msgs[a].DateCreated.Compare(msgs[b].DateCreated) })
		for _, i := range idx {
			c := changes[i]
			content := c.Instance.Content()
			if content == "" {
				continue // a media message without a caption cannot be recognised
			}
			for _, j := range order {
				m := msgs[j]
				if used[j] || m.Body != content || !sameNumber(m.From, c.Instance.From) || (c.ImportID != "" && m.ID != c.ImportID) || !datedFor(c.Instance, m.DateCreated) {
					continue
				}
				used[j] = true
				found := m
				out[i].Found = &found
				break
			}
		}
	}
	return out, nil
}

// datedFor reports whether a thread message created at created can be
// inst's delivery: dated no earlier than its send_at less ClockSkew (the
// API's dates have whole seconds) and, for an occurrence of a repeat
// message, after the occurrence before it. A message with no readable
// date cannot be placed, and is no evidence.
func datedFor(inst *spec.Instance, created time.Time) bool {
	if created.IsZero() || created.Before(inst.SendAt.Add(-ClockSkew).Truncate(time.Second)) {
		return false
	}
	return inst.Repeat == nil || inst.Repeat.Prev.IsZero() || created.After(inst.Repeat.Prev)
}

// ImportOptions steer Import.
type ImportOptions struct {
	// Force records every message as sent without evidence, without
	// reading its thread (herald import -force): no client is needed.
	Force bool
	// Now is the time the records carry; nil means clock.Now.
	Now func() time.Time
	// Accounts are the aliased providers' accounts (see Options.Accounts).
	Accounts map[string]Account
	// AccountLimit, AccountID and Limiters are the account rate limits
	// the look-ups count against, as in Options.
	AccountLimit *spec.RateLimit
	AccountID    string
	Limiters     *Limiters
}

// Import records the plan's import changes as sent, without sending
// anything: with the thread message found for each as its answer, or,
// with opts.Force, without evidence and without reading the threads. An import whose
// address state already holds (read under the lock, in snap) is refused.
// It needs the state lock. The error is non-nil only when ctx ends, the
// client is missing or a record cannot be written; per-message problems are
// in the results.
func Import(ctx context.Context, plan *planner.Plan, client Sender, rec state.Recorder, snap *state.Snapshot, opts ImportOptions) ([]ImportResult, error) {
	if plan == nil {
		return nil, errors.New("executor: no plan to import")
	}
	if rec == nil {
		return nil, errors.New("executor: no state recorder")
	}
	now := opts.Now
	if now == nil {
		now = clock.Now
	}
	var changes []*planner.Change
	var refused []ImportResult
	for _, c := range plan.Changes {
		if c == nil || c.Action != planner.Import {
			continue
		}
		if snap != nil && snap.Records[c.Addr.String()] != nil {
			refused = append(refused, ImportResult{Change: c, Err: fmt.Errorf("%s is already in state", c.Addr)})
			continue
		}
		changes = append(changes, c)
	}
	var results []ImportResult
	if opts.Force {
		// Forced: recorded as the user says, without evidence, so no
		// thread is read and no client is needed.
		results = make([]ImportResult, len(changes))
		for i, c := range changes {
			results[i].Change = c
		}
	} else {
		o := Options{Accounts: opts.Accounts, AccountLimit: opts.AccountLimit, AccountID: opts.AccountID, Limiters: opts.Limiters}
		clients := newAccounts(client, o)
		lim, err := buildLimits(o, nil, paceClock(now))
		if err != nil {
			return nil, fmt.Errorf("executor: %w", err)
		}
		clients.lim = lim
		if results, err = evidence(ctx, changes, clients, snap); err != nil {
			return append(refused, results...), err
		}
	}
	for i := range results {
		r := &results[i]
		if r.Err != nil || (r.Found == nil && !opts.Force) {
			continue
		}
		e := recordFields(r.Change)
		e.Kind = state.EventImport
		e.Status = state.StatusSent
		e.At = now()
		e.Imported = state.ImportedForced
		if m := r.Found; m != nil {
			e.Imported = state.ImportedFound
			e.Answer = &state.Answer{MessageID: m.ID, From: m.From, Body: m.Body}
			if !m.DateCreated.IsZero() {
				e.Answer.DateCreated = m.DateCreated.UTC().Format(time.RFC3339)
			}
			if r.Change.Instance.Sensitive {
				e.Answer.Body = ""
			}
		}
		if err := rec.Record(context.WithoutCancel(ctx), e); err != nil {
			return append(refused, results...), fmt.Errorf("recording the import of %s: %w", r.Change.Addr, err)
		}
		r.Recorded = true
	}
	return append(refused, results...), nil
}
