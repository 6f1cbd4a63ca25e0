package a1base

import (
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MinSecretLen is the shortest credential herald looks for in what it
// prints. Only whole occurrences of a credential at least this long are
// replaced: looking for a shorter one would mangle ordinary text (a
// one-character secret would "redact" every occurrence of that letter),
// and herald itself never puts a credential in any text, only in request
// headers, so a short one can only appear where a server echoes it.
const MinSecretLen = 8

// Redacted stands in for a credential in an error's text.
const Redacted = "(redacted)"

// SensitiveMark stands in for a sensitive message's content in an error's
// text.
const SensitiveMark = "(sensitive)"

// minEcho is the length of the shortest run of a sensitive message's
// content that counts as an echo of it: an answer may quote the content
// in part (cut short, or around escapes), so every stretch it shares with
// the content, this long or longer, is hidden.
const minEcho = 8

// redactSecrets replaces whole occurrences of each secret of at least
// MinSecretLen bytes with Redacted.
func redactSecrets(s string, secrets ...string) string {
	for _, secret := range secrets {
		if len(secret) >= MinSecretLen {
			s = strings.ReplaceAll(s, secret, Redacted)
		}
	}
	return s
}

// ScrubSensitive hides in s everything that may come from parts, a
// sensitive message's text, media URL and caption: every stretch of at
// least eight bytes that s shares with a part (as is, JSON-, Go- or
// URL-escaped), replaced by SensitiveMark. A part shorter than that is
// hidden where it stands as a whole word. Hiding too much of an error's
// text is the safe side.
func ScrubSensitive(s string, parts ...string) string {
	if s == "" {
		return s
	}
	hide := make([]bool, len(s))
	hidden := false
	mark := func(from, to int) {
		// Whole runes only, so what is left stays valid UTF-8.
		for from > 0 && !utf8.RuneStart(s[from]) {
			from--
		}
		for to < len(s) && !utf8.RuneStart(s[to]) {
			to++
		}
		for i := from; i < to; i++ {
			hide[i] = true
		}
		hidden = true
	}
	for _, p := range parts {
		if p == "" {
			continue
		}
		if len(p) < minEcho {
			for i := 0; i <= len(s)-len(p); {
				j := strings.Index(s[i:], p)
				if j < 0 {
					break
				}
				from, to := i+j, i+j+len(p)
				if wordEdge(s, from, true) && wordEdge(s, to, false) {
					mark(from, to)
				}
				i = from + 1
			}
			continue
		}
		grams := make(map[string]struct{})
		for _, v := range variants(p) {
			for i := 0; i+minEcho <= len(v); i++ {
				grams[v[i:i+minEcho]] = struct{}{}
			}
		}
		for i := 0; i+minEcho <= len(s); i++ {
			if _, ok := grams[s[i:i+minEcho]]; ok {
				mark(i, i+minEcho)
			}
		}
	}
	if !hidden {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if !hide[i] {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteString(SensitiveMark)
		for i < len(s) && hide[i] {
			i++
		}
	}
	return b.String()
}

// variants are the forms in which an answer may quote p.
func variants(p string) []string {
	out := []string{p}
	if js, err := json.Marshal(p); err == nil {
		out = append(out, string(js[1:len(js)-1]))
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(p) == nil {
		js := strings.TrimSuffix(b.String(), "\n")
		out = append(out, js[1:len(js)-1])
	}
	q := strconv.Quote(p)
	out = append(out, q[1:len(q)-1], url.QueryEscape(p), url.PathEscape(p))
	return out
}

// wordEdge says whether position i of s is the start (or end) of a word:
// the rune on its other side is not a letter or digit.
func wordEdge(s string, i int, start bool) bool {
	var r rune
	if start {
		if i == 0 {
			return true
		}
		r, _ = utf8.DecodeLastRuneInString(s[:i])
	} else {
		if i >= len(s) {
			return true
		}
		r, _ = utf8.DecodeRuneInString(s[i:])
	}
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// scrubAPIError hides the sensitive parts in an API error, in place, so
// that whoever unwraps it sees no more than its text shows.
func scrubAPIError(e *APIError, parts []string) {
	e.Detail = ScrubSensitive(e.Detail, parts...)
	for i := range e.Problems {
		e.Problems[i].Msg = ScrubSensitive(e.Problems[i].Msg, parts...)
		for j, l := range e.Problems[i].Loc {
			if s, ok := l.(string); ok {
				e.Problems[i].Loc[j] = ScrubSensitive(s, parts...)
			}
		}
	}
}

// ScrubSensitiveError is err with ScrubSensitive applied to its text; an
// API error it wraps is scrubbed in place too. Nil stays nil.
func ScrubSensitiveError(err error, parts ...string) error {
	if err == nil {
		return nil
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		scrubAPIError(apiErr, parts)
	}
	switch e := err.(type) {
	case *APIError:
		return e
	case *redactedError:
		e.msg = ScrubSensitive(e.msg, parts...)
		return e
	}
	msg := err.Error()
	if scrubbed := ScrubSensitive(msg, parts...); scrubbed != msg {
		return &redactedError{msg: scrubbed, cause: err}
	}
	return err
}

// sensitiveParts are the parts of a send that must not appear in what
// herald keeps of its outcome.
func (sr SendRequest) sensitiveParts() []string {
	if !sr.Sensitive {
		return nil
	}
	parts := []string{sr.Content}
	if sr.AttachmentURI != "" {
		parts = append(parts, sr.AttachmentURI, ShownURL(sr.AttachmentURI))
	}
	return parts
}

// Scrub is err as herald may keep and print it after this send: for a
// sensitive send, without any echo of its content, URL or caption (see
// ScrubSensitive). Errors that SendGroup returns are already scrubbed;
// this is for errors of other requests about the same message, such as
// its media check.
func (sr SendRequest) Scrub(err error) error {
	if !sr.Sensitive {
		return err
	}
	return ScrubSensitiveError(err, sr.sensitiveParts()...)
}
