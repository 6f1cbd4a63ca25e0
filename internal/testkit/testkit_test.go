package testkit

import (
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSyncBuffer(t *testing.T) {
	var b SyncBuffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				_, _ = b.Write([]byte("x"))
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	require.Len(t, b.String(), 800)
}

func TestExitCode(t *testing.T) {
	code, err := ExitCode(nil)
	require.NoError(t, err)
	require.Equal(t, 0, code)
	code, err = ExitCode(exec.Command("sh", "-c", "exit 3").Run())
	require.NoError(t, err)
	require.Equal(t, 3, code)
	_, err = ExitCode(exec.Command("/nonexistent/herald").Run())
	require.Error(t, err)
}

func TestBuild(t *testing.T) {
	root, err := ModuleRoot()
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(root, "go.mod"))

	dir := t.TempDir()
	bin, err := Build(dir, BuildOptions{Pkg: "./bench/internal/parsefloor", Name: "parsefloor", LDFlags: "-s"})
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "parsefloor"), bin)
	require.FileExists(t, bin)

	_, err = Build(dir, BuildOptions{Pkg: "./no/such/package"})
	require.ErrorContains(t, err, "go build ./no/such/package")
}
