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
