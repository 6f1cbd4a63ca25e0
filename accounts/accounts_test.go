package accounts

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	a1sandbox "github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

const twoAccountsHCL = `
provider "a1base" {
  account_id = "acc_us"
  from       = "+14155552671"
}

provider "a1base" {
  alias      = "eu"
  from       = "+442071838750"
  endpoint   = "universal"
  rate_limit = "10/m"
}

group "eng" {
  thread_id = "t-eng"
}

group "berlin" {
  thread_id = "t-berlin"
  provider  = a1base.eu
}

message "a" {
  group   = group.eng
  send_at = "2026-12-01T07:00:00Z"
  text    = "Hello eng"
}

message "b" {
  group   = group.berlin
  send_at = "2026-12-01T07:30:00Z"
  text    = "Hallo Berlin"
}
`

var credentials = map[string]string{
	"A1BASE_API_KEY":       "key-us",
	"A1BASE_API_SECRET":    "secret-us",
	"A1BASE_EU_ACCOUNT_ID": "acc_eu",
	"A1BASE_EU_API_KEY":    "key-eu",
	"A1BASE_EU_API_SECRET": "secret-eu",
}

func load(t *testing.T, src string, vars map[string]string) *spec.Config {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644))
	cfg, diags := spec.Load(dir, spec.LoadOptions{Getenv: func(k string) string { return vars[k] }})
	require.False(t, diags.HasErrors(), diags.Error())
	return cfg
}

func env(vars map[string]string) Env {
	return Env{Getenv: func(k string) string { return vars[k] }, Version: "1.2.3"}
}

func TestDue(t *testing.T) {
	cfg := load(t, twoAccountsHCL, credentials)
	at := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
	assert.Equal(t, map[string]bool{}, Due(cfg, at("2026-12-01T06:00:00Z"), nil))
	assert.Equal(t, map[string]bool{"": true}, Due(cfg, at("2026-12-01T07:10:00Z"), nil))
	assert.Equal(t, map[string]bool{"": true, "eu": true}, Due(cfg, at("2026-12-01T07:30:00Z"), nil))

	saved := &planner.SavedPlan{Changes: []planner.SavedChange{{Address: "message.b", Instance: &planner.SavedInstance{Provider: "eu"}}, {Address: "message.gone"}}}
	assert.Equal(t, map[string]bool{"eu": true}, Due(cfg, at("2026-12-01T06:00:00Z"), saved))

	// Without aliases the default provider is always needed.
	single := load(t, `
provider "a1base" {
  from = "+14155552671"
}
`, nil)
	assert.Equal(t, map[string]bool{"": true}, Due(single, at("2026-12-01T06:00:00Z"), nil))
}

func TestNeeded(t *testing.T) {
	cfg := load(t, twoAccountsHCL, credentials)
	plan := planner.New(cfg, state.NewSnapshot(), time.Date(2026, 12, 1, 7, 10, 0, 0, time.UTC), planner.Options{})
	assert.Equal(t, map[string]bool{"": true, "eu": true}, Needed(plan.Changes))
	var sends []*planner.Change
	for _, c := range plan.Changes {
		if c.Action == planner.Send {
			sends = append(sends, c)
		}
	}
	assert.Equal(t, map[string]bool{"": true}, Needed(sends))
	assert.Equal(t, map[string]bool{}, Needed([]*planner.Change{{Action: planner.Orphan}}))
}

func TestConnect(t *testing.T) {
	cfg := load(t, twoAccountsHCL, credentials)
	set, err := Connect(env(credentials), cfg, map[string]bool{"": true, "eu": true})
	require.NoError(t, err)
	require.IsType(t, &a1base.Client{}, set.Default)
	eu := set.Aliased["eu"]
	assert.Equal(t, "acc_eu", eu.ID)
	require.NotNil(t, eu.Limit)
	assert.Equal(t, 10, eu.Limit.N)

	set, err = Connect(env(credentials), cfg, map[string]bool{"eu": true})
	require.NoError(t, err)
	assert.Nil(t, set.Default, "not needed, not connected")
	assert.Len(t, set.Aliased, 1)

	_, err = Connect(env(credentials), cfg, map[string]bool{"us": true})
	assert.EqualError(t, err, "no provider a1base.us is configured")
}

// Credentials or an account id missing for a provider needed: an error
// naming its variables.
func TestConnectMissing(t *testing.T) {
	for _, tt := range []struct {
		unset []string
		want  string
	}{
		{[]string{"A1BASE_EU_API_KEY"}, "the environment variable A1BASE_EU_API_KEY is not set: sending for provider a1base.eu needs A1Base credentials in A1BASE_EU_API_KEY and A1BASE_EU_API_SECRET"},
		{[]string{"A1BASE_EU_API_KEY", "A1BASE_EU_API_SECRET"}, "A1BASE_EU_API_KEY and A1BASE_EU_API_SECRET are not set"},
		{[]string{"A1BASE_EU_ACCOUNT_ID"}, `no A1Base account id for provider a1base.eu: set account_id in its provider "a1base" block or the environment variable A1BASE_EU_ACCOUNT_ID (or try the configuration with -sandbox, which needs none)`},
	} {
		vars := map[string]string{}
		for k, v := range credentials {
			vars[k] = v
		}
		for _, k := range tt.unset {
			delete(vars, k)
		}
		cfg := load(t, twoAccountsHCL, vars)
		_, err := Connect(env(vars), cfg, map[string]bool{"eu": true})
		require.Error(t, err)
		assert.Contains(t, err.Error(), tt.want)
		assert.NotContains(t, err.Error(), "secret-eu")
		// Only the providers needed are asked for credentials.
		_, err = Connect(env(vars), cfg, map[string]bool{"": true})
		assert.NoError(t, err)
	}
}

func TestCheckAccountID(t *testing.T) {
	assert.NoError(t, CheckAccountID(&spec.Provider{AccountID: "acc"}))
	assert.EqualError(t, CheckAccountID(&spec.Provider{}),
		`no A1Base account id: set account_id in the provider "a1base" block or the environment variable A1BASE_ACCOUNT_ID (or try the configuration with -sandbox, which needs none)`)
	assert.EqualError(t, CheckAccountID(&spec.Provider{Alias: "eu"}),
		`no A1Base account id for provider a1base.eu: set account_id in its provider "a1base" block or the environment variable A1BASE_EU_ACCOUNT_ID (or try the configuration with -sandbox, which needs none)`)
}

// The sandbox needs no credentials and gives every provider an account,
// made up where none is configured.
func TestSandboxConnect(t *testing.T) {
	cfg := load(t, twoAccountsHCL, nil)
	sb := NewSandbox(func(a1base.SendRequest, bool) {}, nil)
	defer sb.Close()
	set := sb.Connect(env(nil), cfg)
	require.NotNil(t, set.Default)
	eu, ok := set.Aliased["eu"]
	require.True(t, ok)
	assert.Empty(t, eu.ID, "the configured account id, none here")
	assert.NotNil(t, eu.Limit)
	assert.Contains(t, sb.URL(), "http://")
}

// TestAliasedProviderTakesTheDefaultBaseURL: A1BASE_BASE_URL points every
// account at the same API, the aliased ones too, unless a provider has a
// base URL of its own (base_url or A1BASE_<ALIAS>_BASE_URL). Both sends
// reach the test server, and the aliased one is never sent to A1Base.
func TestAliasedProviderTakesTheDefaultBaseURL(t *testing.T) {
	srv := a1sandbox.NewServer()
	t.Cleanup(srv.Close)
	vars := map[string]string{"A1BASE_BASE_URL": srv.URL + "/v1"}
	for k, v := range credentials {
		vars[k] = v
	}
	cfg := load(t, twoAccountsHCL, vars)
	assert.Equal(t, srv.URL+"/v1", cfg.Provider.BaseURL)
	assert.Equal(t, srv.URL+"/v1", cfg.Aliases["eu"].BaseURL, "the aliased provider falls back to A1BASE_BASE_URL")

	set, err := Connect(env(vars), cfg, map[string]bool{"": true, "eu": true})
	require.NoError(t, err)
	ctx := context.Background()
	us := set.Default.SendGroup(ctx, a1base.SendRequest{Content: "Hello eng", From: "+14155552671", ThreadID: "t-eng", Service: "whatsapp"})
	require.Equal(t, a1base.Delivered, us.Outcome, "%v", us.Err)
	eu := set.Aliased["eu"].Client.SendGroup(ctx, a1base.SendRequest{Content: "Hallo Berlin", From: "+442071838750", ThreadID: "t-berlin", Service: "whatsapp"})
	require.Equal(t, a1base.Delivered, eu.Outcome, "%v", eu.Err)
	assert.Equal(t, []string{"Hello eng", "Hallo Berlin"}, srv.API.Contents())

	// Its own variable wins over the default one.
	own := map[string]string{"A1BASE_EU_BASE_URL": "https://eu.example.test/v1"}
	for k, v := range vars {
		own[k] = v
	}
	cfg = load(t, twoAccountsHCL, own)
	assert.Equal(t, "https://eu.example.test/v1", cfg.Aliases["eu"].BaseURL)
	assert.Equal(t, srv.URL+"/v1", cfg.Provider.BaseURL)

	// So does its own base_url.
	withBase := strings.Replace(twoAccountsHCL, `alias      = "eu"`, `alias      = "eu"
  base_url   = "https://eu.example.test/api"`, 1)
	cfg = load(t, withBase, vars)
	assert.Equal(t, "https://eu.example.test/api", cfg.Aliases["eu"].BaseURL)

	// Without A1BASE_BASE_URL, A1Base's public API.
	cfg = load(t, twoAccountsHCL, credentials)
	assert.Equal(t, spec.DefaultBaseURL, cfg.Aliases["eu"].BaseURL)
}
