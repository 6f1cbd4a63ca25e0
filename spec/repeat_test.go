package spec

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
)

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := loadZone(name)
	require.NoError(t, err)
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestResolveWall: wall times in both daylight-saving directions, in zones
// with whole- and half-hour offsets.
func TestResolveWall(t *testing.T) {
	for _, tc := range []struct {
		zone, wall string
		want       string // the instant, UTC
		kind       wallKind
		other      string // the later instant of an ambiguous wall time
	}{
		{"Europe/Berlin", "2027-01-15 09:00", "2027-01-15T08:00:00Z", wallExact, ""},
		{"Europe/Berlin", "2027-07-15 09:00", "2027-07-15T07:00:00Z", wallExact, ""},
		// Clocks go from 02:00 CET to 03:00 CEST.
		{"Europe/Berlin", "2027-03-28 02:30", "2027-03-28T01:30:00Z", wallSkipped, ""},
		{"Europe/Berlin", "2027-03-28 02:00", "2027-03-28T01:00:00Z", wallSkipped, ""},
		{"Europe/Berlin", "2027-03-28 01:59", "2027-03-28T00:59:00Z", wallExact, ""},
		{"Europe/Berlin", "2027-03-28 03:00", "2027-03-28T01:00:00Z", wallExact, ""},
		// Clocks go from 03:00 CEST back to 02:00 CET.
		{"Europe/Berlin", "2027-10-31 02:30", "2027-10-31T00:30:00Z", wallAmbiguous, "2027-10-31T01:30:00Z"},
		{"Europe/Berlin", "2027-10-31 03:00", "2027-10-31T02:00:00Z", wallExact, ""},
		// New York: 02:00 EST to 03:00 EDT, then 02:00 EDT back to 01:00 EST.
		{"America/New_York", "2027-03-14 02:30", "2027-03-14T07:30:00Z", wallSkipped, ""},
		{"America/New_York", "2027-11-07 01:30", "2027-11-07T05:30:00Z", wallAmbiguous, "2027-11-07T06:30:00Z"},
		{"America/New_York", "2027-11-07 02:30", "2027-11-07T07:30:00Z", wallExact, ""},
		// Adelaide, +09:30 / +10:30: back on the first Sunday of April,
		// forward on the first Sunday of October.
		{"Australia/Adelaide", "2027-04-04 02:15", "2027-04-03T15:45:00Z", wallAmbiguous, "2027-04-03T16:45:00Z"},
		{"Australia/Adelaide", "2027-10-03 02:15", "2027-10-02T16:45:00Z", wallSkipped, ""},
		{"Asia/Kolkata", "2027-03-28 02:30", "2027-03-27T21:00:00Z", wallExact, ""},
		// Samoa skipped 30 December 2011 entirely.
		{"Pacific/Apia", "2011-12-30 12:00", "2011-12-30T22:00:00Z", wallSkipped, ""},
	} {
		t.Run(tc.zone+" "+tc.wall, func(t *testing.T) {
			loc := zone(t, tc.zone)
			w, err := time.Parse(wallTimeLayout, tc.wall)
			require.NoError(t, err)
			got, kind, other := resolveWall(w, loc)
			require.Equal(t, tc.kind, kind)
			require.Equal(t, tc.want, got.UTC().Format(time.RFC3339))
			require.Equal(t, loc, got.Location())
			if tc.other != "" {
				require.Equal(t, tc.other, other.UTC().Format(time.RFC3339))
			}
			if kind == wallSkipped {
				// Shifted forward by the gap (an hour here, a day in Apia).
				_, before := got.Add(-26 * time.Hour).Zone()
				_, after := got.Zone()
				require.Equal(t, w.Add(time.Duration(after-before)*time.Second).Format(wallTimeLayout), got.Format(wallTimeLayout))
			}
		})
	}
}

func TestParseMoment(t *testing.T) {
	berlin := zone(t, "Europe/Berlin")
	got, note, err := parseMoment("2026-12-01 09:00", berlin)
	require.NoError(t, err)
	require.Empty(t, note)
	require.Equal(t, "2026-12-01T09:00:00+01:00", got.Format(time.RFC3339))

	got, note, err = parseMoment("2026-12-01T09:00:00Z", berlin)
	require.NoError(t, err)
	require.Empty(t, note)
	require.Equal(t, "2026-12-01T09:00:00Z", got.Format(time.RFC3339))

	_, note, err = parseMoment("2027-03-28 02:30", berlin)
	require.NoError(t, err)
	require.Contains(t, note, "shifts it forward by the gap, to 2027-03-28 03:30 (2027-03-28T03:30:00+02:00)")
	_, note, err = parseMoment("2027-10-31 02:30", berlin)
	require.NoError(t, err)
	require.Contains(t, note, "uses the earlier instant, 2027-10-31T02:30:00+02:00, not 2027-10-31T02:30:00+01:00")

	_, _, err = parseMoment("2026-12-01 09:00", nil)
	require.ErrorContains(t, err, "needs a time zone")
	_, _, err = parseMoment("2026-13-01 09:00", berlin)
	require.ErrorContains(t, err, "not a valid date")
	_, _, err = parseMoment("tomorrow", berlin)
	require.ErrorContains(t, err, "nor a wall time in Europe/Berlin")
}

func TestLoadZone(t *testing.T) {
	for _, ok := range []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Adelaide"} {
		loc, err := loadZone(ok)
		require.NoError(t, err)
		require.Equal(t, ok, loc.String())
	}
	for _, bad := range []string{"", "Local", "local", "Europe/Berlinn", "CEST+2", "../etc/passwd"} {
		_, err := loadZone(bad)
		require.Error(t, err, bad)
	}
}

func mustRepeat(t testing.TB, cronExpr, zoneName string) *Repeat {
	t.Helper()
	sched, err := parseCron(cronExpr)
	require.NoError(t, err)
	loc := zone(t, zoneName)
	return &Repeat{Name: "r", Cron: cronExpr, Timezone: loc, sched: sched, Rule: describeRule(cronExpr, sched, loc)}
}

func formatAll(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Format(time.RFC3339)
	}
	return out
}

func TestOccurrences(t *testing.T) {
	for _, tc := range []struct {
		name, cron, zone string
		from, to         string
		max              int
		want             []string
	}{
		{
			name: "09:00 stays 09:00 across spring forward", cron: "0 9 * * *", zone: "Europe/Berlin",
			from: "2027-03-27T00:00:00Z", to: "2027-03-30T00:00:00Z", max: 10,
			want: []string{"2027-03-27T09:00:00+01:00", "2027-03-28T09:00:00+02:00", "2027-03-29T09:00:00+02:00"},
		},
		{
			name: "09:00 stays 09:00 across fall back", cron: "0 9 * * *", zone: "America/New_York",
			from: "2027-11-06T00:00:00Z", to: "2027-11-09T00:00:00Z", max: 10,
			want: []string{"2027-11-06T09:00:00-04:00", "2027-11-07T09:00:00-05:00", "2027-11-08T09:00:00-05:00"},
		},
		{
			name: "a skipped wall time fires once, shifted by the gap", cron: "30 2 * * *", zone: "Europe/Berlin",
			from: "2027-03-27T00:00:00Z", to: "2027-03-30T00:00:00Z", max: 10,
			want: []string{"2027-03-27T02:30:00+01:00", "2027-03-28T03:30:00+02:00", "2027-03-29T02:30:00+02:00"},
		},
		{
			name: "a repeated wall time fires once, the first time", cron: "30 2 * * *", zone: "Europe/Berlin",
			from: "2027-10-30T00:00:00Z", to: "2027-11-02T00:00:00Z", max: 10,
			want: []string{"2027-10-30T02:30:00+02:00", "2027-10-31T02:30:00+02:00", "2027-11-01T02:30:00+01:00"},
		},
		{
			name: "New York spring forward", cron: "30 2 * * SUN", zone: "America/New_York",
			from: "2027-03-01T00:00:00Z", to: "2027-03-22T00:00:00Z", max: 10,
			want: []string{"2027-03-07T02:30:00-05:00", "2027-03-14T03:30:00-04:00", "2027-03-21T02:30:00-04:00"},
		},
		{
			name: "New York fall back", cron: "30 1 * * *", zone: "America/New_York",
			from: "2027-11-06T00:00:00Z", to: "2027-11-09T00:00:00Z", max: 10,
			want: []string{"2027-11-06T01:30:00-04:00", "2027-11-07T01:30:00-04:00", "2027-11-08T01:30:00-05:00"},
		},
		{
			name: "every minute over the spring gap: no duplicates, no hole after it", cron: "* * * * *", zone: "Europe/Berlin",
			from: "2027-03-28T00:58:00Z", to: "2027-03-28T01:02:00Z", max: 10,
			want: []string{"2027-03-28T01:58:00+01:00", "2027-03-28T01:59:00+01:00", "2027-03-28T03:00:00+02:00", "2027-03-28T03:01:00+02:00"},
		},
		{
			name: "every minute over the repeated hour pauses until it ends", cron: "* * * * *", zone: "Europe/Berlin",
			from: "2027-10-31T00:58:00Z", to: "2027-10-31T02:02:00Z", max: 100,
			// 02:00 to 02:59 happened already, in summer time.
			want: []string{"2027-10-31T02:58:00+02:00", "2027-10-31T02:59:00+02:00", "2027-10-31T03:00:00+01:00", "2027-10-31T03:01:00+01:00"},
		},
		{
			name: "half-hour offset", cron: "0 9 * * MON", zone: "Australia/Adelaide",
			from: "2027-03-29T00:00:00Z", to: "2027-04-13T00:00:00Z", max: 10,
			want: []string{"2027-04-05T09:00:00+09:30", "2027-04-12T09:00:00+09:30"},
		},
		{
			name: "Kolkata", cron: "30 18 1 * *", zone: "Asia/Kolkata",
			from: "2027-01-01T00:00:00Z", to: "2027-03-02T00:00:00Z", max: 10,
			want: []string{"2027-01-01T18:30:00+05:30", "2027-02-01T18:30:00+05:30", "2027-03-01T18:30:00+05:30"},
		},
		{
			name: "end of month: only months with a 31st", cron: "0 9 31 * *", zone: "UTC",
			from: "2027-01-01T00:00:00Z", to: "2028-01-01T00:00:00Z", max: 20,
			want: []string{"2027-01-31T09:00:00Z", "2027-03-31T09:00:00Z", "2027-05-31T09:00:00Z", "2027-07-31T09:00:00Z",
				"2027-08-31T09:00:00Z", "2027-10-31T09:00:00Z", "2027-12-31T09:00:00Z"},
		},
		{
			name: "February 29", cron: "0 9 29 2 *", zone: "Europe/Berlin",
			from: "2027-01-01T00:00:00Z", to: "2037-01-01T00:00:00Z", max: 20,
			want: []string{"2028-02-29T09:00:00+01:00", "2032-02-29T09:00:00+01:00", "2036-02-29T09:00:00+01:00"},
		},
		{
			name: "February 29 across 2100, eight years apart", cron: "0 9 29 2 *", zone: "UTC",
			from: "2097-01-01T00:00:00Z", to: "2110-01-01T00:00:00Z", max: 20,
			want: []string{"2104-02-29T09:00:00Z", "2108-02-29T09:00:00Z"},
		},
		{
			name: "max", cron: "0 9 * * *", zone: "UTC",
			from: "2027-01-01T00:00:00Z", to: "2028-01-01T00:00:00Z", max: 2,
			want: []string{"2027-01-01T09:00:00Z", "2027-01-02T09:00:00Z"},
		},
		{
			name: "from is included, to is not", cron: "0 9 * * *", zone: "UTC",
			from: "2027-01-01T09:00:00Z", to: "2027-01-03T09:00:00Z", max: 5,
			want: []string{"2027-01-01T09:00:00Z", "2027-01-02T09:00:00Z"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRepeat(t, tc.cron, tc.zone)
			got := r.Occurrences(utc(tc.from), utc(tc.to), tc.max)
			require.Equal(t, tc.want, formatAll(got))
		})
	}
}

func TestEveryMinuteForAnHour(t *testing.T) {
	r := mustRepeat(t, "* 9 * * *", "Europe/Berlin")
	got := r.Occurrences(utc("2027-03-28T00:00:00Z"), utc("2027-03-29T00:00:00Z"), 1000)
	require.Len(t, got, 60)
	require.Equal(t, "2027-03-28T09:00:00+02:00", got[0].Format(time.RFC3339))
	require.Equal(t, "2027-03-28T09:59:00+02:00", got[59].Format(time.RFC3339))
	for i := 1; i < len(got); i++ {
		require.Equal(t, time.Minute, got[i].Sub(got[i-1]))
	}
	// The latest at 09:30:30 is 09:30; the next is 09:31.
	at := utc("2027-03-28T07:30:30Z")
	require.Equal(t, "2027-03-28T09:30:00+02:00", r.latest(at).Format(time.RFC3339))
	require.Equal(t, "2027-03-28T09:31:00+02:00", r.next(at).Format(time.RFC3339))
	// After 09:59 the next is tomorrow's 09:00.
	at = utc("2027-03-28T08:00:00Z")
	require.Equal(t, "2027-03-28T09:59:00+02:00", r.latest(at).Format(time.RFC3339))
	require.Equal(t, "2027-03-29T09:00:00+02:00", r.next(at).Format(time.RFC3339))
}

// TestLatestAndNextAtTheEdges: a clock exactly on an occurrence makes it
// the latest; one nanosecond earlier makes it the next.
func TestLatestAndNextAtTheEdges(t *testing.T) {
	r := mustRepeat(t, "0 9 * * MON", "Europe/Berlin")
	occ := utc("2027-03-29T07:00:00Z") // Monday 09:00 CEST
	require.True(t, r.latest(occ).Equal(occ))
	require.Equal(t, "2027-04-05T09:00:00+02:00", r.next(occ).Format(time.RFC3339))
	before := occ.Add(-time.Nanosecond)
	require.Equal(t, "2027-03-22T09:00:00+01:00", r.latest(before).Format(time.RFC3339))
	require.True(t, r.next(before).Equal(occ))

	r.From = utc("2027-03-29T07:00:00Z")
	r.Until = utc("2027-04-12T07:00:00Z")
	require.True(t, r.latest(before).IsZero(), "nothing before from")
	require.True(t, r.next(before).Equal(occ), "from is included")
	require.Equal(t, 2, r.remainingAfter(occ))
	require.True(t, r.latest(utc("2030-01-01T00:00:00Z")).Equal(r.Until), "until is included and stays the latest")
	require.True(t, r.next(r.Until).IsZero())
	require.Equal(t, 0, r.remainingAfter(r.Until))
}

func TestParseCron(t *testing.T) {
	for _, ok := range []string{"0 9 * * MON", "*/15 * * * *", "0 9 31 * *", "0 9 29 2 *", "@daily", "0 9 * * 1-5", "0 9 * * 7", "0 9 * jan,Dec sun", "0 9 ? * mon"} {
		_, err := parseCron(ok)
		require.NoError(t, err, ok)
	}
	const days = "use SUN, MON, TUE, WED, THU, FRI, SAT or 0-7"
	const months = "use JAN, FEB, MAR, APR, MAY, JUN, JUL, AUG, SEP, OCT, NOV, DEC or 1-12"
	for bad, want := range map[string]string{
		"0 9 * *":                    "five-field",
		"0 9 * * * *":                "five-field",
		"61 9 * * *":                 `"61 9 * * *": minute 61 is out of range: use 0-59`,
		"0 24 * * *":                 "hour 24 is out of range: use 0-23",
		"0 9 0 * *":                  "day of month 0 is out of range: use 1-31",
		"0 9 * * FUNDAY":             `unknown day of week "FUNDAY": ` + days,
		"0 9 * * TUES":               `"0 9 * * TUES": unknown day of week "TUES": ` + days,
		"0 9 * * Tu":                 `unknown day of week "Tu": ` + days,
		"0 9 * * MON-Fr":             `unknown day of week "Fr": ` + days,
		"0 9 * * 1,8":                "day of week 8 is out of range: " + days,
		"0 9 1 Sept *":               `unknown month "Sept": ` + months,
		"0 9 1 13 *":                 "month 13 is out of range: " + months,
		"0 9 1 * * ":                 "", // trailing space is fine: see below
		"x 9 * * *":                  `minute "x" is not a number: use 0-59`,
		"0 9 * * 7-1":                "five-field", // the parser's own: a range that runs backwards
		"@every 1h":                  "interval",
		"TZ=Europe/Berlin 0 9 * * *": "timezone",
		"":                           "five-field",
	} {
		_, err := parseCron(bad)
		if want == "" {
			require.NoError(t, err, bad)
			continue
		}
		require.ErrorContains(t, err, want, bad)
	}
}

// TestCronSundaySeven: 7 is Sunday, as 0 is, alone, in ranges, in lists
// and with steps.
func TestCronSundaySeven(t *testing.T) {
	for expr, same := range map[string]string{
		"0 9 * * 7":       "0 9 * * 0",
		"0 9 * * 5-7":     "0 9 * * 0,5,6",
		"0 9 * * FRI-7":   "0 9 * * 0,5,6",
		"0 9 * * 1,7":     "0 9 * * 0,1",
		"0 9 * * 0-7":     "0 9 * * 0-6",
		"0 9 * * 1-7/2":   "0 9 * * 1,3,5,0",
		"0 9 * * 7/3":     "0 9 * * 0",
		"0 9 * * 7,MON-5": "0 9 * * 0-5",
	} {
		got, err := parseCron(expr)
		require.NoError(t, err, expr)
		want, err := parseCron(same)
		require.NoError(t, err, same)
		require.Equal(t, fieldValues(want.Dow, 0, 6), fieldValues(got.Dow, 0, 6), expr)
		r := mustRepeat(t, expr, "Europe/Berlin")
		w := mustRepeat(t, same, "Europe/Berlin")
		from := utc("2027-03-01T00:00:00Z")
		require.Equal(t, w.Occurrences(from, from.AddDate(0, 1, 0), 40), r.Occurrences(from, from.AddDate(0, 1, 0), 40), expr)
	}
	require.Equal(t, "every Sunday at 09:00 (Europe/Berlin)", mustRepeat(t, "0 9 * * 7", "Europe/Berlin").Rule)
}

// TestCronDaysEitherOr: with both the day of month and the day of week
// restricted, a day matching either fires, as in cron; with one of them
// * (or ?), only days matching both.
func TestCronDaysEitherOr(t *testing.T) {
	days := func(expr string) []string {
		r := mustRepeat(t, expr, "UTC")
		var out []string
		for _, o := range r.Occurrences(utc("2027-03-01T00:00:00Z"), utc("2027-03-16T00:00:00Z"), 40) {
			out = append(out, o.Format("Mon 02"))
		}
		return out
	}
	// 1 March 2027 is a Monday.
	require.Equal(t, []string{"Mon 01", "Wed 03", "Fri 05", "Sun 07", "Mon 08", "Tue 09", "Thu 11", "Sat 13", "Mon 15"},
		days("0 9 */2 * MON"), "odd days, and every Monday besides (8 is even)")
	require.Equal(t, []string{"Mon 01", "Tue 02", "Wed 03", "Thu 04", "Fri 05", "Sat 06", "Sun 07", "Mon 08", "Mon 15"}, days("0 9 1-7 * MON"))
	require.Equal(t, []string{"Mon 01", "Mon 08", "Mon 15"}, days("0 9 * * MON"))
	require.Equal(t, []string{"Mon 01", "Mon 08", "Mon 15"}, days("0 9 ? * MON"))
	require.Equal(t, []string{"Mon 01", "Wed 03", "Fri 05", "Sun 07", "Tue 09", "Thu 11", "Sat 13", "Mon 15"}, days("0 9 */2 * *"))
}

func TestCronDaysWarning(t *testing.T) {
	for expr, want := range map[string]bool{
		"0 9 */2 * MON":  true,
		"0 9 1-7 * MON":  true,
		"0 9 1,15 * 5":   true,
		"0 9 1-31 * MON": true,
		"0 9 1 * 1-5/1":  true,
		"0 9 * * MON":    false,
		"0 9 ? * MON":    false,
		"0 9 1 * ?":      false,
		"0 9 1 * *":      false,
		"0 9 */1 * MON":  false, // */1 is *, as the parser reads it
		"@monthly":       false,
		"@weekly":        false,
	} {
		sched, err := parseCron(expr)
		require.NoError(t, err, expr)
		d := cronDaysWarning(expr, sched, hcl.StaticExpr(cty.StringVal(expr), hcl.Range{Filename: "main.hcl"}))
		require.Equal(t, want, d != nil, expr)
	}
	sched, err := parseCron("0 9 */2 * MON")
	require.NoError(t, err)
	d := cronDaysWarning("0 9 */2 * MON", sched, hcl.StaticExpr(cty.StringVal(""), hcl.Range{Filename: "main.hcl"}))
	require.Equal(t, hcl.DiagWarning, d.Severity)
	require.Contains(t, d.Detail, `"0 9 */2 * MON" restricts both the day of month (*/2) and the day of week (MON)`)
	require.Contains(t, d.Detail, `write "0 9 */2 * *"`)
	require.Contains(t, d.Detail, `write "0 9 * * MON"`)
	require.Contains(t, d.Detail, "Unlike Vixie cron")
}

// TestCronDiagnosticsThroughLoad: the warning and the errors about names
// carry the cron attribute's range.
func TestCronDiagnosticsThroughLoad(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "main.hcl", `group "g" {
  thread_id = "t"
  from      = "+14155552671"
}
message "odd_days" {
  group = group.g
  repeat {
    cron = "0 9 1-7 * MON"
  }
  text = "x"
}
message "weekly" {
  group = group.g
  repeat { cron = "0 9 * * 7" }
  text = "x"
}
`)
	cfg, diags := Load(dir, LoadOptions{At: utc("2027-03-03T00:00:00Z"), Getenv: func(string) string { return "" }})
	require.False(t, diags.HasErrors(), "%s", diagText(cfg, diags))
	require.Len(t, diags, 1, "%s", diagText(cfg, diags))
	d := diags[0]
	require.Equal(t, hcl.DiagWarning, d.Severity)
	require.Equal(t, "Day of month and day of week both restricted", d.Summary)
	require.NotNil(t, d.Subject)
	require.Equal(t, 8, d.Subject.Start.Line)
	require.Equal(t, 12, d.Subject.Start.Column)
	require.Equal(t, 27, d.Subject.End.Column)
	require.Contains(t, d.Detail, "(a MON that is also one of the days 1-7)")
	require.Equal(t, "on days 1, 2, 3, 4, 5, 6 and 7 of every month and every Monday at 09:00 (UTC)", cfg.Repeats["odd_days"].Rule)

	write(t, dir, "main.hcl", `group "g" {
  thread_id = "t"
  from      = "+14155552671"
}
message "m" {
  group = group.g
  repeat {
    cron = "0 9 * * TUES"
  }
  text = "x"
}
`)
	cfg, diags = Load(dir, LoadOptions{At: utc("2027-03-03T00:00:00Z"), Getenv: func(string) string { return "" }})
	require.True(t, diags.HasErrors())
	require.Len(t, diags, 1, "%s", diagText(cfg, diags))
	d = diags[0]
	require.Equal(t, "Invalid cron expression", d.Summary)
	require.Equal(t, `"0 9 * * TUES": unknown day of week "TUES": use SUN, MON, TUE, WED, THU, FRI, SAT or 0-7.`, d.Detail)
	require.Equal(t, 8, d.Subject.Start.Line)
	require.Equal(t, 12, d.Subject.Start.Column)
}

func TestDescribeRule(t *testing.T) {
	for expr, want := range map[string]string{
		"0 9 * * MON":      "every Monday at 09:00 (Europe/Berlin)",
		"0 9 * * 1-5":      "every weekday at 09:00 (Europe/Berlin)",
		"0 9 * * *":        "every day at 09:00 (Europe/Berlin)",
		"30 8,17 * * *":    "every day at 08:30 and 17:30 (Europe/Berlin)",
		"0 9 31 * *":       "on day 31 of every month at 09:00 (Europe/Berlin)",
		"0 9 1,15 * *":     "on days 1 and 15 of every month at 09:00 (Europe/Berlin)",
		"0 9 29 2 *":       "every year on February 29 at 09:00 (Europe/Berlin)",
		"* * * * *":        "every minute (Europe/Berlin)",
		"* 9 * * *":        "every minute from 09:00 to 09:59 (Europe/Berlin)",
		"15 * * * *":       "every hour at :15 (Europe/Berlin)",
		"15 * * * SAT,SUN": "every hour at :15, every Saturday and Sunday (Europe/Berlin)",
		"0 9 * 12 *":       "every day in December at 09:00 (Europe/Berlin)",
		"*/5 9-17 * * *":   `on cron schedule "*/5 9-17 * * *" (Europe/Berlin)`,
		"0 9 1 * MON":      "on day 1 of every month and every Monday at 09:00 (Europe/Berlin)",
		"0 9 1,15 * 1-5":   "on days 1 and 15 of every month and every weekday at 09:00 (Europe/Berlin)",
		"0 9 1-31 * MON":   "every day at 09:00 (Europe/Berlin)",
		"0 9 1 * 0-6":      "every day at 09:00 (Europe/Berlin)",
		"0 9 1-10 * MON":   `on cron schedule "0 9 1-10 * MON" (Europe/Berlin)`,
		"0 9 1 3 MON":      `on cron schedule "0 9 1 3 MON" (Europe/Berlin)`,
	} {
		r := mustRepeat(t, expr, "Europe/Berlin")
		require.Equal(t, want, r.Rule, expr)
	}
}

// TestShiftNote: occurrences moved by daylight saving say so.
func TestShiftNote(t *testing.T) {
	r := mustRepeat(t, "30 2 * * *", "Europe/Berlin")
	require.Contains(t, r.shiftNote(utc("2027-03-28T01:30:00Z")), "2027-03-28 02:30 does not happen in Europe/Berlin")
	require.Contains(t, r.shiftNote(utc("2027-10-31T00:30:00Z")), "2027-10-31 02:30 happens twice")
	require.Empty(t, r.shiftNote(utc("2027-03-29T00:30:00Z")))
}

func loadRepeat(t *testing.T, at time.Time, body string) (*Config, string) {
	t.Helper()
	dir := t.TempDir()
	write(t, dir, "main.hcl", body)
	cfg, diags := Load(dir, LoadOptions{At: at, Getenv: func(string) string { return "" }})
	require.False(t, diags.HasErrors(), "%s", diagText(cfg, diags))
	return cfg, diagText(cfg, diags)
}

const standupConfig = `
provider "a1base" {
  from     = "+14155552671"
  timezone = "America/New_York"
}
group "eng" {
  thread_id = "t-eng"
  timezone  = "Europe/Berlin"
}
message "standup" {
  group = group.eng
  repeat {
    cron  = "0 9 * * MON"
    from  = "2027-03-01 00:00"
    until = "2027-04-12T09:00:00+02:00"
  }
  text = "Standup in 15 minutes (${formatdate("DD MMM", each.key)}, ${each.value})"
}
message "once" {
  group   = group.eng
  send_at = "2027-03-29 10:00"
  text    = "once"
}
`

func TestLoadRepeat(t *testing.T) {
	at := utc("2027-03-24T12:00:00Z") // Wednesday
	cfg, _ := loadRepeat(t, at, standupConfig)
	require.Equal(t, "Europe/Berlin", cfg.Groups["eng"].Timezone.String())
	require.Equal(t, "America/New_York", cfg.Provider.Timezone.String())

	var got []string
	for _, in := range cfg.Instances {
		got = append(got, in.Addr.String())
	}
	require.Equal(t, []string{
		`message.standup["2027-03-22T09:00:00+01:00"]`,
		`message.standup["2027-03-29T09:00:00+02:00"]`,
		`message.once`,
	}, got)

	due, next, once := cfg.Instances[0], cfg.Instances[1], cfg.Instances[2]
	require.Equal(t, "Standup in 15 minutes (22 Mar, 2027-03-22T09:00:00+01:00)", due.Text)
	require.Equal(t, "Standup in 15 minutes (29 Mar, 2027-03-29T09:00:00+02:00)", next.Text)
	require.Equal(t, "2027-03-29T10:00:00+02:00", once.SendAt.Format(time.RFC3339), "wall time in the group's zone")
	require.Nil(t, once.Repeat)

	ri := due.Repeat
	require.NotNil(t, ri)
	require.Equal(t, "every Monday at 09:00 (Europe/Berlin)", ri.Rule)
	require.Equal(t, "0 9 * * MON", ri.Cron)
	require.Equal(t, "Europe/Berlin", ri.Timezone.String())
	require.Equal(t, "2027-03-01T00:00:00+01:00", ri.From.Format(time.RFC3339))
	require.True(t, ri.Next.Equal(next.SendAt))
	require.Equal(t, 3, ri.Remaining, "29 Mar, 5 Apr and 12 Apr (until is included)")
	require.Equal(t, 2, next.Repeat.Remaining)
	require.Equal(t, 7*24*time.Hour-time.Hour, ri.Period, "the week with the clock change is an hour short")
	require.Equal(t, 24*time.Hour, due.ExpiresAfter, "the smaller of 24h and the period")
	require.Equal(t, "Europe/Berlin", due.Timezone.String())
	require.Equal(t, "Europe/Berlin", due.SendAt.Location().String())

	rule := cfg.Repeats["standup"]
	require.NotNil(t, rule)
	require.Equal(t, []string{"2027-04-05T09:00:00+02:00", "2027-04-12T09:00:00+02:00"},
		formatAll(rule.Occurrences(utc("2027-03-30T00:00:00Z"), utc("2028-01-01T00:00:00Z"), 10)))
}

// TestLoadRepeatClock: without a clock a repeat message adds no instances
// but its rule is known; a clock before from plans only the first
// occurrence, after until only the last.
func TestLoadRepeatClock(t *testing.T) {
	cfg, _ := loadRepeat(t, time.Time{}, standupConfig)
	require.Len(t, cfg.Instances, 1)
	require.Equal(t, "message.once", cfg.Instances[0].Addr.String())
	require.Contains(t, cfg.Repeats, "standup")

	cfg, _ = loadRepeat(t, utc("2026-01-01T00:00:00Z"), standupConfig)
	require.Equal(t, `message.standup["2027-03-01T09:00:00+01:00"]`, cfg.Instances[0].Addr.String())
	require.Len(t, cfg.Instances, 2)

	cfg, _ = loadRepeat(t, utc("2030-01-01T00:00:00Z"), standupConfig)
	require.Equal(t, `message.standup["2027-04-12T09:00:00+02:00"]`, cfg.Instances[1].Addr.String())
	require.Len(t, cfg.Instances, 2)
	last := cfg.Instances[1].Repeat
	require.True(t, last.Next.IsZero())
	require.Zero(t, last.Period)
	require.Equal(t, 0, last.Remaining)
}

func TestRepeatExpiresAfter(t *testing.T) {
	body := func(cron, expires string) string {
		return fmt.Sprintf(`
group "g" {
  thread_id = "t"
  from      = "+14155552671"
}
message "m" {
  group = group.g
  repeat { cron = %q }
  %s
  text = "x"
}
`, cron, expires)
	}
	at := utc("2027-01-01T12:00:30Z")
	cfg, _ := loadRepeat(t, at, body("*/10 * * * *", ""))
	require.Equal(t, 10*time.Minute, cfg.Instances[0].ExpiresAfter, "the period when shorter than 24h")
	require.Equal(t, "UTC", cfg.Instances[0].Timezone.String(), "UTC when no zone is in scope")
	require.Equal(t, `message.m["2027-01-01T12:00:00Z"]`, cfg.Instances[0].Addr.String())
	require.Equal(t, -1, cfg.Instances[0].Repeat.Remaining, "no until")
	cfg, _ = loadRepeat(t, at, body("*/10 * * * *", `expires_after = "1h"`))
	require.Equal(t, time.Hour, cfg.Instances[0].ExpiresAfter, "an explicit expires_after wins")
	cfg, _ = loadRepeat(t, at, body("0 9 * * MON", ""))
	require.Equal(t, 24*time.Hour, cfg.Instances[0].ExpiresAfter)
}

func TestWallTimeWarnings(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "main.hcl", `
provider "a1base" {
  from     = "+14155552671"
  timezone = "Europe/Berlin"
}
group "g" { thread_id = "t" }
message "skipped" {
  group   = group.g
  send_at = "2027-03-28 02:30"
  text    = "x"
}
message "twice" {
  group    = group.g
  timezone = "America/New_York"
  send_at  = "2027-11-07 01:30"
  text     = "x"
}
message "nightly" {
  group = group.g
  repeat { cron = "30 2 * * *" }
  text = "x"
}
`)
	cfg, diags := Load(dir, LoadOptions{At: utc("2027-03-28T01:30:00Z"), Getenv: func(string) string { return "" }})
	require.False(t, diags.HasErrors(), "%s", diagText(cfg, diags))
	var details []string
	for _, d := range diags {
		require.Equal(t, "Wall time changed by daylight saving", d.Summary)
		require.NotNil(t, d.Subject)
		details = append(details, d.Detail)
	}
	text := strings.Join(details, "\n")
	require.Len(t, details, 3, text)
	require.Contains(t, text, "The send_at 2027-03-28 02:30 does not happen in Europe/Berlin")
	require.Contains(t, text, "The send_at 2027-11-07 01:30 happens twice in America/New_York (the clocks go back); herald uses the earlier instant, 2027-11-07T01:30:00-04:00")
	require.Contains(t, text, `(in message.nightly["2027-03-28T03:30:00+02:00"])`)
}

func TestSensitiveRepeatRule(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "main.hcl", `
variable "rule" {
  type      = string
  sensitive = true
}
group "g" {
  thread_id = "t"
  from      = "+14155552671"
}
message "m" {
  group = group.g
  repeat { cron = var.rule }
  text = "x"
}
`)
	cfg, diags := Load(dir, LoadOptions{Vars: []VarArg{{Value: "rule=0 9 * * MON"}}, At: utc("2027-01-01T00:00:00Z"), Getenv: func(string) string { return "" }})
	require.True(t, diags.HasErrors())
	text := diagText(cfg, diags)
	require.Contains(t, text, "Invalid cron expression")
	require.NotContains(t, text, "0 9 * * MON")
}

// BenchmarkRepeatExpansion measures what a plan costs per repeat message:
// the latest and next occurrence and the count until until, for a weekly
// rule and for one firing every minute on the night the clocks change.
func BenchmarkRepeatExpansion(b *testing.B) {
	for _, bc := range []struct{ name, cron, at string }{
		{"weekly", "0 9 * * MON", "2027-06-02T12:00:00Z"},
		{"every_minute_dst_night", "* * * * *", "2027-03-28T01:00:30Z"},
		{"leap_day", "0 9 29 2 *", "2027-06-02T12:00:00Z"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			sched, err := parseCron(bc.cron)
			if err != nil {
				b.Fatal(err)
			}
			loc, _ := loadZone("Europe/Berlin")
			r := &Repeat{Cron: bc.cron, Timezone: loc, sched: sched, Until: utc("2028-12-31T00:00:00Z")}
			at := utc(bc.at)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				latest, prev := r.latestTwo(at)
				_ = r.infos([]time.Time{latest, r.next(at)}, prev)
			}
		})
	}
}

// TestNextRightAfterTheGap: walls skipped by the gap land on real times
// after it; next and latest see each instant once.
func TestNextRightAfterTheGap(t *testing.T) {
	r := mustRepeat(t, "* * * * *", "Europe/Berlin")
	at := utc("2027-03-28T01:00:30Z") // 03:00:30 CEST
	require.Equal(t, "2027-03-28T03:01:00+02:00", r.next(at).Format(time.RFC3339))
	require.Equal(t, "2027-03-28T03:00:00+02:00", r.latest(at).Format(time.RFC3339))
	r = mustRepeat(t, "30 2 * * *", "Europe/Berlin")
	require.Equal(t, "2027-03-28T03:30:00+02:00", r.next(at).Format(time.RFC3339))
	require.Equal(t, "2027-03-27T02:30:00+01:00", r.latest(at).Format(time.RFC3339))
	require.Equal(t, "2027-03-28T03:30:00+02:00", r.latest(utc("2027-03-28T01:45:00Z")).Format(time.RFC3339))
}

// TestLatestTwo: the latest occurrence and the one before it, which an
// import of that occurrence takes no older thread message than; none
// before from.
func TestLatestTwo(t *testing.T) {
	for _, tc := range []struct {
		cron, at, from, last, prev string
	}{
		{cron: "0 9 * * *", at: "2027-06-02T12:00:00Z", last: "2027-06-02T09:00:00+02:00", prev: "2027-06-01T09:00:00+02:00"},
		{cron: "* * * * *", at: "2027-06-02T12:00:30Z", last: "2027-06-02T14:00:00+02:00", prev: "2027-06-02T13:59:00+02:00"},
		{cron: "0 9 1 1 *", at: "2027-06-02T12:00:00Z", last: "2027-01-01T09:00:00+01:00", prev: "2026-01-01T09:00:00+01:00"},
		{cron: "0 9 29 2 *", at: "2027-06-02T12:00:00Z", last: "2024-02-29T09:00:00+01:00", prev: "2020-02-29T09:00:00+01:00"},
		{cron: "0 9 * * *", at: "2027-06-02T12:00:00Z", from: "2027-06-02T00:00:00Z", last: "2027-06-02T09:00:00+02:00"},
	} {
		r := mustRepeat(t, tc.cron, "Europe/Berlin")
		if tc.from != "" {
			r.From = utc(tc.from)
		}
		last, prev := r.latestTwo(utc(tc.at))
		require.Equal(t, tc.last, last.In(r.Timezone).Format(time.RFC3339), tc.cron)
		if tc.prev == "" {
			require.True(t, prev.IsZero(), "%s: %s", tc.cron, prev)
			continue
		}
		require.Equal(t, tc.prev, prev.In(r.Timezone).Format(time.RFC3339), tc.cron)
	}
}

// TestCountBetween: the occurrences strictly between two moments, from
// the rule's from when the first is zero, and none without either; the
// walk stops at max.
func TestCountBetween(t *testing.T) {
	weekly := mustRepeat(t, "0 9 * * MON", "Europe/Berlin")
	n, first := weekly.CountBetween(utc("2027-03-29T07:00:00Z"), utc("2027-04-19T07:00:00Z"), 1000)
	require.Equal(t, 2, n, "5 and 12 April")
	require.Equal(t, "2027-04-05T09:00:00+02:00", first.In(weekly.Timezone).Format(time.RFC3339))

	n, first = weekly.CountBetween(time.Time{}, utc("2027-04-19T07:00:00Z"), 1000)
	require.Equal(t, 0, n, "no from and nothing known: no start")
	require.True(t, first.IsZero())

	weekly.From = utc("2027-03-29T07:00:00Z")
	n, _ = weekly.CountBetween(time.Time{}, utc("2027-04-19T07:00:00Z"), 1000)
	require.Equal(t, 3, n, "from is included: 29 March, 5 and 12 April")

	n, _ = weekly.CountBetween(utc("2027-04-19T07:00:00Z"), utc("2027-04-19T07:00:00Z"), 1000)
	require.Equal(t, 0, n)

	minutes := mustRepeat(t, "* * * * *", "UTC")
	n, first = minutes.CountBetween(utc("2027-01-01T00:00:00Z"), utc("2028-01-01T00:00:00Z"), 1000)
	require.Equal(t, 1000, n, "the walk stops at max")
	require.Equal(t, utc("2027-01-01T00:01:00Z"), first)
	n, _ = minutes.CountBetween(utc("2027-01-01T00:00:00Z"), utc("2027-01-01T01:00:00Z"), 1000)
	require.Equal(t, 59, n, "both ends excluded")
}
