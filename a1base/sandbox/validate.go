package sandbox

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
	r := &bodyReader{}
	doc, ok := r.object(body)
	if !ok {
		return sr, r.probs
	}
	if s, ok := r.str(doc, "content", true, "body"); ok {
		if utf8.RuneCountInString(s) > maxContent {
			r.add("string_too_long", "String should have at most 4096 characters", "body", "content")
		}
		sr.Content = s
	}
	if s, ok := r.str(doc, "attachment_uri", false, "body"); ok {
		u, err := url.Parse(s)
		switch {
		case err != nil || u.Host == "" && (u.Scheme == "http" || u.Scheme == "https"):
			r.add("url_parsing", "Input should be a valid URL", "body", "attachment_uri")
		case u.Scheme != "http" && u.Scheme != "https":
			r.add("url_scheme", "URL scheme should be 'http' or 'https'", "body", "attachment_uri")
		}
		sr.AttachmentURI = s
	}
	r.recipient(doc, &sr)
	return sr, r.probs
}

// validateUniversal checks a universal send body (POST /send/{accountId})
// of type "group": from, thread_id and service as for the group endpoint,
// and content an object {type: "text", text} or {type: "media", media_url,
// media_type, caption?}. The send is returned in the group endpoint's
// terms: Content is the text or the caption.
func validateUniversal(body []byte) (a1base.SendRequest, []a1base.Problem) {
	var sr a1base.SendRequest
	r := &bodyReader{}
	doc, ok := r.object(body)
	if !ok {
		return sr, r.probs
	}
	r.recipient(doc, &sr)
	if s, ok := r.str(doc, "type", true, "body"); ok && s != "group" {
		r.add("enum", "Input should be 'individual' or 'group'", "body", "type")
	}
	content, present := doc["content"]
	obj, isObj := content.(map[string]any)
	switch {
	case !present:
		r.add("missing", "Field required", "body", "content")
	case !isObj:
		r.add("model_attributes_type", "Input should be a valid dictionary or object to extract fields from", "body", "content")
	default:
		kind, _ := r.str(obj, "type", true, "body", "content")
		switch kind {
		case "text":
			if s, ok := r.str(obj, "text", true, "body", "content"); ok {
				if utf8.RuneCountInString(s) > maxContent {
					r.add("string_too_long", "String should have at most 4096 characters", "body", "content", "text")
				}
				sr.Content = s
			}
		case "media":
			if s, ok := r.str(obj, "media_url", true, "body", "content"); ok {
				if u, err := url.Parse(s); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
					r.add("url_parsing", "Input should be a valid URL", "body", "content", "media_url")
				}
				sr.AttachmentURI = s
			}
			if s, ok := r.str(obj, "media_type", true, "body", "content"); ok {
				switch s {
				case "image", "video", "audio", "document":
				default:
					r.add("enum", "Input should be 'image', 'video', 'audio' or 'document'", "body", "content", "media_type")
				}
				sr.MediaType = s
			}
			if s, ok := r.str(obj, "caption", false, "body", "content"); ok {
				sr.Content = s
			}
		case "":
		default:
			r.add("enum", "Input should be 'text' or 'media'", "body", "content", "type")
		}
	}
	return sr, r.probs
}

// bodyReader reads a send body's fields as pydantic does, gathering the
// problems in the order the fields are read.
type bodyReader struct{ probs []a1base.Problem }

func (r *bodyReader) add(typ, msg string, loc ...any) {
	r.probs = append(r.probs, problem(typ, msg, loc...))
}

// object decodes body as a JSON object, or notes why it is none.
func (r *bodyReader) object(body []byte) (map[string]any, bool) {
	if len(body) == 0 {
		r.add("missing", "Field required", "body")
		return nil, false
	}
	var anyDoc any
	if err := json.Unmarshal(body, &anyDoc); err != nil {
		r.add("json_invalid", "JSON decode error", "body")
		return nil, false
	}
	doc, ok := anyDoc.(map[string]any)
	if !ok {
		r.add("model_attributes_type", "Input should be a valid dictionary or object to extract fields from", "body")
	}
	return doc, ok
}

// str reads obj's string field; loc is where obj stands in the body.
func (r *bodyReader) str(obj map[string]any, field string, required bool, loc ...any) (string, bool) {
	loc = append(loc, field)
	v, present := obj[field]
	if !present || (v == nil && !required) {
		if required {
			r.add("missing", "Field required", loc...)
		}
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		r.add("string_type", "Input should be a valid string", loc...)
		return "", false
	}
	return s, true
}

// recipient reads from, thread_id and service, which both endpoints take.
func (r *bodyReader) recipient(doc map[string]any, sr *a1base.SendRequest) {
	if s, ok := r.str(doc, "from", true, "body"); ok {
		if !phoneNumber.MatchString(s) {
			r.add("value_error", "value is not a valid phone number", "body", "from")
		}
		sr.From = s
	}
	if s, ok := r.str(doc, "thread_id", true, "body"); ok {
		sr.ThreadID = s
	}
	if s, ok := r.str(doc, "service", true, "body"); ok {
		if s != "whatsapp" && s != "telegram" {
			r.add("enum", "Input should be 'whatsapp' or 'telegram'", "body", "service")
		}
		sr.Service = s
	}
}

func problem(typ, msg string, loc ...any) a1base.Problem {
	return a1base.Problem{Loc: loc, Msg: msg, Type: typ}
}
