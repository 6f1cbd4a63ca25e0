package a1base_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/a1base/sandbox"
)

func TestRecentMessagesFromFake(t *testing.T) {
	clock := time.Date(2026, 12, 1, 9, 0, 0, 500_000_000, time.UTC)
	srv := sandbox.NewServer(sandbox.WithClock(func() time.Time { return clock }))
	defer srv.Close()
	c := newClient(srv.URL)
	for i := range 7 {
		sr := textSend
		sr.Content = fmt.Sprintf("message %d", i)
		require.Equal(t, a1base.Delivered, c.SendGroup(context.Background(), sr).Outcome)
		clock = clock.Add(time.Minute)
	}
	srv.AddThreadMessage(textSend.ThreadID, "+14155550199", "a member's reply", clock)

	msgs, err := c.RecentMessages(context.Background(), textSend.ThreadID)
	require.NoError(t, err)
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	assert.Equal(t, []a1base.ThreadMessage{
		{ID: "msg_8", Body: "a member's reply", From: "+14155550199", DateCreated: start.Add(7 * time.Minute)},
		{ID: "msg_7", Body: "message 6", From: textSend.From, DateCreated: start.Add(6 * time.Minute)},
		{ID: "msg_6", Body: "message 5", From: textSend.From, DateCreated: start.Add(5 * time.Minute)},
		{ID: "msg_5", Body: "message 4", From: textSend.From, DateCreated: start.Add(4 * time.Minute)},
		{ID: "msg_4", Body: "message 3", From: textSend.From, DateCreated: start.Add(3 * time.Minute)},
	}, msgs)

	other, err := c.RecentMessages(context.Background(), "a thread with nothing")
	require.NoError(t, err)
	assert.Empty(t, other)
}

func TestRecentMessagesUnknownThread(t *testing.T) {
	srv := sandbox.NewServer(sandbox.WithThreads("known"))
	defer srv.Close()
	c := newClient(srv.URL)
	_, err := c.RecentMessages(context.Background(), "known")
	require.NoError(t, err)

	_, err = c.RecentMessages(context.Background(), "unknown/thread")
	var nf *a1base.ThreadNotFoundError
	require.True(t, errors.As(err, &nf), "%v", err)
	assert.Equal(t, "unknown/thread", nf.ThreadID)
	assert.Equal(t, `A1Base does not know thread "unknown/thread": Thread not found`, err.Error())
}

func TestRecentMessagesRefused(t *testing.T) {
	srv := sandbox.NewServer(sandbox.WithCredentials("a-different-key", "a-different-secret"))
	defer srv.Close()
	_, err := newClient(srv.URL).RecentMessages(context.Background(), "t")
	var apiErr *a1base.APIError
	require.True(t, errors.As(err, &apiErr), "%v", err)
	assert.Equal(t, 401, apiErr.StatusCode)
}

func TestRecentMessagesLenient(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []a1base.ThreadMessage
		err  string
	}{
		{
			name: "documented",
			body: `{"status":"success","data":[{"message_id":"msg_1","body":"hi","from":"+1","date_created":"2026-12-01T09:00:00Z"}]}`,
			want: []a1base.ThreadMessage{{ID: "msg_1", Body: "hi", From: "+1", DateCreated: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}},
		},
		{
			name: "other names and a zoned time",
			body: `{"status":"success","data":[{"id":"m-9","content":"hi","sender_number":"+2","created_at":"2026-12-01 10:00:00.250+01:00"}]}`,
			want: []a1base.ThreadMessage{{ID: "m-9", Body: "hi", From: "+2", DateCreated: time.Date(2026, 12, 1, 9, 0, 0, 250_000_000, time.UTC)}},
		},
		{
			name: "media URLs",
			body: `{"data":[{"message_id":"m-1","attachment_uri":"https://e.com/a.png","from":"+1"},{"message_id":"m-2","media_url":"https://e.com/b.png","from":"+1"}]}`,
			want: []a1base.ThreadMessage{{ID: "m-1", From: "+1", Attachment: "https://e.com/a.png"}, {ID: "m-2", From: "+1", Attachment: "https://e.com/b.png"}},
		},
		{
			// Without a zone the time could be in any: it is unreadable,
			// not UTC.
			name: "zoneless times",
			body: `{"data":[{"body":"hi","date_created":"2026-12-01T09:00:00.250"},{"body":"yo","created_at":"2026-12-01 09:00:00"}]}`,
			want: []a1base.ThreadMessage{{Body: "hi"}, {Body: "yo"}},
		},
		{
			name: "structured content, offset and unix times",
			body: `{"data":[{"message_content":{"text":"hi"},"timestamp":"2026-12-01T10:00:00+01:00"},{"text":"yo","timestamp":1796115600}]}`,
			want: []a1base.ThreadMessage{
				{Body: "hi", DateCreated: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)},
				{Body: "yo", DateCreated: time.Unix(1796115600, 0).UTC()},
			},
		},
		{
			name: "a bare list, an unreadable time",
			body: `[{"body":"hi","date_created":"yesterday"}]`,
			want: []a1base.ThreadMessage{{Body: "hi"}},
		},
		{name: "no data", body: `{"status":"success"}`, err: `reading the recent messages of thread "t": the answer has no data`},
		{name: "not json", body: `<html>`, err: `reading the recent messages of thread "t": the answer is not JSON`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var path string
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				path = r.URL.EscapedPath()
				io.WriteString(w, tt.body)
			}))
			defer ts.Close()
			got, err := newClient(ts.URL+"/v1").RecentMessages(context.Background(), "t")
			assert.Equal(t, "/v1/messages/threads/acc_123/get-recent/t", path)
			if tt.err != "" {
				assert.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
