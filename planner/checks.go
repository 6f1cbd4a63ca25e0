package planner

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/heraldhq/herald/spec"
)

// checksOf gathers what a plan reports of the configuration's conditions:
// every check block's asserts, and the preconditions of the instances the
// plan may still send (to send, to retry, waiting). A precondition of a
// message already sent, expired or unknown checks nothing herald will do.
func checksOf(cfg *spec.Config, changes []*Change) []*spec.CheckResult {
	var out []*spec.CheckResult
	dir := ""
	if cfg != nil {
		dir = cfg.Dir
	}
	add := func(r *spec.CheckResult) {
		c := *r
		c.Range.Filename = relativeTo(dir, r.Range.Filename)
		out = append(out, &c)
	}
	for _, c := range changes {
		if c.Instance == nil || len(c.Instance.Preconditions) == 0 {
			continue
		}
		switch c.Action {
		case Send, Retry, Wait:
			for _, r := range c.Instance.Preconditions {
				add(r)
			}
		}
	}
	if cfg != nil {
		for _, r := range cfg.Checks {
			add(r)
		}
	}
	return out
}

// relativeTo names a file under dir relative to it, so that a plan (and a
// saved plan) names files as the user sees them in the working directory.
func relativeTo(dir, name string) string {
	if dir == "" || !filepath.IsAbs(name) {
		if rel, err := filepath.Rel(dir, name); err == nil && dir != "" && !strings.HasPrefix(rel, "..") {
			return rel
		}
		return name
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return name
	}
	rel, err := filepath.Rel(absDir, name)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return name
	}
	return rel
}

// FailedChecks lists the conditions that failed, errors first.
func (p *Plan) FailedChecks() []*spec.CheckResult {
	var errs, warns []*spec.CheckResult
	for _, r := range p.Checks {
		switch {
		case r.Passed:
		case r.Severity == spec.SeverityError:
			errs = append(errs, r)
		default:
			warns = append(warns, r)
		}
	}
	return append(errs, warns...)
}

// CheckErrors lists the failed conditions of severity error: while there
// is one, apply sends nothing and plan exits 1.
func (p *Plan) CheckErrors() []*spec.CheckResult {
	var out []*spec.CheckResult
	for _, r := range p.Checks {
		if !r.Passed && r.Severity == spec.SeverityError {
			out = append(out, r)
		}
	}
	return out
}

// ChecksFailedError stops a pass whose plan has failed error-level
// conditions, before anything is sent or recorded.
type ChecksFailedError struct {
	Failed []*spec.CheckResult
}

func (e *ChecksFailedError) Error() string { return e.Summary() + "; nothing was sent" }

// Summary is "2 checks failed with severity error".
func (e *ChecksFailedError) Summary() string {
	noun := "checks"
	if len(e.Failed) == 1 {
		noun = "check"
	}
	return fmt.Sprintf("%d %s failed with severity error", len(e.Failed), noun)
}

// SavedCheck is a condition's result as a plan file keeps it.
type SavedCheck struct {
	Address      string `json:"address"`
	Kind         string `json:"kind"`
	Index        int    `json:"index"`
	Severity     string `json:"severity"`
	Passed       bool   `json:"passed"`
	ErrorMessage string `json:"error_message,omitempty"`
	Filename     string `json:"filename"`
	Line         int    `json:"line"`
	Column       int    `json:"column"`
}

func saveCheck(r *spec.CheckResult) SavedCheck {
	return SavedCheck{
		Address:      r.Addr,
		Kind:         r.Kind,
		Index:        r.Index,
		Severity:     string(r.Severity),
		Passed:       r.Passed,
		ErrorMessage: r.Message,
		Filename:     r.Range.Filename,
		Line:         r.Range.Start.Line,
		Column:       r.Range.Start.Column,
	}
}

func (sc SavedCheck) decode() (*spec.CheckResult, error) {
	sev := spec.CheckSeverity(sc.Severity)
	if sev != spec.SeverityError && sev != spec.SeverityWarning {
		return nil, fmt.Errorf("severity %q is neither error nor warning", sc.Severity)
	}
	if sc.Kind != spec.CheckKindCheck && sc.Kind != spec.CheckKindPrecondition {
		return nil, fmt.Errorf("kind %q is neither check nor precondition", sc.Kind)
	}
	if sc.Address == "" || sc.Index < 0 || sc.Line < 0 || sc.Column < 0 {
		return nil, fmt.Errorf("a check result without address or position")
	}
	pos := hcl.Pos{Line: sc.Line, Column: sc.Column}
	return &spec.CheckResult{
		Addr:     sc.Address,
		Kind:     sc.Kind,
		Index:    sc.Index,
		Severity: sev,
		Passed:   sc.Passed,
		Message:  sc.ErrorMessage,
		Range:    hcl.Range{Filename: sc.Filename, Start: pos, End: pos},
	}, nil
}
