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

func TestModuleRoundTrip(t *testing.T) {
	emea := RootModule.Child("emea", "", false)
	region := RootModule.Child("region", "emea", true)
	nested := region.Child("weekly", "", false)
	for _, c := range []struct {
		m    Message
		want string
	}{
		{WithKey("standup", "2026-12-07T09:00:00+01:00").In(emea), `module.emea.message.standup["2026-12-07T09:00:00+01:00"]`},
		{NoKey("x").In(region), `module.region["emea"].message.x`},
		{WithKey("x", "k").In(nested), `module.region["emea"].module.weekly.message.x["k"]`},
		{NoKey("x").In(RootModule), `message.x`},
	} {
		require.Equal(t, c.want, c.m.String())
		got, err := ParseMessage(c.want)
		require.NoError(t, err, c.want)
		require.True(t, c.m.Equal(got), c.want)
		require.Equal(t, c.m, got)
	}
	mod, err := ParseModuleInstance(`module.region["emea"].module.weekly`)
	require.NoError(t, err)
	require.Equal(t, nested, mod)
	require.Equal(t, `module.region["emea"].module.weekly`, mod.String())
	require.Equal(t, "", RootModule.String())
}

func TestModuleParseErrors(t *testing.T) {
	for _, s := range []string{"module", "module.a", `module.a["k"]`, "module.a.group.b", "module[1].message.x", `module.a["k"]["j"].message.x`, "module.a.message"} {
		_, err := ParseMessage(s)
		require.Error(t, err, s)
	}
	for _, s := range []string{"module", "module.a.message.x", "message.x", "module.a.b"} {
		_, err := ParseModuleInstance(s)
		require.Error(t, err, s)
	}
}

func TestSelection(t *testing.T) {
	emea := NoKey("x").In(RootModule.Child("region", "emea", true))
	apac := WithKey("y", "k").In(RootModule.Child("region", "apac", true).Child("inner", "", false))
	root := NoKey("x")
	sel := func(s string) Message {
		m, err := ParseSelection(s)
		require.NoError(t, err, s)
		return m
	}
	require.True(t, emea.Contains(sel("module.region")))
	require.True(t, emea.Contains(sel(`module.region["emea"]`)))
	require.False(t, emea.Contains(sel(`module.region["apac"]`)))
	require.True(t, apac.Contains(sel(`module.region["apac"]`)))
	require.True(t, apac.Contains(sel(`module.region.module.inner.message.y`)))
	require.False(t, apac.Contains(sel(`module.region.message.y`)))
	require.True(t, emea.Contains(sel(`module.region["emea"].message.x`)))
	require.False(t, root.Contains(sel(`module.region`)))
	require.False(t, emea.Contains(sel(`message.x`)), "a root address never selects a module's message")
	require.False(t, root.Contains(sel(`module.region["emea"].message.x`)))
	require.True(t, sel("module.region").IsModule())
	require.Equal(t, `module.region["apac"]`, sel(`module.region["apac"]`).String())
	_, err := ParseSelection("module")
	require.Error(t, err)
}
