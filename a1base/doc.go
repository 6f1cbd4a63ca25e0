// Package a1base is herald's client for the A1Base API: the group send, the
// thread look-up used to reconcile sends whose answer was lost, and an
// optional preflight of media URLs.
//
// It owns the wire format and the classification of every send into an
// Outcome (delivered, transient, permanent, ambiguous), because only here is
// it known whether a request left the machine. It must not retry, wait,
// rate-limit, record state or print: the executor decides what to do with a
// Result. It must never replay a send by itself, and no error it returns may
// contain the API key or secret.
//
// The sub-package sandbox is a fake A1Base server for tests and for the
// built-in sandbox (herald apply -sandbox, herald sandbox).
package a1base
