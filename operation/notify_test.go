package operation

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/pgtest"
	"github.com/heraldhq/herald/notify"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
	"github.com/heraldhq/herald/state/pgstate"
)

const notifyConfig = `
notify "ops" {
  webhook { url = "https://ops.example/herald" }
  events  = ["expired", "apply_summary", "failed"]
}

message "stale" {
  group   = group.eng
  send_at = "2026-11-28T07:00:00Z"
  text    = "Too late"
}
`

// TestPassRecordsNotifications: a pass that sends and expires records an
// expired and an apply_summary notification after saving its state, and
// the same pass's events recorded again add nothing.
func TestPassRecordsNotifications(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "notify.hcl"), []byte(notifyConfig), 0o644))
	cfg, diags := spec.Load(f.dir, spec.LoadOptions{At: at})
	require.False(t, diags.HasErrors(), diags.Error())
	f.in = &Inputs{At: at, Config: cfg}

	out, err := Apply(context.Background(), f.op(&recorder{}))
	require.NoError(t, err)
	require.NoError(t, out.Notified.Err)
	require.Equal(t, 2, out.Notified.Recorded)

	ob := state.OpenLocal(f.statePath())
	pending, err := ob.Pending(context.Background(), at.Add(time.Hour), 0)
	require.NoError(t, err)
	var kinds []string
	for _, n := range pending {
		kinds = append(kinds, n.Kind)
		require.Equal(t, "ops", n.Destination)
		var e notify.Event
		require.NoError(t, json.Unmarshal([]byte(n.Payload), &e))
		require.Equal(t, n.ID, e.ID)
		require.NotContains(t, n.Payload, "Too late", "a notification carries message text")
		if n.Kind == "expired" {
			require.Equal(t, []string{"message.stale"}, e.Addresses)
		}
		if n.Kind == "apply_summary" {
			require.Equal(t, 3, e.Counts["sent"])
			require.Equal(t, 1, e.Counts["expired"])
		}
	}
	sort.Strings(kinds)
	require.Equal(t, []string{"apply_summary", "expired"}, kinds)

	// A second pass has nothing to do: nothing new is recorded (the
	// expired record is recorded again under the same id).
	out, err = Apply(context.Background(), f.op(&recorder{}))
	require.NoError(t, err)
	require.NoError(t, out.Notified.Err)
	require.Zero(t, out.Notified.Recorded)
}

// TestPassRecordsNotificationsPostgres: with the PostgreSQL backend the
// pass records in the database's outbox, and a delivery from another
// connection sees the same ids.
func TestPassRecordsNotificationsPostgres(t *testing.T) {
	connStr := pgtest.Start(t)
	ctx := context.Background()
	f := newFixture(t)
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "notify.hcl"), []byte(notifyConfig), 0o644))
	cfg, diags := spec.Load(f.dir, spec.LoadOptions{At: at})
	require.False(t, diags.HasErrors(), diags.Error())
	f.in = &Inputs{At: at, Config: cfg}
	open := func() *pgstate.Backend {
		b, err := pgstate.Open(ctx, connStr, "")
		require.NoError(t, err)
		return b
	}
	op := f.op(&recorder{})
	op.Backend = open()
	out, err := Apply(ctx, op)
	require.NoError(t, err)
	require.NoError(t, out.Notified.Err)
	require.Equal(t, 2, out.Notified.Recorded)

	other := open()
	defer other.Close()
	pending, err := other.Pending(ctx, at.Add(time.Hour), 0)
	require.NoError(t, err)
	require.Len(t, pending, 2)
	again := f.op(&recorder{})
	again.Backend = open()
	out, err = Apply(ctx, again)
	require.NoError(t, err)
	require.Zero(t, out.Notified.Recorded, "the same events are not recorded twice")
}
