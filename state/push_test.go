package state

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckPush(t *testing.T) {
	stored := &Snapshot{Lineage: "L", Serial: 5, Records: map[string]*Record{"message.a": {Message: Message{Address: "message.a"}, Status: StatusSent}}}
	tests := []struct {
		name    string
		cur     *Snapshot
		push    *Snapshot
		refused string
	}{
		{"newer", stored, &Snapshot{Lineage: "L", Serial: 6}, ""},
		{"same serial", stored, &Snapshot{Lineage: "L", Serial: 5}, ""},
		{"older", stored, &Snapshot{Lineage: "L", Serial: 4}, "serial 4, older than the stored serial 5"},
		{"other lineage", stored, &Snapshot{Lineage: "M", Serial: 9}, "lineage M and the stored one lineage L"},
		{"never written", &Snapshot{Lineage: "fresh"}, &Snapshot{Lineage: "M", Serial: 0}, ""},
		{"written, then emptied", &Snapshot{Lineage: "L", Serial: 3}, &Snapshot{Lineage: "M", Serial: 9}, "they are different states"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPush("db", tt.cur, tt.push)
			if tt.refused == "" {
				assert.NoError(t, err)
				return
			}
			var pe *PushRefusedError
			require.ErrorAs(t, err, &pe)
			assert.Contains(t, err.Error(), tt.refused)
			assert.Contains(t, err.Error(), "refusing to push to db")
			assert.Contains(t, err.Error(), "-force")
		})
	}
}

func TestLockLostError(t *testing.T) {
	cause := errors.New("its connection is gone")
	err := error(&LockLostError{Where: "db", Cause: cause})
	assert.Equal(t, "lost the state lock on db: its connection is gone", err.Error())
	assert.ErrorIs(t, err, ErrLockLost)
	assert.ErrorIs(t, err, cause)
	var lost *LockLostError
	assert.ErrorAs(t, errors.Join(errors.New("pass"), err), &lost)
	assert.NotErrorIs(t, cause, ErrLockLost)
}
