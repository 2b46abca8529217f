/* SPDX-License-Identifier: GPL-2.0 */
/*
 * filter_ops: the struct_ops type of the rso_filter sample, a policy hook in
 * the style of fuse-bpf: the kernel asks BPF for a verdict on a key.
 *
 * The one definition of the type, shared by the module's C and Rust parts,
 * the BPF programs and the selftest runner.
 */
#ifndef RSO_FILTER_OPS_H
#define RSO_FILTER_OPS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#include <linux/ioctl.h>
#endif

struct filter_ops {
	/* Mandatory (validate() refuses a value without it): the verdict on key. */
	int (*decide)(__u64 key);
	/* Optional: told the verdict decide() gave. */
	void (*audit)(__u64 key, int verdict);
};

/*
 * /dev/rso_filter: RSO_FILTER_IOC_DECIDE asks the attached instance for a
 * verdict. Its argument is an array of RSO_FILTER_NR_FIELDS __s64.
 */
enum rso_filter_field {
	RSO_FILTER_F_KEY,	/* in */
	RSO_FILTER_F_VERDICT,	/* out: decide(key) */
	RSO_FILTER_F_ID,	/* out: the map id of the instance asked */
	RSO_FILTER_F_AUDITED,	/* out: 1 if the instance implements audit */
	RSO_FILTER_NR_FIELDS,
};

#define RSO_FILTER_IOC_MAGIC 'f'
#define RSO_FILTER_IOC_NR 1

#endif /* RSO_FILTER_OPS_H */
