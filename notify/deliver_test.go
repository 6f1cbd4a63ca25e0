package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/notify"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

const (
	hookSecret = "whsec-TOPSECRET-signing-key"
	slackToken = "T000/B000/SLACKTOKENxyz"
)

// received is one request a fake receiver got.
type received struct {
	Path   string
	Header http.Header
	Body   []byte
	// Status is the answer given; 0 for a stall.
	Status int
}

// receiver is a fake webhook and Slack endpoint on loopback. Its answer
// decides per request: a status, or a stall longer than the client waits.
type receiver struct {
	mu     sync.Mutex
	got    []received
	answer func(n int) (status int, stall bool)
	srv    *httptest.Server
}

func newReceiver(t *testing.T, answer func(n int) (int, bool)) *receiver {
	r := &receiver{answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.got)
		status, stall := http.StatusOK, false
		if r.answer != nil {
			status, stall = r.answer(n)
		}
		if stall {
			status = 0
		}
		r.got = append(r.got, received{Path: req.URL.Path, Header: req.Header.Clone(), Body: body, Status: status})
		r.mu.Unlock()
		if stall {
			select {
			case <-req.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// clock is a fake clock that sleeping advances.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func outbox(t *testing.T) *state.Local {
	return state.OpenLocal(filepath.Join(t.TempDir(), state.DefaultPath))
}

func hookBlock(url string, events ...string) *spec.Notify {
	return &spec.Notify{Name: "ops-hook", Kind: spec.NotifyWebhook, URL: url, Secret: hookSecret, Events: events}
}

func slackBlock(url string, events ...string) *spec.Notify {
	return &spec.Notify{Name: "ops-slack", Kind: spec.NotifySlack, URL: url, Events: events}
}

func event(kind, addr string) notify.Event {
	return notify.Event{ID: state.EventID(kind, addr), Kind: kind, At: t0, Summary: addr + " " + kind, Addresses: []string{addr}}
}

func enqueue(t *testing.T, ob state.Outbox, blocks []*spec.Notify, now time.Time, limit int, events ...notify.Event) (int, int) {
	t.Helper()
	added, dropped, err := ob.Enqueue(context.Background(), notify.Notifications(blocks, events, now), limit)
	require.NoError(t, err)
	return added, dropped
}

// TestDeliverEachKind records one event of every kind for a webhook and a
// Slack endpoint that want them all, and checks what each receives.
func TestDeliverEachKind(t *testing.T) {
	r := newReceiver(t, nil)
	ob := outbox(t)
	blocks := []*spec.Notify{hookBlock(r.srv.URL+"/hook", spec.NotifyEvents...), slackBlock(r.srv.URL+"/services/"+slackToken, spec.NotifyEvents...)}
	var events []notify.Event
	for _, k := range spec.NotifyEvents {
		events = append(events, event(k, "message.launch"))
	}
	added, _ := enqueue(t, ob, blocks, t0, 100, events...)
	require.Equal(t, 2*len(spec.NotifyEvents), added)

	c := &clock{now: t0}
	d := &notify.Deliverer{Outbox: ob, Blocks: blocks, Now: c.Now}
	res, err := d.DeliverDue(context.Background())
	require.NoError(t, err)
	require.Equal(t, 2*len(spec.NotifyEvents), res.Delivered)
	require.Zero(t, res.Failed)

	hookKinds, slackTexts := map[string]string{}, 0
	for _, q := range r.requests() {
		switch {
		case q.Path == "/hook":
			var e notify.Event
			require.NoError(t, json.Unmarshal(q.Body, &e))
			require.Equal(t, q.Header.Get(notify.HeaderEventID), e.ID)
			require.Equal(t, q.Header.Get(notify.HeaderEvent), e.Kind)
			require.Equal(t, "ops-hook", e.Notify)
			require.Equal(t, []string{"message.launch"}, e.Addresses)
			hookKinds[e.Kind] = e.ID
		default:
			var m map[string]string
			require.NoError(t, json.Unmarshal(q.Body, &m))
			require.Contains(t, m["text"], "[herald]")
			require.Contains(t, m["text"], "message.launch")
			require.Len(t, m, 1, "a Slack body is {\"text\": ...}")
			slackTexts++
		}
	}
	for _, k := range spec.NotifyEvents {
		require.Equal(t, state.EventID(k, "message.launch"), hookKinds[k], "kind %s", k)
	}
	require.Equal(t, len(spec.NotifyEvents), slackTexts)

	// Delivered is delivered: a second round sends nothing.
	res, err = d.DeliverDue(context.Background())
	require.NoError(t, err)
	require.Zero(t, res.Delivered)
	require.Len(t, r.requests(), 2*len(spec.NotifyEvents))
}

// TestDeliverOnlyWantedEvents: a block gets only the kinds it lists.
func TestDeliverOnlyWantedEvents(t *testing.T) {
	ob := outbox(t)
	blocks := []*spec.Notify{hookBlock("https://unused.example/hook", "expired")}
	added, _ := enqueue(t, ob, blocks, t0, 100, event("failed", "message.a"), event("expired", "message.b"))
	require.Equal(t, 1, added)
}

// TestDeliverRetriesAfter500sAndTimeouts: two 500s and a stall, then 200;
// the same event id every time, attempts counted, backoff doubling.
func TestDeliverRetriesAfter500sAndTimeouts(t *testing.T) {
	r := newReceiver(t, func(n int) (int, bool) {
		switch n {
		case 0, 1:
			return http.StatusInternalServerError, false
		case 2:
			return 0, true
		}
		return http.StatusOK, false
	})
	ob := outbox(t)
	blocks := []*spec.Notify{hookBlock(r.srv.URL+"/hook", "failed")}
	enqueue(t, ob, blocks, t0, 100, event("failed", "message.launch"))
	c := &clock{now: t0}
	d := &notify.Deliverer{Outbox: ob, Blocks: blocks, Now: c.Now, RequestTimeout: 200 * time.Millisecond,
		Backoff: notify.Backoff{Base: time.Second, Max: time.Minute}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := d.Drain(ctx, c.Sleep)
	require.NoError(t, err)
	require.Equal(t, 1, res.Delivered)
	require.Equal(t, 3, res.Failed)
	require.Contains(t, res.Errors[0].Error(), "500")
	require.Contains(t, res.Errors[2].Error(), "timed out")

	got := r.requests()
	require.Len(t, got, 4)
	for i, q := range got {
		require.Equal(t, state.EventID("failed", "message.launch"), q.Header.Get(notify.HeaderEventID))
		require.Equal(t, []string{string(rune('1' + i))}, q.Header.Values(notify.HeaderAttempt))
	}
	// Backoff: 1s, 2s, 4s after the three failures.
	require.Equal(t, t0.Add(7*time.Second), c.Now())
	p, err := ob.Pending(context.Background(), t0.Add(24*time.Hour), 0)
	require.NoError(t, err)
	require.Empty(t, p)
}

// TestDeliverPermanentWaitsLongest: a 404 is not retried at once.
func TestDeliverPermanentWaitsLongest(t *testing.T) {
	r := newReceiver(t, func(int) (int, bool) { return http.StatusNotFound, false })
	ob := outbox(t)
	blocks := []*spec.Notify{hookBlock(r.srv.URL+"/hook", "failed")}
	enqueue(t, ob, blocks, t0, 100, event("failed", "message.launch"))
	c := &clock{now: t0}
	d := &notify.Deliverer{Outbox: ob, Blocks: blocks, Now: c.Now, Backoff: notify.Backoff{Base: time.Second, Max: time.Hour}}
	res, err := d.DeliverDue(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, res.Failed)
	require.Equal(t, t0.Add(time.Hour), res.NextDue)
}

// TestDeliverSignature checks the signature a receiver verifies, and that
// a changed body or another secret fails verification.
func TestDeliverSignature(t *testing.T) {
	r := newReceiver(t, nil)
	ob := outbox(t)
	unsigned := &spec.Notify{Name: "plain", Kind: spec.NotifyWebhook, URL: r.srv.URL + "/plain", Events: []string{"failed"}}
	blocks := []*spec.Notify{hookBlock(r.srv.URL+"/hook", "failed"), unsigned}
	enqueue(t, ob, blocks, t0, 100, event("failed", "message.launch"))
	c := &clock{now: t0}
	d := &notify.Deliverer{Outbox: ob, Blocks: blocks, Now: c.Now}
	_, err := d.DeliverDue(context.Background())
	require.NoError(t, err)
	got := r.requests()
	require.Len(t, got, 2)
	for _, q := range got {
		sig, ts := q.Header.Get(notify.HeaderSignature), q.Header.Get(notify.HeaderTimestamp)
		require.Equal(t, "1796115600", ts)
		if q.Path == "/plain" {
			require.Empty(t, sig, "a block without a secret does not sign")
			continue
		}
		require.True(t, strings.HasPrefix(sig, "sha256="))
		require.True(t, notify.Verify(hookSecret, ts, sig, q.Body))
		require.False(t, notify.Verify("another-secret", ts, sig, q.Body))
		require.False(t, notify.Verify(hookSecret, ts, sig, append([]byte(" "), q.Body...)))
		require.False(t, notify.Verify(hookSecret, "1796115601", sig, q.Body))
	}
}

// TestDeliverReceiverDownForAnHour: a pass a minute records two events
// while every delivery fails for an hour; the outbox stays within its
// limit, drops the oldest and counts them, and once the receiver is back
// the rest arrive, each once.
func TestDeliverReceiverDownForAnHour(t *testing.T) {
	c := &clock{now: t0}
	back := t0.Add(time.Hour)
	r := newReceiver(t, func(int) (int, bool) {
		if c.Now().Before(back) {
			return http.StatusServiceUnavailable, false
		}
		return http.StatusOK, false
	})
	ob := outbox(t)
	blocks := []*spec.Notify{hookBlock(r.srv.URL+"/hook", "failed")}
	d := &notify.Deliverer{Outbox: ob, Blocks: blocks, Now: c.Now, Backoff: notify.Backoff{Base: time.Second, Max: 5 * time.Minute}}
	const limit = 25
	totalDropped, recorded := 0, 0
	for minute := 0; minute < 60; minute++ {
		var events []notify.Event
		for i := 0; i < 2; i++ {
			events = append(events, event("failed", "message.m"+time.Duration(minute*2+i).String()))
		}
		added, dropped := enqueue(t, ob, blocks, c.Now(), limit, events...)
		recorded += added
		totalDropped += dropped
		_, err := d.DeliverDue(context.Background())
		require.NoError(t, err)
		p, err := ob.Pending(context.Background(), c.Now().Add(24*time.Hour), 0)
		require.NoError(t, err)
		require.LessOrEqual(t, len(p), limit, "the outbox holds more than its limit")
		require.NoError(t, c.Sleep(context.Background(), time.Minute))
	}
	require.Equal(t, 120, recorded)
	require.Equal(t, 120-limit, totalDropped)
	counts, err := ob.DroppedCounts(context.Background())
	require.NoError(t, err)
	require.Equal(t, map[string]int{"ops-hook": 120 - limit}, counts)

	// The receiver is back: what is left arrives, the newest events.
	require.NoError(t, c.Sleep(context.Background(), 10*time.Minute))
	res, err := d.Drain(context.Background(), c.Sleep)
	require.NoError(t, err)
	require.Equal(t, limit, res.Delivered)
	ids := map[string]int{}
	for _, q := range r.requests() {
		if q.Status == http.StatusOK {
			ids[q.Header.Get(notify.HeaderEventID)]++
		}
	}
	require.Len(t, ids, limit)
	for id, n := range ids {
		require.Equal(t, 1, n, "event %s delivered %d times", id, n)
	}
	require.Contains(t, ids, state.EventID("failed", "message.m"+time.Duration(119).String()))
	require.NotContains(t, ids, state.EventID("failed", "message.m"+time.Duration(0).String()))
}

// TestDeliverAfterRestart records, does not deliver (a kill -9 between
// recording and delivering), and delivers from another outbox value on
// the same file: the same event id and body.
func TestDeliverAfterRestart(t *testing.T) {
	r := newReceiver(t, nil)
	path := filepath.Join(t.TempDir(), state.DefaultPath)
	blocks := []*spec.Notify{hookBlock(r.srv.URL+"/hook", "expired")}
	ns := notify.Notifications(blocks, []notify.Event{event("expired", "message.launch")}, t0)
	_, _, err := state.OpenLocal(path).Enqueue(context.Background(), ns, 100)
	require.NoError(t, err)

	d := &notify.Deliverer{Outbox: state.OpenLocal(path), Blocks: blocks, Now: func() time.Time { return t0.Add(time.Minute) }}
	res, err := d.DeliverDue(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, res.Delivered)
	got := r.requests()
	require.Len(t, got, 1)
	require.Equal(t, ns[0].ID, got[0].Header.Get(notify.HeaderEventID))
	require.Equal(t, ns[0].Payload, string(got[0].Body))
}

// TestNoSecretInAnyPayload greps every captured body and header for the
// signing secret and the Slack URL's token.
func TestNoSecretInAnyPayload(t *testing.T) {
	r := newReceiver(t, func(n int) (int, bool) {
		if n%2 == 0 {
			return http.StatusInternalServerError, false
		}
		return http.StatusOK, false
	})
	ob := outbox(t)
	blocks := []*spec.Notify{hookBlock(r.srv.URL+"/hook", spec.NotifyEvents...), slackBlock(r.srv.URL+"/services/"+slackToken, spec.NotifyEvents...)}
	var events []notify.Event
	for _, k := range spec.NotifyEvents {
		events = append(events, event(k, "message.launch"))
	}
	enqueue(t, ob, blocks, t0, 100, events...)
	c := &clock{now: t0}
	d := &notify.Deliverer{Outbox: ob, Blocks: blocks, Now: c.Now, Backoff: notify.Backoff{Base: time.Second, Max: time.Second}}
	res, err := d.Drain(context.Background(), c.Sleep)
	require.NoError(t, err)
	require.Equal(t, 2*len(spec.NotifyEvents), res.Delivered)
	for _, q := range r.requests() {
		for _, secret := range []string{hookSecret, "SLACKTOKENxyz"} {
			require.NotContains(t, string(q.Body), secret)
			for k, v := range q.Header {
				require.NotContains(t, strings.Join(v, " "), secret, "header %s", k)
			}
		}
	}
	for _, e := range res.Errors {
		require.NotContains(t, e.Error(), "SLACKTOKENxyz", "an error names the Slack URL")
	}
	p, err := ob.Pending(context.Background(), t0.Add(48*time.Hour), 0)
	require.NoError(t, err)
	require.Empty(t, p)
}

// TestConnectionRefusedIsRetried: nobody listening is a failure to retry,
// and its error does not name the URL's path.
func TestConnectionRefusedIsRetried(t *testing.T) {
	r := newReceiver(t, nil)
	url := r.srv.URL + "/services/" + slackToken
	r.srv.Close()
	ob := outbox(t)
	blocks := []*spec.Notify{slackBlock(url, "failed")}
	enqueue(t, ob, blocks, t0, 100, event("failed", "message.launch"))
	d := &notify.Deliverer{Outbox: ob, Blocks: blocks, Now: func() time.Time { return t0 }, Backoff: notify.Backoff{Base: time.Second, Max: time.Minute}}
	res, err := d.DeliverDue(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, res.Failed)
	require.Equal(t, t0.Add(time.Second), res.NextDue)
	require.NotContains(t, res.Errors[0].Error(), "SLACKTOKENxyz")
	p, err := ob.Pending(context.Background(), t0.Add(time.Second), 0)
	require.NoError(t, err)
	require.Len(t, p, 1)
	require.Equal(t, 1, p[0].Attempts)
}

func TestBackoff(t *testing.T) {
	b := notify.Backoff{Base: 5 * time.Second, Max: time.Minute}
	var got []time.Duration
	for i := 1; i <= 6; i++ {
		got = append(got, b.After(i))
	}
	require.Equal(t, []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute}, got)
}
