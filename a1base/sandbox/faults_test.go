package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/a1base/sandbox"
)

func TestServerErrors(t *testing.T) {
	s := sandbox.NewServer(sandbox.WithFaults(sandbox.Faults{ErrorRate: 1}))
	defer s.Close()
	c := client(s, 0)
	res := c.SendGroup(context.Background(), hello)
	assert.Equal(t, a1base.Transient, res.Outcome)
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)

	s.SetFaults(sandbox.Faults{ErrorRate: 1, ErrorStatus: http.StatusBadGateway})
	assert.Equal(t, http.StatusBadGateway, s.Faults().ErrorStatus)
	res = c.SendGroup(context.Background(), hello)
	assert.Equal(t, a1base.Ambiguous, res.Outcome, "a gateway's error may come after the send was processed")
	assert.Equal(t, http.StatusBadGateway, res.StatusCode)
	assert.Empty(t, s.Sends(), "a failed send is not delivered")

	s.SetFaults(sandbox.Faults{})
	assert.Equal(t, a1base.Delivered, c.SendGroup(context.Background(), hello).Outcome)
	assert.Len(t, s.Sends(), 1)
	assert.Len(t, s.Arrivals(), 3)
}

// TestGatewayErrorAfterDelivery: a 502 or 504 may come from a gateway that
// gave up after A1Base processed the send; the fake can answer either way,
// and a delivered one shows in the thread like any delivered send.
func TestGatewayErrorAfterDelivery(t *testing.T) {
	s := sandbox.NewServer(sandbox.WithFaults(sandbox.Faults{ErrorRate: 1, ErrorStatus: http.StatusGatewayTimeout, ErrorDelivers: true}))
	defer s.Close()
	c := client(s, 0)
	res := c.SendGroup(context.Background(), hello)
	assert.Equal(t, http.StatusGatewayTimeout, res.StatusCode)
	assert.Equal(t, a1base.Ambiguous, res.Outcome)
	require.Len(t, s.Sends(), 1, "the 504 came after the send was delivered")
	assert.Equal(t, hello.Content, s.Sends()[0].Request.Content)

	s.SetFaults(sandbox.Faults{})
	s.Script(
		sandbox.Reply{Status: http.StatusBadGateway, Delivered: true},
		sandbox.Reply{Status: http.StatusBadGateway},
	)
	res = c.SendGroup(context.Background(), hello)
	assert.Equal(t, http.StatusBadGateway, res.StatusCode)
	assert.Len(t, s.Sends(), 2, "a scripted 502 after delivery delivers")
	res = c.SendGroup(context.Background(), hello)
	assert.Equal(t, http.StatusBadGateway, res.StatusCode)
	assert.Len(t, s.Sends(), 2, "a plain scripted 502 does not deliver")

	msgs, err := c.RecentMessages(context.Background(), hello.ThreadID)
	require.NoError(t, err)
	assert.Len(t, msgs, 2, "both delivered sends are in the thread")
}

func TestRateLimited(t *testing.T) {
	s := sandbox.NewServer(sandbox.WithFaults(sandbox.Faults{RateLimitRate: 1, RetryAfter: "3"}))
	defer s.Close()
	a := call(t, http.MethodPost, sendURL(s, "acc"), hello, nil)
	assert.Equal(t, http.StatusTooManyRequests, a.status)
	assert.Equal(t, "3", a.header.Get("Retry-After"))
	assert.Equal(t, "Rate limit exceeded", a.body["detail"])

	res := client(s, 0).SendGroup(context.Background(), hello)
	assert.Equal(t, a1base.Transient, res.Outcome)
	assert.Equal(t, 3*time.Second, res.RetryAfter)
	assert.Empty(t, s.Sends())
}

// A send held past the client's patience by latency was never delivered:
// latency comes before the fake acts.
func TestLatencyPastTimeout(t *testing.T) {
	s := sandbox.NewServer(sandbox.WithFaults(sandbox.Faults{Latency: time.Hour}))
	defer s.Close()
	res := client(s, 50*time.Millisecond).SendGroup(context.Background(), hello)
	assert.Equal(t, a1base.Ambiguous, res.Outcome)
	assert.Empty(t, s.Sends())
	require.Len(t, s.Arrivals(), 1)
	assert.Zero(t, s.Arrivals()[0].Status)

	s.SetFaults(sandbox.Faults{Latency: time.Millisecond})
	assert.Equal(t, a1base.Delivered, client(s, 0).SendGroup(context.Background(), hello).Outcome)
}

func TestLostAnswerDrop(t *testing.T) {
	s := sandbox.NewServer(sandbox.WithFaults(sandbox.Faults{LoseRate: 1}))
	defer s.Close()
	res := client(s, 0).SendGroup(context.Background(), hello)
	assert.Equal(t, a1base.Ambiguous, res.Outcome)
	sends := s.Sends()
	require.Len(t, sends, 1)
	assert.True(t, sends[0].AnswerLost)
	require.Len(t, s.Arrivals(), 1)
	assert.Zero(t, s.Arrivals()[0].Status)
	assert.Equal(t, "t-1", s.Arrivals()[0].ThreadID)

	// The lost send is in the thread, for reconciliation to find.
	msgs, err := client(s, 0).RecentMessages(context.Background(), "t-1")
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, "hello", msgs[0].Body)
}

// Close releases a request whose answer hangs, so a server can shut down
// while a client still waits.
func TestLostAnswerHangReleasedByClose(t *testing.T) {
	delivered := make(chan struct{})
	s := sandbox.NewServer(
		sandbox.WithFaults(sandbox.Faults{LoseRate: 1, Lose: sandbox.Hang}),
		sandbox.WithOnReceive(func(sandbox.Received) { close(delivered) }),
	)
	done := make(chan a1base.Result)
	go func() { done <- client(s, time.Hour).SendGroup(context.Background(), hello) }()
	<-delivered
	s.Close()
	res := <-done
	assert.Equal(t, a1base.Ambiguous, res.Outcome)
	require.Len(t, s.Sends(), 1)
	assert.True(t, s.Sends()[0].AnswerLost)
}

func outcomes(t *testing.T, seed uint64, n int) []int {
	s := sandbox.NewServer(sandbox.WithSeed(seed), sandbox.WithFaults(sandbox.Faults{ErrorRate: 0.5}))
	defer s.Close()
	c := client(s, 0)
	var out []int
	for range n {
		out = append(out, c.SendGroup(context.Background(), hello).StatusCode)
	}
	return out
}

func TestFaultsAreDeterministic(t *testing.T) {
	a, b := outcomes(t, 7, 40), outcomes(t, 7, 40)
	assert.Equal(t, a, b, "the same seed gives the same faults")
	assert.Contains(t, a, 200)
	assert.Contains(t, a, 500)
	assert.NotEqual(t, a, outcomes(t, 8, 40), "another seed gives other faults")
}

func TestScript(t *testing.T) {
	s := sandbox.NewServer(
		sandbox.WithCredentials(key, secret),
		sandbox.WithFaults(sandbox.Faults{ErrorRate: 1}), // the script wins
	)
	defer s.Close()
	s.Script(
		sandbox.Reply{Status: 429, Header: http.Header{"Retry-After": {"9"}}},
		sandbox.Reply{Status: 503, Body: `{"detail":"maintenance"}`},
		sandbox.Reply{},
		sandbox.Reply{Status: 200, Body: `{"data":{"chat_group_id":"x","status":"sent"}}`},
		sandbox.Reply{Lost: true},
		sandbox.Reply{Lost: true, Undelivered: true},
		sandbox.Reply{Status: 400, Body: `{"detail":"Agent number not in group"}`},
	)
	assert.Equal(t, 7, s.Pending())

	// A refused send consumes no reply.
	bad := a1base.New(a1base.Config{BaseURL: s.URL, AccountID: "acc", APIKey: "wrong", APISecret: "wrong"})
	assert.Equal(t, 401, bad.SendGroup(context.Background(), hello).StatusCode)
	assert.Equal(t, 7, s.Pending())

	c := client(s, 0)
	var got []string
	for i := range 7 {
		m := hello
		m.Content = fmt.Sprint(i)
		res := c.SendGroup(context.Background(), m)
		got = append(got, fmt.Sprintf("%s %d %v", res.Outcome, res.StatusCode, res.RetryAfter))
		if i == 1 {
			assert.EqualError(t, res.Err, "A1Base answered 503 Service Unavailable: maintenance")
		}
		if i == 3 {
			assert.Equal(t, &a1base.GroupAnswer{ChatGroupID: "x", Status: "sent"}, res.Answer)
		}
	}
	assert.Equal(t, []string{
		"transient 429 9s",
		"transient 503 0s",
		"delivered 200 0s",
		"delivered 200 0s",
		"ambiguous 0 0s",
		"ambiguous 0 0s",
		"permanent 400 0s",
	}, got)
	assert.Zero(t, s.Pending())

	var delivered []string
	for _, r := range s.Sends() {
		delivered = append(delivered, fmt.Sprintf("%s lost=%v", r.Request.Content, r.AnswerLost))
	}
	assert.Equal(t, []string{"2 lost=false", "3 lost=false", "4 lost=true"}, delivered)

	// With the script spent, the faults apply again.
	assert.Equal(t, 500, c.SendGroup(context.Background(), hello).StatusCode)
}

// Faults, scripts and settings change while sends arrive from many
// goroutines; every arrival is recorded once. Run under -race.
func TestConcurrentUse(t *testing.T) {
	s := sandbox.NewServer(sandbox.WithSeed(3))
	defer s.Close()
	var received sync.Map
	s.SetOnReceive(func(r sandbox.Received) { received.Store(r.Seq, r.Request.Content) })
	c := client(s, 5*time.Second)

	const senders, each = 8, 15
	stop := make(chan struct{})
	var toggler sync.WaitGroup
	toggler.Add(1)
	go func() {
		defer toggler.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			s.SetFaults(sandbox.Faults{ErrorRate: float64(i%3) / 4, RateLimitRate: 0.1, RetryAfter: "1"})
			s.SetWrapped(i%2 == 0)
			if i%5 == 0 {
				s.Script(sandbox.Reply{Status: 503})
			}
			s.RejectThread("t-9", 403, "")
			_ = s.Sends()
			_ = s.Arrivals()
			_ = s.Pending()
			s.AddThreadMessage("t-1", "+14155550100", "member", clock.Now())
			time.Sleep(time.Millisecond)
		}
	}()

	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[a1base.Outcome]int{}
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m := hello
				m.Content = fmt.Sprintf("%d-%d", g, i)
				res := c.SendGroup(context.Background(), m)
				mu.Lock()
				counts[res.Outcome]++
				mu.Unlock()
				if i%5 == 0 {
					_, err := c.RecentMessages(context.Background(), "t-1")
					var nf *a1base.ThreadNotFoundError
					assert.False(t, errors.As(err, &nf))
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	toggler.Wait()

	sends := s.Sends()
	assert.Equal(t, senders*each, counts[a1base.Delivered]+counts[a1base.Transient], "%v", counts)
	assert.Equal(t, counts[a1base.Delivered], len(sends))
	seen := map[string]bool{}
	for i, r := range sends {
		assert.Equal(t, i+1, r.Seq)
		assert.False(t, seen[r.Request.Content], "delivered twice: %s", r.Request.Content)
		seen[r.Request.Content] = true
		v, ok := received.Load(r.Seq)
		assert.True(t, ok)
		assert.Equal(t, r.Request.Content, v)
	}
	posts := 0
	for _, a := range s.Arrivals() {
		if a.Method == http.MethodPost {
			posts++
		}
	}
	assert.Equal(t, senders*each, posts)
}
