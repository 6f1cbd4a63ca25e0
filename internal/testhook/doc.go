// Package testhook holds the moments the reliability suite needs a real
// herald process to stop at. Only test builds (the heraldtestclock build
// tag, see internal/clock) act on them; in every build users run they do
// nothing.
package testhook
