package service

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/state"
)

// Metrics are herald run's Prometheus metrics, on a registry of their own
// (with the Go runtime's and the process's). Its methods are safe for
// concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	sends           *prometheus.CounterVec
	attempts        prometheus.Counter
	retries         prometheus.Counter
	unknowns        prometheus.Counter
	expired         prometheus.Counter
	reconciled      *prometheus.CounterVec
	rateWaits       prometheus.Counter
	rateWaitSeconds prometheus.Counter
	passDuration    prometheus.Histogram
	nextSendAt      prometheus.Gauge
	active          prometheus.Gauge
	stateErrors     prometheus.Counter
	takeovers       prometheus.Counter
	webhooks        *prometheus.CounterVec
}

// NewMetrics makes the metrics, all at zero.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.sends = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_sends_total",
		Help: "Messages whose send ended, by the outcome recorded: sent, failed or unknown.",
	}, []string{"outcome"})
	m.attempts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "herald_attempts_total",
		Help: "Send requests made (each journaled before it left), retries included.",
	})
	m.retries = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "herald_retries_total",
		Help: "Transient failures (429, 5xx, not written) that were retried.",
	})
	m.unknowns = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "herald_unknown_total",
		Help: "Messages that became unknown: written, with no answer; never sent again by themselves.",
	})
	m.expired = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "herald_expired_total",
		Help: "Messages recorded as expired instead of sent.",
	})
	m.reconciled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_reconciled_total",
		Help: "Unknown messages looked up in their thread, by result: found (recorded as sent), not_delivered (proven absent by a settled look-up), not_found (settled nothing) or failed.",
	}, []string{"result"})
	m.rateWaits = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "herald_rate_limit_waits_total",
		Help: "Sends that waited at least a second for a rate limit.",
	})
	m.rateWaitSeconds = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "herald_rate_limit_wait_seconds_total",
		Help: "Time those sends waited for a rate limit.",
	})
	m.passDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "herald_pass_duration_seconds",
		Help:    "How long each pass that held the lock took: plan, look-ups, sends and records.",
		Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300},
	})
	m.nextSendAt = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "herald_next_send_at_timestamp_seconds",
		Help: "Unix time of the earliest send_at still waiting; 0 when nothing waits.",
	})
	m.active = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "herald_replica_active",
		Help: "1 while this process holds the state lock and sends, 0 while it stands by.",
	})
	m.stateErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "herald_state_backend_errors_total",
		Help: "Failures to open, read or lock the state at a wake or while standing by, and locks found lost.",
	})
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_webhook_requests_total",
		Help: "Webhook requests received, by result: stored, duplicate (held already), ignored (not a group's) or refused.",
	}, []string{"result"})
	m.takeovers = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "herald_lock_acquired_total",
		Help: "Times this process took the state lock and became the active replica.",
	})
	for _, o := range []string{string(state.StatusSent), string(state.StatusFailed), string(state.StatusUnknown)} {
		m.sends.WithLabelValues(o)
	}
	for _, r := range []string{"found", "not_delivered", "not_found", "failed"} {
		m.reconciled.WithLabelValues(r)
	}
	for _, r := range []string{"stored", "duplicate", "ignored", "refused"} {
		m.webhooks.WithLabelValues(r)
	}
	m.reg.MustRegister(m.sends, m.attempts, m.retries, m.unknowns, m.expired, m.reconciled,
		m.rateWaits, m.rateWaitSeconds, m.passDuration, m.nextSendAt, m.active, m.stateErrors, m.takeovers, m.webhooks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Registry is where the metrics are registered, for tests that gather
// them directly.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Hooks counts what the executor reports.
func (m *Metrics) Hooks() executor.Hooks { return metricsHooks{m: m} }

// ObservePass records how long a pass took.
func (m *Metrics) ObservePass(d time.Duration) { m.passDuration.Observe(d.Seconds()) }

// SetNextSendAt records the earliest send_at still waiting (zero: none).
func (m *Metrics) SetNextSendAt(t time.Time) {
	if t.IsZero() {
		m.nextSendAt.Set(0)
		return
	}
	m.nextSendAt.Set(float64(t.UnixNano()) / 1e9)
}

// SetActive records whether this process is the active replica.
func (m *Metrics) SetActive(active bool) {
	if active {
		m.active.Set(1)
		return
	}
	m.active.Set(0)
}

// WebhookRequest counts one webhook request by its result.
func (m *Metrics) WebhookRequest(result string) { m.webhooks.WithLabelValues(result).Inc() }

// LockAcquired counts a time this process took the lock.
func (m *Metrics) LockAcquired() { m.takeovers.Inc() }

// StateError counts a failure of the state backend.
func (m *Metrics) StateError() { m.stateErrors.Inc() }

type metricsHooks struct {
	executor.NopHooks
	m *Metrics
}

func (h metricsHooks) BeforeSend(*planner.Change, int) { h.m.attempts.Inc() }

// AfterSend counts sent and unknown messages as they happen; failures
// are counted once the pass is finished, since a transient failure may
// still be retried.
func (h metricsHooks) AfterSend(_ *planner.Change, _ int, _ a1base.Result, st state.Status) {
	switch st {
	case state.StatusSent:
		h.m.sends.WithLabelValues(string(st)).Inc()
	case state.StatusUnknown:
		h.m.sends.WithLabelValues(string(st)).Inc()
		h.m.unknowns.Inc()
	}
}

func (h metricsHooks) Finished(s executor.Summary) {
	h.m.sends.WithLabelValues(string(state.StatusFailed)).Add(float64(s.Failed))
}

func (h metricsHooks) Retrying(*planner.Change, int, time.Duration, a1base.Result) { h.m.retries.Inc() }

func (h metricsHooks) RateLimited(_ *planner.Change, wait time.Duration, _ string) {
	h.m.rateWaits.Inc()
	h.m.rateWaitSeconds.Add(wait.Seconds())
}

func (h metricsHooks) Expired(*planner.Change) { h.m.expired.Inc() }

func (h metricsHooks) Reconciled(_ *planner.Change, found bool) {
	if found {
		h.m.reconciled.WithLabelValues("found").Inc()
		return
	}
	h.m.reconciled.WithLabelValues("not_found").Inc()
}

func (h metricsHooks) LookedUp(_ *planner.Change, _ state.LookUp, status state.Status) {
	if status == state.StatusNotDelivered {
		h.m.reconciled.WithLabelValues("not_delivered").Inc()
		return
	}
	h.m.reconciled.WithLabelValues("not_found").Inc()
}

func (h metricsHooks) ReconcileFailed(*planner.Change, error) {
	h.m.reconciled.WithLabelValues("failed").Inc()
}
