package localaws_test

import (
	"bufio"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/localaws"
)

// stopWithParentChild is the child of TestAStackWhoseParentDiesStops
// (TestMain runs it instead of the tests when that test starts the binary).
func stopWithParentChild() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM)
	if !localaws.StopWithParent() {
		os.Exit(3)
	}
	os.Stdout.WriteString("armed\n")
	select {
	case <-ch:
		os.Exit(0) // what the local stack does on SIGTERM: shut down
	case <-time.After(20 * time.Second):
		os.Exit(4)
	}
}

// TestAStackWhoseParentDiesStops: a process that called StopWithParent gets
// SIGTERM when its parent (here a shell standing in for make) is killed
// alone, so `make run` killed without its process group leaves nothing.
func TestAStackWhoseParentDiesStops(t *testing.T) {
	t.Parallel()
	sh := exec.Command("sh", "-c", `"$0" & echo "child $!"; wait`, os.Args[0])
	sh.Env = append(os.Environ(), "RAZORBILL_PDEATH_CHILD=1")
	out, err := sh.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	child := 0
	armed := false
	for !(child != 0 && armed) && sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "child "); ok {
			child, _ = strconv.Atoi(v)
		}
		armed = armed || line == "armed"
	}
	if child == 0 || !armed {
		t.Fatalf("child %d, armed %v", child, armed)
	}
	_ = sh.Process.Kill() // the parent alone, SIGKILL: it forwards nothing
	_ = sh.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if syscall.Kill(child, 0) != nil {
			return // gone
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(child, syscall.SIGKILL)
	t.Fatalf("child %d still running 10 s after its parent was killed", child)
}
