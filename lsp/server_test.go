package lsp

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.lsp.dev/protocol"

	"github.com/heraldhq/herald/lsp/lsptest"
	"github.com/heraldhq/herald/spec"
)

const serverTestConfig = `provider "a1base" {
  from = "+14155552671"
}

group "eng" {
  thread_id = "t-eng"
  service   = "telegram"
}

message "launch" {
  group   = group.eng
  send_at = "2027-03-10T09:00:00Z"
  text    = "Launch"
  precondition {
    condition     = self.
    error_message = "x"
  }
}

check "quiet" {
  assert {
    condition     = message.
    error_message = "x"
  }
}
`

// openDoc opens path in the server with text and returns its URI.
func openDoc(t *testing.T, c *lsptest.Client, path, text string) protocol.DocumentURI {
	t.Helper()
	uri := uriOf(path)
	require.NoError(t, c.Notify(context.Background(), protocol.MethodTextDocumentDidOpen, &protocol.DidOpenTextDocumentParams{
		TextDocument: protocol.TextDocumentItem{URI: uri, LanguageID: "hcl", Version: 1, Text: text},
	}))
	return uri
}

func complete(t *testing.T, c *lsptest.Client, uri protocol.DocumentURI, text, before string) []string {
	t.Helper()
	off := strings.Index(text, before)
	require.GreaterOrEqual(t, off, 0, before)
	var list protocol.CompletionList
	require.NoError(t, c.Call(context.Background(), protocol.MethodTextDocumentCompletion, &protocol.CompletionParams{
		TextDocumentPositionParams: protocol.TextDocumentPositionParams{
			TextDocument: protocol.TextDocumentIdentifier{URI: uri},
			Position:     position([]byte(text), off+len(before)),
		},
	}, &list))
	var out []string
	for _, it := range list.Items {
		out = append(out, it.Label)
	}
	return out
}

// TestCompletionContexts checks completion where only some references
// are in scope, and of an argument's fixed values.
func TestCompletionContexts(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "main.hcl")
	c := startServer(t, Options{})
	uri := openDoc(t, c, path, serverTestConfig)

	assert.Contains(t, complete(t, c, uri, serverTestConfig, "condition     = self."), "send_at_utc")
	assert.Equal(t, []string{"launch"}, complete(t, c, uri, serverTestConfig, "condition     = message."))
	// In a precondition: its own arguments, not the message's.
	inPrecondition := complete(t, c, uri, serverTestConfig, "    error_message = \"x\"\n")
	assert.ElementsMatch(t, []string{"condition", "error_message", "severity"}, inPrecondition)
	// The fixed values of service, after "service = ".
	text := strings.Replace(serverTestConfig, `service   = "telegram"`, `service   = `, 1)
	require.NoError(t, c.Notify(context.Background(), protocol.MethodTextDocumentDidChange, &protocol.DidChangeTextDocumentParams{
		TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: uri}, Version: 2},
		ContentChanges: []protocol.TextDocumentContentChangeEvent{{Text: text}},
	}))
	assert.Subset(t, complete(t, c, uri, text, "service   = "), []string{`"whatsapp"`, `"telegram"`})
	// An expression's roots: self only in a precondition.
	roots := complete(t, c, uri, text, "  group   = ")
	assert.Subset(t, roots, []string{"var", "local", "group", "module", "each", "formatdate"})
	assert.NotContains(t, roots, "self")
}

// TestRootURIAndUnplacedDiagnostics: a client that names its workspace
// with the older rootUri gets the workspace loaded at start, and a
// diagnostic with no place in a file (an undeclared -var) is shown at the
// top of the open documents.
func TestRootURIAndUnplacedDiagnostics(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "main.hcl")
	require.NoError(t, os.WriteFile(path, []byte("group \"eng\" {\n  from = \"+14155552671\"\n}\n"), 0o644))
	c := startServerWith(t, Options{Vars: []spec.VarArg{{Value: "nope=1"}}}, map[string]any{"rootUri": string(uriOf(dir)), "capabilities": map[string]any{}})
	// Loaded at start, before any document is open: the missing
	// thread_id is published though no document asked.
	p, err := c.WaitDiagnostics(uriOf(path), 0, time.Minute)
	require.NoError(t, err)
	require.NotEmpty(t, p.Diagnostics)
	assert.Contains(t, p.Diagnostics[0].Message, "thread_id")

	fixed := "group \"eng\" {\n  thread_id = \"t\"\n  from = \"+14155552671\"\n}\n"
	uri := openDoc(t, c, path, fixed)
	p, err = c.WaitDiagnostics(uri, 1, time.Minute)
	require.NoError(t, err)
	require.Len(t, p.Diagnostics, 1, "%+v", p.Diagnostics)
	assert.Contains(t, p.Diagnostics[0].Message, "nope")
	assert.Equal(t, protocol.Range{}, p.Diagnostics[0].Range)
}
