// Command bench is herald's performance harness: it generates the inputs of
// each case, runs herald (built from this checkout) and a floor to compare it
// with several times, interleaved, and prints a table of medians and of the
// ratios measured in the same run. Machines are noisy; the ratios, not the
// absolute times, are the figures the targets speak of.
//
//	go run ./bench            # every case, 5 runs each
//	go run ./bench -quick     # small sizes and one run: checks the harness
//
// The cases:
//
//  1. plan vs parse floor: herald plan over 10,000 message blocks (10 files,
//     100 groups, all already sent) against a program that only parses the
//     same files with hclparse. Both are separate processes, so both include
//     process start-up.
//  2. scale: the same plan over 10,000 and 100,000 instances from for_each
//     over a CSV file: time ratio and peak RSS of the herald process.
//  3. apply throughput: herald apply of 10,000 due sends in 100 groups,
//     parallelism 8, against the fake A1Base served on loopback by this
//     program, against a bare loop that POSTs the same sends with the same
//     parallelism and appends and fsyncs one journal line before each.
//  4. state cost: recording 1,000 sends into a state holding 100,000
//     instances against recording them into an empty state.
//  5. rate precision: herald apply of 500 sends at rate_limit "50/s":
//     achieved rate and the busiest one-second window at the fake.
//
// The harness must not change what it measures: it builds herald with the
// ordinary go build, talks to it only through its command line and the
// A1Base API, and reads state only through the state package.
package main
