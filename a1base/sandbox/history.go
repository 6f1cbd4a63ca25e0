package sandbox

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// History is the messages of the fake's threads, by thread id, so that
// they can outlive the fake: herald apply -sandbox keeps them in a file
// for the next run (and herald import -sandbox) to read.
type History struct {
	Threads map[string][]HistoryMessage `json:"threads"`
}

// HistoryMessage is one message of a thread, as the look-up lists it.
type HistoryMessage struct {
	// ID is the message's id; a message added without one gets the next
	// msg_N.
	ID            string `json:"message_id,omitempty"`
	From          string `json:"from"`
	Body          string `json:"body"`
	AttachmentURI string `json:"attachment_uri,omitempty"`
	// DateCreated is when it was sent, whole seconds.
	DateCreated time.Time `json:"date_created"`
	// Inbound marks a member's message rather than one sent through the
	// API.
	Inbound bool `json:"inbound,omitempty"`
}

// History returns the messages of every thread, oldest first.
func (a *API) History() History {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := History{Threads: make(map[string][]HistoryMessage, len(a.messages))}
	for thread, msgs := range a.messages {
		out := make([]HistoryMessage, len(msgs))
		for i, m := range msgs {
			out[i] = HistoryMessage{ID: m.id, From: m.from, Body: m.body, AttachmentURI: m.attachment, DateCreated: m.created, Inbound: m.fromOutside}
		}
		h.Threads[thread] = out
	}
	return h
}

// AddHistory puts h's messages into their threads, before any message the
// fake received, each thread ordered by date, at once visible to
// look-ups. New ids continue after the highest msg_N among them, so that
// no id is handed out twice. A message with an id a thread already holds
// is an error.
func (a *API) AddHistory(h History) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	seen := map[string]bool{}
	for _, msgs := range a.messages {
		for _, m := range msgs {
			seen[m.id] = true
		}
	}
	for _, msgs := range h.Threads {
		for _, m := range msgs {
			if n, ok := messageNumber(m.ID); ok && n > a.nextMsg {
				a.nextMsg = n
			}
		}
	}
	threads := make([]string, 0, len(h.Threads))
	for t := range h.Threads {
		threads = append(threads, t)
	}
	slices.Sort(threads)
	for _, thread := range threads {
		if strings.TrimSpace(thread) == "" {
			return fmt.Errorf("a thread id is empty")
		}
		added := make([]threadMessage, 0, len(h.Threads[thread]))
		for i, m := range h.Threads[thread] {
			if m.DateCreated.IsZero() {
				return fmt.Errorf("thread %q, message %d: date_created is missing", thread, i+1)
			}
			id := m.ID
			if id == "" {
				a.nextMsg++
				id = "msg_" + strconv.Itoa(a.nextMsg)
			}
			if seen[id] {
				return fmt.Errorf("thread %q, message %d: the id %q is used twice", thread, i+1, id)
			}
			seen[id] = true
			added = append(added, threadMessage{
				id: id, from: m.From, body: m.Body, attachment: m.AttachmentURI,
				created: m.DateCreated.UTC().Truncate(time.Second), fromOutside: m.Inbound,
			})
		}
		slices.SortStableFunc(added, func(x, y threadMessage) int { return cmp.Compare(x.created.Unix(), y.created.Unix()) })
		a.messages[thread] = append(added, a.messages[thread]...)
	}
	return nil
}

// messageNumber is N of an id msg_N the fake hands out.
func messageNumber(id string) (int, bool) {
	rest, ok := strings.CutPrefix(id, "msg_")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n > 0
}
