package command

import (
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	a1sandbox "github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/internal/clock"
	"github.com/heraldhq/herald/state"
)

// modulesClock is a Monday: the Berlin and Tokyo standups of
// testdata/modules/org are due, Lima's waits.
var modulesClock = time.Date(2026, 12, 7, 8, 30, 0, 0, time.UTC)

const modulesAt = "-at=2026-12-07T08:30:00Z"

// copyTree copies testdata/parts... into a fresh directory.
func copyTree(t *testing.T, parts ...string) string {
	t.Helper()
	src := testdataDir(t, parts...)
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	require.NoError(t, err)
	return dst
}

// newModulesFixture is an apply fixture over a copy of testdata/modules/NAME.
func newModulesFixture(t *testing.T, name string, clock time.Time) *applyFixture {
	t.Helper()
	api := a1sandbox.NewHandler(a1sandbox.WithClock(func() time.Time { return clock }))
	srv := httptest.NewServer(api)
	t.Cleanup(func() { api.Close(); srv.Close() })
	return &applyFixture{dir: copyTree(t, "modules", name), api: api, url: srv.URL, env: map[string]string{
		"A1BASE_BASE_URL":   srv.URL + "/v1",
		"A1BASE_API_KEY":    "key-9c1e",
		"A1BASE_API_SECRET": "secret-4d7a",
		// The board's second account, on the same fake.
		"A1BASE_HQ_BASE_URL":   srv.URL + "/v1",
		"A1BASE_HQ_API_KEY":    "key-hq-51b0",
		"A1BASE_HQ_API_SECRET": "secret-hq-0e2f",
	}}
}

// A repository with two modules, one of them instantiated three times with
// for_each, and two accounts: every plan format shows module addresses and
// the account of each group, and a saved plan shows the same document.
func TestModulesPlanGoldens(t *testing.T) {
	dir := copyTree(t, "modules", "org")
	human := runMain(t, dir, "", "plan", modulesAt, "-no-color")
	require.Equal(t, 0, human.code, human.stderr)
	checkGolden(t, "plan/modules.out.txt", []byte(human.stdout))
	js := runMain(t, dir, "", "plan", modulesAt, "-json")
	require.Equal(t, 0, js.code, js.stderr)
	checkGolden(t, "plan/modules.out.json", []byte(js.stdout))
	md := runMain(t, dir, "", "plan", modulesAt, "-markdown")
	require.Equal(t, 0, md.code, md.stderr)
	checkGolden(t, "plan/modules.out.md", []byte(md.stdout))

	for _, want := range []string{
		`module.weekly["berlin"].message.standup["2026-12-07T09:00:00+01:00"]`,
		`module.weekly["tokyo"].message.standup["2026-12-07T09:00:00+09:00"]`,
		`module.weekly["lima"].message.review`,
		`module.notice.message.launch`,
		`message.digest`,
	} {
		assert.Contains(t, human.stdout, want)
		assert.Contains(t, js.stdout, strings.ReplaceAll(want, `"`, `\"`))
	}
	assert.Contains(t, md.stdout, "<code>module.weekly\\[\"tokyo\"\\].message.review</code> | send |")
	// A group passed into a module is the caller's group, not a new one.
	assert.Contains(t, js.stdout, `"address": "module.notice.message.launch",
      "action": "send",
      "reason": "due 30m ago, never sent",
      "group": "board",`)

	out := runMain(t, dir, "", "plan", modulesAt, "-out=saved.plan")
	require.Equal(t, 0, out.code, out.stderr)
	show := runMain(t, dir, "", "show", "-json", "saved.plan")
	require.Equal(t, 0, show.code, show.stderr)
	assert.Equal(t, js.stdout, show.stdout)
}

// -target and -replace take module addresses and whole modules; the state
// commands list, show and remove records under module addresses.
func TestModulesTargetReplaceAndState(t *testing.T) {
	f := newModulesFixture(t, "org", modulesClock)
	r := f.run(t, nil, "apply", "-auto-approve", modulesAt, `-target=module.weekly["berlin"]`)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Equal(t, []string{"Guten Morgen! Standup in 15 minutes."}, contents(f.api))

	r = f.run(t, nil, "apply", "-auto-approve", modulesAt, "-target=module.notice.message.launch", `-target=module.weekly["tokyo"].message.standup`)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Equal(t, []string{"Guten Morgen! Standup in 15 minutes.", "Ohayou! Standup in 15 minutes.", "This week's programme reaches 3 communities."}, contents(f.api))
	// The board's notice, passed into the module, went out from the board's
	// account; the communities' messages from the default one.
	var paths []string
	for _, a := range f.api.Arrivals() {
		paths = append(paths, a.Path)
	}
	assert.ElementsMatch(t, []string{
		"/v1/messages/group/acc_test/send", "/v1/messages/group/acc_test/send", "/v1/messages/group/acc_hq/send",
	}, paths)

	snap := f.snapshot(t, state.DefaultPath)
	berlin := `module.weekly["berlin"].message.standup["2026-12-07T09:00:00+01:00"]`
	require.Contains(t, snap.Records, berlin)
	assert.Equal(t, `module.weekly["berlin"].group.community`, snap.Records[berlin].Group)
	assert.Equal(t, "t-berlin", snap.Records[berlin].ThreadID)

	list := f.run(t, nil, "state", "list", "module.weekly")
	require.Equal(t, 0, list.code, list.stderr)
	assert.Equal(t, berlin+"\n"+`module.weekly["tokyo"].message.standup["2026-12-07T09:00:00+09:00"]`+"\n", list.stdout)
	all := f.run(t, nil, "state", "list")
	assert.Equal(t, 3, strings.Count(all.stdout, "\n"), all.stdout)

	show := f.run(t, nil, "state", "show", berlin)
	require.Equal(t, 0, show.code, show.stderr)
	assert.Contains(t, show.stdout, "t-berlin")
	many := f.run(t, nil, "state", "show", "module.weekly")
	assert.Equal(t, 1, many.code)
	assert.Contains(t, many.stderr, "selects 2 recorded messages")

	rep := f.run(t, nil, "apply", "-auto-approve", modulesAt, "-target=module.notice", "-replace=module.notice.message.launch")
	require.Equal(t, 0, rep.code, rep.stdout+rep.stderr)
	assert.Contains(t, rep.stdout, "Apply complete: 1 sent")
	assert.Len(t, f.snapshot(t, state.DefaultPath).Records["module.notice.message.launch"].Attempts, 2)

	bad := f.run(t, nil, "plan", modulesAt, "-target=module.weekly[")
	assert.Equal(t, 1, bad.code)
	assert.Contains(t, bad.stderr, "-target")

	rm := f.run(t, nil, "state", "rm", `module.weekly["tokyo"]`)
	require.Equal(t, 0, rm.code, rm.stderr)
	snap = f.snapshot(t, state.DefaultPath)
	assert.NotContains(t, snap.Records, `module.weekly["tokyo"].message.standup["2026-12-07T09:00:00+09:00"]`)
	assert.Contains(t, snap.Records, berlin)
	none := f.run(t, nil, "state", "rm", `module.weekly["paris"]`)
	assert.Equal(t, 1, none.code)
	assert.Contains(t, none.stderr, `module.weekly["paris"]`)
}

// Moving a sent root message into a module with a moved block is a no-op
// plan; apply records the move and sends nothing, and the moved block can
// then go.
func TestMoveRootMessageIntoModule(t *testing.T) {
	f := newModulesFixture(t, "move", applyClock)
	r := f.run(t, nil, "apply", "-auto-approve", at)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Len(t, f.api.Sends(), 2)

	moved, err := os.ReadFile(filepath.Join(f.dir, "moved.hcl.txt"))
	require.NoError(t, err)
	main := filepath.Join(f.dir, "main.hcl")
	require.NoError(t, os.WriteFile(main, moved, 0o644))

	plan := f.run(t, nil, "plan", "-detailed-exitcode", "-json", at)
	require.Equal(t, 0, plan.code, "nothing to send: "+plan.stdout+plan.stderr)
	assert.Contains(t, plan.stdout, `"address": "module.team.message.hello",
      "action": "noop",`)
	assert.Contains(t, plan.stdout, `"moved_from": "message.hello"`)
	assert.Contains(t, plan.stdout, `"drift": 0`)

	r = f.run(t, nil, "apply", "-auto-approve", at)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Len(t, f.api.Sends(), 2, "nothing was sent again")
	snap := f.snapshot(t, state.DefaultPath)
	require.Contains(t, snap.Records, "module.team.message.hello")
	require.NotContains(t, snap.Records, "message.hello")
	assert.Equal(t, state.StatusSent, snap.Records["module.team.message.hello"].Status)

	// The move is recorded: without the moved block the record is found
	// under its new address.
	src := strings.Split(string(moved), "moved {")[0]
	require.NoError(t, os.WriteFile(main, []byte(src), 0o644))
	plan = f.run(t, nil, "plan", "-detailed-exitcode", at)
	assert.Equal(t, 0, plan.code, plan.stdout+plan.stderr)
	assert.Contains(t, plan.stdout, "No changes")
}

// A module that declares its own group for the thread a root message went
// to (same label, same thread) takes the message over without drift; a
// module group with another thread is drift, never a resend.
func TestMoveIntoModuleWithItsOwnGroup(t *testing.T) {
	f := newModulesFixture(t, "move", applyClock)
	require.Equal(t, 0, f.run(t, nil, "apply", "-auto-approve", at).code)
	write := func(thread string) {
		module := "variable \"thread\" {}\n\ngroup \"eng\" {\n  thread_id = var.thread\n}\n\nmessage \"hello\" {\n  group   = group.eng\n  send_at = \"2026-12-01T07:00:00Z\"\n  text    = \"Hello eng\"\n}\n"
		require.NoError(t, os.WriteFile(filepath.Join(f.dir, "modules", "team", "main.hcl"), []byte(module), 0o644))
		root := "provider \"a1base\" {\n  account_id = \"acc_test\"\n  from       = \"+14155552671\"\n}\n\nmodule \"team\" {\n  source = \"./modules/team\"\n  thread = \"" + thread + "\"\n}\n\nmoved {\n  from = message.hello\n  to   = module.team.message.hello\n}\n\nmoved {\n  from = message.stays\n  to   = module.team.message.gone\n}\n"
		require.NoError(t, os.WriteFile(filepath.Join(f.dir, "main.hcl"), []byte(root), 0o644))
	}
	write("t-eng")
	plan := f.run(t, nil, "plan", "-json", at)
	assert.Equal(t, 1, plan.code, "a moved block to a message that does not exist is an error")
	assert.Contains(t, plan.stderr, "module.team.message.gone")

	write("t-eng")
	root, err := os.ReadFile(filepath.Join(f.dir, "main.hcl"))
	require.NoError(t, err)
	fixed := strings.Replace(string(root), "moved {\n  from = message.stays\n  to   = module.team.message.gone\n}\n", "", 1)
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "main.hcl"), []byte(fixed), 0o644))
	plan = f.run(t, nil, "plan", "-json", at)
	require.Equal(t, 0, plan.code, plan.stderr)
	assert.Contains(t, plan.stdout, `"address": "module.team.message.hello",
      "action": "noop",`)

	other := strings.Replace(fixed, `thread = "t-eng"`, `thread = "t-other"`, 1)
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "main.hcl"), []byte(other), 0o644))
	plan = f.run(t, nil, "plan", "-json", at)
	require.Equal(t, 0, plan.code, plan.stderr)
	assert.Contains(t, plan.stdout, `"address": "module.team.message.hello",
      "action": "drift",`)
	r := f.run(t, nil, "apply", "-auto-approve", at)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Len(t, f.api.Sends(), 2, "drift is never resent by itself")
}

// fmt -recursive reaches the module directories; plain fmt formats the
// working directory only.
func TestFmtRecursiveCoversModules(t *testing.T) {
	dir := copyTree(t, "modules", "org")
	mod := filepath.Join(dir, "modules", "weekly", "main.hcl")
	src, err := os.ReadFile(mod)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(mod, []byte(strings.Replace(string(src), "  timezone  = var.timezone", "  timezone=var.timezone", 1)), 0o644))

	plain := runMain(t, dir, "", "fmt", "-check")
	assert.Equal(t, 0, plain.code, plain.stdout+plain.stderr)
	check := runMain(t, dir, "", "fmt", "-check", "-recursive")
	assert.Equal(t, 3, check.code, check.stdout+check.stderr)
	assert.Equal(t, "modules/weekly/main.hcl\n", check.stdout)
	fix := runMain(t, dir, "", "fmt", "-recursive")
	require.Equal(t, 0, fix.code, fix.stderr)
	got, err := os.ReadFile(mod)
	require.NoError(t, err)
	assert.Equal(t, string(src), string(got))
}

// examples/organisation validates, plans and applies against the sandbox:
// one module for three communities in their own zones and languages.
func TestOrganisationExample(t *testing.T) {
	src := exampleDir(t, "organisation")
	r := runMain(t, src, "", "validate")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	fmtCheck := runMain(t, src, "", "fmt", "-check", "-recursive")
	require.Equal(t, 0, fmtCheck.code, fmtCheck.stdout+fmtCheck.stderr)

	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(src)))
	const exampleAt = "-at=2027-03-01T08:10:00Z"
	plan := runMain(t, dir, "", "plan", exampleAt, "-json")
	require.Equal(t, 0, plan.code, plan.stderr)
	for _, want := range []string{
		`"address": "module.community[\"berlin\"].message.standup[\"2027-03-01T09:00:00+01:00\"]",
      "action": "send",`,
		`"address": "module.community[\"tokyo\"].message.standup[\"2027-03-01T09:00:00+09:00\"]",
      "action": "expire",`,
		`"address": "module.community[\"sao_paulo\"].message.standup[\"2027-03-01T09:00:00-03:00\"]",
      "action": "wait",`,
		`"text": "おはようございます! 15分後にスタンドアップ. Agenda: https://example.com/standup"`,
		`"text": "This week's programme goes to berlin (Europe/Berlin), sao_paulo (America/Sao_Paulo), tokyo (Asia/Tokyo)."`,
		`"provider": "a1base.hq",
      "account_id": "acc_organisation_hq",`,
		`"provider": "a1base",
      "account_id": "acc_organisation",`,
	} {
		assert.Contains(t, plan.stdout, want)
	}
	// The example's account rate limit waits on the clock, so apply runs
	// on one that moves.
	f := &applyFixture{dir: dir, env: map[string]string{}}
	moving := func(e *Env) { e.Now = clock.Now }
	apply := f.run(t, moving, "apply", "-sandbox", "-auto-approve", exampleAt)
	require.Equal(t, 0, apply.code, apply.stdout+apply.stderr)
	assert.Contains(t, apply.stdout, "Apply complete: 2 sent, 0 failed, 1 expired")
	again := f.run(t, moving, "apply", "-sandbox", "-auto-approve", exampleAt)
	require.Equal(t, 0, again.code, again.stdout+again.stderr)
	assert.NotContains(t, again.stdout, "sent (attempt")
}
