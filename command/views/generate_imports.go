package views

import "fmt"

// GenerateImports is the view of "herald plan -generate-imports": the
// import blocks go to stdout, so that they can be redirected into a file,
// and what was looked for and found goes to stderr.
type GenerateImports struct {
	view *View
}

// NewGenerateImports returns the view of -generate-imports.
func NewGenerateImports(v *View) *GenerateImports { return &GenerateImports{view: v} }

// NothingMissing says that state knows every due or overdue message.
func (g *GenerateImports) NothingMissing() {
	fmt.Fprintln(g.view.Stderr, "No due or overdue message is missing from state: nothing to import.")
}

// LookupFailed reports a message whose thread could not be read.
func (g *GenerateImports) LookupFailed(addr string, err error) {
	fmt.Fprintf(g.view.Stderr, "%s: %s\n", addr, err)
}

// Blocks prints the import blocks, already formatted.
func (g *GenerateImports) Blocks(hcl []byte) error {
	_, err := g.view.Stdout.Write(hcl)
	return err
}

// Found counts the messages found in their threads out of those looked
// for.
func (g *GenerateImports) Found(found, missing int) {
	fmt.Fprintf(g.view.Stderr, "Found %d of %d due or overdue messages missing from state in their threads' recent messages.\n", found, missing)
}
