package state

import (
	"bufio"
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// FormatVersion is the version of the state file format this herald reads
// and writes.
const FormatVersion = 1

// fileV1 is the state file as stored. It is kept apart from Snapshot so the
// in-memory model can change without changing what is on disk.
type fileV1 struct {
	Version int       `json:"version"`
	Lineage string    `json:"lineage"`
	Serial  uint64    `json:"serial"`
	Records []*Record `json:"records"`
}

// FormatError says why a state file (or journal) cannot be read, and where.
type FormatError struct {
	// Path is the file, when known (Decode does not know it).
	Path string
	// Offset is the byte offset of the problem, -1 when it has none; Line
	// and Column (1-based) are derived from it.
	Offset       int64
	Line, Column int
	Msg          string
}

func (e *FormatError) Error() string {
	var b bytes.Buffer
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, "line %d, column %d (byte %d): ", e.Line, e.Column, e.Offset)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// VersionError is a state file written in a format version this herald does
// not read.
type VersionError struct {
	Path    string
	Version int
}

func (e *VersionError) Error() string {
	where := "state"
	if e.Path != "" {
		where = e.Path
	}
	if e.Version > FormatVersion {
		return fmt.Sprintf("%s has state format version %d, written by a newer herald; this herald reads version %d", where, e.Version, FormatVersion)
	}
	return fmt.Sprintf("%s has unsupported state format version %d; this herald reads version %d", where, e.Version, FormatVersion)
}

// Decode reads a state file. It refuses anything it does not fully
// understand, with the byte, line and column where it stands: a syntax
// error, an unknown version, an unknown field (names are matched exactly:
// "Status" is not "status"), a field given twice, a record without an
// address or with an unknown status, two records with one address, invalid
// UTF-8, or data after the document.
func Decode(r io.Reader) (*Snapshot, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return decodeBytes(data)
}

// readOptions read the state file and the journal strictly, through
// go-json-experiment/json (the code of encoding/json/v2): a member name is
// matched exactly (case-sensitively), and one that is unknown or given twice
// is refused, as is invalid UTF-8 or data after the document. (encoding/json
// matches names in any case and keeps the last of two: a record with
// "status":"sent","status":"failed" would read as failed.) These are the
// library's defaults, spelled out so that a change of them cannot loosen
// the reader unseen.
var readOptions = json.JoinOptions(
	json.RejectUnknownMembers(true),
	json.MatchCaseInsensitiveNames(false),
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
)

func decodeBytes(data []byte) (*Snapshot, error) {
	if err := checkVersion(data); err != nil {
		return nil, err
	}
	var f fileV1
	if err := json.Unmarshal(data, &f, readOptions); err != nil {
		return nil, jsonError(data, 0, err)
	}
	if f.Lineage == "" {
		return nil, &FormatError{Offset: -1, Msg: "state has no lineage"}
	}
	snap := &Snapshot{Lineage: f.Lineage, Serial: f.Serial, Records: make(map[string]*Record, len(f.Records))}
	for i, r := range f.Records {
		var msg string
		switch {
		case r == nil:
			msg = fmt.Sprintf("record %d is null", i)
		case r.Address == "":
			msg = fmt.Sprintf("record %d has no address", i)
		case !knownStatus(r.Status):
			msg = fmt.Sprintf("record %s has unknown status %q", r.Address, r.Status)
		case r.Imported != "" && !knownImported(r.Imported):
			msg = fmt.Sprintf("record %s has unknown imported %q; want %q or %q", r.Address, r.Imported, ImportedFound, ImportedForced)
		case snap.Records[r.Address] != nil:
			msg = fmt.Sprintf("record %s appears twice", r.Address)
		default:
			snap.Records[r.Address] = r
			continue
		}
		return nil, positioned(data, recordOffset(data, i), msg)
	}
	return snap, nil
}

// checkVersion refuses an empty document, one without a version, and one
// of a version this herald does not read. It runs before the document is
// decoded, so that a newer herald's file is refused as such rather than
// for a field this herald does not know.
func checkVersion(data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return &FormatError{Offset: -1, Msg: "state file is empty"}
	}
	dec := jsontext.NewDecoder(bytes.NewBuffer(data), readOptions)
	if tok, err := dec.ReadToken(); err != nil {
		return jsonError(data, 0, err)
	} else if tok.Kind() != '{' {
		return positioned(data, skipSpace(data, 0), "a state file is a JSON object, not "+kindName(tok.Kind()))
	}
	// Encode writes the version first: then nothing else is read.
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return jsonError(data, 0, err)
		}
		if name.String() != "version" {
			if err := dec.SkipValue(); err != nil {
				return jsonError(data, 0, err)
			}
			continue
		}
		var version int
		if err := json.UnmarshalDecode(dec, &version, readOptions); err != nil {
			return jsonError(data, 0, err)
		}
		if version != FormatVersion {
			return &VersionError{Version: version}
		}
		return nil
	}
	if _, err := dec.ReadToken(); err != nil {
		return jsonError(data, 0, err)
	}
	return &FormatError{Offset: -1, Msg: "not a herald state file: it has no \"version\""}
}

// recordOffset finds where record i of a document that decodes starts, for
// a refusal of the record as a whole: only then is the document read twice.
func recordOffset(data []byte, i int) int64 {
	dec := jsontext.NewDecoder(bytes.NewBuffer(data))
	if _, err := dec.ReadToken(); err != nil {
		return -1
	}
	for dec.PeekKind() == '"' {
		name, err := dec.ReadToken()
		if err != nil {
			return -1
		}
		if name.String() != "records" {
			if dec.SkipValue() != nil {
				return -1
			}
			continue
		}
		if _, err := dec.ReadToken(); err != nil {
			return -1
		}
		for range i {
			if dec.SkipValue() != nil {
				return -1
			}
		}
		return skipSpace(data, dec.InputOffset())
	}
	return -1
}

// skipSpace moves off past JSON whitespace and a separating comma or
// colon, to the start of the next value.
func skipSpace(data []byte, off int64) int64 {
	for off >= 0 && off < int64(len(data)) && bytes.IndexByte([]byte(" \t\r\n,:"), data[off]) >= 0 {
		off++
	}
	return off
}

// jsonError turns a decoding error into a FormatError that points at the
// byte, line and column, so that a hand-edited file can be fixed. base is
// the offset in data at which the decoded JSON starts.
func jsonError(data []byte, base int64, err error) *FormatError {
	off, msg := explain(data[base:], err)
	if off < 0 {
		return &FormatError{Offset: -1, Msg: msg}
	}
	return positioned(data, base+off, msg)
}

// explain says what is wrong with the JSON in data, and at which offset
// in it (-1 for none).
func explain(data []byte, err error) (int64, string) {
	var syn *jsontext.SyntacticError
	var sem *json.SemanticError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return int64(len(data)), "unexpected end of data: the file is cut short"
	case errors.As(err, &syn) && syn.Err == jsontext.ErrDuplicateName:
		name := syn.JSONPointer.LastToken()
		return syn.ByteOffset, within(syn.JSONPointer.Parent()) + fmt.Sprintf("%q appears twice", name)
	case errors.As(err, &syn) && jsontext.Value(data[:min(syn.ByteOffset, int64(len(data)))]).IsValid():
		return syn.ByteOffset, "unexpected data after the document"
	case errors.As(err, &syn):
		return syn.ByteOffset, strings.TrimPrefix(syn.Err.Error(), "jsontext: ")
	case errors.As(err, &sem) && errors.Is(sem.Err, json.ErrUnknownName):
		name := sem.JSONPointer.LastToken()
		return sem.ByteOffset, within(sem.JSONPointer.Parent()) + fmt.Sprintf("unknown field %q", name)
	case errors.As(err, &sem):
		off := skipSpace(data, sem.ByteOffset)
		field := within(sem.JSONPointer) + fieldName(sem.JSONPointer)
		want := wanted(sem.GoType)
		switch {
		case want != "" && sem.JSONKind == '0' && len(sem.JSONValue) > 0:
			return off, fmt.Sprintf("%s is %s where %s belongs", field, sem.JSONValue, want)
		case want != "" && sem.JSONKind != 0 && sem.Err == nil:
			return off, fmt.Sprintf("%s is %s where %s belongs", field, kindName(sem.JSONKind), want)
		case sem.Err != nil:
			return off, fmt.Sprintf("%s: %v", field, sem.Err)
		}
		return off, strings.TrimPrefix(sem.Error(), "json: ")
	}
	return -1, err.Error()
}

// kindName names a kind of JSON value for a message.
func kindName(k jsontext.Kind) string {
	switch k {
	case '{':
		return "a JSON object"
	case '[':
		return "a JSON array"
	case '"':
		return "a JSON string"
	case '0':
		return "a JSON number"
	case 't', 'f':
		return "a JSON boolean"
	case 'n':
		return "null"
	}
	return "a JSON value"
}

// wanted names the JSON value a Go type is read from, "" when there is no
// plain name for it.
func wanted(t reflect.Type) string {
	if t == nil {
		return ""
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeFor[time.Time]():
		return "a time (an RFC 3339 string)"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		return "an integer"
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		return "a non-negative integer"
	case t.Kind() == reflect.Slice:
		return "an array"
	case t.Kind() == reflect.Struct:
		return "an object"
	}
	return ""
}

// fieldName names the member at p for a message: "field "serial"", or
// within a record the path below the record, "field "attempts.number"".
func fieldName(p jsontext.Pointer) string {
	var names []string
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil {
			continue
		}
		names = append(names, tok)
	}
	if len(names) > 0 && names[0] == "records" && len(names) > 1 {
		names = names[1:]
	}
	if len(names) == 0 {
		return "value"
	}
	return fmt.Sprintf("field %q", strings.Join(names, "."))
}

// within names the record (and attempt) that p is inside of, as the
// start of a message: "record 3: ", "record 3, attempt 0: ", or "".
func within(p jsontext.Pointer) string {
	var toks []string
	for tok := range p.Tokens() {
		toks = append(toks, tok)
	}
	var where []string
	for i := 0; i+1 < len(toks); i += 2 {
		switch toks[i] {
		case "records":
			where = append(where, "record "+toks[i+1])
		case "attempts":
			where = append(where, "attempt "+toks[i+1])
		}
	}
	if len(where) == 0 {
		return ""
	}
	return strings.Join(where, ", ") + ": "
}

func knownStatus(s Status) bool {
	switch s {
	case StatusSending, StatusSent, StatusFailed, StatusExpired, StatusUnknown, StatusNotDelivered:
		return true
	}
	return false
}

func positioned(data []byte, off int64, msg string) *FormatError {
	if off < 0 {
		off = 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line := 1 + bytes.Count(before, []byte{'\n'})
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return &FormatError{Offset: off, Line: line, Column: col, Msg: msg}
}

// Encode writes snap in the state file format: records sorted by address,
// indented, ending in a newline, so that equal states give equal bytes and
// diffs of the file stay readable.
func Encode(w io.Writer, snap *Snapshot) error {
	if snap == nil {
		return fmt.Errorf("encoding state: no snapshot")
	}
	if snap.Lineage == "" {
		return fmt.Errorf("encoding state: snapshot has no lineage")
	}
	f := fileV1{Version: FormatVersion, Lineage: snap.Lineage, Serial: snap.Serial, Records: make([]*Record, 0, len(snap.Records))}
	for key, r := range snap.Records {
		if key == "" {
			return fmt.Errorf("encoding state: a record has no address")
		}
		if r == nil {
			return fmt.Errorf("encoding state: record %s is nil", key)
		}
		if r.Address != key {
			return fmt.Errorf("encoding state: record filed under %q has address %q", key, r.Address)
		}
		if !knownStatus(r.Status) {
			return fmt.Errorf("encoding state: record %s has unknown status %q", key, r.Status)
		}
		f.Records = append(f.Records, r)
	}
	sort.Slice(f.Records, func(i, j int) bool { return f.Records[i].Address < f.Records[j].Address })

	// One record at a time, in the layout json.Encoder's indenting gives
	// the whole document: indenting all of a large state at once would
	// build it twice in memory.
	bw := bufio.NewWriterSize(w, 64<<10)
	var rec bytes.Buffer
	enc := stdjson.NewEncoder(&rec)
	enc.SetEscapeHTML(false)
	value := func(v any) ([]byte, error) {
		rec.Reset()
		if err := enc.Encode(v); err != nil {
			return nil, fmt.Errorf("encoding state: %w", err)
		}
		return bytes.TrimSuffix(rec.Bytes(), []byte{'\n'}), nil
	}
	lineage, err := value(f.Lineage)
	if err != nil {
		return err
	}
	fmt.Fprintf(bw, "{\n  \"version\": %d,\n  \"lineage\": %s,\n  \"serial\": %d,\n  \"records\": [", f.Version, lineage, f.Serial)
	enc.SetIndent("    ", "  ")
	var fast []byte
	for i, r := range f.Records {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		var ok bool
		if fast, ok = appendRecord(fast[:0], r); ok {
			bw.Write(fast)
			continue
		}
		b, err := value(r)
		if err != nil {
			return err
		}
		bw.Write(b)
	}
	if len(f.Records) > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]\n}\n")
	return bw.Flush()
}

// appendRecord appends r as Encode lays it out, byte for byte what
// json.Encoder gives with the record's indentation, without its
// reflection and second pass to indent. It gives up (false) at a string
// with anything but printable ASCII, or a time json would refuse; Encode
// then has json.Encoder write that record.
func appendRecord(b []byte, r *Record) ([]byte, bool) {
	for _, a := range r.Attempts {
		if a.LookUp != nil {
			// Rare (unknown outcomes only): json.Encoder lays it out.
			return b, false
		}
	}
	w := &recordWriter{b: b, ok: true}
	w.b = append(w.b, '{')
	w.str(in1, "address", r.Address)
	w.b = append(w.b, ',')
	w.str(in1, "group", r.Group)
	w.b = append(w.b, ',')
	w.str(in1, "thread_id", r.ThreadID)
	w.b = append(w.b, ',')
	w.str(in1, "service", r.Service)
	w.b = append(w.b, ',')
	w.str(in1, "from", r.From)
	w.b = append(w.b, ',')
	w.str(in1, "content_hash", r.ContentHash)
	w.b = append(w.b, ',')
	w.tm(in1, "send_at", r.SendAt)
	w.b = append(w.b, ',')
	w.str(in1, "status", string(r.Status))
	w.b = append(w.b, ',')
	if r.Imported != "" {
		w.str(in1, "imported", string(r.Imported))
		w.b = append(w.b, ',')
	}
	if len(r.Attempts) > 0 {
		w.attempts(r.Attempts)
	}
	if r.Answer != nil {
		w.answer(r.Answer)
	}
	if r.LastError != "" {
		w.str(in1, "last_error", r.LastError)
		w.b = append(w.b, ',')
	}
	w.tm(in1, "updated_at", r.UpdatedAt)
	w.b = append(w.b, "\n    }"...)
	return w.b, w.ok
}

// The indentations of a record's fields, of its attempts and answer, and
// of their fields.
const in1, in2, in3 = "\n      ", "\n        ", "\n          "

// recordWriter is appendRecord's buffer; ok turns false where it gives up.
type recordWriter struct {
	b  []byte
	ok bool
}

func (w *recordWriter) str(indent, key, v string) {
	w.b = append(w.b, indent...)
	w.b = append(w.b, '"')
	w.b = append(w.b, key...)
	w.b = append(w.b, `": "`...)
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"' || c == '\\':
			w.b = append(w.b, '\\', c)
		case c < 0x20 || c >= 0x7f:
			w.ok = false
			return
		default:
			w.b = append(w.b, c)
		}
	}
	w.b = append(w.b, '"')
}

func (w *recordWriter) tm(indent, key string, t time.Time) {
	w.b = append(w.b, indent...)
	w.b = append(w.b, '"')
	w.b = append(w.b, key...)
	w.b = append(w.b, `": `...)
	j, err := t.MarshalJSON()
	if err != nil {
		w.ok = false
		return
	}
	w.b = append(w.b, j...)
}

func (w *recordWriter) attempts(attempts []Attempt) {
	w.b = append(w.b, in1...)
	w.b = append(w.b, `"attempts": [`...)
	for i, a := range attempts {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = append(w.b, in2...)
		w.b = append(w.b, '{')
		w.b = append(w.b, in3...)
		w.b = append(w.b, `"number": `...)
		w.b = strconv.AppendInt(w.b, int64(a.Number), 10)
		w.b = append(w.b, ',')
		w.tm(in3, "started_at", a.StartedAt)
		if a.FinishedAt != nil {
			w.b = append(w.b, ',')
			w.tm(in3, "finished_at", *a.FinishedAt)
		}
		if a.Outcome != "" {
			w.b = append(w.b, ',')
			w.str(in3, "outcome", a.Outcome)
		}
		if a.Error != "" {
			w.b = append(w.b, ',')
			w.str(in3, "error", a.Error)
		}
		if a.LockGeneration != 0 {
			w.b = append(w.b, ',')
			w.b = append(w.b, in3...)
			w.b = append(w.b, `"lock_generation": `...)
			w.b = strconv.AppendInt(w.b, a.LockGeneration, 10)
		}
		w.b = append(w.b, in2...)
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, in1...)
	w.b = append(w.b, "],"...)
}

func (w *recordWriter) answer(ans *Answer) {
	w.b = append(w.b, in1...)
	w.b = append(w.b, `"answer": {`...)
	first := true
	field := func(key, v string) {
		if v == "" {
			return
		}
		if !first {
			w.b = append(w.b, ',')
		}
		first = false
		w.str(in2, key, v)
	}
	field("chat_group_id", ans.ChatGroupID)
	field("message_id", ans.MessageID)
	field("from", ans.From)
	field("body", ans.Body)
	field("status", ans.Status)
	field("date_created", ans.DateCreated)
	if !first {
		w.b = append(w.b, in1...)
	}
	w.b = append(w.b, "},"...)
}
