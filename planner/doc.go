// Package planner decides what apply would do: from an evaluated
// configuration, a state snapshot, a clock and the -target/-replace options
// it builds a Plan in which every message instance has exactly one action
// (CONTRACT §4), plus one orphan change per state record that no instance
// claims. It also owns the saved-plan file format (plan -out, apply PLANFILE)
// and the checks that keep a saved plan from being applied to a
// configuration or state it was not made from. It lays a plan's sends out
// on a time axis (NewSchedule) and flags those that land at night or too
// close to another, with the later occurrences of repeat messages
// (RepeatPreview); views draw the schedule.
//
// The planner is a pure function of its inputs: it never reads the clock
// (the clock is an argument, so -at and every test are deterministic), never
// prints (views render a Plan), never touches the network and never writes
// state. Only the saved-plan functions touch the file system, and only the
// plan file itself.
//
// Sensitive content never leaves through this package: a saved plan holds an
// instance's content hash (which already leaves sensitive content out) and
// withholds the text, media URL and caption of a sensitive message, and the
// API's answer is never written to a plan file. So that apply can still see
// a sensitive value change, the plan keeps HMAC-SHA256 hashes of sensitive
// variable values and sensitive content under a plan key the caller passes
// in and keeps elsewhere; without the key they reveal nothing.
package planner
