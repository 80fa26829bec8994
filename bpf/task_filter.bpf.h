/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which tasks a session traces, shared by every program that filters
 * tasks: rodata settings (0 = off), the set of followed processes, and the
 * fork/exit programs that keep that set current.
 *
 * The includer defines count_drop(reason) and TASK_FILTER_DROP_PID_MAP_FULL
 * first. The loader sets the rodata and fills tracked_tgids through
 * daemon/bpf/bpf_task_filter.h.
 */
#ifndef TRACECTL_BPF_TASK_FILTER_BPF_H
#define TRACECTL_BPF_TASK_FILTER_BPF_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define MAX_TRACKED_PROCESSES 8192
#define MMF_DUMPABLE_MASK 3UL
#define SUID_DUMP_USER 1UL

/* tracectld itself, and the client that asked: neither is traced. */
const volatile __u32 self_tgid = 0;
const volatile __u32 caller_tgid = 0;
const volatile bool filter_pids = false;
/* The prefix as two little-endian words, and the mask of its bytes: a task
 * matches when (comm & mask) == prefix, word by word. Mask 0 = off. */
const volatile __u64 comm_prefix[2] = {};
const volatile __u64 comm_prefix_mask[2] = {};
const volatile bool filter_uid = false;
const volatile __u32 target_uid = 0;
/* Restrict to tasks owner_uid/owner_gid could ptrace: unprivileged callers. */
const volatile bool owner_only = false;
const volatile __u32 owner_uid = 0;
const volatile __u32 owner_gid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_TRACKED_PROCESSES);
	__type(key, __u32);
	__type(value, __u8);
} tracked_tgids SEC(".maps");

/* Whether the caller owns user namespace `ns` or one of its ancestors below
 * the initial one: as the kernel's ns_capable() sees a caller of the
 * initial namespace, it then holds every capability in `ns` (the user that
 * ran `unshare -r` may ptrace what runs inside). */
static __always_inline bool owner_owns_namespace(struct user_namespace *ns)
{
	for (int i = 0; i < 33 && ns; i++) {
		int level = BPF_CORE_READ(ns, level);

		if (level <= 0)
			return false;
		if (level == 1)
			return BPF_CORE_READ(ns, owner.val) == owner_uid;
		ns = BPF_CORE_READ(ns, parent);
	}
	return false;
}

/* The kernel's ptrace rule for a caller without capabilities: same real,
 * effective and saved uid and gid and no permitted capabilities, or a user
 * namespace the caller owns; and a dumpable mm, or one of a namespace the
 * caller owns. */
static __always_inline bool ptraceable_by_owner(struct task_struct *task)
{
	const struct cred *cred = BPF_CORE_READ(task, real_cred);
	struct mm_struct *mm;
	unsigned long mm_flags = 0;
	__u64 caps = ~0ULL;

	/* kernel_cap_t is one u64 since 6.3, two u32 before: 8 bytes either way. */
	bpf_core_read(&caps, sizeof(caps), &cred->cap_permitted);
	if ((caps || BPF_CORE_READ(cred, uid.val) != owner_uid ||
	     BPF_CORE_READ(cred, euid.val) != owner_uid ||
	     BPF_CORE_READ(cred, suid.val) != owner_uid ||
	     BPF_CORE_READ(cred, gid.val) != owner_gid ||
	     BPF_CORE_READ(cred, egid.val) != owner_gid ||
	     BPF_CORE_READ(cred, sgid.val) != owner_gid) &&
	    !owner_owns_namespace(BPF_CORE_READ(cred, user_ns)))
		return false;
	mm = BPF_CORE_READ(task, mm);
	if (!mm)
		return false;
	/* mm->flags is an unsigned long, or since 6.18 a one-word bitmap. */
	bpf_core_read(&mm_flags, sizeof(mm_flags), &mm->flags);
	return (mm_flags & MMF_DUMPABLE_MASK) == SUID_DUMP_USER ||
	       owner_owns_namespace(BPF_CORE_READ(mm, user_ns));
}

/* The task's comm as two words, read straight from the BTF-typed task: no
 * helper call on the hot path. */
static __always_inline void read_comm(struct task_struct *task, __u64 comm[2])
{
	comm[0] = *(__u64 *)&task->comm[0];
	comm[1] = *(__u64 *)&task->comm[8];
}

static __always_inline bool comm_matches(struct task_struct *task)
{
	__u64 comm[2];

	read_comm(task, comm);
	return (comm[0] & comm_prefix_mask[0]) == comm_prefix[0] &&
	       (comm[1] & comm_prefix_mask[1]) == comm_prefix[1];
}

/* Whether the session traces `task`, of process `tgid`. Cheapest tests
 * first. */
static __always_inline bool task_selected(struct task_struct *task, __u32 tgid)
{
	if (tgid == self_tgid || tgid == caller_tgid)
		return false;
	if (filter_pids && !bpf_map_lookup_elem(&tracked_tgids, &tgid))
		return false;
	if (comm_prefix_mask[0] && !comm_matches(task))
		return false;
	if (filter_uid && (__u32)bpf_get_current_uid_gid() != target_uid)
		return false;
	if (owner_only && !ptraceable_by_owner(task))
		return false;
	return true;
}

/* Loaded only when the session follows children. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(follow_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 parent_tgid = BPF_CORE_READ(parent, tgid);
	__u32 child_tgid = BPF_CORE_READ(child, tgid);
	static const __u8 one = 1;

	if (parent_tgid == child_tgid ||
	    !bpf_map_lookup_elem(&tracked_tgids, &parent_tgid))
		return 0;
	if (bpf_map_update_elem(&tracked_tgids, &child_tgid, &one, BPF_ANY))
		count_drop(TASK_FILTER_DROP_PID_MAP_FULL);
	return 0;
}

/* Loaded only when the session has a pid set: pids are not reused in it. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(forget_exited, struct task_struct *task)
{
	__u32 tgid;

	/* Only when the last thread of the process goes. */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	tgid = BPF_CORE_READ(task, tgid);
	bpf_map_delete_elem(&tracked_tgids, &tgid);
	return 0;
}

#endif /* TRACECTL_BPF_TASK_FILTER_BPF_H */
