package reliability

import (
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/clock"
)

// Network jitter: a delaying proxy between herald and the fake.
const (
	jitterConn = 20 * time.Millisecond // at most, on each connection's first request
	jitterReq  = 20 * time.Millisecond // at most, on every request
)

// TestNetworkJitter sends through a proxy on loopback that delays what
// herald writes by a random time, per connection and per request, before
// the fake reads it; the fake closes every connection after its answer, so
// that every request opens a new one. Two applies run back to back, the
// second sending the rest of the messages. The busiest window of the
// period at the fake, across both, must hold no more than the limit: the
// margin of the rate limits absorbs the path's jitter, which herald cannot
// see, and the limits carry over from one apply to the next.
//
// It measures, for each send, the time from the proxy accepting its
// connection to the fake's arrival, less the delay the proxy added: the
// machine's part of the jitter. The fake's clock is the real one, as herald's is: no -at.
func TestNetworkJitter(t *testing.T) {
	n := size(90, 72)
	// A period of 20 s has a margin of 400 ms: the 40 ms the proxy adds
	// at most, and room for a loaded machine's own delays, which reach a
	// quarter of a second at a load average of 10 on 2 CPUs (see
	// docs/commands/apply.md, "Rate limits and parallelism").
	const accountN, groupN, per = 60, 10, 20 * time.Second
	w := newWorkspace(t, FakeOptions{Seed: 10, Clock: clock.Now, CloseConnections: true})
	u, err := url.Parse(w.Fake.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := NewDelayProxy(u.Host, ProxyOptions{ConnMax: jitterConn, ReqMax: jitterReq, Seed: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	w.Herald.Env = append(w.Herald.Env, "A1BASE_BASE_URL=http://"+proxy.Addr()+"/v1")

	f := &Figures{Scenario: fmt.Sprintf("15 network jitter (0-%d ms per connection, 0-%d ms per request)", jitterConn.Milliseconds(), jitterReq.Milliseconds())}
	start := clock.Now().Add(-time.Hour).Truncate(time.Second)
	for _, upTo := range []int{n / 2, n} {
		cfg := Messages{N: upTo, Groups: 6, Start: start, Every: time.Second, ExpiresAfter: "720h",
			AccountLimit: fmt.Sprintf("%d/%s", accountN, per), GroupLimit: fmt.Sprintf("%d/%s", groupN, per)}
		if err := w.WriteConfig(cfg.HCL()); err != nil {
			t.Fatal(err)
		}
		mustRun(w, f, 0, "apply", "-auto-approve", "-no-color", "-parallelism=6")
	}
	CheckWindows(f, w.Fake.Arrivals(), accountN, per, groupN, per)
	checkState(t, w, f)
	if f.Deliveries != n {
		f.Fail("%d of %d messages delivered", f.Deliveries, n)
	}

	// The path's delay: from the proxy's accepting the connection to the
	// fake's arrival.
	read := map[string]ProxyRead{}
	for _, r := range proxy.Reads() {
		if r.Key != "" {
			if _, ok := read[r.Key]; !ok {
				read[r.Key] = r
			}
		}
	}
	var total, machine []time.Duration
	for _, s := range w.Fake.Sends() {
		r, ok := read[keyIn([]byte(s.Request.Content))]
		if !ok {
			continue
		}
		// Every request comes on a new connection: herald wrote it as soon
		// as the connection was made, before the proxy accepted it.
		d := s.Arrived.Sub(r.Accepted)
		total = append(total, d)
		machine = append(machine, d-r.Delay)
	}
	if len(total) > 0 {
		slices.Sort(total)
		slices.Sort(machine)
		q := func(ds []time.Duration, p float64) time.Duration { return ds[int(p*float64(len(ds)-1))] }
		t.Logf("path delay (proxy accept to arrival) over %d sends: %s to %s, spread %s; the machine's part: median %s, p99 %s, max %s",
			len(total), total[0].Round(time.Microsecond), total[len(total)-1].Round(time.Microsecond),
			(total[len(total)-1] - total[0]).Round(time.Microsecond),
			q(machine, 0.5).Round(time.Microsecond), q(machine, 0.99).Round(time.Microsecond), machine[len(machine)-1].Round(time.Microsecond))
	}
	all, _ := SendArrivals(w.Fake.Arrivals())
	slices.SortFunc(all, func(a, b time.Time) int { return a.Compare(b) })
	closest := time.Duration(-1)
	for i := 0; i+accountN < len(all); i++ {
		if d := all[i+accountN].Sub(all[i]); closest < 0 || d < closest {
			closest = d
		}
	}
	t.Logf("busiest %s at the fake: account %d of %d, group %d of %d; the closest %d arrivals span %s",
		per, f.AccountWindow, accountN, f.GroupWindow, groupN, accountN+1, closest.Round(time.Microsecond))
	report(t, f)
}
