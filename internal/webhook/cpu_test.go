package webhook_test

import (
	"syscall"
	"testing"
	"time"
)

// cpuPerOp starts counting the process's CPU time (user + system, every
// thread: the garbage collector's work included); the function it returns
// reports it per iteration as cpu-ns/op. Call it just before b.Loop and
// the returned function after it. On a shared, loaded machine ns/op (wall
// time) includes waiting for a CPU; cpu-ns/op does not.
func cpuPerOp(b *testing.B) func() {
	start := processCPU(b)
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
