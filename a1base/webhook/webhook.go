package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers herald reads by default (see the package documentation).
const (
	DefaultSignatureHeader = "X-Signature"
	DefaultTimestampHeader = "X-Timestamp"
)

// DefaultWindow is how far an event's timestamp may be from herald's
// clock, either way: older, it may be a replay; newer, a forgery or a
// clock herald cannot trust.
const DefaultWindow = 5 * time.Minute

// MaxBody is the largest body herald reads: an event is one message's
// metadata and text, a few kilobytes at most.
const MaxBody = 64 << 10

// Event is one webhook event: a message in one of the account's threads.
type Event struct {
	ThreadID     string `json:"thread_id"`
	MessageID    string `json:"message_id"`
	ThreadType   string `json:"thread_type"`
	SenderNumber string `json:"sender_number"`
	AccountID    string `json:"a1_account_id"`
	// Timestamp is when the message was created (ISO 8601), as sent.
	Timestamp   string  `json:"timestamp"`
	Service     string  `json:"service"`
	MessageType string  `json:"message_type"`
	IsFromAgent bool    `json:"is_from_agent"`
	Content     Content `json:"message_content"`
}

// Content is an event's structured message content; Text is set for a
// text message (and is a media message's caption). MediaURL is a media
// message's URL: A1Base does not publish how an event names it, and
// herald reads media_url (an inference, like the header names).
type Content struct {
	Text     string `json:"text"`
	MediaURL string `json:"media_url,omitempty"`
}

// Errors a request can be refused with; each is wrapped with detail.
var (
	ErrUnsigned     = errors.New("the request is not signed")
	ErrBadSignature = errors.New("the signature does not match")
	ErrStale        = errors.New("the timestamp is outside the accepted window")
	ErrTooLarge     = errors.New("the body is too large")
	ErrBadEvent     = errors.New("the body is not a webhook event")
)

// Verifier checks the signature and timestamp of a request.
type Verifier struct {
	// Secret is the account's API secret, the signing key.
	Secret string
	// SignatureHeader and TimestampHeader name the headers; empty means
	// the defaults.
	SignatureHeader, TimestampHeader string
	// Window bounds the timestamp's distance from Now; zero means
	// DefaultWindow.
	Window time.Duration
	// Now is herald's clock.
	Now func() time.Time
}

// Verify checks that body was signed with the secret at a time within
// the window. It compares the digests in constant time and reveals
// nothing of the expected one.
func (v Verifier) Verify(h http.Header, body []byte) error {
	if len(body) > MaxBody {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(body), MaxBody)
	}
	sigHeader := orDefault(v.SignatureHeader, DefaultSignatureHeader)
	tsHeader := orDefault(v.TimestampHeader, DefaultTimestampHeader)
	sig, ts := strings.TrimSpace(h.Get(sigHeader)), strings.TrimSpace(h.Get(tsHeader))
	if sig == "" || ts == "" {
		return fmt.Errorf("%w: %s and %s are both needed", ErrUnsigned, sigHeader, tsHeader)
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s is not a Unix time", ErrStale, tsHeader)
	}
	got, err := hex.DecodeString(strings.TrimPrefix(sig, "sha256="))
	if err != nil {
		return fmt.Errorf("%w: %s is not a hex digest", ErrBadSignature, sigHeader)
	}
	if !hmac.Equal(got, digest(v.Secret, ts, body)) {
		return ErrBadSignature
	}
	window := v.Window
	if window <= 0 {
		window = DefaultWindow
	}
	at, now := time.Unix(secs, 0), v.Now()
	if d := now.Sub(at); d > window || d < -window {
		return fmt.Errorf("%w: signed at %s, %s from herald's clock (at most %s)", ErrStale,
			at.UTC().Format(time.RFC3339), d.Abs().Round(time.Second), window)
	}
	return nil
}

// Sign is the signature and timestamp headers' values for body signed
// with secret at t: what A1Base sends, and what herald's sandbox sends.
func Sign(secret string, t time.Time, body []byte) (signature, timestamp string) {
	timestamp = strconv.FormatInt(t.Unix(), 10)
	return hex.EncodeToString(digest(secret, timestamp, body)), timestamp
}

func digest(secret, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write(body)
	return m.Sum(nil)
}

// Parse reads an event. The fields herald relies on must be there: the
// thread, the message id, the account and the timestamp.
func Parse(body []byte) (Event, error) {
	var e Event
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&e); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrBadEvent, err)
	}
	if dec.More() {
		return Event{}, fmt.Errorf("%w: more than one JSON value", ErrBadEvent)
	}
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"thread_id", e.ThreadID}, {"message_id", e.MessageID}, {"a1_account_id", e.AccountID}, {"timestamp", e.Timestamp},
	} {
		if f.value == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return Event{}, fmt.Errorf("%w: no %s", ErrBadEvent, strings.Join(missing, ", "))
	}
	return e, nil
}

// Created is when the event says its message was created. A time without
// a zone is refused rather than read as UTC: the clocks could then be
// hours apart.
func (e Event) Created() (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, e.Timestamp)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q is not an ISO 8601 time with a zone", e.Timestamp)
	}
	return t, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
