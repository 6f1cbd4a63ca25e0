package plankey

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// HERALD_PLAN_KEY wins over any key file and is used hashed, never as
// given; a short one is refused without being repeated.
func TestLoadFromEnv(t *testing.T) {
	home := t.TempDir()
	key, err := Load(envOf(map[string]string{Env: "a-long-enough-plan-key", "HOME": home}), true)
	require.NoError(t, err)
	assert.Len(t, key, 32)
	assert.NotContains(t, string(key), "a-long-enough-plan-key")
	again, err := Load(envOf(map[string]string{Env: "a-long-enough-plan-key"}), false)
	require.NoError(t, err)
	assert.Equal(t, key, again)
	assert.NoDirExists(t, filepath.Join(home, ".config"), "no key file with HERALD_PLAN_KEY set")

	_, err = Load(envOf(map[string]string{Env: "tiny-k3y"}), true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), Env)
	assert.NotContains(t, err.Error(), "tiny-k3y")
}

// Without HERALD_PLAN_KEY the key lives in the user's configuration
// directory, made on demand, readable by its owner only.
func TestLoadKeyFile(t *testing.T) {
	home := t.TempDir()
	env := envOf(map[string]string{"HOME": home})
	keyFile := filepath.Join(home, ".config", "herald", "plan.key")

	key, err := Load(env, false)
	require.NoError(t, err)
	assert.Nil(t, key, "no key and none made without create")
	assert.NoFileExists(t, keyFile)

	key, err = Load(env, true)
	require.NoError(t, err)
	assert.Len(t, key, 32)
	fi, err := os.Stat(keyFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	data, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	assert.Equal(t, hex.EncodeToString(key)+"\n", string(data))

	again, err := Load(env, false)
	require.NoError(t, err)
	assert.Equal(t, key, again)

	// XDG_CONFIG_HOME wins over HOME.
	xdg := t.TempDir()
	other, err := Load(envOf(map[string]string{"HOME": home, "XDG_CONFIG_HOME": xdg}), true)
	require.NoError(t, err)
	assert.NotEqual(t, key, other)
	assert.FileExists(t, filepath.Join(xdg, "herald", "plan.key"))

	// A relative HOME counts as none.
	key, err = Load(envOf(map[string]string{"HOME": "relative"}), false)
	assert.NoError(t, err)
	assert.Nil(t, key)
}

func TestLoadNoWhereToKeepAKey(t *testing.T) {
	key, err := Load(nil, false)
	assert.NoError(t, err)
	assert.Nil(t, key)
	_, err = Load(envOf(nil), true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), Env)
}

func TestLoadDamagedKeyFile(t *testing.T) {
	home := t.TempDir()
	keyFile := filepath.Join(home, ".config", "herald", "plan.key")
	require.NoError(t, os.MkdirAll(filepath.Dir(keyFile), 0o700))
	require.NoError(t, os.WriteFile(keyFile, []byte("not hex\n"), 0o600))
	_, err := Load(envOf(map[string]string{"HOME": home}), true)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "damaged"), err.Error())
	data, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	assert.Equal(t, "not hex\n", string(data), "a damaged key is never replaced")
}

// Two makers at once agree on the key written first.
func TestNewKeyFileKeepsTheFirst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herald", "plan.key")
	first, err := newKeyFile(path)
	require.NoError(t, err)
	second, err := newKeyFile(path)
	require.NoError(t, err)
	assert.Equal(t, first, second)
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}
