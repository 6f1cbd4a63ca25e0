package command

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/notify"
	"github.com/heraldhq/herald/operation"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// runNotifyEvery is how often run's deliverer looks for notifications to
// deliver, besides right after each pass that recorded some.
const runNotifyEvery = 10 * time.Second

// runNotifier is herald run's deliverer: a goroutine of its own, beside
// the passes, so that a slow or dead receiver never delays a send. It
// delivers to the notify blocks of the configuration the latest pass
// read, from an outbox it opens itself (the passes' backend may be
// closed between them).
type runNotifier struct {
	env  *Env
	opts *runOptions
	view views.Run
	now  func() time.Time

	mu       sync.Mutex
	cfg      *spec.Config
	outbox   state.Outbox
	closer   func()
	takeover *notify.Event
	wake     chan struct{}
	// groups sends group notifications with the latest pass's clients and
	// the run's limiters.
	groups notify.GroupSender
}

func newRunNotifier(env *Env, opts *runOptions, view views.Run, now func() time.Time) *runNotifier {
	return &runNotifier{env: env, opts: opts, view: view, now: now, wake: make(chan struct{}, 1)}
}

// tookOver notes that this replica took the lock over: the event is
// recorded after the next pass, which knows the configuration.
func (n *runNotifier) tookOver() {
	host, _ := os.Hostname()
	e := notify.TakeoverEvent(fmt.Sprintf("%s/%d", host, os.Getpid()), n.now())
	n.mu.Lock()
	n.takeover = &e
	n.mu.Unlock()
}

// passed is told of every pass: it keeps the configuration, records a
// pending takeover, reports what the pass recorded and wakes the loop.
func (n *runNotifier) passed(ctx context.Context, cfg *spec.Config, out operation.Outcome, groups notify.GroupSender) {
	rep := notifyReport(out)
	n.mu.Lock()
	n.cfg = cfg
	n.groups = groups
	takeover := n.takeover
	n.mu.Unlock()
	if len(cfg.Notify) == 0 {
		return
	}
	if takeover != nil {
		if ob, err := n.open(ctx); err != nil {
			rep.RecordErr = err
		} else {
			ns := notify.Notifications(cfg.Notify, []notify.Event{*takeover}, n.now())
			added, dropped, err := ob.Enqueue(ctx, ns, state.OutboxLimit)
			rep.Recorded, rep.Dropped = rep.Recorded+added, rep.Dropped+dropped
			if err != nil {
				rep.RecordErr = fmt.Errorf("recording the takeover: %w", err)
			} else {
				n.mu.Lock()
				n.takeover = nil
				n.mu.Unlock()
			}
		}
	}
	n.view.Notifications(rep)
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// open opens the outbox once.
func (n *runNotifier) open(ctx context.Context) (state.Outbox, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.outbox != nil {
		return n.outbox, nil
	}
	if n.opts.Sandbox {
		n.outbox = state.OpenLocal(sandboxStatePath(n.env, n.opts.StatePath))
		n.closer = func() {}
		return n.outbox, nil
	}
	b, err := openBackend(ctx, n.env, n.cfg.Backend, n.opts.StatePath)
	if err != nil {
		return nil, fmt.Errorf("opening the state's outbox: %w", err)
	}
	ob := state.OutboxOf(b)
	if ob == nil {
		b.Close()
		return nil, fmt.Errorf("the state %s keeps no outbox", b.Describe())
	}
	n.outbox, n.closer = ob, func() { b.Close() }
	return ob, nil
}

// round delivers what is due once.
func (n *runNotifier) round(ctx context.Context) {
	n.mu.Lock()
	cfg, groups := n.cfg, n.groups
	n.mu.Unlock()
	if cfg == nil || len(cfg.Notify) == 0 {
		return
	}
	ob, err := n.open(ctx)
	if err != nil {
		n.view.Notifications(views.NotifyReport{DeliverErr: err})
		return
	}
	nt := &notifier{env: n.env, blocks: cfg.Notify, outbox: ob, view: n.view, clock: n.now, groups: groups}
	if n.opts.Sandbox {
		nt.captureFile = sandboxStatePath(n.env, n.opts.StatePath) + sandboxNotificationsSuffix
	}
	res, err := nt.deliverer().DeliverDue(ctx)
	if ctx.Err() != nil {
		return
	}
	rep := views.NotifyReport{Delivered: res.Delivered, Failed: res.Failed, Errors: res.Errors, Captured: nt.captureFile != ""}
	if err != nil {
		rep.DeliverErr = fmt.Errorf("delivering notifications: %w", err)
	}
	n.view.Notifications(rep)
}

// loop delivers after every pass that wakes it and every runNotifyEvery,
// until ctx ends.
func (n *runNotifier) loop(ctx context.Context) {
	t := time.NewTicker(runNotifyEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.wake:
		case <-t.C:
		}
		n.round(ctx)
	}
}

// close closes the outbox's backend.
func (n *runNotifier) close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closer != nil {
		n.closer()
	}
}

// runEvents is run's view, with a takeover also told to the notifier.
type runEvents struct {
	views.Run
	n *runNotifier
}

func (r runEvents) TookOver() {
	r.Run.TookOver()
	r.n.tookOver()
}

// drain delivers, within DefaultNotifyTimeout, what run -once recorded.
func (n *runNotifier) drain(ctx context.Context) {
	n.mu.Lock()
	cfg, groups := n.cfg, n.groups
	n.mu.Unlock()
	if cfg == nil || len(cfg.Notify) == 0 || ctx.Err() != nil {
		return
	}
	ob, err := n.open(ctx)
	if err != nil {
		n.view.Notifications(views.NotifyReport{DeliverErr: err})
		return
	}
	nt := &notifier{env: n.env, blocks: cfg.Notify, outbox: ob, view: n.view, clock: n.now, groups: groups}
	if n.opts.Sandbox {
		nt.captureFile = sandboxStatePath(n.env, n.opts.StatePath) + sandboxNotificationsSuffix
	}
	var rep views.NotifyReport
	nt.drain(ctx, DefaultNotifyTimeout, &rep)
	n.view.Notifications(rep)
}
