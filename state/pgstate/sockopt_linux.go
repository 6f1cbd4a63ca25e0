package pgstate

import (
	"syscall"
)

// tcpUserTimeout is TCP_USER_TIMEOUT from linux/tcp.h, which package
// syscall does not name.
const tcpUserTimeout = 0x12

// setUserTimeout sets TCP_USER_TIMEOUT on a TCP socket before it connects:
// data left unacknowledged that long fails the connection.
func setUserTimeout(network, _ string, c syscall.RawConn) error {
	if network != "tcp" && network != "tcp4" && network != "tcp6" {
		return nil
	}
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpUserTimeout, lockUserTimeoutMillis)
	}); err != nil {
		return err
	}
	// A kernel without it keeps its default, which is no reason not to
	// connect.
	_ = serr
	return nil
}
