package command

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/internal/testkit"
)

// waitFor polls out until re matches, or fails the test when the sandbox
// ended first.
func waitFor(t *testing.T, out *testkit.SyncBuffer, done <-chan int, re *regexp.Regexp) []string {
	t.Helper()
	for {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m
		}
		select {
		case code := <-done:
			t.Fatalf("sandbox exited with %d before printing %s:\n%s", code, re, out.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func TestSandboxServesAndStops(t *testing.T) {
	var out, errOut testkit.SyncBuffer
	env := &Env{
		Dir: t.TempDir(), Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		Getenv: func(string) string { return "" }, Now: time.Now,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, env, []string{"sandbox", "-listen=127.0.0.1:0", "-api-key=k1", "-api-secret=s1", "-no-color"})
	}()
	m := waitFor(t, &out, done, regexp.MustCompile(`export A1BASE_BASE_URL=(http://127\.0\.0\.1:\d+/v1)\n`))
	assert.Contains(t, out.String(), "export A1BASE_API_KEY=k1\n")

	send := func(key string) a1base.Result {
		c := a1base.New(a1base.Config{BaseURL: m[1], AccountID: "acc", APIKey: key, APISecret: "s1"})
		return c.SendGroup(ctx, a1base.SendRequest{Content: "Hello from the test", From: "+14155552671", ThreadID: "t-1", Service: "whatsapp"})
	}
	res := send("k1")
	require.Equal(t, a1base.Delivered, res.Outcome, "%v", res.Err)
	waitFor(t, &out, done, regexp.MustCompile(`sandbox received → thread t-1 \(whatsapp\) from \+14155552671: "Hello from the test"`))
	assert.Equal(t, a1base.Permanent, send("wrong").Outcome, "only the given credentials are accepted")

	cancel()
	assert.Equal(t, 0, <-done)
	assert.Contains(t, out.String(), "Sandbox stopped after 1 message.")
	assert.Empty(t, errOut.String())
}

func TestSandboxFaults(t *testing.T) {
	var out testkit.SyncBuffer
	env := &Env{Dir: t.TempDir(), Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, env, []string{"sandbox", "-listen=127.0.0.1:0", "-fail-rate=1", "-fail-status=503"})
	}()
	m := waitFor(t, &out, done, regexp.MustCompile(`export A1BASE_BASE_URL=(\S+)\n`))
	assert.Contains(t, out.String(), "1 of sends fail with 503")
	c := a1base.New(a1base.Config{BaseURL: m[1], AccountID: "acc", APIKey: "k", APISecret: "s"})
	res := c.SendGroup(ctx, a1base.SendRequest{Content: "x", From: "+14155552671", ThreadID: "t", Service: "whatsapp"})
	assert.Equal(t, a1base.Transient, res.Outcome)
	assert.Equal(t, 503, res.StatusCode)
	cancel()
	assert.Equal(t, 0, <-done)
}

func TestSandboxFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-fail-rate=1.5"}, "-fail-rate must be a fraction between 0 and 1"},
		{[]string{"-lose=sometimes"}, "-lose must be drop or hang"},
		{[]string{"-api-key=k"}, "-api-key and -api-secret go together"},
		{[]string{"-fail-status=200"}, "-fail-status must be an HTTP error status"},
		{[]string{"-listen=256.0.0.1:1"}, "sandbox: listen tcp"},
		{[]string{"extra"}, "sandbox takes no arguments"},
	}
	for _, tt := range tests {
		r := runMain(t, t.TempDir(), "", append([]string{"sandbox"}, tt.args...)...)
		assert.Equal(t, 1, r.code, tt.args)
		assert.Contains(t, r.stderr, tt.want, tt.args)
	}
}
