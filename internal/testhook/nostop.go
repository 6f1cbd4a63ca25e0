//go:build !heraldtestclock || !unix

package testhook

// AttemptJournaled does nothing outside test builds (see stop.go).
func AttemptJournaled(string) {}
