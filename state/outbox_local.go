package state

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/gofrs/flock"
)

// The local outbox lives beside the state file, in two files of its own:
//
//	herald.state.json.outbox       {"version":1,"notifications":[...],"dropped":{...}}
//	herald.state.json.outbox.lock  the flock its writers take turns by
//
// Writers (apply and run recording events, deliverers marking them) take
// the outbox's own flock, never the state's: run's deliverer works while
// a pass holds the state lock. The file stays small (OutboxLimit pending
// and OutboxKept finished per destination), so every write reads it and
// rewrites it whole through a temporary file, an fsync and a rename:
// a reader, which takes no lock, sees the old file or the new one.

const outboxSuffix = ".outbox"

// outboxVersion is the outbox file's format version.
const outboxVersion = 1

var _ Outbox = (*Local)(nil)

func (l *Local) outboxPath() string     { return l.path + outboxSuffix }
func (l *Local) outboxLockPath() string { return l.path + outboxSuffix + lockSuffix }

// outboxFile is the outbox file's content.
type outboxFile struct {
	Version       int            `json:"version"`
	Notifications []Notification `json:"notifications"`
	Dropped       map[string]int `json:"dropped,omitempty"`
}

// Enqueue stores ns under the outbox's flock; see Outbox.
func (l *Local) Enqueue(ctx context.Context, ns []Notification, limit int) (added, dropped int, err error) {
	for _, n := range ns {
		if err := n.Check(); err != nil {
			return 0, 0, err
		}
	}
	err = l.writeOutbox(ctx, func(f *outboxFile) (bool, error) {
		held := map[[2]string]bool{}
		for _, n := range f.Notifications {
			held[[2]string{n.Destination, n.ID}] = true
		}
		touched := map[string]bool{}
		for _, n := range ns {
			k := [2]string{n.Destination, n.ID}
			if held[k] {
				continue
			}
			held[k] = true
			n.Recorded, n.NextAttempt = n.Recorded.UTC(), n.NextAttempt.UTC()
			n.Done, n.Dropped = nil, false
			f.Notifications = append(f.Notifications, n)
			touched[n.Destination] = true
			added++
		}
		sortNotifications(f.Notifications)
		for dest := range touched {
			d := f.trim(dest, limit)
			if d > 0 {
				if f.Dropped == nil {
					f.Dropped = map[string]int{}
				}
				f.Dropped[dest] += d
				dropped += d
			}
		}
		// Recording events the outbox holds already (every pass of herald
		// run records its drift again) changes nothing, and writes nothing.
		return added > 0, nil
	})
	return added, dropped, err
}

// trim drops the oldest pending notifications of dest beyond limit, marking
// them done at the newest one's recorded time, and forgets the oldest
// finished ones beyond OutboxKept. It returns how many it dropped.
func (f *outboxFile) trim(dest string, limit int) int {
	pending, finished := 0, 0
	var newest time.Time
	for _, n := range f.Notifications {
		if n.Destination != dest {
			continue
		}
		if n.Done == nil {
			pending++
		} else {
			finished++
		}
		if n.Recorded.After(newest) {
			newest = n.Recorded
		}
	}
	dropped := 0
	excess := pending - limit
	for i := range f.Notifications {
		n := &f.Notifications[i]
		if excess <= 0 {
			break
		}
		if n.Destination == dest && n.Done == nil {
			at := newest
			n.Done, n.Dropped = &at, true
			excess--
			dropped++
			finished++
		}
	}
	forget := finished - OutboxKept
	if forget <= 0 {
		return dropped
	}
	kept := f.Notifications[:0]
	for _, n := range f.Notifications {
		if forget > 0 && n.Destination == dest && n.Done != nil {
			forget--
			continue
		}
		kept = append(kept, n)
	}
	f.Notifications = kept
	return dropped
}

// Pending reads the outbox file without a lock; see Outbox.
func (l *Local) Pending(ctx context.Context, now time.Time, max int) ([]Notification, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := l.readOutbox()
	if err != nil {
		return nil, err
	}
	var out []Notification
	for _, n := range f.Notifications {
		if n.Done == nil && !n.NextAttempt.After(now) {
			out = append(out, n)
			if max > 0 && len(out) == max {
				break
			}
		}
	}
	return out, nil
}

// Delivered marks one notification delivered, under the outbox's flock.
func (l *Local) Delivered(ctx context.Context, destination, id string, at time.Time) error {
	return l.writeOutbox(ctx, func(f *outboxFile) (bool, error) {
		n := f.pending(destination, id)
		if n == nil {
			return false, NoNotification(destination, id)
		}
		at := at.UTC()
		n.Done = &at
		return true, nil
	})
}

// Postpone records a failed delivery, under the outbox's flock.
func (l *Local) Postpone(ctx context.Context, destination, id string, next time.Time, reason string) error {
	return l.writeOutbox(ctx, func(f *outboxFile) (bool, error) {
		n := f.pending(destination, id)
		if n == nil {
			return false, NoNotification(destination, id)
		}
		n.Attempts++
		n.NextAttempt = next.UTC()
		n.LastError = reason
		return true, nil
	})
}

// DroppedCounts reads the outbox file's drop counts.
func (l *Local) DroppedCounts(ctx context.Context) (map[string]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := l.readOutbox()
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for d, c := range f.Dropped {
		out[d] = c
	}
	return out, nil
}

func (f *outboxFile) pending(destination, id string) *Notification {
	for i := range f.Notifications {
		n := &f.Notifications[i]
		if n.Destination == destination && n.ID == id && n.Done == nil {
			return n
		}
	}
	return nil
}

// readOutbox reads the outbox file; none is an empty outbox.
func (l *Local) readOutbox() (*outboxFile, error) {
	path := l.outboxPath()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &outboxFile{Version: outboxVersion}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading outbox: %w", err)
	}
	var f outboxFile
	if err := json.Unmarshal(data, &f, readOptions); err != nil {
		return nil, fmt.Errorf("reading outbox %s: %v; the file was left unchanged", path, err)
	}
	if f.Version != outboxVersion {
		return nil, fmt.Errorf("reading outbox %s: version %d, this herald knows version %d", path, f.Version, outboxVersion)
	}
	for _, n := range f.Notifications {
		if err := n.Check(); err != nil {
			return nil, fmt.Errorf("reading outbox %s: %v", path, err)
		}
	}
	return &f, nil
}

// writeOutbox changes the outbox file under its flock: it reads the file,
// lets change edit it and, when change reports a change, replaces it
// atomically.
func (l *Local) writeOutbox(ctx context.Context, change func(*outboxFile) (bool, error)) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	fl := flock.New(l.outboxLockPath(), flock.SetPermissions(fileMode))
	ok, err := fl.TryLockContext(ctx, inboxLockRetry)
	if err == nil && !ok {
		err = errors.New("the lock was not taken")
	}
	if err != nil {
		return fmt.Errorf("locking outbox with %s: %w", fl.Path(), err)
	}
	defer func() {
		if uerr := fl.Unlock(); uerr != nil && err == nil {
			err = fmt.Errorf("unlocking %s: %w", fl.Path(), uerr)
		}
	}()
	f, err := l.readOutbox()
	if err != nil {
		return err
	}
	if changed, err := change(f); err != nil || !changed {
		return err
	}
	data, err := json.Marshal(f, json.Deterministic(true))
	if err != nil {
		return fmt.Errorf("encoding outbox: %w", err)
	}
	removeInboxTemps(l.outboxPath())
	return writeAtomic(l.outboxPath(), "", append(data, '\n'))
}
