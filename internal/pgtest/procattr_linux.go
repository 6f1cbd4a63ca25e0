package pgtest

import "syscall"

func procAttr(as *runAs, server bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{}
	if as != nil {
		a.Credential = &syscall.Credential{Uid: as.uid, Gid: as.gid}
	}
	if server {
		// Its own process group, so a terminal's Ctrl-C reaches the tests
		// only, and SIGQUIT (an immediate shutdown) when the test binary
		// dies without stopping it.
		a.Setpgid = true
		a.Pdeathsig = syscall.SIGQUIT
	}
	return a
}

// immediateShutdown is the signal for PostgreSQL's immediate shutdown (what
// pg_ctl -m immediate sends): its data is thrown away anyway.
var immediateShutdown = syscall.SIGQUIT

// fastShutdown is the signal for PostgreSQL's fast shutdown: sessions are
// terminated, what was committed is written out.
var fastShutdown = syscall.SIGINT
