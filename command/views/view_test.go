package views

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNewViewColour(t *testing.T) {
	tests := []struct {
		name                   string
		stdoutTerm, stderrTerm bool
		noColor                bool
		env                    map[string]string
		wantOut, wantErr       bool
	}{
		{"both terminals", true, true, false, nil, true, true},
		{"stdout piped", false, true, false, nil, false, true},
		{"stderr piped", true, false, false, nil, true, false},
		{"no terminal", false, false, false, nil, false, false},
		{"-no-color", true, true, true, nil, false, false},
		{"NO_COLOR set", true, true, false, map[string]string{"NO_COLOR": "1"}, false, false},
		{"NO_COLOR empty counts as unset", true, true, false, map[string]string{"NO_COLOR": ""}, true, true},
		{"dumb terminal", true, true, false, map[string]string{"TERM": "dumb"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewView(Streams{
				Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{},
				StdoutIsTerminal: tt.stdoutTerm, StderrIsTerminal: tt.stderrTerm,
				Getenv: func(k string) string { return tt.env[k] },
			}, tt.noColor)
			assert.Equal(t, tt.wantOut, v.StdoutColor)
			assert.Equal(t, tt.wantErr, v.StderrColor)
			// A buffer has no size: the default width applies.
			assert.Equal(t, DefaultWidth, v.Width)
		})
	}
}

func TestNewViewWithoutGetenv(t *testing.T) {
	v := NewView(Streams{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, StdoutIsTerminal: true}, false)
	assert.True(t, v.StdoutColor)
}

func TestPaint(t *testing.T) {
	assert.Equal(t, "x", Paint(false, "x", Bold, Red))
	assert.Equal(t, "x", Paint(true, "x"))
	assert.Equal(t, "", Paint(true, "", Red))
	assert.Equal(t, "\x1b[1;31mx\x1b[0m", Paint(true, "x", Bold, Red))
}

func TestViewError(t *testing.T) {
	var plain, coloured bytes.Buffer
	(&View{Stderr: &plain}).Error(errors.New("lock held by pid 42"))
	assert.Equal(t, "Error: lock held by pid 42\n", plain.String())
	(&View{Stderr: &coloured, StderrColor: true}).Error(errors.New("x"))
	assert.Equal(t, "\x1b[1;31mError:\x1b[0m x\n", coloured.String())
	(&View{Stderr: &plain}).Error(nil)
	assert.Equal(t, "Error: lock held by pid 42\n", plain.String(), "a nil error prints nothing")
}

func TestVersionView(t *testing.T) {
	var out bytes.Buffer
	v := &View{Stdout: &out}
	info := VersionInfo{Version: "0.3.1", Go: "go1.26.8", Platform: "linux_amd64"}
	assert.NoError(t, v.Version(info, false))
	assert.Equal(t, "herald v0.3.1\ncommit unknown: this build recorded no version control information\non linux_amd64 (built with go1.26.8)\n", out.String())
	out.Reset()
	assert.NoError(t, v.Version(info, true))
	assert.JSONEq(t, `{"version":"0.3.1","go":"go1.26.8","platform":"linux_amd64"}`, out.String())

	info.Commit, info.Date = "6ed9e7a01234", "2026-11-30T18:04:05Z"
	out.Reset()
	assert.NoError(t, v.Version(info, false))
	assert.Equal(t, "herald v0.3.1\ncommit 6ed9e7a01234 of 2026-11-30T18:04:05Z\non linux_amd64 (built with go1.26.8)\n", out.String())
	out.Reset()
	assert.NoError(t, v.Version(info, true))
	assert.JSONEq(t, `{"version":"0.3.1","go":"go1.26.8","platform":"linux_amd64","commit":"6ed9e7a01234","date":"2026-11-30T18:04:05Z"}`, out.String())
	out.Reset()
	info.Date = ""
	assert.NoError(t, v.Version(info, false))
	assert.Equal(t, "herald v0.3.1\ncommit 6ed9e7a01234\non linux_amd64 (built with go1.26.8)\n", out.String())
}
