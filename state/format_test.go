package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
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
	s.Apply(Event{Kind: EventOutcome, Message: Message{Address: "message.c", Group: "sales", SendAt: t0}, At: t0, Status: StatusExpired})

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
		"address mismatch": {Lineage: "l", Records: map[string]*Record{"message.a": {Message: Message{Address: "message.b"}, Status: StatusSent}}},
		"nil record":       {Lineage: "l", Records: map[string]*Record{"message.a": nil}},
		"bad status":       {Lineage: "l", Records: map[string]*Record{"message.a": {Message: Message{Address: "message.a"}, Status: "maybe"}}},
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
		{name: "trailing", in: `{"version":1,"lineage":"l","serial":1,"records":[]} {}`, want: "unexpected data after the document", line: 1, col: 53},
		{name: "not an object", in: `[1,2]`, want: "JSON array"},
		{name: "type in a record", in: "{\"version\":1,\"lineage\":\"l\",\"serial\":1,\"records\":[\n{\"address\":\"message.a\",\"status\":\"sent\"},\n  {\"address\":\"message.b\",\"status\":\"sent\",\"attempts\":[{\"number\":\"x\"}]}]}", want: `"attempts.number" is a JSON string`, line: 3},
		{name: "status in a record", in: "{\"version\":1,\"lineage\":\"l\",\"serial\":1,\"records\":[\n{\"address\":\"message.a\",\"status\":\"sent\"},\n  {\"address\":\"message.b\",\"status\":\"gone\"}]}", want: `record message.b has unknown status "gone"`, line: 3, col: 3},
		{name: "unknown field in a record", in: "{\"version\":1,\"lineage\":\"l\",\"serial\":1,\"records\":[\n{\"address\":\"message.a\",\"status\":\"sent\",\"text\":\"hi\"}]}", want: `unknown field "text"`},
		{name: "duplicate key", in: `{"version":1,"lineage":"l","lineage":"m","serial":1,"records":[]}`, want: `"lineage" appears twice`, line: 1, col: 28},
		{name: "records not an array", in: `{"version":1,"lineage":"l","serial":1,"records":{}}`, want: `field "records" is a JSON object where an array belongs`, line: 1, col: 49},
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
	full := func() *Snapshot {
		var r Record
		fillAll(reflect.ValueOf(&r).Elem())
		r.Address, r.Status = "message.a", StatusSent
		return &Snapshot{Records: map[string]*Record{r.Address: &r}}
	}
	for _, s := range []*Snapshot{NewSnapshot(), bigSnapshot(3), richSnapshot(), full()} {
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

// richSnapshot has what the reader must read back exactly: escapes,
// non-ASCII text, offsets, retries, records without an answer.
func richSnapshot() *Snapshot {
	s := NewSnapshot()
	s.Serial = 12
	s.Apply(attemptEvent(`message.b["ü \"q\""]`, 1, t0))
	s.Apply(failedEvent(`message.b["ü \"q\""]`, 1, t0.Add(time.Second), "503: \"busy\"\n\tretry"))
	s.Apply(attemptEvent(`message.b["ü \"q\""]`, 2, t0.In(time.FixedZone("", 2*3600)).Add(time.Minute)))
	sent := sentEvent(`message.b["ü \"q\""]`, 2, t0.Add(time.Minute+1500*time.Millisecond))
	sent.Answer.Body = "Line one\nLine \"two\" <b>&</b> \u2028 😀 é\x00"
	s.Apply(sent)
	s.Apply(attemptEvent("message.a", 1, t0))
	s.Apply(Event{Kind: EventOutcome, Message: Message{Address: "message.c", Group: "sales", SendAt: t0}, At: t0, Status: StatusExpired})
	s.Apply(Event{Kind: EventImport, Message: Message{Address: "message.d", Group: "eng", ThreadID: "t", SendAt: t0}, At: t0, Imported: ImportedFound,
		Answer: &Answer{MessageID: "msg_7", From: "+14155550000", Body: "Hi", DateCreated: "2026-12-01T09:00:00Z"}})
	s.Apply(Event{Kind: EventImport, Message: Message{Address: "message.e", Group: "eng", ThreadID: "t", SendAt: t0}, At: t0, Imported: ImportedForced})
	return s
}

// referenceDecode reads a state file with encoding/json, as herald read
// every file it did not write itself before its reader moved to
// go-json-experiment/json. It is lenient where the reader is strict (names
// in any case, the last of two equal names, invalid UTF-8 replaced), so it
// is a reference only for what the reader takes.
func referenceDecode(data []byte) (*Snapshot, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f fileV1
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("data after the document")
	}
	if f.Version != FormatVersion || f.Lineage == "" {
		return nil, fmt.Errorf("version %d, lineage %q", f.Version, f.Lineage)
	}
	snap := &Snapshot{Lineage: f.Lineage, Serial: f.Serial, Records: map[string]*Record{}}
	for i, r := range f.Records {
		if r == nil || r.Address == "" || !knownStatus(r.Status) || r.Imported != "" && !knownImported(r.Imported) || snap.Records[r.Address] != nil {
			return nil, fmt.Errorf("record %d refused", i)
		}
		snap.Records[r.Address] = r
	}
	return snap, nil
}

// requireReferenceAgrees fails t when the reader takes data that
// encoding/json refuses or reads differently; it says whether the reader
// took it.
func requireReferenceAgrees(t testing.TB, data []byte) bool {
	t.Helper()
	got, err := Decode(bytes.NewReader(data))
	if err != nil {
		var fe *FormatError
		var ve *VersionError
		if !errors.As(err, &fe) && !errors.As(err, &ve) {
			t.Fatalf("refusal of type %T: %v", err, err)
		}
		return false
	}
	ref, err := referenceDecode(data)
	if err != nil {
		t.Fatalf("the reader took a file encoding/json refuses: %v\n%s", err, data)
	}
	// DeepEqual: an empty list must stay empty rather than become nil, and
	// a time keep its zone.
	if !reflect.DeepEqual(ref, got) {
		t.Fatalf("the reader read differently (-encoding/json +reader):\n%s\n%s", cmp.Diff(ref, got), data)
	}
	return true
}

func TestDecodeReadsWhatEncodeWrites(t *testing.T) {
	for _, s := range []*Snapshot{NewSnapshot(), richSnapshot(), bigSnapshot(50)} {
		var buf bytes.Buffer
		require.NoError(t, Encode(&buf, s))
		require.True(t, requireReferenceAgrees(t, buf.Bytes()), "the reader declined what Encode wrote:\n%s", buf.Bytes())
		got, err := Decode(&buf)
		require.NoError(t, err)
		if d := cmp.Diff(s, got); d != "" {
			t.Fatal(d)
		}
	}
	// Any layout and key order, empty lists and objects.
	for _, doc := range []string{
		`{"serial":3,"records":[{"status":"sent","answer":{},"attempts":[],"address":"message.a"}],"lineage":"l","version":1}`,
		"{\"version\":1,\r\n\t\"lineage\":\"l\\u00e9\",\"records\":[]}",
		`{"version":1,"lineage":"l","records":[{"address":"message.a","status":"unknown","attempts":[{"number":-0,"error":"x"},{"number":2,"finished_at":"2026-12-01T10:00:00+02:00"}]}]}`,
	} {
		require.True(t, requireReferenceAgrees(t, []byte(doc)), "the reader declined:\n%s", doc)
	}
}

// Every one-byte change to a valid document is either refused or read
// exactly as encoding/json reads it.
func TestDecodeAgreesWithEncodingJSONOnEdits(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Encode(&buf, richSnapshot()))
	// Compact: edits of the indentation teach little.
	var compact bytes.Buffer
	require.NoError(t, json.Compact(&compact, buf.Bytes()))
	doc := compact.Bytes()
	bytesToTry := []byte(" \"\\,}0e\xc3")
	taken, edits := 0, 0
	try := func(edited []byte) {
		edits++
		if requireReferenceAgrees(t, edited) {
			taken++
		}
	}
	for i := range doc {
		try(append(slices.Clone(doc[:i]), doc[i+1:]...))
		for _, c := range bytesToTry {
			replaced := slices.Clone(doc)
			replaced[i] = c
			try(replaced)
			try(slices.Concat(doc[:i], []byte{c}, doc[i:]))
		}
	}
	// Whitespace, digits and letters inside strings keep many edits valid:
	// the comparison above must have had something to compare.
	require.Greater(t, taken, edits/10, "the reader took %d of %d edits", taken, edits)
}

// FuzzDecodeReference checks the reader against encoding/json on any
// input: what the reader takes, encoding/json reads the same.
func FuzzDecodeReference(f *testing.F) {
	for _, s := range []*Snapshot{NewSnapshot(), richSnapshot(), bigSnapshot(2)} {
		var buf bytes.Buffer
		require.NoError(f, Encode(&buf, s))
		f.Add(buf.Bytes())
	}
	f.Add([]byte(`{"serial":3,"records":[{"status":"sent","answer":{},"attempts":[],"address":"message.a"}],"lineage":"l","version":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		requireReferenceAgrees(t, data)
	})
}

// fillAll sets every field of v, recursively, to a value that is not its
// zero value.
func fillAll(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int64:
		v.SetInt(1)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillAll(v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fillAll(v.Index(0))
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(t0))
			return
		}
		for i := range v.NumField() {
			fillAll(v.Field(i))
		}
	default:
		panic("fillAll: no value for " + v.Type().String())
	}
}

// A record with every field set reads back as it was written.
func TestDecodeReadsEveryField(t *testing.T) {
	var r Record
	fillAll(reflect.ValueOf(&r).Elem())
	r.Address, r.Status, r.Imported = "message.a", StatusSent, ImportedFound
	s := &Snapshot{Lineage: "l", Serial: 1, Records: map[string]*Record{r.Address: &r}}
	var buf bytes.Buffer
	require.NoError(t, Encode(&buf, s))
	require.True(t, requireReferenceAgrees(t, buf.Bytes()), "the reader declined a record with every field set:\n%s", buf.Bytes())
	got, err := Decode(&buf)
	require.NoError(t, err)
	require.Equal(t, s, got)
}

// appendRecord writes what json.Encoder writes, or declines.
func TestAppendRecordIsWhatJSONWrites(t *testing.T) {
	var records []*Record
	for _, s := range []*Snapshot{bigSnapshot(2), richSnapshot()} {
		for _, addr := range sortedKeys(s.Records) {
			records = append(records, s.Records[addr])
		}
	}
	var full Record
	fillAll(reflect.ValueOf(&full).Elem())
	finished := t0.In(time.FixedZone("", -7*3600)).Add(123456789 * time.Nanosecond)
	records = append(records, &full,
		&Record{Message: Message{Address: "message.empty"}, Status: StatusSent, Answer: &Answer{}, Attempts: []Attempt{}},
		&Record{Message: Message{Address: "message.two"}, Status: StatusFailed, LastError: "x", Attempts: []Attempt{
			{Number: 1, StartedAt: t0, FinishedAt: &finished, Outcome: "transient", Error: "HTTP 503", LockGeneration: 7},
			{Number: -2, StartedAt: t0},
		}, Answer: &Answer{Status: "queued"}},
		&Record{Message: Message{Address: "message.del\x7f"}, Status: StatusSent},
		&Record{Message: Message{Address: "message.far", SendAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, Status: StatusSent},
	)
	var ref bytes.Buffer
	enc := json.NewEncoder(&ref)
	enc.SetEscapeHTML(false)
	enc.SetIndent("    ", "  ")
	taken := 0
	for _, r := range records {
		ref.Reset()
		refErr := enc.Encode(r)
		got, ok := appendRecord(nil, r)
		if !ok {
			continue
		}
		taken++
		require.NoError(t, refErr, "appendRecord wrote what json refuses: %s", got)
		require.Equal(t, strings.TrimSuffix(ref.String(), "\n"), string(got))
	}
	// Every record of printable ASCII and ordinary times is written by
	// the fast path, quotes in addresses included; one whose attempts hold
	// a look-up (the full one) is left to json.
	require.Equal(t, len(records)-4, taken)
}

// BenchmarkDecode100k measures the reader on what Encode writes, against
// encoding/json reading the same file.
func BenchmarkDecode100k(b *testing.B) {
	var buf bytes.Buffer
	if err := Encode(&buf, bigSnapshot(100_000)); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.Run("reader", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		defer reportCPU(b)()
		for range b.N {
			if _, err := decodeBytes(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		defer reportCPU(b)()
		for range b.N {
			if _, err := referenceDecode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEncode100k measures the writer against encoding/json writing
// the same document indented, and against go-json-experiment/json.
func BenchmarkEncode100k(b *testing.B) {
	snap := bigSnapshot(100_000)
	f := fileV1{Version: FormatVersion, Lineage: snap.Lineage, Serial: snap.Serial}
	for _, addr := range sortedKeys(snap.Records) {
		f.Records = append(f.Records, snap.Records[addr])
	}
	var buf bytes.Buffer
	b.Run("writer", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		for range b.N {
			buf.Reset()
			if err := Encode(&buf, snap); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(buf.Len()))
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		for range b.N {
			buf.Reset()
			enc := json.NewEncoder(&buf)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(&f); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(buf.Len()))
	})
	b.Run("go-json-experiment", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		for range b.N {
			buf.Reset()
			if err := jsonv2.MarshalWrite(&buf, &f, jsontext.WithIndent("  ")); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(buf.Len()))
	})
}
