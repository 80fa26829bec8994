/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Structures shared by syscall_events.bpf.c, tracectld and tracectl.
 *
 * One record per completed system call: a struct syscall_event, then
 * data_len bytes of captured user memory (paths, buffers, argv, sockaddrs),
 * which captures[] describe. tracectld forwards the records unchanged, back
 * to back, and tracectl decodes them: keep this layout stable, and change
 * TRACE_RECORD_VERSION when it changes. The ring buffer also holds side
 * records (user stacks for -k, below), which tracectld keeps to itself.
 */
#ifndef TRACECTL_BPF_SYSCALL_EVENTS_H
#define TRACECTL_BPF_SYSCALL_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "profile.h"

#define TRACE_RECORD_VERSION 2

#define EVENT_COMM_LEN 16
#define EVENT_ARGS 6
#define EVENT_MAX_CAPTURES 4
/* One capture holds at most this many bytes: PATH_MAX, with its NUL. */
#define CAPTURE_MAX 4096
/* Captures of one call together hold at most EVENT_DATA_SIZE bytes. */
#define EVENT_DATA_SIZE 8192
/* Native syscall numbers below this have a spec; the others are raw. */
#define MAX_TRACE_NR 512
/* In syscall_event.nr: the call used the 32-bit ABI (no captures then). */
#define EVENT_COMPAT_BIT 0x80000000U
/* argv captures keep at most this many strings. */
#define ARGV_MAX_STRINGS 32
/* Array counts (execve's envp) stop here, flagged CAPTURE_TRUNCATED. */
#define ARRAY_COUNT_MAX 4096
/* Sizes of the x86_64 structures captured whole. */
#define STAT_BYTES 144   /* struct stat */
#define STATX_BYTES 256  /* struct statx */
#define STATFS_BYTES 120 /* struct statfs */

/* What a syscall argument points to, and so what the kernel copies. */
enum capture_kind {
	CAPTURE_NONE = 0,
	/* A NUL-terminated string, read up to CAPTURE_MAX at entry and read
	 * again at exit if it could not be read then (an exec's file name:
	 * from the kernel's copy, during the exec). Stored without NUL. */
	CAPTURE_PATH = 1,
	/* Input bytes: length in argument len_arg, at most string_size kept. */
	CAPTURE_IN_BUF = 2,
	/* Output bytes, read at exit: length is the return value, at most
	 * string_size kept. */
	CAPTURE_OUT_BUF = 3,
	/* A struct sockaddr of length in argument len_arg, at most 128 kept. */
	CAPTURE_SOCKADDR = 4,
	/* A NULL-terminated char *[]: each string kept with its NUL, at most
	 * string_size + 1 bytes of each (a string of string_size + 1 bytes was
	 * cut), at most ARGV_MAX_STRINGS strings. Read at entry; when that
	 * fails, an exec's is read from the new program's stack (the kernel
	 * copied the strings there) and a failed call's again at exit. */
	CAPTURE_ARGV = 5,
	/* int[2] written by the call (pipe, pipe2, socketpair), read at exit
	 * when the call succeeded. */
	CAPTURE_FD_PAIR = 6,
	/* Structures written by the call, read whole at exit when the call
	 * succeeded (returned 0): struct stat, struct statx, struct statfs. */
	CAPTURE_STAT = 7,
	CAPTURE_STATX = 8,
	CAPTURE_STATFS = 9,
	/* The number of pointers before the NULL of a char *[] (execve's
	 * envp), as a __u32; CAPTURE_TRUNCATED when it reached
	 * ARRAY_COUNT_MAX. Known at exit. */
	CAPTURE_ARRAY_COUNT = 10,
	CAPTURE_KIND_COUNT,
};

/* capture.flags */
#define CAPTURE_TRUNCATED 0x1 /* there was more than was kept */
#define CAPTURE_UNREAD 0x2    /* the memory could not be read */
#define CAPTURE_AT_EXIT 0x4   /* read at exit (e.g. not paged in at entry) */
#define CAPTURE_AT_EXEC 0x8   /* read from the new program, during exec */

struct capture {
	__u16 offset; /* into the data after the header */
	__u16 len;    /* bytes kept */
	__u8 arg;     /* which argument, 0-5 */
	__u8 kind;    /* enum capture_kind */
	__u8 flags;
	__u8 pad;
};

/* syscall_event.flags */
#define EVENT_NO_RETURN 0x1 /* exit/exit_group: recorded at entry, ret 0 */

struct syscall_event {
	__u64 enter_ns;    /* bpf_ktime_get_ns() at entry (CLOCK_MONOTONIC) */
	__u64 duration_ns; /* entry to exit */
	__u64 args[EVENT_ARGS];
	__s64 ret;
	__u32 tgid;
	__u32 tid;
	__u32 nr; /* | EVENT_COMPAT_BIT */
	__u16 data_len;
	__u8 ncaptures;
	__u8 flags;
	char comm[EVENT_COMM_LEN];
	struct capture captures[EVENT_MAX_CAPTURES];
};

/* syscall_spec.flags */
#define SPEC_SELECTED 0x1  /* trace this syscall */
#define SPEC_NO_RETURN 0x2 /* emit at entry: exit, exit_group */
#define SPEC_EXEC 0x4      /* execve/execveat: the old memory is gone at exit */
#define SPEC_ENTRY_WORK 0x8 /* something to capture at entry */
#define SPEC_EXIT_WORK 0x10 /* something to capture at exit */
/* Sent only so the client can keep its own state right (the [pid N]
 * prefix, -y's descriptor table); not shown. Lost records of it are
 * counted apart. */
#define SPEC_UNSHOWN 0x20

/* What to capture of each argument of one syscall, by native number. */
struct syscall_spec {
	__u8 kind[EVENT_ARGS];    /* enum capture_kind */
	__u8 len_arg[EVENT_ARGS]; /* for IN_BUF and SOCKADDR */
	__u8 flags;
	__u8 pad[3];
};

/* Indexes of the per-CPU drop counters. */
enum trace_drop {
	TRACE_DROP_RINGBUF_FULL, /* a record lost: the ring buffer was full */
	TRACE_DROP_STORAGE,      /* a call not traced: no per-task storage */
	TRACE_DROP_UNREADABLE,   /* a capture that failed, in a record sent:
				  * what the reader shows as unreadable */
	TRACE_DROP_TRUNCATED,    /* a path or argv cut at the capture limit */
	TRACE_DROP_PID_MAP_FULL, /* a followed child could not be added */
	TRACE_DROP_NR_RANGE,     /* a call whose number has no spec (x32) */
	TRACE_DROP_RINGBUF_FULL_UNSHOWN, /* as RINGBUF_FULL, of SPEC_UNSHOWN */
	TRACE_DROP_STACK_RINGBUF_FULL,	 /* a call's stack not taken: the
					  * buffer is a quarter full */
	TRACE_DROP_STACK_UNREADABLE,	 /* a call's user stack not copied */
	TRACE_DROP_REASON_COUNT,
};

/* TRACE_DROP_UNREADABLE's reason, as the daemon sends it: a client that
 * does not show some records takes their failed captures off it. */
#define TRACE_DROP_UNREADABLE_REASON \
	"captures of user memory failed (shown as unreadable)"

/*
 * Records that are not calls: tracectld reads them and forwards only the
 * calls. Their first __u64, where a call has its enter_ns (a boot-time
 * clock, never all ones), is TRACE_SIDE_RECORD.
 */
#define TRACE_SIDE_RECORD (~0ULL)

enum trace_side_kind {
	/* struct syscall_stack */
	TRACE_SIDE_STACK = 1,
	/* struct trace_space */
	TRACE_SIDE_SPACE = 2,
};

struct trace_side_header {
	__u64 marker; /* TRACE_SIDE_RECORD */
	__u32 kind;   /* enum trace_side_kind */
	__u32 pad;
};

/* With stacks on, the user stack of a call that passed the filters, written
 * at its entry, so before the call's own record (which may still not come:
 * -z/-Z decide at exit, and a full buffer loses it). The sample holds the
 * user registers, the stack's top pages and the Python frames; no kernel
 * stack. */
struct syscall_stack {
	struct trace_side_header head;
	__u64 enter_ns; /* the call's syscall_event.enter_ns */
	struct profile_sample sample;
};

/* trace_space.event */
enum trace_space_event {
	/* The first call (of any kind) of a traced process in an address
	 * space: tracectld looks for a Python interpreter in it and copies
	 * its maps, before the calls it traces come. */
	TRACE_SPACE_FIRST_CALL = 0,
	/* An executable mapping was added (a successful mmap with PROT_EXEC):
	 * tracectld copies the maps again, for the stacks of a process that
	 * may have exited by the time they are read. */
	TRACE_SPACE_EXEC_MAPPED = 1,
};

/* With stacks on: what tracectld needs to know of a traced address space
 * before the stacks in it come. */
struct trace_space {
	struct trace_side_header head;
	__u32 tgid;
	__u32 event; /* enum trace_space_event */
	__u64 mm_id;
};

#endif /* TRACECTL_BPF_SYSCALL_EVENTS_H */
