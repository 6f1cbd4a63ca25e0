// Package daemon is herald run's engine: the scheduler that wakes at each
// send_at (or every poll), reads the configuration again, decides whether
// a pass needs the lock and makes it; the replica lease on a PostgreSQL
// state shared by several runs, with its watchdog and takeover; the
// timing of look-ups of unknown messages and of retries; and the health
// and metrics of daemon/service.
//
// It prints nothing: it reports through Events, which the command's view
// implements. What it needs of the command (reading the configuration,
// opening the state, one locked apply pass) is given in Options.
package daemon
