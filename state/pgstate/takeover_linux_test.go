package pgstate

import (
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
)

// checkClientKeepalives checks herald's side of c's socket: keepalives
// and a user timeout, so that herald too notices a silent server.
func checkClientKeepalives(t *testing.T, what string, c *pgx.Conn) {
	t.Helper()
	sc, ok := c.PgConn().Conn().(syscall.Conn)
	if !ok {
		t.Fatalf("%s connection: %T is not a socket", what, c.PgConn().Conn())
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name       string
		level, opt int
		value      int
	}{
		{"SO_KEEPALIVE", syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1},
		{"TCP_KEEPIDLE", syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, lockKeepaliveIdle},
		{"TCP_KEEPINTVL", syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, lockKeepaliveInterval},
		{"TCP_KEEPCNT", syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, lockKeepaliveCount},
		{"TCP_USER_TIMEOUT", syscall.IPPROTO_TCP, 0x12, lockUserTimeoutMillis},
	}
	for _, w := range want {
		var got int
		var gerr error
		if err := raw.Control(func(fd uintptr) { got, gerr = syscall.GetsockoptInt(int(fd), w.level, w.opt) }); err != nil {
			t.Fatal(err)
		}
		if gerr != nil {
			t.Fatalf("%s connection: getsockopt %s: %v", what, w.name, gerr)
		}
		if got != w.value {
			t.Errorf("%s connection: client socket %s = %d, want %d", what, w.name, got, w.value)
		}
	}
}
