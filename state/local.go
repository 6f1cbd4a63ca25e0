package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/gofrs/flock"

	"github.com/heraldhq/herald/internal/atomicfile"
)

// DefaultPath is the local state file used when none is named.
const DefaultPath = "herald.state.json"

const (
	backupSuffix  = ".backup"
	journalSuffix = ".journal"
	lockSuffix    = ".lock"
	inboxSuffix   = ".inbox"
)

// Local is the state backend that lives in a file. Writing (Record,
// Persist, Replace) requires the lock; reading (Snapshot) does not.
//
// While a Local holds the lock it keeps the state in memory, loaded once:
// Snapshot returns a deep copy of it, so a caller's snapshot never changes
// under it, and Record applies each event to the memory in O(1) after the
// event is durable. Without the lock, every Snapshot reads the files afresh,
// since another process may be writing them.
//
// A Local is safe for concurrent use.
type Local struct {
	path string

	// gate lets Records run together and everything that changes the
	// journal or the lock run alone: a Record holds it shared from enqueue
	// to answer, so Persist, Replace, Unlock and Close never see an event
	// half-recorded.
	gate sync.RWMutex

	mu        sync.Mutex
	operation string
	fl        *flock.Flock
	closed    bool
	// lineage is the lineage of the state while there is no file, fixed
	// once per Local so that repeated Snapshots agree.
	lineage string
	// Held with the lock only:
	snap       *Snapshot // nil until loaded
	dirty      bool      // snap differs from the state file
	jOnDisk    bool      // a journal file exists, to be removed at the next fold
	journalLen int64     // whole lines in the journal that snap already holds; 0: start it anew
	j          *journal  // open journal and its writer, nil when none
	broken     error     // a failed journal write: nothing more is recorded

	// Tests observe group commit through these.
	syncs      atomic.Int64
	beforeSync func()
}

var _ Backend = (*Local)(nil)

// OpenLocal returns the local backend for the state file at path (DefaultPath
// when empty). Nothing on disk is touched until it is used.
func OpenLocal(path string) *Local {
	if path == "" {
		path = DefaultPath
	}
	return &Local{path: path}
}

// Describe names the state file.
func (l *Local) Describe() string { return l.path }

// LocalPath is the state file.
func (l *Local) LocalPath() string { return l.path }

func (l *Local) backupPath() string  { return l.path + backupSuffix }
func (l *Local) journalPath() string { return l.path + journalSuffix }
func (l *Local) lockPath() string    { return l.path + lockSuffix }

var errClosed = errors.New("state backend is closed")

// ErrNotLocked is returned by the operations that write state when the
// Local does not hold the lock.
var ErrNotLocked = errors.New("state is not locked")

// Snapshot returns the current state including events recorded by a run
// that did not finish, as a copy the caller owns. With no state file it is
// an empty state with a fresh lineage and serial 0. Records left sending
// (by a run that ended between an attempt and its outcome) read as unknown;
// the live state of the lock holder keeps its own in-flight sends as sending.
func (l *Local) Snapshot(ctx context.Context) (*Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fl != nil {
		if err := l.ensureLoaded(); err != nil {
			return nil, err
		}
		return l.snap.Clone(), nil
	}
	ld, err := l.load()
	if err != nil {
		return nil, err
	}
	return ld.snap, nil
}

// loaded is the state as read from disk.
type loaded struct {
	snap    *Snapshot
	changed bool // differs from the state file: journal events or interrupted sends
	journal *journalContent
	// resume: the journal continues this state and appending may go on
	// after its valid lines; otherwise it is stale or empty and is started
	// anew.
	resume bool
}

// errJournalAhead is a journal that continues a newer state than the file
// read. For a reader without the lock that is a race, not damage: the holder
// folded the journal and started the next one between the two reads.
type errJournalAhead struct{ error }

// errForeignJournal is a journal of another lineage than the state file's.
// For a reader without the lock it may be a race with a replace that gave
// the state a new lineage and had not yet removed the old journal.
type errForeignJournal struct{ error }

// foreignJournal explains a journal of another lineage and how to recover.
func (l *Local) foreignJournal(h *journalHeader, snap *Snapshot) error {
	return fmt.Errorf("state journal %s belongs to another state (lineage %s, serial %d) than %s (lineage %s, serial %d): "+
		"its events cannot be folded into this state, so herald stops; both files were left unchanged. "+
		"To recover: if the state file was swapped or restored by mistake, put back the state the journal belongs to "+
		"(perhaps %s, if its lineage is %s) and run again, which folds the journal in; "+
		"if the journal's events are not needed, move the journal away (mv %s %s.foreign) and run again",
		l.journalPath(), h.Lineage, h.Serial, l.path, snap.Lineage, snap.Serial,
		l.backupPath(), h.Lineage, l.journalPath(), l.journalPath())
}

// load reads the state file and replays the journal. Called with mu held.
func (l *Local) load() (*loaded, error) {
	for tries := 1; ; tries++ {
		ld, err := l.loadOnce()
		var ahead errJournalAhead
		var foreign errForeignJournal
		if (errors.As(err, &ahead) || errors.As(err, &foreign)) && l.fl == nil && tries < 5 {
			continue
		}
		return ld, err
	}
}

func (l *Local) loadOnce() (*loaded, error) {
	ld := &loaded{}
	data, err := os.ReadFile(l.path)
	exists := err == nil
	switch {
	case exists:
		snap, err := decodeBytes(data)
		if err != nil {
			return nil, l.refuse(err)
		}
		ld.snap = snap
	case errors.Is(err, fs.ErrNotExist):
		if l.lineage == "" {
			l.lineage = NewLineage()
		}
		ld.snap = &Snapshot{Lineage: l.lineage, Records: map[string]*Record{}}
	default:
		return nil, fmt.Errorf("reading state: %w", err)
	}

	jdata, err := os.ReadFile(l.journalPath())
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("reading state journal: %w", err)
	default:
		jc, err := parseJournal(jdata)
		if err != nil {
			var je *JournalError
			if errors.As(err, &je) {
				je.Path = l.journalPath()
			}
			return nil, fmt.Errorf("%w; the journal and %s were left unchanged", err, l.path)
		}
		ld.journal = jc
		h := jc.Header
		switch {
		case h == nil:
			// Only a torn header: the run died before recording anything.
		case !exists && h.Serial == 0:
			ld.snap.Lineage = h.Lineage
			ld.resume = true
		case !exists:
			return nil, fmt.Errorf("state journal %s continues serial %d of a state file that does not exist; restore %s (perhaps from %s) or remove the journal",
				l.journalPath(), h.Serial, l.path, l.backupPath())
		case h.Lineage != ld.snap.Lineage:
			// Another state's events: its serial says nothing about this
			// file's, and dropping them (or truncating the journal) could
			// lose the only record of what was sent.
			return nil, errForeignJournal{l.foreignJournal(h, ld.snap)}
		case h.Serial == ld.snap.Serial:
			ld.resume = true
		case h.Serial < ld.snap.Serial:
			// A run folded this journal into the state file and crashed
			// before removing it: its events are already in the file.
		default:
			err := fmt.Errorf("state journal %s (lineage %s, serial %d) does not continue %s (lineage %s, serial %d); both were left unchanged",
				l.journalPath(), h.Lineage, h.Serial, l.path, ld.snap.Lineage, ld.snap.Serial)
			if h.Serial > ld.snap.Serial {
				return nil, errJournalAhead{err}
			}
			return nil, err
		}
		if ld.resume {
			for _, e := range jc.Events {
				ld.snap.Apply(e)
			}
			ld.changed = len(jc.Events) > 0
		}
	}
	if MarkInterrupted(ld.snap) {
		ld.changed = true
	}
	return ld, nil
}

// refuse wraps a decoding error with the path and the promise that the
// file stays as it is.
func (l *Local) refuse(err error) error {
	var fe *FormatError
	var ve *VersionError
	switch {
	case errors.As(err, &fe):
		fe.Path = l.path
	case errors.As(err, &ve):
		ve.Path = l.path
	}
	return fmt.Errorf("refusing to use state: %w; the file was left unchanged", err)
}

// ensureLoaded loads the lock holder's live state once. Called with mu held.
func (l *Local) ensureLoaded() error {
	if l.snap != nil {
		return nil
	}
	ld, err := l.load()
	if err != nil {
		return err
	}
	l.snap = ld.snap
	l.dirty = ld.changed
	l.jOnDisk = ld.journal != nil
	l.journalLen = 0
	if ld.resume {
		l.journalLen = ld.journal.Valid
	}
	return nil
}

// Record appends e to the journal and returns once it is on disk (fsynced),
// then the event is also in the live state. Records from many goroutines
// share fsyncs: a writer goroutine writes whatever is queued with one write
// and one fsync. Once e is queued, Record waits for that fsync even if ctx
// ends, so that its answer is the truth about durability. It requires the
// lock.
func (l *Local) Record(ctx context.Context, e Event) error {
	if err := ValidateEvent(e); err != nil {
		return err
	}
	if e.Kind == EventAttempt {
		e.Status = StatusSending
	}
	line, err := encodeEvent(e)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	l.gate.RLock()
	defer l.gate.RUnlock()
	q, err := l.openJournal()
	if err != nil {
		return err
	}
	c := &commit{line: line, ev: e, done: make(chan error, 1)}
	select {
	case q <- c:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-c.done
}

// openJournal returns the queue of the journal writer, opening the journal
// first when needed. Called with gate held shared.
func (l *Local) openJournal() (chan<- *commit, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return nil, err
	}
	if l.broken != nil {
		return nil, l.broken
	}
	if err := l.ensureLoaded(); err != nil {
		return nil, err
	}
	if l.j != nil {
		return l.j.queue, nil
	}
	f, err := os.OpenFile(l.journalPath(), os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, fmt.Errorf("opening state journal: %w", err)
	}
	if err := l.prepareJournal(f); err != nil {
		_ = f.Close()
		l.broken = err
		return nil, err
	}
	l.jOnDisk = true
	l.j = &journal{f: f, queue: make(chan *commit, 256), done: make(chan struct{})}
	go l.run(l.j)
	return l.j.queue, nil
}

// prepareJournal makes f a journal that continues the live state: it
// keeps the whole lines the live state already holds, dropping a torn tail
// so that new lines never follow garbage, or starts it anew with a header.
// The header and the file's name are durable before any event is written.
func (l *Local) prepareJournal(f *os.File) error {
	if err := f.Chmod(fileMode); err != nil {
		return fmt.Errorf("preparing %s: %w", f.Name(), err)
	}
	if err := f.Truncate(l.journalLen); err != nil {
		return fmt.Errorf("preparing %s: %w", f.Name(), err)
	}
	if _, err := f.Seek(l.journalLen, 0); err != nil {
		return fmt.Errorf("preparing %s: %w", f.Name(), err)
	}
	if l.journalLen == 0 {
		h := encodeHeader(l.snap.Lineage, l.snap.Serial)
		if _, err := f.Write(h); err != nil {
			return fmt.Errorf("writing %s: %w", f.Name(), err)
		}
		l.journalLen = int64(len(h))
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", f.Name(), err)
	}
	return atomicfile.SyncDir(filepath.Dir(l.path))
}

// closeJournal stops the writer and closes the journal file. Called with
// gate held exclusively (no Record is in flight) and mu not held, since
// the writer takes mu.
func (l *Local) closeJournal() error {
	l.mu.Lock()
	j := l.j
	l.j = nil
	l.mu.Unlock()
	if j == nil {
		return nil
	}
	close(j.queue)
	<-j.done
	return j.f.Close()
}

// writable reports why state cannot be written now. Called with mu held.
func (l *Local) writable() error {
	if l.closed {
		return errClosed
	}
	if l.fl == nil {
		return fmt.Errorf("%w: %s must be locked before it is written", ErrNotLocked, l.path)
	}
	return nil
}

// Persist folds the recorded events into the state file: when anything
// changed, it writes the state with serial+1 through a temporary file,
// fsync, rename and a directory fsync, keeping the previous file as
// .backup; then it removes the journal. It requires the lock.
func (l *Local) Persist(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.gate.Lock()
	defer l.gate.Unlock()
	return l.persist()
}

// persist is Persist with gate held exclusively.
func (l *Local) persist() error {
	jerr := l.closeJournal()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	if jerr != nil {
		return fmt.Errorf("closing state journal: %w", jerr)
	}
	if err := l.ensureLoaded(); err != nil {
		return err
	}
	if l.broken != nil {
		// The journal may end in a torn line; the next load drops it,
		// and every acknowledged event before it is folded then.
		return fmt.Errorf("not writing state after a failed journal write: %w", l.broken)
	}
	if l.dirty {
		next := *l.snap
		next.Serial++
		if err := l.write(&next); err != nil {
			return err
		}
		l.snap.Serial = next.Serial
		l.dirty = false
		// The journal on disk now continues an older serial: never append
		// to it again.
		l.journalLen = 0
	}
	return l.removeJournal()
}

// write stores snap as the state file. Called with mu held.
func (l *Local) write(snap *Snapshot) error {
	var buf bytes.Buffer
	if err := Encode(&buf, snap); err != nil {
		return err
	}
	removeStrayTemps(l.path)
	return writeAtomic(l.path, l.backupPath(), buf.Bytes())
}

// removeJournal removes a journal whose events the state file holds.
// Called with mu held and no writer running.
func (l *Local) removeJournal() error {
	if !l.jOnDisk {
		return nil
	}
	if err := os.Remove(l.journalPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing folded state journal: %w", err)
	}
	l.jOnDisk = false
	l.journalLen = 0
	return atomicfile.SyncDir(filepath.Dir(l.path))
}

// Replace stores snap as the whole new state (state rm, state push) and
// drops the journal, whose events the caller's snapshot is taken to hold.
// The stored serial is the larger of snap.Serial and the current serial
// plus one, so that the new state is always newer than the one it replaces
// (a saved plan made against the old state is refused). A current state
// file that cannot be read is refused, not overwritten. snap is copied; the
// caller keeps it. It requires the lock.
func (l *Local) Replace(ctx context.Context, snap *Snapshot) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if snap == nil {
		return errors.New("replacing state: no snapshot")
	}
	l.gate.Lock()
	defer l.gate.Unlock()
	jerr := l.closeJournal()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	if jerr != nil {
		return fmt.Errorf("closing state journal: %w", jerr)
	}
	if err := l.ensureLoaded(); err != nil {
		return err
	}
	next := snap.Clone()
	if next.Records == nil {
		next.Records = map[string]*Record{}
	}
	if next.Serial <= l.snap.Serial {
		next.Serial = l.snap.Serial + 1
	}
	if err := l.write(next); err != nil {
		return err
	}
	l.snap = next
	l.dirty = false
	l.broken = nil
	l.journalLen = 0
	return l.removeJournal()
}

// Close persists what was recorded (when anything was) and releases the
// lock. The lock is released even when persisting fails: the journal keeps
// every recorded event for the next run. Calling Close again does nothing.
func (l *Local) Close() error {
	l.gate.Lock()
	defer l.gate.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	locked := l.fl != nil
	needPersist := locked && l.snap != nil && (l.dirty || l.jOnDisk)
	l.mu.Unlock()

	var errs []error
	if needPersist {
		errs = append(errs, l.persist())
	}
	if locked {
		errs = append(errs, l.unlock())
	}
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	return errors.Join(errs...)
}
