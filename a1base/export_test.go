package a1base

import (
	"context"
	"net"
	"net/http"
	"time"
)

// SetClock replaces the clock that dates Retry-After against.
func SetClock(c *Client, now func() time.Time) { c.now = now }

// NewSendRequest exposes the request a send is made of.
func NewSendRequest(c *Client, ctx context.Context, body []byte) (*http.Request, error) {
	return c.newSendRequest(ctx, body)
}

// NewWithDialer returns a client on herald's own transport whose
// connections come from dial.
func NewWithDialer(cfg Config, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *Client {
	return newClient(cfg, dial)
}
