// Package notify tells people when something needs them: it turns what a
// pass did (sends that failed, unknowns, expiries, drift, skipped
// occurrences, a summary) and a replica's takeover into notifications for
// the notify blocks that want them, records them in the state's outbox,
// and delivers what the outbox holds to webhooks, Slack-compatible
// incoming webhooks and A1Base groups.
//
// It owns the notifications' content (no message text, no secret) and
// their ids (stable: the same event recorded again keeps its id, so a
// receiver can de-duplicate), and delivery: at least once, with retries
// and backoff, never on the path of a broadcast send. It does not send
// broadcasts, decide what is due, or print: callers report what it
// returns.
package notify
