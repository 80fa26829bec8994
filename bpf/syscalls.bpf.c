// SPDX-License-Identifier: GPL-2.0
/*
 * System call counts, errors and time, aggregated per CPU in the kernel.
 *
 * sys_enter decides whether the task is selected and stores the entry time
 * in task-local storage; sys_exit, for tasks that have an entry time, adds
 * the call to its (process, syscall) row of the current generation (see
 * syscalls.h). The time of a call is its on-CPU time: wall time less the
 * time the task spent switched out (sched_switch), as strace -c's system
 * time; wall time when wall_time is set (then sched_switch is not loaded).
 * With count_only, one program alone (sys_exit_count) counts calls and
 * errors at exit, selecting the task there and taking the number from its
 * saved registers: no time, no entry hook, no task storage.
 * Filters are rodata, 0 = off.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "syscalls.h"

#define MAX_ERRNO 4095
#define TS_COMPAT 0x0002 /* x86: this system call uses the 32-bit ABI */

const volatile bool per_process = false;
const volatile bool wall_time = false;
const volatile bool count_only = false;

/* Written by the daemon through the mmap'ed .bss: see syscalls.h. Each on
 * cache lines of its own: every sys_exit reads the one and writes its slot
 * of the other. */
volatile __u32 generation __attribute__((aligned(64)));
struct exit_busy_slot exit_busy[EXIT_BUSY_SLOTS] __attribute__((aligned(64)));

struct syscall_start {
	__u64 ts;	  /* entry time; 0 when not in a counted call */
	__u64 off_cpu_ns; /* switched out since entry */
	__u64 off_since;  /* switched out at; 0 while running */
	__u32 nr;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct syscall_start);
} starts SEC(".maps");

/* Rows by syscall number, when rows are not split per process. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNT_GENERATIONS * MAX_SYSCALL_NR);
	__type(key, __u32);
	__type(value, struct syscall_stats);
} stats_by_nr SEC(".maps");

/* Rows by (process, syscall number), when split per process. The loader
 * sets max_entries, and shrinks whichever of the two maps is unused. Rows
 * are allocated as they come: most sessions fill a small part. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, struct syscall_key);
	__type(value, struct syscall_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct errno_key);
	__type(value, __u64);
} errnos SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DROP_REASON_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

static struct syscall_stats zero_stats;

static __always_inline void count_drop(__u32 reason)
{
	__u64 *count = bpf_map_lookup_elem(&drops, &reason);

	if (count)
		(*count)++;
}

#define TASK_FILTER_DROP_PID_MAP_FULL DROP_PID_MAP_FULL
#include "task_filter.bpf.h"

#include "log2.bpf.h"

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct syscall_start *start;

	if (!task_selected(task, bpf_get_current_pid_tgid() >> 32))
		return 0;
	start = bpf_task_storage_get(&starts, task, 0,
				     BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!start) {
		count_drop(DROP_START_STORAGE);
		return 0;
	}
	start->nr = id;
	/* A 32-bit program, or int 0x80: the number is from the ia32 table. */
	if (bpf_core_field_exists(task->thread_info.status) &&
	    (task->thread_info.status & TS_COMPAT))
		start->nr |= COMPAT_SYSCALL_BIT;
	start->off_cpu_ns = 0;
	start->off_since = 0;
	start->ts = bpf_ktime_get_ns();
	return 0;
}

/* On-CPU time: a task in a counted call that is switched out stops its
 * call's clock until it runs again. */
SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	struct syscall_start *start;
	__u64 now = bpf_ktime_get_ns();

	start = bpf_task_storage_get(&starts, prev, 0, 0);
	if (start && start->ts)
		start->off_since = now;
	start = bpf_task_storage_get(&starts, next, 0, 0);
	if (start && start->off_since) {
		start->off_cpu_ns += now - start->off_since;
		start->off_since = 0;
	}
	return 0;
}

static __always_inline void count_errno(const struct syscall_key *key,
					__u32 err)
{
	struct errno_key ekey = { .tgid = key->tgid, .nr = key->nr, .err = err,
				  .generation = key->generation };
	static const __u64 one = 1;
	__u64 *count;

	count = bpf_map_lookup_elem(&errnos, &ekey);
	if (count) {
		(*count)++;
		return;
	}
	if (bpf_map_update_elem(&errnos, &ekey, &one, BPF_NOEXIST)) {
		count = bpf_map_lookup_elem(&errnos, &ekey);
		if (count)
			(*count)++;
		else
			count_drop(DROP_ERRNO_MAP_FULL);
	}
}

/* Adds one call to its row of generation `gen`. */
static __always_inline void count_call(struct task_struct *task, __u32 gen,
				       __u32 nr, __u64 delta, long ret)
{
	struct syscall_stats *st;
	struct syscall_key key = {};
	__u32 slot;

	key.tgid = per_process ? bpf_get_current_pid_tgid() >> 32 : 0;
	key.nr = nr;
	key.generation = gen;
	if (!per_process) {
		__u32 row = key.nr & ~COMPAT_SYSCALL_BIT;

		if (row >= COMPAT_ROW_BASE) {
			count_drop(DROP_SYSCALL_NR_RANGE);
			return;
		}
		if (key.nr & COMPAT_SYSCALL_BIT)
			row += COMPAT_ROW_BASE;
		row += gen * MAX_SYSCALL_NR;
		st = bpf_map_lookup_elem(&stats_by_nr, &row);
		if (!st)
			return;
	} else if (!(st = bpf_map_lookup_elem(&stats, &key))) {
		/* EEXIST: another CPU added it first, which is fine. */
		bpf_map_update_elem(&stats, &key, &zero_stats, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&stats, &key);
		if (!st) {
			count_drop(DROP_STATS_MAP_FULL);
			return;
		}
	}
	/* Rows are per process: name them after the process, not the thread. */
	if (per_process)
		read_comm(task->group_leader, (__u64 *)st->comm);
	st->calls++;
	if (!count_only) {
		st->total_ns += delta;
		if (delta > st->max_ns)
			st->max_ns = delta;
		slot = log2_u64(delta);
		if (slot >= SYSCALL_HIST_SLOTS)
			slot = SYSCALL_HIST_SLOTS - 1;
		st->hist[slot]++;
	}
	if (ret < 0 && ret >= -MAX_ERRNO) {
		st->errors++;
		count_errno(&key, -ret);
	}
}

/* Adds one call to the rows of the current generation. */
static __always_inline void count_in_generation(struct task_struct *task,
						__u32 nr, __u64 delta,
						long ret)
{
	__u64 *busy;
	__u32 gen;

	/*
	 * Announce this CPU inside a generation before reading which one: the
	 * atomic add orders the two, so the daemon, which switches generations
	 * and then waits for every slot to read 0, never reads a generation
	 * that a program is still adding to. This relies on x86, where the
	 * JIT makes the add a locked instruction and so a full barrier; the
	 * BPF memory model alone makes a non-fetching add relaxed.
	 */
	busy = &exit_busy[bpf_get_smp_processor_id() % EXIT_BUSY_SLOTS].count;
	__sync_fetch_and_add(busy, 1);
	gen = generation;
	if (gen < COUNT_GENERATIONS)
		count_call(task, gen, nr, delta, ret);
	__sync_fetch_and_add(busy, -1);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct syscall_start *start;
	__u64 now, delta;

	start = bpf_task_storage_get(&starts, task, 0, 0);
	if (!start || !start->ts)
		return 0;
	now = bpf_ktime_get_ns();
	delta = now - start->ts;
	start->ts = 0;
	if (!wall_time) {
		/* Running now: a switch-in that was not seen ended at the
		 * latest now. */
		if (start->off_since)
			start->off_cpu_ns += now - start->off_since;
		delta = delta > start->off_cpu_ns ? delta - start->off_cpu_ns : 0;
	}
	count_in_generation(task, start->nr, delta, ret);
	return 0;
}

/* Loaded instead of the three programs above with count_only. */
SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit_count, struct pt_regs *regs, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 nr;

	if (!task_selected(task, bpf_get_current_pid_tgid() >> 32))
		return 0;
	/* The number the task entered with (the tracepoint's own id). */
	nr = BPF_CORE_READ(regs, orig_ax);
	/* Still set at exit: the kernel clears it on the way back to user
	 * space. */
	if (bpf_core_field_exists(task->thread_info.status) &&
	    (task->thread_info.status & TS_COMPAT))
		nr |= COMPAT_SYSCALL_BIT;
	count_in_generation(task, nr, 0, ret);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
