package spec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// instanceDiags are the diagnostics of one for_each instance.
type instanceDiags struct {
	addr  string
	diags hcl.Diagnostics
}

// mergeInstanceDiags reports the problems of a message's for_each
// instances once per cause, naming the instances. A mistake in the block
// (or a column missing from every row of a CSV file) fails every instance
// the same way; repeating it per instance buries the one thing to fix.
// Diagnostics that say "(in ADDR)" already are compared without it.
func mergeInstanceDiags(name string, total int, per []instanceDiags) hcl.Diagnostics {
	type cause struct {
		first    *hcl.Diagnostic
		detail   string // without the instance
		labelled bool   // first's detail names its instance
		addrs    []string
	}
	var order []string
	causes := map[string]*cause{}
	for _, p := range per {
		about := fmt.Sprintf(" (in %s)", p.addr)
		for _, d := range p.diags {
			detail, labelled := d.Detail, strings.Contains(d.Detail, about)
			if labelled {
				detail = strings.Replace(detail, about, "", 1)
			}
			detail += missingAttributeNote(d)
			subject := ""
			if d.Subject != nil {
				subject = fmt.Sprintf("%s:%d-%d", d.Subject.Filename, d.Subject.Start.Byte, d.Subject.End.Byte)
			}
			key := strings.Join([]string{strconv.Itoa(int(d.Severity)), d.Summary, subject, detail}, "\x00")
			c, ok := causes[key]
			if !ok {
				c = &cause{first: d, detail: detail, labelled: labelled}
				causes[key] = c
				order = append(order, key)
			}
			c.addrs = append(c.addrs, p.addr)
		}
	}
	out := make(hcl.Diagnostics, 0, len(order))
	for _, key := range order {
		c := causes[key]
		d := *c.first
		switch {
		case len(c.addrs) == 1 && c.labelled:
			d.Detail = c.first.Detail + missingAttributeNote(c.first)
		case len(c.addrs) == 1:
			d.Detail = c.detail + fmt.Sprintf(" (in %s)", c.addrs[0])
		default:
			d.Detail = c.detail + " " + instancesLabel(name, total, c.addrs)
			// The values of one instance would describe only that one.
			d.Expression, d.EvalContext = nil, nil
		}
		out = append(out, &d)
	}
	return out
}

// instancesLabel names the instances one problem is found in.
func instancesLabel(name string, total int, addrs []string) string {
	const shown = 3
	if len(addrs) == total {
		return fmt.Sprintf("(in all %d instances of message.%s, such as %s)", total, name, addrs[0])
	}
	if len(addrs) <= shown {
		return "(in " + joinNames(addrs) + ")"
	}
	return fmt.Sprintf("(in %s and %d more instances of message.%s)", strings.Join(addrs[:shown], ", "), len(addrs)-shown, name)
}

// missingAttributeNote says which attributes each.value has when an
// expression asks it for one it lacks: with for_each over the rows of a
// CSV file, that names the columns the file has.
func missingAttributeNote(d *hcl.Diagnostic) string {
	if d.Summary != "Unsupported attribute" || d.Expression == nil || d.EvalContext == nil {
		return ""
	}
	for _, tr := range d.Expression.Variables() {
		if len(tr) < 3 || tr.RootName() != "each" {
			continue
		}
		if step, ok := tr[1].(hcl.TraverseAttr); !ok || step.Name != "value" {
			continue
		}
		val, diags := tr[:2].TraverseAbs(d.EvalContext)
		if diags.HasErrors() {
			continue
		}
		path := "each.value"
		for _, step := range tr[2:] {
			attr, ok := step.(hcl.TraverseAttr)
			if !ok {
				break
			}
			val, _ = val.Unmark()
			if !val.IsKnown() || val.IsNull() || !val.Type().IsObjectType() {
				break
			}
			if !val.Type().HasAttribute(attr.Name) {
				names := sortedKeys(val.Type().AttributeTypes())
				if len(names) == 0 {
					return fmt.Sprintf(" %s has no attributes.", path)
				}
				quoted := make([]string, len(names))
				for i, n := range names {
					quoted[i] = strconv.Quote(n)
				}
				return fmt.Sprintf(" %s has the attributes %s.%s", path, joinNames(quoted), didYouMean(attr.Name, names))
			}
			val = val.GetAttr(attr.Name)
			path += "." + attr.Name
		}
	}
	return ""
}

// moduleInstanceDiags are the diagnostics of one instance of a module
// call with for_each.
type moduleInstanceDiags struct {
	path  string // the instance's module path: module.city["berlin"]
	key   string
	diags hcl.Diagnostics
}

// mergeModuleInstanceDiags reports the problems of a module call's
// for_each instances once per cause. Every instance evaluates the same
// files, so a mistake in the module (an invalid literal, say) fails each
// of them the same way, and differs only in the instance's address in the
// text. Such a problem is reported once, its addresses written with
// call[*] and the instances it is found in named; a problem found in one
// instance only is left as it is.
func mergeModuleInstanceDiags(call string, per []moduleInstanceDiags) hcl.Diagnostics {
	const mark = "\x00"
	type cause struct {
		first      *hcl.Diagnostic
		normalized string // the detail with the instance's path as mark
		keys       []string
	}
	var order []string
	causes := map[string]*cause{}
	for _, p := range per {
		for _, d := range p.diags {
			norm := strings.ReplaceAll(d.Detail, p.path, mark)
			subject := ""
			if d.Subject != nil {
				subject = fmt.Sprintf("%s:%d-%d", d.Subject.Filename, d.Subject.Start.Byte, d.Subject.End.Byte)
			}
			key := strings.Join([]string{strconv.Itoa(int(d.Severity)), d.Summary, subject, norm}, "\x01")
			c, ok := causes[key]
			if !ok {
				c = &cause{first: d, normalized: norm}
				causes[key] = c
				order = append(order, key)
			}
			c.keys = append(c.keys, p.key)
		}
	}
	out := make(hcl.Diagnostics, 0, len(order))
	for _, key := range order {
		c := causes[key]
		if len(c.keys) == 1 || !strings.Contains(c.normalized, mark) {
			// One instance, or a text that does not name the instance
			// (repeats of it are dropped by uniqueDiagnostics).
			out = append(out, c.first)
			continue
		}
		d := *c.first
		which := moduleInstancesLabel(call, len(per), c.keys)
		norm := c.normalized
		// A detail that ends by naming the instance, " (in
		// module.city["berlin"].message.hello)", names them all there.
		if i := strings.LastIndex(norm, " (in "+mark); i >= 0 && strings.HasSuffix(norm, ")") && strings.Count(norm, mark) == 1 {
			rest := norm[i+len(" (in "+mark) : len(norm)-1]
			d.Detail = norm[:i] + fmt.Sprintf(" (in %s[*]%s, %s)", call, rest, which)
		} else {
			d.Detail = strings.ReplaceAll(norm, mark, call+"[*]") + " (" + which + ")"
		}
		// The values of one instance would describe only that one.
		d.Expression, d.EvalContext = nil, nil
		out = append(out, &d)
	}
	return out
}

// moduleInstancesLabel names the instances of a module call one problem
// is found in: "in every instance: "berlin", "paris" and "rome"".
func moduleInstancesLabel(call string, total int, keys []string) string {
	const shown = 3
	quoted := make([]string, 0, shown+1)
	for i, k := range keys {
		if i == shown {
			quoted = append(quoted, fmt.Sprintf("%d more", len(keys)-shown))
			break
		}
		quoted = append(quoted, strconv.Quote(k))
	}
	if len(keys) == total {
		return fmt.Sprintf("in every instance of %s: %s", call, joinNames(quoted))
	}
	return fmt.Sprintf("in the instances %s of %s", joinNames(quoted), call)
}
