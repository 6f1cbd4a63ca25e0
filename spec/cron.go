package spec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/robfig/cron/v3"
)

// cronField is one of the five fields of a cron expression, as herald
// checks it before the parser reads it: the parser's own errors ("failed
// to parse int from TUES") say nothing a user can act on.
type cronField struct {
	name   string
	lo, hi int
	// names maps the three-letter names the field takes (lower case) to
	// their values; nil for a numeric field.
	names map[string]int
	// use says what the field takes, for errors.
	use string
}

var cronFields = [5]cronField{
	{name: "minute", lo: 0, hi: 59, use: "use 0-59"},
	{name: "hour", lo: 0, hi: 23, use: "use 0-23"},
	{name: "day of month", lo: 1, hi: 31, use: "use 1-31"},
	{name: "month", lo: 1, hi: 12, use: "use JAN, FEB, MAR, APR, MAY, JUN, JUL, AUG, SEP, OCT, NOV, DEC or 1-12", names: map[string]int{
		"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
	}},
	// 7 is Sunday too, as in Vixie cron; normalizeCron makes it 0, which
	// is all the parser knows.
	{name: "day of week", lo: 0, hi: 7, use: "use SUN, MON, TUE, WED, THU, FRI, SAT or 0-7", names: map[string]int{
		"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
	}},
}

const dayOfWeek = 4

// normalizeCron checks the names and numbers of a five-field expression
// and writes Sunday as 0 where the day of week says 7 ("5-7" becomes
// "5,6,0"), so that the parser reads what Vixie cron would. Anything else
// it leaves for the parser to judge. fields are the expression's fields.
func normalizeCron(fields []string) ([]string, error) {
	if len(fields) != len(cronFields) {
		return fields, nil
	}
	out := make([]string, len(fields))
	for i, field := range fields {
		f := cronFields[i]
		items := strings.Split(field, ",")
		for j, item := range items {
			rangeAndStep := strings.Split(item, "/")
			bounds := strings.Split(rangeAndStep[0], "-")
			values := make([]int, len(bounds))
			sunday7 := false
			for k, tok := range bounds {
				if tok == "" || tok == "*" || tok == "?" {
					values[k] = -1
					continue
				}
				v, err := f.value(tok)
				if err != nil {
					return nil, err
				}
				values[k] = v
				sunday7 = sunday7 || (i == dayOfWeek && v == 7)
			}
			if !sunday7 || len(rangeAndStep) > 2 || len(bounds) > 2 || values[0] < 0 {
				continue
			}
			// A day of week with 7 in it: list its days, Sunday as 0.
			start, end, step := values[0], values[0], 1
			if len(bounds) == 2 {
				end = values[1]
			}
			if len(rangeAndStep) == 2 {
				n, err := strconv.Atoi(rangeAndStep[1])
				if err != nil || n <= 0 {
					continue // the parser reports it
				}
				step = n
				if len(bounds) == 1 {
					end = f.hi // "N/step" runs from N to the end, as in the parser
				}
			}
			if end < start {
				continue // the parser reports it
			}
			var days []string
			seen := map[int]bool{}
			for v := start; v <= end; v += step {
				d := v % 7
				if !seen[d] {
					seen[d] = true
					days = append(days, strconv.Itoa(d))
				}
			}
			items[j] = strings.Join(days, ",")
		}
		out[i] = strings.Join(items, ",")
	}
	return out, nil
}

// value reads one number or name of the field.
func (f cronField) value(tok string) (int, error) {
	if n, err := strconv.Atoi(tok); err == nil {
		if n < f.lo || n > f.hi {
			return 0, fmt.Errorf("%s %s is out of range: %s", f.name, tok, f.use)
		}
		return n, nil
	}
	if f.names != nil {
		if v, ok := f.names[strings.ToLower(tok)]; ok {
			return v, nil
		}
		return 0, fmt.Errorf("unknown %s %q: %s", f.name, tok, f.use)
	}
	return 0, fmt.Errorf("%s %q is not a number: %s", f.name, tok, f.use)
}

// unrestricted reports whether a parsed field was written * or ? (the
// parser marks those), which is what decides how the two day fields
// combine.
func unrestricted(field uint64) bool { return field&cronStar != 0 }

// cronDaysWarning is the warning for an expression that restricts both
// the day of month and the day of week, which cron reads as either-or;
// nil for any other. expr is the expression as written, sched as parsed.
func cronDaysWarning(expr string, sched *cron.SpecSchedule, subject hcl.Expression) *hcl.Diagnostic {
	if unrestricted(sched.Dom) || unrestricted(sched.Dow) {
		return nil
	}
	fields := strings.Fields(expr)
	if len(fields) != len(cronFields) {
		return nil // a descriptor: none restricts both
	}
	dom, dow := fields[2], fields[dayOfWeek]
	onlyDom := strings.Join([]string{fields[0], fields[1], dom, fields[3], "*"}, " ")
	onlyDow := strings.Join([]string{fields[0], fields[1], "*", fields[3], dow}, " ")
	detail := fmt.Sprintf("%q restricts both the day of month (%s) and the day of week (%s), so herald, like cron, "+
		"fires on every day that matches either of them: each day of the month that %s names, and also each day of the week that %s names. "+
		"It does not mean only the days that match both (a %s that is also one of the days %s), which a cron expression cannot say. "+
		"For the days of the month alone, write %q; for the days of the week alone, write %q. "+
		"If either-or is what you mean, nothing needs to change.",
		expr, dom, dow, dom, dow, dow, dom, onlyDom, onlyDow)
	if strings.HasPrefix(dom, "*") || strings.HasPrefix(dow, "*") {
		detail += " Unlike Vixie cron, herald counts a field such as */2 as restricted: only * and ? leave a field open."
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  "Day of month and day of week both restricted",
		Detail:   detail,
		Subject:  subject.Range().Ptr(),
	}
}
