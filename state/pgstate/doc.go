// Package pgstate is herald's PostgreSQL state backend: one state shared by a
// team in a PostgreSQL database, selected with
//
//	backend "postgres" {
//	  conn_str    = "postgres://user@host/db"  # empty: the standard PG* variables
//	  schema_name = "herald"                   # optional
//	}
//
// It owns the tables in its schema, which it creates and upgrades itself
// (migrate.go), the durability of each recorded event (one transaction each,
// committed before Record returns), and the writer lock (a session-level
// advisory lock held on a connection of its own, so that PostgreSQL releases
// it when the holder's connection drops, kill -9 included). Every
// connection asks the server for short TCP keepalives and an idle-in-
// transaction timeout (conn.go), so that a network cut frees the lock, and
// any write in flight, within LockReleaseBound, and CheckLock lets a
// long-lived holder (herald run's active replica) find out that its lock
// is gone before its next write would. A new holder's claim ends the writes
// an earlier holder left open after losing its lock, so that they cannot
// hold the takeover up (see claim in lock.go).
//
// Tables, in the schema named by schema_name:
//
//	schema_version  one row per applied migration
//	states          one row: lineage, serial, lock_generation
//	messages        one row per message instance, keyed by address
//	lock_holder     who holds the lock (pid, host, operation, since), for messages
//	inbox_messages  the inbox: messages A1Base's webhook reported, keyed by account and message id
//	inbox_listening the inbox: one listening span per webhook receiver
//
// The inbox (inbox.go) is written by webhook receivers without the lock,
// each write one transaction committed before it returns, and read by
// look-ups without it too.
//
// What an event means is defined once, by (*state.Snapshot).Apply: Record
// loads the instance's row, applies the event with it and writes the row
// back, all in one transaction.
//
// The package must not decide what to send or print anything, and it must
// never show a connection string's password: Describe and every error it
// returns are scrubbed.
package pgstate
