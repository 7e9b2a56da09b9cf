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
	python3 kmod jq chromium \
	redis-server distcc openssh-server openssh-client

.PHONY: all deps build docs install install-files test lint unit e2e demo bench fuzz clean help

all: build

help:
	@echo "make deps   install missing system packages (apt-get)"
	@echo "make build  build every tool ($(PROFILE))"
	@echo "make docs   generate the man pages and shell completions into target/docs"
	@echo "make install  install tools, kbisect, man pages, completions (PREFIX=$(PREFIX), DESTDIR)"
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

# Man pages and completions, generated from the tools' clap definitions
# (built, not committed: they cannot drift from the options).
DOCS ?= $(CURDIR)/target/docs
docs: build
	$(BIN)/kbisect-docgen $(DOCS)

# The tools and kbisect-bisect-run beside the kbisect script in PREFIX/bin
# (kbisect finds its tools beside itself), its helper scripts in
# PREFIX/lib/kbisect. install-files copies what `build` made, without
# building (the tests call it while cargo holds the build directory).
PREFIX ?= /usr/local
DESTDIR ?=
TOOLS := bisect-step kbuild ksig ktest crashclass kbisect-log kbisect-args
MANPAGES := $(TOOLS:kbisect-args=) kbisect
install: build
	$(MAKE) install-files

install-files:
	$(BIN)/kbisect-docgen $(DOCS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/kbisect \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 $(addprefix $(BIN)/,$(TOOLS)) kbisect scripts/kbisect-bisect-run $(DESTDIR)$(PREFIX)/bin/
	install -m 755 scripts/kbisect-recipients $(DESTDIR)$(PREFIX)/lib/kbisect/
	install -m 644 $(foreach t,$(MANPAGES),$(DOCS)/man/man1/$(t).1) $(DESTDIR)$(PREFIX)/share/man/man1/
	for t in $(MANPAGES); do \
		install -m 644 $(DOCS)/completions/bash/$$t $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$t && \
		install -m 644 $(DOCS)/completions/zsh/_$$t $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_$$t && \
		install -m 644 $(DOCS)/completions/fish/$$t.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$t.fish \
		|| exit 1; done

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
