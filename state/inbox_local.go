package state

import (
	"bytes"
	"context"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/gofrs/flock"

	"github.com/heraldhq/herald/internal/atomicfile"
)

// The local inbox lives beside the state file, in two files of its own:
//
//	herald.state.json.inbox       one JSON line per record: {"message":{...}} or {"listening":{...}}
//	herald.state.json.inbox.lock  the flock the inbox's writers take turns by
//
// Writers (webhook receivers, in one process or several) take the inbox's
// own flock, never the state's: apply holds the state lock for minutes and
// a receiver must not wait that long. Under the flock a writer reads the
// file, which stays small, and either appends one line (O_APPEND, then
// fsync) or, when the file has grown stale, rewrites it whole through a
// temporary file and a rename (compaction). Readers take no lock: a rename
// shows them the old file or the new one, and a line being appended reads
// as a torn last line, which they ignore.

// inboxMaxDead is how many lines the inbox file may hold beyond its live
// content (duplicates, superseded heartbeats, expired records) before a
// writer compacts it. A variable so that tests can reach it quickly.
var inboxMaxDead = 4096

// inboxExpirySlack is how long past InboxRetention a record may stay before
// its expiry alone makes a writer compact the file: with messages arriving
// steadily, something expires between almost any two writes, and the file
// is rewritten about once per slack rather than at every write.
const inboxExpirySlack = time.Hour

// inboxLockRetry is how often a writer tries the inbox's flock again while
// another writer holds it (for the moment of one append).
const inboxLockRetry = 2 * time.Millisecond

var _ Inbox = (*Local)(nil)

func (l *Local) inboxPath() string     { return l.path + inboxSuffix }
func (l *Local) inboxLockPath() string { return l.path + inboxSuffix + lockSuffix }

// inboxLine is one line of the inbox file; exactly one member is set.
type inboxLine struct {
	Message   *InboxMessage `json:"message,omitempty"`
	Listening *ListenSpan   `json:"listening,omitempty"`
}

// Receive stores m in the inbox file unless it holds a message with m's
// account and id already. It takes the inbox's own flock, not the state
// lock, and returns once the line is fsynced (and, for a new file, its
// name). Times are stored in UTC.
func (l *Local) Receive(ctx context.Context, m InboxMessage) (bool, error) {
	if err := m.Check(); err != nil {
		return false, err
	}
	m.Created, m.Received = m.Created.UTC(), m.Received.UTC()
	return l.writeInbox(ctx, m.Received, inboxLine{Message: &m})
}

// Listening records span in the inbox file, under the inbox's own flock,
// and returns once it is fsynced. A reader sees, per receiver, the span of
// its latest line, with the latest end any line gave it.
func (l *Local) Listening(ctx context.Context, span ListenSpan) error {
	if err := span.Check(); err != nil {
		return err
	}
	span.Since, span.Until = span.Since.UTC(), span.Until.UTC()
	_, err := l.writeInbox(ctx, span.Until, inboxLine{Listening: &span})
	return err
}

// ReadInbox reads the inbox file without any lock. With no file the inbox
// is empty.
func (l *Local) ReadInbox(ctx context.Context, account, thread string, since time.Time) (InboxRead, error) {
	if err := ctx.Err(); err != nil {
		return InboxRead{}, err
	}
	data, err := os.ReadFile(l.inboxPath())
	if errors.Is(err, fs.ErrNotExist) {
		return InboxRead{}, nil
	}
	if err != nil {
		return InboxRead{}, fmt.Errorf("reading inbox: %w", err)
	}
	c, err := parseInbox(l.inboxPath(), data)
	if err != nil {
		return InboxRead{}, err
	}
	var r InboxRead
	for _, m := range c.messages {
		if m.Account == account && m.Thread == thread && !m.Created.Before(since) {
			r.Messages = append(r.Messages, m)
		}
	}
	sort.SliceStable(r.Messages, func(i, j int) bool {
		a, b := r.Messages[i], r.Messages[j]
		switch {
		case !a.Created.Equal(b.Created):
			return a.Created.Before(b.Created)
		case !a.Received.Equal(b.Received):
			return a.Received.Before(b.Received)
		}
		return a.ID < b.ID
	})
	for _, s := range c.spans {
		if !s.Until.Before(since) {
			r.Spans = append(r.Spans, s)
		}
	}
	sortSpans(r.Spans)
	return r, nil
}

func sortSpans(spans []ListenSpan) {
	sort.Slice(spans, func(i, j int) bool {
		if !spans[i].Since.Equal(spans[j].Since) {
			return spans[i].Since.Before(spans[j].Since)
		}
		return spans[i].Receiver < spans[j].Receiver
	})
}

// writeInbox stores rec under the inbox's flock: it appends it, or
// compacts the file with it when the file holds too much that is dead
// (see needsCompaction). now is the newest time the caller knows of (the
// message's received time, the span's end), against which records expire.
// A message already held is not stored again, and stored is false.
func (l *Local) writeInbox(ctx context.Context, now time.Time, rec inboxLine) (stored bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	fl := flock.New(l.inboxLockPath(), flock.SetPermissions(fileMode))
	ok, err := fl.TryLockContext(ctx, inboxLockRetry)
	if err == nil && !ok {
		err = errors.New("the lock was not taken")
	}
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return false, fmt.Errorf("waiting for the inbox lock %s: %w", fl.Path(), cerr)
		}
		return false, fmt.Errorf("locking inbox with %s: %w", fl.Path(), err)
	}
	defer func() {
		if uerr := fl.Unlock(); uerr != nil && err == nil {
			err = fmt.Errorf("unlocking %s: %w", fl.Path(), uerr)
		}
	}()

	path := l.inboxPath()
	// Only a writer holding the flock creates the file, so O_EXCL tells
	// whether this one did, and must make the name durable.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, fileMode)
	created := err == nil
	if errors.Is(err, fs.ErrExist) {
		f, err = os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	}
	if err != nil {
		return false, fmt.Errorf("opening inbox: %w", err)
	}
	defer f.Close()
	if created {
		// The umask may have narrowed the mode; it is set whatever it is.
		if err := f.Chmod(fileMode); err != nil {
			return false, fmt.Errorf("preparing inbox %s: %w", path, err)
		}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return false, fmt.Errorf("reading inbox %s: %w", path, err)
	}
	c, err := parseInbox(path, data)
	if err != nil {
		return false, err
	}

	if m := rec.Message; m != nil && c.has(m.Account, m.ID) {
		// The writer that stored it may have died between its write and its
		// fsync: what this answer says is held must be durable.
		if err := f.Sync(); err != nil {
			return false, fmt.Errorf("syncing inbox %s: %w", path, err)
		}
		return false, nil
	}
	line, err := encodeInboxLine(rec)
	if err != nil {
		return false, err
	}
	c.add(rec)
	if c.needsCompaction(now) {
		removeInboxTemps(path)
		if err := writeAtomic(path, "", c.compacted(now)); err != nil {
			return false, err
		}
		return true, nil
	}
	if c.valid < len(data) {
		// A writer died mid-append: the torn line goes, so that the new
		// one does not continue it.
		if err := f.Truncate(int64(c.valid)); err != nil {
			return false, fmt.Errorf("dropping the torn last line of inbox %s: %w", path, err)
		}
	}
	if _, err := f.Write(line); err != nil {
		return false, fmt.Errorf("writing inbox %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return false, fmt.Errorf("syncing inbox %s: %w", path, err)
	}
	if created {
		if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
			return false, err
		}
	}
	return true, nil
}

// removeInboxTemps removes the temporary files a crashed compaction left
// beside the inbox. Only a writer holding the inbox's flock calls it, so no
// other compaction's file can be in flight.
func removeInboxTemps(path string) {
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), globEscape(tempPattern(path))))
	for _, m := range matches {
		_ = os.Remove(m)
	}
}

func encodeInboxLine(rec inboxLine) ([]byte, error) {
	b, err := stdjson.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encoding inbox record: %w", err)
	}
	return append(b, '\n'), nil
}

// inboxContent is what an inbox file holds.
type inboxContent struct {
	// messages are the first line of each (account, id), in file order.
	messages []InboxMessage
	held     map[inboxKey]bool
	// spans are per receiver: the latest line's span, with the latest end
	// of all its lines.
	spans map[string]ListenSpan
	// lines counts the whole records read (and added).
	lines int
	// valid is the length of the whole, readable lines at the start of the
	// file; what follows is a torn last line.
	valid int
}

type inboxKey struct{ account, id string }

func (c *inboxContent) has(account, id string) bool { return c.held[inboxKey{account, id}] }

func (c *inboxContent) add(rec inboxLine) {
	c.lines++
	if m := rec.Message; m != nil {
		k := inboxKey{m.Account, m.ID}
		if !c.held[k] {
			c.held[k] = true
			c.messages = append(c.messages, *m)
		}
		return
	}
	s := *rec.Listening
	if old, ok := c.spans[s.Receiver]; ok && old.Until.After(s.Until) {
		s.Until = old.Until
	}
	c.spans[s.Receiver] = s
}

// needsCompaction says whether the file is worth rewriting: it holds more
// than inboxMaxDead lines beyond its live content, or a record that expired
// (InboxRetention before now) more than inboxExpirySlack ago.
func (c *inboxContent) needsCompaction(now time.Time) bool {
	cutoff := now.Add(-InboxRetention)
	overdue := cutoff.Add(-inboxExpirySlack)
	live := 0
	for _, m := range c.messages {
		if m.Received.Before(overdue) {
			return true
		}
		if !m.Received.Before(cutoff) {
			live++
		}
	}
	for _, s := range c.spans {
		if s.Until.Before(overdue) {
			return true
		}
		if !s.Until.Before(cutoff) {
			live++
		}
	}
	return c.lines-live > inboxMaxDead
}

// compacted is the file holding only the live records: the messages
// received, and the spans ending, at most InboxRetention before now; one
// line per message and per receiver.
func (c *inboxContent) compacted(now time.Time) []byte {
	cutoff := now.Add(-InboxRetention)
	var buf bytes.Buffer
	for i := range c.messages {
		if m := &c.messages[i]; !m.Received.Before(cutoff) {
			line, _ := encodeInboxLine(inboxLine{Message: m})
			buf.Write(line)
		}
	}
	spans := make([]ListenSpan, 0, len(c.spans))
	for _, s := range c.spans {
		if !s.Until.Before(cutoff) {
			spans = append(spans, s)
		}
	}
	sortSpans(spans)
	for i := range spans {
		line, _ := encodeInboxLine(inboxLine{Listening: &spans[i]})
		buf.Write(line)
	}
	return buf.Bytes()
}

// parseInbox reads an inbox file. A last line that is not whole, or that
// does not read, is what a writer that died mid-append left: it is ignored
// (valid ends before it). Any other line that does not read is damage, an
// error naming the file and the line.
func parseInbox(path string, data []byte) (*inboxContent, error) {
	c := &inboxContent{held: map[inboxKey]bool{}, spans: map[string]ListenSpan{}}
	pos := 0
	for n := 1; pos < len(data); n++ {
		nl := bytes.IndexByte(data[pos:], '\n')
		if nl < 0 {
			break
		}
		end := pos + nl + 1
		rec, err := decodeInboxLine(data[pos : pos+nl])
		if err != nil {
			if end == len(data) {
				break
			}
			return nil, fmt.Errorf("reading inbox %s: line %d: %v; the file was left unchanged", path, n, err)
		}
		c.add(rec)
		c.valid = end
		pos = end
	}
	return c, nil
}

// decodeInboxLine reads one line as strictly as the state file is read.
func decodeInboxLine(line []byte) (inboxLine, error) {
	var rec inboxLine
	if err := json.Unmarshal(line, &rec, readOptions); err != nil {
		return rec, err
	}
	switch {
	case rec.Message != nil && rec.Listening != nil:
		return rec, errors.New("a line holds both a message and a listening span")
	case rec.Message != nil:
		return rec, rec.Message.Check()
	case rec.Listening != nil:
		return rec, rec.Listening.Check()
	}
	return rec, errors.New("a line holds neither a message nor a listening span")
}
