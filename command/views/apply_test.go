package views

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/state"
)

func mustAddr(t *testing.T, s string) addrs.Message {
	t.Helper()
	a, err := addrs.ParseMessage(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestRenderApplyResult(t *testing.T) {
	sum := executor.Summary{
		Sent: 5, Failed: 1, Expired: 2, Unknown: 1,
		Failures: []executor.Failure{{Addr: mustAddr(t, "message.y"), Reason: "A1Base answered 400 Bad Request: thread is archived"}},
		Unknowns: []executor.Failure{{Addr: mustAddr(t, `message.r["eng"]`), Reason: "no answer"}},
	}
	got := RenderApplyResult(ApplyResult{Summary: sum}, false)
	assert.Contains(t, got, "Apply complete: 5 sent, 1 failed, 2 expired, 1 unknown.\n")
	assert.Contains(t, got, "  message.y: A1Base answered 400 Bad Request: thread is archived\n")
	assert.Contains(t, got, `    herald apply -replace='message.r["eng"]'`+"\n")

	got = RenderApplyResult(ApplyResult{Summary: executor.Summary{Sent: 12, NotStarted: 30}, Interrupted: true}, false)
	assert.Equal(t, "\nInterrupted: 12 sent, 30 not started. Run apply again to continue.\n", got)

	got = RenderApplyResult(ApplyResult{Summary: executor.Summary{Sent: 1, Unknown: 2, NotStarted: 3}, Aborted: true}, false)
	assert.Contains(t, got, "Aborted: 1 sent, 2 unknown, 3 not started.")
}

func TestSandboxLine(t *testing.T) {
	req := a1base.SendRequest{ThreadID: "t-eng", Service: "whatsapp", From: "+14155552671",
		Content: "Launch day\nis \x1b[31mhere \"today\", and this text goes on for quite a while longer"}
	got := SandboxLine(req, false)
	assert.Equal(t, `sandbox received → thread t-eng (whatsapp) from +14155552671: "Launch day\nis \x1b[31mhere \"today\", and this text goes on for quite a while longer"`, got)
	assert.NotContains(t, got, "\x1b", "control characters are escaped")

	// The whole text, however long.
	long := strings.Repeat("0123456789", 50) + "the end"
	req.Content = long
	assert.True(t, strings.HasSuffix(SandboxLine(req, false), `: "`+long+`"`))

	req.AttachmentURI, req.Content = "https://example.com/q3.pdf", ""
	assert.Contains(t, SandboxLine(req, false), `: [https://example.com/q3.pdf] ""`)
}

func TestApplyLinesHidesSensitiveSandboxContent(t *testing.T) {
	var out bytes.Buffer
	v := &View{Stdout: &out, Stderr: &out}
	a := NewApply(ApplyLinesFormat, v, nil)
	a.SandboxReceived(a1base.SendRequest{ThreadID: "t", Service: "whatsapp", From: "+1", Content: "the password is hunter2"}, true)
	assert.NotContains(t, out.String(), "hunter2")
	assert.Contains(t, out.String(), Sensitive)
}

func TestApplyLinesOutcomes(t *testing.T) {
	var out bytes.Buffer
	v := &View{Stdout: &out, Stderr: &out}
	a := NewApply(ApplyLinesFormat, v, nil)
	c := &planner.Change{Addr: mustAddr(t, "message.x"), Action: planner.Send}
	a.Starting(1)
	a.Retrying(c, 2, 2000e6, a1base.Result{Outcome: a1base.Transient, StatusCode: 429})
	a.AfterSend(c, 2, a1base.Result{Outcome: a1base.Permanent, StatusCode: 403, Err: errors.New("A1Base refused access")}, state.StatusFailed)
	a.Finished(executor.Summary{Failed: 1, Failures: []executor.Failure{{Addr: c.Addr, Reason: "A1Base refused access"}}})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	assert.Equal(t, []string{
		"message.x: retrying in 2s (429 rate limited)",
		"message.x: failed: A1Base refused access",
	}, lines)
}

// TestApplyLinesQuoteReplaceHints: every "-replace=ADDR" apply prints is
// shell-quoted when the address has a key.
func TestApplyLinesQuoteReplaceHints(t *testing.T) {
	var out bytes.Buffer
	v := &View{Stdout: &out, Stderr: &out}
	a := NewApply(ApplyLinesFormat, v, nil)
	c := &planner.Change{Addr: mustAddr(t, `message.m["a"]`), Action: planner.Send}
	a.Starting(2)
	a.AfterSend(c, 1, a1base.Result{Outcome: a1base.Ambiguous, Err: errors.New("no answer")}, state.StatusUnknown)
	a.Reconciled(c, false)
	got := out.String()
	assert.Contains(t, got, `message.m["a"]: unknown: no answer (it may have been delivered; not sent again unless -replace='message.m["a"]')`)
	assert.Contains(t, got, `message.m["a"]: not found in its thread's recent messages: still unknown (not sent again unless -replace='message.m["a"]')`)
	assert.Contains(t, LookUpLine(c, state.LookUp{Covered: "the thread's last 10 messages"}, state.StatusNotDelivered), `on_unknown = hold: not sent again unless -replace='message.m["a"]'`)
}
