package pgstate

import (
	"errors"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

const redacted = "xxxxx"

var (
	// postgres://user:password@host
	urlPassword = regexp.MustCompile(`(?i)(postgres(?:ql)?://[^:@/\s]*:)[^@\s]*@`)
	// password=secret, password = 'a secret'
	kvPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s]+)`)
)

// scrubber removes a connection's password from text meant for people.
type scrubber struct {
	secrets []string // the password and the forms it may take in a URL
}

func newScrubber(password string) scrubber {
	if password == "" {
		return scrubber{}
	}
	s := scrubber{secrets: []string{password}}
	for _, v := range []string{url.QueryEscape(password), url.PathEscape(password), url.UserPassword("", password).String()[1:]} {
		if v != password && v != "" {
			s.secrets = append(s.secrets, v)
		}
	}
	return s
}

func (s scrubber) text(msg string) string {
	msg = urlPassword.ReplaceAllString(msg, "${1}"+redacted+"@")
	msg = kvPassword.ReplaceAllString(msg, "${1}"+redacted)
	for _, p := range s.secrets {
		msg = strings.ReplaceAll(msg, p, redacted)
	}
	return msg
}

// err returns err with any password taken out of its message. An error whose
// message needed scrubbing keeps errors.Is working (for context.Canceled and
// the like) but hides its chain from errors.As and Unwrap, through which the
// password could be printed after all.
func (s scrubber) err(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := s.text(msg)
	if clean == msg {
		return err
	}
	return &scrubbedError{msg: clean, err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string        { return e.msg }
func (e *scrubbedError) Is(target error) bool { return errors.Is(e.err, target) }

// describe names a database for messages without its password:
// postgres://user@host:5432/db (schema herald).
func describe(cfg *pgconn.Config, schema string) string {
	host := cfg.Host
	if strings.HasPrefix(host, "/") {
		// A Unix socket directory.
		host = host + ":" + strconv.Itoa(int(cfg.Port))
	} else {
		host = net.JoinHostPort(host, strconv.Itoa(int(cfg.Port)))
	}
	u := "postgres://"
	if cfg.User != "" {
		u += cfg.User + "@"
	}
	return u + host + "/" + cfg.Database + " (schema " + schema + ")"
}
