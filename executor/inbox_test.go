package executor

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// TestReconcileReadsTheWebhookInbox: a thread busier than one page since
// the attempt, which no look-up alone can settle, is settled from the
// webhook's inbox: found when the inbox holds the delivery, proven absent
// when the inbox listened throughout and holds every message the look-up
// lists; left unknown, saying why, when it did not or does not.
func TestReconcileReadsTheWebhookInbox(t *testing.T) {
	const settle = 5 * time.Minute
	started := t0.Add(10 * time.Minute)
	ended := started.Add(2 * time.Second)
	settled := ended.Add(settle)
	member := "+19995550123"
	// The look-up lists five member messages created after the attempt:
	// the page reaches back only to them.
	page := func() []a1base.ThreadMessage {
		var out []a1base.ThreadMessage
		for i := 5; i >= 1; i-- {
			out = append(out, a1base.ThreadMessage{ID: fmt.Sprintf("chat-%d", i), From: member, Body: fmt.Sprintf("chat %d", i), DateCreated: ended.Add(time.Duration(i) * time.Minute)})
		}
		return out
	}
	chatterIn := func(skip string) []state.InboxMessage {
		var out []state.InboxMessage
		for i := 1; i <= 6; i++ {
			id := fmt.Sprintf("chat-%d", i)
			if id == skip {
				continue
			}
			out = append(out, state.InboxMessage{ID: id, Created: ended.Add(time.Duration(i) * time.Minute)})
		}
		return out
	}
	throughout := []state.ListenSpan{{Receiver: "r1", Since: t0, Until: settled.Add(time.Hour)}}
	cases := []struct {
		name     string
		text     string
		inbox    []state.InboxMessage
		spans    []state.ListenSpan
		noInbox  bool
		media    bool         // a media message without a caption
		status   state.Status // sent, not_delivered, or "" for a note
		covered  string
		why      string
		answerID string
	}{
		{name: "found", inbox: append(chatterIn(""), state.InboxMessage{
			ID: "delivery", FromAgent: true, Sender: own, Created: started.Add(time.Second), TextDigest: state.ContentDigest("text of message.found"),
		}), spans: throughout, status: state.StatusSent, covered: "the webhook's inbox holds the delivery", answerID: "delivery"},
		// Found needs no listening span: the message is there.
		{name: "found_without_span", inbox: []state.InboxMessage{{
			ID: "delivery", FromAgent: true, Sender: own, Created: started.Add(time.Second), TextDigest: state.ContentDigest("text of message.found_without_span"),
		}}, status: state.StatusSent, answerID: "delivery"},
		// A media message without a caption is found by its URL's digest.
		{name: "found_media", media: true, inbox: append(chatterIn(""), state.InboxMessage{
			ID: "delivery", FromAgent: true, Sender: own, Created: started.Add(time.Second), MediaDigest: state.ContentDigest("https://example.com/a.png"),
		}), spans: throughout, status: state.StatusSent, covered: "the webhook's inbox holds the delivery", answerID: "delivery"},
		{name: "absent_media", media: true, inbox: append(chatterIn(""), state.InboxMessage{
			ID: "other", FromAgent: true, Sender: own, Created: started.Add(time.Second), MediaDigest: state.ContentDigest("https://example.com/b.png"),
		}), spans: throughout, status: state.StatusNotDelivered},
		{name: "absent", inbox: chatterIn(""), spans: throughout, status: state.StatusNotDelivered, covered: "the webhook's inbox listened from"},
		// Another message of the account's, with text herald does not know,
		// is not the delivery.
		{name: "absent_other_text", inbox: append(chatterIn(""), state.InboxMessage{
			ID: "other", FromAgent: true, Sender: own, Created: started.Add(time.Second), TextDigest: state.ContentDigest("a message sent by hand"),
		}), spans: throughout, status: state.StatusNotDelivered},
		{name: "gap", inbox: chatterIn(""), spans: []state.ListenSpan{
			{Receiver: "r1", Since: t0, Until: started.Add(time.Minute)},
			{Receiver: "r2", Since: started.Add(2 * time.Minute), Until: settled.Add(time.Hour)},
		}, why: "the webhook's inbox does not cover the window either"},
		{name: "started_late", inbox: chatterIn(""), spans: []state.ListenSpan{{Receiver: "r1", Since: started, Until: settled.Add(time.Hour)}},
			why: "does not cover the window either"},
		{name: "stopped_early", inbox: chatterIn(""), spans: []state.ListenSpan{{Receiver: "r1", Since: t0, Until: settled.Add(-time.Second)}},
			why: "does not cover the window either"},
		// The inbox lacks a message the look-up lists: the webhook is
		// behind on this thread, and may lack the delivery too.
		{name: "behind", inbox: chatterIn("chat-3"), spans: throughout, why: "does not cover the window either"},
		{name: "no_inbox", noInbox: true, why: "no webhook inbox was read"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newPlan()
			c := unknown(b, tc.name, tc.name, started)
			c.Record.Attempts[1].FinishedAt = &ended
			c.Instance.Unknown = spec.UnknownPolicy{OnUnknown: spec.OnUnknownResend, Settle: settle}
			if tc.media {
				c.Instance.Text = ""
				c.Instance.Media = &spec.Media{URL: "https://example.com/a.png", Type: "image"}
			}
			rec := &memRecorder{}
			f := newFake(rec, b.plan)
			f.recent = func(string) ([]a1base.ThreadMessage, error) { return page(), nil }
			opts := Options{Now: func() time.Time { return settled }, AccountID: "acc"}
			if !tc.noInbox {
				ib, ok := any(state.OpenLocal(filepath.Join(t.TempDir(), "herald.state.json"))).(state.Inbox)
				require.True(t, ok, "the local state keeps an inbox")
				for _, m := range tc.inbox {
					m.Account, m.Thread, m.Received = "acc", c.Instance.ThreadID, m.Created
					_, err := ib.Receive(context.Background(), m)
					require.NoError(t, err)
				}
				for _, s := range tc.spans {
					require.NoError(t, ib.Listening(context.Background(), s))
				}
				opts.Inbox = ib
			}
			h := &hookLog{}
			resolved, err := Reconcile(context.Background(), b.plan, f, rec, opts, h)
			require.NoError(t, err)
			evs := rec.of(c.Addr.String())
			require.Len(t, evs, 1)
			e := evs[0]
			require.NotNil(t, e.LookUp)
			assert.Equal(t, 5, e.LookUp.Messages)
			switch tc.status {
			case state.StatusSent:
				assert.Equal(t, state.StatusSent, e.Status)
				require.NotNil(t, e.Answer)
				assert.Equal(t, tc.answerID, e.Answer.MessageID)
				if !tc.media {
					assert.Equal(t, "text of message."+tc.name, e.Answer.Body, "the answer keeps the text herald knows, not the digest")
				}
				assert.Contains(t, e.LookUp.Covered, tc.covered)
				assert.Contains(t, resolved, c.Addr)
			case state.StatusNotDelivered:
				assert.Equal(t, state.StatusNotDelivered, e.Status)
				assert.Equal(t, state.OutcomeAbsent, e.Outcome)
				assert.Contains(t, e.LookUp.Covered, tc.covered)
				assert.Contains(t, e.Error, e.LookUp.Covered, "the record says what proved the absence")
				if tc.name == "absent_other_text" {
					assert.Equal(t, 1, e.LookUp.Inbox)
					assert.Contains(t, e.Error, "1 more of the account's from the webhook's inbox")
				}
				assert.Contains(t, resolved, c.Addr)
			default:
				assert.Equal(t, state.EventLookUp, e.Kind)
				assert.Contains(t, e.LookUp.Unsettled, "busier than one page")
				assert.Contains(t, e.LookUp.Unsettled, tc.why)
				assert.Empty(t, resolved)
			}
		})
	}
}
