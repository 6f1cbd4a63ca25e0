package pgstate

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/heraldhq/herald/state"
	"github.com/jackc/pgx/v5"
)

// migrations are the steps from an empty schema to the current one; step i
// makes schema version i+1. A step is never edited once released: changes
// are new steps. {schema} stands for the quoted schema name.
var migrations = []string{
	// 1: the state, its messages and the lock holder's note.
	`
CREATE TABLE {schema}.states (
	id              boolean PRIMARY KEY DEFAULT true CHECK (id),
	lineage         text    NOT NULL,
	serial          bigint  NOT NULL CHECK (serial >= 0),
	-- Incremented by every Lock: a writer whose lock was lost finds a
	-- different number here and stops before writing.
	lock_generation bigint  NOT NULL DEFAULT 0
);
CREATE TABLE {schema}.messages (
	address      text        PRIMARY KEY,
	group_name   text        NOT NULL,
	thread_id    text        NOT NULL,
	service      text        NOT NULL,
	from_number  text        NOT NULL,
	content_hash text        NOT NULL,
	send_at      timestamptz NOT NULL,
	status       text        NOT NULL,
	attempts     jsonb       NOT NULL DEFAULT '[]',
	answer       jsonb,
	last_error   text        NOT NULL DEFAULT ''
);
CREATE TABLE {schema}.lock_holder (
	id          boolean     PRIMARY KEY DEFAULT true CHECK (id),
	backend_pid integer     NOT NULL,
	pid         integer     NOT NULL,
	host        text        NOT NULL,
	operation   text        NOT NULL,
	since       timestamptz NOT NULL
);
`,
	// 2: when each record last changed, and the index a per-group listing
	// in send_at order uses. Rows written before it get the time of their
	// latest attempt, or their send_at when they have none.
	`
ALTER TABLE {schema}.messages ADD COLUMN updated_at timestamptz;
UPDATE {schema}.messages m SET updated_at = coalesce(
	(SELECT max(greatest((a->>'started_at')::timestamptz, (a->>'finished_at')::timestamptz))
	   FROM jsonb_array_elements(m.attempts) a),
	m.send_at);
ALTER TABLE {schema}.messages ALTER COLUMN updated_at SET NOT NULL;
CREATE INDEX messages_group_send_at ON {schema}.messages (group_name, send_at);
`,
	// 3: how an imported record knows its message was sent ('' for a
	// record herald sent itself).
	`
ALTER TABLE {schema}.messages ADD COLUMN imported text NOT NULL DEFAULT '';
`,
	// 4: the inbox, written by webhook receivers without the lock: the
	// messages A1Base reported, one row per account and message id, and
	// one listening span per receiver.
	`
CREATE TABLE {schema}.inbox_messages (
	account      text        NOT NULL,
	message_id   text        NOT NULL,
	thread_id    text        NOT NULL,
	created_at   timestamptz NOT NULL,
	received_at  timestamptz NOT NULL,
	from_agent   boolean     NOT NULL,
	sender       text        NOT NULL DEFAULT '',
	text_sha256  text        NOT NULL DEFAULT '',
	media_sha256 text        NOT NULL DEFAULT '',
	PRIMARY KEY (account, message_id)
);
CREATE INDEX inbox_messages_thread_created ON {schema}.inbox_messages (account, thread_id, created_at);
CREATE TABLE {schema}.inbox_listening (
	receiver text        PRIMARY KEY,
	since    timestamptz NOT NULL,
	until    timestamptz NOT NULL,
	-- A time a receiver failed to store what it was sent.
	gap      boolean     NOT NULL DEFAULT false
);
`,
	// 5: the outbox of notifications, written after the state is saved
	// and by deliverers, without the lock: one row per destination and
	// event id, pending until done_at is set (delivered, or dropped to
	// keep within the limit); and how many each destination dropped.
	`
CREATE TABLE {schema}.outbox (
	destination  text        NOT NULL,
	event_id     text        NOT NULL,
	kind         text        NOT NULL,
	recorded_at  timestamptz NOT NULL,
	payload      text        NOT NULL,
	attempts     integer     NOT NULL DEFAULT 0,
	next_attempt timestamptz NOT NULL,
	last_error   text        NOT NULL DEFAULT '',
	done_at      timestamptz,
	dropped      boolean     NOT NULL DEFAULT false,
	PRIMARY KEY (destination, event_id)
);
CREATE INDEX outbox_pending ON {schema}.outbox (next_attempt) WHERE done_at IS NULL;
CREATE TABLE {schema}.outbox_dropped (
	destination text   PRIMARY KEY,
	dropped     bigint NOT NULL
);
`,
}

// SchemaVersion is the version of the tables this herald reads and writes.
var SchemaVersion = len(migrations)

// VersionError is a schema written by a newer herald.
type VersionError struct {
	Schema  string
	Version int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("PostgreSQL state schema %s has version %d, written by a newer herald; this herald knows versions up to %d", e.Schema, e.Version, SchemaVersion)
}

// lockKey turns a name into an advisory lock key; the purpose is part of
// the name so that the writer lock and the migration lock of one schema
// differ.
func lockKey(purpose, schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("herald\x00" + purpose + "\x00" + schema))
	return int64(h.Sum64())
}

func (b *Backend) sql(s string) string {
	return strings.ReplaceAll(s, "{schema}", b.qschema)
}

// currentVersion reads the schema version without writing anything, so that
// a role allowed only to read can plan against an up-to-date schema. It
// returns 0 when there are no tables yet.
func (b *Backend) currentVersion(ctx context.Context) (int, error) {
	var exists bool
	if err := b.pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", b.qschema+".schema_version").Scan(&exists); err != nil {
		return 0, err
	}
	if !exists {
		return 0, nil
	}
	var v int
	err := b.pool.QueryRow(ctx, b.sql("SELECT coalesce(max(version), 0) FROM {schema}.schema_version")).Scan(&v)
	return v, err
}

// migrate brings the schema to version target (SchemaVersion outside
// tests). Everything happens in one transaction under a transaction-level
// advisory lock, so that processes opening a new database at once run the
// steps one after another, and a failed step leaves the previous version
// intact.
func (b *Backend) migrate(ctx context.Context, target int) error {
	if v, err := b.currentVersion(ctx); err != nil {
		return err
	} else if v > SchemaVersion {
		return &VersionError{Schema: b.schema, Version: v}
	} else if v >= target {
		return nil
	}
	return pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey("migrate", b.schema)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, b.sql(`
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE IF NOT EXISTS {schema}.schema_version (
	version    integer     PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
)`)); err != nil {
			return err
		}
		var v int
		if err := tx.QueryRow(ctx, b.sql("SELECT coalesce(max(version), 0) FROM {schema}.schema_version")).Scan(&v); err != nil {
			return err
		}
		if v > SchemaVersion {
			return &VersionError{Schema: b.schema, Version: v}
		}
		for ; v < target; v++ {
			if _, err := tx.Exec(ctx, b.sql(migrations[v])); err != nil {
				return fmt.Errorf("schema version %d: %w", v+1, err)
			}
			if _, err := tx.Exec(ctx, b.sql("INSERT INTO {schema}.schema_version (version) VALUES ($1)"), v+1); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, b.sql("INSERT INTO {schema}.states (lineage, serial) VALUES ($1, 0) ON CONFLICT (id) DO NOTHING"), state.NewLineage())
		return err
	})
}

var errNoState = errors.New("the states row is missing")
