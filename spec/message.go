package spec

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/heraldhq/herald/addrs"
)

var messageSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "for_each"},
		{Name: "group", Required: true},
		{Name: "send_at"},
		{Name: "expires_after"},
		{Name: "text"},
		{Name: "timezone"},
		{Name: "on_unknown"},
		{Name: "unknown_settle"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "media"},
		{Type: "repeat"},
		{Type: "precondition"},
	},
}

var mediaSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "url", Required: true},
		{Name: "type", Required: true},
		{Name: "caption"},
	},
}

// messageBlock is a decoded message block; its expressions are evaluated
// once per instance. Absent optional attributes are nil.
type messageBlock struct {
	Name         string
	ForEach      hcl.Expression
	Group        hcl.Expression
	SendAt       hcl.Expression
	ExpiresAfter hcl.Expression
	Text         hcl.Expression
	Timezone     hcl.Expression
	OnUnknown    hcl.Expression
	Settle       hcl.Expression
	Media        *mediaBlock
	Repeat       *repeatBlock
	// Preconditions are checked for every instance when a plan is made.
	Preconditions []*precondition
	DeclRange     hcl.Range
}

type mediaBlock struct {
	URL       hcl.Expression
	Type      hcl.Expression
	Caption   hcl.Expression
	DeclRange hcl.Range
}

func decodeMessageBlock(block *hcl.Block) (*messageBlock, hcl.Diagnostics) {
	diags := checkName("message", block)
	content, cdiags := block.Body.Content(messageSchema)
	diags = append(diags, cdiags...)
	m := &messageBlock{
		Name:         block.Labels[0],
		ForEach:      attrExpr(content, "for_each"),
		Group:        attrExpr(content, "group"),
		SendAt:       attrExpr(content, "send_at"),
		ExpiresAfter: attrExpr(content, "expires_after"),
		Text:         attrExpr(content, "text"),
		Timezone:     attrExpr(content, "timezone"),
		OnUnknown:    attrExpr(content, "on_unknown"),
		Settle:       attrExpr(content, "unknown_settle"),
		DeclRange:    block.DefRange,
	}
	for _, b := range content.Blocks {
		if b.Type == "precondition" {
			p, pdiags := decodePrecondition(b)
			diags = append(diags, pdiags...)
			if p != nil {
				m.Preconditions = append(m.Preconditions, p)
			}
			continue
		}
		if b.Type == "repeat" {
			if m.Repeat != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate repeat block",
					Detail:   fmt.Sprintf("A message has at most one repeat block; one was already declared at %s.", sourcePos(m.Repeat.DeclRange)),
					Subject:  b.DefRange.Ptr(),
				})
				continue
			}
			r, rdiags := decodeRepeatBlock(b)
			diags = append(diags, rdiags...)
			m.Repeat = r
			continue
		}
		if m.Media != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate media block",
				Detail:   fmt.Sprintf("A message has at most one media block; one was already declared at %s.", sourcePos(m.Media.DeclRange)),
				Subject:  b.DefRange.Ptr(),
			})
			continue
		}
		mc, mdiags := b.Body.Content(mediaSchema)
		diags = append(diags, mdiags...)
		m.Media = &mediaBlock{
			URL:       attrExpr(mc, "url"),
			Type:      attrExpr(mc, "type"),
			Caption:   attrExpr(mc, "caption"),
			DeclRange: b.DefRange,
		}
	}
	diags = append(diags, m.checkSchedule(content)...)
	switch {
	case m.Text != nil && m.Media != nil:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Conflicting message content",
			Detail:   fmt.Sprintf("A message has exactly one of text or a media block; this one has both (the media block is at %s).", sourcePos(m.Media.DeclRange)),
			Subject:  m.Text.Range().Ptr(),
		})
	case m.Text == nil && m.Media == nil:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing message content",
			Detail:   "A message has exactly one of text or a media block; this one has neither.",
			Subject:  m.DeclRange.Ptr(),
		})
	}
	return m, diags
}

// checkSchedule checks that the message says when it is sent in exactly
// one way: send_at, or a repeat block without for_each.
func (m *messageBlock) checkSchedule(content *hcl.BodyContent) hcl.Diagnostics {
	var diags hcl.Diagnostics
	switch {
	case m.Repeat == nil && m.SendAt == nil:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing required argument",
			Detail:   `The argument "send_at" is required, but no definition was found. A message has send_at, or a repeat block for a recurring message.`,
			Subject:  m.DeclRange.Ptr(),
		})
	case m.Repeat != nil && m.SendAt != nil:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Conflicting send_at and repeat",
			Detail:   fmt.Sprintf("A message has send_at or a repeat block, not both: a repeat message is sent at each occurrence of its rule (the repeat block is at %s).", sourcePos(m.Repeat.DeclRange)),
			Subject:  content.Attributes["send_at"].NameRange.Ptr(),
		})
	}
	if m.Repeat != nil && m.ForEach != nil {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Conflicting for_each and repeat",
			Detail:   fmt.Sprintf("A repeat message has no for_each: its instances are its occurrences, keyed by their time (the repeat block is at %s). Declare one repeat message per group instead.", sourcePos(m.Repeat.DeclRange)),
			Subject:  content.Attributes["for_each"].NameRange.Ptr(),
		})
	}
	return diags
}

// instanceExpressions are the expressions evaluated per instance, where
// each is available under for_each or repeat. The group and timezone of a
// repeat message decide its occurrences, so they are evaluated before
// there is an each (see repeatMessageExpressions).
func (m *messageBlock) instanceExpressions() []hcl.Expression {
	if m.Repeat != nil {
		exprs := nonNil(m.ExpiresAfter, m.Text, m.OnUnknown, m.Settle)
		if m.Media != nil {
			exprs = append(exprs, nonNil(m.Media.URL, m.Media.Type, m.Media.Caption)...)
		}
		return exprs
	}
	exprs := nonNil(m.Group, m.SendAt, m.ExpiresAfter, m.Text, m.Timezone, m.OnUnknown, m.Settle)
	if m.Media != nil {
		exprs = append(exprs, nonNil(m.Media.URL, m.Media.Type, m.Media.Caption)...)
	}
	return exprs
}

// expandMessage evaluates a message block into its instances; for a
// repeat message also its rule.
func (l *loader) expandMessage(m *messageBlock, ctx *hcl.EvalContext, provider *Provider) ([]*Instance, *Repeat, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	if m.Group == nil || (m.SendAt == nil) == (m.Repeat == nil) || (m.Repeat != nil && (m.ForEach != nil || m.Repeat.Cron == nil)) ||
		(m.Text == nil) == (m.Media == nil) ||
		(m.Media != nil && (m.Media.URL == nil || m.Media.Type == nil)) {
		return nil, nil, nil // decoding already reported what is missing
	}
	if m.Repeat != nil {
		return l.expandRepeat(m, ctx, provider)
	}
	if m.ForEach != nil {
		_, d := l.checkRefs(m.ForEach, scope{vars: true, locals: true, groups: true, modules: true, where: "the for_each argument"})
		diags = append(diags, d...)
	}
	const where = "a message block without for_each"
	for _, expr := range m.instanceExpressions() {
		_, d := l.checkRefs(expr, scope{vars: true, locals: true, groups: true, modules: true, each: m.ForEach != nil, where: where})
		diags = append(diags, d...)
	}
	diags = append(diags, l.checkPreconditionRefs(m, m.ForEach != nil)...)
	if diags.HasErrors() {
		return nil, nil, diags
	}

	if m.ForEach == nil {
		inst, d := l.evalInstance(m, addrs.NoKey(m.Name).In(l.path), ctx, provider, nil)
		diags = append(diags, d...)
		if inst == nil {
			return nil, nil, diags
		}
		return []*Instance{inst}, nil, diags
	}

	elems, d := l.evalForEach(m.ForEach, ctx)
	diags = append(diags, d...)
	out := make([]*Instance, 0, len(elems))
	var per []instanceDiags
	for _, e := range elems {
		addr := addrs.WithKey(m.Name, e.key).In(l.path)
		inst, d := l.evalInstance(m, addr, eachContext(ctx, e.key, e.value), provider, nil)
		if len(d) > 0 {
			per = append(per, instanceDiags{addr: addr.String(), diags: d})
		}
		if inst != nil {
			out = append(out, inst)
		}
	}
	return out, nil, append(diags, mergeInstanceDiags(m.Name, len(elems), per)...)
}

// eachContext is ctx with each.key and each.value.
func eachContext(ctx *hcl.EvalContext, key string, value cty.Value) *hcl.EvalContext {
	child := ctx.NewChild()
	child.Variables = map[string]cty.Value{
		"each": cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal(key), "value": value}),
	}
	return child
}

type forEachElem struct {
	key   string
	value cty.Value
}

// evalForEach evaluates for_each to its elements, in key order. Keys are
// unique by construction: they are a map's keys or a set's elements.
func (l *loader) evalForEach(expr hcl.Expression, ctx *hcl.EvalContext) ([]forEachElem, hcl.Diagnostics) {
	val, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	bad := func(detail string) hcl.Diagnostics {
		return append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid for_each argument",
			Detail:   detail,
			Subject:  expr.Range().Ptr(),
		})
	}
	if val.IsMarked() {
		return nil, bad("Sensitive values cannot be used in for_each: its keys become part of message addresses, which are shown and stored.")
	}
	ty := val.Type()
	switch {
	case !val.IsKnown():
		// Only a value that already failed elsewhere is unknown here.
		l.shared.unknownSkipped.Store(true)
		return nil, diags
	case val.IsNull():
		return nil, bad("for_each must be a map or set, not null.")
	case ty.IsMapType() || ty.IsObjectType():
		out := make([]forEachElem, 0, val.LengthInt())
		for it := val.ElementIterator(); it.Next(); {
			k, v := it.Element()
			out = append(out, forEachElem{key: k.AsString(), value: v})
		}
		return out, diags
	case ty.IsSetType():
		if !ty.ElementType().Equals(cty.String) && ty.ElementType() != cty.DynamicPseudoType {
			return nil, bad(fmt.Sprintf("for_each must be a map or set of strings; this is a set of %s. Convert the elements with toset([for v in ... : tostring(v)]).", ty.ElementType().FriendlyName()))
		}
		if !val.IsWhollyKnown() {
			l.shared.unknownSkipped.Store(true)
			return nil, diags
		}
		out := make([]forEachElem, 0, val.LengthInt())
		for it := val.ElementIterator(); it.Next(); {
			_, v := it.Element()
			if v.IsMarked() {
				return nil, bad("Sensitive values cannot be used in for_each: its keys become part of message addresses, which are shown and stored.")
			}
			if v.IsNull() {
				return nil, bad("for_each must not contain null.")
			}
			if v.Type() != cty.String {
				return nil, bad("for_each must be a map or set of strings.")
			}
			out = append(out, forEachElem{key: v.AsString(), value: v})
		}
		return out, diags
	case ty.IsListType() || ty.IsTupleType():
		return nil, bad(fmt.Sprintf("for_each must be a map or set; this is a %s. Convert it with toset(...) for a list of strings, or build a map with a for expression.", ty.FriendlyName()))
	default:
		return nil, bad(fmt.Sprintf("for_each must be a map or set; this is a %s.", ty.FriendlyName()))
	}
}

// evalInstance evaluates one instance of a message. It returns nil when the
// instance is unusable; the diagnostics say why.
//
// An occurrence of a repeat message comes with occ set: its group, zone and
// send_at are already known.
func (l *loader) evalInstance(m *messageBlock, addr addrs.Message, ctx *hcl.EvalContext, provider *Provider, occ *occurrence) (*Instance, hcl.Diagnostics) {
	e := &instanceEval{ok: true}
	inst := &Instance{Addr: addr, DeclRange: m.DeclRange}
	// In for_each instances, say which instance a problem is about.
	if addr.HasKey || len(addr.Module) > 0 {
		e.about = fmt.Sprintf(" (in %s)", addr)
	}

	if occ != nil {
		g := occ.group
		inst.Group, inst.From, inst.Service, inst.ThreadID = g, g.From, g.Service, g.ThreadID
		inst.SendAt, inst.Timezone, inst.Repeat = occ.at, occ.zone, occ.info
	} else if g, d := l.resolveGroup(m.Group, ctx, e.about); g != nil {
		inst.Group, inst.From, inst.Service, inst.ThreadID = g, g.From, g.Service, g.ThreadID
		inst.Timezone = g.Timezone
	} else {
		e.diags = append(e.diags, d...)
		e.ok = false
	}
	if occ == nil {
		l.evalSendAt(e, m, ctx, inst)
	}

	if inst.Group != nil && inst.Group.Provider != nil {
		provider = inst.Group.Provider
	}
	inst.ExpiresAfter = provider.ExpiresAfter
	if occ != nil && occ.info.Period > 0 && occ.info.Period < inst.ExpiresAfter {
		// An occurrence must not stay due into the next one.
		inst.ExpiresAfter = occ.info.Period
	}
	s, set, sensitive, sok, d := l.evalShownString(m.ExpiresAfter, ctx, "expires_after", e.about)
	e.diags = append(e.diags, d...)
	e.ok = e.ok && sok
	if set {
		dur, err := parseExpiresAfter(s)
		if err != nil {
			e.fail("Invalid expires_after", detail(err, s, sensitive), m.ExpiresAfter)
		}
		inst.ExpiresAfter = dur
	}

	inherit := provider.Unknown
	if inst.Group != nil {
		inherit = inst.Group.Unknown
	}
	policy, pok, d := l.evalUnknownPolicy(m.OnUnknown, m.Settle, ctx, inherit, e.fail)
	e.diags = append(e.diags, d...)
	e.ok = e.ok && pok
	inst.Unknown = policy

	l.evalBody(e, m, ctx, inst)
	if !e.ok {
		return nil, e.diags
	}
	return inst, append(e.diags, l.evalPreconditions(m, ctx, inst)...)
}

// instanceEval collects the diagnostics of one instance in the order they
// are found; ok turns false on the first error.
type instanceEval struct {
	diags hcl.Diagnostics
	ok    bool
	about string // which instance, for messages about for_each instances
}

func (e *instanceEval) fail(summary, text string, expr hcl.Expression) {
	e.diags = append(e.diags, attrError(summary, text+e.about, expr))
	e.ok = false
}

// evalSendAt evaluates the timezone and send_at of a message that is not
// a repeat occurrence.
func (l *loader) evalSendAt(e *instanceEval, m *messageBlock, ctx *hcl.EvalContext, inst *Instance) {
	zone, zset, zok, d := l.evalZone(m.Timezone, ctx, e.about)
	e.diags = append(e.diags, d...)
	e.ok = e.ok && zok
	if zset {
		inst.Timezone = zone
	}
	s, sensitive, sok, d := l.evalShownRequiredString(m.SendAt, ctx, "send_at", e.about)
	e.diags = append(e.diags, d...)
	switch {
	case !sok:
		e.ok = false
	case !zok:
		// The zone in scope is not known, so neither is a wall time.
	default:
		t, note, err := parseMoment(s, inst.Timezone)
		zoneUnknown := (inst.Group == nil || inst.Group.zoneInvalid) && !zset && wallTimePattern.MatchString(s)
		if err != nil && !zoneUnknown {
			e.fail("Invalid send_at", detail(err, s, sensitive), m.SendAt)
		} else if note != "" {
			e.diags = append(e.diags, wallWarning("send_at", note+e.about, m.SendAt))
		}
		inst.SendAt = t
	}
}

// evalBody evaluates the text or the media of a message and checks them
// against the limits of the group's service.
func (l *loader) evalBody(e *instanceEval, m *messageBlock, ctx *hcl.EvalContext, inst *Instance) {
	if m.Text != nil {
		s, sensitive, sok, d := l.evalRequiredString(m.Text, ctx, "text")
		e.diags = append(e.diags, d...)
		e.ok = e.ok && sok
		if sok {
			if err := checkTextLength(s); err != nil {
				e.fail("Text too long", "A message's text is at most 4096 characters; "+err.Error()+".", m.Text)
			} else if limits, known := Limits(inst.Service); known {
				if summary, err := limits.CheckText(s); err != nil {
					e.fail(summary, detail(err, "", false), m.Text)
				}
			}
			inst.Text, inst.Sensitive = s, sensitive
		}
		return
	}
	media, sensitive, mok, d := l.evalMedia(m.Media, ctx, e.fail)
	e.diags = append(e.diags, d...)
	e.ok = e.ok && mok
	if limits, known := Limits(inst.Service); known && mok && m.Media.Caption != nil {
		if summary, err := limits.CheckCaption(media.Type, media.Caption); err != nil {
			e.fail(summary, detail(err, "", false), m.Media.Caption)
		}
	}
	inst.Media, inst.Sensitive = media, sensitive
}

func (l *loader) evalMedia(mb *mediaBlock, ctx *hcl.EvalContext, fail func(summary, text string, expr hcl.Expression)) (*Media, bool, bool, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	media := &Media{}
	ok := true
	anySensitive := false

	s, sensitive, sok, d := l.evalRequiredString(mb.URL, ctx, "url")
	diags = append(diags, d...)
	ok = ok && sok
	anySensitive = anySensitive || sensitive
	if sok {
		if err := checkMediaURL(s); err != nil {
			fail("Invalid media url", detail(err, s, sensitive), mb.URL)
			ok = false
		}
		media.URL = s
		media.URLRange = mb.URL.Range()
		media.PlainURL = !sensitive
	}

	s, sensitive, sok, d = l.evalShownRequiredString(mb.Type, ctx, "type", "")
	diags = append(diags, d...)
	ok = ok && sok
	anySensitive = anySensitive || sensitive
	if sok {
		if !oneOf(s, mediaTypes) {
			fail("Invalid media type", detail(fmt.Errorf("%q is not a media type: use image, video, audio or document", s), s, sensitive), mb.Type)
			ok = false
		}
		media.Type = s
	}

	s, set, sensitive, sok, d := l.evalString(mb.Caption, ctx, "caption")
	diags = append(diags, d...)
	ok = ok && sok
	anySensitive = anySensitive || sensitive
	if set {
		// Its length is the service's to judge (see ServiceLimits).
		media.Caption = s
	}
	media.PlainCaption = sok && !sensitive
	return media, anySensitive, ok, diags
}

// resolveGroup evaluates a message's group argument, which must be one of
// the declared groups' values; the group is identified by its name.
func (l *loader) resolveGroup(expr hcl.Expression, ctx *hcl.EvalContext, about string) (*Group, hcl.Diagnostics) {
	if d := l.checkGroupIndex(expr, ctx, about); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	val, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	// Only the name matters, so only the marks on the way to it are
	// looked at; unmarking the whole group value would copy it. A group
	// chosen by a sensitive value would show that value's effect in every
	// plan (its name and thread), so it is refused.
	if val.IsMarked() {
		return nil, append(diags, sensitiveShownError("group", about, expr))
	}
	if !val.IsKnown() {
		l.shared.unknownSkipped.Store(true)
		return nil, diags
	}
	bad := fmt.Sprintf("The group argument must be a declared group, such as group.eng or each.value under for_each = group%s.", about)
	ty := val.Type()
	if val.IsNull() || !ty.IsObjectType() || !ty.HasAttribute("name") {
		what := "null"
		if !val.IsNull() {
			what = "a " + ty.FriendlyName()
		}
		return nil, append(diags, attrError("Invalid group", bad+" This is "+what+".", expr))
	}
	name := val.GetAttr("name")
	if name.IsMarked() {
		return nil, append(diags, sensitiveShownError("group", about, expr))
	}
	if !name.IsKnown() {
		l.shared.unknownSkipped.Store(true)
		return nil, diags
	}
	if name.IsNull() || name.Type() != cty.String {
		return nil, append(diags, attrError("Invalid group", bad, expr))
	}
	// A group value's name is the group's name everywhere (a module's
	// groups are named by their address), so a group passed into a module
	// as a variable still finds its group.
	g, ok := l.cfg.Groups[name.AsString()]
	if !ok {
		for label := range l.mod.groupByName {
			if l.groupName(label) == name.AsString() {
				// The group failed to evaluate; that is already reported.
				l.shared.unknownSkipped.Store(true)
				return nil, diags
			}
		}
		return nil, append(diags, attrError("Invalid group", fmt.Sprintf("No group named %q is declared.%s%s", name.AsString(), didYouMean(name.AsString(), sortedKeys(l.mod.groupByName)), about), expr))
	}
	return g, diags
}

// sortInstances orders instances by send_at, then by address.
func sortInstances(insts []*Instance) {
	keys := make(map[*Instance]string, len(insts))
	for _, in := range insts {
		keys[in] = in.Addr.String()
	}
	sort.Slice(insts, func(i, j int) bool {
		a, b := insts[i], insts[j]
		if !a.SendAt.Equal(b.SendAt) {
			return a.SendAt.Before(b.SendAt)
		}
		return keys[a] < keys[b]
	})
}

// checkGroupIndex reports group[KEY] with a KEY that names no declared
// group, as group.NAME would be: evaluating the index only says that the
// object of groups has no such attribute, without the name or a
// suggestion. KEY often comes from data (a CSV column), so the value is
// what the user has to fix.
func (l *loader) checkGroupIndex(expr hcl.Expression, ctx *hcl.EvalContext, about string) *hcl.Diagnostic {
	ix, ok := expr.(*hclsyntax.IndexExpr)
	if !ok {
		return nil
	}
	coll, ok := ix.Collection.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(coll.Traversal) != 1 || coll.Traversal.RootName() != "group" {
		return nil
	}
	key, diags := ix.Key.Value(ctx)
	if diags.HasErrors() || key.IsMarked() || !key.IsKnown() || key.IsNull() || key.Type() != cty.String {
		return nil
	}
	name := key.AsString()
	if _, declared := l.mod.groupByName[name]; declared {
		return nil
	}
	return &hcl.Diagnostic{
		Severity:    hcl.DiagError,
		Summary:     "Invalid group",
		Detail:      fmt.Sprintf("No group named %q is declared.%s%s", name, didYouMean(name, sortedKeys(l.mod.groupByName)), about),
		Subject:     ix.Key.Range().Ptr(),
		Expression:  ix.Key,
		EvalContext: ctx,
	}
}
