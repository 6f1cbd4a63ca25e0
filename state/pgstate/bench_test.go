package pgstate

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkRecord measures one attempt event, committed, with the lock
// check; the server runs with fsync off, so this is the protocol's cost,
// not the disk's.
func BenchmarkRecord(b *testing.B) {
	be := openLocked(b, newDB(b))
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		if err := be.Record(ctx, attempt(fmt.Sprintf("message.m[%d]", i%100), i, t0.Add(time.Duration(i)))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecordParallel records from many goroutines at once, each on
// its own record, as an executor sending to many groups does.
func BenchmarkRecordParallel(b *testing.B) {
	be := openLocked(b, newDB(b))
	ctx := context.Background()
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := be.Record(ctx, attempt(fmt.Sprintf("message.p[%d]", n.Add(1)), 1, t0)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
