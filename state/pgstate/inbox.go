package pgstate

import (
	"context"
	"time"

	"github.com/heraldhq/herald/state"
	"github.com/jackc/pgx/v5"
)

// The inbox is written and read on the pool, never on the lock's
// connection, and without the gate or the lock: a webhook receiver stores
// messages while another process, or this Backend's own Lock, holds or
// waits for the state lock.

var _ state.Inbox = (*Backend)(nil)

// inboxPruneEvery is how often, at most, a Backend drops the inbox's
// expired rows, measured by the times its writes carry (a message's
// received time, a span's end).
const inboxPruneEvery = time.Minute

const inboxColumns = `account, message_id, thread_id, created_at, received_at, from_agent, sender, text_sha256, media_sha256`

// Receive stores m with INSERT ... ON CONFLICT DO NOTHING: stored is true
// when the row is new. Now and then (see inboxPruneEvery) the same
// transaction first drops the messages received, and the spans that ended,
// more than state.InboxRetention before m.Received. Like Record, the
// write runs to its end even when ctx is cancelled once it has begun,
// bounded by the write timeout.
func (b *Backend) Receive(ctx context.Context, m state.InboxMessage) (bool, error) {
	if err := m.Check(); err != nil {
		return false, err
	}
	var stored bool
	err := b.inboxWrite(ctx, m.Received, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, b.sql(`INSERT INTO {schema}.inbox_messages (`+inboxColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (account, message_id) DO NOTHING`),
			m.Account, m.ID, m.Thread, m.Created, m.Received, m.FromAgent, m.Sender, m.TextDigest, m.MediaDigest)
		stored = tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return false, b.fail("storing inbox message "+m.ID+" of account "+m.Account, err)
	}
	return stored, nil
}

// Listening stores span as its receiver's row: the new start, and the later
// of the stored end and the new one.
func (b *Backend) Listening(ctx context.Context, span state.ListenSpan) error {
	if err := span.Check(); err != nil {
		return err
	}
	err := b.inboxWrite(ctx, span.Until, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, b.sql(`INSERT INTO {schema}.inbox_listening (receiver, since, until, gap)
VALUES ($1, $2, $3, $4)
ON CONFLICT (receiver) DO UPDATE SET since = EXCLUDED.since,
	until = greatest({schema}.inbox_listening.until, EXCLUDED.until), gap = EXCLUDED.gap`),
			span.Receiver, span.Since, span.Until, span.Gap)
		return err
	})
	if err != nil {
		return b.fail("storing the listening span of receiver "+span.Receiver, err)
	}
	return nil
}

// inboxWrite runs write in a transaction of its own on the pool, after the
// pruning of expired rows when that is due at now. The prune runs under a
// transaction-level advisory lock it only tries for, so that at most one
// writer prunes at a time and none waits for another's prune.
func (b *Backend) inboxWrite(ctx context.Context, now time.Time, write func(context.Context, pgx.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return errClosed
	}
	prune := b.inboxPruneDue(now)
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.opts.writeTimeout)
	defer cancel()
	return pgx.BeginFunc(wctx, b.pool, func(tx pgx.Tx) error {
		if prune {
			var mine bool
			if err := tx.QueryRow(wctx, "SELECT pg_try_advisory_xact_lock($1)", lockKey("inbox prune", b.schema)).Scan(&mine); err != nil {
				return err
			}
			if mine {
				cutoff := now.Add(-state.InboxRetention)
				if _, err := tx.Exec(wctx, b.sql("DELETE FROM {schema}.inbox_messages WHERE received_at < $1"), cutoff); err != nil {
					return err
				}
				if _, err := tx.Exec(wctx, b.sql("DELETE FROM {schema}.inbox_listening WHERE until < $1"), cutoff); err != nil {
					return err
				}
			}
		}
		return write(wctx, tx)
	})
}

// inboxPruneDue says whether a write at now should prune, and if so notes
// that it does.
func (b *Backend) inboxPruneDue(now time.Time) bool {
	b.inboxMu.Lock()
	defer b.inboxMu.Unlock()
	if !b.inboxPruned.IsZero() && now.Sub(b.inboxPruned) < inboxPruneEvery {
		return false
	}
	b.inboxPruned = now
	return true
}

// ReadInbox reads the thread's messages created at or after since, oldest
// first, and the spans ending at or after since, earliest first, in one
// read-only REPEATABLE READ transaction. Times come back in UTC.
func (b *Backend) ReadInbox(ctx context.Context, account, thread string, since time.Time) (state.InboxRead, error) {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return state.InboxRead{}, errClosed
	}
	var r state.InboxRead
	err := pgx.BeginTxFunc(ctx, b.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		r = state.InboxRead{}
		rows, err := tx.Query(ctx, b.sql(`SELECT `+inboxColumns+` FROM {schema}.inbox_messages
WHERE account = $1 AND thread_id = $2 AND created_at >= $3
ORDER BY created_at, received_at, message_id`), account, thread, since)
		if err != nil {
			return err
		}
		r.Messages, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (state.InboxMessage, error) {
			var m state.InboxMessage
			err := row.Scan(&m.Account, &m.ID, &m.Thread, &m.Created, &m.Received, &m.FromAgent, &m.Sender, &m.TextDigest, &m.MediaDigest)
			m.Created, m.Received = m.Created.UTC(), m.Received.UTC()
			return m, err
		})
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, b.sql(`SELECT receiver, since, until, gap FROM {schema}.inbox_listening
WHERE until >= $1 ORDER BY since, receiver`), since)
		if err != nil {
			return err
		}
		r.Spans, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (state.ListenSpan, error) {
			var s state.ListenSpan
			err := row.Scan(&s.Receiver, &s.Since, &s.Until, &s.Gap)
			s.Since, s.Until = s.Since.UTC(), s.Until.UTC()
			return s, err
		})
		return err
	})
	if err != nil {
		return state.InboxRead{}, b.fail("reading the inbox of thread "+thread+" of account "+account, err)
	}
	if len(r.Messages) == 0 {
		r.Messages = nil
	}
	if len(r.Spans) == 0 {
		r.Spans = nil
	}
	return r, nil
}
