package views

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// The -update flag may be registered by another test file of this package;
// package variables are initialised before init functions run, so looking
// it up first avoids registering it twice.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// goldenDir is where the command package keeps its plan fixtures.
const goldenDir = "../testdata/plan"

func checkPlanGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", name, diff)
	}
}

var (
	planClock = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

	groupEng   = &spec.Group{Name: "eng", ThreadID: "t-eng", Service: "whatsapp", From: "+14155550000"}
	groupSales = &spec.Group{Name: "sales", ThreadID: "t-sales", Service: "telegram", From: "+14155552671"}
)

func addr(s string) addrs.Message {
	a, err := addrs.ParseMessage(s)
	if err != nil {
		panic(err)
	}
	return a
}

func addrPtr(s string) *addrs.Message { a := addr(s); return &a }

func textInstance(address string, g *spec.Group, sendAt time.Time, text string) *spec.Instance {
	return &spec.Instance{
		Addr: addr(address), Group: g, From: g.From, Service: g.Service, ThreadID: g.ThreadID,
		SendAt: sendAt, ExpiresAfter: 6 * time.Hour, Text: text,
	}
}

func mediaInstance(address string, g *spec.Group, sendAt time.Time, m spec.Media) *spec.Instance {
	in := textInstance(address, g, sendAt, "")
	in.Media = &m
	return in
}

func sensitive(in *spec.Instance) *spec.Instance { in.Sensitive = true; return in }

func recordFor(in *spec.Instance, status state.Status, attempts int, lastError string) *state.Record {
	r := &state.Record{
		Message: state.Message{Address: in.Addr.String(), Group: in.Group.Name, ThreadID: in.ThreadID, Service: in.Service, From: in.From, ContentHash: in.ContentHash(), SendAt: in.SendAt}, Status: status, LastError: lastError,
	}
	for i := 1; i <= attempts; i++ {
		at := in.SendAt.Add(time.Duration(i) * time.Minute)
		r.Attempts = append(r.Attempts, state.Attempt{Number: i, StartedAt: at, FinishedAt: &at, Outcome: "transient"})
	}
	return r
}

func change(in *spec.Instance, a planner.Action, reason string, r *state.Record) *planner.Change {
	return &planner.Change{Addr: in.Addr, Action: a, Reason: reason, Instance: in, Record: r}
}

func orphan(address, group, thread string, sendAt time.Time) *planner.Change {
	return &planner.Change{
		Addr: addr(address), Action: planner.Orphan, Reason: "in state, not in the configuration",
		Record: &state.Record{
			Message: state.Message{Address: address, Group: group, ThreadID: thread, Service: "whatsapp", From: "+14155550000", ContentHash: "sha256:00", SendAt: sendAt}, Status: state.StatusSent,
			Attempts: []state.Attempt{{Number: 1, StartedAt: sendAt, Outcome: "delivered"}},
		},
	}
}

func plan(changes ...*planner.Change) *planner.Plan {
	return &planner.Plan{At: planClock, Changes: changes, Lineage: "lin-1", Serial: 3, ConfigHash: "sha256:cfg"}
}

// planFixtures is the matrix the golden tests render in every format.
func planFixtures() map[string]*planner.Plan {
	h := func(hours float64) time.Time { return planClock.Add(time.Duration(hours * float64(time.Hour))) }

	launch := textInstance("message.launch", groupEng, h(-3), "Launch day is 2026-12-01!\nDoors open at 9.")
	report := mediaInstance(`message.report["eng"]`, groupEng, h(-1), spec.Media{URL: "https://example.com/q3.pdf", Type: "document", Caption: "Q3 report for eng"})
	retry := textInstance("message.reminder", groupEng, h(-2), "Reminder: standup")
	wait := textInstance(`message.standup["2026-12-02T09:00:00+01:00"]`, groupEng, h(20), "Standup in 15 minutes")
	noop := textInstance("message.welcome", groupEng, h(-48), "Welcome!")
	drifted := textInstance("message.agenda", groupSales, h(-26), "Agenda v2")
	driftRecord := recordFor(drifted, state.StatusSent, 1, "")
	driftRecord.ContentHash = "sha256:old"
	driftRecord.SendAt = h(-27)
	expired := textInstance("message.late", groupSales, h(-30), "Too late now")
	unknown := textInstance("message.maybe", groupSales, h(-5), "Did this go out?")
	replaced := textInstance("message.again", groupSales, h(-4), "Once more")

	sensText := sensitive(textInstance("message.code", groupEng, h(-1), "the door code is 4711"))
	sensMedia := sensitive(mediaInstance("message.secret_doc", groupEng, h(1), spec.Media{URL: "https://example.com/secret?token=abc", Type: "image", Caption: "for your eyes"}))
	// Only the caption is sensitive: the URL stays shown.
	sensCaption := sensitive(mediaInstance("message.poster", groupEng, h(3), spec.Media{URL: "https://example.com/poster.png", Type: "image", Caption: "the door code is 4711", PlainURL: true}))
	// Only the URL is sensitive: the caption stays shown.
	sensURL := sensitive(mediaInstance("message.private_pdf", groupEng, h(2), spec.Media{URL: "https://example.com/q4.pdf?token=abc", Type: "document", Caption: "Q4 figures", PlainCaption: true}))

	mediaNoCaption := mediaInstance(`message.photos["a"]`, groupSales, h(-1), spec.Media{URL: "https://example.com/a.jpg", Type: "image"})
	mediaVideo := mediaInstance(`message.photos["b"]`, groupSales, h(2), spec.Media{URL: "https://example.com/b.mp4", Type: "video", Caption: "Line one\nLine two"})

	moved := textInstance("message.kickoff", groupEng, h(-10), "Kickoff!")
	movedChange := change(moved, planner.Noop, "already sent, unchanged", recordFor(moved, state.StatusSent, 1, ""))
	movedChange.MovedFrom = addrPtr("message.kick_off")
	movedSend := textInstance("message.intro", groupEng, h(-1), "Hello all")
	movedSendChange := change(movedSend, planner.Retry, "the last attempt failed; still within expires_after", recordFor(movedSend, state.StatusFailed, 1, "HTTP 503: service unavailable"))
	movedSendChange.MovedFrom = addrPtr(`message.intro_old["x"]`)

	renamed := textInstance("message.greeting", groupEng, h(-2), "Hi team")
	renameChange := change(renamed, planner.Send, "due and never sent", nil)
	renameChange.LikelyRenameOf = addrPtr("message.hello")

	replaceChange := change(replaced, planner.Send, "sent before; -replace sends it again", recordFor(replaced, state.StatusSent, 1, ""))
	replaceChange.Replace = true

	return map[string]*planner.Plan{
		"empty":     plan(),
		"noop_only": plan(change(noop, planner.Noop, "already sent, unchanged", recordFor(noop, state.StatusSent, 1, ""))),
		"waiting":   plan(change(wait, planner.Wait, "send_at is after the clock", nil)),
		"all_actions": plan(
			change(launch, planner.Send, "due and never sent", nil),
			change(report, planner.Send, "due and never sent", nil),
			change(retry, planner.Retry, "the last attempt failed; still within expires_after", recordFor(retry, state.StatusFailed, 2, "HTTP 500: internal error")),
			change(wait, planner.Wait, "send_at is after the clock", nil),
			change(noop, planner.Noop, "already sent, unchanged", recordFor(noop, state.StatusSent, 1, "")),
			change(drifted, planner.Drift, "content and send_at changed since it was sent", driftRecord),
			change(expired, planner.Expire, "due, but past expires_after", nil),
			change(unknown, planner.Unknown, "an attempt has no recorded outcome", recordFor(unknown, state.StatusUnknown, 1, "")),
			orphan("message.retired", "eng", "t-eng", h(-72)),
		),
		"sensitive": plan(
			change(sensText, planner.Send, "due and never sent", nil),
			change(sensMedia, planner.Wait, "send_at is after the clock", nil),
			change(sensCaption, planner.Wait, "send_at is after the clock", nil),
			change(sensURL, planner.Wait, "send_at is after the clock", nil),
		),
		"media": plan(
			change(report, planner.Send, "due and never sent", nil),
			change(mediaNoCaption, planner.Send, "due and never sent", nil),
			change(mediaVideo, planner.Wait, "send_at is after the clock", nil),
		),
		"moved": plan(movedChange, movedSendChange),
		"rename": plan(
			renameChange,
			orphan("message.hello", "eng", "t-eng", h(-2)),
		),
		"orphans": plan(
			orphan("message.old_b", "gone", "t-gone", h(-100)),
			orphan(`message.old_a["k"]`, "eng", "t-eng", h(-100)),
		),
		"multigroup": plan(
			change(textInstance("message.s1", groupSales, h(-1), "sales first"), planner.Send, "due and never sent", nil),
			change(textInstance("message.e1", groupEng, h(-1), "eng first"), planner.Send, "due and never sent", nil),
			change(textInstance("message.e2", groupEng, h(3.5), "eng later"), planner.Wait, "send_at is after the clock", nil),
			replaceChange,
		),
		"escaping": plan(
			change(textInstance("message.tricky", groupEng, h(-1),
				"a | b <b>bold</b> & @team `code` *stars* _under_ [link](x)\n</pre>\n<details>\n\x1b[31mred\x1b[0m"),
				planner.Send, "due and never sent", nil),
			change(textInstance(`message.keys["a|b"]`, groupEng, h(-1), "pipe in key"), planner.Send, "due and never sent", nil),
		),
	}
}
