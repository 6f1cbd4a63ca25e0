package a1base

import (
	"context"
	"fmt"
	"mime"
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

// MediaInfo is what a media host says about a file.
type MediaInfo struct {
	// Size is the file's size in bytes; -1 when the host does not say.
	Size int64
	// ContentType is the media type the host names, without parameters;
	// empty when it names none.
	ContentType string
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
	info, err := c.ProbeMedia(ctx, rawURL)
	if err != nil {
		return err
	}
	if info.Size > limit {
		return fmt.Errorf("media %s is %s; A1Base accepts %s files up to %s", ShownURL(rawURL), FormatSize(info.Size), mediaType, FormatSize(limit))
	}
	return nil
}

// ShownURL is a media URL as errors show it: without its query, where
// signed URLs carry their signature.
func ShownURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unreadable URL)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// ProbeMedia asks the media host for rawURL's size and content type, with
// a HEAD request (a GET of the first byte when the host refuses HEAD). It
// sends no credentials. An error says the file cannot be fetched.
func (c *Client) ProbeMedia(ctx context.Context, rawURL string) (MediaInfo, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return MediaInfo{}, fmt.Errorf("media URL %q is not an http(s) URL", ShownURL(rawURL))
	}
	shown := ShownURL(rawURL)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	info, status, err := c.mediaInfo(ctx, http.MethodHead, rawURL)
	if err == nil && (status == http.StatusMethodNotAllowed || status == http.StatusNotImplemented) {
		info, status, err = c.mediaInfo(ctx, http.MethodGet, rawURL)
	}
	if err != nil {
		return MediaInfo{}, fmt.Errorf("media %s cannot be fetched: %s", shown, describe(unwrapURLError(err)))
	}
	if status < 200 || status > 299 {
		return MediaInfo{}, fmt.Errorf("media %s cannot be fetched: the host answered %d %s", shown, status, http.StatusText(status))
	}
	return info, nil
}

// mediaInfo returns what the host states (size -1 when it does not). A
// GET asks for one byte only and never reads the body.
func (c *Client) mediaInfo(ctx context.Context, method, rawURL string) (MediaInfo, int, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return MediaInfo{}, 0, err
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if method == http.MethodGet {
		req.Header.Set("Range", "bytes=0-0")
	}
	resp, err := c.media.Do(req)
	if err != nil {
		return MediaInfo{}, 0, err
	}
	resp.Body.Close()
	info := MediaInfo{Size: resp.ContentLength}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil {
		info.ContentType = strings.ToLower(mt)
	}
	if resp.StatusCode == http.StatusPartialContent {
		// Content-Range: bytes 0-0/12345
		info.Size = -1
		cr := resp.Header.Get("Content-Range")
		if i := strings.LastIndexByte(cr, '/'); i >= 0 {
			if n, err := strconv.ParseInt(cr[i+1:], 10, 64); err == nil {
				info.Size = n
			}
		}
		return info, http.StatusOK, nil
	}
	return info, resp.StatusCode, nil
}

// FormatSize renders a byte count in binary megabytes.
func FormatSize(n int64) string {
	if n%mb == 0 {
		return fmt.Sprintf("%d MB", n/mb)
	}
	return fmt.Sprintf("%.1f MB (%d bytes)", float64(n)/mb, n)
}
