// Package operation is one locked pass of herald's send protocol, the
// engine behind every front end that changes state by sending: apply does
// one pass, run one at every wake, import one for a single message.
//
// A pass takes the state lock, plans against the state read under it (or
// checks a saved plan against that state), records moved blocks, records
// imports, looks unknown messages up in their threads, plans again when
// those look-ups settled something, sends and expires what is due, then
// folds what it recorded into the stored state and releases the lock,
// whatever happened in between.
//
// It owns the order of those steps and what a pass's outcome is. It does
// not print: it reports through a Reporter, which the command's views
// implement; it does not prompt: an Approver decides whether the pass may
// send; and it does not decide exit codes: the Outcome and the error carry
// what the command needs to.
package operation
