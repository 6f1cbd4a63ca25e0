package views

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/heraldhq/herald/a1base"
)

func TestSandboxView(t *testing.T) {
	var out bytes.Buffer
	s := NewSandbox(&View{Stdout: &out})
	s.Listening(SandboxInfo{
		URL: "http://127.0.0.1:8080", APIKey: "sandbox", APISecret: "it's", Account: "acc 1",
		ErrorRate: 0.1, ErrorStatus: 503, LoseRate: 0.5, LoseMode: "hang", Latency: 200 * time.Millisecond, Seed: 7,
	})
	s.Received(a1base.SendRequest{ThreadID: "t-eng", Service: "whatsapp", From: "+1", Content: "hi"}, true)
	s.Stopped(1)
	assert.Equal(t, `A1Base sandbox listening on http://127.0.0.1:8080/v1

Point herald at it (in another terminal):

  export A1BASE_BASE_URL=http://127.0.0.1:8080/v1
  export A1BASE_API_KEY=sandbox
  export A1BASE_API_SECRET='it'\''s'
  export A1BASE_ACCOUNT_ID='acc 1'   # unless the provider block sets account_id
  herald apply

Notifications: give a notify block's webhook or slack url as http://127.0.0.1:8080/notify/NAME
(a sensitive variable set to it); what it receives is printed here.

Faults (seed 7): 0.1 of sends fail with 503; 0.5 delivered with the answer lost (hang); every answer 200ms late.

Messages it receives are printed below. Press Ctrl-C to stop.

sandbox received → thread t-eng (whatsapp) from +1: "hi" (answer lost on purpose)

Sandbox stopped after 1 message.
`, out.String())
}
