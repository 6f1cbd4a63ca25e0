// Package spec owns herald's configuration language: it reads the *.hcl
// files of a working directory and the variable values given for them,
// decodes each block kind into its own structure, evaluates the expressions
// once in a single evaluation context, checks every rule of the language and
// returns the evaluated model (Config) with hcl.Diagnostics that point at
// the source.
//
// It also owns time zones (IANA names, with the zone database compiled in)
// and the rules of repeat messages: their cron expressions, read in wall
// time, and which occurrences a plan at a given clock considers.
//
// It must not know about state, plans or the network, and never reads the
// clock: the one moment it needs, the clock a plan is made at, comes in as
// LoadOptions.At. Later packages only see the Go values of model.go. It
// never prints: diagnostics are returned for the views to render. Bad input
// of any kind yields diagnostics, never a panic, and no diagnostic ever
// carries a sensitive value or a backend connection string.
package spec
