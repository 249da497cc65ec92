package bench_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/schema"
)

// TestInitTime builds every function (and ./hello, the smallest
// aws-lambda-go function) with make build's flags — CGO_ENABLED=0,
// -tags lambda.norpc, -trimpath, -ldflags="-s -w" — for linux/arm64 (the
// deployed binary: its size) and for this machine (to run it), then starts
// each binary as Lambda's provided.al2023 runtime would, against a fake
// Lambda Runtime API, and times process start → its first
// GET /2018-06-01/runtime/invocation/next: runtime start, package
// initialisation (the AWS SDK's included) and main's wiring (config, AWS
// clients), i.e. the function's own share of a cold start. Runs
// interleave the binaries, Rounds times each.
type initResult struct {
	Machine   machine       `json:"machine"`
	Rounds    int           `json:"rounds"`
	BuildArgs string        `json:"build"`
	Functions []*initFigure `json:"functions"`
}

type initFigure struct {
	Name      string  `json:"name"`
	SizeArm64 int64   `json:"size_arm64"`
	SizeHost  int64   `json:"size_host"`
	Init      dist    `json:"init"`
	CPU       dist    `json:"cpu"`        // user+sys of the process until /next
	MaxRSSKiB int64   `json:"maxrss_kib"` // median peak RSS until /next
	Ratio     float64 `json:"ratio_to_hello"`
	// GODEBUG=inittrace=1 in one extra run: the packages' init functions,
	// summed, and the three slowest.
	PkgInit   float64  `json:"pkg_init_ms"`
	PkgInits  int      `json:"pkg_inits"`
	SlowInits []string `json:"slow_inits"`
}

const helloName = "hello-world"

func TestInitTime(t *testing.T) {
	gate(t)
	rounds := envInt(t, "RAZORBILL_BENCH_INIT_ROUNDS", 25)
	fnDirs, err := filepath.Glob("../../functions/*")
	if err != nil || len(fnDirs) == 0 {
		t.Fatalf("no functions: %v", err)
	}
	var names []string
	pkgs := []string{"./internal/bench/hello"}
	for _, d := range fnDirs {
		names = append(names, filepath.Base(d))
		pkgs = append(pkgs, "./functions/"+filepath.Base(d))
	}
	flags := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"}
	res := initResult{Machine: thisMachine(), Rounds: rounds, BuildArgs: "CGO_ENABLED=0 go " + strings.Join(flags, " ")}
	dir := t.TempDir()
	build := func(goos, goarch string) string {
		out := filepath.Join(dir, goos+"-"+goarch) + string(filepath.Separator)
		args := append(append([]string{}, flags...), "-o", out)
		cmd := exec.Command("go", append(args, pkgs...)...)
		cmd.Dir = "../.."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build (%s/%s): %v\n%s", goos, goarch, err, b)
		}
		return out
	}
	arm := build("linux", "arm64")
	host := build(runtime.GOOS, runtime.GOARCH)

	figs := map[string]*initFigure{}
	all := append([]string{helloName}, names...)
	bin := func(dir, name string) string {
		if name == helloName {
			return filepath.Join(dir, "hello")
		}
		return filepath.Join(dir, name)
	}
	for _, n := range all {
		f := &initFigure{Name: n}
		if fi, err := os.Stat(bin(arm, n)); err == nil {
			f.SizeArm64 = fi.Size()
		}
		if fi, err := os.Stat(bin(host, n)); err == nil {
			f.SizeHost = fi.Size()
		}
		figs[n] = f
	}

	api := newFakeRuntime()
	defer api.Close()
	home := t.TempDir()
	inits, cpus, rss := map[string][]time.Duration{}, map[string][]time.Duration{}, map[string][]int64{}
	// one unmeasured start of each first: page cache, not the function
	for _, n := range all {
		if _, _, _, err := api.start(bin(host, n), lambdaEnv(n, api.addr, home)); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
	for r := range rounds {
		order := append([]string{}, all...)
		if r%2 == 1 { // alternate the order so no binary always follows the same one
			for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
				order[i], order[j] = order[j], order[i]
			}
		}
		for _, n := range order {
			d, cpu, maxrss, err := api.start(bin(host, n), lambdaEnv(n, api.addr, home))
			if err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			inits[n] = append(inits[n], d)
			cpus[n] = append(cpus[n], cpu)
			rss[n] = append(rss[n], maxrss)
		}
	}
	for _, n := range all {
		f := figs[n]
		f.Init, f.CPU = distOf(inits[n]), distOf(cpus[n])
		r := rss[n]
		sort.Slice(r, func(i, j int) bool { return r[i] < r[j] })
		f.MaxRSSKiB = r[len(r)/2]
		res.Functions = append(res.Functions, f)
	}
	for _, f := range res.Functions {
		f.PkgInit, f.PkgInits, f.SlowInits = api.inittrace(t, bin(host, f.Name), lambdaEnv(f.Name, api.addr, home))
	}
	for _, f := range res.Functions {
		f.Ratio = f.Init.P50 / figs[helloName].Init.P50
		t.Logf("%-22s arm64 %6.1f MB  init p50 %5.1f ms (×%.2f)  cpu %5.1f ms  rss %d KiB", f.Name, float64(f.SizeArm64)/1e6, f.Init.P50, f.Ratio, f.CPU.P50, f.MaxRSSKiB)
	}
	writeResult(t, "init.json", res)
}

// lambdaEnv is what Lambda gives a function process (provided.al2023) plus
// the variables infra/cdk sets, with placeholder values: nothing is called
// before the first invocation, so none of them is dialled.
func lambdaEnv(name, runtimeAPI, home string) []string {
	return []string{
		"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + home, "LANG=en_US.UTF-8", "TZ=:UTC",
		"AWS_LAMBDA_RUNTIME_API=" + runtimeAPI,
		"AWS_LAMBDA_FUNCTION_NAME=Razorbill-" + name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/Razorbill-" + name, "AWS_LAMBDA_LOG_STREAM_NAME=2026/01/01/[$LATEST]0123456789abcdef",
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand", "_HANDLER=bootstrap", "LAMBDA_TASK_ROOT=/var/task", "LAMBDA_RUNTIME_DIR=/var/runtime",
		"AWS_REGION=ap-south-1", "AWS_DEFAULT_REGION=ap-south-1", "AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023",
		"AWS_ACCESS_KEY_ID=ASIAEXAMPLEEXAMPLE00", "AWS_SECRET_ACCESS_KEY=example/example/example/example/example00", "AWS_SESSION_TOKEN=example-session-token",
		"AWS_EC2_METADATA_DISABLED=true",
		schema.Main.EnvVar + "=Razorbill-Table-0123456789",
		schema.RazorpayEvents.EnvVar + "=https://sqs.ap-south-1.amazonaws.com/123456789012/Razorbill-razorpay-events.fifo",
		schema.CustomerSync.EnvVar + "=https://sqs.ap-south-1.amazonaws.com/123456789012/Razorbill-customer-sync",
		schema.InvoiceSync.EnvVar + "=https://sqs.ap-south-1.amazonaws.com/123456789012/Razorbill-invoice-sync",
		"RAZORBILL_KMS_KEY_ID=arn:aws:kms:ap-south-1:123456789012:key/00000000-0000-0000-0000-000000000000",
		"RAZORBILL_ADMIN_TOKEN_PARAM=/razorbill/admin-token",
		"RAZORBILL_WEBHOOK_BASE_URL=https://abcdefghij.lambda-url.ap-south-1.on.aws/",
		"RAZORPAY_BASE_URL=https://api.razorpay.com",
	}
}

// inittrace runs path once with GODEBUG=inittrace=1 and sums the package
// init times it prints ("init <pkg> @<t> ms, <d> ms clock, …").
func (f *fakeRuntime) inittrace(t *testing.T, path string, env []string) (float64, int, []string) {
	t.Helper()
	var out bytes.Buffer
	if _, _, _, err := f.startOut(path, append(env, "GODEBUG=inittrace=1"), &out); err != nil {
		t.Fatal(err)
	}
	type pkg struct {
		name string
		ms   float64
	}
	var pkgs []pkg
	sum := 0.0
	for _, line := range strings.Split(out.String(), "\n") {
		var name string
		var at, clock float64
		if n, _ := fmt.Sscanf(line, "init %s @%f ms, %f ms clock", &name, &at, &clock); n == 3 {
			pkgs = append(pkgs, pkg{name, clock})
			sum += clock
		}
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].ms > pkgs[j].ms })
	var slow []string
	for _, p := range pkgs[:min(3, len(pkgs))] {
		slow = append(slow, fmt.Sprintf("%s %.2f ms", p.name, p.ms))
	}
	return sum, len(pkgs), slow
}

// fakeRuntime answers nothing: it notes when a process first asks for the
// next invocation and holds the request until the process is stopped.
type fakeRuntime struct {
	srv  *httptest.Server
	addr string
	mu   sync.Mutex
	next chan time.Time
}

func newFakeRuntime() *fakeRuntime {
	f := &fakeRuntime{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "GET" && r.URL.Path == "/2018-06-01/runtime/invocation/next" {
			at := time.Now()
			f.mu.Lock()
			ch := f.next
			f.mu.Unlock()
			if ch != nil {
				select {
				case ch <- at:
				default:
				}
			}
			<-r.Context().Done()
			return
		}
		w.WriteHeader(http.StatusAccepted) // init/error and anything else
	}))
	f.addr = strings.TrimPrefix(f.srv.URL, "http://")
	return f
}

func (f *fakeRuntime) Close() { f.srv.Close() }

// start runs path until it polls /next and reports the time from exec to
// that poll, the process's CPU time and its peak RSS by then.
func (f *fakeRuntime) start(path string, env []string) (time.Duration, time.Duration, int64, error) {
	var out bytes.Buffer
	return f.startOut(path, env, &out)
}

func (f *fakeRuntime) startOut(path string, env []string, stderr *bytes.Buffer) (time.Duration, time.Duration, int64, error) {
	ch := make(chan time.Time, 1)
	f.mu.Lock()
	f.next = ch
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.next = nil
		f.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stderr, stderr
	exited := make(chan error, 1)
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, err
	}
	go func() { exited <- cmd.Wait() }()
	var at time.Time
	select {
	case at = <-ch:
	case err := <-exited:
		return 0, 0, 0, fmt.Errorf("exited before polling the runtime API: %v\n%s", err, stderr.String())
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-exited
		return 0, 0, 0, fmt.Errorf("did not poll the runtime API within 20 s\n%s", stderr.String())
	}
	// The peak RSS of the process image since exec (rusage's maxrss would
	// count the forked copy of this test process too).
	var maxrss int64
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				_, _ = fmt.Sscanf(strings.TrimSpace(v), "%d", &maxrss)
			}
		}
	}
	_ = cmd.Process.Kill()
	<-exited
	var cpu time.Duration
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return at.Sub(t0), cpu, maxrss, nil
}
