package a1base

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Problem is one entry of a 422 answer's detail list (FastAPI style).
type Problem struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

// Field renders Loc as a dotted path. A leading "body" is left out because
// every field herald sends is in the body: "from", "media[0]".
func (p Problem) Field() string {
	loc := p.Loc
	if len(loc) > 1 && fmt.Sprint(loc[0]) == "body" {
		loc = loc[1:]
	}
	var b strings.Builder
	for i, part := range loc {
		switch v := part.(type) {
		case float64:
			fmt.Fprintf(&b, "[%s]", strconv.FormatFloat(v, 'f', -1, 64))
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, v)
		}
	}
	return b.String()
}

func (p Problem) String() string {
	f := p.Field()
	if f == "" {
		return p.Msg
	}
	return f + ": " + p.Msg
}

// APIError is an answer from A1Base that refused a request. Its text is the
// API's detail, rendered readably; it never holds credentials.
type APIError struct {
	StatusCode int
	// Detail is the API's detail as text: the string detail as is, or the
	// problems of a 422 joined with "; ".
	Detail string
	// Problems are the entries of a 422 detail list.
	Problems []Problem
	// RetryAfter is what a 429 or 503 asked to wait, if anything.
	RetryAfter string
}

func (e *APIError) Error() string {
	status := fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	status = strings.TrimSpace(status)
	var msg string
	switch {
	case e.StatusCode == http.StatusUnauthorized:
		msg = "A1Base refused the credentials (" + status + "); check A1BASE_API_KEY and A1BASE_API_SECRET"
	case e.StatusCode == http.StatusForbidden:
		msg = "A1Base refused access (" + status + "); check A1BASE_API_KEY and A1BASE_API_SECRET, and that the account may send to this group"
	case e.StatusCode >= 300 && e.StatusCode < 400:
		msg = "A1Base answered with a redirect (" + status + "), which herald does not follow for a send; check base_url"
	default:
		msg = "A1Base answered " + status
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// decodeAPIError reads an error answer. The detail may be a string, a
// FastAPI problem list, or something else; a body that is not JSON is left
// out rather than echoed, because it may repeat the message text.
func decodeAPIError(status int, header http.Header, body []byte) *APIError {
	e := &APIError{StatusCode: status, RetryAfter: header.Get("Retry-After")}
	if loc := header.Get("Location"); status >= 300 && status < 400 && loc != "" {
		e.Detail = "to " + loc
		return e
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil {
		return e
	}
	raw, ok := doc["detail"]
	if !ok {
		for _, k := range []string{"message", "error"} {
			if raw, ok = doc[k]; ok {
				break
			}
		}
	}
	if !ok {
		return e
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		e.Detail = s
		return e
	}
	var problems []Problem
	if json.Unmarshal(raw, &problems) == nil && len(problems) > 0 {
		e.Problems = problems
		parts := make([]string, len(problems))
		for i, p := range problems {
			parts[i] = p.String()
		}
		e.Detail = strings.Join(parts, "; ")
		return e
	}
	// Any other shape: compact JSON is still readable, and short.
	var v any
	if json.Unmarshal(raw, &v) == nil {
		if b, err := json.Marshal(v); err == nil {
			e.Detail = string(b)
		}
	}
	return e
}

// ThreadNotFoundError is the answer to a thread look-up for a thread
// A1Base does not know (404).
type ThreadNotFoundError struct {
	ThreadID string
	Detail   string
}

func (e *ThreadNotFoundError) Error() string {
	msg := fmt.Sprintf("A1Base does not know thread %q", e.ThreadID)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// redactedError carries a message from which credentials were removed while
// keeping the cause for errors.Is / errors.As (context.Canceled, net errors).
type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }
