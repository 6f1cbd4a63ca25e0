package spec

import (
	"fmt"
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

// parseExpiresAfter parses a positive Go duration such as "6h", "90m" or
// "1h30m".
func parseExpiresAfter(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: expected a number with a unit, such as \"6h\", \"90m\" or \"1h30m\"", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration", s)
	}
	return d, nil
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
