package executor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/state"
)

const (
	testKey    = "key-3f9a0c"
	testSecret = "secret-77c1e4"
)

// stampingTransport notes when each send enters the transport.
type stampingTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	sent []wireSend
}

type wireSend struct {
	at   time.Time
	body string
}

func (s *stampingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	at := time.Now()
	if req.Method == http.MethodPost && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.sent = append(s.sent, wireSend{at: at, body: string(body)})
		s.mu.Unlock()
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	return s.next.RoundTrip(req)
}

func (s *stampingTransport) seen() []wireSend {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// TestAgainstFakeA1Base runs the real client against the fake server:
// retries, refusals and a lost answer, rate limits measured where the
// requests arrive, then reconciliation of the lost answer.
func TestAgainstFakeA1Base(t *testing.T) {
	// herald and the fake read one clock, set on the test's dates.
	now := runningClock()
	srv := sandbox.NewServer(sandbox.WithCredentials(testKey, testSecret), sandbox.WithAccountID("acc_1"), sandbox.WithClock(now))
	defer srv.Close()
	wire := &stampingTransport{next: srv.Client().Transport}
	client := a1base.New(a1base.Config{
		BaseURL: srv.URL, AccountID: "acc_1", APIKey: testKey, APISecret: testSecret,
		Timeout: 5 * time.Second, HTTPClient: &http.Client{Transport: wire},
	})

	b := newPlan()
	b.group("eng", limitOf(2, 100*time.Millisecond))
	for i := range 6 {
		b.send("eng", fmt.Sprintf("eng%d", i), t0.Add(time.Duration(i)*time.Second))
	}
	for i := range 4 {
		b.send("ops", fmt.Sprintf("ops%d", i), t0.Add(time.Hour+time.Duration(i)*time.Second))
	}
	// With one group at a time the script meets eng's messages in order.
	retryAfter := http.Header{}
	retryAfter.Set("Retry-After", "3")
	srv.Script(
		sandbox.Reply{Status: http.StatusTooManyRequests, Header: retryAfter},
		sandbox.Reply{},
		sandbox.Reply{Status: http.StatusUnprocessableEntity, Body: `{"detail":[{"loc":["body","content"],"msg":"Message too long","type":"value_error"}]}`},
		sandbox.Reply{Lost: true, Lose: sandbox.Drop},
	)
	rec := &memRecorder{}
	sleeps := &noSleep{}
	sum, err := Run(context.Background(), b.plan, client, rec, Options{
		Parallelism:  1,
		AccountLimit: limitOf(4, 100*time.Millisecond),
		Now:          now,
		Sleep:        sleeps.sleep,
	}, nil)
	require.NoError(t, err)

	// The lost answer's message is found in its thread right away.
	assert.Equal(t, 9, sum.Sent)
	assert.Equal(t, 1, sum.Failed)
	assert.Equal(t, 0, sum.Unknown)
	assert.Equal(t, 11, sum.Attempts)
	require.Len(t, sleeps.waits, 1)
	assert.GreaterOrEqual(t, sleeps.waits[0], 3*time.Second, "Retry-After honoured")
	assert.Equal(t, state.StatusSent, rec.last("message.eng0"))
	assert.Equal(t, state.StatusFailed, rec.last("message.eng1"))
	assert.Contains(t, rec.of("message.eng1")[1].Error, "Message too long")
	assert.Equal(t, state.StatusSent, rec.last("message.eng2"))
	eng2 := rec.of("message.eng2")
	require.GreaterOrEqual(t, len(eng2), 3)
	assert.Equal(t, state.StatusUnknown, eng2[len(eng2)-2].Status, "recorded unknown before it was found")

	// Order per group where the API saw it, the lost answer included.
	var got []string
	for _, s := range srv.Sends() {
		got = append(got, s.Request.Content)
	}
	assert.Equal(t, []string{
		"text of message.eng0", "text of message.eng2", "text of message.eng3", "text of message.eng4", "text of message.eng5",
		"text of message.ops0", "text of message.ops1", "text of message.ops2", "text of message.ops3",
	}, got)

	// Rate limits hold where requests enter the HTTP client's transport;
	// the fake's own arrival times add loopback and scheduling delays that
	// no sender controls.
	var eng, all []time.Time
	for _, a := range wire.seen() {
		if a.body == "" {
			continue // the thread look-up is no send
		}
		all = append(all, a.at)
		if strings.Contains(a.body, `"thread_id":"thread-eng"`) {
			eng = append(eng, a.at)
		}
	}
	require.Len(t, all, 11)
	require.Len(t, srv.Arrivals(), 12)
	assertWindow(t, "group eng", eng, 2, 100*time.Millisecond)
	assertWindow(t, "account", all, 4, 100*time.Millisecond)

	// Credentials never reach state.
	for _, e := range rec.all() {
		js, err := json.Marshal(e)
		require.NoError(t, err)
		assert.NotContains(t, string(js), testKey)
		assert.NotContains(t, string(js), testSecret)
	}

}
