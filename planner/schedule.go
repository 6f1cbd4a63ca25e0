package planner

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/spec"
)

// Night is the part of a day in which a send to a group is flagged: from
// NightStarts to NightEnds o'clock in the group's own time zone.
const (
	NightStarts = 22
	NightEnds   = 7
)

// CollisionWindow is the shortest gap between two sends to one group that
// is not flagged, whatever the group's rate limit: two messages a few
// seconds apart read as one burst, and are usually a mistake.
const CollisionWindow = time.Minute

// MaxScheduleDays bounds -days; past a year a day per column stops being
// a picture anyone reads.
const MaxScheduleDays = 366

// autoScheduleDays are the spans a schedule picks from when none is
// asked for: the first that reaches the last send to come, else the last.
var autoScheduleDays = []int{1, 2, 7, 14, 28}

// hourlyDays is the longest span drawn with a column per hour; longer
// spans get a column per day.
const hourlyDays = 2

// ScheduleGroupInfo is what the configuration knows about a group that
// the changes of a plan do not always carry (an orphan has only a name).
type ScheduleGroupInfo struct {
	// Zone is the group's time zone, for what counts as night; nil is UTC.
	Zone *time.Location
	// RateLimit is the group's own limit; nil when it has none.
	RateLimit *spec.RateLimit
}

// ScheduleOptions shape a schedule.
type ScheduleOptions struct {
	// Days is the span drawn from the start of the clock's day (UTC);
	// 0 picks the shortest of 1, 2, 7, 14 and 28 days that shows every
	// send to come.
	Days int
	// Groups adds what the configuration knows, by group name. A group
	// listed here is drawn even when nothing is scheduled for it.
	Groups map[string]ScheduleGroupInfo
	// Preview adds later occurrences of repeat messages (RepeatPreview),
	// drawn as sends to come.
	Preview []Occurrence
	// Repeats are the configuration's repeat rules (spec.Config.Repeats).
	// When Preview is nil they preview every occurrence within the span
	// drawn, whatever its length. Without either, a repeat message is
	// drawn at the occurrences the plan considers only, and the schedule
	// says so (Schedule.RepeatsCut).
	Repeats map[string]*spec.Repeat
}

// SendKind says what a mark on the schedule stands for.
type SendKind string

const (
	// SendUpcoming: apply sends it (now, or once it is due).
	SendUpcoming SendKind = "upcoming"
	// SendSent: state records it as sent.
	SendSent SendKind = "sent"
	// SendUnknown: an earlier apply may or may not have sent it.
	SendUnknown SendKind = "unknown"
)

// Schedule is the sends of a plan laid out on a time axis, one row per
// group, with what needs a reviewer's eye flagged: sends that land at
// night, and sends that come too close to another to the same group.
type Schedule struct {
	// At is the plan's clock.
	At time.Time
	// Start is the start of the first column, midnight UTC of the clock's
	// day; End is the end of the last.
	Start, End time.Time
	// Column is the time one column covers: an hour or a day.
	Column time.Duration
	Groups []*ScheduleGroup
	// Later counts sends to come after End, which are not drawn.
	Later int
	// RepeatsCut counts the repeat messages whose later occurrences are
	// not drawn: the schedule had neither their rules nor a preview (a
	// saved plan holds no rule), so only the occurrences the plan
	// considers are.
	RepeatsCut int
}

// ScheduleGroup is one row.
type ScheduleGroup struct {
	Name      string
	Zone      *time.Location
	RateLimit *spec.RateLimit
	// Sends are the sends within the span, in time order.
	Sends []*ScheduleSend
}

// ScheduleSend is one message on the axis.
type ScheduleSend struct {
	Address string
	Action  string
	Kind    SendKind
	// At is when the message goes out: its send_at, or the clock for a
	// due message, which the next apply sends at once.
	At time.Time
	// Night reports that a send to come lands at night in the group's
	// zone.
	Night bool
	// Collision, when set, says how this send comes too close to an
	// earlier one to the same group.
	Collision *Collision
}

// Collision is a send to come too close to earlier sends to its group.
type Collision struct {
	// After is the send just before, when this one comes within
	// CollisionWindow of it, Gap later.
	After string
	Gap   time.Duration
	// RateLimit is the group's limit, when this send is one more than it
	// allows in a period; the limit holds it back past its send_at.
	RateLimit *spec.RateLimit
}

// Flagged reports whether the send needs a look.
func (s *ScheduleSend) Flagged() bool { return s.Night || s.Collision != nil }

// ScheduleGroups is what a schedule needs of each group the plan's
// instances go to, so that a saved plan draws as the plan it was made
// from.
func ScheduleGroups(p *Plan) map[string]ScheduleGroupInfo {
	out := map[string]ScheduleGroupInfo{}
	for _, c := range p.Changes {
		if c.Instance == nil || c.Instance.Group == nil {
			continue
		}
		g := c.Instance.Group
		out[g.Name] = ScheduleGroupInfo{RateLimit: g.RateLimit, Zone: g.Timezone}
	}
	return out
}

// ConfigScheduleGroups is what a schedule needs of every configured group.
func ConfigScheduleGroups(cfg *spec.Config) map[string]ScheduleGroupInfo {
	out := make(map[string]ScheduleGroupInfo, len(cfg.Groups))
	for name, g := range cfg.Groups {
		out[name] = ScheduleGroupInfo{RateLimit: g.RateLimit, Zone: g.Timezone}
	}
	return out
}

// scheduled is what a schedule reads of a change: its address, action,
// group and send_at. An orphan is described by its record alone.
type scheduled struct {
	address string
	action  Action
	group   string
	sendAt  time.Time
}

func scheduledOf(c *Change) scheduled {
	s := scheduled{address: c.Addr.String(), action: c.Action}
	if r := c.Record; r != nil {
		s.group, s.sendAt = r.Group, r.SendAt.UTC()
	}
	if in := c.Instance; in != nil {
		if in.Group != nil {
			s.group = in.Group.Name
		}
		s.sendAt = in.SendAt.UTC()
	}
	return s
}

// NewSchedule lays out the sends of a plan. Sends to come (send, retry,
// wait) are drawn where they go out; sent messages (noop, drift) and
// unknown ones are drawn at their send_at so the span reads as a whole;
// expired and orphaned messages are never sent and are left out. Each
// send to come is flagged when it lands at night in its group's zone, or
// too close to an earlier send to the group.
func NewSchedule(p *Plan, opts ScheduleOptions) (*Schedule, error) {
	if opts.Days < 0 || opts.Days > MaxScheduleDays {
		return nil, fmt.Errorf("-days=%d: expected a number of days from 1 to %d", opts.Days, MaxScheduleDays)
	}
	at := p.At.UTC()
	s := &Schedule{At: at, Start: time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)}
	switch {
	case opts.Preview == nil && opts.Repeats != nil:
		days := opts.Days
		if days == 0 {
			// The span is picked as if the preview reached a week
			// ahead; then every occurrence within it is drawn.
			days = pickDays(s.Start, upcomingEnd(p, RepeatPreview(p, opts.Repeats, RepeatPreviewDays), at))
		}
		opts.Preview = RepeatPreview(p, opts.Repeats, days)
	case opts.Preview == nil:
		s.RepeatsCut = repeatMessages(p)
	}

	groups := map[string]*ScheduleGroup{}
	group := func(name string) *ScheduleGroup {
		g, ok := groups[name]
		if !ok {
			info := opts.Groups[name]
			g = &ScheduleGroup{Name: name, Zone: info.Zone, RateLimit: info.RateLimit}
			groups[name] = g
		}
		return g
	}
	for name := range opts.Groups {
		group(name)
	}

	changes := make([]scheduled, 0, len(p.Changes)+len(opts.Preview))
	for _, c := range p.Changes {
		if c != nil {
			changes = append(changes, scheduledOf(c))
		}
	}
	for _, o := range opts.Preview {
		changes = append(changes, scheduled{address: o.Addr.String(), action: Wait, group: o.Group, sendAt: o.SendAt.UTC()})
	}

	var all []*ScheduleSend
	var owner []*ScheduleGroup
	var lastUpcoming time.Time
	for _, c := range changes {
		send := &ScheduleSend{Address: c.address, Action: c.action.String(), At: c.sendAt}
		switch c.action {
		case Send, Retry:
			send.Kind = SendUpcoming
			if send.At.Before(at) {
				send.At = at
			}
		case Wait:
			send.Kind = SendUpcoming
		case Noop, Drift:
			send.Kind = SendSent
		case Unknown:
			send.Kind = SendUnknown
		default:
			continue
		}
		if send.Kind == SendUpcoming && send.At.After(lastUpcoming) {
			lastUpcoming = send.At
		}
		all = append(all, send)
		owner = append(owner, group(c.group))
	}

	days := opts.Days
	if days == 0 {
		days = pickDays(s.Start, lastUpcoming)
	}
	s.End = s.Start.AddDate(0, 0, days)
	s.Column = time.Hour
	if days > hourlyDays {
		s.Column = 24 * time.Hour
	}

	for i, send := range all {
		if send.At.Before(s.Start) || !send.At.Before(s.End) {
			if send.Kind == SendUpcoming && !send.At.Before(s.End) {
				s.Later++
			}
			continue
		}
		owner[i].Sends = append(owner[i].Sends, send)
	}
	for _, g := range groups {
		sort.SliceStable(g.Sends, func(i, j int) bool {
			if !g.Sends[i].At.Equal(g.Sends[j].At) {
				return g.Sends[i].At.Before(g.Sends[j].At)
			}
			return g.Sends[i].Address < g.Sends[j].Address
		})
		g.flag()
		s.Groups = append(s.Groups, g)
	}
	sort.Slice(s.Groups, func(i, j int) bool { return s.Groups[i].Name < s.Groups[j].Name })
	return s, nil
}

// pickDays is the shortest of autoScheduleDays from start that reaches
// past last, else the longest.
func pickDays(start, last time.Time) int {
	for _, d := range autoScheduleDays {
		if last.Before(start.AddDate(0, 0, d)) {
			return d
		}
	}
	return autoScheduleDays[len(autoScheduleDays)-1]
}

// upcomingEnd is when the last send to come of the plan and the preview
// goes out: a due send or retry at the clock, a wait at its send_at.
func upcomingEnd(p *Plan, preview []Occurrence, at time.Time) time.Time {
	var last time.Time
	for _, c := range p.Changes {
		if c == nil {
			continue
		}
		sc := scheduledOf(c)
		t := sc.sendAt
		switch sc.action {
		case Send, Retry:
			if t.Before(at) {
				t = at
			}
		case Wait:
		default:
			continue
		}
		if t.After(last) {
			last = t
		}
	}
	for _, o := range preview {
		if t := o.SendAt.UTC(); t.After(last) {
			last = t
		}
	}
	return last
}

// repeatMessages counts the repeat messages among the plan's changes.
func repeatMessages(p *Plan) int {
	seen := map[string]bool{}
	for _, c := range p.Changes {
		if c != nil && c.Instance != nil && c.Instance.Repeat != nil {
			seen[c.Addr.Block().String()] = true
		}
	}
	return len(seen)
}

// Location is the group's time zone, UTC when it has none.
func (g *ScheduleGroup) Location() *time.Location {
	if g.Zone == nil {
		return time.UTC
	}
	return g.Zone
}

// IsNight reports whether t is at night in the group's zone.
func (g *ScheduleGroup) IsNight(t time.Time) bool {
	h := t.In(g.Location()).Hour()
	return h >= NightStarts || h < NightEnds
}

// flag marks the sends to come that land at night, or too close to an
// earlier send to the group: within CollisionWindow of the one before, or
// as the (N+1)th send inside one period of an N/period rate limit, which
// holds it back past its send_at.
func (g *ScheduleGroup) flag() {
	var upcoming []*ScheduleSend
	for _, s := range g.Sends {
		if s.Kind != SendUpcoming {
			continue
		}
		s.Night = g.IsNight(s.At)
		n := len(upcoming)
		switch {
		case n > 0 && s.At.Sub(upcoming[n-1].At) < CollisionWindow:
			prev := upcoming[n-1]
			s.Collision = &Collision{After: prev.Address, Gap: s.At.Sub(prev.At)}
		case g.RateLimit != nil && g.RateLimit.N > 0 && n >= g.RateLimit.N && s.At.Sub(upcoming[n-g.RateLimit.N].At) < g.RateLimit.Per:
			s.Collision = &Collision{RateLimit: g.RateLimit}
		}
		upcoming = append(upcoming, s)
	}
}

// Flags lists every flagged send, in time order.
func (s *Schedule) Flags() []ScheduleFlag {
	var out []ScheduleFlag
	for _, g := range s.Groups {
		for _, send := range g.Sends {
			if send.Flagged() {
				out = append(out, ScheduleFlag{Group: g, Send: send})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Send.At.Equal(out[j].Send.At) {
			return out[i].Send.At.Before(out[j].Send.At)
		}
		return out[i].Send.Address < out[j].Send.Address
	})
	return out
}

// ScheduleFlag is a send that needs a look, with its group.
type ScheduleFlag struct {
	Group *ScheduleGroup
	Send  *ScheduleSend
}

// NightSends counts the flagged sends that land at night.
func (s *Schedule) NightSends() int {
	n := 0
	for _, f := range s.Flags() {
		if f.Send.Night {
			n++
		}
	}
	return n
}

// Collisions counts the flagged sends that come too close to another.
func (s *Schedule) Collisions() int {
	n := 0
	for _, f := range s.Flags() {
		if f.Send.Collision != nil {
			n++
		}
	}
	return n
}

// Upcoming counts the sends to come within the span.
func (s *Schedule) Upcoming() int {
	n := 0
	for _, g := range s.Groups {
		for _, send := range g.Sends {
			if send.Kind == SendUpcoming {
				n++
			}
		}
	}
	return n
}

// Drawn counts every send within the span.
func (s *Schedule) Drawn() int {
	n := 0
	for _, g := range s.Groups {
		n += len(g.Sends)
	}
	return n
}

// Hourly reports whether a column is an hour.
func (s *Schedule) Hourly() bool { return s.Column == time.Hour }

// Columns is the number of columns in the span.
func (s *Schedule) Columns() int { return int(s.End.Sub(s.Start) / s.Column) }

// ColumnOf is the index of the column t falls in.
func (s *Schedule) ColumnOf(t time.Time) int { return int(t.Sub(s.Start) / s.Column) }

// ColumnStart is when column col starts.
func (s *Schedule) ColumnStart(col int) time.Time { return s.Start.Add(time.Duration(col) * s.Column) }

// Occurrence is an occurrence of a repeat message after the ones a plan
// considers.
type Occurrence struct {
	Addr   addrs.Message
	Group  string
	SendAt time.Time
}

// RepeatPreviewDays is how far ahead a preview reaches when the schedule's
// span is not given.
const RepeatPreviewDays = 7

// maxPreviewOccurrences bounds the occurrences previewed per repeat
// message: "* * * * *" over a year would be half a million.
const maxPreviewOccurrences = 2000

// RepeatPreview lists the occurrences of each repeat message that come
// after the two a plan considers, up to the end of the schedule's span
// (days from the start of the clock's day, UTC; RepeatPreviewDays when
// 0), so that a schedule shows a recurring message at every time it will
// go out.
func RepeatPreview(p *Plan, repeats map[string]*spec.Repeat, days int) []Occurrence {
	if days <= 0 {
		days = RepeatPreviewDays
	}
	at := p.At.UTC()
	end := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, days)
	var out []Occurrence
	for key, r := range repeats {
		block := repeatBlock(key)
		// The plan holds the occurrences the planner considered; the
		// latest of them is where the preview carries on.
		// An occurrence block may move an occurrence: the rule's time
		// (its key) is where the walk carries on.
		var last, lastKey time.Time
		var group string
		for _, c := range p.Changes {
			if c == nil || c.Instance == nil || c.Instance.Repeat == nil || !strings.HasPrefix(c.Addr.String(), block.String()+"[") {
				continue
			}
			sc := scheduledOf(c)
			group = sc.group
			if sc.sendAt.After(last) {
				last = sc.sendAt
			}
			k := c.Instance.Repeat.Occurrence
			if k.IsZero() {
				k = sc.sendAt
			}
			if k.After(lastKey) {
				lastKey = k
			}
		}
		if group == "" || !last.Before(end) {
			continue
		}
		for _, t := range r.Occurrences(lastKey.Add(time.Nanosecond), end, maxPreviewOccurrences) {
			out = append(out, Occurrence{
				Addr:   addrs.WithKey(block.Name, t.In(r.Timezone).Format(time.RFC3339)).In(block.Module),
				Group:  group,
				SendAt: r.SendTime(t),
			})
		}
	}
	return out
}

// repeatBlock reads a spec.Config.Repeats key back into the message
// block's address.
func repeatBlock(key string) addrs.Message {
	if a, err := addrs.ParseMessage(key); err == nil {
		return a
	}
	return addrs.NoKey(key)
}
