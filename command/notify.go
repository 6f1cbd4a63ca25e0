package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/notify"
	"github.com/heraldhq/herald/operation"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// DefaultNotifyTimeout bounds how long apply spends delivering its
// notifications after its sends: what is not delivered by then stays in
// the outbox for the next apply or run.
const DefaultNotifyTimeout = 30 * time.Second

// sandboxNotificationsSuffix names the file beside a sandbox state that
// keeps the notifications the sandbox captured, one JSON object a line.
const sandboxNotificationsSuffix = ".notifications.jsonl"

// notifyReport starts a report from what a pass recorded.
func notifyReport(out operation.Outcome) views.NotifyReport {
	return views.NotifyReport{Recorded: out.Notified.Recorded, Dropped: out.Notified.Dropped, RecordErr: out.Notified.Err}
}

// notifier delivers the outbox of one state to one configuration's notify
// blocks: for real, or into the sandbox's capture file.
type notifier struct {
	env    *Env
	blocks []*spec.Notify
	outbox state.Outbox
	// captureFile is set for the sandbox: nothing is sent.
	captureFile string
	view        interface {
		NotificationCaptured(views.CapturedNotification)
	}
	clock func() time.Time
	// groups sends to group destinations; nil leaves them pending.
	groups notify.GroupSender
}

// deliverer is the notify.Deliverer of n.
func (n *notifier) deliverer() *notify.Deliverer {
	d := &notify.Deliverer{Outbox: n.outbox, Blocks: n.blocks, Now: n.clock, UserAgent: "herald/" + n.env.Version, Groups: n.groups}
	if n.captureFile != "" {
		d.Capture = n.capture
	}
	return d
}

// capture shows a notification the sandbox takes instead of sending it,
// and appends it to the capture file.
func (n *notifier) capture(b *spec.Notify, note state.Notification, body []byte) error {
	c := views.CapturedNotification{Notify: b.Name, Destination: string(b.Kind), Event: note.Kind, ID: note.ID, Body: string(body)}
	n.view.NotificationCaptured(c)
	line, err := json.Marshal(c)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(n.captureFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("keeping a captured notification: %w", err)
	}
	_, werr := f.Write(append(line, '\n'))
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	return werr
}

// drain delivers what is due within timeout and completes rep with it.
func (n *notifier) drain(ctx context.Context, timeout time.Duration, rep *views.NotifyReport) {
	rep.Captured = n.captureFile != ""
	if rep.Captured {
		rep.CaptureFile = displayPath(n.env, n.captureFile)
	}
	if rep.Dropped > 0 {
		rep.DroppedTotal, _ = n.outbox.DroppedCounts(ctx)
	}
	if timeout > 0 {
		dctx, cancel := context.WithTimeout(ctx, timeout)
		res, err := n.deliverer().Drain(dctx, sleeper(n.env))
		cancel()
		rep.Delivered, rep.Failed, rep.Errors = res.Delivered, res.Failed, res.Errors
		if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			rep.DeliverErr = fmt.Errorf("delivering notifications: %w", err)
		}
	}
	// What waits is what is pending at all, due or not.
	if pending, err := n.outbox.Pending(context.WithoutCancel(ctx), n.clock().Add(100*365*24*time.Hour), 0); err == nil {
		rep.Pending = len(pending)
	}
}

// sleeper is env's Sleep, or a timer.
func sleeper(env *Env) func(context.Context, time.Duration) error {
	if env.Sleep != nil {
		return env.Sleep
	}
	return func(ctx context.Context, d time.Duration) error {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		}
	}
}

// groupSender sends group notifications through herald's own A1Base
// clients, within the rate limits the sends count against.
type groupSender struct {
	client executor.Sender
	opts   executor.Options
}

func (g groupSender) SendNotification(ctx context.Context, grp *spec.Group, text string) error {
	return executor.SendNotification(ctx, g.client, g.opts, grp, text)
}

// newGroupSender is the group sender of cfg's clients, counting its
// starts in limiters; nil when there is no client at all.
func newGroupSender(cfg *spec.Config, client executor.Sender, accts map[string]executor.Account, limiters *executor.Limiters, clock func() time.Time) notify.GroupSender {
	if client == nil && len(accts) == 0 {
		return nil
	}
	return groupSender{client: client, opts: executor.Options{
		AccountLimit: cfg.Provider.RateLimit, AccountID: cfg.Provider.AccountID,
		Accounts: accts, Limiters: limiters, Now: clock,
	}}
}
