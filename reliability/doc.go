// Package reliability proves herald's guarantees (at most once, nothing
// lost, one writer, rate limits, secrets kept out of every file and stream)
// by driving the real herald binary against the fake A1Base server and
// counting what arrived against what state recorded.
//
// The package owns the harness (building the binary, a fake server with
// jitter and fault knobs, running and killing herald, reading the state it
// left) and the checker that turns a run into figures: deliveries,
// duplicates, deliveries not recorded, unknowns left and the busiest rate
// window. The scenarios are its tests; "go test ./reliability/" runs them
// and prints the figures table, "-short" with smaller numbers.
//
// It must not reach into herald's internals to make a scenario pass: herald
// is run as a user runs it, and only the state files it leaves and the
// fake's own record are read back.
package reliability
