# SPDX-License-Identifier: GPL-2.0
#
# Generate the Rust view of a struct_ops type's C header, with the kernel's
# own bindgen setup, as part of the Kbuild build. Include this file from a
# module's Kbuild, then for a header <name>.h beside it:
#
#   rso_bindgen_allow_<name> := <regex of the types, enums, constants to generate>
#   $(obj)/<crate root>.o: $(obj)/<name>_generated.rs
#   targets += <name>_generated.rs
#
# and pull the file into the crate with `ops_header!` (rust/struct_ops.rs).
# The file is regenerated whenever the header (or anything it includes, via
# the depfile) or the command changes, so the Rust view cannot go stale; the
# layout assertions bindgen emits are compiled in.
#
# Kernel types the header names (task_struct, __u32, ...) are not generated
# again (--no-recursive-allowlist): they resolve to kernel::bindings.

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

quiet_cmd_rso_bindgen = BINDGEN $@
      cmd_rso_bindgen = \
	$(BINDGEN) $< --rust-target 1.85 --use-core --with-derive-default \
		--ctypes-prefix kernel::ffi --no-debug '.*' --no-prepend-enum-name \
		--no-recursive-allowlist \
		--allowlist-item '$(rso_bindgen_allow_$(basename $(notdir $<)))' \
		-o $@ -- $(rso_bindgen_c_flags)

$(obj)/%_generated.rs: $(src)/%.h FORCE
	$(call if_changed_dep,rso_bindgen)

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
