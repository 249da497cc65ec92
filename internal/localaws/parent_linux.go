package localaws

import (
	"os"
	"syscall"
)

// StopWithParent asks the kernel to send this process SIGTERM when its
// parent exits (make, when `make run` alone is killed), so the local stack
// shuts down and stops its emulators instead of living on orphaned. It
// reports false when the parent had already gone.
func StopWithParent() bool {
	parent := os.Getppid()
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0); errno != 0 {
		return true // not available: nothing changes
	}
	return os.Getppid() == parent
}
