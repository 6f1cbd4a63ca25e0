package state

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A key given twice, or with other capitals than the format's, is refused
// where it stands: read leniently, "status":"sent","status":"failed" would
// load as failed, and a "Status" would be taken for "status".
func TestDecodeRefusesDuplicateAndMiscasedKeys(t *testing.T) {
	const head = `{"version":1,"lineage":"l","serial":1,"records":[`
	cases := []struct {
		name, in, want string
		at             string // the refused key starts at the first occurrence of this text after the head
	}{
		{name: "duplicate in a record", in: head + `{"address":"message.a","status":"sent","status":"failed"}]}`,
			want: `"status" appears twice`, at: `"status":"failed"`},
		{name: "duplicate in an attempt", in: head + `{"address":"message.a","status":"sent","attempts":[{"number":1,"outcome":"delivered","outcome":"ambiguous"}]}]}`,
			want: `"outcome" appears twice`, at: `"outcome":"ambiguous"`},
		{name: "duplicate in an answer", in: head + `{"address":"message.a","status":"sent","answer":{"body":"a","body":"b"}}]}`,
			want: `"body" appears twice`, at: `"body":"b"`},
		{name: "miscased in a record", in: head + `{"address":"message.a","status":"sent","Status":"failed"}]}`,
			want: `unknown field "Status"`, at: `"Status"`},
		{name: "miscased alone", in: head + `{"address":"message.a","STATUS":"sent"}]}`,
			want: `unknown field "STATUS"`, at: `"STATUS"`},
		{name: "miscased in an answer", in: head + `{"address":"message.a","status":"sent","answer":{"Body":"b"}}]}`,
			want: `unknown field "Body"`, at: `"Body"`},
		{name: "miscased at the top", in: `{"version":1,"Lineage":"l","serial":1,"records":[]}`,
			want: `unknown field "Lineage"`, at: `"Lineage"`},
		{name: "duplicate at the top", in: `{"version":1,"lineage":"l","serial":1,"serial":2,"records":[]}`,
			want: `"serial" appears twice`, at: `"serial":2`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap, err := Decode(strings.NewReader(tc.in))
			require.Error(t, err, "read as %+v", snap)
			require.ErrorContains(t, err, tc.want)
			var fe *FormatError
			require.True(t, errors.As(err, &fe), "%T: %v", err, err)
			off := int64(strings.Index(tc.in[len(head)-1:], tc.at) + len(head) - 1)
			if !strings.HasPrefix(tc.in, head) {
				off = int64(strings.Index(tc.in, tc.at))
			}
			require.Equal(t, off, fe.Offset, "%v", err)
			require.ErrorContains(t, err, "byte ")
		})
	}
}

// The journal is read as strictly: an outcome line whose status is given
// twice is refused, not replayed with its last status.
func TestJournalRefusesDuplicateAndMiscasedKeys(t *testing.T) {
	good := journalBytes(t, "lin", 3, attemptEvent("message.a", 1, t0))
	sent, err := encodeEvent(sentEvent("message.a", 1, t0))
	require.NoError(t, err)
	payload := strings.TrimSuffix(string(sent[9:]), "\n")
	require.Contains(t, payload, `"status":"sent"`)
	cases := []struct {
		name, payload, want, at string
		line                    int
	}{
		{name: "duplicate status", line: 3, want: `"status" appears twice`, at: `"status":"failed"`,
			payload: strings.Replace(payload, `"status":"sent"`, `"status":"sent","status":"failed"`, 1)},
		{name: "miscased status", line: 3, want: `unknown field "Status"`, at: `"Status"`,
			payload: strings.Replace(payload, `"status":"sent"`, `"Status":"failed"`, 1)},
		{name: "miscased with the right one", line: 3, want: `unknown field "STATUS"`, at: `"STATUS"`,
			payload: strings.Replace(payload, `"status":"sent"`, `"status":"sent","STATUS":"failed"`, 1)},
		{name: "duplicate in the answer", line: 3, want: `"status" appears twice`, at: `"status":"lost"`,
			payload: strings.Replace(payload, `"date_created":"2026-12-01T09:00:01Z"}`, `"date_created":"2026-12-01T09:00:01Z","status":"lost"}`, 1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.NotEqual(t, payload, tc.payload)
			data := append(append([]byte{}, good...), appendLine(nil, []byte(tc.payload))...)
			jc, err := parseJournal(data)
			require.Error(t, err, "read as %+v", jc)
			var je *JournalError
			require.True(t, errors.As(err, &je), "%T: %v", err, err)
			require.Equal(t, tc.line, je.Line)
			require.ErrorContains(t, err, tc.want)
			off := int64(len(good) + 9 + strings.Index(tc.payload, tc.at))
			require.Equal(t, off, je.Offset, "%v", err)
			require.ErrorContains(t, err, "byte ")
		})
	}
	t.Run("duplicate in the header", func(t *testing.T) {
		h := `{"journal":1,"lineage":"lin","serial":3,"serial":4}`
		_, err := parseJournal(appendLine(nil, []byte(h)))
		var je *JournalError
		require.True(t, errors.As(err, &je), "%T: %v", err, err)
		require.Equal(t, 1, je.Line)
		require.ErrorContains(t, err, `"serial" appears twice`)
		require.Equal(t, int64(9+strings.Index(h, `"serial":4`)), je.Offset)
	})
}
