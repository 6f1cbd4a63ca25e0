package executor

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/state"
)

// The webhook's inbox is the third kind of evidence a look-up weighs,
// after the send's answer and the thread's recent messages. It holds every
// message A1Base reported in the account's threads while herald run
// -listen received them: the account's own with their sender and digests
// of their text and media URL, the members' with their id and date only.
//
// Found: a message the account sent, from the candidate's number, with
// the digest of its text (or media URL), created within its window, is
// its delivery, however many messages came after it. Absent: a delivery
// would be in the inbox when it listened without a gap from the window's
// opening until the settle time, and it holds every message the thread's
// look-up lists since the window opened: the webhook is then not behind
// on this thread.

// accountID is the account id a provider's threads belong to in the inbox:
// the configured one, or failing that the one its client sends with (the
// sandbox makes one up).
func accountID(alias string, client Sender, opts Options) string {
	id := opts.AccountID
	if alias != "" {
		id = opts.Accounts[alias].ID
	}
	if c, ok := client.(interface{ AccountID() string }); ok && id == "" {
		id = c.AccountID()
	}
	return id
}

// readInbox reads what the inbox holds for one thread since the earliest
// window of cands; nil without an inbox or an account id. An inbox that
// cannot be read is left out: the look-up settles what it can alone.
func readInbox(ctx context.Context, ib state.Inbox, account, thread string, cands []*candidate) (*state.InboxRead, error) {
	if ib == nil || account == "" || len(cands) == 0 {
		return nil, nil
	}
	since := cands[0].since
	for _, c := range cands[1:] {
		if c.since.Before(since) {
			since = c.since
		}
	}
	read, err := ib.ReadInbox(ctx, account, thread, since)
	if err != nil {
		return nil, fmt.Errorf("reading the webhook's inbox for thread %q: %w", thread, err)
	}
	return &read, nil
}

// withInbox is page and, after it, the account's own messages in read
// that page does not list, as thread messages. An inbox message keeps only
// digests: it gets the text or media URL of a candidate or recorded
// delivery with the same digest, and otherwise a body no message has
// ("sha256:" and the digest), which matches nothing.
func withInbox(page []a1base.ThreadMessage, read *state.InboxRead, cands []*candidate, delivered []delivery) (all []a1base.ThreadMessage, added int) {
	if read == nil {
		return page, 0
	}
	known := map[string]string{}
	for _, c := range cands {
		known[state.ContentDigest(c.content)] = c.content
		known[state.ContentDigest(c.media)] = c.media
	}
	for _, d := range delivered {
		known[state.ContentDigest(d.content)] = d.content
	}
	listed := map[string]bool{}
	for _, m := range page {
		if m.ID != "" {
			listed[m.ID] = true
		}
	}
	all = page[:len(page):len(page)]
	for _, im := range read.Messages {
		if !im.FromAgent || listed[im.ID] {
			continue
		}
		m := a1base.ThreadMessage{ID: im.ID, From: im.Sender, DateCreated: im.Created}
		m.Body = knownOr(known, im.TextDigest)
		m.Attachment = knownOr(known, im.MediaDigest)
		all = append(all, m)
		added++
	}
	return all, added
}

func knownOr(known map[string]string, digest string) string {
	if digest == "" {
		return ""
	}
	if s, ok := known[digest]; ok {
		return s
	}
	return "sha256:" + digest
}

// inboxCovered says why the inbox would hold a delivery by the candidate's
// attempt, or "" when it might not: it must have listened without a gap
// from the window's opening until settles, and hold every message of page
// (the thread's look-up, read before the inbox) created since the window
// opened. A listed message without an id or a date could be one it lacks.
func (cand *candidate) inboxCovered(page []a1base.ThreadMessage, read *state.InboxRead, settles time.Time) string {
	if read == nil || !read.Listened(cand.since, settles) {
		return ""
	}
	for _, m := range page {
		if m.ID == "" || m.DateCreated.IsZero() {
			return ""
		}
		if !m.DateCreated.Before(cand.since) && !read.Has(m.ID) {
			return ""
		}
	}
	return fmt.Sprintf("the webhook's inbox listened from %s to %s without a gap and holds every message the look-up lists since then", stamp(cand.since), stamp(settles))
}
