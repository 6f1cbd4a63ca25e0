package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestBusiestWindowAndRate(t *testing.T) {
	base := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	var at []time.Time
	for i := range 101 { // every 20ms: 50 in any half-open second
		at = append(at, base.Add(time.Duration(i)*20*time.Millisecond))
	}
	if got := busiestWindow(at, time.Second); got != 50 {
		t.Errorf("busiest window = %d, want 50", got)
	}
	if got := achievedRate(at); got < 49.99 || got > 50.01 {
		t.Errorf("achieved rate = %v, want 50", got)
	}
	crowded := append([]time.Time{base.Add(-time.Millisecond)}, at...)
	if got := busiestWindow(crowded, time.Second); got != 51 {
		t.Errorf("busiest window with one early arrival = %d, want 51", got)
	}
}

func TestGeneratedConfigsLoad(t *testing.T) {
	dir := t.TempDir()
	if err := writeBlocksConfig(dir, 50, 3, 4); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Instances) != 50 {
		t.Errorf("blocks config has %d instances, want 50", len(cfg.Instances))
	}
	dir = t.TempDir()
	c := csvConfig{Instances: 40, Groups: 4, First: time.Date(2027, 1, 1, 9, 0, 0, 0, time.UTC), Step: time.Hour}
	if err := writeCSVConfig(dir, c); err != nil {
		t.Fatal(err)
	}
	cfg, err = loadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Instances) != 40 || len(groupQueues(cfg)) != 4 {
		t.Errorf("csv config has %d instances in %d queues, want 40 in 4", len(cfg.Instances), len(groupQueues(cfg)))
	}
	if !cfg.Instances[39].SendAt.Equal(c.Last()) {
		t.Errorf("last send_at %s, want %s", cfg.Instances[39].SendAt, c.Last())
	}
}

func TestWriteDocs(t *testing.T) {
	root := t.TempDir()
	page := filepath.Join(root, filepath.FromSlash(docsPage))
	if err := os.MkdirAll(filepath.Dir(page), 0o755); err != nil {
		t.Fatal(err)
	}
	doc := "# Performance\n\n<!-- figures:bench -->\n| old |\n<!-- /figures -->\n\nMore.\n"
	if err := os.WriteFile(page, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	tab := &table{}
	tab.target("5 rate precision", "achieved rate / limit", "0.979", "≥ 0.97", true)
	all := []string{"5", "1", "2", "3", "4"}
	on := func(string) string { return "1" }
	off := func(string) string { return "" }
	var log strings.Builder

	// Off: nothing is written.
	if err := tab.writeDocs(off, root, options{}, all, &log); err != nil {
		t.Fatal(err)
	}
	// Refused: partial, quick or another binary's figures.
	for _, c := range []struct {
		opts     options
		selected []string
	}{
		{options{Quick: true}, all},
		{options{Herald: "/old/herald"}, all},
		{options{Cases: "1,3"}, []string{"1", "3"}},
	} {
		if err := tab.writeDocs(on, root, c.opts, c.selected, &log); err == nil {
			t.Errorf("writeDocs(%+v, %v) wrote the table", c.opts, c.selected)
		}
	}
	if got, _ := os.ReadFile(page); string(got) != doc {
		t.Fatalf("the page changed:\n%s", got)
	}
	if err := tab.writeDocs(on, root, options{}, all, &log); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(page)
	want := "# Performance\n\n<!-- figures:bench -->\n| case | measure | median | target | |\n|---|---|---:|---|---|\n| 5 rate precision | achieved rate / limit | 0.979 | ≥ 0.97 | met |\n<!-- /figures -->\n\nMore.\n"
	if string(got) != want {
		t.Errorf("the page reads\n%s\nwant\n%s", got, want)
	}
}
