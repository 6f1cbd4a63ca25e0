package command

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	a1sandbox "github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/internal/plankey"
)

// sensitiveAddressSecret is the sensitive value of the configurations
// below; no output may hold it.
const sensitiveAddressSecret = "t-hidden-7f3a9"

// Every attribute herald shows in plans or stores in saved plans and state
// (thread_id, from, account_id, the group a message goes to, send_at,
// service, ...) refuses sensitive values with a diagnostic on the
// attribute, like for_each: unlike a text, they cannot be withheld there.
func TestSensitiveAddressesAreRefused(t *testing.T) {
	const vars = `
variable "secret" {
  type      = string
  sensitive = true
  default   = "` + sensitiveAddressSecret + `"
}
variable "number" {
  type      = string
  sensitive = true
  default   = "+14155550123"
}
`
	const message = `
message "m" {
  group   = group.g
  send_at = "2026-12-01T07:00:00Z"
  text    = "hello"
}
`
	tests := []struct {
		name    string
		files   map[string]string
		summary string
		// mark is the text of the attribute the diagnostic must cover,
		// found in file.
		file, mark string
	}{
		{
			name: "group thread_id",
			files: map[string]string{"main.hcl": vars + `
group "g" {
  thread_id = "t-${var.secret}"
  from      = "+14155552671"
}
` + message},
			summary: "Invalid thread_id", file: "main.hcl", mark: `"t-${var.secret}"`,
		},
		{
			name: "group from",
			files: map[string]string{"main.hcl": vars + `
group "g" {
  thread_id = "t-1"
  from      = var.number
}
` + message},
			summary: "Invalid from", file: "main.hcl", mark: `var.number`,
		},
		{
			name: "provider from",
			files: map[string]string{"main.hcl": vars + `
provider "a1base" {
  account_id = "acc_1"
  from       = lower(var.number)
}
group "g" { thread_id = "t-1" }
` + message},
			summary: "Invalid from", file: "main.hcl", mark: `lower(var.number)`,
		},
		{
			name: "provider account_id",
			files: map[string]string{"main.hcl": vars + `
provider "a1base" {
  account_id = var.secret
  from       = "+14155552671"
}
group "g" { thread_id = "t-1" }
` + message},
			summary: "Invalid account_id", file: "main.hcl", mark: `var.secret`,
		},
		{
			name: "send_at",
			files: map[string]string{"main.hcl": vars + `
group "g" {
  thread_id = "t-1"
  from      = "+14155552671"
}
message "m" {
  group   = group.g
  send_at = var.secret == "" ? "2026-12-01T07:00:00Z" : "2026-12-01T07:30:00Z"
  text    = "hello"
}
`},
			summary: "Invalid send_at", file: "main.hcl", mark: `var.secret == "" ? "2026-12-01T07:00:00Z" : "2026-12-01T07:30:00Z"`,
		},
		{
			name: "service",
			files: map[string]string{"main.hcl": vars + `
group "g" {
  thread_id = "t-1"
  from      = "+14155552671"
  service   = sensitive("telegram")
}
` + message},
			summary: "Invalid service", file: "main.hcl", mark: `sensitive("telegram")`,
		},
		{
			name: "media type",
			files: map[string]string{"main.hcl": vars + `
group "g" {
  thread_id = "t-1"
  from      = "+14155552671"
}
message "m" {
  group   = group.g
  send_at = "2026-12-01T07:00:00Z"
  media {
    url  = "https://example.com/a.pdf"
    type = sensitive("document")
  }
}
`},
			summary: "Invalid type", file: "main.hcl", mark: `sensitive("document")`,
		},
		{
			name: "message timezone",
			files: map[string]string{"main.hcl": vars + `
group "g" {
  thread_id = "t-1"
  from      = "+14155552671"
}
message "m" {
  group    = group.g
  timezone = sensitive("Europe/Berlin")
  send_at  = "2026-12-01 08:00"
  text     = "hello"
}
`},
			summary: "Invalid timezone", file: "main.hcl", mark: `sensitive("Europe/Berlin")`,
		},
		{
			name: "provider base_url",
			files: map[string]string{"main.hcl": vars + `
provider "a1base" {
  account_id = "acc_1"
  from       = "+14155552671"
  base_url   = "https://${var.secret}.example.com/v1"
}
group "g" { thread_id = "t-1" }
` + message},
			summary: "Invalid base_url", file: "main.hcl", mark: `"https://${var.secret}.example.com/v1"`,
		},
		{
			name: "repeat until",
			files: map[string]string{"main.hcl": vars + `
group "g" {
  thread_id = "t-1"
  from      = "+14155552671"
}
message "m" {
  group = group.g
  repeat {
    cron  = "0 9 * * *"
    until = sensitive("2027-01-01T00:00:00Z")
  }
  text = "hello"
}
`},
			summary: "Invalid until", file: "main.hcl", mark: `sensitive("2027-01-01T00:00:00Z")`,
		},
		{
			name: "group chosen by a sensitive value",
			files: map[string]string{"main.hcl": vars + `
group "g" {
  thread_id = "t-1"
  from      = "+14155552671"
}
message "m" {
  group   = var.secret == "x" ? group.g : group.g
  send_at = "2026-12-01T07:00:00Z"
  text    = "hello"
}
`},
			summary: "Invalid group", file: "main.hcl", mark: `var.secret == "x" ? group.g : group.g`,
		},
		{
			name: "thread_id through a module variable",
			files: map[string]string{
				"main.hcl": vars + `
module "team" {
  source = "./team"
  thread = var.secret
}
`,
				"team/main.hcl": `
variable "thread" { type = string }
group "g" {
  thread_id = var.thread
  from      = "+14155552671"
}
` + message,
			},
			summary: "Invalid thread_id", file: filepath.Join("team", "main.hcl"), mark: `var.thread`,
		},
		{
			name: "thread_id through a sensitive module output",
			files: map[string]string{
				"main.hcl": `
module "ids" { source = "./ids" }
group "g" {
  thread_id = module.ids.thread
  from      = "+14155552671"
}
` + message,
				"ids/main.hcl": `
output "thread" {
  value     = "t-1"
  sensitive = true
}
`,
			},
			summary: "Invalid thread_id", file: "main.hcl", mark: `module.ids.thread`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, src := range tt.files {
				require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644))
			}
			src := tt.files[tt.file]
			off := strings.Index(src, tt.mark)
			require.GreaterOrEqual(t, off, 0)
			wantLine := strings.Count(src[:off], "\n") + 1
			wantCol := off - strings.LastIndex(src[:off], "\n")

			r := runMain(t, dir, "", "validate", "-json")
			assert.Equal(t, 1, r.code, r.stdout+r.stderr)
			var doc views.ValidateDocument
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc), r.stdout)
			var found *views.JSONDiagnostic
			for i, d := range doc.Diagnostics {
				if d.Summary == tt.summary && strings.Contains(d.Detail, "ensitive") {
					found = &doc.Diagnostics[i]
				}
			}
			require.NotNil(t, found, "no %q diagnostic about a sensitive value: %s", tt.summary, r.stdout)
			require.NotNil(t, found.Range)
			assert.Equal(t, tt.file, relTo(dir, found.Range.Filename))
			assert.Equal(t, wantLine, found.Range.Start.Line)
			assert.Equal(t, wantCol, found.Range.Start.Column)
			assert.Equal(t, off+len(tt.mark), found.Range.End.Byte)

			// plan stops the same way, printing the diagnostic and
			// nothing of the value.
			p := runMain(t, dir, "", "plan", "-no-color", "-at=2026-12-01T08:00:00Z")
			assert.Equal(t, 1, p.code, p.stdout+p.stderr)
			assert.Contains(t, p.stderr, "Error: "+tt.summary)
			for _, out := range []string{r.stdout, r.stderr, p.stdout, p.stderr} {
				assert.NotContains(t, out, sensitiveAddressSecret)
			}
		})
	}
}

func relTo(dir, name string) string {
	if rel, err := filepath.Rel(dir, name); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return name
}

// An error answer that echoes a sensitive message's text, media URL or
// caption (whole, JSON-escaped or cut short) leaves no trace of it in what
// apply prints or in the state's last_error.
func TestApplyErrorsEchoingSensitiveContentAreRedacted(t *testing.T) {
	f := newApplyFixture(t)
	const (
		text    = `Door code 4711-ZEBRA-91 for the "night" shift <b>`
		url     = "https://files.example/secret-plan-ZEBRA.pdf?sig=abc"
		caption = "Caption ZEBRA-77 for the board"
	)
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "main.hcl"), []byte(`
provider "a1base" {
  account_id = "acc_test"
  from       = "+14155552671"
}
variable "code" {
  type      = string
  sensitive = true
}
variable "file" {
  type      = string
  sensitive = true
}
group "eng" { thread_id = "t-eng" }
message "a" {
  group   = group.eng
  send_at = "2026-12-01T07:00:00Z"
  text    = "Door code ${var.code} for the \"night\" shift <b>"
}
message "b" {
  group   = group.eng
  send_at = "2026-12-01T07:10:00Z"
  text    = "Door code ${var.code} for the \"night\" shift <b>"
}
message "c" {
  group   = group.eng
  send_at = "2026-12-01T07:20:00Z"
  media {
    url     = "https://files.example/${var.file}?sig=abc"
    type    = "document"
    caption = "Caption ${var.code == "" ? "" : "ZEBRA-77"} for the board"
  }
}
message "d" {
  group   = group.eng
  send_at = "2026-12-01T07:30:00Z"
  text    = "Door code ${var.code} for the \"night\" shift <b>"
}
`), 0o644))
	f.env["HERALD_VAR_code"] = "4711-ZEBRA-91"
	f.env["HERALD_VAR_file"] = "secret-plan-ZEBRA.pdf"

	quoted, err := json.Marshal(text)
	require.NoError(t, err)
	f.api.Script(
		// The text quoted in a string detail.
		a1sandbox.Reply{Status: http.StatusBadRequest, Body: `{"detail":"Content rejected: '` + string(quoted[1:len(quoted)-1]) + `' is not allowed"}`},
		// The text in a detail of another shape, re-encoded as JSON.
		a1sandbox.Reply{Status: http.StatusBadRequest, Body: `{"detail":{"content":` + string(quoted) + `}}`},
		// The URL and caption in a 422's problems.
		a1sandbox.Reply{Status: http.StatusUnprocessableEntity, Body: `{"detail":[` +
			`{"loc":["body","attachment_uri"],"msg":"cannot fetch ` + url + `","type":"value_error"},` +
			`{"loc":["body","content"],"msg":"caption '` + caption + `' is too long","type":"value_error"}]}`},
		// The text cut short.
		a1sandbox.Reply{Status: http.StatusBadRequest, Body: `{"detail":"Content too long: 'Door code 4711-ZEB...'"}`},
	)
	r := f.run(t, nil, "apply", "-auto-approve", "-no-color", at)
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "Apply complete: 0 sent, 4 failed")
	assert.Contains(t, r.stdout, "A1Base answered 400")
	assert.Contains(t, r.stdout, "attachment_uri: ", "the field a problem is about is still named")

	js := f.run(t, nil, "show", "-json")
	require.Equal(t, 0, js.code, js.stderr)
	list := f.run(t, nil, "state", "show", "message.c")
	require.Equal(t, 0, list.code, list.stderr)
	raw, err := os.ReadFile(filepath.Join(f.dir, "herald.state.json"))
	require.NoError(t, err)

	snap := f.snapshot(t, "herald.state.json")
	for _, addr := range []string{"message.a", "message.b", "message.c", "message.d"} {
		require.NotNil(t, snap.Records[addr], addr)
		assert.Equal(t, "failed", string(snap.Records[addr].Status), addr)
		assert.Contains(t, snap.Records[addr].LastError, "A1Base answered", addr)
	}
	for name, out := range map[string]string{"apply stdout": r.stdout, "apply stderr": r.stderr, "show -json": js.stdout,
		"state show": list.stdout, "state file": string(raw)} {
		for _, secret := range []string{"ZEBRA", "4711", "night", "files.example"} {
			assert.False(t, strings.Contains(out, secret), "%s holds %q", name, secret)
		}
	}
}

// A conn_str whose password holds an unencoded '@' is refused before
// herald connects, with an error that holds no part of the password:
// drivers split such a URL at the first '@', which put the rest of the
// password in the host herald names in its messages.
func TestConnStrWithUnencodedAtPrintsNoPartOfThePassword(t *testing.T) {
	for _, connStr := range []string{
		"postgres://u:p@ss@127.0.0.1:1/db?connect_timeout=5",
		"postgresql://u:pa@s@s@127.0.0.1:1/db",
		"postgres://u:p@ss@127.0.0.1:1",
	} {
		t.Run(connStr, func(t *testing.T) {
			dir := t.TempDir()
			writeConfig(t, dir, backendTestConfig+`
variable "pg" {
  type      = string
  sensitive = true
}
backend "postgres" {
  conn_str = var.pg
}
`)
			for _, args := range [][]string{{"state", "list"}, {"plan", "-no-color", at}} {
				r := runEnv(t, dir, map[string]string{"HERALD_VAR_pg": connStr}, "", args...)
				assert.Equal(t, 1, r.code, r.stdout+r.stderr)
				assert.Contains(t, r.stderr, "%40")
				for _, part := range []string{"p@ss", "ss@", "@s@", "s@127", ":p@", ":pa@"} {
					assert.NotContains(t, r.stdout+r.stderr, part)
				}
			}
		})
	}
	// Written correctly, the password is still never printed, in part or
	// whole: percent-encoded in a URL, or quoted in keyword/value form.
	for _, connStr := range []string{
		"postgres://u:p%40ss%2Fw0rd@127.0.0.1:1/db?connect_timeout=5",
		"host=127.0.0.1 port=1 user=u password='p@ss w0rd' dbname=db connect_timeout=5",
		"host=127.0.0.1 port=1 user=u password=p@ssw0rd dbname=db connect_timeout=5",
	} {
		t.Run(connStr, func(t *testing.T) {
			dir := t.TempDir()
			writeConfig(t, dir, backendTestConfig+`
variable "pg" {
  type      = string
  sensitive = true
}
backend "postgres" {
  conn_str = var.pg
}
`)
			r := runEnv(t, dir, map[string]string{"HERALD_VAR_pg": connStr}, "", "state", "list")
			assert.Equal(t, 1, r.code, r.stdout+r.stderr)
			assert.Contains(t, r.stderr, "127.0.0.1")
			for _, part := range []string{"p@ss", "p%40ss", "w0rd", "ss@"} {
				assert.NotContains(t, r.stdout+r.stderr, part)
			}
		})
	}

	// Written in the file, the same.
	dir := t.TempDir()
	writeConfig(t, dir, backendTestConfig+`
backend "postgres" {
  conn_str = "postgres://u:p@ss@127.0.0.1:1/db?connect_timeout=5"
}
`)
	r := runEnv(t, dir, nil, "", "state", "list")
	assert.Equal(t, 1, r.code)
	assert.NotContains(t, r.stderr, "ss@")
}

const testPlanKey = "plan-key-for-tests-5b0c9e1d7a3f"

// testPlanKeyOnly is an environment holding only HERALD_PLAN_KEY: saved
// plans of sensitive values need a plan key.
func testPlanKeyOnly(k string) string {
	if k == plankey.Env {
		return testPlanKey
	}
	return ""
}

// sensitivePlanFixture is an apply fixture whose only due message is
// built from the sensitive variable code and the sensitive file code.txt.
func sensitivePlanFixture(t *testing.T) *applyFixture {
	t.Helper()
	f := newApplyFixture(t)
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "main.hcl"), []byte(`
provider "a1base" {
  account_id = "acc_test"
  from       = "+14155552671"
}
variable "code" {
  type      = string
  sensitive = true
}
group "eng" { thread_id = "t-eng" }
message "a" {
  group   = group.eng
  send_at = "2026-12-01T07:00:00Z"
  text    = "Door code ${var.code}"
}
message "b" {
  group   = group.eng
  send_at = "2026-12-01T07:10:00Z"
  text    = sensitive(file("code.txt"))
}
`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "code.txt"), []byte("Vault 1234"), 0o644))
	f.env["HERALD_VAR_code"] = "4711"
	f.env["HERALD_PLAN_KEY"] = testPlanKey
	return f
}

// A saved plan made with one sensitive value is refused, sending nothing,
// when applied with another: the plan keeps a keyed hash of each, never
// the value or a plain hash of it.
func TestSavedPlanRefusedWhenASensitiveValueChanged(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, f *applyFixture)
		want   string
	}{
		{"sensitive variable", func(t *testing.T, f *applyFixture) { f.env["HERALD_VAR_code"] = "4712" }, "variable values changed"},
		{"sensitive file content", func(t *testing.T, f *applyFixture) {
			require.NoError(t, os.WriteFile(filepath.Join(f.dir, "code.txt"), []byte("Vault 9999"), 0o644))
		}, "message.b: content changed"},
		{"another plan key", func(t *testing.T, f *applyFixture) { f.env["HERALD_PLAN_KEY"] = testPlanKey + "-other" }, "another plan key"},
		{"no plan key", func(t *testing.T, f *applyFixture) { delete(f.env, "HERALD_PLAN_KEY") }, "HERALD_PLAN_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := sensitivePlanFixture(t)
			p := f.run(t, nil, "plan", "-no-color", at, "-out=saved.plan")
			require.Equal(t, 0, p.code, p.stdout+p.stderr)
			raw, err := os.ReadFile(filepath.Join(f.dir, "saved.plan"))
			require.NoError(t, err)
			for _, s := range []string{"4711", "Vault", "1234", testPlanKey} {
				assert.NotContains(t, string(raw), s)
			}

			tt.change(t, f)
			r := f.run(t, nil, "apply", "-no-color", "saved.plan")
			assert.Equal(t, 1, r.code, r.stdout+r.stderr)
			assert.Contains(t, r.stderr, "the saved plan is stale")
			assert.Contains(t, r.stderr, tt.want)
			assert.Contains(t, r.stderr, "nothing was sent")
			assert.Empty(t, f.api.Contents(), "nothing was sent")
		})
	}

	// Unchanged, it applies.
	f := sensitivePlanFixture(t)
	p := f.run(t, nil, "plan", "-no-color", at, "-out=saved.plan")
	require.Equal(t, 0, p.code, p.stdout+p.stderr)
	r := f.run(t, nil, "apply", "-no-color", "saved.plan")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Equal(t, []string{"Door code 4711", "Vault 1234"}, contents(f.api))
}

// Without HERALD_PLAN_KEY, the plan key is a random key kept in the
// user's configuration directory, made by the first plan -out that needs
// it; a plan without sensitive values needs none.
func TestPlanKeyFile(t *testing.T) {
	f := sensitivePlanFixture(t)
	delete(f.env, "HERALD_PLAN_KEY")
	home := t.TempDir()
	f.env["HOME"] = home
	keyFile := filepath.Join(home, ".config", "herald", "plan.key")

	p := f.run(t, nil, "plan", "-no-color", at, "-out=saved.plan")
	require.Equal(t, 0, p.code, p.stdout+p.stderr)
	fi, err := os.Stat(keyFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	key, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	raw, err := os.ReadFile(filepath.Join(f.dir, "saved.plan"))
	require.NoError(t, err)
	assert.NotContains(t, string(raw), strings.TrimSpace(string(key)))

	// XDG_CONFIG_HOME wins over HOME: another key, so the plan is refused.
	f.env["XDG_CONFIG_HOME"] = t.TempDir()
	r := f.run(t, nil, "apply", "-no-color", "saved.plan")
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "HERALD_PLAN_KEY")
	assert.Empty(t, f.api.Contents())
	delete(f.env, "XDG_CONFIG_HOME")

	r = f.run(t, nil, "apply", "-no-color", "saved.plan")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Len(t, f.api.Contents(), 2)

	// No key anywhere: plan -out of sensitive values says what to set.
	delete(f.env, "HOME")
	p = f.run(t, nil, "plan", "-no-color", at, "-out=other.plan")
	assert.Equal(t, 1, p.code)
	assert.Contains(t, p.stderr, "HERALD_PLAN_KEY")
	assert.NoFileExists(t, filepath.Join(f.dir, "other.plan"))

	// Nothing sensitive: no key needed, none made.
	plain := newApplyFixture(t)
	plain.env["HOME"] = t.TempDir()
	p = plain.run(t, nil, "plan", "-no-color", at, "-out=saved.plan")
	require.Equal(t, 0, p.code, p.stdout+p.stderr)
	assert.NoDirExists(t, filepath.Join(plain.env["HOME"], ".config"))
	r = plain.run(t, nil, "apply", "-no-color", "saved.plan")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)

	// A short HERALD_PLAN_KEY is refused.
	f.env["HERALD_PLAN_KEY"] = "tiny-k3y"
	p = f.run(t, nil, "plan", "-no-color", at, "-out=other.plan")
	assert.Equal(t, 1, p.code)
	assert.Contains(t, p.stderr, "HERALD_PLAN_KEY")
	assert.NotContains(t, p.stderr, "tiny-k3y")
}

// TestPlanSensitiveCaptionShowsURL: a sensitive caption hides only
// itself, not the media URL beside it, in plan, plan -json, plan
// -markdown and show PLANFILE; a URL built from a sensitive value stays
// hidden.
func TestPlanSensitiveCaptionShowsURL(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(testdataDir(t, "plan", "sensitive_media", "main.hcl"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644))

	for _, tc := range []struct{ golden, flag string }{
		{"plan.out.txt", "-no-color"}, {"plan.out.json", "-json"}, {"plan.out.md", "-markdown"},
	} {
		r := runMain(t, dir, "", "plan", "-at=2026-12-01T08:00:00Z", tc.flag)
		require.Equal(t, 0, r.code, r.stderr)
		checkGolden(t, "plan/sensitive_media/"+tc.golden, []byte(r.stdout))
		assert.Contains(t, r.stdout, "https://example.com/launch-poster.png", tc.flag)
		assert.Contains(t, r.stdout, "Q4 figures", tc.flag)
		for _, secret := range []string{"4711", "tok-9f2c", "q4.pdf"} {
			assert.NotContains(t, r.stdout, secret, tc.flag)
		}
	}

	out := runMain(t, dir, "", "plan", "-at=2026-12-01T08:00:00Z", "-out=saved.plan")
	require.Equal(t, 0, out.code, out.stderr)
	data, err := os.ReadFile(filepath.Join(dir, "saved.plan"))
	require.NoError(t, err)
	assert.Contains(t, string(data), "https://example.com/launch-poster.png")
	assert.NotContains(t, string(data), "4711")
	assert.NotContains(t, string(data), "tok-9f2c")
	show := runMain(t, dir, "", "show", "-no-color", "saved.plan")
	require.Equal(t, 0, show.code, show.stderr)
	assert.Contains(t, show.stdout, "media      image https://example.com/launch-poster.png\n      caption\n        (sensitive)\n")
	assert.Contains(t, show.stdout, "media      document (sensitive)\n      caption\n        Q4 figures\n")
}
