package reliability

import (
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/internal/clock"
	"github.com/heraldhq/herald/state"
)

// busyWebhook is the busy-thread scenario run by herald run, with or
// without the webhook receiver.
type busyWebhook struct {
	scenario string
	webhook  bool
	seed     uint64
}

// Members' messages between the attempts and the look-ups: more than the
// page of five a look-up reads.
const chatterPerThread = 6

// run starts herald run (with -listen and the fake posting its webhook
// events to it, or without), lets it send one message to each of eight
// groups with every answer lost (half delivered, half not), then has
// members post six messages in each thread. With the webhook, every
// unknown is settled from the inbox once the settle time has passed:
// the delivered ones found, the others proven absent and resent, each
// delivered once. Without it, each stays unknown and says why.
//
// It runs on the real clock: the receiver's listening spans are what
// prove an absence, and they are measured by its clock. The sends fall
// due a little more than ClockSkew after run starts, so that the receiver
// was listening when each attempt's window opened.
func (sc busyWebhook) run(t *testing.T) {
	t.Parallel()
	const groups = 8
	start := clock.Now().Add(2*time.Minute + 15*time.Second).Truncate(time.Second)
	// All fall due at once, so that one pass sends them all and the next
	// look-up of each is the one after its settle time, after the
	// members' messages.
	cfg := Messages{N: groups, Groups: groups, Start: start, OnUnknown: "resend", UnknownSettle: "3m"}
	// The lag keeps the delivered ones out of the look-up right after
	// each lost answer.
	w := newWorkspace(t, FakeOptions{Seed: sc.seed, RecentLag: 30 * time.Second})
	if err := w.WriteConfig(cfg.HCL()); err != nil {
		t.Fatal(err)
	}
	f := &Figures{Scenario: sc.scenario}
	var replies []sandbox.Reply
	for g := range groups {
		replies = append(replies, sandbox.Reply{Lost: true, Undelivered: g%2 == 1})
	}
	w.Fake.Script(replies...)
	args := []string{"run", "-no-color", "-poll=5s"}
	if sc.webhook {
		addr := freeAddr(t)
		args = append(args, "-listen="+addr)
		w.Fake.SetWebhook("http://" + addr + "/webhook")
	}
	p, err := w.Herald.Start(args...)
	if err != nil {
		t.Fatal(err)
	}
	f.Runs++
	stopped := false
	stop := func() Result {
		if !stopped {
			stopped = true
			_ = p.Signal(syscall.SIGTERM)
		}
		return p.Wait(time.Minute)
	}
	defer stop()

	// Wait for the eight unknowns, then chatter in every thread.
	if !waitState(w, start.Add(time.Minute).Sub(clock.Now()), func(c map[state.Status]int) bool { return c[state.StatusUnknown] == groups }) {
		f.Fail("herald run did not leave %d unknown messages:\n%s", groups, p.Stdout())
		report(t, f)
		return
	}
	for g := range groups {
		w.Fake.AddChatter(ThreadID(g), "+19995550123", chatterPerThread, clock.Now().Add(time.Second), time.Second)
	}
	// The look-ups after the settle time settle them, or say why not.
	settled := waitState(w, 3*time.Minute+time.Minute, func(c map[state.Status]int) bool {
		if sc.webhook {
			return c[state.StatusSent] == groups
		}
		return strings.Count(p.Stdout(), "busier than one page") >= groups
	})
	res := stop()
	if res.Code != 0 {
		f.Fail("herald run stopped with exit %d:\n%s", res.Code, res)
	}
	noPanic(f, res)
	w.Fake.WaitWebhooks()
	snap := checkState(t, w, f)
	counts := statusCounts(snap)
	if sc.webhook {
		if !settled || counts[state.StatusSent] != groups {
			f.Fail("with the webhook, states %v, want all %d sent:\n%s", counts, groups, res.Stdout)
		}
		if f.Deliveries != groups {
			f.Fail("%d deliveries, want %d: each message once", f.Deliveries, groups)
		}
		sentFromInbox := 0
		for _, r := range snap.Records {
			for _, a := range r.Attempts {
				if a.LookUp != nil && strings.Contains(a.LookUp.Covered, "webhook's inbox") {
					sentFromInbox++
				}
			}
		}
		if sentFromInbox != groups {
			f.Fail("%d look-ups settled from the webhook's inbox, want %d", sentFromInbox, groups)
		}
	} else {
		if !settled || counts[state.StatusUnknown] != groups {
			f.Fail("without the webhook, states %v, want all %d unknown:\n%s", counts, groups, res.Stdout)
		}
		if f.Deliveries != groups/2 {
			f.Fail("%d deliveries, want %d: nothing resent", f.Deliveries, groups/2)
		}
	}
	explainUnknowns(t, f, snap)
	report(t, f)
}

// TestBusyThreadWithWebhook: six member messages between each attempt and
// its look-up. With herald run's webhook receiver, no unknown is left and
// none is sent twice; without it, every one is left, each explained.
func TestBusyThreadWithWebhook(t *testing.T) {
	t.Run("webhook_on", busyWebhook{scenario: "17 busy thread, webhook on (resend)", webhook: true, seed: 17}.run)
	t.Run("webhook_off", busyWebhook{scenario: "17 busy thread, webhook off (resend)", seed: 18}.run)
}

// waitState polls the workspace's state until ok holds for its status
// counts or within is over; it says whether ok held.
func waitState(w *Workspace, within time.Duration, ok func(map[state.Status]int) bool) bool {
	deadline := time.Now().Add(within)
	for {
		if snap, err := ReadState(w.StatePath()); err == nil && ok(statusCounts(snap)) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr())
}
