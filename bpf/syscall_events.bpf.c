// SPDX-License-Identifier: GPL-2.0
/*
 * One record per completed system call, with its arguments and the user
 * memory they point to, streamed through a ring buffer.
 *
 * sys_enter checks the syscall against the session's selection first (a
 * call that is not selected costs one array load), then the task filter,
 * then keeps the arguments and their input memory (paths, written bytes,
 * argv, sockaddrs) in task-local storage. sys_exit adds the result, the
 * output memory (read bytes, pipe fds, stat structures), re-reads the paths
 * and argv that were not paged in at entry, and sends the record. Filters
 * are rodata, 0 = off.
 *
 * bpf_probe_read_user() does not fault pages in. A forked child shares its
 * parent's file-backed pages (.rodata string literals, say) only once it
 * touches them: fork copies no page table entries for a file mapping that
 * has no private copies. An execve() of literals from a child can then not
 * be read at entry, and a successful one not at exit either, its memory
 * gone. sched_process_exec runs in between, with the new program's stack
 * holding the copy of argv the kernel made and bprm holding the file name
 * and the number of environment strings.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "syscall_events.h"
#include "python_frames.bpf.h"
#include "user_stack.bpf.h"

#define MAX_ERRNO 4095
#define TS_COMPAT 0x0002 /* x86: this system call uses the 32-bit ABI */
#define EVENT_DATA_MASK (EVENT_DATA_SIZE - 1)
#define SOCKADDR_MAX 128
#define AT_FDCWD -100
#define NR_MMAP 9 /* x86_64 */
#define PROT_EXEC 0x4

/* What to capture of each native syscall; SPEC_SELECTED marks the traced. */
const volatile struct syscall_spec specs[MAX_TRACE_NR] = {};
/* Trace 32-bit calls too (raw arguments only): when every call is traced. */
const volatile bool trace_compat = false;
/* strace -s: bytes of buffers and argv strings kept, at most CAPTURE_MAX. */
const volatile __u32 string_size = 32;
const volatile bool only_failed = false;     /* strace -Z */
const volatile bool only_successful = false; /* strace -z */
/* Wake the reader once this much is waiting; it also polls by itself. */
const volatile __u64 wakeup_bytes = 0;
/* strace -k: a struct syscall_stack before each call's record. Off, the
 * verifier drops every part of it. */
const volatile bool stacks = false;
/* Stacks are taken only while less than this (a quarter) is waiting in the
 * buffer: the rest is kept for the calls' records, which matter more. */
const volatile __u64 stack_room = 0;

struct pending {
	struct syscall_event ev;
	/* A capture starts below EVENT_DATA_SIZE and holds at most CAPTURE_MAX. */
	char data[EVENT_DATA_SIZE + CAPTURE_MAX];
	/* Not sent: past the end of the record. */
	__u8 armed;
	__u8 unread;		       /* args whose path or argv failed at entry */
	__u8 unread_capture[EVENT_ARGS]; /* ... and their capture slots */
	__u8 exec_seen;		       /* the call replaced the program */
	__u32 exec_envc;	       /* the new program's environment count */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* the loader sets the size */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending);
} pendings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TRACE_DROP_REASON_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

static __always_inline void count_drop(__u32 reason)
{
	__u64 *count = bpf_map_lookup_elem(&drops, &reason);

	if (count)
		(*count)++;
}

#define TASK_FILTER_DROP_PID_MAP_FULL TRACE_DROP_PID_MAP_FULL
#include "task_filter.bpf.h"

/* Address spaces announced to the reader (stacks on), by process and mm: a
 * freed mm_struct's address comes back. */
struct seen_space {
	__u64 mm;
	__u32 tgid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192); /* 1 when stacks are off */
	__type(key, struct seen_space);
	__type(value, __u8);
} seen_spaces SEC(".maps");

/* A struct trace_space, the reader woken if idle: it reads the process's
 * maps while it lives. False if the buffer is full. */
static __always_inline bool emit_space(__u32 tgid, __u64 mm, __u32 event)
{
	struct trace_space *r;

	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r)
		return false;
	r->head.marker = TRACE_SIDE_RECORD;
	r->head.kind = TRACE_SIDE_SPACE;
	r->head.pad = 0;
	r->tgid = tgid;
	r->event = event;
	r->mm_id = mm;
	bpf_ringbuf_submit(r, 0); /* woken if it has read all before */
	return true;
}

/* The first call of a traced process in an address space (an exec's
 * first): the reader finds a Python interpreter there, and copies the maps,
 * before the calls it traces. */
static __always_inline void announce_space(struct task_struct *task,
					   __u32 tgid)
{
	struct seen_space key = { .mm = (__u64)task->mm, .tgid = tgid };
	static const __u8 one = 1;

	if (!key.mm || bpf_map_lookup_elem(&seen_spaces, &key))
		return;
	/* Else announced by a later call. */
	if (emit_space(tgid, key.mm, TRACE_SPACE_FIRST_CALL))
		bpf_map_update_elem(&seen_spaces, &key, &one, BPF_ANY);
}

/* The user stack of the call `p` has just begun, as a struct syscall_stack,
 * the reader woken if idle (a wakeup for every call costs more than the
 * copy): it unwinds it while the process lives. */
static __always_inline void emit_stack(struct task_struct *task,
				       struct pt_regs *regs,
				       const struct pending *p)
{
	struct profile_sample *s;
	struct syscall_stack *r;

	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + sizeof(*r) >
	    stack_room) {
		count_drop(TRACE_DROP_STACK_RINGBUF_FULL);
		return;
	}
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_drop(TRACE_DROP_STACK_RINGBUF_FULL);
		return;
	}
	r->head.marker = TRACE_SIDE_RECORD;
	r->head.kind = TRACE_SIDE_STACK;
	r->head.pad = 0;
	r->enter_ns = p->ev.enter_ns;
	s = &r->sample;
	s->tgid = p->ev.tgid;
	s->tid = p->ev.tid;
	s->time_ns = p->ev.enter_ns;
	s->cpu = bpf_get_smp_processor_id();
	s->flags = SAMPLE_USER_REGS;
	__builtin_memcpy(s->comm, p->ev.comm, sizeof(s->comm));
	s->mm_id = (__u64)task->mm;
	s->kstack_bytes = 0;
	copy_user_regs(s, regs);
	if (!copy_user_stack(s))
		count_drop(TRACE_DROP_STACK_UNREADABLE);
	read_python_stack(s->tgid, s->tid, s->mm_id, &s->python);
	bpf_ringbuf_submit(r, 0); /* woken if it has read all before */
}

static __always_inline struct capture *new_capture(struct pending *p, int arg,
						   __u8 kind)
{
	__u32 i = p->ev.ncaptures;
	struct capture *c;

	if (i >= EVENT_MAX_CAPTURES)
		return NULL;
	c = &p->ev.captures[i];
	c->offset = p->ev.data_len;
	c->len = 0;
	c->arg = arg;
	c->kind = kind;
	c->flags = 0;
	c->pad = 0;
	p->ev.ncaptures = i + 1;
	return c;
}

/* Appends a NUL-terminated string of up to CAPTURE_MAX bytes. Returns
 * false if it could not be read. */
static __always_inline bool capture_string(struct pending *p,
					   struct capture *c, __u64 ptr)
{
	__u32 off = p->ev.data_len;
	long n;

	c->offset = off;
	c->len = 0;
	if (off >= EVENT_DATA_SIZE) {
		c->flags |= CAPTURE_TRUNCATED;
		count_drop(TRACE_DROP_TRUNCATED);
		return true;
	}
	n = bpf_probe_read_user_str(&p->data[off & EVENT_DATA_MASK],
				    CAPTURE_MAX, (const void *)ptr);
	if (n <= 0) {
		c->flags |= CAPTURE_UNREAD;
		return false;
	}
	c->flags &= ~CAPTURE_UNREAD;
	if (n == CAPTURE_MAX) {
		c->flags |= CAPTURE_TRUNCATED;
		count_drop(TRACE_DROP_TRUNCATED);
	}
	c->len = n - 1; /* without the NUL */
	p->ev.data_len = off + n - 1;
	return true;
}

/* Appends min(len, limit) bytes; limit is at most CAPTURE_MAX. */
static __always_inline void capture_bytes(struct pending *p, struct capture *c,
					  __u64 ptr, __u64 len, __u32 limit)
{
	__u32 off = p->ev.data_len;
	__u32 n;

	if (len > limit) {
		len = limit;
		c->flags |= CAPTURE_TRUNCATED;
	}
	n = len;
	if (n > CAPTURE_MAX)
		n = CAPTURE_MAX;
	if (n == 0)
		return;
	if (off >= EVENT_DATA_SIZE) {
		c->flags |= CAPTURE_TRUNCATED;
		return;
	}
	if (bpf_probe_read_user(&p->data[off & EVENT_DATA_MASK], n,
				(const void *)ptr)) {
		c->flags |= CAPTURE_UNREAD;
		return;
	}
	c->len = n;
	p->ev.data_len = off + n;
}

/* Appends up to ARGV_MAX_STRINGS strings of a char *[], each with its NUL,
 * each cut at string_size + 1 bytes, all together about CAPTURE_MAX.
 * Returns false, keeping nothing, if a pointer or a string could not be
 * read. A global function: the verifier checks it once, not at each of
 * the seven places that call it (entry, exec, and exit for each argument),
 * which took 80 ms of every trace session's start. */
__noinline int capture_argv(struct pending *p, struct capture *c, __u64 argv)
{
	__u32 size = string_size + 2;
	const char *s;
	int i;

	if (!p || !c)
		return false;
	if (size > CAPTURE_MAX)
		size = CAPTURE_MAX;
	c->offset = p->ev.data_len;
	c->len = 0;
	c->flags &= ~(CAPTURE_UNREAD | CAPTURE_TRUNCATED);
	for (i = 0; i < ARGV_MAX_STRINGS; i++) {
		__u32 off = p->ev.data_len;
		long n;

		if (bpf_probe_read_user(&s, sizeof(s),
					(const void *)(argv + i * sizeof(s))))
			goto unread;
		if (!s)
			return true;
		if (off >= EVENT_DATA_SIZE || off - c->offset >= CAPTURE_MAX) {
			c->flags |= CAPTURE_TRUNCATED;
			count_drop(TRACE_DROP_TRUNCATED);
			return true;
		}
		n = bpf_probe_read_user_str(&p->data[off & EVENT_DATA_MASK],
					    size, s);
		if (n <= 0)
			goto unread;
		c->len += n;
		p->ev.data_len = off + n;
	}
	if (!bpf_probe_read_user(&s, sizeof(s),
				 (const void *)(argv + i * sizeof(s))) && s) {
		c->flags |= CAPTURE_TRUNCATED;
		count_drop(TRACE_DROP_TRUNCATED);
	}
	return true;
unread:
	/* Give back the strings read so far. */
	p->ev.data_len = c->offset;
	c->len = 0;
	c->flags |= CAPTURE_UNREAD;
	return false;
}

/* Appends a NUL-terminated kernel string, as capture_string does. */
static __always_inline bool capture_kernel_string(struct pending *p,
						  struct capture *c,
						  const char *ptr)
{
	__u32 off = p->ev.data_len;
	long n;

	if (off >= EVENT_DATA_SIZE)
		return false;
	n = bpf_probe_read_kernel_str(&p->data[off & EVENT_DATA_MASK],
				      CAPTURE_MAX, ptr);
	if (n <= 0)
		return false;
	c->offset = off;
	c->flags &= ~CAPTURE_UNREAD;
	if (n == CAPTURE_MAX) {
		c->flags |= CAPTURE_TRUNCATED;
		count_drop(TRACE_DROP_TRUNCATED);
	}
	c->len = n - 1;
	p->ev.data_len = off + n - 1;
	return true;
}

/* Appends a __u32. */
static __always_inline void capture_u32(struct pending *p, struct capture *c,
					__u32 value)
{
	__u32 off = p->ev.data_len;

	if (off >= EVENT_DATA_SIZE) {
		c->flags |= CAPTURE_TRUNCATED;
		return;
	}
	__builtin_memcpy(&p->data[off & EVENT_DATA_MASK], &value,
			 sizeof(value));
	c->len = sizeof(value);
	p->ev.data_len = off + sizeof(value);
}

struct count_ctx {
	__u64 array;
	__u32 count;
	bool ended;  /* the NULL was found */
	bool unread; /* a pointer could not be read */
};

static int count_one(__u32 i, struct count_ctx *ctx)
{
	const void *ptr;

	if (bpf_probe_read_user(&ptr, sizeof(ptr),
				(const void *)(ctx->array + i * sizeof(ptr)))) {
		ctx->unread = true;
		return 1;
	}
	if (!ptr) {
		ctx->ended = true;
		return 1;
	}
	ctx->count = i + 1;
	return 0;
}

/* Appends the number of pointers before the NULL of the char *[] at
 * `array`, counting at most ARRAY_COUNT_MAX. */
static __always_inline void capture_array_count(struct pending *p,
						struct capture *c, __u64 array)
{
	struct count_ctx ctx = { .array = array };

	bpf_loop(ARRAY_COUNT_MAX, count_one, &ctx, 0);
	if (ctx.unread) {
		c->flags |= CAPTURE_UNREAD;
		return;
	}
	if (!ctx.ended)
		c->flags |= CAPTURE_TRUNCATED;
	capture_u32(p, c, ctx.count);
}

static __always_inline void emit(struct pending *p)
{
	__u64 flags = BPF_RB_NO_WAKEUP;
	__u32 len = p->ev.data_len;
	int i;

	if (len > sizeof(p->data))
		len = sizeof(p->data);
	/* -k: the reader names stacks while their processes live, and reads
	 * each record soon; woken only when it has read everything before. */
	if (stacks)
		flags = 0;
	else if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&events, p, sizeof(p->ev) + len, flags)) {
		/* Native calls only: compat ones have the top bit. */
		if (p->ev.nr < MAX_TRACE_NR &&
		    (specs[p->ev.nr].flags & SPEC_UNSHOWN))
			count_drop(TRACE_DROP_RINGBUF_FULL_UNSHOWN);
		else
			count_drop(TRACE_DROP_RINGBUF_FULL);
		return;
	}
	/* Each capture the reader will show as unreadable, once. */
	for (i = 0; i < EVENT_MAX_CAPTURES; i++) {
		if (i < p->ev.ncaptures &&
		    (p->ev.captures[i].flags & CAPTURE_UNREAD))
			count_drop(TRACE_DROP_UNREADABLE);
	}
}

/* Entry-time captures of argument i. */
static __always_inline void capture_at_entry(struct pending *p,
					     const volatile struct syscall_spec *spec,
					     int i)
{
	__u8 kind = spec->kind[i];
	__u8 len_arg = spec->len_arg[i];
	struct capture *c;
	__u64 len = 0;

	if (kind != CAPTURE_PATH && kind != CAPTURE_IN_BUF &&
	    kind != CAPTURE_SOCKADDR && kind != CAPTURE_ARGV)
		return;
	if (!p->ev.args[i])
		return; /* NULL: nothing to read */
	c = new_capture(p, i, kind);
	if (!c)
		return;
	if (len_arg < EVENT_ARGS)
		len = p->ev.args[len_arg];
	switch (kind) {
	case CAPTURE_PATH:
		if (!capture_string(p, c, p->ev.args[i])) {
			p->unread |= 1 << i;
			p->unread_capture[i] = p->ev.ncaptures - 1;
		}
		break;
	case CAPTURE_IN_BUF:
		capture_bytes(p, c, p->ev.args[i], len, string_size);
		break;
	case CAPTURE_SOCKADDR:
		capture_bytes(p, c, p->ev.args[i], len, SOCKADDR_MAX);
		break;
	case CAPTURE_ARGV:
		if (!capture_argv(p, c, p->ev.args[i])) {
			p->unread |= 1 << i;
			p->unread_capture[i] = p->ev.ncaptures - 1;
		}
		break;
	}
}

/* Exit-time captures of argument i: output memory, and what could not be
 * read at entry. */
static __always_inline void capture_at_exit(struct pending *p,
					    const volatile struct syscall_spec *spec,
					    int i, long ret)
{
	__u8 kind = spec->kind[i];
	__u64 ptr = p->ev.args[i];
	struct capture *c;
	__u32 limit;
	__u64 len;
	__u8 slot;
	bool ok;

	if (p->unread & (1 << i)) {
		slot = p->unread_capture[i];
		if (slot >= EVENT_MAX_CAPTURES)
			return;
		c = &p->ev.captures[slot];
		/* A successful exec replaced the memory it was in. */
		if ((spec->flags & SPEC_EXEC) && ret == 0)
			return;
		if (kind == CAPTURE_ARGV)
			ok = capture_argv(p, c, ptr);
		else
			ok = capture_string(p, c, ptr);
		if (ok)
			c->flags |= CAPTURE_AT_EXIT;
		return;
	}
	if (!ptr)
		return;
	if (kind == CAPTURE_ARRAY_COUNT) {
		c = new_capture(p, i, kind);
		if (!c)
			return;
		if (p->exec_seen)
			capture_u32(p, c, p->exec_envc);
		else if (ret == 0 && (spec->flags & SPEC_EXEC))
			c->flags |= CAPTURE_UNREAD; /* gone with the old program */
		else
			capture_array_count(p, c, ptr);
		return;
	}
	/* Output memory: one capture_bytes for every kind, so that the
	 * verifier walks one copy of it per argument, not one per kind. */
	switch (kind) {
	case CAPTURE_OUT_BUF:
		len = ret > 0 ? ret : 0;
		limit = string_size;
		break;
	case CAPTURE_FD_PAIR:
		len = limit = 8;
		break;
	case CAPTURE_STAT:
		len = limit = STAT_BYTES;
		break;
	case CAPTURE_STATX:
		len = limit = STATX_BYTES;
		break;
	case CAPTURE_STATFS:
		len = limit = STATFS_BYTES;
		break;
	default:
		return;
	}
	/* Read bytes count on any result; structures only on success. */
	if (kind == CAPTURE_OUT_BUF ? ret <= 0 : ret != 0)
		return;
	c = new_capture(p, i, kind);
	if (c)
		capture_bytes(p, c, ptr, len, limit);
}

/* During a successful exec, argument i of the call if it could not be read
 * at entry: the file name from bprm, argv from the new program's stack. */
static __always_inline void capture_at_exec(struct pending *p,
					    const volatile struct syscall_spec *spec,
					    struct linux_binprm *bprm, int i)
{
	__u8 kind = spec->kind[i];
	struct capture *c;
	__u64 stack;
	__u8 slot;
	long argc;
	bool ok;

	if (!(p->unread & (1 << i)))
		return;
	slot = p->unread_capture[i];
	if (slot >= EVENT_MAX_CAPTURES)
		return;
	c = &p->ev.captures[slot];
	if (kind == CAPTURE_PATH) {
		/* bprm->filename is the path as given unless it was relative
		 * to a descriptor (execveat: "/dev/fd/N/path"). */
		if (i > 0 && (int)p->ev.args[i - 1] != AT_FDCWD)
			return;
		ok = capture_kernel_string(p, c, BPF_CORE_READ(bprm, filename));
	} else if (kind == CAPTURE_ARGV) {
		/* A script's interpreter took argv[0]'s place: it is gone. */
		if (BPF_CORE_READ(bprm, interp) !=
		    BPF_CORE_READ(bprm, filename))
			return;
		/* The binary loader left bprm->p at the new stack's top:
		 * argc, then argv[]. */
		stack = BPF_CORE_READ(bprm, p);
		if (bpf_probe_read_user(&argc, sizeof(argc), (void *)stack) ||
		    argc != BPF_CORE_READ(bprm, argc))
			return;
		ok = capture_argv(p, c, stack + sizeof(argc));
	} else {
		return;
	}
	if (ok) {
		c->flags |= CAPTURE_AT_EXEC;
		p->unread &= ~(1 << i);
	}
}

SEC("tp_btf/sys_enter")
int BPF_PROG(trace_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	const volatile struct syscall_spec *spec = NULL;
	struct pending *p;
	bool compat, no_return;
	__u32 nr = id;

	compat = bpf_core_field_exists(task->thread_info.status) &&
		 (task->thread_info.status & TS_COMPAT);
	/* -k: every call of a traced process may announce its address space,
	 * so the filter comes first. */
	if (stacks) {
		if (!task_selected(task, pid_tgid >> 32))
			return 0;
		announce_space(task, pid_tgid >> 32);
	}
	if (compat) {
		if (!trace_compat)
			return 0;
	} else if (nr < MAX_TRACE_NR) {
		spec = &specs[nr];
		if (!(spec->flags & SPEC_SELECTED))
			return 0;
	} else {
		if (trace_compat && task_selected(task, pid_tgid >> 32))
			count_drop(TRACE_DROP_NR_RANGE);
		return 0;
	}
	if (!stacks && !task_selected(task, pid_tgid >> 32))
		return 0;
	p = bpf_task_storage_get(&pendings, task, 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!p) {
		count_drop(TRACE_DROP_STORAGE);
		return 0;
	}
	p->ev.enter_ns = bpf_ktime_get_ns();
	p->ev.duration_ns = 0;
	p->ev.ret = 0;
	p->ev.tgid = pid_tgid >> 32;
	p->ev.tid = (__u32)pid_tgid;
	p->ev.nr = compat ? (nr | EVENT_COMPAT_BIT) : nr;
	p->ev.data_len = 0;
	p->ev.ncaptures = 0;
	p->ev.flags = 0;
	p->unread = 0;
	p->exec_seen = 0;
	read_comm(task, (__u64 *)p->ev.comm);
	if (compat) {
		p->ev.args[0] = (__u32)regs->bx;
		p->ev.args[1] = (__u32)regs->cx;
		p->ev.args[2] = (__u32)regs->dx;
		p->ev.args[3] = (__u32)regs->si;
		p->ev.args[4] = (__u32)regs->di;
		p->ev.args[5] = (__u32)regs->bp;
		/* ia32 exit and exit_group do not return. */
		no_return = nr == 1 || nr == 252;
	} else {
		p->ev.args[0] = regs->di;
		p->ev.args[1] = regs->si;
		p->ev.args[2] = regs->dx;
		p->ev.args[3] = regs->r10;
		p->ev.args[4] = regs->r8;
		p->ev.args[5] = regs->r9;
		if (!spec)
			return 0;
		if (spec->flags & SPEC_ENTRY_WORK) {
			capture_at_entry(p, spec, 0);
			capture_at_entry(p, spec, 1);
			capture_at_entry(p, spec, 2);
			capture_at_entry(p, spec, 3);
			capture_at_entry(p, spec, 4);
			capture_at_entry(p, spec, 5);
		}
		no_return = spec->flags & SPEC_NO_RETURN;
		/* 32-bit calls have no stack the daemon unwinds, and the
		 * client shows no stack of the calls it does not show. */
		if (stacks && !(spec->flags & SPEC_UNSHOWN))
			emit_stack(task, regs, p);
	}
	/* Nothing will complete these at exit: send them now. */
	if (no_return) {
		p->ev.flags = EVENT_NO_RETURN;
		p->armed = 0;
		emit(p);
		return 0;
	}
	p->armed = 1;
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(trace_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const volatile struct syscall_spec *spec;
	bool failed = ret < 0 && ret >= -MAX_ERRNO;
	struct pending *p;
	__u32 nr;

	/* -k: a library mapped (ld.so's, a dlopen). Copied again from the
	 * maps, the stacks of a process that exits before they are read still
	 * name its code. */
	if (stacks && regs->orig_ax == NR_MMAP && (regs->dx & PROT_EXEC) &&
	    !failed && !(bpf_core_field_exists(task->thread_info.status) &&
			 (task->thread_info.status & TS_COMPAT))) {
		__u32 tgid = bpf_get_current_pid_tgid() >> 32;

		if (task_selected(task, tgid))
			emit_space(tgid, (__u64)task->mm, TRACE_SPACE_EXEC_MAPPED);
	}
	p = bpf_task_storage_get(&pendings, task, 0, 0);
	if (!p || !p->armed)
		return 0;
	p->armed = 0;
	if ((only_failed && !failed) || (only_successful && failed))
		return 0;
	p->ev.ret = ret;
	p->ev.duration_ns = bpf_ktime_get_ns() - p->ev.enter_ns;
	nr = p->ev.nr;
	/* Native calls only: compat ones have the top bit. */
	if (nr < MAX_TRACE_NR &&
	    ((specs[nr].flags & SPEC_EXIT_WORK) || p->unread)) {
		spec = &specs[nr];
		capture_at_exit(p, spec, 0, ret);
		capture_at_exit(p, spec, 1, ret);
		capture_at_exit(p, spec, 2, ret);
		capture_at_exit(p, spec, 3, ret);
		capture_at_exit(p, spec, 4, ret);
		capture_at_exit(p, spec, 5, ret);
	}
	emit(p);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(trace_exec, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	const volatile struct syscall_spec *spec;
	struct pending *p;
	__u32 nr;

	p = bpf_task_storage_get(&pendings, task, 0, 0);
	if (!p || !p->armed)
		return 0;
	nr = p->ev.nr;
	if (nr >= MAX_TRACE_NR || !(specs[nr].flags & SPEC_EXEC))
		return 0;
	spec = &specs[nr];
	p->exec_seen = 1;
	p->exec_envc = BPF_CORE_READ(bprm, envc);
	if (p->unread) {
		capture_at_exec(p, spec, bprm, 0);
		capture_at_exec(p, spec, bprm, 1);
		capture_at_exec(p, spec, bprm, 2);
		capture_at_exec(p, spec, bprm, 3);
		capture_at_exec(p, spec, bprm, 4);
		capture_at_exec(p, spec, bprm, 5);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
