package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base/webhook"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

const testSecret = "s3cret-api-secret"

// receiverFixture is a receiver on a local state in a temporary
// directory, with a clock the test moves and the results it counted.
type receiverFixture struct {
	r      *receiver
	ev     *recorder
	path   string
	mu     sync.Mutex
	now    time.Time
	counts map[string]int
}

func newReceiverFixture(t *testing.T) *receiverFixture {
	t.Helper()
	f := &receiverFixture{ev: &recorder{}, now: t0, counts: map[string]int{}, path: filepath.Join(t.TempDir(), "herald.state.json")}
	o := &Options{
		Events: f.ev, Now: f.clock,
		OpenState: func(context.Context, *spec.Config) (state.Backend, error) {
			return state.OpenLocal(f.path), nil
		},
		Webhook: WebhookOptions{Secrets: func(*spec.Config) map[string]string {
			return map[string]string{"acc_1": testSecret}
		}},
	}
	f.r = newReceiver(o, func(result string) {
		f.mu.Lock()
		f.counts[result]++
		f.mu.Unlock()
	})
	t.Cleanup(f.r.close)
	return f
}

func (f *receiverFixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *receiverFixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// post sends body signed with secret at signedAt and returns the answer.
func (f *receiverFixture) post(body []byte, secret string, signedAt time.Time) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	if secret != "" {
		sig, ts := webhook.Sign(secret, signedAt, body)
		req.Header.Set(webhook.DefaultSignatureHeader, sig)
		req.Header.Set(webhook.DefaultTimestampHeader, ts)
	}
	w := httptest.NewRecorder()
	f.r.ServeHTTP(w, req)
	return w
}

func (f *receiverFixture) inbox(t *testing.T, thread string) state.InboxRead {
	t.Helper()
	ib, ok := any(state.OpenLocal(f.path)).(state.Inbox)
	require.True(t, ok, "the local state keeps no inbox")
	read, err := ib.ReadInbox(context.Background(), "acc_1", thread, t0.Add(-time.Hour))
	require.NoError(t, err)
	return read
}

func event(id string, mutate ...func(*webhook.Event)) []byte {
	e := webhook.Event{
		ThreadID: "thread-1", MessageID: id, ThreadType: "group", SenderNumber: "+14155550100",
		AccountID: "acc_1", Timestamp: t0.Format(time.RFC3339), Service: "whatsapp",
		MessageType: "text", IsFromAgent: true, Content: webhook.Content{Text: "Standup at 10"},
	}
	for _, m := range mutate {
		m(&e)
	}
	b, _ := json.Marshal(e)
	return b
}

func TestReceiverStoresOnceAndRefusesWhatItCannotTrust(t *testing.T) {
	f := newReceiverFixture(t)
	// Before a wake has read the configuration, nothing is accepted, and
	// A1Base is told to come back.
	w := f.post(event("m1"), testSecret, t0)
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	require.NotEmpty(t, w.Header().Get("Retry-After"))

	f.r.configure(context.Background(), &spec.Config{})
	require.Equal(t, http.StatusOK, f.post(event("m1"), testSecret, t0).Code)
	require.Equal(t, http.StatusOK, f.post(event("m1"), testSecret, t0.Add(time.Second)).Code, "a retried event is acknowledged")

	refused := []struct {
		name   string
		body   []byte
		secret string
		at     time.Time
		status int
		reason string
	}{
		{"bad JSON", []byte(`{"thread_id": "thread-1", `), testSecret, t0, http.StatusBadRequest, "not a webhook event"},
		{"no message id", event("", func(e *webhook.Event) {}), testSecret, t0, http.StatusBadRequest, "no message_id"},
		{"wrong signature", event("m2"), "another-secret", t0, http.StatusForbidden, "signature does not match"},
		{"unsigned", event("m3"), "", t0, http.StatusForbidden, "not signed"},
		{"replay", event("m4"), testSecret, t0.Add(-10 * time.Minute), http.StatusForbidden, "outside the accepted window"},
		{"signed in the future", event("m5"), testSecret, t0.Add(10 * time.Minute), http.StatusForbidden, "outside the accepted window"},
		{"unknown account", event("m6", func(e *webhook.Event) { e.AccountID = "acc_other" }), testSecret, t0, http.StatusForbidden, `account "acc_other" is not one`},
		{"oversized", event("m7", func(e *webhook.Event) { e.Content.Text = strings.Repeat("x", webhook.MaxBody) }), testSecret, t0, http.StatusRequestEntityTooLarge, "larger than"},
		{"no zone in its date", event("m8", func(e *webhook.Event) { e.Timestamp = "2026-12-01T09:00:00" }), testSecret, t0, http.StatusBadRequest, "not an ISO 8601 time with a zone"},
	}
	for _, c := range refused {
		w := f.post(c.body, c.secret, c.at)
		require.Equal(t, c.status, w.Code, c.name)
		require.Contains(t, w.Body.String(), c.reason, c.name)
		require.NotContains(t, w.Body.String(), testSecret, c.name)
	}

	// A private chat's message is acknowledged and not kept.
	require.Equal(t, http.StatusOK, f.post(event("m9", func(e *webhook.Event) { e.ThreadType = "individual" }), testSecret, t0).Code)
	// A member's message is kept without its sender or words.
	member := event("m10", func(e *webhook.Event) {
		e.IsFromAgent, e.SenderNumber, e.Content.Text = false, "+447700900123", "my phone number is private"
	})
	require.Equal(t, http.StatusOK, f.post(member, testSecret, t0).Code)

	read := f.inbox(t, "thread-1")
	require.Len(t, read.Messages, 2, "m1 once and the member's m10; nothing refused is stored")
	got := map[string]state.InboxMessage{}
	for _, m := range read.Messages {
		got[m.ID] = m
	}
	require.Equal(t, state.ContentDigest("Standup at 10"), got["m1"].TextDigest)
	require.Equal(t, "+14155550100", got["m1"].Sender)
	require.True(t, got["m1"].FromAgent)
	require.Equal(t, state.InboxMessage{Account: "acc_1", ID: "m10", Thread: "thread-1", Created: t0, Received: t0}, got["m10"])
	raw, err := os.ReadFile(f.path + ".inbox")
	require.NoError(t, err)
	require.NotContains(t, string(raw), "private", "a member's words are not stored")
	require.NotContains(t, string(raw), "Standup", "the account's text is kept as a digest")

	require.Equal(t, map[string]int{"stored": 2, "duplicate": 1, "ignored": 1, "refused": len(refused) + 1}, f.counts)
	require.Contains(t, f.ev.list(), "webhook_refused 403 the signature does not match")
}

func TestReceiverListensInSpansWithAGapWhereItCouldNotStore(t *testing.T) {
	f := newReceiverFixture(t)
	f.r.configure(context.Background(), &spec.Config{})
	f.advance(time.Hour)
	require.Equal(t, http.StatusOK, f.post(event("m1"), testSecret, f.clock()).Code)
	f.r.persistSpan() // a heartbeat
	f.advance(time.Second)
	// Storing fails: A1Base is asked to send it again, and the receiver
	// no longer claims to have listened without a gap.
	require.NoError(t, os.Rename(f.path+".inbox", f.path+".inbox.moved"))
	require.NoError(t, os.Mkdir(f.path+".inbox", 0o700))
	w := f.post(event("m2"), testSecret, f.clock())
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	require.Contains(t, strings.Join(f.ev.list(), "\n"), "inbox_failed storing webhook message m2")
	require.NoError(t, os.Remove(f.path+".inbox"))
	require.NoError(t, os.Rename(f.path+".inbox.moved", f.path+".inbox"))
	f.advance(time.Minute)
	f.r.persistSpan() // the next heartbeat starts a new span
	require.Equal(t, http.StatusOK, f.post(event("m2"), testSecret, f.clock()).Code)
	f.advance(time.Hour)
	f.r.close()

	read := f.inbox(t, "thread-1")
	require.Len(t, read.Messages, 2)
	require.True(t, read.Listened(t0, t0.Add(time.Hour)), "listened from the start until the failure")
	require.False(t, read.Listened(t0, t0.Add(2*time.Hour)), "a span across the failure")
	require.True(t, read.Listened(t0.Add(time.Hour+time.Minute+time.Second), t0.Add(2*time.Hour+time.Minute)), "listened again after it, until it stopped: %+v", read.Spans)

	// Another receiver behind the same address listened throughout; the
	// gap still breaks the time this one failed to store.
	ib, ok := any(state.OpenLocal(f.path)).(state.Inbox)
	require.True(t, ok)
	require.NoError(t, ib.Listening(context.Background(), state.ListenSpan{Receiver: "other", Since: t0, Until: t0.Add(3 * time.Hour)}))
	read = f.inbox(t, "thread-1")
	require.True(t, read.Listened(t0, t0.Add(time.Hour)))
	require.False(t, read.Listened(t0, t0.Add(2*time.Hour)), "the gap breaks the other receiver's span too")
	require.True(t, read.Listened(t0.Add(time.Hour+time.Minute+time.Second), t0.Add(3*time.Hour)))
}

// TestReceiverLiveSpan: a pass in the receiver's own process reads the
// receiver's span as lasting until the read began, beyond its last
// heartbeat; not once storing has failed.
func TestReceiverLiveSpan(t *testing.T) {
	f := newReceiverFixture(t)
	f.r.configure(context.Background(), &spec.Config{})
	ib, ok := any(state.OpenLocal(f.path)).(state.Inbox)
	require.True(t, ok)
	live := f.r.live(ib)
	f.advance(10 * time.Minute)
	read, err := live.ReadInbox(context.Background(), "acc_1", "thread-1", t0)
	require.NoError(t, err)
	require.True(t, read.Listened(t0, t0.Add(10*time.Minute)), "live until the read")
	persisted, err := ib.ReadInbox(context.Background(), "acc_1", "thread-1", t0)
	require.NoError(t, err)
	require.False(t, persisted.Listened(t0, t0.Add(10*time.Minute)), "no heartbeat recorded it")

	f.r.breakSpan()
	read, err = live.ReadInbox(context.Background(), "acc_1", "thread-1", t0)
	require.NoError(t, err)
	require.False(t, read.Listened(t0, t0.Add(10*time.Minute)), "a broken span is not extended")
}
