package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/heraldhq/herald/a1base/webhook"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// heartbeat is how often the receiver records that it is still
// listening: an unknown message is settled from the inbox only for a
// time the spans cover, so a span ends at most this long after the
// receiver stopped.
const heartbeat = 15 * time.Second

// WebhookOptions configure the webhook endpoint that Listen serves.
type WebhookOptions struct {
	// SignatureHeader and TimestampHeader name the headers A1Base signs
	// with; empty means webhook's defaults.
	SignatureHeader, TimestampHeader string
	// Window bounds how far an event's signing time may be from the
	// clock; zero means webhook.DefaultWindow.
	Window time.Duration
	// Secrets lists the accounts the configuration sends with, by account
	// id, each with its API secret (the webhook's signing key). An event
	// of any other account is refused.
	Secrets func(cfg *spec.Config) map[string]string
}

// WebhookResult is what became of one webhook request.
type WebhookResult struct {
	// Status is the HTTP status answered.
	Status int
	// Reason says why a request was refused; "" for one accepted.
	Reason string
	// Message is the message stored or already held (accepted requests
	// only); Stored says it was new.
	Message state.InboxMessage
	Stored  bool
	// Ignored says the event is not a group thread's and was not kept.
	Ignored bool
}

// receiver is the webhook endpoint. It is ready once a wake has read the
// configuration (which accounts there are) and opened the inbox.
type receiver struct {
	opts   WebhookOptions
	events Events
	now    func() time.Time
	open   func(ctx context.Context, cfg *spec.Config) (state.Backend, error)
	count  func(result string)

	mu      sync.Mutex
	secrets map[string]string
	inbox   state.Inbox
	closer  io.Closer
	span    state.ListenSpan
	// failedAt is when storing first failed since the last span was
	// recorded: the next span records it as a gap first.
	failedAt time.Time
	stop     chan struct{}
	done     chan struct{}
}

func newReceiver(o *Options, count func(string)) *receiver {
	return &receiver{opts: o.Webhook, events: o.Events, now: o.Now, open: o.OpenState, count: count}
}

// configure takes the accounts of cfg and, the first time, opens the
// inbox of cfg's state and starts recording that the receiver listens.
func (r *receiver) configure(ctx context.Context, cfg *spec.Config) {
	var secrets map[string]string
	if r.opts.Secrets != nil {
		secrets = r.opts.Secrets(cfg)
	}
	r.mu.Lock()
	r.secrets = secrets
	opened := r.inbox != nil
	r.mu.Unlock()
	if opened {
		return
	}
	b, err := r.open(ctx, cfg)
	if err != nil {
		r.events.InboxFailed(fmt.Errorf("opening the state for the webhook's inbox: %w", err))
		return
	}
	ib, ok := b.(state.Inbox)
	if !ok {
		b.Close()
		r.events.InboxFailed(fmt.Errorf("the state %s keeps no inbox for the webhook", b.Describe()))
		return
	}
	r.mu.Lock()
	r.inbox, r.closer = ib, b
	r.span = state.ListenSpan{}
	stop, done := make(chan struct{}), make(chan struct{})
	r.stop, r.done = stop, done
	r.mu.Unlock()
	r.persistSpan()
	go r.beat(stop, done)
}

// beat records every heartbeat that the receiver is still listening.
func (r *receiver) beat(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(heartbeat)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			r.persistSpan()
		}
	}
}

// persistSpan records the receiver's listening span as lasting until now;
// a receiver without one (just opened, or after a failure) starts a new
// one. A span that cannot be recorded is ended: the next one starts after
// the failure.
func (r *receiver) persistSpan() {
	r.mu.Lock()
	ib := r.inbox
	if ib == nil {
		r.mu.Unlock()
		return
	}
	now := r.now()
	if r.span.Since.IsZero() {
		r.span = state.ListenSpan{Receiver: receiverID(), Since: now}
	}
	r.span.Until = now
	span, failed := r.span, r.failedAt
	r.mu.Unlock()
	if !failed.IsZero() {
		// Record the time storing failed before a span after it: other
		// receivers' spans must not cover it.
		gap := state.ListenSpan{Receiver: span.Receiver + "#gap", Since: failed, Until: span.Since, Gap: true}
		if err := ib.Listening(context.Background(), gap); err != nil {
			r.events.InboxFailed(fmt.Errorf("recording when the webhook receiver failed to store: %w", err))
			r.breakSpan()
			return
		}
		r.mu.Lock()
		if r.failedAt.Equal(failed) {
			r.failedAt = time.Time{}
		}
		r.mu.Unlock()
	}
	if err := ib.Listening(context.Background(), span); err != nil {
		r.events.InboxFailed(fmt.Errorf("recording that the webhook receiver listens: %w", err))
		r.breakSpan()
	}
}

// stored extends the listening span in memory to now: the receiver has
// just stored what it received. The next heartbeat records it.
func (r *receiver) stored() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.span.Since.IsZero() {
		r.span.Until = r.now()
	}
}

// persistSpanUntilLastStore records the span as it stands (until the
// last store or heartbeat) and ends it.
func (r *receiver) persistSpanUntilLastStore() {
	r.mu.Lock()
	span, ib := r.span, r.inbox
	r.mu.Unlock()
	if !span.Since.IsZero() && ib != nil {
		_ = ib.Listening(context.Background(), span) // best effort: the span recorded last stands otherwise
	}
	r.breakSpan()
}

// breakSpan ends the listening span after a failure to store: what came
// while storing failed is not in the inbox, so no span may cover it. The
// span recorded last stands; a new one starts at the next heartbeat.
func (r *receiver) breakSpan() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.span = state.ListenSpan{}
	if r.failedAt.IsZero() {
		r.failedAt = r.now()
	}
}

// close stops the heartbeat, records the span's end and closes the
// inbox.
func (r *receiver) close() {
	r.mu.Lock()
	stop, done, closer := r.stop, r.done, r.closer
	r.stop = nil
	r.mu.Unlock()
	if stop == nil {
		return
	}
	close(stop)
	<-done
	r.mu.Lock()
	span, ib := r.span, r.inbox
	r.inbox = nil
	r.mu.Unlock()
	if !span.Since.IsZero() {
		span.Until = r.now()
		if err := ib.Listening(context.Background(), span); err != nil {
			r.events.InboxFailed(fmt.Errorf("recording that the webhook receiver stopped: %w", err))
		}
	}
	closer.Close()
}

// receiverID names this start of this process, for its listening span.
func receiverID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// ServeHTTP receives one event: refused with 403 unless signed by the
// secret of an account the configuration sends with, within the window;
// 400 for a body that is no event, 413 for one too large; stored in the
// inbox, once per message id, before 200 is answered, so that A1Base
// retries whatever herald could not store.
func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	res := r.receive(req)
	switch {
	case res.Reason != "":
		r.count("refused")
		r.events.WebhookRefused(res)
	case res.Ignored:
		r.count("ignored")
	case res.Stored:
		r.count("stored")
	default:
		r.count("duplicate")
	}
	if res.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "30")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(res.Status)
	if res.Reason != "" {
		// The reason names no secret and nothing of the expected
		// signature: only which check failed.
		fmt.Fprintln(w, res.Reason)
	}
}

func (r *receiver) receive(req *http.Request) WebhookResult {
	refuse := func(status int, format string, args ...any) WebhookResult {
		return WebhookResult{Status: status, Reason: fmt.Sprintf(format, args...)}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, req.Body, webhook.MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return refuse(http.StatusRequestEntityTooLarge, "the body is larger than %d bytes", webhook.MaxBody)
	case err != nil:
		return refuse(http.StatusBadRequest, "reading the body: %v", err)
	}
	r.mu.Lock()
	secrets, ib := r.secrets, r.inbox
	r.mu.Unlock()
	if ib == nil {
		return refuse(http.StatusServiceUnavailable, "herald is starting: the inbox is not open yet")
	}
	e, err := webhook.Parse(body)
	if err != nil {
		return refuse(http.StatusBadRequest, "%v", err)
	}
	secret, ok := secrets[e.AccountID]
	if !ok {
		return refuse(http.StatusForbidden, "account %q is not one this configuration sends with", e.AccountID)
	}
	v := webhook.Verifier{
		Secret: secret, SignatureHeader: r.opts.SignatureHeader, TimestampHeader: r.opts.TimestampHeader,
		Window: r.opts.Window, Now: r.now,
	}
	if err := v.Verify(req.Header, body); err != nil {
		return refuse(http.StatusForbidden, "%v", err)
	}
	if e.ThreadType != "" && e.ThreadType != "group" {
		return WebhookResult{Status: http.StatusOK, Ignored: true}
	}
	created, err := e.Created()
	if err != nil {
		return refuse(http.StatusBadRequest, "%v", err)
	}
	m := state.InboxMessage{
		Account: e.AccountID, ID: e.MessageID, Thread: e.ThreadID,
		Created: created.UTC(), Received: r.now().UTC(), FromAgent: e.IsFromAgent,
	}
	if e.IsFromAgent {
		m.Sender = e.SenderNumber
		m.TextDigest = state.ContentDigest(e.Content.Text)
		m.MediaDigest = state.ContentDigest(e.Content.MediaURL)
	}
	ctx, cancel := context.WithTimeout(req.Context(), 10*time.Second)
	defer cancel()
	stored, err := ib.Receive(ctx, m)
	if err != nil {
		// Persist the span up to the last store, then end it.
		r.persistSpanUntilLastStore()
		r.events.InboxFailed(fmt.Errorf("storing webhook message %s: %w", e.MessageID, err))
		return refuse(http.StatusServiceUnavailable, "the message could not be stored; send it again")
	}
	r.stored()
	return WebhookResult{Status: http.StatusOK, Message: m, Stored: stored}
}

// live is ib, the inbox a pass reads, with this receiver's span, when it
// has one, lasting until each read: the receiver is up and has stored
// everything it was sent since the span began, up to the moment of the
// read, which no heartbeat can record.
func (r *receiver) live(ib state.Inbox) state.Inbox { return liveInbox{Inbox: ib, r: r} }

type liveInbox struct {
	state.Inbox
	r *receiver
}

func (l liveInbox) ReadInbox(ctx context.Context, account, thread string, since time.Time) (state.InboxRead, error) {
	// Whatever was stored before the read began is in it: the span may
	// last until then, not until the read ends.
	began := l.r.now()
	read, err := l.Inbox.ReadInbox(ctx, account, thread, since)
	if err != nil {
		return read, err
	}
	l.r.mu.Lock()
	span, open := l.r.span, l.r.inbox != nil
	l.r.mu.Unlock()
	// A span broken since (a failure to store) or begun after the read
	// began says nothing of the read.
	if !open || span.Since.IsZero() || span.Since.After(began) {
		return read, nil
	}
	span.Until = began
	read.Spans = append(read.Spans, span)
	return read, nil
}
