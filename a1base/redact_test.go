package a1base_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
)

// echoServer answers every send with status and body.
func echoServer(t *testing.T, status int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Credentials are hidden where an answer echoes them whole; a credential
// too short to tell from ordinary text is not looked for, so an error
// is never mangled letter by letter.
func TestCredentialsRedactedAsWholeMatchesOnly(t *testing.T) {
	const long = "s3cr3t-0123456789abcdef"
	url := echoServer(t, http.StatusBadRequest,
		`{"detail":"header X-API-Key was k, X-API-Secret was `+long+`; keep the key kept"}`)
	c := newClient(url, func(cfg *a1base.Config) { cfg.APIKey, cfg.APISecret = "k", long })
	res := c.SendGroup(context.Background(), textSend)
	require.Error(t, res.Err)
	msg := res.Err.Error()
	assert.NotContains(t, msg, long)
	assert.Contains(t, msg, "X-API-Secret was (redacted); keep the key kept", "the long secret is replaced whole, the one-letter key never")
	assert.Equal(t, 1, strings.Count(msg, "(redacted)"), msg)
}

// A sensitive send's error hides every echo of its content, URL and
// caption: whole, cut short, or escaped.
func TestSensitiveSendErrorHidesEchoes(t *testing.T) {
	send := a1base.SendRequest{
		Content:       `Code "7731-LYNX" <now>`,
		AttachmentURI: "https://files.example/plans/lynx-7731.pdf?sig=1",
		From:          "+14155552671", ThreadID: "t-1", Service: "whatsapp",
		Sensitive: true,
	}
	for name, body := range map[string]string{
		"string detail":   `{"detail":"rejected: Code \"7731-LYNX\" <now>"}`,
		"cut short":       `{"detail":"too long: 'Code \"7731-LY…'"}`,
		"other shape":     `{"detail":{"content":"Code \"7731-LYNX\" <now>","media":"https://files.example/plans/lynx-7731.pdf"}}`,
		"problems":        `{"detail":[{"loc":["body","attachment_uri"],"msg":"cannot fetch files.example/plans/lynx-7731.pdf","type":"x"}]}`,
		"url-escaped":     `{"detail":"bad uri https%3A%2F%2Ffiles.example%2Fplans%2Flynx-7731.pdf%3Fsig%3D1"}`,
		"message field":   `{"message":"Code \"7731-LYNX\" <now> is not allowed"}`,
		"gateway (502)":   `{"detail":"upstream said: Code \"7731-LYNX\" <now>"}`,
		"throttled (429)": `{"detail":"slow down with Code \"7731-LYNX\" <now>"}`,
	} {
		t.Run(name, func(t *testing.T) {
			status := http.StatusBadRequest
			switch {
			case strings.Contains(name, "502"):
				status = http.StatusBadGateway
			case strings.Contains(name, "429"):
				status = http.StatusTooManyRequests
			}
			res := newClient(echoServer(t, status, body)).SendGroup(context.Background(), send)
			if status == http.StatusTooManyRequests {
				// A 429 carries no error text of its own.
				return
			}
			require.Error(t, res.Err)
			msg := res.Err.Error()
			for _, s := range []string{"7731", "LYNX", "lynx", "files.example", "<now>"} {
				assert.NotContains(t, msg, s)
			}
			assert.Contains(t, msg, a1base.SensitiveMark)
			var apiErr *a1base.APIError
			if assert.ErrorAs(t, res.Err, &apiErr) {
				assert.NotContains(t, apiErr.Error(), "7731", "the unwrapped API error is scrubbed too")
			}
		})
	}

	// The same answer to a send that is not sensitive is kept as is.
	plain := send
	plain.Sensitive = false
	res := newClient(echoServer(t, http.StatusBadRequest, `{"detail":"rejected: Code \"7731-LYNX\" <now>"}`)).SendGroup(context.Background(), plain)
	assert.Contains(t, res.Err.Error(), `rejected: Code "7731-LYNX" <now>`)
}

func TestScrubSensitive(t *testing.T) {
	tests := []struct {
		name, s string
		parts   []string
		want    string
	}{
		{"nothing shared", "thread not found", []string{"Door code 4711"}, "thread not found"},
		{"whole", "bad content: Door code 4711!", []string{"Door code 4711"}, "bad content: (sensitive)!"},
		{"cut short", "bad content: 'Door code 47…'", []string{"Door code 4711"}, "bad content: '(sensitive)…'"},
		{"short part as a word", "pin 4711 rejected, not 47110", []string{"4711"}, "pin (sensitive) rejected, not 47110"},
		{"one letter", "a bad request", []string{"a"}, "(sensitive) bad request"},
		{"runes kept whole", "héllo wörld ünd mehr", []string{"llo wörld ü"}, "hé(sensitive)nd mehr"},
		{"empty part", "anything", []string{""}, "anything"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, a1base.ScrubSensitive(tt.s, tt.parts...))
		})
	}
}
