// Package figures writes measured tables into the documentation. A table
// sits in a markdown page between two markers,
//
//	<!-- figures:NAME -->
//	| ... the table ... |
//	<!-- /figures -->
//
// and the tool that measures it (the benchmark harness, the reliability
// suite) replaces what is between them when the environment variable
// HERALD_WRITE_FIGURES is 1, so that the figures in the docs are the
// tools' output rather than pasted copies.
package figures
