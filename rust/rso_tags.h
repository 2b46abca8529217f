/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-op annotations for a struct_ops type's header, read by the generator
 * (rust/rsogen.py). To every other compiler they are empty.
 *
 *	struct foo_ops {
 *		int (*lookup)(struct task_struct *task__nullable);
 *		int (*fill)(int x) __rso_sleepable;
 *		int (*later)(int x) __rso_unsupported;
 *		__u32 flags;
 *	};
 *
 * __rso_sleepable:   sleepable programs (SEC("struct_ops.s/...")) may
 *                    implement the op; the Rust caller must be able to sleep.
 *                    Without it, the layer refuses sleepable programs.
 * __rso_unsupported: the op gets no stub, so the verifier refuses programs
 *                    for it.
 *
 * Argument tags go in the parameter names, as the BPF core reads them from
 * the stubs: task__nullable (may be NULL), task__ref (a reference the
 * program must release).
 *
 * __rso_kfunc on a function prototype of the header declares a kfunc of the
 * type's programs, whose C forwarder, registration and Rust trait the
 * generator writes (docs/generator.md):
 *
 *	int bpf_foo_name(const struct foo_req *req, const struct bpf_dynptr *dst)
 *		__rso_kfunc;
 *
 * To BPF programs (clang -target bpf defines __bpf__) it is __ksym, so they
 * call the kfunc from the same prototype; include <bpf/bpf_helpers.h>, which
 * defines __ksym, before the header.
 */
#ifndef RSO_TAGS_H
#define RSO_TAGS_H

#ifdef __RSO_GEN__
#define __rso_sleepable __attribute__((annotate("rso_sleepable")))
#define __rso_unsupported __attribute__((annotate("rso_unsupported")))
#define __rso_kfunc __attribute__((annotate("rso_kfunc")))
#else
#define __rso_sleepable
#define __rso_unsupported
#ifdef __bpf__
#define __rso_kfunc __ksym
#else
#define __rso_kfunc
#endif
#endif

#endif /* RSO_TAGS_H */
