package pgstate

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/state"
	"github.com/heraldhq/herald/state/inboxtest"
)

func TestInbox(t *testing.T) {
	inboxtest.Run(t, func(t *testing.T) func() state.Inbox {
		conn := newDB(t)
		return func() state.Inbox { return open(t, conn) }
	})
}

// TestInboxWithoutLock writes and reads the inbox through a Backend whose
// Lock is waiting while another Backend holds the lock, and through the
// holder.
func TestInboxWithoutLock(t *testing.T) {
	conn := newDB(t)
	ctx := context.Background()
	holder := openLocked(t, conn)
	waiter := open(t, conn, WithLockPoll(10*time.Millisecond))
	var once sync.Once
	waiting := make(chan struct{})
	waiter.onLockRetry = func() { once.Do(func() { close(waiting) }) }
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	locked := make(chan error, 1)
	go func() { locked <- waiter.Lock(lctx, time.Minute) }()
	<-waiting

	for i, b := range []*Backend{waiter, holder} {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		m := inboxtest.Msg("acct", []string{"m-waiter", "m-holder"}[i], "thread", inboxtest.T0.Add(time.Duration(i)*time.Second))
		stored, err := b.Receive(rctx, m)
		if err == nil {
			err = b.Listening(rctx, state.ListenSpan{Receiver: "r", Since: inboxtest.T0, Until: inboxtest.T0.Add(time.Minute)})
		}
		cancel()
		if err != nil || !stored {
			t.Fatalf("inbox write %s while the state is locked: stored %v, error %v", m.ID, stored, err)
		}
	}
	r := inboxtest.Read(t, waiter, "acct", "thread", time.Time{})
	if len(r.Messages) != 2 || len(r.Spans) != 1 {
		t.Errorf("inbox while the state is locked: %+v, want two messages and one span", r)
	}

	// Replacing the state (state rm, state push) leaves the inbox alone.
	if err := holder.Replace(ctx, &state.Snapshot{Lineage: state.NewLineage()}); err != nil {
		t.Fatal(err)
	}
	if r := inboxtest.Read(t, holder, "acct", "thread", time.Time{}); len(r.Messages) != 2 {
		t.Errorf("after Replace the inbox holds %+v", r)
	}

	select {
	case err := <-locked:
		t.Fatalf("the waiting Lock returned while another held the lock: %v", err)
	default:
	}
	stop()
	var le *state.LockedError
	if err := <-locked; !errors.As(err, &le) {
		t.Errorf("the waiting Lock ended with %v, want a *state.LockedError", err)
	}
}

// TestInboxPruneAtMostOncePerMinute: a Backend drops expired rows at most
// once per minute of the times its writes carry.
func TestInboxPruneAtMostOncePerMinute(t *testing.T) {
	b := open(t, newDB(t))
	late := inboxtest.T0.Add(state.InboxRetention + time.Hour)
	ids := func() []string {
		var out []string
		for _, m := range inboxtest.Read(t, b, "acct", "thread", time.Time{}).Messages {
			out = append(out, m.ID)
		}
		return out
	}
	inboxtest.Receive(t, b, state.InboxMessage{Account: "acct", ID: "first", Thread: "thread", Created: late, Received: late})
	// Received long ago (a delivery retried for days): stored, and not
	// pruned by this Backend for the next minute.
	inboxtest.Receive(t, b, state.InboxMessage{Account: "acct", ID: "old", Thread: "thread", Created: inboxtest.T0, Received: inboxtest.T0})
	inboxtest.Receive(t, b, state.InboxMessage{Account: "acct", ID: "soon", Thread: "thread", Created: late, Received: late.Add(30 * time.Second)})
	if got := ids(); len(got) != 3 {
		t.Fatalf("within a minute of the last prune: %v, want old still there", got)
	}
	inboxtest.Receive(t, b, state.InboxMessage{Account: "acct", ID: "later", Thread: "thread", Created: late, Received: late.Add(61 * time.Second)})
	got := ids()
	for _, id := range got {
		if id == "old" {
			t.Errorf("a minute after the last prune the expired message is still there: %v", got)
		}
	}
	if len(got) != 3 {
		t.Errorf("after the prune: %v, want first, soon and later", got)
	}
}

func TestInboxClosed(t *testing.T) {
	b := open(t, newDB(t))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := b.Receive(ctx, inboxtest.Msg("acct", "m", "thread", inboxtest.T0)); !errors.Is(err, errClosed) {
		t.Errorf("Receive on a closed backend: %v", err)
	}
	if _, err := b.ReadInbox(ctx, "acct", "thread", time.Time{}); !errors.Is(err, errClosed) {
		t.Errorf("ReadInbox on a closed backend: %v", err)
	}
}
