// Package e2e tests herald as users run it: the real binary, built once per
// test run, in its own process, against the fake A1Base server running in
// the test process and reached through A1BASE_BASE_URL. It is where the
// guarantees that need a process boundary are checked: interrupts, kill -9,
// and two applies racing for one state.
//
// It holds tests only and must not be imported.
package e2e
