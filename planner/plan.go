package planner

import (
	"time"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// Action is what a plan does with one message instance (CONTRACT §4).
type Action int

const (
	Send Action = iota
	Wait
	Noop
	Drift
	Expire
	Retry
	Unknown
	Orphan
	// Import records a message as already sent without sending it, as an
	// import block asks; apply looks for it in its thread first.
	Import
)

// Actions lists every action in the order summaries print them.
var Actions = []Action{Send, Retry, Import, Wait, Noop, Drift, Expire, Unknown, Orphan}

func (a Action) String() string {
	switch a {
	case Send:
		return "send"
	case Wait:
		return "wait"
	case Noop:
		return "noop"
	case Drift:
		return "drift"
	case Expire:
		return "expire"
	case Retry:
		return "retry"
	case Unknown:
		return "unknown"
	case Orphan:
		return "orphan"
	case Import:
		return "import"
	}
	return "invalid"
}

// ParseAction reads an action's name.
func ParseAction(s string) (Action, bool) {
	for _, a := range Actions {
		if a.String() == s {
			return a, true
		}
	}
	return 0, false
}

// Sends reports whether apply makes a request for the action.
func (a Action) Sends() bool { return a == Send || a == Retry }

// Change is the plan for one message instance.
type Change struct {
	Addr   addrs.Message
	Action Action
	// Reason says in words why the action was chosen.
	Reason string
	// Instance is the configured instance; nil for an orphan.
	Instance *spec.Instance
	// Record is what state holds for the instance (found under Addr or
	// under a moved-from address); nil when state has nothing.
	Record *state.Record
	// MovedFrom is set when the record was found through a moved block.
	MovedFrom *addrs.Message
	// LikelyRenameOf names an orphaned record with the same content, group
	// and send_at as this never-sent instance: probably a rename without a
	// moved block, which would send the message a second time.
	LikelyRenameOf *addrs.Message
	// Replace is set when -replace forced a send.
	Replace bool
	// ImportID is the import block's id, for an import: the A1Base id of
	// the thread message that shows it was sent ("" to match by content).
	ImportID string
	// Waits says what a due message held in its thread waits for (see
	// hold.go); nil for any other change.
	Waits *ThreadWait
}

// ThreadWait is what holds a due message back: the unknown messages of
// its thread a look-up can still settle, and when the last of them
// settles.
type ThreadWait struct {
	For   []addrs.Message
	Until time.Time
}

// Plan is the planner's whole answer.
type Plan struct {
	At      time.Time
	Changes []*Change // ordered by send_at, then address; orphans last
	// Lineage and Serial identify the state the plan was made from.
	Lineage string
	Serial  uint64
	// ConfigHash identifies the configuration it was made from.
	ConfigHash string
	// Excluded counts the instances and orphaned records -exclude left
	// out of Changes (those -target had already left out not counted).
	Excluded int
	// Checks are the results of the check blocks' asserts and of the
	// preconditions of what the plan may still send (see checksOf).
	Checks []*spec.CheckResult
	// Skipped lists, per repeat message, the occurrences the plan passes
	// over (see Skipped), ordered by address; only messages the plan's
	// changes include (after -target and -exclude).
	Skipped []*Skipped

	// config is the configuration the plan was made from, for the keyed
	// hashes of its sensitive values in a saved plan (see Encode).
	config *spec.Config
}

// Options narrow or force a plan.
type Options struct {
	// Targets, when not empty, limit the plan to instances they select.
	Targets []addrs.Message
	// Exclude leaves out of the plan the instances it selects: with
	// Targets, the plan holds the targets minus the excluded.
	Exclude []addrs.Message
	// Replace makes the selected sent, unknown (or drifted) instances send
	// again.
	Replace []addrs.Message
}

// Summary counts the changes per action; every action is present.
func (p *Plan) Summary() map[Action]int {
	s := make(map[Action]int, len(Actions))
	for _, a := range Actions {
		s[a] = 0
	}
	for _, c := range p.Changes {
		s[c.Action]++
	}
	return s
}

// Unrecorded lists the configured messages that are due or overdue (to
// send or to expire) and that state holds no record of: the ones an
// earlier herald, or a person, may have sent already, and that
// "plan -generate-imports" looks for in their threads.
func (p *Plan) Unrecorded() []*Change {
	var out []*Change
	for _, c := range p.Changes {
		if c.Instance != nil && c.Record == nil && (c.Action == Send || c.Action == Expire) {
			out = append(out, c)
		}
	}
	return out
}
