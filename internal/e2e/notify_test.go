package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/clock"
	"github.com/heraldhq/herald/notify"
	"github.com/heraldhq/herald/state"
)

// TestNotifyKilledBeforeDelivery kills herald apply (SIGKILL) while it
// delivers its notifications, with the receiver holding the request: the
// sends are saved, the notifications stay in the outbox, and the next
// apply delivers them with the same event ids.
func TestNotifyKilledBeforeDelivery(t *testing.T) {
	f := newFixture(t, 1, 2, -1)
	var mu sync.Mutex
	hold := true
	ids := map[string][]string{} // event id -> the answers given
	arrived := make(chan struct{}, 16)
	release := make(chan struct{})
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(notify.HeaderEventID)
		mu.Lock()
		holding := hold
		if holding {
			ids[id] = append(ids[id], "held")
		} else {
			ids[id] = append(ids[id], "ok")
		}
		mu.Unlock()
		arrived <- struct{}{}
		if holding {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer recv.Close()
	defer close(release)
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "notify.hcl"), []byte(`
notify "ops" {
  webhook { url = "`+recv.URL+`/hook" }
  events  = ["apply_summary"]
}
`), 0o644))

	cmd, out := f.command("-notify-timeout=5m")
	require.NoError(t, cmd.Start())
	select {
	case <-arrived:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("no notification arrived:\n%s", out.String())
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()

	require.Len(t, f.delivered(), 2, "the sends happened before the kill")
	for _, r := range f.snapshot(t).Records {
		require.Equal(t, state.StatusSent, r.Status)
	}
	pending, err := state.OpenLocal(filepath.Join(f.dir, state.DefaultPath)).Pending(context.Background(), clock.Now().Add(time.Hour), 0)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	first := pending[0].ID

	mu.Lock()
	hold = false
	mu.Unlock()
	code, text := f.apply(t)
	require.Equal(t, 0, code, text)
	require.Contains(t, text, "1 delivered")
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, map[string][]string{first: {"held", "ok"}}, ids, "the same event, once held and once delivered")
	require.Len(t, f.delivered(), 2, "nothing was sent twice")
}
