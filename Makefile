# inject-sidecar. Tools the tests need are installed into bin/ from the Go
# module proxy, pinned, so a warm machine skips rebuilding them.
SHELL       := bash
GO          ?= go
BIN         := $(CURDIR)/bin
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
KUSTOMIZE_VERSION := v5.8.2
HELM3_VERSION     := v3.22.0

export PATH := $(BIN):$(PATH)

.PHONY: all build quickstart test conformance vet fmt-check ci clean tools

all: build

build: ## Build bin/inject-sidecar
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN)/inject-sidecar ./fn

$(BIN)/kustomize:
	GOBIN=$(BIN) $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

tools: $(BIN)/kustomize

quickstart: build tools ## Render examples/quickstart with real kustomize and the function
	kustomize build --enable-alpha-plugins --enable-exec examples/quickstart

test: build tools ## Unit, end-to-end and conformance tests
	$(GO) test ./...

conformance: ## Replay Istio's golden corpus from ../shared/istio-conformance
	set -o pipefail; $(GO) test ./fn -run '^TestConformance$$' -count=1 -v | grep -vE '^(=== RUN|=== PAUSE|=== CONT|\s*--- PASS)'

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l fn pkg); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

ci: fmt-check vet test

clean:
	rm -rf $(BIN)
