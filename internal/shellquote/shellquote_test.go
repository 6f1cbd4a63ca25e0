package shellquote

import (
	"os/exec"
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	cases := map[string]string{
		"message.hello":         "message.hello",
		`message.m["a"]`:        `'message.m["a"]'`,
		"saved plan":            "'saved plan'",
		"it's":                  `'it'\''s'`,
		"":                      "''",
		"2026-12-01T09:00:00Z":  "2026-12-01T09:00:00Z",
		"$HOME":                 "'$HOME'",
		"a*":                    "'a*'",
		"café":                  "'café'",
		"module.emea.message.x": "module.emea.message.x",
	}
	for in, want := range cases {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
	if got, want := Flag("var", "greeting=hello world"), "-var='greeting=hello world'"; got != want {
		t.Errorf("Flag = %s, want %s", got, want)
	}
}

// TestQuoteRoundTrip has a real shell read each quoted word back.
func TestQuoteRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on this machine")
	}
	words := []string{`message.m["a"]`, "it's", "a b\tc", "$(echo no)", "`x`", "back\\slash", "", "ünï"}
	var script strings.Builder
	for _, w := range words {
		script.WriteString("printf '%s\\n' " + Quote(w) + "\n")
	}
	out, err := exec.Command(sh, "-c", script.String()).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(got) != len(words) {
		t.Fatalf("the shell printed %d words, want %d: %q", len(got), len(words), got)
	}
	for i, w := range words {
		if got[i] != w {
			t.Errorf("word %d: the shell read %q, want %q", i, got[i], w)
		}
	}
}
