package spec

import "strings"

// AttributeDoc documents one argument of a block: what the language
// reference's attribute tables and the language server's completion and
// hover show.
type AttributeDoc struct {
	Name string
	// Type is the kind of value it takes, in the docs' words: "string",
	// "duration", "group reference".
	Type     string
	Required bool
	// Doc is one line, plain text with `code` spans.
	Doc string
}

// BlockDoc documents a block type.
type BlockDoc struct {
	// Type is the block's keyword.
	Type string
	// Labels name the block's labels, such as "name"; none for locals.
	Labels []string
	// Doc is one line.
	Doc        string
	Attributes []AttributeDoc
	// Blocks are the nested block types, keys of BlockDocs relative to
	// this one: "media" under "message" is "message.media".
	Blocks []string
	// AnyAttributes: the block also takes arguments of any name (locals,
	// the input variables of a module call).
	AnyAttributes bool
}

// Attribute is the documentation of the block's argument name, or nil.
func (b *BlockDoc) Attribute(name string) *AttributeDoc {
	for i := range b.Attributes {
		if b.Attributes[i].Name == name {
			return &b.Attributes[i]
		}
	}
	return nil
}

// TopLevelBlocks are the block types a configuration file takes, in the
// order the docs present them.
var TopLevelBlocks = []string{"provider", "backend", "variable", "locals", "group", "message", "module", "output", "moved", "import", "check", "notify"}

// LookupBlockDoc is the documentation of the block at path, the block
// types from the file's top level down ("message", "repeat",
// "occurrence"); nil when no such block exists.
func LookupBlockDoc(path []string) *BlockDoc {
	return BlockDocs[strings.Join(path, ".")]
}

const (
	durationDoc = "a duration such as \"90m\", \"6h\" or \"2d\" (a day is 24 hours)"
	onUnknownT  = `"hold" or "resend"`
	severityT   = `"error" or "warning"`
)

// mediaDoc is the media block, as a message and an occurrence take it.
var mediaDoc = &BlockDoc{
	Type: "media",
	Doc:  "An attachment sent instead of text; its caption is the message's text.",
	Attributes: []AttributeDoc{
		{Name: "url", Type: "string", Required: true, Doc: "The https URL of the file to send."},
		{Name: "type", Type: `"image", "video", "audio" or "document"`, Required: true, Doc: "What kind of file the URL holds."},
		{Name: "caption", Type: "string", Doc: "Text sent with the file; none when unset."},
	},
}

// conditionAttrs are a precondition's, a validation's and an assert's
// arguments.
var conditionAttrs = []AttributeDoc{
	{Name: "condition", Type: "bool expression", Required: true, Doc: "Must be true; false fails the condition."},
	{Name: "error_message", Type: "string", Required: true, Doc: "What is shown when the condition is false."},
}

// BlockDocs documents every block type by its path from the top level,
// the block types joined with dots ("message.repeat.occurrence"). It is
// the one source of the attribute documentation: the language reference's
// attribute tables are generated from it and the language server's
// completion and hover read it. A test checks it against the decoding
// schemas.
var BlockDocs = map[string]*BlockDoc{
	"provider": {
		Type:   "provider",
		Labels: []string{"name"},
		Doc:    `The A1Base account messages are sent through: provider "a1base", once without alias and once per alias.`,
		Attributes: []AttributeDoc{
			{Name: "account_id", Type: "string", Doc: "The A1Base account; else the environment variable A1BASE_ACCOUNT_ID."},
			{Name: "from", Type: "string (E.164)", Doc: "The default sending number, such as \"+14155552671\"; a group's from wins."},
			{Name: "base_url", Type: "string", Doc: "The API's URL; default https://api.a1base.com/v1, and A1BASE_BASE_URL wins."},
			{Name: "rate_limit", Type: "string", Doc: "Account-wide limit: N sends per period, such as \"10/s\" or \"1/5s\"."},
			{Name: "expires_after", Type: "duration", Doc: "How late a message may still be sent, unless it sets its own: " + durationDoc + "; default 24h."},
			{Name: "check_media", Type: "bool", Doc: "true: apply checks each media URL with a HEAD request before sending."},
			{Name: "timezone", Type: "string (IANA zone)", Doc: "The default time zone for wall times, such as \"Europe/Berlin\"."},
			{Name: "on_unknown", Type: onUnknownT, Doc: "What to do with a send whose outcome is unknown once the look-up settles; default \"hold\"."},
			{Name: "unknown_settle", Type: "duration", Doc: "How long before a look-up's absence of a message is proof it was not sent; default 5m."},
			{Name: "alias", Type: "string", Doc: "Names a further account (lower-case letters, digits, _), which a group picks with provider = a1base.ALIAS."},
			{Name: "endpoint", Type: `"group" or "universal"`, Doc: "The send endpoint the account uses; default \"group\"."},
		},
	},
	"backend": {
		Type:   "backend",
		Labels: []string{"type"},
		Doc:    `Where the state is kept: backend "pg" keeps it in PostgreSQL; without one, in a local file.`,
		Attributes: []AttributeDoc{
			{Name: "conn_str", Type: "string", Doc: "The PostgreSQL connection string; else the PG* environment variables."},
			{Name: "schema_name", Type: "string", Doc: "The schema the state tables live in; default \"herald\"."},
		},
	},
	"variable": {
		Type:   "variable",
		Labels: []string{"name"},
		Doc:    "An input variable, set with -var, -var-file, *.auto.vars.hcl or HERALD_VAR_name, and read as var.NAME.",
		Attributes: []AttributeDoc{
			{Name: "type", Type: "type constraint", Doc: "The type the value must have, such as string, number or map(string)."},
			{Name: "default", Type: "any", Doc: "The value when none is given; without it the variable is required."},
			{Name: "description", Type: "string", Doc: "What the variable is for, shown when it is missing."},
			{Name: "sensitive", Type: "bool", Doc: "true: shown as (sensitive) and never stored."},
		},
		Blocks: []string{"validation"},
	},
	"variable.validation": {
		Type:       "validation",
		Doc:        "A rule the variable's value must keep; condition may refer to var.NAME only.",
		Attributes: conditionAttrs,
	},
	"locals": {
		Type:          "locals",
		Doc:           "Named values computed once and read as local.NAME; every argument is one.",
		AnyAttributes: true,
	},
	"group": {
		Type:   "group",
		Labels: []string{"name"},
		Doc:    "A group chat messages are sent to, read as group.NAME.",
		Attributes: []AttributeDoc{
			{Name: "thread_id", Type: "string", Required: true, Doc: "The A1Base thread of the group chat."},
			{Name: "service", Type: `"whatsapp" or "telegram"`, Doc: "The chat service; default \"whatsapp\"."},
			{Name: "from", Type: "string (E.164)", Doc: "The sending number; default the provider's."},
			{Name: "rate_limit", Type: "string", Doc: "A limit for this group: N sends per period, such as \"1/5s\"."},
			{Name: "timezone", Type: "string (IANA zone)", Doc: "The time zone of the group's wall times; default the provider's."},
			{Name: "on_unknown", Type: onUnknownT, Doc: "What to do with a send whose outcome is unknown; default the provider's."},
			{Name: "unknown_settle", Type: "duration", Doc: "How long before a look-up's absence is proof; default the provider's."},
			{Name: "provider", Type: "provider reference", Doc: "The account that sends to the group, such as a1base.eu; default the provider without alias."},
		},
	},
	"message": {
		Type:   "message",
		Labels: []string{"name"},
		Doc:    "A message to send to a group at a time, or on a repeat rule.",
		Attributes: []AttributeDoc{
			{Name: "for_each", Type: "map, set of strings or object", Doc: "One instance per element, with each.key and each.value; a list is an error, use toset(...)."},
			{Name: "group", Type: "group reference", Required: true, Doc: "The group the message is sent to, such as group.eng."},
			{Name: "send_at", Type: "time string", Doc: "When to send: RFC 3339 with an offset, or a wall time \"2027-03-31 16:00\" in the zone in scope; not with repeat."},
			{Name: "expires_after", Type: "duration", Doc: "How late the message may still be sent: " + durationDoc + "; default the provider's."},
			{Name: "text", Type: "string", Doc: "The text to send, at most 4096 characters; exactly one of text and media."},
			{Name: "timezone", Type: "string (IANA zone)", Doc: "The time zone of send_at's wall time; default the group's."},
			{Name: "on_unknown", Type: onUnknownT, Doc: "What to do with a send whose outcome is unknown; default the group's."},
			{Name: "unknown_settle", Type: "duration", Doc: "How long before a look-up's absence is proof; default the group's."},
		},
		Blocks: []string{"media", "repeat", "precondition"},
	},
	"message.media": mediaDoc,
	"message.repeat": {
		Type: "repeat",
		Doc:  "Sends the message on a cron rule instead of once at send_at; each.key is the occurrence's time.",
		Attributes: []AttributeDoc{
			{Name: "cron", Type: "string", Required: true, Doc: "Five fields: minute, hour, day of month, month, day of week, such as \"0 9 * * MON\"."},
			{Name: "timezone", Type: "string (IANA zone)", Doc: "The zone the rule is read in; default the message's, group's or provider's, else UTC."},
			{Name: "from", Type: "time string", Doc: "The first moment an occurrence may fall on."},
			{Name: "until", Type: "time string", Doc: "The last moment an occurrence may fall on."},
			{Name: "interval", Type: "string", Doc: "Keeps every Nth day or week from from's, such as \"2 weeks\"; needs from."},
			{Name: "count", Type: "number", Doc: "Ends the rule after that many occurrences from from; needs from."},
			{Name: "except", Type: "list of strings", Doc: "Skipped days (\"2027-04-26\") or single occurrences (\"2027-05-10 09:00\")."},
		},
		Blocks: []string{"occurrence"},
	},
	"message.repeat.occurrence": {
		Type:   "occurrence",
		Labels: []string{"time"},
		Doc:    "Changes one occurrence of the rule, named by its time: when it is sent or what it says.",
		Attributes: []AttributeDoc{
			{Name: "send_at", Type: "time string", Doc: "Sends this occurrence at another time."},
			{Name: "text", Type: "string", Doc: "The text of this occurrence instead of the message's."},
			{Name: "expires_after", Type: "duration", Doc: "How late this occurrence may still be sent."},
		},
		Blocks: []string{"media"},
	},
	"message.repeat.occurrence.media": mediaDoc,
	"message.precondition": {
		Type: "precondition",
		Doc:  "What must hold of each instance before it is sent; self is the instance.",
		Attributes: append(append([]AttributeDoc(nil), conditionAttrs...),
			AttributeDoc{Name: "severity", Type: severityT, Doc: "\"error\" stops the plan, \"warning\" only shows; default \"error\"."}),
	},
	"module": {
		Type:   "module",
		Labels: []string{"name"},
		Doc:    "Uses the configuration in a local directory as a module; every other argument sets one of its variables.",
		Attributes: []AttributeDoc{
			{Name: "source", Type: "string", Required: true, Doc: "The module's directory relative to this file's, starting ./ or ../."},
			{Name: "for_each", Type: "map, set of strings or object", Doc: "One module instance per element, with each.key and each.value."},
		},
		AnyAttributes: true,
	},
	"output": {
		Type:   "output",
		Labels: []string{"name"},
		Doc:    "A value a module gives its caller, read as module.NAME.OUTPUT.",
		Attributes: []AttributeDoc{
			{Name: "value", Type: "any", Required: true, Doc: "The output's value."},
			{Name: "description", Type: "string", Doc: "What the output holds."},
			{Name: "sensitive", Type: "bool", Doc: "true: the value stays sensitive where the caller uses it."},
		},
	},
	"moved": {
		Type: "moved",
		Doc:  "Says that a message's state now belongs to another address, so renaming it does not send it again.",
		Attributes: []AttributeDoc{
			{Name: "from", Type: "message address", Required: true, Doc: "The old address, such as message.old or message.old[\"eng\"]."},
			{Name: "to", Type: "message address", Required: true, Doc: "The new address."},
		},
	},
	"import": {
		Type: "import",
		Doc:  "Records a message as already sent, so that apply does not send it.",
		Attributes: []AttributeDoc{
			{Name: "to", Type: "message address", Required: true, Doc: "The instance to record, such as message.launch or message.report[\"eng\"]."},
			{Name: "id", Type: "string", Doc: "The A1Base id of the thread message to match; else it is looked up by its text."},
		},
	},
	"check": {
		Type:   "check",
		Labels: []string{"name"},
		Doc:    "Asserts over the whole plan, with message.NAME and messages; failures warn by default.",
		Attributes: []AttributeDoc{
			{Name: "severity", Type: severityT, Doc: "\"error\" stops the plan, \"warning\" only shows; default \"warning\"."},
		},
		Blocks: []string{"assert"},
	},
	"check.assert": {
		Type:       "assert",
		Doc:        "One condition of the check.",
		Attributes: conditionAttrs,
	},
	"notify": {
		Type:   "notify",
		Labels: []string{"name"},
		Doc:    "Tells people when something needs them: one destination (webhook, slack or group) and the events it wants. Root module only.",
		Attributes: []AttributeDoc{
			{Name: "events", Type: "list of strings", Required: true, Doc: `The events to send: "failed", "unknown", "not_delivered", "expired", "drift", "skipped", "takeover", "apply_summary".`},
			{Name: "group", Type: "group", Doc: "A group of organisers to notify through herald's own client, within the rate limits; never counted as a broadcast. One destination only."},
		},
		Blocks: []string{"webhook", "slack"},
	},
	"notify.webhook": {
		Type: "webhook",
		Doc:  "A generic JSON webhook, optionally signed with HMAC-SHA256.",
		Attributes: []AttributeDoc{
			{Name: "url", Type: "string", Required: true, Doc: "The https URL (plain http to loopback only) the events are posted to; null leaves the block out with a warning."},
			{Name: "secret", Type: "sensitive string", Doc: "The key of the X-Herald-Signature HMAC-SHA256; from a sensitive variable."},
		},
	},
	"notify.slack": {
		Type: "slack",
		Doc:  "A Slack-compatible incoming webhook.",
		Attributes: []AttributeDoc{
			{Name: "url", Type: "sensitive string", Required: true, Doc: "The incoming webhook's URL, which is its token: from a sensitive variable."},
		},
	},
}
