package pgstate

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/state"
)

// The outbox, like the inbox, is written and read on the pool, never on
// the lock's connection, and without the state lock: run's deliverer
// marks notifications while a pass holds the lock.

var _ state.Outbox = (*Backend)(nil)

const outboxColumns = `destination, event_id, kind, recorded_at, payload, attempts, next_attempt, last_error, done_at, dropped`

// Enqueue inserts ns with INSERT ... ON CONFLICT DO NOTHING, then drops
// the oldest pending rows of each destination it added to beyond limit
// and forgets its oldest finished rows beyond state.OutboxKept, all in one
// transaction.
func (b *Backend) Enqueue(ctx context.Context, ns []state.Notification, limit int) (added, dropped int, err error) {
	for _, n := range ns {
		if err := n.Check(); err != nil {
			return 0, 0, err
		}
	}
	err = b.outboxWrite(ctx, func(ctx context.Context, tx pgx.Tx) error {
		added, dropped = 0, 0
		touched := map[string]bool{}
		for _, n := range ns {
			tag, err := tx.Exec(ctx, b.sql(`INSERT INTO {schema}.outbox (destination, event_id, kind, recorded_at, payload, attempts, next_attempt, last_error)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (destination, event_id) DO NOTHING`),
				n.Destination, n.ID, n.Kind, n.Recorded, n.Payload, n.Attempts, n.NextAttempt, n.LastError)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				added++
				touched[n.Destination] = true
			}
		}
		dests := make([]string, 0, len(touched))
		for d := range touched {
			dests = append(dests, d)
		}
		sort.Strings(dests)
		for _, dest := range dests {
			// Dropped rows are done at the newest recorded time of their
			// destination, so that the same event recorded again is still
			// known.
			tag, err := tx.Exec(ctx, b.sql(`UPDATE {schema}.outbox o SET done_at = (SELECT max(recorded_at) FROM {schema}.outbox WHERE destination = $1), dropped = true
FROM (SELECT event_id FROM {schema}.outbox WHERE destination = $1 AND done_at IS NULL
	ORDER BY recorded_at DESC, event_id DESC OFFSET $2) doomed
WHERE o.destination = $1 AND o.event_id = doomed.event_id`), dest, limit)
			if err != nil {
				return err
			}
			if n := int(tag.RowsAffected()); n > 0 {
				dropped += n
				if _, err := tx.Exec(ctx, b.sql(`INSERT INTO {schema}.outbox_dropped (destination, dropped) VALUES ($1, $2)
ON CONFLICT (destination) DO UPDATE SET dropped = {schema}.outbox_dropped.dropped + EXCLUDED.dropped`), dest, n); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, b.sql(`DELETE FROM {schema}.outbox o
USING (SELECT event_id FROM {schema}.outbox WHERE destination = $1 AND done_at IS NOT NULL
	ORDER BY recorded_at DESC, event_id DESC OFFSET $2) old
WHERE o.destination = $1 AND o.event_id = old.event_id`), dest, state.OutboxKept); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, b.fail("storing notifications", err)
	}
	return added, dropped, nil
}

// Pending reads the due pending rows, oldest first.
func (b *Backend) Pending(ctx context.Context, now time.Time, max int) ([]state.Notification, error) {
	if err := b.outboxOpen(); err != nil {
		return nil, err
	}
	limit := any(nil)
	if max > 0 {
		limit = max
	}
	rows, err := b.pool.Query(ctx, b.sql(`SELECT `+outboxColumns+` FROM {schema}.outbox
WHERE done_at IS NULL AND next_attempt <= $1
ORDER BY recorded_at, destination, event_id LIMIT $2`), now, limit)
	if err != nil {
		return nil, b.fail("reading the outbox", err)
	}
	ns, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (state.Notification, error) {
		var n state.Notification
		err := row.Scan(&n.Destination, &n.ID, &n.Kind, &n.Recorded, &n.Payload, &n.Attempts, &n.NextAttempt, &n.LastError, &n.Done, &n.Dropped)
		n.Recorded, n.NextAttempt = n.Recorded.UTC(), n.NextAttempt.UTC()
		return n, err
	})
	if err != nil {
		return nil, b.fail("reading the outbox", err)
	}
	return ns, nil
}

// Delivered sets done_at of a pending row.
func (b *Backend) Delivered(ctx context.Context, destination, id string, at time.Time) error {
	return b.outboxMark(ctx, destination, id, "marking a notification delivered",
		`UPDATE {schema}.outbox SET done_at = $3 WHERE destination = $1 AND event_id = $2 AND done_at IS NULL`, at)
}

// Postpone counts a failed delivery of a pending row.
func (b *Backend) Postpone(ctx context.Context, destination, id string, next time.Time, reason string) error {
	return b.outboxMark(ctx, destination, id, "postponing a notification",
		`UPDATE {schema}.outbox SET attempts = attempts + 1, next_attempt = $3, last_error = $4
WHERE destination = $1 AND event_id = $2 AND done_at IS NULL`, next, reason)
}

// DroppedCounts reads outbox_dropped.
func (b *Backend) DroppedCounts(ctx context.Context) (map[string]int, error) {
	if err := b.outboxOpen(); err != nil {
		return nil, err
	}
	out := map[string]int{}
	rows, err := b.pool.Query(ctx, b.sql(`SELECT destination, dropped FROM {schema}.outbox_dropped`))
	if err != nil {
		return nil, b.fail("reading the outbox's drop counts", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d string
		var c int64
		if err := rows.Scan(&d, &c); err != nil {
			return nil, b.fail("reading the outbox's drop counts", err)
		}
		out[d] = int(c)
	}
	if err := rows.Err(); err != nil {
		return nil, b.fail("reading the outbox's drop counts", err)
	}
	return out, nil
}

func (b *Backend) outboxMark(ctx context.Context, destination, id, doing, query string, args ...any) error {
	var n int64
	err := b.outboxWrite(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, b.sql(query), append([]any{destination, id}, args...)...)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return b.fail(doing, err)
	}
	if n == 0 {
		return state.NoNotification(destination, id)
	}
	return nil
}

func (b *Backend) outboxOpen() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed
	}
	return nil
}

// outboxWrite runs write in a transaction of its own on the pool. Once
// begun, it runs to its end even when ctx is cancelled, bounded by the
// write timeout: a notification recorded is recorded whole.
func (b *Backend) outboxWrite(ctx context.Context, write func(context.Context, pgx.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.outboxOpen(); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.opts.writeTimeout)
	defer cancel()
	err := pgx.BeginFunc(wctx, b.pool, func(tx pgx.Tx) error { return write(wctx, tx) })
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
