package views

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRenderNotifyReport(t *testing.T) {
	got := RenderNotifyReport(NotifyReport{
		Recorded: 3, Dropped: 2, DroppedTotal: map[string]int{"ops": 7, "hook": 2},
		Delivered: 1, Pending: 1000,
		Errors: []error{errors.New(`notify "ops": answered 503 Service Unavailable`)},
	}, false)
	assert.Equal(t, `Notifications: 3 recorded, 1 delivered, 1000 waiting for the next apply or run.
Warning: the outbox was full: 2 of the oldest pending notifications were dropped unsent (dropped so far: hook 2, ops 7).
Warning: notify "ops": answered 503 Service Unavailable
`, got)
	got = RenderNotifyReport(NotifyReport{Recorded: 1, Delivered: 1, Captured: true, CaptureFile: "herald.sandbox.state.json.notifications.jsonl"}, false)
	assert.Equal(t, `Notifications: 1 recorded, 1 captured by the sandbox.
Captured notifications are kept in herald.sandbox.state.json.notifications.jsonl.
`, got)
}
