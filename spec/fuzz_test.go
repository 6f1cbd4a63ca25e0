package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var fuzzClock = time.Date(2027, 3, 29, 7, 0, 0, 0, time.UTC)

// FuzzLoad loads arbitrary text as a configuration: whatever it is, Load
// returns diagnostics, never panics, and never returns a nil Config.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(`group "g" { thread_id = "t" }`))
	f.Fuzz(func(t *testing.T, src []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		// A clock, so that repeat messages expand too.
		cfg, diags := Load(dir, LoadOptions{Getenv: func(string) string { return "" }, At: fuzzClock})
		if cfg == nil || cfg.Files == nil || cfg.Dir != dir {
			t.Fatal("Load must always return a Config with Dir and Files")
		}
		if !diags.HasErrors() {
			for _, in := range cfg.Instances {
				if in.Group == nil || in.SendAt.IsZero() || in.ExpiresAfter <= 0 {
					t.Fatalf("instance %s is incomplete", in.Addr)
				}
			}
			if cfg.Hash == "" {
				t.Fatal("a valid configuration has a hash")
			}
		}
		for _, d := range diags {
			if d.Summary == "" {
				t.Fatalf("diagnostic without a summary: %#v", d)
			}
		}
	})
}

// TestFuzzCorpus keeps the seed corpus of FuzzLoad in step with the
// configuration files under testdata/valid and testdata/invalid; -update
// rewrites it.
func TestFuzzCorpus(t *testing.T) {
	want := map[string][]byte{}
	for _, kind := range []string{"valid", "invalid"} {
		names, err := filepath.Glob(filepath.Join("testdata", kind, "*", "*.hcl"))
		require.NoError(t, err)
		for _, name := range names {
			src, err := os.ReadFile(name)
			require.NoError(t, err)
			sum := sha256.Sum256(src)
			want["seed-"+hex.EncodeToString(sum[:8])] = []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", src))
		}
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzLoad")
	if *update {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		old, _ := filepath.Glob(filepath.Join(dir, "seed-*"))
		for _, o := range old {
			require.NoError(t, os.Remove(o))
		}
		for name, b := range want {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
		}
	}
	for name, b := range want {
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err, "run go test ./spec -update to refresh the fuzz corpus")
		require.Equal(t, string(b), string(got))
	}
}
