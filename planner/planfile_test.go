package planner

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

const (
	secretText    = "the door code is 4711-SECRET"
	secretURL     = "https://example.com/private-token-Zq9"
	secretCaption = "caption with token-Zq9"
)

// samplePlan has one change of each kind that the file must carry: plain
// text, media, sensitive text, sensitive media, moved, replaced, a likely
// rename and an orphan.
func samplePlan(t *testing.T) (*spec.Config, *state.Snapshot, *Plan) {
	due := ago_(time.Hour)
	plain := newInst(t, "message.plain", due, text(`Launch <b>&</b> "go"`))
	pic := newInst(t, `message.pic["eng"]`, in(time.Hour), media("https://example.com/q3.pdf", "Q3"), group("sales"))
	secret := newInst(t, "message.secret", due, text(secretText), sensitive())
	secretPic := newInst(t, "message.secret_pic", due, media(secretURL, secretCaption), sensitive())
	moved := newInst(t, "message.moved", ago_(2*time.Hour))
	again := newInst(t, "message.again", due, text("again"))
	renamed := newInst(t, "message.renamed", in(2*time.Hour), text("same"))
	cfg := configOf([]*spec.Instance{plain, pic, secret, secretPic, moved, again, renamed}, move(t, "message.was", "message.moved"))
	sentSecret := rec(secret, state.StatusSent, delivered(ago_(30*time.Minute)), func(r *state.Record) {
		r.Answer = &state.Answer{Body: secretText, ChatGroupID: "cg-1"}
	})
	snap := snapOf(
		rec(moved, state.StatusSent, under("message.was"), delivered(ago_(time.Hour))),
		rec(again, state.StatusSent, func(r *state.Record) { r.Answer = &state.Answer{Body: "again"} }),
		rec(newInst(t, "message.original", in(2*time.Hour), text("same")), state.StatusSent),
		sentSecret,
	)
	p := New(cfg, snap, clock, Options{Replace: addrList(t, "message.again")})
	return cfg, snap, p
}

func TestPlanFileRoundTrip(t *testing.T) {
	_, _, p := samplePlan(t)
	path := filepath.Join(t.TempDir(), "tomorrow.plan")
	require.NoError(t, WriteFile(path, p, testPlanKey))

	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left behind")

	sp, err := ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, SavedPlanFormatVersion, sp.FormatVersion)
	got := sp.Plan()
	require.True(t, got.At.Equal(p.At))
	require.Equal(t, p.Lineage, got.Lineage)
	require.Equal(t, p.Serial, got.Serial)
	require.Equal(t, p.ConfigHash, got.ConfigHash)
	require.Equal(t, p.Summary(), got.Summary())
	require.Len(t, got.Changes, len(p.Changes))
	for i, want := range p.Changes {
		c := got.Changes[i]
		name := want.Addr.String()
		require.Equal(t, want.Addr, c.Addr, name)
		require.Equal(t, want.Action, c.Action, name)
		require.Equal(t, want.Reason, c.Reason, name)
		require.Equal(t, want.Replace, c.Replace, name)
		require.Equal(t, want.MovedFrom, c.MovedFrom, name)
		require.Equal(t, want.LikelyRenameOf, c.LikelyRenameOf, name)
		if want.Record != nil {
			require.NotNil(t, c.Record, name)
			require.Equal(t, want.Record.Status, c.Record.Status, name)
			require.Equal(t, want.Record.ContentHash, c.Record.ContentHash, name)
			require.Nil(t, c.Record.Answer, name)
		}
		if want.Instance == nil {
			require.Nil(t, c.Instance, name)
			continue
		}
		wi, gi := want.Instance, c.Instance
		require.Equal(t, wi.ContentHash(), gi.ContentHash(), name)
		require.Equal(t, wi.Sensitive, gi.Sensitive, name)
		require.Equal(t, wi.Group.Name, gi.Group.Name, name)
		require.Equal(t, wi.ThreadID, gi.ThreadID, name)
		require.Equal(t, wi.Service, gi.Service, name)
		require.Equal(t, wi.From, gi.From, name)
		require.True(t, wi.SendAt.Equal(gi.SendAt), name)
		require.Equal(t, wi.ExpiresAfter, gi.ExpiresAfter, name)
		if wi.Sensitive {
			require.Empty(t, gi.Text, name)
			if wi.Media != nil {
				require.Equal(t, wi.Media.Type, gi.Media.Type, name)
				require.Empty(t, gi.Media.URL, name)
				require.Empty(t, gi.Media.Caption, name)
			}
		} else {
			require.Equal(t, wi.Text, gi.Text, name)
			require.Equal(t, wi.Media, gi.Media, name)
		}
	}
	// The plan exercised what it should.
	require.True(t, changeByAddr(got, "message.again").Replace)
	require.Equal(t, "message.was", changeByAddr(got, "message.moved").MovedFrom.String())
	require.Equal(t, "message.original", changeByAddr(got, "message.renamed").LikelyRenameOf.String())
	require.Equal(t, Orphan, changeByAddr(got, "message.original").Action)

	// Plan hands out copies: changing one does not change the next.
	got.Changes[0].Instance.Text = "changed"
	require.NotEqual(t, "changed", sp.Plan().Changes[0].Instance.Text)
}

func TestPlanFileWithholdsSensitiveContent(t *testing.T) {
	_, _, p := samplePlan(t)
	data, err := Encode(p, testPlanKey)
	require.NoError(t, err)
	for _, secret := range []string{secretText, "4711", secretURL, "private-token", secretCaption, "token-Zq9"} {
		require.False(t, bytes.Contains(data, []byte(secret)), "plan file holds %q", secret)
	}
	// Non-sensitive content is there for show PLANFILE, unescaped.
	require.True(t, bytes.Contains(data, []byte(`Launch <b>&</b> \"go\"`)))
	require.True(t, bytes.Contains(data, []byte("https://example.com/q3.pdf")))
	// The API's answers are never written, sensitive or not.
	require.False(t, bytes.Contains(data, []byte(`"answer"`)))
	require.False(t, bytes.Contains(data, []byte("cg-1")))

	sp, err := Decode(data)
	require.NoError(t, err)
	inst := changeByAddr(sp.Plan(), "message.secret").Instance
	require.True(t, inst.Sensitive)
	require.Empty(t, inst.Text)
	require.Nil(t, inst.Media)
}

func TestCheck(t *testing.T) {
	cfg, snap, p := samplePlan(t)
	data, err := Encode(p, testPlanKey)
	require.NoError(t, err)
	sp, err := Decode(data)
	require.NoError(t, err)
	require.NoError(t, sp.Check(cfg, snap, testPlanKey))

	changedCfg := *cfg
	changedCfg.Hash = "sha256:config-2"
	otherLineage := *snap
	otherLineage.Lineage = "lineage-2"
	newer := *snap
	newer.Serial++

	tests := []struct {
		name string
		cfg  *spec.Config
		snap *state.Snapshot
		want string
	}{
		{"configuration changed", &changedCfg, snap, "the saved plan is stale: the configuration or its variable values changed since the plan was made; run herald plan again"},
		{"other state", cfg, &otherLineage, `the saved plan is stale: the plan was made for state lineage "lineage-1", this state is lineage "lineage-2"; run herald plan again`},
		{"state moved on", cfg, &newer, "the saved plan is stale: the state changed since the plan was made (serial 7 then, 8 now; it may have been applied already); run herald plan again"},
		{"no state", cfg, nil, `the saved plan is stale: the plan was made for state lineage "lineage-1", this state is lineage ""; run herald plan again`},
		{"everything", &changedCfg, &newer, "the saved plan is stale: the configuration or its variable values changed since the plan was made; " +
			"the state changed since the plan was made (serial 7 then, 8 now; it may have been applied already); run herald plan again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sp.Check(tt.cfg, tt.snap, testPlanKey)
			var stale *StalePlanError
			require.True(t, errors.As(err, &stale))
			require.Equal(t, tt.want, err.Error())
		})
	}
}

func TestResolve(t *testing.T) {
	cfg, _, p := samplePlan(t)
	data, err := Encode(p, testPlanKey)
	require.NoError(t, err)
	sp, err := Decode(data)
	require.NoError(t, err)

	resolved, err := sp.Resolve(cfg, testPlanKey)
	require.NoError(t, err)
	require.Len(t, resolved.Changes, len(p.Changes))
	byAddr := map[string]*spec.Instance{}
	for _, inst := range cfg.Instances {
		byAddr[inst.Addr.String()] = inst
	}
	for i, c := range resolved.Changes {
		require.Equal(t, p.Changes[i].Action, c.Action)
		if c.Action == Orphan {
			require.Nil(t, c.Instance)
			continue
		}
		// The configuration's own instance, sensitive text included, is
		// what apply sends.
		require.Same(t, byAddr[c.Addr.String()], c.Instance)
	}
	require.Equal(t, secretText, changeByAddr(resolved, "message.secret").Instance.Text)

	edit := func(addr string, f func(*spec.Instance)) *spec.Config {
		c := *cfg
		c.Instances = nil
		for _, inst := range cfg.Instances {
			cp := *inst
			if inst.Addr.String() == addr {
				f(&cp)
			}
			c.Instances = append(c.Instances, &cp)
		}
		return &c
	}
	tests := []struct {
		name string
		cfg  *spec.Config
		want string
	}{
		{"text changed", edit("message.plain", func(i *spec.Instance) { i.Text = "other" }), "message.plain: content changed since the plan was made"},
		{"media changed", edit(`message.pic["eng"]`, func(i *spec.Instance) { i.Media = &spec.Media{URL: "https://x/y", Type: "image"} }),
			`message.pic["eng"]: content changed since the plan was made`},
		{"no longer sensitive", edit("message.secret", func(i *spec.Instance) { i.Sensitive = false }),
			"message.secret: content changed since the plan was made; message.secret: sensitivity changed since the plan was made"},
		{"send_at changed", edit("message.moved", func(i *spec.Instance) { i.SendAt = i.SendAt.Add(time.Minute) }),
			"message.moved: send_at changed since the plan was made; message.moved: expires_after changed since the plan was made"},
		{"group changed", edit("message.plain", func(i *spec.Instance) { group("sales")(i) }),
			"message.plain: group changed since the plan was made; message.plain: thread_id changed since the plan was made; " +
				"message.plain: service changed since the plan was made; message.plain: from changed since the plan was made"},
		{"gone", configOf(cfg.Instances[1:]), "message.plain is no longer in the configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sp.Resolve(tt.cfg, testPlanKey)
			var stale *StalePlanError
			require.True(t, errors.As(err, &stale))
			require.Equal(t, "the saved plan is stale: "+tt.want+"; run herald plan again", err.Error())
		})
	}
	// Sensitive text is outside the content hash; the plan's keyed hash
	// of it sees it change, and without the plan key nothing is resolved.
	_, err = sp.Resolve(edit("message.secret", func(i *spec.Instance) { i.Text = "another secret" }), testPlanKey)
	require.EqualError(t, err, "the saved plan is stale: message.secret: content changed since the plan was made; run herald plan again")
	_, err = sp.Resolve(cfg, nil)
	require.ErrorContains(t, err, "message.secret: content changed")
	_, err = sp.Resolve(cfg, []byte("another-plan-key-0123456789abcdef"))
	require.ErrorContains(t, err, "message.secret: content changed")
}

// A plan with sensitive values keeps only hashes of them keyed with the
// plan key, names the key by an id that does not reveal it, and cannot be
// saved without one.
func TestPlanFileKeyedHashes(t *testing.T) {
	_, _, p := samplePlan(t)
	require.True(t, p.NeedsKey())
	_, err := Encode(p, nil)
	require.ErrorIs(t, err, ErrNoPlanKey)

	data, err := Encode(p, testPlanKey)
	require.NoError(t, err)
	assert.NotContains(t, string(data), string(testPlanKey))
	sp, err := Decode(data)
	require.NoError(t, err)
	assert.Equal(t, PlanKeyID(testPlanKey), sp.PlanKeyID)
	assert.NotEqual(t, PlanKeyID(testPlanKey), PlanKeyID([]byte("another-plan-key-0123456789abcdef")))
	for _, c := range sp.Changes {
		if c.Instance == nil {
			continue
		}
		if c.Instance.Sensitive {
			assert.Regexp(t, `^hmac-sha256:[0-9a-f]{64}$`, c.Instance.SensitiveContentHash, c.Address)
		} else {
			assert.Empty(t, c.Instance.SensitiveContentHash, c.Address)
		}
	}
	// The same content under another key hashes differently: the hash
	// says nothing without the key.
	other, err := Encode(p, []byte("another-plan-key-0123456789abcdef"))
	require.NoError(t, err)
	osp, err := Decode(other)
	require.NoError(t, err)
	for i, c := range sp.Changes {
		if c.Instance != nil && c.Instance.Sensitive {
			assert.NotEqual(t, c.Instance.SensitiveContentHash, osp.Changes[i].Instance.SensitiveContentHash)
		}
	}
}

// A plan made with -exclude says, once saved and read back, how many
// messages it left out; one made without says nothing of it.
func TestPlanFileKeepsExcludedCount(t *testing.T) {
	due := ago_(time.Hour)
	cfg := configOf([]*spec.Instance{newInst(t, "message.a", due), newInst(t, `message.r["eng"]`, due), newInst(t, `message.r["sales"]`, due)})
	p := New(cfg, nil, clock, Options{Exclude: addrList(t, "message.r")})
	require.Equal(t, 2, p.Excluded)
	data, err := Encode(p, nil)
	require.NoError(t, err)
	require.Contains(t, string(data), `"excluded": 2`)
	sp, err := Decode(data)
	require.NoError(t, err)
	require.Equal(t, 2, sp.Plan().Excluded)
	require.Equal(t, []string{"send message.a"}, summary(sp.Plan()))

	data, err = Encode(New(cfg, nil, clock, Options{}), nil)
	require.NoError(t, err)
	require.NotContains(t, string(data), "excluded")
}

func TestDamagedPlanFile(t *testing.T) {
	_, _, p := samplePlan(t)
	good, err := Encode(p, testPlanKey)
	require.NoError(t, err)

	// mutate decodes the good file, changes it and encodes it again.
	mutate := func(f func(m map[string]any)) []byte {
		var m map[string]any
		require.NoError(t, json.Unmarshal(good, &m))
		f(m)
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return b
	}
	change := func(m map[string]any, i int) map[string]any { return m["changes"].([]any)[i].(map[string]any) }
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "the plan file is damaged: EOF"},
		{"cut short", good[:len(good)/2], "the plan file is damaged: unexpected EOF"},
		{"not JSON", []byte("plan:\n  - send"), "the plan file is damaged: invalid character"},
		{"trailing data", append(append([]byte{}, good...), "{}"...), "the plan file is damaged: unexpected data after the plan"},
		{"a state file", []byte(`{"version": 1, "lineage": "x", "serial": 2, "records": {}}`), "not a herald plan file"},
		{"newer format", mutate(func(m map[string]any) { m["format_version"] = "2" }), `plan file format version "2" is not supported`},
		{"no time", mutate(func(m map[string]any) { delete(m, "at") }), "the plan file is damaged: the plan has no time"},
		{"unknown action", mutate(func(m map[string]any) { change(m, 0)["action"] = "explode" }), `unknown action "explode"`},
		{"bad address", mutate(func(m map[string]any) { change(m, 0)["address"] = "group.eng" }), `invalid address "group.eng"`},
		{"bad moved_from", mutate(func(m map[string]any) { change(m, 0)["moved_from"] = "x" }), "moved_from: invalid address"},
		{"text edited", mutate(func(m map[string]any) {
			for _, c := range m["changes"].([]any) {
				if c.(map[string]any)["address"] == "message.plain" {
					c.(map[string]any)["instance"].(map[string]any)["text"] = "rm -rf"
				}
			}
		}), "(message.plain): content does not match its hash"},
		{"twice", mutate(func(m map[string]any) {
			cs := m["changes"].([]any)
			m["changes"] = append(cs, cs[0])
		}), "is planned twice"},
		{"instance missing", mutate(func(m map[string]any) { delete(change(m, 0), "instance") }), "no instance"},
		{"orphan with instance", mutate(func(m map[string]any) { change(m, 0)["action"] = "orphan" }), "an orphan with a configured instance"},
		{"wrong type", mutate(func(m map[string]any) { m["serial"] = "seven" }), "the plan file is damaged: json: cannot unmarshal"},
		{"sensitive text written", mutate(func(m map[string]any) {
			for _, c := range m["changes"].([]any) {
				if c.(map[string]any)["address"] == "message.secret" {
					c.(map[string]any)["instance"].(map[string]any)["text"] = "leak"
				}
			}
		}), "(message.secret): sensitive content written out"},
		{"negative excluded", mutate(func(m map[string]any) { m["excluded"] = -1 }), "a negative count of excluded messages"},
		{"window before send_at", mutate(func(m map[string]any) {
			change(m, 0)["instance"].(map[string]any)["expires_at"] = "2000-01-01T00:00:00Z"
		}), "expires_at is before send_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.data)
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
		})
	}

	_, err = ReadFile(filepath.Join(t.TempDir(), "missing.plan"))
	require.ErrorContains(t, err, "cannot read the plan file")

	path := filepath.Join(t.TempDir(), "bad.plan")
	require.NoError(t, os.WriteFile(path, good[:10], 0o600))
	_, err = ReadFile(path)
	require.ErrorContains(t, err, path+": the plan file is damaged")
	require.True(t, strings.HasSuffix(err.Error(), "run herald plan -out again"))
}

func TestWriteFileErrors(t *testing.T) {
	_, _, p := samplePlan(t)
	err := WriteFile(filepath.Join(t.TempDir(), "no", "such", "dir", "x.plan"), p, testPlanKey)
	require.ErrorContains(t, err, "cannot save the plan to")

	bad := &Plan{At: clock, Changes: []*Change{{Addr: mustAddr(t, "message.a"), Action: Send}}}
	path := filepath.Join(t.TempDir(), "x.plan")
	require.ErrorContains(t, WriteFile(path, bad, testPlanKey), "message.a (send) has no configured instance")
	_, statErr := os.Stat(path)
	require.True(t, os.IsNotExist(statErr))

	// Overwriting an existing plan replaces it whole.
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	require.NoError(t, WriteFile(path, p, testPlanKey))
	sp, err := ReadFile(path)
	require.NoError(t, err)
	require.Len(t, sp.Changes, len(p.Changes))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

// A run that died after sending leaves its events in the journal and the
// serial where it was; the snapshot shows the events. A plan saved before
// that run must still be refused, or apply would send again.
func TestCheckSeesUnfoldedRuns(t *testing.T) {
	launch := newInst(t, "message.launch", ago_(time.Hour))
	cfg := configOf([]*spec.Instance{launch})
	before := snapOf()
	p := New(cfg, before, clock, Options{})
	require.Equal(t, Send, changeByAddr(p, "message.launch").Action)
	data, err := Encode(p, testPlanKey)
	require.NoError(t, err)
	sp, err := Decode(data)
	require.NoError(t, err)
	require.NoError(t, sp.Check(cfg, before, testPlanKey))

	crashed := snapOf(rec(launch, state.StatusUnknown, failedAttempts(1, "")))
	err = sp.Check(cfg, crashed, testPlanKey)
	require.ErrorContains(t, err, "message.launch: state now holds a record (unknown) that the plan did not see")

	sent := snapOf(rec(launch, state.StatusSent, delivered(ago_(time.Minute))))
	p2 := New(cfg, sent, clock, Options{Replace: []addrs.Message{launch.Addr}})
	data, err = Encode(p2, testPlanKey)
	require.NoError(t, err)
	sp2, err := Decode(data)
	require.NoError(t, err)
	resent := snapOf(rec(launch, state.StatusSent, delivered(ago_(time.Minute)), delivered(ago_(time.Second))))
	require.ErrorContains(t, sp2.Check(cfg, resent, testPlanKey), "sent with 1 attempts then, sent with 2 now")
}

// Two processes reading a state that was never written see different fresh
// lineages; that is still the same empty state.
func TestCheckNeverWrittenState(t *testing.T) {
	launch := newInst(t, "message.launch", ago_(time.Hour))
	cfg := configOf([]*spec.Instance{launch})
	p := New(cfg, &state.Snapshot{Lineage: "fresh-1", Records: map[string]*state.Record{}}, clock, Options{})
	data, err := Encode(p, testPlanKey)
	require.NoError(t, err)
	sp, err := Decode(data)
	require.NoError(t, err)
	require.NoError(t, sp.Check(cfg, &state.Snapshot{Lineage: "fresh-2", Records: map[string]*state.Record{}}, testPlanKey))
}

// appliedSnapshot is snap after an apply of p: moves carried over, every
// send and retry attempted and delivered once, every expiry recorded.
func appliedSnapshot(t *testing.T, snap *state.Snapshot, p *Plan, skip string) *state.Snapshot {
	t.Helper()
	out := snap.Clone()
	out.Serial++
	for _, c := range p.Changes {
		if c.Addr.String() == skip || c.Instance == nil {
			continue
		}
		msg := state.Message{Address: c.Addr.String(), Group: c.Instance.Group.Name, ThreadID: c.Instance.ThreadID,
			Service: c.Instance.Service, From: c.Instance.From, ContentHash: c.Instance.ContentHash(), SendAt: c.Instance.SendAt}
		if c.MovedFrom != nil {
			out.Apply(state.Event{Kind: state.EventMove, Message: msg, MovedFrom: c.MovedFrom.String(), At: clock})
		}
		switch c.Action {
		case Send, Retry:
			n := 1
			if c.Record != nil {
				n = len(c.Record.Attempts) + 1
			}
			out.Apply(state.Event{Kind: state.EventAttempt, Message: msg, Attempt: n, At: clock, Status: state.StatusSending})
			out.Apply(state.Event{Kind: state.EventOutcome, Message: msg, Attempt: n, At: clock, Status: state.StatusSent, Outcome: "delivered"})
		case Expire:
			out.Apply(state.Event{Kind: state.EventOutcome, Message: msg, At: clock, Status: state.StatusExpired})
		}
	}
	return out
}

// TestCheckAlreadyApplied: a saved plan applied a second time is refused
// as already applied when the state moved on by exactly its outcomes, and
// as possibly applied when anything else changed too.
func TestCheckAlreadyApplied(t *testing.T) {
	cfg, snap, p := samplePlan(t)
	data, err := Encode(p, testPlanKey)
	require.NoError(t, err)
	sp, err := Decode(data)
	require.NoError(t, err)
	require.Positive(t, p.Summary()[Send])

	applied := appliedSnapshot(t, snap, p, "")
	err = sp.Check(cfg, applied, testPlanKey)
	var stale *StalePlanError
	require.True(t, errors.As(err, &stale))
	require.True(t, stale.Applied)
	require.Equal(t, "this plan was already applied: the state moved on from it by exactly the outcomes of its sends (serial 7 then, 8 now); run herald plan for what is due now", err.Error())

	maybe := "the saved plan is stale: the state changed since the plan was made (serial 7 then, 8 now; it may have been applied already); run herald plan again"
	// One send not made: interrupted, or another apply.
	require.EqualError(t, sp.Check(cfg, appliedSnapshot(t, snap, p, "message.plain"), testPlanKey), maybe)
	// A record the plan did not list.
	extra := applied.Clone()
	extra.Records["message.other"] = &state.Record{Message: state.Message{Address: "message.other"}, Status: state.StatusSent}
	require.EqualError(t, sp.Check(cfg, extra, testPlanKey), maybe)
	// A record the plan saw, removed.
	removed := applied.Clone()
	delete(removed.Records, "message.original")
	require.EqualError(t, sp.Check(cfg, removed, testPlanKey), maybe)
	// Applied, and the configuration changed: not only the plan's doing.
	changedCfg := *cfg
	changedCfg.Hash = "sha256:config-2"
	err = sp.Check(&changedCfg, applied, testPlanKey)
	require.ErrorContains(t, err, "it may have been applied already")
	require.True(t, errors.As(err, &stale))
	require.False(t, stale.Applied)
}

// TestPlanFileSensitiveCaptionKeepsURL: of a media message whose caption
// alone is sensitive, a saved plan keeps the URL (for show PLANFILE) and
// withholds the caption; a file that claims a plain URL for a sensitive
// one it does not mark is refused.
func TestPlanFileSensitiveCaptionKeepsURL(t *testing.T) {
	const url, caption = "https://example.com/poster.png", "door code 4711"
	inst := newInst(t, "message.poster", ago_(time.Hour), media(url, caption), sensitive())
	inst.Media.PlainURL = true
	secretURL := newInst(t, "message.hidden", ago_(time.Hour), media("https://example.com/x?token=s3cr3t", "plain words"), sensitive())
	secretURL.Media.PlainCaption = true
	cfg := configOf([]*spec.Instance{inst, secretURL})
	p := New(cfg, snapOf(), clock, Options{})
	data, err := Encode(p, testPlanKey)
	require.NoError(t, err)
	require.True(t, bytes.Contains(data, []byte(url)))
	require.False(t, bytes.Contains(data, []byte("4711")))
	require.False(t, bytes.Contains(data, []byte("s3cr3t")))
	require.True(t, bytes.Contains(data, []byte("plain words")))

	sp, err := Decode(data)
	require.NoError(t, err)
	got := changeByAddr(sp.Plan(), "message.poster").Instance
	require.True(t, got.Sensitive)
	require.Equal(t, url, got.Media.URL)
	require.True(t, got.Media.PlainURL)
	require.Empty(t, got.Media.Caption)
	require.False(t, got.Media.PlainCaption)
	hidden := changeByAddr(sp.Plan(), "message.hidden").Instance
	require.Empty(t, hidden.Media.URL)
	require.Equal(t, "plain words", hidden.Media.Caption)
	_, err = sp.Resolve(cfg, testPlanKey)
	require.NoError(t, err)

	forged := bytes.Replace(data, []byte(`"plain_url": true`), []byte(`"plain_url": false`), 1)
	require.NotEqual(t, data, forged)
	_, err = Decode(forged)
	require.ErrorContains(t, err, "sensitive content written out")
}
