// Package executor is the only part of herald that sends. It owns the
// rate limits, the per-group queues, retries and the classification of
// each send's outcome into state; it takes a plan, an A1Base client, a
// state recorder and hooks.
//
// It must not decide what to send (the planner did), print anything (views
// implement Hooks), read configuration or state files, or know how state
// is stored: it records through state.Recorder, whose Record returns only
// once an event is durable.
//
// # The send protocol
//
// Send and retry changes send; expire changes are recorded as expired
// without sending; every other action is ignored. Each group's messages
// form a queue in send_at order, sent strictly one after another; up to
// Options.Parallelism groups send at once. A message that fails or becomes
// unknown does not hold back the rest of its group.
//
// For every attempt, in this order:
//
//  1. Wait for the account and the group rate limit. A retry is a start
//     like any other. A limit "N/period" paces starts evenly with a
//     golang.org/x/time/rate token bucket (one token per period/N, room
//     for two, so a start that went late is made up once), and a window
//     over the moments requests actually leave keeps any period to at
//     most N of them.
//  2. Record the attempt (status sending). Nothing is sent unless this
//     returned without error; if it fails, the run stops.
//  3. Send, unless it may no longer be: the request waits for the rate
//     limits' start gate, and then, just before it is written, is
//     dropped when more than SendBound has passed since the attempt was
//     recorded (by the monotonic clock), when the message has expired,
//     when Options.Lock has ended (the state lock was lost) or on Abort.
//     A dropped request's attempt is recorded as not sent (failed, or
//     expired), so that a later run may retry it: herald knows it never
//     wrote it. A process frozen between steps 2 and 3 thus never writes a
//     request that another holder of the lock may have proven absent.
//  4. Record the outcome: delivered is sent, with the API's answer (whose
//     echoed body is dropped for a sensitive message); permanent is failed
//     with the API's reason; transient is failed too, and retried after an
//     exponential backoff with jitter (never sooner than a Retry-After)
//     until Options.MaxAttempts; ambiguous is unknown and never retried.
//     If recording fails, no new send starts.
//
// An instance whose expires_after has passed by the time it comes up, even
// between retries, is recorded as expired instead of sent.
//
// # Interrupts
//
// Cancelling Run's context starts nothing new, not even a retry; requests
// in flight finish and their outcomes are recorded, and Run returns an
// error wrapping context.Canceled with the changes left counted in
// Summary.NotStarted. Closing Options.Abort also cancels requests in
// flight: their attempts stay recorded, and their outcomes are recorded if
// that can be done at once; an attempt without an outcome reads as unknown
// on the next run.
package executor
