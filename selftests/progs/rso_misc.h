/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tags for BPF programs the verifier must refuse, read by the runner
 * (selftests/runner/src/tests/verifier.rs) from the object's BTF, as
 * tools/testing/selftests/bpf/progs/bpf_misc.h's are by test_loader.c:
 *
 *	SEC("struct_ops/add")
 *	__failure __msg("attach to unsupported member add")
 *	int BPF_PROG(test_name, int a, int b)
 *
 * Each __failure function is one test point named after the function:
 * loading its object must fail, with every __msg in the verifier log.
 */
#ifndef RSO_MISC_H
#define RSO_MISC_H

#define __failure	__attribute__((btf_decl_tag("comment:test_expect_failure")))
#define __msg(msg)	__attribute__((btf_decl_tag("comment:test_expect_msg=" msg)))

#endif
