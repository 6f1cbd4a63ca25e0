package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/require"
)

const notifyBase = `
provider "a1base" {
  account_id = "acc"
  from       = "+14155552671"
}
group "organisers" { thread_id = "t-org" }
variable "slack_url" {
  type      = string
  sensitive = true
}
variable "hook_url" {
  type = string
}
variable "hook_secret" {
  type      = string
  sensitive = true
}
variable "plain_secret" {
  type    = string
  default = "not-hidden"
}
`

// loadNotify loads notifyBase plus src with the variables set through the
// environment, as a CI job would set them.
func loadNotify(t *testing.T, src string) (*Config, hcl.Diagnostics) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(notifyBase+src), 0o644))
	env := map[string]string{
		"HERALD_VAR_slack_url":   "https://hooks.slack.example/services/T000/B000/SLACKTOKEN",
		"HERALD_VAR_hook_url":    "https://ops.example/herald",
		"HERALD_VAR_hook_secret": "HOOKSECRET",
	}
	return Load(dir, LoadOptions{Getenv: func(k string) string { return env[k] }})
}

func TestNotifyValid(t *testing.T) {
	cfg, diags := loadNotify(t, `
notify "ops-slack" {
  slack { url = var.slack_url }
  events = ["expired", "failed"]
}
notify "ops-hook" {
  webhook {
    url    = var.hook_url
    secret = var.hook_secret
  }
  events = ["apply_summary", "drift", "takeover", "skipped", "unknown", "not_delivered"]
}
notify "organisers" {
  group  = group.organisers
  events = ["failed"]
}
notify "local" {
  webhook { url = "http://127.0.0.1:9999/hook" }
  events  = ["failed"]
}
`)
	require.False(t, diags.HasErrors(), diagText(cfg, diags))
	require.Len(t, cfg.Notify, 4)
	byName := map[string]*Notify{}
	for _, n := range cfg.Notify {
		byName[n.Name] = n
	}
	require.Equal(t, []string{"local", "ops-hook", "ops-slack", "organisers"}, []string{cfg.Notify[0].Name, cfg.Notify[1].Name, cfg.Notify[2].Name, cfg.Notify[3].Name})
	s := byName["ops-slack"]
	require.Equal(t, NotifySlack, s.Kind)
	require.Equal(t, []string{"failed", "expired"}, s.Events, "events come in NotifyEvents order")
	require.True(t, s.Wants("failed"))
	require.False(t, s.Wants("drift"))
	h := byName["ops-hook"]
	require.Equal(t, NotifyWebhook, h.Kind)
	require.Equal(t, "https://ops.example/herald", h.URL)
	require.Equal(t, "HOOKSECRET", h.Secret)
	o := byName["organisers"]
	require.Equal(t, NotifyGroup, o.Kind)
	require.NotNil(t, o.Group)
	require.Equal(t, "t-org", o.Group.ThreadID)
	require.Equal(t, "", byName["local"].Secret)
}

func TestNotifyInvalid(t *testing.T) {
	for _, tc := range []struct {
		name, src, summary string
		// line is the line of src (from 1) the diagnostic must point at.
		line int
	}{
		{"no destination", `notify "x" {
  events = ["failed"]
}`, "Missing notification destination", 1},
		{"two destinations", `notify "x" {
  slack { url = var.slack_url }
  webhook { url = var.hook_url }
  events = ["failed"]
}`, "Several notification destinations", 3},
		{"no events", `notify "x" {
  webhook { url = var.hook_url }
}`, "Missing required argument", 1},
		{"unknown event", `notify "x" {
  webhook { url = var.hook_url }
  events  = ["failed", "faild2"]
}`, "Invalid events", 3},
		{"empty events", `notify "x" {
  webhook { url = var.hook_url }
  events  = []
}`, "Invalid events", 3},
		{"event twice", `notify "x" {
  webhook { url = var.hook_url }
  events  = ["failed", "failed"]
}`, "Invalid events", 3},
		{"literal secret", `notify "x" {
  webhook {
    url    = var.hook_url
    secret = "s3cr3t-literal"
  }
  events = ["failed"]
}`, "Webhook secret not sensitive", 4},
		{"plain variable secret", `notify "x" {
  webhook {
    url    = var.hook_url
    secret = var.plain_secret
  }
  events = ["failed"]
}`, "Webhook secret not sensitive", 4},
		{"slack url literal", `notify "x" {
  slack { url = "https://hooks.slack.example/services/T/B/LITERALTOKEN" }
  events = ["failed"]
}`, "Slack webhook URL not sensitive", 2},
		{"plain http", `notify "x" {
  webhook { url = "http://ops.example/hook?token=PLAINTOKEN" }
  events  = ["failed"]
}`, "Invalid notification URL", 2},
		{"unknown group", `notify "x" {
  group  = group.organizers
  events = ["failed"]
}`, "Reference to undeclared group", 2},
		{"duplicate name", `notify "x" {
  webhook { url = var.hook_url }
  events  = ["failed"]
}
notify "x" {
  webhook { url = var.hook_url }
  events  = ["failed"]
}`, "Duplicate notify block", 5},
		{"unknown attribute", `notify "x" {
  webhook {
    url = var.hook_url
    token = "x"
  }
  events = ["failed"]
}`, "Unsupported argument", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := loadNotify(t, tc.src)
			require.True(t, diags.HasErrors(), "expected an error")
			offset := strings.Count(notifyBase, "\n")
			found := false
			for _, d := range diags {
				for _, secret := range []string{"SLACKTOKEN", "HOOKSECRET", "s3cr3t-literal", "LITERALTOKEN", "PLAINTOKEN", "not-hidden"} {
					require.NotContains(t, d.Detail, secret, "a diagnostic shows a credential")
				}
				if d.Severity == hcl.DiagError && strings.Contains(d.Summary, tc.summary) && d.Subject != nil && d.Subject.Start.Line == offset+tc.line {
					found = true
				}
			}
			require.True(t, found, "no %q on line %d:\n%s", tc.summary, tc.line, diagText(cfg, diags))
		})
	}
}

func TestNotifyInModuleRefused(t *testing.T) {
	dir := t.TempDir()
	mod := filepath.Join(dir, "mod")
	require.NoError(t, os.MkdirAll(mod, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(`
provider "a1base" {
  account_id = "acc"
  from       = "+14155552671"
}
module "m" { source = "./mod" }
`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(mod, "main.hcl"), []byte(`
notify "x" {
  webhook { url = "https://ops.example/hook" }
  events  = ["failed"]
}
`), 0o644))
	cfg, diags := Load(dir, LoadOptions{Getenv: func(string) string { return "" }})
	require.True(t, diags.HasErrors())
	require.Contains(t, diagText(cfg, diags), "Notify block in a module")
}

// TestNotifyNullURL: a URL variable left null (a plan without the
// secrets) leaves the block out with a warning, not an error.
func TestNotifyNullURL(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(`
variable "slack_url" {
  type      = string
  sensitive = true
  default   = null
}
notify "ops" {
  slack { url = var.slack_url }
  events = ["failed"]
}
`), 0o644))
	cfg, diags := Load(dir, LoadOptions{Getenv: func(string) string { return "" }})
	require.False(t, diags.HasErrors(), diagText(cfg, diags))
	require.Len(t, diags, 1)
	require.Equal(t, "Notification URL not set", diags[0].Summary)
	require.Equal(t, 8, diags[0].Subject.Start.Line)
	require.Empty(t, cfg.Notify)
}
