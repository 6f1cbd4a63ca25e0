package accounts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/internal/atomicfile"
	"github.com/heraldhq/herald/internal/clock"
	"github.com/heraldhq/herald/spec"
)

// SandboxAccount is the account id a sandbox uses when none is configured.
const SandboxAccount = "sandbox"

// Sandbox is the in-process A1Base of -sandbox. It reports each message it
// receives, hiding the content of sensitive ones; which contents are
// sensitive follows the configuration last given to Connect (run reloads
// it).
type Sandbox struct {
	srv *sandbox.Server

	mu        sync.Mutex
	sensitive map[string]bool
}

// NewSandbox starts a sandbox that calls received for every message it
// receives (from the server's goroutines), and dates messages and signs
// webhook events by now (nil: the real clock), the clock of the command
// it serves.
func NewSandbox(received func(req a1base.SendRequest, sensitive bool), now func() time.Time) *Sandbox {
	s := &Sandbox{}
	if now == nil {
		now = clock.Now
	}
	s.srv = sandbox.NewServer(sandbox.WithClock(now), sandbox.WithOnReceive(func(rc sandbox.Received) {
		req := rc.Request
		s.mu.Lock()
		hide := s.sensitive[req.Content] || (req.AttachmentURI != "" && s.sensitive[req.AttachmentURI])
		s.mu.Unlock()
		received(req, hide)
	}))
	return s
}

// URL is the sandbox's API root.
func (s *Sandbox) URL() string { return s.srv.URL + "/v1" }

// Connect notes cfg's sensitive contents and returns the accounts of every
// provider on the sandbox: the default provider's client and one account
// per aliased provider, each with its own account id (a made-up one when
// none is configured), endpoint and rate limit. No credentials are needed.
func (s *Sandbox) Connect(env Env, cfg *spec.Config) Set {
	sensitive := map[string]bool{}
	for _, inst := range cfg.Instances {
		if inst != nil && inst.Sensitive {
			sensitive[inst.Content()] = true
			if inst.Media != nil {
				sensitive[inst.Media.URL] = true
			}
		}
	}
	s.mu.Lock()
	s.sensitive = sensitive
	s.mu.Unlock()
	set := Set{Default: s.client(env, &cfg.Provider, sandboxAccount(&cfg.Provider)), Aliased: map[string]executor.Account{}}
	for _, p := range cfg.Providers()[1:] {
		set.Aliased[p.Alias] = executor.Account{Client: s.client(env, p, sandboxAccount(p)), ID: p.AccountID, Limit: p.RateLimit, CheckMedia: p.CheckMedia}
	}
	return set
}

// sandboxAccount is the account id p sends with on the sandbox: its own,
// or a made-up one.
func sandboxAccount(p *spec.Provider) string {
	switch {
	case p.AccountID != "":
		return p.AccountID
	case p.Alias != "":
		return SandboxAccount + "-" + p.Alias
	}
	return SandboxAccount
}

// sandboxSecret is the API secret every sandbox account has.
const sandboxSecret = "sandbox"

// WebhookSecrets lists cfg's accounts on the sandbox, each with the
// secret its webhook events are signed with.
func (s *Sandbox) WebhookSecrets(cfg *spec.Config) map[string]string {
	out := map[string]string{}
	for _, p := range cfg.Providers() {
		out[sandboxAccount(p)] = sandboxSecret
	}
	return out
}

// PostWebhooks makes the sandbox post a signed webhook event to url for
// every message in its threads, as A1Base does.
func (s *Sandbox) PostWebhooks(url string) { s.srv.SetWebhook(url) }

func (s *Sandbox) client(env Env, p *spec.Provider, account string) *a1base.Client {
	return a1base.New(a1base.Config{
		BaseURL: s.URL(), AccountID: account, Endpoint: p.Endpoint,
		APIKey: "sandbox", APISecret: sandboxSecret,
		UserAgent: a1base.UserAgent(env.Version), HTTPClient: s.srv.Client(),
	})
}

// Close stops the sandbox.
func (s *Sandbox) Close() { s.srv.Close() }

// ThreadsPath is the file that keeps the sandbox's thread history beside
// the sandbox state at statePath: herald.sandbox.threads.json beside
// herald.sandbox.state.json, NAME.threads.json beside NAME.json.
func ThreadsPath(statePath string) string {
	base := strings.TrimSuffix(filepath.Base(statePath), ".json")
	base = strings.TrimSuffix(base, ".state")
	return filepath.Join(filepath.Dir(statePath), base+".threads.json")
}

// LoadHistory puts the thread history kept at path (see SaveHistory) into
// the sandbox, so that its threads hold what earlier runs sent (and what
// was written there by hand). A missing file is an empty history.
func (s *Sandbox) LoadHistory(path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the sandbox's thread history: %w", err)
	}
	var h sandbox.History
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return fmt.Errorf("the sandbox's thread history %s is not valid: %w", path, err)
	}
	if err := s.srv.AddHistory(h); err != nil {
		return fmt.Errorf("the sandbox's thread history %s is not valid: %w", path, err)
	}
	return nil
}

// SaveHistory writes the sandbox's threads to path (mode 0600, replaced
// atomically) when it received a message: the next sandbox run loads
// them, so that herald import -sandbox finds what herald apply -sandbox
// sent. A run that sent nothing leaves the file alone, so that a run
// refused by the state lock cannot put back an older history. Messages
// whose content is sensitive are left out: nothing sensitive is written
// to disk.
func (s *Sandbox) SaveHistory(path string) error {
	if len(s.srv.Sends()) == 0 {
		return nil
	}
	s.mu.Lock()
	sensitive := s.sensitive
	s.mu.Unlock()
	h := s.srv.History()
	for thread, msgs := range h.Threads {
		kept := msgs[:0]
		for _, m := range msgs {
			if (m.Body != "" && sensitive[m.Body]) || (m.AttachmentURI != "" && sensitive[m.AttachmentURI]) {
				continue
			}
			kept = append(kept, m)
		}
		h.Threads[thread] = kept
	}
	b, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the sandbox's thread history: %w", err)
	}
	if err := atomicfile.Write(path, append(b, '\n'), atomicfile.Options{}); err != nil {
		return fmt.Errorf("writing the sandbox's thread history: %w", err)
	}
	return nil
}
