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

// validateUniversal checks a universal send body (POST /send/{accountId})
// of type "group": from, thread_id and service as for the group endpoint,
// and content an object {type: "text", text} or {type: "media", media_url,
// media_type, caption?}. The send is returned in the group endpoint's
// terms: Content is the text or the caption.
func validateUniversal(body []byte) (a1base.SendRequest, []a1base.Problem) {
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
	str := func(obj map[string]any, field string, required bool, loc ...any) (string, bool) {
		loc = append(loc, field)
		v, present := obj[field]
		if !present || (v == nil && !required) {
			if required {
				probs = append(probs, problem("missing", "Field required", loc...))
			}
			return "", false
		}
		s, ok := v.(string)
		if !ok {
			probs = append(probs, problem("string_type", "Input should be a valid string", loc...))
			return "", false
		}
		return s, true
	}
	if s, ok := str(doc, "from", true, "body"); ok {
		if !phoneNumber.MatchString(s) {
			probs = append(probs, problem("value_error", "value is not a valid phone number", "body", "from"))
		}
		sr.From = s
	}
	if s, ok := str(doc, "thread_id", true, "body"); ok {
		sr.ThreadID = s
	}
	if s, ok := str(doc, "service", true, "body"); ok {
		if s != "whatsapp" && s != "telegram" {
			probs = append(probs, problem("enum", "Input should be 'whatsapp' or 'telegram'", "body", "service"))
		}
		sr.Service = s
	}
	if s, ok := str(doc, "type", true, "body"); ok && s != "group" {
		probs = append(probs, problem("enum", "Input should be 'individual' or 'group'", "body", "type"))
	}
	content, present := doc["content"]
	obj, isObj := content.(map[string]any)
	switch {
	case !present:
		probs = append(probs, problem("missing", "Field required", "body", "content"))
	case !isObj:
		probs = append(probs, problem("model_attributes_type", "Input should be a valid dictionary or object to extract fields from", "body", "content"))
	default:
		kind, _ := str(obj, "type", true, "body", "content")
		switch kind {
		case "text":
			if s, ok := str(obj, "text", true, "body", "content"); ok {
				if utf8.RuneCountInString(s) > maxContent {
					probs = append(probs, problem("string_too_long", "String should have at most 4096 characters", "body", "content", "text"))
				}
				sr.Content = s
			}
		case "media":
			if s, ok := str(obj, "media_url", true, "body", "content"); ok {
				if u, err := url.Parse(s); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
					probs = append(probs, problem("url_parsing", "Input should be a valid URL", "body", "content", "media_url"))
				}
				sr.AttachmentURI = s
			}
			if s, ok := str(obj, "media_type", true, "body", "content"); ok {
				switch s {
				case "image", "video", "audio", "document":
				default:
					probs = append(probs, problem("enum", "Input should be 'image', 'video', 'audio' or 'document'", "body", "content", "media_type"))
				}
				sr.MediaType = s
			}
			if s, ok := str(obj, "caption", false, "body", "content"); ok {
				sr.Content = s
			}
		case "":
		default:
			probs = append(probs, problem("enum", "Input should be 'text' or 'media'", "body", "content", "type"))
		}
	}
	return sr, probs
}

func problem(typ, msg string, loc ...any) a1base.Problem {
	return a1base.Problem{Loc: loc, Msg: msg, Type: typ}
}
