/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What fuse_ops programs use to read a LOOKUP's name: a per-CPU buffer
 * (dynptrs are made over map values, not the stack) that
 * bpf_rso_fuse_name() fills with the name's first 16 bytes, and a
 * comparison. Include it after vmlinux.h and bpf_helpers.h.
 */
#ifndef RSO_FUSE_NAME_H
#define RSO_FUSE_NAME_H

struct name {
	char s[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct name);
} scratch SEC(".maps");

/* Whether the first n bytes of name are want's (no memcmp: BPF has none). */
static bool name_is(const char *name, const char *want, int n)
{
	for (int i = 0; i < n; i++)
		if (name[i] != want[i])
			return false;
	return true;
}

#endif /* RSO_FUSE_NAME_H */
