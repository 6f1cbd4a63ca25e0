package plankey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A saved plan keeps of each sensitive value only an HMAC-SHA256 hash under
// the plan key, so that apply can refuse a plan whose sensitive values
// changed without the plan file revealing them: a plain hash of a short
// secret is found by trying every value, a keyed one is not without the
// key. The key is never in the plan or the state. It comes from
// HERALD_PLAN_KEY (the same value where the plan is made and where it is
// applied: a CI secret, say) or else from a random key herald keeps in the
// user's configuration directory, made by the first plan -out that needs
// it.

// Env names the environment variable holding the plan key.
const Env = "HERALD_PLAN_KEY"

// minEnvLen is the shortest HERALD_PLAN_KEY accepted: the key is all
// that keeps a short secret's hash from being guessed.
const minEnvLen = 16

// Load returns the plan key: HERALD_PLAN_KEY's, else the key file's, with
// getenv reading the environment (nil: an empty one). With create, a
// missing key file is made. It returns nil (and no error) when there is no
// key and create is false.
func Load(getenv func(string) string, create bool) ([]byte, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if v := getenv(Env); v != "" {
		if len(v) < minEnvLen {
			return nil, fmt.Errorf("%s is shorter than %d characters; set it to a long random string, such as the output of: openssl rand -hex 32", Env, minEnvLen)
		}
		sum := sha256.Sum256([]byte("herald plan key\x00" + v))
		return sum[:], nil
	}
	path := keyFile(getenv)
	if path == "" {
		if create {
			return nil, fmt.Errorf("the plan holds sensitive values, so saving it needs a plan key: set %s to a long random string (the same where the plan is applied), or HOME, where herald keeps a key of its own", Env)
		}
		return nil, nil
	}
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return fromFile(path)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("reading the plan key: %w", err)
	case !create:
		return nil, nil
	}
	return newKeyFile(path)
}

// keyFile is where herald keeps its own plan key:
// $XDG_CONFIG_HOME/herald/plan.key, else ~/.config/herald/plan.key; "" when
// neither is set.
func keyFile(getenv func(string) string) string {
	if dir := getenv("XDG_CONFIG_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "herald", "plan.key")
	}
	if home := getenv("HOME"); filepath.IsAbs(home) {
		return filepath.Join(home, ".config", "herald", "plan.key")
	}
	return ""
}

// newKeyFile writes a new random key to path, readable by its owner
// only. Two processes making it at once agree on the one written first.
func newKeyFile(path string) ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("making a plan key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("making a plan key: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".plan.key.tmp-*")
	if err != nil {
		return nil, fmt.Errorf("making a plan key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("making a plan key: %w", err)
	}
	// A hard link fails if the key appeared meanwhile; then that one is
	// the key.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fromFile(path)
		}
		return nil, fmt.Errorf("making a plan key: %w", err)
	}
	return key, nil
}

func fromFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the plan key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) < 32 {
		return nil, fmt.Errorf("the plan key file %s is damaged; remove it (plans saved with it can then no longer be applied) or set %s", path, Env)
	}
	return key, nil
}
