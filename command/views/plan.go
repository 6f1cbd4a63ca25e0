package views

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/heraldhq/herald/internal/shellquote"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/state"
)

// Magenta marks drift: content that changed after it was sent.
const Magenta Style = "35"

// PlanFormat chooses how a plan is rendered.
type PlanFormat int

const (
	PlanHumanFormat PlanFormat = iota
	PlanJSONFormat
	PlanMarkdownFormat
)

// PlanNext says what the user can do with a rendered plan; it only affects
// the closing hint of the human form.
type PlanNext struct {
	// Apply: the plan came from `herald plan`, so point at `herald apply`.
	Apply bool
	// SavedTo is the plan file written with -out, if any.
	SavedTo string
	// Chdir is herald's -chdir as the plan was given it, empty without:
	// the suggested apply repeats it.
	Chdir string
	// ApplyFlags are the flags the suggested apply command repeats so that
	// it does what the plan showed (-state, -allow-file-outside-root, -var
	// and -var-file in their order, -at, -target), each already one shell
	// word (shellquote.Flag). SavedFlags are those a saved plan needs
	// again: all but -at and -target, which the plan file fixes.
	ApplyFlags, SavedFlags []string
	// HiddenVars are sensitive variables given with -var: ApplyFlags holds
	// Sensitive in place of their values.
	HiddenVars []string
}

// hiddenNote asks for the sensitive values the suggested command leaves
// out; empty when there are none.
func (n PlanNext) hiddenNote() string {
	if len(n.HiddenVars) == 0 {
		return ""
	}
	return fmt.Sprintf("with the value of the sensitive %s in place of %s.\n", countWords(n.HiddenVars, "variable", "variables"), Sensitive)
}

// countWords is "variable a" or "variables a and b".
func countWords(names []string, one, many string) string {
	if len(names) == 1 {
		return one + " " + names[0]
	}
	return many + " " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// applyCommand is the apply command to paste: herald, -chdir if the plan
// had one, apply, the flags, then args quoted.
func (n PlanNext) applyCommand(flags []string, args ...string) string {
	words := []string{"herald"}
	if n.Chdir != "" {
		words = append(words, shellquote.Flag("chdir", n.Chdir))
	}
	words = append(words, "apply")
	words = append(words, flags...)
	for _, a := range args {
		words = append(words, shellQuote(a))
	}
	return strings.Join(words, " ")
}

// Plan is the view of `herald plan` and of `herald show PLANFILE`.
type Plan interface {
	Plan(doc *PlanDocument, next PlanNext) error
}

// NewPlan returns the plan view for the format, writing to v's stdout.
func NewPlan(format PlanFormat, v *View) Plan {
	switch format {
	case PlanJSONFormat:
		return &PlanJSON{view: v}
	case PlanMarkdownFormat:
		return &PlanMarkdown{view: v, MaxLen: GitHubCommentLimit}
	default:
		return &PlanHuman{view: v}
	}
}

// PlanJSON prints the plan document (CONTRACT §4).
type PlanJSON struct{ view *View }

func (p *PlanJSON) Plan(doc *PlanDocument, _ PlanNext) error { return writeJSON(p.view.Stdout, doc) }

// PlanHuman prints a plan the way Terraform users expect to read one.
type PlanHuman struct{ view *View }

func (p *PlanHuman) Plan(doc *PlanDocument, next PlanNext) error {
	_, err := io.WriteString(p.view.Stdout, RenderPlanHuman(doc, next, p.view.StdoutColor))
	return err
}

// actionStyle is how one action looks in the human form.
type actionStyle struct {
	symbol string
	phrase string // follows the address: "message.x will be sent"
	styles []Style
}

// actionStyles keeps every action's symbol and colour in one place so the
// list, the warnings and the legend agree.
var actionStyles = map[planner.Action]actionStyle{
	planner.Send:    {"+", "will be sent", []Style{Green}},
	planner.Retry:   {"~", "will be sent again (retry)", []Style{Yellow}},
	planner.Import:  {"~>", "will be imported (recorded as sent, never sent)", []Style{Cyan}},
	planner.Wait:    {">", "waits", []Style{Cyan}},
	planner.Noop:    {"=", "is unchanged", nil},
	planner.Drift:   {"!", "has changed since it was sent (not resent)", []Style{Magenta}},
	planner.Expire:  {"-", "has expired (recorded, never sent)", []Style{Red}},
	planner.Unknown: {"?", "may or may not have been sent (not resent)", []Style{Yellow, Bold}},
	planner.Orphan:  {"#", "is no longer configured (state kept)", []Style{Dim}},
}

func styleOf(action string) actionStyle {
	if a, ok := planner.ParseAction(action); ok {
		return actionStyles[a]
	}
	return actionStyle{symbol: "*", phrase: "has action " + action}
}

// summaryWords phrases each action's count in the summary line.
var summaryWords = map[planner.Action]string{
	planner.Send:    "to send",
	planner.Retry:   "to retry",
	planner.Import:  "to import",
	planner.Wait:    "waiting",
	planner.Noop:    "unchanged",
	planner.Drift:   "drifted",
	planner.Expire:  "expired",
	planner.Unknown: "unknown",
	planner.Orphan:  "orphaned",
}

// NoChanges is the summary of a plan in which nothing but unchanged
// messages appear.
const NoChanges = "No changes. Nothing is due."

// SummaryLine is "Plan: 6 to send, 2 waiting, 1 expired." listing only
// non-zero counts, or NoChanges; followed by "3 excluded by -exclude." when
// -exclude left messages out.
func (d *PlanDocument) SummaryLine() string {
	line := d.countsLine()
	if d.Excluded > 0 {
		line += fmt.Sprintf(" %d excluded by -exclude.", d.Excluded)
	}
	return line
}

// countsLine is SummaryLine without what -exclude left out.
func (d *PlanDocument) countsLine() string {
	var parts []string
	for _, a := range planner.Actions {
		if n := d.Summary.Count(a); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, summaryWords[a]))
		}
	}
	if d.Summary.Skipped > 0 {
		parts = append(parts, d.skippedTotal()+" skipped")
	}
	if len(parts) == 0 || (len(parts) == 1 && d.Summary.Noop > 0) {
		return NoChanges
	}
	return "Plan: " + strings.Join(parts, ", ") + "."
}

// skippedTotal is the count of skipped occurrences, "1000+" when it is a
// lower bound.
func (d *PlanDocument) skippedTotal() string {
	n := strconv.Itoa(d.Summary.Skipped)
	for _, k := range d.Skipped {
		if k.AtLeast {
			return n + "+"
		}
	}
	return n
}

// SkippedHeading opens the list of skipped occurrences.
const SkippedHeading = "Skipped (missed occurrences of repeat messages, never sent):"

// SkippedNote closes the list of skipped occurrences.
const SkippedNote = "A plan considers only the latest occurrence of each, so that an outage never floods a group."

// Text says what was skipped, with the times in the rule's zone:
// "2 occurrences skipped while herald did not run (2027-04-05 09:00 CEST,
// 2027-04-12 09:00 CEST)"; of more than two, the first and the last.
func (k *PlanSkipped) Text() string {
	loc, err := time.LoadLocation(k.Timezone)
	if err != nil || k.Timezone == "" {
		loc = time.UTC
	}
	when := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04 MST") }
	count := countOf(k.Count, "occurrence", "occurrences")
	if k.AtLeast {
		count = "at least " + count
	}
	var times string
	switch {
	case k.Count == 1:
		times = when(k.First)
	case k.Count == 2:
		times = when(k.First) + ", " + when(k.Last)
	default:
		times = "from " + when(k.First) + " to " + when(k.Last)
	}
	return fmt.Sprintf("%s skipped while herald did not run (%s)", count, times)
}

// Shown reports whether the human and markdown forms list the change.
// Unchanged messages are only counted — a state with a long history would
// otherwise bury what is about to happen — unless a moved block applies to
// them, which the user will want to see confirmed.
func (c *PlanChange) Shown() bool { return c.Action != planner.Noop.String() || c.MovedFrom != "" }

// PlanGroup is the changes of one destination: a group name with its
// service and thread.
type PlanGroup struct {
	Name     string
	Service  string
	ThreadID string
	From     string
	// Provider and AccountID say which account sends to the group (see
	// PlanChange); Account names it for headings, and is empty when the
	// plan has one provider only.
	Provider  string
	AccountID string
	Account   string
	Changes   []*PlanChange
}

// Title names the group for headings.
func (g *PlanGroup) Title() string {
	account := ""
	if g.Account != "" {
		account = ", account " + g.Account
	}
	return fmt.Sprintf("group %s (%s, thread %q, from %s%s)", groupTitle(g.Name), g.Service, g.ThreadID, g.From, account)
}

// groupTitle shows a group's name: quoted as a label in the root module,
// as its address (module.emea.group.team) when a module declares it, so
// that the address reads as the user writes it.
func groupTitle(name string) string {
	if strings.HasPrefix(name, "module.") {
		return name
	}
	return strconv.Quote(name)
}

// Groups splits the shown changes by destination, ordered by group name,
// then service and thread. A group whose thread changed appears twice, so
// the change stays visible. Within a group changes keep document order.
func (d *PlanDocument) Groups() []*PlanGroup {
	type key struct{ name, service, thread string }
	byKey := map[key]*PlanGroup{}
	var groups []*PlanGroup
	for i := range d.Changes {
		c := &d.Changes[i]
		if !c.Shown() {
			continue
		}
		k := key{c.Group, c.Service, c.ThreadID}
		g, ok := byKey[k]
		if !ok {
			g = &PlanGroup{Name: c.Group, Service: c.Service, ThreadID: c.ThreadID, From: c.From, Provider: c.Provider, AccountID: c.AccountID}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.Changes = append(g.Changes, c)
	}
	// With several accounts, every heading says which one sends.
	if d.Accounts() > 1 {
		for _, g := range groups {
			g.Account = g.Provider
			if g.AccountID != "" {
				g.Account += " (" + g.AccountID + ")"
			}
		}
	}
	sort.SliceStable(groups, func(i, j int) bool {
		a, b := groups[i], groups[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		return a.ThreadID < b.ThreadID
	})
	return groups
}

// Accounts counts the providers the plan's messages are sent by.
func (d *PlanDocument) Accounts() int {
	seen := map[string]bool{}
	for i := range d.Changes {
		if p := d.Changes[i].Provider; p != "" {
			seen[p] = true
		}
	}
	return len(seen)
}

// PlanWarning is something in a plan that needs a person's attention.
type PlanWarning struct {
	Address string
	Action  string
	Text    string
	// Hint is a command or configuration that resolves it, if any.
	Hint string
}

// Warnings lists drift, expiry, unknowns, orphans and likely renames, in
// document order.
func (d *PlanDocument) Warnings() []PlanWarning {
	var out []PlanWarning
	for i := range d.Changes {
		c := &d.Changes[i]
		w := PlanWarning{Address: c.Address, Action: c.Action}
		switch c.Action {
		case planner.Drift.String():
			w.Text = fmt.Sprintf("%s was sent and has changed since", c.Address)
			if c.Reason != "" {
				w.Text += " (" + c.Reason + ")"
			}
			w.Text += ". It will not be sent again by itself."
			w.Hint = "herald apply " + shellquote.Flag("replace", c.Address)
		case planner.Expire.String():
			w.Text = fmt.Sprintf("%s was not sent in time", c.Address)
			if c.ExpiresAt != nil {
				w.Text += " (it expired at " + c.ExpiresAt.Format(time.RFC3339) + ")"
			}
			w.Text += ". Apply records it as expired and never sends it."
		case planner.Unknown.String():
			st := c.Settlement
			switch {
			case st != nil && st.State == state.StatusNotDelivered:
				w.Text = fmt.Sprintf("A look-up proved that %s was not delivered (%s); on_unknown = %q holds it: check its thread, then send it on purpose.", c.Address, c.Reason, st.OnUnknown)
			case st != nil && st.Resend:
				w.Text = fmt.Sprintf("An earlier apply may or may not have sent %s. Apply looks it up and sends it again only once a settled look-up proves it absent (on_unknown = \"resend\").", c.Address)
			default:
				w.Text = fmt.Sprintf("An earlier apply may or may not have sent %s. It will not be sent again unless you ask for it.", c.Address)
			}
			w.Hint = "herald apply " + shellquote.Flag("replace", c.Address)
		case planner.Orphan.String():
			w.Text = fmt.Sprintf("%s is in state but no longer in the configuration. Its record is kept; remove it, or add a moved block if the message was renamed.", c.Address)
			w.Hint = "herald state rm " + shellQuote(c.Address)
		}
		if w.Text != "" {
			out = append(out, w)
		}
		if c.LikelyRenameOf != "" {
			out = append(out, PlanWarning{
				Address: c.Address,
				Action:  c.Action,
				Text: fmt.Sprintf("%s looks like a rename of %s, which is in state with the same content, group and send_at. Without a moved block it will be sent a second time.",
					c.Address, c.LikelyRenameOf),
				Hint: fmt.Sprintf("moved {\n  from = %s\n  to   = %s\n}", c.LikelyRenameOf, c.Address),
			})
		}
	}
	return out
}

// RenderPlanHuman renders the plan for a terminal: the changes by group,
// the warnings, then the summary and what to do next.
func RenderPlanHuman(doc *PlanDocument, next PlanNext, color bool) string {
	var b strings.Builder
	paint := func(s string, st ...Style) string { return Paint(color, s, st...) }

	fmt.Fprintf(&b, "Plan at %s.\n", doc.At.Format(time.RFC3339))
	for _, g := range doc.Groups() {
		fmt.Fprintf(&b, "\n%s\n", paint(ucfirst(g.Title())+":", Bold))
		for _, c := range g.Changes {
			b.WriteByte('\n')
			writeHumanChange(&b, doc.At, c, paint)
		}
	}

	if len(doc.Skipped) > 0 {
		fmt.Fprintf(&b, "\n%s\n\n", paint(SkippedHeading, Bold))
		for _, k := range doc.Skipped {
			fmt.Fprintf(&b, "  %s %s: %s\n", paint("~", Dim), paint(k.Address, Bold), k.Text())
		}
		b.WriteString("  " + SkippedNote + "\n")
	}

	if ws := doc.Warnings(); len(ws) > 0 {
		fmt.Fprintf(&b, "\n%s\n", paint("Warnings:", Bold, Yellow))
		for _, w := range ws {
			st := styleOf(w.Action)
			fmt.Fprintf(&b, "\n  %s %s\n", paint(st.symbol, st.styles...), w.Text)
			if w.Hint != "" {
				b.WriteString("    To resolve:\n")
				for _, line := range strings.Split(w.Hint, "\n") {
					b.WriteString("      " + line + "\n")
				}
			}
		}
	}

	if failed := doc.FailedChecks(); len(failed) > 0 {
		fmt.Fprintf(&b, "\n%s\n", paint("Failed checks:", Bold, Red))
		for _, c := range failed {
			sym, st := "!", []Style{Yellow}
			if c.Severity == "error" {
				sym, st = "x", []Style{Red}
			}
			fmt.Fprintf(&b, "\n  %s %s %s\n", paint(sym, st...), paint(c.Title(), Bold), paint("("+c.Severity+")", st...))
			for _, line := range strings.Split(c.ErrorMessage, "\n") {
				b.WriteString(strings.TrimRight("      "+line, " ") + "\n")
			}
			fmt.Fprintf(&b, "      on %s\n", c.Where())
		}
	}

	fmt.Fprintf(&b, "\n%s\n", paint(doc.SummaryLine(), Bold))
	if line := doc.ChecksLine(); line != "" {
		b.WriteString(line + "\n")
	}
	for _, e := range doc.Notifications {
		fmt.Fprintf(&b, "%s %s.\n", paint("Notifications:", Bold), e.Sentence())
	}
	switch {
	case doc.CheckErrors() > 0:
		b.WriteString("\nApply would send nothing: a check with severity \"error\" failed. Fix what it says, or change its severity to \"warning\".\n")
	case next.SavedTo != "" && doc.Summary.Sends() > 0:
		fmt.Fprintf(&b, "\nSaved the plan to %s. To send exactly these messages, run:\n  %s\n", next.SavedTo, next.applyCommand(next.SavedFlags, next.SavedTo))
		b.WriteString(next.hiddenNote())
	case next.SavedTo != "":
		fmt.Fprintf(&b, "\nSaved the plan to %s. Nothing in it would be sent.\n", next.SavedTo)
	case next.Apply && doc.Summary.Sends() > 0:
		what := "the due message"
		if n := doc.Summary.Sends(); n > 1 {
			what = fmt.Sprintf("the %d due messages", n)
		}
		fmt.Fprintf(&b, "\nTo send %s, run:\n  %s\n", what, next.applyCommand(next.ApplyFlags))
		b.WriteString(next.hiddenNote())
	case next.Apply && doc.countsLine() != NoChanges:
		b.WriteString("\nApply would send nothing now.\n")
	}
	return b.String()
}

func writeHumanChange(b *strings.Builder, at time.Time, c *PlanChange, paint func(string, ...Style) string) {
	st := styleOf(c.Action)
	phrase := st.phrase
	if c.Replace {
		phrase += " again (-replace)"
	}
	if set := c.Settlement; set != nil && set.State == state.StatusNotDelivered {
		switch c.Action {
		case planner.Unknown.String():
			phrase = "was not delivered, proven by look-up (held: not resent)"
		case planner.Retry.String():
			phrase = "will be sent again (not delivered, proven by look-up)"
		}
	}
	fmt.Fprintf(b, "  %s %s %s\n", paint(st.symbol, st.styles...), paint(c.Address, Bold), paint(phrase, st.styles...))
	field := func(name, value string) {
		b.WriteString(strings.TrimRight(fmt.Sprintf("      %-10s %s", name, value), " ") + "\n")
	}
	field("send_at", fmt.Sprintf("%s (%s)", c.SendAt.Format(time.RFC3339), Relative(c.SendAt, at)))
	if c.ExpiresAt != nil && c.Action != planner.Noop.String() {
		field("expires_at", fmt.Sprintf("%s (%s)", c.ExpiresAt.Format(time.RFC3339), Relative(*c.ExpiresAt, at)))
	}
	writeHumanRepeat(field, c, at)
	if c.Reason != "" {
		field("reason", c.Reason)
	}
	if c.MovedFrom != "" {
		field("moved", "from "+c.MovedFrom)
	}
	if c.LikelyRenameOf != "" {
		field("rename?", "likely a rename of "+c.LikelyRenameOf)
	}
	if r := c.Recorded; r != nil && r.Status != "" {
		field("state", fmt.Sprintf("%s, %s", r.Status, countOf(r.Attempts, "attempt", "attempts")))
		if c.Action == planner.Drift.String() {
			if r.Group != c.Group || r.ThreadID != c.ThreadID || r.Service != c.Service {
				field("was sent", fmt.Sprintf("to group %q (%s, thread %q)", r.Group, r.Service, r.ThreadID))
			}
			if !r.SendAt.Equal(c.SendAt) {
				field("was due", r.SendAt.Format(time.RFC3339))
			}
		}
		if r.LastError != "" {
			field("last error", printable(r.LastError))
		}
	}
	switch {
	case c.Media != nil:
		field("media", fmt.Sprintf("%s %s", printable(c.Media.Type), printable(c.Media.URL)))
		if c.Media.Caption != "" {
			field("caption", "")
			writeIndented(b, c.Media.Caption)
		}
	case c.Text != nil:
		field("text", "")
		writeIndented(b, *c.Text)
	}
}

// writeIndented prints message text in full, each line indented under its
// field, so a multi-line message reads as it will arrive.
func writeIndented(b *strings.Builder, s string) {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	for _, line := range strings.Split(s, "\n") {
		b.WriteString(strings.TrimRight("        "+printable(line), " ") + "\n")
	}
}

// printable replaces control characters (other than tab) with their
// escaped form, so text from a configuration cannot move the cursor or
// change the terminal's colours.
func printable(s string) string {
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			q := fmt.Sprintf("%+q", string(r))
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isControl(r rune) bool { return r != '\t' && unicode.IsControl(r) }

// Relative describes t against the plan's clock: "in 3h", "2d ago",
// "in 1h30m", "now". Two units at most: the plan shows the exact time too.
func Relative(t, at time.Time) string {
	d := t.Sub(at)
	if d == 0 {
		return "now"
	}
	past := d < 0
	if past {
		d = -d
	}
	s := shortDuration(d)
	if past {
		return s + " ago"
	}
	return "in " + s
}

func shortDuration(d time.Duration) string {
	units := []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	if d < time.Second {
		return "<1s"
	}
	for i, u := range units {
		if d < u.d {
			continue
		}
		s := fmt.Sprintf("%d%s", d/u.d, u.name)
		if i+1 < len(units) {
			if rest := (d % u.d) / units[i+1].d; rest > 0 {
				s += fmt.Sprintf("%d%s", rest, units[i+1].name)
			}
		}
		return s
	}
	return d.String()
}

// countOf is "1 message" or "3 messages".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func ucfirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// shellQuote quotes one word of a suggested command (shellquote.Quote).
func shellQuote(s string) string { return shellquote.Quote(s) }
