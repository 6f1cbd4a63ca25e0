//go:build !linux

package pgstate

import "syscall"

// setUserTimeout does nothing outside Linux: the keepalives bound a silent
// server there.
func setUserTimeout(network, address string, c syscall.RawConn) error { return nil }
