package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/heraldhq/herald/internal/clock"
	"github.com/heraldhq/herald/spec"
)

// Options are the inputs of a language server besides its stream.
type Options struct {
	// Vars are the -var and -var-file values every load uses, as validate's.
	Vars []spec.VarArg
	// Getenv reads HERALD_VAR_* and A1BASE_*; nil means os.Getenv.
	Getenv func(string) string
	// AllowFileOutsideRoot is -allow-file-outside-root.
	AllowFileOutsideRoot bool
	// Now is the clock a message's hover reads its next sends at; nil
	// means time.Now.
	Now func() time.Time
	// Version is herald's version, told to the editor.
	Version string
}

// ErrNoShutdown is Serve's error when the editor ended the session
// without the shutdown request the protocol asks for first.
var ErrNoShutdown = errors.New("the editor exited without asking for shutdown")

// document is an open document: the editor's text wins over the disk.
type document struct {
	path    string
	version int32
	text    []byte
}

// Server is one language server session.
type Server struct {
	opts Options
	conn jsonrpc2.Conn

	mu   sync.Mutex
	docs map[string]*document
	// fileRoots are, by file, the configuration directories whose load
	// read it: a module's file is checked as part of its caller's
	// configuration once that has been loaded.
	fileRoots map[string]map[string]bool
	// reported are, by configuration directory, the files its last load
	// published diagnostics for, to clear them when they are fixed.
	reported map[string]map[string]bool
	// dirty are the configuration directories to diagnose again.
	dirty map[string]bool
	// workspace are the editor's workspace folders.
	workspace   []string
	snippets    bool
	shutdown    bool
	exited      bool
	kick        chan struct{}
	stopWorkers chan struct{}
}

// NewServer returns a server; Serve runs it.
func NewServer(opts Options) *Server {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	return &Server{
		opts:        opts,
		docs:        map[string]*document{},
		fileRoots:   map[string]map[string]bool{},
		reported:    map[string]map[string]bool{},
		dirty:       map[string]bool{},
		kick:        make(chan struct{}, 1),
		stopWorkers: make(chan struct{}),
	}
}

// Serve speaks the protocol over rwc until the editor exits or the
// stream ends. It returns ErrNoShutdown when the editor exits without
// asking for shutdown first, and nil when the stream just ends.
func (s *Server) Serve(ctx context.Context, rwc io.ReadWriteCloser) error {
	s.conn = jsonrpc2.NewConn(jsonrpc2.NewStream(rwc))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.diagnoseLoop(ctx)
	}()
	s.conn.Go(ctx, s.handle)
	select {
	case <-s.conn.Done():
	case <-ctx.Done():
		s.conn.Close()
		// A read of a terminal may not end when it is closed; the
		// process is about to exit anyway.
		select {
		case <-s.conn.Done():
		case <-time.After(time.Second):
		}
	}
	close(s.stopWorkers)
	wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exited && !s.shutdown {
		return ErrNoShutdown
	}
	return ctx.Err()
}

// handle answers one request or notification. An error returned here
// would end the connection, so every failure is a reply.
func (s *Server) handle(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request) error {
	result, err := s.dispatch(ctx, req)
	if _, isCall := req.(*jsonrpc2.Call); !isCall {
		return nil
	}
	return reply(ctx, result, err)
}

// decodeParams reads a request's parameters into v.
// answer decodes a request's parameters and answers it with f.
func answer[P, R any](req jsonrpc2.Request, f func(*P) (R, error)) (any, error) {
	var p P
	if err := decodeParams(req, &p); err != nil {
		return nil, err
	}
	return f(&p)
}

func decodeParams(req jsonrpc2.Request, v any) error {
	if err := json.Unmarshal(req.Params(), v); err != nil {
		return fmt.Errorf("%w: %s: %s", jsonrpc2.ErrInvalidParams, req.Method(), err)
	}
	return nil
}

func (s *Server) dispatch(ctx context.Context, req jsonrpc2.Request) (any, error) {
	switch req.Method() {
	case protocol.MethodInitialize:
		var p protocol.InitializeParams
		if err := decodeParams(req, &p); err != nil {
			return nil, err
		}
		// rootUri is deprecated in favour of workspaceFolders, and
		// still what older clients send.
		var root struct {
			RootURI protocol.DocumentURI `json:"rootUri"`
		}
		if err := decodeParams(req, &root); err != nil {
			return nil, err
		}
		return s.initialize(&p, root.RootURI), nil
	case protocol.MethodInitialized:
		s.mu.Lock()
		for _, dir := range s.workspace {
			if hasConfig(dir) {
				s.dirty[dir] = true
			}
		}
		s.mu.Unlock()
		s.poke()
		return nil, nil
	case protocol.MethodShutdown:
		s.mu.Lock()
		s.shutdown = true
		s.mu.Unlock()
		return nil, nil
	case protocol.MethodExit:
		s.mu.Lock()
		s.exited = true
		s.mu.Unlock()
		s.conn.Close()
		return nil, nil
	case protocol.MethodTextDocumentDidOpen:
		var p protocol.DidOpenTextDocumentParams
		if err := decodeParams(req, &p); err != nil {
			return nil, err
		}
		path, err := pathOf(p.TextDocument.URI)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.docs[path] = &document{path: path, version: p.TextDocument.Version, text: []byte(p.TextDocument.Text)}
		s.markDirty(path)
		s.mu.Unlock()
		s.poke()
		return nil, nil
	case protocol.MethodTextDocumentDidChange:
		var p protocol.DidChangeTextDocumentParams
		if err := decodeParams(req, &p); err != nil {
			return nil, err
		}
		path, err := pathOf(p.TextDocument.URI)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		doc := s.docs[path]
		if doc == nil {
			doc = &document{path: path}
			s.docs[path] = doc
		}
		doc.version = p.TextDocument.Version
		// Full synchronisation (see initialize): the last change is the
		// whole text.
		if n := len(p.ContentChanges); n > 0 {
			doc.text = []byte(p.ContentChanges[n-1].Text)
		}
		s.markDirty(path)
		s.mu.Unlock()
		s.poke()
		return nil, nil
	case protocol.MethodTextDocumentDidSave, protocol.MethodTextDocumentDidClose:
		var p struct {
			TextDocument protocol.TextDocumentIdentifier `json:"textDocument"`
		}
		if err := decodeParams(req, &p); err != nil {
			return nil, err
		}
		path, err := pathOf(p.TextDocument.URI)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		if req.Method() == protocol.MethodTextDocumentDidClose {
			delete(s.docs, path)
		}
		s.markDirty(path)
		s.mu.Unlock()
		s.poke()
		return nil, nil
	case protocol.MethodTextDocumentCompletion:
		return answer(req, s.completion)
	case protocol.MethodTextDocumentHover:
		return answer(req, s.hover)
	case protocol.MethodTextDocumentDefinition:
		return answer(req, s.definition)
	case protocol.MethodTextDocumentDocumentSymbol:
		return answer(req, s.documentSymbols)
	case protocol.MethodTextDocumentFormatting:
		return answer(req, s.formatting)
	}
	if strings.HasPrefix(req.Method(), "$/") {
		return nil, nil // optional notifications, such as $/cancelRequest
	}
	return nil, fmt.Errorf("%w: %s", jsonrpc2.ErrMethodNotFound, req.Method())
}

func (s *Server) initialize(p *protocol.InitializeParams, rootURI protocol.DocumentURI) *protocol.InitializeResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range p.WorkspaceFolders {
		if dir, err := pathOf(protocol.DocumentURI(f.URI)); err == nil {
			s.workspace = append(s.workspace, dir)
		}
	}
	if len(s.workspace) == 0 && rootURI != "" {
		if dir, err := pathOf(rootURI); err == nil {
			s.workspace = append(s.workspace, dir)
		}
	}
	if c := p.Capabilities.TextDocument; c != nil && c.Completion != nil && c.Completion.CompletionItem != nil {
		s.snippets = c.Completion.CompletionItem.SnippetSupport
	}
	return &protocol.InitializeResult{
		Capabilities: protocol.ServerCapabilities{
			TextDocumentSync: protocol.TextDocumentSyncOptions{
				OpenClose: true,
				Change:    protocol.TextDocumentSyncKindFull,
				Save:      &protocol.SaveOptions{},
			},
			CompletionProvider:         &protocol.CompletionOptions{TriggerCharacters: []string{"."}},
			HoverProvider:              true,
			DefinitionProvider:         true,
			DocumentSymbolProvider:     true,
			DocumentFormattingProvider: true,
		},
		ServerInfo: &protocol.ServerInfo{Name: "herald", Version: s.opts.Version},
	}
}

// hasConfig reports whether dir holds configuration files.
func hasConfig(dir string) bool {
	names, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
	for _, n := range names {
		if !strings.HasSuffix(n, ".vars.hcl") || strings.HasSuffix(n, ".auto.vars.hcl") {
			return true
		}
	}
	return false
}

// markDirty schedules the configurations that read path for diagnosis;
// s.mu is held.
func (s *Server) markDirty(path string) {
	for _, root := range s.rootsOf(path) {
		s.dirty[root] = true
	}
}

// rootsOf are the configuration directories that read path: those whose
// load read it, else its own directory. s.mu is held.
func (s *Server) rootsOf(path string) []string {
	roots := make([]string, 0, len(s.fileRoots[path])+1)
	for root := range s.fileRoots[path] {
		roots = append(roots, root)
	}
	if len(roots) == 0 {
		roots = append(roots, filepath.Dir(path))
	}
	sort.Strings(roots)
	return roots
}

// poke wakes the diagnostics worker.
func (s *Server) poke() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// overlay is the text of the open documents by path, and their versions;
// s.mu is held.
func (s *Server) overlay() (map[string][]byte, map[string]int32) {
	texts := make(map[string][]byte, len(s.docs))
	versions := make(map[string]int32, len(s.docs))
	for path, d := range s.docs {
		texts[path] = d.text
		versions[path] = d.version
	}
	return texts, versions
}

// text is the current text of path: the open document's, else the file's.
func (s *Server) text(path string) ([]byte, error) {
	s.mu.Lock()
	d := s.docs[path]
	s.mu.Unlock()
	if d != nil {
		return d.text, nil
	}
	return readLimited(path)
}

// readLimited reads a file herald would parse, refusing one larger than
// spec.MaxFileSize.
func readLimited(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if info.Size() > spec.MaxFileSize {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, spec.MaxFileSize>>20)
	}
	return os.ReadFile(path)
}

// loadOptions are the options of every load, with the open documents
// overlaid.
func (s *Server) loadOptions(overlay map[string][]byte) spec.LoadOptions {
	return spec.LoadOptions{
		Vars:                 s.opts.Vars,
		Getenv:               s.opts.Getenv,
		AllowFileOutsideRoot: s.opts.AllowFileOutsideRoot,
		Overlay:              overlay,
	}
}
