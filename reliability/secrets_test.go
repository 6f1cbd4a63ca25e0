package reliability

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/state"
)

const sensitiveValue = "launch-code-ZEBRA-5521-kx"

// planKey keys the hashes a saved plan keeps of sensitive values; it must
// not appear anywhere either.
const planKey = "rel-plan-key-J3vT8qL1xN6c"

// secretMessages adds to a generated configuration a sensitive variable
// and a message per key whose text is built from it.
func secretMessages(groups int) string {
	return fmt.Sprintf(`
variable "launch_code" {
  type      = string
  sensitive = true
}

message "s" {
  for_each = local.due
  group    = local.groups[(each.value.g + 1) %% %d]
  send_at  = each.value.at
  text     = "Launch code ${var.launch_code} for ${each.key}"
}
`, groups)
}

// secretAddrOf maps the texts of both generated messages to addresses.
func secretAddrOf(content string) (string, bool) {
	if key, ok := strings.CutPrefix(content, "Launch code "+sensitiveValue+" for "); ok {
		return fmt.Sprintf("message.s[%q]", key), true
	}
	return AddrOf(content)
}

// TestSecrets runs every command that writes or prints with a distinctive
// API key and secret in the environment and a sensitive variable, then
// scans every file in the working directory and every output stream: none
// of the three may appear anywhere.
func TestSecrets(t *testing.T) {
	t.Parallel()
	n := size(120, 60)
	// The saved plan is applied on the real clock, later than its -at:
	// a year's expiry keeps its messages sendable then.
	cfg := Messages{N: n, Groups: 4, Start: base, Every: time.Second, ExpiresAfter: "8760h", Extra: secretMessages(4)}
	w := newWorkspace(t, FakeOptions{Seed: 8, Key: testKey, Secret: testSecret,
		Faults: sandbox.Faults{Latency: 2 * time.Millisecond, LoseRate: 0.05}})
	if err := w.WriteConfig(cfg.HCL()); err != nil {
		t.Fatal(err)
	}
	w.Herald.Env = append(w.Herald.Env, "HERALD_VAR_launch_code="+sensitiveValue, "HERALD_PLAN_KEY="+planKey)
	f := &Figures{Scenario: "8 secrets"}
	var outputs []Result
	run := func(code int, args ...string) Result {
		res := w.Herald.Run(runTimeout, args...)
		f.Runs++
		noPanic(f, res)
		if code >= 0 && res.Code != code {
			f.Fail("expected exit %d:\n%s", code, res)
		}
		outputs = append(outputs, res)
		return res
	}
	third, twoThirds := cfg.SendAt(n/3), cfg.SendAt(2*n/3)

	run(0, "plan", "-no-color", at(third))
	run(0, "plan", "-json", at(third))
	run(0, "plan", "-markdown", at(third))
	run(0, "plan", "-no-color", "-out=saved.plan", at(third))
	run(0, "show", "-no-color", "saved.plan")
	run(0, "show", "-json", "saved.plan")
	run(-1, "apply", "-no-color", "saved.plan")
	run(-1, "apply", "-json", "-auto-approve", at(twoThirds))
	run(0, "state", "list")
	run(0, "state", "show", `message.s["00001"]`)
	run(0, "show", "-no-color")
	run(0, "show", "-json")

	// A crash and an interrupt in the middle of sending, each leaving
	// what such a run leaves (a journal, a lock file).
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGINT} {
		p, err := w.Herald.Start("apply", "-auto-approve", "-no-color", at(cfg.SendAt(n)))
		if err != nil {
			t.Fatal(err)
		}
		f.Runs++
		target := w.Fake.Delivered() + 10
		for w.Fake.Delivered() < target && !isDone(p) {
			time.Sleep(200 * time.Microsecond)
		}
		_ = p.Signal(sig)
		res := p.Wait(runTimeout)
		noPanic(f, res)
		outputs = append(outputs, res)
		if sig == syscall.SIGKILL {
			scanFiles(t, f, w.Dir, "after kill -9")
		}
	}
	run(-1, "apply", "-auto-approve", "-json", "-var=launch_code="+sensitiveValue, at(cfg.SendAt(n)))
	run(0, "state", "show", `message.s["00002"]`)

	for _, res := range outputs {
		t.Logf("herald %s: exit %d; %s", strings.Join(res.Args, " "), res.Code, lastLines(res.Stdout+res.Stderr, 1))
		for _, s := range []string{testKey, testSecret, sensitiveValue, planKey} {
			if strings.Contains(res.Stdout, s) || strings.Contains(res.Stderr, s) {
				f.Fail("herald %s printed a secret (%s...)", strings.Join(res.Args, " "), s[:8])
			}
		}
	}
	scanFiles(t, f, w.Dir, "at the end")
	if fi, err := os.Stat(w.StatePath()); err != nil || fi.Mode().Perm() != 0o600 {
		f.Fail("the state file's mode is not 0600: %v %v", fi.Mode(), err)
	}
	snap, err := ReadState(w.StatePath())
	if err != nil {
		f.Fail("reading state: %v", err)
	}
	Check(f, Deliveries(w.Fake.Sends()), snap, secretAddrOf)
	t.Logf("states at the end: %v", statusCounts(snap))
	if got := statusCounts(snap)[state.StatusSent]; got == 0 {
		f.Fail("nothing was sent: the scan proved nothing")
	}
	report(t, f)
}

// scanFiles looks for the key, the secret and the sensitive value in
// every file under dir.
func scanFiles(t *testing.T, f *Figures, dir, when string) {
	t.Helper()
	scanned := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if d.Name() == "main.hcl" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		scanned++
		for _, s := range []string{testKey, testSecret, sensitiveValue, planKey} {
			if bytes.Contains(b, []byte(s)) {
				f.Fail("%s: %s holds a secret (%s...)", when, filepath.Base(path), s[:8])
			}
		}
		return nil
	})
	if err != nil {
		f.Fail("scanning %s: %v", dir, err)
	}
	t.Logf("%s: scanned %d files", when, scanned)
}
