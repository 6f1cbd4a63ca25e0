package executor

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/state"
)

// TestImportAgainstFake imports messages whose threads already hold past
// sends: found ones carry the thread message, a missing one is recorded
// only when forced, one already in state is refused, and two messages with
// the same text take one thread message each, the earliest the earliest.
func TestImportAgainstFake(t *testing.T) {
	srv := sandbox.NewServer(sandbox.WithCredentials(testKey, testSecret), sandbox.WithAccountID("acc_1"))
	defer srv.Close()
	client := a1base.New(a1base.Config{
		BaseURL: srv.URL, AccountID: "acc_1", APIKey: testKey, APISecret: testSecret,
		Timeout: 5 * time.Second, HTTPClient: srv.Client(),
	})

	b := newPlan()
	found := b.text(planner.Import, "eng", "found", t0)
	b.text(planner.Import, "eng", "missing", t0)
	first := b.text(planner.Import, "eng", "first", t0.Add(time.Hour))
	second := b.text(planner.Import, "eng", "second", t0.Add(2*time.Hour))
	third := b.text(planner.Import, "eng", "third", t0.Add(3*time.Hour))
	for _, c := range []*planner.Change{first, second, third} {
		c.Instance.Text = "Standup in 15 minutes"
	}
	b.text(planner.Import, "eng", "member", t0)
	pinned := b.text(planner.Import, "ops", "pinned", t0)
	inState := b.text(planner.Import, "ops", "in_state", t0)

	from := "+14155550000"
	srv.AddThreadMessage("thread-eng", from, "Standup in 15 minutes", t0.Add(2*time.Hour+time.Minute))
	srv.AddThreadMessage("thread-eng", from, "text of message.found", t0.Add(time.Second))
	srv.AddThreadMessage("thread-eng", from, "Standup in 15 minutes", t0.Add(time.Hour+time.Minute))
	srv.AddThreadMessage("thread-eng", "+14155559999", "text of message.member", t0) // a member, not the group's sender
	srv.AddThreadMessage("thread-ops", from, "text of message.pinned", t0)           // msg_5
	srv.AddThreadMessage("thread-ops", from, "text of message.pinned", t0.Add(time.Minute))
	pinned.ImportID = "msg_6"

	ctx := context.Background()
	st := state.OpenLocal(filepath.Join(t.TempDir(), state.DefaultPath))
	require.NoError(t, st.Lock(ctx, 0))
	defer st.Close()
	require.NoError(t, st.Record(ctx, state.Event{Kind: state.EventOutcome, Message: state.Message{Address: inState.Addr.String(), SendAt: t0}, Status: state.StatusExpired, At: t0}))
	snap, err := st.Snapshot(ctx)
	require.NoError(t, err)

	at := t0.Add(5 * time.Hour)
	results, err := Import(ctx, b.plan, client, st, snap, ImportOptions{Now: func() time.Time { return at }})
	require.NoError(t, err)
	byAddr := map[string]ImportResult{}
	for _, r := range results {
		byAddr[r.Change.Addr.String()] = r
	}
	require.Len(t, byAddr, 8)
	require.True(t, byAddr["message.found"].Recorded)
	require.Equal(t, "msg_2", byAddr["message.found"].Found.ID)
	require.False(t, byAddr["message.missing"].Recorded)
	require.Nil(t, byAddr["message.missing"].Found)
	require.False(t, byAddr["message.member"].Recorded, "a member's message with the same text is no evidence")
	require.Equal(t, "msg_3", byAddr["message.first"].Found.ID, "the earliest message takes the earliest thread message")
	require.Equal(t, "msg_1", byAddr["message.second"].Found.ID)
	require.Nil(t, byAddr["message.third"].Found, "each thread message is used once")
	require.Equal(t, "msg_6", byAddr["message.pinned"].Found.ID, "an id picks its thread message")
	require.ErrorContains(t, byAddr["message.in_state"].Err, "already in state")

	after, err := st.Snapshot(ctx)
	require.NoError(t, err)
	r := after.Records["message.found"]
	require.Equal(t, state.StatusSent, r.Status)
	require.Equal(t, state.ImportedFound, r.Imported)
	require.Equal(t, &state.Answer{MessageID: "msg_2", From: from, Body: "text of message.found", DateCreated: t0.Add(time.Second).Format(time.RFC3339)}, r.Answer)
	require.Empty(t, r.Attempts)
	require.Equal(t, found.Instance.ContentHash(), r.ContentHash)
	require.NotContains(t, after.Records, "message.missing")
	require.Equal(t, state.StatusExpired, after.Records["message.in_state"].Status, "an import never overwrites a record")

	// Forced, the missing ones are recorded without evidence; the found
	// ones are in state now and refused. No thread is read, and no client
	// is needed.
	arrived := len(srv.Arrivals())
	results, err = Import(ctx, b.plan, nil, st, after, ImportOptions{Force: true})
	require.NoError(t, err)
	require.Len(t, srv.Arrivals(), arrived, "a forced import reads no thread")
	forced := map[string]bool{}
	for _, r := range results {
		if r.Recorded {
			forced[r.Change.Addr.String()] = true
		}
	}
	require.Equal(t, map[string]bool{"message.missing": true, "message.third": true, "message.member": true}, forced)
	final, err := st.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, state.ImportedForced, final.Records["message.missing"].Imported)
	require.Nil(t, final.Records["message.missing"].Answer)
	require.Empty(t, srv.Sends(), "an import sends nothing")
}
