// Package testkit holds small helpers that herald's tests of real
// processes share: an output buffer safe to read while a process writes to
// it, and a process's exit code.
//
// It is for tests and the test harnesses (reliability, bench); nothing
// in the herald binary may depend on it.
package testkit
