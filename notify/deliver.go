package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/clock"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// Headers of a webhook delivery. The signature is HMAC-SHA256, keyed with
// the notify block's secret, over the timestamp header's value, a dot and
// the raw body: "sha256=" and the hex digest.
const (
	HeaderEventID   = "X-Herald-Event-Id"
	HeaderEvent     = "X-Herald-Event"
	HeaderTimestamp = "X-Herald-Timestamp"
	HeaderSignature = "X-Herald-Signature"
	HeaderAttempt   = "X-Herald-Delivery-Attempt"
)

// Sign is the X-Herald-Signature value of body sent at timestamp (Unix
// seconds) with secret.
func Sign(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether signature is Sign(secret, timestamp, body), in
// constant time: what a receiver does.
func Verify(secret, timestamp, signature string, body []byte) bool {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	return hmac.Equal([]byte(Sign(secret, ts, body)), []byte(signature))
}

// Backoff is how long a deliverer waits before trying a notification
// again after attempts failed deliveries: Base doubled per attempt, at
// most Max.
type Backoff struct {
	Base, Max time.Duration
}

// DefaultBackoff starts at 5 seconds and stops growing at 15 minutes.
var DefaultBackoff = Backoff{Base: 5 * time.Second, Max: 15 * time.Minute}

// After is the wait after the attempts-th failed delivery (from 1).
func (b Backoff) After(attempts int) time.Duration {
	d := b.Base
	for i := 1; i < attempts && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Capture receives what a deliverer would send, instead of sending it:
// the sandbox shows notifications without a real endpoint. body is the
// request body a webhook or Slack would get, or the text a group would.
type Capture func(dest *spec.Notify, n state.Notification, body []byte) error

// GroupSender sends the text of a notification to an A1Base group.
type GroupSender interface {
	SendNotification(ctx context.Context, g *spec.Group, text string) error
}

// Deliverer delivers what an outbox holds to the notify blocks' destinations.
type Deliverer struct {
	Outbox state.Outbox
	// Blocks are the configuration's notify blocks; a notification to a
	// block no longer configured stays pending.
	Blocks []*spec.Notify
	// Client makes the webhook and Slack requests; nil: one with
	// RequestTimeout.
	Client *http.Client
	// RequestTimeout bounds one request; 0: 10 seconds.
	RequestTimeout time.Duration
	// Groups sends to group destinations; nil leaves them pending.
	Groups GroupSender
	// Capture, when set, takes every notification instead of the network.
	Capture Capture
	Backoff Backoff
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// UserAgent is sent with every request.
	UserAgent string
}

// Result is what one round of delivery did.
type Result struct {
	Delivered int
	// Failed counts the deliveries that failed and wait for a retry;
	// Errors says why, one per destination at most.
	Failed int
	Errors []error
	// Unconfigured counts pending notifications whose notify block is
	// no longer in the configuration.
	Unconfigured int
	// NextDue is when the earliest postponed notification is due again;
	// zero when nothing waits.
	NextDue time.Time
}

func (r *Result) add(o Result) {
	r.Delivered += o.Delivered
	r.Failed += o.Failed
	r.Errors = append(r.Errors, o.Errors...)
	r.Unconfigured = o.Unconfigured
	r.NextDue = o.NextDue
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return clock.Now()
}

// DeliverDue tries every pending notification due now once, oldest first.
func (d *Deliverer) DeliverDue(ctx context.Context) (Result, error) {
	var res Result
	now := d.now()
	pending, err := d.Outbox.Pending(ctx, now, 0)
	if err != nil {
		return res, err
	}
	blocks := map[string]*spec.Notify{}
	for _, b := range d.Blocks {
		blocks[b.Name] = b
	}
	failedDest := map[string]bool{}
	for _, n := range pending {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		b := blocks[n.Destination]
		if b == nil || !d.deliverable(n.Destination) {
			res.Unconfigured++
			continue
		}
		if failedDest[n.Destination] {
			// One failure per destination per round: the rest wait for
			// the next round rather than each timing out now.
			continue
		}
		derr := d.deliver(ctx, b, n)
		if derr == nil {
			if err := d.Outbox.Delivered(ctx, n.Destination, n.ID, d.now()); err != nil && !state.IsNoNotification(err) {
				return res, err
			}
			res.Delivered++
			continue
		}
		failedDest[n.Destination] = true
		res.Failed++
		res.Errors = append(res.Errors, fmt.Errorf("notify %q: %w", n.Destination, derr))
		wait := d.backoff().After(n.Attempts + 1)
		var pe *permanentError
		if errors.As(derr, &pe) {
			wait = d.backoff().Max
		}
		next := d.now().Add(wait)
		if err := d.Outbox.Postpone(ctx, n.Destination, n.ID, next, derr.Error()); err != nil && !state.IsNoNotification(err) {
			return res, err
		}
		if res.NextDue.IsZero() || next.Before(res.NextDue) {
			res.NextDue = next
		}
	}
	return res, nil
}

// Drain delivers until nothing deliverable is pending, or ctx ends
// (apply's -notify-timeout): a failed delivery is tried again after its
// backoff, through sleep, as long as ctx allows. What is left stays
// pending, for the next apply or run.
func (d *Deliverer) Drain(ctx context.Context, sleep func(context.Context, time.Duration) error) (Result, error) {
	var total Result
	for {
		res, err := d.DeliverDue(ctx)
		total.add(res)
		if err != nil {
			return total, err
		}
		wake, ok, err := d.nextWake(ctx)
		if err != nil || !ok {
			return total, err
		}
		total.NextDue = wake
		wait := wake.Sub(d.now())
		if wait <= 0 {
			continue
		}
		// A context's deadline is on the real clock; clock.Now may be
		// shifted in tests.
		if dl, ok := ctx.Deadline(); ok && clock.Now().Add(wait).After(dl.Add(clock.Shift())) {
			return total, nil
		}
		if err := sleep(ctx, wait); err != nil {
			return total, nil
		}
	}
}

// nextWake is when the earliest pending notification that this deliverer
// can deliver is due; ok is false when there is none.
func (d *Deliverer) nextWake(ctx context.Context) (time.Time, bool, error) {
	pending, err := d.Outbox.Pending(ctx, d.now().Add(100*365*24*time.Hour), 0)
	if err != nil {
		return time.Time{}, false, err
	}
	var wake time.Time
	ok := false
	for _, n := range pending {
		if !d.deliverable(n.Destination) {
			continue
		}
		if !ok || n.NextAttempt.Before(wake) {
			wake, ok = n.NextAttempt, true
		}
	}
	return wake, ok, nil
}

// deliverable says whether the notify block dest is configured and can
// be delivered to by d.
func (d *Deliverer) deliverable(dest string) bool {
	for _, b := range d.Blocks {
		if b.Name == dest {
			return b.Kind != spec.NotifyGroup || d.Groups != nil || d.Capture != nil
		}
	}
	return false
}

func (d *Deliverer) backoff() Backoff {
	if d.Backoff.Base <= 0 {
		return DefaultBackoff
	}
	return d.Backoff
}

// permanentError is an answer that trying again soon will not change (a
// 4xx other than 408 and 429): the notification waits Backoff.Max.
type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

// deliver makes one delivery of n to b.
func (d *Deliverer) deliver(ctx context.Context, b *spec.Notify, n state.Notification) error {
	var body []byte
	switch b.Kind {
	case spec.NotifyWebhook:
		body = []byte(n.Payload)
	case spec.NotifySlack:
		var err error
		body, err = json.Marshal(map[string]string{"text": Text(n)})
		if err != nil {
			return err
		}
	case spec.NotifyGroup:
		body = []byte(Text(n))
	}
	if d.Capture != nil {
		return d.Capture(b, n, body)
	}
	if b.Kind == spec.NotifyGroup {
		return d.Groups.SendNotification(ctx, b.Group, string(body))
	}
	return d.post(ctx, b, n, body)
}

func (d *Deliverer) post(ctx context.Context, b *spec.Notify, n state.Notification, body []byte) error {
	timeout := d.RequestTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	client := d.Client
	if client == nil {
		client = &http.Client{Timeout: timeout}
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, b.URL, bytes.NewReader(body))
	if err != nil {
		// The URL is not quoted: it may hold a token.
		return fmt.Errorf("making the request failed")
	}
	req.Header.Set("Content-Type", "application/json")
	if d.UserAgent != "" {
		req.Header.Set("User-Agent", d.UserAgent)
	}
	if b.Kind == spec.NotifyWebhook {
		ts := d.now().Unix()
		req.Header.Set(HeaderEventID, n.ID)
		req.Header.Set(HeaderEvent, n.Kind)
		req.Header.Set(HeaderAttempt, strconv.Itoa(n.Attempts+1))
		req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
		if b.Secret != "" {
			req.Header.Set(HeaderSignature, Sign(b.Secret, ts, body))
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("no answer: %s", describeNetErr(err, rctx))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("answered %s", resp.Status)
	default:
		return &permanentError{msg: "answered " + resp.Status}
	}
}

// describeNetErr says why a request got no answer without the URL, which
// net/http puts in its errors and whose path may hold a token (Slack's
// does): only the inner error, which names at most the host, is kept.
func describeNetErr(err error, ctx context.Context) string {
	var ne net.Error
	if ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
		return "timed out"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return "connection failed"
}

// Text is a notification in words: a Slack message's or a group's text.
func Text(n state.Notification) string {
	var e Event
	if err := json.Unmarshal([]byte(n.Payload), &e); err != nil || e.Summary == "" {
		return fmt.Sprintf("[herald] %s (event %s)", n.Kind, n.ID)
	}
	return fmt.Sprintf("[herald] %s: %s (event %s)", e.Kind, e.Summary, e.ID)
}
