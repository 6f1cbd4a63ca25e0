package views

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/heraldhq/herald/notify"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// JSONPlanFormatVersion is the format_version of the JSON plan document
// (CONTRACT §4). Fields may be added without changing it; a field removed or
// changed in meaning needs a new version.
const JSONPlanFormatVersion = "1"

// Sensitive stands in for any content built from a sensitive value.
const Sensitive = "(sensitive)"

// PlanDocument is the plan as `plan -json` and `show -json PLANFILE` print
// it. The human and markdown renderings are built from the same value, so
// the three forms cannot disagree about what a plan contains.
type PlanDocument struct {
	FormatVersion string       `json:"format_version"`
	At            time.Time    `json:"at"`
	Summary       PlanSummary  `json:"summary"`
	Changes       []PlanChange `json:"changes"`
	// Excluded counts the messages -exclude left out of Changes (and of
	// Summary); absent when none were.
	Excluded int `json:"excluded,omitempty"`
	// Checks are the results of the check blocks' asserts and of the
	// preconditions of what the plan may still send; absent when the
	// configuration has none.
	Checks []PlanCheck `json:"checks,omitempty"`
	// Notifications say what an apply of the plan would notify, per
	// notify block (notify.Preview); absent when nothing would be.
	Notifications []notify.Expected `json:"notifications,omitempty"`
	// Skipped lists, per repeat message, the occurrences the plan passes
	// over: missed, never sent, never recorded; absent when there are
	// none. They are not changes: an outage under an every-minute rule
	// would otherwise list thousands.
	Skipped []PlanSkipped `json:"skipped,omitempty"`
}

// PlanSkipped is the occurrences of one repeat message that a plan passes
// over (planner.Skipped).
type PlanSkipped struct {
	// Address is the repeat message's block: message.standup.
	Address string `json:"address"`
	// Count is how many; counting stops at planner.MaxSkipped, and
	// AtLeast then says the count is a lower bound.
	Count   int  `json:"count"`
	AtLeast bool `json:"at_least,omitempty"`
	// First and Last are the earliest and latest of them, in UTC;
	// Timezone is the rule's zone, in which the human forms show them.
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
	Timezone string    `json:"timezone"`
}

// PlanCheck is one condition's result.
type PlanCheck struct {
	// Address is check.NAME, or the message instance a precondition was
	// checked for.
	Address string `json:"address"`
	// Kind is "check" or "precondition".
	Kind string `json:"kind"`
	// Index counts the condition in its block (asserts) or message
	// (preconditions), from 0.
	Index int `json:"index"`
	// Severity is "error" or "warning".
	Severity string `json:"severity"`
	// Status is "pass" or "fail".
	Status       string `json:"status"`
	ErrorMessage string `json:"error_message,omitempty"`
	// Range is where the condition is written.
	Range PlanPos `json:"range"`
}

// PlanPos is a place in a configuration file.
type PlanPos struct {
	Filename string `json:"filename"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
}

// Failed reports whether the condition failed.
func (c *PlanCheck) Failed() bool { return c.Status == "fail" }

// FailedChecks lists the failed conditions, errors first.
func (d *PlanDocument) FailedChecks() []PlanCheck {
	var errs, warns []PlanCheck
	for _, c := range d.Checks {
		switch {
		case !c.Failed():
		case c.Severity == "error":
			errs = append(errs, c)
		default:
			warns = append(warns, c)
		}
	}
	return append(errs, warns...)
}

// CheckErrors counts the failed error-level conditions: apply sends
// nothing while there is one.
func (d *PlanDocument) CheckErrors() int {
	n := 0
	for _, c := range d.Checks {
		if c.Failed() && c.Severity == "error" {
			n++
		}
	}
	return n
}

// ChecksLine is "Checks: 3 passed, 2 failed (1 error, 1 warning)."; ""
// without checks.
func (d *PlanDocument) ChecksLine() string {
	if len(d.Checks) == 0 {
		return ""
	}
	failed := d.FailedChecks()
	errs := d.CheckErrors()
	line := fmt.Sprintf("Checks: %d passed", len(d.Checks)-len(failed))
	if len(failed) > 0 {
		var parts []string
		if errs > 0 {
			parts = append(parts, countOf(errs, "error", "errors"))
		}
		if w := len(failed) - errs; w > 0 {
			parts = append(parts, countOf(w, "warning", "warnings"))
		}
		line += fmt.Sprintf(", %d failed (%s)", len(failed), strings.Join(parts, ", "))
	}
	return line + "."
}

// Title is how a failed condition is named: "check.x", or "precondition
// of message.y[\"k\"]".
func (c *PlanCheck) Title() string {
	if c.Kind == "precondition" {
		return "precondition of " + c.Address
	}
	return c.Address
}

// Where is "main.hcl line 12".
func (c *PlanCheck) Where() string {
	return fmt.Sprintf("%s line %d", c.Range.Filename, c.Range.Line)
}

func newPlanSkipped(k *planner.Skipped) PlanSkipped {
	return PlanSkipped{
		Address: k.Addr.String(), Count: k.Count, AtLeast: k.AtLeast(),
		First: k.First.UTC(), Last: k.Last.UTC(), Timezone: k.Timezone.String(),
	}
}

func newPlanChecks(results []*spec.CheckResult) []PlanCheck {
	var out []PlanCheck
	for _, r := range results {
		status := "pass"
		if r.Failed() {
			status = "fail"
		}
		out = append(out, PlanCheck{
			Address:      r.Addr,
			Kind:         r.Kind,
			Index:        r.Index,
			Severity:     string(r.Severity),
			Status:       status,
			ErrorMessage: r.Message,
			Range:        PlanPos{Filename: filepath.ToSlash(r.Range.Filename), Line: r.Range.Start.Line, Column: r.Range.Start.Column},
		})
	}
	return out
}

// PlanSummary counts the changes per action. Every action is a plain field
// so that zeros are always printed, as the contract requires.
type PlanSummary struct {
	Send    int `json:"send"`
	Retry   int `json:"retry"`
	Import  int `json:"import"`
	Wait    int `json:"wait"`
	Noop    int `json:"noop"`
	Drift   int `json:"drift"`
	Expire  int `json:"expire"`
	Unknown int `json:"unknown"`
	Orphan  int `json:"orphan"`
	// Skipped counts the occurrences of repeat messages the plan passes
	// over (PlanDocument.Skipped), for the summary line. It is not an
	// action, and not in the JSON summary, which holds exactly the
	// actions (CONTRACT §4): the skipped array says it.
	Skipped int `json:"-"`
}

// Count returns the number of changes with the given action.
func (s PlanSummary) Count(a planner.Action) int {
	if p := s.field(a); p != nil {
		return *p
	}
	return 0
}

func (s *PlanSummary) field(a planner.Action) *int {
	switch a {
	case planner.Send:
		return &s.Send
	case planner.Retry:
		return &s.Retry
	case planner.Import:
		return &s.Import
	case planner.Wait:
		return &s.Wait
	case planner.Noop:
		return &s.Noop
	case planner.Drift:
		return &s.Drift
	case planner.Expire:
		return &s.Expire
	case planner.Unknown:
		return &s.Unknown
	case planner.Orphan:
		return &s.Orphan
	}
	return nil
}

// Sends is the number of changes apply would make a request for.
func (s PlanSummary) Sends() int { return s.Send + s.Retry }

// PlanChange is one message instance of a plan.
//
// Content: a configured instance has exactly one of Text and Media. When it
// was built from a sensitive value, Sensitive is true and the text, or the
// media URL or caption built from it, read "(sensitive)": a media URL
// written plainly stays shown beside a sensitive caption, and the other
// way round. The media type stays, as it is one of four fixed words. An orphan has neither Text nor Media: state keeps
// only a hash of what was sent.
type PlanChange struct {
	Address  string `json:"address"`
	Action   string `json:"action"`
	Reason   string `json:"reason"`
	Group    string `json:"group"`
	ThreadID string `json:"thread_id"`
	Service  string `json:"service"`
	From     string `json:"from"`
	// Provider is the provider whose account sends the message: "a1base",
	// or "a1base.ALIAS" for an aliased one; AccountID is its account id
	// when known at plan time. Both are absent for an orphan.
	Provider  string    `json:"provider,omitempty"`
	AccountID string    `json:"account_id,omitempty"`
	SendAt    time.Time `json:"send_at"`
	// ExpiresAt is the last moment the message may be sent; absent for an
	// orphan, whose lateness limit is no longer configured.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Text      *string    `json:"text,omitempty"`
	Media     *PlanMedia `json:"media,omitempty"`
	Sensitive bool       `json:"sensitive"`
	// MovedFrom is the address state holds the message under, found
	// through a moved block.
	MovedFrom string `json:"moved_from,omitempty"`
	// LikelyRenameOf names an orphaned, already sent record with the same
	// content, group and send_at: sending this would repeat it.
	LikelyRenameOf string `json:"likely_rename_of,omitempty"`
	// Replace is true when -replace forced the send.
	Replace bool `json:"replace,omitempty"`
	// ImportID is an import's thread message id, when its block names one.
	ImportID string `json:"import_id,omitempty"`
	// WaitsFor names the unknown messages of its thread a due message
	// waits for, and WaitsUntil when the last of them settles: a thread
	// sends nothing more until its unknowns are settled.
	WaitsFor   []string   `json:"waits_for,omitempty"`
	WaitsUntil *time.Time `json:"waits_until,omitempty"`
	// Recorded is what state holds for the message, when it holds anything.
	Recorded *PlanRecorded `json:"recorded,omitempty"`
	// Repeat is set on an occurrence of a repeat message.
	Repeat *PlanRepeat `json:"repeat,omitempty"`
	// Settlement is set on a configured message whose last attempt's
	// outcome was unknown: how look-ups settle it and what they showed.
	Settlement *PlanSettlement `json:"settlement,omitempty"`
}

// PlanSettlement is where an unknown outcome stands: still to be settled
// by a look-up, or proven not delivered.
type PlanSettlement struct {
	// State is "unknown" (apply looks it up again) or "not_delivered"
	// (a settled look-up proved it absent).
	State state.Status `json:"state"`
	// OnUnknown and UnknownSettle are the policy in force.
	OnUnknown     string `json:"on_unknown"`
	UnknownSettle string `json:"unknown_settle"`
	// SettlesAt is the first moment a look-up can prove the absence.
	SettlesAt time.Time `json:"settles_at"`
	// Resend is true when apply sends it again: now (a not_delivered
	// message planned as a retry), or once a look-up proves it absent.
	Resend bool `json:"resend"`
	// LookUp is the last look-up's evidence: for not_delivered the proof,
	// for unknown why it settled nothing. Absent before the first.
	LookUp *state.LookUp `json:"look_up,omitempty"`
}

func newPlanSettlement(c *planner.Change) *PlanSettlement {
	r, in := c.Record, c.Instance
	if r == nil || in == nil {
		return nil
	}
	switch r.Status {
	case state.StatusUnknown, state.StatusSending, state.StatusNotDelivered:
	default:
		return nil
	}
	a := r.LastAttempt()
	if a == nil {
		return nil
	}
	st := &PlanSettlement{
		State:         state.StatusUnknown,
		OnUnknown:     in.Unknown.OnUnknown,
		UnknownSettle: in.Unknown.Settle.String(),
		SettlesAt:     planner.SettlesAt(in, a).UTC(),
		LookUp:        a.LookUp,
	}
	if r.Status == state.StatusNotDelivered {
		st.State = state.StatusNotDelivered
		st.Resend = c.Action == planner.Retry
	} else {
		st.Resend = in.Unknown.Resend() && c.Action == planner.Unknown
	}
	return st
}

// PlanMedia is a media message's attachment.
type PlanMedia struct {
	URL     string `json:"url"`
	Type    string `json:"type"`
	Caption string `json:"caption"`
}

// PlanRecorded is the part of a state record a reader of the plan needs to
// understand a retry, a drift or an unknown.
type PlanRecorded struct {
	Status    string    `json:"status"`
	Group     string    `json:"group"`
	ThreadID  string    `json:"thread_id"`
	Service   string    `json:"service"`
	From      string    `json:"from"`
	SendAt    time.Time `json:"send_at"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
}

// ActionOf reads the change's action; ok is false for a name the planner
// does not know (a document from a newer herald).
func (c *PlanChange) ActionOf() (planner.Action, bool) { return planner.ParseAction(c.Action) }

// NewPlanDocument builds the document for a plan. Changes are ordered by
// send_at, then address; an orphan is placed by the send_at of its record.
func NewPlanDocument(p *planner.Plan) *PlanDocument {
	doc := &PlanDocument{
		FormatVersion: JSONPlanFormatVersion,
		At:            p.At.UTC(),
		Changes:       make([]PlanChange, 0, len(p.Changes)),
		Excluded:      p.Excluded,
		Checks:        newPlanChecks(p.Checks),
	}
	for _, c := range p.Changes {
		if c == nil {
			continue
		}
		doc.Changes = append(doc.Changes, newPlanChange(c))
		if f := doc.Summary.field(c.Action); f != nil {
			*f++
		}
	}
	for _, k := range p.Skipped {
		doc.Skipped = append(doc.Skipped, newPlanSkipped(k))
		doc.Summary.Skipped += k.Count
	}
	sort.SliceStable(doc.Changes, func(i, j int) bool {
		a, b := &doc.Changes[i], &doc.Changes[j]
		if !a.SendAt.Equal(b.SendAt) {
			return a.SendAt.Before(b.SendAt)
		}
		return a.Address < b.Address
	})
	return doc
}

func newPlanChange(c *planner.Change) PlanChange {
	pc := PlanChange{
		Address:  c.Addr.String(),
		Action:   c.Action.String(),
		Reason:   c.Reason,
		Replace:  c.Replace,
		ImportID: c.ImportID,
	}
	if c.MovedFrom != nil {
		pc.MovedFrom = c.MovedFrom.String()
	}
	if c.LikelyRenameOf != nil {
		pc.LikelyRenameOf = c.LikelyRenameOf.String()
	}
	if w := c.Waits; w != nil {
		for _, a := range w.For {
			pc.WaitsFor = append(pc.WaitsFor, a.String())
		}
		until := w.Until.UTC()
		pc.WaitsUntil = &until
	}
	pc.Settlement = newPlanSettlement(c)
	if r := c.Record; r != nil {
		pc.Recorded = newPlanRecorded(r)
		// An orphan is described by its record alone; a configured
		// instance overrides these below.
		pc.Group, pc.ThreadID, pc.Service, pc.From = r.Group, r.ThreadID, r.Service, r.From
		pc.SendAt = r.SendAt.UTC()
	}
	if in := c.Instance; in != nil {
		if in.Group != nil {
			pc.Group = in.Group.Name
			pc.Provider = in.Group.Provider.Name()
			if in.Group.Provider != nil {
				pc.AccountID = in.Group.Provider.AccountID
			}
		}
		pc.ThreadID, pc.Service, pc.From = in.ThreadID, in.Service, in.From
		pc.SendAt = in.SendAt.UTC()
		exp := in.ExpiresAt().UTC()
		pc.ExpiresAt = &exp
		pc.Sensitive = in.Sensitive
		if in.Repeat != nil {
			pc.Repeat = newPlanRepeat(in.Repeat, in.SendAt)
		}
		switch {
		case in.Media != nil:
			// Of a sensitive media message, only the parts built from a
			// sensitive value are hidden.
			pc.Media = &PlanMedia{URL: in.Media.URL, Type: in.Media.Type, Caption: in.Media.Caption}
			if in.Sensitive && !in.Media.PlainURL {
				pc.Media.URL = Sensitive
			}
			if in.Sensitive && !in.Media.PlainCaption {
				pc.Media.Caption = Sensitive
			}
		case in.Sensitive:
			s := Sensitive
			pc.Text = &s
		default:
			s := in.Text
			pc.Text = &s
		}
	}
	return pc
}

func newPlanRecorded(r *state.Record) *PlanRecorded {
	return &PlanRecorded{
		Status:    string(r.Status),
		Group:     r.Group,
		ThreadID:  r.ThreadID,
		Service:   r.Service,
		From:      r.From,
		SendAt:    r.SendAt.UTC(),
		Attempts:  len(r.Attempts),
		LastError: r.LastError,
	}
}
