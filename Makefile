# SPDX-License-Identifier: GPL-2.0
#
# rust-struct-ops: BPF struct_ops types defined and registered by Rust kernel
# modules. See README.md.
#
#   make run          build everything, then show a struct_ops type registered
#                     by a Rust module being attached, called and detached, in
#                     a VM
#   make check        build everything and run all tests in a VM (KTAP)
#   make check T=GLOB run only the tests whose names match GLOB (a comma- or
#                     space-separated list of shell globs)
#   make check L=1    list the tests (T= filters the list); no VM
#   make check SEED=N replay the seeded tests of an earlier run
#   make check SHUFFLE=1 run the tests in a random order (the seed is printed;
#                     SEED=N replays the order too)
#   make stress       the stress tests at full scale, with a summary table
#   make fuse-demo    the fuse-bpf-style sample (samples/fuse) in a VM: a
#                     daemon, the BPF cache, then the BPF policy
#   make bench        the benchmark (rso_fuse against its C twin and the
#                     floors; real FUSE with fio), on the bench kernel (ours,
#                     without debugging, with the FUSE request filter; built
#                     on first use): build/bench/bench.{json,csv,png,md}
#   KERNEL=gcc        (any of the above) use the gcc test kernel, which has no
#                     KASAN but boots in seconds; KERNEL=kasan or
#                     KERNEL=debian (Debian's own kernel, scripts/debian.sh)
#                     picks one of make check's two kernels
#
#   make [modules]    build the modules against KDIR
#   make clippy       build the modules with CLIPPY=1, warnings as errors
#   make fmt          rustfmt the Rust sources with the kernel's .rustfmt.toml
#   make fmtcheck     check formatting only
#   make compile-fail the layer's compile-fail checks
#   make doc          rustdoc of the rust/ layer, in samples/hello/doc/
#   make setup        install what is missing (scripts/setup.sh)
#   make kernel       fetch and build the test kernel (scripts/kernel.sh)
#   make rust-analyzer, make modules_install, make clean
#
# KDIR is a built, Rust- and BTF-enabled kernel tree (LLVM=1 is passed through
# if you give it). Without KDIR, `make kernel` (and so make run and make
# check) builds Linux 7.3 into ${XDG_CACHE_HOME:-~/.cache}/rust-struct-ops,
# and the other targets use that build; they never fetch or build a kernel.
#
# The build goes one way: make runs the scripts for setup, the kernel and the
# VM, and the scripts never run make on this Makefile.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec

RSO_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/rust-struct-ops
export PATH := $(RSO_CACHE)/venv/bin:$(HOME)/.cargo/bin:$(PATH)
LIBCLANG_PATH ?= $(firstword $(wildcard $(RSO_CACHE)/venv/lib/python3*/site-packages/clang/native))
export LIBCLANG_PATH
# rust/rsogen.py runs on the libclang bindings installed in that venv.
export RSO_PYTHON ?= $(RSO_CACHE)/venv/bin/python3

# Computed on first use only (targets that need no kernel never ask), and
# then once. `scripts/kernel.sh --kdir` only looks: it prints nothing when
# the kernel has not been fetched yet.
# KERNEL picks our own test kernel (see scripts/kernel.sh): kasan (default,
# built with LLVM=-19, so the modules are too) or gcc (no KASAN, fast boot).
# make check runs on both of them unless told which (KERNEL=, or a KDIR).
CHECK_KERNELS := $(if $(filter command line environment,$(origin KERNEL) $(origin KDIR)),$(or $(KERNEL),kasan),kasan debian)
KERNEL ?= kasan
export RSO_KERNEL := $(KERNEL)
# KBUILD runs make in KDIR: ours directly; Debian's in the trixie root, with
# Debian's rustc and gcc and the kernel's release string (scripts/debian.sh).
KBUILD = $(MAKE) -C $(KDIR)
ifeq ($(origin KDIR),undefined)
RSO_OWN_KERNEL := 1
ifeq ($(KERNEL),kasan)
export LLVM := -19
LIBCLANG_PATH := /usr/lib/llvm-19/lib
endif
ifeq ($(KERNEL),debian)
KDIR := $(shell $(CURDIR)/scripts/debian.sh --kdir)
else
KDIR = $(eval KDIR := $(shell RSO_KERNEL=$(KERNEL) $(CURDIR)/scripts/kernel.sh --kdir))$(KDIR)
endif
endif
ifeq ($(KERNEL),debian)
KBUILD = $(CURDIR)/scripts/debian.sh --run make -C $(KDIR) \
	$(shell $(CURDIR)/scripts/debian.sh --kmake)
endif
# Non-empty when the kernel is Debian's own (KERNEL=debian, no KDIR given).
DEBIAN_KERNEL := $(filter 1debian,$(RSO_OWN_KERNEL)$(KERNEL))
# What the VM boots: KDIR's image, or Debian's vmlinuz (its modules beside).
VM_KERNEL = $(if $(DEBIAN_KERNEL),$(shell $(CURDIR)/scripts/debian.sh --image),$(KDIR))
# bpftool, libbpf headers and vmlinux.h matching KDIR.
TOOLS = $(eval TOOLS := $(shell RSO_KERNEL=$(KERNEL) $(CURDIR)/scripts/kernel.sh --tools-dir $(KDIR)))$(TOOLS)
BUILD := $(CURDIR)/build
RUNNER := $(BUILD)/cargo/release/rso-selftests

RUST_SOURCES := $(filter-out %_generated.rs,$(wildcard rust/*.rs rust/struct_ops/*.rs samples/*/*.rs selftests/testmod/*.rs))

.PHONY: all kdir-check modules modules_install clean clippy fmt fmtcheck rust-analyzer doc compile-fail \
	setup kernel selftests check run stress bench fuse-demo vm-check vm-run vm-stress vm-bench \
	vm-fuse-demo

all: modules

# A clear message instead of Kbuild's when KDIR is not a built kernel tree.
kdir-check:
	@test -n "$(KDIR)" -a -f "$(KDIR)/Makefile" -a -f "$(KDIR)/Module.symvers" || { \
		echo "error: no built kernel tree$(if $(KDIR), at KDIR=$(KDIR))." \
			"Run 'make kernel' (or make check / make run, which build it)," \
			"or set KDIR to your own Rust-enabled 7.3 build." >&2; exit 1; }

# pahole prints one "die__process_class: tag not supported" line per Rust
# DWARF tag it cannot turn into BTF while it makes each module's BTF. They are
# harmless (Rust types get no BTF: the C part carries it) and are filtered.
PAHOLE_NOISE := grep -v --line-buffered 'die__process_class: tag not supported' || true

modules modules_install clippy rust-analyzer doc fmt fmtcheck clean compile-fail: kdir-check

modules:
	$(KBUILD) M=$(CURDIR) modules 2>&1 | { $(PAHOLE_NOISE); }

# On Debian's kernel, Kbuild would run in the trixie root and install there:
# scripts/debian.sh installs on this machine instead (INSTALL_MOD_PATH too).
modules_install:
ifneq ($(DEBIAN_KERNEL),)
	scripts/debian.sh --install
else
	$(KBUILD) M=$(CURDIR) modules_install
endif

# Clippy over the modules, every warning (rustc's too) an error. Without -B:
# Kbuild rebuilds an object whose command line changed, so an object built by
# `make modules` (no clippy) is rebuilt here, and one that is up to date was
# built by this very command, which fails on any warning.
clippy:
	$(KBUILD) M=$(CURDIR) CLIPPY=1 KRUSTFLAGS=-Dwarnings modules 2>&1 | { $(PAHOLE_NOISE); }

# The compile-fail checks of the layer's typed calls (selftests/compile_fail):
# cf_ok.rs must compile; every other cf_*.rs must fail, with the error its
# `// compile-fail-expect:` line names.
# They run again only when what they check changed (the layer, the generator,
# the checks, the kernel): the stamp records the last pass.
CF_DIR := $(CURDIR)/selftests/compile_fail
CF_STAMP := $(BUILD)/compile-fail.stamp
# (KDIR, second-expanded: only a make that builds the stamp asks for it.)
compile-fail: $(CF_STAMP)
.SECONDEXPANSION:
$(CF_STAMP): $(wildcard rust/*.* rust/struct_ops/*.rs $(CF_DIR)/*.rs $(CF_DIR)/*.h $(CF_DIR)/Kbuild) \
		$$(KDIR)/Module.symvers
	@mkdir -p $(BUILD)
	@$(KBUILD) M=$(CF_DIR) cf_ok.o >$(BUILD)/cf_ok.log 2>&1 || \
		{ cat $(BUILD)/cf_ok.log; echo "compile-fail: the control cf_ok.rs does not compile" >&2; exit 1; }
	@for f in $(filter-out %/cf_ok.rs %/cf_common.rs %/cf_init.rs %_generated.rs,$(wildcard $(CF_DIR)/cf_*.rs)); do \
		t=$$(basename $$f .rs); want=$$(sed -n 's|^// compile-fail-expect: ||p' $$f); \
		[ -n "$$want" ] || { echo "compile-fail: $$t.rs has no compile-fail-expect line" >&2; exit 1; }; \
		if $(KBUILD) M=$(CF_DIR) $$t.o >$(BUILD)/$$t.log 2>&1; then \
			echo "compile-fail: $$t.rs compiled, but must not" >&2; exit 1; \
		elif ! grep -qF -- "$$want" $(BUILD)/$$t.log; then \
			cat $(BUILD)/$$t.log; echo "compile-fail: $$t.rs failed without: $$want" >&2; exit 1; \
		else echo "compile-fail: $$t.rs refused as expected: $$want"; fi; \
	done
	@set -e; for c in "cf_bool cf_bool_ops _Bool data is refused" \
			"cf_ref_on_void_op cf_ref_on_void_op a __ref parameter on an op that returns void is refused" \
			"cf_kfunc_req_scalar cf_kfunc_req_scalar_ops needs a zero-length array member" \
			"cf_kfunc_req_writable cf_kfunc_req_writable_ops must be taken as const only" \
			"cf_kfunc_req_embedded cf_kfunc_req_embedded_ops embeds struct cf_kreq, the request of kfunc" \
			"cf_arg_trailing_array cf_arg_trailing_array_ops ends with an array of no element" \
			"cf_narrow_return cf_narrow_return_ops is narrower than 32 bits" \
			"cf_ops_member_c_only cf_ops_member_c_only has other members in its C view" \
			"cf_member23_pointer cf_member23_pointer member 23 (op) is an op with pointer arguments"; do \
		set -- $$c; h=$$1; ty=$$2; shift 2; want="$$*"; \
		if $(RSO_PYTHON) rust/rsogen.py --header $(CF_DIR)/$$h.h --type $$ty \
				--list - -- -D__BINDGEN__ >$(BUILD)/$$h.log 2>&1; then \
			echo "compile-fail: rsogen.py accepted $$h.h" >&2; exit 1; \
		elif ! grep -qF -- "$$want" $(BUILD)/$$h.log; then \
			cat $(BUILD)/$$h.log; echo "compile-fail: $$h.h refused for another reason" >&2; exit 1; \
		else echo "compile-fail: $$h.h refused as expected: $$(cat $(BUILD)/$$h.log)"; fi; \
	done
	@touch $@

rust-analyzer:
	$(KBUILD) M=$(CURDIR) rust-analyzer

# rustdoc of the layer (through rso_hello, which includes it) and of rso_hello,
# into samples/hello/doc/.
doc:
	$(KBUILD) M=$(CURDIR) RSO_DOC=y modules
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

# The cached 7.3 build (fetched and built if needed), or, with a user's KDIR,
# the bpftool and vmlinux.h that match it.
kernel: setup
ifneq ($(DEBIAN_KERNEL),)
	scripts/debian.sh >/dev/null
else
	scripts/kernel.sh $(if $(RSO_OWN_KERNEL),,--tools $(KDIR)) >/dev/null
endif

# Selftests: BPF programs (C, clang -target bpf) and the Rust runner.
BPF_PROGS := $(patsubst selftests/progs/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(wildcard selftests/progs/*.bpf.c))
BPF_CFLAGS = -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -fms-extensions -Wno-microsoft-anon-tag \
	-I$(TOOLS) -I$(TOOLS)/bpftool/libbpf/include $(addprefix -I,$(wildcard samples/*) selftests/testmod)

$(BUILD)/bpf/%.bpf.o: selftests/progs/%.bpf.c $(wildcard samples/*/*.h selftests/testmod/*.h selftests/progs/*.h)
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

# The QEMU plugin that counts guest instructions (make bench, bench_smoke),
# against the installed QEMU's plugin header (scripts/qemu-plugin.sh).
INSN_PLUGIN := $(BUILD)/icount/rso_icount.so
$(INSN_PLUGIN): selftests/icount/rso_icount.c scripts/qemu-plugin.sh
	scripts/qemu-plugin.sh $@

selftests: $(BPF_PROGS) $(BUILD)/nobtf/rso_hello.ko $(BUILD)/c/shadow_skel $(INSN_PLUGIN)
	RSO_BPF_DIR=$(BUILD)/bpf cargo build --release --locked \
		--manifest-path selftests/runner/Cargo.toml --target-dir $(BUILD)/cargo

# The two commands of the README: setup and the kernel first, then, in a make
# that sees the kernel, the build and the VM.
run fuse-demo: kernel
	@$(MAKE) --no-print-directory vm-$@

# make check: one KTAP stream per kernel of CHECK_KERNELS, first our KASAN
# kernel (every detector), then Debian's own (the production config users
# load into), each named; then the whole run's summary, its last line the
# sum of the streams' "N passed, N failed" (a stream that stops before its
# summary counts as one failure).
ifeq ($(L),1)
check: kernel
	@$(MAKE) --no-print-directory vm-check
else
check:
	@mkdir -p $(BUILD); fails=0; passes=0; sums=(); \
	for k in $(CHECK_KERNELS); do \
		echo "# make check: the $$k kernel"; \
		log=$(BUILD)/check-$$k.log; : >$$log; \
		$(MAKE) --no-print-directory KERNEL=$$k kernel >&2 && \
			$(MAKE) --no-print-directory KERNEL=$$k vm-check 2>&1 | tee $$log || true; \
		line=$$(grep -E '^[0-9]+ passed, [0-9]+ failed$$' $$log | tail -n1); \
		[ -n "$$line" ] || line="0 passed, 1 failed"; \
		read -r p _ f _ <<<"$$line"; \
		passes=$$((passes + p)); fails=$$((fails + f)); sums+=("# $$k: $$line"); \
	done; \
	echo "# make check, every kernel:"; printf '%s\n' "$${sums[@]}"; \
	echo "$$passes passed, $$fails failed"; \
	[ "$$fails" = 0 ]
endif

# check: rustfmt, clippy (whose build is the build tested: a plain `make
# modules` after it would rebuild every Rust object), compile-fail, then the
# selftests in the VM. The VM's output comes last, so that the runner's
# "N passed, N failed" closes the run. L=1 lists the tests instead (no VM).
# SEED=N replays the seeded tests (bad input, kills) of an earlier run.
RUNNER_ARGS = --top $(CURDIR) --build $(BUILD) --bpftool $(TOOLS)/bpftool/bpftool \
	$(if $(RSO_OWN_KERNEL),--kernel $(KERNEL)) $(if $(SEED),--seed $(SEED))
# Each phase before the VM is timed (scripts/phase.sh). The VM can count
# instructions (the QEMU plugin, see scripts/vm.sh) for bench_smoke's guard;
# the plugin counts only while the guest arms it, and costs a few seconds of
# boot otherwise (57 s against 53 s).
PHASES := $(BUILD)/phases.tsv
PHASE = scripts/phase.sh $(PHASES)
SUBMAKE = $(MAKE) --no-print-directory KDIR=$(KDIR)
ifeq ($(L),1)
vm-check: selftests
	@$(RUNNER) $(RUNNER_ARGS) list $(if $(T),-t '$(T)')
else
vm-check:
	@mkdir -p $(BUILD) && : >$(PHASES)
ifneq ($(DEBIAN_KERNEL),)
	@$(PHASE) "the version guard, shown a faked rustc" scripts/debian.sh --guard-test
	@$(PHASE) "the module build (Debian's rustc)" $(SUBMAKE) modules
else
	@$(PHASE) rustfmt $(SUBMAKE) fmtcheck
	@$(PHASE) "clippy (the module build)" $(SUBMAKE) clippy
	@$(PHASE) compile-fail $(SUBMAKE) compile-fail
endif
	@$(PHASE) "BPF programs, the runner, the QEMU plugin" $(SUBMAKE) selftests
	@echo "# the phases before the VM:"
	@awk -F'\t' '{ printf "#   %-30s %7.1f s\n", $$1, $$2 }' $(PHASES)
	@echo "vm: booting the kernel; the selftests print KTAP" >&2
	@RSO_VM_INSN_PLUGIN=$(INSN_PLUGIN) scripts/vm.sh $(VM_KERNEL) $(RUNNER) $(RUNNER_ARGS) check \
		$(if $(SHUFFLE),--shuffle) $(if $(T),-t '$(T)')
endif

# make stress: the stress tests at full scale (make check runs them bounded),
# each printing a row of the summary table.
STRESS_TESTS := stress_*,kill_mid_call
stress: kernel
	@$(MAKE) --no-print-directory vm-stress

vm-stress: modules selftests
	scripts/vm.sh $(VM_KERNEL) $(RUNNER) $(RUNNER_ARGS) check --full -t '$(STRESS_TESTS)'

# make bench: on the bench kernel (kernel/bench.config: our config without
# lockdep, kmemleak or sleep-in-atomic checks, which would dominate what it
# measures, and with kernel/patches, whose FUSE request filter the real-FUSE
# rows need; built with gcc only by this target). BENCH_KERNEL=debian runs it
# on Debian's own kernel (no BPF rows for real FUSE there), kasan or gcc on
# one of ours. In a make of its own that does not inherit the KASAN kernel's
# LLVM=-19. The VM writes build/bench/bench.json; the host draws the plot and
# the table.
BENCH_OUT := $(BUILD)/bench
BENCH_KERNEL ?= bench
bench:
	@env -u LLVM -u LIBCLANG_PATH $(MAKE) --no-print-directory KERNEL=$(BENCH_KERNEL) kernel
	@env -u LLVM -u LIBCLANG_PATH $(MAKE) --no-print-directory KERNEL=$(BENCH_KERNEL) vm-bench

vm-bench: modules selftests
	@mkdir -p $(BENCH_OUT)
	RSO_VM_INSN_PLUGIN=$(INSN_PLUGIN) RSO_VM_RWDIR=$(BENCH_OUT) RSO_VM_TIMEOUT=$${RSO_VM_TIMEOUT:-3600} scripts/vm.sh $(VM_KERNEL) $(RUNNER) $(RUNNER_ARGS) bench --out $(BENCH_OUT)
	$(RSO_PYTHON) scripts/plot_bench.py $(BENCH_OUT)/bench.json --markdown >$(BENCH_OUT)/bench.md
	@cat $(BENCH_OUT)/bench.md
	@echo "bench: $(BENCH_OUT)/bench.png, bench.json, bench.csv, bench.md"

vm-run: modules selftests
	scripts/vm.sh $(VM_KERNEL) $(RUNNER) $(RUNNER_ARGS) demo

vm-fuse-demo: modules selftests
	scripts/vm.sh $(VM_KERNEL) $(RUNNER) $(RUNNER_ARGS) fuse-demo

clean:
	$(KBUILD) M=$(CURDIR) clean
	$(KBUILD) M=$(CF_DIR) clean
	rm -rf $(BUILD) samples/*/*_generated.rs selftests/*/*_generated.rs samples/*/doc
