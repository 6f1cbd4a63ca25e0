package sandbox

import (
	"bytes"
	"cmp"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/a1base/webhook"
)

// recentLimit is how many messages get-recent lists, as A1Base does.
const recentLimit = 5

// maxBody caps a request body; the real API has a limit too, and the fake
// must not buffer without end on a real listener.
const maxBody = 1 << 20

// Received is a send the fake delivered.
type Received struct {
	// Seq numbers delivered sends from 1 in the order they were delivered.
	Seq       int
	AccountID string
	// Endpoint is the endpoint the send came through: a1base.EndpointGroup
	// or a1base.EndpointUniversal.
	Endpoint string
	Request  a1base.SendRequest
	// Header is the request's header without X-API-Key and X-API-Secret.
	Header  http.Header
	Arrived time.Time
	// Answer is what the fake answered, or would have had it not been lost.
	Answer     a1base.GroupAnswer
	AnswerLost bool
}

// Arrival is any request that reached the fake, refused ones included.
type Arrival struct {
	Method string
	Path   string
	// ThreadID is the thread the request named, once known ("" for a body
	// that could not be read).
	ThreadID string
	Arrived  time.Time
	// Status is the answer's status; 0 while in flight or when the answer
	// was lost.
	Status int
}

// Option configures the fake.
type Option func(*API)

// WithCredentials makes the fake accept only these credentials. Without
// it any non-empty X-API-Key and X-API-Secret are accepted.
func WithCredentials(key, secret string) Option {
	return func(a *API) { a.key, a.secret = key, secret }
}

// WithAccount registers an account with its own credentials: a request
// for it must carry them, and with any account registered, a request for
// an account not registered (nor allowed by WithAccountID) answers 404.
// Several accounts can be registered, as a sandbox of several providers.
func WithAccount(id, key, secret string) Option {
	return func(a *API) {
		if a.accounts == nil {
			a.accounts = map[string][2]string{}
		}
		a.accounts[id] = [2]string{key, secret}
	}
}

// WithAccountID makes the fake accept only this account id in paths.
// Without it any account id is accepted.
func WithAccountID(id string) Option { return func(a *API) { a.account = id } }

// WithThreads registers threads: any other thread then answers 404.
func WithThreads(ids ...string) Option { return func(a *API) { a.addThreads(ids) } }

// WithWrappedAnswers wraps send answers in {"data": ...}.
func WithWrappedAnswers() Option { return func(a *API) { a.wrapped = true } }

// WithSeed seeds the random source that draws faults (default seed 1), so
// a sequence of sends meets the same faults on every run.
func WithSeed(seed uint64) Option {
	return func(a *API) { a.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }
}

// WithClock sets the clock used for arrival times and date_created.
func WithClock(now func() time.Time) Option { return func(a *API) { a.now = now } }

// WithOnReceive calls f for every delivered send, after it is recorded.
func WithOnReceive(f func(Received)) Option { return func(a *API) { a.onReceive = f } }

// WithRecentLag makes a delivered message show in get-recent only lag
// after it was created (by the fake's clock), as an API whose read side
// trails its write side does. Zero: at once.
func WithRecentLag(lag time.Duration) Option { return func(a *API) { a.lag = lag } }

// WithWebhook makes the fake post, as A1Base does, a signed webhook event
// to url for every message it delivers: signed with the account's API
// secret (the one the send carried), under webhook's default header
// names. WaitWebhooks waits for the posts in flight.
func WithWebhook(url string) Option { return func(a *API) { a.webhookURL = url } }

// WithFaults starts the fake with these faults.
func WithFaults(f Faults) Option { return func(a *API) { a.faults = f } }

type rejection struct {
	status int
	detail string
}

type threadMessage struct {
	id         string
	from, body string
	attachment string
	created    time.Time
	// visible is when get-recent starts listing it (created plus the
	// recent-messages lag in force when it was created).
	visible     time.Time
	fromOutside bool
}

// API is the fake A1Base API as an http.Handler. All its methods are safe
// for concurrent use, also while it serves.
type API struct {
	mu        sync.Mutex
	key       string
	secret    string
	account   string
	accounts  map[string][2]string // id -> key, secret
	threads   map[string]bool      // nil: any thread is known
	wrapped   bool
	rng       *rand.Rand
	now       func() time.Time
	onReceive func(Received)
	faults    Faults
	script    []Reply
	rejected  map[string]rejection
	sends     []Received
	arrivals  []Arrival
	messages  map[string][]threadMessage
	nextMsg   int
	lag       time.Duration

	webhookURL string
	webhooks   sync.WaitGroup
	// threadAccount is, by thread, the account id and secret that last
	// sent to it: its members' messages are posted to that account's
	// webhook.
	threadAccount map[string][2]string

	done      chan struct{}
	closeOnce sync.Once
}

// NewHandler returns the fake API, to serve on any listener.
func NewHandler(opts ...Option) *API {
	a := &API{
		now:           clock.Now,
		rejected:      map[string]rejection{},
		messages:      map[string][]threadMessage{},
		threadAccount: map[string][2]string{},
		done:          make(chan struct{}),
	}
	WithSeed(1)(a)
	for _, o := range opts {
		o(a)
	}
	return a
}

// Close releases requests held by latency or a hanging answer, so that a
// server can shut down. The fake answers nothing afterwards.
func (a *API) Close() { a.closeOnce.Do(func() { close(a.done) }) }

// SetFaults replaces the faults injected from now on.
func (a *API) SetFaults(f Faults) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.faults = f
}

// Faults returns the faults in force.
func (a *API) Faults() Faults {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.faults
}

// SetWrapped sets whether send answers are wrapped in {"data": ...}.
func (a *API) SetWrapped(wrapped bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.wrapped = wrapped
}

// SetOnReceive replaces the hook called for every delivered send.
func (a *API) SetOnReceive(f func(Received)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.onReceive = f
}

// Script queues replies for the next sends that pass the credential and
// body checks; while the queue is not empty no random fault is drawn.
func (a *API) Script(replies ...Reply) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.script = append(a.script, replies...)
}

// Pending is the number of scripted replies not used yet.
func (a *API) Pending() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.script)
}

// RejectThread makes every request for the thread fail with status (0:
// 404) and detail ("": a detail fitting the status).
func (a *API) RejectThread(threadID string, status int, detail string) {
	if status == 0 {
		status = http.StatusNotFound
	}
	if detail == "" {
		switch status {
		case http.StatusNotFound:
			detail = "Thread not found"
		case http.StatusForbidden:
			detail = "The agent number is not a member of this group"
		default:
			detail = http.StatusText(status)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rejected[threadID] = rejection{status: status, detail: detail}
}

// AcceptThread undoes RejectThread.
func (a *API) AcceptThread(threadID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.rejected, threadID)
}

// AddThreads registers threads (see WithThreads).
func (a *API) AddThreads(ids ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.addThreads(ids)
}

func (a *API) addThreads(ids []string) {
	if a.threads == nil {
		a.threads = map[string]bool{}
	}
	for _, id := range ids {
		a.threads[id] = true
	}
}

// SetRecentLag changes the recent-messages lag (see WithRecentLag) for
// messages delivered from now on.
func (a *API) SetRecentLag(lag time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lag = lag
}

// AddThreadMessage puts a message into a thread as if a member had posted
// it, for look-ups to find among the sends. It shows at once.
func (a *API) AddThreadMessage(threadID, from, body string, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.addMember(threadID, from, body, at)
}

func (a *API) addMember(threadID, from, body string, at time.Time) {
	a.nextMsg++
	created := at.UTC().Truncate(time.Second)
	id := fmt.Sprintf("msg_%d", a.nextMsg)
	a.messages[threadID] = append(a.messages[threadID], threadMessage{
		id: id, from: from, body: body,
		created: created, fromOutside: true,
	})
	// The thread's account is the one that last sent to it; a thread
	// nothing was sent to belongs to the configured account.
	acct := a.threadAccount[threadID]
	if acct[0] == "" {
		acct = [2]string{a.account, a.secret}
	}
	if a.webhookURL == "" || acct[0] == "" || acct[1] == "" {
		return
	}
	a.webhooks.Add(1)
	go a.postWebhook(a.webhookURL, acct[1], webhook.Event{
		ThreadID: threadID, MessageID: id, ThreadType: "group", SenderNumber: from,
		AccountID: acct[0], Timestamp: created.Format(time.RFC3339), Service: "whatsapp",
		MessageType: "text", Content: webhook.Content{Text: body},
	})
}

// AddChatter makes a thread busy: n messages from a member, the first at
// first and one every every after it, so that a page of get-recent holds
// only them once n reaches its size.
func (a *API) AddChatter(threadID, from string, n int, first time.Time, every time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range n {
		a.addMember(threadID, from, fmt.Sprintf("chatter %d", a.nextMsg+1), first.Add(time.Duration(i)*every))
	}
}

// Sends returns the delivered sends in delivery order.
// Contents lists the content of every delivered send, in delivery order.
func (a *API) Contents() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]string, len(a.sends))
	for i, s := range a.sends {
		out[i] = s.Request.Content
	}
	return out
}

func (a *API) Sends() []Received {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Received, len(a.sends))
	for i, s := range a.sends {
		s.Header = s.Header.Clone()
		out[i] = s
	}
	return out
}

// Arrivals returns every request that arrived, in arrival order.
func (a *API) Arrivals() []Arrival {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Arrival(nil), a.arrivals...)
}

// ServeHTTP serves the group send and the thread look-up, at the root and
// under /v1.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	idx := a.arrive(r)
	seg, ok := route(r.URL.EscapedPath())
	switch {
	case !ok:
		a.answer(w, idx, http.StatusNotFound, detail("Not Found"))
	case len(seg) == 4 && seg[0] == "messages" && seg[1] == "group" && seg[3] == "send":
		if r.Method != http.MethodPost {
			a.answer(w, idx, http.StatusMethodNotAllowed, detail("Method Not Allowed"))
			return
		}
		a.serveSend(w, r, idx, seg[2], a1base.EndpointGroup)
	case len(seg) == 2 && seg[0] == "send":
		if r.Method != http.MethodPost {
			a.answer(w, idx, http.StatusMethodNotAllowed, detail("Method Not Allowed"))
			return
		}
		a.serveSend(w, r, idx, seg[1], a1base.EndpointUniversal)
	case len(seg) == 5 && seg[0] == "messages" && seg[1] == "threads" && seg[3] == "get-recent":
		if r.Method != http.MethodGet {
			a.answer(w, idx, http.StatusMethodNotAllowed, detail("Method Not Allowed"))
			return
		}
		a.serveRecent(w, r, idx, seg[2], seg[4])
	default:
		a.answer(w, idx, http.StatusNotFound, detail("Not Found"))
	}
}

// route splits an escaped path into unescaped segments, dropping a /v1
// prefix.
func route(escaped string) ([]string, bool) {
	p := strings.TrimPrefix(escaped, "/v1/")
	if p == escaped {
		p = strings.TrimPrefix(escaped, "/")
	}
	parts := strings.Split(p, "/")
	for i, s := range parts {
		u, err := url.PathUnescape(s)
		if err != nil || u == "" {
			return nil, false
		}
		parts[i] = u
	}
	return parts, true
}

func (a *API) arrive(r *http.Request) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.arrivals = append(a.arrivals, Arrival{Method: r.Method, Path: r.URL.EscapedPath(), Arrived: a.now()})
	return len(a.arrivals) - 1
}

func (a *API) setArrivalThread(idx int, thread string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.arrivals[idx].ThreadID = thread
}

// refuse applies the checks every endpoint makes, in the order FastAPI's
// dependencies would: credentials, then the account.
func (a *API) refuse(w http.ResponseWriter, r *http.Request, idx int, account string) bool {
	key, secret := r.Header.Get("X-API-Key"), r.Header.Get("X-API-Secret")
	a.mu.Lock()
	wantKey, wantSecret, wantAccount := a.key, a.secret, a.account
	creds, registered := a.accounts[account]
	anyRegistered := len(a.accounts) > 0
	a.mu.Unlock()
	if registered {
		wantKey, wantSecret, wantAccount = creds[0], creds[1], account
	} else if anyRegistered && wantAccount == "" {
		wantAccount = "\x00" // no account matches
	}
	switch {
	case key == "" || secret == "":
		a.answer(w, idx, http.StatusUnauthorized, detail("Missing API key or secret"))
	case wantKey != "" && subtle.ConstantTimeCompare([]byte(key), []byte(wantKey)) != 1,
		wantSecret != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(wantSecret)) != 1:
		a.answer(w, idx, http.StatusUnauthorized, detail("Invalid API credentials"))
	case wantAccount != "" && account != wantAccount:
		a.answer(w, idx, http.StatusNotFound, detail("Account not found"))
	default:
		return false
	}
	return true
}

// refuseThread answers for a rejected or unknown thread.
func (a *API) refuseThread(w http.ResponseWriter, idx int, thread string) bool {
	a.mu.Lock()
	rej, rejected := a.rejected[thread]
	unknown := thread == "" || (a.threads != nil && !a.threads[thread])
	a.mu.Unlock()
	switch {
	case rejected:
		a.answer(w, idx, rej.status, detail(rej.detail))
	case unknown:
		a.answer(w, idx, http.StatusNotFound, detail("Thread not found"))
	default:
		return false
	}
	return true
}

func (a *API) serveSend(w http.ResponseWriter, r *http.Request, idx int, account, endpoint string) {
	// The whole body is read first, as a real server would before acting:
	// a lost answer then comes after the request fully arrived.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		a.answer(w, idx, http.StatusRequestEntityTooLarge, detail("Request body too large"))
		return
	}
	if !a.wait(r, a.Faults().Latency) {
		a.lose(w, idx)
		return
	}
	if a.refuse(w, r, idx, account) {
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		a.answer(w, idx, http.StatusUnprocessableEntity, problems(problem("model_attributes_type",
			"Input should be a valid dictionary or object to extract fields from", "body")))
		return
	}
	validate := validateSend
	if endpoint == a1base.EndpointUniversal {
		validate = validateUniversal
	}
	sr, probs := validate(body)
	a.setArrivalThread(idx, sr.ThreadID)
	if len(probs) > 0 {
		a.answer(w, idx, http.StatusUnprocessableEntity, problems(probs...))
		return
	}
	if a.refuseThread(w, idx, sr.ThreadID) {
		return
	}
	// The thread belongs to the account that sends to it, delivered or
	// not: its members' messages go to that account's webhook.
	a.mu.Lock()
	a.threadAccount[sr.ThreadID] = [2]string{account, r.Header.Get("X-API-Secret")}
	a.mu.Unlock()
	reply := a.nextReply()
	if !a.wait(r, reply.Delay) {
		a.lose(w, idx)
		return
	}
	ans := a.newAnswer(sr)
	if reply.delivers() {
		a.deliver(account, endpoint, sr, ans, r.Header, idx, reply.Lost)
	}
	if reply.Lost {
		if reply.Lose == Hang {
			select {
			case <-r.Context().Done():
			case <-a.done:
			}
		}
		a.lose(w, idx)
		return
	}
	if reply.Status != 0 {
		for k, v := range reply.Header {
			w.Header()[k] = v
		}
		b := []byte(reply.Body)
		if reply.Body == "" && (reply.Status < 200 || reply.Status > 299) {
			b = detail(http.StatusText(reply.Status))
		}
		a.answer(w, idx, reply.Status, b)
		return
	}
	a.answer(w, idx, http.StatusOK, a.encodeAnswer(ans))
}

// nextReply takes the next scripted reply, or draws the faults.
func (a *API) nextReply() Reply {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.script) > 0 {
		r := a.script[0]
		a.script = a.script[1:]
		return r
	}
	f := a.faults
	// Draw only for the faults in force, so that switching one fault on
	// does not shift the sequence another one sees.
	if f.RateLimitRate > 0 && a.rng.Float64() < f.RateLimitRate {
		h := http.Header{}
		if f.RetryAfter != "" {
			h.Set("Retry-After", f.RetryAfter)
		}
		return Reply{Status: http.StatusTooManyRequests, Header: h, Body: string(detail("Rate limit exceeded"))}
	}
	if f.ErrorRate > 0 && a.rng.Float64() < f.ErrorRate {
		status := f.ErrorStatus
		if status == 0 {
			status = http.StatusInternalServerError
		}
		return Reply{Status: status, Delivered: f.ErrorDelivers}
	}
	if f.LoseRate > 0 && a.rng.Float64() < f.LoseRate {
		return Reply{Lost: true, Lose: f.Lose}
	}
	return Reply{}
}

// newAnswer is the answer to a send arriving now.
func (a *API) newAnswer(sr a1base.SendRequest) a1base.GroupAnswer {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.nextMsg++
	return a1base.GroupAnswer{
		MessageID:   fmt.Sprintf("msg_%d", a.nextMsg),
		ChatGroupID: sr.ThreadID,
		From:        sr.From,
		Body:        sr.Content,
		Status:      "queued",
		DateCreated: a.now().UTC().Truncate(time.Second).Format(time.RFC3339),
	}
}

// deliver records a send and puts it into its thread.
func (a *API) deliver(account, endpoint string, sr a1base.SendRequest, ans a1base.GroupAnswer, h http.Header, idx int, lost bool) {
	secret := h.Get("X-API-Secret")
	header := h.Clone()
	header.Del("X-API-Key")
	header.Del("X-API-Secret")
	created, _ := time.Parse(time.RFC3339, ans.DateCreated)
	a.mu.Lock()
	rec := Received{
		Seq:        len(a.sends) + 1,
		AccountID:  account,
		Endpoint:   endpoint,
		Request:    sr,
		Header:     header,
		Arrived:    a.arrivals[idx].Arrived,
		Answer:     ans,
		AnswerLost: lost,
	}
	a.sends = append(a.sends, rec)
	a.messages[sr.ThreadID] = append(a.messages[sr.ThreadID], threadMessage{
		id: ans.MessageID, from: sr.From, body: sr.Content,
		attachment: sr.AttachmentURI, created: created, visible: a.visibleFrom(),
	})
	hook, webhookURL := a.onReceive, a.webhookURL
	if webhookURL != "" {
		a.webhooks.Add(1)
	}
	a.mu.Unlock()
	if webhookURL != "" {
		go a.postWebhook(webhookURL, secret, webhookEvent(account, sr, ans))
	}
	if hook != nil {
		rec.Header = rec.Header.Clone()
		hook(rec)
	}
}

// webhookEvent is the event A1Base posts for a message the API sent.
func webhookEvent(account string, sr a1base.SendRequest, ans a1base.GroupAnswer) webhook.Event {
	typ := "text"
	if sr.AttachmentURI != "" {
		typ = cmp.Or(sr.MediaType, "document")
	}
	return webhook.Event{
		ThreadID: sr.ThreadID, MessageID: ans.MessageID, ThreadType: "group",
		SenderNumber: sr.From, AccountID: account, Timestamp: ans.DateCreated,
		Service: sr.Service, MessageType: typ, IsFromAgent: true,
		Content: webhook.Content{Text: sr.Content, MediaURL: sr.AttachmentURI},
	}
}

// postWebhook posts e to url, signed with secret at the fake's clock.
// A receiver that is down or refuses it is not retried: the fake is not
// a delivery queue.
func (a *API) postWebhook(url, secret string, e webhook.Event) {
	defer a.webhooks.Done()
	body, err := json.Marshal(e)
	if err != nil {
		return
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return
	}
	sig, ts := webhook.Sign(secret, a.now(), body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.DefaultSignatureHeader, sig)
	req.Header.Set(webhook.DefaultTimestampHeader, ts)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
}

// SetWebhook starts (or, with "", stops) posting webhook events to url,
// as WithWebhook does, for messages from now on.
func (a *API) SetWebhook(url string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.webhookURL = url
}

// WaitWebhooks waits until every webhook post begun so far has ended.
func (a *API) WaitWebhooks() { a.webhooks.Wait() }

// visibleFrom is when a message delivered now shows in get-recent: at
// once without a lag (whatever the clock does later: a test clock may be
// set back), else the lag later. a.mu is held.
func (a *API) visibleFrom() time.Time {
	if a.lag <= 0 {
		return time.Time{}
	}
	return a.now().Add(a.lag)
}

func (a *API) encodeAnswer(ans a1base.GroupAnswer) []byte {
	a.mu.Lock()
	wrapped := a.wrapped
	a.mu.Unlock()
	if wrapped {
		return mustJSON(map[string]any{"data": ans})
	}
	return mustJSON(ans)
}

func (a *API) serveRecent(w http.ResponseWriter, r *http.Request, idx int, account, thread string) {
	a.setArrivalThread(idx, thread)
	if !a.wait(r, a.Faults().Latency) {
		a.lose(w, idx)
		return
	}
	if a.refuse(w, r, idx, account) || a.refuseThread(w, idx, thread) {
		return
	}
	a.mu.Lock()
	msgs := a.messages[thread]
	now := a.now()
	data := make([]map[string]any, 0, recentLimit)
	for i := len(msgs) - 1; i >= 0 && len(data) < recentLimit; i-- {
		m := msgs[i]
		if now.Before(m.visible) {
			continue // not readable yet: the lag
		}
		item := map[string]any{
			"message_id":   m.id,
			"thread_id":    thread,
			"from":         m.from,
			"body":         m.body,
			"status":       "sent",
			"direction":    "outbound",
			"date_created": m.created.Format(time.RFC3339),
		}
		if m.fromOutside {
			item["direction"] = "inbound"
		}
		if m.attachment != "" {
			item["attachment_uri"] = m.attachment
		}
		data = append(data, item)
	}
	a.mu.Unlock()
	a.answer(w, idx, http.StatusOK, mustJSON(map[string]any{"status": "success", "data": data}))
}

// wait sleeps d unless the client goes away or the fake closes first.
func (a *API) wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-a.done:
		return false
	}
}

// lose ends the request without an answer: the connection is closed under
// the client, which has written its whole request.
func (a *API) lose(w http.ResponseWriter, idx int) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	// HTTP/2, or a writer that cannot be hijacked: the server resets the
	// stream or closes the connection without writing a response.
	panic(http.ErrAbortHandler)
}

func (a *API) answer(w http.ResponseWriter, idx int, status int, body []byte) {
	a.mu.Lock()
	a.arrivals[idx].Status = status
	a.mu.Unlock()
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	w.Write(body)
}

func detail(s string) []byte { return mustJSON(map[string]string{"detail": s}) }

func problems(p ...a1base.Problem) []byte { return mustJSON(map[string]any{"detail": p}) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only the fake's own values are encoded
	}
	return b
}

// Server is the fake API on an httptest server.
type Server struct {
	*API
	// URL is the base_url to give the client.
	URL string
	ts  *httptest.Server
}

// NewServer starts the fake on a local listener.
func NewServer(opts ...Option) *Server {
	api := NewHandler(opts...)
	ts := httptest.NewServer(api)
	return &Server{API: api, URL: ts.URL, ts: ts}
}

// Handler is the fake API the server serves.
func (s *Server) Handler() http.Handler { return s.API }

// Client is an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Close releases held requests and shuts the server down.
func (s *Server) Close() {
	s.API.Close()
	s.ts.Close()
}
