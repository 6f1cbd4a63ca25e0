package executor

import (
	"context"
	"errors"
	"fmt"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/internal/clock"
	"github.com/heraldhq/herald/spec"
)

// SendNotification sends text to group g, a notify block's destination,
// through the client of g's provider, as one start within the account's
// and the group's rate limits (opts.Limiters, shared with the sends of
// the process). It is no broadcast: nothing is recorded in state, and no
// summary counts it. Notifications are delivered at least once, so an
// answer that may follow a delivery (unknown) is an error, to be tried
// again, like a transient one; the error never quotes the text.
func SendNotification(ctx context.Context, client Sender, opts Options, g *spec.Group, text string) error {
	alias := g.ProviderAlias()
	if alias != "" {
		a, ok := opts.Accounts[alias]
		if !ok || a.Client == nil {
			return fmt.Errorf("group %s sends through a1base.%s, which has no credentials here", g.Name, alias)
		}
		client = a.Client
	}
	if client == nil {
		return fmt.Errorf("group %s: no A1Base credentials to send with", g.Name)
	}
	now := opts.Now
	if now == nil {
		now = clock.Now
	}
	ls, err := buildLimits(opts, []*queue{{group: g.Name, account: alias, limit: g.RateLimit}}, now)
	if err != nil {
		return err
	}
	if err := ls.takeTokens(ctx, g.Name, nil); err != nil {
		return err
	}
	t, err := ls.admitStart(ctx, g.Name, "")
	if err != nil {
		return err
	}
	res := client.SendGroup(t.watch(ctx), a1base.SendRequest{Content: text, From: g.From, ThreadID: g.ThreadID, Service: g.Service})
	t.written()
	if res.Outcome == a1base.Delivered {
		return nil
	}
	msg := "no answer"
	if res.StatusCode != 0 {
		msg = fmt.Sprintf("answered %d", res.StatusCode)
	}
	if res.Err != nil && !errors.Is(res.Err, context.Canceled) {
		msg += ": " + res.Err.Error()
	}
	return fmt.Errorf("sending to group %s (thread %s): %s", g.Name, g.ThreadID, msg)
}
