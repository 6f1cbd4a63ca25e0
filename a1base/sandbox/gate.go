package sandbox

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// Gate lets the first pass sends through to the handler it wraps and holds
// every later one until Open is called, so that a test can interrupt or
// kill a sender while sends are in flight without guessing how long
// anything takes. A held send whose client goes away is dropped,
// undelivered.
type Gate struct {
	next    http.Handler
	pass    int32
	seen    atomic.Int32
	held    chan struct{}
	release chan struct{}
	once    sync.Once
	// inflight counts held sends until the handler has dealt with them.
	// (Not a WaitGroup: a send may arrive while Wait waits, and a
	// WaitGroup must not grow from zero then.)
	mu       sync.Mutex
	idle     *sync.Cond
	inflight int
}

// NewGate wraps next; the first pass sends go straight through.
func NewGate(next http.Handler, pass int32) *Gate {
	g := &Gate{next: next, pass: pass, held: make(chan struct{}, 1000), release: make(chan struct{})}
	g.idle = sync.NewCond(&g.mu)
	return g
}

// Held receives once for every send the gate starts holding.
func (g *Gate) Held() <-chan struct{} { return g.held }

// Open lets every held and later send through.
func (g *Gate) Open() { g.once.Do(func() { close(g.release) }) }

// Wait returns once every send the gate held has been delivered or
// dropped.
func (g *Gate) Wait() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.inflight > 0 {
		g.idle.Wait()
	}
}

func (g *Gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && g.seen.Add(1) > g.pass {
		g.mu.Lock()
		g.inflight++
		g.mu.Unlock()
		defer func() {
			g.mu.Lock()
			if g.inflight--; g.inflight == 0 {
				g.idle.Broadcast()
			}
			g.mu.Unlock()
		}()
		// Reading the body to its end lets the server notice a client
		// that goes away while the send is held.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		g.held <- struct{}{}
		select {
		case <-g.release:
		case <-r.Context().Done():
			return
		}
	}
	g.next.ServeHTTP(w, r)
}
