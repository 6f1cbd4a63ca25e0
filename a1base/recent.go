package a1base

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"time"
)

// RecentMessages returns a thread's most recent messages (A1Base keeps the
// last five), in the order the API gives them. A thread the API does not
// know gives a *ThreadNotFoundError; a refusal an *APIError.
//
// The OpenAPI file leaves the items untyped, so each is read leniently: the
// text from body, content, text, message or message_content.text; the time
// from date_created, created_at, timestamp or sent_at (RFC 3339 with a zone
// or offset, or Unix seconds); the sender from from or sender_number; the
// id from message_id or id; the media URL from attachment_uri, media_url
// or attachment_url. An item whose time cannot be read, a time
// without a zone among them, keeps a zero DateCreated.
func (c *Client) RecentMessages(ctx context.Context, threadID string) ([]ThreadMessage, error) {
	u, err := c.endpoint("messages", "threads", c.cfg.AccountID, "get-recent", threadID)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if st := newSendTrace(ctx); st.written != nil {
		// The look-up counts against the account's rate limit, which
		// stamps it when it is written (see WithWritten).
		ctx = httptrace.WithClientTrace(ctx, st.clientTrace())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, c.redactErr(err.Error(), err)
	}
	c.setHeaders(req)
	resp, err := c.api.Do(req)
	if err != nil {
		cause := unwrapURLError(err)
		return nil, c.redactErr("looking up thread "+strconv.Quote(threadID)+" at A1Base: "+describe(cause), cause)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, c.redactErr("reading the recent messages of thread "+strconv.Quote(threadID)+": "+describe(err), err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, &ThreadNotFoundError{ThreadID: threadID, Detail: c.apiError(resp.StatusCode, resp.Header, data).Detail}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, c.apiError(resp.StatusCode, resp.Header, data)
	}
	msgs, err := parseRecent(data)
	if err != nil {
		return nil, fmt.Errorf("reading the recent messages of thread %q: %w", threadID, err)
	}
	return msgs, nil
}

func parseRecent(data []byte) ([]ThreadMessage, error) {
	var items []map[string]json.RawMessage
	var doc map[string]json.RawMessage
	switch {
	case json.Unmarshal(data, &items) == nil:
		// a bare list
	case json.Unmarshal(data, &doc) == nil:
		raw, ok := doc["data"]
		if !ok {
			raw, ok = doc["messages"]
		}
		if !ok {
			return nil, errors.New("the answer has no data")
		}
		if json.Unmarshal(raw, &items) != nil {
			var inner map[string]json.RawMessage
			if json.Unmarshal(raw, &inner) != nil || json.Unmarshal(inner["messages"], &items) != nil {
				return nil, errors.New("the answer's data is not a list of messages")
			}
		}
	default:
		return nil, errors.New("the answer is not JSON")
	}
	msgs := make([]ThreadMessage, 0, len(items))
	for _, it := range items {
		var m ThreadMessage
		m.Body = firstString(it, "body", "content", "text", "message")
		if m.Body == "" {
			var mc map[string]json.RawMessage
			if json.Unmarshal(it["message_content"], &mc) == nil {
				m.Body = firstString(mc, "text", "body")
			}
		}
		m.From = firstString(it, "from", "sender_number", "sender")
		m.ID = firstString(it, "message_id", "id")
		m.Attachment = firstString(it, "attachment_uri", "media_url", "attachment_url")
		for _, k := range []string{"date_created", "created_at", "timestamp", "sent_at"} {
			if t, ok := parseTime(it[k]); ok {
				m.DateCreated = t
				break
			}
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

func firstString(m map[string]json.RawMessage, keys ...string) string {
	for _, k := range keys {
		var s string
		if json.Unmarshal(m[k], &s) == nil && s != "" {
			return s
		}
	}
	return ""
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
}

// ParseTime reads a time A1Base wrote as a string: RFC 3339, or with a
// space for the T. A time without a zone is not read: it could be in any
// zone, and taking it for UTC could place a message hours away from when
// it was created, which a look-up would then count as proof that an
// attempt's delivery is not among the messages read.
func ParseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// parseTime reads a creation time: a string as ParseTime does, or Unix
// seconds or milliseconds.
func parseTime(raw json.RawMessage) (time.Time, bool) {
	if len(raw) == 0 {
		return time.Time{}, false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return ParseTime(s)
	}
	var n float64
	if json.Unmarshal(raw, &n) == nil && n > 0 {
		if n > 1e12 { // milliseconds
			return time.UnixMilli(int64(n)).UTC(), true
		}
		return time.Unix(int64(n), 0).UTC(), true
	}
	return time.Time{}, false
}
