package a1base_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/a1base/sandbox"
)

// schemas compiles the universal send schema (written from A1Base's page,
// with from, thread_id and service taken from the OpenAPI file) and the
// OpenAPI file's own group send schema, with a real JSON Schema validator.
func schemas(t *testing.T) (universal, group *jsonschema.Schema) {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, name := range []string{"a1base-openapi.json", "universal-group-send.schema.json"} {
		f, err := os.Open("testdata/" + name)
		require.NoError(t, err)
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		require.NoError(t, err)
		require.NoError(t, c.AddResource("https://herald.invalid/"+name, doc))
	}
	universal, err := c.Compile("https://herald.invalid/universal-group-send.schema.json")
	require.NoError(t, err)
	group, err = c.Compile("https://herald.invalid/a1base-openapi.json#/paths/~1messages~1group~1%7BaccountId%7D~1send/post/requestBody/content/application~1json/schema")
	require.NoError(t, err)
	return universal, group
}

func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err, "%s", b)
	return v
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The page's own example of the universal endpoint is what the schema
// describes, so the schema cannot drift from the page.
func TestUniversalSchemaAcceptsThePageExample(t *testing.T) {
	universal, _ := schemas(t)
	example, err := os.ReadFile("testdata/universal-group-send.example.json")
	require.NoError(t, err)
	require.NoError(t, universal.Validate(jsonValue(t, example)))

	for _, bad := range []string{
		`{"from":"+14155552671","thread_id":"t","service":"whatsapp","type":"individual","content":{"type":"text","text":"x"}}`,
		`{"from":"+14155552671","thread_id":"t","service":"sms","type":"group","content":{"type":"text","text":"x"}}`,
		`{"from":"+14155552671","thread_id":"t","service":"whatsapp","type":"group","content":{"type":"media","media_url":"https://e.com/a.png","media_type":"gif"}}`,
		`{"from":"+14155552671","thread_id":"t","service":"whatsapp","type":"group","content":{"type":"media","media_type":"image"}}`,
		`{"from":"+14155552671","thread_id":"t","service":"whatsapp","type":"group","content":"hello"}`,
		`{"from":"+14155552671","thread_id":"t","service":"whatsapp","type":"group","content":{"type":"text","text":"x"},"attachment_uri":"https://e.com/a.png"}`,
		`{"thread_id":"t","service":"whatsapp","type":"group","content":{"type":"text","text":"x"}}`,
	} {
		assert.Error(t, universal.Validate(jsonValue(t, []byte(bad))), "the schema accepts %s", bad)
	}
}

// capture serves 200 and keeps each request's path and body.
type capture struct {
	paths  []string
	bodies [][]byte
}

func (c *capture) server(t *testing.T) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.paths = append(c.paths, r.URL.Path)
		c.bodies = append(c.bodies, b)
		w.Write([]byte(`{"status":"queued"}`))
	}))
	t.Cleanup(ts.Close)
	return ts
}

var universalSends = []a1base.SendRequest{
	{Content: "Hello everyone in the group!", From: "+14155552671", ThreadID: "group-thread-id-123", Service: "whatsapp"},
	{Content: "Product demo video for the team", From: "+14155552671", ThreadID: "group-thread-id-123", Service: "whatsapp",
		AttachmentURI: "https://example.com/videos/demo.mp4", MediaType: "video"},
	{Content: "", From: "+14155552671", ThreadID: "t", Service: "telegram", AttachmentURI: "https://example.com/q3.pdf", MediaType: "document"},
}

// The client's universal bodies validate against the schema; a media send
// has exactly the page example's fields, and a caption-less one leaves the
// optional caption out.
func TestUniversalSendBodies(t *testing.T) {
	universal, _ := schemas(t)
	var c capture
	ts := c.server(t)
	client := newClient(ts.URL+"/v1", func(cfg *a1base.Config) { cfg.Endpoint = a1base.EndpointUniversal })
	for _, sr := range universalSends {
		require.Equal(t, a1base.Delivered, client.SendGroup(context.Background(), sr).Outcome)
	}
	require.Len(t, c.bodies, len(universalSends))
	for i, b := range c.bodies {
		assert.Equal(t, "/v1/send/acc_123", c.paths[i])
		assert.NoError(t, universal.Validate(jsonValue(t, b)), "send %d: %s", i, b)
	}

	example, err := os.ReadFile("testdata/universal-group-send.example.json")
	require.NoError(t, err)
	var page, media, text, bare map[string]any
	require.NoError(t, json.Unmarshal(example, &page))
	require.NoError(t, json.Unmarshal(c.bodies[1], &media))
	require.NoError(t, json.Unmarshal(c.bodies[0], &text))
	require.NoError(t, json.Unmarshal(c.bodies[2], &bare))
	assert.Equal(t, page, media, "the media send is the page's example")
	assert.Equal(t, map[string]any{"type": "text", "text": "Hello everyone in the group!"}, text["content"])
	assert.Equal(t, []string{"media_type", "media_url", "type"}, keys(bare["content"].(map[string]any)))
}

// The group endpoint's bodies validate against the OpenAPI file's schema
// with a full JSON Schema validator too, and the universal ones do not
// (they are another endpoint's).
func TestGroupSendBodiesValidateWithJSONSchema(t *testing.T) {
	universal, group := schemas(t)
	var c capture
	ts := c.server(t)
	client := newClient(ts.URL)
	for _, sr := range universalSends {
		require.Equal(t, a1base.Delivered, client.SendGroup(context.Background(), sr).Outcome)
	}
	for i, b := range c.bodies {
		assert.Equal(t, "/messages/group/acc_123/send", c.paths[i])
		assert.NoError(t, group.Validate(jsonValue(t, b)), "send %d: %s", i, b)
		assert.Error(t, universal.Validate(jsonValue(t, b)), "send %d: %s", i, b)
	}
	assert.NotContains(t, string(c.bodies[1]), "media_type", "the group endpoint has no media type field")
}

// The fake serves the universal endpoint: it delivers what the schema
// accepts, records it in the group endpoint's terms, and refuses with 422
// what the schema refuses.
func TestFakeUniversalEndpoint(t *testing.T) {
	universal, _ := schemas(t)
	srv := sandbox.NewServer()
	defer srv.Close()
	client := newClient(srv.URL+"/v1", func(cfg *a1base.Config) { cfg.Endpoint = a1base.EndpointUniversal })
	for _, sr := range universalSends {
		res := client.SendGroup(context.Background(), sr)
		require.Equal(t, a1base.Delivered, res.Outcome, "%v", res.Err)
	}
	sends := srv.Sends()
	require.Len(t, sends, len(universalSends))
	for i, s := range sends {
		assert.Equal(t, a1base.EndpointUniversal, s.Endpoint)
		assert.Equal(t, "acc_123", s.AccountID)
		assert.Equal(t, universalSends[i], s.Request)
	}

	post := func(body string) int {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/send/acc_123", bytes.NewBufferString(body))
		require.NoError(t, err)
		req.Header.Set("X-API-Key", "k")
		req.Header.Set("X-API-Secret", "s")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, bad := range []string{
		`{}`,
		`{"from":"+14155552671","thread_id":"t","service":"whatsapp","type":"individual","content":{"type":"text","text":"x"}}`,
		`{"from":"+14155552671","thread_id":"t","service":"sms","type":"group","content":{"type":"text","text":"x"}}`,
		`{"from":"+14155552671","thread_id":"t","service":"whatsapp","type":"group","content":{"type":"media","media_url":"https://e.com/a.png","media_type":"gif"}}`,
		`{"from":"+14155552671","thread_id":"t","service":"whatsapp","type":"group","content":{"type":"media","media_type":"image"}}`,
		`{"from":"+14155552671","thread_id":"t","service":"whatsapp","type":"group","content":"hello"}`,
		`{"from":"+14155552671","thread_id":"t","service":"whatsapp","type":"group","content":{"type":"voice","text":"x"}}`,
		`{"thread_id":"t","service":"whatsapp","type":"group","content":{"type":"text","text":"x"}}`,
	} {
		require.Error(t, universal.Validate(jsonValue(t, []byte(bad))), "the schema accepts %s", bad)
		assert.Equal(t, http.StatusUnprocessableEntity, post(bad), bad)
	}
	assert.Len(t, srv.Sends(), len(universalSends))
}

// Each registered account needs its own credentials.
func TestFakeAccountsHaveTheirOwnCredentials(t *testing.T) {
	srv := sandbox.NewServer(sandbox.WithAccount("acc_us", "k-us", "s-us"), sandbox.WithAccount("acc_eu", "k-eu", "s-eu"))
	defer srv.Close()
	send := func(account, key, secret string) a1base.Result {
		c := a1base.New(a1base.Config{BaseURL: srv.URL, AccountID: account, APIKey: key, APISecret: secret})
		return c.SendGroup(context.Background(), textSend)
	}
	assert.Equal(t, a1base.Delivered, send("acc_us", "k-us", "s-us").Outcome)
	assert.Equal(t, a1base.Delivered, send("acc_eu", "k-eu", "s-eu").Outcome)
	assert.Equal(t, http.StatusUnauthorized, send("acc_eu", "k-us", "s-us").StatusCode)
	assert.Equal(t, http.StatusNotFound, send("acc_other", "k-us", "s-us").StatusCode)
	sends := srv.Sends()
	require.Len(t, sends, 2)
	assert.Equal(t, "acc_us", sends[0].AccountID)
	assert.Equal(t, "acc_eu", sends[1].AccountID)
}
