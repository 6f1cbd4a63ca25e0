package reliability

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/clock"
)

// ProxyOptions are the delays a DelayProxy adds, each drawn at random
// between its bounds.
type ProxyOptions struct {
	// ConnMin and ConnMax delay the first request of each connection (as
	// a slow path to a new connection's peer would).
	ConnMin, ConnMax time.Duration
	// ReqMin and ReqMax delay every request.
	ReqMin, ReqMax time.Duration
	Seed           uint64
}

// DelayProxy is a TCP proxy on loopback between herald and the fake. What
// herald writes reaches the fake only after a random delay, which herald
// cannot see: the network path's jitter, which the rate limits' margin
// must absorb. Answers go back at once.
type DelayProxy struct {
	ln       net.Listener
	upstream string
	opts     ProxyOptions

	mu    sync.Mutex
	rng   *rand.Rand
	reads []ProxyRead
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

// ProxyRead is one read of what herald wrote: when the proxy read it, the
// delay it was given, and the generated message key it carries ("" for
// none).
type ProxyRead struct {
	// Accepted is when the proxy accepted the read's connection.
	Accepted time.Time
	Read     time.Time
	Delay    time.Duration
	Key      string
}

// NewDelayProxy listens on loopback and forwards to upstream (host:port).
func NewDelayProxy(upstream string, o ProxyOptions) (*DelayProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &DelayProxy{ln: ln, upstream: upstream, opts: o, rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x5eed)), conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *DelayProxy) Addr() string { return p.ln.Addr().String() }

// Reads lists what the proxy read from herald, in order.
func (p *DelayProxy) Reads() []ProxyRead {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ProxyRead(nil), p.reads...)
}

// Close stops the proxy and its connections.
func (p *DelayProxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *DelayProxy) draw(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return lo + time.Duration(p.rng.Int64N(int64(hi-lo)+1))
}

func (p *DelayProxy) track(c net.Conn, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
}

func (p *DelayProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.serve(c, clock.Now())
	}
}

func (p *DelayProxy) serve(client net.Conn, accepted time.Time) {
	defer p.wg.Done()
	p.track(client, true)
	defer p.track(client, false)
	defer client.Close()
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	p.track(up, true)
	defer p.track(up, false)
	defer up.Close()
	go func() {
		_, _ = io.Copy(client, up)
		client.Close()
	}()
	first := p.draw(p.opts.ConnMin, p.opts.ConnMax)
	buf := make([]byte, 64<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			read := clock.Now()
			delay := p.draw(p.opts.ReqMin, p.opts.ReqMax) + first
			first = 0
			p.mu.Lock()
			p.reads = append(p.reads, ProxyRead{Accepted: accepted, Read: read, Delay: delay, Key: keyIn(buf[:n])})
			p.mu.Unlock()
			time.Sleep(delay)
			if _, werr := up.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return
			}
			if tc, ok := up.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
			return
		}
	}
}

// keyIn finds a generated message's key in what herald wrote.
func keyIn(b []byte) string {
	_, after, ok := strings.Cut(string(b), Prefix)
	if !ok || len(after) < 5 {
		return ""
	}
	return after[:5]
}
