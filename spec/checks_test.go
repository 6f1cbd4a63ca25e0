package spec

import (
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDuration(t *testing.T) {
	const day = 24 * time.Hour
	for in, want := range map[string]time.Duration{
		"6h":       6 * time.Hour,
		"90m":      90 * time.Minute,
		"1h30m":    90 * time.Minute,
		"14d":      14 * day,
		"1d":       day,
		"1d12h":    36 * time.Hour,
		"2d3h4m5s": 2*day + 3*time.Hour + 4*time.Minute + 5*time.Second,
		"12h1d":    36 * time.Hour, // Go's units may come in any order; so may days
		"1.5d":     36 * time.Hour,
		"0.25d":    6 * time.Hour,
		"0d":       0,
		"-1d":      -day,
		"+2d":      2 * day,
		"300ms":    300 * time.Millisecond,
	} {
		got, err := parseDuration(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{
		"", "d", ".d", "1dd", "1d2", "14 d", "14 days", "1 day", "2w", "1y",
		"1d-5h", "1d+5h", "--1d", "+-1d", "-", "1D", "1.5.5d", "1h 1d",
	} {
		_, err := parseDuration(in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), `(d, h, m or s), such as "6h", "90m", "1h30m" or "14d" (a day is 24 hours)`, in)
	}
	for _, in := range []string{"999999999d", "106752d", "106751d24h"} {
		_, err := parseDuration(in)
		require.ErrorContains(t, err, "too long a duration", in)
	}
	_, err := parseDuration("106751d")
	require.NoError(t, err, "the longest whole number of days a duration holds")

	for in, want := range map[string]string{"0d": `"0d" is not a positive duration`, "-1d": `"-1d" is not a positive duration`} {
		_, err := parseExpiresAfter(in)
		require.EqualError(t, err, want)
	}
}

// TestDayDurations: expires_after and unknown_settle take days wherever
// they are set, and a bad one is an error on its attribute.
func TestDayDurations(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "main.hcl", `provider "a1base" {
  from           = "+14155552671"
  expires_after  = "14d"
  unknown_settle = "1d"
}
group "g" {
  thread_id      = "t"
  unknown_settle = "1d12h"
}
message "inherits" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  text    = "a"
}
message "own" {
  group          = group.g
  send_at        = "2027-01-01T00:00:00Z"
  expires_after  = "2d6h"
  unknown_settle = "0.5d"
  text           = "b"
}
`)
	cfg, diags := Load(dir, LoadOptions{Getenv: func(string) string { return "" }})
	require.False(t, diags.HasErrors(), "%s", diagText(cfg, diags))
	assert.Equal(t, 14*24*time.Hour, cfg.Provider.ExpiresAfter)
	assert.Equal(t, 24*time.Hour, cfg.Provider.Unknown.Settle)
	assert.Equal(t, 36*time.Hour, cfg.Groups["g"].Unknown.Settle)
	by := map[string]*Instance{}
	for _, inst := range cfg.Instances {
		by[inst.Addr.String()] = inst
	}
	assert.Equal(t, 14*24*time.Hour, by["message.inherits"].ExpiresAfter)
	assert.Equal(t, 36*time.Hour, by["message.inherits"].Unknown.Settle)
	assert.Equal(t, 54*time.Hour, by["message.own"].ExpiresAfter)
	assert.Equal(t, 12*time.Hour, by["message.own"].Unknown.Settle)
	assert.Equal(t, time.Date(2027, 1, 3, 6, 0, 0, 0, time.UTC), by["message.own"].ExpiresAt().UTC())

	write(t, dir, "main.hcl", `provider "a1base" {
  from          = "+14155552671"
  expires_after = "14 days"
}
group "g" {
  thread_id      = "t"
  unknown_settle = "1d2"
}
message "m" {
  group         = group.g
  send_at       = "2027-01-01T00:00:00Z"
  expires_after = "2w"
  text          = "b"
}
`)
	cfg, diags = Load(dir, LoadOptions{Getenv: func(string) string { return "" }})
	require.True(t, diags.HasErrors())
	type where struct {
		summary, detail string
		line, col       int
	}
	var got []where
	for _, d := range diags {
		require.Equal(t, hcl.DiagError, d.Severity, "%s", diagText(cfg, diags))
		require.NotNil(t, d.Subject, d.Summary)
		got = append(got, where{d.Summary, d.Detail, d.Subject.Start.Line, d.Subject.Start.Column})
	}
	const expected = `is not a duration: expected a number with a unit (d, h, m or s), such as "6h", "90m", "1h30m" or "14d" (a day is 24 hours).`
	assert.ElementsMatch(t, []where{
		{"Invalid expires_after", `"14 days" ` + expected, 3, 19},
		{"Invalid unknown_settle", `"1d2" ` + expected, 7, 20},
		{"Invalid expires_after", `"2w" ` + expected, 12, 19},
	}, got, "%s", diagText(cfg, diags))
}
