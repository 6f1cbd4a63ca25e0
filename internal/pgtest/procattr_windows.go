package pgtest

import (
	"os"
	"syscall"
)

func procAttr(*runAs, bool) *syscall.SysProcAttr { return nil }

var immediateShutdown = os.Kill

// fastShutdown: Windows has no signal for it; the process is killed.
var fastShutdown = os.Kill
