// Package testrun runs herald's test files: *.test.hcl files under tests/,
// whose run blocks pin the clock and the variables, plan the configuration
// against an empty state, and assert on the plan (rendered text, send
// instants in UTC and local time, actions, occurrences) and on which
// checks fail (expect_failures). It is offline: nothing is sent and no
// state is read.
package testrun
