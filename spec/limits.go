package spec

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

const mb = 1 << 20

// ServiceLimits are what one messaging service accepts in a message sent
// through A1Base. herald checks them at validate and plan time, so that a
// message the service would refuse is a diagnostic on its line rather
// than a failed send. The sources are in docs/language/provider.md
// ("Per-service limits").
type ServiceLimits struct {
	Service string
	// Text and Caption are the longest text and media caption.
	Text, Caption int
	// UTF16 reports that lengths count UTF-16 code units (Telegram), not
	// Unicode characters (WhatsApp).
	UTF16 bool
	// EmptyText reports whether a text message may be empty.
	EmptyText bool
	// MediaSize is the largest file per media type: A1Base's limit, or the
	// service's when it is smaller.
	MediaSize map[string]int64
	// NoCaption lists media types the service shows without a caption.
	NoCaption []string
	// ContentTypes are the content types the service accepts per media
	// type, checked by the media preflight.
	ContentTypes map[string][]string
}

var whatsappLimits = &ServiceLimits{
	Service:   "whatsapp",
	Text:      4096,
	Caption:   1024,
	EmptyText: true,
	MediaSize: map[string]int64{"image": 5 * mb, "video": 16 * mb, "audio": 16 * mb, "document": 100 * mb},
	NoCaption: []string{"audio"},
	ContentTypes: map[string][]string{
		"image": {"image/jpeg", "image/png"},
		"video": {"video/mp4", "video/3gpp"},
		"audio": {"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"},
		"document": {
			"text/plain", "application/pdf",
			"application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
			"application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
			"application/vnd.ms-powerpoint", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
		},
	},
}

var telegramLimits = &ServiceLimits{
	Service: "telegram",
	Text:    4096,
	Caption: 1024,
	UTF16:   true,
	// Telegram fetches a file sent by URL itself: photos up to 5 MB, other
	// files up to 20 MB.
	MediaSize: map[string]int64{"image": 5 * mb, "video": 20 * mb, "audio": 20 * mb, "document": 20 * mb},
	ContentTypes: map[string][]string{
		"image": {"image/jpeg", "image/png", "image/webp", "image/gif"},
		"video": {"video/mp4"},
		"audio": {"audio/mpeg", "audio/mp4"},
		// A document sent by URL works only for PDF, ZIP and GIF files.
		"document": {"application/pdf", "application/zip", "image/gif"},
	},
}

// Limits returns the limits of a service (whatsapp or telegram).
func Limits(service string) (*ServiceLimits, bool) {
	switch service {
	case "whatsapp":
		return whatsappLimits, true
	case "telegram":
		return telegramLimits, true
	}
	return nil, false
}

// Length is the length of s as the service counts it.
func (sl *ServiceLimits) Length(s string) int {
	if sl.UTF16 {
		n := 0
		for _, r := range s {
			n += utf16.RuneLen(r)
		}
		return n
	}
	return utf8.RuneCountInString(s)
}

func (sl *ServiceLimits) unit() string {
	if sl.UTF16 {
		return "UTF-16 code units"
	}
	return "characters"
}

func (sl *ServiceLimits) name() string {
	if sl.Service == "whatsapp" {
		return "WhatsApp"
	}
	return "Telegram"
}

// CheckText refuses a text the service would not send.
func (sl *ServiceLimits) CheckText(s string) (summary string, err error) {
	if n := sl.Length(s); n > sl.Text {
		return "Text too long", fmt.Errorf("a %s message's text is at most %d %s; this one has %d", sl.name(), sl.Text, sl.unit(), n)
	}
	if s == "" && !sl.EmptyText {
		return "Empty text", fmt.Errorf("%s sends no empty text message: a text has 1 to %d %s", sl.name(), sl.Text, sl.unit())
	}
	return "", nil
}

// CheckCaption refuses a caption the service would not show.
func (sl *ServiceLimits) CheckCaption(mediaType, caption string) (summary string, err error) {
	if caption == "" {
		return "", nil
	}
	if slices.Contains(sl.NoCaption, mediaType) {
		return "Caption not supported", fmt.Errorf("%s shows %s messages without a caption; remove the caption or send it as a text message", sl.name(), mediaType)
	}
	if n := sl.Length(caption); n > sl.Caption {
		return "Caption too long", fmt.Errorf("a %s media caption is at most %d %s; this one has %d", sl.name(), sl.Caption, sl.unit(), n)
	}
	return "", nil
}

// CheckFile refuses a media file, as its host describes it, that the
// service would not take: too large for its type (size < 0 is unknown and
// passes) or of a content type the service does not send as that type
// ("" is unknown and passes).
func (sl *ServiceLimits) CheckFile(mediaType string, size int64, contentType string) (summary string, err error) {
	if limit, ok := sl.MediaSize[mediaType]; ok && size > limit {
		return "Media file too large", fmt.Errorf("the file is %s; %s takes %s files up to %s", formatSize(size), sl.name(), mediaType, formatSize(limit))
	}
	ct := strings.ToLower(contentType)
	if accepted := sl.ContentTypes[mediaType]; ct != "" && len(accepted) > 0 && !slices.Contains(accepted, ct) {
		return "Unsupported media content type", fmt.Errorf("the file is %s; %s sends %s media as one of %s", ct, sl.name(), mediaType, strings.Join(accepted, ", "))
	}
	return "", nil
}

func formatSize(n int64) string {
	if n%mb == 0 {
		return fmt.Sprintf("%d MB", n/mb)
	}
	return fmt.Sprintf("%.1f MB (%d bytes)", float64(n)/mb, n)
}
