package sandbox

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
)

// TestHistoryRoundTrip: a history put into a new fake is what the look-up
// lists, ids handed out continue after the highest kept msg_N, and the
// history read back holds both.
func TestHistoryRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	srv := NewServer(WithClock(func() time.Time { return t0.Add(time.Hour) }))
	defer srv.Close()
	require.NoError(t, srv.AddHistory(History{Threads: map[string][]HistoryMessage{
		"t": {
			{ID: "msg_7", From: "+14155552671", Body: "later", DateCreated: t0.Add(time.Minute)},
			{ID: "msg_3", From: "+14155552671", Body: "earlier", DateCreated: t0},
			{From: "+14155550199", Body: "a member", DateCreated: t0.Add(2 * time.Minute), Inbound: true},
		},
	}}))
	c := a1base.New(a1base.Config{BaseURL: srv.URL, AccountID: "acc", APIKey: "k", APISecret: "s", HTTPClient: srv.Client()})
	msgs, err := c.RecentMessages(context.Background(), "t")
	require.NoError(t, err)
	var ids []string
	for _, m := range msgs {
		ids = append(ids, m.ID)
	}
	require.Equal(t, []string{"msg_8", "msg_7", "msg_3"}, ids, "newest first; the one without an id got the next")

	res := c.SendGroup(context.Background(), a1base.SendRequest{Content: "new", From: "+14155552671", ThreadID: "t", Service: "whatsapp"})
	require.Equal(t, a1base.Delivered, res.Outcome, "%v", res.Err)
	require.Equal(t, "msg_9", res.Answer.MessageID)

	h := srv.History()
	require.Len(t, h.Threads["t"], 4)
	require.Equal(t, "msg_3", h.Threads["t"][0].ID)
	require.True(t, h.Threads["t"][2].Inbound)
	require.Equal(t, "new", h.Threads["t"][3].Body)

	other := NewServer()
	defer other.Close()
	require.ErrorContains(t, other.AddHistory(History{Threads: map[string][]HistoryMessage{"t": {
		{ID: "msg_1", DateCreated: t0}, {ID: "msg_1", DateCreated: t0},
	}}}), `the id "msg_1" is used twice`)
}
