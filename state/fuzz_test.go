package state

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzDecode checks the state reader: any input is either refused with a
// FormatError or VersionError, or read into a state that writes back and
// reads again unchanged, with the same bytes the second time.
// Seeds: testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		snap, err := Decode(bytes.NewReader(data))
		if err != nil {
			var fe *FormatError
			var ve *VersionError
			if !errors.As(err, &fe) && !errors.As(err, &ve) {
				t.Fatalf("refusal of type %T: %v", err, err)
			}
			return
		}
		var first bytes.Buffer
		if err := Encode(&first, snap); err != nil {
			t.Fatalf("a state that was read cannot be written: %v", err)
		}
		again, err := Decode(bytes.NewReader(first.Bytes()))
		if err != nil {
			t.Fatalf("herald cannot read what it wrote: %v\n%s", err, first.Bytes())
		}
		if d := cmp.Diff(snap, again, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("round trip changed the state:\n%s", d)
		}
		var second bytes.Buffer
		if err := Encode(&second, again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatalf("encoding is not stable:\n%s\n---\n%s", first.Bytes(), second.Bytes())
		}
	})
}

// FuzzJournal checks journal replay: any input is either refused with a
// JournalError or read into a valid prefix of whole lines whose events,
// replayed, give a state that can be written.
// Seeds: testdata/fuzz/FuzzJournal.
func FuzzJournal(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		jc, err := parseJournal(data)
		if err != nil {
			var je *JournalError
			if !errors.As(err, &je) {
				t.Fatalf("refusal of type %T: %v", err, err)
			}
			return
		}
		if jc.Valid < 0 || jc.Valid > int64(len(data)) || (jc.Valid > 0 && data[jc.Valid-1] != '\n') {
			t.Fatalf("valid prefix %d does not end a line of %d bytes", jc.Valid, len(data))
		}
		if jc.Header == nil {
			if len(jc.Events) > 0 {
				t.Fatal("events without a header")
			}
			return
		}
		// The valid prefix alone reads the same, with nothing torn.
		again, err := parseJournal(data[:jc.Valid])
		if err != nil || again.TornTail {
			t.Fatalf("valid prefix does not read cleanly: %v", err)
		}
		if d := cmp.Diff(jc.Events, again.Events, cmpopts.EquateEmpty()); d != "" {
			t.Fatal(d)
		}
		snap := &Snapshot{Lineage: jc.Header.Lineage}
		for _, e := range jc.Events {
			snap.Apply(e)
		}
		MarkInterrupted(snap)
		if err := Encode(&bytes.Buffer{}, snap); err != nil {
			t.Fatalf("replayed state cannot be written: %v", err)
		}
	})
}
