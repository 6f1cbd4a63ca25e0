package spec

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// NotifyEvents are the kinds of event a notify block may ask for, in the
// order they are documented and shown.
var NotifyEvents = []string{"failed", "unknown", "not_delivered", "expired", "drift", "skipped", "takeover", "apply_summary"}

// NotifyKind is where a notify block sends its notifications.
type NotifyKind string

const (
	// NotifyWebhook: a generic JSON POST, signed when a secret is set.
	NotifyWebhook NotifyKind = "webhook"
	// NotifySlack: a Slack-compatible incoming webhook ({"text": ...}).
	NotifySlack NotifyKind = "slack"
	// NotifyGroup: an A1Base group, through herald's own client.
	NotifyGroup NotifyKind = "group"
)

// Notify is an evaluated notify block: one destination and the events it
// wants. URL and Secret are credentials: they are never printed, stored
// or put in a diagnostic.
type Notify struct {
	Name string
	Kind NotifyKind
	// URL is the webhook's or Slack's endpoint; "" for a group.
	URL string
	// Secret is the webhook's HMAC-SHA256 signing key; "" for none.
	Secret string
	// Group is the destination group of a group notify block.
	Group *Group
	// Events are the kinds asked for, in NotifyEvents order.
	Events    []string
	DeclRange hcl.Range
}

// Wants reports whether n asks for events of kind.
func (n *Notify) Wants(kind string) bool {
	for _, e := range n.Events {
		if e == kind {
			return true
		}
	}
	return false
}

var notifySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "events", Required: true},
		{Name: "group"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "webhook"},
		{Type: "slack"},
	},
}

var webhookSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "url", Required: true},
		{Name: "secret"},
	},
}

var slackSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "url", Required: true},
	},
}

// notifyBlock is a decoded notify block.
type notifyBlock struct {
	Name   string
	Kind   NotifyKind
	URL    hcl.Expression
	Secret hcl.Expression
	Group  hcl.Expression
	Events hcl.Expression
	// DestRange is the destination's block or attribute.
	DestRange hcl.Range
	DeclRange hcl.Range
}

func decodeNotifyBlock(block *hcl.Block) (*notifyBlock, hcl.Diagnostics) {
	diags := checkName("notify", block)
	content, cdiags := block.Body.Content(notifySchema)
	diags = append(diags, cdiags...)
	n := &notifyBlock{Name: block.Labels[0], DeclRange: block.DefRange, Events: attrExpr(content, "events")}
	var dests []hcl.Range
	if attr, ok := content.Attributes["group"]; ok {
		n.Kind, n.Group, n.DestRange = NotifyGroup, attr.Expr, attr.Range
		dests = append(dests, attr.Range)
	}
	for _, b := range content.Blocks {
		schema := webhookSchema
		if b.Type == "slack" {
			schema = slackSchema
		}
		bc, d := b.Body.Content(schema)
		diags = append(diags, d...)
		dests = append(dests, b.DefRange)
		if len(dests) > 1 {
			continue
		}
		n.Kind, n.DestRange = NotifyKind(b.Type), b.DefRange
		n.URL, n.Secret = attrExpr(bc, "url"), attrExpr(bc, "secret")
	}
	switch {
	case len(dests) == 0:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing notification destination",
			Detail:   fmt.Sprintf("Notify block %q needs one destination: a webhook { url = ... } block, a slack { url = ... } block, or group = group.NAME.", n.Name),
			Subject:  block.DefRange.Ptr(),
		})
		return nil, diags
	case len(dests) > 1:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Several notification destinations",
			Detail:   fmt.Sprintf("Notify block %q has more than one destination; it takes exactly one of webhook, slack or group. Declare another notify block for another destination.", n.Name),
			Subject:  dests[1].Ptr(),
		})
		return nil, diags
	}
	return n, diags
}

func (n *notifyBlock) expressions() []hcl.Expression {
	return nonNil(n.URL, n.Secret, n.Group, n.Events)
}

// evalNotifyBlocks evaluates the root module's notify blocks into
// Config.Notify, ordered by name.
func (l *loader) evalNotifyBlocks(blocks []*notifyBlock, ctx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, nb := range blocks {
		bad := false
		for _, expr := range nb.expressions() {
			_, d := l.checkRefs(expr, scope{vars: true, locals: true, groups: true, where: "a notify block"})
			diags = append(diags, d...)
			bad = bad || d.HasErrors()
		}
		if bad {
			continue
		}
		n, d := l.evalNotify(nb, ctx)
		diags = append(diags, d...)
		if n != nil {
			l.cfg.Notify = append(l.cfg.Notify, n)
		}
	}
	sort.Slice(l.cfg.Notify, func(i, j int) bool { return l.cfg.Notify[i].Name < l.cfg.Notify[j].Name })
	return diags
}

func (l *loader) evalNotify(nb *notifyBlock, ctx *hcl.EvalContext) (*Notify, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	out := &Notify{Name: nb.Name, Kind: nb.Kind, DeclRange: nb.DeclRange}
	ok := true
	about := fmt.Sprintf(" (notify %q)", nb.Name)

	events, eok, d := l.evalNotifyEvents(nb.Events, ctx, about)
	diags = append(diags, d...)
	ok = ok && eok
	out.Events = events

	switch nb.Kind {
	case NotifyGroup:
		g, d := l.resolveGroup(nb.Group, ctx, about)
		diags = append(diags, d...)
		if g == nil {
			ok = false
		}
		out.Group = g
	case NotifyWebhook, NotifySlack:
		s, set, sensitive, sok, d := l.evalString(nb.URL, ctx, "url")
		diags = append(diags, d...)
		switch {
		case !sok:
			ok = false
		case !set:
			// A plan on a pull request (from a fork, say) runs without the
			// secrets that hold the URL: the block is left out, and says so.
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Notification URL not set",
				Detail:   fmt.Sprintf("The url of notify %q is null, so this run records and delivers no notification for it. Set the variable it comes from wherever apply and run work.", nb.Name),
				Subject:  nb.URL.Range().Ptr(),
			})
			return nil, diags
		case nb.Kind == NotifySlack && !sensitive:
			// A Slack incoming webhook's URL is its credential.
			diags = append(diags, attrError("Slack webhook URL not sensitive",
				"A Slack incoming webhook URL is a credential: whoever has it can post to the channel. Give it through a variable declared sensitive = true (set with -var-file, or the environment as HERALD_VAR_name), not as a literal or a plain variable.", nb.URL))
			ok = false
		default:
			if err := checkNotifyURL(s); err != nil {
				// The URL itself is never shown: it may hold a token.
				diags = append(diags, attrError("Invalid notification URL", err.Error()+".", nb.URL))
				ok = false
			}
			out.URL = s
		}
		if nb.Secret != nil {
			s, set, sensitive, sok, d := l.evalString(nb.Secret, ctx, "secret")
			diags = append(diags, d...)
			switch {
			case !sok:
				ok = false
			case set && !sensitive:
				diags = append(diags, attrError("Webhook secret not sensitive",
					"The signing secret must not be written in the configuration, nor pass through a plain variable: give it through a variable declared sensitive = true (set with -var-file, or the environment as HERALD_VAR_name).", nb.Secret))
				ok = false
			case set && s == "":
				diags = append(diags, attrError("Invalid webhook secret", "The signing secret must not be empty; leave secret out for unsigned notifications.", nb.Secret))
				ok = false
			case set:
				out.Secret = s
			}
		}
	}
	if !ok {
		return nil, diags
	}
	return out, diags
}

// evalNotifyEvents evaluates events: a non-empty list of known kinds,
// each at most once. The result is in NotifyEvents order.
func (l *loader) evalNotifyEvents(expr hcl.Expression, ctx *hcl.EvalContext, about string) ([]string, bool, hcl.Diagnostics) {
	if expr == nil {
		return nil, false, nil
	}
	val, _, ok, diags := l.evalAs(expr, ctx, cty.List(cty.String), "events")
	if !ok {
		return nil, false, diags
	}
	if val.IsNull() || val.LengthInt() == 0 {
		return nil, false, append(diags, attrError("Invalid events", "The events list must name at least one of "+quoteList(NotifyEvents)+about+".", expr))
	}
	seen := map[string]bool{}
	for it := val.ElementIterator(); it.Next(); {
		_, v := it.Element()
		if v.IsNull() {
			return nil, false, append(diags, attrError("Invalid events", "The events list must not hold null"+about+".", expr))
		}
		s := v.AsString()
		if !oneOf(s, NotifyEvents) {
			return nil, false, append(diags, attrError("Invalid events", fmt.Sprintf("%q is not an event: use %s.%s", s, quoteList(NotifyEvents), didYouMean(s, NotifyEvents)), expr))
		}
		if seen[s] {
			return nil, false, append(diags, attrError("Invalid events", fmt.Sprintf("%q is listed twice%s.", s, about), expr))
		}
		seen[s] = true
	}
	var events []string
	for _, e := range NotifyEvents {
		if seen[e] {
			events = append(events, e)
		}
	}
	return events, true, diags
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// checkNotifyURL accepts an https URL, or an http one to a loopback
// address (a local receiver, herald sandbox). The error never quotes the
// URL.
func checkNotifyURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("the URL does not parse as an absolute URL with a host")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return nil
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return nil
		}
		return fmt.Errorf("a notification URL must use https; plain http is allowed only to a loopback address (localhost, 127.0.0.1, ::1)")
	}
	return fmt.Errorf("a notification URL must use https (scheme %q is not allowed)", u.Scheme)
}
