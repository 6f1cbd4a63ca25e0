package a1basetest

import (
	"encoding/json"
	"net/url"
	"regexp"
	"unicode/utf8"

	"github.com/heraldhq/herald/a1base"
)

// maxContent is the longest content accepted, in characters.
const maxContent = 4096

var phoneNumber = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// validateSend checks a group send body the way A1Base's FastAPI model does
// (pydantic v2 messages), in the schema's field order.
func validateSend(body []byte) (a1base.SendRequest, []a1base.Problem) {
	var sr a1base.SendRequest
	if len(body) == 0 {
		return sr, []a1base.Problem{problem("missing", "Field required", "body")}
	}
	var anyDoc any
	if err := json.Unmarshal(body, &anyDoc); err != nil {
		return sr, []a1base.Problem{problem("json_invalid", "JSON decode error", "body")}
	}
	doc, ok := anyDoc.(map[string]any)
	if !ok {
		return sr, []a1base.Problem{problem("model_attributes_type",
			"Input should be a valid dictionary or object to extract fields from", "body")}
	}
	var probs []a1base.Problem
	str := func(field string, required bool) (string, bool) {
		v, present := doc[field]
		if !present || (v == nil && !required) {
			if required {
				probs = append(probs, problem("missing", "Field required", "body", field))
			}
			return "", false
		}
		s, ok := v.(string)
		if !ok {
			probs = append(probs, problem("string_type", "Input should be a valid string", "body", field))
			return "", false
		}
		return s, true
	}
	if s, ok := str("content", true); ok {
		if utf8.RuneCountInString(s) > maxContent {
			probs = append(probs, problem("string_too_long", "String should have at most 4096 characters", "body", "content"))
		}
		sr.Content = s
	}
	if s, ok := str("attachment_uri", false); ok {
		u, err := url.Parse(s)
		switch {
		case err != nil || u.Host == "" && (u.Scheme == "http" || u.Scheme == "https"):
			probs = append(probs, problem("url_parsing", "Input should be a valid URL", "body", "attachment_uri"))
		case u.Scheme != "http" && u.Scheme != "https":
			probs = append(probs, problem("url_scheme", "URL scheme should be 'http' or 'https'", "body", "attachment_uri"))
		}
		sr.AttachmentURI = s
	}
	if s, ok := str("from", true); ok {
		if !phoneNumber.MatchString(s) {
			probs = append(probs, problem("value_error", "value is not a valid phone number", "body", "from"))
		}
		sr.From = s
	}
	if s, ok := str("thread_id", true); ok {
		sr.ThreadID = s
	}
	if s, ok := str("service", true); ok {
		if s != "whatsapp" && s != "telegram" {
			probs = append(probs, problem("enum", "Input should be 'whatsapp' or 'telegram'", "body", "service"))
		}
		sr.Service = s
	}
	return sr, probs
}

func problem(typ, msg string, loc ...any) a1base.Problem {
	return a1base.Problem{Loc: loc, Msg: msg, Type: typ}
}
