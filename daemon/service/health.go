package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Role is what a herald run is doing with the state.
type Role string

const (
	// RoleStarting: the first wake has not finished.
	RoleStarting Role = "starting"
	// RoleActive: it holds the state lock (or needs none held between
	// passes, on the local backend) and sends.
	RoleActive Role = "active"
	// RoleStandby: another replica holds the lock; this one waits for it.
	RoleStandby Role = "standby"
)

// Health is what /readyz reports: whether the configuration loads and the
// state is reachable, and the role. Its methods are safe for concurrent
// use.
type Health struct {
	mu        sync.Mutex
	configErr error
	stateErr  error
	seen      bool // the configuration was read at least once
	role      Role
}

// NewHealth is the health of a run that has just started.
func NewHealth() *Health { return &Health{role: RoleStarting} }

// Config records the outcome of the last reading of the configuration.
func (h *Health) Config(err error) {
	h.mu.Lock()
	h.configErr, h.seen = err, true
	h.mu.Unlock()
}

// State records the outcome of the last use of the state backend.
func (h *Health) State(err error) {
	h.mu.Lock()
	h.stateErr = err
	h.mu.Unlock()
}

// SetRole records the role.
func (h *Health) SetRole(r Role) {
	h.mu.Lock()
	h.role = r
	h.mu.Unlock()
}

// Role is the current role.
func (h *Health) Role() Role {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.role
}

// Ready reports whether the run is ready, and what to say about it.
func (h *Health) Ready() (bool, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case !h.seen:
		return false, "not ready: the configuration has not been read yet"
	case h.configErr != nil:
		return false, "not ready: the configuration does not load: " + h.configErr.Error()
	case h.stateErr != nil:
		return false, "not ready: the state is not reachable: " + h.stateErr.Error()
	case h.role == RoleStarting:
		return false, "not ready: starting"
	}
	return true, string(h.role)
}

// WebhookPath is where the webhook receiver is served.
const WebhookPath = "/webhook"

// Handler serves /healthz (the process is up), /readyz (ready: 200 and
// "active" or "standby"; otherwise 503 and why), /metrics and, when
// webhook is not nil, POST WebhookPath.
func Handler(h *Health, m *Metrics, webhook http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ok, msg := h.Ready()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprintln(w, msg)
	})
	mux.Handle("GET /metrics", m.Handler())
	if webhook != nil {
		mux.Handle("POST "+WebhookPath, webhook)
	}
	return mux
}

// Server is the -listen endpoint.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan error
}

// Listen starts serving handler on addr (host:port; port 0 picks one).
func Listen(addr string, handler http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-listen=%s: %w", addr, err)
	}
	s := &Server{
		srv:  &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second},
		ln:   ln,
		done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the address it listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops serving.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
