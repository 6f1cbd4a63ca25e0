package state

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLastAttemptNumber(t *testing.T) {
	var none *Record
	require.Equal(t, 0, none.LastAttemptNumber())
	require.Equal(t, 0, (&Record{}).LastAttemptNumber())
	at := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	r := &Record{Attempts: []Attempt{{Number: 2, StartedAt: at}, {Number: 3, StartedAt: at}, {Number: 1, StartedAt: at}}}
	require.Equal(t, 3, r.LastAttemptNumber())
	require.Equal(t, 3, r.LastAttempt().Number)
}
