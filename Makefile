# SPDX-License-Identifier: GPL-2.0
#
# rust-struct-ops: BPF struct_ops types defined and registered by Rust kernel
# modules. See README.md.
#
#   make run          build everything, then show a struct_ops type registered
#                     by a Rust module being attached, called and detached, in
#                     a VM
#   make check        build everything and run all tests in a VM (KTAP)
#
#   make [modules]    build the modules against KDIR
#   make clippy       build the modules with CLIPPY=1, warnings as errors
#   make fmt          rustfmt the Rust sources with the kernel's .rustfmt.toml
#   make fmtcheck     check formatting only
#   make doc          rustdoc of the rust/ layer, in samples/hello/doc/
#   make rust-analyzer, make modules_install, make clean
#
# KDIR is a built, Rust- and BTF-enabled kernel tree (LLVM=1 is passed through
# if you give it). Without KDIR, scripts/kernel.sh builds Linux 7.3 into
# ${XDG_CACHE_HOME:-~/.cache}/rust-struct-ops and that build is used.

RSO_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/rust-struct-ops
export PATH := $(RSO_CACHE)/venv/bin:$(HOME)/.cargo/bin:$(PATH)
LIBCLANG_PATH ?= $(firstword $(wildcard $(RSO_CACHE)/venv/lib/python3*/site-packages/clang/native))
export LIBCLANG_PATH
# rust/rsogen.py runs on the libclang bindings installed in that venv.
export RSO_PYTHON ?= $(RSO_CACHE)/venv/bin/python3

# Both are computed on first use only (targets that need no kernel do not run
# scripts/kernel.sh), and then once: each run of it costs `make kernelversion`
# and the toolchain's --version calls.
ifeq ($(origin KDIR),undefined)
KDIR = $(eval KDIR := $(shell $(CURDIR)/scripts/kernel.sh --kdir))$(KDIR)
endif
# bpftool, libbpf headers and vmlinux.h matching KDIR.
TOOLS = $(eval TOOLS := $(shell $(CURDIR)/scripts/kernel.sh --tools-dir $(KDIR)))$(TOOLS)
BUILD := $(CURDIR)/build

RUST_SOURCES := $(filter-out %_generated.rs,$(wildcard rust/struct_ops/*.rs samples/*/*.rs selftests/testmod/*.rs))

.PHONY: all kdir-check modules modules_install clean clippy fmt fmtcheck rust-analyzer doc compile-fail \
	setup kernel selftests check run

all: modules

# A clear message instead of Kbuild's when KDIR is not a built kernel tree.
kdir-check:
	@test -f "$(KDIR)/Makefile" -a -f "$(KDIR)/Module.symvers" || { \
		echo "error: KDIR=$(KDIR) is not a built kernel tree;" \
			"run 'make kernel' (or make run / make check), or set KDIR" >&2; exit 1; }

modules modules_install clippy rust-analyzer doc fmt fmtcheck clean compile-fail: kdir-check

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

# Clippy over the modules, every warning (rustc's too) an error.
clippy:
	$(MAKE) -C $(KDIR) M=$(CURDIR) CLIPPY=1 KRUSTFLAGS=-Dwarnings -B modules

# The compile-fail checks of the layer's typed calls (selftests/compile_fail):
# cf_ok.rs must compile; every other cf_*.rs must fail, with the error its
# `// compile-fail-expect:` line names.
CF_DIR := $(CURDIR)/selftests/compile_fail
compile-fail:
	@mkdir -p $(BUILD)
	@$(MAKE) -C $(KDIR) M=$(CF_DIR) cf_ok.o >$(BUILD)/cf_ok.log 2>&1 || \
		{ cat $(BUILD)/cf_ok.log; echo "compile-fail: the control cf_ok.rs does not compile" >&2; exit 1; }
	@for f in $(filter-out %/cf_ok.rs %/cf_common.rs %_generated.rs,$(wildcard $(CF_DIR)/cf_*.rs)); do \
		t=$$(basename $$f .rs); want=$$(sed -n 's|^// compile-fail-expect: ||p' $$f); \
		[ -n "$$want" ] || { echo "compile-fail: $$t.rs has no compile-fail-expect line" >&2; exit 1; }; \
		if $(MAKE) -C $(KDIR) M=$(CF_DIR) $$t.o >$(BUILD)/$$t.log 2>&1; then \
			echo "compile-fail: $$t.rs compiled, but must not" >&2; exit 1; \
		elif ! grep -qF -- "$$want" $(BUILD)/$$t.log; then \
			cat $(BUILD)/$$t.log; echo "compile-fail: $$t.rs failed without: $$want" >&2; exit 1; \
		else echo "compile-fail: $$t.rs refused as expected: $$want"; fi; \
	done
	@if $(RSO_PYTHON) rust/rsogen.py --header $(CF_DIR)/cf_bool.h --type cf_bool_ops \
			--list - >$(BUILD)/cf_bool.log 2>&1; then \
		echo "compile-fail: rsogen.py accepted the _Bool data of cf_bool.h" >&2; exit 1; \
	elif ! grep -q "_Bool data is refused" $(BUILD)/cf_bool.log; then \
		cat $(BUILD)/cf_bool.log; echo "compile-fail: cf_bool.h refused for another reason" >&2; exit 1; \
	else echo "compile-fail: cf_bool.h refused as expected: $$(cat $(BUILD)/cf_bool.log)"; fi

rust-analyzer:
	$(MAKE) -C $(KDIR) M=$(CURDIR) rust-analyzer

# rustdoc of the layer (through rso_hello, which includes it) and of rso_hello,
# into samples/hello/doc/.
doc:
	$(MAKE) -C $(KDIR) M=$(CURDIR) RSO_DOC=y modules
	@test -f samples/hello/doc/rso_hello_main/index.html
	@echo "rustdoc: $(CURDIR)/samples/hello/doc/rso_hello_main/index.html"

fmt fmtcheck: KSRC = $(if $(wildcard $(KDIR)/source),$(KDIR)/source,$(KDIR))
fmt:
	rustfmt --edition 2021 --config-path $(KSRC)/.rustfmt.toml $(RUST_SOURCES)
	cargo fmt --manifest-path selftests/runner/Cargo.toml
fmtcheck:
	rustfmt --edition 2021 --config-path $(KSRC)/.rustfmt.toml --check $(RUST_SOURCES)
	cargo fmt --manifest-path selftests/runner/Cargo.toml --check

setup:
	scripts/setup.sh

kernel:
	scripts/kernel.sh

# Selftests: BPF programs (C, clang -target bpf) and the Rust runner.
BPF_PROGS := $(patsubst selftests/progs/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(wildcard selftests/progs/*.bpf.c))
BPF_CFLAGS = -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -fms-extensions -Wno-microsoft-anon-tag \
	-I$(TOOLS) -I$(TOOLS)/bpftool/libbpf/include $(addprefix -I,$(wildcard samples/*) selftests/testmod)

$(BUILD)/bpf/%.bpf.o: selftests/progs/%.bpf.c $(wildcard samples/*/*.h selftests/testmod/*.h)
	@mkdir -p $(@D)
	clang $(BPF_CFLAGS) -c $< -o $@

# rso_hello without its BTF: registration_without_btf_fails_loudly loads it.
$(BUILD)/nobtf/rso_hello.ko: samples/hello/rso_hello.ko
	@mkdir -p $(@D)
	objcopy --remove-section=.BTF $< $@

# A C userspace program on a bpftool-generated skeleton (shadow_vars_c_skeleton),
# linked against the libbpf built with bpftool.
$(BUILD)/skel/%.skel.h: $(BUILD)/bpf/%.bpf.o
	@mkdir -p $(@D)
	$(TOOLS)/bpftool/bpftool gen skeleton $< name $*_bpf > $@

$(BUILD)/c/shadow_skel: selftests/c/shadow_skel.c $(BUILD)/skel/hello_shadow.skel.h samples/hello/hello_ops.h
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Werror -I$(BUILD)/skel -Isamples/hello -I$(TOOLS)/bpftool/libbpf/include \
		$< $(TOOLS)/bpftool/libbpf/libbpf.a -lelf -lz -o $@

selftests: $(BPF_PROGS) $(BUILD)/nobtf/rso_hello.ko $(BUILD)/c/shadow_skel
	RSO_BPF_DIR=$(BUILD)/bpf cargo build --release --locked \
		--manifest-path selftests/runner/Cargo.toml --target-dir $(BUILD)/cargo

# The two commands of the README. scripts/vmtest.sh installs what is missing,
# builds the kernel if needed, builds everything above and boots the VM.
check run:
	scripts/vmtest.sh $@

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C $(KDIR) M=$(CF_DIR) clean
	rm -rf $(BUILD) samples/*/*_generated.rs selftests/*/*_generated.rs samples/*/doc
