// Package views is the only place where herald's commands print. Each
// command has its view: a human form and, where the command offers one, a
// JSON form, both rendered from the same values. The View base holds the
// output streams and decides colour and width once for every view.
//
// Views never read configuration, state or the clock, never decide exit
// codes, and never prompt: they render what a command hands them.
package views
