# kbisect — set-up, build, test, demo and benchmarks.
# `make demo` and `make test` are the whole set-up on a fresh Debian machine.

CARGO        ?= cargo
PROFILE      ?= release
CARGO_FLAGS  := $(if $(filter release,$(PROFILE)),--release,)
BIN          := $(CURDIR)/target/$(if $(filter release,$(PROFILE)),release,debug)
export KBISECT_CACHE ?= $(HOME)/.cache/kbisect
export CCACHE_DIR    ?= $(KBISECT_CACHE)/ccache
export PATH          := $(BIN):$(PATH)

# System packages the tools and their tests need (Debian names).
DEB_PACKAGES := qemu-system-x86 linux-source-6.1 busybox-static gcc gcc-11 gcc-12 gcc-multilib clang-15 lld-15 \
	make ccache bc flex bison libelf-dev libssl-dev cpio xz-utils git perl \
	python3 kmod jq \
	redis-server distcc openssh-server openssh-client

.PHONY: all deps build test lint unit e2e demo bench fuzz clean help

all: build

help:
	@echo "make deps   install missing system packages (apt-get)"
	@echo "make build  build every tool ($(PROFILE))"
	@echo "make test   deps, lint, and the whole test suite (real kernel, real QEMU)"
	@echo "make demo   build a demo kernel history and bisect it"
	@echo "make bench  print throughput / speed / accuracy figures"
	@echo "make lint   cargo fmt --check and clippy -D warnings"
	@echo "make fuzz   cargo-fuzz the report parser and the journal reader (FUZZ_SECONDS each; nightly)"

# Idempotent: asks apt only for what dpkg does not already have.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing $$missing" >&2; \
		if [ "$$(id -u)" != 0 ]; then SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "deps: all system packages present" >&2; fi

build:
	$(CARGO) build --workspace --bins $(CARGO_FLAGS)

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets $(CARGO_FLAGS) -- -D warnings

# Unit and simulation tests run in parallel; the real-kernel end-to-end tests
# (tests/) run one at a time, since each builds kernels and boots VMs.
unit:
	$(CARGO) test --workspace --exclude tests $(CARGO_FLAGS)

e2e: build
	$(CARGO) test -p tests $(CARGO_FLAGS) -- --test-threads=1

test: deps lint build unit e2e

demo: deps build
	examples/demo/run

# The bench binary carries the simulator, kept out of the shipped tools.
bench: deps build
	$(CARGO) build -p bisect-step --features sim --bin bisect-step-bench $(CARGO_FLAGS)
	./bench/run

# FUZZ_SECONDS per target: crashclass's report parser, bisect-step's journal reader.
FUZZ_SECONDS ?= 60
fuzz:
	cd crashclass/fuzz && $(CARGO) +nightly fuzz run parse -- -max_total_time=$(FUZZ_SECONDS)
	cd bisect-step/fuzz && $(CARGO) +nightly fuzz run journal -- -max_total_time=$(FUZZ_SECONDS)

clean:
	$(CARGO) clean
