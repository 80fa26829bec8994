/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One CPU sample, as bpf/profile.bpf.c writes it to the ring buffer and
 * tracectld reads it: the task, its kernel stack (addresses), its user
 * registers and a copy of the top of its user stack, which the daemon
 * unwinds with DWARF CFI.
 */
#ifndef TRACECTL_BPF_PROFILE_H
#define TRACECTL_BPF_PROFILE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "python_frames.h"

#define PROFILE_KSTACK_DEPTH 127
/* User stack copied in whole pages from the one holding the stack pointer
 * up: at least 16 KiB above the stack pointer, when mapped. */
#define PROFILE_PAGE_SIZE 4096
#define PROFILE_USTACK_PAGES 5
#define PROFILE_USTACK_BYTES (PROFILE_USTACK_PAGES * PROFILE_PAGE_SIZE)
/* x86-64 DWARF registers 0-16: rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip. */
#define PROFILE_USER_REGS 17

/* sample flags */
#define SAMPLE_USER_REGS 0x1  /* user_regs hold the task's user registers */
#define SAMPLE_IN_KERNEL 0x2  /* the timer interrupted kernel code */

enum profile_drop_reason {
	PROFILE_DROP_RING_FULL,
	PROFILE_DROP_USTACK_UNREADABLE,
	PROFILE_DROP_KSTACK_FAILED,
	PROFILE_DROP_PID_MAP_FULL,
	PROFILE_DROP_REASON_COUNT,
};

struct profile_sample {
	__u32 tgid;
	__u32 tid;
	__u64 time_ns;
	__u32 cpu;
	__u32 flags;
	char comm[16];
	/* Which address space: changes at exec. Never leaves the daemon. */
	__u64 mm_id;
	/* Bytes of kstack that hold addresses, leaf first. */
	__u32 kstack_bytes;
	/* Bytes of ustack copied, from ustack_addr: the start of the page that
	 * holds user_regs[7] (rsp). */
	__u32 ustack_bytes;
	__u64 ustack_addr;
	__u64 user_regs[PROFILE_USER_REGS];
	__u64 kstack[PROFILE_KSTACK_DEPTH];
	/* The thread's Python frames when it runs a known interpreter. */
	struct python_stack python;
	__u8 ustack[PROFILE_USTACK_BYTES];
};

#endif /* TRACECTL_BPF_PROFILE_H */
