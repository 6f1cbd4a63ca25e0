package views

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/daemon"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/state"
)

var runClock = time.Date(2026, 12, 1, 9, 0, 0, 0, time.FixedZone("CET", 3600))

// runScript drives a run view through one of everything a run logs.
func runScript(t *testing.T, r Run) {
	t.Helper()
	x := &planner.Change{Addr: mustAddr(t, "message.x"), Action: planner.Send}
	y := &planner.Change{Addr: mustAddr(t, `message.y["a b"]`), Action: planner.Send}
	u := &planner.Change{Addr: mustAddr(t, "message.u"), Action: planner.Unknown}
	wake := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)

	r.Started(daemon.Start{Poll: time.Minute, State: "herald.state.json"})
	r.ConfigLoaded(3, false)
	require.NoError(t, r.Plan(&planner.Plan{}))
	r.NothingToDo()
	r.Reconciled(u, false)
	r.Reconciled(u, false) // a later pass: said once
	r.Starting(2)
	r.BeforeSend(x, 1)
	r.AfterSend(x, 1, a1base.Result{Outcome: a1base.Delivered, StatusCode: 200}, state.StatusSent)
	r.Retrying(y, 2, 2*time.Second, a1base.Result{Outcome: a1base.Transient, StatusCode: 503})
	r.AfterSend(y, 2, a1base.Result{Outcome: a1base.Transient, StatusCode: 503}, state.StatusFailed)
	r.Finished(executor.Summary{Sent: 1, Failed: 1, Failures: []executor.Failure{{Addr: y.Addr, Reason: "gave up after 2 attempts: 503"}}})
	r.Result(ApplyResult{Summary: executor.Summary{Sent: 1, Failed: 1, Attempts: 3}})
	r.Sleeping(daemon.Sleep{WakeAt: wake, NextAt: wake, Next: []string{"message.a", "message.b"}})
	r.LockBusy(errors.New("state is locked: /s.lock is held by pid 7 on host h"), wake)
	r.ConfigInvalid(false, wake)
	r.ConfigInvalid(true, wake)
	r.PassFailed(errors.New("reading state: disk on fire"), wake)
	r.ConfigLoaded(2, true)
	r.Sleeping(daemon.Sleep{WakeAt: wake})
	r.Interrupting()
	r.Stopped(daemon.Totals{Sent: 1, Failed: 1})
}

func TestRunLines(t *testing.T) {
	var out bytes.Buffer
	r := NewRun(RunLinesFormat, &View{Stdout: &out, Stderr: &out}, func() time.Time { return runClock })
	runScript(t, r)
	assert.Equal(t, []string{
		"2026-12-01T08:00:00Z herald run started: reading the configuration at least every 1m0s, state herald.state.json",
		"2026-12-01T08:00:00Z config loaded: 3 messages waiting",
		"2026-12-01T08:00:00Z message.u not found in its thread's recent messages: still unknown (not sent again unless herald apply -replace=message.u)",
		"2026-12-01T08:00:00Z message.x sent (attempt 1)",
		`2026-12-01T08:00:00Z message.y["a b"] retrying in 2s (503 service unavailable)`,
		`2026-12-01T08:00:00Z message.y["a b"] failed: gave up after 2 attempts: 503`,
		"2026-12-01T08:00:00Z pass complete: 1 sent, 1 failed, 0 expired, 0 unknown",
		"2026-12-01T08:00:00Z sleeping until 2026-12-01T09:30:00Z (message.a and 1 more)",
		"2026-12-01T08:00:00Z state is locked: /s.lock is held by pid 7 on host h; trying again at 2026-12-01T09:30:00Z",
		"2026-12-01T08:00:00Z configuration invalid (errors above): nothing is sent until it is fixed; reading it again at 2026-12-01T09:30:00Z",
		"2026-12-01T08:00:00Z configuration still invalid (same errors): nothing is sent until it is fixed; reading it again at 2026-12-01T09:30:00Z",
		"2026-12-01T08:00:00Z error: reading state: disk on fire; trying again at 2026-12-01T09:30:00Z",
		"2026-12-01T08:00:00Z config reloaded: 2 messages waiting",
		"2026-12-01T08:00:00Z nothing waiting: reading the configuration again every 1m0s",
		"2026-12-01T08:00:00Z interrupt received: stopping; sends in flight finish and are recorded first (interrupt again to cancel them: they then stay unknown)",
		"2026-12-01T08:00:00Z stopped: 1 sent, 1 failed, 0 expired, 0 unknown since the start",
	}, strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"))
}

func TestRunLinesUnknownAndInterruptedPass(t *testing.T) {
	var out bytes.Buffer
	r := NewRun(RunLinesFormat, &View{Stdout: &out, Stderr: &out}, func() time.Time { return runClock })
	c := &planner.Change{Addr: mustAddr(t, `message.r["eng"]`), Action: planner.Send}
	r.AfterSend(c, 1, a1base.Result{Outcome: a1base.Ambiguous, Err: errors.New("no answer")}, state.StatusUnknown)
	r.Result(ApplyResult{Summary: executor.Summary{Unknown: 1, NotStarted: 4}, Interrupted: true})
	r.Result(ApplyResult{}) // a pass that did nothing says nothing
	r.SandboxReceived(a1base.SendRequest{ThreadID: "t", Service: "whatsapp", From: "+1", Content: "the password is hunter2"}, true)
	got := out.String()
	assert.Contains(t, got, `message.r["eng"] unknown: no answer (it may have been delivered; not sent again unless herald apply -replace='message.r["eng"]')`+"\n")
	assert.Contains(t, got, "pass stopped: 0 sent, 0 failed, 0 expired, 1 unknown, 4 not started; the next run or apply carries on\n")
	assert.Equal(t, 1, strings.Count(got, "pass "))
	assert.NotContains(t, got, "hunter2")
	assert.Contains(t, got, Sensitive)
}

func TestRunJSON(t *testing.T) {
	var out bytes.Buffer
	r := NewRun(RunJSONFormat, &View{Stdout: &out, Stderr: &out}, func() time.Time { return runClock })
	runScript(t, r)
	var events []map[string]any
	for i, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		var e map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &e), "line %d: %s", i+1, line)
		assert.Equal(t, "2026-12-01T08:00:00Z", e["timestamp"], "line %d", i+1)
		assert.Contains(t, []any{"INFO", "WARN", "ERROR"}, e["level"], "line %d", i+1)
		assert.NotEmpty(t, e["msg"], "line %d", i+1)
		events = append(events, e)
	}
	var types []string
	for _, e := range events {
		types = append(types, e["type"].(string))
	}
	assert.Equal(t, []string{
		"started", "config_loaded", "reconciled", "send_start", "send_result", "retry", "send_result",
		"pass", "sleep", "lock_busy", "config_invalid", "config_invalid", "error", "config_reloaded",
		"sleep", "interrupted", "stopped",
	}, types)
	at := func(typ string, n int) map[string]any {
		for _, e := range events {
			if e["type"] == typ {
				if n == 0 {
					return e
				}
				n--
			}
		}
		t.Fatalf("no %s event #%d", typ, n)
		return nil
	}
	assert.EqualValues(t, 60, at("started", 0)["poll_seconds"])
	assert.Equal(t, "herald.state.json", at("started", 0)["state_path"])
	assert.EqualValues(t, 3, at("config_loaded", 0)["waiting"])
	assert.Equal(t, "message.x", at("send_result", 0)["address"])
	assert.Equal(t, "sent", at("send_result", 0)["status"])
	assert.Equal(t, []any{"message.a", "message.b"}, at("sleep", 0)["next"])
	assert.Equal(t, "2026-12-01T09:30:00Z", at("sleep", 0)["next_send_at"])
	assert.Equal(t, "2026-12-01T09:30:00Z", at("sleep", 0)["wake_at"])
	assert.NotContains(t, at("sleep", 1), "next_send_at", "nothing waiting")
	assert.Equal(t, "2026-12-01T09:30:00Z", at("lock_busy", 0)["retry_at"])
	assert.Contains(t, at("lock_busy", 0)["error"], "state is locked")
	assert.Nil(t, at("config_invalid", 0)["unchanged"])
	assert.Equal(t, true, at("config_invalid", 1)["unchanged"])
	assert.EqualValues(t, 3, at("pass", 0)["summary"].(map[string]any)["attempts"])
	assert.EqualValues(t, 1, at("stopped", 0)["summary"].(map[string]any)["failed"])
}

func TestNameMessages(t *testing.T) {
	assert.Equal(t, "nothing", nameMessages(nil))
	assert.Equal(t, "message.a", nameMessages([]string{"message.a"}))
	assert.Equal(t, "message.a and 2 more", nameMessages([]string{"message.a", "message.b", "message.c"}))
	assert.Equal(t, `message.a\n`, nameMessages([]string{"message.a\n"}), "control characters are escaped")
}

// serviceScript drives a run view through the daemon's service events.
func serviceScript(r Run) {
	since := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
	r.Listening("127.0.0.1:9100")
	r.StandingBy("herald_state lock", &state.LockInfo{PID: 42, Host: "h1", Since: since})
	r.StateUnreachable(errors.New("dial tcp: connection refused"), time.Second)
	r.TookOver()
	r.LockLost(errors.New("lock connection lost"))
	r.Active()
	r.ReleaseFailed(errors.New("closing"))
}

func TestRunServiceLines(t *testing.T) {
	var out bytes.Buffer
	serviceScript(NewRun(RunLinesFormat, &View{Stdout: &out, Stderr: &out}, func() time.Time { return runClock }))
	assert.Equal(t, []string{
		"2026-12-01T08:00:00Z serving /healthz, /readyz, /metrics and /webhook type=listening addr=127.0.0.1:9100",
		`2026-12-01T08:00:00Z standing by: another replica holds the state lock type=standby lock="herald_state lock" holder_pid=42 holder_host=h1 holder_since=2026-12-01T07:00:00Z`,
		`2026-12-01T08:00:00Z the state cannot be reached; trying again type=state_unreachable error="dial tcp: connection refused" retry_in=1s`,
		"2026-12-01T08:00:00Z took over the state lock: this replica is active type=takeover",
		`2026-12-01T08:00:00Z lost the state lock: stopped sending; standing by type=lock_lost error="lock connection lost"`,
		"2026-12-01T08:00:00Z holding the state lock: this replica is active type=active",
		"2026-12-01T08:00:00Z releasing the state type=error error=closing",
	}, strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"))
}

func TestRunServiceJSON(t *testing.T) {
	var out bytes.Buffer
	serviceScript(NewRun(RunJSONFormat, &View{Stdout: &out, Stderr: &out}, func() time.Time { return runClock }))
	var got []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		var e map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &e), line)
		assert.Equal(t, "2026-12-01T08:00:00Z", e["timestamp"], line)
		got = append(got, e)
	}
	require.Len(t, got, 7)
	assert.Equal(t, map[string]any{"type": "listening", "timestamp": "2026-12-01T08:00:00Z", "level": "INFO",
		"msg": "serving /healthz, /readyz, /metrics and /webhook", "addr": "127.0.0.1:9100"}, got[0])
	assert.Equal(t, map[string]any{"type": "standby", "timestamp": "2026-12-01T08:00:00Z", "level": "INFO",
		"msg": "standing by: another replica holds the state lock", "lock": "herald_state lock",
		"holder_pid": 42.0, "holder_host": "h1", "holder_since": "2026-12-01T07:00:00Z"}, got[1])
	assert.Equal(t, map[string]any{"type": "state_unreachable", "timestamp": "2026-12-01T08:00:00Z", "level": "ERROR",
		"msg": "the state cannot be reached; trying again", "error": "dial tcp: connection refused", "retry_in": "1s"}, got[2])
	assert.Equal(t, "takeover", got[3]["type"])
	assert.Equal(t, map[string]any{"type": "lock_lost", "timestamp": "2026-12-01T08:00:00Z", "level": "WARN",
		"msg": "lost the state lock: stopped sending; standing by", "error": "lock connection lost"}, got[4])
	assert.Equal(t, "active", got[5]["type"])
	assert.Equal(t, "ERROR", got[6]["level"])
}

func TestRunDiagnosticsStayOutOfTheJSONLog(t *testing.T) {
	var out, errs bytes.Buffer
	NewRun(RunJSONFormat, &View{Stdout: &out, Stderr: &errs}, nil).Diagnostics([]byte("Warning: w\n"), []byte("Error: e\n"))
	assert.Empty(t, out.String())
	assert.Equal(t, "Warning: w\nError: e\n", errs.String())
	out.Reset()
	errs.Reset()
	NewRun(RunLinesFormat, &View{Stdout: &out, Stderr: &errs}, nil).Diagnostics([]byte("Warning: w\n"), []byte("Error: e\n"))
	assert.Equal(t, "Warning: w\n", out.String())
	assert.Equal(t, "Error: e\n", errs.String())
}
