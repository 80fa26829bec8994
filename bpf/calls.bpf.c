// SPDX-License-Identifier: GPL-2.0
/*
 * Library calls counted per function in the kernel: one program attached
 * as a uprobe at every probed function, each attachment with a cookie that
 * is its row in `stats`. Only the tasks the session selects
 * (task_filter.bpf.h) are counted.
 *
 * With latency set, the entry also pushes its time on the task's stack of
 * entry times, and a uretprobe with the same cookie pops it and adds the
 * call's wall time to the row. Calls nest, so returns come in the reverse
 * order of entries; a longjmp or an exception out of a probed function
 * leaves its frame behind and mistimes the calls below it.
 *
 * With by_caller set, the entry also reads the return address from the top
 * of the user stack (at a function's first instruction it is the word at
 * sp) and counts the call under the file mapped there: which library, or
 * the executable, made the call.
 *
 * USDT probes run count_usdt, attached by libbpf (bpf_program__attach_usdt,
 * which reads the probe's argument specs and raises its semaphore); the
 * USDT cookie names the row, and for CPython's function probes also says to
 * read the Python function and file from the arguments and count the call
 * under them in py_functions.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
/* Every USDT attachment takes a spec per distinct argument string; the
 * IP map is only used by kernels without BPF cookies, which count_call
 * needs anyway. */
#define BPF_USDT_MAX_SPEC_CNT 1024
#define BPF_USDT_MAX_IP_CNT 1
#include <bpf/usdt.bpf.h>
#include "calls.h"

#ifndef EBUSY
#define EBUSY 16 /* bpf_find_vma: the mm lock is taken */
#endif

const volatile bool latency = false;
const volatile bool by_caller = false;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_CALL_PROBES);
	__type(key, __u32);
	__type(value, struct call_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MAX_CALLER_ROWS);
	__type(key, struct caller_key);
	__type(value, __u64);
} caller_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_CALLER_FILES);
	__type(key, struct caller_file_key);
	__type(value, char[CALLER_NAME_LEN]);
} caller_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MAX_PY_FUNCTION_ROWS);
	__type(key, struct py_function_key);
	__type(value, __u64);
} py_functions SEC(".maps");

struct call_frames {
	__u32 depth;
	__u32 pad;
	__u64 ts[CALLS_MAX_DEPTH];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct call_frames);
} frames SEC(".maps");

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

#include "log2.bpf.h"

struct caller_lookup {
	struct caller_key key;
	struct file *file;
};

static long caller_vma(struct task_struct *task, struct vm_area_struct *vma,
		       void *data)
{
	struct caller_lookup *lookup = data;
	struct file *file = BPF_CORE_READ(vma, vm_file);

	lookup->file = file;
	if (!file) {
		lookup->key.dev = 0;
		lookup->key.ino = 0;
		return 0;
	}
	lookup->key.ino = BPF_CORE_READ(file, f_inode, i_ino);
	lookup->key.dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
	if (file == BPF_CORE_READ(task, mm, exe_file))
		lookup->key.row |= CALLER_FROM_EXE;
	return 0;
}

static __always_inline void record_caller_name(const struct caller_key *key,
					       struct file *file)
{
	struct caller_file_key fkey = { .dev = key->dev, .ino = key->ino };
	char name[CALLER_NAME_LEN] = {};
	const unsigned char *dname;

	if (!file || bpf_map_lookup_elem(&caller_names, &fkey))
		return;
	dname = BPF_CORE_READ(file, f_path.dentry, d_name.name);
	if (bpf_probe_read_kernel_str(name, sizeof(name), dname) < 0)
		return;
	bpf_map_update_elem(&caller_names, &fkey, name, BPF_NOEXIST);
}

/* Counts one call of `row` under the file that holds the return address. */
static __always_inline void count_caller(struct pt_regs *ctx,
					 struct task_struct *task, __u32 row)
{
	struct caller_lookup lookup = {
		.key = { .row = row, .dev = ~0U, .ino = ~0ULL },
	};
	__u64 ret_addr = 0, one = 1, *count;
	long err;

	if (bpf_probe_read_user(&ret_addr, sizeof(ret_addr),
				(void *)PT_REGS_SP(ctx)) == 0) {
		err = bpf_find_vma(task, ret_addr, caller_vma, &lookup, 0);
		if (err == -EBUSY) {
			count_drop(CALLS_DROP_CALLER_BUSY);
			return;
		}
	}
	count = bpf_map_lookup_elem(&caller_calls, &lookup.key);
	if (count) {
		(*count)++;
		return;
	}
	if (bpf_map_update_elem(&caller_calls, &lookup.key, &one,
				BPF_NOEXIST) != 0) {
		/* Another CPU's slot of a per-CPU row, or a full map. */
		count = bpf_map_lookup_elem(&caller_calls, &lookup.key);
		if (count)
			(*count)++;
		else
			count_drop(CALLS_DROP_CALLERS_FULL);
		return;
	}
	record_caller_name(&lookup.key, lookup.file);
}

/* The row of a call of a selected task, or NULL (a cookie without a row is
 * counted as a drop). */
static __always_inline struct call_stats *selected_row(struct task_struct *task,
							__u32 row)
{
	struct call_stats *st;

	if (!task_selected(task, bpf_get_current_pid_tgid() >> 32))
		return NULL;
	st = bpf_map_lookup_elem(&stats, &row);
	if (!st)
		count_drop(CALLS_DROP_BAD_COOKIE);
	return st;
}

SEC("uprobe")
int count_call(struct pt_regs *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 row = bpf_get_attach_cookie(ctx);
	struct call_frames *f;
	struct call_stats *st;
	__u32 depth;

	st = selected_row(task, row);
	if (!st)
		return 0;
	st->calls++;
	if (by_caller)
		count_caller(ctx, task, row);
	if (!latency)
		return 0;
	f = bpf_task_storage_get(&frames, task, 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!f) {
		count_drop(CALLS_DROP_NO_STORAGE);
		return 0;
	}
	depth = f->depth;
	if (depth >= CALLS_MAX_DEPTH) {
		/* Counted on, so that its return pops nothing. */
		if (depth < (1U << 30))
			f->depth = depth + 1;
		count_drop(CALLS_DROP_TOO_DEEP);
		return 0;
	}
	f->ts[depth & (CALLS_MAX_DEPTH - 1)] = bpf_ktime_get_ns();
	f->depth = depth + 1;
	return 0;
}

/* Loaded only with latency. Only calls whose entry pushed a time. */
SEC("uretprobe")
int time_call(struct pt_regs *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 row = bpf_get_attach_cookie(ctx);
	struct call_frames *f;
	struct call_stats *st;
	__u64 now = bpf_ktime_get_ns(), delta;
	__u32 depth, slot;

	f = bpf_task_storage_get(&frames, task, 0, 0);
	if (!f || f->depth == 0)
		return 0;
	depth = f->depth - 1;
	f->depth = depth;
	if (depth >= CALLS_MAX_DEPTH)
		return 0;
	delta = now - f->ts[depth & (CALLS_MAX_DEPTH - 1)];
	st = bpf_map_lookup_elem(&stats, &row);
	if (!st)
		return 0;
	st->timed++;
	st->total_ns += delta;
	if (delta > st->max_ns)
		st->max_ns = delta;
	slot = log2_u64(delta);
	if (slot >= CALLS_HIST_SLOTS)
		slot = CALLS_HIST_SLOTS - 1;
	st->hist[slot]++;
	return 0;
}

/*
 * Reads the user string at ptr into buf (zeroed, size bytes): < 0 when it
 * cannot be read, else whether it was cut (it fills buf and the byte where
 * buf's NUL went is not the string's end).
 */
static __always_inline int read_name(char *buf, __u32 size, const char *ptr)
{
	long n = bpf_probe_read_user_str(buf, size, ptr);
	char next = 0;

	if (n < 0)
		return -1;
	if (n < size)
		return 0;
	if (bpf_probe_read_user(&next, 1, ptr + size - 1) != 0)
		return 1;
	return next != 0;
}

/* CPython's function__entry/return: arguments filename, funcname, lineno. */
static __always_inline void count_python_function(struct pt_regs *ctx,
						  __u32 row)
{
	struct py_function_key key;
	long file = 0, function = 0;
	__u64 one = 1, *count;
	int cut;

	__builtin_memset(&key, 0, sizeof(key));
	key.row = row;
	if (bpf_usdt_arg(ctx, 0, &file) || bpf_usdt_arg(ctx, 1, &function))
		goto unreadable;
	cut = read_name(key.function, sizeof(key.function),
			(const char *)function);
	if (cut < 0)
		goto unreadable;
	if (cut)
		key.cut |= PY_CUT_FUNCTION;
	cut = read_name(key.file, sizeof(key.file), (const char *)file);
	if (cut < 0)
		goto unreadable;
	if (cut)
		key.cut |= PY_CUT_FILE;
	count = bpf_map_lookup_elem(&py_functions, &key);
	if (count) {
		__sync_fetch_and_add(count, 1);
		return;
	}
	if (bpf_map_update_elem(&py_functions, &key, &one, BPF_NOEXIST) != 0) {
		/* Another CPU's slot of a per-CPU row, or a full map. */
		count = bpf_map_lookup_elem(&py_functions, &key);
		if (count)
			__sync_fetch_and_add(count, 1);
		else
			count_drop(CALLS_DROP_PY_FULL);
	}
	return;
unreadable:
	count_drop(CALLS_DROP_PY_UNREADABLE);
}

/* Every USDT probe; loaded only when the session has some. */
SEC("usdt")
int count_usdt(struct pt_regs *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 cookie = bpf_usdt_cookie(ctx);
	__u32 row = cookie & USDT_COOKIE_ROW_MASK;
	struct call_stats *st;

	st = selected_row(task, row);
	if (!st)
		return 0;
	st->calls++;
	if (cookie & USDT_COOKIE_PYTHON_FUNCTION)
		count_python_function(ctx, row);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
