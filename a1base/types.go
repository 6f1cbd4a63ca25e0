package a1base

import (
	"encoding/json"
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
	// MediaType is the attachment's type (image, video, audio, document).
	// The group endpoint has no field for it; the universal one does.
	MediaType string `json:"-"`
	// Sensitive says the content or the attachment was built from a
	// sensitive value: the outcome's error text then hides any echo of
	// them (see ScrubSensitive).
	Sensitive bool `json:"-"`
}

// UniversalRequest is the body of a group send through the universal
// endpoint POST /send/{accountId}.
type UniversalRequest struct {
	From     string           `json:"from"`
	ThreadID string           `json:"thread_id"`
	Service  string           `json:"service"`
	Type     string           `json:"type"` // always "group"
	Content  UniversalContent `json:"content"`
}

// UniversalContent is the content object of a universal send: a text
// ({type: text, text}) or a media message ({type: media, media_url,
// media_type, caption}; the caption is optional).
type UniversalContent struct {
	Type      string `json:"type"`
	Text      string `json:"text,omitempty"`
	MediaURL  string `json:"media_url,omitempty"`
	MediaType string `json:"media_type,omitempty"`
	Caption   string `json:"caption,omitempty"`
}

// MarshalJSON writes text only in the text form and the media fields only
// in the media form, where the caption is left out when empty.
func (c UniversalContent) MarshalJSON() ([]byte, error) {
	if c.Type == "text" {
		return json.Marshal(struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}{c.Type, c.Text})
	}
	type plain UniversalContent
	p := plain(c)
	p.Text = ""
	return json.Marshal(p)
}

// Universal is the send as the universal endpoint's body.
func (sr SendRequest) Universal() UniversalRequest {
	u := UniversalRequest{From: sr.From, ThreadID: sr.ThreadID, Service: sr.Service, Type: "group"}
	if sr.AttachmentURI != "" {
		u.Content = UniversalContent{Type: "media", MediaURL: sr.AttachmentURI, MediaType: sr.MediaType, Caption: sr.Content}
	} else {
		u.Content = UniversalContent{Type: "text", Text: sr.Content}
	}
	return u
}

// GroupAnswer is the answer to a delivered group send.
type GroupAnswer struct {
	// MessageID is the id A1Base gave the message (messageId), when the
	// answer carries one; the thread's recent messages and the webhook
	// name it message_id. Older answers have none.
	MessageID   string `json:"messageId,omitempty"`
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
	// Attachment is the media URL the message carries, when the API
	// lists one: a media message without a caption is recognised by it.
	Attachment string
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
