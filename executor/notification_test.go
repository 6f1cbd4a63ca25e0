package executor

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/spec"
)

// notifySender records when each request arrived and answers with
// answer.
type notifySender struct {
	mu       sync.Mutex
	arrivals []time.Time
	reqs     []a1base.SendRequest
	answer   a1base.Result
}

func (s *notifySender) SendGroup(ctx context.Context, req a1base.SendRequest) a1base.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.arrivals = append(s.arrivals, time.Now())
	s.reqs = append(s.reqs, req)
	if s.answer.Outcome == 0 && s.answer.Err == nil {
		return delivered(req)
	}
	return s.answer
}

func (s *notifySender) RecentMessages(context.Context, string) ([]a1base.ThreadMessage, error) {
	return nil, nil
}
func (s *notifySender) CheckMedia(context.Context, string, string) error { return nil }

// TestSendNotificationWithinLimits: notifications to a group wait for its
// rate limit, counted in the same limiters as the sends.
func TestSendNotificationWithinLimits(t *testing.T) {
	rl, err := spec.ParseRateLimit("1/1s")
	require.NoError(t, err)
	g := &spec.Group{Name: "organisers", ThreadID: "t-org", Service: "whatsapp", From: "+14155552671", RateLimit: rl}
	s := &notifySender{}
	opts := Options{Limiters: NewLimiters(), Now: runningClock()}
	for i := 0; i < 3; i++ {
		require.NoError(t, SendNotification(context.Background(), s, opts, g, "[herald] failed: message.a"))
	}
	require.Len(t, s.arrivals, 3)
	for i := 1; i < 3; i++ {
		require.GreaterOrEqual(t, s.arrivals[i].Sub(s.arrivals[i-1]), 950*time.Millisecond, "start %d came too soon", i)
	}
	require.Equal(t, "t-org", s.reqs[0].ThreadID)
	require.Equal(t, "+14155552671", s.reqs[0].From)
}

// TestSendNotificationErrors: an answer that is not a delivery is an
// error (to be tried again), unknown included.
func TestSendNotificationErrors(t *testing.T) {
	g := &spec.Group{Name: "organisers", ThreadID: "t-org", Service: "whatsapp", From: "+14155552671"}
	for _, res := range []a1base.Result{transient(503, 0), permanent("thread archived"), ambiguous()} {
		s := &notifySender{answer: res}
		err := SendNotification(context.Background(), s, Options{Now: runningClock()}, g, "[herald] x")
		require.Error(t, err)
		require.Contains(t, err.Error(), "group organisers")
	}
	err := SendNotification(context.Background(), nil, Options{}, g, "x")
	require.ErrorContains(t, err, "no A1Base credentials")
}
