// SPDX-License-Identifier: GPL-2.0
/*
 * shadow_vars_c_skeleton: through the shadow type of a bpftool-generated
 * skeleton, set hello_shadow's magic and swap its add op to shadow_mul
 * before load, attach, and ask rso_hello to call add(6, 7). Prints what the
 * module saw, "ret=<add(6, 7)> magic=<magic>"; the runner checks the values.
 *
 * Usage: shadow_skel MAGIC
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hello_ops.h"
#include "hello_shadow.skel.h"

int main(int argc, char **argv)
{
	struct rso_hello_call c = {};
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct hello_shadow_bpf *skel;
	struct bpf_link *link;
	int fd, err = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s MAGIC\n", argv[0]);
		return 2;
	}
	skel = hello_shadow_bpf__open();
	if (!skel) {
		perror("open");
		return 1;
	}
	skel->struct_ops.hello_shadow->magic = strtoul(argv[1], NULL, 0);
	skel->struct_ops.hello_shadow->add = skel->progs.shadow_mul;
	if (hello_shadow_bpf__load(skel)) {
		perror("load");
		goto out;
	}
	link = bpf_map__attach_struct_ops(skel->maps.hello_shadow);
	if (!link) {
		perror("attach");
		goto out;
	}
	if (bpf_map_get_info_by_fd(bpf_map__fd(skel->maps.hello_shadow), &info, &len)) {
		perror("map info");
		goto out_link;
	}
	fd = open("/dev/rso_hello", O_RDWR);
	if (fd < 0) {
		perror("/dev/rso_hello");
		goto out_link;
	}
	c.hdr.map_id = info.id;
	c.hdr.op = RSO_HELLO_OP_ADD;
	c.a = 6;
	c.b = 7;
	if (ioctl(fd, RSO_IOC_CALL(struct rso_hello_call), &c)) {
		perror("RSO_IOC_CALL");
	} else {
		printf("ret=%lld magic=%lld\n", (long long)c.hdr.ret,
		       (long long)c.magic);
		err = 0;
	}
	close(fd);
out_link:
	bpf_link__destroy(link);
out:
	hello_shadow_bpf__destroy(skel);
	return err;
}
