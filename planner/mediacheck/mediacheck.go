package mediacheck

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/hashicorp/hcl/v2"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
)

// maxProbes bounds how many media hosts the preflight asks at once.
const maxProbes = 4

// Probe asks a media host for the size and content type of the file at
// url; a1base.Client.ProbeMedia is herald's.
type Probe func(ctx context.Context, url string) (a1base.MediaInfo, error)

// Check is plan's media preflight: a probe of the media URL of every
// message the plan would send or still waits for (plan -check-media), at
// most maxProbes at once, sensitive messages left out. Each file the host
// describes as too large for its service, or of a content type the service
// does not send as its media type, is an error on the url attribute; each file checked is reported in
// a warning with its size and content type, and a host that cannot be
// reached is a warning too: the file may well be there at send time.
func Check(ctx context.Context, plan *planner.Plan, probeMedia Probe) hcl.Diagnostics {
	type probe struct {
		inst    *spec.Instance
		limits  *spec.ServiceLimits
		info    a1base.MediaInfo
		err     error
		address string
	}
	var probes []*probe
	seen := map[string]bool{}
	for _, c := range plan.Changes {
		inst := c.Instance
		if inst == nil || inst.Media == nil || inst.Sensitive && !inst.Media.PlainURL {
			continue
		}
		switch c.Action {
		case planner.Send, planner.Wait, planner.Retry:
		default:
			continue
		}
		limits, ok := spec.Limits(inst.Service)
		if !ok {
			continue
		}
		// One request per file and service, reported on the first
		// instance that sends it.
		k := inst.Service + "\x00" + inst.Media.Type + "\x00" + inst.Media.URL
		if seen[k] {
			continue
		}
		seen[k] = true
		probes = append(probes, &probe{inst: inst, limits: limits, address: c.Addr.String()})
	}
	sem := make(chan struct{}, maxProbes)
	var wg sync.WaitGroup
	for _, p := range probes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			p.info, p.err = probeMedia(ctx, p.inst.Media.URL)
		}()
	}
	wg.Wait()
	sort.SliceStable(probes, func(i, j int) bool { return probes[i].address < probes[j].address })

	var diags hcl.Diagnostics
	for _, p := range probes {
		m := p.inst.Media
		subject := m.URLRange.Ptr()
		if m.URLRange.Filename == "" {
			subject = p.inst.DeclRange.Ptr()
		}
		if p.err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Media not checked",
				Detail:   fmt.Sprintf("%s (%s): %s.", p.address, m.Type, p.err),
				Subject:  subject,
			})
			continue
		}
		size, ct := "size not stated", p.info.ContentType
		if p.info.Size >= 0 {
			size = a1base.FormatSize(p.info.Size)
		}
		if ct == "" {
			ct = "content type not stated"
		}
		if summary, err := p.limits.CheckFile(m.Type, p.info.Size, p.info.ContentType); err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  summary,
				Detail:   fmt.Sprintf("%s: %s at %s: %s.", p.address, m.Type, a1base.ShownURL(m.URL), err),
				Subject:  subject,
			})
			continue
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Media checked",
			Detail:   fmt.Sprintf("%s: %s at %s is %s, %s: within %s's limits.", p.address, m.Type, a1base.ShownURL(m.URL), size, ct, serviceName(p.inst.Service)),
			Subject:  subject,
		})
	}
	return diags
}

func serviceName(s string) string {
	if s == "telegram" {
		return "Telegram"
	}
	return "WhatsApp"
}
