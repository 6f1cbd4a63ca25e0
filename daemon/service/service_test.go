package service

import (
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/state"
)

func TestReadiness(t *testing.T) {
	h := NewHealth()
	cases := []struct {
		do    func()
		ready bool
		says  string
	}{
		{func() {}, false, "not ready: the configuration has not been read yet"},
		{func() { h.Config(nil) }, false, "not ready: starting"},
		{func() { h.SetRole(RoleStandby) }, true, "standby"},
		{func() { h.State(errors.New("connection refused")) }, false, "not ready: the state is not reachable: connection refused"},
		{func() { h.State(nil); h.SetRole(RoleActive) }, true, "active"},
		{func() { h.Config(errors.New("the configuration is invalid")) }, false, "not ready: the configuration does not load: the configuration is invalid"},
	}
	for i, c := range cases {
		c.do()
		ready, says := h.Ready()
		assert.Equal(t, c.ready, ready, "step %d", i)
		assert.Equal(t, c.says, says, "step %d", i)
	}
}

func TestHandlerServesTheEndpoints(t *testing.T) {
	h, m := NewHealth(), NewMetrics()
	srv, err := Listen("127.0.0.1:0", Handler(h, m, nil))
	require.NoError(t, err)
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + srv.Addr() + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	code, body := get("/healthz")
	assert.Equal(t, 200, code)
	assert.Equal(t, "ok\n", body)
	code, body = get("/readyz")
	assert.Equal(t, 503, code)
	assert.Equal(t, "not ready: the configuration has not been read yet\n", body)
	h.Config(nil)
	h.SetRole(RoleStandby)
	code, body = get("/readyz")
	assert.Equal(t, 200, code)
	assert.Equal(t, "standby\n", body)
	code, body = get("/metrics")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, "herald_replica_active 0\n")
	code, _ = get("/nothing")
	assert.Equal(t, 404, code)
}

func TestMetricsCountWhatTheExecutorReports(t *testing.T) {
	m := NewMetrics()
	var seen []string
	rec := recorder{seen: &seen}
	hooks := Tee(m.Hooks(), rec)
	c := &planner.Change{}
	hooks.Starting(3)
	hooks.BeforeSend(c, 1)
	hooks.AfterSend(c, 1, a1base.Result{Outcome: a1base.Transient}, state.StatusFailed)
	hooks.Retrying(c, 2, time.Second, a1base.Result{Outcome: a1base.Transient})
	hooks.BeforeSend(c, 2)
	hooks.AfterSend(c, 2, a1base.Result{Outcome: a1base.Delivered}, state.StatusSent)
	hooks.BeforeSend(c, 1)
	hooks.AfterSend(c, 1, a1base.Result{Outcome: a1base.Ambiguous}, state.StatusUnknown)
	hooks.RateLimited(c, 1500*time.Millisecond, "account 1/s")
	hooks.Expired(c)
	hooks.MediaRejected(c, errors.New("404"))
	hooks.Reconciled(c, true)
	hooks.Reconciled(c, false)
	hooks.LookedUp(c, state.LookUp{Unsettled: "too early"}, state.StatusUnknown)
	hooks.LookedUp(c, state.LookUp{Covered: "fewer than a page"}, state.StatusNotDelivered)
	hooks.ReconcileFailed(c, errors.New("timeout"))
	hooks.Finished(executor.Summary{Sent: 1, Failed: 1, Unknown: 1, Expired: 1})
	m.SetActive(true)
	m.StateError()
	m.LockAcquired()
	m.ObservePass(2 * time.Second)
	m.SetNextSendAt(time.Unix(1700000000, 0))

	for outcome, v := range map[string]float64{"sent": 1, "failed": 1, "unknown": 1} {
		got, err := gatherOne(m, "herald_sends_total", "outcome", outcome)
		require.NoError(t, err, outcome)
		assert.Equal(t, v, got, "herald_sends_total{outcome=%q}", outcome)
	}
	for result, v := range map[string]float64{"found": 1, "not_found": 2, "not_delivered": 1, "failed": 1} {
		got, err := gatherOne(m, "herald_reconciled_total", "result", result)
		require.NoError(t, err, result)
		assert.Equal(t, v, got, "herald_reconciled_total{result=%q}", result)
	}
	for name, v := range map[string]float64{
		"herald_attempts_total":                 3,
		"herald_retries_total":                  1,
		"herald_unknown_total":                  1,
		"herald_expired_total":                  1,
		"herald_rate_limit_waits_total":         1,
		"herald_rate_limit_wait_seconds_total":  1.5,
		"herald_replica_active":                 1,
		"herald_state_backend_errors_total":     1,
		"herald_lock_acquired_total":            1,
		"herald_next_send_at_timestamp_seconds": 1700000000,
	} {
		got, err := gatherOne(m, name)
		require.NoError(t, err, name)
		assert.Equal(t, v, got, name)
	}
	assert.Equal(t, []string{"Starting", "BeforeSend", "AfterSend", "Retrying", "BeforeSend", "AfterSend", "BeforeSend", "AfterSend",
		"RateLimited", "Expired", "MediaRejected", "Reconciled", "Reconciled", "LookedUp", "LookedUp", "ReconcileFailed", "Finished"}, seen, "every hook reaches every tee'd hook")
	m.SetNextSendAt(time.Time{})
	got, err := gatherOne(m, "herald_next_send_at_timestamp_seconds")
	require.NoError(t, err)
	assert.Equal(t, 0.0, got)
}

// gatherOne is the value of the metric name with the one label given, if
// any.
func gatherOne(m *Metrics, name string, label ...string) (float64, error) {
	fams, err := m.Registry().Gather()
	if err != nil {
		return 0, err
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, mt := range f.GetMetric() {
			if len(label) == 2 {
				lp := mt.GetLabel()
				if len(lp) != 1 || lp[0].GetName() != label[0] || lp[0].GetValue() != label[1] {
					continue
				}
			}
			if mt.GetCounter() != nil {
				return mt.GetCounter().GetValue(), nil
			}
			return mt.GetGauge().GetValue(), nil
		}
	}
	return 0, errors.New("not gathered")
}

type recorder struct{ seen *[]string }

func (r recorder) Starting(int)                    { *r.seen = append(*r.seen, "Starting") }
func (r recorder) BeforeSend(*planner.Change, int) { *r.seen = append(*r.seen, "BeforeSend") }
func (r recorder) AfterSend(*planner.Change, int, a1base.Result, state.Status) {
	*r.seen = append(*r.seen, "AfterSend")
}
func (r recorder) RateLimited(*planner.Change, time.Duration, string) {
	*r.seen = append(*r.seen, "RateLimited")
}
func (r recorder) Retrying(*planner.Change, int, time.Duration, a1base.Result) {
	*r.seen = append(*r.seen, "Retrying")
}
func (r recorder) Expired(*planner.Change)              { *r.seen = append(*r.seen, "Expired") }
func (r recorder) MediaRejected(*planner.Change, error) { *r.seen = append(*r.seen, "MediaRejected") }
func (r recorder) Reconciled(*planner.Change, bool)     { *r.seen = append(*r.seen, "Reconciled") }
func (r recorder) LookedUp(*planner.Change, state.LookUp, state.Status) {
	*r.seen = append(*r.seen, "LookedUp")
}
func (r recorder) ReconcileFailed(*planner.Change, error) {
	*r.seen = append(*r.seen, "ReconcileFailed")
}
func (r recorder) Finished(executor.Summary) { *r.seen = append(*r.seen, "Finished") }
