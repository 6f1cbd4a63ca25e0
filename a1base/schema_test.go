package a1base_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/a1base/sandbox"
)

// openAPI is A1Base's published OpenAPI file, copied into testdata.
type openAPI struct {
	doc map[string]any
}

func loadOpenAPI(t *testing.T) *openAPI {
	t.Helper()
	b, err := os.ReadFile("testdata/a1base-openapi.json")
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	return &openAPI{doc: doc}
}

// at walks the document along keys.
func (o *openAPI) at(t *testing.T, keys ...string) map[string]any {
	t.Helper()
	var cur any = o.doc
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		require.True(t, ok, "%v is not an object at %q", keys, k)
		cur, ok = m[k]
		require.True(t, ok, "no %q in %v", k, keys)
	}
	m, ok := cur.(map[string]any)
	require.True(t, ok)
	return m
}

const groupSendPath = "/messages/group/{accountId}/send"

func (o *openAPI) groupSendBody(t *testing.T) map[string]any {
	return o.at(t, "paths", groupSendPath, "post", "requestBody", "content", "application/json", "schema")
}

// validate checks v against the subset of JSON Schema the file uses: type,
// required, properties, enum, items and local $ref. It returns every
// violation.
func (o *openAPI) validate(schema map[string]any, v any, path string) []string {
	if ref, ok := schema["$ref"].(string); ok {
		cur := any(o.doc)
		for _, k := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = cur.(map[string]any)[k]
		}
		return o.validate(cur.(map[string]any), v, path)
	}
	var errs []string
	if typ, ok := schema["type"]; ok && !typeMatches(typ, v) {
		return []string{fmt.Sprintf("%s: %v is not of type %v", path, v, typ)}
	}
	if enum, ok := schema["enum"].([]any); ok && !slices.Contains(enum, v) {
		errs = append(errs, fmt.Sprintf("%s: %v is not one of %v", path, v, enum))
	}
	if obj, ok := v.(map[string]any); ok {
		for _, r := range asSlice(schema["required"]) {
			if _, ok := obj[r.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s: %s is required", path, r))
			}
		}
		props, _ := schema["properties"].(map[string]any)
		for k, pv := range obj {
			if ps, ok := props[k].(map[string]any); ok {
				errs = append(errs, o.validate(ps, pv, path+"."+k)...)
			}
		}
	}
	if arr, ok := v.([]any); ok {
		if items, ok := schema["items"].(map[string]any); ok {
			for i, it := range arr {
				errs = append(errs, o.validate(items, it, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	return errs
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func typeMatches(typ any, v any) bool {
	if list, ok := typ.([]any); ok {
		for _, t := range list {
			if typeMatches(t, v) {
				return true
			}
		}
		return false
	}
	switch typ {
	case "string":
		_, ok := v.(string)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	}
	return false
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(b, &v), "%s", b)
	return v
}

func TestSchemaValidatorCatchesViolations(t *testing.T) {
	o := loadOpenAPI(t)
	schema := o.groupSendBody(t)
	errs := o.validate(schema, decode(t, []byte(`{"content":"x","from":"+1","thread_id":"t","service":"whatsapp"}`)), "body")
	assert.Empty(t, errs)
	errs = o.validate(schema, decode(t, []byte(`{"content":1,"from":"+1","service":"sms"}`)), "body")
	assert.ElementsMatch(t, []string{
		"body: thread_id is required",
		"body.content: 1 is not of type string",
		"body.service: sms is not one of [whatsapp telegram]",
	}, errs)
}

// What the client sends, text and media, validates against the group send
// schema and uses no field the schema does not describe.
func TestSendBodiesValidateAgainstOpenAPI(t *testing.T) {
	o := loadOpenAPI(t)
	schema := o.groupSendBody(t)
	props := schema["properties"].(map[string]any)

	var bodies [][]byte
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, b)
		w.Write([]byte(`{"status":"queued"}`))
	}))
	defer ts.Close()
	c := newClient(ts.URL)
	sends := []a1base.SendRequest{
		textSend,
		{Content: "", From: "+14155552671", ThreadID: "t", Service: "whatsapp", AttachmentURI: "https://example.com/q3.pdf"},
		{Content: "Q3 report", From: "+14155552671", ThreadID: "t", Service: "telegram", AttachmentURI: "https://example.com/a.png"},
	}
	for _, sr := range sends {
		require.Equal(t, a1base.Delivered, c.SendGroup(context.Background(), sr).Outcome)
	}
	require.Len(t, bodies, len(sends))
	for i, b := range bodies {
		v := decode(t, b)
		assert.Empty(t, o.validate(schema, v, "body"), "send %d: %s", i, b)
		for k := range v.(map[string]any) {
			assert.Contains(t, props, k, "send %d carries %q, which the schema does not describe", i, k)
		}
	}
	assert.NotContains(t, string(bodies[0]), "attachment_uri", "a text send names no attachment")
}

// The fake refuses every body the schema refuses, answers in the schema's
// ValidationError shape, and its 200 answers fit the response schemas.
func TestFakeAgreesWithOpenAPI(t *testing.T) {
	o := loadOpenAPI(t)
	schema := o.groupSendBody(t)
	validationError := o.at(t, "components", "schemas", "ValidationError")
	okAnswer := o.at(t, "paths", groupSendPath, "post", "responses", "200", "content", "application/json", "schema")
	recentAnswer := o.at(t, "paths", "/messages/threads/{accountId}/get-recent/{threadId}", "get",
		"responses", "200", "content", "application/json", "schema")

	srv := sandbox.NewServer()
	defer srv.Close()
	post := func(body string) (int, []byte) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/messages/group/acc/send", bytes.NewBufferString(body))
		require.NoError(t, err)
		req.Header.Set("X-API-Key", "k")
		req.Header.Set("X-API-Secret", "s")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	invalid := []string{
		`{}`,
		`{"from":"+14155552671","thread_id":"t","service":"whatsapp"}`,
		`{"content":"x","thread_id":"t","service":"whatsapp"}`,
		`{"content":"x","from":"+14155552671","service":"whatsapp"}`,
		`{"content":"x","from":"+14155552671","thread_id":"t"}`,
		`{"content":"x","from":"+14155552671","thread_id":"t","service":"sms"}`,
		`{"content":5,"from":"+14155552671","thread_id":"t","service":"whatsapp"}`,
		`{"content":"x","from":"+14155552671","thread_id":["t"],"service":"whatsapp"}`,
		`{"content":"x","from":"+14155552671","thread_id":"t","service":"whatsapp","attachment_uri":7}`,
		`[]`,
		`"text"`,
	}
	for _, body := range invalid {
		require.NotEmpty(t, o.validate(schema, decode(t, []byte(body)), "body"), "the schema accepts %s", body)
		status, answer := post(body)
		assert.Equal(t, http.StatusUnprocessableEntity, status, body)
		assert.Empty(t, o.validate(validationError, decode(t, answer), "answer"), "%s", answer)
	}
	assert.Empty(t, srv.Sends())

	valid := `{"content":"hi","from":"+14155552671","thread_id":"t","service":"telegram","attachment_uri":"https://example.com/x.pdf"}`
	require.Empty(t, o.validate(schema, decode(t, []byte(valid)), "body"))
	status, answer := post(valid)
	require.Equal(t, http.StatusOK, status, "%s", answer)
	assert.Empty(t, o.validate(okAnswer, decode(t, answer), "answer"))

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/messages/threads/acc/get-recent/t", nil)
	req.Header.Set("X-API-Key", "k")
	req.Header.Set("X-API-Secret", "s")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, o.validate(recentAnswer, decode(t, b), "answer"))
	assert.Len(t, decode(t, b).(map[string]any)["data"], 1)
}
