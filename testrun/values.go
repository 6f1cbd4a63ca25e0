package testrun

import (
	"fmt"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
)

// What an assert sees of the plan. Change objects are the objects a
// precondition sees as self (spec.InstanceObjectAttributes) with the
// plan's action and reason added.

// ChangeAttributes are the attributes a change object adds to an
// instance's.
var ChangeAttributes = [][2]string{
	{"action", "what the plan does with it: send, wait, expire, ..."},
	{"reason", "why, in words"},
}

func changeObject(c *planner.Change) cty.Value {
	attrs := spec.InstanceValue(c.Instance).AsValueMap()
	attrs["action"] = cty.StringVal(c.Action.String())
	attrs["reason"] = cty.StringVal(c.Reason)
	return cty.ObjectVal(attrs)
}

var checkResultType = cty.Object(map[string]cty.Type{
	"address":       cty.String,
	"kind":          cty.String,
	"severity":      cty.String,
	"status":        cty.String,
	"error_message": cty.String,
})

// planObject is plan: at, summary (a count per action), changes (every
// configured instance's change, in plan order), checks, and skipped (the
// occurrences of repeat messages it passes over).
func planObject(p *planner.Plan) cty.Value {
	summary := map[string]cty.Value{}
	for a, n := range p.Summary() {
		summary[a.String()] = cty.NumberIntVal(int64(n))
	}
	var changes []cty.Value
	for _, c := range p.Changes {
		if c.Instance != nil {
			changes = append(changes, changeObject(c))
		}
	}
	changeList := cty.ListValEmpty(changeType())
	if len(changes) > 0 {
		changeList = cty.ListVal(changes)
	}
	var checks []cty.Value
	for _, r := range p.Checks {
		checks = append(checks, checkResultObject(r))
	}
	checkList := cty.ListValEmpty(checkResultType)
	if len(checks) > 0 {
		checkList = cty.ListVal(checks)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"at":      cty.StringVal(p.At.UTC().Format(time.RFC3339)),
		"summary": cty.ObjectVal(summary),
		"changes": changeList,
		"checks":  checkList,
		"skipped": cty.NumberIntVal(int64(p.SkippedCount())),
	})
}

func checkResultObject(r *spec.CheckResult) cty.Value {
	status := "pass"
	if r.Failed() {
		status = "fail"
	}
	return cty.ObjectVal(map[string]cty.Value{
		"address":       cty.StringVal(r.Addr),
		"kind":          cty.StringVal(r.Kind),
		"severity":      cty.StringVal(string(r.Severity)),
		"status":        cty.StringVal(status),
		"error_message": cty.StringVal(r.Message),
	})
}

// changeType is the type of changeObject's values.
func changeType() cty.Type {
	attrs := spec.InstanceType().AttributeTypes()
	out := make(map[string]cty.Type, len(attrs)+2)
	for k, v := range attrs {
		out[k] = v
	}
	out["action"], out["reason"] = cty.String, cty.String
	return cty.Object(out)
}

// messageObject is message: by root-module message name, the change of an
// instance without key, or a map of the changes by key (for_each keys,
// or the occurrences a plan considers of a repeat message).
func messageObject(p *planner.Plan) cty.Value {
	type entry struct {
		keyed  bool
		single cty.Value
		byKey  map[string]cty.Value
	}
	byName := map[string]*entry{}
	var order []string
	for _, c := range p.Changes {
		if c.Instance == nil || len(c.Addr.Module) > 0 {
			continue
		}
		e := byName[c.Addr.Name]
		if e == nil {
			e = &entry{byKey: map[string]cty.Value{}}
			byName[c.Addr.Name] = e
			order = append(order, c.Addr.Name)
		}
		if c.Addr.HasKey {
			e.keyed = true
			e.byKey[c.Addr.Key] = changeObject(c)
		} else {
			e.single = changeObject(c)
		}
	}
	attrs := make(map[string]cty.Value, len(order))
	for _, name := range order {
		e := byName[name]
		if e.keyed {
			attrs[name] = cty.MapVal(e.byKey)
		} else {
			attrs[name] = e.single
		}
	}
	return cty.ObjectVal(attrs)
}

// checkObject is check: by root-module check name, its status ("pass"
// when every assert held), severity and the error messages of the asserts
// that failed.
func checkObject(p *planner.Plan) cty.Value {
	type entry struct {
		severity string
		msgs     []cty.Value
	}
	byName := map[string]*entry{}
	for _, r := range p.Checks {
		if r.Kind != spec.CheckKindCheck {
			continue
		}
		name, root := strings.CutPrefix(r.Addr, "check.")
		if !root {
			continue // a module's check
		}
		e := byName[name]
		if e == nil {
			e = &entry{severity: string(r.Severity)}
			byName[name] = e
		}
		if r.Failed() {
			e.msgs = append(e.msgs, cty.StringVal(r.Message))
		}
	}
	attrs := map[string]cty.Value{}
	for name, e := range byName {
		status, msgs := "pass", cty.ListValEmpty(cty.String)
		if len(e.msgs) > 0 {
			status, msgs = "fail", cty.ListVal(e.msgs)
		}
		attrs[name] = cty.ObjectVal(map[string]cty.Value{
			"status":         cty.StringVal(status),
			"severity":       cty.StringVal(e.severity),
			"error_messages": msgs,
		})
	}
	return cty.ObjectVal(attrs)
}

// maxOccurrences bounds what occurrences lists.
const maxOccurrences = 10000

// withOccurrences adds occurrences(NAME, FROM, TO) to funcs: the
// occurrences of the root module's repeat message NAME at or after FROM
// and before TO (RFC 3339), as RFC 3339 times in the rule's zone. A plan
// lists two occurrences of a repeat; this is how a test counts the rest.
func withOccurrences(funcs map[string]function.Function, cfg *spec.Config) map[string]function.Function {
	out := make(map[string]function.Function, len(funcs)+1)
	for k, v := range funcs {
		out[k] = v
	}
	out["occurrences"] = function.New(&function.Spec{
		Params: []function.Parameter{
			{Name: "message", Type: cty.String},
			{Name: "from", Type: cty.String},
			{Name: "to", Type: cty.String},
		},
		Type: function.StaticReturnType(cty.List(cty.String)),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			r := cfg.Repeats[name]
			if r == nil {
				return cty.NilVal, function.NewArgErrorf(0, "%q is not a repeat message of the root module", name)
			}
			var bounds [2]time.Time
			for i := range bounds {
				t, err := time.Parse(time.RFC3339, args[i+1].AsString())
				if err != nil {
					return cty.NilVal, function.NewArgErrorf(i+1, "not an RFC 3339 time with an offset: %s", err)
				}
				bounds[i] = t
			}
			occs := r.Occurrences(bounds[0], bounds[1], maxOccurrences+1)
			if len(occs) > maxOccurrences {
				return cty.NilVal, fmt.Errorf("more than %d occurrences between %s and %s: narrow the span", maxOccurrences, args[1].AsString(), args[2].AsString())
			}
			if len(occs) == 0 {
				return cty.ListValEmpty(cty.String), nil
			}
			vals := make([]cty.Value, len(occs))
			for i, t := range occs {
				vals[i] = cty.StringVal(t.In(r.Timezone).Format(time.RFC3339))
			}
			return cty.ListVal(vals), nil
		},
	})
	return out
}
