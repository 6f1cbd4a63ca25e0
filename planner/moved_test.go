package planner

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// summary renders a plan as "action address [<- moved_from]" lines.
func summary(p *Plan) []string {
	var out []string
	for _, c := range p.Changes {
		s := c.Action.String() + " " + c.Addr.String()
		if c.MovedFrom != nil {
			s += " <- " + c.MovedFrom.String()
		}
		out = append(out, s)
	}
	return out
}

func TestMoved(t *testing.T) {
	due := ago_(time.Hour)
	// sentAs is a sent record for the instance newAddr would be, kept
	// under oldAddr.
	sentAs := func(oldAddr, newAddr string) *state.Record {
		return rec(newInst(t, newAddr, due), state.StatusSent, under(oldAddr))
	}
	tests := []struct {
		name      string
		instances []string
		moved     [][2]string
		records   []*state.Record
		want      []string
		reasons   map[string]string
	}{
		{
			name:      "instance moved",
			instances: []string{"message.b"},
			moved:     [][2]string{{"message.a", "message.b"}},
			records:   []*state.Record{sentAs("message.a", "message.b")},
			want:      []string{"noop message.b <- message.a"},
		},
		{
			name:      "whole block moved keeps keys",
			instances: []string{`message.digest["eng"]`, `message.digest["sales"]`, `message.digest["new"]`},
			moved:     [][2]string{{"message.report", "message.digest"}},
			records: []*state.Record{
				sentAs(`message.report["eng"]`, `message.digest["eng"]`),
				sentAs(`message.report["sales"]`, `message.digest["sales"]`),
			},
			want: []string{
				`noop message.digest["eng"] <- message.report["eng"]`,
				`send message.digest["new"]`,
				`noop message.digest["sales"] <- message.report["sales"]`,
			},
		},
		{
			name:      "block without for_each moved",
			instances: []string{"message.b"},
			moved:     [][2]string{{"message.a", "message.b"}},
			records:   []*state.Record{sentAs("message.a", "message.b")},
			want:      []string{"noop message.b <- message.a"},
		},
		{
			name:      "instance to another key",
			instances: []string{`message.r["new"]`},
			moved:     [][2]string{{`message.r["old"]`, `message.r["new"]`}},
			records:   []*state.Record{sentAs(`message.r["old"]`, `message.r["new"]`)},
			want:      []string{`noop message.r["new"] <- message.r["old"]`},
		},
		{
			name:      "single message into a for_each",
			instances: []string{`message.a["only"]`},
			moved:     [][2]string{{"message.a", `message.a["only"]`}},
			records:   []*state.Record{sentAs("message.a", `message.a["only"]`)},
			want:      []string{`noop message.a["only"] <- message.a`},
		},
		{
			name:      "chain of moves",
			instances: []string{"message.c"},
			moved:     [][2]string{{"message.b", "message.c"}, {"message.a", "message.b"}},
			records:   []*state.Record{sentAs("message.a", "message.c")},
			want:      []string{"noop message.c <- message.a"},
		},
		{
			name:      "chain of block moves",
			instances: []string{`message.c["k"]`},
			moved:     [][2]string{{"message.a", "message.b"}, {"message.b", "message.c"}},
			records:   []*state.Record{sentAs(`message.a["k"]`, `message.c["k"]`)},
			want:      []string{`noop message.c["k"] <- message.a["k"]`},
		},
		{
			name:      "the nearer record in a chain wins",
			instances: []string{"message.c"},
			moved:     [][2]string{{"message.a", "message.b"}, {"message.b", "message.c"}},
			records:   []*state.Record{sentAs("message.a", "message.c"), sentAs("message.b", "message.c")},
			want:      []string{"noop message.c <- message.b", "orphan message.a"},
			reasons: map[string]string{
				"message.a": "in state but no longer in configuration; moved to message.c, which took the record of message.b",
			},
		},
		{
			name:      "destination with a record of its own",
			instances: []string{"message.b"},
			moved:     [][2]string{{"message.a", "message.b"}},
			records:   []*state.Record{sentAs("message.a", "message.b"), rec(newInst(t, "message.b", due, text("other")), state.StatusSent)},
			want:      []string{"drift message.b", "orphan message.a"},
			reasons: map[string]string{
				"message.a": "in state but no longer in configuration; moved to message.b, which has a record of its own",
			},
		},
		{
			name:      "destination not configured",
			instances: []string{"message.z"},
			moved:     [][2]string{{"message.a", "message.b"}},
			records:   []*state.Record{sentAs("message.a", "message.b")},
			want:      []string{"send message.z", "orphan message.a"},
			reasons: map[string]string{
				"message.a": "in state but no longer in configuration; moved to message.b, which is not in configuration",
			},
		},
		{
			name:      "cycle of moves ends",
			instances: []string{"message.z"},
			moved:     [][2]string{{"message.a", "message.b"}, {"message.b", "message.a"}},
			records:   []*state.Record{sentAs("message.a", "message.z")},
			want:      []string{"send message.z", "orphan message.a"},
		},
		{
			name:      "a move for one instance beats its block's move",
			instances: []string{`message.b["k"]`, `message.c["z"]`},
			moved:     [][2]string{{"message.a", "message.b"}, {`message.a["k"]`, `message.c["z"]`}},
			records:   []*state.Record{sentAs(`message.a["k"]`, `message.c["z"]`)},
			want:      []string{`send message.b["k"]`, `noop message.c["z"] <- message.a["k"]`},
		},
		{
			name:      "a configured source keeps its record",
			instances: []string{"message.a", "message.b"},
			moved:     [][2]string{{"message.a", "message.b"}},
			records:   []*state.Record{rec(newInst(t, "message.a", due), state.StatusSent)},
			want:      []string{"noop message.a", "send message.b"},
		},
		{
			name:      "a chain stops at the first configured address",
			instances: []string{"message.b", "message.c"},
			moved:     [][2]string{{"message.a", "message.b"}, {"message.b", "message.c"}},
			records:   []*state.Record{sentAs("message.a", "message.b")},
			want:      []string{"noop message.b <- message.a", "send message.c"},
		},
		{
			name:      "two sources, same distance: lowest address wins",
			instances: []string{"message.c"},
			moved:     [][2]string{{"message.a", "message.c"}, {"message.b", "message.c"}},
			records:   []*state.Record{sentAs("message.b", "message.c"), sentAs("message.a", "message.c")},
			want:      []string{"noop message.c <- message.a", "orphan message.b"},
		},
		{
			name:      "moved record that is unknown stays unknown",
			instances: []string{"message.b"},
			moved:     [][2]string{{"message.a", "message.b"}},
			records:   []*state.Record{rec(newInst(t, "message.b", due), state.StatusUnknown, under("message.a"))},
			want:      []string{"unknown message.b <- message.a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var instances []*spec.Instance
			for _, a := range tt.instances {
				instances = append(instances, newInst(t, a, due))
			}
			var moved []*spec.Moved
			for _, m := range tt.moved {
				moved = append(moved, move(t, m[0], m[1]))
			}
			p := New(configOf(instances, moved...), snapOf(tt.records...), clock, Options{})
			require.Equal(t, tt.want, summary(p))
			for addr, reason := range tt.reasons {
				require.Equal(t, reason, changeByAddr(p, addr).Reason, addr)
			}
			for _, c := range p.Changes {
				if c.MovedFrom != nil {
					require.NotNil(t, c.Record)
					require.Equal(t, c.MovedFrom.String(), c.Record.Address)
				}
			}
		})
	}
}

func TestLikelyRename(t *testing.T) {
	due := ago_(time.Hour)
	// The message was called old; now it is new, same content, group and
	// time, and nobody wrote a moved block.
	now := newInst(t, "message.new", due, text("launch!"))
	was := rec(newInst(t, "message.old", due, text("launch!")), state.StatusSent)

	p := New(configOf([]*spec.Instance{now}), snapOf(was), clock, Options{})
	require.Equal(t, []string{"send message.new", "orphan message.old"}, summary(p))
	c := p.Changes[0]
	require.NotNil(t, c.LikelyRenameOf)
	require.Equal(t, "message.old", c.LikelyRenameOf.String())
	require.Equal(t, "due 1h ago, never sent; looks like message.old renamed without a moved block: would send again", c.Reason)
	require.Equal(t, "in state but no longer in configuration; looks renamed to message.new without a moved block", p.Changes[1].Reason)

	// Waiting instances are flagged too: the warning is most useful before
	// the message is due.
	later := in(time.Hour)
	p = New(configOf([]*spec.Instance{newInst(t, "message.new", later, text("x"))}),
		snapOf(rec(newInst(t, "message.old", later, text("x")), state.StatusUnknown)), clock, Options{})
	require.Equal(t, Wait, p.Changes[0].Action)
	require.Equal(t, "message.old", p.Changes[0].LikelyRenameOf.String())

	for name, tc := range map[string]struct {
		inst   *spec.Instance
		record *state.Record
	}{
		"other text":      {newInst(t, "message.new", due, text("a")), rec(newInst(t, "message.old", due, text("b")), state.StatusSent)},
		"other group":     {newInst(t, "message.new", due, text("a"), group("sales")), rec(newInst(t, "message.old", due, text("a")), state.StatusSent)},
		"other time":      {newInst(t, "message.new", due, text("a")), rec(newInst(t, "message.old", ago_(2*time.Hour), text("a")), state.StatusSent)},
		"never delivered": {newInst(t, "message.new", due, text("a")), rec(newInst(t, "message.old", due, text("a")), state.StatusFailed)},
		"expired":         {newInst(t, "message.new", due, text("a")), rec(newInst(t, "message.old", due, text("a")), state.StatusExpired)},
	} {
		t.Run(name, func(t *testing.T) {
			p := New(configOf([]*spec.Instance{tc.inst}), snapOf(tc.record), clock, Options{})
			require.Nil(t, changeByAddr(p, "message.new").LikelyRenameOf)
			require.Equal(t, "in state but no longer in configuration", changeByAddr(p, "message.old").Reason)
		})
	}

	// A sent instance is not a duplicate of anything.
	p = New(configOf([]*spec.Instance{now}), snapOf(was, rec(now, state.StatusSent)), clock, Options{})
	require.Nil(t, changeByAddr(p, "message.new").LikelyRenameOf)
}
