package command

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/state"
)

// freeAddr is a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// TestRunServesHealthAndMetrics scrapes -listen's endpoints while run
// sleeps after its first send, and parses /metrics with the Prometheus
// text parser.
func TestRunServesHealthAndMetrics(t *testing.T) {
	f := newRunFixture(t, "schedule")
	addr := freeAddr(t)
	type scrape struct {
		health, ready int
		readyBody     string
		metrics       string
	}
	var scrapes []scrape
	f.clock.during = func(n int, until time.Time) {
		var s scrape
		s.health, _ = httpGet(t, "http://"+addr+"/healthz")
		s.ready, s.readyBody = httpGet(t, "http://"+addr+"/readyz")
		_, s.metrics = httpGet(t, "http://"+addr+"/metrics")
		scrapes = append(scrapes, s)
	}
	r := f.run(t, runStart.Add(2*time.Hour), "-poll=1h", "-listen="+addr)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.GreaterOrEqual(t, len(scrapes), 2, r.stdout)
	assert.Contains(t, r.stdout, "2026-12-01T08:00:00Z serving /healthz, /readyz, /metrics and /webhook type=listening addr="+addr+"\n")

	// The second sleep follows the 09:00 send.
	s := scrapes[1]
	assert.Equal(t, 200, s.health)
	assert.Equal(t, 200, s.ready)
	assert.Equal(t, "active\n", s.readyBody, "the local state has one writer, always active")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(s.metrics))
	require.NoError(t, err, s.metrics)
	value := func(name string, labels ...string) float64 {
		t.Helper()
		fam := fams[name]
		require.NotNil(t, fam, "no %s in:\n%s", name, s.metrics)
	metrics:
		for _, m := range fam.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue metrics
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
		t.Fatalf("%s%v not found", name, labels)
		return 0
	}
	assert.Equal(t, 1.0, value("herald_sends_total", "outcome", "sent"))
	assert.Equal(t, 0.0, value("herald_sends_total", "outcome", "failed"))
	assert.Equal(t, 0.0, value("herald_sends_total", "outcome", "unknown"))
	assert.Equal(t, 1.0, value("herald_attempts_total"))
	assert.Equal(t, 0.0, value("herald_retries_total"))
	assert.Equal(t, 0.0, value("herald_unknown_total"))
	assert.Equal(t, 0.0, value("herald_expired_total"))
	assert.Equal(t, 0.0, value("herald_rate_limit_waits_total"))
	assert.Equal(t, 1.0, value("herald_pass_duration_seconds"), "one pass held the lock")
	assert.Equal(t, 1.0, value("herald_replica_active"))
	assert.Equal(t, 0.0, value("herald_state_backend_errors_total"))
	// The next message waits until 10:30.
	assert.Equal(t, float64(time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC).Unix()), value("herald_next_send_at_timestamp_seconds"))
}

// TestRunJSONLogsServiceEventsAsJSON: with -json the service-level events
// are JSON objects of the one schema of run's events: type, timestamp,
// level and msg.
func TestRunJSONLogsServiceEventsAsJSON(t *testing.T) {
	f := newRunFixture(t, "schedule")
	addr := freeAddr(t)
	r := f.run(t, runStart.Add(30*time.Minute), "-poll=1h", "-json", "-listen="+addr)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	var types []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var e map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &e), line)
		typ, _ := e["type"].(string)
		require.NotEmpty(t, typ, line)
		require.NotEmpty(t, e["timestamp"], line)
		require.NotEmpty(t, e["level"], line)
		require.NotEmpty(t, e["msg"], line)
		types = append(types, typ)
		if typ == "listening" {
			assert.Equal(t, addr, e["addr"])
			assert.Equal(t, "2026-12-01T08:00:00Z", e["timestamp"], "stamped with run's clock")
		}
	}
	assert.Equal(t, "listening", types[0], r.stdout)
	assert.Contains(t, types, "started")
}

func TestRunListenRefusesABadAddress(t *testing.T) {
	f := newRunFixture(t, "schedule")
	r := f.run(t, runStart.Add(30*time.Minute), "-listen=nonsense")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "-listen=nonsense")
}

// TestRunSandboxReceivesItsOwnWebhook: with -sandbox and -listen, the
// sandbox posts a signed webhook event for every message it delivers to
// the run's own receiver, which keeps it in the sandbox state's inbox.
func TestRunSandboxReceivesItsOwnWebhook(t *testing.T) {
	f := newRunFixture(t, "schedule")
	addr := freeAddr(t)
	path := filepath.Join(f.dir, SandboxStatePath)
	ib, ok := any(state.OpenLocal(path)).(state.Inbox)
	require.True(t, ok, "the local state keeps an inbox")
	read := func() []state.InboxMessage {
		r, err := ib.ReadInbox(context.Background(), "acc_test", "t-eng", time.Time{})
		require.NoError(t, err)
		return r.Messages
	}
	var held []state.InboxMessage
	f.clock.during = func(n int, until time.Time) {
		// The post is on its way while run sleeps after its first send.
		for deadline := time.Now().Add(10 * time.Second); len(held) == 0 && time.Now().Before(deadline); {
			if held = read(); len(held) == 0 {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	r := f.run(t, runStart.Add(90*time.Minute), "-sandbox", "-poll=1h", "-listen="+addr)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Len(t, held, 1, r.stdout)
	m := held[0]
	assert.True(t, m.FromAgent)
	assert.Equal(t, "+14155552671", m.Sender)
	assert.Equal(t, state.ContentDigest("Standup at 09:15"), m.TextDigest)
	assert.Equal(t, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), m.Created, "dated by the run's clock")
	snap, err := state.OpenLocal(path).Snapshot(context.Background())
	require.NoError(t, err)
	rec := snap.Records["message.standup"]
	require.NotNil(t, rec)
	require.NotNil(t, rec.Answer)
	assert.Equal(t, rec.Answer.MessageID, m.ID, "the inbox and the answer name the same message")
	assert.NotContains(t, r.stdout, "webhook_refused")
}
