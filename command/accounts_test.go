package command

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	a1sandbox "github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/command/views"
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

message "c" {
  group   = group.berlin
  send_at = "2026-12-01T07:40:00Z"
  media {
    url     = "https://example.com/plan.pdf"
    type    = "document"
    caption = "Der Plan"
  }
}
`

// newTwoAccounts is the apply fixture with two accounts on one fake, each
// with its own credentials.
func newTwoAccounts(t *testing.T) *applyFixture {
	t.Helper()
	api := a1sandbox.NewHandler(a1sandbox.WithClock(func() time.Time { return applyClock }),
		a1sandbox.WithAccount("acc_us", "key-us", "secret-us"),
		a1sandbox.WithAccount("acc_eu", "key-eu", "secret-eu"))
	srv := httptest.NewServer(api)
	t.Cleanup(func() { api.Close(); srv.Close() })
	f := newApplyFixtureWith(t, api, srv.URL)
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "main.hcl"), []byte(twoAccountsHCL), 0o644))
	f.env = map[string]string{
		"A1BASE_BASE_URL":      srv.URL + "/v1",
		"A1BASE_API_KEY":       "key-us",
		"A1BASE_API_SECRET":    "secret-us",
		"A1BASE_EU_BASE_URL":   srv.URL + "/v1",
		"A1BASE_EU_ACCOUNT_ID": "acc_eu",
		"A1BASE_EU_API_KEY":    "key-eu",
		"A1BASE_EU_API_SECRET": "secret-eu",
	}
	return f
}

func TestTwoAccountsPlanAndApply(t *testing.T) {
	f := newTwoAccounts(t)

	r := f.run(t, nil, "plan", "-json", at)
	require.Equal(t, 0, r.code, r.stderr)
	var doc views.PlanDocument
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc))
	accounts := map[string]string{}
	for _, c := range doc.Changes {
		accounts[c.Address] = c.Provider + " " + c.AccountID
	}
	assert.Equal(t, map[string]string{"message.a": "a1base acc_us", "message.b": "a1base.eu acc_eu", "message.c": "a1base.eu acc_eu"}, accounts)

	r = f.run(t, nil, "plan", at)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `Group "berlin" (whatsapp, thread "t-berlin", from +442071838750, account a1base.eu (acc_eu)):`)
	assert.Contains(t, r.stdout, `Group "eng" (whatsapp, thread "t-eng", from +14155552671, account a1base (acc_us)):`)

	r = f.run(t, nil, "plan", "-markdown", at)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "#### Group <code>berlin</code> · whatsapp · thread <code>t-berlin</code> · from +442071838750 · account <code>a1base.eu</code> <code>acc\\_eu</code>")

	r = f.run(t, nil, "apply", "-auto-approve", at)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	sends := f.api.Sends()
	require.Len(t, sends, 3)
	got := map[string]string{}
	for _, s := range sends {
		got[s.Request.Content] = s.AccountID + " " + s.Endpoint + " " + s.Request.From + " " + s.Request.MediaType
	}
	assert.Equal(t, map[string]string{
		"Hello eng":    "acc_us group +14155552671 ",
		"Hallo Berlin": "acc_eu universal +442071838750 ",
		"Der Plan":     "acc_eu universal +442071838750 document",
	}, got)
	assert.Equal(t, map[string]state.Status{"message.a": state.StatusSent, "message.b": state.StatusSent, "message.c": state.StatusSent},
		statuses(f.snapshot(t, state.DefaultPath)))
}

// Credentials missing for one alias: a clear error naming its variables,
// before anything is locked or sent.
func TestTwoAccountsMissingAliasCredentials(t *testing.T) {
	for _, tt := range []struct {
		unset []string
		want  string
	}{
		{[]string{"A1BASE_EU_API_KEY"}, "the environment variable A1BASE_EU_API_KEY is not set: sending for provider a1base.eu needs A1Base credentials in A1BASE_EU_API_KEY and A1BASE_EU_API_SECRET"},
		{[]string{"A1BASE_EU_API_KEY", "A1BASE_EU_API_SECRET"}, "A1BASE_EU_API_KEY and A1BASE_EU_API_SECRET are not set"},
		{[]string{"A1BASE_EU_ACCOUNT_ID"}, "no A1Base account id for provider a1base.eu: set account_id in its provider \"a1base\" block or the environment variable A1BASE_EU_ACCOUNT_ID"},
	} {
		t.Run(strings.Join(tt.unset, ","), func(t *testing.T) {
			f := newTwoAccounts(t)
			for _, k := range tt.unset {
				delete(f.env, k)
			}
			r := f.run(t, nil, "apply", "-auto-approve", at)
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, tt.want)
			assert.Empty(t, f.api.Arrivals())
			assert.NoFileExists(t, filepath.Join(f.dir, state.DefaultPath+".lock"), "nothing was locked")
		})
	}
}

// An account none of whose messages are due needs no credentials yet.
func TestTwoAccountsOnlyDueAccountsConnect(t *testing.T) {
	f := newTwoAccounts(t)
	delete(f.env, "A1BASE_EU_API_KEY")
	delete(f.env, "A1BASE_EU_API_SECRET")
	r := f.run(t, nil, "apply", "-auto-approve", "-at=2026-12-01T07:10:00Z")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Equal(t, []string{"Hello eng"}, contents(f.api))
}

// A saved plan records the account of each message; apply refuses it once
// a group moves to another account.
func TestTwoAccountsSavedPlan(t *testing.T) {
	f := newTwoAccounts(t)
	r := f.run(t, nil, "plan", "-out=p.plan", at)
	require.Equal(t, 0, r.code, r.stderr)
	b, err := os.ReadFile(filepath.Join(f.dir, "p.plan"))
	require.NoError(t, err)
	assert.Contains(t, string(b), `"provider": "eu"`)
	assert.Contains(t, string(b), `"account_id": "acc_eu"`)

	r = f.run(t, nil, "show", "-json", "p.plan")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"provider": "a1base.eu"`)

	f.env["A1BASE_EU_ACCOUNT_ID"] = "acc_other"
	r = f.run(t, nil, "apply", "p.plan")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "message.b: account_id changed since the plan was made")
	assert.Empty(t, f.api.Sends())

	f.env["A1BASE_EU_ACCOUNT_ID"] = "acc_eu"
	r = f.run(t, nil, "apply", "p.plan")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Len(t, f.api.Sends(), 3)
}

func TestTwoAccountsSandbox(t *testing.T) {
	f := newTwoAccounts(t)
	f.env = map[string]string{} // the sandbox needs no credentials
	r := f.run(t, nil, "apply", "-sandbox", "-auto-approve", at)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "Hallo Berlin")
	assert.Contains(t, r.stdout, "Hello eng")
	snap := f.snapshot(t, SandboxStatePath)
	assert.Len(t, snap.Records, 3)
	assert.Empty(t, f.api.Arrivals(), "the sandbox is in process")
}

// plan -check-media asks the media host and refuses, on the url's line,
// a file just over its service's limit; one at the limit passes and is
// reported with its size and content type.
func TestPlanCheckMedia(t *testing.T) {
	host := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		size, _ := strconv.ParseInt(parts[0], 10, 64)
		w.Header().Set("Content-Type", strings.ReplaceAll(parts[1], "_", "/"))
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		if r.Method != http.MethodHead {
			t.Errorf("preflight used %s", r.Method)
		}
		if r.Header.Get("X-API-Key") != "" {
			t.Error("credentials sent to a media host")
		}
	}))
	defer host.Close()
	const mib = 1 << 20
	cfg := `
provider "a1base" {
  from = "+14155552671"
}

group "wa" {
  thread_id = "t-wa"
}

group "tg" {
  thread_id = "t-tg"
  service   = "telegram"
}

message "image_at_limit" {
  group   = group.wa
  send_at = "2026-12-01T07:00:00Z"
  media {
    url  = "` + host.URL + `/` + strconv.Itoa(5*mib) + `/image_png"
    type = "image"
  }
}

message "image_over" {
  group   = group.wa
  send_at = "2026-12-01T07:00:00Z"
  media {
    url  = "` + host.URL + `/` + strconv.Itoa(5*mib+1) + `/image_png"
    type = "image"
  }
}

message "video_over_on_telegram" {
  group   = group.tg
  send_at = "2026-12-01T09:00:00Z"
  media {
    url  = "` + host.URL + `/` + strconv.Itoa(20*mib+1) + `/video_mp4"
    type = "video"
  }
}

message "wrong_type" {
  group   = group.wa
  send_at = "2026-12-01T07:00:00Z"
  media {
    url  = "` + host.URL + `/1000/application_pdf"
    type = "image"
  }
}
`
	f := newApplyFixture(t)
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "main.hcl"), []byte(cfg), 0o644))
	withHost := func(env *Env) { env.MediaClient = host.Client() }

	r := f.run(t, withHost, "plan", at)
	require.Equal(t, 0, r.code, "off by default: %s", r.stderr)
	assert.NotContains(t, r.stdout+r.stderr, "Media")

	r = f.run(t, withHost, "plan", "-check-media", "-no-color", at)
	assert.Equal(t, 1, r.code)
	out := r.stdout + r.stderr
	assert.Contains(t, out, "Error: Media file too large")
	flat := strings.Join(strings.Fields(out), " ")
	assert.Contains(t, out, "on main.hcl line 28, in message \"image_over\"")
	assert.Contains(t, flat, "the file is 5.0 MB (5242881 bytes); WhatsApp takes image files up to 5 MB.")
	assert.Contains(t, out, "on main.hcl line 37, in message \"video_over_on_telegram\"")
	assert.Contains(t, flat, "Telegram takes video files up to 20 MB.")
	assert.Contains(t, out, "Error: Unsupported media content type")
	assert.Contains(t, out, "on main.hcl line 46, in message \"wrong_type\"")
	assert.Contains(t, flat, "the file is application/pdf; WhatsApp sends image media as one of image/jpeg, image/png.")
	assert.Contains(t, out, "Warning: Media checked")
	assert.Contains(t, out, "on main.hcl line 19, in message \"image_at_limit\"")
	assert.Contains(t, flat, "message.image_at_limit: image at "+host.URL+"/5242880/image_png is 5 MB, image/png: within WhatsApp's limits.")
	assert.Equal(t, 4, strings.Count(out, "on main.hcl line"), out)
}
