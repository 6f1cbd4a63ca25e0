package state_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/state"
	"github.com/heraldhq/herald/state/inboxtest"
)

func inboxStatePath(t *testing.T) string {
	return filepath.Join(t.TempDir(), state.DefaultPath)
}

func TestLocalInbox(t *testing.T) {
	inboxtest.Run(t, func(t *testing.T) func() state.Inbox {
		path := inboxStatePath(t)
		return func() state.Inbox { return state.OpenLocal(path) }
	})
}

// inboxLines reads the inbox file's lines, failing t unless each is a
// whole JSON object.
func inboxLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path + ".inbox")
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatalf("the inbox file does not end with a newline: %q", data)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for i, line := range lines {
		if !json.Valid([]byte(line)) {
			t.Fatalf("inbox line %d is not JSON: %q", i+1, line)
		}
	}
	return lines
}

func messageLine(t *testing.T, m state.InboxMessage) string {
	t.Helper()
	b, err := json.Marshal(map[string]state.InboxMessage{"message": m})
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func TestLocalInboxTornLastLineTolerated(t *testing.T) {
	for name, tail := range map[string]string{
		"a line cut short":          `{"message":{"account":"acct","message_id":"m-2","thr`,
		"zeros and a newline":       "\x00\x00\x00\x00\n",
		"a whole line, no newline":  strings.TrimSuffix(messageLine(t, inboxtest.Msg("acct", "m-2", "thread", inboxtest.T0)), "\n"),
		"a JSON line of no record":  "{}\n",
		"a record missing its keys": `{"message":{"thread_id":"thread"}}` + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := inboxStatePath(t)
			first := messageLine(t, inboxtest.Msg("acct", "m-1", "thread", inboxtest.T0))
			if err := os.WriteFile(path+".inbox", []byte(first+tail), 0o600); err != nil {
				t.Fatal(err)
			}
			l := state.OpenLocal(path)
			r := inboxtest.Read(t, l, "acct", "thread", time.Time{})
			if len(r.Messages) != 1 || r.Messages[0].ID != "m-1" {
				t.Fatalf("read %+v, want m-1 alone", r.Messages)
			}
			// The next write drops the torn line rather than continue it.
			if !inboxtest.Receive(t, l, inboxtest.Msg("acct", "m-3", "thread", inboxtest.T0.Add(time.Minute))) {
				t.Fatal("m-3 not stored")
			}
			if n := len(inboxLines(t, path)); n != 2 {
				t.Errorf("the inbox file has %d lines after the write, want 2", n)
			}
			got := inboxtest.Read(t, state.OpenLocal(path), "acct", "thread", time.Time{})
			if len(got.Messages) != 2 || got.Messages[0].ID != "m-1" || got.Messages[1].ID != "m-3" {
				t.Errorf("read %+v, want m-1 and m-3", got.Messages)
			}
		})
	}
}

func TestLocalInboxDamagedLineRefused(t *testing.T) {
	path := inboxStatePath(t)
	content := messageLine(t, inboxtest.Msg("acct", "m-1", "thread", inboxtest.T0)) +
		"not json at all\n" +
		messageLine(t, inboxtest.Msg("acct", "m-2", "thread", inboxtest.T0))
	if err := os.WriteFile(path+".inbox", []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	l := state.OpenLocal(path)
	_, err := l.ReadInbox(context.Background(), "acct", "thread", time.Time{})
	if err == nil || !strings.Contains(err.Error(), path+".inbox") || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("ReadInbox of a damaged inbox: %v; want an error naming %s.inbox and line 2", err, path)
	}
	if _, err := l.Receive(context.Background(), inboxtest.Msg("acct", "m-3", "thread", inboxtest.T0)); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("Receive into a damaged inbox: %v; want an error naming line 2", err)
	}
	if err := l.Listening(context.Background(), state.ListenSpan{Receiver: "r", Since: inboxtest.T0, Until: inboxtest.T0}); err == nil {
		t.Error("Listening into a damaged inbox succeeded")
	}
	if data, _ := os.ReadFile(path + ".inbox"); string(data) != content {
		t.Errorf("the damaged inbox was changed:\n%s", data)
	}
}

func TestLocalInboxFileModes(t *testing.T) {
	path := inboxStatePath(t)
	l := state.OpenLocal(path)
	inboxtest.Receive(t, l, inboxtest.Msg("acct", "m-1", "thread", inboxtest.T0))
	check := func() {
		t.Helper()
		for _, p := range []string{path + ".inbox", path + ".inbox.lock"} {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %o, want 600", p, st.Mode().Perm())
			}
		}
	}
	check()
	// A compaction writes the file anew.
	inboxtest.Receive(t, l, inboxtest.Msg("acct", "m-2", "thread", inboxtest.T0.Add(state.InboxRetention+2*time.Hour)))
	if n := len(inboxLines(t, path)); n != 1 {
		t.Fatalf("the inbox has %d lines after the old message expired, want 1", n)
	}
	check()
	// The inbox leaves the state's own files alone.
	for _, p := range []string{path, path + ".lock", path + ".journal"} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the inbox made %s: %v", p, err)
		}
	}
}

// TestLocalInboxWithoutStateLock writes and reads the inbox while one Local
// holds the state lock and another waits for it.
func TestLocalInboxWithoutStateLock(t *testing.T) {
	path := inboxStatePath(t)
	ctx := context.Background()
	holder := state.OpenLocal(path)
	t.Cleanup(func() { _ = holder.Close() })
	if err := holder.Lock(ctx, 0); err != nil {
		t.Fatal(err)
	}

	waiter := state.OpenLocal(path)
	t.Cleanup(func() { _ = waiter.Close() })
	lctx, stop := context.WithCancel(ctx)
	waited := make(chan error, 1)
	go func() { waited <- waiter.Lock(lctx, time.Minute) }()
	time.Sleep(100 * time.Millisecond) // let it start waiting

	for i, l := range []*state.Local{waiter, holder, state.OpenLocal(path)} {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		stored, err := l.Receive(rctx, inboxtest.Msg("acct", fmt.Sprintf("m-%d", i), "thread", inboxtest.T0.Add(time.Duration(i)*time.Second)))
		if err == nil {
			err = l.Listening(rctx, state.ListenSpan{Receiver: "r", Since: inboxtest.T0, Until: inboxtest.T0.Add(time.Minute)})
		}
		cancel()
		if err != nil || !stored {
			t.Fatalf("inbox write %d while the state is locked: stored %v, error %v", i, stored, err)
		}
	}
	if r := inboxtest.Read(t, waiter, "acct", "thread", time.Time{}); len(r.Messages) != 3 || len(r.Spans) != 1 {
		t.Errorf("inbox while the state is locked: %+v, want three messages and one span", r)
	}

	// state rm and state push replace the state, never the inbox.
	before, err := os.ReadFile(path + ".inbox")
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Replace(ctx, &state.Snapshot{Lineage: state.NewLineage()}); err != nil {
		t.Fatal(err)
	}
	if err := holder.Persist(ctx); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(path + ".inbox"); !bytes.Equal(before, after) {
		t.Errorf("replacing the state changed the inbox:\n%s\nto\n%s", before, after)
	}

	select {
	case err := <-waited:
		t.Fatalf("the second Lock returned while the first held it: %v", err)
	default:
	}
	stop()
	var le *state.LockedError
	if err := <-waited; !errors.As(err, &le) {
		t.Errorf("the waiting Lock ended with %v, want a *state.LockedError", err)
	}
}

func TestLocalInboxCompactsDeadLines(t *testing.T) {
	state.SetInboxMaxDead(t, 10)
	path := inboxStatePath(t)
	l := state.OpenLocal(path)
	m := inboxtest.Msg("acct", "m-1", "thread", inboxtest.T0)
	inboxtest.Receive(t, l, m)
	most := 0
	for i := 1; i <= 50; i++ {
		inboxtest.Listen(t, l, state.ListenSpan{Receiver: "r-1", Since: inboxtest.T0, Until: inboxtest.T0.Add(time.Duration(i) * time.Second)})
		most = max(most, len(inboxLines(t, path)))
	}
	// Two live lines, and at most 10 dead ones before the write that
	// compacts.
	if most > 12 {
		t.Errorf("the inbox file grew to %d lines; want compaction beyond 10 dead lines", most)
	}
	r := inboxtest.Read(t, l, "acct", "thread", time.Time{})
	if len(r.Messages) != 1 || len(r.Spans) != 1 || !r.Spans[0].Until.Equal(inboxtest.T0.Add(50*time.Second)) {
		t.Errorf("after compactions the inbox holds %+v", r)
	}
	matches, _ := filepath.Glob(path + ".inbox.tmp-*")
	if len(matches) != 0 {
		t.Errorf("compaction left temporary files: %v", matches)
	}
}
