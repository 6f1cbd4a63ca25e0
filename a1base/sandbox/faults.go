package sandbox

import (
	"net/http"
	"time"
)

// Faults are the failures the fake injects into sends, each independently
// with its rate (0 to 1), drawn from the server's seeded random source.
// Auth and validation come first: a refused request never draws a fault.
type Faults struct {
	// ErrorRate is the share of sends answered ErrorStatus (default 500)
	// without delivering them, unless ErrorDelivers.
	ErrorRate   float64
	ErrorStatus int
	// ErrorDelivers delivers the sends answered ErrorStatus all the same:
	// a gateway (502, 504) that gave up after A1Base processed the send.
	ErrorDelivers bool
	// RateLimitRate is the share of sends answered 429 with RetryAfter as
	// the Retry-After header ("" for none), without delivering them.
	RateLimitRate float64
	RetryAfter    string
	// Latency delays every answer (look-ups too).
	Latency time.Duration
	// LoseRate is the share of delivered sends whose answer is lost, the
	// way Lose says.
	LoseRate float64
	Lose     LoseMode
}

// LoseMode is how an answer gets lost after the send was delivered.
type LoseMode int

const (
	// Drop closes the connection without answering.
	Drop LoseMode = iota
	// Hang never answers; the request ends when the client gives up (or
	// the server closes).
	Hang
)

// Reply is a scripted answer to one send, taken from the queue set with
// Script in arrival order. Credentials and the body are still checked
// first; a refused send does not consume a reply.
type Reply struct {
	// Status 0 answers as the fake would (200 with its usual answer).
	Status int
	// Body replaces the answer's body when Status is set; "" gives
	// {"detail": "<status text>"} for an error status.
	Body   string
	Header http.Header
	// Delay waits before answering (or before losing the answer).
	Delay time.Duration
	// Lost loses the answer the way LoseMode says.
	Lost bool
	Lose LoseMode
	// Undelivered keeps the send out of the delivered record even though
	// the answer (a 2xx or a lost one) would say otherwise; for testing
	// reconciliation of a send that never arrived.
	Undelivered bool
	// Delivered delivers the send even though Status is an error: a
	// gateway's 502 or 504 that came after A1Base processed the send.
	Delivered bool
}

// delivers says whether the send counts as delivered.
func (r Reply) delivers() bool {
	switch {
	case r.Undelivered:
		return false
	case r.Delivered:
		return true
	}
	return r.Lost || r.Status == 0 || (r.Status >= 200 && r.Status < 300)
}
