package ghaction

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/release"
)

// fakeReleases serves a GitHub releases page: /latest redirects to the
// newest tag, /download/TAG/NAME serves the assets.
type fakeReleases struct {
	mu        sync.Mutex
	latest    string
	assets    map[string][]byte // "TAG/NAME"
	requested []string
}

func (f *fakeReleases) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requested = append(f.requested, r.URL.Path)
	switch {
	case r.URL.Path == "/releases/latest":
		http.Redirect(w, r, "/releases/tag/"+f.latest, http.StatusFound)
	case strings.HasPrefix(r.URL.Path, "/releases/tag/"):
		fmt.Fprintln(w, "<html>release page</html>")
	case strings.HasPrefix(r.URL.Path, "/releases/download/"):
		data, ok := f.assets[strings.TrimPrefix(r.URL.Path, "/releases/download/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(data)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeReleases) paths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requested...)
}

// runnerPlatform is this machine as GitHub names it in RUNNER_OS and
// RUNNER_ARCH.
func runnerPlatform(t *testing.T) (string, string) {
	runnerOS := map[string]string{"linux": "Linux", "darwin": "macOS"}[runtime.GOOS]
	arch := map[string]string{"amd64": "X64", "arm64": "ARM64"}[runtime.GOARCH]
	if runnerOS == "" || arch == "" {
		t.Skipf("no herald release for %s_%s to install here", runtime.GOOS, runtime.GOARCH)
	}
	return runnerOS, arch
}

func releaseConfig(t *testing.T) *release.Config {
	t.Helper()
	c, err := release.Load(filepath.Join(repoRoot(t), ".goreleaser.yaml"))
	require.NoError(t, err)
	return c
}

// archiveOf is a release archive as GoReleaser makes it: the binary, the
// README and the documentation (.goreleaser.yaml's archives' files).
func archiveOf(t *testing.T, bin string) []byte {
	t.Helper()
	data, err := os.ReadFile(bin)
	require.NoError(t, err)
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, content := range map[string][]byte{
		"herald":          data,
		"README.md":       []byte("# herald\n"),
		"CONTRIBUTING.md": []byte("# Development\n"),
		"docs/README.md":  []byte("# herald documentation\n"),
	} {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(content)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(content)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	return buf.Bytes()
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// publish puts a release of this machine's herald on f, under the names
// .goreleaser.yaml gives, with a checksums file whose line for the archive
// is sum (the archive's real SHA-256 when sum is empty).
func publish(t *testing.T, f *fakeReleases, version, sum string) (asset string) {
	t.Helper()
	c := releaseConfig(t)
	v := release.Values{ProjectName: c.ProjectName, Version: version}
	asset, err := c.Archives[0].Name(v, release.Target{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH})
	require.NoError(t, err)
	sums, err := c.ChecksumName(v)
	require.NoError(t, err)
	archive := archiveOf(t, heraldBin)
	if sum == "" {
		sum = hexSHA256(archive)
	}
	other := hexSHA256([]byte("another archive"))
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.assets == nil {
		f.assets = map[string][]byte{}
	}
	tag := "v" + version
	f.assets[tag+"/"+asset] = archive
	f.assets[tag+"/"+sums] = []byte(fmt.Sprintf("%s  herald_%s_plan9_amd64.tar.gz\n%s  %s\n", other, version, sum, asset))
	return asset
}

func installEnv(t *testing.T, srv *httptest.Server, version, dir string) map[string]string {
	runnerOS, arch := runnerPlatform(t)
	return map[string]string{
		"HERALD_VERSION":      version,
		"HERALD_RELEASES_URL": srv.URL + "/releases",
		"HERALD_INSTALL_DIR":  dir,
		"RUNNER_OS":           runnerOS,
		"RUNNER_ARCH":         arch,
	}
}

func TestInstallChecksAndCaches(t *testing.T) {
	f := &fakeReleases{latest: "v1.2.3"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	asset := publish(t, f, "1.2.3", "")
	dir := filepath.Join(t.TempDir(), "tool-cache", "herald")

	// resolve turns "latest" into the newest tag, and names the cache.
	runnerOS, arch := runnerPlatform(t)
	r := runScript(t, t.TempDir(), installEnv(t, srv, "latest", dir), "resolve")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "v1.2.3", r.outputs["tag"])
	assert.Equal(t, "1.2.3", r.outputs["version"])
	assert.Equal(t, dir, r.outputs["dir"])
	assert.Equal(t, "herald-1.2.3-"+runtime.GOOS+"-"+runtime.GOARCH, r.outputs["cache-key"], "for %s %s", runnerOS, arch)

	r = runScript(t, t.TempDir(), installEnv(t, srv, "v1.2.3", dir), "install")
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "SHA-256 of "+asset+" matches")
	assert.Contains(t, r.stdout, "herald v1.2.3", "the installed herald runs")
	assert.Equal(t, []string{dir}, r.path, "herald's directory is added to PATH")
	assert.Equal(t, filepath.Join(dir, "herald"), r.outputs["path"])
	info, err := os.Stat(filepath.Join(dir, "herald"))
	require.NoError(t, err)
	assert.NotZero(t, info.Mode()&0o111, "executable")
	assert.NoFileExists(t, filepath.Join(dir, "README.md"), "only the binary is installed")
	assert.NoDirExists(t, filepath.Join(dir, "docs"), "only the binary is installed")
	assert.Contains(t, f.paths(), "/releases/download/v1.2.3/"+asset)

	// Restored from the cache: the cached archive is checked against the
	// release's checksums again, and only the checksums are downloaded.
	before := len(f.paths())
	r = runScript(t, t.TempDir(), installEnv(t, srv, "v1.2.3", dir), "install")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "SHA-256 of the cached "+asset+" matches")
	assert.Equal(t, []string{"/releases/download/v1.2.3/herald_1.2.3_checksums.txt"}, f.paths()[before:])
}

// A cache entry is not trusted: a binary or archive changed in it is
// never run; the binary is taken again from an archive whose SHA-256
// matches the release's checksums.
func TestInstallReverifiesTheCache(t *testing.T) {
	f := &fakeReleases{latest: "v1.2.3"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	asset := publish(t, f, "1.2.3", "")
	dir := filepath.Join(t.TempDir(), "herald")
	r := runScript(t, t.TempDir(), installEnv(t, srv, "v1.2.3", dir), "install")
	require.Equal(t, 0, r.code, r.stderr)

	// The binary replaced in the cache.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "herald"), []byte("#!/bin/sh\necho tampered\n"), 0o755))
	r = runScript(t, t.TempDir(), installEnv(t, srv, "v1.2.3", dir), "install")
	require.Equal(t, 0, r.code, r.stderr)
	assert.NotContains(t, r.stdout, "tampered")
	assert.Contains(t, r.stdout, "herald v1.2.3")

	// The archive replaced in the cache: downloaded again.
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		if e.Name() != "herald" {
			require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), []byte("not the archive"), 0o644))
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "herald"), []byte("#!/bin/sh\necho tampered\n"), 0o755))
	before := len(f.paths())
	r = runScript(t, t.TempDir(), installEnv(t, srv, "v1.2.3", dir), "install")
	require.Equal(t, 0, r.code, r.stderr)
	assert.NotContains(t, r.stdout, "tampered")
	assert.Contains(t, r.stdout, "herald v1.2.3")
	assert.Contains(t, f.paths()[before:], "/releases/download/v1.2.3/"+asset, "downloaded again")

	// A release whose checksums no longer match what is cached (or served)
	// installs nothing.
	f.mu.Lock()
	f.assets["v1.2.3/herald_1.2.3_checksums.txt"] = []byte(hexSHA256([]byte("other")) + "  " + asset + "\n")
	f.mu.Unlock()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "herald"), []byte("#!/bin/sh\necho tampered\n"), 0o755))
	r = runScript(t, t.TempDir(), installEnv(t, srv, "v1.2.3", dir), "install")
	assert.Equal(t, 1, r.code)
	assert.NotContains(t, r.stdout, "tampered")
	assert.Contains(t, r.stderr, "checksum mismatch")
}

func TestInstallRefusesABadChecksum(t *testing.T) {
	f := &fakeReleases{latest: "v1.2.3"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	asset := publish(t, f, "1.2.3", hexSHA256([]byte("not the archive")))
	dir := filepath.Join(t.TempDir(), "herald")
	r := runScript(t, t.TempDir(), installEnv(t, srv, "v1.2.3", dir), "install")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "checksum mismatch for "+asset)
	assert.Contains(t, r.stderr, "nothing installed")
	assert.NoFileExists(t, filepath.Join(dir, "herald"))
	assert.Empty(t, r.path)

	// An archive the checksums file does not list is refused too.
	f.mu.Lock()
	f.assets["v1.2.3/herald_1.2.3_checksums.txt"] = []byte(hexSHA256(nil) + "  herald_1.2.3_plan9_amd64.tar.gz\n")
	f.mu.Unlock()
	r = runScript(t, t.TempDir(), installEnv(t, srv, "v1.2.3", dir), "install")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "lists no checksum for "+asset)
	assert.NoFileExists(t, filepath.Join(dir, "herald"))

	// A release that does not exist.
	r = runScript(t, t.TempDir(), installEnv(t, srv, "v9.9.9", dir), "install")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "cannot download")
	r = runScript(t, t.TempDir(), installEnv(t, srv, "main", dir), "install")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, `version "main": expected a release such as v1.2.3, or latest`)
}

// The script asks for the archives .goreleaser.yaml makes, on every
// platform the release builds.
func TestInstallAsksForTheReleaseArchiveNames(t *testing.T) {
	f := &fakeReleases{latest: "v1.2.3"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := releaseConfig(t)
	runnerOS := map[string]string{"linux": "Linux", "darwin": "macOS", "windows": "Windows"}
	runnerArch := map[string]string{"amd64": "X64", "arm64": "ARM64"}
	// The checksums file lists every archive; the archives themselves
	// are not published.
	var sums strings.Builder
	for _, tg := range c.Builds[0].Targets() {
		name, err := c.Archives[0].Name(release.Values{ProjectName: "herald", Version: "1.2.3"}, tg)
		require.NoError(t, err)
		fmt.Fprintf(&sums, "%s  %s\n", hexSHA256([]byte(name)), name)
	}
	// Under the lock: the server's goroutines read it, and the script
	// that makes them do so is another process, which the race detector
	// cannot see order anything.
	f.mu.Lock()
	f.assets = map[string][]byte{"v1.2.3/herald_1.2.3_checksums.txt": []byte(sums.String())}
	f.mu.Unlock()
	for _, tg := range c.Builds[0].Targets() {
		want, err := c.Archives[0].Name(release.Values{ProjectName: "herald", Version: "1.2.3"}, tg)
		require.NoError(t, err)
		r := runScript(t, t.TempDir(), map[string]string{
			"HERALD_VERSION": "1.2.3", "HERALD_RELEASES_URL": srv.URL + "/releases",
			"HERALD_INSTALL_DIR": t.TempDir(), "RUNNER_OS": runnerOS[tg.GOOS], "RUNNER_ARCH": runnerArch[tg.GOARCH],
		}, "install")
		assert.Equal(t, 1, r.code, "nothing is published")
		assert.Contains(t, f.paths(), "/releases/download/v1.2.3/"+want, "for %s", tg)
	}
}
