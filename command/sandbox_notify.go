package command

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/notify"
)

// notifyReceiver is herald sandbox's endpoint for notifications: a
// notify block's webhook or slack url pointed at /notify/NAME lands here,
// is printed, and kept in a file when one is named. It answers 204, or 401
// to a webhook whose signature does not match -notify-secret.
type notifyReceiver struct {
	view   *views.Sandbox
	secret string
	file   string
	mu     sync.Mutex
}

func (n *notifyReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST a notification", http.StatusMethodNotAllowed)
		return
	}
	name := strings.Trim(strings.TrimPrefix(r.URL.Path, "/notify/"), "/")
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "reading the body failed", http.StatusBadRequest)
		return
	}
	c := views.CapturedNotification{Notify: name, Destination: "slack", Event: r.Header.Get(notify.HeaderEvent),
		ID: r.Header.Get(notify.HeaderEventID), Body: string(body)}
	signature := ""
	if c.ID != "" {
		c.Destination = "webhook"
		sig := r.Header.Get(notify.HeaderSignature)
		switch {
		case n.secret != "" && notify.Verify(n.secret, r.Header.Get(notify.HeaderTimestamp), sig, body):
			signature = "signature verified"
		case n.secret != "":
			signature = "signature does not match -notify-secret: refused"
		case sig != "":
			signature = "signed; give -notify-secret to verify"
		}
	}
	n.view.Notification(c, signature)
	if strings.HasSuffix(signature, "refused") {
		http.Error(w, "signature does not match", http.StatusUnauthorized)
		return
	}
	if n.file != "" {
		if err := n.keep(c); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// keep appends c to the file, one JSON object a line.
func (n *notifyReceiver) keep(c views.CapturedNotification) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	line, err := json.Marshal(c)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(n.file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("keeping a notification: %w", err)
	}
	_, werr := f.Write(append(line, '\n'))
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	return werr
}
