package state

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/addrs"
)

func selection(t *testing.T, ss ...string) []addrs.Message {
	t.Helper()
	var out []addrs.Message
	for _, s := range ss {
		a, err := addrs.ParseSelection(s)
		require.NoError(t, err)
		out = append(out, a)
	}
	return out
}

func selectFixture() *Snapshot {
	return &Snapshot{Lineage: "l", Serial: 3, Records: map[string]*Record{
		`message.b`:                   {},
		`message.a["x"]`:              {},
		`message.a["y"]`:              {},
		`module.emea.message.a`:       {},
		`module.emea.message.c["de"]`: {},
	}}
}

func TestSnapshotSelect(t *testing.T) {
	s := selectFixture()
	assert.Equal(t, []string{`message.a["x"]`, `message.a["y"]`, `message.b`, `module.emea.message.a`, `module.emea.message.c["de"]`}, s.Select(nil))
	assert.Equal(t, []string{`message.a["x"]`, `message.a["y"]`}, s.Select(selection(t, "message.a")))
	assert.Equal(t, []string{`message.a["y"]`}, s.Select(selection(t, `message.a["y"]`)))
	assert.Equal(t, []string{`message.b`, `module.emea.message.a`, `module.emea.message.c["de"]`}, s.Select(selection(t, "module.emea", "message.b")))
	assert.Empty(t, s.Select(selection(t, "message.none")))
}

func TestSnapshotRemove(t *testing.T) {
	s := selectFixture()
	next, removed, missing := s.Remove(selection(t, "message.a", "module.emea"))
	assert.Empty(t, missing)
	assert.Equal(t, []string{`message.a["x"]`, `message.a["y"]`, `module.emea.message.a`, `module.emea.message.c["de"]`}, removed)
	require.NotNil(t, next)
	assert.Equal(t, []string{`message.b`}, next.Select(nil))
	assert.Equal(t, "l", next.Lineage)
	assert.Len(t, s.Records, 5, "the snapshot removed from is left as it is")

	// One address selecting nothing: nothing is removed.
	next, removed, missing = s.Remove(selection(t, "message.b", "message.none", `message.a["z"]`))
	assert.Nil(t, next)
	assert.Empty(t, removed)
	assert.Equal(t, []string{"message.none", `message.a["z"]`}, missing)
}
