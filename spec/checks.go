package spec

import (
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// MaxTextLength is the longest text (or media caption) a message may have,
// in Unicode characters.
const MaxTextLength = 4096

var (
	e164Pattern      = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	rateLimitPattern = regexp.MustCompile(`^([0-9]+)/([0-9]*)([smh])$`)
)

// Services a group can send through.
var services = []string{"whatsapp", "telegram"}

// Media types a message can attach.
var mediaTypes = []string{"image", "video", "audio", "document"}

// maxRate bounds N and the period multiplier of a rate limit so that the
// interval between sends stays a positive number of nanoseconds.
const maxRate = 1_000_000

func checkE164(s string) error {
	if !e164Pattern.MatchString(s) {
		return fmt.Errorf("%q is not an E.164 phone number: a + followed by 7 to 15 digits, the first not 0, such as \"+14155552671\"", s)
	}
	return nil
}

// ParseRateLimit parses "N/period": N sends per period, where the period is
// s, m or h with an optional multiplier ("1/5s", "100/h").
func ParseRateLimit(s string) (*RateLimit, error) {
	bad := fmt.Errorf("%q is not a rate limit: expected N/period with period s, m or h and an optional multiplier, such as \"10/s\", \"1/5s\" or \"100/h\"", s)
	m := rateLimitPattern.FindStringSubmatch(s)
	if m == nil {
		return nil, bad
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 1 || n > maxRate {
		return nil, fmt.Errorf("%q is not a rate limit: N must be between 1 and %d", s, maxRate)
	}
	mult := 1
	if m[2] != "" {
		mult, err = strconv.Atoi(m[2])
		if err != nil || mult < 1 || mult > maxRate {
			return nil, fmt.Errorf("%q is not a rate limit: the period multiplier must be between 1 and %d", s, maxRate)
		}
	}
	unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[m[3]]
	return &RateLimit{N: n, Per: time.Duration(mult) * unit, Text: s}, nil
}

// parseExpiresAfter parses a positive duration (parseDuration) such as
// "6h", "90m", "1h30m" or "14d".
func parseExpiresAfter(s string) (time.Duration, error) {
	d, err := parseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration", s)
	}
	return d, nil
}

// dayPart is a number of days in a duration: "14d", "1.5d".
var dayPart = regexp.MustCompile(`[0-9]*\.?[0-9]*d`)

// parseDuration parses a Go duration ("6h", "90m", "1h30m") that may also
// count days: "14d", "1d12h". A day is 24 hours, not a calendar day, so
// across a daylight-saving change "1d" after 09:00 is 08:00 or 10:00 on
// the wall clock. No other unit of a Go duration has a d in it, so the
// days can be taken out before Go reads the rest.
func parseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not a duration: expected a number with a unit (d, h, m or s), such as \"6h\", \"90m\", \"1h30m\" or \"14d\" (a day is 24 hours)", s)
	body, neg := s, false
	if body != "" && (body[0] == '-' || body[0] == '+') {
		body, neg = body[1:], body[0] == '-'
	}
	if body == "" || body[0] == '-' || body[0] == '+' {
		return 0, bad
	}
	var total time.Duration
	add := func(d time.Duration) bool {
		if total > math.MaxInt64-d {
			return false
		}
		total += d
		return true
	}
	var rest strings.Builder
	last := 0
	for _, m := range dayPart.FindAllStringIndex(body, -1) {
		num := body[m[0] : m[1]-1]
		if strings.Trim(num, ".") == "" {
			return 0, bad
		}
		// num is digits with at most one point: Go refuses it only when it
		// overflows.
		hours, err := time.ParseDuration(num + "h")
		if err != nil || hours > math.MaxInt64/24 || !add(24*hours) {
			return 0, fmt.Errorf("%q is too long a duration", s)
		}
		rest.WriteString(body[last:m[0]])
		last = m[1]
	}
	rest.WriteString(body[last:])
	if r := rest.String(); r != "" {
		if r[0] == '-' || r[0] == '+' {
			return 0, bad
		}
		d, err := time.ParseDuration(r)
		if err != nil || d < 0 {
			return 0, bad
		}
		if !add(d) {
			return 0, fmt.Errorf("%q is too long a duration", s)
		}
	}
	if neg {
		total = -total
	}
	return total, nil
}

func checkMediaURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("media url must be an https URL with a host, such as \"https://example.com/report.pdf\"")
	}
	return nil
}

func checkTextLength(s string) error {
	if n := utf8.RuneCountInString(s); n > MaxTextLength {
		return fmt.Errorf("this one has %d", n)
	}
	return nil
}

func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http or https URL", s)
	}
	return nil
}

func oneOf(s string, options []string) bool {
	for _, o := range options {
		if s == o {
			return true
		}
	}
	return false
}

// detail renders a check's error for a diagnostic, hiding the value when it
// is sensitive: no diagnostic may reveal one.
func detail(err error, value string, sensitive bool) string {
	msg := err.Error()
	if sensitive {
		msg = strings.ReplaceAll(msg, strconv.Quote(value), "(sensitive value)")
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

// sourcePos names a place in the configuration for a diagnostic's detail
// text: the file's name and the line, without the directory, which would
// only leak the machine's paths into logs.
func sourcePos(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", filepath.Base(r.Filename), r.Start.Line)
}
