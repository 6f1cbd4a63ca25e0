package a1base

import (
	"fmt"
	"time"
)

// SendRequest is the body of a group send, as A1Base's OpenAPI describes it.
// Content carries the text, or the caption ("" when none) of a media send.
type SendRequest struct {
	Content       string `json:"content"`
	From          string `json:"from"`
	ThreadID      string `json:"thread_id"`
	Service       string `json:"service"`
	AttachmentURI string `json:"attachment_uri,omitempty"`
}

// GroupAnswer is the answer to a delivered group send.
type GroupAnswer struct {
	ChatGroupID string `json:"chat_group_id"`
	From        string `json:"from"`
	Body        string `json:"body"`
	Status      string `json:"status"`
	DateCreated string `json:"date_created"`
}

// ThreadMessage is one of a thread's recent messages.
type ThreadMessage struct {
	// ID is the message's id, when the API gives one (message_id or id);
	// an import records it as its evidence.
	ID          string
	Body        string
	DateCreated time.Time
	// From is the sender's number, when the API names it; reconciliation
	// uses it to tell the agent's own messages from the members'.
	From string
}

// Outcome classifies what became of a request.
type Outcome int

const (
	// Delivered: the API accepted the message.
	Delivered Outcome = iota
	// Transient: not delivered, and trying again may work (408, 429, 500,
	// 503, or the request was never written).
	Transient
	// Permanent: the API refused the message; trying again will not help.
	Permanent
	// Ambiguous: the message may or may not have been delivered: the
	// request was written but no answer came, or the answer was a 5xx
	// other than 500 and 503 (502, 504, ...), which a gateway may give
	// after the API processed the send.
	Ambiguous
)

func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	case Ambiguous:
		return "ambiguous"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// Result is the classified result of one send.
type Result struct {
	Outcome    Outcome
	Answer     *GroupAnswer // set when Delivered
	StatusCode int          // 0 when no answer came
	// RetryAfter is the wait the API asked for (429 Retry-After), if any.
	RetryAfter time.Duration
	// Err explains any outcome but Delivered, readably (the API's detail
	// rendered as text). It never contains credentials.
	Err error
}
