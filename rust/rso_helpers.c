// SPDX-License-Identifier: GPL-2.0
/*
 * What the Rust layer (rust/struct_ops/) needs of kernel internals that
 * have no Rust binding (static inlines, macros, private fields), read
 * through the kernel's own headers rather than copied: linked into every
 * module of the project (rust/struct_ops.mk, <module>_rso.c).
 */
#include <linux/bpf.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/xarray.h>

/* ModuleInit: registration is allowed only while the module is coming. */
bool rso_module_is_coming(const struct module *mod);
bool rso_module_is_coming(const struct module *mod)
{
	return READ_ONCE(mod->state) == MODULE_STATE_COMING;
}

/*
 * Whether the caller may sleep, so may call a sleepable op: a program of a
 * sleepable op may fault and sleep. Without CONFIG_PREEMPT_COUNT a held
 * spinlock leaves no trace (preemptible() is 0), so the answer is no.
 */
bool rso_may_sleep(void);
bool rso_may_sleep(void)
{
	return preemptible() && !rcu_preempt_depth();
}

/* The registry's xarray calls that are static inlines. */
int rso_xa_reserve(struct xarray *xa, unsigned long index);
int rso_xa_reserve(struct xarray *xa, unsigned long index)
{
	return xa_reserve(xa, index, GFP_KERNEL);
}

void rso_xa_release(struct xarray *xa, unsigned long index);
void rso_xa_release(struct xarray *xa, unsigned long index)
{
	xa_release(xa, index);
}

void *rso_xa_mk_value(unsigned long v);
void *rso_xa_mk_value(unsigned long v)
{
	return xa_mk_value(v);
}

unsigned long rso_xa_to_value(const void *entry);
unsigned long rso_xa_to_value(const void *entry)
{
	return entry ? xa_to_value(entry) : 0;
}

/* The member a struct_ops program implements, by byte offset (is_valid_access). */
u32 rso_prog_member_off(const struct bpf_prog *prog);
u32 rso_prog_member_off(const struct bpf_prog *prog)
{
	return prog->aux->attach_st_ops_member_off;
}

static int rso_prog_btf_is(struct bpf_prog *prog, void *btf)
{
	return prog->aux->attach_btf == btf ? 0 : -EINVAL;
}

/*
 * Whether every program of the map value kdata was verified against btf,
 * the module's: the map update checks a program's attach_btf_id and member
 * index (bpf_struct_ops_map_update_elem()), not which BTF the id is of, so
 * a program verified against another module's type (or this module's
 * previous load) with the same type id would pass.
 */
int rso_progs_of_btf(const void *kdata, const struct btf *btf);
int rso_progs_of_btf(const void *kdata, const struct btf *btf)
{
	return bpf_struct_ops_for_each_prog(kdata, rso_prog_btf_is, (void *)btf);
}
