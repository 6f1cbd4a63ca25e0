// Package lsptest is a language client for tests: it speaks to a language
// server over a pair of streams as an editor would, and collects the
// diagnostics the server publishes.
package lsptest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// Client is one editor's connection to a server.
type Client struct {
	conn jsonrpc2.Conn

	mu sync.Mutex
	// published are the diagnostics notifications in the order they came.
	published []protocol.PublishDiagnosticsParams
	changed   chan struct{}
}

// pipeStream joins a reader and a writer into the stream jsonrpc2 needs.
type pipeStream struct {
	io.Reader
	io.WriteCloser
}

// New starts a client reading the server's output from r and writing its
// requests to w; closing the client closes w, which ends the server.
func New(ctx context.Context, r io.Reader, w io.WriteCloser) *Client {
	c := &Client{conn: jsonrpc2.NewConn(jsonrpc2.NewStream(pipeStream{r, w})), changed: make(chan struct{}, 1)}
	c.conn.Go(ctx, func(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request) error {
		if req.Method() == protocol.MethodTextDocumentPublishDiagnostics {
			var p protocol.PublishDiagnosticsParams
			if err := json.Unmarshal(req.Params(), &p); err == nil {
				c.mu.Lock()
				c.published = append(c.published, p)
				c.mu.Unlock()
				select {
				case c.changed <- struct{}{}:
				default:
				}
			}
		}
		return reply(ctx, nil, nil)
	})
	return c
}

// Call sends a request and decodes its result into result.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	_, err := c.conn.Call(ctx, method, params, result)
	return err
}

// Notify sends a notification.
func (c *Client) Notify(ctx context.Context, method string, params any) error {
	return c.conn.Notify(ctx, method, params)
}

// Close ends the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Done is closed when the connection has ended.
func (c *Client) Done() <-chan struct{} { return c.conn.Done() }

// WaitDiagnostics waits for the diagnostics of uri published at or after
// the version (0: any), and returns the first such notification; it fails
// when timeout passes without one. Notifications it returns are consumed.
func (c *Client) WaitDiagnostics(uri protocol.DocumentURI, version uint32, timeout time.Duration) (protocol.PublishDiagnosticsParams, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		for i, p := range c.published {
			if p.URI == uri && p.Version >= version {
				c.published = append(c.published[:i:i], c.published[i+1:]...)
				c.mu.Unlock()
				return p, nil
			}
		}
		c.mu.Unlock()
		select {
		case <-c.changed:
		case <-deadline.C:
			return protocol.PublishDiagnosticsParams{}, fmt.Errorf("no diagnostics for %s (version %d) within %s", uri, version, timeout)
		case <-c.conn.Done():
			return protocol.PublishDiagnosticsParams{}, fmt.Errorf("the connection ended before diagnostics for %s came", uri)
		}
	}
}
