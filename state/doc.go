// Package state owns herald's durable memory of what was sent: the state
// model (model.go), the local file backend (Local) and the interface the
// PostgreSQL backend implements (Backend, with LockChecker and
// CheckedReplacer for what only some backends can do). The rules every
// backend shares live here once: the push rule of herald state push
// (Push, PushRefusedError), the error of a lost lock (LockLostError,
// ErrLockLost), what a send cut short reads as (MarkInterrupted), and
// which records an address selects (Snapshot.Select and Snapshot.Remove,
// for herald state list, show and rm).
// Package backends opens the backend a configuration names.
//
// The local backend keeps three files beside each other:
//
//	herald.state.json          the folded state: version, lineage, serial, records
//	herald.state.json.journal  events recorded since the last fold, one fsynced line each
//	herald.state.json.lock     the flock that makes one writer; its content names the holder
//
// plus herald.state.json.backup, the state as it was before the last write,
// and the inbox (inbox_local.go): herald.state.json.inbox, the messages
// A1Base's webhook reported and the receivers' listening spans, one JSON
// line each, with herald.state.json.inbox.lock, the flock its writers take
// instead of the state lock, so that a receiver never waits for an apply.
// Recording a send appends one line to the journal and fsyncs it, so its cost
// does not grow with the state; the journal is folded into the state file by
// Persist (and Close) through a temporary file, fsync, rename and an fsync of
// the directory, so a crash at any moment leaves either the old or the new
// state file, never a torn one.
//
// The package must not decide what to send, print anything, or know about
// HCL or the A1Base API. It stores what it is given: content hashes and
// answers arrive already stripped of anything sensitive (the caller leaves the
// answer's body out for sensitive messages and keys its content hashes), and
// no credential ever reaches it.
package state
