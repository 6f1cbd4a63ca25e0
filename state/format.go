package state

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"
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
// understand: a syntax error (with its line and column), an unknown
// version, an unknown field, a record without an address or with an unknown
// status, two records with one address, or data after the document.
func Decode(r io.Reader) (*Snapshot, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return decodeBytes(data)
}

func decodeBytes(data []byte) (*Snapshot, error) {
	if err := checkVersion(data); err != nil {
		return nil, err
	}
	// Nearly every state file is one herald wrote; the fast reader takes
	// those, and anything it is unsure of goes to the strict reader, which
	// refuses it with its position or reads it to the same snapshot.
	if snap, ok := decodeFast(data); ok {
		return snap, nil
	}
	return decodeBody(data)
}

// checkVersion refuses an empty document, one without a version, and one
// of a version this herald does not read.
func checkVersion(data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return &FormatError{Offset: -1, Msg: "state file is empty"}
	}
	version, ok := leadingVersion(data)
	if !ok {
		var head struct {
			Version *int `json:"version"`
		}
		if err := json.Unmarshal(data, &head); err != nil {
			return jsonError(data, err)
		}
		if head.Version == nil {
			return &FormatError{Offset: -1, Msg: "not a herald state file: it has no \"version\""}
		}
		version = *head.Version
	}
	if version != FormatVersion {
		return &VersionError{Version: version}
	}
	return nil
}

// decodeBody reads the document one record at a time: the decoder then
// never holds more than a record, where decoding the whole document at once
// would copy all of it into the decoder's buffer first.
func decodeBody(data []byte) (*Snapshot, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	fail := func(err error) (*Snapshot, error) { return nil, jsonError(data, err) }
	at := func(off int64, format string, args ...any) (*Snapshot, error) {
		return nil, positioned(data, skipSpace(data, off), fmt.Sprintf(format, args...))
	}

	if tok, err := dec.Token(); err != nil {
		return fail(err)
	} else if tok != json.Delim('{') {
		return at(0, "a state file is a JSON object")
	}
	snap := &Snapshot{Records: map[string]*Record{}}
	seen := map[string]bool{}
	for dec.More() {
		keyAt := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		key, _ := tok.(string)
		if seen[key] {
			return at(keyAt, "%q appears twice", key)
		}
		seen[key] = true
		switch key {
		case "version":
			var v int
			if err := decodeField(dec, key, &v); err != nil {
				return fail(err)
			}
		case "lineage":
			if err := decodeField(dec, key, &snap.Lineage); err != nil {
				return fail(err)
			}
		case "serial":
			if err := decodeField(dec, key, &snap.Serial); err != nil {
				return fail(err)
			}
		case "records":
			if err := decodeRecords(dec, data, snap); err != nil {
				return nil, err
			}
		default:
			return at(keyAt, "unknown field %q", key)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return fail(err)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		return at(end, "unexpected data after the state document")
	}
	if snap.Lineage == "" {
		return nil, &FormatError{Offset: -1, Msg: "state has no lineage"}
	}
	return snap, nil
}

func decodeRecords(dec *json.Decoder, data []byte, snap *Snapshot) error {
	valueAt := skipSpace(data, dec.InputOffset())
	tok, err := dec.Token()
	if err != nil {
		return jsonError(data, err)
	}
	if tok == nil {
		return nil
	}
	if tok != json.Delim('[') {
		return positioned(data, valueAt, "field \"records\" is not a JSON array")
	}
	for i := 0; dec.More(); i++ {
		recAt := dec.InputOffset()
		var r *Record
		if err := decodeAt(dec, &r); err != nil {
			return jsonError(data, err)
		}
		recAt = skipSpace(data, recAt)
		switch {
		case r == nil:
			return positioned(data, recAt, fmt.Sprintf("record %d is null", i))
		case r.Address == "":
			return positioned(data, recAt, fmt.Sprintf("record %d has no address", i))
		case !knownStatus(r.Status):
			return positioned(data, recAt, fmt.Sprintf("record %s has unknown status %q", r.Address, r.Status))
		case r.Imported != "" && !knownImported(r.Imported):
			return positioned(data, recAt, fmt.Sprintf("record %s has unknown imported %q; want %q or %q", r.Address, r.Imported, ImportedFound, ImportedForced))
		}
		if _, dup := snap.Records[r.Address]; dup {
			return positioned(data, recAt, fmt.Sprintf("record %s appears twice", r.Address))
		}
		snap.Records[r.Address] = r
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return jsonError(data, err)
	}
	return nil
}

// decodeAt decodes the next value, making the offset of a type error
// count from the start of the document rather than of the value.
func decodeAt(dec *json.Decoder, v any) error {
	start := dec.InputOffset()
	err := dec.Decode(v)
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		typ.Offset += start
	}
	return err
}

// decodeField is decodeAt for a top-level field, which a type error then
// names.
func decodeField(dec *json.Decoder, key string, v any) error {
	err := decodeAt(dec, v)
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && typ.Field == "" {
		typ.Field = key
	}
	return err
}

// skipSpace moves off past JSON whitespace and a separating comma or
// colon, to the start of the next value.
func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) && bytes.IndexByte([]byte(" \t\r\n,:"), data[off]) >= 0 {
		off++
	}
	return off
}

// leadingVersion reads the version when it is the document's first key, as
// Encode writes it, without scanning the rest: the version has to be known
// before the whole document is read, and reading a large state twice would
// double the cost of every load.
func leadingVersion(data []byte) (int, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return 0, false
	}
	if key, err := dec.Token(); err != nil || key != "version" {
		return 0, false
	}
	var v int
	if err := dec.Decode(&v); err != nil {
		return 0, false
	}
	return v, true
}

func knownStatus(s Status) bool {
	switch s {
	case StatusSending, StatusSent, StatusFailed, StatusExpired, StatusUnknown:
		return true
	}
	return false
}

// jsonError turns an encoding/json error into a FormatError that points at
// the line and column, so a hand-edited file can be fixed.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) {
		// A streaming decoder counts offsets from the value it was reading;
		// one pass over the whole document finds the absolute position.
		if verr := json.Unmarshal(data, &struct{}{}); verr != nil {
			err = verr
		}
	}
	switch {
	case errors.As(err, &syn):
		// Offset counts the offending byte as read; point at it, unless
		// the data simply ended.
		off := syn.Offset
		if off > 0 && off < int64(len(data)) {
			off--
		}
		return positioned(data, off, syn.Error())
	case errors.As(err, &typ):
		msg := fmt.Sprintf("%s is a JSON %s where a %s belongs", fieldName(typ), typ.Value, typ.Type)
		return positioned(data, typ.Offset, msg)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return positioned(data, int64(len(data)), "unexpected end of data: the file is cut short")
	}
	return &FormatError{Offset: -1, Msg: err.Error()}
}

func fieldName(e *json.UnmarshalTypeError) string {
	if e.Field == "" {
		return "value"
	}
	return fmt.Sprintf("field %q", e.Field)
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
	enc := json.NewEncoder(&rec)
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

// decodeFast reads the state files herald writes, several times faster
// than the strict reader, which decodes record by record through
// encoding/json's reflection. It takes any key order and layout, but only
// within a strict subset: the exact field names, no nulls, integers
// without fraction or exponent, times without escapes. At anything else
// (including everything the strict reader refuses: an unknown field, a
// duplicate, a syntax error) it gives up with ok false and reads nothing,
// and the strict reader reads the file. What it accepts, it reads to the
// snapshot the strict reader would give.
func decodeFast(data []byte) (snap *Snapshot, ok bool) {
	r := fastReader{data: data, interned: map[string]string{}}
	snap = &Snapshot{Records: map[string]*Record{}}
	var seen uint8
	ok = r.object(func(key []byte) bool {
		var bit uint8
		switch string(key) {
		case "version":
			bit = 1
			v, ok := r.int()
			if !ok || v != FormatVersion {
				return false
			}
		case "lineage":
			bit = 2
			s, ok := r.str(false)
			if !ok {
				return false
			}
			snap.Lineage = s
		case "serial":
			bit = 4
			v, ok := r.uint()
			if !ok {
				return false
			}
			snap.Serial = v
		case "records":
			bit = 8
			if !r.records(snap) {
				return false
			}
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
	r.skipSpace()
	if !ok || r.pos != len(data) || seen&1 == 0 || snap.Lineage == "" {
		return nil, false
	}
	return snap, true
}

// maxInterned bounds the values decodeFast keeps one copy of: a state full
// of distinct error texts must not grow a second map beside its records.
const maxInterned = 4096

// fastReader is decodeFast's position in the document. Its methods skip
// the whitespace before what they read and return false at anything they
// do not take.
type fastReader struct {
	data []byte
	pos  int
	// interned holds the values that recur from record to record (group,
	// sender, status...), so that a large state keeps one copy of each.
	interned map[string]string
	scratch  []byte // unescape's buffer
}

func (r *fastReader) skipSpace() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\n', '\t', '\r':
			r.pos++
		default:
			return
		}
	}
}

// consume takes the byte c when it comes next.
func (r *fastReader) consume(c byte) bool {
	r.skipSpace()
	if r.pos < len(r.data) && r.data[r.pos] == c {
		r.pos++
		return true
	}
	return false
}

// object reads an object, calling field at each key with the position on
// its value; field reads the value. A key is plain: no escapes, ASCII.
func (r *fastReader) object(field func(key []byte) bool) bool {
	if !r.consume('{') {
		return false
	}
	if r.consume('}') {
		return true
	}
	for {
		if !r.consume('"') {
			return false
		}
		start := r.pos
		for r.pos < len(r.data) && r.data[r.pos] != '"' {
			if c := r.data[r.pos]; c == '\\' || c < ' ' || c >= 0x80 {
				return false
			}
			r.pos++
		}
		if r.pos == len(r.data) {
			return false
		}
		key := r.data[start:r.pos]
		r.pos++
		if !r.consume(':') || !field(key) {
			return false
		}
		if !r.consume(',') {
			return r.consume('}')
		}
	}
}

// array reads an array, calling elem with the position on each element.
func (r *fastReader) array(elem func() bool) bool {
	if !r.consume('[') {
		return false
	}
	if r.consume(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if !r.consume(',') {
			return r.consume(']')
		}
	}
}

// literal reads a string literal and returns it with its quotes, and
// whether it is plain: ASCII or valid UTF-8, without escapes, the bytes
// between the quotes being the string itself.
func (r *fastReader) literal() (lit []byte, plain, ok bool) {
	if !r.consume('"') {
		return nil, false, false
	}
	start := r.pos - 1
	plain = true
	ascii := true
	for r.pos < len(r.data) {
		c := r.data[r.pos]
		switch {
		case c == '"':
			r.pos++
			lit = r.data[start:r.pos]
			if !ascii && plain {
				plain = utf8.Valid(lit)
			}
			return lit, plain, true
		case c == '\\':
			plain = false
			r.pos += 2
			continue
		case c < ' ':
			return nil, false, false
		case c >= 0x80:
			ascii = false
		}
		r.pos++
	}
	return nil, false, false
}

// str reads a string. An escaped (or not valid UTF-8) string is decoded
// by encoding/json itself, so that it reads exactly as the strict reader
// reads it. intern keeps one copy of each distinct value.
func (r *fastReader) str(intern bool) (string, bool) {
	lit, plain, ok := r.literal()
	if !ok {
		return "", false
	}
	if !plain {
		if s, ok := r.unescape(lit[1 : len(lit)-1]); ok {
			return s, true
		}
		var s string
		if err := json.Unmarshal(lit, &s); err != nil {
			return "", false
		}
		return s, true
	}
	b := lit[1 : len(lit)-1]
	if !intern {
		return string(b), true
	}
	if s, ok := r.interned[string(b)]; ok {
		return s, true
	}
	s := string(b)
	if len(r.interned) < maxInterned {
		r.interned[s] = s
	}
	return s, true
}

// unescape decodes the one-character escapes of a string's contents; false
// for \u escapes and anything but valid UTF-8, which encoding/json decodes
// instead. Addresses always hold escaped quotes, so this is common.
func (r *fastReader) unescape(b []byte) (string, bool) {
	buf := r.scratch[:0]
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '\\' {
			i++
			if i == len(b) {
				return "", false
			}
			switch c = b[i]; c {
			case '"', '\\', '/':
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			default:
				return "", false
			}
		}
		buf = append(buf, c)
	}
	r.scratch = buf
	if !utf8.Valid(buf) {
		return "", false
	}
	return string(buf), true
}

// time reads a time as encoding/json does, through time.Time's
// UnmarshalJSON, from a literal without escapes.
func (r *fastReader) time() (time.Time, bool) {
	var t time.Time
	lit, plain, ok := r.literal()
	if !ok || !plain || t.UnmarshalJSON(lit) != nil {
		return time.Time{}, false
	}
	return t, true
}

// digits reads an integer literal: an optional minus, then 0 or digits
// not starting with 0, not followed by a fraction or an exponent.
func (r *fastReader) digits() ([]byte, bool) {
	r.skipSpace()
	start := r.pos
	if r.pos < len(r.data) && r.data[r.pos] == '-' {
		r.pos++
	}
	first := r.pos
	for r.pos < len(r.data) && r.data[r.pos] >= '0' && r.data[r.pos] <= '9' {
		r.pos++
	}
	n := r.pos - first
	if n == 0 || n > 1 && r.data[first] == '0' {
		return nil, false
	}
	if r.pos < len(r.data) {
		switch r.data[r.pos] {
		case '.', 'e', 'E':
			return nil, false
		}
	}
	return r.data[start:r.pos], true
}

func (r *fastReader) int() (int, bool) {
	b, ok := r.digits()
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(string(b), 10, strconv.IntSize)
	return int(v), err == nil
}

func (r *fastReader) uint() (uint64, bool) {
	b, ok := r.digits()
	if !ok || b[0] == '-' {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b), 10, 64)
	return v, err == nil
}

// records reads the records array, with the checks of decodeRecords.
func (r *fastReader) records(snap *Snapshot) bool {
	return r.array(func() bool {
		rec := &Record{}
		if !r.record(rec) || rec.Address == "" || !knownStatus(rec.Status) || (rec.Imported != "" && !knownImported(rec.Imported)) {
			return false
		}
		if _, dup := snap.Records[rec.Address]; dup {
			return false
		}
		snap.Records[rec.Address] = rec
		return true
	})
}

func (r *fastReader) record(rec *Record) bool {
	var seen uint16
	return r.object(func(key []byte) bool {
		var bit uint16
		ok := false
		switch string(key) {
		case "address":
			bit = 1 << 0
			rec.Address, ok = r.str(false)
		case "group":
			bit = 1 << 1
			rec.Group, ok = r.str(true)
		case "thread_id":
			bit = 1 << 2
			rec.ThreadID, ok = r.str(true)
		case "service":
			bit = 1 << 3
			rec.Service, ok = r.str(true)
		case "from":
			bit = 1 << 4
			rec.From, ok = r.str(true)
		case "content_hash":
			bit = 1 << 5
			rec.ContentHash, ok = r.str(false)
		case "send_at":
			bit = 1 << 6
			rec.SendAt, ok = r.time()
		case "status":
			bit = 1 << 7
			var s string
			s, ok = r.str(true)
			rec.Status = Status(s)
		case "attempts":
			bit = 1 << 8
			rec.Attempts = []Attempt{}
			ok = r.array(func() bool {
				var a Attempt
				if !r.attempt(&a) {
					return false
				}
				rec.Attempts = append(rec.Attempts, a)
				return true
			})
		case "answer":
			bit = 1 << 9
			rec.Answer = &Answer{}
			ok = r.answer(rec.Answer)
		case "last_error":
			bit = 1 << 10
			rec.LastError, ok = r.str(false)
		case "updated_at":
			bit = 1 << 11
			rec.UpdatedAt, ok = r.time()
		case "imported":
			bit = 1 << 12
			var s string
			s, ok = r.str(true)
			rec.Imported = Imported(s)
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
}

func (r *fastReader) attempt(a *Attempt) bool {
	var seen uint8
	return r.object(func(key []byte) bool {
		var bit uint8
		ok := false
		switch string(key) {
		case "number":
			bit = 1 << 0
			a.Number, ok = r.int()
		case "started_at":
			bit = 1 << 1
			a.StartedAt, ok = r.time()
		case "finished_at":
			bit = 1 << 2
			var t time.Time
			t, ok = r.time()
			a.FinishedAt = &t
		case "outcome":
			bit = 1 << 3
			a.Outcome, ok = r.str(true)
		case "error":
			bit = 1 << 4
			a.Error, ok = r.str(true)
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
}

func (r *fastReader) answer(ans *Answer) bool {
	var seen uint8
	return r.object(func(key []byte) bool {
		var bit uint8
		ok := false
		switch string(key) {
		case "chat_group_id":
			bit = 1 << 0
			ans.ChatGroupID, ok = r.str(true)
		case "from":
			bit = 1 << 1
			ans.From, ok = r.str(true)
		case "body":
			bit = 1 << 2
			ans.Body, ok = r.str(false)
		case "status":
			bit = 1 << 3
			ans.Status, ok = r.str(true)
		case "date_created":
			bit = 1 << 4
			ans.DateCreated, ok = r.str(false)
		case "message_id":
			bit = 1 << 5
			ans.MessageID, ok = r.str(false)
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
}

// appendRecord appends r as Encode lays it out, byte for byte what
// json.Encoder gives with the record's indentation, without its
// reflection and second pass to indent. It gives up (false) at a string
// with anything but printable ASCII, or a time json would refuse; Encode
// then has json.Encoder write that record.
func appendRecord(b []byte, r *Record) ([]byte, bool) {
	const in1, in2, in3 = "\n      ", "\n        ", "\n          "
	ok := true
	str := func(indent, key, v string) {
		b = append(b, indent...)
		b = append(b, '"')
		b = append(b, key...)
		b = append(b, `": "`...)
		for i := 0; i < len(v); i++ {
			switch c := v[i]; {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20 || c >= 0x7f:
				ok = false
				return
			default:
				b = append(b, c)
			}
		}
		b = append(b, '"')
	}
	tm := func(indent, key string, t time.Time) {
		b = append(b, indent...)
		b = append(b, '"')
		b = append(b, key...)
		b = append(b, `": `...)
		j, err := t.MarshalJSON()
		if err != nil {
			ok = false
			return
		}
		b = append(b, j...)
	}
	b = append(b, '{')
	str(in1, "address", r.Address)
	b = append(b, ',')
	str(in1, "group", r.Group)
	b = append(b, ',')
	str(in1, "thread_id", r.ThreadID)
	b = append(b, ',')
	str(in1, "service", r.Service)
	b = append(b, ',')
	str(in1, "from", r.From)
	b = append(b, ',')
	str(in1, "content_hash", r.ContentHash)
	b = append(b, ',')
	tm(in1, "send_at", r.SendAt)
	b = append(b, ',')
	str(in1, "status", string(r.Status))
	b = append(b, ',')
	if r.Imported != "" {
		str(in1, "imported", string(r.Imported))
		b = append(b, ',')
	}
	if len(r.Attempts) > 0 {
		b = append(b, in1...)
		b = append(b, `"attempts": [`...)
		for i, a := range r.Attempts {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, in2...)
			b = append(b, '{')
			b = append(b, in3...)
			b = append(b, `"number": `...)
			b = strconv.AppendInt(b, int64(a.Number), 10)
			b = append(b, ',')
			tm(in3, "started_at", a.StartedAt)
			if a.FinishedAt != nil {
				b = append(b, ',')
				tm(in3, "finished_at", *a.FinishedAt)
			}
			if a.Outcome != "" {
				b = append(b, ',')
				str(in3, "outcome", a.Outcome)
			}
			if a.Error != "" {
				b = append(b, ',')
				str(in3, "error", a.Error)
			}
			b = append(b, in2...)
			b = append(b, '}')
		}
		b = append(b, in1...)
		b = append(b, "],"...)
	}
	if ans := r.Answer; ans != nil {
		b = append(b, in1...)
		b = append(b, `"answer": {`...)
		first := true
		field := func(key, v string) {
			if v == "" {
				return
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			str(in2, key, v)
		}
		field("chat_group_id", ans.ChatGroupID)
		field("message_id", ans.MessageID)
		field("from", ans.From)
		field("body", ans.Body)
		field("status", ans.Status)
		field("date_created", ans.DateCreated)
		if !first {
			b = append(b, in1...)
		}
		b = append(b, "},"...)
	}
	if r.LastError != "" {
		str(in1, "last_error", r.LastError)
		b = append(b, ',')
	}
	tm(in1, "updated_at", r.UpdatedAt)
	b = append(b, "\n    }"...)
	return b, ok
}
