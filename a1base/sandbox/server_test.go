package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/a1base/sandbox"
)

const (
	key    = "test-key-123456"
	secret = "test-secret-654321"
)

var hello = a1base.SendRequest{Content: "hello", From: "+14155552671", ThreadID: "t-1", Service: "whatsapp"}

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

// call makes a raw request with the test credentials unless header
// overrides them.
func call(t *testing.T, method, url string, body any, header map[string]string) answer {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		require.NoError(t, err)
		r = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, url, r)
	require.NoError(t, err)
	req.Header.Set("X-API-Key", key)
	req.Header.Set("X-API-Secret", secret)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := answer{status: resp.StatusCode, header: resp.Header}
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &a.body), "%s", raw)
	}
	return a
}

func sendURL(s *sandbox.Server, account string) string {
	return s.URL + "/messages/group/" + account + "/send"
}

func client(s *sandbox.Server, timeout time.Duration) *a1base.Client {
	return a1base.New(a1base.Config{BaseURL: s.URL, AccountID: "acc", APIKey: key, APISecret: secret, Timeout: timeout})
}

func TestCredentialsAndAccount(t *testing.T) {
	s := sandbox.NewServer(sandbox.WithCredentials(key, secret), sandbox.WithAccountID("acc"))
	defer s.Close()
	tests := []struct {
		name    string
		account string
		header  map[string]string
		status  int
		detail  string
	}{
		{"no key", "acc", map[string]string{"X-API-Key": ""}, 401, "Missing API key or secret"},
		{"no secret", "acc", map[string]string{"X-API-Secret": ""}, 401, "Missing API key or secret"},
		{"wrong key", "acc", map[string]string{"X-API-Key": "nope"}, 401, "Invalid API credentials"},
		{"wrong secret", "acc", map[string]string{"X-API-Secret": "nope"}, 401, "Invalid API credentials"},
		{"wrong account", "other", nil, 404, "Account not found"},
		{"accepted", "acc", nil, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, http.MethodPost, sendURL(s, tt.account), hello, tt.header)
			assert.Equal(t, tt.status, a.status)
			if tt.detail != "" {
				assert.Equal(t, tt.detail, a.body["detail"])
			}
		})
	}
	assert.Len(t, s.Arrivals(), len(tests), "refused requests are recorded as arrivals")
	assert.Len(t, s.Sends(), 1)
	for i, arr := range s.Arrivals() {
		assert.Equal(t, tests[i].status, arr.Status)
		assert.Equal(t, http.MethodPost, arr.Method)
	}
}

func TestValidation(t *testing.T) {
	s := sandbox.NewServer()
	defer s.Close()
	tests := []struct {
		name string
		body any
		want []map[string]any
	}{
		{"empty object", map[string]any{}, []map[string]any{
			{"loc": []any{"body", "content"}, "msg": "Field required", "type": "missing"},
			{"loc": []any{"body", "from"}, "msg": "Field required", "type": "missing"},
			{"loc": []any{"body", "thread_id"}, "msg": "Field required", "type": "missing"},
			{"loc": []any{"body", "service"}, "msg": "Field required", "type": "missing"},
		}},
		{"types and enum", map[string]any{"content": 1, "from": "+14155552671", "thread_id": "t", "service": "sms"}, []map[string]any{
			{"loc": []any{"body", "content"}, "msg": "Input should be a valid string", "type": "string_type"},
			{"loc": []any{"body", "service"}, "msg": "Input should be 'whatsapp' or 'telegram'", "type": "enum"},
		}},
		{"phone number", map[string]any{"content": "x", "from": "555-1234", "thread_id": "t", "service": "telegram"}, []map[string]any{
			{"loc": []any{"body", "from"}, "msg": "value is not a valid phone number", "type": "value_error"},
		}},
		{"attachment scheme", map[string]any{"content": "", "from": "+14155552671", "thread_id": "t", "service": "whatsapp", "attachment_uri": "ftp://x/y"}, []map[string]any{
			{"loc": []any{"body", "attachment_uri"}, "msg": "URL scheme should be 'http' or 'https'", "type": "url_scheme"},
		}},
		{"attachment without host", map[string]any{"content": "", "from": "+14155552671", "thread_id": "t", "service": "whatsapp", "attachment_uri": "https://"}, []map[string]any{
			{"loc": []any{"body", "attachment_uri"}, "msg": "Input should be a valid URL", "type": "url_parsing"},
		}},
		{"too long", map[string]any{"content": strings.Repeat("é", 4097), "from": "+14155552671", "thread_id": "t", "service": "whatsapp"}, []map[string]any{
			{"loc": []any{"body", "content"}, "msg": "String should have at most 4096 characters", "type": "string_too_long"},
		}},
		{"not json", "{", []map[string]any{{"loc": []any{"body"}, "msg": "JSON decode error", "type": "json_invalid"}}},
		{"not an object", "[1]", []map[string]any{{"loc": []any{"body"}, "msg": "Input should be a valid dictionary or object to extract fields from", "type": "model_attributes_type"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, http.MethodPost, sendURL(s, "acc"), tt.body, nil)
			require.Equal(t, http.StatusUnprocessableEntity, a.status)
			var want []any
			for _, w := range tt.want {
				want = append(want, w)
			}
			assert.Equal(t, want, a.body["detail"])
		})
	}
	assert.Empty(t, s.Sends())

	ok := call(t, http.MethodPost, sendURL(s, "acc"), map[string]any{
		"content": strings.Repeat("é", 4096), "from": "+14155552671", "thread_id": "t", "service": "whatsapp",
		"attachment_uri": nil, "extra": true,
	}, nil)
	assert.Equal(t, http.StatusOK, ok.status, "4096 characters, a null attachment and unknown fields are accepted")

	wrongType := call(t, http.MethodPost, sendURL(s, "acc"), hello, map[string]string{"Content-Type": "text/plain"})
	assert.Equal(t, http.StatusUnprocessableEntity, wrongType.status)
}

func TestAnswer(t *testing.T) {
	clock := time.Date(2026, 12, 1, 9, 30, 15, 999_999_999, time.FixedZone("CET", 3600))
	var hooked []sandbox.Received
	var mu sync.Mutex
	s := sandbox.NewServer(
		sandbox.WithClock(func() time.Time { return clock }),
		sandbox.WithOnReceive(func(r sandbox.Received) {
			mu.Lock()
			defer mu.Unlock()
			hooked = append(hooked, r)
		}),
	)
	defer s.Close()
	a := call(t, http.MethodPost, sendURL(s, "acc"), hello, map[string]string{"User-Agent": "herald/test"})
	require.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, map[string]any{
		"messageId": "msg_1", "chat_group_id": "t-1", "from": "+14155552671", "body": "hello",
		"status": "queued", "date_created": "2026-12-01T08:30:15Z",
	}, a.body)

	s.SetWrapped(true)
	wrapped := call(t, http.MethodPost, s.URL+"/v1/messages/group/acc/send", hello, nil)
	require.Equal(t, http.StatusOK, wrapped.status)
	a.body["messageId"] = "msg_2" // each message its own id
	assert.Equal(t, a.body, wrapped.body["data"])

	// The thread lists each delivery under the id its answer gave.
	recent := call(t, http.MethodGet, s.URL+"/v1/messages/threads/acc/get-recent/t-1", nil, nil)
	require.Equal(t, http.StatusOK, recent.status)
	var ids []any
	for _, m := range recent.body["data"].([]any) {
		ids = append(ids, m.(map[string]any)["message_id"])
	}
	assert.Equal(t, []any{"msg_2", "msg_1"}, ids)

	sends := s.Sends()
	require.Len(t, sends, 2)
	assert.Equal(t, 1, sends[0].Seq)
	assert.Equal(t, 2, sends[1].Seq)
	assert.Equal(t, hello, sends[0].Request)
	assert.Equal(t, "acc", sends[0].AccountID)
	assert.Equal(t, clock, sends[0].Arrived)
	assert.Equal(t, "herald/test", sends[0].Header.Get("User-Agent"))
	assert.Empty(t, sends[0].Header.Get("X-API-Key"), "the key is not recorded")
	assert.Empty(t, sends[0].Header.Get("X-API-Secret"), "the secret is not recorded")
	assert.False(t, sends[0].AnswerLost)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, hooked, 2)
	assert.Equal(t, sends[0].Request, hooked[0].Request)
	assert.Empty(t, hooked[0].Header.Get("X-API-Secret"))
}

func TestRoutes(t *testing.T) {
	s := sandbox.NewServer()
	defer s.Close()
	assert.Equal(t, http.StatusNotFound, call(t, http.MethodGet, s.URL+"/nothing/here", nil, nil).status)
	assert.Equal(t, http.StatusMethodNotAllowed, call(t, http.MethodGet, sendURL(s, "acc"), nil, nil).status)
	assert.Equal(t, http.StatusMethodNotAllowed,
		call(t, http.MethodPost, s.URL+"/messages/threads/acc/get-recent/t", nil, nil).status)
	assert.Equal(t, http.StatusOK, call(t, http.MethodGet, s.URL+"/v1/messages/threads/acc/get-recent/t", nil, nil).status)
	assert.Equal(t, http.StatusNotFound, call(t, http.MethodPost, s.URL+"/messages/group//send", hello, nil).status)
	assert.Len(t, s.Arrivals(), 5)
}

func TestThreads(t *testing.T) {
	s := sandbox.NewServer(sandbox.WithThreads("t-1"))
	defer s.Close()
	other := hello
	other.ThreadID = "t-2"
	a := call(t, http.MethodPost, sendURL(s, "acc"), other, nil)
	assert.Equal(t, http.StatusNotFound, a.status)
	assert.Equal(t, "Thread not found", a.body["detail"])
	assert.Equal(t, http.StatusNotFound, call(t, http.MethodGet, s.URL+"/messages/threads/acc/get-recent/t-2", nil, nil).status)

	s.AddThreads("t-2")
	assert.Equal(t, http.StatusOK, call(t, http.MethodPost, sendURL(s, "acc"), other, nil).status)

	empty := hello
	empty.ThreadID = ""
	assert.Equal(t, http.StatusNotFound, call(t, http.MethodPost, sendURL(s, "acc"), empty, nil).status)
}

func TestRejectThread(t *testing.T) {
	s := sandbox.NewServer()
	defer s.Close()
	s.RejectThread("t-1", http.StatusForbidden, "")
	a := call(t, http.MethodPost, sendURL(s, "acc"), hello, nil)
	assert.Equal(t, http.StatusForbidden, a.status)
	assert.Equal(t, "The agent number is not a member of this group", a.body["detail"])
	assert.Equal(t, http.StatusForbidden, call(t, http.MethodGet, s.URL+"/messages/threads/acc/get-recent/t-1", nil, nil).status)

	s.RejectThread("t-1", 0, "")
	a = call(t, http.MethodPost, sendURL(s, "acc"), hello, nil)
	assert.Equal(t, http.StatusNotFound, a.status)
	assert.Equal(t, "Thread not found", a.body["detail"])

	res := client(s, 0).SendGroup(context.Background(), hello)
	assert.Equal(t, a1base.Permanent, res.Outcome)
	assert.EqualError(t, res.Err, "A1Base answered 404 Not Found: Thread not found")

	other := hello
	other.ThreadID = "t-2"
	assert.Equal(t, http.StatusOK, call(t, http.MethodPost, sendURL(s, "acc"), other, nil).status)
	s.AcceptThread("t-1")
	assert.Equal(t, http.StatusOK, call(t, http.MethodPost, sendURL(s, "acc"), hello, nil).status)
	assert.Len(t, s.Sends(), 2)
}

func TestRecentKeepsLastFive(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	s := sandbox.NewServer(sandbox.WithClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}))
	defer s.Close()
	for i := range 8 {
		m := hello
		m.Content = fmt.Sprint(i)
		if i == 7 {
			m.AttachmentURI = "https://example.com/x.png"
		}
		require.Equal(t, http.StatusOK, call(t, http.MethodPost, sendURL(s, "acc"), m, nil).status)
	}
	a := call(t, http.MethodGet, s.URL+"/messages/threads/acc/get-recent/t-1", nil, nil)
	require.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, "success", a.body["status"])
	data := a.body["data"].([]any)
	require.Len(t, data, 5)
	var bodies []string
	for _, d := range data {
		bodies = append(bodies, d.(map[string]any)["body"].(string))
	}
	assert.Equal(t, []string{"7", "6", "5", "4", "3"}, bodies, "newest first")
	newest := data[0].(map[string]any)
	assert.Equal(t, "https://example.com/x.png", newest["attachment_uri"])
	assert.Equal(t, "+14155552671", newest["from"])
	_, err := time.Parse(time.RFC3339, newest["date_created"].(string))
	assert.NoError(t, err)
}

// The sandbox serves the handler on a listener of its own.
func TestHandlerOnOwnListener(t *testing.T) {
	api := sandbox.NewHandler(sandbox.WithWrappedAnswers())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: api}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	c := a1base.New(a1base.Config{BaseURL: "http://" + l.Addr().String() + "/v1", AccountID: "acc", APIKey: key, APISecret: secret})
	res := c.SendGroup(context.Background(), hello)
	require.Equal(t, a1base.Delivered, res.Outcome, "%v", res.Err)
	assert.Equal(t, "queued", res.Answer.Status)
	assert.Len(t, api.Sends(), 1)

	api.Close()
	require.NoError(t, srv.Shutdown(context.Background()))
	assert.ErrorIs(t, <-served, http.ErrServerClosed)
}

func TestServerAccessors(t *testing.T) {
	s := sandbox.NewServer()
	defer s.Close()
	assert.Same(t, s.API, s.Handler())
	c := a1base.New(a1base.Config{BaseURL: s.URL, AccountID: "acc", APIKey: key, APISecret: secret, HTTPClient: s.Client()})
	assert.Equal(t, a1base.Delivered, c.SendGroup(context.Background(), hello).Outcome)
}

// TestRecentLag: with a lag, a delivered message shows in get-recent only
// once the fake's clock has passed its creation by the lag; until then the
// page lists the messages before it.
func TestRecentLag(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); clock = clock.Add(d) }
	s := sandbox.NewServer(sandbox.WithClock(now), sandbox.WithRecentLag(30*time.Second))
	defer s.Close()
	s.AddThreadMessage("t-1", "+19995550123", "from a member", now().Add(-time.Minute))
	require.Equal(t, http.StatusOK, call(t, http.MethodPost, sendURL(s, "acc"), hello, nil).status)
	c := client(s, time.Second)
	bodies := func() []string {
		msgs, err := c.RecentMessages(context.Background(), "t-1")
		require.NoError(t, err)
		var out []string
		for _, m := range msgs {
			out = append(out, m.Body)
		}
		return out
	}
	assert.Equal(t, []string{"from a member"}, bodies(), "the send does not show yet")
	advance(29 * time.Second)
	assert.Equal(t, []string{"from a member"}, bodies())
	advance(time.Second)
	assert.Equal(t, []string{"hello", "from a member"}, bodies(), "shown once the lag has passed")

	s.SetRecentLag(0)
	m := hello
	m.Content = "at once"
	require.Equal(t, http.StatusOK, call(t, http.MethodPost, sendURL(s, "acc"), m, nil).status)
	assert.Equal(t, []string{"at once", "hello", "from a member"}, bodies())
}

// TestChatter: a busy thread's page holds only the members' messages once
// more of them than a page came after a send.
func TestChatter(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := at
	s := sandbox.NewServer(sandbox.WithClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }))
	defer s.Close()
	require.Equal(t, http.StatusOK, call(t, http.MethodPost, sendURL(s, "acc"), hello, nil).status)
	mu.Lock()
	clock = at.Add(time.Minute)
	mu.Unlock()
	s.AddChatter("t-1", "+19995550123", 5, at.Add(time.Second), time.Second)
	msgs, err := client(s, time.Second).RecentMessages(context.Background(), "t-1")
	require.NoError(t, err)
	require.Len(t, msgs, 5)
	for i, m := range msgs {
		assert.Equal(t, "+19995550123", m.From)
		assert.NotEqual(t, "hello", m.Body)
		assert.Equal(t, at.Add(time.Duration(5-i)*time.Second), m.DateCreated, "newest first, a second apart")
	}
}
