package executor

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// maxInWindow is the most of times that fall in any window of per.
func maxInWindow(times []time.Time, per time.Duration) int {
	ts := slices.Clone(times)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	best := 0
	for i := range ts {
		j := i
		for j < len(ts) && ts[j].Sub(ts[i]) < per {
			j++
		}
		best = max(best, j-i)
	}
	return best
}

// Two accounts on one fake: each provider's groups send through their own
// account, with its own credentials and endpoint, and each account's rate
// limit holds over its own sends only.
func TestAccountsHaveTheirOwnRateWindows(t *testing.T) {
	now := runningClock()
	srv := sandbox.NewServer(
		sandbox.WithAccount("acc_us", "key-us", "secret-us"),
		sandbox.WithAccount("acc_eu", "key-eu", "secret-eu"),
		sandbox.WithClock(now))
	defer srv.Close()
	usWire := &stampingTransport{next: srv.Client().Transport}
	euWire := &stampingTransport{next: srv.Client().Transport}
	us := a1base.New(a1base.Config{BaseURL: srv.URL, AccountID: "acc_us", APIKey: "key-us", APISecret: "secret-us",
		Timeout: 5 * time.Second, HTTPClient: &http.Client{Transport: usWire}})
	eu := a1base.New(a1base.Config{BaseURL: srv.URL + "/v1", AccountID: "acc_eu", APIKey: "key-eu", APISecret: "secret-eu",
		Endpoint: a1base.EndpointUniversal, Timeout: 5 * time.Second, HTTPClient: &http.Client{Transport: euWire}})

	const per = 200 * time.Millisecond
	euProvider := &spec.Provider{Alias: "eu", AccountID: "acc_eu"}
	b := newPlan()
	for _, g := range []string{"berlin", "paris"} {
		b.group(g, nil).Provider = euProvider
	}
	for i := range 6 {
		for _, g := range []string{"nyc", "sf", "berlin", "paris"} {
			b.send(g, fmt.Sprintf("%s%d", g, i), t0.Add(time.Duration(i)*time.Second))
		}
	}
	rec := &memRecorder{}
	sum, err := Run(context.Background(), b.plan, us, rec, Options{
		Parallelism:  4,
		AccountLimit: limitOf(6, per),
		Accounts:     map[string]Account{"eu": {Client: eu, Limit: limitOf(2, per)}},
		Now:          now,
	}, nil)
	require.NoError(t, err)
	assert.Equal(t, 24, sum.Sent)
	assert.Equal(t, 24, sum.Attempts)

	for _, s := range srv.Sends() {
		if s.Request.ThreadID == "thread-berlin" || s.Request.ThreadID == "thread-paris" {
			assert.Equal(t, "acc_eu", s.AccountID, s.Request.Content)
			assert.Equal(t, a1base.EndpointUniversal, s.Endpoint)
		} else {
			assert.Equal(t, "acc_us", s.AccountID, s.Request.Content)
			assert.Equal(t, a1base.EndpointGroup, s.Endpoint)
		}
	}
	for _, addr := range []string{"message.nyc5", "message.paris5"} {
		assert.Equal(t, state.StatusSent, rec.last(addr))
	}

	stamps := func(w *stampingTransport) []time.Time {
		var out []time.Time
		for _, s := range w.seen() {
			out = append(out, s.at)
		}
		return out
	}
	usTimes, euTimes := stamps(usWire), stamps(euWire)
	require.Len(t, usTimes, 12)
	require.Len(t, euTimes, 12)
	assertWindow(t, "account acc_us", usTimes, 6, per)
	assertWindow(t, "account acc_eu", euTimes, 2, per)
	all := append(slices.Clone(usTimes), euTimes...)
	// One account's limit does not slow the other: together they start
	// more in one window than the smaller limit allows, and acc_us is done
	// long before acc_eu, which needs five windows for its twelve.
	busiest := maxInWindow(all, per)
	assert.Greater(t, busiest, 2, "the accounts' sends were paced as one")
	last := func(ts []time.Time) time.Time {
		return slices.MaxFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	}
	first := slices.MinFunc(all, func(a, b time.Time) int { return a.Compare(b) })
	usSpan, euSpan := last(usTimes).Sub(first), last(euTimes).Sub(first)
	assert.GreaterOrEqual(t, euSpan, 5*per, "acc_eu kept 2 per %s", per)
	assert.Less(t, usSpan, euSpan, "acc_us was held to acc_eu's pace")
	t.Logf("acc_us: 12 sends in %s, at most %d per %s; acc_eu: 12 sends in %s, at most %d per %s; together at most %d per %s",
		usSpan.Round(time.Millisecond), maxInWindow(usTimes, per), per, euSpan.Round(time.Millisecond), maxInWindow(euTimes, per), per, busiest, per)
}

// A group of an alias with no client is refused before anything is sent.
func TestAccountWithoutClient(t *testing.T) {
	b := newPlan()
	b.group("berlin", nil).Provider = &spec.Provider{Alias: "eu"}
	b.send("berlin", "m", t0)
	f := newFake(&memRecorder{}, b.plan)
	_, err := Run(context.Background(), b.plan, f, &memRecorder{}, Options{}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a1base.eu")
	assert.Empty(t, f.sent())
}
