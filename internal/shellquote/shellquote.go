// Package shellquote quotes the words of the commands herald suggests
// ("herald apply -replace=ADDR", "herald import -force ADDR"), so that a
// user can paste them into a POSIX shell as printed.
package shellquote

import (
	"strings"
	"unicode"
)

// Quote returns s as one shell word: unchanged when no shell would split,
// expand or glob it, else in single quotes (a single quote inside becomes
// '\”). A message address with a key, message.m["a"], comes out as
// 'message.m["a"]'.
func Quote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) || strings.ContainsRune("-_./:+=@,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Flag returns the flag -name=value as one shell word, quoting only the
// value: -var='greeting=hello world', -target='message.m["a"]'.
func Flag(name, value string) string {
	return "-" + name + "=" + Quote(value)
}
