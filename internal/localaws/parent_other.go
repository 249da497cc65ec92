//go:build !linux

package localaws

// StopWithParent is Linux-only; elsewhere it does nothing.
func StopWithParent() bool { return true }
