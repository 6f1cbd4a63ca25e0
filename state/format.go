package state

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
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
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &FormatError{Offset: -1, Msg: "state file is empty"}
	}
	version, ok := leadingVersion(data)
	if !ok {
		var head struct {
			Version *int `json:"version"`
		}
		if err := json.Unmarshal(data, &head); err != nil {
			return nil, jsonError(data, err)
		}
		if head.Version == nil {
			return nil, &FormatError{Offset: -1, Msg: "not a herald state file: it has no \"version\""}
		}
		version = *head.Version
	}
	if version != FormatVersion {
		return nil, &VersionError{Version: version}
	}

	var f fileV1
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, jsonError(data, err)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		for end < int64(len(data)) && bytes.IndexByte([]byte(" \t\r\n"), data[end]) >= 0 {
			end++
		}
		return nil, positioned(data, end, "unexpected data after the state document")
	}
	if f.Lineage == "" {
		return nil, &FormatError{Offset: -1, Msg: "state has no lineage"}
	}
	snap := &Snapshot{Lineage: f.Lineage, Serial: f.Serial, Records: make(map[string]*Record, len(f.Records))}
	for i, r := range f.Records {
		if r == nil {
			return nil, &FormatError{Offset: -1, Msg: fmt.Sprintf("record %d is null", i)}
		}
		if r.Address == "" {
			return nil, &FormatError{Offset: -1, Msg: fmt.Sprintf("record %d has no address", i)}
		}
		if !knownStatus(r.Status) {
			return nil, &FormatError{Offset: -1, Msg: fmt.Sprintf("record %s has unknown status %q", r.Address, r.Status)}
		}
		if _, dup := snap.Records[r.Address]; dup {
			return nil, &FormatError{Offset: -1, Msg: fmt.Sprintf("record %s appears twice", r.Address)}
		}
		snap.Records[r.Address] = r
	}
	return snap, nil
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

	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&f); err != nil {
		return fmt.Errorf("encoding state: %w", err)
	}
	return bw.Flush()
}
