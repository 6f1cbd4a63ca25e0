package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every media size limit, just under and just over, per service; and the
// content types each service sends as each media type.
func TestServiceFileLimits(t *testing.T) {
	tests := []struct {
		service, typ string
		size         int64
		contentType  string
		summary      string
	}{
		{"whatsapp", "image", 5 * mb, "image/jpeg", ""},
		{"whatsapp", "image", 5*mb + 1, "image/jpeg", "Media file too large"},
		{"whatsapp", "video", 16 * mb, "video/mp4", ""},
		{"whatsapp", "video", 16*mb + 1, "video/mp4", "Media file too large"},
		{"whatsapp", "audio", 16 * mb, "audio/mpeg", ""},
		{"whatsapp", "audio", 16*mb + 1, "audio/mpeg", "Media file too large"},
		{"whatsapp", "document", 100 * mb, "application/pdf", ""},
		{"whatsapp", "document", 100*mb + 1, "application/pdf", "Media file too large"},
		{"whatsapp", "image", 1000, "image/webp", "Unsupported media content type"},
		{"whatsapp", "video", 1000, "video/quicktime", "Unsupported media content type"},
		{"whatsapp", "image", -1, "", ""}, // the host said nothing
		{"telegram", "image", 5 * mb, "image/png", ""},
		{"telegram", "image", 5*mb + 1, "image/png", "Media file too large"},
		{"telegram", "video", 20 * mb, "video/mp4", ""},
		{"telegram", "video", 20*mb + 1, "video/mp4", "Media file too large"},
		{"telegram", "audio", 20 * mb, "audio/mpeg", ""},
		{"telegram", "audio", 20*mb + 1, "audio/mpeg", "Media file too large"},
		{"telegram", "document", 20 * mb, "application/pdf", ""},
		{"telegram", "document", 20*mb + 1, "application/pdf", "Media file too large"},
		{"telegram", "document", 1000, "application/msword", "Unsupported media content type"},
		{"telegram", "image", 1000, "IMAGE/WEBP", ""},
	}
	for _, tt := range tests {
		limits, ok := Limits(tt.service)
		require.True(t, ok)
		summary, err := limits.CheckFile(tt.typ, tt.size, tt.contentType)
		assert.Equal(t, tt.summary, summary, "%s %s %d %s", tt.service, tt.typ, tt.size, tt.contentType)
		assert.Equal(t, tt.summary != "", err != nil)
	}
	_, err := whatsappLimits.CheckFile("image", 5*mb+1, "image/png")
	assert.EqualError(t, err, "the file is 5.0 MB (5242881 bytes); WhatsApp takes image files up to 5 MB")
	_, ok := Limits("sms")
	assert.False(t, ok)
}

func TestServiceTextLimits(t *testing.T) {
	emoji := "😀"
	for _, tt := range []struct {
		limits  *ServiceLimits
		text    string
		summary string
	}{
		{whatsappLimits, strings.Repeat("é", 4096), ""},
		{whatsappLimits, strings.Repeat("é", 4097), "Text too long"},
		{whatsappLimits, strings.Repeat(emoji, 4096), ""}, // characters, not UTF-16 units
		{telegramLimits, strings.Repeat(emoji, 2048), ""},
		{telegramLimits, strings.Repeat(emoji, 2048) + "a", "Text too long"},
		{telegramLimits, "", "Empty text"},
		{whatsappLimits, "", ""},
	} {
		summary, _ := tt.limits.CheckText(tt.text)
		assert.Equal(t, tt.summary, summary, "%s, %d characters", tt.limits.Service, len([]rune(tt.text)))
	}
	for _, tt := range []struct {
		limits  *ServiceLimits
		typ     string
		caption string
		summary string
	}{
		{whatsappLimits, "image", strings.Repeat("x", 1024), ""},
		{whatsappLimits, "image", strings.Repeat("x", 1025), "Caption too long"},
		{whatsappLimits, "audio", "x", "Caption not supported"},
		{whatsappLimits, "audio", "", ""},
		{telegramLimits, "audio", strings.Repeat("x", 1024), ""},
		{telegramLimits, "video", strings.Repeat(emoji, 512) + "x", "Caption too long"},
	} {
		summary, _ := tt.limits.CheckCaption(tt.typ, tt.caption)
		assert.Equal(t, tt.summary, summary, "%s %s", tt.limits.Service, tt.typ)
	}
}

func TestProviderEnvVars(t *testing.T) {
	assert.Equal(t, "A1BASE_API_KEY", EnvVar("", "API_KEY"))
	assert.Equal(t, "A1BASE_EU_API_SECRET", EnvVar("eu", "API_SECRET"))
	assert.Equal(t, "A1BASE_BRAND_B_ACCOUNT_ID", EnvVar("brand_b", "ACCOUNT_ID"))
}

// A group naming an undeclared alias is told the closest declared one.
func TestUndefinedAliasSuggests(t *testing.T) {
	cfg, diags := Load("testdata/invalid/provider_aliases", LoadOptions{Getenv: func(string) string { return "" }})
	var found bool
	for _, d := range diags {
		if d.Summary == "Undefined provider alias" {
			found = true
			assert.Contains(t, d.Detail, `Group "typo" names a1base.ue`)
			assert.Contains(t, d.Detail, `Did you mean "eu"?`)
			assert.Equal(t, 35, d.Subject.Start.Line)
		}
	}
	assert.True(t, found, "%s", diagText(cfg, diags))
}

// A module's groups send through the root module's providers, aliases
// included; an alias the root does not declare is an error in the module.
func TestModuleGroupNamesRootAlias(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644))
	}
	write("main.hcl", `
provider "a1base" {
  from = "+14155552671"
}
provider "a1base" {
  alias = "eu"
  from  = "+442071838750"
}
module "berlin" {
  source = "./mod"
}
`)
	write("mod/main.hcl", `
group "community" {
  thread_id = "t-berlin"
  provider  = a1base.eu
}
group "typo" {
  thread_id = "t-typo"
  provider  = a1base.ue
}
message "hello" {
  group   = group.community
  send_at = "2027-01-01T00:00:00Z"
  text    = "Hallo"
}
`)
	cfg, diags := Load(dir, LoadOptions{Getenv: func(string) string { return "" }})
	require.Len(t, diags, 1, "%s", diagText(cfg, diags))
	assert.Equal(t, "Undefined provider alias", diags[0].Summary)
	assert.Equal(t, filepath.Join(dir, "mod", "main.hcl"), diags[0].Subject.Filename)
	assert.Contains(t, diags[0].Detail, `Did you mean "eu"?`)

	write("mod/main.hcl", `
group "community" {
  thread_id = "t-berlin"
  provider  = a1base.eu
}
message "hello" {
  group   = group.community
  send_at = "2027-01-01T00:00:00Z"
  text    = "Hallo"
}
`)
	cfg, diags = Load(dir, LoadOptions{Getenv: func(string) string { return "" }})
	require.False(t, diags.HasErrors(), "%s", diagText(cfg, diags))
	require.Len(t, cfg.Instances, 1)
	assert.Equal(t, "a1base.eu", cfg.Instances[0].Group.Provider.Name())
	assert.Equal(t, "+442071838750", cfg.Instances[0].From)
}
