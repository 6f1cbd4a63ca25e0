package pgstate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/heraldhq/herald/state"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultSchema is the schema used when schema_name is not set.
const DefaultSchema = "herald"

// Default timings; Options change them.
const (
	DefaultLockPoll     = 100 * time.Millisecond
	DefaultWriteTimeout = 30 * time.Second
)

// Option changes how Open sets up a Backend.
type Option func(*options)

type options struct {
	operation    string
	lockPoll     time.Duration
	writeTimeout time.Duration
	// claimWait bounds how long Lock's claim waits for locks on the
	// state's tables that are not herald's to end (see claim).
	claimWait time.Duration
}

// WithOperation names what the lock is taken for (e.g. "herald apply"), as
// SetOperation does.
func WithOperation(op string) Option { return func(o *options) { o.operation = op } }

// WithLockPoll sets how often Lock tries again while it waits.
func WithLockPoll(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.lockPoll = d
		}
	}
}

// WithWriteTimeout bounds one write (a Record, Replace or ReplaceChecked). A write
// runs to its end even when its context is cancelled, so that its answer is
// the truth about what was stored; this bound keeps a dead network from
// holding it forever.
func WithWriteTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.writeTimeout = d
		}
	}
}

// Backend is the PostgreSQL state backend. Writing (Record, Persist,
// Replace, ReplaceChecked) requires the lock; reading (Snapshot) does not. It is safe
// for concurrent use.
type Backend struct {
	pool     *pgxpool.Pool
	lockCfg  *pgx.ConnConfig // for the lock's own connection
	schema   string
	qschema  string // quoted for SQL
	describe string
	scrub    scrubber
	opts     options

	// gate lets Records run together and makes Lock, Unlock, Persist,
	// Replace and Close wait until none is in flight.
	gate sync.RWMutex

	mu        sync.Mutex
	operation string
	lock      *heldLock // nil while not locked
	closed    bool

	// run guards changed, and is held through the first write of a run so
	// that exactly one write of each run increments the serial.
	run sync.Mutex
	// changed: the serial was already incremented for what this run
	// changed. Persist and Replace end a run.
	changed bool

	// inboxMu guards inboxPruned: the time, as the inbox's writes carry
	// it, of this Backend's last prune of expired inbox rows.
	inboxMu     sync.Mutex
	inboxPruned time.Time

	// onLockRetry, when set (by tests), is called each time Lock finds the
	// lock taken and is about to wait.
	onLockRetry func()
	// onFenced, when set (by tests), is called inside each write's
	// transaction once its fence has passed.
	onFenced func()
}

var (
	_ state.CheckedReplacer = (*Backend)(nil)
	_ state.LockChecker     = (*Backend)(nil)
)

// Open connects to the database named by connStr (a URL or keyword/value
// string; empty: the PG* environment variables) and brings the tables in
// schema (empty: DefaultSchema) to the current version, creating them in an
// empty database. Connections are made as needed and pooled.
func Open(ctx context.Context, connStr, schema string, opts ...Option) (*Backend, error) {
	if schema == "" {
		schema = DefaultSchema
	}
	if err := checkSchemaName(schema); err != nil {
		return nil, err
	}
	o := options{lockPoll: DefaultLockPoll, writeTimeout: DefaultWriteTimeout, claimWait: defaultClaimWait}
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(connStr)
	if err != nil {
		// The password is unknown here, so only the patterns are scrubbed,
		// and the cause is dropped: it holds the connection string.
		return nil, errors.New(newScrubber("").text("PostgreSQL state backend: " + err.Error()))
	}
	cc := cfg.ConnConfig
	if cc.RuntimeParams == nil {
		cc.RuntimeParams = map[string]string{}
	}
	configureConnections(&cc.Config)
	lockCfg := cc.Copy()
	if cc.RuntimeParams["application_name"] == "" {
		cc.RuntimeParams["application_name"] = "herald"
		lockCfg.RuntimeParams["application_name"] = "herald (state lock)"
	}
	b := &Backend{
		lockCfg:   lockCfg,
		schema:    schema,
		qschema:   pgx.Identifier{schema}.Sanitize(),
		describe:  describe(&cc.Config, schema),
		scrub:     newScrubber(cc.Password),
		opts:      o,
		operation: o.operation,
	}
	b.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, b.fail("connecting", err)
	}
	if err := b.migrate(ctx, SchemaVersion); err != nil {
		b.pool.Close()
		var ve *VersionError
		if errors.As(err, &ve) {
			return nil, err
		}
		return nil, b.fail("creating or upgrading the tables", err)
	}
	return b, nil
}

func checkSchemaName(s string) error {
	if len(s) > 63 {
		return fmt.Errorf("PostgreSQL state backend: schema_name %q is longer than PostgreSQL's 63 bytes", s)
	}
	for _, r := range s {
		if r == 0 {
			return fmt.Errorf("PostgreSQL state backend: schema_name %q contains a NUL character", s)
		}
	}
	return nil
}

// fail wraps an error from the database with what was being done and where,
// and takes the password out of it.
func (b *Backend) fail(doing string, err error) error {
	return b.scrub.err(fmt.Errorf("PostgreSQL state %s: %s: %w", b.describe, doing, err))
}

// Describe names the state for messages: the database (without its
// password) and the schema, e.g. postgres://user@host:5432/db (schema herald).
func (b *Backend) Describe() string { return b.describe }

// LocalPath is "": the state is in the database.
func (b *Backend) LocalPath() string { return "" }

// SetOperation names what the lock is taken for, e.g. "herald apply"; it is
// stored with the lock and shown to whoever finds the state locked. Call it
// before Lock. Without it the program's name is used.
func (b *Backend) SetOperation(op string) {
	b.mu.Lock()
	b.operation = op
	b.mu.Unlock()
}

var errClosed = errors.New("state backend is closed")

// writable returns the held lock, or why state cannot be written.
func (b *Backend) writable() (*heldLock, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errClosed
	}
	if b.lock == nil {
		return nil, fmt.Errorf("%w: %s must be locked before it is written", state.ErrNotLocked, b.describe)
	}
	if b.lock.lost.Load() {
		return nil, b.lostError(b.lock)
	}
	return b.lock, nil
}

const recordColumns = `address, group_name, thread_id, service, from_number, content_hash, send_at, status, attempts, answer, last_error, updated_at, imported`

// Snapshot reads the whole state in one REPEATABLE READ, read-only
// transaction, so that it is consistent without taking the lock. Records
// still sending read as unknown unless this Backend holds the lock: then
// they are its own sends in flight (Lock turned those of earlier runs into
// unknown).
//
// Times come back in UTC with PostgreSQL's microsecond precision.
func (b *Backend) Snapshot(ctx context.Context) (*state.Snapshot, error) {
	b.mu.Lock()
	closed, locked := b.closed, b.lock != nil
	b.mu.Unlock()
	if closed {
		return nil, errClosed
	}
	var snap *state.Snapshot
	err := pgx.BeginTxFunc(ctx, b.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		snap = &state.Snapshot{Records: map[string]*state.Record{}}
		var serial int64
		if err := tx.QueryRow(ctx, b.sql("SELECT lineage, serial FROM {schema}.states")).Scan(&snap.Lineage, &serial); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return errNoState
			}
			return err
		}
		snap.Serial = uint64(serial)
		rows, err := tx.Query(ctx, b.sql("SELECT "+recordColumns+" FROM {schema}.messages"))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRecord(rows)
			if err != nil {
				return err
			}
			snap.Records[r.Address] = r
		}
		return rows.Err()
	})
	if err != nil {
		return nil, b.fail("reading state", err)
	}
	if !locked {
		state.MarkInterrupted(snap)
	}
	return snap, nil
}

func scanRecord(row pgx.Row) (*state.Record, error) {
	var (
		r        state.Record
		status   string
		attempts []byte
		answer   []byte
		imported string
	)
	if err := row.Scan(&r.Address, &r.Group, &r.ThreadID, &r.Service, &r.From, &r.ContentHash,
		&r.SendAt, &status, &attempts, &answer, &r.LastError, &r.UpdatedAt, &imported); err != nil {
		return nil, err
	}
	r.Status = state.Status(status)
	r.Imported = state.Imported(imported)
	r.SendAt = r.SendAt.UTC()
	r.UpdatedAt = r.UpdatedAt.UTC()
	if err := json.Unmarshal(attempts, &r.Attempts); err != nil {
		return nil, fmt.Errorf("record %s: attempts: %w", r.Address, err)
	}
	if len(r.Attempts) == 0 {
		r.Attempts = nil
	}
	if answer != nil {
		r.Answer = &state.Answer{}
		if err := json.Unmarshal(answer, r.Answer); err != nil {
			return nil, fmt.Errorf("record %s: answer: %w", r.Address, err)
		}
	}
	return &r, nil
}

// Record stores one event: in one transaction it checks that this Backend
// still holds the lock, loads the instance's row, applies the event to it
// with (*state.Snapshot).Apply and writes the row back, incrementing the
// serial when this is the run's first change. It returns once the
// transaction is committed; an error means the event may not be stored,
// and nothing of it is half-written. It requires the lock.
//
// Once begun, the transaction is not cut short by ctx (see
// WithWriteTimeout). Concurrent Records run on separate connections.
func (b *Backend) Record(ctx context.Context, e state.Event) error {
	if err := state.ValidateEvent(e); err != nil {
		return err
	}
	if e.Kind == state.EventAttempt {
		e.Status = state.StatusSending
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b.gate.RLock()
	defer b.gate.RUnlock()
	lk, err := b.writable()
	if err != nil {
		return err
	}
	if e.Kind == state.EventAttempt {
		// The fence below admits the event only under this generation.
		e.LockGeneration = lk.generation
	}

	b.run.Lock()
	if b.changed {
		b.run.Unlock()
		return b.recordTx(ctx, lk, e, false)
	}
	defer b.run.Unlock()
	if err := b.recordTx(ctx, lk, e, true); err != nil {
		return err
	}
	b.changed = true
	return nil
}

func (b *Backend) recordTx(ctx context.Context, lk *heldLock, e state.Event, bump bool) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.opts.writeTimeout)
	defer cancel()
	err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		if err := b.fence(ctx, tx, lk); err != nil {
			return err
		}
		if b.onFenced != nil {
			b.onFenced()
		}
		snap := &state.Snapshot{Records: map[string]*state.Record{}}
		addrs := []string{e.Address}
		if e.Kind == state.EventMove {
			addrs = append(addrs, e.MovedFrom)
		}
		// FOR UPDATE locks nothing while a message has no row yet: two
		// first events for one message would both insert, and one would
		// be lost. A lock per address, taken in a fixed order, makes
		// events on one message take turns.
		sort.Strings(addrs)
		for _, addr := range addrs {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))", b.schema, addr); err != nil {
				return err
			}
		}
		for _, addr := range addrs {
			r, err := scanRecord(tx.QueryRow(ctx, b.sql("SELECT "+recordColumns+" FROM {schema}.messages WHERE address = $1 FOR UPDATE"), addr))
			switch {
			case err == nil:
				snap.Records[r.Address] = r
			case !errors.Is(err, pgx.ErrNoRows):
				return err
			}
		}
		snap.Apply(e)
		if e.Kind == state.EventMove {
			if snap.Records[e.MovedFrom] != nil || snap.Records[e.Address] == nil {
				return nil // nothing to move, or the target has its own record
			}
			if _, err := tx.Exec(ctx, b.sql("DELETE FROM {schema}.messages WHERE address = $1"), e.MovedFrom); err != nil {
				return err
			}
		}
		r := snap.Records[e.Address]
		if r == nil {
			return fmt.Errorf("event for %s changed no record", e.Address)
		}
		if err := b.upsert(ctx, tx, r); err != nil {
			return err
		}
		if bump {
			if _, err := tx.Exec(ctx, b.sql("UPDATE {schema}.states SET serial = serial + 1")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, state.ErrLockLost) {
			return b.scrub.err(err)
		}
		return b.fail(fmt.Sprintf("recording %s of %s", e.Kind, e.Address), err)
	}
	return nil
}

const upsertSQL = `INSERT INTO {schema}.messages (` + recordColumns + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (address) DO UPDATE SET
	group_name = EXCLUDED.group_name, thread_id = EXCLUDED.thread_id,
	service = EXCLUDED.service, from_number = EXCLUDED.from_number,
	content_hash = EXCLUDED.content_hash, send_at = EXCLUDED.send_at,
	status = EXCLUDED.status, attempts = EXCLUDED.attempts, answer = EXCLUDED.answer,
	last_error = EXCLUDED.last_error, updated_at = EXCLUDED.updated_at,
	imported = EXCLUDED.imported`

func recordArgs(r *state.Record) ([]any, error) {
	attempts := r.Attempts
	if attempts == nil {
		attempts = []state.Attempt{}
	}
	aj, err := json.Marshal(attempts)
	if err != nil {
		return nil, err
	}
	var answer []byte // NULL when there is none
	if r.Answer != nil {
		if answer, err = json.Marshal(r.Answer); err != nil {
			return nil, err
		}
	}
	return []any{r.Address, r.Group, r.ThreadID, r.Service, r.From, r.ContentHash,
		r.SendAt, string(r.Status), string(aj), nullableJSON(answer), r.LastError, r.UpdatedAt, string(r.Imported)}, nil
}

func nullableJSON(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

func (b *Backend) upsert(ctx context.Context, tx pgx.Tx, r *state.Record) error {
	args, err := recordArgs(r)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, b.sql(upsertSQL), args...)
	return err
}

// Persist ends a run. Every event is already stored, and the serial was
// incremented in the same transaction as the run's first change, so there
// is nothing to fold: the serial is never behind the records, even when a
// run dies before Persist. The next change after Persist increments the
// serial again. It requires the lock.
func (b *Backend) Persist(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.gate.Lock()
	defer b.gate.Unlock()
	if _, err := b.writable(); err != nil {
		return err
	}
	b.run.Lock()
	b.changed = false
	b.run.Unlock()
	return nil
}

// Replace stores snap as the whole new state (state rm, state push) in one
// transaction. The stored serial is the larger of snap.Serial and the
// current serial plus one, so that the new state is always newer than the
// one it replaces. snap is not changed. It requires the lock.
func (b *Backend) Replace(ctx context.Context, snap *state.Snapshot) error {
	return b.replace(ctx, snap, nil)
}

// ReplaceChecked is Replace, refused with check's error when check fails
// on the stored lineage and serial, read in the transaction that writes
// (state.Push's rule, see state.CheckedReplacer). It requires the lock.
func (b *Backend) ReplaceChecked(ctx context.Context, snap *state.Snapshot, check func(lineage string, serial uint64) error) error {
	return b.replace(ctx, snap, check)
}

func (b *Backend) replace(ctx context.Context, snap *state.Snapshot, check func(lineage string, serial uint64) error) error {
	if snap == nil {
		return errors.New("replacing state: no snapshot")
	}
	if snap.Lineage == "" {
		return errors.New("replacing state: the snapshot has no lineage")
	}
	if snap.Serial > 1<<63-2 {
		return fmt.Errorf("replacing state: serial %d is too large", snap.Serial)
	}
	addrs := make([]string, 0, len(snap.Records))
	for k, r := range snap.Records {
		if r == nil || r.Address != k {
			return fmt.Errorf("replacing state: the record stored under %q has another address", k)
		}
		addrs = append(addrs, k)
	}
	sort.Strings(addrs)
	if err := ctx.Err(); err != nil {
		return err
	}
	b.gate.Lock()
	defer b.gate.Unlock()
	lk, err := b.writable()
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.opts.writeTimeout)
	defer cancel()
	err = pgx.BeginFunc(wctx, b.pool, func(tx pgx.Tx) error {
		if err := b.fence(wctx, tx, lk); err != nil {
			return err
		}
		var lineage string
		var cur int64
		if err := tx.QueryRow(wctx, b.sql("SELECT lineage, serial FROM {schema}.states FOR UPDATE")).Scan(&lineage, &cur); err != nil {
			return err
		}
		if check != nil {
			if err := check(lineage, uint64(cur)); err != nil {
				return err
			}
		}
		serial := max(snap.Serial, uint64(cur)+1)
		if _, err := tx.Exec(wctx, b.sql("DELETE FROM {schema}.messages")); err != nil {
			return err
		}
		batch := &pgx.Batch{}
		for _, a := range addrs {
			args, err := recordArgs(snap.Records[a])
			if err != nil {
				return err
			}
			batch.Queue(b.sql(upsertSQL), args...)
		}
		if err := tx.SendBatch(wctx, batch).Close(); err != nil {
			return err
		}
		_, err := tx.Exec(wctx, b.sql("UPDATE {schema}.states SET lineage = $1, serial = $2"), snap.Lineage, int64(serial))
		return err
	})
	var pe *state.PushRefusedError
	switch {
	case errors.As(err, &pe):
		return err
	case errors.Is(err, state.ErrLockLost):
		return b.scrub.err(err)
	case err != nil:
		return b.fail("replacing state", err)
	}
	b.run.Lock()
	b.changed = false
	b.run.Unlock()
	return nil
}

// Close releases the lock, if held, and the connections. Calling it again
// does nothing.
func (b *Backend) Close() error {
	b.gate.Lock()
	defer b.gate.Unlock()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.mu.Unlock()
	err := b.unlock()
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.pool.Close()
	return err
}
