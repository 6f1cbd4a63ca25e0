package state

import (
	"context"
	"errors"
	"fmt"
)

// PushRefusedError is a push refused without force: the pushed state
// belongs to another lineage, or is older than the stored one.
type PushRefusedError struct {
	// Where names the state pushed to.
	Where string
	// Reason says why the push would lose records.
	Reason string
}

func (e *PushRefusedError) Error() string {
	return fmt.Sprintf("refusing to push to %s: %s; push with -force to overwrite it anyway", e.Where, e.Reason)
}

// CheckPush is the push rule: it says why snap must not replace cur
// without force. A state that was never written (serial 0, no records)
// takes any snapshot: its lineage was made up when it was created, so that
// a first push from a local file to a new database, or back, needs no
// force. An equal serial is accepted, as Terraform's state push does.
// where names the state in the error.
func CheckPush(where string, cur, snap *Snapshot) error {
	if neverWritten(cur) {
		return nil
	}
	return checkHead(where, cur.Lineage, cur.Serial, snap)
}

// checkHead is CheckPush against a stored lineage and serial.
func checkHead(where, lineage string, serial uint64, snap *Snapshot) error {
	switch {
	case snap.Lineage != lineage:
		return &PushRefusedError{Where: where, Reason: fmt.Sprintf("the pushed state has lineage %s and the stored one lineage %s: they are different states", snap.Lineage, lineage)}
	case snap.Serial < serial:
		return &PushRefusedError{Where: where, Reason: fmt.Sprintf("the pushed state has serial %d, older than the stored serial %d", snap.Serial, serial)}
	}
	return nil
}

func neverWritten(s *Snapshot) bool {
	return s.Serial == 0 && len(s.Records) == 0
}

// Push stores snap as the whole state of b, which the caller has locked,
// after CheckPush unless force is set (herald state push). A
// CheckedReplacer repeats the check in the transaction that writes; a
// backend without one is safe from change between check and write because
// the caller holds its lock. where names the state in errors; a refusal
// is a *PushRefusedError.
func Push(ctx context.Context, b Backend, snap *Snapshot, force bool, where string) error {
	cur, err := b.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("reading state %s: %w", where, err)
	}
	if !force {
		if err := CheckPush(where, cur, snap); err != nil {
			return err
		}
	}
	if cr, ok := b.(CheckedReplacer); ok && !force && !neverWritten(cur) {
		err = cr.ReplaceChecked(ctx, snap, func(lineage string, serial uint64) error {
			return checkHead(where, lineage, serial, snap)
		})
	} else {
		err = b.Replace(ctx, snap)
	}
	var pe *PushRefusedError
	if err != nil && !errors.As(err, &pe) {
		return fmt.Errorf("writing state %s: %w", where, err)
	}
	return err
}
