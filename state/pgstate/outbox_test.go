package pgstate

import (
	"testing"

	"github.com/heraldhq/herald/state"
	"github.com/heraldhq/herald/state/outboxtest"
)

func TestOutbox(t *testing.T) {
	outboxtest.Run(t, func(t *testing.T) func() state.Outbox {
		conn := newDB(t)
		return func() state.Outbox { return open(t, conn) }
	})
}
