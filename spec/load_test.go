package spec

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// caseOptions is a test case's optional test.json: the variables and
// environment it loads with, and the diagnostics expected besides the
// ones marked in its files.
type caseOptions struct {
	Vars []VarArg
	Env  map[string]string
	// Warnings are summaries of warnings the case must produce.
	Warnings []string
	// Errors are summaries of errors that have no line in the case's
	// files (about -var values or files that cannot be read).
	Errors []string
	// At is the clock, RFC 3339, for cases with repeat messages.
	At string
}

func readCaseOptions(t *testing.T, dir string) caseOptions {
	t.Helper()
	var opts caseOptions
	b, err := os.ReadFile(filepath.Join(dir, "test.json"))
	if os.IsNotExist(err) {
		return opts
	}
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&opts))
	return opts
}

func (o caseOptions) load(dir string) (*Config, hcl.Diagnostics) {
	var at time.Time
	if o.At != "" {
		var err error
		if at, err = time.Parse(time.RFC3339, o.At); err != nil {
			panic("test.json: bad At: " + err.Error())
		}
	}
	return Load(dir, LoadOptions{
		Vars:   o.Vars,
		Getenv: func(k string) string { return o.Env[k] },
		At:     at,
	})
}

func caseDirs(t *testing.T, kind string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("testdata", kind))
	require.NoError(t, err)
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join("testdata", kind, e.Name()))
		}
	}
	require.NotEmpty(t, dirs)
	return dirs
}

func TestValid(t *testing.T) {
	for _, dir := range caseDirs(t, "valid") {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			opts := readCaseOptions(t, dir)
			cfg, diags := opts.load(dir)
			require.NotNil(t, cfg)
			require.False(t, diags.HasErrors(), "%s", diagText(cfg, diags))
			var warnings []string
			for _, d := range diags {
				warnings = append(warnings, d.Summary)
			}
			require.ElementsMatch(t, opts.Warnings, warnings, "%s", diagText(cfg, diags))
			require.NotEmpty(t, cfg.Hash)

			got, err := json.MarshalIndent(render(cfg), "", "  ")
			require.NoError(t, err)
			got = append(got, '\n')
			golden := dir + ".out.json"
			if *update {
				require.NoError(t, os.WriteFile(golden, got, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./spec -update to create the golden file")
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("evaluated model differs from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

// renderedConfig is the evaluated model as the golden files show it.
type renderedConfig struct {
	Provider  map[string]any   `json:"provider"`
	Aliases   []map[string]any `json:"aliases,omitempty"`
	Backend   map[string]any   `json:"backend,omitempty"`
	Groups    []map[string]any `json:"groups"`
	Instances []map[string]any `json:"instances"`
	Moved     []string         `json:"moved,omitempty"`
	Imports   []string         `json:"imports,omitempty"`
	Repeats   []string         `json:"repeats,omitempty"`
}

func renderProvider(p *Provider) map[string]any {
	out := map[string]any{
		"account_id":    p.AccountID,
		"from":          p.From,
		"base_url":      p.BaseURL,
		"rate_limit":    renderRate(p.RateLimit),
		"expires_after": p.ExpiresAfter.String(),
		"check_media":   p.CheckMedia,
	}
	if p.Timezone != nil {
		out["timezone"] = p.Timezone.String()
	}
	if p.Alias != "" {
		out["alias"] = p.Alias
	}
	if p.Endpoint != EndpointGroup {
		out["endpoint"] = p.Endpoint
	}
	return out
}

func render(cfg *Config) renderedConfig {
	out := renderedConfig{Provider: renderProvider(&cfg.Provider)}
	for _, p := range cfg.Providers()[1:] {
		out.Aliases = append(out.Aliases, renderProvider(p))
	}
	if b := cfg.Backend; b != nil {
		out.Backend = map[string]any{"type": b.Type, "conn_str": b.ConnStr, "schema_name": b.SchemaName, "line": b.DeclRange.Start.Line}
	}
	for _, name := range sortedKeys(cfg.Groups) {
		g := cfg.Groups[name]
		rg := map[string]any{
			"name": g.Name, "thread_id": g.ThreadID, "service": g.Service, "from": g.From,
			"rate_limit": renderRate(g.RateLimit), "decl": rangeString(g.DeclRange),
		}
		if g.Timezone != nil {
			rg["timezone"] = g.Timezone.String()
		}
		if g.Provider != cfg.ProviderOf(g.ProviderAlias()) {
			panic("group " + g.Name + " does not point at its configuration's provider")
		}
		if a := g.ProviderAlias(); a != "" {
			rg["provider"] = a
		}
		out.Groups = append(out.Groups, rg)
	}
	for _, in := range cfg.Instances {
		m := map[string]any{
			"address":       in.Addr.String(),
			"group":         in.Group.Name,
			"from":          in.From,
			"service":       in.Service,
			"thread_id":     in.ThreadID,
			"send_at":       in.SendAt.Format("2006-01-02T15:04:05Z07:00"),
			"expires_after": in.ExpiresAfter.String(),
			"sensitive":     in.Sensitive,
			"provider":      in.Group.Provider.Name(),
			"decl":          rangeString(in.DeclRange),
		}
		if in.Timezone != nil {
			m["timezone"] = in.Timezone.String()
		}
		if r := in.Repeat; r != nil {
			rep := map[string]any{"rule": r.Rule, "cron": r.Cron, "timezone": r.Timezone.String(), "remaining": r.Remaining, "period": r.Period.String()}
			for name, t := range map[string]time.Time{"from": r.From, "until": r.Until, "next": r.Next} {
				if !t.IsZero() {
					rep[name] = t.Format(time.RFC3339)
				}
			}
			m["repeat"] = rep
		}
		if in.Media != nil {
			m["media"] = map[string]string{"url": in.Media.URL, "type": in.Media.Type, "caption": in.Media.Caption}
		} else if len([]rune(in.Text)) > 200 {
			m["text"] = fmt.Sprintf("%s... (%d characters)", string([]rune(in.Text)[:20]), len([]rune(in.Text)))
		} else {
			m["text"] = in.Text
		}
		out.Instances = append(out.Instances, m)
	}
	for _, name := range sortedKeys(cfg.Repeats) {
		r := cfg.Repeats[name]
		start := r.From
		if start.IsZero() {
			start = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		out.Repeats = append(out.Repeats, fmt.Sprintf("%s: %s; first %v", name, r.Rule, formatAll(r.Occurrences(start, start.AddDate(10, 0, 0), 3))))
	}
	for _, im := range cfg.Imports {
		s := im.To.String()
		if im.ID != "" {
			s += " id " + im.ID
		}
		out.Imports = append(out.Imports, s)
	}
	for _, mv := range cfg.Moved {
		out.Moved = append(out.Moved, mv.From.String()+" -> "+mv.To.String())
	}
	return out
}

func renderRate(r *RateLimit) any {
	if r == nil {
		return nil
	}
	return fmt.Sprintf("%s (%d per %s, every %s)", r.Text, r.N, r.Per, r.Every())
}

func rangeString(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", filepath.Base(r.Filename), r.Start.Line)
}

func diagText(cfg *Config, diags hcl.Diagnostics) string {
	var buf bytes.Buffer
	w := hcl.NewDiagnosticTextWriter(&buf, cfg.Files, 100, false)
	_ = w.WriteDiagnostics(diags)
	return buf.String()
}

// marker is an "# ERROR: summary" comment: a diagnostic with that summary
// must start on its line.
type marker struct {
	file    string
	line    int
	summary string
}

var markerPattern = regexp.MustCompile(`# ERROR: ([^#]+)`)

func readMarkers(t *testing.T, dir string) []marker {
	t.Helper()
	var out []marker
	// Module directories below the case hold markers too: their errors
	// are located in their own files.
	err := filepath.WalkDir(dir, func(name string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(name, ".hcl") {
			return err
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, name)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range markerPattern.FindAllStringSubmatch(line, -1) {
				out = append(out, marker{file: filepath.ToSlash(rel), line: i + 1, summary: strings.TrimSpace(m[1])})
			}
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

func TestInvalid(t *testing.T) {
	dirs := caseDirs(t, "invalid")
	require.GreaterOrEqual(t, len(dirs), 30, "the issue asks for at least 30 kinds of bad input")
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			opts := readCaseOptions(t, dir)
			markers := readMarkers(t, dir)
			require.NotEmpty(t, append(markers, make([]marker, len(opts.Errors))...), "an invalid case must expect at least one error")
			cfg, diags := opts.load(dir)
			require.NotNil(t, cfg)
			require.Equal(t, dir, cfg.Dir)
			text := diagText(cfg, diags)

			matched := make([]int, len(markers))
			otherMatched := make([]bool, len(opts.Errors))
			var unexpected []string
			var warnings []string
			for _, d := range diags {
				require.NotContains(t, d.Detail, dir, "a diagnostic's text names the machine's directory")
				if d.Severity != hcl.DiagError {
					warnings = append(warnings, d.Summary)
					continue
				}
				ok := false
				rel, relErr := "", error(nil)
				if d.Subject != nil {
					rel, relErr = filepath.Rel(dir, d.Subject.Filename)
				}
				if d.Subject != nil && cfg.Files[d.Subject.Filename] != nil && relErr == nil && filepath.IsLocal(rel) {
					for i, m := range markers {
						if m.file == filepath.ToSlash(rel) && m.line == d.Subject.Start.Line && strings.Contains(d.Summary, m.summary) {
							matched[i]++
							ok = true
						}
					}
				} else {
					for i, s := range opts.Errors {
						if strings.Contains(d.Summary, s) {
							otherMatched[i], ok = true, true
						}
					}
				}
				if !ok {
					where := "(no subject)"
					if d.Subject != nil {
						where = fmt.Sprintf("%s:%d", d.Subject.Filename, d.Subject.Start.Line)
					}
					unexpected = append(unexpected, fmt.Sprintf("%s: %s: %s", where, d.Summary, d.Detail))
				}
				// Every error must say where it is, with a snippet,
				// unless it is about something outside the files.
				if d.Subject == nil {
					require.NotEmpty(t, opts.Errors, "error without a subject: %s", d.Summary)
				}
			}
			for i, m := range markers {
				switch {
				case matched[i] == 0:
					t.Errorf("%s:%d: no error %q here", m.file, m.line, m.summary)
				case matched[i] > 1:
					// One cause, one diagnostic: the same error once per
					// instance or per parser recovery step is noise.
					t.Errorf("%s:%d: %d errors %q here, want one", m.file, m.line, matched[i], m.summary)
				}
			}
			for i, s := range opts.Errors {
				if !otherMatched[i] {
					t.Errorf("no error %q", s)
				}
			}
			for _, u := range unexpected {
				t.Errorf("unexpected error: %s", u)
			}
			require.ElementsMatch(t, opts.Warnings, warnings)
			if t.Failed() {
				t.Logf("diagnostics:\n%s", text)
			}
		})
	}
}

func TestDiagnosticsNeverShowSecrets(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "main.hcl", `
variable "secret" {
  type      = string
  sensitive = true
  validation {
    condition     = var.secret == "right"
    error_message = "Wrong: ${var.secret}."
  }
}
variable "num" {
  type      = number
  sensitive = true
}
group "g" {
  thread_id = "t"
  from      = "+14155552671"
  service   = var.secret
}
message "m" {
  group   = group.g
  send_at = var.secret
  text    = "x"
  expires_after = var.secret
}
backend "postgres" {
  conn_str = 42
  schema_name = "${var.secret}"
}
`)
	cfg, diags := Load(dir, LoadOptions{
		Vars: []VarArg{{Value: "secret=TOPSECRET!"}, {Value: "num=TOPSECRETNUM"}},
		Getenv: func(string) string {
			return ""
		},
	})
	require.True(t, diags.HasErrors())
	text := diagText(cfg, diags)
	require.NotContains(t, text, "TOPSECRET")
	require.Contains(t, text, "sensitive")
	summaries := map[string]bool{}
	for _, d := range diags {
		summaries[d.Summary] = true
	}
	for _, s := range []string{"Invalid value for variable", "Invalid service", "Invalid send_at", "Invalid expires_after", "Invalid schema_name"} {
		require.True(t, summaries[s], "missing %q in:\n%s", s, text)
	}
}

func TestBackendConnStrNeverInDiagnostics(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "main.hcl", `
backend "postgres" {
  conn_str    = "postgres://u:PASSWORD@h/db"
  schema_name = "bad name"
}
`)
	_, diags := Load(dir, LoadOptions{Getenv: func(string) string { return "" }})
	require.True(t, diags.HasErrors())
	for _, d := range diags {
		require.NotContains(t, d.Summary+d.Detail, "PASSWORD")
	}
}

func TestHash(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "main.hcl", `
variable "secret" {
  type      = string
  sensitive = true
}
variable "plain" { type = string }
group "g" {
  thread_id = "t"
  from      = "+14155552671"
}
message "m" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  text    = "${var.plain} ${var.secret}"
}
`)
	hash := func(plain, secret string) string {
		cfg, diags := Load(dir, LoadOptions{
			Vars:   []VarArg{{Value: "plain=" + plain}, {Value: "secret=" + secret}},
			Getenv: func(string) string { return "" },
		})
		require.False(t, diags.HasErrors(), "%s", diagText(cfg, diags))
		require.True(t, cfg.Instances[0].Sensitive)
		return cfg.Hash
	}
	base := hash("a", "s1")
	require.Equal(t, base, hash("a", "s1"), "the hash is deterministic")
	require.Equal(t, base, hash("a", "s2"), "sensitive values are not part of the hash")
	require.NotEqual(t, base, hash("b", "s1"), "non-sensitive values are")

	write(t, dir, "other.hcl", "# a comment changes the configuration bytes\n")
	require.NotEqual(t, base, hash("a", "s1"), "configuration files are")
	write(t, dir, "x.vars.hcl", "plain = \"ignored\"\n")
	require.Equal(t, hash("a", "s1"), hash("a", "s1"))
}

func TestLoadMissingDirectory(t *testing.T) {
	cfg, diags := Load(filepath.Join(t.TempDir(), "nope"), LoadOptions{})
	require.NotNil(t, cfg)
	require.NotNil(t, cfg.Files)
	require.True(t, diags.HasErrors())
	require.Equal(t, "Failed to read configuration directory", diags[0].Summary)
}

func TestLoadEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "only.vars.hcl", "a = 1\n")
	_, diags := Load(dir, LoadOptions{})
	require.True(t, diags.HasErrors())
	require.Equal(t, "No configuration files", diags[0].Summary)
}

func TestInstancesSorted(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "main.hcl", `
group "g" {
  thread_id = "t"
  from      = "+14155552671"
}
message "b" {
  for_each = toset(["y", "x", "z"])
  group    = group.g
  send_at  = each.key == "z" ? "2027-01-01T00:00:00Z" : "2027-01-01T01:00:00+01:00"
  text     = each.key
}
message "a" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  text    = "a"
}
message "c" {
  group   = group.g
  send_at = "2026-12-31T23:59:59Z"
  text    = "c"
}
`)
	cfg, diags := Load(dir, LoadOptions{Getenv: func(string) string { return "" }})
	require.False(t, diags.HasErrors(), "%s", diagText(cfg, diags))
	var got []string
	for _, in := range cfg.Instances {
		got = append(got, in.Addr.String())
	}
	// 01:00+01:00 is midnight UTC: equal times order by address.
	require.Equal(t, []string{`message.c`, `message.a`, `message.b["x"]`, `message.b["y"]`, `message.b["z"]`}, got)
	require.True(t, sort.SliceIsSorted(cfg.Instances, func(i, j int) bool {
		return cfg.Instances[i].SendAt.Before(cfg.Instances[j].SendAt)
	}))
}

func TestParseRateLimit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		per  string
		fail bool
	}{
		{in: "10/s", n: 10, per: "1s"},
		{in: "1/5s", n: 1, per: "5s"},
		{in: "100/h", n: 100, per: "1h0m0s"},
		{in: "3/2m", n: 3, per: "2m0s"},
		{in: "0/s", fail: true},
		{in: "1/0s", fail: true},
		{in: "1/d", fail: true},
		{in: "-1/s", fail: true},
		{in: "10", fail: true},
		{in: "10/ s", fail: true},
		{in: "99999999999999999999/s", fail: true},
		{in: "1/99999999999h", fail: true},
	} {
		rl, err := ParseRateLimit(tc.in)
		if tc.fail {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.n, rl.N)
		require.Equal(t, tc.per, rl.Per.String())
		require.Equal(t, tc.in, rl.Text)
		require.Positive(t, rl.Every())
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
}

func TestSuggestions(t *testing.T) {
	for _, tc := range []struct {
		dir, summary, want string
	}{
		{"undeclared_references", "Reference to undeclared input variable", `Did you mean "launch_day"?`},
		{"undeclared_references", "Reference to undeclared local value", `Did you mean "greeting"?`},
		{"undeclared_references", "Reference to undeclared group", `Did you mean "eng"?`},
		{"undeclared_references", "Unknown variable", `Did you mean "var"?`},
		{"unknown_block", "Unsupported block type", `Did you mean "message"?`},
		{"unknown_attribute", "Unsupported argument", `Did you mean "text"?`},
		{"unknown_attribute", "Unsupported argument", `Did you mean "thread_id"?`},
		{"unsupported_provider", "Unsupported provider", `"a1base"`},
		{"moved_errors", "Moved to a message that does not exist", `Did you mean "launch"?`},
		{"bad_vars_file", "Value for undeclared variable", `Did you mean "name"?`},
		{"csv_group_typo", "Invalid group", `No group named "ofice" is declared. Did you mean "office"? (in message.schedule["lunch"])`},
		{"csv_missing_column", "Unsupported attribute", `each.value has the attributes "group", "key" and "send_at". (in all 3 instances of message.schedule, such as message.schedule["fri"])`},
	} {
		dir := filepath.Join("testdata", "invalid", tc.dir)
		_, diags := readCaseOptions(t, dir).load(dir)
		found := false
		for _, d := range diags {
			if d.Summary == tc.summary && strings.Contains(d.Detail, tc.want) {
				found = true
			}
		}
		require.True(t, found, "%s: no %q diagnostic suggesting %s in %v", tc.dir, tc.summary, tc.want, diags)
	}
}

func TestSuggest(t *testing.T) {
	commands := []string{"apply", "fmt", "plan", "run", "sandbox", "show", "state", "validate", "version"}
	for _, tc := range []struct {
		given   string
		options []string
		want    string
	}{
		{"foo", commands, ""}, // two edits from "fmt": another word
		{"fm", commands, "fmt"},
		{"fnt", commands, "fmt"},
		{"egn", []string{"eng", "sales"}, "eng"}, // a swap is one edit
		{"paln", commands, "plan"},
		{"valdate", commands, "validate"},
		{"vaildtae", commands, ""}, // three edits
		{"stat", commands, "state"},
		{"lanch_day", []string{"launch_day"}, "launch_day"},
		{"xyzzy", commands, ""},
		{"", commands, ""},
	} {
		require.Equal(t, tc.want, Suggest(tc.given, tc.options), tc.given)
	}
}

func TestGetenvDefaultsToOSEnvironment(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "main.hcl", `
variable "name" { type = string }
variable "n" { type = number }
group "g" {
  thread_id = "t-${var.name}"
  from      = "+14155552671"
}
`)
	t.Setenv("HERALD_VAR_name", "from-os")
	t.Setenv("HERALD_VAR_n", "2 + 3")
	t.Setenv("A1BASE_ACCOUNT_ID", "acc_os")
	t.Setenv("A1BASE_BASE_URL", "")
	cfg, diags := Load(dir, LoadOptions{})
	require.False(t, diags.HasErrors(), "%s", diagText(cfg, diags))
	require.Equal(t, "t-from-os", cfg.Groups["g"].ThreadID)
	require.Equal(t, "acc_os", cfg.Provider.AccountID)
	require.Equal(t, DefaultBaseURL, cfg.Provider.BaseURL)
	require.Nil(t, cfg.Backend)
}

// TestManyMessages loads enough message blocks to be expanded in parallel
// (go test -race checks the sharing) and checks the result is complete,
// ordered and the same on every load.
func TestManyMessages(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "body.tmpl", "Hello ${who}")
	var sb strings.Builder
	sb.WriteString(`
locals { names = { a = "Ann", b = "Bob" } }
group "g" {
  thread_id = "t"
  from      = "+14155552671"
}
`)
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&sb, `
message "m%03d" {
  for_each = local.names
  group    = group.g
  send_at  = timeadd("2027-01-01T00:00:00Z", "%dm")
  text     = "${templatefile("body.tmpl", { who = each.value })} %s #%d"
}
`, i, 500-i, "${upper(each.key)}", i)
	}
	write(t, dir, "main.hcl", sb.String())
	opts := LoadOptions{Getenv: func(string) string { return "" }}
	first, diags := Load(dir, opts)
	require.False(t, diags.HasErrors(), "%s", diagText(first, diags))
	require.Len(t, first.Instances, 1000)
	require.Equal(t, `message.m499["a"]`, first.Instances[0].Addr.String())
	require.Equal(t, "Hello Ann A #499", first.Instances[0].Text)
	require.Equal(t, `message.m000["b"]`, first.Instances[999].Addr.String())
	require.Equal(t, "Hello Bob B #0", first.Instances[999].Text)
	again, _ := Load(dir, opts)
	for i := range first.Instances {
		require.Equal(t, first.Instances[i].Addr, again.Instances[i].Addr)
		require.Equal(t, first.Instances[i].Text, again.Instances[i].Text)
	}
	require.Equal(t, first.Hash, again.Hash)
}

func TestValidName(t *testing.T) {
	for _, s := range []string{"a", "_", "eng", "eng-team", "a1", "Ünïcode", "x_y-z9"} {
		require.True(t, validName(s), s)
		require.Equal(t, hclsyntax.ValidIdentifier(s), validName(s), s)
	}
	for _, s := range []string{"", "1a", "-a", "a b", "a.b", "a/b", "é b", "a\x00"} {
		require.False(t, validName(s), s)
		require.Equal(t, hclsyntax.ValidIdentifier(s), validName(s), s)
	}
}

// TestVariableValueTypeErrors checks that a -var or HERALD_VAR_ value of
// the wrong shape gives one error per value, naming the type var.NAME
// expects and how to write one.
func TestVariableValueTypeErrors(t *testing.T) {
	dir := filepath.Join("testdata", "invalid", "object_variable_values")
	_, diags := readCaseOptions(t, dir).load(dir)
	var details []string
	for _, d := range diags {
		require.Equal(t, "Invalid value for variable", d.Summary, d.Detail)
		details = append(details, d.Detail)
	}
	require.Len(t, details, 3, "one error per bad value: %q", details)
	require.Contains(t, details[0], "The value given with the environment variable HERALD_VAR_limits is not a value of the type var.limits expects, map(number)")
	require.Contains(t, details[0], "HERALD_VAR_limits='{ key = 42 }'")
	require.Contains(t, details[1], "The value given with -var is not a value of the type var.team expects, object({name=string,size=number})")
	require.Contains(t, details[1], "-var 'team={ name = \"text\", size = 42 }'")
	require.NotContains(t, details[1], "Variables not allowed")
	// A value that parses but has the wrong shape says the same.
	require.Contains(t, details[2], "var.owners declared at main.hcl:12, which expects list(string)")
}

// TestInstanceErrorsMerged checks that one cause failing several for_each
// instances is one diagnostic naming them, and that different causes stay
// apart.
func TestInstanceErrorsMerged(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "main.hcl", `
group "g" {
  thread_id = "t"
  from      = "+14155552671"
}
message "m" {
  for_each = toset(["a", "b", "c", "d", "e", "f"])
  group    = group.g
  send_at  = each.key == "a" ? "2027-01-01T00:00:00Z" : (each.key == "f" ? "later" : "tomorrow")
  text     = "x"
}
`)
	_, diags := Load(dir, LoadOptions{Getenv: func(string) string { return "" }})
	var got []string
	for _, d := range diags {
		got = append(got, d.Summary+": "+d.Detail)
	}
	require.Equal(t, []string{
		`Invalid send_at: "tomorrow" is not an RFC 3339 time with an offset, such as "2026-12-01T09:00:00+01:00" or "2026-12-01T08:00:00Z". (in message.m["b"], message.m["c"], message.m["d"] and 1 more instances of message.m)`,
		`Invalid send_at: "later" is not an RFC 3339 time with an offset, such as "2026-12-01T09:00:00+01:00" or "2026-12-01T08:00:00Z". (in message.m["f"])`,
	}, got)
}

// TestSensitiveMediaParts: a media message is sensitive when its URL or
// its caption is built from a sensitive value, and Media says which of the
// two was built plainly; IsSensitiveVar names the sensitive variables.
func TestSensitiveMediaParts(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "main.hcl", `
variable "secret" {
  type      = string
  sensitive = true
}
group "g" {
  thread_id = "t"
  from      = "+14155552671"
}
message "caption" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  media {
    url     = "https://example.com/poster.png"
    type    = "image"
    caption = "code ${var.secret}"
  }
}
message "url" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  media {
    url     = "https://example.com/x?token=${var.secret}"
    type    = "image"
    caption = "plain words"
  }
}
message "none" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  media {
    url  = "https://example.com/y.png"
    type = "image"
  }
}
`)
	cfg, diags := Load(dir, LoadOptions{Vars: []VarArg{{Value: "secret=s3cr3t"}}, Getenv: func(string) string { return "" }})
	require.False(t, diags.HasErrors(), "%s", diagText(cfg, diags))
	by := map[string]*Instance{}
	for _, in := range cfg.Instances {
		by[in.Addr.String()] = in
	}
	require.True(t, by["message.caption"].Sensitive)
	require.True(t, by["message.caption"].Media.PlainURL)
	require.False(t, by["message.caption"].Media.PlainCaption)
	require.True(t, by["message.url"].Sensitive)
	require.False(t, by["message.url"].Media.PlainURL)
	require.True(t, by["message.url"].Media.PlainCaption)
	require.False(t, by["message.none"].Sensitive)
	require.True(t, cfg.IsSensitiveVar("secret"))
	require.False(t, cfg.IsSensitiveVar("plain"))
}
