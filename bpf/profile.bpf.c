// SPDX-License-Identifier: GPL-2.0
/*
 * CPU sampling: a perf_event program, run by a timer event on every CPU,
 * records the running task's kernel stack, user registers and the top of
 * its user stack. Binaries without frame pointers cannot be walked here;
 * tracectld unwinds the copied stack with the binaries' DWARF CFI, as
 * `perf record --call-graph dwarf` does.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "profile.h"
#include "python_frames.bpf.h"
#include "user_stack.bpf.h"

const volatile bool user_stacks = true;
const volatile bool kernel_stacks = false;
/* Wake the reader at once when this much is waiting. */
const volatile __u64 wakeup_bytes = 1 << 20;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} samples SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PROFILE_DROP_REASON_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Address spaces sampled before: the first sample of a process, and the
 * first after each exec, wakes the reader at once, so that it reads the
 * process's mappings while it lives. Keyed by process and mm: a freed
 * mm_struct's address comes back. */
struct sampled_space {
	__u64 mm;
	__u32 tgid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct sampled_space);
	__type(value, __u8);
} seen_mms SEC(".maps");

static __always_inline void count_drop(__u32 reason)
{
	__u64 *count = bpf_map_lookup_elem(&drops, &reason);

	if (count)
		(*count)++;
}

#define TASK_FILTER_DROP_PID_MAP_FULL PROFILE_DROP_PID_MAP_FULL
#include "task_filter.bpf.h"

SEC("perf_event")
int sample(struct bpf_perf_event_data *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	struct profile_sample *s;
	__u64 flags = BPF_RB_NO_WAKEUP;
	struct sampled_space space = {};
	static const __u8 one = 1;

	/* The idle task. */
	if (tgid == 0 || !task_selected(task, tgid))
		return 0;
	s = bpf_ringbuf_reserve(&samples, sizeof(*s), 0);
	if (!s) {
		count_drop(PROFILE_DROP_RING_FULL);
		return 0;
	}
	s->tgid = tgid;
	s->tid = (__u32)pid_tgid;
	s->time_ns = bpf_ktime_get_ns();
	s->cpu = bpf_get_smp_processor_id();
	s->flags = 0;
	read_comm(task, (__u64 *)s->comm);
	s->mm_id = (__u64)task->mm;
	s->kstack_bytes = 0;
	s->ustack_bytes = 0;
	/* x86-64: kernel text is in the upper half of the address space. */
	if ((long)ctx->regs.ip < 0)
		s->flags |= SAMPLE_IN_KERNEL;
	if (kernel_stacks && (s->flags & SAMPLE_IN_KERNEL)) {
		long n = bpf_get_stack(ctx, s->kstack, sizeof(s->kstack), 0);

		if (n >= 0)
			s->kstack_bytes = n;
		else
			count_drop(PROFILE_DROP_KSTACK_FAILED);
	}
	/* Kernel threads have no user side. */
	if (user_stacks && task->mm) {
		copy_user_regs(s, (struct pt_regs *)bpf_task_pt_regs(task));
		s->flags |= SAMPLE_USER_REGS;
		if (!copy_user_stack(s))
			count_drop(PROFILE_DROP_USTACK_UNREADABLE);
		read_python_stack(tgid, s->tid, s->mm_id, &s->python);
	} else {
		s->python.count = 0;
		s->python.status = PYTHON_STACK_NONE;
	}
	space.mm = s->mm_id;
	space.tgid = tgid;
	if (!bpf_map_lookup_elem(&seen_mms, &space)) {
		/*
		 * The daemon reads a new process's maps when it sees this
		 * sample. A sample inside execve already has the new mm but
		 * not yet the new program's mappings: wake the daemon again
		 * at the first sample in user space, while the process (it
		 * may live 0.1 s) can still be read.
		 */
		if (!(s->flags & SAMPLE_IN_KERNEL))
			bpf_map_update_elem(&seen_mms, &space, &one, BPF_ANY);
		flags = BPF_RB_FORCE_WAKEUP;
	} else if (bpf_ringbuf_query(&samples, BPF_RB_AVAIL_DATA) >=
		   wakeup_bytes) {
		flags = BPF_RB_FORCE_WAKEUP;
	}
	bpf_ringbuf_submit(s, flags);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
