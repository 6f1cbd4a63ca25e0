// Package backends opens the state a configuration names: the local state
// file when it has no backend block, PostgreSQL (package pgstate) for
// backend "postgres". It owns how a backend block becomes a connection:
// the PG* environment variables, and the checks on conn_str.
//
// It must not print anything, and knows the configuration only as the
// evaluated *spec.Backend.
package backends
