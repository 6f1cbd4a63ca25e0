package command

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.lsp.dev/protocol"

	"github.com/heraldhq/herald/internal/testkit"
	"github.com/heraldhq/herald/lsp/lsptest"
)

// lspClock is the clock herald lsp reads next sends at in the tests.
var lspClock = time.Date(2027, 3, 3, 12, 0, 0, 0, time.UTC)

const lspGroups = `provider "a1base" {
  from = "+14155552671"
}

variable "greeting" {
  description = "How every message starts"
  default     = "Hello"
}

locals {
  team = "eng"
}

group "eng" {
  thread_id = "t-eng"
  timezone  = "Europe/Berlin"
}

module "weekly" {
  source = "./modules/weekly"
}
`

const lspModule = `variable "day" {
  default = "MON"
}

output "channel" {
  value       = "weekly-${var.day}"
  description = "The weekly channel"
}
`

// lspMessages has an error: group.nope is not declared.
const lspMessages = `message "launch" {
  group   = group.nope
  send_at = "2027-03-10T09:00:00Z"
  text    = "${var.greeting}, ${local.team}: ${module.weekly.channel}"
}

message "standup" {
  group = group.eng
  repeat {
    cron = "0 9 * * MON"
  }
  text = "Standup"
}
`

// lspSession is herald lsp started through Main, with a client on pipes.
type lspSession struct {
	client *lsptest.Client
	code   chan int
	stderr *testkit.SyncBuffer
}

func startLSP(t *testing.T, dir string) *lspSession {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	stderr := &testkit.SyncBuffer{}
	env := &Env{
		Dir:     dir,
		Stdin:   inR,
		Stdout:  outW,
		Stderr:  stderr,
		Getenv:  func(string) string { return "" },
		Environ: func() []string { return nil },
		Now:     func() time.Time { return lspClock },
		Version: "1.2.3",
	}
	s := &lspSession{code: make(chan int, 1), stderr: stderr}
	go func() {
		s.code <- Main(ctx, env, []string{"lsp"})
		outW.Close()
	}()
	s.client = lsptest.New(ctx, outR, inW)
	t.Cleanup(func() {
		cancel()
		s.client.Close()
	})
	return s
}

func (s *lspSession) call(t *testing.T, method string, params, result any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, s.client.Call(ctx, method, params, result), method)
}

func (s *lspSession) notify(t *testing.T, method string, params any) {
	t.Helper()
	require.NoError(t, s.client.Notify(context.Background(), method, params), method)
}

func position(line, char uint32) protocol.Position {
	return protocol.Position{Line: line, Character: char}
}

func docPos(uri protocol.DocumentURI, line, char uint32) protocol.TextDocumentPositionParams {
	return protocol.TextDocumentPositionParams{TextDocument: protocol.TextDocumentIdentifier{URI: uri}, Position: position(line, char)}
}

func fileURI(path string) protocol.DocumentURI {
	return protocol.DocumentURI("file://" + filepath.ToSlash(path))
}

func labels(items []protocol.CompletionItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Label)
	}
	return out
}

// TestLSP drives herald lsp as an editor would, over its standard input
// and output: diagnostics as a document is opened and fixed, completion,
// hover, go-to-definition, document symbols and formatting.
func TestLSP(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "groups.hcl"), lspGroups)
	writeFile(t, filepath.Join(dir, "modules", "weekly", "main.hcl"), lspModule)
	messages := filepath.Join(dir, "messages.hcl")
	writeFile(t, messages, lspMessages)
	uri := fileURI(messages)
	s := startLSP(t, dir)

	var init protocol.InitializeResult
	s.call(t, protocol.MethodInitialize, &protocol.InitializeParams{WorkspaceFolders: []protocol.WorkspaceFolder{{URI: string(fileURI(dir)), Name: "messages"}}}, &init)
	assert.Equal(t, "herald", init.ServerInfo.Name)
	assert.Equal(t, "1.2.3", init.ServerInfo.Version)
	assert.Equal(t, true, init.Capabilities.HoverProvider)
	s.notify(t, protocol.MethodInitialized, &protocol.InitializedParams{})

	// didOpen with an error: the diagnostic is on group.nope.
	s.notify(t, protocol.MethodTextDocumentDidOpen, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{
		URI: uri, LanguageID: "hcl", Version: 1, Text: lspMessages,
	}})
	pub, err := s.client.WaitDiagnostics(uri, 1, time.Minute)
	require.NoError(t, err)
	require.Len(t, pub.Diagnostics, 1, "%+v", pub.Diagnostics)
	d := pub.Diagnostics[0]
	assert.Equal(t, protocol.DiagnosticSeverityError, d.Severity)
	assert.Contains(t, d.Message, "nope")
	assert.Equal(t, protocol.Range{Start: position(1, 12), End: position(1, 22)}, d.Range, d.Message)

	// The same error as validate gives for the file on disk.
	r := runMain(t, dir, "", "validate", "-no-color")
	require.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, strings.SplitN(d.Message, ":", 2)[0])

	// didChange fixing it: empty diagnostics, though the disk still has
	// the error (the editor's buffer wins).
	fixed := strings.Replace(lspMessages, "group.nope", "group.eng", 1)
	s.notify(t, protocol.MethodTextDocumentDidChange, &protocol.DidChangeTextDocumentParams{
		TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: uri}, Version: 2},
		ContentChanges: []protocol.TextDocumentContentChangeEvent{{Text: fixed}},
	})
	pub, err = s.client.WaitDiagnostics(uri, 2, time.Minute)
	require.NoError(t, err)
	assert.Empty(t, pub.Diagnostics)
	assert.NotNil(t, pub.Diagnostics, "an empty list clears the editor's diagnostics")

	// An error in a module's file, opened in the editor, is diagnosed as
	// part of the configuration that calls the module.
	modURI := fileURI(filepath.Join(dir, "modules", "weekly", "main.hcl"))
	broken := strings.Replace(lspModule, `"weekly-${var.day}"`, `"weekly-${var.month}"`, 1)
	s.notify(t, protocol.MethodTextDocumentDidOpen, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{
		URI: modURI, LanguageID: "hcl", Version: 1, Text: broken,
	}})
	pub, err = s.client.WaitDiagnostics(modURI, 1, time.Minute)
	require.NoError(t, err)
	require.NotEmpty(t, pub.Diagnostics)
	assert.Contains(t, pub.Diagnostics[0].Message, "month")
	assert.Equal(t, uint32(5), pub.Diagnostics[0].Range.Start.Line)
	s.notify(t, protocol.MethodTextDocumentDidClose, &protocol.DidCloseTextDocumentParams{TextDocument: protocol.TextDocumentIdentifier{URI: modURI}})
	pub, err = s.client.WaitDiagnostics(modURI, 0, time.Minute)
	require.NoError(t, err)
	assert.Empty(t, pub.Diagnostics, "closed, the module's file on disk is read again")

	// Completion inside a message block: its arguments, with types and
	// docs, and its nested blocks.
	var list protocol.CompletionList
	s.call(t, protocol.MethodTextDocumentCompletion, &protocol.CompletionParams{TextDocumentPositionParams: docPos(uri, 4, 0)}, &list)
	got := labels(list.Items)
	assert.Subset(t, got, []string{"group", "send_at", "text", "expires_after", "for_each", "media", "repeat", "precondition"})
	assert.NotContains(t, got, "thread_id")
	for _, it := range list.Items {
		if it.Label == "send_at" {
			assert.Equal(t, "time string", it.Detail)
			assert.Contains(t, it.Documentation.(map[string]any)["value"], "RFC 3339")
		}
	}
	// At the top level: the block types.
	s.call(t, protocol.MethodTextDocumentCompletion, &protocol.CompletionParams{TextDocumentPositionParams: docPos(uri, 5, 0)}, &list)
	assert.Subset(t, labels(list.Items), []string{"provider", "group", "message", "variable", "locals", "module", "output", "moved", "import", "backend", "check"})
	// Inside a module block: the module's variables besides source.
	groupsURI := fileURI(filepath.Join(dir, "groups.hcl"))
	s.notify(t, protocol.MethodTextDocumentDidOpen, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{
		URI: groupsURI, LanguageID: "hcl", Version: 1, Text: lspGroups,
	}})
	s.call(t, protocol.MethodTextDocumentCompletion, &protocol.CompletionParams{TextDocumentPositionParams: docPos(groupsURI, 20, 0)}, &list)
	assert.Subset(t, labels(list.Items), []string{"source", "for_each", "day"})
	// References: group., var., local., module.NAME.
	withRefs := strings.Replace(fixed, "text    = ", "text    = group.", 1)
	s.notify(t, protocol.MethodTextDocumentDidChange, &protocol.DidChangeTextDocumentParams{
		TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: uri}, Version: 3},
		ContentChanges: []protocol.TextDocumentContentChangeEvent{{Text: withRefs}},
	})
	s.call(t, protocol.MethodTextDocumentCompletion, &protocol.CompletionParams{TextDocumentPositionParams: docPos(uri, 3, uint32(len("  text    = group.")))}, &list)
	assert.Equal(t, []string{"eng"}, labels(list.Items))
	for prefix, want := range map[string]string{"var.": "greeting", "local.": "team", "module.weekly.": "channel", "each.": "key"} {
		text := strings.Replace(fixed, "text    = ", "text    = "+prefix, 1)
		s.notify(t, protocol.MethodTextDocumentDidChange, &protocol.DidChangeTextDocumentParams{
			TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: uri}, Version: 4},
			ContentChanges: []protocol.TextDocumentContentChangeEvent{{Text: text}},
		})
		s.call(t, protocol.MethodTextDocumentCompletion, &protocol.CompletionParams{TextDocumentPositionParams: docPos(uri, 3, uint32(len("  text    = "+prefix)))}, &list)
		assert.Contains(t, labels(list.Items), want, prefix)
	}
	s.notify(t, protocol.MethodTextDocumentDidChange, &protocol.DidChangeTextDocumentParams{
		TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: uri}, Version: 5},
		ContentChanges: []protocol.TextDocumentContentChangeEvent{{Text: fixed}},
	})

	// Hover on an argument: its documentation.
	var hover protocol.Hover
	s.call(t, protocol.MethodTextDocumentHover, &protocol.HoverParams{TextDocumentPositionParams: docPos(uri, 2, 3)}, &hover)
	assert.Contains(t, hover.Contents.Value, "**send_at** `time string`")
	assert.Contains(t, hover.Contents.Value, "RFC 3339")
	// Hover on a message: its next sends in UTC and the group's zone.
	s.call(t, protocol.MethodTextDocumentHover, &protocol.HoverParams{TextDocumentPositionParams: docPos(uri, 0, 10)}, &hover)
	assert.Contains(t, hover.Contents.Value, "2027-03-10 09:00 UTC")
	assert.Contains(t, hover.Contents.Value, "2027-03-10 10:00 CET (Europe/Berlin)")
	// A repeat message: its next occurrences, Mondays at 09:00 in the
	// group's zone, across the change to summer time.
	s.call(t, protocol.MethodTextDocumentHover, &protocol.HoverParams{TextDocumentPositionParams: docPos(uri, 6, 2)}, &hover)
	assert.Contains(t, hover.Contents.Value, "| 2027-03-08 08:00 UTC | 2027-03-08 09:00 CET (Europe/Berlin) |")
	assert.Contains(t, hover.Contents.Value, "| 2027-03-29 07:00 UTC | 2027-03-29 09:00 CEST (Europe/Berlin) |")
	assert.NotContains(t, hover.Contents.Value, "2027-03-01", "a past occurrence")

	// Go-to-definition: group., var., local. and module. references.
	groups := fileURI(filepath.Join(dir, "groups.hcl"))
	for _, tc := range []struct {
		line, char uint32
		wantURI    protocol.DocumentURI
		wantLine   uint32
	}{
		{1, 18, groups, 13}, // group.eng
		{3, 19, groups, 4},  // var.greeting
		{3, 36, groups, 10}, // local.team
		{3, 49, groups, 18}, // module.weekly
		{3, 62, modURI, 4},  // module.weekly.channel: the output
		{7, 14, groups, 13}, // group.eng in standup
	} {
		var locs []protocol.Location
		s.call(t, protocol.MethodTextDocumentDefinition, &protocol.DefinitionParams{TextDocumentPositionParams: docPos(uri, tc.line, tc.char)}, &locs)
		require.Len(t, locs, 1, "definition at %d:%d", tc.line, tc.char)
		assert.Equal(t, tc.wantURI, locs[0].URI, "definition at %d:%d", tc.line, tc.char)
		assert.Equal(t, tc.wantLine, locs[0].Range.Start.Line, "definition at %d:%d", tc.line, tc.char)
	}

	// Document symbols: the two messages, with the repeat block inside.
	var symbols []protocol.DocumentSymbol
	s.call(t, protocol.MethodTextDocumentDocumentSymbol, &protocol.DocumentSymbolParams{TextDocument: protocol.TextDocumentIdentifier{URI: uri}}, &symbols)
	require.Len(t, symbols, 2)
	assert.Equal(t, "launch", symbols[0].Name)
	assert.Equal(t, "message", symbols[0].Detail)
	assert.Equal(t, "standup", symbols[1].Name)
	var children []string
	for _, c := range symbols[1].Children {
		children = append(children, c.Name)
	}
	assert.Equal(t, []string{"group", "repeat", "text"}, children)

	// Formatting: as herald fmt does.
	messy := "message \"x\" {\n  group = group.eng\n  send_at=\"2027-03-10T09:00:00Z\"\n      text = \"x\"\n}\n"
	s.notify(t, protocol.MethodTextDocumentDidChange, &protocol.DidChangeTextDocumentParams{
		TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: uri}, Version: 6},
		ContentChanges: []protocol.TextDocumentContentChangeEvent{{Text: messy}},
	})
	var edits []protocol.TextEdit
	s.call(t, protocol.MethodTextDocumentFormatting, &protocol.DocumentFormattingParams{TextDocument: protocol.TextDocumentIdentifier{URI: uri}}, &edits)
	require.Len(t, edits, 1)
	assert.Equal(t, protocol.Range{End: position(5, 0)}, edits[0].Range)
	want := "message \"x\" {\n  group   = group.eng\n  send_at = \"2027-03-10T09:00:00Z\"\n  text    = \"x\"\n}\n"
	assert.Equal(t, want, edits[0].NewText)
	fmtDir := t.TempDir()
	writeFile(t, filepath.Join(fmtDir, "m.hcl"), messy)
	require.Equal(t, 0, runMain(t, fmtDir, "", "fmt").code)
	onDisk, err := os.ReadFile(filepath.Join(fmtDir, "m.hcl"))
	require.NoError(t, err)
	assert.Equal(t, string(onDisk), edits[0].NewText, "the same as herald fmt")

	// shutdown, then exit: herald lsp exits 0.
	s.call(t, protocol.MethodShutdown, nil, nil)
	s.notify(t, protocol.MethodExit, nil)
	select {
	case code := <-s.code:
		assert.Equal(t, 0, code, s.stderr.String())
	case <-time.After(time.Minute):
		t.Fatal("herald lsp did not exit after exit")
	}
}

// TestLSPExitWithoutShutdown checks the protocol's rule: exit without
// shutdown first exits 1.
func TestLSPExitWithoutShutdown(t *testing.T) {
	s := startLSP(t, t.TempDir())
	var init protocol.InitializeResult
	s.call(t, protocol.MethodInitialize, &protocol.InitializeParams{}, &init)
	s.notify(t, protocol.MethodExit, nil)
	select {
	case code := <-s.code:
		assert.Equal(t, 1, code)
		assert.Contains(t, s.stderr.String(), "shutdown")
	case <-time.After(time.Minute):
		t.Fatal("herald lsp did not exit after exit")
	}
}

// TestLSPArguments: herald lsp takes no arguments.
func TestLSPArguments(t *testing.T) {
	r := runMain(t, t.TempDir(), "", "lsp", "main.hcl")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "lsp takes no arguments")
}

// writeFile writes content to path, making its directory.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}
