package state

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// reportCPU starts counting the process's CPU time (user and system, all
// threads, the collector's included); the function it returns reports it
// per operation as cpu-ns/op. On a machine shared with other work the CPU
// time of an operation varies less than its wall time.
func reportCPU(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() {
		b.ReportMetric(float64(cpu()-start)/float64(b.N), "cpu-ns/op")
	}
}

// writeBig writes a state file of n sent records at path.
func writeBig(b *testing.B, path string, n int) int {
	b.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, bigSnapshot(n)); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), fileMode); err != nil {
		b.Fatal(err)
	}
	return buf.Len()
}

// benchRecord measures recording one send (its attempt, fsynced) into a
// state that already holds existing records.
func benchRecord(b *testing.B, existing int) {
	path := statePath(b)
	if existing > 0 {
		writeBig(b, path, existing)
	}
	l := locked(b, path)
	if _, err := l.Snapshot(context.Background()); err != nil { // load outside the timing
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := l.Record(ctx, attemptEvent(fmt.Sprintf("message.new[%q]", fmt.Sprint(i)), 1, t0)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if err := l.Unlock(); err != nil { // leave the journal; folding is not measured here
		b.Fatal(err)
	}
}

func BenchmarkRecordEmpty(b *testing.B)    { benchRecord(b, 0) }
func BenchmarkRecordFull100k(b *testing.B) { benchRecord(b, 100_000) }
func BenchmarkRecordParallel(b *testing.B) { benchRecordParallel(b) }

// benchRecordParallel records from many goroutines at once; group commit
// shows as more than one record per fsync.
func benchRecordParallel(b *testing.B) {
	l := locked(b, statePath(b))
	ctx := context.Background()
	if err := l.Record(ctx, attemptEvent("message.warmup", 1, t0)); err != nil {
		b.Fatal(err)
	}
	base := l.syncs.Load()
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if err := l.Record(ctx, attemptEvent(fmt.Sprintf("message.p[%q]", fmt.Sprint(i)), 1, t0)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if s := l.syncs.Load() - base; s > 0 {
		b.ReportMetric(float64(n.Load())/float64(s), "records/fsync")
	}
}

func BenchmarkLoad100k(b *testing.B) {
	path := statePath(b)
	size := writeBig(b, path, 100_000)
	b.SetBytes(int64(size))
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := OpenLocal(path).Snapshot(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(s.Records) != 100_000 {
			b.Fatalf("loaded %d records", len(s.Records))
		}
	}
}

func BenchmarkPersist100k(b *testing.B) {
	path := statePath(b)
	size := writeBig(b, path, 100_000)
	b.SetBytes(int64(size))
	l := locked(b, path)
	ctx := context.Background()
	if _, err := l.Snapshot(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := l.Record(ctx, attemptEvent("message.changing", i+1, t0.Add(time.Duration(i)))); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := l.Persist(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
