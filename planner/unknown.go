package planner

import (
	"fmt"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/shellquote"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// SettlesAt is the first moment a look-up of the attempt's thread can
// prove that the attempt was not delivered: unknown_settle after its end.
// Before it, a delivered message may not show in the thread yet.
func SettlesAt(inst *spec.Instance, a *state.Attempt) time.Time {
	return a.End().Add(inst.Unknown.Settle)
}

// decideUnknown plans an instance whose last attempt's outcome is
// unknown: never sent by itself; apply looks it up until it is settled.
// The reason says what the last look-up showed and what the next one can
// prove.
func decideUnknown(inst *spec.Instance, rec *state.Record, at time.Time, base string) (Action, string) {
	parts := []string{base}
	a := rec.LastAttempt()
	if a == nil || !inst.Recognisable() {
		// Nothing to look for: only a person can tell.
		return Unknown, base + "; -replace to resend"
	}
	if lu := a.LookUp; lu != nil && lu.Unsettled != "" {
		parts = append(parts, "last look-up "+DescribeLookUp(lu)+": "+lu.Unsettled)
	}
	if settles := SettlesAt(inst, a); at.Before(settles) {
		parts = append(parts, "apply looks it up; an absence proves nothing before "+stamp(settles)+" (unknown_settle "+window(inst.Unknown.Settle)+")")
	} else {
		parts = append(parts, "apply looks it up; settled (unknown_settle "+window(inst.Unknown.Settle)+" passed), an absence there is proof")
	}
	if inst.Unknown.Resend() {
		parts = append(parts, "on_unknown = resend: sent again once its absence is proven, until "+stamp(inst.ExpiresAt()))
	} else {
		parts = append(parts, "on_unknown = hold: -replace to resend")
	}
	return Unknown, strings.Join(parts, "; ")
}

// decideNotDelivered plans an instance a settled look-up proved was not
// delivered. Under on_unknown = "resend" it is a retry while its window
// lasts; under "hold" it stays unknown, with the evidence and what a
// person should check before -replace.
func decideNotDelivered(inst *spec.Instance, rec *state.Record, at time.Time) (Action, string) {
	a := rec.LastAttempt()
	evidence := "not delivered, proven by look-up"
	if a != nil && a.LookUp != nil {
		evidence += " " + DescribeLookUp(a.LookUp)
		if a.LookUp.Covered != "" {
			evidence += " (" + a.LookUp.Covered + ")"
		}
	}
	if !inst.Unknown.Resend() {
		check := ""
		if a != nil {
			when := "from " + stamp(a.StartedAt.Add(-2*time.Minute)) + " on"
			if a.FinishedAt != nil {
				when = "between " + stamp(a.StartedAt.Add(-2*time.Minute)) + " and " + stamp(a.FinishedAt.Add(2*time.Minute))
			}
			what := fmt.Sprintf("%q", clip(inst.Content()))
			if inst.Sensitive {
				what = "message"
			}
			check = fmt.Sprintf("; on_unknown = hold: check that thread %q shows no %s from %s %s, then %s sends it",
				inst.ThreadID, what, inst.From, when, shellquote.Flag("replace", inst.Addr.String()))
		}
		return Unknown, evidence + check
	}
	switch {
	case inst.SendAt.After(at):
		return Wait, "sends in " + ago(inst.SendAt.Sub(at)) + " (" + evidence + ")"
	case at.After(inst.ExpiresAt()):
		return Expire, evidence + "; " + pastWindow(inst, at)
	default:
		return Retry, evidence + "; on_unknown = resend: sent again within window (" + ago(inst.ExpiresAt().Sub(at)) + " left)"
	}
}

// DescribeLookUp says what a look-up read: when, how many messages, and
// the span of their times.
func DescribeLookUp(lu *state.LookUp) string {
	s := fmt.Sprintf("at %s read %d %s", stamp(lu.At), lu.Messages, map[bool]string{true: "message", false: "messages"}[lu.Messages == 1])
	if lu.Oldest != nil && lu.Newest != nil {
		s += " dated " + stamp(*lu.Oldest) + " to " + stamp(*lu.Newest)
	}
	if lu.Inbox > 0 {
		s += fmt.Sprintf(", and %d more of the account's from the webhook's inbox", lu.Inbox)
	}
	return s
}

// clip shortens a text for a reason line.
func clip(s string) string {
	const max = 40
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max]) + "…"
}
