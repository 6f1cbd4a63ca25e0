package planner

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

func TestImportBlocks(t *testing.T) {
	due := newInst(t, "message.due", ago_(time.Hour))
	late := newInst(t, "message.late", ago_(48*time.Hour))
	later := newInst(t, "message.later", in(time.Hour))
	done := newInst(t, "message.done", ago_(time.Hour))
	plain := newInst(t, "message.plain", ago_(time.Hour))
	cfg := configOf([]*spec.Instance{due, late, later, done, plain})
	for _, inst := range []*spec.Instance{due, late, later, done} {
		cfg.Imports = append(cfg.Imports, &spec.Import{To: inst.Addr})
	}
	cfg.Imports[0].ID = "msg_7"
	snap := snapOf(rec(done, state.StatusSent, delivered(ago_(time.Hour))))

	p := New(cfg, snap, clock, Options{Replace: []addrs.Message{due.Addr}})
	for _, addr := range []string{"message.due", "message.late", "message.later"} {
		c := changeByAddr(p, addr)
		require.Equal(t, Import, c.Action, addr)
		require.False(t, c.Action.Sends(), addr)
		require.False(t, c.Replace, "-replace does not turn an import into a send")
	}
	require.Equal(t, "msg_7", changeByAddr(p, "message.due").ImportID)
	require.Contains(t, changeByAddr(p, "message.due").Reason, "thread message msg_7")
	require.Contains(t, changeByAddr(p, "message.due").Reason, "-replace has no effect")

	// Once in state, the import block does nothing.
	c := changeByAddr(p, "message.done")
	require.Equal(t, Noop, c.Action)
	require.True(t, strings.HasSuffix(c.Reason, "import block has no effect: already in state"), c.Reason)
	require.Equal(t, Send, changeByAddr(p, "message.plain").Action)

	s := p.Summary()
	require.Equal(t, 3, s[Import])
	require.Equal(t, 1, s[Send])
	a, ok := ParseAction("import")
	require.True(t, ok)
	require.Equal(t, Import, a)
}

func TestPlanFileKeepsImports(t *testing.T) {
	due := newInst(t, "message.due", ago_(time.Hour))
	cfg := configOf([]*spec.Instance{due})
	cfg.Imports = []*spec.Import{{To: due.Addr, ID: "msg_7"}}
	p := New(cfg, snapOf(), clock, Options{})
	path := filepath.Join(t.TempDir(), "import.plan")
	require.NoError(t, WriteFile(path, p, testPlanKey))
	sp, err := ReadFile(path)
	require.NoError(t, err)
	got, err := sp.Resolve(cfg, testPlanKey)
	require.NoError(t, err)
	require.Len(t, got.Changes, 1)
	require.Equal(t, Import, got.Changes[0].Action)
	require.Equal(t, "msg_7", got.Changes[0].ImportID)
}
