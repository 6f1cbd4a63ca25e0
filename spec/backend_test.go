package spec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// LoadBackend reads the backend block whatever else is wrong with the
// configuration, and never guesses when the block cannot be read.
func TestLoadBackend(t *testing.T) {
	write := func(t *testing.T, files map[string]string) string {
		dir := t.TempDir()
		for name, src := range files {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644))
		}
		return dir
	}
	const pg = "backend \"postgres\" {\n  conn_str    = \"postgres://h/db\"\n  schema_name = \"team\"\n}\n"

	b, _, diags := LoadBackend(t.TempDir(), LoadOptions{})
	assert.Nil(t, b, "no files: the local file")
	assert.Empty(t, diags)

	b, _, diags = LoadBackend(write(t, map[string]string{"main.hcl": `message "broken" {`}), LoadOptions{})
	assert.Nil(t, b, "no backend block: the local file, other errors ignored")
	assert.Empty(t, diags)

	b, _, diags = LoadBackend(write(t, map[string]string{"main.hcl": pg + `message "broken" {` + "\n  group = group.missing\n}\n"}), LoadOptions{})
	assert.Empty(t, diags)
	require.NotNil(t, b)
	assert.Equal(t, "postgres", b.Type)
	assert.Equal(t, "postgres://h/db", b.ConnStr)
	assert.Equal(t, "team", b.SchemaName)

	b, files, diags := LoadBackend(write(t, map[string]string{"main.hcl": pg, "other.hcl": "backend \"postgres\" {\n}\n"}), LoadOptions{})
	assert.Nil(t, b, "two blocks: neither is guessed at")
	require.True(t, diags.HasErrors())
	assert.Equal(t, "Duplicate backend configuration", diags[0].Summary)
	assert.Len(t, files, 2)

	b, _, diags = LoadBackend(write(t, map[string]string{"main.hcl": "backend \"postgres\" {\n  schema_name = \"no-dashes\"\n}\n"}), LoadOptions{})
	assert.Nil(t, b)
	require.True(t, diags.HasErrors())
	assert.Equal(t, "Invalid schema_name", diags[0].Summary)
}
