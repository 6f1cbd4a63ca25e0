// Package sandbox is a fake A1Base API: one server used by herald's unit
// tests (in process), by `herald apply -sandbox` (in process) and by
// `herald sandbox` (on a real listener).
//
// It owns faithfulness to the real API as far as herald depends on it: the
// credential headers, the account in the path, FastAPI-style validation of
// the group send body (422 with a detail list), the 200 answer with
// whole-second times, and the thread look-up of the last five messages. It
// records every request that arrives and every send it delivered, and
// injects faults (500s, 429s with Retry-After, latency, lost answers,
// rejected threads, scripted answers) that can be changed while it serves.
// Its threads can be read out and put back (History, AddHistory), so that
// a sandbox kept by herald outlives one process.
//
// It must not print: the OnReceive hook lets the sandbox show what arrives.
// It must not depend on anything of herald but the a1base types.
//
// Choices where the real API is not documented:
//   - Threads are known implicitly unless WithThreads registers some: then a
//     send or look-up for any other thread answers 404 {"detail":"Thread not
//     found"}. Without registration a look-up of a thread nothing was sent to
//     answers an empty list.
//   - get-recent lists the last five messages newest first.
//   - chat_group_id in answers is the thread id.
//   - content longer than 4096 characters is refused (WhatsApp's limit, and
//     herald's).
//   - Paths are served at the root and also under /v1, so both
//     http://host and http://host/v1 work as base_url.
package sandbox
