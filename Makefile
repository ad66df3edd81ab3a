# inject-sidecar. Tools the tests need are installed into bin/ from the Go
# module proxy, pinned, so a warm machine skips rebuilding them.
SHELL       := bash
GO          ?= go
BIN         := $(CURDIR)/bin
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
KUSTOMIZE_VERSION := v5.8.2
HELM3_VERSION     := v3.22.0
HELM4_VERSION     := v4.3.1

export PATH := $(BIN):$(PATH)

.PHONY: all build quickstart test conformance vet fmt-check ci clean tools race fuzz helm apiserver examples e2e bench bench-go

all: build

build: ## Build bin/inject-sidecar
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN)/inject-sidecar ./fn

$(BIN)/kustomize:
	GOBIN=$(BIN) $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

tools: $(BIN)/kustomize

helm: ## Helm 3 (bin/helm) and Helm 4 (bin/helm4) for the examples' tests; skipped when already at the pinned version
	@.ci/tools/go-install.sh $(BIN) helm helm.sh/helm/v3/cmd/helm $(HELM3_VERSION)
	@.ci/tools/go-install.sh $(BIN) helm4 helm.sh/helm/v4/cmd/helm $(HELM4_VERSION)

apiserver: ## kube-apiserver and etcd (bin/) at the versions .ci/tools/go.mod pins; skipped when already built
	.ci/tools/build-apiserver.sh $(BIN)

examples: build tools helm ## Every integration example through the real tools, verbose (SKIPPED lines show)
	set -o pipefail; $(GO) test ./examples -count=1 -v | grep -E '^(---|ok|FAIL|panic)|SKIPPED|_test\.go'

# The end-to-end tier: every example's output and every conformance output,
# server-side dry-run applied to a real kube-apiserver on loopback. Also
# runs the kpt tests verbosely, so a missing kpt shows as a SKIPPED line.
e2e: build tools helm apiserver ## Examples and conformance outputs against a real API server
	set -o pipefail; INJECT_SIDECAR_APISERVER=1 $(GO) test ./examples -run '^(TestKpt|TestAPIServer)$$' -count=1 -v -timeout 20m \
	  | grep -E '^(---|ok|FAIL|panic)|SKIPPED|_test\.go'

quickstart: build tools ## Render examples/quickstart with real kustomize and the function
	kustomize build --enable-alpha-plugins --enable-exec examples/quickstart

test: build tools helm ## Unit, end-to-end and conformance tests
	$(GO) test ./...

conformance: ## Replay Istio's golden corpus from ../shared/istio-conformance
	set -o pipefail; $(GO) test ./fn -run '^TestConformance$$' -count=1 -v | grep -vE '^(=== RUN|=== PAUSE|=== CONT|\s*--- PASS)'

race: ## Every test under the race detector (-short: the corpus-wide lossless tests sample every 8th case)
	$(GO) test -race -short -timeout 30m ./...

# Fuzz targets are found in the test files; each runs for FUZZTIME. A
# crasher is written to <package>/testdata/fuzz/<Target>/ and replays as a
# regression test in every later `go test`: keep it with the fix.
FUZZTIME ?= 30s

fuzz: ## Run every fuzz target for FUZZTIME (default 30s) each
	@set -euo pipefail; \
	for f in $$(grep -rl --include='*_test.go' '^func Fuzz' fn pkg | sort); do \
	  for t in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
	    echo "== ./$$(dirname $$f) $$t for $(FUZZTIME)"; \
	    $(GO) test ./$$(dirname $$f) -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME); \
	  done; \
	done

# The repository-scale benchmark (examples/bench, README "Performance"): the built
# binary, inject command and KRM mode, 1 to 20000 generated workloads,
# medians of several runs against a kyaml read-and-write floor. Takes about
# five minutes on two cores; BENCH_FLAGS narrows it, e.g. BENCH_FLAGS='-n 1,1000 -runs 3'.
BENCH_FLAGS ?=

bench: build ## Repository-scale benchmark table (wall, ms/workload, peak RSS, ratio to the kyaml floor)
	$(GO) build -o $(BIN)/bench ./examples/bench
	$(BIN)/bench -bin $(BIN)/inject-sidecar $(BENCH_FLAGS)

bench-go: ## Go benchmarks of every stage (find, decide, render, merge, post-process, write back, write), with allocations
	$(GO) test ./pkg/... ./fn -run '^$$' -bench . -benchmem

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l fn pkg examples .ci/tools); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

ci: fmt-check vet test

clean:
	rm -rf $(BIN)
