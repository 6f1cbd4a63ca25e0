package spec

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Functions returns the functions available in herald expressions: the
// part of Terraform's standard set that makes sense offline and without a
// clock (no timestamp, no uuid: a plan must be a function of its inputs).
// File functions resolve relative paths against baseDir and read nothing
// outside it.
func Functions(baseDir string) map[string]function.Function {
	return FunctionsIn(FileScope{Base: baseDir, Roots: []string{baseDir}})
}

// FileScope is where the file functions read.
type FileScope struct {
	// Base is the directory relative paths resolve against: the working
	// directory, or a module's own directory.
	Base string
	// Roots are the directories a path must resolve under, symlinks
	// followed: the working directory and, in a module, the module's
	// directory.
	Roots []string
	// Anywhere lifts the restriction (-allow-file-outside-root).
	Anywhere bool
}

// FunctionsIn is Functions with file functions confined to scope.
func FunctionsIn(scope FileScope) map[string]function.Function {
	files := newFileAccess(scope)
	fns := map[string]function.Function{
		"abs":             stdlib.AbsoluteFunc,
		"alltrue":         allTrueFunc,
		"anytrue":         anyTrueFunc,
		"base64decode":    base64DecodeFunc,
		"base64encode":    base64EncodeFunc,
		"can":             tryfunc.CanFunc,
		"ceil":            stdlib.CeilFunc,
		"chomp":           stdlib.ChompFunc,
		"chunklist":       stdlib.ChunklistFunc,
		"coalesce":        stdlib.CoalesceFunc,
		"coalescelist":    stdlib.CoalesceListFunc,
		"compact":         stdlib.CompactFunc,
		"concat":          stdlib.ConcatFunc,
		"contains":        stdlib.ContainsFunc,
		"csvdecode":       stdlib.CSVDecodeFunc,
		"distinct":        stdlib.DistinctFunc,
		"element":         stdlib.ElementFunc,
		"endswith":        endsWithFunc,
		"file":            fileFunc(files),
		"fileexists":      fileExistsFunc(files),
		"flatten":         stdlib.FlattenFunc,
		"floor":           stdlib.FloorFunc,
		"format":          stdlib.FormatFunc,
		"formatdate":      stdlib.FormatDateFunc,
		"formatlist":      stdlib.FormatListFunc,
		"indent":          stdlib.IndentFunc,
		"index":           stdlib.IndexFunc,
		"join":            stdlib.JoinFunc,
		"jsondecode":      stdlib.JSONDecodeFunc,
		"jsonencode":      stdlib.JSONEncodeFunc,
		"keys":            stdlib.KeysFunc,
		"length":          lengthFunc,
		"log":             stdlib.LogFunc,
		"lookup":          stdlib.LookupFunc,
		"lower":           stdlib.LowerFunc,
		"max":             stdlib.MaxFunc,
		"md5":             hashFunc(func(b []byte) []byte { s := md5.Sum(b); return s[:] }),
		"merge":           stdlib.MergeFunc,
		"min":             stdlib.MinFunc,
		"parseint":        stdlib.ParseIntFunc,
		"pow":             stdlib.PowFunc,
		"range":           stdlib.RangeFunc,
		"regex":           stdlib.RegexFunc,
		"regexall":        stdlib.RegexAllFunc,
		"replace":         replaceFunc,
		"reverse":         stdlib.ReverseListFunc,
		"sensitive":       sensitiveFunc,
		"setintersection": stdlib.SetIntersectionFunc,
		"setproduct":      stdlib.SetProductFunc,
		"setsubtract":     stdlib.SetSubtractFunc,
		"setunion":        stdlib.SetUnionFunc,
		"sha256":          hashFunc(func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }),
		"signum":          stdlib.SignumFunc,
		"slice":           stdlib.SliceFunc,
		"sort":            stdlib.SortFunc,
		"split":           stdlib.SplitFunc,
		"startswith":      startsWithFunc,
		"strcontains":     strContainsFunc,
		"strrev":          stdlib.ReverseFunc,
		"substr":          stdlib.SubstrFunc,
		"timeadd":         stdlib.TimeAddFunc,
		"title":           stdlib.TitleFunc,
		"tobool":          stdlib.MakeToFunc(cty.Bool),
		"tolist":          stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":           stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"tonumber":        stdlib.MakeToFunc(cty.Number),
		"toset":           stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring":        stdlib.MakeToFunc(cty.String),
		"trim":            stdlib.TrimFunc,
		"trimprefix":      stdlib.TrimPrefixFunc,
		"trimspace":       stdlib.TrimSpaceFunc,
		"trimsuffix":      stdlib.TrimSuffixFunc,
		"try":             tryfunc.TryFunc,
		"upper":           stdlib.UpperFunc,
		"urlencode":       urlEncodeFunc,
		"values":          stdlib.ValuesFunc,
		"zipmap":          stdlib.ZipmapFunc,
	}
	// templatefile sees every other function but itself: a template that
	// calls templatefile could recurse without end.
	fns["templatefile"] = templateFileFunc(files, fns)
	return fns
}

// fileAccess resolves the paths the file functions are given and refuses
// those outside its roots.
type fileAccess struct {
	base     string
	roots    []string // symlinks resolved
	anywhere bool
}

func newFileAccess(scope FileScope) *fileAccess {
	fa := &fileAccess{base: scope.Base, anywhere: scope.Anywhere}
	for _, r := range scope.Roots {
		fa.roots = append(fa.roots, realPath(r))
	}
	return fa
}

// realPath is p made absolute with every symlink in it followed. Of a
// path that does not exist, the part that does is resolved and the rest
// appended: a missing file under a symlinked directory is where the
// symlink leads.
func realPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		abs = filepath.Clean(p)
	}
	var missing []string
	for cur := abs; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(append([]string{r}, missing...)...)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs
		}
		missing = append([]string{filepath.Base(cur)}, missing...)
		cur = parent
	}
}

// errOutsideRoot is the refusal of a path outside the configuration
// directory. It names the path as written and never the file's contents.
func errOutsideRoot(p string) error {
	return fmt.Errorf("the path %q is outside the configuration directory: herald reads files only under the working directory (a module also under its own directory), symlinks followed, so that a configuration cannot read the machine's files; run with -allow-file-outside-root to read it", p)
}

// resolve makes a function's path argument absolute against the base
// directory, and refuses it when it leads outside the roots.
func (fa *fileAccess) resolve(p string) (string, error) {
	full := p
	if !filepath.IsAbs(p) {
		full = filepath.Join(fa.base, p)
	}
	full = filepath.Clean(full)
	if fa.anywhere {
		return full, nil
	}
	real := realPath(full)
	if !underAny(real, fa.roots) {
		return "", errOutsideRoot(p)
	}
	// What is read is what was checked: the path with its symlinks
	// resolved.
	return real, nil
}

// underAny reports whether p is one of dirs or below one.
func underAny(p string, dirs []string) bool {
	for _, d := range dirs {
		if rel, err := filepath.Rel(d, p); err == nil && filepath.IsLocal(rel) {
			return true
		}
	}
	return false
}

// readTextFile reads a file that must hold UTF-8 text, with errors that
// name the path as the user wrote it.
func (fa *fileAccess) readTextFile(p string) (string, error) {
	full, err := fa.resolve(p)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(full)
	if err != nil {
		if os.IsNotExist(err) {
			return "", fmt.Errorf("no file exists at %q (relative paths resolve against the working directory)", p)
		}
		return "", fmt.Errorf("failed to read %q: %s", p, pathErrReason(err))
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("the file %q is not valid UTF-8 text", p)
	}
	return string(b), nil
}

func pathErrReason(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

func fileFunc(fa *fileAccess) function.Function {
	return function.New(&function.Spec{
		Description: "Reads a UTF-8 text file relative to the working directory.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder {
			return b.NotNull()
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			s, err := fa.readTextFile(args[0].AsString())
			if err != nil {
				return cty.UnknownVal(cty.String), function.NewArgError(0, err)
			}
			return cty.StringVal(s), nil
		},
	})
}

func fileExistsFunc(fa *fileAccess) function.Function {
	return function.New(&function.Spec{
		Description: "Reports whether a regular file exists at the path.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			full, err := fa.resolve(args[0].AsString())
			if err != nil {
				return cty.UnknownVal(cty.Bool), function.NewArgError(0, err)
			}
			fi, err := os.Stat(full)
			if err != nil {
				if os.IsNotExist(err) {
					return cty.False, nil
				}
				return cty.UnknownVal(cty.Bool), function.NewArgErrorf(0, "failed to stat %q: %s", args[0].AsString(), pathErrReason(err))
			}
			if !fi.Mode().IsRegular() {
				return cty.UnknownVal(cty.Bool), function.NewArgErrorf(0, "%q is not a regular file", args[0].AsString())
			}
			return cty.True, nil
		},
	})
}

func templateFileFunc(fa *fileAccess, funcs map[string]function.Function) function.Function {
	render := func(args []cty.Value) (cty.Value, error) {
		p := args[0].AsString()
		src, err := fa.readTextFile(p)
		if err != nil {
			return cty.DynamicVal, function.NewArgError(0, err)
		}
		if len(src) > MaxFileSize {
			return cty.DynamicVal, function.NewArgErrorf(0, "the template %q is larger than %d MiB, the most herald reads as one file", p, MaxFileSize>>20)
		}
		if diags := checkTemplateNesting([]byte(src), p); diags.HasErrors() {
			return cty.DynamicVal, function.NewArgErrorf(0, "template %s:%d: %s: %s", p, diags[0].Subject.Start.Line, diags[0].Summary, diags[0].Detail)
		}
		expr, diags := hclsyntax.ParseTemplate([]byte(src), p, hcl.InitialPos)
		if diags.HasErrors() {
			return cty.DynamicVal, function.NewArgErrorf(0, "failed to parse template %s", diags.Error())
		}
		vars := args[1]
		if !vars.IsWhollyKnown() {
			return cty.DynamicVal, nil
		}
		if vars.IsNull() {
			return cty.DynamicVal, function.NewArgErrorf(1, "template variables must not be null")
		}
		ty := vars.Type()
		if !ty.IsObjectType() && !ty.IsMapType() {
			return cty.DynamicVal, function.NewArgErrorf(1, "template variables must be an object or a map")
		}
		ctxVars := map[string]cty.Value{}
		for it := vars.ElementIterator(); it.Next(); {
			k, v := it.Element()
			name := k.AsString()
			if !hclsyntax.ValidIdentifier(name) {
				return cty.DynamicVal, function.NewArgErrorf(1, "invalid template variable name %q: must start with a letter and contain only letters, digits, _ and -", name)
			}
			ctxVars[name] = v
		}
		for _, tr := range expr.Variables() {
			if _, ok := ctxVars[tr.RootName()]; !ok {
				return cty.DynamicVal, function.NewArgErrorf(1, "template %s:%d refers to %q, which is not in the variables passed to templatefile", p, tr.SourceRange().Start.Line, tr.RootName())
			}
		}
		inner := make(map[string]function.Function, len(funcs))
		for name, fn := range funcs {
			if name != "templatefile" {
				inner[name] = fn
			}
		}
		val, diags := expr.Value(&hcl.EvalContext{Variables: ctxVars, Functions: inner})
		if diags.HasErrors() {
			return cty.DynamicVal, function.NewArgErrorf(0, "failed to render template: %s", diags.Error())
		}
		return val, nil
	}
	return function.New(&function.Spec{
		Description: "Renders a template file with the given variables.",
		Params: []function.Parameter{
			{Name: "path", Type: cty.String},
			{Name: "vars", Type: cty.DynamicPseudoType, AllowMarked: true},
		},
		Type: func(args []cty.Value) (cty.Type, error) {
			if !args[0].IsKnown() || !args[1].IsWhollyKnown() {
				return cty.DynamicPseudoType, nil
			}
			vars, _ := args[1].UnmarkDeep()
			v, err := render([]cty.Value{args[0], vars})
			return v.Type(), err
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			// Sensitive variables passed in keep the result sensitive.
			vars, marks := args[1].UnmarkDeep()
			v, err := render([]cty.Value{args[0], vars})
			if err != nil {
				return v, err
			}
			return v.WithMarks(marks), nil
		},
	})
}

func stringPredicate(desc string, pred func(s, part string) bool, second string) function.Function {
	return function.New(&function.Spec{
		Description: desc,
		Params:      []function.Parameter{{Name: "str", Type: cty.String}, {Name: second, Type: cty.String}},
		Type:        function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(pred(args[0].AsString(), args[1].AsString())), nil
		},
	})
}

var (
	startsWithFunc  = stringPredicate("Reports whether str begins with prefix.", strings.HasPrefix, "prefix")
	endsWithFunc    = stringPredicate("Reports whether str ends with suffix.", strings.HasSuffix, "suffix")
	strContainsFunc = stringPredicate("Reports whether str contains substr.", strings.Contains, "substr")
)

// replaceFunc is Terraform's replace: a substring wrapped in slashes is a
// regular expression.
var replaceFunc = function.New(&function.Spec{
	Description: "Replaces each occurrence of substring (a regular expression when written /like this/) with replacement.",
	Params: []function.Parameter{
		{Name: "str", Type: cty.String},
		{Name: "substr", Type: cty.String},
		{Name: "replace", Type: cty.String},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		str, sub, repl := args[0].AsString(), args[1].AsString(), args[2].AsString()
		if len(sub) > 1 && strings.HasPrefix(sub, "/") && strings.HasSuffix(sub, "/") {
			re, err := regexp.Compile(sub[1 : len(sub)-1])
			if err != nil {
				return cty.UnknownVal(cty.String), function.NewArgErrorf(1, "invalid regular expression: %s", err)
			}
			return cty.StringVal(re.ReplaceAllString(str, repl)), nil
		}
		return cty.StringVal(strings.ReplaceAll(str, sub, repl)), nil
	},
})

var base64EncodeFunc = function.New(&function.Spec{
	Description: "Encodes a string as base64.",
	Params:      []function.Parameter{{Name: "str", Type: cty.String}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.StringVal(base64.StdEncoding.EncodeToString([]byte(args[0].AsString()))), nil
	},
})

var base64DecodeFunc = function.New(&function.Spec{
	Description: "Decodes a base64 string that holds UTF-8 text.",
	Params:      []function.Parameter{{Name: "str", Type: cty.String}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		b, err := base64.StdEncoding.DecodeString(args[0].AsString())
		if err != nil {
			return cty.UnknownVal(cty.String), function.NewArgErrorf(0, "invalid base64: %s", err)
		}
		if !utf8.Valid(b) {
			return cty.UnknownVal(cty.String), function.NewArgErrorf(0, "the decoded bytes are not valid UTF-8")
		}
		return cty.StringVal(string(b)), nil
	},
})

var urlEncodeFunc = function.New(&function.Spec{
	Description: "Escapes a string for use in a URL query.",
	Params:      []function.Parameter{{Name: "str", Type: cty.String}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.StringVal(url.QueryEscape(args[0].AsString())), nil
	},
})

func hashFunc(sum func([]byte) []byte) function.Function {
	return function.New(&function.Spec{
		Description: "Returns the hex digest of a string.",
		Params:      []function.Parameter{{Name: "str", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.StringVal(hex.EncodeToString(sum([]byte(args[0].AsString())))), nil
		},
	})
}

func boolReduce(desc string, want bool) function.Function {
	return function.New(&function.Spec{
		Description: desc,
		Params:      []function.Parameter{{Name: "list", Type: cty.List(cty.Bool)}},
		Type:        function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			for it := args[0].ElementIterator(); it.Next(); {
				_, v := it.Element()
				if v.IsNull() || !v.IsKnown() {
					continue
				}
				if v.True() == want {
					return cty.BoolVal(want), nil
				}
			}
			return cty.BoolVal(!want), nil
		},
	})
}

var (
	allTrueFunc = boolReduce("Reports whether every element of the list is true.", false)
	anyTrueFunc = boolReduce("Reports whether any element of the list is true.", true)
)

// SensitiveMark marks values that come from sensitive variables; anything
// built from them carries it.
const SensitiveMark = "sensitive"

var sensitiveFunc = function.New(&function.Spec{
	Description: "Marks a value as sensitive: herald shows it as (sensitive) and never stores it.",
	Params: []function.Parameter{{
		Name: "value", Type: cty.DynamicPseudoType,
		AllowUnknown: true, AllowNull: true, AllowMarked: true, AllowDynamicType: true,
	}},
	Type: func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil },
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return args[0].Mark(SensitiveMark), nil
	},
})

// lengthFunc is Terraform's length: of a collection, or of a string in
// Unicode characters (cty's own length takes collections only).
var lengthFunc = function.New(&function.Spec{
	Description: "Returns the number of elements of a collection, or of characters of a string.",
	Params: []function.Parameter{{
		Name: "value", Type: cty.DynamicPseudoType, AllowDynamicType: true, AllowUnknown: true, AllowMarked: true,
	}},
	Type: func(args []cty.Value) (cty.Type, error) {
		ty := args[0].Type()
		if ty == cty.String || ty == cty.DynamicPseudoType || ty.IsCollectionType() || ty.IsTupleType() || ty.IsObjectType() {
			return cty.Number, nil
		}
		return cty.NilType, function.NewArgErrorf(0, "argument must be a string, a collection or a structural type")
	},
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v, marks := args[0].Unmark()
		if v.Type() == cty.String {
			if !v.IsKnown() {
				return cty.UnknownVal(cty.Number).WithMarks(marks), nil
			}
			return stdlib.Strlen(v)
		}
		switch {
		case v.Type().IsObjectType():
			return cty.NumberIntVal(int64(len(v.Type().AttributeTypes()))).WithMarks(marks), nil
		case !v.IsKnown() || v.IsNull():
			if v.IsNull() {
				return cty.UnknownVal(cty.Number), function.NewArgErrorf(0, "argument must not be null")
			}
			return cty.UnknownVal(cty.Number).WithMarks(marks), nil
		}
		return cty.NumberIntVal(int64(v.LengthInt())).WithMarks(marks), nil
	},
})
