package accounts

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
)

// Env is where credentials and herald's user agent come from.
type Env struct {
	// Getenv reads the credential variables.
	Getenv func(string) string
	// Version is herald's version, for the User-Agent.
	Version string
}

// Set is the A1Base accounts a pass sends with.
type Set struct {
	// Default is the default provider's client; nil when it is not
	// needed.
	Default executor.Sender
	// Aliased holds one account per aliased provider needed, by alias.
	Aliased map[string]executor.Account
}

// Two functions say which providers' accounts are needed, because they
// are asked at two different moments. Due answers before the state is
// locked and so before there is a plan (apply checks credentials before it
// locks anything), from the configuration alone. Needed answers once a
// plan is made, from its changes (run, import, plan -generate-imports).
// Both name providers by alias, "" for the default provider.

// Due lists the providers whose accounts an apply at at may need: those
// of the groups of messages due by then (sends, retries and unknowns all
// are), of imports, and of a saved plan's changes. With no aliased
// provider the default one is always needed.
func Due(cfg *spec.Config, at time.Time, saved *planner.SavedPlan) map[string]bool {
	need := map[string]bool{}
	if len(cfg.Aliases) == 0 {
		need[""] = true
		return need
	}
	imported := map[string]bool{}
	for _, im := range cfg.Imports {
		imported[im.To.String()] = true
	}
	for _, inst := range cfg.Instances {
		if inst == nil {
			continue
		}
		if !inst.SendAt.After(at) || imported[inst.Addr.String()] {
			need[inst.Group.ProviderAlias()] = true
		}
	}
	if saved != nil {
		for _, c := range saved.Changes {
			if c.Instance != nil {
				need[c.Instance.Provider] = true
			}
		}
	}
	return need
}

// Needed lists the providers whose accounts changes need: the provider of
// every change with a configured message. The caller passes the changes
// that will reach A1Base (a wait or an expiry only does when its thread
// is read).
func Needed(changes []*planner.Change) map[string]bool {
	need := map[string]bool{}
	for _, c := range changes {
		if c.Instance != nil {
			need[c.Instance.Group.ProviderAlias()] = true
		}
	}
	return need
}

// Connect builds a client for every provider in need, with its
// credentials from the environment. A provider in need without
// credentials or account id is an error naming the variables, so that it
// is found before anything is locked or sent.
func Connect(env Env, cfg *spec.Config, need map[string]bool) (Set, error) {
	set := Set{Aliased: map[string]executor.Account{}}
	aliases := make([]string, 0, len(need))
	for a := range need {
		aliases = append(aliases, a)
	}
	sort.Strings(aliases)
	for _, alias := range aliases {
		p := cfg.ProviderOf(alias)
		if p == nil {
			return set, fmt.Errorf("no provider a1base.%s is configured", alias)
		}
		who := ""
		if alias != "" {
			who = "provider " + p.Name()
		}
		key, secret, err := a1base.CredentialsFromEnvVars(env.Getenv, who, spec.EnvVar(alias, "API_KEY"), spec.EnvVar(alias, "API_SECRET"))
		if err != nil {
			return set, err
		}
		c, err := Client(env, p, key, secret)
		if err != nil {
			return set, err
		}
		if alias == "" {
			set.Default = c
		} else {
			set.Aliased[alias] = executor.Account{Client: c, ID: p.AccountID, Limit: p.RateLimit, CheckMedia: p.CheckMedia}
		}
	}
	return set, nil
}

// WebhookSecrets lists the accounts cfg sends with, by account id, each
// with its API secret from the environment: the key its webhook events
// are signed with. A provider without an account id or a secret is left
// out, and so are its events.
func WebhookSecrets(env Env, cfg *spec.Config) map[string]string {
	out := map[string]string{}
	for _, p := range cfg.Providers() {
		_, secret, err := a1base.CredentialsFromEnvVars(env.Getenv, "", spec.EnvVar(p.Alias, "API_KEY"), spec.EnvVar(p.Alias, "API_SECRET"))
		if p.AccountID == "" || err != nil {
			continue
		}
		out[p.AccountID] = secret
	}
	return out
}

// Client is the real A1Base client for provider p, with credentials
// already read from the environment.
func Client(env Env, p *spec.Provider, key, secret string) (*a1base.Client, error) {
	if err := CheckAccountID(p); err != nil {
		return nil, err
	}
	return a1base.New(a1base.Config{
		BaseURL: p.BaseURL, AccountID: p.AccountID, Endpoint: p.Endpoint,
		APIKey: key, APISecret: secret, UserAgent: a1base.UserAgent(env.Version),
	}), nil
}

// CheckAccountID is an error naming where to set the account id when p
// has none; the real API needs one, the sandbox does not.
func CheckAccountID(p *spec.Provider) error {
	switch {
	case p.AccountID != "":
		return nil
	case p.Alias != "":
		return fmt.Errorf(`no A1Base account id for provider %s: set account_id in its provider "a1base" block or the environment variable %s (or try the configuration with -sandbox, which needs none)`, p.Name(), spec.EnvVar(p.Alias, "ACCOUNT_ID"))
	}
	return errors.New(`no A1Base account id: set account_id in the provider "a1base" block or the environment variable A1BASE_ACCOUNT_ID (or try the configuration with -sandbox, which needs none)`)
}
