package localaws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ReadyTimeout bounds how long a start waits for an emulator to answer.
var ReadyTimeout = 90 * time.Second

// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
const stopGrace = 5 * time.Second

// Process is a running emulator. It runs in its own process group; Stop (or
// the cancellation of the context it was started with) kills the group, so
// no java or node process outlives it. On Linux the child also gets SIGKILL
// if the owning process dies without stopping it.
type Process struct {
	Name     string // "dynamodb" or "sqs"
	Endpoint string // http://127.0.0.1:port
	Port     int
	LogPath  string

	cmd      *exec.Cmd
	done     chan struct{}
	waitErr  error
	stopping chan struct{}
	stopOnce sync.Once
}

// Pid is the child's process id (and its process group id).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is why the process exited: nil while it runs or after Stop.
func (p *Process) Err() error {
	select {
	case <-p.done:
	default:
		return nil
	}
	select {
	case <-p.stopping:
		return nil
	default:
	}
	if p.waitErr == nil {
		return fmt.Errorf("%s exited", p.Name)
	}
	return fmt.Errorf("%s exited: %w (see %s)", p.Name, p.waitErr, p.LogPath)
}

// Stop terminates the process group (SIGTERM, then SIGKILL after a grace
// period) and returns once the child has been reaped. It is safe to call
// more than once and from several goroutines.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() {
		close(p.stopping)
		pgid := p.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
		// Anything the child started in its group goes too.
		if syscall.Kill(-pgid, 0) == nil {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
	})
	return nil
}

type procSpec struct {
	name  string
	dir   string // working directory
	path  string
	args  []string
	env   []string
	port  int
	logs  string // log directory
	stdin bool   // keep a pipe on stdin; the child exits when it closes
}

// start runs spec, waits until its port answers HTTP and ties its life to ctx.
func start(ctx context.Context, s procSpec) (*Process, error) {
	if err := os.MkdirAll(s.logs, 0o755); err != nil {
		return nil, fmt.Errorf("localaws: create log dir: %w", err)
	}
	pruneLogs(s.logs, 24*time.Hour)
	logPath := filepath.Join(s.logs, s.name+"-"+strconv.Itoa(s.port)+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("localaws: create log %s: %w", logPath, err)
	}
	defer logf.Close() // the child holds its own descriptor

	cmd := exec.Command(s.path, s.args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), s.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	var stdin io.WriteCloser
	if s.stdin {
		if stdin, err = cmd.StdinPipe(); err != nil {
			return nil, err
		}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("localaws: start %s: %w", s.name, err)
	}
	p := &Process{
		Name:     s.name,
		Endpoint: "http://127.0.0.1:" + strconv.Itoa(s.port),
		Port:     s.port,
		LogPath:  logPath,
		cmd:      cmd,
		done:     make(chan struct{}),
		stopping: make(chan struct{}),
	}
	go func() {
		p.waitErr = cmd.Wait()
		if stdin != nil {
			stdin.Close()
		}
		close(p.done)
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = p.Stop()
		case <-p.done:
		}
	}()
	if err := waitReady(ctx, p); err != nil {
		_ = p.Stop()
		return nil, err
	}
	return p, nil
}

// waitReady polls the endpoint until any HTTP answer comes back.
func waitReady(ctx context.Context, p *Process) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(ReadyTimeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.Endpoint+"/", nil)
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("localaws: %s exited before it was ready (%v); last log lines from %s:\n%s", p.Name, p.waitErr, p.LogPath, logTail(p.LogPath))
		case <-ctx.Done():
			return fmt.Errorf("localaws: waiting for %s: %w", p.Name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("localaws: %s did not answer on %s within %s; see %s:\n%s", p.Name, p.Endpoint, ReadyTimeout, p.LogPath, logTail(p.LogPath))
		}
	}
}

// pruneLogs removes log files not written to for longer than age.
func pruneLogs(dir string, age time.Duration) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && time.Since(info.ModTime()) > age {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

func logTail(path string) string {
	b, _ := os.ReadFile(path)
	return tail(string(b), 1500)
}

// ErrPortInUse is returned (wrapped) when a requested port is taken.
var ErrPortInUse = errors.New("port already in use")

// checkPort fails when something already listens on port.
func checkPort(name string, port int) error {
	for _, addr := range []string{"127.0.0.1:" + strconv.Itoa(port), ":" + strconv.Itoa(port)} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("localaws: %s: port %d: %w (another Razorbill stack or program listens there; choose another port, or 0 for a free one)", name, port, ErrPortInUse)
		}
		l.Close()
	}
	return nil
}

// FreePort asks the kernel for a free local TCP port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startOnPort starts the emulator built by mk on port, or on a free port
// when port is 0 (retrying on another free port if the chosen one was taken
// in between).
func startOnPort(ctx context.Context, name string, port int, mk func(port int) procSpec) (*Process, error) {
	if port != 0 {
		if err := checkPort(name, port); err != nil {
			return nil, err
		}
		return start(ctx, mk(port))
	}
	var lastErr error
	for range 3 {
		p, err := FreePort()
		if err != nil {
			return nil, fmt.Errorf("localaws: no free port: %w", err)
		}
		proc, err := start(ctx, mk(p))
		if err == nil {
			return proc, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func resolveDir(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	return DefaultDir()
}

// StartDynamoDB starts DynamoDB Local (in memory, one shared database) on
// port (0: a free one) from the packages Install put in dir ("" means
// DefaultDir), waits until it answers and returns it with its endpoint. Its
// log is dir/logs/dynamodb-<port>.log.
func StartDynamoDB(ctx context.Context, dir string, port int) (*Process, string, error) {
	dir, err := resolveDir(dir)
	if err != nil {
		return nil, "", err
	}
	lib, err := dynamoLibDir(dir)
	if err != nil {
		return nil, "", err
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, "", fmt.Errorf("localaws: java is not on PATH: DynamoDB Local needs Java %d or newer", MinJavaVersion)
	}
	p, err := startOnPort(ctx, "dynamodb", port, func(port int) procSpec {
		return procSpec{
			name: "dynamodb",
			dir:  lib,
			path: java,
			args: []string{
				"-Djava.library.path=./DynamoDBLocal_lib",
				"-XX:+UseSerialGC", "-Xss1m",
				"-jar", "DynamoDBLocal.jar",
				"-inMemory", "-sharedDb", "-port", strconv.Itoa(port),
			},
			port: port,
			logs: filepath.Join(dir, "logs"),
		}
	})
	if err != nil {
		return nil, "", err
	}
	return p, p.Endpoint, nil
}

// sqsScript starts local-aws-sqs on 127.0.0.1 and exits when its stdin
// closes, so it cannot outlive its owner on any OS.
const sqsScript = `
const { createSqsServer } = require("local-aws-sqs");
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
process.on("SIGTERM", () => process.exit(0));
createSqsServer({ port: Number(process.env.RAZORBILL_SQS_PORT), hostname: "127.0.0.1", emulateQueueCreationLifecycle: false })
  .then(() => console.log("ready"), (e) => { console.error(e); process.exit(1); });
`

// StartSQS starts the SQS emulator on 127.0.0.1:port (0: a free one) from
// the packages Install put in dir ("" means DefaultDir), waits until it
// answers and returns it with its endpoint. Its log is dir/logs/sqs-<port>.log.
func StartSQS(ctx context.Context, dir string, port int) (*Process, string, error) {
	dir, err := resolveDir(dir)
	if err != nil {
		return nil, "", err
	}
	if packageVersion(dir, SQSPackage) == "" {
		return nil, "", fmt.Errorf("localaws: %s is not installed in %s; run Install first", SQSPackage, dir)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, "", errors.New("localaws: node is not on PATH: the SQS emulator needs Node.js")
	}
	p, err := startOnPort(ctx, "sqs", port, func(port int) procSpec {
		return procSpec{
			name:  "sqs",
			dir:   dir,
			path:  node,
			args:  []string{"-e", sqsScript},
			env:   []string{"NODE_PATH=" + filepath.Join(dir, "node_modules"), "RAZORBILL_SQS_PORT=" + strconv.Itoa(port)},
			port:  port,
			logs:  filepath.Join(dir, "logs"),
			stdin: true,
		}
	})
	if err != nil {
		return nil, "", err
	}
	return p, p.Endpoint, nil
}
