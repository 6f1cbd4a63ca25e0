package a1base_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/a1base/sandbox"
)

const (
	testKey    = "key-0f1e2d3c4b5a69788796a5b4"
	testSecret = "secret-a9b8c7d6e5f4a3b2c1d0"
)

var textSend = a1base.SendRequest{
	Content:  "Launch day is 2026-12-01!",
	From:     "+14155552671",
	ThreadID: "group-thread-id-123",
	Service:  "whatsapp",
}

func newClient(baseURL string, mod ...func(*a1base.Config)) *a1base.Client {
	cfg := a1base.Config{
		BaseURL:   baseURL,
		AccountID: "acc_123",
		APIKey:    testKey,
		APISecret: testSecret,
		UserAgent: a1base.UserAgent("1.2.3"),
	}
	for _, m := range mod {
		m(&cfg)
	}
	return a1base.New(cfg)
}

func withTimeout(d time.Duration) func(*a1base.Config) {
	return func(c *a1base.Config) { c.Timeout = d }
}

func TestSendGroupDeliveredByFake(t *testing.T) {
	for _, wrapped := range []bool{false, true} {
		t.Run(fmt.Sprintf("wrapped=%v", wrapped), func(t *testing.T) {
			opts := []sandbox.Option{
				sandbox.WithCredentials(testKey, testSecret),
				sandbox.WithAccountID("acc_123"),
				sandbox.WithClock(func() time.Time { return time.Date(2026, 12, 1, 8, 0, 0, 987654321, time.UTC) }),
			}
			if wrapped {
				opts = append(opts, sandbox.WithWrappedAnswers())
			}
			srv := sandbox.NewServer(opts...)
			defer srv.Close()

			res := newClient(srv.URL).SendGroup(context.Background(), textSend)
			require.NoError(t, res.Err)
			assert.Equal(t, a1base.Delivered, res.Outcome)
			assert.Equal(t, 200, res.StatusCode)
			assert.Equal(t, &a1base.GroupAnswer{
				MessageID:   "msg_1",
				ChatGroupID: textSend.ThreadID,
				From:        textSend.From,
				Body:        textSend.Content,
				Status:      "queued",
				DateCreated: "2026-12-01T08:00:00Z",
			}, res.Answer)

			sends := srv.Sends()
			require.Len(t, sends, 1)
			assert.Equal(t, textSend, sends[0].Request)
			assert.Equal(t, "acc_123", sends[0].AccountID)
			assert.Equal(t, "herald/1.2.3 (+https://github.com/heraldhq/herald)", sends[0].Header.Get("User-Agent"))
			assert.Equal(t, "application/json", sends[0].Header.Get("Content-Type"))
			assert.Equal(t, "application/json", sends[0].Header.Get("Accept"))
		})
	}
}

func TestSendGroupRequestShape(t *testing.T) {
	var got struct {
		method, path, key, secret, ua string
		body                          map[string]any
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path = r.Method, r.URL.EscapedPath()
		got.key, got.secret = r.Header.Get("X-API-Key"), r.Header.Get("X-API-Secret")
		got.ua = r.Header.Get("User-Agent")
		json.NewDecoder(r.Body).Decode(&got.body)
		w.Write([]byte(`{"chat_group_id":"g","status":"queued"}`))
	}))
	defer ts.Close()

	c := newClient(ts.URL+"/v1/", func(c *a1base.Config) { c.AccountID = "acc/1 x"; c.UserAgent = "" })
	media := a1base.SendRequest{From: "+14155552671", ThreadID: "t-1", Service: "telegram", AttachmentURI: "https://example.com/q3.pdf"}
	res := c.SendGroup(context.Background(), media)
	require.NoError(t, res.Err)
	assert.Equal(t, http.MethodPost, got.method)
	assert.Equal(t, "/v1/messages/group/acc%2F1%20x/send", got.path)
	assert.Equal(t, testKey, got.key)
	assert.Equal(t, testSecret, got.secret)
	assert.True(t, strings.HasPrefix(got.ua, "herald/"), got.ua)
	// A media send carries its caption in content, "" when none.
	assert.Equal(t, map[string]any{
		"content": "", "from": "+14155552671", "thread_id": "t-1",
		"service": "telegram", "attachment_uri": "https://example.com/q3.pdf",
	}, got.body)
}

func TestSendGroupClassifiesAnswers(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		outcome    a1base.Outcome
		retryAfter time.Duration
		err        string // exact text; "" for no error
		errHas     []string
		answer     *a1base.GroupAnswer
	}{
		{
			name: "flat", status: 200, outcome: a1base.Delivered,
			body:   `{"chat_group_id":"cg","from":"+1","body":"hi","status":"sent","date_created":"2026-12-01T09:00:00Z"}`,
			answer: &a1base.GroupAnswer{ChatGroupID: "cg", From: "+1", Body: "hi", Status: "sent", DateCreated: "2026-12-01T09:00:00Z"},
		},
		{
			name: "wrapped", status: 200, outcome: a1base.Delivered,
			body:   `{"status":"success","data":{"chat_group_id":"cg","from":"+1","body":"hi","status":"queued","date_created":"2026-12-01T09:00:00Z"}}`,
			answer: &a1base.GroupAnswer{ChatGroupID: "cg", From: "+1", Body: "hi", Status: "queued", DateCreated: "2026-12-01T09:00:00Z"},
		},
		{
			name: "with the message id", status: 200, outcome: a1base.Delivered,
			body:   `{"messageId":"m-77","chat_group_id":"cg","from":"+1","body":"hi","status":"sent","date_created":"2026-12-01T09:00:00Z","direction":"outbound","participants":["+1","+2"]}`,
			answer: &a1base.GroupAnswer{MessageID: "m-77", ChatGroupID: "cg", From: "+1", Body: "hi", Status: "sent", DateCreated: "2026-12-01T09:00:00Z"},
		},
		{
			name: "with the message id spelled as the thread spells it", status: 200, outcome: a1base.Delivered,
			body:   `{"data":{"message_id":"m-78","chat_group_id":"cg","status":"queued"}}`,
			answer: &a1base.GroupAnswer{MessageID: "m-78", ChatGroupID: "cg", Status: "queued"},
		},
		{
			name: "unparseable 2xx is still delivered", status: 200, outcome: a1base.Delivered,
			body: `<html>ok</html>`, answer: &a1base.GroupAnswer{},
		},
		{
			name: "odd field types are kept", status: 201, outcome: a1base.Delivered,
			body:   `{"chat_group_id":42,"status":"queued","body":null}`,
			answer: &a1base.GroupAnswer{ChatGroupID: "42", Status: "queued"},
		},
		{
			name: "422 list", status: 422, outcome: a1base.Permanent,
			body: `{"detail":[{"loc":["body","from"],"msg":"value is not a valid phone number","type":"value_error"},` +
				`{"loc":["body","service"],"msg":"Input should be 'whatsapp' or 'telegram'","type":"enum"},` +
				`{"loc":["body","items",0,"x"],"msg":"bad","type":"t"}]}`,
			err: "A1Base answered 422 Unprocessable Entity: from: value is not a valid phone number; " +
				"service: Input should be 'whatsapp' or 'telegram'; items[0].x: bad",
		},
		{
			name: "400 string", status: 400, outcome: a1base.Permanent, body: `{"detail":"Agent number not in group"}`,
			err: "A1Base answered 400 Bad Request: Agent number not in group",
		},
		{
			name: "404 string", status: 404, outcome: a1base.Permanent, body: `{"detail":"Thread not found"}`,
			err: "A1Base answered 404 Not Found: Thread not found",
		},
		{
			name: "401", status: 401, outcome: a1base.Permanent, body: `{"detail":"Invalid API credentials"}`,
			errHas: []string{"refused the credentials", "401", "A1BASE_API_KEY", "Invalid API credentials"},
		},
		{
			name: "403", status: 403, outcome: a1base.Permanent, body: `{"detail":"Forbidden"}`,
			errHas: []string{"refused access", "403", "A1BASE_API_SECRET"},
		},
		{
			name: "other 4xx", status: 409, outcome: a1base.Permanent, body: `not json`,
			err: "A1Base answered 409 Conflict",
		},
		{
			name: "408 was not processed", status: 408, outcome: a1base.Transient,
			err: "A1Base answered 408 Request Timeout",
		},
		{
			name: "429 seconds", status: 429, header: map[string]string{"Retry-After": "7"}, outcome: a1base.Transient,
			retryAfter: 7 * time.Second, body: `{"detail":"Rate limit exceeded"}`,
			err: "A1Base answered 429 Too Many Requests: Rate limit exceeded",
		},
		{
			name: "429 date", status: 429, header: map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)},
			outcome: a1base.Transient, retryAfter: 90 * time.Second,
		},
		{
			name: "429 date in the past", status: 429, header: map[string]string{"Retry-After": now.Add(-time.Minute).Format(http.TimeFormat)},
			outcome: a1base.Transient,
		},
		{
			name: "429 garbage", status: 429, header: map[string]string{"Retry-After": "soon"}, outcome: a1base.Transient,
		},
		{name: "500", status: 500, outcome: a1base.Transient, err: "A1Base answered 500 Internal Server Error"},
		{
			name: "500 with Retry-After", status: 500, header: map[string]string{"Retry-After": "3"}, outcome: a1base.Transient,
			retryAfter: 3 * time.Second,
		},
		// A gateway's error may come after A1Base processed the send.
		{
			name: "502 may have been delivered", status: 502, outcome: a1base.Ambiguous, body: `<html>bad gateway</html>`,
			errHas: []string{"A1Base answered 502 Bad Gateway", "may or may not have been delivered"},
		},
		{
			name: "504 may have been delivered", status: 504, header: map[string]string{"Retry-After": "2"}, outcome: a1base.Ambiguous,
			errHas: []string{"A1Base answered 504 Gateway Timeout", "may or may not have been delivered"},
		},
		{
			name: "other 5xx may have been delivered", status: 520, outcome: a1base.Ambiguous, body: `{"detail":"origin error"}`,
			errHas: []string{"A1Base answered 520", "origin error", "may or may not have been delivered"},
		},
		{name: "501 may have been delivered", status: 501, outcome: a1base.Ambiguous},
		{
			name: "503 with Retry-After", status: 503, header: map[string]string{"Retry-After": "2"}, outcome: a1base.Transient,
			retryAfter: 2 * time.Second,
		},
		{
			name: "redirect is not followed", status: 302, header: map[string]string{"Location": "/elsewhere"}, outcome: a1base.Permanent,
			errHas: []string{"redirect", "302", "/elsewhere", "base_url"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var elsewhere atomic.Int32
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/elsewhere" {
					elsewhere.Add(1)
					return
				}
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer ts.Close()
			c := newClient(ts.URL)
			a1base.SetClock(c, func() time.Time { return now })

			res := c.SendGroup(context.Background(), textSend)
			assert.Equal(t, tt.outcome, res.Outcome, "outcome")
			assert.Equal(t, tt.status, res.StatusCode)
			assert.Equal(t, tt.retryAfter, res.RetryAfter)
			assert.Equal(t, tt.answer, res.Answer)
			assert.Zero(t, elsewhere.Load(), "a redirect was followed")
			if tt.outcome == a1base.Delivered {
				assert.NoError(t, res.Err)
				return
			}
			require.Error(t, res.Err)
			var apiErr *a1base.APIError
			assert.True(t, errors.As(res.Err, &apiErr), "an *APIError")
			if tt.err != "" {
				assert.Equal(t, tt.err, res.Err.Error())
			}
			for _, s := range tt.errHas {
				assert.Contains(t, res.Err.Error(), s)
			}
		})
	}
}

func TestSendGroupFakeValidation(t *testing.T) {
	srv := sandbox.NewServer()
	defer srv.Close()
	bad := textSend
	bad.From = "14155552671"
	bad.Service = "sms"
	res := newClient(srv.URL).SendGroup(context.Background(), bad)
	assert.Equal(t, a1base.Permanent, res.Outcome)
	assert.Equal(t, 422, res.StatusCode)
	assert.EqualError(t, res.Err, "A1Base answered 422 Unprocessable Entity: from: value is not a valid phone number; "+
		"service: Input should be 'whatsapp' or 'telegram'")
	assert.Empty(t, srv.Sends())
}

func TestSendGroupRefusedCredentials(t *testing.T) {
	srv := sandbox.NewServer(sandbox.WithCredentials("other-key-123456", "other-secret-123456"))
	defer srv.Close()
	res := newClient(srv.URL).SendGroup(context.Background(), textSend)
	assert.Equal(t, a1base.Permanent, res.Outcome)
	assert.Equal(t, 401, res.StatusCode)
	assert.Contains(t, res.Err.Error(), "refused the credentials")
	assert.Empty(t, srv.Sends())
	assert.Len(t, srv.Arrivals(), 1)
}

func TestSendGroupConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()

	res := newClient("http://"+addr).SendGroup(context.Background(), textSend)
	assert.Equal(t, a1base.Transient, res.Outcome)
	assert.Zero(t, res.StatusCode)
	require.Error(t, res.Err)
	assert.Contains(t, res.Err.Error(), "not sent")
	var opErr *net.OpError
	assert.True(t, errors.As(res.Err, &opErr), "the dial error is kept: %v", res.Err)
}

func TestSendGroupDNSFailure(t *testing.T) {
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: "api.a1base.invalid", IsNotFound: true}}
		},
	}}
	res := newClient("https://api.a1base.invalid/v1", func(c *a1base.Config) { c.HTTPClient = hc }).
		SendGroup(context.Background(), textSend)
	assert.Equal(t, a1base.Transient, res.Outcome)
	assert.Contains(t, res.Err.Error(), "cannot resolve api.a1base.invalid")
}

func TestSendGroupCancelledBeforeWriting(t *testing.T) {
	srv := sandbox.NewServer()
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := newClient(srv.URL).SendGroup(ctx, textSend)
	assert.Equal(t, a1base.Transient, res.Outcome)
	assert.ErrorIs(t, res.Err, context.Canceled)
	assert.Empty(t, srv.Arrivals())
}

// countingServer answers with handle and counts requests and connections.
type countingServer struct {
	*httptest.Server
	requests atomic.Int32
	conns    atomic.Int32
}

func newCountingServer(t *testing.T, handle func(n int32, w http.ResponseWriter, r *http.Request)) *countingServer {
	cs := &countingServer{}
	cs.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := cs.requests.Add(1)
		io.ReadAll(r.Body)
		handle(n, w, r)
	}))
	cs.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			cs.conns.Add(1)
		}
	}
	cs.Start()
	t.Cleanup(cs.Close)
	return cs
}

func closeWithoutAnswer(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

func TestSendGroupReadThenCloseIsAmbiguous(t *testing.T) {
	cs := newCountingServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) { closeWithoutAnswer(w) })
	res := newClient(cs.URL).SendGroup(context.Background(), textSend)
	assert.Equal(t, a1base.Ambiguous, res.Outcome)
	assert.Zero(t, res.StatusCode)
	assert.Contains(t, res.Err.Error(), "may or may not have been delivered")
	assert.Equal(t, int32(1), cs.requests.Load(), "the send was replayed")
}

// A connection that served one send and dies after the next one was read
// must not make the transport send that one again.
func TestSendGroupNoReplayOnReusedConnection(t *testing.T) {
	cs := newCountingServer(t, func(n int32, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Write([]byte(`{"status":"queued"}`))
			return
		}
		closeWithoutAnswer(w)
	})
	c := newClient(cs.URL)
	first := c.SendGroup(context.Background(), textSend)
	require.Equal(t, a1base.Delivered, first.Outcome, "%v", first.Err)
	second := c.SendGroup(context.Background(), textSend)
	assert.Equal(t, a1base.Ambiguous, second.Outcome, "%v", second.Err)
	assert.Equal(t, int32(2), cs.requests.Load(), "the second send was replayed")
	assert.Equal(t, int32(1), cs.conns.Load(), "the second send did not reuse the connection")
}

// failingConn refuses writes once told to, writing nothing: the way a
// reused connection the server has dropped fails.
type failingConn struct {
	net.Conn
	fail *atomic.Bool
}

func (c failingConn) Write(p []byte) (int, error) {
	if c.fail.Load() {
		return 0, errors.New("connection reset by peer")
	}
	return c.Conn.Write(p)
}

// net/http resends a request whose reused connection failed before a byte
// was written when it can rewind the body. A send is not resent even then:
// it comes back as not sent, for the executor to retry knowingly.
func TestSendGroupNoTransportRetryWhenNothingWritten(t *testing.T) {
	cs := newCountingServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"status":"queued"}`))
	})
	var fail atomic.Bool
	var dials atomic.Int32
	c := a1base.NewWithDialer(a1base.Config{BaseURL: cs.URL, AccountID: "acc", APIKey: testKey, APISecret: testSecret},
		func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return failingConn{Conn: conn, fail: &fail}, nil
		})
	require.Equal(t, a1base.Delivered, c.SendGroup(context.Background(), textSend).Outcome)
	fail.Store(true)
	res := c.SendGroup(context.Background(), textSend)
	assert.Equal(t, a1base.Transient, res.Outcome, "%v", res.Err)
	assert.Contains(t, res.Err.Error(), "not sent")
	assert.Equal(t, int32(1), dials.Load(), "the transport retried the send on a new connection")
	assert.Equal(t, int32(1), cs.requests.Load())
}

// With a caller's HTTPClient the connection's byte count is unknown, and a
// request that failed on the transport's final flush may have left: it is
// reported ambiguous, never as not sent.
func TestSendGroupForeignTransportFlushFailureIsAmbiguous(t *testing.T) {
	cs := newCountingServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"status":"queued"}`))
	})
	var fail atomic.Bool
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return failingConn{Conn: conn, fail: &fail}, nil
		},
	}}
	c := newClient(cs.URL, func(c *a1base.Config) { c.HTTPClient = hc })
	require.Equal(t, a1base.Delivered, c.SendGroup(context.Background(), textSend).Outcome)
	fail.Store(true)
	res := c.SendGroup(context.Background(), textSend)
	assert.Equal(t, a1base.Ambiguous, res.Outcome, "%v", res.Err)
	assert.Equal(t, int32(1), cs.requests.Load())
}

func TestSendGroupHangPastTimeoutIsAmbiguous(t *testing.T) {
	release := make(chan struct{})
	cs := newCountingServer(t, func(_ int32, _ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	res := newClient(cs.URL, withTimeout(50*time.Millisecond)).SendGroup(context.Background(), textSend)
	assert.Equal(t, a1base.Ambiguous, res.Outcome)
	assert.ErrorIs(t, res.Err, context.DeadlineExceeded)
	assert.Contains(t, res.Err.Error(), "timed out")
	assert.Equal(t, int32(1), cs.requests.Load())
}

func TestSendGroupCallerDeadlineAfterWritingIsAmbiguous(t *testing.T) {
	arrived := make(chan struct{})
	cs := newCountingServer(t, func(_ int32, _ http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	res := newClient(cs.URL).SendGroup(ctx, textSend)
	assert.Equal(t, a1base.Ambiguous, res.Outcome)
	assert.ErrorIs(t, res.Err, context.Canceled)
	assert.Equal(t, int32(1), cs.requests.Load())
}

func TestSendGroupTruncatedAnswerIsDelivered(t *testing.T) {
	cs := newCountingServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "500")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"chat_group_id":"cg","status":"queued"`))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	})
	res := newClient(cs.URL).SendGroup(context.Background(), textSend)
	assert.Equal(t, a1base.Delivered, res.Outcome)
	assert.NotNil(t, res.Answer)
	assert.NoError(t, res.Err)
}

func TestSendGroupLostAnswerFromFake(t *testing.T) {
	for _, mode := range []sandbox.LoseMode{sandbox.Drop, sandbox.Hang} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			srv := sandbox.NewServer(sandbox.WithFaults(sandbox.Faults{LoseRate: 1, Lose: mode}))
			defer srv.Close()
			res := newClient(srv.URL, withTimeout(100*time.Millisecond)).SendGroup(context.Background(), textSend)
			assert.Equal(t, a1base.Ambiguous, res.Outcome, "%v", res.Err)
			sends := srv.Sends()
			require.Len(t, sends, 1, "the fake delivered the send once")
			assert.True(t, sends[0].AnswerLost)
			assert.Len(t, srv.Arrivals(), 1, "the send was replayed")
		})
	}
}

func TestSendRequestIsNeverReplayable(t *testing.T) {
	c := newClient("https://api.a1base.com/v1")
	req, err := a1base.NewSendRequest(c, context.Background(), []byte(`{}`))
	require.NoError(t, err)
	assert.Nil(t, req.GetBody, "GetBody lets the transport resend the body")
	assert.Empty(t, req.Header.Get("Idempotency-Key"))
	assert.Empty(t, req.Header.Get("X-Idempotency-Key"))
	assert.Equal(t, http.MethodPost, req.Method)
	assert.EqualValues(t, 2, req.ContentLength)
}

func TestSendGroupBadConfig(t *testing.T) {
	tests := map[string]func(*a1base.Config){
		"no account":   func(c *a1base.Config) { c.AccountID = "" },
		"bad base url": func(c *a1base.Config) { c.BaseURL = "api.a1base.com" },
		"ftp base url": func(c *a1base.Config) { c.BaseURL = "ftp://api.a1base.com" },
	}
	for name, mod := range tests {
		t.Run(name, func(t *testing.T) {
			res := newClient("https://api.a1base.com/v1", mod).SendGroup(context.Background(), textSend)
			assert.Equal(t, a1base.Permanent, res.Outcome)
			assert.Error(t, res.Err)
		})
	}
}

// Every way a send can fail, with a server that echoes the credentials it
// was sent into its answers: no error text may hold them.
func TestErrorsNeverHoldCredentials(t *testing.T) {
	echo := func(status int, shape string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			k, s := r.Header.Get("X-API-Key"), r.Header.Get("X-API-Secret")
			w.WriteHeader(status)
			switch shape {
			case "list":
				fmt.Fprintf(w, `{"detail":[{"loc":["header","%s"],"msg":"bad secret %s","type":"x"}]}`, k, s)
			case "object":
				fmt.Fprintf(w, `{"detail":{"key":%q,"secret":%q}}`, k, s)
			default:
				fmt.Fprintf(w, `{"detail":"key %s secret %s refused"}`, k, s)
			}
		}
	}
	handlers := map[string]http.HandlerFunc{
		"400 string": echo(400, "string"),
		"401 string": echo(401, "string"),
		"403 object": echo(403, "object"),
		"422 list":   echo(422, "list"),
		"429 string": echo(429, "string"),
		"500 string": echo(500, "string"),
		"lost":       func(w http.ResponseWriter, _ *http.Request) { closeWithoutAnswer(w) },
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			ts := httptest.NewServer(h)
			defer ts.Close()
			c := newClient(ts.URL)
			res := c.SendGroup(context.Background(), textSend)
			require.Error(t, res.Err)
			text := res.Err.Error() + fmt.Sprintf(" %+v %#v", res, res.Err)
			assert.NotContains(t, text, testKey)
			assert.NotContains(t, text, testSecret)
			_, err := c.RecentMessages(context.Background(), "t")
			if err != nil {
				assert.NotContains(t, err.Error(), testKey)
				assert.NotContains(t, err.Error(), testSecret)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		l.Close()
		res := newClient("http://"+l.Addr().String()).SendGroup(context.Background(), textSend)
		require.Error(t, res.Err)
		assert.NotContains(t, res.Err.Error(), testKey)
		assert.NotContains(t, res.Err.Error(), testSecret)
	})
}

func TestSendGroupConcurrent(t *testing.T) {
	srv := sandbox.NewServer()
	defer srv.Close()
	c := newClient(srv.URL)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sr := textSend
			sr.Content = fmt.Sprintf("message %d", i)
			res := c.SendGroup(context.Background(), sr)
			assert.Equal(t, a1base.Delivered, res.Outcome, "%v", res.Err)
		}()
	}
	wg.Wait()
	assert.Len(t, srv.Sends(), 20)
}

func TestCredentialsFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	key, secret, err := a1base.CredentialsFromEnv(env(map[string]string{"A1BASE_API_KEY": "k", "A1BASE_API_SECRET": "s"}))
	require.NoError(t, err)
	assert.Equal(t, "k", key)
	assert.Equal(t, "s", secret)

	_, _, err = a1base.CredentialsFromEnv(env(map[string]string{"A1BASE_API_KEY": "k"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "A1BASE_API_SECRET is not set")

	_, _, err = a1base.CredentialsFromEnv(env(map[string]string{"A1BASE_API_SECRET": "s", "A1BASE_API_KEY": "  "}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "A1BASE_API_KEY is not set")

	_, _, err = a1base.CredentialsFromEnv(env(nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "A1BASE_API_KEY and A1BASE_API_SECRET are not set")
}

func TestOutcomeString(t *testing.T) {
	assert.Equal(t, "ambiguous", a1base.Ambiguous.String())
	assert.Equal(t, "outcome(9)", a1base.Outcome(9).String())
}

// BenchmarkSendGroup measures a send through the client to the fake over
// loopback, validation and recording included.
func BenchmarkSendGroup(b *testing.B) {
	srv := sandbox.NewServer()
	defer srv.Close()
	c := newClient(srv.URL)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if res := c.SendGroup(ctx, textSend); res.Outcome != a1base.Delivered {
			b.Fatal(res.Err)
		}
	}
}

// Parallel sends reuse their connections instead of opening one per
// request (Go keeps only two idle connections per host by default).
func TestSendGroupReusesConnections(t *testing.T) {
	api := sandbox.NewHandler(sandbox.WithCredentials(testKey, testSecret), sandbox.WithAccountID("acc_123"))
	ts := httptest.NewUnstartedServer(api)
	var opened atomic.Int32
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	ts.Start()
	t.Cleanup(func() { api.Close(); ts.Close() })
	c := newClient(ts.URL)
	const workers, each = 8, 100
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				res := c.SendGroup(context.Background(), textSend)
				assert.Equal(t, a1base.Delivered, res.Outcome, "%v", res.Err)
			}
		}()
	}
	wg.Wait()
	// Without enough idle connections this opens hundreds; a loaded
	// machine may close and reopen a few while a worker is descheduled.
	require.LessOrEqual(t, int(opened.Load()), 3*workers, "connections opened for %d sends", workers*each)
}
