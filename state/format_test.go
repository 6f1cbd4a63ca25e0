package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	s := NewSnapshot()
	s.Serial = 7
	s.Apply(attemptEvent(`message.b`, 1, t0))
	s.Apply(failedEvent(`message.b`, 1, t0.Add(time.Second), "429 too many requests"))
	s.Apply(attemptEvent(`message.b`, 2, t0.Add(time.Minute)))
	s.Apply(sentEvent(`message.b`, 2, t0.Add(time.Minute+time.Second)))
	s.Apply(attemptEvent(`message.a["x"]`, 1, t0))
	s.Apply(Event{Kind: EventOutcome, Address: "message.c", Group: "sales", SendAt: t0, At: t0, Status: StatusExpired})

	var buf bytes.Buffer
	require.NoError(t, Encode(&buf, s))
	got, err := Decode(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	if d := cmp.Diff(s, got); d != "" {
		t.Fatalf("round trip changed the state (-want +got):\n%s", d)
	}

	// Stable: the same state always gives the same bytes, records sorted.
	var again bytes.Buffer
	require.NoError(t, Encode(&again, got))
	require.Equal(t, buf.String(), again.String())
	text := buf.String()
	require.Less(t, strings.Index(text, `"message.a[\"x\"]"`), strings.Index(text, `"message.b"`))
	require.Less(t, strings.Index(text, `"message.b"`), strings.Index(text, `"message.c"`))
	require.True(t, strings.HasPrefix(text, "{\n  \"version\": 1,\n  \"lineage\": \""+s.Lineage+"\",\n  \"serial\": 7,"), text[:80])
}

func TestEncodeRefusesInconsistentSnapshots(t *testing.T) {
	cases := map[string]*Snapshot{
		"nil":              nil,
		"no lineage":       {Records: map[string]*Record{}},
		"address mismatch": {Lineage: "l", Records: map[string]*Record{"message.a": {Address: "message.b", Status: StatusSent}}},
		"nil record":       {Lineage: "l", Records: map[string]*Record{"message.a": nil}},
		"bad status":       {Lineage: "l", Records: map[string]*Record{"message.a": {Address: "message.a", Status: "maybe"}}},
		"empty address":    {Lineage: "l", Records: map[string]*Record{"": {Status: StatusSent}}},
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			require.Error(t, Encode(&bytes.Buffer{}, s))
		})
	}
}

func TestDecodeRefusesBadFiles(t *testing.T) {
	cases := []struct {
		name, in, want string
		line, col      int
	}{
		{name: "empty", in: "", want: "state file is empty"},
		{name: "syntax", in: "{\n  \"version\": 1,\n  \"lineage\": \"l\"\n  \"serial\": 1\n}\n", want: "invalid character", line: 4, col: 3},
		{name: "cut short", in: "{\n  \"version\": 1,\n  \"lineage\": \"l\",\n  \"records\": [\n", want: "", line: 5, col: 1},
		{name: "no version", in: `{"lineage":"l","serial":1,"records":[]}`, want: `no "version"`},
		{name: "wrong type", in: "{\"version\": 1,\n\"lineage\": \"l\", \"serial\": \"one\", \"records\": []}", want: `field "serial" is a JSON string`, line: 2},
		{name: "unknown field", in: `{"version":1,"lineage":"l","serial":1,"records":[],"extra":true}`, want: `unknown field "extra"`},
		{name: "no lineage", in: `{"version":1,"serial":1,"records":[]}`, want: "no lineage"},
		{name: "no address", in: `{"version":1,"lineage":"l","serial":1,"records":[{"status":"sent"}]}`, want: "record 0 has no address"},
		{name: "null record", in: `{"version":1,"lineage":"l","serial":1,"records":[null]}`, want: "record 0 is null"},
		{name: "bad status", in: `{"version":1,"lineage":"l","serial":1,"records":[{"address":"message.a","status":"maybe"}]}`, want: `unknown status "maybe"`},
		{name: "duplicate", in: `{"version":1,"lineage":"l","serial":1,"records":[{"address":"message.a","status":"sent"},{"address":"message.a","status":"sent"}]}`, want: "appears twice"},
		{name: "trailing", in: `{"version":1,"lineage":"l","serial":1,"records":[]} {}`, want: "after the state document", line: 1, col: 53},
		{name: "not an object", in: `[1,2]`, want: "JSON array"},
		{name: "type in a record", in: "{\"version\":1,\"lineage\":\"l\",\"serial\":1,\"records\":[\n{\"address\":\"message.a\",\"status\":\"sent\"},\n  {\"address\":\"message.b\",\"status\":\"sent\",\"attempts\":[{\"number\":\"x\"}]}]}", want: `"attempts.number" is a JSON string`, line: 3},
		{name: "status in a record", in: "{\"version\":1,\"lineage\":\"l\",\"serial\":1,\"records\":[\n{\"address\":\"message.a\",\"status\":\"sent\"},\n  {\"address\":\"message.b\",\"status\":\"gone\"}]}", want: `record message.b has unknown status "gone"`, line: 3, col: 3},
		{name: "unknown field in a record", in: "{\"version\":1,\"lineage\":\"l\",\"serial\":1,\"records\":[\n{\"address\":\"message.a\",\"status\":\"sent\",\"text\":\"hi\"}]}", want: `unknown field "text"`},
		{name: "duplicate key", in: `{"version":1,"lineage":"l","lineage":"m","serial":1,"records":[]}`, want: `"lineage" appears twice`, line: 1, col: 28},
		{name: "records not an array", in: `{"version":1,"lineage":"l","serial":1,"records":{}}`, want: `"records" is not a JSON array`, line: 1, col: 49},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tc.in))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			if tc.line > 0 {
				var fe *FormatError
				require.True(t, errors.As(err, &fe), "%T", err)
				require.Equal(t, tc.line, fe.Line, err.Error())
				if tc.col > 0 {
					require.Equal(t, tc.col, fe.Column, err.Error())
				}
			}
		})
	}
}

func TestDecodeAcceptsAnyKeyOrder(t *testing.T) {
	s, err := Decode(strings.NewReader(`{"records":null,"serial":4,"lineage":"l","version":1}`))
	require.NoError(t, err)
	require.Equal(t, &Snapshot{Lineage: "l", Serial: 4, Records: map[string]*Record{}}, s)
	_, err = Decode(strings.NewReader(`{"records":[{"address":"message.a","status":"sent","extra":1}],"version":2}`))
	var ve *VersionError
	require.True(t, errors.As(err, &ve), "the version is checked before anything else: %v", err)
}

func TestDecodeRefusesOtherVersions(t *testing.T) {
	for _, v := range []int{0, 2, 99} {
		_, err := Decode(strings.NewReader(fmt.Sprintf(`{"version":%d,"lineage":"l","serial":1,"records":[]}`, v)))
		var ve *VersionError
		require.True(t, errors.As(err, &ve), "version %d: %v", v, err)
		require.Equal(t, v, ve.Version)
	}
	_, err := Decode(strings.NewReader(`{"version":2}`))
	require.ErrorContains(t, err, "newer herald")
}

// Encode writes record by record; the result is the document indented as a
// whole would be, so the layout stays plain indented JSON.
func TestEncodeLayoutIsIndentedJSON(t *testing.T) {
	for _, s := range []*Snapshot{NewSnapshot(), bigSnapshot(3)} {
		s.Lineage = `odd "lineage" <&>`
		var got bytes.Buffer
		require.NoError(t, Encode(&got, s))

		f := fileV1{Version: FormatVersion, Lineage: s.Lineage, Serial: s.Serial, Records: []*Record{}}
		for _, addr := range sortedKeys(s.Records) {
			f.Records = append(f.Records, s.Records[addr])
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		require.NoError(t, enc.Encode(&f))
		require.Equal(t, want.String(), got.String())
	}
}

func sortedKeys(m map[string]*Record) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
