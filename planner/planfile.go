package planner

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/internal/atomicfile"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// SavedPlanFormatVersion is the version of the file format of a plan saved
// with plan -out, which this herald writes and reads. It is not the
// format_version of the JSON plan document that show -json prints.
const SavedPlanFormatVersion = "1"

// planKind marks a file as a herald plan, so that handing apply some other
// JSON file (the state, say) is reported as such.
const planKind = "herald-plan"

// SavedPlan is a plan read back from a file written by WriteFile. Its
// exported fields are the file's contents; Plan, Check and Resolve are how
// the CLI uses it. Only ReadFile and Decode make a usable SavedPlan: they
// check the changes and keep them decoded for those methods.
type SavedPlan struct {
	FormatVersion string    `json:"format_version"`
	At            time.Time `json:"at"`
	Lineage       string    `json:"lineage"`
	Serial        uint64    `json:"serial"`
	ConfigHash    string    `json:"config_hash"`
	// PlanKeyID names the plan key that SensitiveHash and each instance's
	// SensitiveContentHash were made with (see PlanKeyID); absent when the
	// plan holds no sensitive value.
	PlanKeyID string `json:"plan_key_id,omitempty"`
	// SensitiveHash is the keyed hash of the sensitive variables' values.
	SensitiveHash string        `json:"sensitive_hash,omitempty"`
	Changes       []SavedChange `json:"changes"`
	// Excluded counts what -exclude left out of the plan, so that show
	// PLANFILE says so as plan did.
	Excluded int `json:"excluded,omitempty"`
	// Checks are the plan's condition results, so that show PLANFILE and
	// apply PLANFILE report the warnings plan showed. A plan with a failed
	// error-level condition is never saved.
	Checks []SavedCheck `json:"checks,omitempty"`

	// Skipped is the plan's skipped occurrences (Plan.Skipped), so that
	// show PLANFILE reports them as plan did.
	Skipped []SavedSkipped `json:"skipped,omitempty"`

	// changes are Changes decoded and checked by Decode; checks and
	// skipped likewise.
	changes []*Change
	checks  []*spec.CheckResult
	skipped []*Skipped
}

// SavedSkipped is a Skipped as written in a plan file.
type SavedSkipped struct {
	Address  string    `json:"address"`
	Count    int       `json:"count"`
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
	Timezone string    `json:"timezone"`
}

func (ss *SavedSkipped) decode() (*Skipped, error) {
	a, err := addrs.ParseMessage(ss.Address)
	if err != nil {
		return nil, err
	}
	if a.HasKey || a.Name == "" {
		return nil, fmt.Errorf("%s is not a message block", ss.Address)
	}
	if ss.Count < 1 || ss.Count > MaxSkipped {
		return nil, fmt.Errorf("a count of %d, expected 1 to %d", ss.Count, MaxSkipped)
	}
	if ss.First.IsZero() || ss.Last.Before(ss.First) {
		return nil, errors.New("first and last are out of order")
	}
	loc, err := time.LoadLocation(ss.Timezone)
	if err != nil || ss.Timezone == "" || ss.Timezone == "Local" {
		return nil, fmt.Errorf("unknown timezone %q", ss.Timezone)
	}
	return &Skipped{Addr: a, Count: ss.Count, First: ss.First, Last: ss.Last, Timezone: loc}, nil
}

// SavedChange is one change as written in a plan file.
type SavedChange struct {
	Address        string `json:"address"`
	Action         string `json:"action"`
	Reason         string `json:"reason"`
	Replace        bool   `json:"replace,omitempty"`
	MovedFrom      string `json:"moved_from,omitempty"`
	LikelyRenameOf string `json:"likely_rename_of,omitempty"`
	ImportID       string `json:"import_id,omitempty"`
	// WaitsFor and WaitsUntil say what a due message held in its thread
	// waits for (see Change).
	WaitsFor   []string   `json:"waits_for,omitempty"`
	WaitsUntil *time.Time `json:"waits_until,omitempty"`
	// Instance is absent for an orphan.
	Instance *SavedInstance `json:"instance,omitempty"`
	// Record is what state held for the instance, without the API's
	// answer (its body echoes the text).
	Record *state.Record `json:"record,omitempty"`
}

// SavedInstance is an instance as planned. A sensitive instance's text,
// and the media URL or caption built from a sensitive value, are withheld;
// its content hash leaves them out too, and SensitiveContentHash, keyed
// with the plan key, covers them.
type SavedInstance struct {
	ContentHash          string      `json:"content_hash"`
	SensitiveContentHash string      `json:"sensitive_content_hash,omitempty"`
	Group                string      `json:"group"`
	ThreadID             string      `json:"thread_id"`
	Service              string      `json:"service"`
	From                 string      `json:"from"`
	SendAt               time.Time   `json:"send_at"`
	ExpiresAt            time.Time   `json:"expires_at"`
	Sensitive            bool        `json:"sensitive,omitempty"`
	Text                 string      `json:"text,omitempty"`
	Media                *SavedMedia `json:"media,omitempty"`
	// Repeat describes an occurrence of a repeat message, so that show
	// PLANFILE can say which rule it belongs to.
	Repeat *SavedRepeat `json:"repeat,omitempty"`
	// GroupRateLimit and GroupTimezone are the group's, so that the
	// schedule of a saved plan flags what the plan's own did.
	GroupRateLimit string `json:"group_rate_limit,omitempty"`
	GroupTimezone  string `json:"group_timezone,omitempty"`
	// OnUnknown and UnknownSettle are the message's policy for unknown
	// outcomes; absent in plans of older versions (the defaults then).
	OnUnknown     string `json:"on_unknown,omitempty"`
	UnknownSettle string `json:"unknown_settle,omitempty"`
	// Provider is the alias of the group's provider (absent for the
	// default one) and AccountID its account id when known: apply refuses
	// the plan when the account that would send changed.
	Provider  string `json:"provider,omitempty"`
	AccountID string `json:"account_id,omitempty"`
}

// SavedRepeat is spec.RepeatInfo as written in a plan file.
type SavedRepeat struct {
	Rule      string     `json:"rule"`
	Cron      string     `json:"cron"`
	Timezone  string     `json:"timezone"`
	From      *time.Time `json:"from,omitempty"`
	Until     *time.Time `json:"until,omitempty"`
	Next      *time.Time `json:"next,omitempty"`
	Remaining int        `json:"remaining"`
	// Period is a Go duration ("168h0m0s"); absent when there is no next
	// occurrence.
	Period string `json:"period,omitempty"`
	// Occurrence is the occurrence as the rule has it (its key), when an
	// occurrence block sends it at another time.
	Occurrence *time.Time `json:"occurrence,omitempty"`
	Overridden bool       `json:"overridden,omitempty"`
	Interval   string     `json:"interval,omitempty"`
	Count      int        `json:"count,omitempty"`
	Last       *time.Time `json:"last,omitempty"`
	Except     []string   `json:"except,omitempty"`
}

// SavedMedia is an attachment; its URL and caption are empty when built
// from a sensitive value.
type SavedMedia struct {
	URL     string `json:"url,omitempty"`
	Type    string `json:"type"`
	Caption string `json:"caption,omitempty"`
	// PlainURL and PlainCaption mark, on a sensitive instance, the URL or
	// caption built from no sensitive value, which is then written (see
	// spec.Media.PlainURL).
	PlainURL     bool `json:"plain_url,omitempty"`
	PlainCaption bool `json:"plain_caption,omitempty"`
}

// wirePlan is the file's top level: the kind marker, then the plan.
type wirePlan struct {
	Kind string `json:"kind"`
	*SavedPlan
}

// ErrNoPlanKey is Encode's error for a plan with sensitive values and no
// plan key to hash them with.
var ErrNoPlanKey = errors.New("the plan holds sensitive values, and saving it needs a plan key")

// NeedsKey says whether saving p needs a plan key: it has a message built
// from a sensitive value, or its configuration has sensitive variables.
func (p *Plan) NeedsKey() bool {
	if p.config != nil && p.config.HasSensitiveVars() {
		return true
	}
	for _, c := range p.Changes {
		if c != nil && c.Instance != nil && c.Instance.Sensitive {
			return true
		}
	}
	return false
}

// PlanKeyID names a plan key without revealing it, so that apply can tell
// a plan made with another key from one whose values changed.
func PlanKeyID(key []byte) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("herald plan key id"))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Encode renders a plan in the saved-plan format. A plan with sensitive
// values (NeedsKey) keeps of them only HMAC-SHA256 hashes under key, which
// must then be set (ErrNoPlanKey otherwise); key itself is not written.
func Encode(p *Plan, key []byte) ([]byte, error) {
	sp := &SavedPlan{
		FormatVersion: SavedPlanFormatVersion,
		At:            p.At,
		Lineage:       p.Lineage,
		Serial:        p.Serial,
		ConfigHash:    p.ConfigHash,
		Changes:       make([]SavedChange, 0, len(p.Changes)),
		Excluded:      p.Excluded,
	}
	if errs := p.CheckErrors(); len(errs) > 0 {
		return nil, &ChecksFailedError{Failed: errs}
	}
	for _, r := range p.Checks {
		sp.Checks = append(sp.Checks, saveCheck(r))
	}
	if p.NeedsKey() {
		if len(key) == 0 {
			return nil, ErrNoPlanKey
		}
		sp.PlanKeyID = PlanKeyID(key)
		if p.config != nil {
			sp.SensitiveHash = p.config.SensitiveVarsHash(key)
		}
	}
	for _, c := range p.Changes {
		if c == nil {
			continue
		}
		sc := SavedChange{
			Address:  c.Addr.String(),
			Action:   c.Action.String(),
			Reason:   c.Reason,
			Replace:  c.Replace,
			ImportID: c.ImportID,
		}
		if c.MovedFrom != nil {
			sc.MovedFrom = c.MovedFrom.String()
		}
		if c.LikelyRenameOf != nil {
			sc.LikelyRenameOf = c.LikelyRenameOf.String()
		}
		if w := c.Waits; w != nil {
			for _, a := range w.For {
				sc.WaitsFor = append(sc.WaitsFor, a.String())
			}
			until := w.Until.UTC()
			sc.WaitsUntil = &until
		}
		switch {
		case c.Action == Orphan && c.Instance != nil:
			return nil, fmt.Errorf("cannot save the plan: orphan %s has a configured instance", sc.Address)
		case c.Action != Orphan && c.Instance == nil:
			return nil, fmt.Errorf("cannot save the plan: %s (%s) has no configured instance", sc.Address, sc.Action)
		case c.Action == Orphan && c.Record == nil:
			return nil, fmt.Errorf("cannot save the plan: orphan %s has no record", sc.Address)
		}
		if c.Instance != nil {
			sc.Instance = saveInstance(c.Instance)
			if c.Instance.Sensitive {
				sc.Instance.SensitiveContentHash = c.Instance.SensitiveContentHash(key)
			}
		}
		if c.Record != nil {
			r := *c.Record
			r.Answer = nil
			sc.Record = &r
		}
		sp.Changes = append(sp.Changes, sc)
	}
	for _, k := range p.Skipped {
		sp.Skipped = append(sp.Skipped, SavedSkipped{Address: k.Addr.String(), Count: k.Count, First: k.First.UTC(), Last: k.Last.UTC(), Timezone: k.Timezone.String()})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	// Texts are shown to people by show PLANFILE; keep <, > and & readable.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(wirePlan{Kind: planKind, SavedPlan: sp}); err != nil {
		return nil, fmt.Errorf("cannot save the plan: %w", err)
	}
	return buf.Bytes(), nil
}

func saveInstance(inst *spec.Instance) *SavedInstance {
	si := &SavedInstance{
		ContentHash: inst.ContentHash(),
		Group:       groupName(inst),
		ThreadID:    inst.ThreadID,
		Service:     inst.Service,
		From:        inst.From,
		SendAt:      inst.SendAt,
		ExpiresAt:   inst.ExpiresAt(),
		Sensitive:   inst.Sensitive,
		OnUnknown:   inst.Unknown.OnUnknown,
	}
	if inst.Unknown.Settle > 0 {
		si.UnknownSettle = inst.Unknown.Settle.String()
	}
	if g := inst.Group; g != nil {
		si.Provider = g.ProviderAlias()
		if g.Provider != nil {
			si.AccountID = g.Provider.AccountID
		}
		if g.RateLimit != nil {
			si.GroupRateLimit = g.RateLimit.Text
		}
		if g.Timezone != nil {
			si.GroupTimezone = g.Timezone.String()
		}
	}
	switch {
	case inst.Media != nil && inst.Sensitive:
		// Only the parts built from no sensitive value are written.
		si.Media = &SavedMedia{Type: inst.Media.Type}
		if inst.Media.PlainURL {
			si.Media.URL, si.Media.PlainURL = inst.Media.URL, true
		}
		if inst.Media.PlainCaption {
			si.Media.Caption, si.Media.PlainCaption = inst.Media.Caption, true
		}
	case inst.Media != nil:
		si.Media = &SavedMedia{URL: inst.Media.URL, Type: inst.Media.Type, Caption: inst.Media.Caption}
	case !inst.Sensitive:
		si.Text = inst.Text
	}
	if r := inst.Repeat; r != nil {
		si.Repeat = saveRepeat(r)
	}
	return si
}

func saveRepeat(r *spec.RepeatInfo) *SavedRepeat {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	sr := &SavedRepeat{Rule: r.Rule, Cron: r.Cron, Timezone: "UTC", From: opt(r.From), Until: opt(r.Until), Next: opt(r.Next), Remaining: r.Remaining,
		Overridden: r.Overridden, Interval: r.Interval, Count: r.Count, Last: opt(r.Last), Except: r.Except}
	if r.Overridden {
		sr.Occurrence = opt(r.Occurrence)
	}
	if r.Timezone != nil {
		sr.Timezone = r.Timezone.String()
	}
	if r.Period > 0 {
		sr.Period = r.Period.String()
	}
	return sr
}

// info rebuilds the repeat description of a saved occurrence.
func (sr *SavedRepeat) info() (*spec.RepeatInfo, error) {
	loc, err := time.LoadLocation(sr.Timezone)
	if err != nil || sr.Timezone == "" || sr.Timezone == "Local" {
		return nil, fmt.Errorf("repeat: unknown timezone %q", sr.Timezone)
	}
	ri := &spec.RepeatInfo{Rule: sr.Rule, Cron: sr.Cron, Timezone: loc, Remaining: sr.Remaining,
		Overridden: sr.Overridden, Interval: sr.Interval, Count: sr.Count, Except: sr.Except}
	for _, p := range []struct {
		dst *time.Time
		src *time.Time
	}{{&ri.From, sr.From}, {&ri.Until, sr.Until}, {&ri.Next, sr.Next}, {&ri.Occurrence, sr.Occurrence}, {&ri.Last, sr.Last}} {
		if p.src != nil {
			*p.dst = p.src.In(loc)
		}
	}
	if sr.Period != "" {
		if ri.Period, err = time.ParseDuration(sr.Period); err != nil || ri.Period <= 0 {
			return nil, fmt.Errorf("repeat: bad period %q", sr.Period)
		}
	}
	return ri, nil
}

// WriteFile saves a plan to path, readable by its owner only, hashing its
// sensitive values with key (see Encode). The file is written beside its
// final name and renamed into place, so a reader never sees half a plan.
func WriteFile(path string, p *Plan, key []byte) error {
	data, err := Encode(p, key)
	if err != nil {
		return err
	}
	// Saved plans hold hashes of sensitive values: owner only, whatever
	// the umask.
	if err := atomicfile.Write(path, data, atomicfile.Options{Perm: 0o600}); err != nil {
		return fmt.Errorf("cannot save the plan to %s: %w", path, err)
	}
	return nil
}

// ReadFile reads a plan saved by WriteFile.
func ReadFile(path string) (*SavedPlan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the plan file: %w", err)
	}
	sp, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sp, nil
}

// Decode reads a saved plan from its bytes and checks that it is whole and
// consistent: every address readable, every action known, every content
// hash matching the content it was saved with.
func Decode(data []byte) (*SavedPlan, error) {
	var w wirePlan
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&w); err != nil {
		return nil, damaged("%v", err)
	}
	if dec.More() {
		return nil, damaged("unexpected data after the plan")
	}
	if w.Kind != planKind {
		return nil, errors.New("not a herald plan file (made by herald plan -out=FILE)")
	}
	sp := w.SavedPlan
	if sp == nil {
		return nil, damaged("no plan in the file")
	}
	if sp.FormatVersion != SavedPlanFormatVersion {
		return nil, fmt.Errorf("plan file format version %q is not supported (this herald reads version %s); run herald plan again", sp.FormatVersion, SavedPlanFormatVersion)
	}
	if sp.At.IsZero() {
		return nil, damaged("the plan has no time")
	}
	if sp.Excluded < 0 {
		return nil, damaged("a negative count of excluded messages")
	}
	sp.checks = make([]*spec.CheckResult, 0, len(sp.Checks))
	for i, sc := range sp.Checks {
		r, err := sc.decode()
		if err != nil {
			return nil, damaged("check %d (%s): %v", i+1, sc.Address, err)
		}
		if r.Failed() && r.Severity == spec.SeverityError {
			return nil, damaged("check %d (%s) failed with severity error, which no plan file holds", i+1, sc.Address)
		}
		sp.checks = append(sp.checks, r)
	}
	seen := make(map[string]bool, len(sp.Changes))
	sp.changes = make([]*Change, 0, len(sp.Changes))
	for i := range sp.Changes {
		sc := &sp.Changes[i]
		c, err := sc.decode()
		if err != nil {
			return nil, damaged("change %d (%s): %v", i+1, sc.Address, err)
		}
		if seen[sc.Address] {
			return nil, damaged("%s is planned twice", sc.Address)
		}
		seen[sc.Address] = true
		sp.changes = append(sp.changes, c)
	}
	for i := range sp.Skipped {
		k, err := sp.Skipped[i].decode()
		if err != nil {
			return nil, damaged("skipped occurrences %d (%s): %v", i+1, sp.Skipped[i].Address, err)
		}
		sp.skipped = append(sp.skipped, k)
	}
	return sp, nil
}

func damaged(format string, args ...any) error {
	return fmt.Errorf("the plan file is damaged: "+format+"; run herald plan -out again", args...)
}

func (sc *SavedChange) decode() (*Change, error) {
	a, err := addrs.ParseMessage(sc.Address)
	if err != nil {
		return nil, err
	}
	action, ok := ParseAction(sc.Action)
	if !ok {
		return nil, fmt.Errorf("unknown action %q", sc.Action)
	}
	c := &Change{Addr: a, Action: action, Reason: sc.Reason, Replace: sc.Replace, ImportID: sc.ImportID}
	if sc.MovedFrom != "" {
		m, err := addrs.ParseMessage(sc.MovedFrom)
		if err != nil {
			return nil, fmt.Errorf("moved_from: %v", err)
		}
		c.MovedFrom = &m
	}
	if sc.WaitsUntil != nil {
		c.Waits = &ThreadWait{Until: *sc.WaitsUntil}
		for _, w := range sc.WaitsFor {
			m, err := addrs.ParseMessage(w)
			if err != nil {
				return nil, fmt.Errorf("waits_for: %v", err)
			}
			c.Waits.For = append(c.Waits.For, m)
		}
	}
	if sc.LikelyRenameOf != "" {
		m, err := addrs.ParseMessage(sc.LikelyRenameOf)
		if err != nil {
			return nil, fmt.Errorf("likely_rename_of: %v", err)
		}
		c.LikelyRenameOf = &m
	}
	if sc.Record != nil {
		r := *sc.Record
		c.Record = &r
	}
	switch {
	case action == Orphan && sc.Instance != nil:
		return nil, errors.New("an orphan with a configured instance")
	case action == Orphan && sc.Record == nil:
		return nil, errors.New("an orphan without its record")
	case action == Orphan:
		return c, nil
	case sc.Instance == nil:
		return nil, errors.New("no instance")
	}
	inst, err := sc.Instance.instance(a)
	if err != nil {
		return nil, err
	}
	c.Instance = inst
	return c, nil
}

// instance rebuilds the configured instance as far as the file holds it.
// Its content hash must come out as saved: that is what catches a file
// edited or cut short since it was written.
func (si *SavedInstance) instance(a addrs.Message) (*spec.Instance, error) {
	if si.SendAt.IsZero() {
		return nil, errors.New("no send_at")
	}
	if si.ExpiresAt.Before(si.SendAt) {
		return nil, errors.New("expires_at is before send_at")
	}
	inst := &spec.Instance{
		Addr: a,
		Group: &spec.Group{Name: si.Group, ThreadID: si.ThreadID, Service: si.Service, From: si.From,
			Provider: &spec.Provider{Alias: si.Provider, AccountID: si.AccountID}},
		From:         si.From,
		Service:      si.Service,
		ThreadID:     si.ThreadID,
		SendAt:       si.SendAt,
		ExpiresAfter: si.ExpiresAt.Sub(si.SendAt),
		Text:         si.Text,
		Sensitive:    si.Sensitive,
		Unknown:      spec.DefaultUnknownPolicy,
	}
	switch si.OnUnknown {
	case "":
	case spec.OnUnknownHold, spec.OnUnknownResend:
		inst.Unknown.OnUnknown = si.OnUnknown
	default:
		return nil, fmt.Errorf("on_unknown %q is not a policy", si.OnUnknown)
	}
	if si.UnknownSettle != "" {
		d, err := time.ParseDuration(si.UnknownSettle)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("unknown_settle %q is not a positive duration", si.UnknownSettle)
		}
		inst.Unknown.Settle = d
	}
	if si.GroupRateLimit != "" {
		rl, err := spec.ParseRateLimit(si.GroupRateLimit)
		if err != nil {
			return nil, fmt.Errorf("group rate limit: %w", err)
		}
		inst.Group.RateLimit = rl
	}
	if si.GroupTimezone != "" {
		loc, err := time.LoadLocation(si.GroupTimezone)
		if err != nil {
			return nil, fmt.Errorf("group time zone: %w", err)
		}
		inst.Group.Timezone = loc
	}
	if si.Media != nil {
		if si.Text != "" {
			return nil, errors.New("both text and media")
		}
		inst.Media = &spec.Media{URL: si.Media.URL, Type: si.Media.Type, Caption: si.Media.Caption,
			PlainURL: si.Media.PlainURL, PlainCaption: si.Media.PlainCaption}
	}
	if si.Sensitive && (si.Text != "" || (si.Media != nil && (si.Media.URL != "" && !si.Media.PlainURL || si.Media.Caption != "" && !si.Media.PlainCaption))) {
		return nil, errors.New("sensitive content written out")
	}
	if got := inst.ContentHash(); got != si.ContentHash {
		return nil, errors.New("content does not match its hash")
	}
	if si.Repeat != nil {
		ri, err := si.Repeat.info()
		if err != nil {
			return nil, err
		}
		inst.Repeat, inst.Timezone = ri, ri.Timezone
		inst.SendAt = inst.SendAt.In(ri.Timezone)
	}
	return inst, nil
}

// Plan returns the saved plan as a Plan for rendering (show PLANFILE). Its
// instances are rebuilt from the file: a sensitive one has Sensitive set and
// no text, media URL or caption. To apply a saved plan, use Check and
// Resolve instead, which put the configuration's instances in its place.
func (sp *SavedPlan) Plan() *Plan {
	p := &Plan{At: sp.At, Lineage: sp.Lineage, Serial: sp.Serial, ConfigHash: sp.ConfigHash, Excluded: sp.Excluded, Checks: sp.checks}
	p.Changes = make([]*Change, len(sp.changes))
	for i, c := range sp.changes {
		cc := *c
		if c.Instance != nil {
			inst := *c.Instance
			cc.Instance = &inst
		}
		p.Changes[i] = &cc
	}
	for _, k := range sp.skipped {
		kk := *k
		p.Skipped = append(p.Skipped, &kk)
	}
	return p
}

// StalePlanError is why a saved plan may no longer be applied.
type StalePlanError struct {
	Problems []string
	// Applied reports that the state moved on from the plan by exactly
	// what applying it records: the plan was already applied.
	Applied bool
}

func (e *StalePlanError) Error() string {
	if e.Applied {
		return "this plan was already applied: " + strings.Join(e.Problems, "; ") + "; run herald plan for what is due now"
	}
	return "the saved plan is stale: " + strings.Join(e.Problems, "; ") + "; run herald plan again"
}

// NeedsKey says whether checking the saved plan needs the plan key it was
// made with.
func (sp *SavedPlan) NeedsKey() bool { return sp.PlanKeyID != "" }

// Check refuses a saved plan made from another configuration (files or
// variable values, sensitive ones included) or another state than the ones
// given. key is the plan key, needed when the plan holds sensitive values
// (NeedsKey); nil when none is set. It returns nil or a *StalePlanError
// saying what differs.
func (sp *SavedPlan) Check(cfg *spec.Config, snap *state.Snapshot, key []byte) error {
	var problems []string
	hash := ""
	if cfg != nil {
		hash = cfg.Hash
	}
	changed := hash != sp.ConfigHash
	switch {
	case sp.PlanKeyID == "":
		// Made without sensitive values: any now are a change.
		changed = changed || (cfg != nil && cfg.HasSensitiveVars())
	case len(key) == 0:
		problems = append(problems, "the plan holds hashes of sensitive values made with a plan key, and no plan key is set here (set HERALD_PLAN_KEY to the key the plan was made with)")
	case PlanKeyID(key) != sp.PlanKeyID:
		problems = append(problems, "the plan was made with another plan key, so its sensitive values cannot be checked (set HERALD_PLAN_KEY to the key the plan was made with)")
	case cfg != nil && cfg.SensitiveVarsHash(key) != sp.SensitiveHash:
		changed = true
	}
	if changed {
		problems = append(problems, "the configuration or its variable values changed since the plan was made")
	}
	var lineage string
	var serial uint64
	if snap != nil {
		lineage, serial = snap.Lineage, snap.Serial
	}
	// A state that was never written gets a fresh lineage in every
	// process; two of them are the same empty state. A plan made from one
	// holds a lineage nothing else has: the first write of that state
	// (applying the plan, say) makes another.
	neverWritten := serial == 0 && sp.Serial == 0 && (snap == nil || len(snap.Records) == 0)
	madeFromNothing := sp.Serial == 0 && !sp.sawRecords()
	var applied bool
	switch {
	case lineage != sp.Lineage && !neverWritten && !madeFromNothing:
		problems = append(problems, fmt.Sprintf("the plan was made for state lineage %q, this state is lineage %q", sp.Lineage, lineage))
	case serial > sp.Serial && !changed && sp.appliedIn(snap):
		applied = true
		problems = append(problems, fmt.Sprintf("the state moved on from it by exactly the outcomes of its sends (serial %d then, %d now)", sp.Serial, serial))
	case serial > sp.Serial:
		problems = append(problems, fmt.Sprintf("the state changed since the plan was made (serial %d then, %d now; it may have been applied already)", sp.Serial, serial))
	case serial != sp.Serial:
		problems = append(problems, fmt.Sprintf("the state changed since the plan was made (serial %d then, %d now)", sp.Serial, serial))
	default:
		// The serial moves when a run's events are folded in; a run that
		// died before folding leaves its events in the journal, which the
		// snapshot already shows. Compare the records the plan relied on.
		problems = append(problems, sp.recordProblems(snap)...)
	}
	if len(problems) > 0 {
		return &StalePlanError{Problems: problems, Applied: applied && len(problems) == 1}
	}
	return nil
}

// sawRecords reports whether the state the plan was made from held any
// record the plan relied on.
func (sp *SavedPlan) sawRecords() bool {
	for _, c := range sp.Changes {
		if c.Record != nil {
			return true
		}
	}
	return false
}

// appliedIn reports whether snap is the state the plan was made from moved
// on by exactly what applying it records: every message it sends (or
// retries) has attempts it did not have, for the content the plan shows,
// and is no longer in flight; every expiry is recorded; every import is
// in state; every other record it saw is as it was (an unknown one may
// have been looked up since); and no record is in state that it did not
// list. A plan that sends, expires or imports nothing is never taken as
// applied: applying it changes nothing to tell by.
func (sp *SavedPlan) appliedIn(snap *state.Snapshot) bool {
	if snap == nil {
		return false
	}
	acted := false
	listed := map[string]bool{}
	for _, c := range sp.Changes {
		listed[c.Address] = true
		if c.Record != nil {
			listed[c.Record.Address] = true
		}
		now := snap.Records[c.Address]
		before := 0
		if c.Record != nil {
			before = len(c.Record.Attempts)
		}
		switch c.Action {
		case Send.String(), Retry.String():
			if now == nil || len(now.Attempts) <= before || now.Status == state.StatusSending ||
				c.Instance == nil || now.ContentHash != c.Instance.ContentHash {
				return false
			}
			acted = true
		case Expire.String():
			if now == nil || now.Status != state.StatusExpired {
				return false
			}
			acted = true
		case Import.String():
			if now == nil || now.Imported == "" {
				return false
			}
			acted = true
		case Unknown.String():
			// Apply looks an unknown up, and may settle or resend it.
			if now == nil {
				return false
			}
		default:
			switch {
			case c.Record == nil && now != nil:
				return false
			case c.Record == nil:
			case now == nil || now.Status != c.Record.Status || len(now.Attempts) != before:
				return false
			}
		}
	}
	for addr := range snap.Records {
		if !listed[addr] {
			return false
		}
	}
	return acted
}

// recordProblems lists changes whose record in snap is not the one the
// plan was made from.
func (sp *SavedPlan) recordProblems(snap *state.Snapshot) []string {
	var problems []string
	current := func(addr string) *state.Record {
		if snap == nil {
			return nil
		}
		return snap.Records[addr]
	}
	for _, c := range sp.Changes {
		if c.Record == nil {
			if r := current(c.Address); r != nil {
				problems = append(problems, fmt.Sprintf("%s: state now holds a record (%s) that the plan did not see", c.Address, r.Status))
			}
			continue
		}
		r := current(c.Record.Address)
		switch {
		case r == nil:
			problems = append(problems, fmt.Sprintf("%s: its record is no longer in state", c.Address))
		case r.Status != c.Record.Status || len(r.Attempts) != len(c.Record.Attempts):
			problems = append(problems, fmt.Sprintf("%s: state changed since the plan was made (%s with %d attempts then, %s with %d now)",
				c.Address, c.Record.Status, len(c.Record.Attempts), r.Status, len(r.Attempts)))
		}
	}
	return problems
}

// Resolve returns the saved plan with each change pointing at the instance
// of cfg under the same address, so that apply sends what the configuration
// says now, and only if that is what the plan showed: it refuses with a
// *StalePlanError when an instance is gone or its content, group, thread,
// service, sender, send_at or expiry differ from the saved ones. A
// sensitive content is compared through its hash under key, the plan key
// Check accepted. Records are those saved in the plan (the API's answers
// left out); Check has made sure the state they came from is the current
// one.
func (sp *SavedPlan) Resolve(cfg *spec.Config, key []byte) (*Plan, error) {
	byAddr := make(map[string]*spec.Instance)
	if cfg != nil {
		for _, inst := range cfg.Instances {
			if inst != nil {
				byAddr[inst.Addr.String()] = inst
			}
		}
	}
	p := sp.Plan()
	var problems []string
	for i, c := range p.Changes {
		if c.Instance == nil {
			continue
		}
		addr := sp.Changes[i].Address
		inst := byAddr[addr]
		if inst == nil {
			problems = append(problems, addr+" is no longer in the configuration")
			continue
		}
		for _, d := range mismatches(sp.Changes[i].Instance, inst, key) {
			problems = append(problems, addr+": "+d+" changed since the plan was made")
		}
		c.Instance = inst
	}
	if len(problems) > 0 {
		return nil, &StalePlanError{Problems: problems}
	}
	return p, nil
}

func mismatches(saved *SavedInstance, inst *spec.Instance, key []byte) []string {
	var out []string
	switch {
	case saved.ContentHash != inst.ContentHash():
		out = append(out, "content")
	case inst.Sensitive && (len(key) == 0 || saved.SensitiveContentHash != inst.SensitiveContentHash(key)):
		out = append(out, "content")
	}
	if saved.Sensitive != inst.Sensitive {
		out = append(out, "sensitivity")
	}
	if saved.Group != groupName(inst) {
		out = append(out, "group")
	}
	if saved.ThreadID != inst.ThreadID {
		out = append(out, "thread_id")
	}
	if saved.Service != inst.Service {
		out = append(out, "service")
	}
	if saved.From != inst.From {
		out = append(out, "from")
	}
	if saved.Provider != inst.Group.ProviderAlias() {
		out = append(out, "provider")
	} else if inst.Group != nil && inst.Group.Provider != nil && saved.AccountID != inst.Group.Provider.AccountID {
		out = append(out, "account_id")
	}
	if !saved.SendAt.Equal(inst.SendAt) {
		out = append(out, "send_at")
	}
	if !saved.ExpiresAt.Equal(inst.ExpiresAt()) {
		out = append(out, "expires_after")
	}
	return out
}
