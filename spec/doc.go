// Package spec owns herald's configuration language: it reads the *.hcl
// files of a working directory and the variable values given for them,
// decodes each block kind into its own structure, evaluates the expressions
// once in a single evaluation context, checks every rule of the language and
// returns the evaluated model (Config) with hcl.Diagnostics that point at
// the source.
//
// It must not know about state, plans, the clock or the network: later
// packages only see the Go values of model.go. It never prints: diagnostics
// are returned for the views to render. Bad input of any kind yields
// diagnostics, never a panic, and no diagnostic ever carries a sensitive
// value or a backend connection string.
package spec
