// Package clock is herald's one reading of the wall clock. Every package
// that needs "now" takes a clock from its options or environment, and
// the default it falls back to is Now; nothing else calls time.Now for
// the calendar.
package clock
