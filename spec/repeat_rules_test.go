package spec

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/require"
)

// ruleWith is mustRepeat with the bounds of a repeat block applied as the
// loader applies them: from, interval, count and except.
func ruleWith(t testing.TB, cronExpr, zoneName, from, interval string, count int, except ...string) *Repeat {
	t.Helper()
	r := mustRepeat(t, cronExpr, zoneName)
	if from != "" {
		f, _, err := parseMoment(from, r.Timezone)
		require.NoError(t, err)
		r.From = f
	}
	r.fromDay = civilDay(wallOf(r.From, r.Timezone))
	if interval != "" {
		iv, err := parseInterval(interval)
		require.NoError(t, err)
		r.Interval = iv
	}
	if count > 0 {
		r.Count = count
		n := 0
		var last time.Time
		r.walkRule(r.From.Add(-time.Nanosecond), false, func(o time.Time) bool { n++; last = o; return n < count })
		if n == count && (r.Until.IsZero() || last.Before(r.Until)) {
			r.Last = last
		}
	}
	for _, e := range except {
		if datePattern.MatchString(e) {
			d, err := time.Parse(dateLayout, e)
			require.NoError(t, err)
			if r.exceptDays == nil {
				r.exceptDays = map[int64]bool{}
			}
			r.exceptDays[civilDay(d)] = true
		} else {
			at, _, err := parseMoment(e, r.Timezone)
			require.NoError(t, err)
			if r.exceptTimes == nil {
				r.exceptTimes = map[int64]bool{}
			}
			r.exceptTimes[at.UnixNano()] = true
		}
		r.Except = append(r.Except, e)
	}
	r.Rule = r.describeBounds(r.Rule)
	return r
}

func TestParseInterval(t *testing.T) {
	for s, want := range map[string]Interval{
		"2 weeks": {N: 2, Weeks: true}, "1 week": {N: 1, Weeks: true}, "3 days": {N: 3}, "1 day": {N: 1},
		" 2  Weeks ": {N: 2, Weeks: true}, "520 weeks": {N: 520, Weeks: true}, "3660 days": {N: 3660},
	} {
		got, err := parseInterval(s)
		require.NoError(t, err, s)
		require.Equal(t, want, got, s)
	}
	for s, want := range map[string]string{
		"2w":        `"2w" is not an interval: write a number of days or weeks, such as "2 weeks" or "3 days"`,
		"2 months":  "is not an interval",
		"0 weeks":   `"0 weeks" is out of range: an interval is 1 to 520 weeks`,
		"521 weeks": "1 to 520 weeks",
		"3661 days": "1 to 3660 days",
		"-1 days":   "is not an interval",
		"":          "is not an interval",
	} {
		_, err := parseInterval(s)
		require.ErrorContains(t, err, want, s)
	}
	require.Equal(t, "2 weeks", Interval{N: 2, Weeks: true}.String())
	require.Equal(t, "1 day", Interval{N: 1}.String())
	require.Equal(t, "", Interval{}.String())
}

// TestRepeatInterval: only the days, or the weeks (Monday to Sunday),
// that are a multiple of the interval from from's, by local date, so that
// daylight saving never moves them.
func TestRepeatInterval(t *testing.T) {
	for _, tc := range []struct {
		name, cron, zone, from, interval string
		span                             [2]string
		want                             []string
	}{
		{
			name: "fortnightly over spring forward", cron: "0 9 * * MON", zone: "Europe/Berlin", from: "2027-03-01 00:00", interval: "2 weeks",
			span: [2]string{"2027-03-01T00:00:00Z", "2027-04-20T00:00:00Z"},
			want: []string{"2027-03-01T09:00:00+01:00", "2027-03-15T09:00:00+01:00", "2027-03-29T09:00:00+02:00", "2027-04-12T09:00:00+02:00"},
		},
		{
			name: "fortnightly over fall back", cron: "0 9 * * MON", zone: "Europe/Berlin", from: "2027-03-01 00:00", interval: "2 weeks",
			span: [2]string{"2027-10-01T00:00:00Z", "2027-11-30T00:00:00Z"},
			want: []string{"2027-10-11T09:00:00+02:00", "2027-10-25T09:00:00+02:00", "2027-11-08T09:00:00+01:00", "2027-11-22T09:00:00+01:00"},
		},
		{
			// Weeks run Monday to Sunday: from a Wednesday, that week's
			// Thursday is the first, its Monday (before from) is not.
			name: "weeks start on Monday", cron: "0 9 * * MON,THU", zone: "Europe/Berlin", from: "2027-03-03 00:00", interval: "2 weeks",
			span: [2]string{"2027-03-01T00:00:00Z", "2027-04-03T00:00:00Z"},
			want: []string{"2027-03-04T09:00:00+01:00", "2027-03-15T09:00:00+01:00", "2027-03-18T09:00:00+01:00", "2027-03-29T09:00:00+02:00", "2027-04-01T09:00:00+02:00"},
		},
		{
			name: "every third day over spring forward", cron: "0 9 * * *", zone: "Europe/Berlin", from: "2027-03-27 00:00", interval: "3 days",
			span: [2]string{"2027-03-01T00:00:00Z", "2027-04-06T00:00:00Z"},
			want: []string{"2027-03-27T09:00:00+01:00", "2027-03-30T09:00:00+02:00", "2027-04-02T09:00:00+02:00", "2027-04-05T09:00:00+02:00"},
		},
		{
			name: "every other day at the skipped 02:30", cron: "30 2 * * *", zone: "Europe/Berlin", from: "2027-03-26 00:00", interval: "2 days",
			span: [2]string{"2027-03-20T00:00:00Z", "2027-04-01T00:00:00Z"},
			want: []string{"2027-03-26T02:30:00+01:00", "2027-03-28T03:30:00+02:00", "2027-03-30T02:30:00+02:00"},
		},
		{
			name: "every minute of every other day", cron: "*/30 23 * * *", zone: "Europe/Berlin", from: "2027-10-30 00:00", interval: "2 days",
			span: [2]string{"2027-10-30T00:00:00Z", "2027-11-04T00:00:00Z"},
			want: []string{"2027-10-30T23:00:00+02:00", "2027-10-30T23:30:00+02:00", "2027-11-01T23:00:00+01:00", "2027-11-01T23:30:00+01:00", "2027-11-03T23:00:00+01:00", "2027-11-03T23:30:00+01:00"},
		},
		{
			name: "one week is every week", cron: "0 9 * * MON", zone: "UTC", from: "2027-03-01 00:00", interval: "1 week",
			span: [2]string{"2027-03-01T00:00:00Z", "2027-03-16T00:00:00Z"},
			want: []string{"2027-03-01T09:00:00Z", "2027-03-08T09:00:00Z", "2027-03-15T09:00:00Z"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ruleWith(t, tc.cron, tc.zone, tc.from, tc.interval, 0)
			got := r.Occurrences(utc(tc.span[0]), utc(tc.span[1]), 100)
			require.Equal(t, tc.want, formatAll(got))
		})
	}
}

// TestRepeatAgreement: latest, the one before it and next agree with the
// full list of occurrences, for rules whose occurrences interval, count
// and except thin out, at clocks all over two years: the look-back spans
// find the previous occurrence however far back it lies.
func TestRepeatAgreement(t *testing.T) {
	for _, tc := range []struct {
		name, cron, from, interval string
		count                      int
		except                     []string
	}{
		{name: "fortnightly", cron: "0 9 * * MON", from: "2027-03-01 00:00", interval: "2 weeks"},
		{name: "fortnightly, except", cron: "0 9 * * MON", from: "2027-03-01 00:00", interval: "2 weeks",
			except: []string{"2027-03-29", "2027-04-12 09:00", "2027-12-27"}},
		{name: "every 26 weeks", cron: "0 9 * * MON", from: "2027-03-01 00:00", interval: "26 weeks"},
		{name: "every 3 days, count", cron: "0 9,18 * * *", from: "2027-03-01 00:00", interval: "3 days", count: 40},
		{name: "hourly every 5 days", cron: "0 * * * *", from: "2027-03-01 00:00", interval: "5 days"},
		{name: "yearly in every 3rd week", cron: "0 9 1 * *", from: "2027-01-01 00:00", interval: "3 weeks"},
		{name: "count with except", cron: "30 2 * * SUN", from: "2027-03-01 00:00", count: 20, except: []string{"2027-03-28", "2027-10-31"}},
		{name: "except only", cron: "0 9 * * *", except: []string{"2027-03-28", "2027-03-29", "2027-03-30", "2027-10-31 09:00"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ruleWith(t, tc.cron, "Europe/Berlin", tc.from, tc.interval, tc.count, tc.except...)
			lo, hi := utc("2026-12-01T00:00:00Z"), utc("2029-01-01T00:00:00Z")
			all := r.Occurrences(lo.AddDate(-5, 0, 0), hi.AddDate(1, 0, 0), 100000)
			require.NotEmpty(t, all)
			for _, o := range all {
				for _, e := range tc.except {
					if datePattern.MatchString(e) {
						require.NotEqual(t, e, o.In(r.Timezone).Format(dateLayout), "excepted day")
					}
				}
			}
			if tc.count > 0 {
				require.LessOrEqual(t, len(all), tc.count)
				require.True(t, r.Last.Equal(all[len(all)-1]) || len(tc.except) > 0)
			}
			rnd := rand.New(rand.NewSource(1))
			clocks := []time.Time{}
			for _, o := range all {
				clocks = append(clocks, o, o.Add(-time.Nanosecond), o.Add(time.Minute))
			}
			for i := 0; i < 300; i++ {
				clocks = append(clocks, lo.Add(time.Duration(rnd.Int63n(int64(hi.Sub(lo))))))
			}
			for _, at := range clocks {
				if at.Before(lo) || at.After(hi) {
					continue
				}
				var wantLast, wantPrev, wantNext time.Time
				for _, o := range all {
					if o.After(at) {
						wantNext = o
						break
					}
					wantLast, wantPrev = o, wantLast
				}
				last, prev := r.latestTwo(at)
				require.Equal(t, wantLast.UnixNano(), last.UnixNano(), "latest at %s", at)
				require.Equal(t, wantPrev.UnixNano(), prev.UnixNano(), "previous at %s", at)
				require.Equal(t, wantNext.UnixNano(), r.next(at).UnixNano(), "next at %s", at)
				if !r.end().IsZero() {
					n := 0
					for _, o := range all {
						if o.After(at) {
							n++
						}
					}
					require.Equal(t, min(n, MaxRemaining), r.remainingAfter(at), "remaining at %s", at)
				}
			}
		})
	}
}

// TestRepeatNeverFiresWithInterval: an interval that leaves out every day
// the expression matches ends the walk instead of searching forever.
func TestRepeatNeverFiresWithInterval(t *testing.T) {
	r := ruleWith(t, "0 9 * * MON", "Europe/Berlin", "2027-03-02 00:00", "7 days", 0) // from a Tuesday
	start := time.Now()
	require.True(t, r.next(utc("2027-03-01T00:00:00Z")).IsZero())
	last, prev := r.latestTwo(utc("2030-03-01T00:00:00Z"))
	require.True(t, last.IsZero())
	require.True(t, prev.IsZero())
	require.Less(t, time.Since(start), 5*time.Second)
}

// TestRepeatCount: count ends the rule after that many occurrences from
// from; an occurrence that except removes still counts, and until ends
// it first when it comes first.
func TestRepeatCount(t *testing.T) {
	r := ruleWith(t, "0 9 * * MON", "Europe/Berlin", "2027-03-01 00:00", "", 3)
	require.Equal(t, "2027-03-15T09:00:00+01:00", r.Last.Format(time.RFC3339))
	require.Equal(t, []string{"2027-03-01T09:00:00+01:00", "2027-03-08T09:00:00+01:00", "2027-03-15T09:00:00+01:00"},
		formatAll(r.Occurrences(utc("2027-01-01T00:00:00Z"), utc("2028-01-01T00:00:00Z"), 10)))
	require.Equal(t, 2, r.remainingAfter(utc("2027-03-01T08:00:00Z")))
	require.Equal(t, 0, r.remainingAfter(r.Last))
	require.True(t, r.latest(utc("2030-01-01T00:00:00Z")).Equal(r.Last))
	require.True(t, r.next(r.Last).IsZero())
	require.Equal(t, "every Monday at 09:00, 3 times (Europe/Berlin)", r.Rule)

	r = ruleWith(t, "0 9 * * MON", "Europe/Berlin", "2027-03-01 00:00", "2 weeks", 3, "2027-03-15")
	require.Equal(t, []string{"2027-03-01T09:00:00+01:00", "2027-03-29T09:00:00+02:00"},
		formatAll(r.Occurrences(utc("2027-01-01T00:00:00Z"), utc("2028-01-01T00:00:00Z"), 10)), "the excepted 15 March still counts")
	require.Equal(t, "2027-03-29T09:00:00+02:00", r.Last.Format(time.RFC3339))
	require.Equal(t, 1, r.remainingAfter(utc("2027-03-01T08:00:00Z")))
	require.Equal(t, "every 2nd Monday at 09:00 from 1 March 2027, 3 times, except 1 date (Europe/Berlin)", r.Rule)

	// until before the count's end: until ends the rule, Last stays zero;
	// after it, the count's end does.
	for until, want := range map[string]string{"2027-03-10 00:00": "", "2027-12-31 00:00": "2027-03-29T09:00:00+02:00"} {
		dir := t.TempDir()
		write(t, dir, "main.hcl", `
group "g" {
  thread_id = "t"
  from      = "+14155552671"
  timezone  = "Europe/Berlin"
}
message "m" {
  group = group.g
  repeat {
    cron  = "0 9 * * MON"
    from  = "2027-03-01 00:00"
    until = "`+until+`"
    count = 5
  }
  text = "x"
}
`)
		cfg, diags := Load(dir, LoadOptions{At: utc("2027-03-02T00:00:00Z"), Getenv: func(string) string { return "" }})
		require.False(t, diags.HasErrors(), "%s", diagText(cfg, diags))
		ri := cfg.Instances[0].Repeat
		if want == "" {
			require.True(t, ri.Last.IsZero(), until)
			require.Equal(t, 1, ri.Remaining, "8 March, then until")
			continue
		}
		require.Equal(t, want, ri.Last.In(ri.Timezone).Format(time.RFC3339), until)
		require.Equal(t, 4, ri.Remaining)
	}
}

func TestDescribeBounds(t *testing.T) {
	for _, tc := range []struct {
		cron, interval string
		count          int
		except         []string
		want           string
	}{
		{cron: "0 9 * * MON", interval: "2 weeks", want: "every 2nd Monday at 09:00 from 1 March 2027 (Europe/Berlin)"},
		{cron: "0 9 * * MON", interval: "2 weeks", count: 10, except: []string{"2027-12-27", "2028-01-03"},
			want: "every 2nd Monday at 09:00 from 1 March 2027, 10 times, except 2 dates (Europe/Berlin)"},
		{cron: "0 9 * * MON,THU", interval: "3 weeks", want: "every Monday and Thursday at 09:00, in every 3rd week from 1 March 2027 (Europe/Berlin)"},
		{cron: "0 9 * * *", interval: "3 days", want: "every 3rd day at 09:00 from 1 March 2027 (Europe/Berlin)"},
		{cron: "0 9 * * 1-5", interval: "11 days", want: "every weekday at 09:00, in every 11th day from 1 March 2027 (Europe/Berlin)"},
		{cron: "0 9 * * MON", count: 1, want: "every Monday at 09:00, once (Europe/Berlin)"},
		{cron: "0 9 * * MON", except: []string{"2027-04-05", "2027-04-12 09:00"}, want: "every Monday at 09:00, except 1 date and 1 time (Europe/Berlin)"},
		{cron: "*/5 9-17 * * *", interval: "2 days", want: `on cron schedule "*/5 9-17 * * *", in every 2nd day from 1 March 2027 (Europe/Berlin)`},
	} {
		r := ruleWith(t, tc.cron, "Europe/Berlin", "2027-03-01 00:00", tc.interval, tc.count, tc.except...)
		require.Equal(t, tc.want, r.Rule)
	}
	require.Equal(t, []string{"1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"},
		[]string{ordinal(1), ordinal(2), ordinal(3), ordinal(4), ordinal(11), ordinal(12), ordinal(13), ordinal(21), ordinal(22), ordinal(101), ordinal(111)})
}

const fortnightlyConfig = `
provider "a1base" {
  from     = "+14155552671"
  timezone = "Europe/Berlin"
}
group "eng" { thread_id = "t-eng" }
message "standup" {
  group = group.eng
  repeat {
    cron     = "0 9 * * MON"
    from     = "2027-03-01 00:00"
    interval = "2 weeks"
    count    = 10
    except   = ["2027-04-26", "2027-05-10 09:00"]
    %s
  }
  text = "Standup ${each.key}"
}
`

func loadFortnightly(t *testing.T, at time.Time, occurrences string) (*Config, hcl.Diagnostics) {
	t.Helper()
	dir := t.TempDir()
	write(t, dir, "main.hcl", fmt.Sprintf(fortnightlyConfig, occurrences))
	return Load(dir, LoadOptions{At: at, Getenv: func(string) string { return "" }})
}

func addrsOf(cfg *Config) []string {
	var out []string
	for _, in := range cfg.Instances {
		out = append(out, in.Addr.String()+" "+in.SendAt.Format(time.RFC3339))
	}
	return out
}

// TestLoadRepeatBounds: interval, count and except through the loader,
// with the plan's two occurrences and what remains.
func TestLoadRepeatBounds(t *testing.T) {
	// 26 April is excepted: on 27 April the latest is 12 April.
	cfg, diags := loadFortnightly(t, utc("2027-04-27T12:00:00Z"), "")
	require.False(t, diags.HasErrors(), "%s", diagText(cfg, diags))
	require.Empty(t, diags, "%s", diagText(cfg, diags))
	require.Equal(t, []string{
		`message.standup["2027-04-12T09:00:00+02:00"] 2027-04-12T09:00:00+02:00`,
		`message.standup["2027-05-24T09:00:00+02:00"] 2027-05-24T09:00:00+02:00`,
	}, addrsOf(cfg), "26 April and 10 May are excepted")
	ri := cfg.Instances[0].Repeat
	require.Equal(t, "every 2nd Monday at 09:00 from 1 March 2027, 10 times, except 1 date and 1 time (Europe/Berlin)", ri.Rule)
	require.Equal(t, "2 weeks", ri.Interval)
	require.Equal(t, 10, ri.Count)
	require.Equal(t, []string{"2027-04-26", "2027-05-10 09:00"}, ri.Except)
	// Ten fortnights from 1 March: the 10th is 5 July.
	require.Equal(t, "2027-07-05T09:00:00+02:00", ri.Last.In(ri.Timezone).Format(time.RFC3339))
	// After 12 April: 24 May, 7 June, 21 June, 5 July.
	require.Equal(t, 4, ri.Remaining)
	require.Equal(t, 3, cfg.Instances[1].Repeat.Remaining)
	require.Equal(t, 6*7*24*time.Hour, ri.Period)
	require.Equal(t, "2027-03-29T09:00:00+02:00", ri.Prev.Format(time.RFC3339))

	// After the count's end only the last occurrence is considered.
	cfg, diags = loadFortnightly(t, utc("2028-01-01T00:00:00Z"), "")
	require.False(t, diags.HasErrors(), "%s", diagText(cfg, diags))
	require.Equal(t, []string{`message.standup["2027-07-05T09:00:00+02:00"] 2027-07-05T09:00:00+02:00`}, addrsOf(cfg))
	require.Equal(t, 0, cfg.Instances[0].Repeat.Remaining)
	require.True(t, cfg.Instances[0].Repeat.Next.IsZero())
}

// TestRepeatExceptOnDSTDays: a date skips the whole local day, even the
// occurrence daylight saving shifted; a wall time matches the instant it
// resolves to; an entry that matches no occurrence is a warning with its
// own range.
func TestRepeatExceptOnDSTDays(t *testing.T) {
	r := ruleWith(t, "30 2 * * *", "Europe/Berlin", "", "", 0, "2027-03-28", "2027-10-31 02:30")
	require.Equal(t, []string{"2027-03-27T02:30:00+01:00", "2027-03-29T02:30:00+02:00"},
		formatAll(r.Occurrences(utc("2027-03-26T12:00:00Z"), utc("2027-03-29T12:00:00Z"), 10)))
	require.Equal(t, []string{"2027-10-30T02:30:00+02:00", "2027-11-01T02:30:00+01:00"},
		formatAll(r.Occurrences(utc("2027-10-29T12:00:00Z"), utc("2027-11-01T12:00:00Z"), 10)))

	dir := t.TempDir()
	write(t, dir, "main.hcl", `
provider "a1base" {
  from     = "+14155552671"
  timezone = "Europe/Berlin"
}
group "g" { thread_id = "t" }
message "nightly" {
  group = group.g
  repeat {
    cron   = "30 2 * * *"
    from   = "2027-03-01 00:00"
    except = [
      "2027-03-28 02:30",
      "2027-10-31T02:30:00+01:00",
      "2027-02-28",
      "2027-13-01",
    ]
  }
  text = "x"
}
`)
	cfg, diags := Load(dir, LoadOptions{At: utc("2027-03-28T12:00:00Z"), Getenv: func(string) string { return "" }})
	require.True(t, diags.HasErrors())
	require.Len(t, diags, 1, "%s", diagText(cfg, diags))
	require.Equal(t, "Invalid except", diags[0].Summary)
	require.Equal(t, `"2027-13-01" is not a valid date.`, diags[0].Detail)
	require.Equal(t, 16, diags[0].Subject.Start.Line)

	src := strings.Replace(strings.Replace(readFile(t, dir, "main.hcl"), `      "2027-13-01",`+"\n", "", 1), `"2027-02-28",`, `"2027-02-28", "2027-03-05",`, 1)
	write(t, dir, "main.hcl", src)
	cfg, diags = Load(dir, LoadOptions{At: utc("2027-03-28T12:00:00Z"), Getenv: func(string) string { return "" }})
	require.False(t, diags.HasErrors(), "%s", diagText(cfg, diags))
	var warnings []string
	for _, d := range diags {
		require.Equal(t, "Exception matches no occurrence", d.Summary)
		warnings = append(warnings, fmt.Sprintf("%d:%d %s", d.Subject.Start.Line, d.Subject.Start.Column, d.Detail))
	}
	require.Equal(t, []string{
		// The later 02:30 of 31 October: herald fires at the earlier one.
		`14:7 except lists "2027-10-31T02:30:00+01:00", but the rule (30 2 * * *) has no occurrence at 2027-10-31T02:30:00+01:00, so it skips nothing: is it a typo?`,
		// Before from.
		`15:7 except lists "2027-02-28", but the rule (30 2 * * *) has no occurrence on Sunday 28 February 2027 in Europe/Berlin (it is before from, 2027-03-01T00:00:00+01:00), so it skips nothing: is it a typo?`,
	}, warnings)
	// The shifted 03:30 of 28 March is excepted by its wall time.
	require.Equal(t, []string{
		`message.nightly["2027-03-27T02:30:00+01:00"] 2027-03-27T02:30:00+01:00`,
		`message.nightly["2027-03-29T02:30:00+02:00"] 2027-03-29T02:30:00+02:00`,
	}, addrsOf(cfg))
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	return string(b)
}

// TestRepeatOverride: an occurrence block changes one occurrence's send
// time and text; its key stays the rule's time, even when the new time is
// across a daylight-saving change, and the plan's latest and next follow
// the time it is sent at.
func TestRepeatOverride(t *testing.T) {
	blocks := `
    occurrence "2027-03-29 09:00" {
      send_at = "2027-03-26 16:00"
      text    = "Standup moved to Friday (${each.key})"
    }
    occurrence "2027-04-12T09:00:00+02:00" {
      send_at = "2027-04-13 10:30"
    }`
	for _, tc := range []struct {
		at   string
		want []string
		text string // of the first instance
	}{
		// Friday 26 March 16:30 CET: the moved 29 March occurrence is the latest.
		{at: "2027-03-26T15:30:00Z", want: []string{
			`message.standup["2027-03-29T09:00:00+02:00"] 2027-03-26T16:00:00+01:00`,
			`message.standup["2027-04-12T09:00:00+02:00"] 2027-04-13T10:30:00+02:00`,
		}, text: "Standup moved to Friday (2027-03-29T09:00:00+02:00)"},
		// Friday 15:00 CET: 15 March is still the latest.
		{at: "2027-03-26T14:00:00Z", want: []string{
			`message.standup["2027-03-15T09:00:00+01:00"] 2027-03-15T09:00:00+01:00`,
			`message.standup["2027-03-29T09:00:00+02:00"] 2027-03-26T16:00:00+01:00`,
		}},
		// Monday 12 April 12:00: its occurrence moved to Tuesday, so
		// 29 March is the latest and 12 April waits.
		{at: "2027-04-12T10:00:00Z", want: []string{
			`message.standup["2027-03-29T09:00:00+02:00"] 2027-03-26T16:00:00+01:00`,
			`message.standup["2027-04-12T09:00:00+02:00"] 2027-04-13T10:30:00+02:00`,
		}},
		// Tuesday 10:30 exactly: the moved occurrence is due.
		{at: "2027-04-13T08:30:00Z", want: []string{
			`message.standup["2027-04-12T09:00:00+02:00"] 2027-04-13T10:30:00+02:00`,
			`message.standup["2027-05-24T09:00:00+02:00"] 2027-05-24T09:00:00+02:00`,
		}, text: "Standup 2027-04-12T09:00:00+02:00"},
	} {
		t.Run(tc.at, func(t *testing.T) {
			cfg, diags := loadFortnightly(t, utc(tc.at), blocks)
			require.False(t, diags.HasErrors(), "%s", diagText(cfg, diags))
			require.Equal(t, tc.want, addrsOf(cfg))
			if tc.text != "" {
				require.Equal(t, tc.text, cfg.Instances[0].Text)
				require.True(t, cfg.Instances[0].Repeat.Overridden)
			}
			for _, in := range cfg.Instances {
				require.Equal(t, in.Addr.Key, in.Repeat.Occurrence.In(in.Timezone).Format(time.RFC3339))
			}
		})
	}
	cfg, diags := loadFortnightly(t, utc("2027-03-26T15:30:00Z"), blocks)
	require.False(t, diags.HasErrors())
	moved, next := cfg.Instances[0], cfg.Instances[1]
	require.Equal(t, "2027-03-15T09:00:00+01:00", moved.Repeat.Prev.Format(time.RFC3339))
	require.True(t, moved.Repeat.Next.Equal(next.SendAt), "the next is when it is sent")
	require.Equal(t, next.SendAt.Sub(moved.SendAt), moved.Repeat.Period)
	require.Equal(t, 24*time.Hour, moved.ExpiresAfter)
	rule := cfg.Repeats["standup"]
	require.Equal(t, "2027-04-13T10:30:00+02:00", rule.SendTime(utc("2027-04-12T07:00:00Z")).Format(time.RFC3339))
	require.Equal(t, "2027-05-24T09:00:00+02:00", rule.SendTime(utc("2027-05-24T07:00:00Z")).In(rule.Timezone).Format(time.RFC3339))
}

// TestRepeatOverrideErrors: an occurrence block must name an occurrence,
// once, and keep it between its neighbours; each error has its range.
func TestRepeatOverrideErrors(t *testing.T) {
	for _, tc := range []struct {
		name, blocks, summary, detail string
		line                          int
	}{
		{name: "not an occurrence (interval)", blocks: `occurrence "2027-03-22 09:00" { text = "x" }`, line: 15,
			summary: "Not an occurrence",
			detail:  `The occurrence block "2027-03-22 09:00" names 2027-03-22T09:00:00+01:00, which is not an occurrence of the rule (every 2nd Monday at 09:00 from 1 March 2027, 10 times, except 1 date and 1 time (Europe/Berlin)): the one before is 2027-03-15T09:00:00+01:00; the next one is 2027-03-29T09:00:00+02:00.`},
		{name: "excepted", blocks: `occurrence "2027-04-26 09:00" { text = "x" }`, line: 15, summary: "Not an occurrence"},
		{name: "after the count", blocks: `occurrence "2027-07-19 09:00" { text = "x" }`, line: 15, summary: "Not an occurrence",
			detail: "there is none after it"},
		{name: "bad label", blocks: `occurrence "Monday" { text = "x" }`, line: 15, summary: "Invalid occurrence"},
		{name: "twice", blocks: "occurrence \"2027-03-29 09:00\" { text = \"x\" }\n    occurrence \"2027-03-29T07:00:00Z\" { text = \"y\" }", line: 16,
			summary: "Duplicate occurrence block", detail: "The occurrence 2027-03-29T09:00:00+02:00 already has an occurrence block, at main.hcl:15."},
		{name: "moved past the next", blocks: `occurrence "2027-03-29 09:00" { send_at = "2027-04-12 09:00" }`, line: 15,
			summary: "Occurrence moved out of order",
			detail:  "The occurrence 2027-03-29T09:00:00+02:00 moved to 2027-04-12T09:00:00+02:00 is not before the occurrence after it, 2027-04-12T09:00:00+02:00 (sent at 2027-04-12T09:00:00+02:00)."},
		{name: "moved before the previous", blocks: `occurrence "2027-03-29 09:00" { send_at = "2027-03-14 09:00" }`, line: 15,
			summary: "Occurrence moved out of order", detail: "is not after the occurrence before it, 2027-03-15T09:00:00+01:00"},
		{name: "crossing", blocks: "occurrence \"2027-03-29 09:00\" { send_at = \"2027-04-11 09:00\" }\n    occurrence \"2027-04-12 09:00\" { send_at = \"2027-03-30 09:00\" }", line: 15,
			summary: "Occurrence moved out of order", detail: "(sent at 2027-03-30T09:00:00+02:00)"},
		{name: "text and media", blocks: "occurrence \"2027-03-29 09:00\" {\n      text = \"x\"\n      media {\n        url  = \"https://example.com/a.png\"\n        type = \"image\"\n      }\n    }", line: 16,
			summary: "Conflicting message content"},
		{name: "body checked though not planned", blocks: `occurrence "2027-06-07 09:00" { text = var.nope }`, line: 15, summary: "Reference to undeclared input variable"},
		{name: "send_at cannot use each", blocks: `occurrence "2027-06-07 09:00" { send_at = each.key }`, line: 15, summary: `Reference to "each" in context without for_each`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := loadFortnightly(t, utc("2027-03-26T15:30:00Z"), tc.blocks)
			require.True(t, diags.HasErrors(), "%s", diagText(cfg, diags))
			var d *hcl.Diagnostic
			for _, x := range diags {
				if x.Severity == hcl.DiagError {
					d = x
					break
				}
			}
			require.Equal(t, tc.summary, d.Summary, "%s", diagText(cfg, diags))
			require.Contains(t, d.Detail, tc.detail)
			require.NotNil(t, d.Subject)
			require.Equal(t, tc.line, d.Subject.Start.Line, "%s", diagText(cfg, diags))
		})
	}
}

// TestRepeatBoundErrors: interval and count need from; bad values are
// errors on their own range.
func TestRepeatBoundErrors(t *testing.T) {
	for _, tc := range []struct{ attrs, summary, detail string }{
		{`interval = "2 weeks"`, "Interval without from", `interval = "2 weeks" counts days or weeks from the day or week of from`},
		{`count = 3`, "Count without from", "count = 3 counts the occurrences from from"},
		{"from = \"2027-03-01T00:00:00Z\"\n    interval = \"fortnight\"", "Invalid interval", `"fortnight" is not an interval`},
		{"from = \"2027-03-01T00:00:00Z\"\n    count = 0", "Invalid count", "count must be a whole number from 1 to 10000; this is 0."},
		{"from = \"2027-03-01T00:00:00Z\"\n    count = 2.5", "Invalid count", "this is 2.5."},
		{`except = "2027-12-25"`, "Incorrect attribute value type", "list of string required"},
		{`except = ["tomorrow"]`, "Invalid except", `"tomorrow" is neither a date`},
	} {
		t.Run(tc.summary, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "main.hcl", `
group "g" {
  thread_id = "t"
  from      = "+14155552671"
}
message "m" {
  group = group.g
  repeat {
    cron = "0 9 * * MON"
    `+tc.attrs+`
  }
  text = "x"
}
`)
			cfg, diags := Load(dir, LoadOptions{At: utc("2027-03-26T00:00:00Z"), Getenv: func(string) string { return "" }})
			require.True(t, diags.HasErrors())
			require.Len(t, diags, 1, "%s", diagText(cfg, diags))
			require.Equal(t, tc.summary, diags[0].Summary)
			require.Contains(t, diags[0].Detail, tc.detail)
			require.NotNil(t, diags[0].Subject)
			require.GreaterOrEqual(t, diags[0].Subject.Start.Line, 10)
		})
	}
}

// TestRepeatValidateChecksOverrides: without a clock (validate) every
// occurrence block is still checked.
func TestRepeatValidateChecksOverrides(t *testing.T) {
	cfg, diags := loadFortnightly(t, time.Time{}, `occurrence "2027-03-22 09:00" { text = "x" }`)
	require.True(t, diags.HasErrors(), "%s", diagText(cfg, diags))
	cfg, diags = loadFortnightly(t, time.Time{}, `occurrence "2027-06-07 09:00" { text = "moved" }`)
	require.False(t, diags.HasErrors(), "%s", diagText(cfg, diags))
	require.Empty(t, cfg.Instances)
	require.Contains(t, cfg.Repeats, "standup")
}

// BenchmarkRepeatBounds measures what interval, count and except cost a
// plan: loading the rule (the count's last occurrence is found once) and
// the plan's latest, next and remaining.
func BenchmarkRepeatBounds(b *testing.B) {
	for _, bc := range []struct {
		name, cron, interval string
		count                int
		at                   string
	}{
		{"fortnightly_count", "0 9 * * MON", "2 weeks", 500, "2027-06-02T12:00:00Z"},
		{"every_minute_count_10000", "* * * * *", "", 10000, "2027-06-02T12:00:00Z"},
		{"every_minute_long_after_count", "* * * * *", "", 10000, "2029-06-02T12:00:00Z"},
		{"hourly_every_3_days", "0 * * * *", "3 days", 0, "2027-06-02T12:00:00Z"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			at := utc(bc.at)
			for i := 0; i < b.N; i++ {
				r := ruleWith(b, bc.cron, "Europe/Berlin", "2027-03-01 00:00", bc.interval, bc.count, "2027-04-05", "2027-05-03 09:00")
				latest, prev := r.latestTwo(at)
				_ = r.infos([]time.Time{latest, r.next(at)}, prev)
			}
		})
	}
}

// TestRepeatOverrideContent: an occurrence block's media replaces the
// message's text, its expires_after the message's window; an empty block
// is a warning.
func TestRepeatOverrideContent(t *testing.T) {
	cfg, diags := loadFortnightly(t, utc("2027-03-15T08:30:00Z"), `
    occurrence "2027-03-15 09:00" {
      expires_after = "2h"
      media {
        url     = "https://example.com/agenda-${formatdate("YYYY-MM-DD", each.key)}.pdf"
        type    = "document"
        caption = "Agenda"
      }
    }
    occurrence "2027-03-29 09:00" {}`)
	require.False(t, diags.HasErrors(), "%s", diagText(cfg, diags))
	require.Len(t, diags, 1, "%s", diagText(cfg, diags))
	require.Equal(t, "Empty occurrence block", diags[0].Summary)
	require.Equal(t, 24, diags[0].Subject.Start.Line)
	in := cfg.Instances[0]
	require.Equal(t, `message.standup["2027-03-15T09:00:00+01:00"]`, in.Addr.String())
	require.Empty(t, in.Text)
	require.NotNil(t, in.Media)
	require.Equal(t, "https://example.com/agenda-2027-03-15.pdf", in.Media.URL)
	require.Equal(t, 2*time.Hour, in.ExpiresAfter)
	require.True(t, in.SendAt.Equal(in.Repeat.Occurrence), "not moved")
	require.True(t, in.Repeat.Overridden)
	next := cfg.Instances[1]
	require.Equal(t, "Standup 2027-03-29T09:00:00+02:00", next.Text)
}
