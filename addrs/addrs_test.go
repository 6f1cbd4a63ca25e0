package addrs

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRoundTrip(t *testing.T) {
	for _, m := range []Message{
		NoKey("launch"),
		WithKey("report", "eng"),
		WithKey("standup", "2027-03-29T09:00:00+02:00"),
		WithKey("odd", `a "quoted" \ key ${x} %{y}`),
		WithKey("empty", ""),
	} {
		got, err := ParseMessage(m.String())
		require.NoError(t, err, m.String())
		require.Equal(t, m, got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{"", "group.eng", "message", "message.a.b", `message.a["x"]["y"]`, "message[1]", "message.a[", "var.x"} {
		_, err := ParseMessage(s)
		require.Error(t, err, s)
	}
}

func TestContains(t *testing.T) {
	block := NoKey("report")
	inst := WithKey("report", "eng")
	require.True(t, inst.Contains(block))
	require.True(t, inst.Contains(inst))
	require.False(t, inst.Contains(WithKey("report", "sales")))
	require.False(t, block.Contains(inst))
	require.False(t, inst.Contains(NoKey("launch")))
	require.Equal(t, `message.report["eng"]`, inst.String())
	require.Equal(t, block, inst.Block())
}
