package sandbox_test

import (
	"cmp"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/a1base/webhook"
)

// TestWebhookEvents: for every message it delivers, the fake posts a
// webhook event signed with the account's secret, naming the message by
// the id its answer gave; an answer that is lost still has its event.
func TestWebhookEvents(t *testing.T) {
	clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	v := webhook.Verifier{Secret: secret, Now: func() time.Time { return clock }}
	var mu sync.Mutex
	var events []webhook.Event
	var refused []error
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := v.Verify(r.Header, body); err != nil {
			refused = append(refused, err)
			w.WriteHeader(http.StatusForbidden)
			return
		}
		e, err := webhook.Parse(body)
		if err != nil {
			refused = append(refused, err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		events = append(events, e)
	}))
	defer receiver.Close()
	s := sandbox.NewServer(sandbox.WithClock(func() time.Time { return clock }), sandbox.WithWebhook(receiver.URL))
	defer s.Close()

	a := call(t, http.MethodPost, sendURL(s, "acc"), hello, nil)
	require.Equal(t, http.StatusOK, a.status)
	s.Script(sandbox.Reply{Lost: true})
	req, err := http.NewRequest(http.MethodPost, sendURL(s, "acc"), strings.NewReader(`{"content":"hello","from":"+14155552671","thread_id":"t-1","service":"whatsapp"}`))
	require.NoError(t, err)
	req.Header.Set("X-API-Key", key)
	req.Header.Set("X-API-Secret", secret)
	req.Header.Set("Content-Type", "application/json")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("the answer was to be lost, got %s", res.Status)
	}
	// Not delivered: no event of its own, but the thread is the
	// account's, and its members' messages are posted to its webhook.
	s.Script(sandbox.Reply{Lost: true, Undelivered: true})
	req, err = http.NewRequest(http.MethodPost, sendURL(s, "acc"), strings.NewReader(`{"content":"lost","from":"+14155552671","thread_id":"t-2","service":"whatsapp"}`))
	require.NoError(t, err)
	req.Header.Set("X-API-Key", key)
	req.Header.Set("X-API-Secret", secret)
	req.Header.Set("Content-Type", "application/json")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
	s.AddChatter("t-2", "+19995550123", 2, clock, time.Second)
	s.WaitWebhooks()

	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, refused)
	require.Len(t, events, 4)
	var members []webhook.Event
	events = slices.DeleteFunc(events, func(e webhook.Event) bool {
		if e.ThreadID == "t-2" {
			members = append(members, e)
			return true
		}
		return false
	})
	require.Len(t, members, 2)
	for _, m := range members {
		assert.False(t, m.IsFromAgent)
		assert.Equal(t, "acc", m.AccountID)
		assert.Equal(t, "+19995550123", m.SenderNumber)
	}
	require.Len(t, events, 2)
	// Posted as they come, in no set order.
	slices.SortFunc(events, func(a, b webhook.Event) int { return cmp.Compare(a.MessageID, b.MessageID) })
	assert.Equal(t, webhook.Event{
		ThreadID: "t-1", MessageID: a.body["messageId"].(string), ThreadType: "group",
		SenderNumber: "+14155552671", AccountID: "acc", Timestamp: "2026-12-01T09:00:00Z",
		Service: "whatsapp", MessageType: "text", IsFromAgent: true, Content: webhook.Content{Text: "hello"},
	}, events[0])
	assert.NotEqual(t, events[0].MessageID, events[1].MessageID)
}
