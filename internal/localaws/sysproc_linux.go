package localaws

import "syscall"

// sysProcAttr puts the child in its own process group and has the kernel
// kill it if the thread that started it (so the owning process) dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
