package views

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/heraldhq/herald/planner"
)

// GitHubCommentLimit is the longest comment GitHub accepts, in characters.
// The markdown form counts bytes, which are never fewer than characters.
const GitHubCommentLimit = 65536

// PlanCommentMarker opens every markdown plan. It is an HTML comment, so
// GitHub does not show it; a workflow finds its earlier plan comment by it
// and edits that one instead of adding a new comment on every push.
const PlanCommentMarker = "<!-- herald-plan -->"

// PlanMarkdown renders a plan as a pull-request comment.
type PlanMarkdown struct {
	view *View
	// MaxLen bounds the comment's length in bytes; 0 means no bound.
	MaxLen int
	// Schedule is the plan's sends on a time axis (planner.NewSchedule),
	// shown folded; nil shows none.
	Schedule *planner.Schedule
}

func (p *PlanMarkdown) Plan(doc *PlanDocument, _ PlanNext) error {
	_, err := io.WriteString(p.view.Stdout, RenderPlanMarkdown(doc, p.Schedule, p.MaxLen))
	return err
}

// mdSection is a run of whole items (warnings, table rows, message details)
// under a head. Truncation drops items, never parts of one, and a section
// with no item left is dropped with its head, so the markup of what remains
// stays balanced.
type mdSection struct {
	head, tail string
	items      []string
	kind       string // what an item is, for the truncation note
	kept       int
}

func (s *mdSection) render(b *strings.Builder) {
	if s.kept == 0 {
		return
	}
	b.WriteString(s.head)
	for _, it := range s.items[:s.kept] {
		b.WriteString(it)
	}
	b.WriteString(s.tail)
}

// RenderPlanMarkdown renders the plan for a pull-request comment: the
// marker, title, summary, warnings, the skipped occurrences of repeat
// messages, the schedule, then one table per group followed by each
// message in full. When the comment would exceed maxLen bytes, whole
// items are left out — message details first, then the schedule, then
// table rows, then skipped occurrences, then warnings — and a note says
// how many. A nil or empty schedule is left out.
func RenderPlanMarkdown(doc *PlanDocument, sched *planner.Schedule, maxLen int) string {
	var head strings.Builder
	head.WriteString(PlanCommentMarker + "\n### herald plan\n\n")
	fmt.Fprintf(&head, "**%s**\n\n", mdInline(doc.SummaryLine()))
	if line := doc.ChecksLine(); line != "" {
		fmt.Fprintf(&head, "%s\n\n", mdInline(line))
	}
	if doc.CheckErrors() > 0 {
		head.WriteString("> [!CAUTION]\n> A check with severity `error` failed: `herald apply` sends nothing until it passes.\n\n")
	}
	for _, e := range doc.Notifications {
		fmt.Fprintf(&head, "Notifications: %s.\n\n", mdInline(e.Sentence()))
	}
	fmt.Fprintf(&head, "Planned at `%s` (UTC).\n\n", doc.At.Format("2006-01-02 15:04:05"))

	checks := &mdSection{head: "#### Failed checks\n\n", tail: "\n", kind: "failed checks"}
	for _, c := range doc.FailedChecks() {
		checks.items = append(checks.items, fmt.Sprintf("- **%s** %s: %s (%s)\n",
			c.Severity, mdCodeSpan(c.Title()), mdInline(strings.ReplaceAll(c.ErrorMessage, "\n", " ")), mdCodeSpan(fmt.Sprintf("%s:%d", c.Range.Filename, c.Range.Line))))
	}

	warnings := &mdSection{head: "#### Warnings\n\n", tail: "\n", kind: "warnings"}
	for _, w := range doc.Warnings() {
		item := "- " + mdInline(w.Text)
		if w.Hint != "" {
			item += " Resolve with " + mdCodeSpan(strings.ReplaceAll(w.Hint, "\n", " ")) + "."
		}
		warnings.items = append(warnings.items, item+"\n")
	}

	skipped := &mdSection{head: "#### " + mdInline(SkippedHeading) + "\n\n", tail: "\n" + mdInline(SkippedNote) + "\n\n", kind: "skipped messages"}
	for _, k := range doc.Skipped {
		skipped.items = append(skipped.items, "- "+mdCodeSpan(k.Address)+": "+mdInline(k.Text())+"\n")
	}

	var tables, details []*mdSection
	for _, g := range doc.Groups() {
		t := &mdSection{kind: "table rows", tail: "\n"}
		account := ""
		if g.Account != "" {
			account = " · account " + mdCodeSpan(g.Provider)
			if g.AccountID != "" {
				account += " " + mdCodeSpan(g.AccountID)
			}
		}
		t.head = fmt.Sprintf("#### Group %s · %s · thread %s · from %s%s\n\n| When (UTC) | Relative | Address | Action | Preview |\n|---|---|---|---|---|\n",
			mdCodeSpan(g.Name), mdInline(g.Service), mdCodeSpan(g.ThreadID), mdInline(g.From), account)
		d := &mdSection{kind: "message details"}
		for _, c := range g.Changes {
			action := c.Action
			if c.Replace {
				action += " (replace)"
			}
			t.items = append(t.items, fmt.Sprintf("| %s | %s | %s | %s | %s |\n",
				c.SendAt.Format("2006-01-02 15:04"), Relative(c.SendAt, doc.At),
				mdCodeSpan(c.Address), mdInline(action), mdPreview(c, 60)))
			d.items = append(d.items, mdDetails(c))
		}
		tables = append(tables, t)
		details = append(details, d)
	}

	schedule := &mdSection{kind: "schedule"}
	if sched != nil && sched.Drawn() > 0 {
		schedule.items = []string{mdSchedule(sched)}
	}

	// Fill the budget in order of importance; lay out in reading order.
	priority := append(append(append([]*mdSection{checks, warnings, skipped}, tables...), schedule), details...)
	budget := maxLen - head.Len()
	if maxLen <= 0 {
		budget = int(^uint(0) >> 1)
	} else {
		budget -= len(truncationNote(priority, true))
	}
	truncated := false
fill:
	for _, s := range priority {
		for _, it := range s.items {
			cost := len(it)
			if s.kept == 0 {
				cost += len(s.head) + len(s.tail)
			}
			if cost > budget {
				truncated = true
				break fill
			}
			budget -= cost
			s.kept++
		}
	}

	b := &head
	checks.render(b)
	warnings.render(b)
	skipped.render(b)
	schedule.render(b)
	for i := range tables {
		tables[i].render(b)
		details[i].render(b)
	}
	if truncated {
		b.WriteString(truncationNote(priority, false))
	}
	return b.String()
}

// truncationNote says what was left out. With worst true it is measured
// for every item left out, the longest it can be, to reserve room for it.
func truncationNote(sections []*mdSection, worst bool) string {
	counts := map[string]int{}
	var kinds []string
	for _, s := range sections {
		n := len(s.items) - s.kept
		if worst {
			n = len(s.items)
		}
		if _, seen := counts[s.kind]; !seen {
			kinds = append(kinds, s.kind)
		}
		counts[s.kind] += n
	}
	var parts []string
	for _, k := range kinds {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	return fmt.Sprintf("\n---\n\n> **Note:** this comment was cut to fit GitHub's limit of %d characters; not shown: %s. Run `herald plan` for the whole plan.\n",
		GitHubCommentLimit, strings.Join(parts, ", "))
}

// mdDetails is one message in full, folded.
func mdDetails(c *PlanChange) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<details><summary><code>%s</code> · %s · %s UTC</summary>\n\n",
		htmlText(c.Address), htmlText(c.Action), c.SendAt.Format("2006-01-02 15:04"))
	if c.Reason != "" {
		fmt.Fprintf(&b, "<p>%s</p>\n\n", htmlText(c.Reason))
	}
	b.WriteString(mdRepeat(c))
	switch {
	case c.Media != nil:
		if c.Media.URL == Sensitive {
			fmt.Fprintf(&b, "<p><b>%s</b> %s</p>\n\n", htmlText(c.Media.Type), htmlText(Sensitive))
		} else {
			fmt.Fprintf(&b, "<p><b>%s</b> <a href=\"%s\">%s</a></p>\n\n", htmlText(c.Media.Type), htmlAttr(c.Media.URL), htmlText(c.Media.URL))
		}
		if c.Media.Caption != "" {
			fmt.Fprintf(&b, "<p>Caption:</p>\n\n<pre>\n%s</pre>\n\n", htmlPre(c.Media.Caption))
		} else {
			b.WriteString("<p>No caption.</p>\n\n")
		}
	case c.Text != nil:
		fmt.Fprintf(&b, "<pre>\n%s</pre>\n\n", htmlPre(*c.Text))
	default:
		b.WriteString("<p>No content: state keeps only a hash of what was sent.</p>\n\n")
	}
	b.WriteString("</details>\n\n")
	return b.String()
}

// mdPreview is the first characters of a message's content on one line,
// for a table cell. Media is its type and a link to it named by the file,
// then the start of its caption.
func mdPreview(c *PlanChange, n int) string {
	switch {
	case c.Media != nil && c.Media.URL == Sensitive:
		return mdInline(c.Media.Type + " " + Sensitive)
	case c.Media != nil:
		s := fmt.Sprintf("%s <a href=\"%s\">%s</a>", mdInline(c.Media.Type), mdAttr(c.Media.URL), mdInline(clipLine(mediaName(c.Media.URL), 40)))
		if c.Media.Caption != "" {
			s += " — " + mdInline(clipLine(c.Media.Caption, n))
		}
		return s
	case c.Text != nil:
		return mdInline(clipLine(*c.Text, n))
	}
	return ""
}

// clipLine puts s on one line and keeps its first n characters.
func clipLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > n {
		r := []rune(s)
		s = string(r[:n]) + "…"
	}
	return s
}

// mediaName is what a media link reads as: the file name at the end of the
// URL's path, or the URL itself when the path has none.
func mediaName(u string) string {
	rest := u
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	rest, _, _ = strings.Cut(rest, "?")
	rest, _, _ = strings.Cut(rest, "#")
	if i := strings.LastIndexByte(rest, '/'); i >= 0 && i+1 < len(rest) {
		return rest[i+1:]
	}
	return u
}

// mdAttr escapes a URL for an href inside a table cell: as htmlAttr, and a
// pipe, which would end the cell before any HTML is read, is
// percent-encoded.
func mdAttr(u string) string { return strings.ReplaceAll(htmlAttr(u), "|", "%7C") }

// mdSchedule is the schedule folded, as text in a fence, opened when
// something needs a look.
func mdSchedule(s *planner.Schedule) string {
	body := RenderSchedule(s, false)
	// A fence longer than any run of backticks inside cannot be closed
	// early by a group name or address from a hand-edited plan file.
	fence := "```"
	for strings.Contains(body, fence) {
		fence += "`"
	}
	open := ""
	if len(s.Flags()) > 0 {
		open = " open"
	}
	return fmt.Sprintf("<details%s><summary>Schedule: %s</summary>\n\n%stext\n%s%s\n\n</details>\n\n",
		open, htmlText(ScheduleSummary(s)), fence, body, fence)
}

// mdInline escapes text for a markdown paragraph or table cell: HTML is
// written as entities, pipes cannot end a cell, emphasis and link markup
// do not apply, and @names do not notify anyone.
func mdInline(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '|':
			b.WriteString("&#124;")
		case r == '@':
			b.WriteString("&#64;")
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r):
			b.WriteString(printable(string(r)))
		case strings.ContainsRune("\\`*_[]~!#", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdCodeSpan writes s as inline code. HTML <code> is used rather than
// backticks so that any backtick in s needs no fence arithmetic; the
// content is escaped like any inline text.
func mdCodeSpan(s string) string { return "<code>" + mdInline(s) + "</code>" }

// htmlText escapes s for HTML inside a <details> block, where markdown is
// not read.
func htmlText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '@':
			b.WriteString("&#64;")
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r):
			b.WriteString(printable(string(r)))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// htmlPre escapes message text for a <pre> block, keeping its lines. The
// block ends with a newline so that </pre> stands on its own line, which
// is where GitHub ends a raw HTML block.
func htmlPre(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		l = strings.ReplaceAll(l, "\t", "    ")
		lines[i] = htmlText(l)
	}
	out := strings.Join(lines, "\n")
	if !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	return out
}

// htmlAttr escapes a URL for an href attribute. Only https URLs reach a
// plan (the language refuses others), but a comment must not carry a
// javascript: link even from a hand-edited plan file.
func htmlAttr(u string) string {
	if !strings.HasPrefix(strings.ToLower(u), "https://") && !strings.HasPrefix(strings.ToLower(u), "http://") {
		return "#"
	}
	return htmlText(u)
}
