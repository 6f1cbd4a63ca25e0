package state

import (
	"bytes"
	"encoding/hex"
	stdjson "encoding/json"
	"fmt"
	"hash/crc32"
	"os"

	"github.com/go-json-experiment/json"
)

// The journal holds the events recorded since the state file was last
// written, one line each:
//
//	CRC32C-of-JSON-in-hex SPACE JSON NEWLINE
//
// Its first line is a journalHeader naming the state (lineage and serial)
// the events continue; every other line is an Event. The checksum tells a
// line that was torn or damaged from one that is whole, and the header tells
// a journal that still has to be replayed from one already folded into the
// state file by a run that crashed before it could remove it.

const journalVersion = 1

type journalHeader struct {
	Journal int    `json:"journal"`
	Lineage string `json:"lineage"`
	Serial  uint64 `json:"serial"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendLine frames payload as one journal line.
func appendLine(buf, payload []byte) []byte {
	var sum [4]byte
	c := crc32.Checksum(payload, castagnoli)
	sum[0], sum[1], sum[2], sum[3] = byte(c>>24), byte(c>>16), byte(c>>8), byte(c)
	buf = hex.AppendEncode(buf, sum[:])
	buf = append(buf, ' ')
	buf = append(buf, payload...)
	return append(buf, '\n')
}

func encodeHeader(lineage string, serial uint64) []byte {
	payload, _ := stdjson.Marshal(journalHeader{Journal: journalVersion, Lineage: lineage, Serial: serial})
	return appendLine(nil, payload)
}

func encodeEvent(e Event) ([]byte, error) {
	payload, err := stdjson.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encoding state event for %s: %w", e.Address, err)
	}
	return appendLine(nil, payload), nil
}

// unframe checks one line (without its newline) and returns its JSON.
func unframe(line []byte) ([]byte, bool) {
	if len(line) < 10 || line[8] != ' ' {
		return nil, false
	}
	var sum [4]byte
	if _, err := hex.Decode(sum[:], line[:8]); err != nil {
		return nil, false
	}
	payload := line[9:]
	want := uint32(sum[0])<<24 | uint32(sum[1])<<16 | uint32(sum[2])<<8 | uint32(sum[3])
	if crc32.Checksum(payload, castagnoli) != want {
		return nil, false
	}
	return payload, true
}

// journalContent is what a journal holds.
type journalContent struct {
	// Header is nil when the journal has no whole first line.
	Header *journalHeader
	Events []Event
	// Valid is the length of the whole lines at the start; appending
	// resumes there, dropping a torn tail.
	Valid int64
	// TornTail reports that something after the last whole line was
	// dropped.
	TornTail bool
}

// JournalError is a journal that cannot be replayed safely.
type JournalError struct {
	Path string
	Line int
	// Offset is the byte offset in the journal of the problem within the
	// line, 0 when it has none (byte 0 starts a checksum, never JSON).
	Offset int64
	Msg    string
}

func (e *JournalError) Error() string {
	where := "journal"
	if e.Path != "" {
		where = e.Path
	}
	if e.Line > 0 && e.Offset > 0 {
		return fmt.Sprintf("%s: line %d (byte %d): %s", where, e.Line, e.Offset, e.Msg)
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s: line %d: %s", where, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", where, e.Msg)
}

// parseJournal reads a journal. A damaged tail is dropped: a crash in the
// middle of an append leaves one (a line cut short, or zeros where the file
// grew before its data reached the disk), and no caller was told that line
// was durable. A damaged line followed by a whole one is a hole in the
// middle, which no crash of ours makes; replaying around it could lose an
// attempt, so it is an error.
func parseJournal(data []byte) (*journalContent, error) {
	jc := &journalContent{}
	pos := 0
	for n := 1; pos < len(data); n++ {
		nl := bytes.IndexByte(data[pos:], '\n')
		if nl < 0 {
			jc.TornTail = true
			break
		}
		end := pos + nl + 1
		payload, ok := unframe(data[pos : pos+nl])
		if !ok {
			if !anyWholeLine(data[end:]) {
				jc.TornTail = true
				break
			}
			return nil, &JournalError{Line: n, Msg: "damaged line (checksum or framing does not match) with more entries after it; refusing to replay a journal with a hole in it"}
		}
		// The JSON starts after the checksum and its space.
		at := int64(pos + 9)
		if n == 1 {
			var h journalHeader
			if err := json.Unmarshal(payload, &h, readOptions); err != nil {
				fe := jsonError(data[:pos+nl], at, err)
				return nil, &JournalError{Line: n, Offset: fe.Offset, Msg: "first line is not a journal header: " + fe.Msg}
			}
			if h.Journal == 0 || h.Lineage == "" {
				return nil, &JournalError{Line: n, Msg: "first line is not a journal header"}
			}
			if h.Journal != journalVersion {
				return nil, &JournalError{Line: n, Msg: fmt.Sprintf("journal version %d; this herald reads version %d", h.Journal, journalVersion)}
			}
			jc.Header = &h
		} else {
			var e Event
			if err := json.Unmarshal(payload, &e, readOptions); err != nil {
				fe := jsonError(data[:pos+nl], at, err)
				return nil, &JournalError{Line: n, Offset: fe.Offset, Msg: "unreadable event: " + fe.Msg}
			}
			if err := ValidateEvent(e); err != nil {
				return nil, &JournalError{Line: n, Msg: err.Error()}
			}
			jc.Events = append(jc.Events, e)
		}
		pos = end
		jc.Valid = int64(end)
	}
	return jc, nil
}

// anyWholeLine reports whether data holds a line that passes its checksum.
func anyWholeLine(data []byte) bool {
	for len(data) > 0 {
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 {
			return false
		}
		if _, ok := unframe(data[:nl]); ok {
			return true
		}
		data = data[nl+1:]
	}
	return false
}

// commit is one Record waiting for the fsync that covers its line.
type commit struct {
	line []byte
	ev   Event
	done chan error
}

// journal is the open journal of a lock holder, and the goroutine that
// writes it.
type journal struct {
	f     *os.File
	queue chan *commit
	done  chan struct{}
}

// maxBatch bounds how many lines one write and fsync covers.
const maxBatch = 4096

// run is the journal's writer: it takes whatever Records are queued,
// writes their lines with one write and one fsync (group commit), applies
// their events to the live state, and only then answers each of them. An
// error fails the whole backend: after a failed fsync nobody can say what
// reached the disk.
func (l *Local) run(j *journal) {
	defer close(j.done)
	var buf []byte
	batch := make([]*commit, 0, 64)
	for first := range j.queue {
		batch = append(batch[:0], first)
	drain:
		for len(batch) < maxBatch {
			select {
			case c, ok := <-j.queue:
				if !ok {
					break drain
				}
				batch = append(batch, c)
			default:
				break drain
			}
		}
		buf = buf[:0]
		for _, c := range batch {
			buf = append(buf, c.line...)
		}

		l.mu.Lock()
		err := l.broken
		l.mu.Unlock()
		if err == nil {
			err = l.writeSync(j.f, buf)
		}

		l.mu.Lock()
		if err != nil {
			if l.broken == nil {
				l.broken = err
			}
			err = l.broken
		} else {
			l.journalLen += int64(len(buf))
			for _, c := range batch {
				l.snap.Apply(c.ev)
			}
			l.dirty = true
		}
		l.mu.Unlock()
		for _, c := range batch {
			c.done <- err
		}
	}
}

func (l *Local) writeSync(f *os.File, buf []byte) error {
	if _, err := f.Write(buf); err != nil {
		return fmt.Errorf("appending to %s: %w", f.Name(), err)
	}
	if l.beforeSync != nil {
		l.beforeSync()
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", f.Name(), err)
	}
	l.syncs.Add(1)
	return nil
}
