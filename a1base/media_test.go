package a1base_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
)

const mib = 1 << 20

// mediaHost serves HEAD answers of a given size and remembers every
// request's header.
type mediaHost struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
}

func newMediaHost(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) *mediaHost {
	h := &mediaHost{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.headers = append(h.headers, r.Header.Clone())
		h.mu.Unlock()
		handle(w, r)
	}))
	t.Cleanup(h.Close)
	return h
}

// sized answers with the size in the path: /<bytes>/file.
func sized(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	w.Header().Set("Content-Length", parts[0])
	w.WriteHeader(http.StatusOK)
}

func TestCheckMediaSizes(t *testing.T) {
	host := newMediaHost(t, sized)
	c := newClient("https://api.a1base.com/v1")
	tests := []struct {
		typ  string
		size int64
		err  string
	}{
		{"image", 5 * mib, ""},
		{"image", 5*mib + 1, "is 5.0 MB (5242881 bytes); A1Base accepts image files up to 5 MB"},
		{"video", 16 * mib, ""},
		{"video", 17 * mib, "is 17 MB; A1Base accepts video files up to 16 MB"},
		{"audio", 16 * mib, ""},
		{"audio", 16*mib + 1, "A1Base accepts audio files up to 16 MB"},
		{"document", 100 * mib, ""},
		{"document", 101 * mib, "A1Base accepts document files up to 100 MB"},
		{"image", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.typ+"/"+strconv.FormatInt(tt.size, 10), func(t *testing.T) {
			err := c.CheckMedia(context.Background(), host.URL+"/"+strconv.FormatInt(tt.size, 10)+"/f?sig=SECRETSIG", tt.typ)
			if tt.err == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.err)
			assert.NotContains(t, err.Error(), "SECRETSIG", "a signed URL's query is kept out of errors")
		})
	}
	for _, typ := range []string{"image", "video", "audio", "document"} {
		n, ok := a1base.MediaSizeLimit(typ)
		assert.True(t, ok)
		assert.Positive(t, n)
	}
}

func TestCheckMediaSendsNoCredentials(t *testing.T) {
	host := newMediaHost(t, sized)
	c := newClient("https://api.a1base.com/v1")
	require.NoError(t, c.CheckMedia(context.Background(), host.URL+"/10/f.png", "image"))
	host.mu.Lock()
	defer host.mu.Unlock()
	require.Len(t, host.headers, 1)
	for name, values := range host.headers[0] {
		assert.NotContains(t, strings.ToLower(name), "api", name)
		for _, v := range values {
			assert.NotContains(t, v, testKey)
			assert.NotContains(t, v, testSecret)
		}
	}
	assert.Contains(t, host.headers[0].Get("User-Agent"), "herald/")
}

func TestCheckMediaNotFetchable(t *testing.T) {
	host := newMediaHost(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "gone", http.StatusNotFound)
	})
	err := newClient("https://api.a1base.com/v1").CheckMedia(context.Background(), host.URL+"/q3.pdf", "document")
	require.Error(t, err)
	assert.Equal(t, "media "+host.URL+"/q3.pdf cannot be fetched: the host answered 404 Not Found", err.Error())
}

// A host that refuses HEAD is asked for one byte, and its Content-Range
// gives the size.
func TestCheckMediaFallsBackToRangedGet(t *testing.T) {
	host := newMediaHost(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if r.Header.Get("Range") != "bytes=0-0" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Range", "bytes 0-0/"+strconv.Itoa(6*mib))
		w.WriteHeader(http.StatusPartialContent)
		w.Write([]byte("x"))
	})
	c := newClient("https://api.a1base.com/v1")
	err := c.CheckMedia(context.Background(), host.URL+"/big.png", "image")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is 6 MB; A1Base accepts image files up to 5 MB")
	assert.NoError(t, c.CheckMedia(context.Background(), host.URL+"/big.mp4", "video"))
}

func TestCheckMediaBadInput(t *testing.T) {
	c := newClient("https://api.a1base.com/v1")
	assert.EqualError(t, c.CheckMedia(context.Background(), "https://example.com/x", "gif"),
		`media type "gif" is not one of image, video, audio, document`)
	assert.EqualError(t, c.CheckMedia(context.Background(), "file:///etc/passwd", "document"),
		`media URL "file:///etc/passwd" is not an http(s) URL`)
	assert.Error(t, c.CheckMedia(context.Background(), "://", "document"))
}

func TestCheckMediaUnreachable(t *testing.T) {
	host := newMediaHost(t, sized)
	url := host.URL + "/1/x.png"
	host.Close()
	err := newClient("https://api.a1base.com/v1").CheckMedia(context.Background(), url, "image")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot be fetched")
}
