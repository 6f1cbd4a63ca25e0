package executor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/a1base/sandbox"
)

// slowDialer opens every connection after a random delay of up to max, as
// a connection's setup (a TLS handshake, a busy machine) takes the time it
// takes; the fake closes each connection after its answer, so every
// request pays for one.
type slowDialer struct {
	mu  sync.Mutex
	rng *rand.Rand
	max time.Duration
}

func (d *slowDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	wait := time.Duration(d.rng.Int64N(int64(d.max)))
	d.mu.Unlock()
	if err := sleepCtx(ctx, wait); err != nil {
		return nil, err
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

// TestStartsAreStampedWhenWritten: the limits count a start from the
// moment its request is written, not from before its connection was
// opened, so that connection setup cannot crowd N+1 arrivals into one
// window where the API counts them.
func TestStartsAreStampedWhenWritten(t *testing.T) {
	now := runningClock()
	api := sandbox.NewHandler(sandbox.WithCredentials(testKey, testSecret), sandbox.WithAccountID("acc_1"), sandbox.WithClock(now))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		api.ServeHTTP(w, r)
	}))
	defer func() { api.Close(); srv.Close() }()
	dialer := &slowDialer{rng: rand.New(rand.NewPCG(7, 21)), max: 80 * time.Millisecond}
	client := a1base.New(a1base.Config{
		BaseURL: srv.URL, AccountID: "acc_1", APIKey: testKey, APISecret: testSecret,
		HTTPClient: &http.Client{Transport: &http.Transport{DialContext: dialer.dial, DisableKeepAlives: true}},
	})

	b := newPlan()
	for g := range 4 {
		for i := range 8 {
			b.send(fmt.Sprintf("g%d", g), fmt.Sprintf("m%d_%d", g, i), t0)
		}
	}
	rec := &memRecorder{}
	const n, per = 4, 300 * time.Millisecond
	sum, err := Run(context.Background(), b.plan, client, rec, Options{
		Parallelism:  4,
		AccountLimit: limitOf(n, per),
		Now:          now,
	}, nil)
	require.NoError(t, err)
	require.Equal(t, 32, sum.Sent)

	var arrived []time.Time
	for _, a := range api.Arrivals() {
		arrived = append(arrived, a.Arrived)
	}
	require.Len(t, arrived, 32)
	assertWindow(t, "arrivals at the API", arrived, n, per)
}
