/* SPDX-License-Identifier: GPL-2.0 */
/* The kfuncs of fuse_ops programs (samples/fuse/fuse_ops.h). */
#ifndef FUSE_KFUNCS_H
#define FUSE_KFUNCS_H

extern int bpf_rso_fuse_name(const struct rso_fuse_req *req,
			     const struct bpf_dynptr *dst) __ksym;
extern int bpf_rso_fuse_data(const struct rso_fuse_req *req,
			     const struct bpf_dynptr *dst) __ksym;
extern int bpf_rso_fuse_set_data(const struct rso_fuse_req *req,
				 const struct bpf_dynptr *src) __ksym;

#endif
