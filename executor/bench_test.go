package executor

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/state"
)

// countingRecorder keeps nothing, so the benchmark measures the
// executor rather than a growing journal.
type countingRecorder struct{}

func (r countingRecorder) Record(context.Context, state.Event) error { return nil }

type instantSender struct{}

func (instantSender) SendGroup(_ context.Context, req a1base.SendRequest) a1base.Result {
	return delivered(req)
}
func (instantSender) RecentMessages(context.Context, string) ([]a1base.ThreadMessage, error) {
	return nil, nil
}
func (instantSender) CheckMedia(context.Context, string, string) error { return nil }

// BenchmarkRun sends 10,000 messages in 100 groups through an in-memory
// sender with parallelism 8 and no rate limit.
func BenchmarkRun(b *testing.B) {
	const groups, perGroup = 100, 100
	pb := newPlan()
	for g := range groups {
		for i := range perGroup {
			pb.send(fmt.Sprintf("g%03d", g), fmt.Sprintf("m%03d_%03d", g, i), t0.Add(time.Duration(i)*time.Second))
		}
	}
	opts := Options{Parallelism: 8, Now: fixedClock()}
	b.ResetTimer()
	for b.Loop() {
		sum, err := Run(context.Background(), pb.plan, instantSender{}, countingRecorder{}, opts, nil)
		if err != nil || sum.Sent != groups*perGroup {
			b.Fatalf("sent %d, err %v", sum.Sent, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*groups*perGroup), "ns/send")
}
