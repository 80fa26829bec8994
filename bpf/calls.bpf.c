// SPDX-License-Identifier: GPL-2.0
/*
 * Library calls counted per function in the kernel: one program attached
 * as a uprobe at every probed function, each attachment with a cookie that
 * is its row in `counts`. Only the tasks the session selects
 * (task_filter.bpf.h) are counted.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "calls.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_CALL_PROBES);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CALLS_DROP_REASON_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

static __always_inline void count_drop(__u32 reason)
{
	__u64 *count = bpf_map_lookup_elem(&drops, &reason);

	if (count)
		(*count)++;
}

#define TASK_FILTER_DROP_PID_MAP_FULL CALLS_DROP_PID_MAP_FULL
#include "task_filter.bpf.h"

SEC("uprobe")
int count_call(struct pt_regs *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 row = bpf_get_attach_cookie(ctx);
	__u64 *count;

	if (!task_selected(task, bpf_get_current_pid_tgid() >> 32))
		return 0;
	count = bpf_map_lookup_elem(&counts, &row);
	if (!count) {
		count_drop(CALLS_DROP_BAD_COOKIE);
		return 0;
	}
	(*count)++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
