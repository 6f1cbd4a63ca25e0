//go:build !linux && !windows

package pgtest

import "syscall"

func procAttr(as *runAs, server bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: server}
	if as != nil {
		a.Credential = &syscall.Credential{Uid: as.uid, Gid: as.gid}
	}
	return a
}

var immediateShutdown = syscall.SIGQUIT

// fastShutdown is the signal for PostgreSQL's fast shutdown: sessions are
// terminated, what was committed is written out.
var fastShutdown = syscall.SIGINT
