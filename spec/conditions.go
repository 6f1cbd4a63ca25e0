package spec

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/heraldhq/herald/addrs"
)

// Conditions a reviewer would otherwise check by eye: a message's
// precondition blocks, evaluated for each of its instances with self, and
// the top-level check blocks, whose assert blocks see every message. Both
// are evaluated when a plan is made (LoadOptions.At set) and their results
// are carried in Config.Checks, not as diagnostics: a plan still shows what
// it would do, with the failures beside it, and the commands decide what a
// failure stops (see planner.Plan.CheckErrors).

// CheckSeverity is how much a failed condition matters.
type CheckSeverity string

const (
	// SeverityError stops apply: nothing is sent, and plan exits 1.
	SeverityError CheckSeverity = "error"
	// SeverityWarning is shown and stops nothing.
	SeverityWarning CheckSeverity = "warning"
)

// Kinds of CheckResult.
const (
	CheckKindCheck        = "check"
	CheckKindPrecondition = "precondition"
)

// CheckResult is one condition evaluated: an assert of a check block, or a
// precondition of one message instance.
type CheckResult struct {
	// Addr is what was checked: check.NAME (module.m.check.NAME in a
	// module) or the message instance's address.
	Addr string
	// Kind is CheckKindCheck or CheckKindPrecondition.
	Kind string
	// Index counts the condition among the block's asserts, or the
	// message's preconditions, from 0.
	Index    int
	Severity CheckSeverity
	// Passed reports that the condition held.
	Passed bool
	// Message is the error_message of a failed condition; a message built
	// from a sensitive value is replaced by a note saying so.
	Message string
	// Range is where the condition is written.
	Range hcl.Range
}

// Failed reports whether the condition failed.
func (r *CheckResult) Failed() bool { return !r.Passed }

// Name is the block the condition belongs to, for expect_failures and
// messages: check.NAME, or the message block's address (message.NAME,
// without an instance key).
func (r *CheckResult) Name() string {
	if r.Kind == CheckKindCheck {
		return r.Addr
	}
	a, err := addrs.ParseMessage(r.Addr)
	if err != nil {
		return r.Addr
	}
	return a.Block().String()
}

var conditionSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true},
		{Name: "error_message", Required: true},
	},
}

// conditionBlock is a decoded precondition or assert block.
type conditionBlock struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	DeclRange    hcl.Range
}

func decodeConditionBlock(b *hcl.Block) (*conditionBlock, hcl.Diagnostics) {
	content, diags := b.Body.Content(conditionSchema)
	cond, msg := attrExpr(content, "condition"), attrExpr(content, "error_message")
	if cond == nil || msg == nil {
		return nil, diags
	}
	return &conditionBlock{Condition: cond, ErrorMessage: msg, DeclRange: b.DefRange}, diags
}

var checkSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "severity"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "assert"},
	},
}

// checkBlock is a decoded top-level check block.
type checkBlock struct {
	Name      string
	Severity  CheckSeverity
	Asserts   []*conditionBlock
	DeclRange hcl.Range
}

func decodeCheckBlock(block *hcl.Block) (*checkBlock, hcl.Diagnostics) {
	diags := checkName("check", block)
	content, cdiags := block.Body.Content(checkSchema)
	diags = append(diags, cdiags...)
	c := &checkBlock{Name: block.Labels[0], Severity: SeverityWarning, DeclRange: block.DefRange}
	if sev, d := decodeSeverity(attrExpr(content, "severity"), SeverityWarning); d != nil {
		diags = append(diags, d)
	} else {
		c.Severity = sev
	}
	for _, b := range content.Blocks {
		a, d := decodeConditionBlock(b)
		diags = append(diags, d...)
		if a != nil {
			c.Asserts = append(c.Asserts, a)
		}
	}
	if len(content.Blocks) == 0 {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing assert block",
			Detail:   "A check block holds at least one assert block, with a condition and an error_message.",
			Subject:  block.DefRange.Ptr(),
		})
	}
	return c, diags
}

// decodeSeverity reads a severity attribute: a literal "error" or
// "warning", def when absent.
func decodeSeverity(expr hcl.Expression, def CheckSeverity) (CheckSeverity, *hcl.Diagnostic) {
	if expr == nil {
		return def, nil
	}
	v, d := expr.Value(nil)
	if !d.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
		switch s := CheckSeverity(v.AsString()); s {
		case SeverityError, SeverityWarning:
			return s, nil
		}
	}
	return def, attrError("Invalid severity", `severity is "error" (a failure stops apply and makes plan exit 1) or "warning" (a failure is shown and stops nothing), written as a literal string.`, expr)
}

// preconditionSchema is a message's precondition block: a condition block
// with an optional severity.
var preconditionSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true},
		{Name: "error_message", Required: true},
		{Name: "severity"},
	},
}

// precondition is a decoded precondition block of a message.
type precondition struct {
	conditionBlock
	Severity CheckSeverity
}

func decodePrecondition(b *hcl.Block) (*precondition, hcl.Diagnostics) {
	content, diags := b.Body.Content(preconditionSchema)
	p := &precondition{Severity: SeverityError}
	if sev, d := decodeSeverity(attrExpr(content, "severity"), SeverityError); d != nil {
		diags = append(diags, d)
	} else {
		p.Severity = sev
	}
	cond, msg := attrExpr(content, "condition"), attrExpr(content, "error_message")
	if cond == nil || msg == nil {
		return nil, diags
	}
	p.conditionBlock = conditionBlock{Condition: cond, ErrorMessage: msg, DeclRange: b.DefRange}
	return p, diags
}

// checkPreconditionRefs checks what a message's preconditions refer to:
// what the message's other arguments may, and self.
func (l *loader) checkPreconditionRefs(m *messageBlock, each bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	sc := scope{vars: true, locals: true, groups: true, modules: true, each: each, self: true, where: "a precondition block"}
	for _, p := range m.Preconditions {
		_, d := l.checkRefs(p.Condition, sc)
		diags = append(diags, d...)
		_, d = l.checkRefs(p.ErrorMessage, sc)
		diags = append(diags, d...)
	}
	return diags
}

// evalPreconditions evaluates the message's preconditions for one
// instance, with self the instance (instanceObject). Conditions are only
// evaluated when a plan is made.
func (l *loader) evalPreconditions(m *messageBlock, ctx *hcl.EvalContext, inst *Instance) hcl.Diagnostics {
	if len(m.Preconditions) == 0 || l.opts.At.IsZero() {
		return nil
	}
	child := ctx.NewChild()
	child.Variables = map[string]cty.Value{"self": instanceObject(inst)}
	var diags hcl.Diagnostics
	for i, p := range m.Preconditions {
		r, d := l.evalCondition(&p.conditionBlock, child, p.Severity)
		diags = append(diags, d...)
		if r == nil {
			continue
		}
		r.Addr, r.Kind, r.Index = inst.Addr.String(), CheckKindPrecondition, i
		inst.Preconditions = append(inst.Preconditions, r)
	}
	return diags
}

// evalCondition evaluates one condition and, when it fails, its
// error_message. It returns nil when the condition could not be decided:
// it is wrong (the diagnostics say how), or it depends on a value that
// already failed.
func (l *loader) evalCondition(c *conditionBlock, ctx *hcl.EvalContext, sev CheckSeverity) (*CheckResult, hcl.Diagnostics) {
	ok, _, valid, diags := l.evalAs(c.Condition, ctx, cty.Bool, "condition")
	if !valid {
		return nil, diags
	}
	if ok.IsNull() {
		return nil, append(diags, attrError("Invalid condition", "The condition must be true or false, not null.", c.Condition))
	}
	r := &CheckResult{Severity: sev, Passed: ok.True(), Range: c.Condition.Range()}
	if r.Passed {
		return r, diags
	}
	msg, _, sensitive, msgOK, d := l.evalString(c.ErrorMessage, ctx, "error_message")
	diags = append(diags, d...)
	switch {
	case !msgOK:
		return nil, diags
	case sensitive:
		msg = "The error message refers to sensitive values and is not shown."
	case strings.TrimSpace(msg) == "":
		return nil, append(diags, attrError("Invalid error_message", "The error_message must say what is wrong; it is empty.", c.ErrorMessage))
	}
	r.Message = msg
	return r, diags
}

// checkCheckRefs checks what the module's check blocks refer to.
func (l *loader) checkCheckRefs() hcl.Diagnostics {
	var diags hcl.Diagnostics
	sc := scope{vars: true, locals: true, groups: true, modules: true, messages: true, where: "a check block"}
	for _, c := range l.mod.checks {
		for _, a := range c.Asserts {
			_, d := l.checkRefs(a.Condition, sc)
			diags = append(diags, d...)
			_, d = l.checkRefs(a.ErrorMessage, sc)
			diags = append(diags, d...)
		}
	}
	return diags
}

// evalChecks evaluates the module's check blocks against its messages:
// message.NAME is a message (a map of its instances by key under
// for_each or repeat), and messages lists the instances, in the root
// module those of every module too. failed names the message blocks that
// did not evaluate: they are unknown, and conditions on them are skipped.
func (l *loader) evalChecks(ctx *hcl.EvalContext, insts []*Instance, failed map[string]bool) hcl.Diagnostics {
	d := l.checkCheckRefs()
	if d.HasErrors() || len(l.mod.checks) == 0 || l.opts.At.IsZero() {
		return d
	}
	diags := d
	// Each instance becomes one object, made once, and only for the roots
	// the asserts refer to: with 100,000 messages the objects cost more
	// than a simple condition over them.
	usesMessage, usesMessages := false, false
	for _, c := range l.mod.checks {
		for _, a := range c.Asserts {
			for _, e := range []hcl.Expression{a.Condition, a.ErrorMessage} {
				for _, trav := range variables(e) {
					switch trav.RootName() {
					case "message":
						usesMessage = true
					case "messages":
						usesMessages = true
					}
				}
			}
		}
	}
	objs := newObjectCache()
	child := ctx.NewChild()
	child.Variables = map[string]cty.Value{}
	if usesMessage {
		child.Variables["message"] = l.messageObject(insts, failed, objs)
	}
	if usesMessages {
		child.Variables["messages"] = instanceList(insts, objs)
	}
	for _, c := range l.mod.checks {
		addr := "check." + c.Name
		if len(l.path) > 0 {
			addr = l.path.String() + "." + addr
		}
		for i, a := range c.Asserts {
			r, d := l.evalCondition(a, child, c.Severity)
			diags = append(diags, d...)
			if r == nil {
				continue
			}
			r.Addr, r.Kind, r.Index = addr, CheckKindCheck, i
			l.cfg.Checks = append(l.cfg.Checks, r)
		}
	}
	return diags
}

// messageObject is the message object of a check block: one attribute per
// message block of the module.
func (l *loader) messageObject(insts []*Instance, failed map[string]bool, objs *objectCache) cty.Value {
	byName := map[string][]*Instance{}
	for _, in := range insts {
		if in.Addr.Module.Equal(l.path) {
			byName[in.Addr.Name] = append(byName[in.Addr.Name], in)
		}
	}
	attrs := make(map[string]cty.Value, len(l.mod.messages))
	for _, m := range l.mod.messages {
		list := byName[m.Name]
		switch {
		case failed[m.Name]:
			attrs[m.Name] = cty.DynamicVal
		case m.ForEach == nil && m.Repeat == nil && len(list) == 1:
			attrs[m.Name] = objs.of(list[0])
		case m.ForEach == nil && m.Repeat == nil:
			attrs[m.Name] = cty.DynamicVal
		case len(list) == 0:
			attrs[m.Name] = cty.MapValEmpty(instanceObjectType)
		default:
			elems := make(map[string]cty.Value, len(list))
			for _, in := range list {
				elems[in.Addr.Key] = objs.of(in)
			}
			attrs[m.Name] = cty.MapVal(elems)
		}
	}
	return cty.ObjectVal(attrs)
}

// instanceList is the messages list of a check block.
func instanceList(insts []*Instance, objs *objectCache) cty.Value {
	if len(insts) == 0 {
		return cty.ListValEmpty(instanceObjectType)
	}
	vals := make([]cty.Value, len(insts))
	for i, in := range insts {
		vals[i] = objs.of(in)
	}
	return cty.ListVal(vals)
}

// objectCache makes each instance's object once for the message object
// and the messages list alike.
type objectCache struct{ m map[*Instance]cty.Value }

func newObjectCache() *objectCache { return &objectCache{m: map[*Instance]cty.Value{}} }

func (c *objectCache) of(in *Instance) cty.Value {
	if v, ok := c.m[in]; ok {
		return v
	}
	v := instanceObject(in)
	c.m[in] = v
	return v
}

// instanceObjectType is the type of instanceObject's values.
var instanceObjectType = cty.Object(map[string]cty.Type{
	"address":     cty.String,
	"name":        cty.String,
	"key":         cty.String,
	"group":       cty.String,
	"thread_id":   cty.String,
	"service":     cty.String,
	"from":        cty.String,
	"timezone":    cty.String,
	"send_at":     cty.String,
	"send_at_utc": cty.String,
	"expires_at":  cty.String,
	"text":        cty.String,
	"media":       cty.Object(map[string]cty.Type{"url": cty.String, "type": cty.String, "caption": cty.String}),
	"repeat":      cty.String,
})

// InstanceObjectAttributes lists the attributes of self and of the
// objects in message and messages, with what each holds, for the docs and
// for messages about them.
var InstanceObjectAttributes = [][2]string{
	{"address", `the instance's address, such as message.launch["eng"]`},
	{"name", "the message block's name"},
	{"key", "the for_each key, or the occurrence's time for a repeat; null without"},
	{"group", "the group's name"},
	{"thread_id", "the group's thread"},
	{"service", "whatsapp or telegram"},
	{"from", "the sending number"},
	{"timezone", "the time zone in scope, such as Europe/Berlin; UTC when none is set"},
	{"send_at", "the send time in RFC 3339 with the zone's offset, so formatdate shows local time"},
	{"send_at_utc", "the send time in RFC 3339 in UTC"},
	{"expires_at", "the last moment it may still be sent, RFC 3339 with the zone's offset"},
	{"text", "the text; null for a media message"},
	{"media", "url, type and caption; null for a text message"},
	{"repeat", "the repeat rule in words; null when the message does not repeat"},
}

// instanceObject is an instance as conditions see it. Text, caption and
// URL built from a sensitive value stay marked sensitive: a condition may
// test them, and an error_message that shows them is withheld.
func instanceObject(in *Instance) cty.Value {
	str := func(s string) cty.Value { return cty.StringVal(s) }
	orNull := func(s string, set bool) cty.Value {
		if !set {
			return cty.NullVal(cty.String)
		}
		return cty.StringVal(s)
	}
	mark := func(v cty.Value, sensitive bool) cty.Value {
		if sensitive {
			return v.Mark(SensitiveMark)
		}
		return v
	}
	zone := time.UTC
	if in.Timezone != nil {
		zone = in.Timezone
	}
	groupName := ""
	if in.Group != nil {
		groupName = in.Group.Name
	}
	mediaType := cty.Object(map[string]cty.Type{"url": cty.String, "type": cty.String, "caption": cty.String})
	media := cty.NullVal(mediaType)
	text := cty.NullVal(cty.String)
	if in.Media != nil {
		media = cty.ObjectVal(map[string]cty.Value{
			"url":     mark(str(in.Media.URL), in.Sensitive && !in.Media.PlainURL),
			"type":    str(in.Media.Type),
			"caption": mark(str(in.Media.Caption), in.Sensitive && !in.Media.PlainCaption),
		})
	} else {
		text = mark(str(in.Text), in.Sensitive)
	}
	rule := cty.NullVal(cty.String)
	if in.Repeat != nil {
		rule = str(in.Repeat.Rule)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"address":     str(in.Addr.String()),
		"name":        str(in.Addr.Name),
		"key":         orNull(in.Addr.Key, in.Addr.HasKey),
		"group":       str(groupName),
		"thread_id":   str(in.ThreadID),
		"service":     str(in.Service),
		"from":        str(in.From),
		"timezone":    str(zone.String()),
		"send_at":     str(in.SendAt.In(zone).Format(time.RFC3339)),
		"send_at_utc": str(in.SendAt.UTC().Format(time.RFC3339)),
		"expires_at":  str(in.ExpiresAt().In(zone).Format(time.RFC3339)),
		"text":        text,
		"media":       media,
		"repeat":      rule,
	})
}

// InstanceType is the type of InstanceValue's values.
func InstanceType() cty.Type { return instanceObjectType }

// InstanceValue is the instance as conditions see it (self in a
// precondition): an object with InstanceObjectAttributes.
func InstanceValue(in *Instance) cty.Value { return instanceObject(in) }

// failedChecks counts the failed results of one severity.
func failedChecks(results []*CheckResult, sev CheckSeverity) int {
	n := 0
	for _, r := range results {
		if r.Failed() && r.Severity == sev {
			n++
		}
	}
	return n
}

// CheckSummary is "1 check failed" or "2 checks failed (1 error, 1
// warning)"; "" when none failed.
func CheckSummary(results []*CheckResult) string {
	errs, warns := failedChecks(results, SeverityError), failedChecks(results, SeverityWarning)
	n := errs + warns
	if n == 0 {
		return ""
	}
	noun := "checks"
	if n == 1 {
		noun = "check"
	}
	return fmt.Sprintf("%d %s failed (%s)", n, noun, severityCounts(errs, warns))
}

func severityCounts(errs, warns int) string {
	var parts []string
	if errs > 0 {
		parts = append(parts, plural(errs, "error"))
	}
	if warns > 0 {
		parts = append(parts, plural(warns, "warning"))
	}
	return strings.Join(parts, ", ")
}
