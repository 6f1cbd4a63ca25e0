// Package service is what `herald run` shows of itself to what runs it as
// a service: the /healthz, /readyz and /metrics endpoints of -listen, the
// Prometheus metrics behind /metrics (fed through the executor's hooks,
// like any view), and the readiness the scheduler reports.
//
// It must not send, decide what to send, or touch state: the scheduler
// tells it what happened.
package service
