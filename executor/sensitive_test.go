package executor

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/spec"
)

// A failed media check of a message with a sensitive URL is recorded and
// reported without the URL.
func TestMediaCheckOfSensitiveURL(t *testing.T) {
	b := newPlan()
	c := b.send("eng", "secret_media", t0)
	c.Instance.Text = ""
	c.Instance.Sensitive = true
	c.Instance.Media = &spec.Media{URL: "https://files.example/hidden-plan-QUOKKA.pdf?sig=1", Type: "document", Caption: "for QUOKKA only"}
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	f.media = func(url, _ string) error {
		return errors.New("media https://files.example/hidden-plan-QUOKKA.pdf cannot be fetched: the host answered 404 Not Found")
	}
	h := &hookLog{}
	sum, err := run(t, b, f, rec, Options{CheckMedia: true}, h)
	require.NoError(t, err)
	require.Len(t, sum.Failures, 1)
	assert.Contains(t, sum.Failures[0].Reason, "media check failed: media (sensitive)")
	assert.Contains(t, sum.Failures[0].Reason, "404 Not Found")
	for _, e := range rec.all() {
		assert.NotContains(t, fmt.Sprintf("%+v", e), "QUOKKA")
		assert.NotContains(t, fmt.Sprintf("%+v", e), "files.example")
	}
	assert.NotContains(t, fmt.Sprintf("%+v", sum), "QUOKKA")
	assert.Zero(t, f.calls("message.secret_media"))
}
