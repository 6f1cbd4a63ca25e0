package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// The account and credentials the generated configurations and the fake
// server agree on. They are not secrets: the fake accepts any.
const (
	benchAccount = "acc_bench"
	benchFrom    = "+14155552671"
	benchKey     = "bench-key"
	benchSecret  = "bench-secret"
)

// writeBlocksConfig writes n message blocks spread over files files and
// groups groups, the shape of a hand-written configuration: a provider, a
// variable, a local, groups, then message blocks that use them, one in ten
// with media. It is the configuration spec's BenchmarkLoad10k loads.
func writeBlocksConfig(dir string, n, files, groups int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "provider \"a1base\" {\n  account_id = %q\n  from       = %q\n  rate_limit = \"10/s\"\n}\n\n", benchAccount, benchFrom)
	b.WriteString("variable \"product\" {\n  default = \"herald\"\n}\n\nlocals {\n  footer = \"-- ${var.product}\"\n}\n\n")
	for g := 0; g < groups; g++ {
		fmt.Fprintf(&b, "group \"g%03d\" {\n  thread_id  = \"thread-%03d\"\n  rate_limit = \"1/5s\"\n}\n\n", g, g)
	}
	if err := os.WriteFile(filepath.Join(dir, "groups.hcl"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	per := (n + files - 1) / files
	for f := 0; f < files; f++ {
		var sb strings.Builder
		for m := 0; m < per && f*per+m < n; m++ {
			i := f*per + m
			fmt.Fprintf(&sb, "message \"m%05d\" {\n  group   = group.g%03d\n  send_at = \"2027-01-%02dT%02d:%02d:00+01:00\"\n", i, i%groups, 1+i%28, i%24, i%60)
			if i%10 == 0 {
				fmt.Fprintf(&sb, "  media {\n    url     = \"https://example.com/%d.png\"\n    type    = \"image\"\n    caption = \"Picture %d ${local.footer}\"\n  }\n}\n\n", i, i)
			} else {
				fmt.Fprintf(&sb, "  expires_after = \"6h\"\n  text    = \"Message number %d for ${group.g%03d.name} ${local.footer}\"\n}\n\n", i, i%groups)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("messages%02d.hcl", f)), []byte(sb.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// csvConfig describes a configuration whose instances come from for_each
// over the rows of a CSV file: how a large organisation writes a year of
// broadcasts.
type csvConfig struct {
	Instances int
	Groups    int
	// First is the first send_at; the rest follow every Step, round-robin
	// over the groups.
	First time.Time
	Step  time.Duration
	// RateLimit is the provider's rate_limit; empty for none.
	RateLimit string
}

// Last is the send_at of the last instance.
func (c csvConfig) Last() time.Time {
	return c.First.Add(time.Duration(c.Instances-1) * c.Step)
}

// writeCSVConfig writes groups.hcl, main.hcl and broadcasts.csv into dir.
func writeCSVConfig(dir string, c csvConfig) error {
	var b strings.Builder
	fmt.Fprintf(&b, "provider \"a1base\" {\n  account_id = %q\n  from       = %q\n", benchAccount, benchFrom)
	if c.RateLimit != "" {
		fmt.Fprintf(&b, "  rate_limit = %q\n", c.RateLimit)
	}
	b.WriteString("}\n\n")
	for g := 0; g < c.Groups; g++ {
		fmt.Fprintf(&b, "group \"g%04d\" {\n  thread_id = \"thread-%04d\"\n}\n\n", g, g)
	}
	if err := os.WriteFile(filepath.Join(dir, "groups.hcl"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	const main = `locals {
  rows = csvdecode(file("broadcasts.csv"))
}

message "broadcast" {
  for_each = { for r in local.rows : r.id => r }
  group    = group[each.value.group]
  send_at  = each.value.send_at
  text     = "${each.value.title}: ${each.value.body}"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(main), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "broadcasts.csv"))
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	w.WriteString("id,group,send_at,title,body\n")
	for i := 0; i < c.Instances; i++ {
		at := c.First.Add(time.Duration(i) * c.Step).UTC().Format(time.RFC3339)
		fmt.Fprintf(w, "b%06d,g%04d,%s,Update %d,\"Notes for the week, see https://example.com/notes/%d\"\n", i, i%c.Groups, at, i, i)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// loadConfig loads dir the way herald does, with no environment.
func loadConfig(dir string) (*spec.Config, error) {
	cfg, diags := spec.Load(dir, spec.LoadOptions{Getenv: func(string) string { return "" }})
	if diags.HasErrors() {
		return nil, fmt.Errorf("loading %s: %s", dir, diags.Error())
	}
	return cfg, nil
}

// sentRecord is the record an apply leaves for a delivered instance: one
// delivered attempt and the API's answer.
func sentRecord(inst *spec.Instance) *state.Record {
	started := inst.SendAt.Add(2 * time.Second)
	finished := started.Add(150 * time.Millisecond)
	group := ""
	if inst.Group != nil {
		group = inst.Group.Name
	}
	return &state.Record{
		Message:  state.Message{Address: inst.Addr.String(), Group: group, ThreadID: inst.ThreadID, Service: inst.Service, From: inst.From, ContentHash: inst.ContentHash(), SendAt: inst.SendAt},
		Status:   state.StatusSent,
		Attempts: []state.Attempt{{Number: 1, StartedAt: started, FinishedAt: &finished, Outcome: "delivered"}},
		Answer: &state.Answer{
			ChatGroupID: "cg-" + inst.ThreadID,
			From:        inst.From,
			Body:        inst.Content(),
			Status:      "sent",
			DateCreated: finished.UTC().Truncate(time.Second).Format(time.RFC3339),
		},
		UpdatedAt: finished,
	}
}

// writeSentState writes a state file at path in which every instance of
// cfg is already sent, unchanged: the steady state a plan spends its life
// in.
func writeSentState(path string, cfg *spec.Config) error {
	snap := &state.Snapshot{Lineage: "bench-lineage", Serial: 1, Records: make(map[string]*state.Record, len(cfg.Instances))}
	for _, inst := range cfg.Instances {
		r := sentRecord(inst)
		snap.Records[r.Address] = r
	}
	var buf bytes.Buffer
	if err := state.Encode(&buf, snap); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o600)
}
