package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/heraldhq/herald/state"
)

// stateFiles are the files of the default local state in a directory.
var stateFiles = []string{"herald.state.json", "herald.state.json.backup", "herald.state.json.journal", "herald.state.json.lock"}

func removeState(dir string) error {
	for _, name := range stateFiles {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// checkPlan runs herald plan -json once and checks that every instance is
// planned as want: the measured runs must do the work the case describes.
func (h *harness) checkPlan(dir, at, want string, n int) error {
	out, err := exec.Command(h.herald, "-chdir="+dir, "plan", "-json", "-at="+at).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return fmt.Errorf("herald plan -json: %v\n%s", err, ee.Stderr)
		}
		return err
	}
	var doc struct {
		Summary map[string]int `json:"summary"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return fmt.Errorf("reading herald plan -json: %w", err)
	}
	if doc.Summary[want] != n {
		return fmt.Errorf("herald plan in %s: summary %v, want %d %s", dir, doc.Summary, n, want)
	}
	return nil
}

// 1. Plan vs parse floor.
func planVsParse(h *harness) error {
	sz := h.sz
	dir, err := h.caseDir("plan-blocks")
	if err != nil {
		return err
	}
	if err := writeBlocksConfig(dir, sz.Blocks, sz.BlockFiles, sz.BlockGroups); err != nil {
		return err
	}
	cfg, err := loadConfig(dir)
	if err != nil {
		return err
	}
	if err := writeSentState(filepath.Join(dir, "herald.state.json"), cfg); err != nil {
		return err
	}
	const at = "2027-03-01T00:00:00Z"
	if err := h.checkPlan(dir, at, "noop", sz.Blocks); err != nil {
		return err
	}
	planArgs := []string{"-chdir=" + dir, "plan", "-at=" + at, "-no-color", "-detailed-exitcode"}
	var plan, floor, floorC, planCPU, floorCPU []float64
	h.logf("case 1: %d runs of herald plan and the parse floor over %d message blocks", h.opts.Runs, sz.Blocks)
	for i := -1; i < h.opts.Runs; i++ {
		steps := []func() error{
			func() error {
				p, err := runProc(nil, h.herald, planArgs...)
				if i >= 0 {
					plan, planCPU = append(plan, seconds(p.Wall)), append(planCPU, seconds(p.CPU))
				}
				return err
			},
			func() error {
				p, err := runProc(nil, h.floor, dir)
				if i >= 0 {
					floor, floorCPU = append(floor, seconds(p.Wall)), append(floorCPU, seconds(p.CPU))
				}
				return err
			},
			func() error {
				p, err := runProc(nil, h.floor, "-concurrent", dir)
				if i >= 0 {
					floorC = append(floorC, seconds(p.Wall))
				}
				return err
			},
		}
		if i%2 != 0 { // alternate who goes first
			steps[0], steps[1] = steps[1], steps[0]
		}
		for _, s := range steps {
			if err := s(); err != nil {
				return err
			}
		}
	}
	c := "1 plan vs parse"
	n := fmtCount(sz.Blocks)
	t := h.results
	t.info(c, "herald plan, "+n+" blocks in "+fmt.Sprint(sz.BlockFiles)+" files, all sent (wall)", fmtDur(median(plan)))
	t.info(c, "hclparse floor, same files one by one (wall)", fmtDur(median(floor)))
	t.info(c, "hclparse floor, files concurrently (wall)", fmtDur(median(floorC)))
	r := median(ratios(plan, floor))
	t.target(c, "plan / floor (wall)", fmt.Sprintf("%.2f", r), "≤ 1.3", r <= 1.3)
	t.info(c, "plan / concurrent floor (wall)", fmt.Sprintf("%.2f", median(ratios(plan, floorC))))
	t.info(c, "plan / floor (CPU time)", fmt.Sprintf("%.2f", median(ratios(planCPU, floorCPU))))
	return nil
}

// 2. Scale: plan time and memory at ten times the instances.
func scale(h *harness) error {
	sz := h.sz
	at := "2028-01-15T00:00:00Z"
	dirs := map[int]string{}
	for _, n := range []int{sz.ScaleSmall, sz.ScaleLarge} {
		dir, err := h.caseDir(fmt.Sprintf("scale-%d", n))
		if err != nil {
			return err
		}
		c := csvConfig{Instances: n, Groups: max(1, n/100), First: time.Date(2027, 1, 1, 9, 0, 0, 0, time.UTC), Step: 365 * 24 * time.Hour / time.Duration(n)}
		if err := writeCSVConfig(dir, c); err != nil {
			return err
		}
		cfg, err := loadConfig(dir)
		if err != nil {
			return err
		}
		if len(cfg.Instances) != n {
			return fmt.Errorf("%s has %d instances, want %d", dir, len(cfg.Instances), n)
		}
		if err := writeSentState(filepath.Join(dir, "herald.state.json"), cfg); err != nil {
			return err
		}
		cfg = nil
		if err := h.checkPlan(dir, at, "noop", n); err != nil {
			return err
		}
		dirs[n] = dir
	}
	var small, large, smallCPU, largeCPU, smallRSS, largeRSS []float64
	h.logf("case 2: %d runs of herald plan at %d and %d instances", h.opts.Runs, sz.ScaleSmall, sz.ScaleLarge)
	for i := -1; i < h.opts.Runs; i++ {
		order := []int{sz.ScaleSmall, sz.ScaleLarge}
		if i%2 != 0 {
			order[0], order[1] = order[1], order[0]
		}
		for _, n := range order {
			p, err := runProc(nil, h.herald, "-chdir="+dirs[n], "plan", "-at="+at, "-no-color", "-detailed-exitcode")
			if err != nil {
				return err
			}
			if i < 0 {
				continue
			}
			if n == sz.ScaleSmall {
				small, smallCPU, smallRSS = append(small, seconds(p.Wall)), append(smallCPU, seconds(p.CPU)), append(smallRSS, float64(p.MaxRSS))
			} else {
				large, largeCPU, largeRSS = append(large, seconds(p.Wall)), append(largeCPU, seconds(p.CPU)), append(largeRSS, float64(p.MaxRSS))
			}
		}
	}
	floor, err := runProc(nil, "true")
	if err != nil {
		return err
	}
	c := "2 scale"
	t := h.results
	ns, nl := fmtCount(sz.ScaleSmall), fmtCount(sz.ScaleLarge)
	t.info(c, "herald plan, "+ns+" instances from CSV, all sent (wall)", fmtDur(median(small)))
	t.info(c, "herald plan, "+nl+" instances from CSV, all sent (wall)", fmtDur(median(large)))
	r := median(ratios(large, small))
	t.target(c, "plan time "+nl+" / "+ns+" (wall)", fmt.Sprintf("%.2f", r), "≤ 11", r <= 11)
	t.info(c, "plan time "+nl+" / "+ns+" (CPU time)", fmt.Sprintf("%.2f", median(ratios(largeCPU, smallCPU))))
	t.info(c, "peak RSS of true(1), the floor of the measurement", fmtMiB(float64(floor.MaxRSS)))
	t.info(c, "peak RSS at "+ns, fmtMiB(median(smallRSS)))
	peak := median(largeRSS)
	t.target(c, "peak RSS at "+nl, fmtMiB(peak), "< 500 MiB", peak < 500<<20)
	per := peak / float64(sz.ScaleLarge/1000)
	marginal := (median(largeRSS) - median(smallRSS)) / float64((sz.ScaleLarge-sz.ScaleSmall)/1000)
	t.info(c, "peak RSS per 1,000 instances at "+nl+" (total / marginal)", fmt.Sprintf("%.2f / %.2f MiB", per/(1<<20), marginal/(1<<20)))
	return nil
}

// 3. Apply throughput against the bare loop.
func applyThroughput(h *harness) error {
	sz := h.sz
	dir, err := h.caseDir("apply")
	if err != nil {
		return err
	}
	clock := time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)
	c := csvConfig{Instances: sz.ApplySends, Groups: sz.ApplyGroups, First: clock.Add(-time.Hour), Step: time.Hour / time.Duration(sz.ApplySends)}
	if err := writeCSVConfig(dir, c); err != nil {
		return err
	}
	cfg, err := loadConfig(dir)
	if err != nil {
		return err
	}
	queues := groupQueues(cfg)
	cfg = nil
	at := clock.Format(time.RFC3339)
	if err := h.checkPlan(dir, at, "send", sz.ApplySends); err != nil {
		return err
	}
	journal := filepath.Join(h.work, "bare.journal")
	par := fmt.Sprint(sz.Parallelism)

	var heraldConns, bareConns []float64
	runHerald := func() (proc, error) {
		if err := removeState(dir); err != nil {
			return proc{}, err
		}
		f, err := startFake()
		if err != nil {
			return proc{}, err
		}
		defer f.Close()
		p, err := runProc(f.env(), h.herald, "-chdir="+dir, "apply", "-auto-approve", "-at="+at, "-parallelism="+par, "-no-color")
		if err != nil {
			return p, err
		}
		if got := len(f.API.Sends()); got != sz.ApplySends {
			return p, fmt.Errorf("herald apply delivered %d sends, want %d", got, sz.ApplySends)
		}
		heraldConns = append(heraldConns, float64(f.conns.Load()))
		return p, nil
	}
	runBare := func() (time.Duration, error) {
		f, err := startFake()
		if err != nil {
			return 0, err
		}
		defer f.Close()
		d, err := bareLoop(f.URL, queues, sz.Parallelism, journal)
		if err != nil {
			return d, err
		}
		if got := len(f.API.Sends()); got != sz.ApplySends {
			return d, fmt.Errorf("bare loop delivered %d sends, want %d", got, sz.ApplySends)
		}
		bareConns = append(bareConns, float64(f.conns.Load()))
		return d, nil
	}

	var herald, bare, heraldCPU []float64
	h.logf("case 3: %d runs of herald apply and the bare loop, %d sends", h.opts.Runs, sz.ApplySends)
	for i := -1; i < h.opts.Runs; i++ {
		steps := []func() error{
			func() error {
				p, err := runHerald()
				if i >= 0 {
					herald, heraldCPU = append(herald, seconds(p.Wall)), append(heraldCPU, seconds(p.CPU))
				}
				return err
			},
			func() error {
				d, err := runBare()
				if i >= 0 {
					bare = append(bare, seconds(d))
				}
				return err
			},
		}
		if i%2 != 0 {
			steps[0], steps[1] = steps[1], steps[0]
		}
		for _, s := range steps {
			if err := s(); err != nil {
				return err
			}
		}
	}
	os.Remove(journal)
	reportApplyThroughput(h, herald, bare, heraldConns, bareConns)
	return nil
}

// reportApplyThroughput writes case 3's figures: the wall times of herald
// apply and the bare loop, and the connections each opened.
func reportApplyThroughput(h *harness, herald, bare, heraldConns, bareConns []float64) {
	sz := h.sz
	cs := "3 apply throughput"
	t := h.results
	n := fmtCount(sz.ApplySends)
	t.info(cs, fmt.Sprintf("herald apply, %s sends, %d groups, parallelism %d (wall)", n, sz.ApplyGroups, sz.Parallelism), fmtDur(median(herald)))
	t.info(cs, "bare loop: POST + one fsynced journal line per send (wall)", fmtDur(median(bare)))
	r := median(ratios(herald, bare))
	t.target(cs, "herald / bare loop (wall)", fmt.Sprintf("%.2f", r), "≤ 1.25", r <= 1.25)
	t.info(cs, "herald sends per second", fmt.Sprintf("%.0f", float64(sz.ApplySends)/median(herald)))
	t.info(cs, "connections opened to the fake: herald / bare loop", fmt.Sprintf("%.0f / %.0f", median(heraldConns), median(bareConns)))
}

// 4. State cost: recording into a full state against an empty one.
func stateCost(h *harness) error {
	sz := h.sz
	dir, err := h.caseDir("state")
	if err != nil {
		return err
	}
	// A full state written once; each run starts from a copy of it.
	snap := &state.Snapshot{Lineage: "bench-lineage", Serial: 1, Records: make(map[string]*state.Record, sz.StateExisting)}
	base := time.Date(2027, 1, 1, 9, 0, 0, 0, time.UTC)
	for i := range sz.StateExisting {
		r := syntheticSent(fmt.Sprintf("message.broadcast[\"b%06d\"]", i), fmt.Sprintf("g%04d", i%1000), base.Add(time.Duration(i)*time.Minute))
		snap.Records[r.Address] = r
	}
	var full bytes.Buffer
	if err := state.Encode(&full, snap); err != nil {
		return err
	}
	snap = nil
	fullDir, emptyDir := filepath.Join(dir, "full"), filepath.Join(dir, "empty")
	for _, d := range []string{fullDir, emptyDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}

	var recFull, recEmpty, load, persist []float64
	h.logf("case 4: %d runs recording %d sends into %d and 0 records", h.opts.Runs, sz.StateSends, sz.StateExisting)
	for i := -1; i < h.opts.Runs; i++ {
		order := []bool{true, false}
		if i%2 != 0 {
			order[0], order[1] = order[1], order[0]
		}
		for _, isFull := range order {
			d := emptyDir
			if isFull {
				d = fullDir
			}
			if err := removeState(d); err != nil {
				return err
			}
			if isFull {
				if err := writeFileSync(filepath.Join(d, "herald.state.json"), full.Bytes()); err != nil {
					return err
				}
			}
			m, err := recordSends(filepath.Join(d, "herald.state.json"), sz.StateSends, sz.StateExisting)
			if err != nil {
				return err
			}
			if i < 0 {
				continue
			}
			if isFull {
				recFull, load, persist = append(recFull, seconds(m.record)), append(load, seconds(m.load)), append(persist, seconds(m.persist))
			} else {
				recEmpty = append(recEmpty, seconds(m.record))
			}
		}
	}
	c := "4 state cost"
	t := h.results
	ne, ns := fmtCount(sz.StateExisting), fmtCount(sz.StateSends)
	t.info(c, "record "+ns+" sends (attempt + outcome, each fsynced) into "+ne+" records", fmtDur(median(recFull)))
	t.info(c, "record "+ns+" sends into an empty state", fmtDur(median(recEmpty)))
	r := median(ratios(recFull, recEmpty))
	t.target(c, "full / empty", fmt.Sprintf("%.2f", r), "≤ 1.5", r <= 1.5)
	t.info(c, "once per run: load "+ne+" records (lock held)", fmtDur(median(load)))
	t.info(c, "once per run: fold the journal into "+ne+" records", fmtDur(median(persist)))
	return nil
}

func syntheticSent(addr, group string, at time.Time) *state.Record {
	finished := at.Add(2 * time.Second)
	return &state.Record{
		Message: state.Message{Address: addr, Group: group, ThreadID: "thread-" + group, Service: "whatsapp", From: benchFrom, ContentHash: fmt.Sprintf("sha256:%064x", at.UnixNano()), SendAt: at}, Status: state.StatusSent,
		Attempts:  []state.Attempt{{Number: 1, StartedAt: at, FinishedAt: &finished, Outcome: "delivered"}},
		Answer:    &state.Answer{ChatGroupID: "cg-" + group, From: benchFrom, Body: "Notes for the week, see https://example.com/notes/" + addr, Status: "sent", DateCreated: finished.Format(time.RFC3339)},
		UpdatedAt: finished,
	}
}

// writeFileSync writes a file and makes it durable, as a previous apply
// would have left it: otherwise the first fsync of the measured run would
// also flush this file's pages (ext4 commits them together) and be charged
// for it.
func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

type recordTimes struct{ load, record, persist time.Duration }

// recordSends takes the lock on the state at path, loads it, records n
// sends the way apply does (an attempt, then its delivered outcome, each
// durable before Record returns) and persists. existing is the number of
// records the state must hold, checked so the case measures what it says.
func recordSends(path string, n, existing int) (recordTimes, error) {
	var m recordTimes
	ctx := context.Background()
	l := state.OpenLocal(path)
	if err := l.Lock(ctx, 0); err != nil {
		return m, err
	}
	defer l.Close()
	start := clock.Now()
	snap, err := l.Snapshot(ctx)
	if err != nil {
		return m, err
	}
	m.load = clock.Since(start)
	if len(snap.Records) != existing && len(snap.Records) != 0 {
		return m, fmt.Errorf("state %s holds %d records, want %d", path, len(snap.Records), existing)
	}
	at := time.Date(2028, 1, 1, 9, 0, 0, 0, time.UTC)
	start = clock.Now()
	for i := range n {
		e := state.Event{
			Kind: state.EventAttempt, Message: state.Message{Address: fmt.Sprintf("message.new[\"k%05d\"]", i), Group: "g0001", ThreadID: "thread-g0001", Service: "whatsapp", From: benchFrom, ContentHash: "sha256:00", SendAt: at},
			Attempt: 1, At: at, Status: state.StatusSending,
		}
		if err := l.Record(ctx, e); err != nil {
			return m, err
		}
		e.Kind, e.Status, e.Outcome = state.EventOutcome, state.StatusSent, "delivered"
		e.Answer = &state.Answer{ChatGroupID: "cg-1", From: benchFrom, Status: "sent", DateCreated: "2028-01-01T09:00:01Z"}
		if err := l.Record(ctx, e); err != nil {
			return m, err
		}
	}
	m.record = clock.Since(start)
	start = clock.Now()
	if err := l.Persist(ctx); err != nil {
		return m, err
	}
	m.persist = clock.Since(start)
	return m, l.Close()
}

// 5. Rate precision at the fake.
func ratePrecision(h *harness) error {
	sz := h.sz
	dir, err := h.caseDir("rate")
	if err != nil {
		return err
	}
	clock := time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)
	limit := fmt.Sprintf("%d/s", sz.RateN)
	c := csvConfig{Instances: sz.RateSends, Groups: sz.RateGroups, First: clock.Add(-time.Hour), Step: time.Hour / time.Duration(sz.RateSends), RateLimit: limit}
	if err := writeCSVConfig(dir, c); err != nil {
		return err
	}
	at := clock.Format(time.RFC3339)
	if err := h.checkPlan(dir, at, "send", sz.RateSends); err != nil {
		return err
	}
	var achieved []float64
	busiest := 0
	h.logf("case 5: %d runs of herald apply, %d sends at %s (about %s each)", h.opts.Runs, sz.RateSends, limit, time.Duration(sz.RateSends/sz.RateN)*time.Second)
	for range h.opts.Runs { // no warm-up: the limiter, not the machine, sets the pace
		if err := removeState(dir); err != nil {
			return err
		}
		f, err := startFake()
		if err != nil {
			return err
		}
		_, err = runProc(f.env(), h.herald, "-chdir="+dir, "apply", "-auto-approve", "-at="+at, "-parallelism="+fmt.Sprint(sz.Parallelism), "-no-color")
		arrivals := f.sendArrivals()
		f.Close()
		if err != nil {
			return err
		}
		if len(arrivals) != sz.RateSends {
			return fmt.Errorf("the fake saw %d sends, want %d", len(arrivals), sz.RateSends)
		}
		achieved = append(achieved, achievedRate(arrivals)/float64(sz.RateN))
		busiest = max(busiest, busiestWindow(arrivals, time.Second))
	}
	cs := "5 rate precision"
	t := h.results
	r := median(achieved)
	t.target(cs, fmt.Sprintf("achieved rate / limit, %d sends at %s", sz.RateSends, limit), fmt.Sprintf("%.3f", r), "≥ 0.97", r >= 0.97)
	t.target(cs, "busiest 1 s window at the fake (most of all runs)", fmt.Sprint(busiest), fmt.Sprintf("≤ %d", sz.RateN), busiest <= sz.RateN)
	return nil
}
