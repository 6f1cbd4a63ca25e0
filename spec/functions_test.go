package spec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
)

// evalWithFunctions evaluates one expression with the function table rooted
// at dir and the given variables.
func evalWithFunctions(t *testing.T, dir, src string, vars map[string]cty.Value) (cty.Value, hcl.Diagnostics) {
	t.Helper()
	expr, diags := hclsyntax.ParseExpression([]byte(src), "test.hcl", hcl.InitialPos)
	require.False(t, diags.HasErrors(), diags.Error())
	return expr.Value(&hcl.EvalContext{Variables: vars, Functions: Functions(dir)})
}

func TestFunctions(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "note.tmpl"), []byte("Hi ${name}, %{ for t in teams }[${upper(t)}]%{ endfor }"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rows.csv"), []byte("group,text\neng,a\nsales,b\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.bin"), []byte{0xff, 0xfe}, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "loop.tmpl"), []byte(`${templatefile("loop.tmpl", {})}`), 0o644))

	cases := []struct {
		src  string
		want cty.Value
	}{
		{`chomp(file("hello.txt"))`, cty.StringVal("hello")},
		{`fileexists("hello.txt")`, cty.True},
		{`fileexists("nope.txt")`, cty.False},
		{`templatefile("note.tmpl", { name = "Ada", teams = ["eng", "ops"] })`, cty.StringVal("Hi Ada, [ENG][OPS]")},
		{`csvdecode(file("rows.csv"))[1].group`, cty.StringVal("sales")},
		{`jsondecode("{\"a\": 1}").a`, cty.NumberIntVal(1)},
		{`jsonencode({ a = "b" })`, cty.StringVal(`{"a":"b"}`)},
		{`timeadd("2026-12-01T09:00:00Z", "90m")`, cty.StringVal("2026-12-01T10:30:00Z")},
		{`formatdate("DD MMM YYYY hh:mm", "2026-12-01T09:00:00Z")`, cty.StringVal("01 Dec 2026 09:00")},
		{`replace("a-b-c", "-", "+")`, cty.StringVal("a+b+c")},
		{`replace("a1b22c", "/[0-9]+/", "#")`, cty.StringVal("a#b#c")},
		{`startswith("herald", "her")`, cty.True},
		{`endswith("herald", "her")`, cty.False},
		{`strcontains("herald", "ral")`, cty.True},
		{`base64decode(base64encode("héllo"))`, cty.StringVal("héllo")},
		{`sha256("abc")`, cty.StringVal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")},
		{`md5("abc")`, cty.StringVal("900150983cd24fb0d6963f7d28e17f72")},
		{`urlencode("a b&c")`, cty.StringVal("a+b%26c")},
		{`alltrue([true, true])`, cty.True},
		{`alltrue([true, false])`, cty.False},
		{`anytrue([false, true])`, cty.True},
		{`anytrue([])`, cty.False},
		{`try(local_missing.x, "fallback")`, cty.StringVal("fallback")},
		{`can(tonumber("x"))`, cty.False},
		{`upper(join(",", sort(["b", "a"])))`, cty.StringVal("A,B")},
		{`length(keys(merge({ a = 1 }, { b = 2 })))`, cty.NumberIntVal(2)},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			got, diags := evalWithFunctions(t, dir, c.src, nil)
			require.False(t, diags.HasErrors(), diags.Error())
			require.True(t, c.want.RawEquals(got), "got %#v", got)
		})
	}

	errs := []struct{ src, msg string }{
		{`file("missing.txt")`, `no file exists at "missing.txt"`},
		{`file("bad.bin")`, "not valid UTF-8"},
		{`templatefile("note.tmpl", { name = "Ada" })`, `refers to "teams"`},
		{`templatefile("loop.tmpl", {})`, "templatefile"},
		{`replace("a", "/(/", "b")`, "invalid regular expression"},
		{`base64decode("!!")`, "invalid base64"},
	}
	for _, c := range errs {
		t.Run(c.src, func(t *testing.T) {
			_, diags := evalWithFunctions(t, dir, c.src, nil)
			require.True(t, diags.HasErrors())
			require.Contains(t, diags.Error(), c.msg)
			require.NotNil(t, diags[0].Subject, "a function error must point at its expression")
		})
	}
}

func TestFunctionsHaveNoClock(t *testing.T) {
	fns := Functions(t.TempDir())
	for _, name := range []string{"timestamp", "uuid", "plantimestamp", "bcrypt"} {
		_, ok := fns[name]
		require.False(t, ok, "%s would make plans depend on something other than their inputs", name)
	}
}

func TestSensitiveSurvivesTemplates(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "t.tmpl"), []byte("code: ${code}"), 0o644))
	vars := map[string]cty.Value{"secret": cty.StringVal("1234").Mark(SensitiveMark)}
	got, diags := evalWithFunctions(t, dir, `templatefile("t.tmpl", { code = secret })`, vars)
	require.False(t, diags.HasErrors(), diags.Error())
	require.True(t, got.HasMark(SensitiveMark))
	got, diags = evalWithFunctions(t, dir, `sensitive("x")`, nil)
	require.False(t, diags.HasErrors(), diags.Error())
	require.True(t, got.HasMark(SensitiveMark))
}

func TestLength(t *testing.T) {
	for src, want := range map[string]int64{`length("héllo")`: 5, `length(["a", "b"])`: 2, `length({ a = 1 })`: 1, `length("")`: 0} {
		got, diags := evalWithFunctions(t, t.TempDir(), src, nil)
		require.False(t, diags.HasErrors(), diags.Error())
		require.True(t, cty.NumberIntVal(want).RawEquals(got), "%s = %#v", src, got)
	}
	_, diags := evalWithFunctions(t, t.TempDir(), `length(true)`, nil)
	require.True(t, diags.HasErrors())
}

func TestLengthOfSets(t *testing.T) {
	got, diags := evalWithFunctions(t, t.TempDir(), `length(toset(["a", "b", "a"]))`, nil)
	require.False(t, diags.HasErrors(), diags.Error())
	require.True(t, cty.NumberIntVal(2).RawEquals(got))
}
