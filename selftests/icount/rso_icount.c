// SPDX-License-Identifier: GPL-2.0
/*
 * rso_icount: a QEMU TCG plugin that counts the guest's instructions between
 * two marker instructions, for make bench and bench_smoke's guard.
 *
 * The markers are multi-byte NOPs with a magic displacement, harmless on any
 * x86-64 CPU:
 *
 *	nopl 0x2b4f5352(%rax)	0f 1f 80 52 53 4f 2b	"RSO+": arm
 *	nopl 0x5b4f5352(%rax)	0f 1f 80 52 53 4f 5b	"RSO[": start
 *	nopl 0x5d4f5352(%rax)	0f 1f 80 52 53 4f 5d	"RSO]": stop
 *	nopl 0x2d4f5352(%rax)	0f 1f 80 52 53 4f 2d	"RSO-": disarm
 *
 * While armed, every translated block adds its number of instructions to
 * the counter of the vCPU that runs it, by a helper call at its start. A
 * count is then the measuring vCPU's own (the guest pins the measuring
 * thread to one CPU): the other vCPU's instructions are not in it, and two
 * vCPUs never race on one counter.
 *
 * Counting costs: a KASAN boot took 110 s with the helper call, 95 s with an
 * inline add into one counter shared by the vCPUs (which then polluted
 * every other sample with the other vCPU's work, or lost updates), and 53 s
 * without either. So the plugin starts disarmed, and only the guest's
 * measurements pay: arming and disarming flush the translated code
 * (qemu_plugin_reset), and the blocks translated after that count or do
 * not. The flush takes effect a little later, when every vCPU has left its
 * block; the plugin then writes "armed" or "disarmed" into the file, which
 * the guest waits for.
 *
 * The count is exact for a given path: a block counts all its instructions
 * when it starts, so a count runs from the end of the start marker's block
 * to the end of the stop marker's. It also holds the interrupts that landed
 * on the vCPU in between: the guest takes the least of a few samples, which
 * none touched.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define MAX_VCPUS	64
#define MARK_LEN	7

static const unsigned char mark_arm[MARK_LEN] = { 0x0f, 0x1f, 0x80, 'R', 'S', 'O', '+' };
static const unsigned char mark_start[MARK_LEN] = { 0x0f, 0x1f, 0x80, 'R', 'S', 'O', '[' };
static const unsigned char mark_stop[MARK_LEN] = { 0x0f, 0x1f, 0x80, 'R', 'S', 'O', ']' };
static const unsigned char mark_disarm[MARK_LEN] = { 0x0f, 0x1f, 0x80, 'R', 'S', 'O', '-' };

static qemu_plugin_id_t self;
static bool armed;
/* Per vCPU, a cache line each: the instructions run, and at the start marker. */
static struct {
	uint64_t insns;
	uint64_t started;
} __attribute__((aligned(64))) cpu[MAX_VCPUS];
static int out_fd = -1;

/* Writes one line, of the same length as every other, at the file's start. */
static void put(const char *line)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%-20s\n", line);

	if (pwrite(out_fd, buf, len, 0) != len)
		qemu_plugin_outs("rso_icount: cannot write the count\n");
}

static void on_start(unsigned int vcpu, void *udata)
{
	cpu[vcpu % MAX_VCPUS].started = cpu[vcpu % MAX_VCPUS].insns;
}

static void on_stop(unsigned int vcpu, void *udata)
{
	uint64_t n = cpu[vcpu % MAX_VCPUS].insns - cpu[vcpu % MAX_VCPUS].started;
	char buf[32];

	snprintf(buf, sizeof(buf), "%020" PRIu64, n);
	put(buf);
}

static void on_block(unsigned int vcpu, void *udata)
{
	cpu[vcpu % MAX_VCPUS].insns += (uintptr_t)udata;
}

static void on_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);

/* The reset is done: no block is left, and the next ones count or not. */
static void on_reset(qemu_plugin_id_t id)
{
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_trans);
	put(__atomic_load_n(&armed, __ATOMIC_SEQ_CST) ? "armed" : "disarmed");
}

/* Arms (udata non-NULL) or disarms the counter, if it is not so already. */
static void on_arm(unsigned int vcpu, void *udata)
{
	bool arm = udata != NULL;

	if (__atomic_exchange_n(&armed, arm, __ATOMIC_SEQ_CST) != arm)
		qemu_plugin_reset(self, on_reset);
}

static void on_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);

	if (__atomic_load_n(&armed, __ATOMIC_RELAXED))
		qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, QEMU_PLUGIN_CB_NO_REGS,
						     (void *)(uintptr_t)n);
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		const void *data = qemu_plugin_insn_data(insn);

		if (qemu_plugin_insn_size(insn) != MARK_LEN)
			continue;
		if (!memcmp(data, mark_arm, MARK_LEN))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_arm,
							       QEMU_PLUGIN_CB_NO_REGS, &armed);
		else if (!memcmp(data, mark_disarm, MARK_LEN))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_arm,
							       QEMU_PLUGIN_CB_NO_REGS, NULL);
		else if (!memcmp(data, mark_start, MARK_LEN))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_start,
							       QEMU_PLUGIN_CB_NO_REGS, NULL);
		else if (!memcmp(data, mark_stop, MARK_LEN))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_stop,
							       QEMU_PLUGIN_CB_NO_REGS, NULL);
	}
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
					   int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4))
			out_fd = open(argv[i] + 4, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	}
	if (out_fd < 0) {
		fprintf(stderr, "rso_icount: needs out=PATH, a file it can write\n");
		return -1;
	}
	self = id;
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_trans);
	return 0;
}
