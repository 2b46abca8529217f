# SPDX-License-Identifier: GPL-2.0
#
# Generate everything a struct_ops type needs from its C header, as part of
# the Kbuild build. A module of modules.list has a Kbuild of two lines:
#
#   include $(srcroot)/rust/struct_ops.mk
#   $(eval $(call rso_module,<module>))
#
# which builds <module>.ko from <module>_main.rs and the C part generated
# from the header <type>.h beside it (plus any <module>-y += objects the
# Kbuild adds). rso_type is the same for a type outside modules.list:
#
#   <module>-y := <crate root>.o <type>_gen.o
#   $(eval $(call rso_type,<type>,<crate root>,<bindgen allowlist regex>))
#
# and pull <type>_generated.rs into the crate with `ops_header!`
# (rust/struct_ops/mod.rs). One command makes, from the header:
#
# - <type>_generated.rs: bindgen's view of the header, followed by the typed
#   view rust/rsogen.py generates (OpsTable impl, one method per op);
# - <type>_gen.c: the C part (stubs whose parameter names carry the tags,
#   cfi table, registration), also by rust/rsogen.py.
#
# Both are regenerated whenever the header (or anything it includes, via the
# depfile) or the command changes, so neither can go stale; the layout
# assertions bindgen emits are compiled in.
#
# Kernel types the header names (task_struct, __u32, ...) are not generated
# again (--no-recursive-allowlist): they resolve to kernel::bindings.

# The FUSE request filter of kernel/patches/fuse, when the kernel built
# against has it: rust/fuse_filter.rs, and what uses it, is compiled under
# `#[cfg(rso_fuse_filter)]`.
rso_fuse_filter := $(wildcard $(srctree)/include/linux/fuse_filter.h)
rustflags-y += $(if $(rso_fuse_filter),--cfg rso_fuse_filter)

# The gcc-only flags libclang does not understand: the kernel's own list,
# read from the tree being built against so that it stays in step with it.
rso_bindgen_skip_c_flags := $(shell sed -n '/^bindgen_skip_c_flags/,/[^\\]$$/p' \
	$(srctree)/rust/Makefile | sed -e 's/^bindgen_skip_c_flags[[:space:]]*:=//' -e 's/\\$$//')

rso_bindgen_target_x86 := x86_64-linux-gnu
rso_bindgen_target_arm64 := aarch64-linux-gnu
rso_bindgen_target := $(rso_bindgen_target_$(SRCARCH))
ifeq ($(rso_bindgen_target),)
$(error rust-struct-ops: no bindgen target known for SRCARCH=$(SRCARCH))
endif

rso_bindgen_c_flags = $(filter-out $(rso_bindgen_skip_c_flags), $(c_flags)) \
	-w --target=$(rso_bindgen_target) -fno-builtin -D__BINDGEN__ -DMODULE

# The generator runs on the libclang Python bindings of the wheel that
# scripts/setup.sh installs for bindgen (RSO_PYTHON: that venv's python3).
RSO_PYTHON ?= python3
rso_gen := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))/rsogen.py

quiet_cmd_rso_gen = RSOGEN  $@
      cmd_rso_gen = \
	$(BINDGEN) $< --rust-target 1.85 --use-core --with-derive-default \
		--ctypes-prefix kernel::ffi --no-debug '.*' --no-prepend-enum-name \
		--no-recursive-allowlist \
		--allowlist-item '$(rso_allow_$(basename $(notdir $<)))|rso_call_hdr' \
		-o $@.bindgen -- $(rso_bindgen_c_flags) && \
	$(RSO_PYTHON) $(rso_gen) --header $< --type $(basename $(notdir $<)) \
		--c $(@:_generated.rs=_gen.c) --rust $@.typed -- $(rso_bindgen_c_flags) && \
	cat $@.bindgen $@.typed > $@ && rm -f $@.bindgen $@.typed

$(obj)/%_generated.rs: $(src)/%.h $(rso_gen) FORCE
	$(call if_changed_dep,rso_gen)

# The C part is written by the same command.
$(obj)/%_gen.c: $(obj)/%_generated.rs
	@:

# $(call rso_type,<type>,<crate root>,<allowlist>): the generated files of
# <type>, and the crate root that includes them.
define rso_type
rso_allow_$(1) := $(3)
$$(obj)/$(2).o: $$(obj)/$(1)_generated.rs
$$(obj)/$(1)_gen.o: $$(obj)/$(1)_gen.c
targets += $(1)_generated.rs
endef

# $(call rso_helpers,<module>): the layer's C helpers (rust/rso_helpers.c),
# compiled into <module> through <module>_rso.c. rso_module adds them; a
# module built with rso_type alone adds them with this.
rso_helpers_c := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))/rso_helpers.c
quiet_cmd_rso_helpers = GEN     $@
      cmd_rso_helpers = echo '\#include "$(rso_helpers_c)"' > $@

$(obj)/%_rso.c: $(rso_helpers_c)
	$(call cmd,rso_helpers)

define rso_helpers
$(1)-y += $(1)_rso.o
endef

# $(call rso_module,<module>): <module>.ko as modules.list describes it.
rso_list := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/../modules.list)
rso_fields = $(shell awk -v m=$(1) '$$1 == m { print $$3, $$4 }' $(rso_list))
define rso_module
$(if $(call rso_fields,$(1)),,$(error rust-struct-ops: $(1) is not in $(rso_list)))
obj-m += $(1).o
$(1)-y += $(1)_main.o $(firstword $(call rso_fields,$(1)))_gen.o
$(call rso_helpers,$(1))
$(call rso_type,$(firstword $(call rso_fields,$(1))),$(1)_main,$(subst $(space),|,$(call rso_fields,$(1))))
endef

# rustdoc of a module crate, and so of the layer it includes (make doc):
# the flags of the module build, with private items, since the layer is a
# private module of each crate. A Kbuild lists the crate with
#   always-$(RSO_DOC) += <crate root>.rsdoc
quiet_cmd_rso_rustdoc = RUSTDOC $<
      cmd_rso_rustdoc = \
	OBJTREE=$(abspath $(objtree)) RUST_MODFILE=$(modfile) \
	$(RUSTDOC) $(filter-out --emit=% --remap-path-scope=%,$(rust_flags)) \
		-Zallow-features=$(rust_allowed_features) -Zcrate-attr=no_std \
		-Zcrate-attr='feature($(rust_allowed_features))' \
		-Zunstable-options --extern pin_init --extern kernel \
		--extern zerocopy --extern zerocopy_derive \
		-L $(objtree)/rust --sysroot=/dev/null --crate-type rlib \
		--document-private-items \
		$(if $(call rustc-min-version,108800),-Cunsafe-allow-abi-mismatch=fixed-x18) \
		--output $(obj)/doc $< && touch $@

$(obj)/%.rsdoc: private part-of-module := y
$(obj)/%.rsdoc: $(src)/%.rs FORCE
	$(call if_changed,rso_rustdoc)
