package a1base

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/internal/clock"
)

// DefaultTimeout bounds one request when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// maxAnswer caps how much of an answer is read; A1Base's answers are small,
// and a misbehaving proxy must not make herald buffer without end.
const maxAnswer = 1 << 20

// Config configures a Client.
type Config struct {
	// BaseURL is the API root, e.g. https://api.a1base.com/v1.
	BaseURL   string
	AccountID string
	APIKey    string
	APISecret string
	// UserAgent is sent with every request; UserAgent(version) builds one.
	// Empty: UserAgent("").
	UserAgent string
	// Timeout bounds each request from start to the end of the answer.
	// Zero: DefaultTimeout.
	Timeout time.Duration
	// HTTPClient is used for the requests; nil: a client of herald's own.
	// Its redirect policy is replaced for sends (see New).
	HTTPClient *http.Client
	// Endpoint is the send endpoint: EndpointGroup ("" means it too) or
	// EndpointUniversal.
	Endpoint string
}

// The send endpoints a provider can use.
const (
	// EndpointGroup is POST /messages/group/{accountId}/send with a flat
	// body (content, attachment_uri).
	EndpointGroup = "group"
	// EndpointUniversal is POST /send/{accountId} with type "group" and a
	// structured content object.
	EndpointUniversal = "universal"
)

// UserAgent is the User-Agent herald sends: "herald/<version>".
func UserAgent(version string) string {
	if version == "" {
		version = "dev"
	}
	return "herald/" + version + " (+https://github.com/heraldhq/herald)"
}

// Client talks to A1Base. It is safe for concurrent use.
type Client struct {
	cfg     Config
	base    string
	timeout time.Duration
	// api never follows redirects: a 301/302/303 would turn the POST into
	// a GET, and following any redirect of a send sends the body to a URL
	// the user did not configure.
	api *http.Client
	// media follows redirects (media hosts redirect to CDNs) and is only
	// ever given requests without credentials.
	media *http.Client
	now   func() time.Time
}

// New returns a client for cfg. It does not check cfg: a bad base URL or an
// empty account id is reported by the first request, as a permanent outcome.
func New(cfg Config) *Client {
	return newClient(cfg, nil)
}

func newClient(cfg Config, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *Client {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: newTransport(dial)}
	}
	api := *hc
	api.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	media := *hc
	media.CheckRedirect = nil
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = UserAgent("")
	}
	return &Client{
		cfg:     cfg,
		base:    strings.TrimRight(cfg.BaseURL, "/"),
		timeout: timeout,
		api:     &api,
		media:   &media,
		now:     clock.Now,
	}
}

// newTransport is herald's own transport. Its connections count the bytes
// the kernel accepted, so that a send can tell "nothing left" more exactly
// than WroteRequest does (see SendGroup).
func newTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if dial == nil {
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		dial = d.DialContext
	}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: conn}, nil
	}
	// Go keeps two idle connections per host by default; with several
	// groups sending at once every other request would open a new
	// connection (a TLS handshake against the real API).
	t.MaxIdleConnsPerHost = maxIdleConnsPerHost
	return t
}

// maxIdleConnsPerHost covers any sensible -parallelism.
const maxIdleConnsPerHost = 64

// countingConn counts the bytes written to a connection, and tells the
// request it carries (see sendTrace) when a write has returned.
type countingConn struct {
	net.Conn
	written atomic.Int64
	// wrote is the trace of the request the connection was last handed
	// to; nil for none.
	wrote atomic.Pointer[sendTrace]
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	if st := c.wrote.Load(); st != nil && n > 0 {
		st.connWrote()
	}
	return n, err
}

type writtenKey struct{}

// WithWritten returns a context under which SendGroup and RecentMessages
// call written once the request made with it has been written in full:
// on herald's own transport when the write to the connection that ends
// the request has returned, on a caller's HTTPClient when net/http reports
// the request written (httptrace's WroteRequest, a buffer flush earlier).
// It is called at most once, from the transport's goroutine, and not at
// all for a request that was never written. The rate limits stamp a start
// with it: the moment the API can see the request, whatever the time
// taken before to open or reuse a connection.
func WithWritten(ctx context.Context, written func()) context.Context {
	return context.WithValue(ctx, writtenKey{}, written)
}

// sendTrace follows one send through the transport to tell whether any of
// it may have reached the server.
//
// WroteRequest alone is not enough: net/http reports it once the request is
// in the connection's buffer, before the final flush, so a connection that
// fails on that flush without writing a byte would look written. On herald's
// own transport the connection's byte count settles it: if nothing was
// written to the connection since it was handed to this request, nothing of
// the request left. With a caller's HTTPClient only WroteRequest is known,
// and a failed flush is reported as ambiguous, which is the safe side.
//
// The same trace tells WithWritten's function when the request is written:
// net/http reports WroteRequest with the request still in the
// connection's buffer, and flushes it after, so on herald's own transport
// the first write to the connection that returns after WroteRequest is
// the one that ends the request.
type sendTrace struct {
	mu      sync.Mutex
	wrote   bool
	conn    *countingConn
	startAt int64
	// written is WithWritten's function; told is set once it was called.
	written func()
	told    bool
}

// newSendTrace is the trace of a request made under ctx.
func newSendTrace(ctx context.Context) *sendTrace {
	st := &sendTrace{}
	st.written, _ = ctx.Value(writtenKey{}).(func())
	return st
}

func (st *sendTrace) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			conn := info.Conn
			if tc, ok := conn.(interface{ NetConn() net.Conn }); ok {
				conn = tc.NetConn() // TLS
			}
			st.mu.Lock()
			defer st.mu.Unlock()
			st.conn, _ = conn.(*countingConn)
			if st.conn != nil {
				st.startAt = st.conn.written.Load()
				st.conn.wrote.Store(st)
			}
		},
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err != nil {
				return
			}
			st.mu.Lock()
			st.wrote = true
			// Without herald's connection no later write can be seen.
			tell := st.conn == nil && st.take()
			st.mu.Unlock()
			if tell {
				st.written()
			}
		},
	}
}

// take reports whether written is to be called now, once; st.mu is held.
func (st *sendTrace) take() bool {
	if st.written == nil || st.told {
		return false
	}
	st.told = true
	return true
}

// connWrote is told by the connection that a write returned: once the
// request was reported written, that write ended it.
func (st *sendTrace) connWrote() {
	st.mu.Lock()
	tell := st.wrote && st.take()
	st.mu.Unlock()
	if tell {
		st.written()
	}
}

// mayHaveArrived says whether the server may have the whole request. It is
// called after the transport gave up on the request, when the transport's
// write loop for it has ended.
func (st *sendTrace) mayHaveArrived() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.wrote {
		return false
	}
	return st.conn == nil || st.conn.written.Load() != st.startAt
}

// CredentialsFromEnv reads A1BASE_API_KEY and A1BASE_API_SECRET through
// getenv. Credentials come from the environment only, never from files.
func CredentialsFromEnv(getenv func(string) string) (key, secret string, err error) {
	return CredentialsFromEnvVars(getenv, "", "A1BASE_API_KEY", "A1BASE_API_SECRET")
}

// CredentialsFromEnvVars reads the credentials of one account from the
// named environment variables; who names the account in errors (empty for
// the default one).
func CredentialsFromEnvVars(getenv func(string) string, who, keyVar, secretVar string) (key, secret string, err error) {
	key, secret = getenv(keyVar), getenv(secretVar)
	var missing []string
	if strings.TrimSpace(key) == "" {
		missing = append(missing, keyVar)
	}
	if strings.TrimSpace(secret) == "" {
		missing = append(missing, secretVar)
	}
	if who != "" {
		who = " for " + who
	}
	switch len(missing) {
	case 0:
		return key, secret, nil
	case 1:
		return "", "", fmt.Errorf("the environment variable %s is not set: sending%s needs A1Base credentials in %s and %s", missing[0], who, keyVar, secretVar)
	default:
		return "", "", fmt.Errorf("the environment variables %s and %s are not set: sending%s needs A1Base credentials", keyVar, secretVar, who)
	}
}

// endpoint builds an API URL from path segments, escaping each.
// AccountID is the account the client sends with.
func (c *Client) AccountID() string { return c.cfg.AccountID }

func (c *Client) endpoint(segments ...string) (string, error) {
	u, err := url.Parse(c.base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("base_url %q is not an http(s) URL", c.base)
	}
	if c.cfg.AccountID == "" {
		return "", errors.New("no A1Base account id: set account_id in the provider block or A1BASE_ACCOUNT_ID")
	}
	var b strings.Builder
	b.WriteString(c.base)
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String(), nil
}

func (c *Client) setHeaders(req *http.Request) {
	req.Header.Set("X-API-Key", c.cfg.APIKey)
	req.Header.Set("X-API-Secret", c.cfg.APISecret)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
}

// newSendRequest builds the POST of a group send.
//
// A send must never be replayed by the transport: A1Base has no idempotency
// key, so a replay after the request was written could deliver the message
// twice. net/http retries a request on a reused connection that dies only
// when the request is "replayable" (GET/HEAD/OPTIONS/TRACE, or a request
// carrying an Idempotency-Key header) or when nothing of it was written and
// its body can be rewound through GetBody. A POST without an
// Idempotency-Key header is never replayable, and with GetBody cleared even
// the "nothing written" retry cannot happen: every failure comes back to
// SendGroup, which classifies it with what httptrace saw. The Idempotency-Key
// headers must therefore never be set here.
func (c *Client) newSendRequest(ctx context.Context, body []byte) (*http.Request, error) {
	segments := []string{"messages", "group", c.cfg.AccountID, "send"}
	if c.cfg.Endpoint == EndpointUniversal {
		segments = []string{"send", c.cfg.AccountID}
	}
	u, err := c.endpoint(segments...)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.GetBody = nil
	c.setHeaders(req)
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// SendGroup sends one message to a group thread and classifies what became
// of it. It never retries. For a sensitive send, the error hides whatever
// of the content, URL or caption the answer echoed.
func (c *Client) SendGroup(ctx context.Context, sr SendRequest) Result {
	res := c.sendGroup(ctx, sr)
	res.Err = sr.Scrub(res.Err)
	return res
}

func (c *Client) sendGroup(ctx context.Context, sr SendRequest) Result {
	if err := ctx.Err(); err != nil {
		return Result{Outcome: Transient, Err: c.redactErr("not sent: "+err.Error(), err)}
	}
	body, err := c.sendBody(sr)
	if err != nil {
		return Result{Outcome: Permanent, Err: c.redactErr("encoding the send: "+err.Error(), err)}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	// Until the whole request was written the server cannot have acted on
	// it: a partial request is not a request.
	st := newSendTrace(ctx)
	req, err := c.newSendRequest(httptrace.WithClientTrace(ctx, st.clientTrace()), body)
	if err != nil {
		return Result{Outcome: Permanent, Err: c.redactErr(err.Error(), err)}
	}
	resp, err := c.api.Do(req)
	if err != nil {
		cause := unwrapURLError(err)
		if st.mayHaveArrived() {
			return Result{Outcome: Ambiguous, Err: c.redactErr(
				"the send reached A1Base but no answer came ("+describe(cause)+"); the message may or may not have been delivered", cause)}
		}
		msg := "could not reach A1Base at " + c.base + " (" + describe(cause) + ")"
		if errors.Is(cause, context.Canceled) {
			msg = "the send was cancelled before it was written"
		}
		return Result{Outcome: Transient, Err: c.redactErr(msg+"; the message was not sent", cause)}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	return c.classify(resp.StatusCode, resp.Header, data)
}

// sendBody encodes a send for the client's endpoint.
func (c *Client) sendBody(sr SendRequest) ([]byte, error) {
	switch c.cfg.Endpoint {
	case "", EndpointGroup:
		return json.Marshal(sr)
	case EndpointUniversal:
		return json.Marshal(sr.Universal())
	}
	return nil, fmt.Errorf("unknown endpoint %q: use %q or %q", c.cfg.Endpoint, EndpointGroup, EndpointUniversal)
}

// classify turns an answer into a Result. A body that could not be read in
// full still counts for its status: after a 2xx the message went out.
func (c *Client) classify(status int, header http.Header, data []byte) Result {
	r := Result{StatusCode: status}
	switch {
	case status >= 200 && status < 300:
		r.Outcome = Delivered
		r.Answer = parseAnswer(data)
		return r
	case status == http.StatusTooManyRequests:
		r.Outcome = Transient
		r.RetryAfter = parseRetryAfter(header.Get("Retry-After"), c.now())
	case status == http.StatusRequestTimeout:
		// The server gave up waiting for the request, so it did not act on
		// it: safe to try again.
		r.Outcome = Transient
	case status == http.StatusInternalServerError, status == http.StatusServiceUnavailable:
		// A1Base's own refusal: the API answered, and an API that failed
		// or is unavailable has not acted on the request.
		r.Outcome = Transient
		r.RetryAfter = parseRetryAfter(header.Get("Retry-After"), c.now())
	case status >= 500:
		// 502, 504 and the rest usually come from a gateway in front of
		// the API, which may give up after the API processed the send:
		// retrying could deliver it twice.
		r.Outcome = Ambiguous
		apiErr := c.apiError(status, header, data)
		r.Err = c.redactErr(apiErr.Error()+"; the answer may come from a gateway after A1Base processed the send, so the message may or may not have been delivered", apiErr)
		return r
	default:
		r.Outcome = Permanent
	}
	r.Err = c.apiError(status, header, data)
	return r
}

func (c *Client) apiError(status int, header http.Header, data []byte) *APIError {
	e := decodeAPIError(status, header, data)
	e.Detail = c.redact(e.Detail)
	for i := range e.Problems {
		e.Problems[i].Msg = c.redact(e.Problems[i].Msg)
		for j, l := range e.Problems[i].Loc {
			if s, ok := l.(string); ok {
				e.Problems[i].Loc[j] = c.redact(s)
			}
		}
	}
	return e
}

// parseAnswer reads a send's answer, flat or wrapped in {"data": ...},
// keeping every field it can: a field of an unexpected type is rendered as
// its JSON text, an unreadable body gives an empty answer.
func parseAnswer(data []byte) *GroupAnswer {
	a := &GroupAnswer{}
	var doc map[string]json.RawMessage
	if json.Unmarshal(data, &doc) != nil {
		return a
	}
	if inner, ok := doc["data"]; ok {
		if _, flat := doc["chat_group_id"]; !flat {
			var d map[string]json.RawMessage
			if json.Unmarshal(inner, &d) == nil {
				doc = d
			}
		}
	}
	a.MessageID = cmp.Or(lenientString(doc["messageId"]), lenientString(doc["message_id"]))
	a.ChatGroupID = lenientString(doc["chat_group_id"])
	a.From = lenientString(doc["from"])
	a.Body = lenientString(doc["body"])
	a.Status = lenientString(doc["status"])
	a.DateCreated = lenientString(doc["date_created"])
	return a
}

func lenientString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date; anything
// else, or a time already past, is no wait.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs > float64(24*time.Hour/time.Second) {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// describe names a transport failure in a few words.
func describe(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.As(err, &dnsErr):
		return "cannot resolve " + dnsErr.Name
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by the server"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out"
	}
	return err.Error()
}

// redact removes the credentials from s. Nothing herald prints may hold
// them, and a server or proxy may echo headers back in an answer. Only
// whole occurrences of credentials of at least MinSecretLen bytes are
// looked for (see MinSecretLen).
func (c *Client) redact(s string) string {
	return redactSecrets(s, c.cfg.APIKey, c.cfg.APISecret)
}

// redactErr wraps cause in an error whose text is msg without credentials.
func (c *Client) redactErr(msg string, cause error) error {
	return &redactedError{msg: c.redact(msg), cause: cause}
}
