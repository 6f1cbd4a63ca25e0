package views

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/state"
)

// StateFormatVersion is the format_version of `show -json` without a plan
// file.
const StateFormatVersion = "1"

// StateDocument is the state as `herald show` renders it: records ordered
// by address.
type StateDocument struct {
	FormatVersion string          `json:"format_version"`
	Where         string          `json:"state"`
	Lineage       string          `json:"lineage"`
	Serial        uint64          `json:"serial"`
	Records       []*state.Record `json:"records"`
}

// NewStateDocument orders snap's records by address. where names the state
// (a path, or a database).
func NewStateDocument(where string, snap *state.Snapshot) *StateDocument {
	doc := &StateDocument{FormatVersion: StateFormatVersion, Where: where, Records: []*state.Record{}}
	if snap == nil {
		return doc
	}
	doc.Lineage, doc.Serial = snap.Lineage, snap.Serial
	for key, r := range snap.Records {
		if r == nil {
			continue
		}
		if r.Address == "" {
			c := *r
			c.Address = key
			r = &c
		}
		doc.Records = append(doc.Records, r)
	}
	sort.Slice(doc.Records, func(i, j int) bool { return doc.Records[i].Address < doc.Records[j].Address })
	return doc
}

// Show is the view of `herald show`: a saved plan, or the state.
type Show interface {
	Plan
	State(doc *StateDocument) error
}

// NewShow returns the show view; markdown applies to plans only, a state
// is then rendered in the human form.
func NewShow(format PlanFormat, v *View) Show {
	return &show{plan: NewPlan(format, v), view: v, json: format == PlanJSONFormat}
}

type show struct {
	plan Plan
	view *View
	json bool
}

func (s *show) Plan(doc *PlanDocument, next PlanNext) error { return s.plan.Plan(doc, next) }

func (s *show) State(doc *StateDocument) error {
	if s.json {
		return writeJSON(s.view.Stdout, doc)
	}
	_, err := io.WriteString(s.view.Stdout, RenderStateHuman(doc, s.view.StdoutColor))
	return err
}

// RenderStateHuman lists the state: where it is, its lineage and serial,
// and one line per record.
func RenderStateHuman(doc *StateDocument, color bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", Paint(color, "State:", Bold), doc.Where)
	if doc.Lineage == "" && len(doc.Records) == 0 {
		b.WriteString("The state is empty: nothing has been sent yet.\n")
		return b.String()
	}
	fmt.Fprintf(&b, "Lineage: %s\nSerial:  %d\n", doc.Lineage, doc.Serial)
	if len(doc.Records) == 0 {
		b.WriteString("\nNo messages recorded.\n")
		return b.String()
	}
	b.WriteByte('\n')
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	// No colour inside the table: escape codes would skew tabwriter's widths.
	fmt.Fprintln(tw, "ADDRESS\tSTATUS\tSEND_AT\tLAST ERROR")
	for _, r := range doc.Records {
		status := string(r.Status)
		if r.Imported != "" {
			status += " (imported)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", printable(r.Address), status,
			r.SendAt.UTC().Format(time.RFC3339), oneLine(r.LastError))
	}
	tw.Flush()
	// An empty last column leaves padding behind; drop it.
	for _, line := range strings.SplitAfter(table.String(), "\n") {
		if line != "" {
			b.WriteString(strings.TrimRight(line, " \n") + "\n")
		}
	}
	fmt.Fprintf(&b, "\n%s recorded.\n", countOf(len(doc.Records), "message", "messages"))
	return b.String()
}

var statusStyles = map[state.Status][]Style{
	state.StatusSent:    {Green},
	state.StatusFailed:  {Red},
	state.StatusExpired: {Dim},
	state.StatusUnknown: {Yellow},
	state.StatusSending: {Yellow},
	// Proven absent: nothing reached the group, but nothing was sent
	// again either (unless on_unknown = "resend" does).
	state.StatusNotDelivered: {Yellow},
}

// State is the view of `herald state list|show|rm`.
type State interface {
	// List prints the records' addresses, one per line. With mark (on a
	// terminal), an imported record's address is followed by
	// "(imported)", or "(imported without evidence)" for a forced import;
	// without it the lines are the bare addresses, for scripts.
	List(records []*state.Record, mark bool)
	Record(r *state.Record)
	Removed(address string)
	RemovedAll(n int, where string)
	// SandboxHint says, on stderr so that the list on stdout stays
	// clean, that the state is empty but apply -sandbox recorded n
	// messages in path.
	SandboxHint(path string, n int)
	// Pulled writes the state as a local state file holds it, byte for
	// byte: data for another program or file, not prose.
	Pulled(snap *state.Snapshot) error
}

// NewState returns the state command's view.
func NewState(v *View) State { return &stateHuman{view: v} }

type stateHuman struct{ view *View }

func (s *stateHuman) Pulled(snap *state.Snapshot) error { return state.Encode(s.view.Stdout, snap) }

func (s *stateHuman) List(records []*state.Record, mark bool) {
	for _, r := range records {
		line := printable(r.Address)
		if mark {
			switch r.Imported {
			case state.ImportedFound:
				line += "  " + Paint(s.view.StdoutColor, "(imported)", Cyan)
			case state.ImportedForced:
				line += "  " + Paint(s.view.StdoutColor, "(imported without evidence)", Yellow)
			}
		}
		fmt.Fprintln(s.view.Stdout, line)
	}
}

func (s *stateHuman) Record(r *state.Record) {
	io.WriteString(s.view.Stdout, RenderRecord(r, s.view.StdoutColor))
}

func (s *stateHuman) Removed(address string) {
	fmt.Fprintf(s.view.Stdout, "Removed %s\n", printable(address))
}

func (s *stateHuman) RemovedAll(n int, where string) {
	fmt.Fprintf(s.view.Stdout, "Removed %s from %s.\n", countOf(n, "message", "messages"), where)
}

// RenderRecord shows one record in detail: where it goes, its status,
// every attempt with its times and outcome, the API's answer and the last
// error.
func RenderRecord(r *state.Record, color bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", Paint(color, printable(r.Address), Bold))
	field := func(name, value string) { fmt.Fprintf(&b, "  %-13s %s\n", name, value) }
	field("status", Paint(color, string(r.Status), statusStyles[r.Status]...))
	switch r.Imported {
	case state.ImportedFound:
		field("imported", "yes, found in the thread's recent messages (never sent by herald)")
	case state.ImportedForced:
		field("imported", "yes, without evidence (-force; never sent by herald)")
	}
	field("group", fmt.Sprintf("%q (%s, thread %q)", r.Group, r.Service, r.ThreadID))
	field("from", r.From)
	field("send_at", r.SendAt.UTC().Format(time.RFC3339))
	field("content_hash", r.ContentHash)
	if !r.UpdatedAt.IsZero() {
		field("updated_at", r.UpdatedAt.UTC().Format(time.RFC3339))
	}
	if r.LastError != "" {
		field("last_error", oneLine(r.LastError))
	}
	if len(r.Attempts) == 0 {
		field("attempts", "none")
	} else {
		field("attempts", fmt.Sprint(len(r.Attempts)))
		for _, a := range r.Attempts {
			line := fmt.Sprintf("    #%d started %s", a.Number, a.StartedAt.UTC().Format(time.RFC3339Nano))
			if a.FinishedAt != nil {
				line += ", finished " + a.FinishedAt.UTC().Format(time.RFC3339Nano)
			}
			outcome := a.Outcome
			if outcome == "" {
				outcome = "no outcome recorded"
			}
			line += ": " + outcome
			if a.Error != "" {
				line += " (" + oneLine(a.Error) + ")"
			}
			b.WriteString(line + "\n")
			if lu := a.LookUp; lu != nil {
				b.WriteString("       look-up " + planner.DescribeLookUp(lu) + "\n")
				if lu.Covered != "" {
					b.WriteString("         covers the attempt: " + oneLine(lu.Covered) + "\n")
				}
				if lu.Unsettled != "" {
					b.WriteString("         settled nothing: " + oneLine(lu.Unsettled) + "\n")
				}
			}
		}
	}
	if ans := r.Answer; ans != nil {
		b.WriteString("  answer\n")
		sub := func(name, value string) {
			if value != "" {
				fmt.Fprintf(&b, "    %-13s %s\n", name, oneLine(value))
			}
		}
		sub("chat_group_id", ans.ChatGroupID)
		sub("message_id", ans.MessageID)
		sub("from", ans.From)
		sub("status", ans.Status)
		sub("date_created", ans.DateCreated)
		sub("body", ans.Body)
	}
	return b.String()
}

// oneLine keeps a table row or field on one line.
func oneLine(s string) string {
	return printable(strings.Join(strings.Fields(s), " "))
}

func (s *stateHuman) SandboxHint(path string, n int) {
	fmt.Fprintf(s.view.Stderr, "%s the state is empty, but %s holds %s recorded by \"herald apply -sandbox\": run \"herald state list -sandbox\" to list them.\n",
		s.view.Err("Note:", Bold), path, countOf(n, "message", "messages"))
}
