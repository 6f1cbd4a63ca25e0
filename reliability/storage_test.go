package reliability

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/state"
)

// storageCase is one way the state's storage goes wrong between two
// applies: break damages it, restore undoes that.
type storageCase struct {
	name string
	// tmpfs puts the state directory on a 64 KiB tmpfs.
	tmpfs bool
	// crashFirst leaves a journal behind: the apply after the first is
	// killed in the middle of sending.
	crashFirst bool
	breakIt    func(t *testing.T, dir string) (restore func())
	// wantErr is a piece of the error apply must print.
	wantErr string
	// sendsSome: the broken apply may send (what it manages to record
	// before the disk fills); otherwise it must send nothing at all.
	sendsSome bool
	// acceptsIt: the damage is one herald must read past (a torn journal
	// tail, as a crash leaves), so apply succeeds.
	acceptsIt bool
}

// TestStorageFaults breaks the state's storage between applies: a
// read-only directory, a full disk, a truncated or corrupted state file, a
// journal with a damaged line, a torn journal tail. Apply must fail with a
// clear error (exit 1), send nothing it did not record an attempt for,
// leave the files as they were, and once the damage is undone carry on
// without sending anything twice.
func TestStorageFaults(t *testing.T) {
	t.Parallel()
	cases := []storageCase{
		{name: "read-only directory", breakIt: readOnly, wantErr: "read-only file system"},
		{name: "disk full", tmpfs: true, breakIt: fillDisk, wantErr: "no space left on device", sendsSome: true},
		{name: "truncated state", breakIt: damageFile(state.DefaultPath, truncateHalf), wantErr: "refusing to use state"},
		{name: "corrupted state", breakIt: damageFile(state.DefaultPath, scribble), wantErr: "refusing to use state"},
		{name: "corrupted journal", crashFirst: true, breakIt: damageFile(state.DefaultPath+".journal", flipSecondLine), wantErr: "journal"},
		{name: "torn journal tail", crashFirst: true, breakIt: damageFile(state.DefaultPath+".journal", tearTail), acceptsIt: true},
	}
	for _, sc := range cases {
		t.Run(sc.name, func(t *testing.T) { storageScenario(t, sc) })
	}
}

func storageScenario(t *testing.T, sc storageCase) {
	n := size(40, 24)
	cfg := Messages{N: n, Groups: 4, Start: base, Every: time.Second, ExpiresAfter: "720h"}
	w := newWorkspace(t, FakeOptions{Seed: 7, JitterMin: 2 * time.Millisecond, JitterMax: 4 * time.Millisecond})
	if err := w.WriteConfig(cfg.HCL()); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(w.Dir, "st")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if sc.tmpfs {
		requireMounts(t)
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir).CombinedOutput(); err != nil {
			t.Fatalf("cannot mount a tmpfs to fill at %s: %v: %s", dir, err, out)
		}
		t.Cleanup(func() { unmount(t, dir) })
	}
	f := &Figures{Scenario: "6 storage: " + sc.name}
	statePath := filepath.Join(dir, state.DefaultPath)
	apply := func(clock time.Time) []string {
		return []string{"apply", "-auto-approve", "-no-color", "-state=" + statePath, at(clock)}
	}
	mustRun(w, f, 0, apply(cfg.SendAt(n/2-1))...)
	if sc.crashFirst {
		p, err := w.Herald.Start(apply(cfg.SendAt(n - 1))...)
		if err != nil {
			t.Fatal(err)
		}
		f.Runs++
		for w.Fake.Delivered() < n/2+3 && !isDone(p) {
			time.Sleep(200 * time.Microsecond)
		}
		_ = p.Signal(syscall.SIGKILL)
		if res := p.Wait(runTimeout); res.Signal != "killed" {
			t.Fatalf("the apply to be killed ended first: %s", res)
		}
		if _, err := os.Stat(statePath + ".journal"); err != nil {
			t.Fatalf("the killed apply left no journal: %v", err)
		}
		// What the killed apply had written may still be delivered; it
		// is not the next apply's doing.
		w.Fake.WaitServed()
	}
	before := w.Fake.Delivered()
	restore := sc.breakIt(t, dir)
	damaged, err := fileBytes(dir)
	if err != nil {
		t.Fatal(err)
	}

	wantCode := 1
	if sc.acceptsIt {
		wantCode = 0
	}
	res := mustRun(w, f, wantCode, apply(cfg.SendAt(n-1))...)
	if sc.wantErr != "" && !strings.Contains(strings.ToLower(res.Stderr), sc.wantErr) {
		f.Fail("apply's error does not say %q:\n%s", sc.wantErr, res)
	}
	t.Logf("apply on broken storage: exit %d, %d delivered; %s", res.Code, w.Fake.Delivered()-before, firstLine(res.Stderr))
	if !sc.sendsSome && !sc.acceptsIt && w.Fake.Delivered() != before {
		f.Fail("apply on broken storage delivered %d messages", w.Fake.Delivered()-before)
	}
	if !sc.acceptsIt {
		after, err := fileBytes(dir)
		if err != nil {
			t.Fatal(err)
		}
		for name, b := range damaged {
			if name == state.DefaultPath+".lock" {
				continue // holds who locked last, and changes by design
			}
			if !bytes.Equal(after[name], b) {
				f.Fail("apply on broken storage changed %s (%d bytes before, %d after)", name, len(b), len(after[name]))
			}
		}
		if sc.sendsSome {
			// What the failed apply recorded is what it sent: every
			// delivery has its attempt in the state or the journal.
			restore()
			restore = func() {}
			snap, err := ReadState(statePath)
			if err != nil {
				f.Fail("after freeing the disk the state cannot be read: %v", err)
			} else {
				Check(f, Deliveries(w.Fake.Sends()), snap, AddrOf)
			}
		}
	}
	restore()
	// After the unknown_settle of whatever the broken runs left unknown:
	// until then a thread waits for its unknowns, so their groups would
	// send nothing more (docs/guarantees.md, "A thread waits for its
	// unknowns").
	res = w.Herald.Run(runTimeout, apply(cfg.SendAt(n-1).Add(10*time.Minute))...)
	f.Runs++
	noPanic(f, res)
	if res.Code != 0 && res.Code != 1 {
		f.Fail("apply after the storage was repaired: %s", res)
	}
	snap, err := ReadState(statePath)
	if err != nil {
		f.Fail("reading the repaired state: %v", err)
	}
	Check(f, Deliveries(w.Fake.Sends()), snap, AddrOf)
	counts := statusCounts(snap)
	if settled := counts[state.StatusSent] + counts[state.StatusUnknown] + counts[state.StatusNotDelivered]; settled != n {
		f.Fail("after the repair %d of %d messages are sent, unknown or proven not delivered (%v)", settled, n, counts)
	}
	report(t, f)
}

// requireMounts skips a scenario that needs mounts only where mounting is
// impossible: neither root nor CAP_SYS_ADMIN. Where it is possible (CI runs
// as root) a mount that fails fails the scenario, so that it never passes
// by not running.
func requireMounts(t *testing.T) {
	t.Helper()
	if why := mountsImpossible(os.Geteuid(), effectiveCaps()); why != "" {
		t.Skip(why)
	}
}

// capSysAdmin is CAP_SYS_ADMIN's bit in the capability sets.
const capSysAdmin = 21

// mountsImpossible says why a process with this effective user id and
// effective capabilities cannot mount, or "" when it can.
func mountsImpossible(euid int, capEff uint64) string {
	if euid == 0 || capEff&(1<<capSysAdmin) != 0 {
		return ""
	}
	return fmt.Sprintf("mounting needs root or CAP_SYS_ADMIN, and this process has neither (euid %d, effective capabilities %#x)", euid, capEff)
}

// effectiveCaps reads the process's effective capabilities; 0 when they
// cannot be read.
func effectiveCaps() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return 0
			}
			return caps
		}
	}
	return 0
}

func unmount(t *testing.T, dir string) {
	if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
		t.Errorf("umount %s: %v: %s", dir, err, out)
	}
}

// readOnly bind-mounts dir read-only over itself: root ignores file
// permissions, but not a read-only mount.
func readOnly(t *testing.T, dir string) func() {
	requireMounts(t)
	if out, err := exec.Command("mount", "--bind", dir, dir).CombinedOutput(); err != nil {
		t.Fatalf("cannot bind-mount %s: %v: %s", dir, err, out)
	}
	if out, err := exec.Command("mount", "-o", "remount,ro,bind", dir).CombinedOutput(); err != nil {
		unmount(t, dir)
		t.Fatalf("cannot remount %s read-only: %v: %s", dir, err, out)
	}
	done := false
	t.Cleanup(func() {
		if !done {
			unmount(t, dir)
		}
	})
	return func() {
		if !done {
			done = true
			unmount(t, dir)
		}
	}
}

// fillDisk fills the tmpfs at dir but for room for a few journal lines.
func fillDisk(t *testing.T, dir string) func() {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize
	filler := filepath.Join(dir, "filler")
	leave := int64(2 * st.Bsize)
	if err := os.WriteFile(filler, make([]byte, max(free-leave, 0)), 0o600); err != nil && !errors.Is(err, syscall.ENOSPC) {
		t.Fatal(err)
	}
	return func() {
		if err := os.Remove(filler); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Error(err)
		}
	}
}

// damageFile changes the named file in dir with change, and returns what
// puts it back.
func damageFile(name string, change func([]byte) []byte) func(*testing.T, string) func() {
	return func(t *testing.T, dir string) func() {
		path := filepath.Join(dir, name)
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, change(bytes.Clone(orig)), 0o600); err != nil {
			t.Fatal(err)
		}
		return func() {
			if err := os.WriteFile(path, orig, 0o600); err != nil {
				t.Error(err)
			}
		}
	}
}

func truncateHalf(b []byte) []byte { return b[:len(b)/2] }

// scribble overwrites a stretch in the middle of the file.
func scribble(b []byte) []byte {
	mid := len(b) / 2
	copy(b[mid:], "\x00#garbage{[\"")
	return b
}

// flipSecondLine changes one character inside the journal's first event,
// so its checksum no longer matches while later lines are whole.
func flipSecondLine(b []byte) []byte {
	first := bytes.IndexByte(b, '\n')
	i := first + 20
	if b[i] == 'x' {
		b[i] = 'y'
	} else {
		b[i] = 'x'
	}
	return b
}

// tearTail appends the first half of a copy of the journal's last line, as
// a crash in the middle of an append leaves it.
func tearTail(b []byte) []byte {
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	last := lines[len(lines)-1]
	return append(b, last[:len(last)/2]...)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// TestMountScenariosRunWherePossible pins when the read-only and
// disk-full scenarios may skip: only without root and CAP_SYS_ADMIN.
func TestMountScenariosRunWherePossible(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		euid    int
		caps    uint64
		canSkip bool
	}{
		{euid: 0, caps: 0x1fffeffffff},
		{euid: 0, caps: 0}, // root without the capability: must fail, not skip
		{euid: 1000, caps: 1 << capSysAdmin},
		{euid: 1000, caps: 0, canSkip: true},
		{euid: 1000, caps: 1<<capSysAdmin - 1, canSkip: true},
	} {
		why := mountsImpossible(tc.euid, tc.caps)
		if (why != "") != tc.canSkip {
			t.Errorf("euid %d, capabilities %#x: skip reason %q, want skip %v", tc.euid, tc.caps, why, tc.canSkip)
		}
	}
	if os.Geteuid() == 0 && mountsImpossible(os.Geteuid(), effectiveCaps()) != "" {
		t.Errorf("running as root, yet the mount scenarios would skip")
	}
}
