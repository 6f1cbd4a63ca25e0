package spec

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUnknownPolicyInheritance: on_unknown and unknown_settle default to
// hold and 5m, and each is inherited on its own from the provider by a
// group and from the group by a message, which may set either.
func TestUnknownPolicyInheritance(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "main.hcl", `
provider "a1base" {
  from           = "+14155552671"
  unknown_settle = "10m"
}
group "plain" { thread_id = "t1" }
group "eager" {
  thread_id  = "t2"
  on_unknown = "resend"
}
message "inherits" {
  group   = group.eager
  send_at = "2027-01-01T00:00:00Z"
  text    = "a"
}
message "own" {
  for_each       = toset(["x"])
  group          = group.eager
  send_at        = "2027-01-01T00:00:00Z"
  on_unknown     = "hold"
  unknown_settle = "${1 + 2}m"
  text           = "b"
}
message "plain" {
  group   = group.plain
  send_at = "2027-01-01T00:00:00Z"
  text    = "c"
}
`)
	cfg, diags := Load(dir, LoadOptions{Getenv: func(string) string { return "" }})
	require.False(t, diags.HasErrors(), "%s", diagText(cfg, diags))
	assert.Equal(t, UnknownPolicy{OnUnknown: OnUnknownHold, Settle: 10 * time.Minute}, cfg.Provider.Unknown)
	assert.Equal(t, UnknownPolicy{OnUnknown: OnUnknownResend, Settle: 10 * time.Minute}, cfg.Groups["eager"].Unknown)
	by := map[string]UnknownPolicy{}
	for _, inst := range cfg.Instances {
		by[inst.Addr.String()] = inst.Unknown
	}
	assert.Equal(t, map[string]UnknownPolicy{
		"message.inherits": {OnUnknown: OnUnknownResend, Settle: 10 * time.Minute},
		`message.own["x"]`: {OnUnknown: OnUnknownHold, Settle: 3 * time.Minute},
		"message.plain":    {OnUnknown: OnUnknownHold, Settle: 10 * time.Minute},
	}, by)
	assert.True(t, by["message.inherits"].Resend())
}

func TestUnknownPolicyDefaults(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "main.hcl", `
group "g" {
  thread_id = "t"
  from      = "+14155552671"
}
message "m" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  text    = "a"
}
`)
	cfg, diags := Load(dir, LoadOptions{Getenv: func(string) string { return "" }})
	require.False(t, diags.HasErrors(), "%s", diagText(cfg, diags))
	require.Len(t, cfg.Instances, 1)
	assert.Equal(t, DefaultUnknownPolicy, cfg.Instances[0].Unknown)
	assert.Equal(t, UnknownPolicy{OnUnknown: "hold", Settle: 5 * time.Minute}, DefaultUnknownPolicy)
}
