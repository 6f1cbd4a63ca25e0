package mediacheck

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
)

const mib = 1 << 20

// fakeHost answers probes from a table, counting the questions.
type fakeHost struct {
	mu      sync.Mutex
	files   map[string]a1base.MediaInfo
	asked   map[string]int
	refused error
}

func (h *fakeHost) probe(_ context.Context, url string) (a1base.MediaInfo, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.asked[url]++
	info, ok := h.files[url]
	if !ok {
		return a1base.MediaInfo{}, h.refused
	}
	return info, nil
}

// change is a planned change of a media message on line.
func change(name, service, mediaType, url string, line int, action planner.Action) *planner.Change {
	return &planner.Change{
		Addr:   addrs.NoKey(name),
		Action: action,
		Instance: &spec.Instance{
			Addr:    addrs.NoKey(name),
			Service: service,
			Media: &spec.Media{
				URL:      url,
				Type:     mediaType,
				URLRange: hcl.Range{Filename: "main.hcl", Start: hcl.Pos{Line: line}, End: hcl.Pos{Line: line}},
			},
			DeclRange: hcl.Range{Filename: "main.hcl", Start: hcl.Pos{Line: line - 3}},
		},
	}
}

func TestCheck(t *testing.T) {
	host := &fakeHost{
		files: map[string]a1base.MediaInfo{
			"https://media.example/big.png":   {Size: 5*mib + 1, ContentType: "image/png"},
			"https://media.example/ok.png":    {Size: 5 * mib, ContentType: "image/png"},
			"https://media.example/doc.pdf":   {Size: 1000, ContentType: "application/pdf"},
			"https://media.example/vague.png": {Size: -1},
		},
		asked:   map[string]int{},
		refused: errors.New("media host unreachable: connection refused"),
	}
	plan := &planner.Plan{Changes: []*planner.Change{
		change("too_large", "whatsapp", "image", "https://media.example/big.png", 10, planner.Send),
		change("unreachable", "whatsapp", "image", "https://down.example/a.png", 20, planner.Wait),
		change("wrong_type", "whatsapp", "image", "https://media.example/doc.pdf", 30, planner.Retry),
		change("at_limit", "whatsapp", "image", "https://media.example/ok.png", 40, planner.Send),
		// The same file for the same service again: asked once.
		change("at_limit_again", "whatsapp", "image", "https://media.example/ok.png", 50, planner.Send),
		change("vague", "whatsapp", "image", "https://media.example/vague.png", 60, planner.Send),
		// Nothing to send: not asked.
		change("sent", "whatsapp", "image", "https://media.example/sent.png", 70, planner.Noop),
	}}
	sensitive := change("secret", "whatsapp", "image", "https://media.example/secret.png", 80, planner.Send)
	sensitive.Instance.Sensitive = true
	plan.Changes = append(plan.Changes, sensitive)

	diags := Check(context.Background(), plan, host.probe)
	require.Len(t, diags, 5, diags.Error())

	byAddr := map[string]*hcl.Diagnostic{}
	var order []string
	for _, d := range diags {
		addr, _, _ := strings.Cut(d.Detail, ":")
		addr, _, _ = strings.Cut(addr, " (")
		byAddr[addr] = d
		order = append(order, addr)
		require.NotNil(t, d.Subject, d.Summary)
	}
	assert.Equal(t, []string{"message.at_limit", "message.too_large", "message.unreachable", "message.vague", "message.wrong_type"}, order, "sorted by address")

	d := byAddr["message.too_large"]
	assert.Equal(t, hcl.DiagError, d.Severity)
	assert.Equal(t, "Media file too large", d.Summary)
	assert.Equal(t, 10, d.Subject.Start.Line, "on the url attribute")
	assert.Contains(t, d.Detail, "WhatsApp takes image files up to 5 MB")

	d = byAddr["message.unreachable"]
	assert.Equal(t, hcl.DiagWarning, d.Severity)
	assert.Equal(t, "Media not checked", d.Summary)
	assert.Equal(t, "message.unreachable (image): media host unreachable: connection refused.", d.Detail)
	assert.Equal(t, 20, d.Subject.Start.Line)

	d = byAddr["message.wrong_type"]
	assert.Equal(t, hcl.DiagError, d.Severity)
	assert.Equal(t, "Unsupported media content type", d.Summary)
	assert.Contains(t, d.Detail, "application/pdf")
	assert.Equal(t, 30, d.Subject.Start.Line)

	d = byAddr["message.at_limit"]
	assert.Equal(t, hcl.DiagWarning, d.Severity)
	assert.Equal(t, "Media checked", d.Summary)
	assert.Equal(t, "message.at_limit: image at https://media.example/ok.png is 5 MB, image/png: within WhatsApp's limits.", d.Detail)

	d = byAddr["message.vague"]
	assert.Equal(t, hcl.DiagWarning, d.Severity)
	assert.Contains(t, d.Detail, "size not stated, content type not stated")

	assert.Equal(t, 1, host.asked["https://media.example/ok.png"])
	assert.Zero(t, host.asked["https://media.example/sent.png"], "a message not to be sent is not checked")
	assert.Zero(t, host.asked["https://media.example/secret.png"], "a sensitive media URL is never sent to a host")
}

// A media URL set outside a file (a module's variable, say) has no range
// of its own: the diagnostic lands on the message block.
func TestCheckWithoutURLRange(t *testing.T) {
	c := change("m", "telegram", "video", "https://down.example/v.mp4", 12, planner.Send)
	c.Instance.Media.URLRange = hcl.Range{}
	host := &fakeHost{asked: map[string]int{}, refused: errors.New("timeout")}
	diags := Check(context.Background(), &planner.Plan{Changes: []*planner.Change{c}}, host.probe)
	require.Len(t, diags, 1)
	assert.Equal(t, hcl.DiagWarning, diags[0].Severity)
	assert.Equal(t, 9, diags[0].Subject.Start.Line)
}
