// Package webhook reads A1Base's inbound webhook: the event A1Base posts
// for every message in the account's threads, those herald sent through
// the API included. It verifies an event's signature and timestamp and
// parses its body; it keeps nothing itself.
//
// A1Base signs an event with HMAC-SHA256, keyed with the account's API
// secret, over the event's Unix timestamp followed by the raw body, and
// sends the timestamp beside the signature. A1Base does not publish the
// names of the two headers: herald's defaults, X-Signature (the hex
// digest) and X-Timestamp, are what applications built on A1Base read,
// and both can be set (Verifier.SignatureHeader, TimestampHeader).
package webhook
