package spec

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// What apply does with a message whose last attempt's outcome was unknown
// once a settled look-up of its thread proved it was not delivered.
const (
	// OnUnknownHold records the evidence and sends nothing: a person
	// decides, with -replace.
	OnUnknownHold = "hold"
	// OnUnknownResend sends it again, while it is still within its
	// expires_after.
	OnUnknownResend = "resend"
)

var onUnknownValues = []string{OnUnknownHold, OnUnknownResend}

// DefaultOnUnknown keeps the at-most-once promise free of any assumption
// about the API (see docs/guarantees.md).
const DefaultOnUnknown = OnUnknownHold

// DefaultUnknownSettle is how long after an unknown attempt a look-up of
// its thread must wait before an absence counts as proof: it covers the
// clock skew a look-up allows (2 minutes), a request's own time (at most
// 30 seconds) and more than two minutes of lag before a delivered message
// shows among the thread's recent messages.
const DefaultUnknownSettle = 5 * time.Minute

// MinUnknownSettle is the shortest unknown_settle herald accepts; a
// shorter one is an error. A look-up proves an absence only once every
// request the attempt may have made has reached A1Base, as the look-up's
// clock sees it: herald writes a request at most executor.SendBound (10
// seconds) after its attempt was journaled, never later, and the request
// may take up to its timeout (30 seconds) to connect and be written; the
// clock that stamped the attempt (another replica's, perhaps) may
// disagree with the look-up's by up to executor.ClockSkew (2 minutes).
// The floor covers those 2 minutes 40 seconds with a margin for the
// delivery to show in the thread.
const MinUnknownSettle = 3 * time.Minute

// UnknownPolicy is how unknown outcomes are settled for a scope: the
// provider, a group (which inherits the provider's) or a message instance
// (which inherits its group's).
type UnknownPolicy struct {
	// OnUnknown is OnUnknownHold or OnUnknownResend.
	OnUnknown string
	// Settle is unknown_settle.
	Settle time.Duration
}

// DefaultUnknownPolicy applies where nothing sets on_unknown or
// unknown_settle.
var DefaultUnknownPolicy = UnknownPolicy{OnUnknown: DefaultOnUnknown, Settle: DefaultUnknownSettle}

// Resend reports whether a proven absence is sent again.
func (p UnknownPolicy) Resend() bool { return p.OnUnknown == OnUnknownResend }

// evalUnknownPolicy evaluates on_unknown and unknown_settle over inherit.
// ok is false when either is set and invalid; fail reports the problem.
func (l *loader) evalUnknownPolicy(onUnknown, settle hcl.Expression, ctx *hcl.EvalContext, inherit UnknownPolicy, fail func(summary, text string, expr hcl.Expression)) (UnknownPolicy, bool, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	out, ok := inherit, true
	s, set, sensitive, sok, d := l.evalShownString(onUnknown, ctx, "on_unknown", "")
	diags = append(diags, d...)
	ok = ok && sok
	if set {
		if oneOf(s, onUnknownValues) {
			out.OnUnknown = s
		} else {
			fail("Invalid on_unknown", detail(fmt.Errorf("%q is not a policy: use %q (record the evidence, send nothing) or %q (send again once its absence is proven)", s, OnUnknownHold, OnUnknownResend), s, sensitive), onUnknown)
			ok = false
		}
	}
	s, set, sensitive, sok, d = l.evalShownString(settle, ctx, "unknown_settle", "")
	diags = append(diags, d...)
	ok = ok && sok
	if set {
		dur, err := parseExpiresAfter(s)
		if err != nil {
			fail("Invalid unknown_settle", detail(err, s, sensitive), settle)
			ok = false
		} else if dur < MinUnknownSettle {
			fail("Invalid unknown_settle", detail(fmt.Errorf("%s is shorter than the minimum of %s: a request may still be on its way to A1Base until %s after its attempt was recorded (the clock skew a look-up allows, the longest herald waits between recording an attempt and writing its request, and the request's own time), so an absence seen sooner proves nothing", s, MinUnknownSettle, MinUnknownSettle), s, sensitive), settle)
			ok = false
		} else {
			out.Settle = dur
		}
	}
	return out, ok, diags
}
