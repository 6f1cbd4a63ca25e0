package webhook_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base/webhook"
)

var now = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

const secret = "webhook-test-secret-0123456789"

const event = `{"thread_id":"t-1","message_id":"msg_7","thread_type":"group","content":"hi",` +
	`"sender_number":"+14155552671","sender_name":"herald","a1_account_id":"acc_1",` +
	`"timestamp":"2026-12-01T08:59:58Z","service":"whatsapp","message_type":"text",` +
	`"is_from_agent":true,"message_content":{"text":"hi"}}`

func signed(t time.Time, body string, names ...string) http.Header {
	sig, ts := webhook.Sign(secret, t, []byte(body))
	sigName, tsName := webhook.DefaultSignatureHeader, webhook.DefaultTimestampHeader
	if len(names) == 2 {
		sigName, tsName = names[0], names[1]
	}
	h := http.Header{}
	h.Set(sigName, sig)
	h.Set(tsName, ts)
	return h
}

func TestVerify(t *testing.T) {
	v := webhook.Verifier{Secret: secret, Now: func() time.Time { return now }}
	require.NoError(t, v.Verify(signed(now.Add(-time.Minute), event), []byte(event)))

	h := signed(now, event)
	h.Set(webhook.DefaultSignatureHeader, "sha256="+h.Get(webhook.DefaultSignatureHeader))
	assert.NoError(t, v.Verify(h, []byte(event)), "a sha256= prefix is read past")

	for _, tc := range []struct {
		name string
		h    http.Header
		body string
		want error
	}{
		{"another secret", func() http.Header {
			sig, ts := webhook.Sign("another-secret-0123456789", now, []byte(event))
			return http.Header{"X-Signature": {sig}, "X-Timestamp": {ts}}
		}(), event, webhook.ErrBadSignature},
		{"body changed", signed(now, event), strings.Replace(event, `"hi"`, `"ho"`, 1), webhook.ErrBadSignature},
		{"timestamp changed", func() http.Header {
			h := signed(now, event)
			h.Set("X-Timestamp", "1764579601")
			return h
		}(), event, webhook.ErrBadSignature},
		{"no signature", http.Header{"X-Timestamp": {"1764579600"}}, event, webhook.ErrUnsigned},
		{"no timestamp", http.Header{"X-Signature": {"00"}}, event, webhook.ErrUnsigned},
		{"signature not hex", http.Header{"X-Signature": {"zz"}, "X-Timestamp": {"1764579600"}}, event, webhook.ErrBadSignature},
		{"timestamp not a number", http.Header{"X-Signature": {"00"}, "X-Timestamp": {"yesterday"}}, event, webhook.ErrStale},
		{"replayed an hour later", signed(now.Add(-time.Hour), event), event, webhook.ErrStale},
		{"from the future", signed(now.Add(10*time.Minute), event), event, webhook.ErrStale},
		{"oversized", signed(now, strings.Repeat("x", webhook.MaxBody+1)), strings.Repeat("x", webhook.MaxBody+1), webhook.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := v.Verify(tc.h, []byte(tc.body))
			assert.ErrorIs(t, err, tc.want)
			assert.NotContains(t, err.Error(), secret)
		})
	}
}

func TestVerifyWithOtherHeaders(t *testing.T) {
	v := webhook.Verifier{Secret: secret, Now: func() time.Time { return now },
		SignatureHeader: "X-A1-Signature", TimestampHeader: "X-A1-Timestamp", Window: time.Minute}
	require.NoError(t, v.Verify(signed(now, event, "X-A1-Signature", "X-A1-Timestamp"), []byte(event)))
	assert.ErrorIs(t, v.Verify(signed(now, event), []byte(event)), webhook.ErrUnsigned, "the default names are not read")
	assert.ErrorIs(t, v.Verify(signed(now.Add(-2*time.Minute), event, "X-A1-Signature", "X-A1-Timestamp"), []byte(event)), webhook.ErrStale)
}

func TestParse(t *testing.T) {
	e, err := webhook.Parse([]byte(event))
	require.NoError(t, err)
	assert.Equal(t, webhook.Event{
		ThreadID: "t-1", MessageID: "msg_7", ThreadType: "group", SenderNumber: "+14155552671",
		AccountID: "acc_1", Timestamp: "2026-12-01T08:59:58Z", Service: "whatsapp", MessageType: "text",
		IsFromAgent: true, Content: webhook.Content{Text: "hi"},
	}, e)
	created, err := e.Created()
	require.NoError(t, err)
	assert.Equal(t, now.Add(-2*time.Second), created)

	for _, tc := range []struct{ name, body, want string }{
		{"not JSON", `{"thread_id":`, "not a webhook event"},
		{"two values", event + event, "more than one JSON value"},
		{"fields missing", `{"thread_id":"t-1","timestamp":"2026-12-01T08:59:58Z"}`, "no message_id, a1_account_id"},
		{"wrong type", `{"thread_id":7}`, "not a webhook event"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := webhook.Parse([]byte(tc.body))
			assert.ErrorIs(t, err, webhook.ErrBadEvent)
			assert.ErrorContains(t, err, tc.want)
		})
	}

	zoneless := webhook.Event{Timestamp: "2026-12-01T08:59:58"}
	_, err = zoneless.Created()
	assert.ErrorContains(t, err, "with a zone")
}
