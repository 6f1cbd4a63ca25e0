package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/heraldhq/herald/addrs"
)

// VarArg is one -var or -var-file flag, kept in command-line order.
type VarArg struct {
	// File reports that Value is the path of a variables file (-var-file);
	// otherwise Value is "name=value" (-var).
	File  bool
	Value string
	// Given, when it is not cty.NilVal, is the value of the variable Name
	// already evaluated (a variables block of a test file), written at
	// Range; File and Value are then unused.
	Given cty.Value
	Name  string
	Range hcl.Range
}

// LoadOptions are the inputs to Load besides the directory.
type LoadOptions struct {
	Vars []VarArg
	// Getenv reads HERALD_VAR_name, A1BASE_ACCOUNT_ID (used when the
	// provider sets no account_id) and A1BASE_BASE_URL (wins over base_url;
	// an aliased provider takes it when it has neither base_url nor its own
	// A1BASE_<ALIAS>_BASE_URL).
	// nil means os.Getenv.
	Getenv func(string) string
	// At is the clock a plan is made at. A repeat message expands to the
	// occurrences a plan at At considers (CONTRACT §2b): the latest at or
	// before At and the next after it. Applying a saved plan must load
	// with the plan's own At, or it would find other occurrences.
	//
	// Zero (validate, or reading only the backend block): repeat messages
	// are checked, their body evaluated against their first occurrence,
	// and they contribute no instances; Config.Repeats still holds their
	// rules. Plan and apply must pass their clock.
	At time.Time
	// AllowFileOutsideRoot lets the file functions (file, fileexists,
	// templatefile) and symlinked configuration files reach outside the
	// configuration directory. Off, a path must resolve, symlinks
	// followed, under the working directory, or in a module under the
	// module's own directory: a configuration from a pull request must
	// not read the machine's files (-allow-file-outside-root).
	AllowFileOutsideRoot bool
	// Overlay holds file contents that win over the files on disk, by
	// absolute path: an editor's unsaved buffers. An overlay path in the
	// directory, or in a module's, is read as one of its files even when
	// no such file exists on disk yet. Only configuration and variables
	// files are overlaid; the file functions read the disk.
	Overlay map[string][]byte
}

const (
	configSuffix   = ".hcl"
	varsSuffix     = ".vars.hcl"
	autoVarsSuffix = ".auto.vars.hcl"
)

// Load parses every *.hcl file in dir (not recursive; files ending .vars.hcl
// are variable files, not configuration), evaluates and checks it.
//
// The returned *Config is never nil and always has Dir and Files set, so
// diagnostics can be printed with snippets; the rest is only meaningful when
// !diags.HasErrors(). A relative -var-file path resolves against dir, as
// the working directory given with -chdir.
func Load(dir string, opts LoadOptions) (*Config, hcl.Diagnostics) {
	cfg := &Config{
		Dir:    dir,
		Files:  map[string]*hcl.File{},
		Groups: map[string]*Group{},
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	l := &loader{cfg: cfg, opts: opts, getenv: getenv, dir: dir, shared: newShared()}
	return cfg, l.load()
}

// loader carries one Load from files to the evaluated Config.
type loader struct {
	cfg    *Config
	opts   LoadOptions
	getenv func(string) string

	mod   *module
	vars  map[string]*varValue
	funcs map[string]function.Function

	// dir is the directory of the module being evaluated: the working
	// directory for the root module. path is its module instance (nil for
	// the root) and parent the loader of its caller (nil for the root).
	dir    string
	path   addrs.ModuleInstance
	parent *loader
	// outputs is the module's output values once evaluated.
	outputs cty.Value

	// shared is what every module instance of one Load adds to or reads.
	shared *shared
}

// shared is the part of a Load common to all its module instances.
type shared struct {
	// unknownSkipped records that an evaluation was skipped because it
	// depended on a value that had already failed; it must never be the
	// only sign of a problem.
	unknownSkipped atomic.Bool
	// configNames are the configuration file paths of every module
	// directory, for the configuration's hash.
	configNames []string
	// modules caches each module directory's declarations: a module used
	// by several calls is read, and its file-level errors reported, once.
	modules map[string]*moduleDir
	// instances are the addresses of every message instance; blocks the
	// message blocks by block address (module.m.message.x), for moved
	// and import blocks, which may name messages in any module.
	instances map[string]bool
	blocks    map[string]*messageBlock
	// failed are the block addresses of messages whose evaluation
	// reported an error, and the paths (without keys) of module calls
	// that could not be evaluated: an import or moved block naming what
	// is in them is not told that its target does not exist, which is
	// only a consequence of the error already reported.
	failed map[string]bool
	// moved collects the moved blocks of every module, with addresses
	// made absolute; imports those of the root module.
	moved []*movedBlock
	// providerFromOK: by alias, the provider block was evaluated well enough to
	// tell whether it sets from.
	providerFromOK map[string]bool
}

func newShared() *shared {
	return &shared{modules: map[string]*moduleDir{}, instances: map[string]bool{}, blocks: map[string]*messageBlock{}, failed: map[string]bool{}}
}

// module is every declaration of the configuration files, in file order.
type module struct {
	providers []*providerBlock
	backends  []*backendBlock
	variables []*variableBlock
	locals    []*localValue
	groups    []*groupBlock
	messages  []*messageBlock
	moved     []*movedBlock
	imports   []*importBlock
	calls     []*moduleCall
	outputs   []*outputBlock
	checks    []*checkBlock
	notifies  []*notifyBlock

	variableByName map[string]*variableBlock
	localByName    map[string]*localValue
	groupByName    map[string]*groupBlock
	messageByName  map[string]*messageBlock
	callByName     map[string]*moduleCall
	outputByName   map[string]*outputBlock
	checkByName    map[string]*checkBlock
	notifyByName   map[string]*notifyBlock
}

func (l *loader) load() hcl.Diagnostics {
	var diags hcl.Diagnostics
	names, autoVars, err := listDir(l.cfg.Dir, l.opts.Overlay)
	if err != nil {
		return append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Failed to read configuration directory",
			Detail:   fmt.Sprintf("Cannot list %s: %s.", l.cfg.Dir, err),
		})
	}
	if len(names) == 0 {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail:   fmt.Sprintf("The directory %s contains no *.hcl configuration files (files ending .vars.hcl hold variable values only).", l.cfg.Dir),
		})
	}
	names, confineDiags := l.confineFiles(names, []string{l.cfg.Dir})
	var autoDiags hcl.Diagnostics
	autoVars, autoDiags = l.confineFiles(autoVars, []string{l.cfg.Dir})
	confineDiags = append(confineDiags, autoDiags...)
	diags = append(diags, confineDiags...)
	l.shared.configNames = append(l.shared.configNames, names...)

	files, decls, syntaxOK, fdiags := parseAndDecode(names, l.opts.Overlay)
	diags = append(diags, fdiags...)
	for i, name := range names {
		if files[i] != nil {
			l.cfg.Files[name] = files[i]
		}
	}
	l.mod, fdiags = mergeModule(decls)
	diags = append(diags, fdiags...)

	if !syntaxOK || confineDiags.HasErrors() {
		// A file that does not parse has lost blocks or attributes, and
		// evaluating the rest would report their absence as if it were
		// the problem.
		return diags
	}
	diags = append(diags, l.loadVariables(autoVars)...)
	diags = append(diags, l.evaluate()...)
	diags = uniqueDiagnostics(diags)

	if l.shared.unknownSkipped.Load() && !diags.HasErrors() {
		// Unknown values only come from evaluations that already failed;
		// reaching here means a case the loader does not explain, and a
		// configuration with holes in it must not pass as valid.
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unknown value",
			Detail:   "A value in the configuration could not be determined.",
		})
	}
	if !diags.HasErrors() {
		l.cfg.Hash = l.hash()
		l.cfg.sensitiveVars = l.sensitiveVars()
		l.cfg.sensitiveNames = map[string]bool{}
		for name, v := range l.mod.variableByName {
			if v.Sensitive {
				l.cfg.sensitiveNames[name] = true
			}
		}
	}
	return diags
}

// confineFiles drops the files that are symlinks leading outside dirs,
// with an error for each, unless -allow-file-outside-root: a syntax error
// in such a file would show lines of whatever it leads to.
func (l *loader) confineFiles(names, dirs []string) ([]string, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	kept := names[:0:0]
	for _, name := range names {
		if d := l.outsideRoot(name, dirs); d != nil {
			diags = append(diags, d)
			continue
		}
		kept = append(kept, name)
	}
	return kept, diags
}

// outsideRoot is the error for a configuration or variables file whose
// real path is outside dirs, or nil.
func (l *loader) outsideRoot(name string, dirs []string) *hcl.Diagnostic {
	if l.opts.AllowFileOutsideRoot {
		return nil
	}
	real := make([]string, len(dirs))
	for i, d := range dirs {
		real[i] = realPath(d)
	}
	if underAny(realPath(name), real) {
		return nil
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "File outside the configuration directory",
		Detail:   fmt.Sprintf("%s is a symlink to a file outside the configuration directory, which herald does not read: configuration and variables files, like the files the file functions read, must be under the working directory (a module's under its own directory), so that a configuration cannot read the machine's files. Run with -allow-file-outside-root to read it.", l.displayPath(name)),
		Subject:  &hcl.Range{Filename: name, Start: hcl.InitialPos, End: hcl.InitialPos},
	}
}

// absPath is p made absolute, or p when that fails.
func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// listDir returns the configuration files and the *.auto.vars.hcl files of
// dir, each sorted by name, with the overlay's files in dir that are not
// on disk (yet).
func listDir(dir string, overlay map[string][]byte) (config, autoVars []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	add := func(name string) {
		switch {
		case strings.HasSuffix(name, autoVarsSuffix):
			autoVars = append(autoVars, filepath.Join(dir, name))
		case strings.HasSuffix(name, varsSuffix):
			// loaded only when named by -var-file
		default:
			config = append(config, filepath.Join(dir, name))
		}
	}
	seen := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, configSuffix) || strings.HasPrefix(name, ".") {
			continue
		}
		if e.Type()&os.ModeType != 0 && e.Type()&os.ModeSymlink == 0 {
			continue
		}
		seen[name] = true
		add(name)
	}
	if len(overlay) > 0 {
		absDir := absPath(dir)
		for p := range overlay {
			name := filepath.Base(p)
			if filepath.Dir(p) != absDir || seen[name] || !strings.HasSuffix(name, configSuffix) || strings.HasPrefix(name, ".") {
				continue
			}
			add(name)
		}
	}
	// os.ReadDir already sorts by name; the order is part of the meaning
	// (later auto vars files win), so it is stated here rather than assumed.
	sort.Strings(config)
	sort.Strings(autoVars)
	return config, autoVars, nil
}

// parseAndDecode reads, parses and decodes the files concurrently: parsing
// dominates the cost of a large configuration, and files are independent
// until they are merged.
func parseAndDecode(names []string, overlay map[string][]byte) ([]*hcl.File, []*module, bool, hcl.Diagnostics) {
	files := make([]*hcl.File, len(names))
	syntaxOK := make([]bool, len(names))
	decls := make([]*module, len(names))
	fileDiags := make([]hcl.Diagnostics, len(names))

	workers := runtime.GOMAXPROCS(0)
	if workers > len(names) {
		workers = len(names)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				files[i], decls[i], syntaxOK[i], fileDiags[i] = parseAndDecodeFile(names[i], overlay)
			}
		}()
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()

	var diags hcl.Diagnostics
	allOK := true
	for i, d := range fileDiags {
		diags = append(diags, d...)
		allOK = allOK && syntaxOK[i]
	}
	return files, decls, allOK, diags
}

// openStringRange is the unterminated string on its line, from its opening
// quote to the end of the line, given the parser's range for the line
// break that ends it (which runs on into the next line).
func openStringRange(src []byte, lineBreak hcl.Range) hcl.Range {
	end := lineBreak.Start
	if end.Byte > len(src) {
		return lineBreak
	}
	start := end
	for i := end.Byte - 1; i >= 0 && src[i] != '\n'; i-- {
		if src[i] == '"' && (i == 0 || src[i-1] != '\\') {
			start = hcl.Pos{Line: end.Line, Column: end.Column - utf8.RuneCount(src[i:end.Byte]), Byte: i}
			break
		}
	}
	if start.Byte == end.Byte {
		// No quote found: point at the line's end itself.
		return hcl.Range{Filename: lineBreak.Filename, Start: end, End: end}
	}
	return hcl.Range{Filename: lineBreak.Filename, Start: start, End: end}
}

// parseAndDecodeFile reads one file; ok is false when it could not be read
// or parsed.
func parseAndDecodeFile(name string, overlay map[string][]byte) (file *hcl.File, mod *module, ok bool, diags hcl.Diagnostics) {
	src, d := readSourceFile(name, "Configuration file", overlay)
	if d != nil {
		return nil, &module{}, false, hcl.Diagnostics{d}
	}
	if diags := checkConfigNesting(src, name); diags.HasErrors() {
		return sourceForSnippet(src, name, diags), &module{}, false, diags
	}
	file, diags = hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if file == nil || file.Body == nil {
		return file, &module{}, false, syntaxErrors(src, diags)
	}
	if diags.HasErrors() {
		// The parser recovers by guessing where blocks end; checking the
		// meaning of what it recovered reports arguments in the wrong
		// block and missing ones that are only cut off.
		return file, &module{}, false, syntaxErrors(src, diags)
	}
	mod, ddiags := decodeFile(file.Body)
	return file, mod, true, append(diags, ddiags...)
}

// syntaxErrors keeps the parser's diagnostics that point at a cause. A
// string without its closing quote swaps what is inside and outside quotes
// for the rest of the file: the parser then reports every later line, as
// part of a block the string is in. Only one report is kept, on the line
// that lacks the quote (the parser's "Unterminated template string" when
// it gives one), and it says what to fix.
func syntaxErrors(src []byte, diags hcl.Diagnostics) hcl.Diagnostics {
	cut := -1
	for _, d := range diags {
		if d.Summary == "Invalid multi-line string" && d.Subject != nil && (cut < 0 || d.Subject.Start.Byte < cut) {
			cut = d.Subject.Start.Byte
		}
	}
	if cut < 0 {
		return diags
	}
	var out hcl.Diagnostics
	var cause *hcl.Diagnostic
	for _, d := range diags {
		if d.Severity != hcl.DiagError || d.Subject == nil || d.Subject.Start.Byte < cut {
			out = append(out, d)
			continue
		}
		if d.Subject.Start.Byte == cut && (cause == nil || d.Summary == "Unterminated template string") {
			cause = d
		}
	}
	c := *cause
	c.Subject = openStringRange(src, *cause.Subject).Ptr()
	// The parser's context runs on over the lines the string swallowed.
	c.Context = nil
	c.Detail = "This string has no closing quote on its line. Quoted strings may not be split over multiple lines: add the missing quote, write a newline as \\n, or use a heredoc (<<EOT ... EOT) for text over several lines. The rest of the file is checked once it parses."
	return append(out, &c)
}

var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "provider", LabelNames: []string{"name"}},
		{Type: "backend", LabelNames: []string{"type"}},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "group", LabelNames: []string{"name"}},
		{Type: "message", LabelNames: []string{"name"}},
		{Type: "moved"},
		{Type: "import"},
		{Type: "module", LabelNames: []string{"name"}},
		{Type: "output", LabelNames: []string{"name"}},
		{Type: "check", LabelNames: []string{"name"}},
		{Type: "notify", LabelNames: []string{"name"}},
	},
}

// decodeFile decodes the top-level blocks of one file. It keeps going after
// errors so that one run reports as many problems as it can.
func decodeFile(body hcl.Body) (*module, hcl.Diagnostics) {
	mod := &module{}
	content, diags := body.Content(fileSchema)
	for _, d := range diags {
		if d.Summary == "Unsupported block type" && (strings.Contains(d.Detail, `"run"`) || strings.Contains(d.Detail, `"assert"`)) {
			// A test file in the configuration's own directory.
			d.Detail += " run blocks belong in test files (NAME.test.hcl) under tests/, which herald test reads and the configuration does not."
		}
	}
	for _, block := range content.Blocks {
		switch block.Type {
		case "provider":
			p, d := decodeProviderBlock(block)
			diags = append(diags, d...)
			if p != nil {
				mod.providers = append(mod.providers, p)
			}
		case "backend":
			b, d := decodeBackendBlock(block)
			diags = append(diags, d...)
			if b != nil {
				mod.backends = append(mod.backends, b)
			}
		case "variable":
			v, d := decodeVariableBlock(block)
			diags = append(diags, d...)
			if v != nil {
				mod.variables = append(mod.variables, v)
			}
		case "locals":
			ls, d := decodeLocalsBlock(block)
			diags = append(diags, d...)
			mod.locals = append(mod.locals, ls...)
		case "group":
			g, d := decodeGroupBlock(block)
			diags = append(diags, d...)
			if g != nil {
				mod.groups = append(mod.groups, g)
			}
		case "message":
			m, d := decodeMessageBlock(block)
			diags = append(diags, d...)
			if m != nil {
				mod.messages = append(mod.messages, m)
			}
		case "moved":
			m, d := decodeMovedBlock(block)
			diags = append(diags, d...)
			if m != nil {
				mod.moved = append(mod.moved, m)
			}
		case "import":
			ib, d := decodeImportBlock(block)
			diags = append(diags, d...)
			if ib != nil {
				mod.imports = append(mod.imports, ib)
			}
		case "module":
			c, d := decodeModuleCall(block)
			diags = append(diags, d...)
			if c != nil {
				mod.calls = append(mod.calls, c)
			}
		case "check":
			c, d := decodeCheckBlock(block)
			diags = append(diags, d...)
			if c != nil {
				mod.checks = append(mod.checks, c)
			}
		case "notify":
			n, d := decodeNotifyBlock(block)
			diags = append(diags, d...)
			if n != nil {
				mod.notifies = append(mod.notifies, n)
			}
		case "output":
			o, d := decodeOutputBlock(block)
			diags = append(diags, d...)
			if o != nil {
				mod.outputs = append(mod.outputs, o)
			}
		}
	}
	return mod, diags
}

// mergeModule joins the files' declarations in file order and rejects
// names declared twice.
func mergeModule(parts []*module) (*module, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	mod := &module{
		variableByName: map[string]*variableBlock{},
		localByName:    map[string]*localValue{},
		groupByName:    map[string]*groupBlock{},
		messageByName:  map[string]*messageBlock{},
		callByName:     map[string]*moduleCall{},
		outputByName:   map[string]*outputBlock{},
		checkByName:    map[string]*checkBlock{},
		notifyByName:   map[string]*notifyBlock{},
	}
	dup := func(kind, name string, prev, rng hcl.Range) *hcl.Diagnostic {
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate " + kind,
			Detail:   fmt.Sprintf("A %s named %q was already declared at %s. Names must be unique.", kind, name, sourcePos(prev)),
			Subject:  rng.Ptr(),
		}
	}
	for _, p := range parts {
		if p == nil {
			continue
		}
		for _, pb := range p.providers {
			if prev := findProvider(mod.providers, pb.Alias); prev != nil {
				what := `A provider "a1base" block`
				if pb.Alias != "" {
					what = fmt.Sprintf(`A provider "a1base" block with alias %q`, pb.Alias)
				}
				hint := " Only one is allowed; for another account, give the block an alias (alias = \"eu\")."
				if pb.Alias != "" {
					hint = " Aliases must be unique."
				}
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate provider configuration",
					Detail:   fmt.Sprintf("%s was already declared at %s.%s", what, sourcePos(prev.DeclRange), hint),
					Subject:  pb.DeclRange.Ptr(),
				})
				continue
			}
			mod.providers = append(mod.providers, pb)
		}
		for _, b := range p.backends {
			if len(mod.backends) > 0 {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate backend configuration",
					Detail:   fmt.Sprintf("A backend block was already declared at %s. Only one is allowed.", sourcePos(mod.backends[0].DeclRange)),
					Subject:  b.DeclRange.Ptr(),
				})
				continue
			}
			mod.backends = append(mod.backends, b)
		}
		diags = append(diags, mergeUnique(&mod.variables, mod.variableByName, p.variables, "variable", func(v *variableBlock) (string, hcl.Range) { return v.Name, v.DeclRange }, dup)...)
		diags = append(diags, mergeUnique(&mod.locals, mod.localByName, p.locals, "local value", func(v *localValue) (string, hcl.Range) { return v.Name, v.DeclRange }, dup)...)
		diags = append(diags, mergeUnique(&mod.groups, mod.groupByName, p.groups, "group", func(g *groupBlock) (string, hcl.Range) { return g.Name, g.DeclRange }, dup)...)
		diags = append(diags, mergeUnique(&mod.messages, mod.messageByName, p.messages, "message", func(m *messageBlock) (string, hcl.Range) { return m.Name, m.DeclRange }, dup)...)
		diags = append(diags, mergeUnique(&mod.calls, mod.callByName, p.calls, "module call", func(c *moduleCall) (string, hcl.Range) { return c.Name, c.DeclRange }, dup)...)
		diags = append(diags, mergeUnique(&mod.outputs, mod.outputByName, p.outputs, "output", func(o *outputBlock) (string, hcl.Range) { return o.Name, o.DeclRange }, dup)...)
		diags = append(diags, mergeUnique(&mod.checks, mod.checkByName, p.checks, "check", func(c *checkBlock) (string, hcl.Range) { return c.Name, c.DeclRange }, dup)...)
		diags = append(diags, mergeUnique(&mod.notifies, mod.notifyByName, p.notifies, "notify block", func(n *notifyBlock) (string, hcl.Range) { return n.Name, n.DeclRange }, dup)...)
		mod.moved = append(mod.moved, p.moved...)
		mod.imports = append(mod.imports, p.imports...)
	}
	return mod, diags
}

// findProvider returns the provider block with the alias, or nil.
func findProvider(blocks []*providerBlock, alias string) *providerBlock {
	for _, p := range blocks {
		if p.Alias == alias {
			return p
		}
	}
	return nil
}

// mergeUnique adds the blocks of one file to the module's list and index,
// refusing a name declared before.
func mergeUnique[T any](list *[]T, byName map[string]T, items []T, kind string, id func(T) (string, hcl.Range), dup func(kind, name string, prev, rng hcl.Range) *hcl.Diagnostic) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, it := range items {
		name, rng := id(it)
		if prev, ok := byName[name]; ok {
			_, prevRng := id(prev)
			diags = append(diags, dup(kind, name, prevRng, rng))
			continue
		}
		byName[name] = it
		*list = append(*list, it)
	}
	return diags
}

// hash identifies the configuration files and the non-sensitive variable
// values. Sensitive values are left out: the hash is stored in saved plans.
func (l *loader) hash() string {
	h := sha256.New()
	names := append([]string(nil), l.shared.configNames...)
	sort.Strings(names)
	for _, name := range names {
		f := l.cfg.Files[name]
		if f == nil {
			continue
		}
		rel, err := filepath.Rel(l.cfg.Dir, name)
		if err != nil {
			rel = filepath.Base(name)
		}
		fmt.Fprintf(h, "file\x00%s\x00%d\x00", filepath.ToSlash(rel), len(f.Bytes))
		h.Write(f.Bytes)
	}
	for _, name := range sortedKeys(l.mod.variableByName) {
		v := l.mod.variableByName[name]
		val, ok := l.vars[name]
		if !ok || v.Sensitive {
			continue
		}
		plain, _ := val.value.UnmarkDeep()
		js, err := ctyjson.Marshal(plain, plain.Type())
		if err != nil {
			js = []byte(plain.GoString())
		}
		fmt.Fprintf(h, "var\x00%s\x00%d\x00", v.Name, len(js))
		h.Write(js)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// uniqueDiagnostics drops repeats of one diagnostic: every instance of a
// module evaluates the same files, and a problem that does not depend on
// the instance is reported once.
func uniqueDiagnostics(diags hcl.Diagnostics) hcl.Diagnostics {
	type key struct {
		severity        hcl.DiagnosticSeverity
		summary, detail string
		subject         hcl.Range
	}
	seen := make(map[key]bool, len(diags))
	out := diags[:0]
	for _, d := range diags {
		k := key{severity: d.Severity, summary: d.Summary, detail: d.Detail}
		if d.Subject != nil {
			k.subject = *d.Subject
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, d)
	}
	return out
}
