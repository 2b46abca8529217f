// SPDX-License-Identifier: GPL-2.0
/*
 * The kfuncs of fuse_ops programs. Kfuncs need BTF, which Rust code does not
 * get, so each is declared here and forwards to its body in Rust
 * (rso_fuse_main.rs). See fuse_ops.h for what they do.
 */
#include "../../rust/rso.h"
#include "fuse_ops.h"

int rso_fuse_kf_name(const struct rso_fuse_req *req, const struct bpf_dynptr *dst);
int rso_fuse_kf_data(const struct rso_fuse_req *req, const struct bpf_dynptr *dst);
int rso_fuse_kf_set_data(const struct rso_fuse_req *req, const struct bpf_dynptr *src);

__bpf_kfunc_start_defs();

__bpf_kfunc int bpf_rso_fuse_name(const struct rso_fuse_req *req, const struct bpf_dynptr *dst)
{
	return rso_fuse_kf_name(req, dst);
}

__bpf_kfunc int bpf_rso_fuse_data(const struct rso_fuse_req *req, const struct bpf_dynptr *dst)
{
	return rso_fuse_kf_data(req, dst);
}

__bpf_kfunc int bpf_rso_fuse_set_data(const struct rso_fuse_req *req,
				      const struct bpf_dynptr *src)
{
	return rso_fuse_kf_set_data(req, src);
}

__bpf_kfunc_end_defs();

RSO_KFUNCS(fuse,
	BTF_ID_FLAGS(func, bpf_rso_fuse_name)
	BTF_ID_FLAGS(func, bpf_rso_fuse_data)
	BTF_ID_FLAGS(func, bpf_rso_fuse_set_data));
