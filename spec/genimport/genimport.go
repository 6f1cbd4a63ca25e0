package genimport

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/heraldhq/herald/addrs"
)

// Import is one message found in a thread, to be adopted at an address.
type Import struct {
	// To is the configured message the import adopts.
	To addrs.Message
	// Group names where it was found: the group, or the thread id when
	// the message has no group.
	Group string
	// ID is the A1Base message id; empty when the thread did not say.
	ID string
	// SentAt is when the thread says it was sent; zero when unknown.
	SentAt time.Time
}

// Blocks is one import block per import, each after a comment that says
// where it was found, separated by blank lines and formatted as
// "herald fmt" would.
func Blocks(imports []Import) []byte {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	for i, im := range imports {
		if i > 0 {
			body.AppendNewline()
		}
		when := "at an unknown time"
		if !im.SentAt.IsZero() {
			when = im.SentAt.UTC().Format(time.RFC3339)
		}
		body.AppendUnstructuredTokens(hclwrite.Tokens{{
			Type:  hclsyntax.TokenComment,
			Bytes: []byte(fmt.Sprintf("# Found in the thread of group %s, sent %s.\n", sanitizeComment(im.Group), when)),
		}})
		b := body.AppendNewBlock("import", nil).Body()
		b.SetAttributeTraversal("to", Traversal(im.To))
		if im.ID != "" {
			b.SetAttributeValue("id", cty.StringVal(im.ID))
		}
	}
	return hclwrite.Format(f.Bytes())
}

// sanitizeComment keeps a name from ending the comment line.
func sanitizeComment(s string) string {
	out := []rune{}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			r = '?'
		}
		out = append(out, r)
	}
	return string(out)
}

// Traversal is the address as HCL writes it: message.NAME or
// message.NAME["KEY"], after its module path if any.
func Traversal(a addrs.Message) hcl.Traversal {
	t := a.Module.Traversal()
	if len(t) == 0 {
		t = hcl.Traversal{hcl.TraverseRoot{Name: "message"}}
	} else {
		t = append(t, hcl.TraverseAttr{Name: "message"})
	}
	t = append(t, hcl.TraverseAttr{Name: a.Name})
	if a.HasKey {
		t = append(t, hcl.TraverseIndex{Key: cty.StringVal(a.Key)})
	}
	return t
}
