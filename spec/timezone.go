package spec

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	// The time zone database is compiled in so that a configuration means
	// the same instants on every machine, with or without a system
	// zoneinfo, and whatever its version.
	_ "time/tzdata"
)

// loadZone reads an IANA time zone name. "Local" and the empty name are
// refused: they would make a configuration mean different instants on
// different machines.
func loadZone(name string) (*time.Location, error) {
	if name == "" || strings.EqualFold(name, "local") {
		return nil, fmt.Errorf("%q is not an IANA time zone name: use a name such as \"Europe/Berlin\", \"America/New_York\" or \"UTC\"", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		if near := suggestZone(name); near != "" {
			return nil, fmt.Errorf("%q is not a time zone herald knows: did you mean %q? Time zones are IANA names such as \"Europe/Berlin\", \"America/New_York\" or \"UTC\"", name, near)
		}
		return nil, fmt.Errorf("%q is not a time zone herald knows: use an IANA name such as \"Europe/Berlin\", \"America/New_York\" or \"UTC\"", name)
	}
	return loc, nil
}

// suggestZone is the known time zone name a misspelled one most likely
// means: the same name in other case ("europe/berlin"), a name at most two
// edits away ("Europe/Berln"), or, for a bare city, the zone named after
// it ("Berlin", "new york"). "" when none is close.
func suggestZone(name string) string {
	if upper := strings.ToUpper(name); len(name) > 3 && (strings.HasPrefix(upper, "UTC") || strings.HasPrefix(upper, "GMT")) && strings.ContainsAny(name[3:4], "+-") {
		// An offset is not a zone, and "UTC" is no better.
		return ""
	}
	names := zoneNames()
	for _, z := range names {
		if strings.EqualFold(z, name) {
			return z
		}
	}
	if near := Suggest(name, names); near != "" {
		return near
	}
	if !strings.Contains(name, "/") {
		city := strings.ReplaceAll(strings.TrimSpace(name), " ", "_")
		for _, z := range names {
			if i := strings.LastIndexByte(z, '/'); i >= 0 && strings.EqualFold(z[i+1:], city) {
				return z
			}
		}
	}
	return ""
}

// wallTimePattern is the wall-time form of a moment: "2026-12-01 09:00".
var wallTimePattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}$`)

const wallTimeLayout = "2006-01-02 15:04"

// wallKind says how a wall time maps onto a zone's instants.
type wallKind int

const (
	wallExact     wallKind = iota
	wallAmbiguous          // the zone shows it twice: clocks were set back
	wallSkipped            // the zone never shows it: clocks were set forward
)

// resolveWall is the instant at which loc's clocks show the wall time w
// (read from its fields only; its own location is ignored). The rule,
// shared by send_at, repeat from/until and repeat occurrences:
//   - a wall time shown twice (clocks set back) is the earlier instant;
//     other is then the later one;
//   - a wall time never shown (clocks set forward) is shifted forward by
//     the length of the gap: 02:30 on a day that jumps from 02:00 to 03:00
//     is 03:30.
//
// Go's time.Date leaves both cases unspecified, so the two offsets in force
// around the moment are tried one by one. A transition that makes w
// ambiguous or skipped lies within 14 hours of w read as UTC, as no offset
// exceeds 14 hours.
func resolveWall(w time.Time, loc *time.Location) (t time.Time, kind wallKind, other time.Time) {
	wall := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), time.UTC)
	_, early := wall.Add(-14 * time.Hour).In(loc).Zone()
	_, late := wall.Add(14 * time.Hour).In(loc).Zone()
	tEarly := wall.Add(-time.Duration(early) * time.Second)
	tLate := wall.Add(-time.Duration(late) * time.Second)
	okEarly := sameWall(tEarly.In(loc), wall)
	okLate := sameWall(tLate.In(loc), wall)
	switch {
	case okEarly && okLate && !tEarly.Equal(tLate):
		if tLate.Before(tEarly) {
			tEarly, tLate = tLate, tEarly
		}
		return tEarly.In(loc), wallAmbiguous, tLate.In(loc)
	case okEarly:
		return tEarly.In(loc), wallExact, time.Time{}
	case okLate:
		return tLate.In(loc), wallExact, time.Time{}
	case early != late:
		// Read with the offset in force before the gap, the wall time
		// lands as far after the gap's end as it lay after its start.
		return tEarly.In(loc), wallSkipped, time.Time{}
	}
	// Two transitions within a day of each other: no zone in the
	// database does this today; Go's own reading is as good as any.
	return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), loc), wallExact, time.Time{}
}

func sameWall(t, wall time.Time) bool {
	y, m, d := t.Date()
	wy, wm, wd := wall.Date()
	return y == wy && m == wm && d == wd && t.Hour() == wall.Hour() && t.Minute() == wall.Minute() &&
		t.Second() == wall.Second() && t.Nanosecond() == wall.Nanosecond()
}

// wallNote explains the instant picked for a wall time that loc shows
// twice or never, for a warning; "" for an exact one.
func wallNote(w time.Time, kind wallKind, t, other time.Time, loc *time.Location) string {
	shown := w.Format(wallTimeLayout)
	switch kind {
	case wallAmbiguous:
		return fmt.Sprintf("%s happens twice in %s (the clocks go back); herald uses the earlier instant, %s, not %s.",
			shown, loc, t.Format(time.RFC3339), other.Format(time.RFC3339))
	case wallSkipped:
		return fmt.Sprintf("%s does not happen in %s (the clocks go forward over it); herald shifts it forward by the gap, to %s (%s).",
			shown, loc, t.Format(wallTimeLayout), t.Format(time.RFC3339))
	}
	return ""
}

// parseMoment reads a moment: RFC 3339 with an offset, or, when a zone is
// in scope (loc not nil), a wall time "YYYY-MM-DD HH:MM" in that zone. note
// is set when the wall time is ambiguous or skipped in the zone, saying
// which instant was picked.
func parseMoment(s string, loc *time.Location) (t time.Time, note string, err error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, "", nil
	}
	if wallTimePattern.MatchString(s) {
		w, perr := time.Parse(wallTimeLayout, s)
		if perr != nil {
			return time.Time{}, "", fmt.Errorf("%q is not a valid date and time", s)
		}
		if loc == nil {
			return time.Time{}, "", fmt.Errorf("%q is a wall time, which needs a time zone: set timezone on the message, its group or the provider, or give an RFC 3339 time with an offset such as \"2026-12-01T09:00:00+01:00\"", s)
		}
		t, kind, other := resolveWall(w, loc)
		return t, wallNote(w, kind, t, other, loc), nil
	}
	if loc != nil {
		return time.Time{}, "", fmt.Errorf("%q is not an RFC 3339 time with an offset, such as \"2026-12-01T09:00:00+01:00\", nor a wall time in %s, such as \"2026-12-01 09:00\"", s, loc)
	}
	return time.Time{}, "", fmt.Errorf("%q is not an RFC 3339 time with an offset, such as \"2026-12-01T09:00:00+01:00\" or \"2026-12-01T08:00:00Z\"", s)
}
