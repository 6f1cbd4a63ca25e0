package command

import (
	"fmt"
	"sort"
	"time"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
)

// accountSet is the A1Base clients an apply sends with: the default
// provider's and one per aliased provider used.
type accountSet struct {
	def     executor.Sender
	aliased map[string]executor.Account
}

// providersDue lists the aliases ("" for the default provider) of the
// providers whose accounts an apply at at may need: those of the groups of
// messages due by then (sends, retries and unknowns all are), of imports,
// and of a saved plan's changes. With no aliased provider the default one
// is always needed, as it always was.
func providersDue(cfg *spec.Config, at time.Time, saved *planner.SavedPlan) map[string]bool {
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

// connectAccounts builds a client for every provider in need, with its
// credentials from the environment: A1BASE_API_KEY and A1BASE_API_SECRET
// for the default provider, A1BASE_<ALIAS>_API_KEY and _API_SECRET for an
// aliased one. A provider in need without credentials or account id is an
// error naming the variables, before anything is locked or sent.
func connectAccounts(env *Env, cfg *spec.Config, need map[string]bool) (accountSet, error) {
	set := accountSet{aliased: map[string]executor.Account{}}
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
		c, err := apiClient(env, p, key, secret)
		if err != nil {
			return set, err
		}
		if alias == "" {
			set.def = c
		} else {
			set.aliased[alias] = executor.Account{Client: c, ID: p.AccountID, Limit: p.RateLimit, CheckMedia: p.CheckMedia}
		}
	}
	return set, nil
}
