package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
)

// writeLargeConfig writes 10,000 message blocks in 10 files over 100
// groups, the size the planning benchmark is held to.
func writeLargeConfig(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	var groups strings.Builder
	groups.WriteString("provider \"a1base\" {\n  from = \"+14155552671\"\n  rate_limit = \"10/s\"\n}\n\n")
	groups.WriteString("variable \"product\" {\n  default = \"herald\"\n}\n\nlocals {\n  footer = \"-- ${var.product}\"\n}\n\n")
	for g := 0; g < 100; g++ {
		fmt.Fprintf(&groups, "group \"g%03d\" {\n  thread_id  = \"thread-%03d\"\n  rate_limit = \"1/5s\"\n}\n\n", g, g)
	}
	if err := os.WriteFile(filepath.Join(dir, "groups.hcl"), []byte(groups.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	for f := 0; f < 10; f++ {
		var sb strings.Builder
		for m := 0; m < 1000; m++ {
			n := f*1000 + m
			fmt.Fprintf(&sb, "message \"m%05d\" {\n  group   = group.g%03d\n  send_at = \"2027-01-%02dT%02d:%02d:00+01:00\"\n", n, n%100, 1+n%28, n%24, n%60)
			if n%10 == 0 {
				fmt.Fprintf(&sb, "  media {\n    url     = \"https://example.com/%d.png\"\n    type    = \"image\"\n    caption = \"Picture %d ${local.footer}\"\n  }\n}\n\n", n, n)
			} else {
				fmt.Fprintf(&sb, "  expires_after = \"6h\"\n  text    = \"Message number %d for ${group.g%03d.name} ${local.footer}\"\n}\n\n", n, n%100)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("messages%02d.hcl", f)), []byte(sb.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

func BenchmarkLoad10k(b *testing.B) {
	dir := writeLargeConfig(b)
	opts := LoadOptions{Getenv: func(string) string { return "" }}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cfg, diags := Load(dir, opts)
		if diags.HasErrors() {
			b.Fatal(diags.Error())
		}
		if len(cfg.Instances) != 10000 {
			b.Fatalf("got %d instances", len(cfg.Instances))
		}
	}
}

// BenchmarkParseOnly is the floor BenchmarkLoad10k is compared with:
// hclparse alone reading the same files.
func BenchmarkParseOnly(b *testing.B) {
	dir := writeLargeConfig(b)
	names, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := hclparse.NewParser()
		for _, name := range names {
			if _, diags := p.ParseHCLFile(name); diags.HasErrors() {
				b.Fatal(diags.Error())
			}
		}
	}
}
