package a1base

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const mb = 1 << 20

// mediaLimits are the sizes A1Base documents per media type ("generally up
// to"), read as binary megabytes so that a file at the documented size passes.
var mediaLimits = map[string]int64{
	"image":    5 * mb,
	"video":    16 * mb,
	"audio":    16 * mb,
	"document": 100 * mb,
}

// MediaSizeLimit is the largest file A1Base accepts for a media type.
func MediaSizeLimit(mediaType string) (int64, bool) {
	n, ok := mediaLimits[mediaType]
	return n, ok
}

// CheckMedia asks the media host whether rawURL can be fetched and is small
// enough for its type. It sends no credentials: the URL belongs to someone
// else. A host that refuses HEAD is asked for the first byte instead. A size
// the host does not state is not held against the file.
func (c *Client) CheckMedia(ctx context.Context, rawURL, mediaType string) error {
	limit, ok := MediaSizeLimit(mediaType)
	if !ok {
		return fmt.Errorf("media type %q is not one of image, video, audio, document", mediaType)
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("media URL %q is not an http(s) URL", rawURL)
	}
	// Signed URLs carry their signature in the query; keep it out of errors.
	shown := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	size, status, err := c.mediaSize(ctx, http.MethodHead, rawURL)
	if err == nil && (status == http.StatusMethodNotAllowed || status == http.StatusNotImplemented) {
		size, status, err = c.mediaSize(ctx, http.MethodGet, rawURL)
	}
	if err != nil {
		return fmt.Errorf("media %s cannot be fetched: %s", shown, describe(unwrapURLError(err)))
	}
	if status < 200 || status > 299 {
		return fmt.Errorf("media %s cannot be fetched: the host answered %d %s", shown, status, http.StatusText(status))
	}
	if size > limit {
		return fmt.Errorf("media %s is %s; A1Base accepts %s files up to %s", shown, formatSize(size), mediaType, formatSize(limit))
	}
	return nil
}

// mediaSize returns the size the host states, or -1. A GET asks for one
// byte only and never reads the body.
func (c *Client) mediaSize(ctx context.Context, method, rawURL string) (int64, int, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if method == http.MethodGet {
		req.Header.Set("Range", "bytes=0-0")
	}
	resp, err := c.media.Do(req)
	if err != nil {
		return 0, 0, err
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusPartialContent {
		// Content-Range: bytes 0-0/12345
		cr := resp.Header.Get("Content-Range")
		if i := strings.LastIndexByte(cr, '/'); i >= 0 {
			if n, err := strconv.ParseInt(cr[i+1:], 10, 64); err == nil {
				return n, http.StatusOK, nil
			}
		}
		return -1, http.StatusOK, nil
	}
	return resp.ContentLength, resp.StatusCode, nil
}

func formatSize(n int64) string {
	if n%mb == 0 {
		return fmt.Sprintf("%d MB", n/mb)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/mb)
}
