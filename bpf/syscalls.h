/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Structures shared by syscalls.bpf.c and the daemon: nothing else. */
#ifndef TRACECTL_BPF_SYSCALLS_H
#define TRACECTL_BPF_SYSCALLS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TASK_COMM_LEN 16
/* hist[k] counts calls that took [2^k, 2^(k+1)) ns; the last slot also
 * holds everything longer. 2^39 ns is about 9 minutes. */
#define SYSCALL_HIST_SLOTS 40
/* Rows of sessions without per-process split are indexed by syscall number:
 * native calls at nr, 32-bit (ia32, compat) calls at COMPAT_ROW_BASE + nr. */
#define MAX_SYSCALL_NR 1024
#define COMPAT_ROW_BASE 512
/* stats_by_nr holds one block of MAX_SYSCALL_NR rows per generation. */
/* In syscall_key.nr and errno_key.nr: the call used the 32-bit ABI. */
#define COMPAT_SYSCALL_BIT 0x80000000U

/*
 * Rows come in two generations. sys_exit adds each call to the rows of the
 * generation named by `generation` (.bss); the daemon reads a snapshot by
 * switching to the other generation, waiting until no sys_exit on any CPU is
 * still inside the old one (exit_busy), and then reading and clearing the
 * old rows at rest: every row of a snapshot is of one moment. COUNT_STOPPED
 * counts nothing, for the final read.
 */
#define COUNT_GENERATIONS 2
#define COUNT_STOPPED 2
/* Counters of sys_exit programs inside a generation, one cache line each;
 * CPU n uses slot n % EXIT_BUSY_SLOTS (sharing a slot is correct, only
 * slower). */
#define EXIT_BUSY_SLOTS 256

struct exit_busy_slot {
	__u64 count;
	__u64 pad[7];
};

/* tgid is 0 unless the session splits rows per process. */
struct syscall_key {
	__u32 tgid;
	__u32 nr;
	__u32 generation;
	__u32 pad;
};

/* total_ns, max_ns and hist measure on-CPU time in the call, or wall time
 * when the session asks for it (wall_time). */
struct syscall_stats {
	__u64 calls;
	__u64 errors;
	__u64 total_ns;
	__u64 max_ns;
	__u64 hist[SYSCALL_HIST_SLOTS];
	char comm[TASK_COMM_LEN];
};

struct errno_key {
	__u32 tgid;
	__u32 nr;
	__u32 err; /* positive errno */
	__u32 generation;
};

/* Indexes of the per-CPU drop counters. */
enum syscall_drop {
	DROP_STATS_MAP_FULL,   /* a (process, syscall) row could not be added */
	DROP_ERRNO_MAP_FULL,   /* an errno count could not be added */
	DROP_PID_MAP_FULL,     /* a followed child could not be added */
	DROP_START_STORAGE,    /* no per-task storage for an entry time */
	DROP_SYSCALL_NR_RANGE, /* a syscall number without an array row */
	DROP_REASON_COUNT,
};

#endif /* TRACECTL_BPF_SYSCALLS_H */
