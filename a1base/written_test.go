package a1base_test

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/a1base/sandbox"
)

// slowConn takes its time over each write and notes when the last one
// returned.
type slowConn struct {
	net.Conn
	mu   sync.Mutex
	last time.Time
}

func (c *slowConn) Write(p []byte) (int, error) {
	time.Sleep(30 * time.Millisecond)
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	c.last = time.Now()
	c.mu.Unlock()
	return n, err
}

// The rate limits stamp a start when its request is written: on herald's
// own transport, when the connection's write that ends the request has
// returned, after however long opening the connection took.
func TestWrittenIsReportedOnceTheRequestLeft(t *testing.T) {
	srv := sandbox.NewServer(sandbox.WithCredentials(testKey, testSecret), sandbox.WithAccountID("acc_123"), sandbox.WithThreads(textSend.ThreadID))
	defer srv.Close()
	var conns []*slowConn
	var mu sync.Mutex
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		time.Sleep(40 * time.Millisecond) // a slow connection setup
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		sc := &slowConn{Conn: c}
		mu.Lock()
		conns = append(conns, sc)
		mu.Unlock()
		return sc, nil
	}
	c := a1base.NewWithDialer(a1base.Config{BaseURL: srv.URL, AccountID: "acc_123", APIKey: testKey, APISecret: testSecret}, dial)

	for _, call := range []struct {
		name string
		do   func(ctx context.Context) error
	}{
		{"send", func(ctx context.Context) error { return c.SendGroup(ctx, textSend).Err }},
		{"look-up", func(ctx context.Context) error { _, err := c.RecentMessages(ctx, textSend.ThreadID); return err }},
	} {
		var stamps []time.Time
		ctx := a1base.WithWritten(context.Background(), func() { stamps = append(stamps, time.Now()) })
		require.NoError(t, call.do(ctx), call.name)
		require.Len(t, stamps, 1, "%s: reported once", call.name)
		mu.Lock()
		last := conns[len(conns)-1].last
		mu.Unlock()
		assert.False(t, stamps[0].Before(last), "%s: reported %s before its last write returned", call.name, last.Sub(stamps[0]))
	}
}

// On a caller's HTTP client net/http's report is all there is; a request
// that never reached the server is never reported written.
func TestWrittenWithACallersClient(t *testing.T) {
	srv := sandbox.NewServer(sandbox.WithCredentials(testKey, testSecret), sandbox.WithAccountID("acc_123"))
	defer srv.Close()
	n := 0
	ctx := a1base.WithWritten(context.Background(), func() { n++ })
	res := newClient(srv.URL, func(c *a1base.Config) { c.HTTPClient = &http.Client{} }).SendGroup(ctx, textSend)
	require.NoError(t, res.Err)
	assert.Equal(t, 1, n)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	l.Close()
	n = 0
	res = newClient("http://"+l.Addr().String()).SendGroup(ctx, textSend)
	require.Error(t, res.Err)
	assert.Zero(t, n, "nothing was written")
}
