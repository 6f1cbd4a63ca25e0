package lsp

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/heraldhq/herald/lsp/lsptest"
)

// pipes is a server's side of two pipes.
type pipes struct {
	io.Reader
	io.WriteCloser
}

// startServer runs a server on pipes and returns a client of it,
// initialized.
func startServer(tb testing.TB, opts Options) *lsptest.Client {
	tb.Helper()
	return startServerWith(tb, opts, &protocol.InitializeParams{})
}

// startServerWith is startServer with the initialize request's params.
func startServerWith(tb testing.TB, opts Options, params any) *lsptest.Client {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = NewServer(opts).Serve(ctx, pipes{inR, outW})
		outW.Close()
	}()
	c := lsptest.New(ctx, outR, inW)
	tb.Cleanup(func() {
		c.Close()
		cancel()
		<-done
	})
	var init protocol.InitializeResult
	if err := c.Call(ctx, protocol.MethodInitialize, params, &init); err != nil {
		tb.Fatal(err)
	}
	if err := c.Notify(ctx, protocol.MethodInitialized, &protocol.InitializedParams{}); err != nil {
		tb.Fatal(err)
	}
	return c
}

// writeLargeConfig writes a configuration of n messages in files of 100,
// and returns the path of the first messages file.
func writeLargeConfig(tb testing.TB, dir string, n int) string {
	tb.Helper()
	groups := `provider "a1base" {
  from = "+14155552671"
}

group "eng" {
  thread_id = "t-eng"
  timezone  = "Europe/Berlin"
}
`
	if err := os.WriteFile(filepath.Join(dir, "groups.hcl"), []byte(groups), 0o644); err != nil {
		tb.Fatal(err)
	}
	first := ""
	for f := 0; f*100 < n; f++ {
		var b strings.Builder
		for i := f * 100; i < n && i < (f+1)*100; i++ {
			fmt.Fprintf(&b, "message \"m%04d\" {\n  group   = group.eng\n  send_at = \"2027-03-%02d 09:%02d\"\n  text    = \"Message %d\"\n}\n\n", i, 1+i%28, i%60, i)
		}
		name := filepath.Join(dir, fmt.Sprintf("messages%02d.hcl", f))
		if first == "" {
			first = name
		}
		if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return first
}

// BenchmarkDiagnosticsAfterChange measures, for a directory of 1,000
// messages, the time from an editor's change of one file to the
// diagnostics of the whole configuration reaching the editor.
func BenchmarkDiagnosticsAfterChange(b *testing.B) {
	dir := b.TempDir()
	path := writeLargeConfig(b, dir, 1000)
	src, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	c := startServer(b, Options{})
	uri := uriOf(path)
	ctx := context.Background()
	if err := c.Notify(ctx, protocol.MethodTextDocumentDidOpen, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{
		URI: uri, LanguageID: "hcl", Version: 1, Text: string(src),
	}}); err != nil {
		b.Fatal(err)
	}
	if _, err := c.WaitDiagnostics(uri, 1, time.Minute); err != nil {
		b.Fatal(err)
	}
	broken := strings.Replace(string(src), "group.eng", "group.nope", 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		version := int32(i + 2)
		text := string(src)
		if i%2 == 0 {
			text = broken
		}
		if err := c.Notify(ctx, protocol.MethodTextDocumentDidChange, &protocol.DidChangeTextDocumentParams{
			TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: uri}, Version: version},
			ContentChanges: []protocol.TextDocumentContentChangeEvent{{Text: text}},
		}); err != nil {
			b.Fatal(err)
		}
		p, err := c.WaitDiagnostics(uri, uint32(version), time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if want := i%2 == 0; want != (len(p.Diagnostics) > 0) {
			b.Fatalf("change %d: diagnostics %v", i, p.Diagnostics)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/change")
}
