package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/heraldhq/herald/addrs"
)

// Config is a loaded and evaluated configuration: what later packages see.
// Nothing after spec needs to know HCL beyond the source ranges carried for
// diagnostics.
type Config struct {
	// Dir is the working directory the configuration was loaded from.
	Dir string
	// Files holds every parsed file by name, for diagnostic snippets.
	Files map[string]*hcl.File

	// Provider is the default provider: the provider "a1base" block
	// without alias, or the defaults and environment when there is none.
	Provider Provider
	// Aliases are the aliased provider blocks, by alias.
	Aliases map[string]*Provider
	Backend *Backend // nil: the local state file
	Groups  map[string]*Group
	// Instances are the expanded message instances, ordered by SendAt, then
	// by address.
	Instances []*Instance
	Moved     []*Moved
	// Imports are the import blocks: messages to record as already sent.
	Imports []*Import
	// Repeats are the repeat messages by RepeatKey, whatever the clock:
	// their rules, for previews of later occurrences. Only the occurrences
	// a plan considers are in Instances (see LoadOptions.At).
	Repeats map[string]*Repeat
	// Checks are the results of the check blocks' asserts, ordered by
	// address (check.NAME, then module.M.check.NAME) and assert; only a plan's Load (LoadOptions.At set)
	// evaluates them. The preconditions are on their instances.
	Checks []*CheckResult
	// Notify are the notify blocks, ordered by name.
	Notify []*Notify

	// Hash identifies the configuration files and the variable values they
	// were evaluated with (sensitive values excluded: SensitiveVarsHash
	// covers those), for saved plans.
	Hash string
	// sensitiveVars are the sensitive variables' values, for
	// SensitiveVarsHash only.
	sensitiveVars []byte
	// sensitiveNames are the root variables declared sensitive.
	sensitiveNames map[string]bool
}

// RepeatKey is the key of a message block in Config.Repeats: its name in
// the root module, its block address (module.emea.message.standup) in a
// module.
func RepeatKey(a addrs.Message) string {
	if len(a.Module) == 0 {
		return a.Name
	}
	return a.Block().String()
}

// Provider is the evaluated provider "a1base" block with environment
// fallbacks applied.
type Provider struct {
	// Alias is "" for the default provider.
	Alias        string
	AccountID    string
	From         string
	BaseURL      string
	RateLimit    *RateLimit // nil: no account-wide limit
	ExpiresAfter time.Duration
	CheckMedia   bool
	// Endpoint is the send endpoint: EndpointGroup or EndpointUniversal.
	Endpoint string
	// Timezone is the provider's timezone; nil when it sets none.
	Timezone *time.Location
	// zoneInvalid: it sets a timezone that is not valid (reported), so a
	// wall time in its scope cannot be read, which is no error of its own.
	zoneInvalid bool
	// Unknown is its on_unknown and unknown_settle.
	Unknown   UnknownPolicy
	DeclRange hcl.Range
}

// Name is how configuration refers to the provider: "a1base" or
// "a1base.eu".
func (p *Provider) Name() string {
	if p == nil || p.Alias == "" {
		return providerName
	}
	return providerName + "." + p.Alias
}

// blockName names the provider's block in diagnostics.
func (p *Provider) blockName() string {
	if p == nil || p.Alias == "" {
		return `the provider "a1base" block`
	}
	return fmt.Sprintf(`the provider "a1base" block with alias %q`, p.Alias)
}

// Providers lists the default provider and then the aliased ones in
// alias order.
func (c *Config) Providers() []*Provider {
	out := []*Provider{&c.Provider}
	for _, a := range sortedKeys(c.Aliases) {
		out = append(out, c.Aliases[a])
	}
	return out
}

// ProviderOf is the provider an alias names: the default one for "".
func (c *Config) ProviderOf(alias string) *Provider {
	if alias == "" {
		return &c.Provider
	}
	return c.Aliases[alias]
}

// DefaultBaseURL is A1Base's public API.
const DefaultBaseURL = "https://api.a1base.com/v1"

// DefaultExpiresAfter applies when neither message nor provider sets one.
const DefaultExpiresAfter = 24 * time.Hour

// RateLimit is "N/period": no more than N sends start in any window of Per.
type RateLimit struct {
	N    int
	Per  time.Duration
	Text string // as written, for display
}

// Every is the interval between tokens of a burst-1 token bucket that
// keeps the limit.
func (r RateLimit) Every() time.Duration { return r.Per / time.Duration(r.N) }

// Group is an evaluated group block.
type Group struct {
	Name      string
	ThreadID  string
	Service   string // whatsapp or telegram
	From      string // the sending number: the group's, else the provider's
	RateLimit *RateLimit
	// Timezone is the group's timezone, else the provider's; nil when
	// neither sets one.
	Timezone *time.Location
	// zoneInvalid: its timezone is the provider's, which is not valid.
	zoneInvalid bool
	// Unknown is the group's on_unknown and unknown_settle, each else the
	// provider's.
	Unknown UnknownPolicy
	// Provider is the provider whose account sends to the group: the
	// default one unless the group names an alias.
	Provider  *Provider
	DeclRange hcl.Range
}

// ProviderAlias is the alias of the group's provider; "" for the default.
func (g *Group) ProviderAlias() string {
	if g == nil || g.Provider == nil {
		return ""
	}
	return g.Provider.Alias
}

// Media is a message's attachment.
type Media struct {
	URL     string
	Type    string // image, video, audio, document
	Caption string
	// URLRange is where the url is set, for diagnostics about the file it
	// names (the media preflight of plan).
	URLRange hcl.Range
	// PlainURL and PlainCaption report that the URL, or the caption, was
	// built from no sensitive value: when the instance is Sensitive
	// because of the other one, plans still show it. False (not known to
	// be plain) keeps it hidden with the rest of a sensitive instance.
	PlainURL, PlainCaption bool
}

// Instance is one expanded message: a message block without for_each, or
// one element of its for_each.
type Instance struct {
	Addr         addrs.Message
	Group        *Group
	From         string
	Service      string
	ThreadID     string
	SendAt       time.Time
	ExpiresAfter time.Duration
	Text         string
	Media        *Media // exactly one of Text and Media is set
	// Sensitive reports that the text, or the media URL or caption, was
	// built from a sensitive value: it is shown as (sensitive) and never
	// written anywhere. Of a media message, only the part built from it is
	// (see Media.PlainURL).
	Sensitive bool
	// Timezone is the zone in scope for the instance: the repeat block's,
	// else the message's, its group's or the provider's; nil when none is
	// set (times are then read as written, or UTC for a repeat).
	Timezone *time.Location
	// Repeat marks an occurrence of a repeat message; nil for any other
	// instance. Records of a repeat message's other occurrences are past
	// occurrences, never orphans.
	Repeat *RepeatInfo
	// Unknown is the message's on_unknown and unknown_settle, each else
	// its group's.
	Unknown UnknownPolicy
	// Preconditions are the results of the message's precondition blocks
	// for this instance; only a plan's Load evaluates them.
	Preconditions []*CheckResult
	DeclRange     hcl.Range
}

// Content is what the API receives as the message body: the text, or the
// media caption.
func (i *Instance) Content() string {
	if i.Media != nil {
		return i.Media.Caption
	}
	return i.Text
}

// Recognisable reports whether a look-up can tell the instance among a
// thread's messages: by its text or caption, or, for a media message
// without a caption, by its media URL where the thread lists one.
func (i *Instance) Recognisable() bool {
	return i.Content() != "" || i.Media != nil && i.Media.URL != ""
}

// ExpiresAt is the last moment the instance may still be sent.
func (i *Instance) ExpiresAt() time.Time { return i.SendAt.Add(i.ExpiresAfter) }

// ContentHash identifies the message's content (text, or media URL, type and
// caption) so that a change after sending is seen as drift. Sensitive content
// is left out: a plain hash of a short secret could be brute-forced, so for a
// sensitive message only the kind of content is hashed.
func (i *Instance) ContentHash() string {
	h := sha256.New()
	switch {
	case i.Sensitive && i.Media != nil:
		io.WriteString(h, "media\x00(sensitive)")
	case i.Sensitive:
		io.WriteString(h, "text\x00(sensitive)")
	case i.Media != nil:
		io.WriteString(h, "media\x00"+i.Media.URL+"\x00"+i.Media.Type+"\x00"+i.Media.Caption)
	default:
		io.WriteString(h, "text\x00"+i.Text)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Moved is a moved block: state recorded under From now belongs to To.
type Moved struct {
	From      addrs.Message
	To        addrs.Message
	DeclRange hcl.Range
}

// Import is an import block: To was already sent outside herald, and apply
// records it as sent without sending it. ID, when set, names the thread
// message that is its evidence.
type Import struct {
	To        addrs.Message
	ID        string
	DeclRange hcl.Range
}

// Backend is the backend block; its settings are checked here and used by
// the state package.
type Backend struct {
	Type       string // "postgres"
	ConnStr    string
	SchemaName string
	DeclRange  hcl.Range
}
