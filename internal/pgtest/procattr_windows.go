package pgtest

import (
	"os"
	"syscall"
)

func procAttr(*runAs, bool) *syscall.SysProcAttr { return nil }

var immediateShutdown = os.Kill
