# edge-observability-stack
#   make run      run the stack in the foreground (no systemd needed)
#   make test     everything CI runs: unit, integration (real Prometheus), dashboard in Chromium, packaging, e2e
#                 (real systemd in a container, cgroup v1; in Debian 13 VMs without the memory controller,
#                 and installing from the signed apt repository)
#   make bench    benchmarks and soaks; results go to docs/BENCHMARKS.md

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.0.0-dev)
REVISION ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
PKG := github.com/edgeobs/edge-observability-stack
LDFLAGS := -s -w -X $(PKG)/internal/version.Version=$(VERSION) -X $(PKG)/internal/version.Revision=$(REVISION)
# Go as new as go.mod asks for goes first on PATH for every recipe: the one scripts/go.sh finds,
# or the one it installs (saying what it installs) when a target that needs Go runs `toolchain`.
export PATH := $(shell scripts/go.sh --find):$(PATH)
GO ?= go
export CGO_ENABLED = 0

.PHONY: all toolchain build deps test test-unit test-fuzz test-integration test-arm test-browser screenshots test-packaging e2e e2e-vm e2e-vm-nomemcg e2e-vm-apt e2e-vm-arm64 test-bare package apt-repo run bench lint clean

all: build

# Installs Go when there is none new enough (scripts/go.sh says what it installs).
toolchain:
	@scripts/go.sh >/dev/null

build: toolchain
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/ ./cmd/...

# Installs what the tests need (apt packages); idempotent.
deps: toolchain
	scripts/deps.sh test

lint: toolchain
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: files above need formatting'; exit 1; }
	$(GO) vet ./...

test-unit: toolchain
	$(GO) test -count=1 ./...

# Short fuzz runs of every fuzz target; long runs are in `make bench`.
test-fuzz: toolchain
	scripts/fuzz.sh 10s

test-integration: build
	$(GO) test -count=1 -timeout 30m -tags integration ./test/integration/...

# The arm64 and armv7 binaries under qemu user emulation (qemu-user-static): the daemon on the
# fixture trees, READY=1, /metrics through promtool, edgectl status. Builds them itself.
test-arm: toolchain
	$(GO) test -count=1 -timeout 30m -tags armemu ./test/arm/...

# The dashboard page in headless Chromium against the real daemon and Prometheus.
test-browser: build
	$(GO) test -count=1 -timeout 20m -tags integration,browser -run '^TestBrowser' ./test/integration/...

# Re-takes the dashboard screenshots in docs/ (the same test, keeping its screenshots).
screenshots: build
	BROWSER_SCREENSHOTS=$(CURDIR)/docs $(GO) test -count=1 -timeout 20m -tags integration,browser -run '^TestBrowserDashboard$$' ./test/integration/...

package: toolchain
	scripts/package.sh

# Signed apt repository of dist/*.deb (see README.md, "Install on a device").
APT_REPO_DIR ?= dist/apt
APT_SUITE ?= stable
apt-repo:
	scripts/apt-repo.sh $(APT_REPO_DIR) $(APT_SUITE)

test-packaging: package
	test/packaging/run.sh
	test/packaging/apt-repo.sh

# The .deb on a real systemd: in systemd-nspawn (fast; cgroup v1 on this host), in a Debian 13
# VM (qemu, cgroup v2 only), in that VM booted without the memory controller, and in that VM
# from the signed apt repository of `make apt-repo`.
e2e: package
	test/e2e/run.sh nspawn

e2e-vm: package
	test/e2e/run.sh vm

e2e-vm-nomemcg: package
	test/e2e/run.sh vm-nomemcg

e2e-vm-apt: package
	test/e2e/run.sh vm-apt

e2e-vm-arm64: package
	test/e2e/run.sh vm-arm64

# The README's `make run` on a bare Debian root (debootstrap minbase, cached): it must install
# everything, Go included, serve the dashboard, and stop on Ctrl-C. `make test` runs Debian 13;
# Debian 12 too with BARE_SUITES="trixie bookworm" (about 14 more minutes).
BARE_SUITES ?= trixie
test-bare:
	test/bare/run.sh $(BARE_SUITES)

# e2e-vm-arm64 is not in test: its image takes about 10 minutes to build cold (dpkg under
# qemu-user) and the emulated arm64 guest is slow; run it alone (docs/DEVELOPMENT.md).
test: deps lint test-unit test-fuzz test-integration test-arm test-browser test-packaging e2e e2e-vm e2e-vm-nomemcg e2e-vm-apt test-bare

run: build
	scripts/run.sh

# Hours: the short parts, then each soak alone (booted container or VM).
bench: build
	test/bench/run.sh
	test/bench/run.sh stack
	test/bench/run.sh life
	test/bench/run.sh lifevm
	test/bench/run.sh thp
	test/bench/run.sh clock
	test/bench/run.sh sdwrites
	test/bench/run.sh vmcut
	test/bench/run.sh peers
	test/bench/run.sh alerts

clean:
	rm -rf bin dist
